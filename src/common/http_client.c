/* Outgoing HTTP(S) with libcurl's multi interface on the libosmocore event loop; see http_client.h.
 *
 * How the pieces fit:
 *  - one CURLM per http_client; curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION, one
 *    osmo_fd per socket) and when it wants to be woken up (CURLMOPT_TIMERFUNCTION, one osmo_timer);
 *  - events go back to curl with curl_multi_socket_action(), and finished transfers are collected
 *    with curl_multi_info_read();
 *  - one easy handle per request, kept across its retries; connections stay in the multi handle's
 *    pool, so consecutive requests to the same server reuse one keep-alive connection.
 *
 * Security (SGP.02 digest §6.4): the ES interfaces run over HTTPS with mutual TLS, so the server is
 * verified against the configured CA only (never the system store) and we present our certificate.
 *
 * Retries (HTTP_CLIENT_RETRY) are meant for one-way notifications: resending is safe because each
 * message carries its own identifiers (FunctionCallIdentifier / wsa:MessageID, digest §4.1) that let
 * the receiver recognise a repeat. A 4xx says the request itself is wrong, so it is never repeated.
 *
 * The user callback is only ever called from the loop (fd, timer) or from the client's destructor,
 * never from http_client_post(). A callback may free the client: the dispatcher notices it through
 * hc->gone and stops touching it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <talloc.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>

#include "config.h"
#include <sgp02/common/logging.h>
#include <sgp02/common/http_server.h>
#include <sgp02/common/http_client.h>

/*! Largest response body we accept; a bigger one ends the request with -EMSGSIZE. */
#define HTTP_CLIENT_MAX_BODY		(16u * 1024 * 1024)
/*! Bounds on what the caller may put in one extra header line. */
#define HTTP_CLIENT_MAX_HDR_LINE	8192
/*! Upper bound of a single retry delay, so that doubling never overflows into absurd waits. */
#define HTTP_CLIENT_MAX_BACKOFF_MS	(24ul * 3600 * 1000)

#define HTTP_CLIENT_DEF_TIMEOUT_MS	30000
#define HTTP_CLIENT_DEF_CONNECT_MS	10000
#define HTTP_CLIENT_DEF_CONNS		8
#define HTTP_CLIENT_DEF_RETRIES		5
#define HTTP_CLIENT_DEF_BACKOFF_MS	1000

enum hc_ctr {
	HC_CTR_REQUESTS,
	HC_CTR_ANSWER_OK,
	HC_CTR_ANSWER_4XX,
	HC_CTR_ANSWER_5XX,
	HC_CTR_NO_ANSWER,
	HC_CTR_TIMEOUTS,
	HC_CTR_TLS_FAILS,
	HC_CTR_TOO_BIG,
	HC_CTR_RETRIES,
	HC_CTR_CANCELLED,
};

static const struct rate_ctr_desc hc_ctr_desc[] = {
	[HC_CTR_REQUESTS] = { "requests", "Requests accepted by http_client_post()" },
	[HC_CTR_ANSWER_OK] = { "answers:ok", "Transfers answered with 1xx-3xx" },
	[HC_CTR_ANSWER_4XX] = { "answers:4xx", "Transfers answered with a 4xx client error" },
	[HC_CTR_ANSWER_5XX] = { "answers:5xx", "Transfers answered with a 5xx server error" },
	[HC_CTR_NO_ANSWER] = { "no_answer", "Transfers that ended without an HTTP answer" },
	[HC_CTR_TIMEOUTS] = { "timeouts", "Transfers that timed out (connect or whole request)" },
	[HC_CTR_TLS_FAILS] = { "tls_failures", "Transfers that failed in TLS (certificate, handshake)" },
	[HC_CTR_TOO_BIG] = { "too_big", "Answers refused for exceeding the body size bound" },
	[HC_CTR_RETRIES] = { "retries", "Retries scheduled (HTTP_CLIENT_RETRY)" },
	[HC_CTR_CANCELLED] = { "cancelled", "Requests cancelled because the client was freed" },
};

