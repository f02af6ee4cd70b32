/* Tests of conn.h: plain TCP, TLS, mutual TLS and TLS 1.2 PSK connections on the event loop,
 * between a listener and clients in the same process (127.0.0.1, ephemeral ports). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <talloc.h>
#include <openssl/ssl.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/conn.h>

#include "testlib.h"

static void *g_root;
static char *g_pki;		/* directory with the test PKI (mkcerts.sh) */

/* ------------------------------------------------------------------ loop helpers */

struct deadline {
	struct osmo_timer_list timer;
	bool expired;
};

static void deadline_cb(void *data)
{
	((struct deadline *)data)->expired = true;
}

static void deadline_start(struct deadline *d, unsigned int ms)
{
	memset(d, 0, sizeof(*d));
	osmo_timer_setup(&d->timer, deadline_cb, d);
	osmo_timer_schedule(&d->timer, ms / 1000, (ms % 1000) * 1000);
}

/* Run the loop until \a cond holds or \a ms pass (the deadline timer wakes the loop). */
#define RUN_UNTIL(cond, ms) do { \
		struct deadline _d; \
		deadline_start(&_d, ms); \
		while (!(cond) && !_d.expired) \
			osmo_select_main_ctx(0); \
		osmo_timer_del(&_d.timer); \
	} while (0)

/* Run the loop for \a ms, whatever happens. */
#define RUN_FOR(ms) RUN_UNTIL(false, ms)

static char *pki(const char *name)
{
	return talloc_asprintf(g_test_ctx, "%s/%s", g_pki, name);
}

/* ------------------------------------------------------------------ test peers */

/* What one end of a connection saw; lives on g_test_ctx, longer than its conn. */
struct peer {
	struct conn *c;
	bool established;
	bool closed;
	enum conn_close_reason reason;
	char *identity;
	uint8_t *rx;
	size_t rx_len;
	size_t rx_cap;
	unsigned int data_calls;
	unsigned int drained;
	/* behaviour */
	bool echo;
	bool close_in_data;		/* write "bye", conn_close() */
	bool abort_in_data;		/* conn_abort(CONN_CLOSE_ERROR) */
	bool free_in_data;		/* talloc_free(conn) */
	bool in_data;			/* inside data(): closed() must not come now */
	bool closed_inside_data;
};

static void peer_established(struct conn *c)
{
	struct peer *p = conn_get_data(c);
	const char *id = conn_peer_identity(c);

	p->established = true;
	p->identity = id ? talloc_strdup(p, id) : NULL;
}

static int peer_data(struct conn *c, const uint8_t *buf, size_t len)
{
	struct peer *p = conn_get_data(c);

	p->data_calls++;
	if (p->rx_len + len > p->rx_cap) {
		p->rx_cap = (p->rx_len + len) * 2;
		p->rx = talloc_realloc_size(p, p->rx, p->rx_cap);
		OSMO_ASSERT(p->rx);
	}
	memcpy(p->rx + p->rx_len, buf, len);
	p->rx_len += len;
	if (p->echo)
		CU_ASSERT_EQUAL(conn_write(c, buf, len), 0);
	p->in_data = true;
	if (p->close_in_data) {
		CU_ASSERT_EQUAL(conn_write(c, "bye", 3), 0);
		conn_close(c);
		CU_ASSERT_EQUAL(conn_write(c, "more", 4), -ENOTCONN);
		p->in_data = false;
		return -1;
	}
	if (p->abort_in_data) {
		conn_abort(c, CONN_CLOSE_ERROR);
		p->in_data = false;
		return -1;
	}
	if (p->free_in_data) {
		talloc_free(c);
		p->c = NULL;
		p->in_data = false;
		return -1;
	}
	p->in_data = false;
	return 0;
}

static void peer_drained(struct conn *c)
{
	struct peer *p = conn_get_data(c);

	p->drained++;
}

static void peer_closed(struct conn *c, enum conn_close_reason reason)
{
	struct peer *p = conn_get_data(c);

	CU_ASSERT_FALSE(p->closed);
	if (p->in_data)
		p->closed_inside_data = true;
	p->closed = true;
	p->reason = reason;
	p->c = NULL;
}

static const struct conn_ops peer_ops = {
	.established = peer_established,
	.data = peer_data,
	.drained = peer_drained,
	.closed = peer_closed,
};

static struct peer *peer_new(void)
{
	return talloc_zero(g_test_ctx, struct peer);
}

/* ------------------------------------------------------------------ test server */

#define MAX_PEERS 256

struct server {
	struct conn_listener *l;
	struct peer *proto;		/* behaviour copied into every accepted peer */
	struct peer *peers[MAX_PEERS];
	unsigned int n;
	unsigned long timeout_ms;
	bool no_reading;
	bool refuse;
	bool free_listener;		/* the accept callback frees the listener */
	bool busy;			/* the accept callback answers "busy" and closes (like a 503) */
};

static int server_accept(struct conn_listener *l, struct conn *c, void *data)
{
	struct server *s = data;
	struct peer *p;

	if (s->refuse)
		return -1;
	if (s->free_listener) {
		talloc_free(l);
		s->l = NULL;
		return -1;
	}
	OSMO_ASSERT(s->n < MAX_PEERS);
	p = peer_new();
	if (s->proto) {
		p->echo = s->proto->echo;
		p->close_in_data = s->proto->close_in_data;
		p->abort_in_data = s->proto->abort_in_data;
		p->free_in_data = s->proto->free_in_data;
	}
	p->c = c;
	s->peers[s->n++] = p;
	conn_set_ops(c, &peer_ops);
	conn_set_data(c, p);
	if (s->timeout_ms)
		conn_set_timeout(c, s->timeout_ms);
	if (s->no_reading)
		conn_set_reading(c, false);
	if (s->busy) {
		CU_ASSERT_EQUAL(conn_write(c, "busy", 4), 0);
		conn_close(c);
	}
	return 0;
}

static struct server *server_start(struct tls_ctx *tls)
{
	struct server *s = talloc_zero(g_test_ctx, struct server);

	s->l = conn_listen(g_test_ctx, "127.0.0.1", 0, tls, server_accept, s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s->l);
	CU_ASSERT(conn_listener_port(s->l) != 0);
	return s;
}

static struct peer *client_connect(struct server *s, struct tls_ctx *tls)
{
	struct peer *p = peer_new();

	p->c = conn_connect(g_test_ctx, "127.0.0.1", conn_listener_port(s->l), tls, &peer_ops, p);
	CU_ASSERT_PTR_NOT_NULL(p->c);
	return p;
}

