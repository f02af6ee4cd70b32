/* End-to-end SOAP over HTTP on 127.0.0.1 (src/ws/ws_http.c with the common HTTP server and client): a
 * synchronous exchange, an asynchronous one whose callback reaches a callback server with the right RelatesTo,
 * a one-way notification, ?wsdl, Faults with their HTTP status, and a requester that goes away. */
#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <talloc.h>
#include <libxml/parser.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>

#include <sgp02/common/conn.h>
#include <sgp02/common/http_client.h>
#include <sgp02/common/http_server.h>
#include <sgp02/common/logging.h>
#include <sgp02/ws/soap.h>
#include <sgp02/ws/ws_catalog.h>
#include <sgp02/ws/ws_client.h>
#include <sgp02/ws/ws_http.h>
#include <sgp02/ws/ws_store.h>

#include "testlib.h"

#define CT_SOAP "application/soap+xml; charset=utf-8"

static void *g_ctx;
static struct ws_schema *g_schema;

/* ------------------------------------------------------------------ loop */

static bool g_deadline_hit;
static struct osmo_timer_list g_deadline;

static void deadline_cb(void *data)
{
	g_deadline_hit = true;
}

/* Run the loop until *count >= want, at most \a ms. */
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

/* ------------------------------------------------------------------ fixture: SM-SR with ES4 + callback server */

struct world {
	struct http_server *srv;	/* the SOAP endpoints */
	struct http_server *cb_srv;	/* the requester's callback endpoint */
	struct http_client *hc;		/* used by ws_http for callbacks and by the test as requester */
	struct ws_http *wh;
	struct ws_service *es4, *es3dp;
	uint16_t port, cb_port;
	/* callback server */
	unsigned int cb_fail;		/* answer 503 to that many callbacks first */
	unsigned int cb_count;
	char *cb_body;
	char *cb_ct;
	/* client answers */
	unsigned int answers;
	int status;
	char *body;
	size_t body_len;
	char *ct;
	/* handlers */
	bool hold_sync;
	bool eis_ok;		/* GetEIS answers EXECUTED_SUCCESS instead of FAILED */
	unsigned int handled;
	char *peer_identity;
	char *sender;
	char *rel_mid, *rel_sender, *rel_reply_to;	/* what a daemon would persist */
	struct ws_request *held;
};

static struct world *g_w;

static void cb_server_handler(struct http_request *req, void *data)
{
	struct world *w = data;
	const char *ct = http_req_header(req, "Content-Type");

	talloc_free(w->cb_body);
	w->cb_body = talloc_strndup(w, (const char *)req->body, req->body_len);
	w->cb_ct = ct ? talloc_strdup(w, ct) : NULL;
	w->cb_count++;
	if (w->cb_fail) {
		w->cb_fail--;
		http_respond(req, 503, NULL, NULL, 0, NULL, 0);
		return;
	}
	/* digest §6.2: the callback receiver answers 202 Accepted */
	http_respond(req, 202, NULL, NULL, 0, NULL, 0);
}

static void client_cb(int status, const char *content_type, const uint8_t *body, size_t len, void *data)
{
	struct world *w = data;

	w->status = status;
	talloc_free(w->body);
	w->body = body ? talloc_strndup(w, (const char *)body, len) : NULL;
	w->body_len = len;
	w->ct = content_type ? talloc_strdup(w, content_type) : NULL;
	w->answers++;
}

static int h_get_eis(struct ws_request *req, void *data)
{
	struct world *w = data;
	struct ws_status st = { .kind = WS_STATUS_FAILED, .subject = "8.1.1", .reason = "3.9",
				.message = "Unknown EID" };

	w->handled++;
	talloc_free(w->peer_identity);
	talloc_free(w->sender);
	w->peer_identity = req->peer_identity ? talloc_strdup(w, req->peer_identity) : NULL;
	w->sender = talloc_strdup(w, req->sender);
	if (w->hold_sync) {
		w->held = req;
		return 0;
	}
	if (w->eis_ok)
		st = (struct ws_status) { .kind = WS_STATUS_SUCCESS };
	return ws_request_finish_status(req, &st);
}

static int h_hold(struct ws_request *req, void *data)
{
	struct world *w = data;

	w->handled++;
	w->held = req;
	return 0;
}

/* ES4-AuditEIS: persisted and released, answered "after a restart" */
static int h_release(struct ws_request *req, void *data)
{
	struct world *w = data;

	w->handled++;
	w->rel_mid = talloc_strdup(w, req->message_id);
	w->rel_sender = talloc_strdup(w, req->sender);
	w->rel_reply_to = talloc_strdup(w, req->reply_to);
	return ws_request_release(req);
}

static int h_notif(struct ws_request *req, void *data)
{
	struct world *w = data;

	w->handled++;
	return ws_request_finish(req);
}

/* Test PKI of tests/common/mkcerts.sh (CA, server CN=localhost, client CN=operator1), made once. */
static const char *cert(const char *name)
{
	static char dir[512];

	if (!dir[0]) {
		char cmd[1200];

		snprintf(dir, sizeof(dir), "%s/tests/ws/certs", SGP02_BUILDDIR);
		snprintf(cmd, sizeof(cmd), "sh '%s/tests/common/mkcerts.sh' '%s'", SGP02_SRCDIR, dir);
		if (system(cmd) != 0) {
			dir[0] = '\0';
			return NULL;
		}
	}
	return talloc_asprintf(g_test_ctx, "%s/%s", dir, name);
}