static const struct rate_ctr_group_desc hc_ctrg_desc = {
	.group_name_prefix = "http_client",
	.group_description = "Outgoing HTTP(S) requests",
	.class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_ctr = ARRAY_SIZE(hc_ctr_desc),
	.ctr_desc = hc_ctr_desc,
};

static unsigned int g_hc_instance;

struct http_client {
	CURLM *multi;
	struct rate_ctr_group *ctrs;
	/* curl's single timeout (CURLMOPT_TIMERFUNCTION) */
	struct osmo_timer_list timer;
	/* struct hc_sock: sockets curl asked us to watch */
	struct llist_head socks;
	/* struct hc_req: in flight or waiting for a retry */
	struct llist_head reqs;
	unsigned int num_reqs;

	char *ca_file;
	char *cert_file;
	char *key_file;
	unsigned long timeout_ms;
	unsigned long connect_timeout_ms;

	/* set while the destructor runs: no new requests, no timer re-arming */
	bool freeing;
	/* while a user callback runs: points to a flag the destructor sets */
	bool *gone;
	/* for log lines of requests */
	unsigned int next_id;
};

struct hc_sock {
	struct llist_head list;
	struct http_client *hc;
	struct osmo_fd ofd;
};

struct hc_req {
	struct llist_head list;
	struct http_client *hc;
	unsigned int id;
	CURL *easy;
	bool in_multi;
	struct curl_slist *hdrs;
	/* scheme://host:port/path only: the URL may carry credentials, which must not be logged */
	char *log_url;

	http_client_cb cb;
	void *data;

	bool retry;
	unsigned int max_retries;
	unsigned int attempt;		/* retries done so far */
	unsigned long backoff_ms;
	struct osmo_timer_list retry_timer;

	uint8_t *rx;
	size_t rx_len;
	size_t rx_alloc;
	bool rx_too_big;
	char errbuf[CURL_ERROR_SIZE];
};

#define LOGREQ(req, lvl, fmt, args...) \
	LOGP(DHTTP, lvl, "http-client #%u POST %s: " fmt, (req)->id, (req)->log_url, ## args)

static bool hc_check_done(struct http_client *hc);

static void hc_ctr_inc(struct http_client *hc, enum hc_ctr c)
{
	if (hc->ctrs)
		rate_ctr_inc(rate_ctr_group_get_ctr(hc->ctrs, c));
}

/* ------------------------------------------------------------------ curl <-> osmo_fd / osmo_timer */

static int hc_fd_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct hc_sock *hs = ofd->data;
	struct http_client *hc = hs->hc;
	int fd = ofd->fd;
	int ev = 0;
	int running;

	if (what & OSMO_FD_READ)
		ev |= CURL_CSELECT_IN;
	if (what & OSMO_FD_WRITE)
		ev |= CURL_CSELECT_OUT;
	if (what & OSMO_FD_EXCEPT)
		ev |= CURL_CSELECT_ERR;

	/* hs may be freed inside (CURL_POLL_REMOVE); only hc and fd are used from here on */
	curl_multi_socket_action(hc->multi, fd, ev, &running);
	hc_check_done(hc);
	return 0;
}

static void hc_sock_free(struct hc_sock *hs)
{
	/* curl owns and closes the socket itself: only stop watching it */
	osmo_fd_unregister(&hs->ofd);
	llist_del(&hs->list);
	talloc_free(hs);
}

/* CURLMOPT_SOCKETFUNCTION: start, change or stop watching one socket. */
static int hc_curl_sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http_client *hc = userp;
	struct hc_sock *hs = socketp;
	unsigned int when = 0;

	(void)easy;

	if (what == CURL_POLL_REMOVE) {
		if (hs)
			hc_sock_free(hs);
		return 0;
	}

	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		when |= OSMO_FD_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		when |= OSMO_FD_WRITE;

	if (hs) {
		osmo_fd_update_when(&hs->ofd, 0, when);
		return 0;
	}

	hs = talloc_zero(hc, struct hc_sock);
	if (!hs)
		return -1;
	hs->hc = hc;
	osmo_fd_setup(&hs->ofd, s, when, hc_fd_cb, hs, 0);
	if (osmo_fd_register(&hs->ofd) < 0) {
		LOGP(DHTTP, LOGL_ERROR, "http-client: cannot watch socket %d\n", (int)s);
		talloc_free(hs);
		return -1;
	}
	llist_add_tail(&hs->list, &hc->socks);
	curl_multi_assign(hc->multi, s, hs);
	return 0;
}