/* ------------------------------------------------------------------ TLS contexts */

static struct tls_ctx *srv_tls(bool mutual)
{
	struct tls_ctx *t = tls_server_ctx_new(g_test_ctx, pki("server.pem"), pki("server.key"),
					       mutual ? pki("ca.pem") : NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	return t;
}

static struct tls_ctx *cli_tls(const char *cert)
{
	struct tls_ctx *t;

	if (cert)
		t = tls_client_ctx_new(g_test_ctx, pki("ca.pem"), pki(talloc_asprintf(g_test_ctx, "%s.pem", cert)),
				       pki(talloc_asprintf(g_test_ctx, "%s.key", cert)));
	else
		t = tls_client_ctx_new(g_test_ctx, pki("ca.pem"), NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	return t;
}

/* SGP.02 §2.4.4.1 PSK identity: hex of 80 01 02 | 81 10 <EID> | 4F 10 <ISD-R AID> | 82 01 <key id> | 83 01 <KVN> */
#define PSK_ID "800102" "8110" "89049032123451234512345678901235" "4F10" "A0000005591010FFFFFFFF8900000100" \
	"820101" "830140"
#define PSK_ID_UNKNOWN "800102" "8110" "89049032123451234512345678901299" "4F10" \
	"A0000005591010FFFFFFFF8900000100" "820101" "830140"

static const uint8_t g_psk[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
				   0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00 };
static unsigned int g_psk_lookups;

static int psk_lookup(const char *identity, uint8_t *key, size_t key_max, void *data)
{
	g_psk_lookups++;
	CU_ASSERT_PTR_EQUAL(data, &g_psk_lookups);
	if (strcmp(identity, PSK_ID) != 0)
		return -ENOENT;
	OSMO_ASSERT(key_max >= sizeof(g_psk));
	memcpy(key, g_psk, sizeof(g_psk));
	return sizeof(g_psk);
}

static struct tls_ctx *psk_srv(void)
{
	struct tls_ctx *t = tls_psk_server_ctx_new(g_test_ctx, psk_lookup, &g_psk_lookups);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	return t;
}

/* ------------------------------------------------------------------ helpers for checks */

struct ctr_query {
	const char *group_name;
	const char *ctr_name;
	int64_t value;
};

static int ctr_group_cb(struct rate_ctr_group *grp, void *data)
{
	struct ctr_query *q = data;
	const struct rate_ctr *ctr;

	if (strcmp(grp->desc->group_name_prefix, "conn_listener") || !grp->name || strcmp(grp->name, q->group_name))
		return 0;
	ctr = rate_ctr_get_by_name(grp, q->ctr_name);
	if (ctr)
		q->value = ctr->current;
	return 0;
}

/* Current value of a listener counter, or -1 if there is no such counter. */
static int64_t listener_ctr(struct server *s, const char *name)
{
	struct ctr_query q = { .ctr_name = name, .value = -1 };

	q.group_name = talloc_asprintf(g_test_ctx, "127.0.0.1:%u", conn_listener_port(s->l));
	rate_ctr_for_each_group(ctr_group_cb, &q);
	return q.value;
}

static void fill_pattern(uint8_t *buf, size_t len, size_t start)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)((start + i) * 7 % 251);
}

static bool check_pattern(const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] != (uint8_t)(i * 7 % 251))
			return false;
	}
	return true;
}

/* Echo "hello" through the connection \a cli to server \a s and back, then close from the client. */
static void echo_and_close(struct server *s, struct peer *cli)
{
	struct peer *srv;

	RUN_UNTIL(cli->established || cli->closed, 5000);
	CU_ASSERT_TRUE_FATAL(cli->established);
	CU_ASSERT_EQUAL(conn_write(cli->c, "hello", 5), 0);
	RUN_UNTIL(cli->rx_len >= 5 || cli->closed, 5000);
	CU_ASSERT_EQUAL_FATAL(cli->rx_len, 5);
	CU_ASSERT_EQUAL(memcmp(cli->rx, "hello", 5), 0);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	srv = s->peers[0];
	CU_ASSERT_TRUE(srv->established);
	CU_ASSERT_EQUAL(conn_listener_count(s->l), 1);

	conn_close(cli->c);
	CU_ASSERT_FALSE(cli->closed);	/* never from inside conn_close() */
	RUN_UNTIL(cli->closed && srv->closed, 5000);
	CU_ASSERT_TRUE(cli->closed);
	CU_ASSERT_EQUAL(cli->reason, CONN_CLOSE_LOCAL);
	CU_ASSERT_TRUE(srv->closed);
	CU_ASSERT_EQUAL(srv->reason, CONN_CLOSE_PEER);
	CU_ASSERT_EQUAL(conn_listener_count(s->l), 0);
}

/* ------------------------------------------------------------------ plain and TLS basics */

static void test_plain_echo(void)
{
	struct server *s = server_start(NULL);
	struct peer *cli;

	s->proto = peer_new();
	s->proto->echo = true;
	cli = client_connect(s, NULL);
	echo_and_close(s, cli);
	CU_ASSERT_PTR_NULL(s->peers[0]->identity);
	talloc_free(s->l);
}

/* Regression: an answer written inside data() and flushed at once must still be reported by drained(),
 * although no write event follows (found by the HTTP server, which waits for drained()). */
static void test_drained_after_answer_in_data(void)
{
	struct server *s = server_start(NULL);
	struct peer *cli;

	s->proto = peer_new();
	s->proto->echo = true;
	cli = client_connect(s, NULL);
	RUN_UNTIL(cli->established, 5000);
	CU_ASSERT_EQUAL_FATAL(conn_write(cli->c, "ping", 4), 0);
	RUN_UNTIL(cli->rx_len == 4, 5000);
	CU_ASSERT_FATAL(s->n == 1);
	/* the echo went out from inside data(): the server's drained() is due without further traffic */
	RUN_UNTIL(s->peers[0]->drained > 0, 1000);
	CU_ASSERT_EQUAL(s->peers[0]->drained, 1);
	talloc_free(cli->c);
	talloc_free(s->l);
}

