/* HTTP/1.1 server tests: everything in-process on the event loop. The clients are raw sockets
 * (byte-exact control: splitting, trickling, pipelining) or, for TLS, conn_connect(); their
 * answers are read with libhttp-parser in response mode. Limits and timeouts are small (tens of
 * ms) so that the whole program runs in a few seconds. */
#define _GNU_SOURCE	/* strcasestr() */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <talloc.h>
#include <http_parser.h>
#include <osmocom/core/application.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/conn.h>
#include <sgp02/common/http_server.h>

#include "testlib.h"

/* ------------------------------------------------------------------ running the loop */

/* Upper bound for anything that should happen "soon": generous, so that a loaded machine (CI,
 * parallel make check, sanitizers) does not fail the tests; waits end as soon as the thing happens. */
#define WAIT_MS 5000
/* How late a timeout of ~100 ms may fire on a loaded machine and still count as "in time". */
#define SLACK_MS 1500

static bool g_deadline_hit;
static struct osmo_timer_list g_deadline;

static void deadline_cb(void *data)
{
	g_deadline_hit = true;
}

/* Run the event loop until cond(arg) holds or \a ms have passed. \returns cond(arg). */
static bool run_until(bool (*cond)(void *), void *arg, unsigned long ms)
{
	g_deadline_hit = false;
	osmo_timer_setup(&g_deadline, deadline_cb, NULL);
	osmo_timer_schedule(&g_deadline, ms / 1000, (ms % 1000) * 1000);
	while (!(cond && cond(arg)) && !g_deadline_hit)
		osmo_select_main_ctx(0);
	osmo_timer_del(&g_deadline);
	return cond ? cond(arg) : true;
}

static void run_for(unsigned long ms)
{
	run_until(NULL, NULL, ms);
}

static unsigned long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000UL + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ test client */

#define TC_MAX_RESP 512

struct tresp {
	int status;
	char *hdrs;		/* "\nname: value" lines, for strcasestr() */
	uint8_t *body;
	size_t body_len;
	size_t body_cap;
};

struct tclient {
	struct osmo_fd ofd;	/* raw socket client */
	struct conn *conn;	/* TLS client */
	uint8_t *tx;
	size_t tx_len;
	size_t tx_off;
	http_parser rp;
	bool head;		/* answers are to HEAD requests: no body */
	bool last_was_value;
	struct tresp cur;
	struct tresp resp[TC_MAX_RESP];
	unsigned int n_resp;
	bool established;
	bool eof;
	bool parse_err;
};

static int tc_on_begin(http_parser *p)
{
	struct tclient *tc = p->data;

	memset(&tc->cur, 0, sizeof(tc->cur));
	tc->cur.hdrs = talloc_strdup(tc, "");
	tc->last_was_value = true;
	return 0;
}

static int tc_on_field(http_parser *p, const char *at, size_t len)
{
	struct tclient *tc = p->data;

	if (tc->last_was_value)
		tc->cur.hdrs = talloc_strdup_append_buffer(tc->cur.hdrs, "\n");
	tc->cur.hdrs = talloc_strndup_append_buffer(tc->cur.hdrs, at, len);
	tc->last_was_value = false;
	return 0;
}

static int tc_on_value(http_parser *p, const char *at, size_t len)
{
	struct tclient *tc = p->data;

	if (!tc->last_was_value)
		tc->cur.hdrs = talloc_strdup_append_buffer(tc->cur.hdrs, ": ");
	tc->cur.hdrs = talloc_strndup_append_buffer(tc->cur.hdrs, at, len);
	tc->last_was_value = true;
	return 0;
}

static int tc_on_headers(http_parser *p)
{
	struct tclient *tc = p->data;

	tc->cur.status = p->status_code;
	tc->cur.hdrs = talloc_strdup_append_buffer(tc->cur.hdrs, "\n");
	return tc->head && p->status_code >= 200 ? 1 : 0;
}

static int tc_on_body(http_parser *p, const char *at, size_t len)
{
	struct tclient *tc = p->data;

	if (tc->cur.body_len + len + 1 > tc->cur.body_cap) {
		tc->cur.body_cap = 2 * (tc->cur.body_len + len + 1);
		tc->cur.body = talloc_realloc(tc, tc->cur.body, uint8_t, tc->cur.body_cap);
	}
	memcpy(tc->cur.body + tc->cur.body_len, at, len);
	tc->cur.body_len += len;
	tc->cur.body[tc->cur.body_len] = '\0';
	return 0;
}

static int tc_on_complete(http_parser *p)
{
	struct tclient *tc = p->data;

	if (!tc->cur.body)
		tc->cur.body = (uint8_t *)talloc_strdup(tc, "");
	if (tc->n_resp < TC_MAX_RESP)
		tc->resp[tc->n_resp++] = tc->cur;
	memset(&tc->cur, 0, sizeof(tc->cur));
	return 0;
}

static const http_parser_settings tc_settings = {
	.on_message_begin = tc_on_begin,
	.on_header_field = tc_on_field,
	.on_header_value = tc_on_value,
	.on_headers_complete = tc_on_headers,
	.on_body = tc_on_body,
	.on_message_complete = tc_on_complete,
};

static void tc_feed(struct tclient *tc, const uint8_t *buf, size_t len)
{
	size_t n;

	if (tc->parse_err)
		return;
	n = http_parser_execute(&tc->rp, &tc_settings, (const char *)buf, len);
	if (HTTP_PARSER_ERRNO(&tc->rp) != HPE_OK || n != len) {
		fprintf(stderr, "client: cannot parse answer: %s\n", http_errno_name(HTTP_PARSER_ERRNO(&tc->rp)));
		tc->parse_err = true;
	}
}

static void tc_got_eof(struct tclient *tc)
{
	if (tc->eof)
		return;
	tc->eof = true;
	/* a close-delimited body ends here */
	if (!tc->parse_err)
		http_parser_execute(&tc->rp, &tc_settings, NULL, 0);
}

static void tc_flush(struct tclient *tc)
{
	while (tc->tx_off < tc->tx_len) {
		ssize_t n = send(tc->ofd.fd, tc->tx + tc->tx_off, tc->tx_len - tc->tx_off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* the server has closed: what it sent before still gets read */
			tc->tx_off = tc->tx_len;
			break;
		}
		tc->tx_off += n;
	}
	tc->tx_off = tc->tx_len = 0;
	osmo_fd_write_disable(&tc->ofd);
}

static int tc_fd_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct tclient *tc = ofd->data;

	if (what & OSMO_FD_READ) {
		uint8_t buf[65536];
		ssize_t n = recv(ofd->fd, buf, sizeof(buf), 0);

		if (n > 0) {
			tc_feed(tc, buf, n);
		} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			osmo_fd_read_disable(ofd);
			tc_got_eof(tc);
		}
	}
	if (what & OSMO_FD_WRITE)
		tc_flush(tc);
	return 0;
}

static int tc_destructor(struct tclient *tc)
{
	if (tc->ofd.fd >= 0) {
		osmo_fd_unregister(&tc->ofd);
		close(tc->ofd.fd);
		tc->ofd.fd = -1;
	}
	if (tc->conn) {
		talloc_free(tc->conn);
		tc->conn = NULL;
	}
	return 0;
}

static struct tclient *tc_alloc(void)
{
	struct tclient *tc = talloc_zero(g_test_ctx, struct tclient);

	tc->ofd.fd = -1;
	http_parser_init(&tc->rp, HTTP_RESPONSE);
	tc->rp.data = tc;
	talloc_set_destructor(tc, tc_destructor);
	return tc;
}

