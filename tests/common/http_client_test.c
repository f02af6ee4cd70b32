/* Tests of the HTTP client (http_client.c) against in-process servers on the same event loop.
 *
 * Mostly our own http_server (plain, and mutual TLS with the PKI of tests/common/mkcerts.sh), scripted:
 * request n gets the n-th entry of a list of answers (a status, or no answer at all); it records when
 * each request arrived (retry backoff) and from which client port (keep-alive reuse).
 * A tiny raw-socket server covers what http_server never does: closing without an answer, announcing
 * or streaming an oversized body; it also counts accept()ed connections directly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <talloc.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/application.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/conn.h>
#include <sgp02/common/http_server.h>
#include <sgp02/common/http_client.h>

#include "testlib.h"

static int suite_init(void);

/* ------------------------------------------------------------------ event loop helpers */

static bool g_deadline_hit;
static struct osmo_timer_list g_deadline;

static void deadline_cb(void *data)
{
	(void)data;
	g_deadline_hit = true;
}

/* Run the loop until *count >= want or \a ms pass. \returns true if the count was reached. */
static bool run_until(const unsigned int *count, unsigned int want, unsigned long ms)
{
	g_deadline_hit = false;
	osmo_timer_setup(&g_deadline, deadline_cb, NULL);
	osmo_timer_schedule(&g_deadline, ms / 1000, (ms % 1000) * 1000);
	while (*count < want && !g_deadline_hit)
		osmo_select_main_ctx(0);
	osmo_timer_del(&g_deadline);
	return *count >= want;
}

/* Let the loop run for \a ms whatever happens. */
static void run_for(unsigned long ms)
{
	unsigned int never = 0;

	run_until(&never, 1, ms);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ raw scripted server (faults) */

/* For what http_server never does: close without an answer, announce or stream an oversized body;
 * and it counts accept()ed connections directly. */

enum tsrv_action {
	TS_ANSWER,	/* status + echo of the request body */
	TS_HOLD,	/* never answer */
	TS_CLOSE,	/* close the connection without an answer */
	TS_BIG_CL,	/* announce a Content-Length above the client's bound */
	TS_BIG_CHUNKED,	/* stream a chunked body above the client's bound */
	TS_CHUNKED,	/* (http_server only) the echo as a chunked response in three pieces */
};

struct tsrv_step {
	enum tsrv_action action;
	int status;
};

#define TS_MAX_REQS 32

struct tsrv {
	struct osmo_fd lfd;
	uint16_t port;
	struct llist_head conns;
	unsigned int accepted;
	unsigned int requests;
	/* answer of request n is steps[min(n, num_steps - 1)] */
	const struct tsrv_step *steps;
	unsigned int num_steps;
	double req_time[TS_MAX_REQS];
	char *last_body;
	size_t last_body_len;
	char *last_ct;
	char *last_xtest;
	char *last_path;
};

struct tconn {
	struct llist_head list;
	struct tsrv *srv;
	struct osmo_fd ofd;
	char *in;
	size_t in_len;
	/* output queue */
	uint8_t *out;
	size_t out_len, out_off;
	/* bytes of an endless chunked body still to generate */
	size_t big_left;
};

static void tconn_free(struct tconn *tc)
{
	osmo_fd_unregister(&tc->ofd);
	close(tc->ofd.fd);
	llist_del(&tc->list);
	talloc_free(tc);
}

static void tconn_queue(struct tconn *tc, const void *buf, size_t len)
{
	if (tc->out_off == tc->out_len) {
		tc->out_off = tc->out_len = 0;
	}
	tc->out = talloc_realloc_size(tc, tc->out, tc->out_len + len);
	memcpy(tc->out + tc->out_len, buf, len);
	tc->out_len += len;
	osmo_fd_write_enable(&tc->ofd);
}

/* Find header \a name in the header block \a hdrs (NUL-terminated); \returns talloc copy or NULL. */
static char *hdr_get(void *ctx, const char *hdrs, const char *name)
{
	const char *p = hdrs;
	size_t nl = strlen(name);

	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1, *e;

			while (*v == ' ')
				v++;
			e = strstr(v, "\r\n");
			return talloc_strndup(ctx, v, e ? (size_t)(e - v) : strlen(v));
		}
	}
	return NULL;
}

static void tconn_answer(struct tconn *tc, const struct tsrv_step *st, const char *body, size_t len)
{
	char head[256];
	int n;

	switch (st->action) {
	case TS_HOLD:
	case TS_CLOSE:		/* done by the caller, which must not touch tc afterwards */
		break;
	case TS_CHUNKED:
		CU_FAIL("step not supported by the raw server");
		break;
	case TS_BIG_CL:
		n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			     "Content-Length: %u\r\n\r\n", 17u * 1024 * 1024);
		tconn_queue(tc, head, n);
		break;
	case TS_BIG_CHUNKED:
		n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			     "Transfer-Encoding: chunked\r\n\r\n");
		tconn_queue(tc, head, n);
		tc->big_left = 17u * 1024 * 1024;
		break;
	case TS_ANSWER:
		n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: application/test+echo\r\n"
			     "Content-Length: %zu\r\n\r\n", st->status, len);
		tconn_queue(tc, head, n);
		if (len)
			tconn_queue(tc, body, len);
		break;
	}
}

/* \returns false if the connection was freed */
static bool tconn_parse(struct tconn *tc)
{
	struct tsrv *srv = tc->srv;

	for (;;) {
		char *end, *cl, *hdrs;
		size_t hlen, blen;
		const struct tsrv_step *st;
		static const struct tsrv_step dflt = { TS_ANSWER, 200 };

		if (!tc->in_len)
			return true;
		tc->in[tc->in_len] = '\0';
		end = strstr(tc->in, "\r\n\r\n");
		if (!end)
			return true;
		hlen = end + 4 - tc->in;
		hdrs = talloc_strndup(tc, tc->in, hlen);
		cl = hdr_get(tc, hdrs, "Content-Length");
		blen = cl ? strtoul(cl, NULL, 10) : 0;
		talloc_free(cl);
		if (tc->in_len < hlen + blen) {
			talloc_free(hdrs);
			return true;
		}

		if (srv->requests < TS_MAX_REQS)
			srv->req_time[srv->requests] = now_ms();
		st = srv->num_steps ? &srv->steps[srv->requests < srv->num_steps ? srv->requests
						   : srv->num_steps - 1] : &dflt;
		srv->requests++;
		talloc_free(srv->last_body);
		talloc_free(srv->last_ct);
		talloc_free(srv->last_xtest);
		talloc_free(srv->last_path);
		srv->last_body = talloc_memdup(srv, tc->in + hlen, blen + 1);
		srv->last_body_len = blen;
		srv->last_ct = hdr_get(srv, hdrs, "Content-Type");
		srv->last_xtest = hdr_get(srv, hdrs, "X-Test");
		srv->last_path = talloc_strndup(srv, hdrs, strcspn(hdrs, "\r"));
		talloc_free(hdrs);

		{
			/* copy the body out: the input buffer moves on */
			char *body = talloc_memdup(tc, tc->in + hlen, blen + 1);

			memmove(tc->in, tc->in + hlen + blen, tc->in_len - hlen - blen);
			tc->in_len -= hlen + blen;
			if (st->action == TS_CLOSE) {
				talloc_free(body);
				tconn_free(tc);
				return false;
			}
			tconn_answer(tc, st, body, blen);
			talloc_free(body);
		}
	}
}