static void test_peer_name_and_flags(void)
{
	struct server *s = server_start(NULL);
	struct peer *cli = client_connect(s, NULL);
	char want[32];

	RUN_UNTIL(cli->established && s->n == 1 && s->peers[0]->established, 5000);
	CU_ASSERT_FATAL(s->n == 1);
	snprintf(want, sizeof(want), "127.0.0.1:%u", conn_listener_port(s->l));
	CU_ASSERT_STRING_EQUAL(conn_peer_name(cli->c), want);
	CU_ASSERT_EQUAL(strncmp(conn_peer_name(s->peers[0]->c), "127.0.0.1:", 10), 0);
	CU_ASSERT_FALSE(conn_is_tls(cli->c));
	CU_ASSERT_PTR_NULL(conn_peer_identity(cli->c));
	CU_ASSERT_STRING_EQUAL(conn_close_reason_name(CONN_CLOSE_OVERFLOW), "write queue overflow");
	talloc_free(cli->c);
	CU_ASSERT_FALSE(cli->closed);	/* talloc_free: no callback */
	RUN_UNTIL(s->peers[0]->closed, 5000);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_PEER);
	talloc_free(s->l);
}

static void test_connect_refused(void)
{
	struct server *s = server_start(NULL);
	uint16_t port = conn_listener_port(s->l);
	struct peer *cli = peer_new();

	talloc_free(s->l);	/* nobody listens there now */
	cli->c = conn_connect(g_test_ctx, "127.0.0.1", port, NULL, &peer_ops, cli);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cli->c);
	CU_ASSERT_FALSE(cli->closed);
	RUN_UNTIL(cli->closed, 5000);
	CU_ASSERT_TRUE(cli->closed);
	CU_ASSERT_EQUAL(cli->reason, CONN_CLOSE_ERROR);
	CU_ASSERT_FALSE(cli->established);
	/* names other than "localhost" would need a resolver on the loop: refused */
	CU_ASSERT_PTR_NULL(conn_connect(g_test_ctx, "example.invalid", port, NULL, &peer_ops, cli));
	CU_ASSERT_PTR_NULL(conn_listen(g_test_ctx, "localhost", 0, NULL, server_accept, s));
}

static void test_localhost_name(void)
{
	struct server *s = server_start(srv_tls(false));
	struct peer *cli = peer_new();

	s->proto = peer_new();
	s->proto->echo = true;
	/* the server certificate carries DNS:localhost: verification by name (and SNI) works */
	cli->c = conn_connect(g_test_ctx, "localhost", conn_listener_port(s->l), cli_tls(NULL), &peer_ops, cli);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cli->c);
	echo_and_close(s, cli);
	talloc_free(s->l);
}

static void test_refused_by_owner(void)
{
	struct server *s = server_start(NULL);
	struct peer *cli;

	s->refuse = true;
	cli = client_connect(s, NULL);
	RUN_UNTIL(cli->closed, 5000);
	CU_ASSERT_TRUE(cli->closed);
	CU_ASSERT_EQUAL(s->n, 0);
	CU_ASSERT_EQUAL(conn_listener_count(s->l), 0);
	CU_ASSERT_EQUAL(listener_ctr(s, "conn:refused"), 1);
	talloc_free(s->l);
}

static void test_tls_echo(void)
{
	struct server *s = server_start(srv_tls(false));
	struct peer *cli;

	s->proto = peer_new();
	s->proto->echo = true;
	cli = client_connect(s, cli_tls(NULL));
	RUN_UNTIL(cli->established || cli->closed, 5000);
	CU_ASSERT_TRUE_FATAL(cli->established);
	CU_ASSERT_TRUE(conn_is_tls(cli->c));
	/* the client verified the server: its identity is the server certificate's CN */
	CU_ASSERT_STRING_EQUAL(cli->identity, "localhost");
	echo_and_close(s, cli);
	/* no client certificate was asked for */
	CU_ASSERT_PTR_NULL(s->peers[0]->identity);
	talloc_free(s->l);
}

static void test_tls_wrong_server_ca(void)
{
	struct server *s = server_start(srv_tls(false));
	struct tls_ctx *t = tls_client_ctx_new(g_test_ctx, pki("rogue-ca.pem"), NULL, NULL);
	struct peer *cli;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	cli = client_connect(s, t);
	RUN_UNTIL(cli->closed && s->n == 1 && s->peers[0]->closed, 5000);
	CU_ASSERT_TRUE(cli->closed);
	CU_ASSERT_EQUAL(cli->reason, CONN_CLOSE_TLS);
	CU_ASSERT_FALSE(cli->established);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	CU_ASSERT_TRUE(s->peers[0]->closed);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_TLS);
	talloc_free(s->l);
}

static void test_tls_ctx_errors(void)
{
	CU_ASSERT_PTR_NULL(tls_server_ctx_new(g_test_ctx, pki("nonexistent.pem"), pki("server.key"), NULL));
	CU_ASSERT_PTR_NULL(tls_server_ctx_new(g_test_ctx, pki("server.pem"), pki("client.key"), NULL));
	CU_ASSERT_PTR_NULL(tls_server_ctx_new(g_test_ctx, pki("server.pem"), pki("server.key"),
					      pki("nonexistent.pem")));
	CU_ASSERT_PTR_NULL(tls_client_ctx_new(g_test_ctx, pki("ca.pem"), pki("client.pem"), NULL));
	CU_ASSERT_PTR_NULL(tls_psk_client_ctx_new(g_test_ctx, "id", g_psk, 0));
	CU_ASSERT_PTR_NULL(tls_psk_client_ctx_new(g_test_ctx, "bad\nid", g_psk, sizeof(g_psk)));
	/* a client context cannot listen, a server context cannot connect */
	CU_ASSERT_PTR_NULL(conn_listen(g_test_ctx, "127.0.0.1", 0, cli_tls(NULL), server_accept, NULL));
	CU_ASSERT_PTR_NULL(conn_connect(g_test_ctx, "127.0.0.1", 1, srv_tls(false), &peer_ops, NULL));
}

/* ------------------------------------------------------------------ mutual TLS */

static void test_mtls_ok(void)
{
	struct server *s = server_start(srv_tls(true));
	struct peer *cli;

	s->proto = peer_new();
	s->proto->echo = true;
	cli = client_connect(s, cli_tls("client"));
	RUN_UNTIL(cli->established && s->n == 1 && s->peers[0]->established, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	CU_ASSERT_STRING_EQUAL(s->peers[0]->identity, "operator1");
	CU_ASSERT_STRING_EQUAL(conn_peer_identity(s->peers[0]->c), "operator1");
	echo_and_close(s, cli);
	talloc_free(s->l);
}

/* The server refuses the client: both ends end with CONN_CLOSE_TLS and no data reaches the server.
 * (With TLS 1.3 the client finishes its side of the handshake before the server has judged its
 * certificate, so the client may see established() first and the refusal as an alert after.) */
static void mtls_refused(const char *cert)
{
	struct server *s = server_start(srv_tls(true));
	struct peer *cli = client_connect(s, cli_tls(cert));

	RUN_UNTIL(cli->closed && s->n == 1 && s->peers[0]->closed, 5000);
	CU_ASSERT_TRUE(cli->closed);
	CU_ASSERT_EQUAL(cli->reason, CONN_CLOSE_TLS);
	CU_ASSERT_EQUAL(cli->rx_len, 0);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	CU_ASSERT_TRUE(s->peers[0]->closed);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_TLS);
	CU_ASSERT_FALSE(s->peers[0]->established);
	CU_ASSERT_EQUAL(s->peers[0]->data_calls, 0);
	CU_ASSERT_EQUAL(conn_listener_count(s->l), 0);
	CU_ASSERT_EQUAL(listener_ctr(s, "conn:accepted"), 1);
	CU_ASSERT_EQUAL(listener_ctr(s, "conn:tls_failures"), 1);
	talloc_free(s->l);
}

