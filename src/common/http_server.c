/*! \file http_server.c
 * HTTP/1.1 server on conn.h connections; see http_server.h for the contract.
 *
 * Message syntax per RFC 9112, semantics per RFC 9110; the byte-level parsing is libhttp-parser's.
 * One request at a time per connection: when a request is complete the parser is paused and the
 * bytes after it (pipelined requests) stay buffered until the answer has been queued. While a
 * handler works we keep reading (so that a peer that goes away is noticed and on_abort() runs)
 * but stop as soon as more than HS_PIPELINE_MAX bytes are buffered.
 *
 * Timers (one osmo_timer per connection, meaning depends on the state):
 *   idle (no request yet / between requests)  header_timeout for a fresh connection (this also
 *                                             bounds the TLS handshake), idle_timeout after an answer
 *   header                                    header_timeout, total from the first byte of the request
 *                                             (not re-armed per byte: slow-loris safe)
 *   body                                      body_timeout, total from the end of the header
 *   handler                                   none: the handler owns the time (SCP81 holds POSTs)
 *   closing                                   body_timeout to flush the queued answer, then abort
 *
 * Choices where the RFCs leave room:
 *   - every error answer of the server itself closes the connection (after a framing error the
 *     position in the byte stream cannot be trusted; after a limit we do not want to read on);
 *   - "Expect: 100-continue" with a Content-Length over max_body_bytes gets 413 (not 417): it names
 *     the problem; any other expectation gets 417; HTTP/1.0 clients never get a 100;
 *   - methods: GET HEAD POST PUT DELETE OPTIONS reach the handler (which answers 405 as it sees
 *     fit); other known methods and unknown but well-formed method tokens get 501;
 *   - HTTP/1.1 requests need exactly one Host (RFC 9112 §3.2), else 400;
 *   - Transfer-Encoding other than exactly "chunked" gets 501; with Content-Length as well 400;
 *   - a fresh connection that sends nothing within header_timeout is closed without an answer;
 *   - the path is passed as received (not percent-decoded); absolute-form targets are accepted.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <talloc.h>
#include <http_parser.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/conn.h>
#include <sgp02/common/http_server.h>

#define HS_DEF_MAX_HEADER	(16 * 1024)
#define HS_DEF_MAX_BODY		(1024 * 1024)
#define HS_DEF_HEADER_TO_MS	10000
#define HS_DEF_BODY_TO_MS	30000
#define HS_DEF_IDLE_TO_MS	60000
#define HS_DEF_MAX_CONNS	1000

/* At most this many header fields (request header plus trailer); more is answered 431 like an
 * oversized header (RFC 6585 §5 covers both). */
#define HS_MAX_HEADERS		128
/* Pipelined bytes buffered while a handler works before we stop reading the connection. */
#define HS_PIPELINE_MAX		(64 * 1024)
/* Answers queued but not yet sent beyond which the next pipelined request waits for drained(). */
#define HS_WQ_HIGH		(256 * 1024)
/* While blocked on the write queue, look at it this often as well (in case drained() is late). */
#define HS_WQ_POLL_MS		20
/* An input buffer bigger than this is given back once it is empty. */
#define HS_INBUF_KEEP		(16 * 1024)
/* The conn write queue bound is raised as needed to take each whole answer (which the handler
 * already holds in memory anyway; HS_WQ_HIGH keeps answers from piling up), up to this. */
#define HS_WRITE_LIMIT_MIN	(1024 * 1024)
#define HS_WRITE_LIMIT_MAX	(64 * 1024 * 1024)
/* Hard bound of the input buffer; only reached if the connection ignores conn_set_reading(). */
#define HS_INBUF_HARD_MAX	(4 * HS_PIPELINE_MAX)
/* Longest method token we answer 501 (rather than 400) for. */
#define HS_MAX_METHOD_LEN	32

enum hs_ctr {
	HS_CTR_CONNS,
	HS_CTR_CONNS_REFUSED,
	HS_CTR_REQUESTS,
	HS_CTR_RESP_1XX,
	HS_CTR_RESP_2XX,
	HS_CTR_RESP_3XX,
	HS_CTR_RESP_4XX,
	HS_CTR_RESP_5XX,
	HS_CTR_HDR_TOO_BIG,
	HS_CTR_BODY_TOO_BIG,
	HS_CTR_HDR_TIMEOUT,
	HS_CTR_BODY_TIMEOUT,
	HS_CTR_IDLE_TIMEOUT,
	HS_CTR_BAD_REQUEST,
	HS_CTR_NOT_IMPLEMENTED,
	HS_CTR_BAD_VERSION,
	HS_CTR_ABORTED,
	HS_CTR_WRITE_BLOCKED,
};

static const struct rate_ctr_desc hs_ctr_desc[] = {
	[HS_CTR_CONNS] = { "http:conns", "Connections accepted" },
	[HS_CTR_CONNS_REFUSED] = { "http:conns_refused", "Connections answered 503 (max_conns reached)" },
	[HS_CTR_REQUESTS] = { "http:requests", "Complete requests passed to the handler" },
	[HS_CTR_RESP_1XX] = { "http:resp_1xx", "Interim responses (100 Continue)" },
	[HS_CTR_RESP_2XX] = { "http:resp_2xx", "Responses 2xx" },
	[HS_CTR_RESP_3XX] = { "http:resp_3xx", "Responses 3xx" },
	[HS_CTR_RESP_4XX] = { "http:resp_4xx", "Responses 4xx" },
	[HS_CTR_RESP_5XX] = { "http:resp_5xx", "Responses 5xx" },
	[HS_CTR_HDR_TOO_BIG] = { "http:header_too_big", "Requests refused with 431 (header size/count)" },
	[HS_CTR_BODY_TOO_BIG] = { "http:body_too_big", "Requests refused with 413 (body size)" },
	[HS_CTR_HDR_TIMEOUT] = { "http:header_timeout", "Headers not complete within header_timeout" },
	[HS_CTR_BODY_TIMEOUT] = { "http:body_timeout", "Bodies not complete within body_timeout" },
	[HS_CTR_IDLE_TIMEOUT] = { "http:idle_timeout", "Keep-alive connections closed for idleness" },
	[HS_CTR_BAD_REQUEST] = { "http:bad_request", "Malformed requests (400)" },
	[HS_CTR_NOT_IMPLEMENTED] = { "http:not_implemented", "Unsupported method or coding (501)" },
	[HS_CTR_BAD_VERSION] = { "http:bad_version", "Unsupported HTTP version (505)" },
	[HS_CTR_ABORTED] = { "http:aborted", "Connections lost before the answer was sent" },
	[HS_CTR_WRITE_BLOCKED] = { "http:write_blocked", "Pipelined requests held back: peer slow to read answers" },
};