/* A raw TCP client connected to 127.0.0.1:port; \a rcvbuf: its socket receive buffer, 0 default. */
static struct tclient *tc_connect_rcvbuf(uint16_t port, int rcvbuf)
{
	struct tclient *tc = tc_alloc();
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	OSMO_ASSERT(fd >= 0);
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	/* loopback: the kernel completes the handshake without the server's accept() */
	OSMO_ASSERT(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	osmo_fd_setup(&tc->ofd, fd, OSMO_FD_READ, tc_fd_cb, tc, 0);
	OSMO_ASSERT(osmo_fd_register(&tc->ofd) == 0);
	tc->established = true;
	return tc;
}

static struct tclient *tc_connect(uint16_t port)
{
	return tc_connect_rcvbuf(port, 0);
}

static void tc_send(struct tclient *tc, const void *buf, size_t len)
{
	if (tc->conn) {
		conn_write(tc->conn, buf, len);
		return;
	}
	if (tc->ofd.fd < 0)
		return;
	tc->tx = talloc_realloc(tc, tc->tx, uint8_t, tc->tx_len + len);
	memcpy(tc->tx + tc->tx_len, buf, len);
	tc->tx_len += len;
	osmo_fd_write_enable(&tc->ofd);
}

static void tc_sends(struct tclient *tc, const char *s)
{
	tc_send(tc, s, strlen(s));
}

/* Send \a s one byte at a time, running the loop \a ms between bytes. */
static void tc_trickle(struct tclient *tc, const char *s, unsigned long ms)
{
	for (; *s && !tc->eof; s++) {
		tc_send(tc, s, 1);
		run_for(ms);
	}
}

struct want {
	struct tclient *tc;
	unsigned int n;
};

static bool cond_resp(void *arg)
{
	struct want *w = arg;

	return w->tc->n_resp >= w->n || w->tc->eof;
}

static bool wait_resp(struct tclient *tc, unsigned int n, unsigned long ms)
{
	struct want w = { tc, n };

	run_until(cond_resp, &w, ms);
	return tc->n_resp >= n;
}

static bool cond_eof(void *arg)
{
	return ((struct tclient *)arg)->eof;
}

static bool wait_eof(struct tclient *tc, unsigned long ms)
{
	return run_until(cond_eof, tc, ms);
}

static bool has_header(const struct tresp *r, const char *line)
{
	char *needle = talloc_asprintf(g_test_ctx, "\n%s\n", line);
	bool found = r->hdrs && strcasestr(r->hdrs, needle);

	talloc_free(needle);
	return found;
}

static bool has_header_name(const struct tresp *r, const char *name)
{
	char *needle = talloc_asprintf(g_test_ctx, "\n%s: ", name);
	bool found = r->hdrs && strcasestr(r->hdrs, needle);

	talloc_free(needle);
	return found;
}

/* ------------------------------------------------------------------ TLS test client */

static void tls_tc_established(struct conn *c)
{
	struct tclient *tc = conn_get_data(c);

	tc->established = true;
}

static int tls_tc_data(struct conn *c, const uint8_t *buf, size_t len)
{
	tc_feed(conn_get_data(c), buf, len);
	return 0;
}

static void tls_tc_closed(struct conn *c, enum conn_close_reason reason)
{
	struct tclient *tc = conn_get_data(c);

	tc->conn = NULL;
	tc_got_eof(tc);
}

static const struct conn_ops tls_tc_ops = {
	.established = tls_tc_established,
	.data = tls_tc_data,
	.closed = tls_tc_closed,
};

static struct tclient *tc_connect_tls(uint16_t port, struct tls_ctx *tls)
{
	struct tclient *tc = tc_alloc();

	tc->conn = conn_connect(tc, "127.0.0.1", port, tls, &tls_tc_ops, tc);
	OSMO_ASSERT(tc->conn);
	return tc;
}

/* ------------------------------------------------------------------ the server under test */

static struct {
	unsigned int requests;
	unsigned int aborted;
	struct http_request *held;
	struct osmo_timer_list async_timer;
	const struct conn *first_conn;
	bool other_conn;
	unsigned long async_ms;		/* delay of /async's answer; 0: 30 ms */
} g_st;

static void st_reset(void)
{
	osmo_timer_del(&g_st.async_timer);
	memset(&g_st, 0, sizeof(g_st));
}

static void st_on_abort(struct http_request *req)
{
	g_st.aborted++;
	if (g_st.held == req) {
		g_st.held = NULL;
		osmo_timer_del(&g_st.async_timer);
	}
	/* answering now must be refused */
	CU_ASSERT_EQUAL(http_respond(req, 200, NULL, NULL, 0, NULL, 0), -EINVAL);
}

static void st_async_answer(void *data)
{
	struct http_request *req = g_st.held;

	g_st.held = NULL;
	if (req)
		CU_ASSERT_EQUAL(http_respond(req, 200, "text/plain", NULL, 0, (const uint8_t *)"late", 4), 0);
}

#define BIG_LEN 200000
#define HUGE_LEN ((size_t)3 * 1024 * 1024 + 17)

static void handler(struct http_request *req, void *data)
{
	g_st.requests++;
	if (!g_st.first_conn)
		g_st.first_conn = req->conn;
	else if (req->conn != g_st.first_conn)
		g_st.other_conn = true;

	if (!strcmp(req->path, "/echo")) {
		struct http_header extra[] = {
			{ "X-Method", req->method },
			{ "X-Query", req->query ? req->query : "-" },
		};
		/* the body is NUL-terminated for convenience */
		CU_ASSERT_EQUAL(req->body[req->body_len], 0);
		CU_ASSERT_EQUAL(http_respond(req, 200, "text/plain", extra, 2, req->body, req->body_len), 0);
	} else if (!strcmp(req->path, "/chunked")) {
		CU_ASSERT_EQUAL(http_respond_start(req, 200, "text/plain", NULL, 0), 0);
		CU_ASSERT_EQUAL(http_respond_chunk(req, (const uint8_t *)"one,", 4), 0);
		CU_ASSERT_EQUAL(http_respond_chunk(req, (const uint8_t *)"", 0), 0);
		CU_ASSERT_EQUAL(http_respond_chunk(req, (const uint8_t *)"two,", 4), 0);
		CU_ASSERT_EQUAL(http_respond_chunk(req, (const uint8_t *)"three", 5), 0);
		CU_ASSERT_EQUAL(http_respond_end(req), 0);
	} else if (!strcmp(req->path, "/async")) {
		g_st.held = req;
		req->on_abort = st_on_abort;
		osmo_timer_setup(&g_st.async_timer, st_async_answer, NULL);
		osmo_timer_schedule(&g_st.async_timer, 0, (g_st.async_ms ? g_st.async_ms : 30) * 1000);
	} else if (!strcmp(req->path, "/hold")) {
		g_st.held = req;
		req->on_abort = st_on_abort;
	} else if (!strcmp(req->path, "/identity")) {
		const char *id = conn_peer_identity(req->conn);

		if (!id)
			id = "(none)";
		http_respond(req, 200, "text/plain", NULL, 0, (const uint8_t *)id, strlen(id));
	} else if (!strcmp(req->path, "/big")) {
		uint8_t *big = talloc_size(NULL, BIG_LEN);

		memset(big, 'x', BIG_LEN);
		CU_ASSERT_EQUAL(http_respond(req, 200, "application/octet-stream", NULL, 0, big, BIG_LEN), 0);
		talloc_free(big);
	} else if (!strcmp(req->path, "/huge")) {
		/* bigger than conn's default write queue bound */
		uint8_t *big = talloc_size(NULL, HUGE_LEN);
		size_t i;

		for (i = 0; i < HUGE_LEN; i++)
			big[i] = 'a' + i % 26;
		if (req->query) {
			/* streamed in 64 kB chunks */
			CU_ASSERT_EQUAL(http_respond_start(req, 200, NULL, NULL, 0), 0);
			for (i = 0; i < HUGE_LEN; i += 65536) {
				size_t n = OSMO_MIN((size_t)65536, HUGE_LEN - i);

				CU_ASSERT_EQUAL(http_respond_chunk(req, big + i, n), 0);
			}
			CU_ASSERT_EQUAL(http_respond_end(req), 0);
		} else {
			CU_ASSERT_EQUAL(http_respond(req, 200, NULL, NULL, 0, big, HUGE_LEN), 0);
		}
		talloc_free(big);
	} else if (!strcmp(req->path, "/nocontent")) {
		/* 204: no body, no Content-Length (RFC 9110 §8.6), even if the handler passes one */
		CU_ASSERT_EQUAL(http_respond(req, 204, NULL, NULL, 0, (const uint8_t *)"zz", 2), 0);
	} else if (!strcmp(req->path, "*")) {
		struct http_header allow = { "Allow", "GET, HEAD, POST" };

		CU_ASSERT_EQUAL(http_respond(req, 200, NULL, &allow, 1, NULL, 0), 0);
	} else if (!strcmp(req->path, "/bad")) {
		/* a header with CR LF must not get through (header injection) */
		struct http_header evil = { "X-Evil", "a\r\nSet-Cookie: x" };

		CU_ASSERT_EQUAL(http_respond(req, 200, NULL, &evil, 1, NULL, 0), -EINVAL);
	} else {
		http_respond(req, 404, "text/plain", NULL, 0, (const uint8_t *)"nope", 4);
	}
}

static bool cond_requests(void *arg)
{
	return g_st.requests >= *(unsigned int *)arg;
}

/* Wait until the handler has seen \a n requests in total. */
static bool wait_requests(unsigned int n)
{
	return run_until(cond_requests, &n, WAIT_MS);
}

/* Small size limits; timeouts long enough for a loaded machine: the tests of the timeouts set
 * short ones (~100 ms) themselves. */
static struct http_server_cfg test_cfg(void)
{
	struct http_server_cfg cfg = {
		.addr = "127.0.0.1",
		.port = 0,
		.max_header_bytes = 1024,
		.max_body_bytes = 4096,
		.header_timeout_ms = 3000,
		.body_timeout_ms = 3000,
		.idle_timeout_ms = 3000,
		.max_conns = 8,
	};
	return cfg;
}

/* The timeouts under test: short, so that the program runs in a few seconds. */
static struct http_server_cfg short_cfg(void)
{
	struct http_server_cfg cfg = test_cfg();