static void test_mtls_rogue_cert(void)
{
	mtls_refused("rogue");
}

static void test_mtls_missing_cert(void)
{
	mtls_refused(NULL);
}

/* ------------------------------------------------------------------ PSK-TLS */

static void test_psk_ok(void)
{
	struct server *s = server_start(psk_srv());
	struct tls_ctx *t = tls_psk_client_ctx_new(g_test_ctx, PSK_ID, g_psk, sizeof(g_psk));
	struct peer *cli;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	s->proto = peer_new();
	s->proto->echo = true;
	g_psk_lookups = 0;
	cli = client_connect(s, t);
	RUN_UNTIL(cli->established && s->n == 1 && s->peers[0]->established, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	CU_ASSERT_STRING_EQUAL(s->peers[0]->identity, PSK_ID);
	CU_ASSERT_EQUAL(g_psk_lookups, 1);
	echo_and_close(s, cli);
	talloc_free(s->l);
}

static void psk_refused(const char *identity, const uint8_t *key, size_t key_len)
{
	struct server *s = server_start(psk_srv());
	struct tls_ctx *t = tls_psk_client_ctx_new(g_test_ctx, identity, key, key_len);
	struct peer *cli;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	cli = client_connect(s, t);
	RUN_UNTIL(cli->closed && s->n == 1 && s->peers[0]->closed, 5000);
	CU_ASSERT_TRUE(cli->closed);
	CU_ASSERT_EQUAL(cli->reason, CONN_CLOSE_TLS);
	CU_ASSERT_FALSE(cli->established);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	CU_ASSERT_TRUE(s->peers[0]->closed);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_TLS);
	CU_ASSERT_FALSE(s->peers[0]->established);
	talloc_free(s->l);
}

static void test_psk_wrong_key(void)
{
	uint8_t wrong[16];

	memcpy(wrong, g_psk, sizeof(wrong));
	wrong[15] ^= 0x01;
	psk_refused(PSK_ID, wrong, sizeof(wrong));
}

static void test_psk_unknown_identity(void)
{
	psk_refused(PSK_ID_UNKNOWN, g_psk, sizeof(g_psk));
}

static void test_psk_refuses_certificate_client(void)
{
	/* a default client (TLS 1.3 first, certificate suites only) shares nothing with the PSK server */
	struct server *s = server_start(psk_srv());
	struct tls_ctx *t = tls_client_ctx_new(g_test_ctx, NULL, NULL, NULL);
	struct peer *cli;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	cli = client_connect(s, t);
	RUN_UNTIL(cli->closed && s->n == 1 && s->peers[0]->closed, 5000);
	CU_ASSERT_EQUAL(cli->reason, CONN_CLOSE_TLS);
	CU_ASSERT_FALSE(cli->established);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_TLS);
	talloc_free(s->l);
}

/* A hand-driven OpenSSL client for the cases our own client contexts cannot express: one
 * cipher suite, or TLS 1.3 only. Connects, then interleaves handshake steps with the loop. */
static unsigned int raw_psk_client_cb(SSL *ssl, const char *hint, char *identity, unsigned int max_identity_len,
				      unsigned char *psk, unsigned int max_psk_len)
{
	snprintf(identity, max_identity_len, "%s", PSK_ID);
	memcpy(psk, g_psk, sizeof(g_psk));
	return sizeof(g_psk);
}

static int raw_handshake(uint16_t port, SSL_CTX *sctx, char *cipher, size_t cipher_len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timespec t0, t;
	int fd, rc = -1;
	SSL *ssl;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	OSMO_ASSERT(fd >= 0);
	/* a blocking connect to loopback completes from the listen backlog, without the loop */
	OSMO_ASSERT(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	ssl = SSL_new(sctx);
	SSL_set_fd(ssl, fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int r = SSL_connect(ssl);
		int err;

		if (r == 1) {
			snprintf(cipher, cipher_len, "%s", SSL_get_cipher_name(ssl));
			rc = 0;
			break;
		}
		err = SSL_get_error(ssl, r);
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 5)
			break;
		osmo_select_main_ctx(1);
		usleep(1000);
	}
	SSL_free(ssl);
	close(fd);
	return rc;
}

static void test_psk_each_cipher_suite(void)
{
	/* GP Amd B suites, one at a time, with the client at OpenSSL's default security level
	 * (2 on Debian 12): both must be usable. */
	static const char *const suites[] = { "PSK-AES128-GCM-SHA256", "PSK-AES128-CBC-SHA256" };
	struct server *s = server_start(psk_srv());
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(suites); i++) {
		SSL_CTX *sctx = SSL_CTX_new(TLS_client_method());
		char cipher[64] = "";

		OSMO_ASSERT(sctx);
		SSL_CTX_set_max_proto_version(sctx, TLS1_2_VERSION);
		CU_ASSERT_EQUAL(SSL_CTX_set_cipher_list(sctx, suites[i]), 1);
		SSL_CTX_set_psk_client_callback(sctx, raw_psk_client_cb);
		CU_ASSERT_EQUAL(raw_handshake(conn_listener_port(s->l), sctx, cipher, sizeof(cipher)), 0);
		CU_ASSERT_STRING_EQUAL(cipher, suites[i]);
		SSL_CTX_free(sctx);
	}
	RUN_UNTIL(s->n == 2 && s->peers[0]->closed && s->peers[1]->closed, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 2);
	CU_ASSERT_STRING_EQUAL(s->peers[0]->identity, PSK_ID);
	CU_ASSERT_STRING_EQUAL(s->peers[1]->identity, PSK_ID);
	talloc_free(s->l);
}