static const struct rate_ctr_group_desc hs_ctrg_desc = {
	.group_name_prefix = "http_server",
	.group_description = "HTTP server",
	.class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_ctr = ARRAY_SIZE(hs_ctr_desc),
	.ctr_desc = hs_ctr_desc,
};

static unsigned int g_hs_instance;

struct http_server {
	struct http_server_cfg cfg;
	char *addr;
	struct conn_listener *lsn;
	http_handler_cb handler;
	void *data;
	struct llist_head conns;	/*!< struct hs_conn */
	unsigned int num_conns;		/*!< accepted connections (not the ones being refused) */
	unsigned int in_cb;		/*!< handler / on_abort calls in progress */
	struct rate_ctr_group *ctrs;
};

enum hs_conn_state {
	HC_IDLE,	/*!< before the first byte of a request */
	HC_HEADER,	/*!< request line and header fields arriving */
	HC_BODY,	/*!< body arriving */
	HC_HANDLER,	/*!< request complete, the handler has it */
	HC_CLOSING,	/*!< conn_close() called, waiting for closed() */
};

enum hs_req_state {
	RQ_PARSING,	/*!< still being received; the handler has not seen it */
	RQ_HANDLER,	/*!< with the handler, no answer yet */
	RQ_STREAMING,	/*!< chunked answer started */
	RQ_WRITING,	/*!< inside one of the http_respond*() calls */
	RQ_ABORTED,	/*!< connection lost; on_abort() running, freed right after */
};

struct hs_conn;

struct hs_req {
	struct http_request pub;	/*!< what the handler sees */
	struct hs_conn *hc;
	enum hs_req_state state;
	char *url;
	size_t url_len;
	struct http_header *hdrs;	/*!< strings are talloc children of this request */
	unsigned int num_hdrs;
	unsigned int cap_hdrs;
	bool last_was_value;		/*!< for header name/value pieces split across reads */
	uint8_t *body;
	size_t body_len;
	size_t body_cap;
	bool head;			/*!< HEAD: answer without body */
	bool keep_alive;
	bool http10;
	bool close_delimited;		/*!< streamed answer to HTTP/1.0: the body ends with the connection */
	bool no_body;			/*!< 204/304 or HEAD: nothing after the header */
};

struct hs_conn {
	struct llist_head entry;
	struct http_server *srv;
	struct conn *conn;		/*!< NULL once gone */
	char *peer;			/*!< for logging, kept after the conn is gone */
	enum hs_conn_state state;
	http_parser parser;
	struct osmo_timer_list timer;
	struct osmo_timer_list wq_timer;	/*!< write_blocked: re-check the queue (drained() backup) */
	uint8_t *in;			/*!< received, not yet parsed */
	size_t in_len;
	size_t in_off;
	struct hs_req *req;		/*!< being received or answered */
	unsigned int nreq;		/*!< requests seen on this connection */
	size_t hdr_bytes;		/*!< header bytes of the current request (incl. trailer) */
	size_t body_wire;		/*!< body bytes on the wire, chunk framing included */
	bool hdr_complete;		/*!< parser paused at on_headers_complete */
	bool msg_complete;		/*!< parser paused at on_message_complete */
	int fail_status;		/*!< a callback found a limit violation: answer this */
	enum hs_ctr fail_ctr;
	const char *fail_why;
	bool counted;			/*!< counts in srv->num_conns */
	size_t write_limit;		/*!< what we last gave conn_set_write_limit() */
	bool reading;
	bool write_blocked;		/*!< too much of our answers queued: next request waits for drained() */
	bool in_process;
	bool dead;			/*!< the conn is gone; free when busy drops to 0 */
	unsigned int busy;
};

static void hs_ctr_inc(struct http_server *srv, enum hs_ctr c)
{
	if (srv->ctrs)
		rate_ctr_inc(rate_ctr_group_get_ctr(srv->ctrs, c));
}

/* ------------------------------------------------------------------ status texts, dates */

const char *http_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default:
		break;
	}
	if (status >= 100 && status < 200)
		return "Informational";
	if (status >= 200 && status < 300)
		return "Success";
	if (status >= 300 && status < 400)
		return "Redirection";
	if (status >= 400 && status < 500)
		return "Client Error";
	return "Server Error";
}