static void hc_timer_cb(void *data)
{
	struct http_client *hc = data;
	int running;

	curl_multi_socket_action(hc->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	hc_check_done(hc);
}

/* CURLMOPT_TIMERFUNCTION: curl wants socket_action(CURL_SOCKET_TIMEOUT) in timeout_ms (-1: never).
 * A 0 timeout must not be served from inside this callback, so it also goes through the timer. */
static int hc_curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *hc = userp;

	(void)multi;

	if (timeout_ms < 0 || hc->freeing) {
		osmo_timer_del(&hc->timer);
		return 0;
	}
	osmo_timer_schedule(&hc->timer, timeout_ms / 1000, (timeout_ms % 1000) * 1000);
	return 0;
}

/* ------------------------------------------------------------------ requests */

static size_t hc_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct hc_req *req = userdata;
	size_t n = size * nmemb;
	size_t need;

	if (n > HTTP_CLIENT_MAX_BODY - req->rx_len) {
		req->rx_too_big = true;
		return 0;	/* curl ends the transfer with CURLE_WRITE_ERROR */
	}
	need = req->rx_len + n + 1;	/* + NUL terminator for the callback's convenience */
	if (need > req->rx_alloc) {
		size_t alloc = req->rx_alloc ? req->rx_alloc : 4096;
		uint8_t *p;

		while (alloc < need)
			alloc *= 2;
		if (alloc > HTTP_CLIENT_MAX_BODY + 1)
			alloc = HTTP_CLIENT_MAX_BODY + 1;
		p = talloc_realloc_size(req, req->rx, alloc);
		if (!p)
			return 0;
		req->rx = p;
		req->rx_alloc = alloc;
	}
	memcpy(req->rx + req->rx_len, ptr, n);
	req->rx_len += n;
	req->rx[req->rx_len] = '\0';
	return n;
}

static int hc_req_destructor(struct hc_req *req)
{
	osmo_timer_del(&req->retry_timer);
	if (req->in_multi) {
		curl_multi_remove_handle(req->hc->multi, req->easy);
		req->in_multi = false;
	}
	if (req->easy)
		curl_easy_cleanup(req->easy);
	curl_slist_free_all(req->hdrs);
	return 0;
}

/* Map a failed transfer to the errno the header documents.
 * \returns negative errno; *retryable says whether a retry could help */