static void test_psk_refuses_tls13(void)
{
	/* a PSK client that insists on TLS 1.3: GP Amd B admin sessions are TLS 1.2 only */
	struct server *s = server_start(psk_srv());
	SSL_CTX *sctx = SSL_CTX_new(TLS_client_method());
	char cipher[64] = "";

	OSMO_ASSERT(sctx);
	SSL_CTX_set_min_proto_version(sctx, TLS1_3_VERSION);
	SSL_CTX_set_psk_client_callback(sctx, raw_psk_client_cb);
	CU_ASSERT_NOT_EQUAL(raw_handshake(conn_listener_port(s->l), sctx, cipher, sizeof(cipher)), 0);
	SSL_CTX_free(sctx);
	RUN_UNTIL(s->n == 1 && s->peers[0]->closed, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_TLS);
	CU_ASSERT_FALSE(s->peers[0]->established);
	talloc_free(s->l);
}

/* ------------------------------------------------------------------ flow control, limits, timers */

static void test_write_overflow(void)
{
	struct server *s = server_start(NULL);
	struct peer *cli = client_connect(s, NULL);
	uint8_t buf[600];

	memset(buf, 'x', sizeof(buf));
	RUN_UNTIL(cli->established, 5000);
	CU_ASSERT_TRUE_FATAL(cli->established);
	conn_set_write_limit(cli->c, 1000);
	CU_ASSERT_EQUAL(conn_write(cli->c, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(conn_queued(cli->c), sizeof(buf));
	CU_ASSERT_EQUAL(conn_write(cli->c, buf, sizeof(buf)), -ENOBUFS);
	CU_ASSERT_TRUE(cli->closed);
	CU_ASSERT_EQUAL(cli->reason, CONN_CLOSE_OVERFLOW);
	RUN_UNTIL(s->n == 1 && s->peers[0]->closed, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	CU_ASSERT_TRUE(s->peers[0]->closed);
	talloc_free(s->l);
}

static void test_overflow_when_peer_stops_reading(void)
{
	struct server *s = server_start(srv_tls(false));
	struct peer *cli;
	uint8_t *buf = talloc_zero_size(g_test_ctx, 65536);
	unsigned int i;
	int rc = 0;

	s->no_reading = true;
	cli = client_connect(s, cli_tls(NULL));
	RUN_UNTIL(cli->established && s->n == 1 && s->peers[0]->established, 5000);
	CU_ASSERT_TRUE_FATAL(cli->established);
	conn_set_write_limit(cli->c, 256 * 1024);
	/* the server does not read: kernel buffers fill, then our queue, then the limit hits */
	for (i = 0; i < 2000 && rc == 0; i++) {
		rc = conn_write(cli->c, buf, 65536);
		if (rc == 0)
			RUN_FOR(2);
	}
	CU_ASSERT_EQUAL(rc, -ENOBUFS);
	CU_ASSERT_TRUE(cli->closed);
	CU_ASSERT_EQUAL(cli->reason, CONN_CLOSE_OVERFLOW);
	talloc_free(s->l);
}

static void test_idle_timeout(void)
{
	struct server *s = server_start(NULL);
	struct peer *cli;
	unsigned int i;

	s->timeout_ms = 400;
	cli = client_connect(s, NULL);
	RUN_UNTIL(cli->established && s->n == 1, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	/* data re-arms the timer: 8 x 100 ms of chatter outlives 400 ms */
	for (i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL(conn_write(cli->c, "x", 1), 0);
		RUN_FOR(100);
	}
	CU_ASSERT_FALSE(s->peers[0]->closed);
	CU_ASSERT_EQUAL(s->peers[0]->rx_len, 8);
	/* then silence */
	RUN_UNTIL(s->peers[0]->closed && cli->closed, 3000);
	CU_ASSERT_TRUE(s->peers[0]->closed);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_TIMEOUT);
	CU_ASSERT_TRUE(cli->closed);
	CU_ASSERT_EQUAL(cli->reason, CONN_CLOSE_PEER);
	CU_ASSERT_EQUAL(listener_ctr(s, "conn:timeouts"), 1);
	talloc_free(s->l);
}

static void test_handshake_timeout(void)
{
	/* a client that connects and never says ClientHello is timed out too */
	struct server *s = server_start(srv_tls(false));
	struct peer *cli;

	s->timeout_ms = 200;
	cli = client_connect(s, NULL);	/* plain TCP to a TLS server: no ClientHello */
	RUN_UNTIL(s->n == 1 && s->peers[0]->closed, 3000);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_TIMEOUT);
	RUN_UNTIL(cli->closed, 3000);
	CU_ASSERT_TRUE(cli->closed);
	talloc_free(s->l);
}

static void backpressure(struct tls_ctx *srv, struct tls_ctx *clt)
{
	struct server *s = server_start(srv);
	struct peer *cli;

	s->no_reading = true;
	cli = client_connect(s, clt);
	RUN_UNTIL(cli->established && s->n == 1 && s->peers[0]->established, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	CU_ASSERT_EQUAL(conn_write(cli->c, "abc", 3), 0);
	RUN_FOR(200);
	CU_ASSERT_EQUAL(s->peers[0]->rx_len, 0);
	conn_set_reading(s->peers[0]->c, true);
	RUN_UNTIL(s->peers[0]->rx_len == 3, 5000);
	CU_ASSERT_EQUAL(s->peers[0]->rx_len, 3);
	/* pause again, more data waits, resume delivers it */
	conn_set_reading(s->peers[0]->c, false);
	CU_ASSERT_EQUAL(conn_write(cli->c, "defg", 4), 0);
	RUN_FOR(200);
	CU_ASSERT_EQUAL(s->peers[0]->rx_len, 3);
	conn_set_reading(s->peers[0]->c, true);
	RUN_UNTIL(s->peers[0]->rx_len == 7, 5000);
	CU_ASSERT_EQUAL_FATAL(s->peers[0]->rx_len, 7);
	CU_ASSERT_EQUAL(memcmp(s->peers[0]->rx, "abcdefg", 7), 0);
	conn_close(cli->c);
	RUN_UNTIL(cli->closed && s->peers[0]->closed, 5000);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_PEER);
	talloc_free(s->l);
}

static void test_backpressure_plain(void)
{
	backpressure(NULL, NULL);
}

static void test_backpressure_tls(void)
{
	backpressure(srv_tls(false), cli_tls(NULL));
}

/* 4 MiB from the client, echoed by the server: both directions at once, intact. */
static void large_transfer(struct tls_ctx *srv, struct tls_ctx *clt)
{
	const size_t total = 4 * 1024 * 1024;
	const size_t piece = 100000;	/* not a multiple of anything TLS or TCP cares about */
	struct server *s = server_start(srv);
	uint8_t *buf = talloc_size(g_test_ctx, piece);
	struct peer *cli;
	size_t sent = 0;

	s->proto = peer_new();
	s->proto->echo = true;
	cli = client_connect(s, clt);
	RUN_UNTIL(cli->established && s->n == 1, 5000);
	CU_ASSERT_TRUE_FATAL(cli->established);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	conn_set_write_limit(s->peers[0]->c, total);
	while (sent < total) {
		size_t n = OSMO_MIN(piece, total - sent);

		/* keep our own queue bounded: the point is the stream, not the queue */
		RUN_UNTIL(conn_queued(cli->c) < 512 * 1024 || cli->closed, 5000);
		CU_ASSERT_FALSE_FATAL(cli->closed);
		fill_pattern(buf, n, sent);
		CU_ASSERT_EQUAL_FATAL(conn_write(cli->c, buf, n), 0);
		sent += n;
	}
	RUN_UNTIL(cli->rx_len == total || cli->closed, 20000);
	CU_ASSERT_EQUAL(s->peers[0]->rx_len, total);
	CU_ASSERT_EQUAL(cli->rx_len, total);
	CU_ASSERT_TRUE(check_pattern(s->peers[0]->rx, s->peers[0]->rx_len));
	CU_ASSERT_TRUE(check_pattern(cli->rx, cli->rx_len));
	CU_ASSERT(cli->drained > 0);
	CU_ASSERT_EQUAL(conn_queued(cli->c), 0);
	conn_close(cli->c);
	RUN_UNTIL(cli->closed && s->peers[0]->closed, 5000);
	CU_ASSERT_EQUAL(cli->reason, CONN_CLOSE_LOCAL);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_PEER);
	talloc_free(s->l);
}

static void test_large_transfer_plain(void)
{
	large_transfer(NULL, NULL);
}

static void test_large_transfer_tls(void)
{
	large_transfer(srv_tls(false), cli_tls(NULL));
}

static void test_close_flushes(void)
{
	/* conn_close() right after a big write: everything arrives, then the close */
	const size_t total = 768 * 1024;
	struct server *s = server_start(srv_tls(false));
	uint8_t *buf = talloc_size(g_test_ctx, total);
	struct peer *cli = client_connect(s, cli_tls(NULL));

	fill_pattern(buf, total, 0);
	/* queued before the handshake is even done */
	CU_ASSERT_EQUAL(conn_write(cli->c, buf, total), 0);
	conn_close(cli->c);
	CU_ASSERT_EQUAL(conn_write(cli->c, buf, 1), -ENOTCONN);
	RUN_UNTIL(cli->closed && s->n == 1 && s->peers[0]->closed, 10000);
	CU_ASSERT_EQUAL(cli->reason, CONN_CLOSE_LOCAL);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_PEER);
	CU_ASSERT_EQUAL(s->peers[0]->rx_len, total);
	CU_ASSERT_TRUE(check_pattern(s->peers[0]->rx, s->peers[0]->rx_len));
	talloc_free(s->l);
}