static void world_setup_tls(bool tls)
{
	struct world *w = talloc_zero(g_test_ctx, struct world);
	struct http_server_cfg scfg = { .addr = "127.0.0.1" };
	struct http_client_cfg ccfg = { .timeout_ms = 5000, .connect_timeout_ms = 2000 };

	if (tls) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(cert("ca.pem"));
		/* mutual TLS, as on the ES interfaces (ARCHITECTURE: Security) */
		scfg.tls = tls_server_ctx_new(w, cert("server.pem"), cert("server.key"), cert("ca.pem"));
		CU_ASSERT_PTR_NOT_NULL_FATAL(scfg.tls);
		ccfg.ca_file = cert("ca.pem");
		ccfg.cert_file = cert("client.pem");
		ccfg.key_file = cert("client.key");
	}
	struct ws_service_cfg es4 = {
		.name = "ES4SmSrService", .path = "/ES4", .entity_id = "1.3.6.1.4.1.99999.20",
		.own_address = "http://127.0.0.1/ES4?EntityId=1.3.6.1.4.1.99999.20&EntityName=SM-SR",
		.wsdl_file = "ES4_SMSR.wsdl",
	};
	struct ws_service_cfg es3 = {
		.name = "ES3SmDpService", .path = "/ES3", .entity_id = "1.3.6.1.4.1.99999.10",
	};
	struct ws_http_cfg wcfg = { .cb_max_retries = 2, .cb_backoff_ms = 50 };

	g_w = w;
	w->hc = http_client_alloc(w, &ccfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->hc);
	wcfg.client = w->hc;
	wcfg.wsdl_dir = talloc_asprintf(w, "%s/spec/gsma-esim-messaging-3", test_shared_dir());
	wcfg.public_base_url = "https://smsr.example.com:8443";
	w->wh = ws_http_alloc(w, &wcfg);
	w->es4 = ws_service_alloc(w, &es4, g_schema, ws_ops_ES4SmSrService);
	w->es3dp = ws_service_alloc(w, &es3, g_schema, ws_ops_ES3SmDpService);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->es4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->es3dp);
	CU_ASSERT_EQUAL(ws_http_add_service(w->wh, w->es4), 0);
	CU_ASSERT_EQUAL(ws_http_add_service(w->wh, w->es3dp), 0);
	CU_ASSERT_EQUAL(ws_http_add_service(w->wh, w->es4), -EEXIST);
	ws_service_set_handler(w->es4, "ES4-GetEIS", h_get_eis, w);
	ws_service_set_handler(w->es4, "ES4-EnableProfile", h_hold, w);
	ws_service_set_handler(w->es4, "ES4-UpdatePolicyRules", h_hold, w);
	ws_service_set_handler(w->es4, "ES4-AuditEIS", h_release, w);
	ws_service_set_handler(w->es3dp, "ES3-HandleProfileEnabledNotification", h_notif, w);

	/* a second endpoint path serving our own WSDL (wsdl/) with the address placeholder replaced */
	{
		struct ws_service_cfg own = { .name = "ES4SmSrService-own", .path = "/ES4own",
					      .wsdl_file = talloc_asprintf(w, "%s/wsdl/ES4_SMSR.wsdl", SGP02_SRCDIR) };

		CU_ASSERT_EQUAL(ws_http_add_service(w->wh, ws_service_alloc(w, &own, g_schema,
									   ws_ops_ES4SmSrService)), 0);
	}
	w->srv = http_server_start(w, &scfg, ws_http_handler, w->wh);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->srv);
	w->port = http_server_port(w->srv);
	w->cb_srv = http_server_start(w, &scfg, cb_server_handler, w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(w->cb_srv);
	w->cb_port = http_server_port(w->cb_srv);
}

static void world_setup(void)
{
	world_setup_tls(false);
}

static void world_teardown(void)
{
	struct world *w = g_w;
	unsigned int i, never = 0;

	/* let callbacks in flight complete (bounded), then free in dependency order */
	for (i = 0; i < 50 && ws_http_callbacks_pending(w->wh); i++)
		run_until(&never, 1, 20);
	http_client_free(w->hc);
	http_server_stop(w->srv);
	http_server_stop(w->cb_srv);
	talloc_free(w);
	g_w = NULL;
}

static bool g_https;

static char *url(const char *path)
{
	return talloc_asprintf(g_test_ctx, "%s://127.0.0.1:%u%s", g_https ? "https" : "http", g_w->port, path);
}

static void post(const char *path, const char *ct, const char *body)
{
	g_w->answers = 0;
	CU_ASSERT_EQUAL(http_client_post(g_w->hc, url(path), ct, NULL, 0, (const uint8_t *)body, strlen(body),
					 NULL, client_cb, g_w), 0);
	CU_ASSERT_TRUE(run_until(&g_w->answers, 1, 5000));
}