static int hc_map_error(struct hc_req *req, CURLcode res, bool *retryable)
{
	*retryable = true;

	switch (res) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return -EPROTO;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR: {
		/* With TLS 1.3 the client finishes its handshake before the server has checked the client
		 * certificate; a refusal then arrives as an alert on the first read. No OS error behind a
		 * receive failure on TLS means OpenSSL refused the data: a TLS failure, not the network. */
		long os_err = 0;
		char *scheme = NULL;

		curl_easy_getinfo(req->easy, CURLINFO_OS_ERRNO, &os_err);
		curl_easy_getinfo(req->easy, CURLINFO_SCHEME, &scheme);
		if (os_err == 0 && scheme && !strcasecmp(scheme, "https"))
			return -EPROTO;
		return -EIO;
	}
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (res == CURLE_FILESIZE_EXCEEDED || req->rx_too_big) {
			*retryable = false;	/* an answer came; it was too big and would be again */
			return -EMSGSIZE;
		}
		*retryable = false;
		return -ENOMEM;
	case CURLE_OUT_OF_MEMORY:
		*retryable = false;
		return -ENOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		*retryable = false;
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* Hand the result to the user and free the request. \returns true if the client was freed meanwhile. */
static bool hc_req_finish(struct hc_req *req, int status, const char *content_type)
{
	struct http_client *hc = req->hc;
	static const uint8_t empty[1];
	bool gone = false;

	llist_del(&req->list);
	hc->num_reqs--;
	/* The callback may free the client (and with it every child): keep this request, whose body and
	 * content type the callback is reading, out of its reach until the callback has returned. */
	talloc_steal(NULL, req);

	hc->gone = &gone;
	if (status < 0)		/* no answer: nothing partial is handed over */
		req->cb(status, NULL, NULL, 0, req->data);
	else
		req->cb(status, content_type, req->rx ? req->rx : empty, req->rx_len, req->data);
	if (!gone)
		hc->gone = NULL;
	talloc_free(req);
	return gone;
}

static void hc_retry_timer_cb(void *data)
{
	struct hc_req *req = data;
	struct http_client *hc = req->hc;
	CURLMcode mc;

	LOGREQ(req, LOGL_INFO, "retry %u/%u\n", req->attempt, req->max_retries);
	mc = curl_multi_add_handle(hc->multi, req->easy);
	if (mc != CURLM_OK) {
		LOGREQ(req, LOGL_ERROR, "cannot restart: %s\n", curl_multi_strerror(mc));
		hc_req_finish(req, -EIO, NULL);
		return;
	}
	req->in_multi = true;
}

/* One transfer of \a req ended (already removed from the multi handle): retry or finish.
 * \returns true if the client was freed meanwhile. */
static bool hc_req_done(struct hc_req *req, CURLcode res)
{
	const char *content_type = NULL;
	bool retryable = false;
	int status;

	if (res == CURLE_OK) {
		long code = 0;

		curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(req->easy, CURLINFO_CONTENT_TYPE, &content_type);
		status = (int)code;
		if (status < 100 || status > 999) {
			LOGREQ(req, LOGL_NOTICE, "invalid status %ld\n", code);
			status = -EIO;
			retryable = true;
			hc_ctr_inc(req->hc, HC_CTR_NO_ANSWER);
		} else {
			retryable = status >= 500;
			hc_ctr_inc(req->hc, status >= 500 ? HC_CTR_ANSWER_5XX
					    : status >= 400 ? HC_CTR_ANSWER_4XX : HC_CTR_ANSWER_OK);
			LOGREQ(req, status >= 400 ? LOGL_NOTICE : LOGL_DEBUG, "%d, %zu bytes\n", status, req->rx_len);
		}
	} else {
		status = hc_map_error(req, res, &retryable);
		hc_ctr_inc(req->hc, status == -ETIMEDOUT ? HC_CTR_TIMEOUTS : status == -EPROTO ? HC_CTR_TLS_FAILS
				    : status == -EMSGSIZE ? HC_CTR_TOO_BIG : HC_CTR_NO_ANSWER);
		LOGREQ(req, LOGL_NOTICE, "failed: %s (%s)\n", req->errbuf[0] ? req->errbuf : curl_easy_strerror(res),
		       strerror(-status));
	}

	if (req->retry && retryable && req->attempt < req->max_retries && !req->hc->freeing) {
		unsigned long delay = req->backoff_ms;
		unsigned int i;

		/* backoff_ms * 2^attempt, without overflow */
		for (i = 0; i < req->attempt && delay < HTTP_CLIENT_MAX_BACKOFF_MS; i++)
			delay *= 2;
		if (delay > HTTP_CLIENT_MAX_BACKOFF_MS)
			delay = HTTP_CLIENT_MAX_BACKOFF_MS;
		req->attempt++;
		hc_ctr_inc(req->hc, HC_CTR_RETRIES);
		LOGREQ(req, LOGL_NOTICE, "will retry (%u/%u) in %lu ms\n", req->attempt, req->max_retries, delay);
		req->rx_len = 0;
		req->rx_too_big = false;
		req->errbuf[0] = '\0';
		osmo_timer_schedule(&req->retry_timer, delay / 1000, (delay % 1000) * 1000);
		return false;
	}

	return hc_req_finish(req, status, content_type);
}

/* Collect the finished transfers. \returns true if the client was freed by a callback. */
static bool hc_check_done(struct http_client *hc)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(hc->multi, &left))) {
		CURL *easy = msg->easy_handle;
		CURLcode res = msg->data.result;
		struct hc_req *req = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		/* msg is invalid once the handle is removed: everything needed was copied above */
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&req);
		curl_multi_remove_handle(hc->multi, easy);
		if (!req)
			continue;
		req->in_multi = false;
		if (hc_req_done(req, res))
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------ client */