/* ------------------------------------------------------------------ scale and teardown */

static void many_conns(struct tls_ctx *srv, struct tls_ctx *clt, unsigned int n)
{
	struct server *s = server_start(srv);
	struct peer **cli = talloc_zero_array(g_test_ctx, struct peer *, n);
	unsigned int i, est, got, closed;

	s->proto = peer_new();
	s->proto->echo = true;
	for (i = 0; i < n; i++)
		cli[i] = client_connect(s, clt);
	for (est = 0; est < n;) {
		RUN_FOR(10);
		for (est = 0, i = 0; i < n; i++)
			est += cli[i]->established && !cli[i]->closed;
		if (s->n == n && est == n)
			break;
		CU_ASSERT_FATAL(est == n || !cli[0]->closed);
	}
	CU_ASSERT_EQUAL(est, n);
	RUN_UNTIL(conn_listener_count(s->l) == n, 5000);
	CU_ASSERT_EQUAL(conn_listener_count(s->l), n);
	for (i = 0; i < n; i++) {
		char msg[16];

		snprintf(msg, sizeof(msg), "ping %u", i);
		CU_ASSERT_EQUAL(conn_write(cli[i]->c, msg, strlen(msg)), 0);
	}
	for (got = 0; got < n;) {
		struct deadline d;

		deadline_start(&d, 10000);
		while (!d.expired) {
			osmo_select_main_ctx(0);
			for (got = 0, i = 0; i < n; i++) {
				char msg[16];

				snprintf(msg, sizeof(msg), "ping %u", i);
				got += cli[i]->rx_len == strlen(msg) && !memcmp(cli[i]->rx, msg, strlen(msg));
			}
			if (got == n)
				break;
		}
		osmo_timer_del(&d.timer);
		break;
	}
	CU_ASSERT_EQUAL(got, n);
	for (i = 0; i < n; i++) {
		if (cli[i]->c)
			conn_close(cli[i]->c);
	}
	for (closed = 0; closed < n;) {
		RUN_FOR(10);
		for (closed = 0, i = 0; i < n; i++)
			closed += cli[i]->closed && s->peers[i]->closed;
		if (conn_listener_count(s->l) == 0 && closed == n)
			break;
	}
	CU_ASSERT_EQUAL(closed, n);
	CU_ASSERT_EQUAL(conn_listener_count(s->l), 0);
	talloc_free(s->l);
}

static void test_200_conns_plain(void)
{
	many_conns(NULL, NULL, 200);
}

static void test_200_conns_tls(void)
{
	many_conns(srv_tls(true), cli_tls("client"), 200);
}

static void test_free_listener_with_conns(void)
{
	struct server *s = server_start(srv_tls(false));
	struct peer *cli[5];
	unsigned int i;

	for (i = 0; i < 5; i++)
		cli[i] = client_connect(s, cli_tls(NULL));
	RUN_UNTIL(s->n == 5 && cli[0]->established && cli[1]->established && cli[2]->established &&
		  cli[3]->established && cli[4]->established, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 5);
	CU_ASSERT_EQUAL(conn_write(s->peers[0]->c, "queued", 6), 0);
	talloc_free(s->l);
	/* the server side conns went with the listener, without callbacks */
	for (i = 0; i < 5; i++)
		CU_ASSERT_FALSE(s->peers[i]->closed);
	RUN_UNTIL(cli[0]->closed && cli[1]->closed && cli[2]->closed && cli[3]->closed && cli[4]->closed, 5000);
	for (i = 0; i < 5; i++)
		CU_ASSERT_TRUE(cli[i]->closed);
}