static char *fixture(const char *name)
{
	char *p = talloc_asprintf(g_test_ctx, "%s/tests/ws/data/%s", SGP02_SRCDIR, name);
	char *b = (char *)test_read_file(p, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	return b;
}

static const struct ws_op *find_op(const struct ws_op *t, const char *name)
{
	for (; t->name; t++)
		if (!strcmp(t->name, name))
			return t;
	CU_FAIL("no such operation");
	return NULL;
}

static bool contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

static void assert_valid(const char *xml)
{
	char *err = NULL;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(xml);
	rc = ws_schema_validate_envelope(g_schema, g_test_ctx, (const uint8_t *)xml, strlen(xml), &err);
	if (rc)
		fprintf(stderr, "not valid: %s\n%s\n", err, xml);
	CU_ASSERT_EQUAL(rc, 0);
}

/* Replace the first occurrence of \a from by \a to. */
static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return talloc_asprintf(g_test_ctx, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
}

/* ------------------------------------------------------------------ tests */

static void test_sync_over_http(void)
{
	world_setup();
	post("/ES4", CT_SOAP, fixture("es4_get_eis.xml"));
	CU_ASSERT_EQUAL(g_w->status, 200);
	CU_ASSERT_EQUAL(g_w->handled, 1);
	CU_ASSERT(contains(g_w->ct, "application/soap+xml"));
	assert_valid(g_w->body);
	CU_ASSERT(contains(g_w->body, "<rps:Status>FAILED</rps:Status>"));
	CU_ASSERT(contains(g_w->body, "<rps:Subject>8.1.1</rps:Subject><rps:Reason>3.9</rps:Reason>"));
	CU_ASSERT(contains(g_w->body, ">//1.3.6.1.4.1.99999.1/urn:uuid:3b9a6e60-0001-4000-8000-000000000001"
			   "</wsa:RelatesTo>"));

	/* a Fault: 400 with the SOAP Fault body; wrong media type: 415 */
	post("/ES4", CT_SOAP, "<oops>");
	CU_ASSERT_EQUAL(g_w->status, 400);
	CU_ASSERT(contains(g_w->body, "<env:Value>env:Sender</env:Value>"));
	post("/ES4", "text/xml", fixture("es4_get_eis.xml"));
	CU_ASSERT_EQUAL(g_w->status, 415);
	CU_ASSERT(contains(g_w->body, "<env:Fault>"));
	/* an operation without a handler: 500 Receiver "not implemented" (asynchronous: no 202 before it) */
	{
		char *x = fixture("es4_enable_profile.xml");

		x = replace(x, "ES4-EnableProfile<", "ES4-DisableProfile<");
		x = replace(x, "ES4-EnableProfileRequest>", "ES4-DisableProfileRequest>");
		x = replace(x, "ES4-EnableProfileRequest>", "ES4-DisableProfileRequest>");
		post("/ES4", CT_SOAP, x);
	}
	CU_ASSERT_EQUAL(g_w->status, 500);
	CU_ASSERT(contains(g_w->body, "ES4-DisableProfile is not implemented by ES4SmSrService"));
	/* Action and Body disagree: Sender */
	post("/ES4", CT_SOAP, replace(fixture("es4_get_eis.xml"), "ES4-GetEISRequest<", "ES4-AuditEIS<"));
	CU_ASSERT_EQUAL(g_w->status, 400);
	CU_ASSERT(contains(g_w->body, "does not match action"));
	/* unknown path: 404 */
	post("/nothing", CT_SOAP, fixture("es4_get_eis.xml"));
	CU_ASSERT_EQUAL(g_w->status, 404);
	CU_ASSERT_EQUAL(g_w->handled, 1);
	world_teardown();
}

static void test_async_over_http(void)
{
	struct ws_status st = { .kind = WS_STATUS_SUCCESS };
	char *cb_url, *req;

	world_setup();
	cb_url = talloc_asprintf(g_test_ctx, "http://127.0.0.1:%u/ES4/callback", g_w->cb_port);
	req = replace(fixture("es4_enable_profile.xml"), "https://mno.example.com/ES4/callback", cb_url);
	post("/ES4", CT_SOAP "; action=\"http://gsma.com/ES4/PlatformManagement/ES4-EnableProfile\"", req);
	CU_ASSERT_EQUAL(g_w->status, 202);
	CU_ASSERT_EQUAL(g_w->body_len, 0);
	CU_ASSERT_EQUAL(g_w->handled, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_w->held);
	CU_ASSERT_EQUAL(g_w->cb_count, 0);

	/* the operation completes later: the response goes to ReplyTo */
	ws_request_finish_status(g_w->held, &st);
	g_w->held = NULL;
	CU_ASSERT_TRUE(run_until(&g_w->cb_count, 1, 5000));
	assert_valid(g_w->cb_body);
	CU_ASSERT(contains(g_w->cb_body, ">//1.3.6.1.4.1.99999.1/urn:uuid:3b9a6e60-0002-4000-8000-000000000002"
			   "</wsa:RelatesTo>"));
	CU_ASSERT(contains(g_w->cb_body, ">http://gsma.com/ES4/PlatformManagementCallBack/ES4-EnableProfile"
			   "</wsa:Action>"));
	CU_ASSERT(contains(g_w->cb_body, talloc_asprintf(g_test_ctx, ">%s</wsa:To>", cb_url)));
	CU_ASSERT(contains(g_w->cb_body, "<rps:ES4-EnableProfileResponse"));
	CU_ASSERT(contains(g_w->cb_ct, "action=\"http://gsma.com/ES4/PlatformManagementCallBack/ES4-EnableProfile\""));
	{
		unsigned int never = 0, i;

		/* the client's bookkeeping of the delivered callback (bounded) */
		for (i = 0; i < 100 && ws_http_callbacks_pending(g_w->wh); i++)
			run_until(&never, 1, 20);
	}
	CU_ASSERT_EQUAL(ws_http_callbacks_pending(g_w->wh), 0);
	world_teardown();
}

static void test_oneway_over_http(void)
{
	world_setup();
	post("/ES3", CT_SOAP, fixture("es3_profile_enabled_notif.xml"));
	CU_ASSERT_EQUAL(g_w->status, 202);
	CU_ASSERT_EQUAL(g_w->body_len, 0);
	CU_ASSERT_EQUAL(g_w->handled, 1);
	world_teardown();
}

/* A raw HTTP/1.1 client on the loop (the http_client only POSTs, and cannot walk away mid-request). */
struct raw {
	struct osmo_fd ofd;
	char *resp;
	unsigned int eof;
};

static int raw_read_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct raw *r = ofd->data;
	char buf[4096];
	ssize_t n = recv(ofd->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n > 0) {
		r->resp = talloc_strndup_append(r->resp, buf, n);
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	osmo_fd_unregister(ofd);
	close(ofd->fd);
	ofd->fd = -1;
	r->eof = 1;
	return 0;
}

static struct raw *raw_send(uint16_t port, const char *text)
{
	struct raw *r = talloc_zero(g_test_ctx, struct raw);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	CU_ASSERT_FATAL(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* loopback: the kernel completes the handshake from the listen backlog at once */
	CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	CU_ASSERT_EQUAL_FATAL(send(fd, text, strlen(text), 0), (ssize_t)strlen(text));
	r->resp = talloc_strdup(r, "");
	osmo_fd_setup(&r->ofd, fd, OSMO_FD_READ, raw_read_cb, r, 0);
	CU_ASSERT_EQUAL(osmo_fd_register(&r->ofd), 0);
	return r;
}

static void raw_close(struct raw *r)
{
	if (r->ofd.fd >= 0) {
		osmo_fd_unregister(&r->ofd);
		close(r->ofd.fd);
		r->ofd.fd = -1;
	}
}

static void test_wsdl(void)
{
	struct raw *r;

	world_setup();
	r = raw_send(g_w->port, "GET /ES4?wsdl HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	CU_ASSERT_TRUE(run_until(&r->eof, 1, 5000));
	CU_ASSERT(!strncmp(r->resp, "HTTP/1.1 200", 12));
	CU_ASSERT(contains(r->resp, "text/xml"));
	CU_ASSERT(contains(r->resp, "<wsdl:service name=\"ES4SmSrService\">"));
	raw_close(r);
	CU_ASSERT_FALSE(contains(r->resp, "https://smsr.example.com:8443"));	/* the GSMA WSDL has no placeholder */
	/* ours has: soap:address points at our public base URL */
	r = raw_send(g_w->port, "GET /ES4own?WSDL HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	CU_ASSERT_TRUE(run_until(&r->eof, 1, 5000));
	CU_ASSERT(!strncmp(r->resp, "HTTP/1.1 200", 12));
	CU_ASSERT(contains(r->resp, "location=\"https://smsr.example.com:8443/ES4\""));
	CU_ASSERT_FALSE(contains(r->resp, WS_WSDL_ADDRESS_PLACEHOLDER));
	raw_close(r);
	/* a service without WSDL: 404; GET without ?wsdl: 405 */
	r = raw_send(g_w->port, "GET /ES3?wsdl HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	CU_ASSERT_TRUE(run_until(&r->eof, 1, 5000));
	CU_ASSERT(!strncmp(r->resp, "HTTP/1.1 404", 12));
	raw_close(r);
	r = raw_send(g_w->port, "GET /ES4 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
	CU_ASSERT_TRUE(run_until(&r->eof, 1, 5000));
	CU_ASSERT(!strncmp(r->resp, "HTTP/1.1 405", 12));
	CU_ASSERT(contains(r->resp, "Allow: POST"));
	raw_close(r);
	world_teardown();
}

/* The requester of a synchronous call goes away before the answer: no crash, no answer on a dead connection,
 * and the answer is stored, so that its retry gets it without a second execution. */
static void test_sync_requester_gone(void)
{
	struct ws_mem_store *st;
	struct ws_status ok = { .kind = WS_STATUS_SUCCESS };
	const char *body;
	struct raw *r;
	unsigned int i;

	world_setup();
	st = ws_mem_store_alloc(g_w, 100, 3600, NULL, NULL);
	ws_service_set_store(g_w->es4, &ws_mem_store_ops, st);
	g_w->hold_sync = true;
	body = fixture("es4_get_eis.xml");
	r = raw_send(g_w->port, talloc_asprintf(g_test_ctx, "POST /ES4 HTTP/1.1\r\nHost: t\r\nContent-Type: "
						  CT_SOAP "\r\nContent-Length: %zu\r\n\r\n%s", strlen(body),
						  body));
	CU_ASSERT_TRUE(run_until(&g_w->handled, 1, 5000));
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_w->held);
	CU_ASSERT_PTR_NOT_NULL(g_w->held->done);
	raw_close(r);
	/* until the server has seen the close and detached the request (bounded) */
	for (i = 0; i < 100 && g_w->held->done; i++) {
		unsigned int never = 0;

		run_until(&never, 1, 20);
	}
	CU_ASSERT_PTR_NULL(g_w->held->done);
	ws_request_finish_status(g_w->held, &ok);
	g_w->held = NULL;

	/* the retry is answered from the store */
	g_w->hold_sync = false;
	post("/ES4", CT_SOAP, body);
	CU_ASSERT_EQUAL(g_w->status, 200);
	CU_ASSERT_EQUAL(g_w->handled, 1);
	CU_ASSERT(contains(g_w->body, "<rps:Status>EXECUTED_SUCCESS</rps:Status>"));
	world_teardown();
}

/* The callback receiver fails at first: the callback is retried (with backoff); a duplicate of the finished
 * request makes the stored callback go out once more. */
static void test_async_callback_retry(void)
{
	struct ws_status st = { .kind = WS_STATUS_FAILED, .subject = "8.2.1", .reason = "3.9" };
	char *cb_url, *req;
	unsigned int i, never = 0;

	world_setup();
	ws_service_set_store(g_w->es4, &ws_mem_store_ops, ws_mem_store_alloc(g_w, 10, 60, NULL, NULL));
	g_w->cb_fail = 2;
	cb_url = talloc_asprintf(g_test_ctx, "http://127.0.0.1:%u/cb", g_w->cb_port);
	req = replace(fixture("es4_enable_profile.xml"), "https://mno.example.com/ES4/callback", cb_url);
	post("/ES4", CT_SOAP, req);
	CU_ASSERT_EQUAL(g_w->status, 202);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_w->held);
	ws_request_finish_status(g_w->held, &st);
	g_w->held = NULL;
	/* 503, 503, then 202 (cb_max_retries 2, backoff 50 ms then 100 ms) */
	CU_ASSERT_TRUE(run_until(&g_w->cb_count, 3, 5000));
	for (i = 0; i < 100 && ws_http_callbacks_pending(g_w->wh); i++)
		run_until(&never, 1, 20);
	CU_ASSERT_EQUAL(ws_http_callbacks_pending(g_w->wh), 0);
	assert_valid(g_w->cb_body);
	CU_ASSERT(contains(g_w->cb_body, "<rps:Status>FAILED</rps:Status>"));

	/* the requester did not see it and retries the request: 202 and the stored callback again */
	post("/ES4", CT_SOAP, req);
	CU_ASSERT_EQUAL(g_w->status, 202);
	CU_ASSERT_TRUE(run_until(&g_w->cb_count, 4, 5000));
	CU_ASSERT_EQUAL(g_w->handled, 1);
	CU_ASSERT(contains(g_w->cb_body, ">//1.3.6.1.4.1.99999.1/urn:uuid:3b9a6e60-0002-4000-8000-000000000002"
			   "</wsa:RelatesTo>"));
	for (i = 0; i < 100 && ws_http_callbacks_pending(g_w->wh); i++)
		run_until(&never, 1, 20);
	world_teardown();
}

/* An asynchronous request persisted and let go by the handler, answered later from the persisted data only
 * (as after a restart): duplicates meanwhile get 202, the callback carries the right RelatesTo, and a duplicate
 * afterwards gets the stored callback again. */
static void test_async_released(void)
{
	struct ws_status st = { .kind = WS_STATUS_FAILED, .subject = "8.1.1", .reason = "3.9", .message = "x" };
	const struct ws_op *op;
	char *cb_url, *req, *relates;
	xmlNodePtr resp;
	uint8_t *xml;
	size_t len;

	world_setup();
	ws_service_set_store(g_w->es4, &ws_mem_store_ops, ws_mem_store_alloc(g_w, 10, 60, NULL, NULL));
	cb_url = talloc_asprintf(g_test_ctx, "http://127.0.0.1:%u/cb", g_w->cb_port);
	req = replace(fixture("es4_enable_profile.xml"), "https://mno.example.com/ES4/callback", cb_url);
	req = replace(req, "PlatformManagement/ES4-EnableProfile<", "ProfileManagement/ES4-AuditEIS<");
	req = replace(req, "ES4-EnableProfileRequest>", "ES4-AuditEISRequest>");
	req = replace(req, "ES4-EnableProfileRequest>", "ES4-AuditEISRequest>");
	post("/ES4", CT_SOAP, req);
	CU_ASSERT_EQUAL(g_w->status, 202);
	CU_ASSERT_EQUAL(g_w->handled, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_w->rel_mid);
	/* a duplicate while the operation runs */
	post("/ES4", CT_SOAP, req);
	CU_ASSERT_EQUAL(g_w->status, 202);
	CU_ASSERT_EQUAL(g_w->handled, 1);
	CU_ASSERT_EQUAL(g_w->cb_count, 0);

	/* later, from the persisted data only */
	op = ws_service_find_op(g_w->es4, "ES4-AuditEIS");
	CU_ASSERT_PTR_NOT_NULL_FATAL(op);
	CU_ASSERT_PTR_NULL(ws_resp_new(g_test_ctx, find_op(ws_ops_ES3SmDpService, "ES3-HandleSMSRChangeNotification"),
				       1, 2, &st));
	resp = ws_resp_new(g_test_ctx, op, 1714557600, 1714557700, &st);
	CU_ASSERT_PTR_NOT_NULL_FATAL(resp);
	CU_ASSERT_EQUAL(ws_answer_build(g_w->es4, g_test_ctx, op, g_w->rel_sender, g_w->rel_mid, g_w->rel_reply_to,
					resp, &xml, &len), 0);
	CU_ASSERT_EQUAL(ws_answer_build(g_w->es4, g_test_ctx, op, g_w->rel_sender, g_w->rel_mid, NULL, resp, &xml,
					&len), -EINVAL);
	CU_ASSERT_EQUAL(ws_http_send_callback(g_w->wh, g_w->rel_reply_to, op->resp_action, g_w->rel_mid, xml, len), 0);
	CU_ASSERT_TRUE(run_until(&g_w->cb_count, 1, 5000));
	assert_valid(g_w->cb_body);
	relates = talloc_asprintf(g_test_ctx, ">%s</wsa:RelatesTo>", g_w->rel_mid);
	CU_ASSERT(contains(g_w->cb_body, relates));
	CU_ASSERT(contains(g_w->cb_body, "<rps:ProcessingEnd>2024-05-01T10:01:40Z</rps:ProcessingEnd>"));
	CU_ASSERT(contains(g_w->cb_body, ">http://gsma.com/ES4/ProfileManagementCallBack/ES4-AuditEIS</wsa:Action>"));
	/* a duplicate now: 202 and the stored callback once more */
	post("/ES4", CT_SOAP, req);
	CU_ASSERT_EQUAL(g_w->status, 202);
	CU_ASSERT_TRUE(run_until(&g_w->cb_count, 2, 5000));
	CU_ASSERT(contains(g_w->cb_body, relates));
	CU_ASSERT_EQUAL(g_w->handled, 1);
	world_teardown();
}

/* Over mutual TLS the requester is identified by its certificate: the handler sees it, duplicates are keyed by
 * it (not by the wsa:From it claims). */
static void test_mtls_identity(void)
{
	char *x;

	world_setup_tls(true);
	g_https = true;
	x = fixture("es4_get_eis.xml");
	post("/ES4", CT_SOAP, x);
	CU_ASSERT_EQUAL(g_w->status, 200);
	CU_ASSERT_EQUAL(g_w->handled, 1);
	CU_ASSERT_STRING_EQUAL(g_w->peer_identity, "operator1");
	CU_ASSERT_STRING_EQUAL(g_w->sender, "operator1");
	assert_valid(g_w->body);
	/* the same MessageID again from the same certificate: replayed, not executed */
	ws_service_set_store(g_w->es4, &ws_mem_store_ops, ws_mem_store_alloc(g_w, 10, 60, NULL, NULL));
	x = replace(x, "3b9a6e60-0001", "3b9a6e60-0009");
	post("/ES4", CT_SOAP, x);
	post("/ES4", CT_SOAP, x);
	CU_ASSERT_EQUAL(g_w->status, 200);
	CU_ASSERT_EQUAL(g_w->handled, 2);
	g_https = false;
	world_teardown();
}

/* ------------------------------------------------------------------ interoperability: python3-zeep */

static pid_t g_child;
static int g_child_status;
static unsigned int g_child_done;
static struct osmo_timer_list g_child_timer;

static void child_poll(void *data)
{
	if (waitpid(g_child, &g_child_status, WNOHANG) == g_child) {
		g_child_done = 1;
		return;
	}
	osmo_timer_schedule(&g_child_timer, 0, 20000);
}

/* Debian's python3-zeep, loading the GSMA WSDL unchanged, completes a synchronous and an asynchronous
 * (ReplyTo) exchange with us (issue #4 acceptance). Skipped with a note when python3-zeep is missing. */
static void test_zeep_interop(void)
{
	char *script = talloc_asprintf(g_test_ctx, "%s/tests/ws/zeep_client.py", SGP02_SRCDIR);
	char *cb_url, *srv_url;
	struct ws_status ok = { .kind = WS_STATUS_SUCCESS };

	if (system("/usr/bin/python3 -c 'import zeep' 2>/dev/null") != 0) {
		printf("[skipped: /usr/bin/python3 with python3-zeep not available] ");
		return;
	}
	world_setup();
	g_w->eis_ok = true;
	cb_url = talloc_asprintf(g_test_ctx, "http://127.0.0.1:%u/ES4/callback", g_w->cb_port);
	srv_url = talloc_asprintf(g_test_ctx, "http://127.0.0.1:%u/ES4", g_w->port);
	fflush(stdout);
	g_child = fork();
	CU_ASSERT_FATAL(g_child >= 0);
	if (g_child == 0) {
		execl("/usr/bin/python3", "python3", script, test_shared_dir(), srv_url, cb_url, (char *)NULL);
		_exit(127);
	}
	g_child_done = 0;
	osmo_timer_setup(&g_child_timer, child_poll, NULL);
	osmo_timer_schedule(&g_child_timer, 0, 20000);
	if (!run_until(&g_child_done, 1, 60000)) {
		kill(g_child, SIGKILL);
		waitpid(g_child, &g_child_status, 0);
		CU_FAIL("zeep client did not finish within 60 s");
	}
	osmo_timer_del(&g_child_timer);
	CU_ASSERT(WIFEXITED(g_child_status) && WEXITSTATUS(g_child_status) == 0);
	/* both calls reached the handlers; the asynchronous one is answered now, to its ReplyTo */
	CU_ASSERT_EQUAL(g_w->handled, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_w->held);
	CU_ASSERT_STRING_EQUAL(g_w->held->reply_to, cb_url);
	{
		char *relates = talloc_asprintf(g_test_ctx, ">%s</wsa:RelatesTo>", g_w->held->message_id);

		ws_request_finish_status(g_w->held, &ok);
		g_w->held = NULL;
		CU_ASSERT_TRUE(run_until(&g_w->cb_count, 1, 5000));
		assert_valid(g_w->cb_body);
		CU_ASSERT(contains(g_w->cb_body, relates));
	}
	world_teardown();
}

/* ------------------------------------------------------------------ client (ws_call) */

struct call_rec {
	unsigned int n;
	int rc;
	int status;
	char *body_name;
	char *body_text;
	char *relates_to;
	char *fault_code;
	char *fault_reason;
};

static void call_cb(const struct ws_call_result *r, void *data)
{
	struct call_rec *c = data;

	c->rc = r->rc;
	c->status = r->status;
	if (r->body) {
		xmlChar *t = xmlNodeGetContent(r->body);

		c->body_name = talloc_strdup(g_test_ctx, (const char *)r->body->name);
		c->body_text = talloc_strdup(g_test_ctx, (const char *)t);
		xmlFree(t);
	}
	c->relates_to = r->relates_to ? talloc_strdup(g_test_ctx, r->relates_to) : NULL;
	c->fault_code = r->fault_code ? talloc_strdup(g_test_ctx, r->fault_code) : NULL;
	c->fault_reason = r->fault_reason ? talloc_strdup(g_test_ctx, r->fault_reason) : NULL;
	c->n++;
}

/* A function element from text (trusted test input); the document is freed with g_test_ctx's next case. */
static xmlNodePtr elem(xmlDocPtr *doc, const char *xml)
{
	*doc = xmlReadMemory(xml, strlen(xml), "t.xml", NULL, XML_PARSE_NONET);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*doc);
	return xmlDocGetRootElement(*doc);
}

#define RPS_OPEN(e) "<rps:" e " xmlns:rps=\"" WS_NS_RPS "\">"
#define GETEIS_BODY RPS_OPEN("ES4-GetEISRequest") "<rps:FunctionCallIdentifier>C1</rps:FunctionCallIdentifier>" \
	"<rps:Eid>89001012012341234012345678901224</rps:Eid></rps:ES4-GetEISRequest>"

static void test_client_calls(void)
{
	struct call_rec c = { 0 };
	xmlDocPtr doc;
	xmlNodePtr b;
	char *mid = NULL;
	struct ws_call_opts o = { 0 };

	world_setup();
	/* synchronous: the response element, validated, relating to our MessageID */
	b = elem(&doc, GETEIS_BODY);
	CU_ASSERT_EQUAL(ws_call(g_w->es3dp, g_w->hc, g_test_ctx, url("/ES4"), find_op(ws_ops_ES4SmSrService,
			"ES4-GetEIS"), b, NULL, &mid, call_cb, &c), 0);
	xmlFreeDoc(doc);
	CU_ASSERT_TRUE(run_until(&c.n, 1, 5000));
	CU_ASSERT_EQUAL(c.rc, 0);
	CU_ASSERT_EQUAL(c.status, 200);
	CU_ASSERT_STRING_EQUAL(c.body_name, "ES4-GetEISResponse");
	CU_ASSERT(contains(c.body_text, "FAILED"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(mid);
	CU_ASSERT(!strncmp(mid, "//1.3.6.1.4.1.99999.10/urn:uuid:", 32));
	CU_ASSERT_STRING_EQUAL(c.relates_to, mid);
	CU_ASSERT_EQUAL(g_w->handled, 1);

	/* asynchronous: accepted with 202; without ReplyTo it is not sent */
	b = elem(&doc, RPS_OPEN("ES4-EnableProfileRequest")
		 "<rps:FunctionCallIdentifier>C2</rps:FunctionCallIdentifier>"
		 "<rps:Eid>89001012012341234012345678901224</rps:Eid><rps:Iccid>8933010000000000010</rps:Iccid>"
		 "</rps:ES4-EnableProfileRequest>");
	CU_ASSERT_EQUAL(ws_call(g_w->es3dp, g_w->hc, g_test_ctx, url("/ES4"), find_op(ws_ops_ES4SmSrService,
			"ES4-EnableProfile"), b, NULL, NULL, call_cb, &c), -EINVAL);
	o.reply_to = "http://127.0.0.1:1/never";
	CU_ASSERT_EQUAL(ws_call(g_w->es3dp, g_w->hc, g_test_ctx, url("/ES4"), find_op(ws_ops_ES4SmSrService,
			"ES4-EnableProfile"), b, &o, NULL, call_cb, &c), 0);
	xmlFreeDoc(doc);
	CU_ASSERT_TRUE(run_until(&c.n, 2, 5000));
	CU_ASSERT_EQUAL(c.rc, 0);
	CU_ASSERT_EQUAL(c.status, 202);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_w->held);
	CU_ASSERT_STRING_EQUAL(g_w->held->reply_to, "http://127.0.0.1:1/never");
	ws_request_detach(g_w->held);
	g_w->held = NULL;

	/* a Fault comes back as such */
	b = elem(&doc, RPS_OPEN("ES4-DeleteProfileRequest")
		 "<rps:FunctionCallIdentifier>C3</rps:FunctionCallIdentifier>"
		 "<rps:Eid>89001012012341234012345678901224</rps:Eid><rps:Iccid>8933010000000000010</rps:Iccid>"
		 "</rps:ES4-DeleteProfileRequest>");
	CU_ASSERT_EQUAL(ws_call(g_w->es3dp, g_w->hc, g_test_ctx, url("/ES4"), find_op(ws_ops_ES4SmSrService,
			"ES4-DeleteProfile"), b, &o, NULL, call_cb, &c), 0);
	xmlFreeDoc(doc);
	CU_ASSERT_TRUE(run_until(&c.n, 3, 5000));
	CU_ASSERT_EQUAL(c.rc, -EPROTO);
	CU_ASSERT_EQUAL(c.status, 500);
	CU_ASSERT_STRING_EQUAL(c.fault_code, "env:Receiver");
	CU_ASSERT(contains(c.fault_reason, "not implemented"));

	/* a notification */
	b = elem(&doc, RPS_OPEN("ES3-HandleProfileEnabledNotification")
		 "<rps:Eid>89001012012341234012345678901224</rps:Eid><rps:Iccid>8933010000000000010</rps:Iccid>"
		 "<rps:Mno-id>1.2.3</rps:Mno-id><rps:CompletionTimestamp>2024-05-01T10:05:00Z</rps:CompletionTimestamp>"
		 "</rps:ES3-HandleProfileEnabledNotification>");
	CU_ASSERT_EQUAL(ws_call(g_w->es4, g_w->hc, g_test_ctx, url("/ES3"), find_op(ws_ops_ES3SmDpService,
			"ES3-HandleProfileEnabledNotification"), b, NULL, NULL, call_cb, &c), 0);
	xmlFreeDoc(doc);
	CU_ASSERT_TRUE(run_until(&c.n, 4, 5000));
	CU_ASSERT_EQUAL(c.rc, 0);
	CU_ASSERT_EQUAL(c.status, 202);
	CU_ASSERT_EQUAL(g_w->handled, 3);

	/* a schema-invalid body is not sent; nor a body of another operation */
	b = elem(&doc, RPS_OPEN("ES4-GetEISRequest") "<rps:Eid>89</rps:Eid></rps:ES4-GetEISRequest>");
	CU_ASSERT_EQUAL(ws_call(g_w->es3dp, g_w->hc, g_test_ctx, url("/ES4"), find_op(ws_ops_ES4SmSrService,
			"ES4-GetEIS"), b, NULL, NULL, call_cb, &c), -EBADMSG);
	CU_ASSERT_EQUAL(ws_call(g_w->es3dp, g_w->hc, g_test_ctx, url("/ES4"), find_op(ws_ops_ES4SmSrService,
			"ES4-AuditEIS"), b, &o, NULL, call_cb, &c), -EINVAL);
	xmlFreeDoc(doc);

	/* nobody listening */
	b = elem(&doc, GETEIS_BODY);
	CU_ASSERT_EQUAL(ws_call(g_w->es3dp, g_w->hc, g_test_ctx, "http://127.0.0.1:1/ES4",
				find_op(ws_ops_ES4SmSrService, "ES4-GetEIS"), b, NULL, NULL, call_cb, &c), 0);
	xmlFreeDoc(doc);
	CU_ASSERT_TRUE(run_until(&c.n, 5, 5000));
	CU_ASSERT(c.rc < 0 && c.rc != -EPROTO && c.rc != -EBADMSG);
	CU_ASSERT_EQUAL(c.n, 5);
	world_teardown();
}

static int suite_init(void)
{
	static void *log_ctx;
	char *path;

	if (!log_ctx) {
		log_ctx = talloc_named_const(NULL, 0, "ws_http_test_log");
		osmo_init_logging2(log_ctx, &sgp02_log_info);
		log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
		log_set_log_level(osmo_stderr_target, LOGL_ERROR);
	}
	g_ctx = talloc_named_const(NULL, 0, "ws_http_test");
	path = talloc_asprintf(g_ctx, "%s/spec/gsma-esim-messaging-3/all-requests.xsd", test_shared_dir());
	g_schema = ws_schema_load(g_ctx, path);
	return g_schema ? 0 : 1;
}

static int suite_cleanup(void)
{
	talloc_free(g_ctx);
	g_ctx = NULL;
	return 0;
}

static const struct test_case cases[] = {
	TEST_CASE(test_sync_over_http),
	TEST_CASE(test_async_over_http),
	TEST_CASE(test_oneway_over_http),
	TEST_CASE(test_wsdl),
	TEST_CASE(test_sync_requester_gone),
	TEST_CASE(test_mtls_identity),
	TEST_CASE(test_async_callback_retry),
	TEST_CASE(test_async_released),
	TEST_CASE(test_client_calls),
	TEST_CASE(test_zeep_interop),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "ws_http", suite_init, suite_cleanup, cases },
	{ NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