static int http_client_destructor(struct http_client *hc)
{
	struct hc_sock *hs, *hs2;

	hc->freeing = true;
	/* every pending request gets its one callback, with -ECANCELED */
	while (!llist_empty(&hc->reqs)) {
		struct hc_req *req = llist_first_entry(&hc->reqs, struct hc_req, list);

		llist_del(&req->list);
		hc->num_reqs--;
		osmo_timer_del(&req->retry_timer);
		if (req->in_multi) {
			curl_multi_remove_handle(hc->multi, req->easy);
			req->in_multi = false;
		}
		LOGREQ(req, LOGL_INFO, "cancelled (client freed)\n");
		hc_ctr_inc(hc, HC_CTR_CANCELLED);
		req->cb(-ECANCELED, NULL, NULL, 0, req->data);
		talloc_free(req);
	}
	if (hc->multi)
		curl_multi_cleanup(hc->multi);
	hc->multi = NULL;
	llist_for_each_entry_safe(hs, hs2, &hc->socks, list)
		hc_sock_free(hs);
	osmo_timer_del(&hc->timer);
	if (hc->ctrs)
		rate_ctr_group_free(hc->ctrs);
	hc->ctrs = NULL;
	if (hc->gone)
		*hc->gone = true;
	curl_global_cleanup();
	return 0;
}

/*! Create an HTTP client on the event loop. \a cfg may be NULL (all defaults, no TLS verification).
 *  \returns the client (talloc child of \a ctx) or NULL on error (logged). */
struct http_client *http_client_alloc(void *ctx, const struct http_client_cfg *cfg)
{
	static const struct http_client_cfg no_cfg;
	struct http_client *hc;
	unsigned int conns;

	if (!cfg)
		cfg = &no_cfg;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		LOGP(DHTTP, LOGL_ERROR, "http-client: curl_global_init failed\n");
		return NULL;
	}
	hc = talloc_zero(ctx, struct http_client);
	if (!hc) {
		curl_global_cleanup();
		return NULL;
	}
	INIT_LLIST_HEAD(&hc->socks);
	INIT_LLIST_HEAD(&hc->reqs);
	osmo_timer_setup(&hc->timer, hc_timer_cb, hc);
	/* from here on the destructor undoes everything, including curl_global_init() */
	talloc_set_destructor(hc, http_client_destructor);

	hc->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : HTTP_CLIENT_DEF_TIMEOUT_MS;
	hc->connect_timeout_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : HTTP_CLIENT_DEF_CONNECT_MS;
	if (cfg->ca_file && !(hc->ca_file = talloc_strdup(hc, cfg->ca_file)))
		goto err;
	if (cfg->cert_file && !(hc->cert_file = talloc_strdup(hc, cfg->cert_file)))
		goto err;
	if (cfg->key_file && !(hc->key_file = talloc_strdup(hc, cfg->key_file)))
		goto err;

	hc->ctrs = rate_ctr_group_alloc(hc, &hc_ctrg_desc, g_hc_instance++);
	if (!hc->ctrs)
		goto err;

	hc->multi = curl_multi_init();
	if (!hc->multi) {
		LOGP(DHTTP, LOGL_ERROR, "http-client: curl_multi_init failed\n");
		goto err;
	}
	conns = cfg->max_conns_per_host ? cfg->max_conns_per_host : HTTP_CLIENT_DEF_CONNS;
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETFUNCTION, hc_curl_sock_cb);
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETDATA, hc);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERFUNCTION, hc_curl_timer_cb);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERDATA, hc);
	curl_multi_setopt(hc->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conns);
	/* idle keep-alive connections kept in the pool, across all hosts */
	curl_multi_setopt(hc->multi, CURLMOPT_MAXCONNECTS, (long)(conns * 4));
	/* HTTP/1.1 only: no pipelining, no HTTP/2 multiplexing */
	curl_multi_setopt(hc->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);

	if (!hc->ca_file)
		LOGP(DHTTP, LOGL_NOTICE, "http-client: no CA configured, servers are NOT verified\n");
	return hc;