static void test_free_listener_from_callback(void)
{
	/* the accept callback of a listener frees that listener (and with it the new conn) */
	struct server *s = server_start(NULL);
	struct peer *cli;

	s->free_listener = true;
	cli = client_connect(s, NULL);
	RUN_UNTIL(s->l == NULL && cli->closed, 5000);
	CU_ASSERT_PTR_NULL(s->l);
	CU_ASSERT_TRUE(cli->closed);
	CU_ASSERT_EQUAL(s->n, 0);
}

/* ------------------------------------------------------------------ closing from callbacks */

static void close_in_data(struct tls_ctx *srv, struct tls_ctx *clt)
{
	struct server *s = server_start(srv);
	struct peer *cli;

	s->proto = peer_new();
	s->proto->close_in_data = true;
	cli = client_connect(s, clt);
	RUN_UNTIL(cli->established, 5000);
	CU_ASSERT_EQUAL(conn_write(cli->c, "hi", 2), 0);
	RUN_UNTIL(cli->closed && s->n == 1 && s->peers[0]->closed, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_LOCAL);
	CU_ASSERT_FALSE(s->peers[0]->closed_inside_data);
	CU_ASSERT_EQUAL(s->peers[0]->data_calls, 1);
	CU_ASSERT_EQUAL(cli->reason, CONN_CLOSE_PEER);
	CU_ASSERT_EQUAL_FATAL(cli->rx_len, 3);
	CU_ASSERT_EQUAL(memcmp(cli->rx, "bye", 3), 0);
	talloc_free(s->l);
}

static void test_close_in_data_plain(void)
{
	close_in_data(NULL, NULL);
}

static void test_close_in_data_tls(void)
{
	close_in_data(srv_tls(false), cli_tls(NULL));
}

static void test_abort_in_data(void)
{
	struct server *s = server_start(srv_tls(false));
	struct peer *cli;

	s->proto = peer_new();
	s->proto->abort_in_data = true;
	cli = client_connect(s, cli_tls(NULL));
	RUN_UNTIL(cli->established, 5000);
	CU_ASSERT_EQUAL(conn_write(cli->c, "hi", 2), 0);
	RUN_UNTIL(cli->closed && s->n == 1 && s->peers[0]->closed, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	/* closed() came after data() returned, with the reason given */
	CU_ASSERT_FALSE(s->peers[0]->closed_inside_data);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_ERROR);
	CU_ASSERT_TRUE(cli->closed);
	talloc_free(s->l);
}