/* RFC 9110 §5.6.7 IMF-fixdate, written without strftime() so that the locale cannot change it. */
static void hs_date(char *out, size_t len)
{
	static const char *const wday[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;

	if (!gmtime_r(&now, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11) {
		snprintf(out, len, "Thu, 01 Jan 1970 00:00:00 GMT");
		return;
	}
	snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d GMT", wday[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* RFC 9110 §5.6.2 token characters */
static bool hs_is_tchar(char ch)
{
	unsigned char c = ch;

	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

static bool hs_token_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (!hs_is_tchar(*s))
			return false;
	}
	return true;
}

/* RFC 9110 §5.5: no CR, LF, NUL or other controls except HTAB (header injection). */
static bool hs_value_ok(const char *s)
{
	if (!s)
		return false;
	for (; *s; s++) {
		unsigned char c = *s;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------ connection lifetime */

static void hs_conn_put(struct hs_conn *hc)
{
	OSMO_ASSERT(hc->busy > 0);
	if (--hc->busy == 0 && hc->dead)
		talloc_free(hc);
}

static void hs_set_reading(struct hs_conn *hc, bool on)
{
	if (!hc->conn || hc->reading == on)
		return;
	hc->reading = on;
	LOGP(DHTTP, LOGL_DEBUG, "%s: %s reading\n", hc->peer, on ? "resume" : "pause");
	conn_set_reading(hc->conn, on);
}

static void hs_timer_arm(struct hs_conn *hc, unsigned long ms)
{
	osmo_timer_schedule(&hc->timer, ms / 1000, (ms % 1000) * 1000);
}

/* The peer is gone (or the server stops): hand a pending request to on_abort(), then forget it. */
static void hs_conn_gone(struct hs_conn *hc, const char *why)
{
	struct http_server *srv = hc->srv;
	struct hs_req *r = hc->req;

	hc->conn = NULL;
	hc->dead = true;
	osmo_timer_del(&hc->timer);
	osmo_timer_del(&hc->wq_timer);
	if (!llist_empty(&hc->entry))
		llist_del_init(&hc->entry);
	if (hc->counted) {
		hc->counted = false;
		srv->num_conns--;
	}
	if (!r)
		return;
	switch (r->state) {
	case RQ_HANDLER:
	case RQ_STREAMING:
		hs_ctr_inc(srv, HS_CTR_ABORTED);
		LOGP(DHTTP, LOGL_NOTICE, "%s: connection lost (%s) before the answer to %s %s\n", hc->peer, why,
		     r->pub.method, r->pub.path);
		r->state = RQ_ABORTED;
		r->pub.conn = NULL;
		if (r->pub.on_abort) {
			srv->in_cb++;
			r->pub.on_abort(&r->pub);
			srv->in_cb--;
		}
		hc->req = NULL;
		talloc_free(r);
		break;
	case RQ_PARSING:
		hc->req = NULL;
		talloc_free(r);
		break;
	case RQ_WRITING:
		/* the http_respond*() call on the stack finishes and frees it */
		r->pub.conn = NULL;
		break;
	case RQ_ABORTED:
		break;
	}
}

/* Close after the queued data is out; a peer that does not read gets body_timeout to take it. */
static void hs_close(struct hs_conn *hc)
{
	if (hc->dead || hc->state == HC_CLOSING)
		return;
	hc->state = HC_CLOSING;
	hs_timer_arm(hc, hc->srv->cfg.body_timeout_ms);
	conn_close(hc->conn);
}

/* ------------------------------------------------------------------ writing answers */

static void hs_count_status(struct http_server *srv, int status)
{
	if (status < 200)
		hs_ctr_inc(srv, HS_CTR_RESP_1XX);
	else if (status < 300)
		hs_ctr_inc(srv, HS_CTR_RESP_2XX);
	else if (status < 400)
		hs_ctr_inc(srv, HS_CTR_RESP_3XX);
	else if (status < 500)
		hs_ctr_inc(srv, HS_CTR_RESP_4XX);
	else
		hs_ctr_inc(srv, HS_CTR_RESP_5XX);
}

/* Status line and header of an answer. \a framing: the Content-Length / Transfer-Encoding line
 * (or NULL for none). */
static char *hs_build_head(void *ctx, int status, const char *content_type, const struct http_header *extra,
			   unsigned int num_extra, const char *framing, bool close, bool http10_keep_alive)
{
	char date[64];
	char *s;
	unsigned int i;

	hs_date(date, sizeof(date));
	s = talloc_asprintf(ctx, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: sgp02\r\n", status, http_status_text(status),
			    date);
	if (content_type)
		s = talloc_asprintf_append_buffer(s, "Content-Type: %s\r\n", content_type);
	for (i = 0; i < num_extra; i++)
		s = talloc_asprintf_append_buffer(s, "%s: %s\r\n", extra[i].name, extra[i].value);
	if (framing)
		s = talloc_asprintf_append_buffer(s, "%s\r\n", framing);
	if (close)
		s = talloc_strdup_append_buffer(s, "Connection: close\r\n");
	else if (http10_keep_alive)
		s = talloc_strdup_append_buffer(s, "Connection: keep-alive\r\n");
	return talloc_strdup_append_buffer(s, "\r\n");
}

/* Answer of the server itself (limits, malformed input): always closes the connection, since
 * after such an error the position in the byte stream cannot be trusted. */
static void hs_send_error(struct hs_conn *hc, int status)
{
	char body[128];
	char framing[48];
	char *head;
	int blen;
	bool head_req = hc->req && hc->req->head;

	if (hc->dead || hc->state == HC_CLOSING)
		return;
	blen = snprintf(body, sizeof(body), "%d %s\n", status, http_status_text(status));
	snprintf(framing, sizeof(framing), "Content-Length: %d", blen);
	head = hs_build_head(hc, status, "text/plain", NULL, 0, framing, true, false);
	hs_count_status(hc->srv, status);
	if (conn_write(hc->conn, head, strlen(head)) == 0 && !head_req && !hc->dead)
		conn_write(hc->conn, body, blen);
	talloc_free(head);
	if (hc->req && hc->req->state == RQ_PARSING) {
		talloc_free(hc->req);
		hc->req = NULL;
	}
	hs_close(hc);
}

/* Log once, count, answer \a status (0: close without an answer). */
__attribute__((format(printf, 4, 5)))
static void hs_fail(struct hs_conn *hc, int status, enum hs_ctr ctr, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hs_ctr_inc(hc->srv, ctr);
	if (status)
		LOGP(DHTTP, LOGL_NOTICE, "%s: %s -> %d %s\n", hc->peer, msg, status, http_status_text(status));
	else
		LOGP(DHTTP, LOGL_INFO, "%s: %s -> closing\n", hc->peer, msg);
	osmo_timer_del(&hc->timer);
	if (status)
		hs_send_error(hc, status);
	else {
		if (hc->req && hc->req->state == RQ_PARSING) {
			talloc_free(hc->req);
			hc->req = NULL;
		}
		hs_close(hc);
	}
}

static void hs_process(struct hs_conn *hc);

/* The answer to hc->req has been queued (or could not be): free the request, go on with the
 * connection. Called with hc->busy held. */
static void hs_req_finished(struct hs_req *r, int rc)
{
	struct hs_conn *hc = r->hc;
	bool close = !r->keep_alive || r->close_delimited;

	if (hc->req == r)
		hc->req = NULL;
	talloc_free(r);
	if (hc->dead)
		return;
	if (rc < 0) {
		/* the conn failed the write and is ending itself: parse nothing more, closed() follows */
		osmo_timer_del(&hc->timer);
		hc->state = HC_CLOSING;
		return;
	}
	if (close) {
		hs_close(hc);
		return;
	}
	/* RFC 9112 §9.3: persistent connection, wait for the next request */
	hc->state = HC_IDLE;
	hc->hdr_bytes = 0;
	hc->body_wire = 0;
	hs_timer_arm(hc, hc->srv->cfg.idle_timeout_ms);
	if (conn_queued(hc->conn) > HS_WQ_HIGH) {
		/* a pipelining peer that does not read its answers: no new work until they are out */
		hc->write_blocked = true;
		hs_ctr_inc(hc->srv, HS_CTR_WRITE_BLOCKED);
		osmo_timer_schedule(&hc->wq_timer, 0, HS_WQ_POLL_MS * 1000);
		return;
	}
	hs_set_reading(hc, true);
	/* inside hs_process() (the handler answered at once) its loop goes on by itself */
	if (!hc->in_process && hc->in_len > hc->in_off)
		hs_process(hc);
}

static struct hs_req *hs_req_of(struct http_request *req)
{
	return container_of(req, struct hs_req, pub);
}

static bool hs_extra_ok(const struct http_header *extra, unsigned int num_extra)
{
	unsigned int i;

	if (num_extra && !extra)
		return false;
	for (i = 0; i < num_extra; i++) {
		if (!hs_token_ok(extra[i].name) || !hs_value_ok(extra[i].value))
			return false;
		/* framing is ours (RFC 9112 §6): a handler must not be able to break it */
		if (!strcasecmp(extra[i].name, "Content-Length") || !strcasecmp(extra[i].name, "Transfer-Encoding")
		    || !strcasecmp(extra[i].name, "Connection") || !strcasecmp(extra[i].name, "Date")
		    || !strcasecmp(extra[i].name, "Server"))
			return false;
	}
	return true;
}

static bool hs_answer_ok(int status, const char *content_type, const struct http_header *extra,
			 unsigned int num_extra)
{
	if (status < 200 || status > 599)
		return false;
	if (content_type && !hs_value_ok(content_type))
		return false;
	return hs_extra_ok(extra, num_extra);
}

/* Make room in the conn's write queue for \a len more bytes of an answer. */
static void hs_fit_write(struct hs_conn *hc, size_t len)
{
	size_t need;

	if (hc->dead)
		return;
	need = conn_queued(hc->conn) + len + 4096;
	if (need <= hc->write_limit)
		return;
	if (need > HS_WRITE_LIMIT_MAX) {
		/* conn_write() fails and closes; say why */
		LOGP(DHTTP, LOGL_ERROR, "%s: answer too big to queue (%zu bytes queued, %zu more)\n", hc->peer,
		     conn_queued(hc->conn), len);
		return;
	}
	hc->write_limit = need;
	conn_set_write_limit(hc->conn, need);
}

/* Write the head (and body) of a complete answer. Leaves the request in RQ_WRITING. */
static int hs_write_full(struct hs_req *r, int status, const char *content_type, const struct http_header *extra,
			 unsigned int num_extra, const uint8_t *body, size_t len)
{
	struct hs_conn *hc = r->hc;
	char framing[64];
	char *head;
	int rc;
	bool no_body = status == 204 || status == 304;

	/* RFC 9110 §8.6: no Content-Length in 204; for 304 it would describe the cached entity */
	if (no_body)
		framing[0] = '\0';
	else
		snprintf(framing, sizeof(framing), "Content-Length: %zu", len);
	head = hs_build_head(r, status, content_type, extra, num_extra, no_body ? NULL : framing, !r->keep_alive,
			     r->http10 && r->keep_alive);
	hs_count_status(hc->srv, status);
	LOGP(DHTTP, LOGL_DEBUG, "%s: %s %s -> %d (%zu bytes)\n", hc->peer, r->pub.method, r->pub.path, status, len);
	hs_fit_write(hc, strlen(head) + len);
	rc = conn_write(hc->conn, head, strlen(head));
	talloc_free(head);
	if (rc == 0 && !hc->dead && !r->head && !no_body && len)
		rc = conn_write(hc->conn, body, len);
	if (rc == 0 && hc->dead)
		rc = -ENOTCONN;
	return rc;
}

/* Common entry check of the http_respond*() calls. \returns the request or NULL. */
static struct hs_req *hs_answerable(struct http_request *req, enum hs_req_state want)
{
	struct hs_req *r;

	if (!req)
		return NULL;
	r = hs_req_of(req);
	if (r->state != want || !r->hc || r->hc->dead)
		return NULL;
	return r;
}

int http_respond(struct http_request *req, int status, const char *content_type,
		 const struct http_header *extra, unsigned int num_extra, const uint8_t *body, size_t len)
{
	struct hs_req *r = hs_answerable(req, RQ_HANDLER);
	struct hs_conn *hc;
	int rc, bad = 0;

	if (!r)
		return -EINVAL;
	hc = r->hc;
	if (!hs_answer_ok(status, content_type, extra, num_extra) || (len && !body)) {
		LOGP(DHTTP, LOGL_ERROR, "%s: handler gave an invalid answer (status %d) to %s %s -> 500\n", hc->peer,
		     status, r->pub.method, r->pub.path);
		status = 500;
		content_type = NULL;
		extra = NULL;
		num_extra = 0;
		body = NULL;
		len = 0;
		bad = -EINVAL;
	}
	hc->busy++;
	r->state = RQ_WRITING;
	rc = hs_write_full(r, status, content_type, extra, num_extra, body, len);
	hs_req_finished(r, rc);
	hs_conn_put(hc);
	return bad ? bad : rc;
}

int http_respond_start(struct http_request *req, int status, const char *content_type,
		       const struct http_header *extra, unsigned int num_extra)
{
	struct hs_req *r = hs_answerable(req, RQ_HANDLER);
	struct hs_conn *hc;
	const char *framing = "Transfer-Encoding: chunked";
	char *head;
	int rc;

	if (!r)
		return -EINVAL;
	hc = r->hc;
	if (!hs_answer_ok(status, content_type, extra, num_extra)) {
		LOGP(DHTTP, LOGL_ERROR, "%s: handler gave an invalid answer (status %d) to %s %s -> 500\n", hc->peer,
		     status, r->pub.method, r->pub.path);
		hc->busy++;
		r->state = RQ_WRITING;
		hs_req_finished(r, hs_write_full(r, 500, NULL, NULL, 0, NULL, 0));
		hs_conn_put(hc);
		return -EINVAL;
	}
	if (status == 204 || status == 304 || r->head) {
		/* no body at all; a HEAD answer announces the framing a GET would get (RFC 9110 §9.3.2) */
		r->no_body = true;
		if (status == 204 || status == 304)
			framing = NULL;
	} else if (r->http10) {
		/* RFC 9112 §7: no chunked coding towards HTTP/1.0; the close ends the body */
		r->close_delimited = true;
		r->keep_alive = false;
		framing = NULL;
	}
	hc->busy++;
	r->state = RQ_WRITING;
	head = hs_build_head(r, status, content_type, extra, num_extra, framing, !r->keep_alive,
			     r->http10 && r->keep_alive);
	hs_count_status(hc->srv, status);
	LOGP(DHTTP, LOGL_DEBUG, "%s: %s %s -> %d (streamed)\n", hc->peer, r->pub.method, r->pub.path, status);
	rc = conn_write(hc->conn, head, strlen(head));
	talloc_free(head);
	if (rc == 0 && hc->dead)
		rc = -ENOTCONN;
	if (rc < 0) {
		hs_req_finished(r, rc);
		hs_conn_put(hc);
		return rc;
	}
	r->state = RQ_STREAMING;
	hs_conn_put(hc);
	return 0;
}

int http_respond_chunk(struct http_request *req, const uint8_t *buf, size_t len)
{
	struct hs_req *r = hs_answerable(req, RQ_STREAMING);
	struct hs_conn *hc;
	char size[24];
	int rc = 0;

	if (!r || (len && !buf))
		return -EINVAL;
	/* an empty chunk would be the last-chunk (RFC 9112 §7.1): that is http_respond_end()'s */
	if (!len || r->no_body)
		return 0;
	hc = r->hc;
	hc->busy++;
	r->state = RQ_WRITING;
	hs_fit_write(hc, len + 32);
	if (r->close_delimited) {
		rc = conn_write(hc->conn, buf, len);
	} else {
		snprintf(size, sizeof(size), "%zx\r\n", len);
		rc = conn_write(hc->conn, size, strlen(size));
		if (rc == 0 && !hc->dead)
			rc = conn_write(hc->conn, buf, len);
		if (rc == 0 && !hc->dead)
			rc = conn_write(hc->conn, "\r\n", 2);
	}
	if (rc == 0 && hc->dead)
		rc = -ENOTCONN;
	if (rc < 0) {
		/* the connection is lost; the request is finished (the caller learns it from rc) */
		hs_req_finished(r, rc);
		hs_conn_put(hc);
		return rc;
	}
	r->state = RQ_STREAMING;
	hs_conn_put(hc);
	return 0;
}

int http_respond_end(struct http_request *req)
{
	struct hs_req *r = hs_answerable(req, RQ_STREAMING);
	struct hs_conn *hc;
	int rc = 0;

	if (!r)
		return -EINVAL;
	hc = r->hc;
	hc->busy++;
	r->state = RQ_WRITING;
	if (!r->no_body && !r->close_delimited)
		rc = conn_write(hc->conn, "0\r\n\r\n", 5);	/* last-chunk, no trailer */
	if (rc == 0 && hc->dead)
		rc = -ENOTCONN;
	hs_req_finished(r, rc);
	hs_conn_put(hc);
	return rc;
}

/* ------------------------------------------------------------------ parser callbacks */

static int hs_on_message_begin(http_parser *p)
{
	struct hs_conn *hc = p->data;
	struct hs_req *r;

	r = talloc_zero(hc, struct hs_req);
	r->hc = hc;
	r->state = RQ_PARSING;
	hc->req = r;
	hc->nreq++;
	hc->state = HC_HEADER;
	hc->hdr_complete = false;
	hc->msg_complete = false;
	hc->body_wire = 0;
	/* the header timeout counts from the first byte; a fresh connection's timer runs since accept */
	if (hc->nreq > 1)
		hs_timer_arm(hc, hc->srv->cfg.header_timeout_ms);
	return 0;
}

static void hs_cb_fail(struct hs_conn *hc, int status, enum hs_ctr ctr, const char *why)
{
	if (!hc->fail_status) {
		hc->fail_status = status;
		hc->fail_ctr = ctr;
		hc->fail_why = why;
	}
	http_parser_pause(&hc->parser, 1);
}

static int hs_on_url(http_parser *p, const char *at, size_t len)
{
	struct hs_conn *hc = p->data;
	struct hs_req *r = hc->req;

	if (!r)
		return -1;
	r->url = talloc_realloc(r, r->url, char, r->url_len + len + 1);
	memcpy(r->url + r->url_len, at, len);
	r->url_len += len;
	r->url[r->url_len] = '\0';
	return 0;
}

static int hs_on_header_field(http_parser *p, const char *at, size_t len)
{
	struct hs_conn *hc = p->data;
	struct hs_req *r = hc->req;
	struct http_header *h;

	if (!r)
		return -1;
	if (hc->hdr_complete) {
		/* trailer fields of a chunked body: counted against the header limit, then dropped */
		hc->hdr_bytes += len + 4;
		if (hc->hdr_bytes > hc->srv->cfg.max_header_bytes)
			hs_cb_fail(hc, 431, HS_CTR_HDR_TOO_BIG, "trailer too big");
		return 0;
	}
	if (r->num_hdrs == 0 || r->last_was_value) {
		if (r->num_hdrs >= HS_MAX_HEADERS) {
			hs_cb_fail(hc, 431, HS_CTR_HDR_TOO_BIG, "too many header fields");
			return 0;
		}
		if (r->num_hdrs == r->cap_hdrs) {
			r->cap_hdrs = r->cap_hdrs ? r->cap_hdrs * 2 : 16;
			r->hdrs = talloc_realloc(r, r->hdrs, struct http_header, r->cap_hdrs);
		}
		h = &r->hdrs[r->num_hdrs++];
		h->name = talloc_strndup(r, at, len);
		h->value = talloc_strdup(r, "");
		r->last_was_value = false;
	} else {
		h = &r->hdrs[r->num_hdrs - 1];
		h->name = talloc_strndup_append_buffer((char *)h->name, at, len);
	}
	return 0;
}

static int hs_on_header_value(http_parser *p, const char *at, size_t len)
{
	struct hs_conn *hc = p->data;
	struct hs_req *r = hc->req;
	struct http_header *h;

	if (!r)
		return -1;
	if (hc->hdr_complete) {
		hc->hdr_bytes += len;
		if (hc->hdr_bytes > hc->srv->cfg.max_header_bytes)
			hs_cb_fail(hc, 431, HS_CTR_HDR_TOO_BIG, "trailer too big");
		return 0;
	}
	if (!r->num_hdrs)
		return -1;
	h = &r->hdrs[r->num_hdrs - 1];
	h->value = talloc_strndup_append_buffer((char *)h->value, at, len);
	r->last_was_value = true;
	return 0;
}

static int hs_on_headers_complete(http_parser *p)
{
	struct hs_conn *hc = p->data;
	struct hs_req *r = hc->req;

	if (!r)
		return -1;
	/* the checks need the whole header; they run in hs_headers_done() once the parser stops here */
	r->keep_alive = http_should_keep_alive(p);
	hc->hdr_complete = true;
	http_parser_pause(p, 1);
	return 0;
}

static int hs_on_body(http_parser *p, const char *at, size_t len)
{
	struct hs_conn *hc = p->data;
	struct hs_req *r = hc->req;
	size_t max = hc->srv->cfg.max_body_bytes;

	if (!r)
		return -1;
	if (len > max - r->body_len) {
		hs_cb_fail(hc, 413, HS_CTR_BODY_TOO_BIG, "body bigger than max_body_bytes");
		return 0;
	}
	if (r->body_len + len + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 1024;

		while (cap < r->body_len + len + 1)
			cap *= 2;
		if (cap > max + 1)
			cap = max + 1;
		r->body = talloc_realloc_size(r, r->body, cap);
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, at, len);
	r->body_len += len;
	return 0;
}

static int hs_on_message_complete(http_parser *p)
{
	struct hs_conn *hc = p->data;

	if (!hc->req)
		return -1;
	hc->msg_complete = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings hs_parser_settings = {
	.on_message_begin = hs_on_message_begin,
	.on_url = hs_on_url,
	.on_header_field = hs_on_header_field,
	.on_header_value = hs_on_header_value,
	.on_headers_complete = hs_on_headers_complete,
	.on_body = hs_on_body,
	.on_message_complete = hs_on_message_complete,
};

/* ------------------------------------------------------------------ request checks */

const char *http_req_header(const struct http_request *req, const char *name)
{
	unsigned int i;

	if (!req || !name)
		return NULL;
	for (i = 0; i < req->num_headers; i++) {
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	}
	return NULL;
}

static unsigned int hs_header_count(const struct hs_req *r, const char *name)
{
	unsigned int i, n = 0;

	for (i = 0; i < r->num_hdrs; i++) {
		if (!strcasecmp(r->hdrs[i].name, name))
			n++;
	}
	return n;
}

static bool hs_method_supported(unsigned int m)
{
	switch (m) {
	case HTTP_GET:
	case HTTP_HEAD:
	case HTTP_POST:
	case HTTP_PUT:
	case HTTP_DELETE:
	case HTTP_OPTIONS:
		return true;
	default:
		return false;
	}
}

/* Split the request-target (RFC 9112 §3.2: origin-form, absolute-form, asterisk-form). */
static int hs_split_target(struct hs_req *r, int method)
{
	struct http_parser_url u;

	if (!r->url || !r->url_len)
		return -EINVAL;
	if (method == HTTP_OPTIONS && !strcmp(r->url, "*")) {
		r->pub.path = r->url;
		return 0;
	}
	http_parser_url_init(&u);
	if (http_parser_parse_url(r->url, r->url_len, 0, &u))
		return -EINVAL;
	if (u.field_set & (1 << UF_PATH))
		r->pub.path = talloc_strndup(r, r->url + u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
	else
		r->pub.path = talloc_strdup(r, "/");
	if (u.field_set & (1 << UF_QUERY))
		r->pub.query = talloc_strndup(r, r->url + u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
	return 0;
}

static void hs_trim_values(struct hs_req *r)
{
	unsigned int i;

	/* RFC 9110 §5.5: surrounding whitespace is not part of the value */
	for (i = 0; i < r->num_hdrs; i++) {
		char *v = (char *)r->hdrs[i].value;
		size_t n = strlen(v);

		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			v[--n] = '\0';
	}
}

/* The header is complete (parser paused in on_headers_complete). \returns 0 to go on reading,
 * or -1 after having answered an error. */
static int hs_headers_done(struct hs_conn *hc)
{
	struct http_server *srv = hc->srv;
	struct hs_req *r = hc->req;
	http_parser *p = &hc->parser;
	const char *te, *expect;
	bool chunked = p->flags & F_CHUNKED;
	bool has_len = p->content_length != ULLONG_MAX && p->content_length > 0;

	hs_trim_values(r);
	r->pub.method = http_method_str(p->method);
	r->pub.headers = r->hdrs;
	r->pub.num_headers = r->num_hdrs;
	r->head = p->method == HTTP_HEAD;
	r->http10 = p->http_major == 1 && p->http_minor == 0;

	/* RFC 9110 §6.2: only major version 1 here (HTTP/0.9, HTTP/2 and beyond are refused) */
	if (p->http_major != 1) {
		hs_fail(hc, 505, HS_CTR_BAD_VERSION, "HTTP/%u.%u request", p->http_major, p->http_minor);
		return -1;
	}
	if (!hs_method_supported(p->method)) {
		hs_fail(hc, 501, HS_CTR_NOT_IMPLEMENTED, "method %s not supported", r->pub.method);
		return -1;
	}
	if (hs_split_target(r, p->method) < 0) {
		hs_fail(hc, 400, HS_CTR_BAD_REQUEST, "bad request-target");
		return -1;
	}
	/* RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host is answered 400 */
	if ((!r->http10 && hs_header_count(r, "Host") != 1) || hs_header_count(r, "Host") > 1) {
		hs_fail(hc, 400, HS_CTR_BAD_REQUEST, "missing or repeated Host");
		return -1;
	}
	/* RFC 9112 §6.1: the only coding we decode is chunked; the parser already refuses a request
	 * whose final coding is not chunked, so anything else left here is an unknown coding (501) */
	te = http_req_header(&r->pub, "Transfer-Encoding");
	if (te && (hs_header_count(r, "Transfer-Encoding") != 1 || strcasecmp(te, "chunked"))) {
		hs_fail(hc, 501, HS_CTR_NOT_IMPLEMENTED, "Transfer-Encoding '%s' not supported", te);
		return -1;
	}
	if (te && r->http10) {
		/* RFC 9112 §6.1: chunked from an HTTP/1.0 client is a framing fault; close after */
		r->keep_alive = false;
	}
	/* checked before a single body byte is read */
	if (has_len && p->content_length > srv->cfg.max_body_bytes) {
		hs_fail(hc, 413, HS_CTR_BODY_TOO_BIG, "Content-Length %llu > %zu",
			(unsigned long long)p->content_length, srv->cfg.max_body_bytes);
		return -1;
	}
	/* RFC 9110 §10.1.1: "100-continue" is the only expectation; a body too big for us got 413
	 * above (we pick 413 over 417: it tells the client what is wrong). HTTP/1.0 clients do not
	 * get 100 (RFC 9110 §10.1.1: they cannot know it). */
	expect = http_req_header(&r->pub, "Expect");
	if (expect && !r->http10) {
		if (strcasecmp(expect, "100-continue")) {
			hs_fail(hc, 417, HS_CTR_BAD_REQUEST, "Expect '%s' not supported", expect);
			return -1;
		}
		if (chunked || has_len) {
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

			hs_count_status(srv, 100);
			conn_write(hc->conn, cont, sizeof(cont) - 1);
			if (hc->dead)
				return -1;
		}
	}
	if (chunked || has_len) {
		hc->state = HC_BODY;
		hs_timer_arm(hc, srv->cfg.body_timeout_ms);
	}
	return 0;
}

/* The request is complete (parser paused in on_message_complete): give it to the handler. */
static void hs_message_done(struct hs_conn *hc)
{
	struct http_server *srv = hc->srv;
	struct hs_req *r = hc->req;

	osmo_timer_del(&hc->timer);
	if (!r->body) {
		r->body = talloc_zero_size(r, 1);
		r->body_cap = 1;
	}
	r->body[r->body_len] = '\0';
	r->pub.body = r->body;
	r->pub.body_len = r->body_len;
	r->pub.conn = hc->conn;
	r->state = RQ_HANDLER;
	hc->state = HC_HANDLER;
	hc->hdr_complete = false;
	hc->msg_complete = false;
	hs_ctr_inc(srv, HS_CTR_REQUESTS);
	LOGP(DHTTP, LOGL_DEBUG, "%s: %s %s%s%s (%zu body bytes)\n", hc->peer, r->pub.method, r->pub.path,
	     r->pub.query ? "?" : "", r->pub.query ? r->pub.query : "", r->body_len);
	if (hc->in_len - hc->in_off > HS_PIPELINE_MAX)
		hs_set_reading(hc, false);
	srv->in_cb++;
	srv->handler(&r->pub, srv->data);
	srv->in_cb--;
}

/* A parser error: 400, or 501 for a method token the parser does not know, 431 for its own
 * header limit. \a start: the bytes of the failed http_parser_execute() call. */
static void hs_parse_error(struct hs_conn *hc, const uint8_t *start, size_t len)
{
	enum http_errno e = HTTP_PARSER_ERRNO(&hc->parser);
	size_t i = 0, n = 0;

	if (e == HPE_HEADER_OVERFLOW) {
		hs_fail(hc, 431, HS_CTR_HDR_TOO_BIG, "header bigger than the parser allows");
		return;
	}
	if (e == HPE_INVALID_METHOD) {
		/* a well-formed but unknown method token (RFC 9110 §9.1: 501), else garbage (400) */
		while (i < len && (start[i] == '\r' || start[i] == '\n'))
			i++;
		while (i + n < len && n <= HS_MAX_METHOD_LEN && start[i + n] >= 'A' && start[i + n] <= 'Z')
			n++;
		if (n && n <= HS_MAX_METHOD_LEN && i + n < len && start[i + n] == ' ') {
			hs_fail(hc, 501, HS_CTR_NOT_IMPLEMENTED, "unknown method");
			return;
		}
	}
	hs_fail(hc, 400, HS_CTR_BAD_REQUEST, "malformed request (%s)", http_errno_name(e));
}

/* Feed the buffered bytes to the parser until they are used up or a request waits for its answer. */
static void hs_parse(struct hs_conn *hc)
{
	struct http_server *srv = hc->srv;

	while (!hc->dead && !hc->write_blocked && hc->in_len > hc->in_off &&
	       (hc->state == HC_IDLE || hc->state == HC_HEADER || hc->state == HC_BODY)) {
		const uint8_t *start = hc->in + hc->in_off;
		size_t avail = hc->in_len - hc->in_off;
		size_t feed = avail, n;
		bool in_header = !hc->hdr_complete && (hc->state == HC_IDLE || hc->state == HC_HEADER);
		enum http_errno e;

		/* feed no more than the header may still take: the limit holds whatever the parser does */
		if (in_header && feed > srv->cfg.max_header_bytes - hc->hdr_bytes)
			feed = srv->cfg.max_header_bytes - hc->hdr_bytes;
		n = http_parser_execute(&hc->parser, &hs_parser_settings, (const char *)start, feed);
		e = HTTP_PARSER_ERRNO(&hc->parser);
		hc->in_off += n;
		if (in_header && !hc->hdr_complete)
			hc->hdr_bytes += n;
		else if (hc->state == HC_BODY)
			hc->body_wire += n;
		if (hc->fail_status) {
			hs_fail(hc, hc->fail_status, hc->fail_ctr, "%s", hc->fail_why);
			return;
		}
		if (e == HPE_PAUSED) {
			http_parser_pause(&hc->parser, 0);
			if (hc->msg_complete) {
				hs_message_done(hc);
				continue;
			}
			if (hc->hdr_complete && hc->state == HC_HEADER) {
				if (hs_headers_done(hc) < 0)
					return;
				continue;
			}
			continue;
		}
		if (e != HPE_OK) {
			hs_parse_error(hc, start, avail);
			return;
		}
		if (in_header && !hc->hdr_complete && hc->hdr_bytes >= srv->cfg.max_header_bytes) {
			hs_fail(hc, 431, HS_CTR_HDR_TOO_BIG, "header bigger than %zu bytes", srv->cfg.max_header_bytes);
			return;
		}
		/* chunk framing and extensions are not in on_body(); bound the wire bytes as well */
		if (hc->state == HC_BODY && hc->body_wire > 8 * srv->cfg.max_body_bytes + 65536) {
			hs_fail(hc, 413, HS_CTR_BODY_TOO_BIG, "chunked body framing too big");
			return;
		}
	}
	/* everything parsed: drop the consumed prefix, and a big buffer with it */
	if (!hc->dead && hc->in_off == hc->in_len) {
		hc->in_off = hc->in_len = 0;
		if (talloc_get_size(hc->in) > HS_INBUF_KEEP) {
			talloc_free(hc->in);
			hc->in = NULL;
		}
	}
}

static void hs_process(struct hs_conn *hc)
{
	if (hc->in_process)
		return;
	hc->in_process = true;
	hc->busy++;
	hs_parse(hc);
	hc->in_process = false;
	hs_conn_put(hc);
}

/* ------------------------------------------------------------------ conn callbacks */

static void hs_timer_cb(void *data)
{
	struct hs_conn *hc = data;

	if (hc->dead)
		return;
	hc->busy++;
	switch (hc->state) {
	case HC_IDLE:
		if (hc->nreq == 0)
			hs_fail(hc, 0, HS_CTR_HDR_TIMEOUT, "no request within header_timeout");
		else
			hs_fail(hc, 0, HS_CTR_IDLE_TIMEOUT, "idle keep-alive connection");
		break;
	case HC_HEADER:
		hs_fail(hc, 408, HS_CTR_HDR_TIMEOUT, "header not complete within %lu ms",
			hc->srv->cfg.header_timeout_ms);
		break;
	case HC_BODY:
		hs_fail(hc, 408, HS_CTR_BODY_TIMEOUT, "body not complete within %lu ms", hc->srv->cfg.body_timeout_ms);
		break;
	case HC_CLOSING:
		LOGP(DHTTP, LOGL_INFO, "%s: answer not taken within %lu ms, aborting\n", hc->peer,
		     hc->srv->cfg.body_timeout_ms);
		conn_abort(hc->conn, CONN_CLOSE_TIMEOUT);
		break;
	case HC_HANDLER:
		break;
	}
	hs_conn_put(hc);
}

static int hs_data_cb(struct conn *c, const uint8_t *buf, size_t len)
{
	struct hs_conn *hc = conn_get_data(c);
	size_t have;
	int rc;

	if (!hc || hc->dead || hc->state == HC_CLOSING)
		return 0;	/* a closing connection's input is dropped */
	have = hc->in_len - hc->in_off;
	if (hc->in_off) {
		memmove(hc->in, hc->in + hc->in_off, have);
		hc->in_off = 0;
		hc->in_len = have;
	}
	if (len > HS_INBUF_HARD_MAX - have) {
		LOGP(DHTTP, LOGL_ERROR, "%s: more than %u bytes buffered, aborting\n", hc->peer, HS_INBUF_HARD_MAX);
		conn_abort(c, CONN_CLOSE_OVERFLOW);
		return -1;
	}
	if (talloc_get_size(hc->in) < have + len) {
		size_t cap = talloc_get_size(hc->in) ? talloc_get_size(hc->in) : 4096;

		while (cap < have + len)
			cap *= 2;
		hc->in = talloc_realloc_size(hc, hc->in, cap);
	}
	memcpy(hc->in + hc->in_len, buf, len);
	hc->in_len += len;

	hc->busy++;
	if (hc->state == HC_HANDLER || hc->write_blocked) {
		/* pipelined: keep it for later; stop reading if it piles up */
		if (hc->in_len - hc->in_off > HS_PIPELINE_MAX)
			hs_set_reading(hc, false);
	} else {
		hs_process(hc);
	}
	rc = hc->dead || hc->state == HC_CLOSING ? -1 : 0;
	hs_conn_put(hc);
	return rc;
}

/* The answers queued so far have (mostly) gone out: take the next pipelined request. */
static void hs_unblock(struct hs_conn *hc)
{
	if (hc->dead || !hc->write_blocked)
		return;
	hc->write_blocked = false;
	osmo_timer_del(&hc->wq_timer);
	if (hc->state != HC_IDLE)
		return;
	hc->busy++;
	hs_set_reading(hc, true);
	hs_process(hc);
	hs_conn_put(hc);
}

static void hs_drained_cb(struct conn *c)
{
	struct hs_conn *hc = conn_get_data(c);

	if (hc)
		hs_unblock(hc);
}

static void hs_wq_timer_cb(void *data)
{
	struct hs_conn *hc = data;

	if (hc->dead || !hc->write_blocked)
		return;
	if (hc->state != HC_IDLE || conn_queued(hc->conn) <= HS_WQ_HIGH / 2) {
		hs_unblock(hc);
		return;
	}
	osmo_timer_schedule(&hc->wq_timer, 0, HS_WQ_POLL_MS * 1000);
}

static void hs_closed_cb(struct conn *c, enum conn_close_reason reason)
{
	struct hs_conn *hc = conn_get_data(c);

	if (!hc || hc->dead)
		return;
	LOGP(DHTTP, LOGL_DEBUG, "%s: connection closed (%s)\n", hc->peer, conn_close_reason_name(reason));
	hc->busy++;
	hs_conn_gone(hc, conn_close_reason_name(reason));
	hs_conn_put(hc);
}

static const struct conn_ops hs_conn_ops = {
	.data = hs_data_cb,
	.drained = hs_drained_cb,
	.closed = hs_closed_cb,
};

static int hs_accept_cb(struct conn_listener *l, struct conn *c, void *data)
{
	struct http_server *srv = data;
	struct hs_conn *hc = talloc_zero(srv, struct hs_conn);
	const char *peer = conn_peer_name(c);

	hc->srv = srv;
	hc->conn = c;
	hc->peer = talloc_strdup(hc, peer ? peer : "?");
	hc->reading = true;
	hc->state = HC_IDLE;
	hc->write_limit = HS_WRITE_LIMIT_MIN;
	conn_set_write_limit(c, hc->write_limit);
	osmo_timer_setup(&hc->timer, hs_timer_cb, hc);
	osmo_timer_setup(&hc->wq_timer, hs_wq_timer_cb, hc);
	http_parser_init(&hc->parser, HTTP_REQUEST);
	hc->parser.data = hc;
	llist_add_tail(&hc->entry, &srv->conns);
	conn_set_ops(c, &hs_conn_ops);
	conn_set_data(c, hc);

	if (srv->num_conns >= srv->cfg.max_conns) {
		hs_fail(hc, 503, HS_CTR_CONNS_REFUSED, "more than %u connections", srv->cfg.max_conns);
		return 0;
	}
	hc->counted = true;
	srv->num_conns++;
	hs_ctr_inc(srv, HS_CTR_CONNS);
	LOGP(DHTTP, LOGL_DEBUG, "%s: connection accepted (%u open)\n", hc->peer, srv->num_conns);
	/* a fresh connection gets header_timeout for the TLS handshake and the whole first header */
	hs_timer_arm(hc, srv->cfg.header_timeout_ms);
	return 0;
}

/* ------------------------------------------------------------------ server */

static int hs_destructor(struct http_server *srv);

struct http_server *http_server_start(void *ctx, const struct http_server_cfg *cfg, http_handler_cb handler,
				      void *data)
{
	struct http_server *srv;

	if (!cfg || !handler)
		return NULL;
	srv = talloc_zero(ctx, struct http_server);
	srv->cfg = *cfg;
	srv->addr = talloc_strdup(srv, cfg->addr ? cfg->addr : "127.0.0.1");
	srv->cfg.addr = srv->addr;
	if (!srv->cfg.max_header_bytes)
		srv->cfg.max_header_bytes = HS_DEF_MAX_HEADER;
	if (!srv->cfg.max_body_bytes)
		srv->cfg.max_body_bytes = HS_DEF_MAX_BODY;
	if (!srv->cfg.header_timeout_ms)
		srv->cfg.header_timeout_ms = HS_DEF_HEADER_TO_MS;
	if (!srv->cfg.body_timeout_ms)
		srv->cfg.body_timeout_ms = HS_DEF_BODY_TO_MS;
	if (!srv->cfg.idle_timeout_ms)
		srv->cfg.idle_timeout_ms = HS_DEF_IDLE_TO_MS;
	if (!srv->cfg.max_conns)
		srv->cfg.max_conns = HS_DEF_MAX_CONNS;
	srv->handler = handler;
	srv->data = data;
	INIT_LLIST_HEAD(&srv->conns);
	srv->ctrs = rate_ctr_group_alloc(srv, &hs_ctrg_desc, g_hs_instance++);
	talloc_set_destructor(srv, hs_destructor);
	srv->lsn = conn_listen(srv, srv->addr, cfg->port, cfg->tls, hs_accept_cb, srv);
	if (!srv->lsn) {
		LOGP(DHTTP, LOGL_ERROR, "HTTP server: cannot listen on %s:%u\n", srv->addr, cfg->port);
		talloc_free(srv);
		return NULL;
	}
	LOGP(DHTTP, LOGL_NOTICE, "HTTP%s server listening on %s:%u\n", cfg->tls ? "S" : "", srv->addr,
	     conn_listener_port(srv->lsn));
	return srv;
}

uint16_t http_server_port(const struct http_server *srv)
{
	return srv && srv->lsn ? conn_listener_port(srv->lsn) : 0;
}

/* Freeing the server (http_server_stop() or a talloc_free() of it or of its parent) ends every
 * connection: pending requests get on_abort() first. */
static int hs_destructor(struct http_server *srv)
{
	struct hs_conn *hc, *tmp;

	/* freeing the server under a running handler would pull the request from under its feet */
	OSMO_ASSERT(srv->in_cb == 0);
	llist_for_each_entry_safe(hc, tmp, &srv->conns, entry) {
		struct conn *c = hc->conn;

		hc->busy++;
		hs_conn_gone(hc, "server stopped");
		/* conn.h: no callbacks after talloc_free() of a conn */
		if (c)
			talloc_free(c);
		hs_conn_put(hc);
	}
	talloc_free(srv->lsn);
	srv->lsn = NULL;
	if (srv->ctrs)
		rate_ctr_group_free(srv->ctrs);
	srv->ctrs = NULL;
	return 0;
}

void http_server_stop(struct http_server *srv)
{
	talloc_free(srv);
}