	cfg.header_timeout_ms = 100;
	cfg.body_timeout_ms = 100;
	cfg.idle_timeout_ms = 150;
	return cfg;
}

static struct http_server *start_srv(const struct http_server_cfg *cfg)
{
	struct http_server_cfg def = test_cfg();
	struct http_server *srv;

	st_reset();
	srv = http_server_start(g_test_ctx, cfg ? cfg : &def, handler, NULL);
	OSMO_ASSERT(srv);
	OSMO_ASSERT(http_server_port(srv) != 0);
	return srv;
}

/* One request on a fresh connection; the single answer is returned (NULL if none came). */
static const struct tresp *one_shot(struct http_server *srv, struct tclient **tcp, const char *req)
{
	struct tclient *tc = tc_connect(http_server_port(srv));

	*tcp = tc;
	tc_sends(tc, req);
	if (!wait_resp(tc, 1, WAIT_MS))
		return NULL;
	return &tc->resp[0];
}

/* ------------------------------------------------------------------ tests */

static void test_get_post(void)
{
	struct http_server *srv = start_srv(NULL);
	struct tclient *tc = tc_connect(http_server_port(srv));
	const struct tresp *r;

	tc_sends(tc, "GET /echo?wsdl HTTP/1.1\r\nHost: localhost\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 1, WAIT_MS));
	r = &tc->resp[0];
	CU_ASSERT_EQUAL(r->status, 200);
	CU_ASSERT_EQUAL(r->body_len, 0);
	CU_ASSERT(has_header(r, "Server: sgp02"));
	CU_ASSERT(has_header(r, "Content-Length: 0"));
	CU_ASSERT(has_header(r, "Content-Type: text/plain"));
	CU_ASSERT(has_header(r, "X-Method: GET"));
	CU_ASSERT(has_header(r, "X-Query: wsdl"));
	CU_ASSERT(has_header_name(r, "Date"));
	CU_ASSERT(strstr(r->hdrs, " GMT\n") != NULL);
	CU_ASSERT(!has_header_name(r, "Connection"));

	tc_sends(tc, "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\n"
		 "Content-Length: 11\r\n\r\nhello world");
	CU_ASSERT_FATAL(wait_resp(tc, 2, WAIT_MS));
	r = &tc->resp[1];
	CU_ASSERT_EQUAL(r->status, 200);
	CU_ASSERT_EQUAL(r->body_len, 11);
	CU_ASSERT_STRING_EQUAL(r->body, "hello world");
	CU_ASSERT(has_header(r, "X-Method: POST"));
	CU_ASSERT(has_header(r, "X-Query: -"));

	/* absolute-form target (RFC 9112 §3.2.2) */
	tc_sends(tc, "POST http://localhost/echo?a=b HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\nZ");
	CU_ASSERT_FATAL(wait_resp(tc, 3, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[2].status, 200);
	CU_ASSERT(has_header(&tc->resp[2], "X-Query: a=b"));
	CU_ASSERT_STRING_EQUAL(tc->resp[2].body, "Z");

	/* unknown path: whatever the handler says */
	tc_sends(tc, "GET /nothing HTTP/1.1\r\nHost: localhost\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 4, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[3].status, 404);
	CU_ASSERT_EQUAL(g_st.requests, 4);
	CU_ASSERT(!tc->eof);

	/* HEAD: the length a GET would get, no body */
	tc->head = true;
	tc_sends(tc, "HEAD /echo HTTP/1.1\r\nHost: localhost\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 5, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[4].status, 200);
	CU_ASSERT(has_header(&tc->resp[4], "X-Method: HEAD"));
	CU_ASSERT(!tc->parse_err);

	http_server_stop(srv);
	talloc_free(tc);
}

static void test_methods_and_forms(void)
{
	struct http_server *srv = start_srv(NULL);
	struct tclient *tc = tc_connect(http_server_port(srv));
	const struct tresp *r;

	/* asterisk-form */
	tc_sends(tc, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 1, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[0].status, 200);
	CU_ASSERT(has_header(&tc->resp[0], "Allow: GET, HEAD, POST"));
	/* an Upgrade we do not do is ignored (RFC 9110 §7.8): a normal answer, same connection */
	tc_sends(tc, "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 2, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[1].status, 200);
	tc_sends(tc, "GET /nocontent HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 3, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[2].status, 204);
	CU_ASSERT(!has_header_name(&tc->resp[2], "Content-Length"));
	CU_ASSERT_EQUAL(tc->resp[2].body_len, 0);
	/* leading empty lines before a request are allowed (RFC 9112 §2.2) */
	tc_sends(tc, "\r\n\r\nDELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 4, WAIT_MS));
	CU_ASSERT(has_header(&tc->resp[3], "X-Method: DELETE"));
	CU_ASSERT(!tc->eof);
	talloc_free(tc);

	/* CONNECT is not for us */
	r = one_shot(srv, &tc, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
	CU_ASSERT(r && r->status == 501);
	talloc_free(tc);

	/* HEAD of a streamed answer: header only */
	tc = tc_connect(http_server_port(srv));
	tc->head = true;
	tc_sends(tc, "HEAD /chunked HTTP/1.1\r\nHost: x\r\n\r\nHEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 2, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[0].status, 200);
	CU_ASSERT_EQUAL(tc->resp[1].status, 200);
	CU_ASSERT(!tc->parse_err);
	talloc_free(tc);

	/* chunked from an HTTP/1.0 client: decoded, answered, then closed */
	r = one_shot(srv, &tc, "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
		     "2\r\nok\r\n0\r\n\r\n");
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(r->status, 200);
	CU_ASSERT_STRING_EQUAL(r->body, "ok");
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	talloc_free(tc);
	http_server_stop(srv);
}

static void test_start_errors_and_free(void)
{
	struct http_server_cfg cfg = test_cfg();
	struct http_server *srv = start_srv(NULL), *srv2;
	void *ctx = talloc_named_const(g_test_ctx, 0, "server parent");
	struct tclient *tc;

	/* the port is taken */
	cfg.port = http_server_port(srv);
	CU_ASSERT_PTR_NULL(http_server_start(g_test_ctx, &cfg, handler, NULL));
	CU_ASSERT_PTR_NULL(http_server_start(g_test_ctx, NULL, handler, NULL));
	CU_ASSERT_PTR_NULL(http_server_start(g_test_ctx, &cfg, NULL, NULL));
	http_server_stop(srv);
	http_server_stop(NULL);

	/* freeing the parent context is a clean stop too: the held request is aborted */
	cfg.port = 0;
	srv2 = http_server_start(ctx, &cfg, handler, NULL);
	CU_ASSERT_FATAL(srv2 != NULL);
	tc = tc_connect(http_server_port(srv2));
	tc_sends(tc, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(wait_requests(1));
	talloc_free(ctx);
	CU_ASSERT_EQUAL(g_st.aborted, 1);
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	talloc_free(tc);
}

static void test_handler_bad_answer(void)
{
	struct http_server *srv = start_srv(NULL);
	struct tclient *tc;
	const struct tresp *r = one_shot(srv, &tc, "GET /bad HTTP/1.1\r\nHost: x\r\n\r\n");

	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(r->status, 500);
	CU_ASSERT(!strcasestr(r->hdrs, "Set-Cookie"));
	http_server_stop(srv);
	talloc_free(tc);
}

static void test_keepalive_100(void)
{
	struct http_server *srv = start_srv(NULL);
	struct tclient *tc = tc_connect(http_server_port(srv));
	unsigned int i;

	for (i = 0; i < 100; i++) {
		char req[128], body[16];

		snprintf(body, sizeof(body), "req-%u", i);
		snprintf(req, sizeof(req), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n%s",
			 strlen(body), body);
		tc_sends(tc, req);
		if (!wait_resp(tc, i + 1, WAIT_MS))
			break;
		CU_ASSERT_EQUAL(tc->resp[i].status, 200);
		CU_ASSERT_STRING_EQUAL(tc->resp[i].body, body);
	}
	CU_ASSERT_EQUAL(tc->n_resp, 100);
	CU_ASSERT_EQUAL(g_st.requests, 100);
	CU_ASSERT(!g_st.other_conn);
	CU_ASSERT(!tc->eof);
	http_server_stop(srv);
	talloc_free(tc);
}

static void test_pipelined(void)
{
	struct http_server *srv = start_srv(NULL);
	struct tclient *tc = tc_connect(http_server_port(srv));
	char *all = talloc_strdup(g_test_ctx, "");
	unsigned int i;

	for (i = 0; i < 10; i++)
		all = talloc_asprintf_append_buffer(all, "POST /echo HTTP/1.1\r\nHost: x\r\n"
						    "Content-Length: 2\r\n\r\n%02u", i);
	/* the last one closes */
	all = talloc_strdup_append_buffer(all, "GET /echo?last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	tc_sends(tc, all);
	CU_ASSERT(wait_resp(tc, 11, 2000));
	CU_ASSERT_EQUAL(tc->n_resp, 11);
	for (i = 0; i < 10 && i < tc->n_resp; i++) {
		char exp[4];

		snprintf(exp, sizeof(exp), "%02u", i);
		CU_ASSERT_STRING_EQUAL(tc->resp[i].body, exp);
	}
	if (tc->n_resp == 11) {
		CU_ASSERT(has_header(&tc->resp[10], "Connection: close"));
		CU_ASSERT(has_header(&tc->resp[10], "X-Query: last"));
	}
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	CU_ASSERT(!g_st.other_conn);
	http_server_stop(srv);
	talloc_free(tc);
}

static void test_split_reads(void)
{
	struct http_server_cfg cfg = test_cfg();
	struct http_server *srv;
	struct tclient *tc;

	cfg.header_timeout_ms = 2000;
	cfg.body_timeout_ms = 2000;
	srv = start_srv(&cfg);
	tc = tc_connect(http_server_port(srv));

	/* every byte in its own read: the parser state survives between reads */
	tc_trickle(tc, "POST /echo?split HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde", 1);
	CU_ASSERT_FATAL(wait_resp(tc, 1, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[0].status, 200);
	CU_ASSERT_STRING_EQUAL(tc->resp[0].body, "abcde");
	CU_ASSERT(has_header(&tc->resp[0], "X-Query: split"));
	http_server_stop(srv);
	talloc_free(tc);
}

static void test_chunked_request(void)
{
	struct http_server *srv = start_srv(NULL);
	struct tclient *tc = tc_connect(http_server_port(srv));
	char *req;
	unsigned int i;

	/* chunk extensions, tiny chunks, a trailer */
	tc_sends(tc, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "5;name=value\r\nhello\r\n1\r\n \r\n1;x;y=\"q\"\r\nw\r\n4\r\norld\r\n0\r\nX-Trailer: t\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 1, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[0].status, 200);
	CU_ASSERT_STRING_EQUAL(tc->resp[0].body, "hello world");

	/* 300 one-byte chunks, split across reads, then a normal request on the same connection */
	req = talloc_strdup(g_test_ctx, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (i = 0; i < 300; i++)
		req = talloc_asprintf_append_buffer(req, "1\r\n%c\r\n", 'a' + i % 26);
	req = talloc_strdup_append_buffer(req, "0\r\n\r\n");
	tc_send(tc, req, strlen(req) / 2);
	run_for(5);
	tc_sends(tc, req + strlen(req) / 2);
	CU_ASSERT_FATAL(wait_resp(tc, 2, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[1].status, 200);
	CU_ASSERT_EQUAL(tc->resp[1].body_len, 300);
	CU_ASSERT_EQUAL(tc->resp[1].body[26], 'a');
	tc_sends(tc, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 3, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[2].status, 200);
	CU_ASSERT(!g_st.other_conn);

	/* a coding we do not know is 501 */
	talloc_free(tc);
	tc = tc_connect(http_server_port(srv));
	tc_sends(tc, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 1, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[0].status, 501);

	/* Content-Length and chunked together: refused (request smuggling) */
	talloc_free(tc);
	tc = tc_connect(http_server_port(srv));
	tc_sends(tc, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "0\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 1, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[0].status, 400);
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	http_server_stop(srv);
	talloc_free(tc);
}

static void test_chunked_response(void)
{
	struct http_server *srv = start_srv(NULL);
	struct tclient *tc = tc_connect(http_server_port(srv));

	tc_sends(tc, "GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 1, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[0].status, 200);
	CU_ASSERT(has_header(&tc->resp[0], "Transfer-Encoding: chunked"));
	CU_ASSERT(!has_header_name(&tc->resp[0], "Content-Length"));
	CU_ASSERT_STRING_EQUAL(tc->resp[0].body, "one,two,three");
	/* the connection goes on */
	tc_sends(tc, "GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 2, WAIT_MS));
	CU_ASSERT_STRING_EQUAL(tc->resp[1].body, "one,two,three");
	talloc_free(tc);

	/* HTTP/1.0 knows no chunked coding: the body ends with the connection */
	tc = tc_connect(http_server_port(srv));
	tc_sends(tc, "GET /chunked HTTP/1.0\r\n\r\n");
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	CU_ASSERT_FATAL(tc->n_resp == 1);
	CU_ASSERT_EQUAL(tc->resp[0].status, 200);
	CU_ASSERT(!has_header_name(&tc->resp[0], "Transfer-Encoding"));
	CU_ASSERT(has_header(&tc->resp[0], "Connection: close"));
	CU_ASSERT_STRING_EQUAL(tc->resp[0].body, "one,two,three");
	http_server_stop(srv);
	talloc_free(tc);
}

static void test_http10(void)
{
	struct http_server *srv = start_srv(NULL);
	struct tclient *tc = tc_connect(http_server_port(srv));

	/* HTTP/1.0 without keep-alive: answered, then closed */
	tc_sends(tc, "GET /echo HTTP/1.0\r\n\r\n");
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	CU_ASSERT_FATAL(tc->n_resp == 1);
	CU_ASSERT_EQUAL(tc->resp[0].status, 200);
	CU_ASSERT(has_header(&tc->resp[0], "Connection: close"));
	talloc_free(tc);

	/* HTTP/1.0 with keep-alive stays open */
	tc = tc_connect(http_server_port(srv));
	tc_sends(tc, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 1, WAIT_MS));
	CU_ASSERT(has_header(&tc->resp[0], "Connection: keep-alive"));
	tc_sends(tc, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 2, WAIT_MS));
	CU_ASSERT(!tc->eof);
	talloc_free(tc);

	/* HTTP/1.1 with Connection: close */
	tc = tc_connect(http_server_port(srv));
	tc_sends(tc, "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	CU_ASSERT_FATAL(tc->n_resp == 1);
	CU_ASSERT(has_header(&tc->resp[0], "Connection: close"));
	http_server_stop(srv);
	talloc_free(tc);
}

static void test_expect_100(void)
{
	struct http_server *srv = start_srv(NULL);
	struct tclient *tc = tc_connect(http_server_port(srv));

	tc_sends(tc, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 1, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[0].status, 100);
	CU_ASSERT_EQUAL(g_st.requests, 0);
	tc_sends(tc, "hello");
	CU_ASSERT_FATAL(wait_resp(tc, 2, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[1].status, 200);
	CU_ASSERT_STRING_EQUAL(tc->resp[1].body, "hello");
	talloc_free(tc);

	/* too big for us: 413 at once, no 100, the body is never read */
	tc = tc_connect(http_server_port(srv));
	tc_sends(tc, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 1, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[0].status, 413);
	CU_ASSERT(has_header(&tc->resp[0], "Connection: close"));
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	CU_ASSERT_EQUAL(tc->n_resp, 1);
	talloc_free(tc);

	/* an expectation we do not know */
	tc = tc_connect(http_server_port(srv));
	tc_sends(tc, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 5\r\n\r\nhello");
	CU_ASSERT_FATAL(wait_resp(tc, 1, WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[0].status, 417);
	CU_ASSERT_EQUAL(g_st.requests, 1);
	http_server_stop(srv);
	talloc_free(tc);
}

static void test_header_too_big(void)
{
	struct http_server *srv = start_srv(NULL);
	struct tclient *tc;
	char *req = talloc_strdup(g_test_ctx, "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ");
	const struct tresp *r;
	unsigned int i;

	for (i = 0; i < 2000; i++)
		req = talloc_strdup_append_buffer(req, "a");
	req = talloc_strdup_append_buffer(req, "\r\n\r\n");
	r = one_shot(srv, &tc, req);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(r->status, 431);
	CU_ASSERT(has_header(r, "Connection: close"));
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	talloc_free(tc);

	/* many small fields */
	req = talloc_strdup(g_test_ctx, "GET /echo HTTP/1.1\r\nHost: x\r\n");
	for (i = 0; i < 130; i++)
		req = talloc_strdup_append_buffer(req, "A: b\r\n");
	req = talloc_strdup_append_buffer(req, "\r\n");
	r = one_shot(srv, &tc, req);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(r->status, 431);
	talloc_free(tc);

	/* just under the limit passes */
	req = talloc_strdup(g_test_ctx, "GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: ");
	while (strlen(req) < 1024 - 4)
		req = talloc_strdup_append_buffer(req, "b");
	req = talloc_strdup_append_buffer(req, "\r\n\r\n");
	CU_ASSERT_EQUAL(strlen(req), 1024);
	r = one_shot(srv, &tc, req);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(r->status, 200);
	CU_ASSERT_EQUAL(g_st.requests, 1);
	http_server_stop(srv);
	talloc_free(tc);
}

static void test_body_too_big(void)
{
	struct http_server *srv = start_srv(NULL);
	struct tclient *tc;
	const struct tresp *r;
	char *req;
	unsigned int i;

	/* Content-Length over the limit: 413 before any body byte is sent */
	r = one_shot(srv, &tc, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(r->status, 413);
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	talloc_free(tc);

	/* chunked body growing over the limit */
	req = talloc_strdup(g_test_ctx, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (i = 0; i < 6; i++) {
		req = talloc_strdup_append_buffer(req, "3e8\r\n");
		req = talloc_asprintf_append_buffer(req, "%01000d\r\n", 0);
	}
	req = talloc_strdup_append_buffer(req, "0\r\n\r\n");
	r = one_shot(srv, &tc, req);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(r->status, 413);
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	CU_ASSERT_EQUAL(g_st.requests, 0);
	talloc_free(tc);

	/* exactly the limit passes */
	req = talloc_asprintf(g_test_ctx, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\n\r\n%04096d", 7);
	r = one_shot(srv, &tc, req);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_EQUAL(r->status, 200);
	CU_ASSERT_EQUAL(r->body_len, 4096);
	http_server_stop(srv);
	talloc_free(tc);
}

static void test_slow_header(void)
{
	struct http_server_cfg cfg = short_cfg();
	struct http_server *srv = start_srv(&cfg);
	struct tclient *tc = tc_connect(http_server_port(srv));
	unsigned long t0 = now_ms(), dt;

	/* one byte every 10 ms: each byte is "progress", but the header as a whole is late */
	tc_trickle(tc, "GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n", 10);
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	dt = now_ms() - t0;
	CU_ASSERT_FATAL(tc->n_resp == 1);
	CU_ASSERT_EQUAL(tc->resp[0].status, 408);
	CU_ASSERT(dt >= 95 && dt < SLACK_MS);
	CU_ASSERT_EQUAL(g_st.requests, 0);
	talloc_free(tc);

	/* a connection that never sends anything is closed after header_timeout, without an answer */
	tc = tc_connect(http_server_port(srv));
	t0 = now_ms();
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	dt = now_ms() - t0;
	CU_ASSERT_EQUAL(tc->n_resp, 0);
	CU_ASSERT(dt >= 95 && dt < SLACK_MS);
	http_server_stop(srv);
	talloc_free(tc);
}

static void test_slow_body(void)
{
	struct http_server_cfg cfg = short_cfg();
	struct http_server *srv = start_srv(&cfg);
	struct tclient *tc = tc_connect(http_server_port(srv));
	unsigned long t0, dt;

	tc_sends(tc, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
	t0 = now_ms();
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	dt = now_ms() - t0;
	CU_ASSERT_FATAL(tc->n_resp == 1);
	CU_ASSERT_EQUAL(tc->resp[0].status, 408);
	CU_ASSERT(dt >= 90 && dt < SLACK_MS);
	CU_ASSERT_EQUAL(g_st.requests, 0);
	talloc_free(tc);

	/* chunked body trickled: the body timeout is total too */
	tc = tc_connect(http_server_port(srv));
	tc_sends(tc, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
	t0 = now_ms();
	tc_trickle(tc, "1\r\na\r\n1\r\nb\r\n1\r\nc\r\n1\r\nd\r\n1\r\ne\r\n1\r\nf\r\n1\r\ng\r\n1\r\nh\r\n0\r\n\r\n", 8);
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	dt = now_ms() - t0;
	CU_ASSERT_FATAL(tc->n_resp == 1);
	CU_ASSERT_EQUAL(tc->resp[0].status, 408);
	CU_ASSERT(dt < SLACK_MS);
	http_server_stop(srv);
	talloc_free(tc);
}

static void test_idle_close(void)
{
	struct http_server_cfg cfg = short_cfg();
	struct http_server *srv = start_srv(&cfg);
	struct tclient *tc = tc_connect(http_server_port(srv));
	unsigned long t0, dt;

	tc_sends(tc, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 1, WAIT_MS));
	t0 = now_ms();
	CU_ASSERT(wait_eof(tc, WAIT_MS));
	dt = now_ms() - t0;
	/* closed without a word after idle_timeout (150 ms) */
	CU_ASSERT_EQUAL(tc->n_resp, 1);
	CU_ASSERT(dt >= 140 && dt < SLACK_MS);
	http_server_stop(srv);
	talloc_free(tc);
}

static void test_max_conns(void)
{
	struct http_server_cfg cfg = test_cfg();
	struct http_server *srv;
	struct tclient *tc1, *tc2, *tc3;
	unsigned int i;

	cfg.max_conns = 2;
	cfg.idle_timeout_ms = 2000;
	cfg.header_timeout_ms = 2000;
	srv = start_srv(&cfg);
	tc1 = tc_connect(http_server_port(srv));
	tc2 = tc_connect(http_server_port(srv));
	tc_sends(tc1, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
	tc_sends(tc2, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(wait_resp(tc1, 1, WAIT_MS));
	CU_ASSERT(wait_resp(tc2, 1, WAIT_MS));

	tc3 = tc_connect(http_server_port(srv));
	CU_ASSERT(wait_eof(tc3, WAIT_MS));
	CU_ASSERT_FATAL(tc3->n_resp == 1);
	CU_ASSERT_EQUAL(tc3->resp[0].status, 503);
	CU_ASSERT(has_header(&tc3->resp[0], "Connection: close"));
	talloc_free(tc3);

	/* one leaves: room again (as soon as the server has seen it go) */
	talloc_free(tc1);
	for (i = 0; i < 50; i++) {
		run_for(10);
		tc3 = tc_connect(http_server_port(srv));
		tc_sends(tc3, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
		if (wait_resp(tc3, 1, WAIT_MS) && tc3->resp[0].status == 200)
			break;
		talloc_free(tc3);
		tc3 = NULL;
	}
	CU_ASSERT_FATAL(tc3 != NULL);
	CU_ASSERT_EQUAL(tc3->resp[0].status, 200);
	CU_ASSERT(!tc3->eof);
	http_server_stop(srv);
	talloc_free(tc2);
	talloc_free(tc3);
}

struct bad_case {
	const char *req;
	int status;
};

static void test_malformed(void)
{
	static const struct bad_case cases[] = {
		{ "GET /echo HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400 },
		{ "GET /echo HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", 400 },
		{ "GET /echo HTTP/2.0\r\nHost: x\r\n\r\n", 505 },
		{ "GET /echo HTTP/0.9\r\n\r\n", 505 },
		{ "GET /echo HTTP/x.y\r\nHost: x\r\n\r\n", 400 },
		{ "GET /echo XTTP/1.1\r\nHost: x\r\n\r\n", 400 },
		{ "FOO /echo HTTP/1.1\r\nHost: x\r\n\r\n", 501 },
		{ "TRACE /echo HTTP/1.1\r\nHost: x\r\n\r\n", 501 },
		{ "GET /echo HTTP/1.1\r\n\r\n", 400 },
		{ "GET /echo HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400 },
		{ "GET /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n", 400 },
		{ "GET /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400 },
		{ "\x01\x02\x03garbage\r\n\r\n", 400 },
		{ "GET  HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400 },
	};
	struct http_server *srv = start_srv(NULL);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct tclient *tc;
		const struct tresp *r = one_shot(srv, &tc, cases[i].req);

		if (!r || r->status != cases[i].status)
			fprintf(stderr, "case %u: got %d, expected %d\n", i, r ? r->status : -1, cases[i].status);
		CU_ASSERT(r && r->status == cases[i].status);
		CU_ASSERT(wait_eof(tc, WAIT_MS));
		talloc_free(tc);
	}
	CU_ASSERT_EQUAL(g_st.requests, 0);
	http_server_stop(srv);
}

#define MUT_N 100

struct mut_set {
	struct tclient *tc[MUT_N];
};

static bool cond_all_eof(void *arg)
{
	struct mut_set *m = arg;
	unsigned int i;

	for (i = 0; i < MUT_N; i++) {
		if (!m->tc[i]->eof)
			return false;
	}
	return true;
}

/* Deterministically mutated requests, all at once on their own connections: every one ends (an
 * answer, an error answer or a timeout) and nothing crashes or leaks (ASan). */
static void test_mutations(void)
{
	static const char base[] = "POST /echo?q=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
				   "Expect: 100-continue\r\n\r\n4;e=1\r\nabcd\r\n0\r\nT: 1\r\n\r\n"
				   "GET /chunked HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz";
	static const char specials[] = "\r\n :;\t\0\x7f\xff" "0fF";
	struct http_server_cfg cfg = test_cfg();
	struct http_server *srv;
	struct mut_set *m = talloc_zero(g_test_ctx, struct mut_set);
	unsigned int seed = 4242, i, answered = 0;

	cfg.max_conns = MUT_N + 10;
	/* long enough that a loaded machine reads every request before its header timer fires */
	cfg.header_timeout_ms = 2000;
	cfg.body_timeout_ms = 200;
	cfg.idle_timeout_ms = 200;
	srv = start_srv(&cfg);
	for (i = 0; i < MUT_N; i++) {
		char req[sizeof(base)];
		size_t len = sizeof(base) - 1;
		unsigned int k, nmut = 1 + rand_r(&seed) % 4;

		memcpy(req, base, sizeof(base));
		for (k = 0; k < nmut; k++) {
			size_t pos = rand_r(&seed) % len;

			if (rand_r(&seed) % 2)
				req[pos] = specials[rand_r(&seed) % (sizeof(specials) - 1)];
			else
				req[pos] = (char)(rand_r(&seed) & 0xff);
		}
		m->tc[i] = tc_connect(http_server_port(srv));
		tc_send(m->tc[i], req, len);
	}
	CU_ASSERT(run_until(cond_all_eof, m, 4 * WAIT_MS));
	for (i = 0; i < MUT_N; i++) {
		if (m->tc[i]->n_resp)
			answered++;
		talloc_free(m->tc[i]);
	}
	/* most mutations are caught by the parser or our checks and answered */
	CU_ASSERT(answered > MUT_N / 2);
	http_server_stop(srv);
}

static void test_async(void)
{
	struct http_server *srv = start_srv(NULL);
	struct tclient *tc = tc_connect(http_server_port(srv));
	unsigned long t0 = now_ms();

	/* answered 30 ms later from a timer; the pipelined request behind it waits its turn */
	tc_sends(tc, "GET /async HTTP/1.1\r\nHost: x\r\n\r\nGET /echo?second HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(wait_requests(1));
	CU_ASSERT_EQUAL(g_st.requests, 1);
	CU_ASSERT_EQUAL(tc->n_resp, 0);
	CU_ASSERT_FATAL(wait_resp(tc, 2, WAIT_MS));
	CU_ASSERT(now_ms() - t0 >= 25);
	CU_ASSERT_EQUAL(tc->resp[0].status, 200);
	CU_ASSERT_STRING_EQUAL(tc->resp[0].body, "late");
	CU_ASSERT(has_header(&tc->resp[1], "X-Query: second"));
	CU_ASSERT_EQUAL(g_st.requests, 2);
	CU_ASSERT_EQUAL(g_st.aborted, 0);
	http_server_stop(srv);
	talloc_free(tc);
}

static bool cond_aborted(void *arg)
{
	return g_st.aborted >= *(unsigned int *)arg;
}

static void test_async_abort(void)
{
	struct http_server *srv = start_srv(NULL);
	struct tclient *tc = tc_connect(http_server_port(srv));
	unsigned int want = 1;

	tc_sends(tc, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(wait_requests(1));
	CU_ASSERT(g_st.held != NULL);
	/* the client goes away: on_abort, and the request is freed (ASan checks the rest) */
	talloc_free(tc);
	CU_ASSERT(run_until(cond_aborted, &want, WAIT_MS));
	CU_ASSERT(g_st.held == NULL);

	/* same when the async answer was about to come (late enough for a loaded machine) */
	g_st.async_ms = 900;
	tc = tc_connect(http_server_port(srv));
	tc_sends(tc, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(wait_requests(2));
	talloc_free(tc);
	want = 2;
	CU_ASSERT(run_until(cond_aborted, &want, WAIT_MS));
	run_for(40);	/* the answer timer must not fire */

	/* and when the server stops under a held request */
	tc = tc_connect(http_server_port(srv));
	tc_sends(tc, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(wait_requests(3));
	CU_ASSERT(g_st.held != NULL);
	http_server_stop(srv);
	CU_ASSERT_EQUAL(g_st.aborted, 3);
	CU_ASSERT(g_st.held == NULL);
	talloc_free(tc);
}

static void test_stop_with_conns(void)
{
	struct http_server *srv = start_srv(NULL);
	struct tclient *tc1 = tc_connect(http_server_port(srv));
	struct tclient *tc2 = tc_connect(http_server_port(srv));

	/* one in the middle of a header, one in the middle of a body */
	tc_sends(tc1, "GET /echo HTTP/1.1\r\nHo");
	tc_sends(tc2, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
	run_for(20);
	http_server_stop(srv);
	CU_ASSERT(wait_eof(tc1, WAIT_MS));
	CU_ASSERT(wait_eof(tc2, WAIT_MS));
	CU_ASSERT_EQUAL(g_st.requests, 0);
	talloc_free(tc1);
	talloc_free(tc2);
}

/* ------------------------------------------------------------------ TLS */

static const char *cert_dir(void)
{
	static char dir[512];
	char cmd[1200];

	snprintf(dir, sizeof(dir), "%s/tests/common/http-server-certs", SGP02_BUILDDIR);
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/common/mkcerts.sh' '%s'", SGP02_SRCDIR, dir);
	if (system(cmd) != 0)
		return NULL;
	return dir;
}

static char *cert_path(const char *dir, const char *name)
{
	return talloc_asprintf(g_test_ctx, "%s/%s", dir, name);
}

static void test_tls_mutual(void)
{
	const char *dir = cert_dir();
	struct http_server_cfg cfg = test_cfg();
	struct http_server *srv;
	struct tls_ctx *stls, *ctls, *rogue;
	struct tclient *tc;
	unsigned int i;

	CU_ASSERT_FATAL(dir != NULL);
	stls = tls_server_ctx_new(g_test_ctx, cert_path(dir, "server.pem"), cert_path(dir, "server.key"),
				  cert_path(dir, "ca.pem"));
	ctls = tls_client_ctx_new(g_test_ctx, cert_path(dir, "ca.pem"), cert_path(dir, "client.pem"),
				  cert_path(dir, "client.key"));
	rogue = tls_client_ctx_new(g_test_ctx, cert_path(dir, "ca.pem"), cert_path(dir, "rogue.pem"),
				   cert_path(dir, "rogue.key"));
	CU_ASSERT_FATAL(stls && ctls && rogue);
	cfg.tls = stls;
	srv = start_srv(&cfg);

	tc = tc_connect_tls(http_server_port(srv), ctls);
	tc_sends(tc, "GET /identity HTTP/1.1\r\nHost: localhost\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 1, 3000));
	CU_ASSERT_EQUAL(tc->resp[0].status, 200);
	CU_ASSERT_STRING_EQUAL(tc->resp[0].body, "operator1");
	/* keep-alive, chunked both ways over TLS */
	for (i = 0; i < 20; i++)
		tc_sends(tc, "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
			 "3\r\nabc\r\n0\r\n\r\n");
	tc_sends(tc, "GET /chunked HTTP/1.1\r\nHost: localhost\r\n\r\n");
	CU_ASSERT(wait_resp(tc, 22, 3000));
	CU_ASSERT_EQUAL(tc->n_resp, 22);
	if (tc->n_resp == 22) {
		CU_ASSERT_STRING_EQUAL(tc->resp[20].body, "abc");
		CU_ASSERT_STRING_EQUAL(tc->resp[21].body, "one,two,three");
	}
	CU_ASSERT(!g_st.other_conn);
	talloc_free(tc);

	/* a certificate from another CA never reaches the handler */
	g_st.requests = 0;
	tc = tc_connect_tls(http_server_port(srv), rogue);
	tc_sends(tc, "GET /identity HTTP/1.1\r\nHost: localhost\r\n\r\n");
	CU_ASSERT(wait_eof(tc, 3000));
	CU_ASSERT_EQUAL(tc->n_resp, 0);
	CU_ASSERT_EQUAL(g_st.requests, 0);
	talloc_free(tc);

	/* an async request over TLS whose client disappears */
	tc = tc_connect_tls(http_server_port(srv), ctls);
	tc_sends(tc, "GET /hold HTTP/1.1\r\nHost: localhost\r\n\r\n");
	{
		unsigned int want = 1;

		CU_ASSERT(wait_requests(1));
		talloc_free(tc);
		CU_ASSERT(run_until(cond_aborted, &want, WAIT_MS));
	}
	http_server_stop(srv);
}

/* The counters of the newest server (a test stopped by a failed CU_ASSERT_FATAL leaves its
 * server alive, with its counters). */
static uint64_t srv_ctr(const char *name)
{
	struct rate_ctr_group *newest = NULL;
	const struct rate_ctr *c;
	unsigned int idx;

	for (idx = 0; idx < 2000; idx++) {
		struct rate_ctr_group *g = rate_ctr_get_group_by_name_idx("http_server", idx);

		if (g)
			newest = g;
	}
	if (!newest)
		return UINT64_MAX;
	c = rate_ctr_get_by_name(newest, name);
	return c ? c->current : UINT64_MAX;
}

static void test_counters(void)
{
	struct http_server_cfg cfg = short_cfg();
	struct http_server *srv;
	struct tclient *tc;
	const struct tresp *r;

	cfg.header_timeout_ms = 300;
	srv = start_srv(&cfg);
	r = one_shot(srv, &tc, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(r && r->status == 200);
	talloc_free(tc);
	r = one_shot(srv, &tc, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n\r\n");
	CU_ASSERT(r && r->status == 413);
	talloc_free(tc);
	r = one_shot(srv, &tc, "GET /echo HTTP/1.1\r\nHost: x\r\nX: y\r\n");
	CU_ASSERT(r && r->status == 408);
	talloc_free(tc);
	r = one_shot(srv, &tc, "GET /echo HTTP/1.1\r\nBad\r\n\r\n");
	CU_ASSERT(r && r->status == 400);
	talloc_free(tc);

	CU_ASSERT_EQUAL(srv_ctr("http:conns"), 4);
	CU_ASSERT_EQUAL(srv_ctr("http:requests"), 1);
	CU_ASSERT_EQUAL(srv_ctr("http:resp_2xx"), 1);
	CU_ASSERT_EQUAL(srv_ctr("http:resp_4xx"), 3);
	CU_ASSERT_EQUAL(srv_ctr("http:body_too_big"), 1);
	CU_ASSERT_EQUAL(srv_ctr("http:header_timeout"), 1);
	CU_ASSERT_EQUAL(srv_ctr("http:bad_request"), 1);
	CU_ASSERT_EQUAL(srv_ctr("http:header_too_big"), 0);
	http_server_stop(srv);
}

/* A client that pipelines far more than we buffer while a handler is busy: reading stops (the
 * kernel holds the rest) and everything is answered in order once the handler is done. */
static void test_pipeline_backpressure(void)
{
	struct http_server_cfg cfg = test_cfg();
	struct http_server *srv;
	struct tclient *tc;
	char *one, *all;
	unsigned int i, n = 300;

	cfg.header_timeout_ms = 2000;
	cfg.body_timeout_ms = 2000;
	cfg.idle_timeout_ms = 2000;
	srv = start_srv(&cfg);
	tc = tc_connect(http_server_port(srv));
	one = talloc_asprintf(g_test_ctx, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n%01000d", 5);
	all = talloc_strdup(g_test_ctx, "GET /async HTTP/1.1\r\nHost: x\r\n\r\n");
	for (i = 0; i < n; i++)
		all = talloc_strdup_append_buffer(all, one);
	tc_sends(tc, all);
	CU_ASSERT(wait_resp(tc, n + 1, 5000));
	CU_ASSERT_EQUAL(tc->n_resp, n + 1);
	CU_ASSERT_STRING_EQUAL(tc->resp[0].body, "late");
	CU_ASSERT_EQUAL(tc->resp[n].status, 200);
	CU_ASSERT_EQUAL(tc->resp[n].body_len, 1000);
	CU_ASSERT(!tc->eof);
	CU_ASSERT(!g_st.other_conn);
	http_server_stop(srv);
	talloc_free(tc);
}

/* A client that pipelines requests with big answers and does not read them for a while: the
 * server stops taking requests while its write queue is high instead of overflowing it. */
static void test_write_backpressure(void)
{
	struct http_server_cfg cfg = test_cfg();
	struct http_server *srv;
	struct tclient *tc;
	char *all = talloc_strdup(g_test_ctx, "");
	unsigned int i, n = 12;

	cfg.header_timeout_ms = 20000;
	cfg.idle_timeout_ms = 20000;
	srv = start_srv(&cfg);
	/* a small receive window, so that the kernel buffers do not take it all */
	tc = tc_connect_rcvbuf(http_server_port(srv), 32 * 1024);
	for (i = 0; i < n; i++)
		all = talloc_strdup_append_buffer(all, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
	osmo_fd_read_disable(&tc->ofd);
	tc_sends(tc, all);
	run_for(300);
	/* 12 x 200 kB would be over the 1 MiB write queue bound: the server held requests back
	 * (deterministic: the first two answers are queued in one read, before any is sent) */
	CU_ASSERT(srv_ctr("http:write_blocked") >= 1);
	osmo_fd_read_enable(&tc->ofd);
	CU_ASSERT(wait_resp(tc, n, 30000));
	CU_ASSERT_EQUAL(tc->n_resp, n);
	for (i = 0; i < tc->n_resp; i++)
		CU_ASSERT_EQUAL(tc->resp[i].body_len, BIG_LEN);
	CU_ASSERT(!tc->eof);
	http_server_stop(srv);
	talloc_free(tc);
}

/* Answers bigger than conn's default write queue bound (1 MiB), whole and streamed. */
static void test_huge_answer(void)
{
	struct http_server_cfg cfg = test_cfg();
	struct http_server *srv;
	struct tclient *tc;
	size_t i;
	bool ok = true;

	cfg.idle_timeout_ms = 20000;
	srv = start_srv(&cfg);
	tc = tc_connect(http_server_port(srv));
	tc_sends(tc, "GET /huge HTTP/1.1\r\nHost: x\r\n\r\nGET /huge?chunked HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 2, 6 * WAIT_MS));
	CU_ASSERT_EQUAL(tc->resp[0].body_len, HUGE_LEN);
	CU_ASSERT_EQUAL(tc->resp[1].body_len, HUGE_LEN);
	CU_ASSERT(has_header(&tc->resp[1], "Transfer-Encoding: chunked"));
	for (i = 0; i < HUGE_LEN && ok; i++)
		ok = tc->resp[0].body[i] == 'a' + i % 26 && tc->resp[1].body[i] == 'a' + i % 26;
	CU_ASSERT(ok);
	CU_ASSERT(!tc->eof);
	http_server_stop(srv);
	talloc_free(tc);
}

static int psk_lookup(const char *identity, uint8_t *key, size_t key_max, void *data)
{
	static const uint8_t k[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

	if (strcmp(identity, "eUICC-0001") || key_max < sizeof(k))
		return -ENOENT;
	memcpy(key, k, sizeof(k));
	return sizeof(k);
}

static void test_tls_psk(void)
{
	static const uint8_t k[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	static const uint8_t wrong[16] = { 0 };
	struct http_server_cfg cfg = test_cfg();
	struct http_server *srv;
	struct tls_ctx *stls, *ctls, *bad;
	struct tclient *tc;

	stls = tls_psk_server_ctx_new(g_test_ctx, psk_lookup, NULL);
	ctls = tls_psk_client_ctx_new(g_test_ctx, "eUICC-0001", k, sizeof(k));
	bad = tls_psk_client_ctx_new(g_test_ctx, "eUICC-0001", wrong, sizeof(wrong));
	CU_ASSERT_FATAL(stls && ctls && bad);
	cfg.tls = stls;
	srv = start_srv(&cfg);

	/* SCP81 style: the card POSTs, the answer is held until there is something to send */
	tc = tc_connect_tls(http_server_port(srv), ctls);
	tc_sends(tc, "POST /identity HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
	tc_sends(tc, "POST /async HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT_FATAL(wait_resp(tc, 2, 3000));
	CU_ASSERT_STRING_EQUAL(tc->resp[0].body, "eUICC-0001");
	CU_ASSERT_STRING_EQUAL(tc->resp[1].body, "late");
	talloc_free(tc);

	g_st.requests = 0;
	tc = tc_connect_tls(http_server_port(srv), bad);
	tc_sends(tc, "POST /identity HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
	CU_ASSERT(wait_eof(tc, 3000));
	CU_ASSERT_EQUAL(tc->n_resp, 0);
	CU_ASSERT_EQUAL(g_st.requests, 0);
	talloc_free(tc);
	http_server_stop(srv);
}

/* ------------------------------------------------------------------ misc */

static void test_status_text(void)
{
	CU_ASSERT_STRING_EQUAL(http_status_text(200), "OK");
	CU_ASSERT_STRING_EQUAL(http_status_text(404), "Not Found");
	CU_ASSERT_STRING_EQUAL(http_status_text(431), "Request Header Fields Too Large");
	CU_ASSERT_STRING_EQUAL(http_status_text(505), "HTTP Version Not Supported");
	CU_ASSERT_STRING_EQUAL(http_status_text(299), "Success");
	CU_ASSERT_STRING_EQUAL(http_status_text(599), "Server Error");
}

static void test_header_lookup(void)
{
	struct http_header h[] = { { "Content-Type", "text/xml" }, { "X-A", "1" }, { "x-a", "2" } };
	struct http_request req = { .headers = h, .num_headers = 3 };

	CU_ASSERT_STRING_EQUAL(http_req_header(&req, "content-type"), "text/xml");
	CU_ASSERT_STRING_EQUAL(http_req_header(&req, "X-A"), "1");
	CU_ASSERT_PTR_NULL(http_req_header(&req, "X-B"));
	CU_ASSERT_PTR_NULL(http_req_header(NULL, "X-B"));
}

static void *g_log_ctx;

static int suite_init(void)
{
	g_log_ctx = talloc_named_const(NULL, 0, "http_server_test logging");
	osmo_init_logging2(g_log_ctx, &sgp02_log_info);
	log_set_print_category(osmo_stderr_target, 1);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	log_set_log_level(osmo_stderr_target, LOGL_ERROR);
	if (getenv("HTTP_TEST_DEBUG"))
		log_set_log_level(osmo_stderr_target, LOGL_DEBUG);
	return 0;
}

static int suite_cleanup(void)
{
	log_fini();
	talloc_free(g_log_ctx);
	return 0;
}

static const struct test_case cases[] = {
	TEST_CASE(test_status_text),
	TEST_CASE(test_header_lookup),
	TEST_CASE(test_get_post),
	TEST_CASE(test_methods_and_forms),
	TEST_CASE(test_start_errors_and_free),
	TEST_CASE(test_handler_bad_answer),
	TEST_CASE(test_keepalive_100),
	TEST_CASE(test_pipelined),
	TEST_CASE(test_split_reads),
	TEST_CASE(test_chunked_request),
	TEST_CASE(test_chunked_response),
	TEST_CASE(test_http10),
	TEST_CASE(test_expect_100),
	TEST_CASE(test_header_too_big),
	TEST_CASE(test_body_too_big),
	TEST_CASE(test_slow_header),
	TEST_CASE(test_slow_body),
	TEST_CASE(test_idle_close),
	TEST_CASE(test_max_conns),
	TEST_CASE(test_malformed),
	TEST_CASE(test_mutations),
	TEST_CASE(test_async),
	TEST_CASE(test_async_abort),
	TEST_CASE(test_stop_with_conns),
	TEST_CASE(test_tls_mutual),
	TEST_CASE(test_counters),
	TEST_CASE(test_pipeline_backpressure),
	TEST_CASE(test_write_backpressure),
	TEST_CASE(test_huge_answer),
	TEST_CASE(test_tls_psk),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "http_server", suite_init, suite_cleanup, cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