static int tconn_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct tconn *tc = ofd->data;

	if (what & OSMO_FD_READ) {
		ssize_t rc;

		if (tc->in_len >= 64 * 1024) {
			tconn_free(tc);
			return 0;
		}
		tc->in = talloc_realloc_size(tc, tc->in, 64 * 1024 + 1);
		rc = read(ofd->fd, tc->in + tc->in_len, 64 * 1024 - tc->in_len);
		if (rc <= 0) {
			tconn_free(tc);
			return 0;
		}
		tc->in_len += rc;
		if (!tconn_parse(tc))
			return 0;
	}
	if (what & OSMO_FD_WRITE) {
		/* generate more of an endless chunked body when the queue is empty */
		if (tc->out_off == tc->out_len && tc->big_left) {
			static char chunk[(1 << 20) + 16];
			size_t n = 1 << 20, hl;

			hl = snprintf(chunk, 16, "%zx\r\n", n);
			memset(chunk + hl, 'x', n);
			memcpy(chunk + hl + n, "\r\n", 2);
			tconn_queue(tc, chunk, hl + n + 2);
			tc->big_left = tc->big_left > n ? tc->big_left - n : 0;
			if (!tc->big_left)
				tconn_queue(tc, "0\r\n\r\n", 5);
		}
		if (tc->out_off < tc->out_len) {
			ssize_t rc = write(ofd->fd, tc->out + tc->out_off, tc->out_len - tc->out_off);

			if (rc < 0 && errno != EAGAIN) {
				tconn_free(tc);
				return 0;
			}
			if (rc > 0)
				tc->out_off += rc;
		}
		if (tc->out_off == tc->out_len && !tc->big_left)
			osmo_fd_write_disable(ofd);
	}
	return 0;
}

static int tsrv_accept_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct tsrv *srv = ofd->data;
	struct tconn *tc;
	int fd;

	(void)what;
	fd = accept(ofd->fd, NULL, NULL);
	if (fd < 0)
		return 0;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	srv->accepted++;
	tc = talloc_zero(srv, struct tconn);
	tc->srv = srv;
	osmo_fd_setup(&tc->ofd, fd, OSMO_FD_READ, tconn_cb, tc, 0);
	OSMO_ASSERT(osmo_fd_register(&tc->ofd) == 0);
	llist_add_tail(&tc->list, &srv->conns);
	return 0;
}

static int tsrv_destructor(struct tsrv *srv)
{
	struct tconn *tc, *tc2;

	llist_for_each_entry_safe(tc, tc2, &srv->conns, list)
		tconn_free(tc);
	osmo_fd_unregister(&srv->lfd);
	close(srv->lfd.fd);
	return 0;
}

static struct tsrv *tsrv_start(const struct tsrv_step *steps, unsigned int num_steps)
{
	struct tsrv *srv = talloc_zero(g_test_ctx, struct tsrv);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	int fd, one = 1;