err:
	talloc_free(hc);
	return NULL;
}

/*! Free the client: pending requests are called back with -ECANCELED first. NULL is allowed. */
void http_client_free(struct http_client *hc)
{
	talloc_free(hc);
}

unsigned int http_client_pending(const struct http_client *hc)
{
	return hc ? hc->num_reqs : 0;
}

/* RFC 9110 §5.1: field-name is a token. */
static bool hc_valid_hdr_name(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		unsigned char c = *s;

		if (c <= 0x20 || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c))
			return false;
	}
	return true;
}

/* RFC 9110 §5.5: no CR/LF/NUL (no header injection), no other control characters except HTAB. */
static bool hc_valid_hdr_value(const char *s)
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

static int hc_add_hdr(struct hc_req *req, const char *name, const char *value)
{
	char line[HTTP_CLIENT_MAX_HDR_LINE];
	struct curl_slist *l;
	int n;

	if (!hc_valid_hdr_name(name) || !hc_valid_hdr_value(value))
		return -EINVAL;
	/* "Name:" without a value would tell curl to drop the header; "Name;" sends it empty */
	if (*value)
		n = snprintf(line, sizeof(line), "%s: %s", name, value);
	else
		n = snprintf(line, sizeof(line), "%s;", name);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;
	l = curl_slist_append(req->hdrs, line);
	if (!l)
		return -ENOMEM;
	req->hdrs = l;
	return 0;
}

/* Check the URL (http or https, with a host) and build its log form without credentials or query. */
static int hc_parse_url(struct hc_req *req, const char *url)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	CURLU *u;
	int rc = -EINVAL;

	u = curl_url();
	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")))
		goto out;
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
		goto out;
	if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto out;
	req->log_url = talloc_asprintf(req, "%s://%s:%s%s", scheme, host, port, path);
	rc = req->log_url ? 0 : -ENOMEM;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