static void test_free_in_data(void)
{
	struct server *s = server_start(srv_tls(false));
	struct peer *cli;

	s->proto = peer_new();
	s->proto->free_in_data = true;
	cli = client_connect(s, cli_tls(NULL));
	RUN_UNTIL(cli->established, 5000);
	/* two records in one go: nothing may be delivered after the free */
	CU_ASSERT_EQUAL(conn_write(cli->c, "one", 3), 0);
	CU_ASSERT_EQUAL(conn_write(cli->c, "two", 3), 0);
	RUN_UNTIL(cli->closed, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	CU_ASSERT_FALSE(s->peers[0]->closed);	/* talloc_free(): no closed() */
	CU_ASSERT_EQUAL(s->peers[0]->data_calls, 1);
	CU_ASSERT_EQUAL(conn_listener_count(s->l), 0);
	CU_ASSERT_TRUE(cli->closed);
	talloc_free(s->l);
}

static void busy_in_accept(struct tls_ctx *srv, struct tls_ctx *clt)
{
	struct server *s = server_start(srv);
	struct peer *cli;

	s->busy = true;
	cli = client_connect(s, clt);
	RUN_UNTIL(cli->closed && s->n == 1 && s->peers[0]->closed, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	/* closing from the accept callback: no established() for the owner, the answer gets out */
	CU_ASSERT_FALSE(s->peers[0]->established);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_LOCAL);
	CU_ASSERT_EQUAL(cli->reason, CONN_CLOSE_PEER);
	CU_ASSERT_EQUAL_FATAL(cli->rx_len, 4);
	CU_ASSERT_EQUAL(memcmp(cli->rx, "busy", 4), 0);
	talloc_free(s->l);
}

static void test_busy_in_accept_plain(void)
{
	busy_in_accept(NULL, NULL);
}

static void test_busy_in_accept_tls(void)
{
	busy_in_accept(srv_tls(false), cli_tls(NULL));
}

static void test_free_tls_ctx_in_use(void)
{
	/* a tls_ctx freed while its connections live: open ones go on, one still in its handshake
	 * fails closed (no peer identity can be vouched for), nothing touches freed memory */
	struct server *s = server_start(srv_tls(false));
	struct tls_ctx *t1 = cli_tls(NULL), *t2 = cli_tls(NULL);
	struct peer *open_cli, *hs_cli;

	s->proto = peer_new();
	s->proto->echo = true;
	open_cli = client_connect(s, t1);
	RUN_UNTIL(open_cli->established, 5000);
	CU_ASSERT_TRUE_FATAL(open_cli->established);
	talloc_free(t1);
	CU_ASSERT_EQUAL(conn_write(open_cli->c, "still", 5), 0);
	RUN_UNTIL(open_cli->rx_len == 5 || open_cli->closed, 5000);
	CU_ASSERT_EQUAL(open_cli->rx_len, 5);

	hs_cli = client_connect(s, t2);
	talloc_free(t2);
	RUN_UNTIL(hs_cli->closed, 5000);
	CU_ASSERT_TRUE(hs_cli->closed);
	CU_ASSERT_EQUAL(hs_cli->reason, CONN_CLOSE_TLS);
	CU_ASSERT_FALSE(hs_cli->established);
	conn_close(open_cli->c);
	RUN_UNTIL(open_cli->closed, 5000);
	CU_ASSERT_EQUAL(open_cli->reason, CONN_CLOSE_LOCAL);
	talloc_free(s->l);
}

static void garbage_to(struct tls_ctx *srv)
{
	/* plain bytes (an HTTP request) to a TLS server: a TLS failure, nothing delivered */
	static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct server *s = server_start(srv);
	struct peer *cli = client_connect(s, NULL);

	RUN_UNTIL(cli->established, 5000);
	CU_ASSERT_EQUAL(conn_write(cli->c, req, sizeof(req) - 1), 0);
	RUN_UNTIL(cli->closed && s->n == 1 && s->peers[0]->closed, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_TLS);
	CU_ASSERT_EQUAL(s->peers[0]->data_calls, 0);
	CU_ASSERT_TRUE(cli->closed);
	talloc_free(s->l);
}

static void test_garbage_to_tls_server(void)
{
	garbage_to(srv_tls(true));
}

static void test_garbage_to_psk_server(void)
{
	garbage_to(psk_srv());
}

static void test_timeout_off(void)
{
	struct server *s = server_start(NULL);
	struct peer *cli;

	s->timeout_ms = 100;
	cli = client_connect(s, NULL);
	RUN_UNTIL(cli->established && s->n == 1, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	conn_set_timeout(s->peers[0]->c, 0);
	RUN_FOR(300);
	CU_ASSERT_FALSE(s->peers[0]->closed);
	CU_ASSERT_FALSE(cli->closed);
	talloc_free(s->l);
}

static void test_abort_outside_callback(void)
{
	struct server *s = server_start(NULL);
	struct peer *cli = client_connect(s, NULL);

	RUN_UNTIL(cli->established && s->n == 1, 5000);
	CU_ASSERT_EQUAL(conn_write(cli->c, "dropped", 7), 0);
	conn_abort(cli->c, CONN_CLOSE_ERROR);
	/* outside its callbacks, closed() comes at once */
	CU_ASSERT_TRUE(cli->closed);
	CU_ASSERT_EQUAL(cli->reason, CONN_CLOSE_ERROR);
	RUN_UNTIL(s->n == 1 && s->peers[0]->closed, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	CU_ASSERT_TRUE(s->peers[0]->closed);
	talloc_free(s->l);
}

static void write_to_gone_peer(struct tls_ctx *srv, struct tls_ctx *clt)
{
	/* the peer has gone and we keep writing: a socket error (EPIPE/ECONNRESET), never SIGPIPE */
	struct server *s = server_start(srv);
	uint8_t *buf = talloc_zero_size(g_test_ctx, 1024 * 1024);
	struct peer *cli;

	s->no_reading = true;
	cli = client_connect(s, clt);
	RUN_UNTIL(cli->established && s->n == 1 && s->peers[0]->established, 5000);
	CU_ASSERT_EQUAL_FATAL(s->n, 1);
	conn_abort(cli->c, CONN_CLOSE_ERROR);
	RUN_FOR(50);
	conn_set_write_limit(s->peers[0]->c, 4 * 1024 * 1024);
	CU_ASSERT_EQUAL(conn_write(s->peers[0]->c, buf, 1024 * 1024), 0);
	RUN_UNTIL(s->peers[0]->closed, 5000);
	CU_ASSERT_TRUE(s->peers[0]->closed);
	CU_ASSERT_EQUAL(s->peers[0]->reason, CONN_CLOSE_ERROR);
	talloc_free(s->l);
}

static void test_write_to_gone_peer_plain(void)
{
	write_to_gone_peer(NULL, NULL);
}

static void test_write_to_gone_peer_tls(void)
{
	write_to_gone_peer(srv_tls(false), cli_tls(NULL));
}

/* ------------------------------------------------------------------ suite */

static int suite_init(void)
{
	const char *tmp = getenv("SGP02_TMP");
	char *cmd;
	int rc;

	g_root = talloc_named_const(NULL, 0, "conn_test");
	osmo_init_logging2(g_root, &sgp02_log_info);
	log_set_print_category(osmo_stderr_target, 1);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	log_parse_category_mask(osmo_stderr_target, getenv("CONN_TEST_DEBUG") ? "DHTTP,1" : "DHTTP,8");
	/* SIGPIPE stays at its default (fatal): conn must never raise it, whatever the peer does */

	g_pki = talloc_asprintf(g_root, "%s/conn_test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(g_pki))
		return -1;
	cmd = talloc_asprintf(g_root, "'%s/tests/common/mkcerts.sh' '%s'", SGP02_SRCDIR, g_pki);
	rc = system(cmd);
	return rc == 0 ? 0 : -1;
}

static int suite_cleanup(void)
{
	char *cmd = talloc_asprintf(g_root, "rm -rf '%s'", g_pki);
	int rc = system(cmd);

	talloc_free(g_root);
	return rc == 0 ? 0 : -1;
}

static const struct test_case conn_cases[] = {
	TEST_CASE(test_plain_echo),
	TEST_CASE(test_drained_after_answer_in_data),
	TEST_CASE(test_peer_name_and_flags),
	TEST_CASE(test_connect_refused),
	TEST_CASE(test_localhost_name),
	TEST_CASE(test_refused_by_owner),
	TEST_CASE(test_tls_echo),
	TEST_CASE(test_tls_wrong_server_ca),
	TEST_CASE(test_tls_ctx_errors),
	TEST_CASE(test_mtls_ok),
	TEST_CASE(test_mtls_rogue_cert),
	TEST_CASE(test_mtls_missing_cert),
	TEST_CASE(test_psk_ok),
	TEST_CASE(test_psk_wrong_key),
	TEST_CASE(test_psk_unknown_identity),
	TEST_CASE(test_psk_refuses_certificate_client),
	TEST_CASE(test_psk_each_cipher_suite),
	TEST_CASE(test_psk_refuses_tls13),
	TEST_CASE(test_write_overflow),
	TEST_CASE(test_overflow_when_peer_stops_reading),
	TEST_CASE(test_idle_timeout),
	TEST_CASE(test_handshake_timeout),
	TEST_CASE(test_backpressure_plain),
	TEST_CASE(test_backpressure_tls),
	TEST_CASE(test_large_transfer_plain),
	TEST_CASE(test_large_transfer_tls),
	TEST_CASE(test_close_flushes),
	TEST_CASE(test_200_conns_plain),
	TEST_CASE(test_200_conns_tls),
	TEST_CASE(test_free_listener_with_conns),
	TEST_CASE(test_free_listener_from_callback),
	TEST_CASE(test_close_in_data_plain),
	TEST_CASE(test_close_in_data_tls),
	TEST_CASE(test_abort_in_data),
	TEST_CASE(test_free_in_data),
	TEST_CASE(test_abort_outside_callback),
	TEST_CASE(test_free_tls_ctx_in_use),
	TEST_CASE(test_garbage_to_tls_server),
	TEST_CASE(test_garbage_to_psk_server),
	TEST_CASE(test_timeout_off),
	TEST_CASE(test_busy_in_accept_plain),
	TEST_CASE(test_busy_in_accept_tls),
	TEST_CASE(test_write_to_gone_peer_plain),
	TEST_CASE(test_write_to_gone_peer_tls),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "conn", suite_init, suite_cleanup, conn_cases },
	{ NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