	INIT_LLIST_HEAD(&srv->conns);
	srv->steps = steps;
	srv->num_steps = num_steps;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	OSMO_ASSERT(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	OSMO_ASSERT(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	OSMO_ASSERT(listen(fd, 16) == 0);
	OSMO_ASSERT(getsockname(fd, (struct sockaddr *)&sin, &sl) == 0);
	srv->port = ntohs(sin.sin_port);
	osmo_fd_setup(&srv->lfd, fd, OSMO_FD_READ, tsrv_accept_cb, srv, 0);
	OSMO_ASSERT(osmo_fd_register(&srv->lfd) == 0);
	talloc_set_destructor(srv, tsrv_destructor);
	return srv;
}

static char *tsrv_url(struct tsrv *srv, const char *path)
{
	return talloc_asprintf(g_test_ctx, "http://127.0.0.1:%u%s", srv->port, path);
}

/* A port with nobody listening: bind, read the port, close. */
static uint16_t free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	OSMO_ASSERT(fd >= 0);
	OSMO_ASSERT(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	OSMO_ASSERT(getsockname(fd, (struct sockaddr *)&sin, &sl) == 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* ------------------------------------------------------------------ our HTTP server (http_server.h), scripted */

/* What the server side saw, and how it answers: request n gets steps[min(n, num_steps - 1)]
 * (TS_ANSWER: that status with the request body echoed; TS_HOLD: no answer), 200 without steps. */
struct srv_state {
	const struct tsrv_step *steps;
	unsigned int num_steps;
	unsigned int requests;
	double req_time[TS_MAX_REQS];
	char *peers[TS_MAX_REQS];	/* "ip:port" of the connection of each request */
	char *identity;			/* verified client identity of the last request */
	char *ct;
	char *xtest;
	char *path;
	char *query;
	uint8_t *body;
	size_t body_len;
};

static char *dup_or_null(const char *s)
{
	return s ? talloc_strdup(g_test_ctx, s) : NULL;
}

static void srv_handler(struct http_request *req, void *data)
{
	static const struct tsrv_step dflt = { TS_ANSWER, 200 };
	struct srv_state *st = data;
	const struct tsrv_step *step = &dflt;

	if (st->num_steps)
		step = &st->steps[st->requests < st->num_steps ? st->requests : st->num_steps - 1];
	if (st->requests < TS_MAX_REQS) {
		st->req_time[st->requests] = now_ms();
		st->peers[st->requests] = talloc_strdup(g_test_ctx, conn_peer_name(req->conn));
	}
	st->requests++;
	talloc_free(st->identity);
	talloc_free(st->ct);
	talloc_free(st->xtest);
	talloc_free(st->path);
	talloc_free(st->query);
	talloc_free(st->body);
	st->identity = dup_or_null(conn_peer_identity(req->conn));
	st->ct = dup_or_null(http_req_header(req, "Content-Type"));
	st->xtest = dup_or_null(http_req_header(req, "X-Test"));
	st->path = dup_or_null(req->path);
	st->query = dup_or_null(req->query);
	st->body = talloc_memdup(g_test_ctx, req->body, req->body_len + 1);
	st->body_len = req->body_len;

	switch (step->action) {
	case TS_HOLD:
		break;	/* freed by the server when the connection goes */
	case TS_ANSWER:
		http_respond(req, step->status, "application/soap+xml; charset=utf-8", NULL, 0, req->body,
			     req->body_len);
		break;
	case TS_CHUNKED: {
		size_t third = req->body_len / 3;

		http_respond_start(req, step->status, "application/soap+xml; charset=utf-8", NULL, 0);
		http_respond_chunk(req, req->body, third);
		http_respond_chunk(req, req->body + third, third);
		http_respond_chunk(req, req->body + 2 * third, req->body_len - 2 * third);
		http_respond_end(req);
		break;
	}
	default:
		CU_FAIL("step not supported by http_server");
		http_respond(req, 500, "text/plain", NULL, 0, NULL, 0);
		break;
	}
}

/* Number of distinct client connections (source ports) among the recorded requests. */
static unsigned int srv_distinct_peers(const struct srv_state *st)
{
	unsigned int i, j, n = 0;

	for (i = 0; i < st->requests && i < TS_MAX_REQS; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(st->peers[i], st->peers[j]))
				break;
		if (j == i)
			n++;
	}
	return n;
}

static struct http_server *srv_start(struct tls_ctx *tls, struct srv_state *st)
{
	struct http_server_cfg cfg = { .addr = "127.0.0.1", .port = 0, .tls = tls };
	struct http_server *srv = http_server_start(g_test_ctx, &cfg, srv_handler, st);

	CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
	CU_ASSERT_FATAL(http_server_port(srv) != 0);
	return srv;
}

static char *srv_url(struct http_server *srv, const char *path)
{
	return talloc_asprintf(g_test_ctx, "http://127.0.0.1:%u%s", http_server_port(srv), path);
}

/* ------------------------------------------------------------------ client results */

struct result {
	unsigned int calls;
	int status;
	char *ct;
	uint8_t *body;
	size_t len;
	double at;
};

static void result_cb(int status, const char *content_type, const uint8_t *body, size_t len, void *data)
{
	struct result *r = data;

	r->calls++;
	r->status = status;
	r->at = now_ms();
	talloc_free(r->ct);
	talloc_free(r->body);
	r->ct = content_type ? talloc_strdup(g_test_ctx, content_type) : NULL;
	r->body = body ? talloc_memdup(g_test_ctx, body, len + 1) : NULL;
	r->len = len;
}

static struct http_client *plain_client(void)
{
	struct http_client_cfg cfg = { .timeout_ms = 2000, .connect_timeout_ms = 1000 };
	struct http_client *hc = http_client_alloc(g_test_ctx, &cfg);

	CU_ASSERT_PTR_NOT_NULL_FATAL(hc);
	return hc;
}

/* ------------------------------------------------------------------ tests */

static void test_post_roundtrip(void)
{
	static const uint8_t body[] = "<env:Envelope>\0binary\xff</env:Envelope>";
	const struct http_header hdrs[] = { { "X-Test", "hello world" } };
	struct srv_state st = {};
	struct http_server *srv = srv_start(NULL, &st);
	struct http_client *hc = plain_client();
	struct result r = {};
	int rc;

	rc = http_client_post(hc, srv_url(srv, "/ES4?x=1"), "application/soap+xml; charset=utf-8", hdrs, 1,
			      body, sizeof(body) - 1, NULL, result_cb, &r);
	CU_ASSERT_EQUAL(rc, 0);
	/* never called back from inside http_client_post() */
	CU_ASSERT_EQUAL(r.calls, 0);
	CU_ASSERT_EQUAL(http_client_pending(hc), 1);
	CU_ASSERT(run_until(&r.calls, 1, 3000));
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.ct ? r.ct : "", "application/soap+xml; charset=utf-8");
	CU_ASSERT_EQUAL(r.len, sizeof(body) - 1);
	CU_ASSERT(r.body && !memcmp(r.body, body, sizeof(body) - 1));
	CU_ASSERT_EQUAL(http_client_pending(hc), 0);
	/* what the server saw */
	CU_ASSERT_EQUAL(st.requests, 1);
	CU_ASSERT_STRING_EQUAL(st.ct ? st.ct : "", "application/soap+xml; charset=utf-8");
	CU_ASSERT_STRING_EQUAL(st.xtest ? st.xtest : "", "hello world");
	CU_ASSERT_STRING_EQUAL(st.path ? st.path : "", "/ES4");
	CU_ASSERT_STRING_EQUAL(st.query ? st.query : "", "x=1");
	CU_ASSERT_EQUAL(st.body_len, sizeof(body) - 1);
	CU_ASSERT(st.body && !memcmp(st.body, body, sizeof(body) - 1));

	/* an empty body is fine, too */
	rc = http_client_post(hc, srv_url(srv, "/"), "text/plain", NULL, 0, NULL, 0, NULL, result_cb, &r);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(run_until(&r.calls, 2, 3000));
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.len, 0);
	CU_ASSERT_EQUAL(st.body_len, 0);

	http_client_free(hc);
	CU_ASSERT_EQUAL(r.calls, 2);
	http_server_stop(srv);
}

static void test_big_body_chunked_answer(void)
{
	/* 600 KiB up (no "Expect: 100-continue" pause), echoed back chunked */
	static const struct tsrv_step chunked[] = { { TS_CHUNKED, 200 } };
	struct srv_state st = { .steps = chunked, .num_steps = 1 };
	struct http_server *srv = srv_start(NULL, &st);
	struct http_client *hc = plain_client();
	struct result r = {};
	size_t len = 600 * 1024, i;
	uint8_t *body = talloc_size(g_test_ctx, len);
	double t0 = now_ms();

	for (i = 0; i < len; i++)
		body[i] = (uint8_t)(i * 7 + (i >> 9));
	CU_ASSERT_EQUAL(http_client_post(hc, srv_url(srv, "/big"), "application/octet-stream", NULL, 0, body, len,
					 NULL, result_cb, &r), 0);
	CU_ASSERT(run_until(&r.calls, 1, 5000));
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(st.body_len, len);
	CU_ASSERT(st.body && !memcmp(st.body, body, len));
	CU_ASSERT_EQUAL(r.len, len);
	CU_ASSERT(r.body && !memcmp(r.body, body, len));
	/* well below the 1 s that a 100-continue wait would cost */
	CU_ASSERT(r.at - t0 < 900);
	http_client_free(hc);
	http_server_stop(srv);
}

struct chain {
	struct http_client *hc;
	const char *url;
	unsigned int done;
	unsigned int want;
	int status[8];
};

static void chain_cb(int status, const char *content_type, const uint8_t *body, size_t len, void *data)
{
	struct chain *c = data;

	(void)content_type;
	(void)body;
	(void)len;
	c->status[c->done++] = status;
	/* the next request from inside the callback: must reuse the kept-alive connection */
	if (c->done < c->want)
		CU_ASSERT_EQUAL(http_client_post(c->hc, c->url, "text/plain", NULL, 0, (const uint8_t *)"x", 1, NULL,
						 chain_cb, c), 0);
}

static void test_keepalive_reuse(void)
{
	struct tsrv *srv = tsrv_start(NULL, 0);
	struct chain c = { .hc = plain_client(), .want = 5 };
	unsigned int i;

	c.url = tsrv_url(srv, "/ES2");
	CU_ASSERT_EQUAL(http_client_post(c.hc, c.url, "text/plain", NULL, 0, (const uint8_t *)"x", 1, NULL,
					 chain_cb, &c), 0);
	CU_ASSERT(run_until(&c.done, 5, 5000));
	for (i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(c.status[i], 200);
	CU_ASSERT_EQUAL(srv->requests, 5);
	CU_ASSERT_EQUAL(srv->accepted, 1);
	http_client_free(c.hc);
	talloc_free(srv);
}

static void test_parallel_conn_limit(void)
{
	/* five at once with max_conns_per_host = 2: never more than two connections */
	struct http_client_cfg cfg = { .timeout_ms = 2000, .max_conns_per_host = 2 };
	struct http_client *hc = http_client_alloc(g_test_ctx, &cfg);
	struct tsrv *srv = tsrv_start(NULL, 0);
	struct result r = {};
	unsigned int i;

	for (i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(http_client_post(hc, tsrv_url(srv, "/"), "text/plain", NULL, 0, NULL, 0, NULL,
						 result_cb, &r), 0);
	CU_ASSERT_EQUAL(http_client_pending(hc), 5);
	CU_ASSERT(run_until(&r.calls, 5, 5000));
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(srv->requests, 5);
	CU_ASSERT(srv->accepted >= 1 && srv->accepted <= 2);
	http_client_free(hc);
	talloc_free(srv);
}

static unsigned int g_many_done;

static void many_cb(int status, const char *content_type, const uint8_t *body, size_t len, void *data)
{
	g_many_done++;
	result_cb(status, content_type, body, len, data);
}

static void test_many_concurrent(void)
{
	/* 200 requests at once on a client limited to 4 connections per host: all answered, few connections */
	struct http_client_cfg cfg = { .timeout_ms = 10000, .max_conns_per_host = 4 };
	struct http_client *hc = http_client_alloc(g_test_ctx, &cfg);
	struct tsrv *srv = tsrv_start(NULL, 0);
	struct result r[200] = {};
	unsigned int i, done = 0, ok = 0;

	for (i = 0; i < 200; i++) {
		char body[16];
		int n = snprintf(body, sizeof(body), "req%u", i);

		CU_ASSERT_EQUAL(http_client_post(hc, tsrv_url(srv, "/"), "text/plain", NULL, 0, (uint8_t *)body, n,
						 NULL, many_cb, &r[i]), 0);
	}
	CU_ASSERT_EQUAL(http_client_pending(hc), 200);
	g_many_done = 0;
	CU_ASSERT(run_until(&g_many_done, 200, 10000));
	CU_ASSERT_EQUAL(http_client_pending(hc), 0);
	for (i = 0; i < 200; i++) {
		char body[16];
		int n = snprintf(body, sizeof(body), "req%u", i);

		done += r[i].calls;
		ok += r[i].status == 200 && r[i].len == (size_t)n && !memcmp(r[i].body, body, n);
	}
	CU_ASSERT_EQUAL(done, 200);
	CU_ASSERT_EQUAL(ok, 200);
	CU_ASSERT(srv->accepted >= 1 && srv->accepted <= 4);
	http_client_free(hc);
	talloc_free(srv);
}

static void test_timeout(void)
{
	static const struct tsrv_step hold[] = { { TS_HOLD, 0 } };
	struct srv_state st = { .steps = hold, .num_steps = 1 };
	struct http_server *srv = srv_start(NULL, &st);
	struct http_client *hc = plain_client();
	struct http_client_req_opts opts = { .timeout_ms = 150 };
	struct result r = {};
	double t0 = now_ms();

	CU_ASSERT_EQUAL(http_client_post(hc, srv_url(srv, "/"), "text/plain", NULL, 0, NULL, 0, &opts,
					 result_cb, &r), 0);
	CU_ASSERT(run_until(&r.calls, 1, 3000));
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(r.status, -ETIMEDOUT);
	CU_ASSERT(r.at - t0 >= 140);
	CU_ASSERT(r.at - t0 < 1500);
	CU_ASSERT_EQUAL(st.requests, 1);
	http_client_free(hc);
	CU_ASSERT_EQUAL(r.calls, 1);
	http_server_stop(srv);
}

static void test_refused(void)
{
	struct http_client *hc = plain_client();
	struct result r = {};
	char *url = talloc_asprintf(g_test_ctx, "http://127.0.0.1:%u/", free_port());

	CU_ASSERT_EQUAL(http_client_post(hc, url, "text/plain", NULL, 0, NULL, 0, NULL, result_cb, &r), 0);
	CU_ASSERT_EQUAL(r.calls, 0);
	CU_ASSERT(run_until(&r.calls, 1, 3000));
	CU_ASSERT_EQUAL(r.status, -ECONNREFUSED);
	http_client_free(hc);
	CU_ASSERT_EQUAL(r.calls, 1);
}

static int find_hc_group(struct rate_ctr_group *grp, void *data)
{
	struct rate_ctr_group **found = data;

	if (!strcmp(grp->desc->group_name_prefix, "http_client"))
		*found = grp;
	return 0;
}

/* Value of counter \a idx (in the order of http_client.c's table) of the only live client. */
static uint64_t hc_ctr(unsigned int idx)
{
	struct rate_ctr_group *grp = NULL;

	rate_ctr_for_each_group(find_hc_group, &grp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(grp);
	return rate_ctr_group_get_ctr(grp, idx)->current;
}

static void test_retry_then_success(void)
{
	static const struct tsrv_step steps[] = { { TS_ANSWER, 503 }, { TS_ANSWER, 503 }, { TS_ANSWER, 200 } };
	struct srv_state st = { .steps = steps, .num_steps = 3 };
	struct http_server *srv = srv_start(NULL, &st);
	struct http_client *hc = plain_client();
	struct http_client_req_opts opts = { .flags = HTTP_CLIENT_RETRY, .max_retries = 5, .backoff_ms = 60 };
	struct result r = {};
	double d1, d2;

	CU_ASSERT_EQUAL(http_client_post(hc, srv_url(srv, "/notify"), "text/plain", NULL, 0,
					 (const uint8_t *)"n", 1, &opts, result_cb, &r), 0);
	CU_ASSERT(run_until(&r.calls, 1, 5000));
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(st.requests, 3);
	/* waiting for a retry counts as pending; done now */
	CU_ASSERT_EQUAL(http_client_pending(hc), 0);
	/* backoff: 60 ms, then 120 ms (lower bounds are strict, upper bounds generous) */
	d1 = st.req_time[1] - st.req_time[0];
	d2 = st.req_time[2] - st.req_time[1];
	CU_ASSERT(d1 >= 59 && d1 < 1000);
	CU_ASSERT(d2 >= 119 && d2 < 1500);
	CU_ASSERT(d2 > d1);
	/* counters: requests, answers:ok, answers:4xx, answers:5xx, ..., retries (index 8) */
	CU_ASSERT_EQUAL(hc_ctr(0), 1);
	CU_ASSERT_EQUAL(hc_ctr(1), 1);
	CU_ASSERT_EQUAL(hc_ctr(2), 0);
	CU_ASSERT_EQUAL(hc_ctr(3), 2);
	CU_ASSERT_EQUAL(hc_ctr(8), 2);
	http_client_free(hc);
	http_server_stop(srv);
}

static void test_retry_exhausted(void)
{
	static const struct tsrv_step steps[] = { { TS_ANSWER, 502 } };
	struct srv_state st = { .steps = steps, .num_steps = 1 };
	struct http_server *srv = srv_start(NULL, &st);
	struct http_client *hc = plain_client();
	struct http_client_req_opts opts = { .flags = HTTP_CLIENT_RETRY, .max_retries = 2, .backoff_ms = 20 };
	struct result r = {};

	CU_ASSERT_EQUAL(http_client_post(hc, srv_url(srv, "/"), "text/plain", NULL, 0, NULL, 0, &opts,
					 result_cb, &r), 0);
	CU_ASSERT(run_until(&r.calls, 1, 5000));
	/* the final answer is handed over as it is */
	CU_ASSERT_EQUAL(r.status, 502);
	CU_ASSERT_EQUAL(st.requests, 3);
	/* and nothing more happens afterwards */
	run_for(150);
	CU_ASSERT_EQUAL(st.requests, 3);
	CU_ASSERT_EQUAL(r.calls, 1);
	http_client_free(hc);
	http_server_stop(srv);
}

static void test_4xx_not_retried(void)
{
	static const struct tsrv_step steps[] = { { TS_ANSWER, 404 }, { TS_ANSWER, 200 } };
	struct srv_state st = { .steps = steps, .num_steps = 2 };
	struct http_server *srv = srv_start(NULL, &st);
	struct http_client *hc = plain_client();
	struct http_client_req_opts opts = { .flags = HTTP_CLIENT_RETRY, .max_retries = 3, .backoff_ms = 10 };
	struct result r = {};

	CU_ASSERT_EQUAL(http_client_post(hc, srv_url(srv, "/"), "text/plain", NULL, 0, NULL, 0, &opts,
					 result_cb, &r), 0);
	CU_ASSERT(run_until(&r.calls, 1, 3000));
	CU_ASSERT_EQUAL(r.status, 404);
	run_for(100);
	CU_ASSERT_EQUAL(st.requests, 1);
	CU_ASSERT_EQUAL(r.calls, 1);
	http_client_free(hc);
	http_server_stop(srv);
}

static void test_no_retry_without_flag(void)
{
	static const struct tsrv_step steps[] = { { TS_ANSWER, 503 }, { TS_ANSWER, 200 } };
	struct srv_state st = { .steps = steps, .num_steps = 2 };
	struct http_server *srv = srv_start(NULL, &st);
	struct http_client *hc = plain_client();
	struct result r = {};

	CU_ASSERT_EQUAL(http_client_post(hc, srv_url(srv, "/"), "text/plain", NULL, 0, NULL, 0, NULL,
					 result_cb, &r), 0);
	CU_ASSERT(run_until(&r.calls, 1, 3000));
	CU_ASSERT_EQUAL(r.status, 503);
	CU_ASSERT_EQUAL(st.requests, 1);
	http_client_free(hc);
	http_server_stop(srv);
}

static void test_retry_no_answer(void)
{
	/* the connection drops without an answer twice, then the server answers */
	static const struct tsrv_step steps[] = { { TS_CLOSE, 0 }, { TS_CLOSE, 0 }, { TS_ANSWER, 201 } };
	struct tsrv *srv = tsrv_start(steps, 3);
	struct http_client *hc = plain_client();
	struct http_client_req_opts opts = { .flags = HTTP_CLIENT_RETRY, .max_retries = 3, .backoff_ms = 20 };
	struct result r = {};

	CU_ASSERT_EQUAL(http_client_post(hc, tsrv_url(srv, "/"), "text/plain", NULL, 0, NULL, 0, &opts,
					 result_cb, &r), 0);
	CU_ASSERT(run_until(&r.calls, 1, 5000));
	CU_ASSERT_EQUAL(r.status, 201);
	CU_ASSERT_EQUAL(srv->requests, 3);
	http_client_free(hc);
	talloc_free(srv);
}

static void test_retry_refused(void)
{
	/* nobody listening: every attempt is refused; 1 + 2 attempts, 30 + 60 ms of backoff */
	struct http_client *hc = plain_client();
	struct http_client_req_opts opts = { .flags = HTTP_CLIENT_RETRY, .max_retries = 2, .backoff_ms = 30 };
	struct result r = {};
	char *url = talloc_asprintf(g_test_ctx, "http://127.0.0.1:%u/", free_port());
	double t0 = now_ms();

	CU_ASSERT_EQUAL(http_client_post(hc, url, "text/plain", NULL, 0, NULL, 0, &opts, result_cb, &r), 0);
	CU_ASSERT(run_until(&r.calls, 1, 5000));
	CU_ASSERT_EQUAL(r.status, -ECONNREFUSED);
	CU_ASSERT(r.at - t0 >= 89);
	http_client_free(hc);
	CU_ASSERT_EQUAL(r.calls, 1);
}

static void test_free_pending(void)
{
	static const struct tsrv_step steps[] = { { TS_HOLD, 0 } };
	static const struct tsrv_step steps503[] = { { TS_ANSWER, 503 } };
	struct srv_state st = { .steps = steps, .num_steps = 1 };
	struct http_server *srv = srv_start(NULL, &st);
	struct srv_state st2 = { .steps = steps503, .num_steps = 1 };
	struct http_server *srv2 = srv_start(NULL, &st2);
	struct http_client *hc = plain_client();
	struct http_client_req_opts opts = { .flags = HTTP_CLIENT_RETRY, .max_retries = 5, .backoff_ms = 10000 };
	struct result held = {}, waiting = {}, queued = {};

	/* one in flight (held by the server), one waiting 10 s for its retry, one never started */
	CU_ASSERT_EQUAL(http_client_post(hc, srv_url(srv, "/"), "text/plain", NULL, 0, NULL, 0, NULL,
					 result_cb, &held), 0);
	CU_ASSERT_EQUAL(http_client_post(hc, srv_url(srv2, "/"), "text/plain", NULL, 0, NULL, 0, &opts,
					 result_cb, &waiting), 0);
	CU_ASSERT(run_until(&st2.requests, 1, 3000));
	CU_ASSERT(run_until(&st.requests, 1, 3000));
	run_for(50);
	CU_ASSERT_EQUAL(http_client_post(hc, srv_url(srv, "/"), "text/plain", NULL, 0, NULL, 0, NULL,
					 result_cb, &queued), 0);
	CU_ASSERT_EQUAL(http_client_pending(hc), 3);
	CU_ASSERT_EQUAL(held.calls + waiting.calls + queued.calls, 0);

	http_client_free(hc);
	CU_ASSERT_EQUAL(held.calls, 1);
	CU_ASSERT_EQUAL(held.status, -ECANCELED);
	CU_ASSERT_EQUAL(waiting.calls, 1);
	CU_ASSERT_EQUAL(waiting.status, -ECANCELED);
	CU_ASSERT_EQUAL(queued.calls, 1);
	CU_ASSERT_EQUAL(queued.status, -ECANCELED);
	/* nothing left behind on the loop */
	run_for(50);
	CU_ASSERT_EQUAL(held.calls + waiting.calls + queued.calls, 3);
	http_server_stop(srv);
	http_server_stop(srv2);
}

static void test_free_with_parent(void)
{
	/* freeing the parent context is the same as http_client_free() */
	static const struct tsrv_step steps[] = { { TS_HOLD, 0 } };
	struct srv_state st = { .steps = steps, .num_steps = 1 };
	struct http_server *srv = srv_start(NULL, &st);
	void *parent = talloc_named_const(g_test_ctx, 0, "parent");
	struct http_client *hc = http_client_alloc(parent, NULL);
	struct result r = {};

	CU_ASSERT_PTR_NOT_NULL_FATAL(hc);
	CU_ASSERT_EQUAL(http_client_post(hc, srv_url(srv, "/"), "text/plain", NULL, 0, NULL, 0, NULL,
					 result_cb, &r), 0);
	CU_ASSERT(run_until(&st.requests, 1, 3000));
	talloc_free(parent);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(r.status, -ECANCELED);
	http_server_stop(srv);
}

struct freeing_cb {
	struct http_client *hc;
	unsigned int calls;
	int status;
	struct result *other;
	int post_rc;
};

static void free_from_cb(int status, const char *content_type, const uint8_t *body, size_t len, void *data)
{
	struct freeing_cb *f = data;

	(void)content_type;
	f->calls++;
	f->status = status;
	http_client_free(f->hc);
	/* the answer stays readable until the callback returns */
	if (len)
		CU_ASSERT_EQUAL(body[len - 1], 'y');
}

static void post_from_cancel_cb(int status, const char *content_type, const uint8_t *body, size_t len, void *data)
{
	struct freeing_cb *f = data;

	(void)content_type;
	(void)body;
	(void)len;
	f->calls++;
	f->status = status;
	/* a client being freed takes no new requests */
	f->post_rc = http_client_post(f->hc, "http://127.0.0.1:1/", "text/plain", NULL, 0, NULL, 0, NULL,
				      result_cb, f->other);
}

static void test_free_from_callback(void)
{
	static const struct tsrv_step steps[] = { { TS_ANSWER, 200 }, { TS_HOLD, 0 } };
	struct srv_state st = { .steps = steps, .num_steps = 2 };
	struct http_server *srv = srv_start(NULL, &st);
	struct http_client *hc = plain_client();
	struct result never = {};
	struct freeing_cb f = { .hc = hc }, g = { .hc = hc, .other = &never };

	/* the first answer frees the client; the second request is held and gets -ECANCELED, and its
	 * callback's attempt to post again is refused */
	CU_ASSERT_EQUAL(http_client_post(hc, srv_url(srv, "/a"), "text/plain", NULL, 0, (const uint8_t *)"xy", 2,
					 NULL, free_from_cb, &f), 0);
	CU_ASSERT_FATAL(run_until(&st.requests, 1, 3000) && f.calls == 0);
	CU_ASSERT_EQUAL(http_client_post(hc, srv_url(srv, "/b"), "text/plain", NULL, 0, NULL, 0, NULL,
					 post_from_cancel_cb, &g), 0);
	CU_ASSERT(run_until(&f.calls, 1, 3000));
	CU_ASSERT_EQUAL(f.status, 200);
	CU_ASSERT_EQUAL(g.calls, 1);
	CU_ASSERT_EQUAL(g.status, -ECANCELED);
	CU_ASSERT(g.post_rc < 0);
	run_for(50);
	CU_ASSERT_EQUAL(f.calls, 1);
	CU_ASSERT_EQUAL(g.calls, 1);
	CU_ASSERT_EQUAL(never.calls, 0);
	http_server_stop(srv);
}

static void test_body_too_big(void)
{
	static const struct tsrv_step cl[] = { { TS_BIG_CL, 0 } };
	static const struct tsrv_step chunked[] = { { TS_BIG_CHUNKED, 0 } };
	struct tsrv *srv = tsrv_start(cl, 1);
	struct tsrv *srv2 = tsrv_start(chunked, 1);
	struct http_client *hc = plain_client();
	struct http_client_req_opts opts = { .flags = HTTP_CLIENT_RETRY, .max_retries = 2, .backoff_ms = 10 };
	struct result r = {}, r2 = {};

	/* announced too big: refused before reading; not retried (the answer would be the same) */
	CU_ASSERT_EQUAL(http_client_post(hc, tsrv_url(srv, "/"), "text/plain", NULL, 0, NULL, 0, &opts,
					 result_cb, &r), 0);
	/* streamed without a length: stopped at the bound */
	CU_ASSERT_EQUAL(http_client_post(hc, tsrv_url(srv2, "/"), "text/plain", NULL, 0, NULL, 0, NULL,
					 result_cb, &r2), 0);
	CU_ASSERT(run_until(&r.calls, 1, 5000));
	CU_ASSERT(run_until(&r2.calls, 1, 10000));
	CU_ASSERT_EQUAL(r.status, -EMSGSIZE);
	CU_ASSERT_EQUAL(r2.status, -EMSGSIZE);
	CU_ASSERT_EQUAL(srv->requests, 1);
	http_client_free(hc);
	talloc_free(srv);
	talloc_free(srv2);
}

static void test_bad_args(void)
{
	struct http_client *hc = plain_client();
	struct result r = {};
	const struct http_header inject[] = { { "X-A", "v\r\nX-Evil: 1" } };
	const struct http_header badname[] = { { "X A", "v" } };

	CU_ASSERT_EQUAL(http_client_post(hc, "ftp://127.0.0.1/", "text/plain", NULL, 0, NULL, 0, NULL,
					 result_cb, &r), -EINVAL);
	CU_ASSERT_EQUAL(http_client_post(hc, "not a url", "text/plain", NULL, 0, NULL, 0, NULL, result_cb, &r),
			-EINVAL);
	CU_ASSERT_EQUAL(http_client_post(hc, "http://127.0.0.1:1/", "text/plain", inject, 1, NULL, 0, NULL,
					 result_cb, &r), -EINVAL);
	CU_ASSERT_EQUAL(http_client_post(hc, "http://127.0.0.1:1/", "text/plain", badname, 1, NULL, 0, NULL,
					 result_cb, &r), -EINVAL);
	CU_ASSERT_EQUAL(http_client_post(hc, "http://127.0.0.1:1/", "text/\nplain", NULL, 0, NULL, 0, NULL,
					 result_cb, &r), -EINVAL);
	CU_ASSERT_EQUAL(http_client_post(hc, "http://127.0.0.1:1/", "text/plain", NULL, 0, NULL, 5, NULL,
					 result_cb, &r), -EINVAL);
	CU_ASSERT_EQUAL(http_client_post(hc, "http://127.0.0.1:1/", "text/plain", NULL, 0, NULL, 0, NULL,
					 NULL, &r), -EINVAL);
	CU_ASSERT_EQUAL(http_client_pending(hc), 0);
	run_for(20);
	CU_ASSERT_EQUAL(r.calls, 0);
	http_client_free(hc);
	CU_ASSERT_EQUAL(r.calls, 0);
}

static void test_server_plain_reuse(void)
{
	struct srv_state st = {};
	struct http_server *srv = srv_start(NULL, &st);
	struct chain c = { .hc = plain_client(), .want = 5 };
	unsigned int i;

	c.url = talloc_asprintf(g_test_ctx, "http://127.0.0.1:%u/ES3", http_server_port(srv));
	CU_ASSERT_EQUAL(http_client_post(c.hc, c.url, "text/plain", NULL, 0, (const uint8_t *)"x", 1, NULL,
					 chain_cb, &c), 0);
	CU_ASSERT(run_until(&c.done, 5, 5000));
	for (i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(c.status[i], 200);
	CU_ASSERT_EQUAL(st.requests, 5);
	CU_ASSERT_EQUAL(srv_distinct_peers(&st), 1);
	CU_ASSERT_PTR_NULL(st.identity);
	http_client_free(c.hc);
	http_server_stop(srv);
}

/* Test PKI from tests/common/mkcerts.sh, made once per run in a folder of our own. */
static char g_certs[512];

static const char *cert(const char *name)
{
	return talloc_asprintf(g_test_ctx, "%s/%s", g_certs, name);
}

static int tls_suite_init(void)
{
	const char *src = getenv("SGP02_SRCDIR") ? getenv("SGP02_SRCDIR") : SGP02_SRCDIR;
	const char *build = getenv("SGP02_BUILDDIR") ? getenv("SGP02_BUILDDIR") : SGP02_BUILDDIR;
	char cmd[1200];

	suite_init();
	snprintf(g_certs, sizeof(g_certs), "%s/tests/common/certs-httpc", build);
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/common/mkcerts.sh' '%s'", src, g_certs);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot create the test PKI: %s\n", cmd);
		return 1;
	}
	return 0;
}

static struct http_server *tls_srv_start(struct srv_state *st)
{
	struct tls_ctx *tls = tls_server_ctx_new(g_test_ctx, cert("server.pem"), cert("server.key"), cert("ca.pem"));

	CU_ASSERT_PTR_NOT_NULL_FATAL(tls);
	return srv_start(tls, st);
}

static struct http_client *tls_client(const char *ca, const char *crt, const char *key)
{
	struct http_client_cfg cfg = {
		.ca_file = ca ? cert(ca) : NULL,
		.cert_file = crt ? cert(crt) : NULL,
		.key_file = key ? cert(key) : NULL,
		.timeout_ms = 3000,
		.connect_timeout_ms = 2000,
	};
	struct http_client *hc = http_client_alloc(g_test_ctx, &cfg);

	CU_ASSERT_PTR_NOT_NULL_FATAL(hc);
	return hc;
}

static char *tls_url(struct http_server *srv, const char *path)
{
	return talloc_asprintf(g_test_ctx, "https://127.0.0.1:%u%s", http_server_port(srv), path);
}

static void test_mtls_roundtrip_reuse(void)
{
	struct srv_state st = {};
	struct http_server *srv = tls_srv_start(&st);
	struct chain c = { .hc = tls_client("ca.pem", "client.pem", "client.key"), .want = 5 };
	struct result r = {};
	unsigned int i;

	CU_ASSERT_EQUAL(http_client_post(c.hc, tls_url(srv, "/ES2"), "application/soap+xml; charset=utf-8", NULL, 0,
					 (const uint8_t *)"<a/>", 4, NULL, result_cb, &r), 0);
	CU_ASSERT(run_until(&r.calls, 1, 5000));
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.ct ? r.ct : "", "application/soap+xml; charset=utf-8");
	CU_ASSERT(r.len == 4 && r.body && !memcmp(r.body, "<a/>", 4));
	/* the server verified our certificate */
	CU_ASSERT_STRING_EQUAL(st.identity ? st.identity : "", "operator1");
	CU_ASSERT_STRING_EQUAL(st.ct ? st.ct : "", "application/soap+xml; charset=utf-8");

	/* five more, each posted from the previous one's callback: one TLS connection for all six */
	c.url = tls_url(srv, "/ES2");
	CU_ASSERT_EQUAL(http_client_post(c.hc, c.url, "text/plain", NULL, 0, (const uint8_t *)"x", 1, NULL,
					 chain_cb, &c), 0);
	CU_ASSERT(run_until(&c.done, 5, 5000));
	for (i = 0; i < 5; i++)
		CU_ASSERT_EQUAL(c.status[i], 200);
	CU_ASSERT_EQUAL(st.requests, 6);
	CU_ASSERT_EQUAL(srv_distinct_peers(&st), 1);
	http_client_free(c.hc);
	http_server_stop(srv);
}

/* One request that must fail the TLS handshake (or the first read after it, with TLS 1.3). */
static void tls_expect_fail(const char *ca, const char *crt, const char *key)
{
	struct srv_state st = {};
	struct http_server *srv = tls_srv_start(&st);
	struct http_client *hc = tls_client(ca, crt, key);
	struct result r = {};

	CU_ASSERT_EQUAL(http_client_post(hc, tls_url(srv, "/ES2"), "text/plain", NULL, 0, NULL, 0, NULL,
					 result_cb, &r), 0);
	CU_ASSERT(run_until(&r.calls, 1, 5000));
	CU_ASSERT_EQUAL(r.calls, 1);
	if (r.status != -EPROTO)
		fprintf(stderr, "expected -EPROTO, got %d\n", r.status);
	CU_ASSERT_EQUAL(r.status, -EPROTO);
	/* the handler never saw a request */
	CU_ASSERT_EQUAL(st.requests, 0);
	http_client_free(hc);
	http_server_stop(srv);
}

static void test_mtls_no_client_cert(void)
{
	tls_expect_fail("ca.pem", NULL, NULL);
}

static void test_mtls_rogue_client_cert(void)
{
	tls_expect_fail("ca.pem", "rogue.pem", "rogue.key");
}

static void test_tls_wrong_ca(void)
{
	/* the server's certificate does not verify against the CA we trust */
	tls_expect_fail("rogue-ca.pem", "client.pem", "client.key");
}

static void test_tls_hostname(void)
{
	/* verification by name: "localhost" is in the server certificate's subjectAltName */
	struct srv_state st = {};
	struct http_server *srv = tls_srv_start(&st);
	struct http_client *hc = tls_client("ca.pem", "client.pem", "client.key");
	struct result r = {};
	char *url = talloc_asprintf(g_test_ctx, "https://localhost:%u/ES4", http_server_port(srv));

	CU_ASSERT_EQUAL(http_client_post(hc, url, "text/plain", NULL, 0, NULL, 0, NULL, result_cb, &r), 0);
	CU_ASSERT(run_until(&r.calls, 1, 5000));
	CU_ASSERT_EQUAL(r.status, 200);
	http_client_free(hc);
	http_server_stop(srv);
}

static void test_tls_no_verify(void)
{
	/* no CA configured (tests only): the server is not verified, our certificate still counts */
	struct srv_state st = {};
	struct http_server *srv = tls_srv_start(&st);
	struct http_client *hc = tls_client(NULL, "client.pem", "client.key");
	struct result r = {};

	CU_ASSERT_EQUAL(http_client_post(hc, tls_url(srv, "/"), "text/plain", NULL, 0, NULL, 0, NULL,
					 result_cb, &r), 0);
	CU_ASSERT(run_until(&r.calls, 1, 5000));
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(st.identity ? st.identity : "", "operator1");
	http_client_free(hc);
	http_server_stop(srv);
}

static void test_tls_timeout_and_cancel(void)
{
	/* the server holds the request: a short per-request timeout fires; a second one is cancelled */
	static const struct tsrv_step hold[] = { { TS_HOLD, 0 } };
	struct srv_state st = { .steps = hold, .num_steps = 1 };
	struct http_server *srv = tls_srv_start(&st);
	struct http_client *hc = tls_client("ca.pem", "client.pem", "client.key");
	struct http_client_req_opts opts = { .timeout_ms = 300 };
	struct result r = {}, r2 = {};

	CU_ASSERT_EQUAL(http_client_post(hc, tls_url(srv, "/"), "text/plain", NULL, 0, NULL, 0, &opts,
					 result_cb, &r), 0);
	CU_ASSERT(run_until(&r.calls, 1, 5000));
	CU_ASSERT_EQUAL(r.status, -ETIMEDOUT);
	CU_ASSERT_EQUAL(st.requests, 1);
	CU_ASSERT_EQUAL(http_client_post(hc, tls_url(srv, "/"), "text/plain", NULL, 0, NULL, 0, NULL,
					 result_cb, &r2), 0);
	CU_ASSERT(run_until(&st.requests, 2, 5000));
	http_client_free(hc);
	CU_ASSERT_EQUAL(r2.calls, 1);
	CU_ASSERT_EQUAL(r2.status, -ECANCELED);
	/* let the server notice the closed connections before it stops */
	run_for(50);
	http_server_stop(srv);
}

/* ------------------------------------------------------------------ suites */

static int suite_init(void)
{
	static void *log_ctx;

	if (!log_ctx) {
		log_ctx = talloc_named_const(NULL, 0, "http_client_test_log");
		osmo_init_logging2(log_ctx, &sgp02_log_info);
		log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
		log_set_use_color(osmo_stderr_target, 0);
		log_set_category_filter(osmo_stderr_target, DHTTP, 1, LOGL_NOTICE);
	}
	return 0;
}

static const struct test_case plain_cases[] = {
	TEST_CASE(test_post_roundtrip),
	TEST_CASE(test_big_body_chunked_answer),
	TEST_CASE(test_keepalive_reuse),
	TEST_CASE(test_parallel_conn_limit),
	TEST_CASE(test_many_concurrent),
	TEST_CASE(test_timeout),
	TEST_CASE(test_refused),
	TEST_CASE(test_retry_then_success),
	TEST_CASE(test_retry_exhausted),
	TEST_CASE(test_4xx_not_retried),
	TEST_CASE(test_no_retry_without_flag),
	TEST_CASE(test_retry_no_answer),
	TEST_CASE(test_retry_refused),
	TEST_CASE(test_free_pending),
	TEST_CASE(test_free_with_parent),
	TEST_CASE(test_free_from_callback),
	TEST_CASE(test_body_too_big),
	TEST_CASE(test_bad_args),
	TEST_END
};

static const struct test_case server_cases[] = {
	TEST_CASE(test_server_plain_reuse),
	TEST_CASE(test_mtls_roundtrip_reuse),
	TEST_CASE(test_mtls_no_client_cert),
	TEST_CASE(test_mtls_rogue_client_cert),
	TEST_CASE(test_tls_wrong_ca),
	TEST_CASE(test_tls_hostname),
	TEST_CASE(test_tls_no_verify),
	TEST_CASE(test_tls_timeout_and_cancel),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "http_client", suite_init, NULL, plain_cases },
	{ "http_client_server", tls_suite_init, NULL, server_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