/* Apply every option of the easy handle. \returns 0 or -errno */
static int hc_setup_easy(struct http_client *hc, struct hc_req *req, const char *url, const uint8_t *body,
			 size_t len, unsigned long timeout_ms)
{
	CURL *e = req->easy;
	CURLcode r = CURLE_OK;

#define SET(opt, val) do { if (r == CURLE_OK) r = curl_easy_setopt(e, opt, val); } while (0)
	SET(CURLOPT_PRIVATE, req);
	SET(CURLOPT_ERRORBUFFER, req->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
	SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	/* ignore http_proxy/https_proxy from the environment: ES traffic goes where it is configured to */
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	SET(CURLOPT_POST, 1L);
	/* size first: COPYPOSTFIELDS copies that many bytes (binary safe); the copy survives retries */
	SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	SET(CURLOPT_COPYPOSTFIELDS, len ? (const char *)body : "");
	SET(CURLOPT_HTTPHEADER, req->hdrs);
	SET(CURLOPT_WRITEFUNCTION, hc_write_cb);
	SET(CURLOPT_WRITEDATA, req);
	/* refuse an announced Content-Length above the bound before reading the body */
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_CLIENT_MAX_BODY);
	SET(CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)hc->connect_timeout_ms);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (hc->ca_file) {
		/* trust only the configured CA (e.g. the GSMA CI), not the system store */
		SET(CURLOPT_CAINFO, hc->ca_file);
		SET(CURLOPT_CAPATH, NULL);
		SET(CURLOPT_SSL_VERIFYPEER, 1L);
		SET(CURLOPT_SSL_VERIFYHOST, 2L);
	} else {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (hc->cert_file) {
		SET(CURLOPT_SSLCERT, hc->cert_file);
		SET(CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (hc->key_file) {
		SET(CURLOPT_SSLKEY, hc->key_file);
		SET(CURLOPT_SSLKEYTYPE, "PEM");
	}
#undef SET
	if (r != CURLE_OK) {
		LOGREQ(req, LOGL_ERROR, "cannot set up the request: %s\n", curl_easy_strerror(r));
		return r == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
	}
	return 0;
}

int http_client_post(struct http_client *hc, const char *url, const char *content_type,
		     const struct http_header *headers, unsigned int num_headers,
		     const uint8_t *body, size_t len, const struct http_client_req_opts *opts,
		     http_client_cb cb, void *data)
{
	struct hc_req *req;
	unsigned int i;
	CURLMcode mc;
	int rc;

	if (!hc || !url || !cb || (len && !body) || (num_headers && !headers))
		return -EINVAL;
	if (hc->freeing)
		return -ESHUTDOWN;

	req = talloc_zero(hc, struct hc_req);
	if (!req)
		return -ENOMEM;
	req->hc = hc;
	req->id = ++hc->next_id;
	req->cb = cb;
	req->data = data;
	osmo_timer_setup(&req->retry_timer, hc_retry_timer_cb, req);
	talloc_set_destructor(req, hc_req_destructor);

	rc = hc_parse_url(req, url);
	if (rc < 0) {
		LOGP(DHTTP, LOGL_ERROR, "http-client: invalid URL (only http/https with a host)\n");
		goto err;
	}

	if (opts && (opts->flags & HTTP_CLIENT_RETRY)) {
		req->retry = true;
		req->max_retries = opts->max_retries ? opts->max_retries : HTTP_CLIENT_DEF_RETRIES;
		req->backoff_ms = opts->backoff_ms ? opts->backoff_ms : HTTP_CLIENT_DEF_BACKOFF_MS;
	}

	/* Content-Type: "Content-Type:" with no value removes curl's form-urlencoded default */
	if (content_type) {
		rc = hc_add_hdr(req, "Content-Type", content_type);
	} else {
		struct curl_slist *l = curl_slist_append(req->hdrs, "Content-Type:");

		rc = l ? 0 : -ENOMEM;
		if (l)
			req->hdrs = l;
	}
	if (rc < 0)
		goto err_hdr;
	/* no "Expect: 100-continue" round trip: our peers answer directly */
	req->hdrs = curl_slist_append(req->hdrs, "Expect:");
	if (!req->hdrs) {
		rc = -ENOMEM;
		goto err;
	}
	for (i = 0; i < num_headers; i++) {
		rc = hc_add_hdr(req, headers[i].name, headers[i].value);
		if (rc < 0)
			goto err_hdr;
	}

	req->easy = curl_easy_init();
	if (!req->easy) {
		rc = -ENOMEM;
		goto err;
	}
	rc = hc_setup_easy(hc, req, url, body, len, opts && opts->timeout_ms ? opts->timeout_ms : hc->timeout_ms);
	if (rc < 0)
		goto err;

	/* curl only arms its timer here; the transfer starts from the loop, never from this call */
	mc = curl_multi_add_handle(hc->multi, req->easy);
	if (mc != CURLM_OK) {
		LOGREQ(req, LOGL_ERROR, "cannot start: %s\n", curl_multi_strerror(mc));
		rc = mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
		goto err;
	}
	req->in_multi = true;
	llist_add_tail(&req->list, &hc->reqs);
	hc->num_reqs++;
	hc_ctr_inc(hc, HC_CTR_REQUESTS);
	LOGREQ(req, LOGL_DEBUG, "%zu bytes%s\n", len, req->retry ? " (with retries)" : "");
	return 0;

err_hdr:
	LOGP(DHTTP, LOGL_ERROR, "http-client: invalid header or content type\n");
err:
	talloc_free(req);
	return rc;
}
