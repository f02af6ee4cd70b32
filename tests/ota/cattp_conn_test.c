/* Tests for the CAT_TP connection state machine and server table (ETSI TS 102 127 §6).
 *
 * A client connection (active open, the eUICC side) and a cattp_server (passive open, the SM-SR side) talk
 * through an in-memory datagram network with a fake clock and a seeded PRNG that can drop, duplicate and
 * reorder datagrams. Everything is deterministic: the same seed gives the same run. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>
#include <osmocom/core/linuxlist.h>

#include <sgp02/ota/cattp.h>
#include <sgp02/ota/cattp_conn.h>

#include "testlib.h"

#define SRV_PORT	1024
#define CLI_PORT	49152
#define MAX_CLIENTS	128
#define BULK		65536

/* one datagram on its way */
struct dgram {
	struct llist_head list;
	int to;			/* -1: the server, else client index */
	uint64_t at;
	size_t len;
	uint8_t data[];
};

struct client {
	struct cattp_conn *conn;
	int idx;
	bool established, closed;
	enum cattp_conn_cause cause;
	uint8_t reason;
	uint8_t *rx;		/* SDU bytes received */
	size_t rx_len;
	unsigned int rx_sdus;
};

struct net {
	uint64_t now;
	uint32_t rng;
	unsigned int loss_pct, dup_pct, reorder_pct;
	bool blackhole;		/* drop everything */
	bool capture;		/* keep the datagrams sent to the server in captured[] instead of the queue */
	struct llist_head queue;
	struct cattp_server *srv;
	struct client cli[MAX_CLIENTS];
	unsigned int num_cli;
	/* server side bookkeeping */
	unsigned int srv_established, srv_closed;
	enum cattp_conn_cause srv_cause;
	uint8_t srv_reason;
	uint8_t *srv_rx;
	size_t srv_rx_len;
	unsigned int srv_rx_sdus;
	bool echo;		/* server echoes every SDU back */
	int drop_seq_to_server;	/* drop the data PDU with this sequence number once (-1: none) */
	unsigned int sent_to_server, sent_to_clients;
	uint8_t last_to_client[512];
	size_t last_to_client_len;
};

static struct net *g_net;

static uint32_t rnd(void)
{
	/* xorshift32: deterministic, seeded per test */
	uint32_t x = g_net->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	g_net->rng = x;
	return x;
}

static void enqueue(int to, const uint8_t *buf, size_t len, uint64_t delay)
{
	struct dgram *d = talloc_size(g_net, sizeof(*d) + len);
	struct dgram *pos;

	d->to = to;
	d->at = g_net->now + delay;
	d->len = len;
	memcpy(d->data, buf, len);
	/* keep the queue sorted by time, FIFO among equal times */
	llist_for_each_entry(pos, &g_net->queue, list) {
		if (pos->at > d->at) {
			llist_add_tail(&d->list, &pos->list);
			return;
		}
	}
	llist_add_tail(&d->list, &g_net->queue);
}

/* With CATTP_CONN_PCAP=<file> in the environment, every datagram sent is written to a pcap file (IPv4/UDP,
 * fake clock as timestamps) so that `tshark -d udp.port==1024,cattp -r <file>` can check it. */
static FILE *g_pcap;

static void pcap_put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void pcap_write(int to, const uint8_t *buf, size_t len)
{
	uint8_t hdr[16 + 28];
	uint32_t rec[4];
	unsigned int i, sum = 0;
	int cli = to < 0 ? (len >= 6 ? ((buf[4] << 8) | buf[5]) - CLI_PORT : 0) : to;

	if (!g_pcap || len > 1400)
		return;
	rec[0] = g_net->now / 1000;
	rec[1] = (g_net->now % 1000) * 1000;
	rec[2] = rec[3] = 28 + len;
	memcpy(hdr, rec, 16);
	memset(hdr + 16, 0, 28);
	hdr[16] = 0x45;
	pcap_put16(hdr + 18, 28 + len);
	hdr[24] = 64;
	hdr[25] = 17;
	/* 10.0.0.1 is the server, 10.1.0.x the clients */
	hdr[28] = 10; hdr[31] = 1;
	hdr[32] = 10; hdr[33] = 1; hdr[35] = cli & 0xff;
	if (to < 0) {
		uint8_t t[4];

		memcpy(t, hdr + 28, 4);
		memcpy(hdr + 28, hdr + 32, 4);
		memcpy(hdr + 32, t, 4);
	}
	for (i = 0; i < 20; i += 2)
		sum += (hdr[16 + i] << 8) | hdr[16 + i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	pcap_put16(hdr + 26, ~sum & 0xffff);
	pcap_put16(hdr + 36, to < 0 ? CLI_PORT + cli : SRV_PORT);
	pcap_put16(hdr + 38, to < 0 ? SRV_PORT : CLI_PORT + cli);
	pcap_put16(hdr + 40, 8 + len);
	fwrite(hdr, 1, sizeof(hdr), g_pcap);
	fwrite(buf, 1, len, g_pcap);
}

static int suite_init(void)
{
	const char *path = getenv("CATTP_CONN_PCAP");
	/* pcap global header: magic, v2.4, snaplen 65535, linktype 228 (raw IPv4) */
	const uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 65535, 228 };

	if (!path)
		return 0;
	g_pcap = fopen(path, "wb");
	if (!g_pcap)
		return -1;
	fwrite(gh, 1, sizeof(gh), g_pcap);
	return 0;
}

static int suite_cleanup(void)
{
	if (g_pcap)
		fclose(g_pcap);
	g_pcap = NULL;
	return 0;
}

static void net_send(int to, const uint8_t *buf, size_t len)
{
	uint64_t delay = 10;

	pcap_write(to, buf, len);

	if (to < 0)
		g_net->sent_to_server++;
	else
		g_net->sent_to_clients++;
	if (to >= 0 && len <= sizeof(g_net->last_to_client)) {
		memcpy(g_net->last_to_client, buf, len);
		g_net->last_to_client_len = len;
	}
	if (g_net->blackhole)
		return;
	if (to < 0 && g_net->drop_seq_to_server >= 0 && len > OTA_CATTP_HDR_LEN && buf[3] == OTA_CATTP_HDR_LEN &&
	    ((buf[10] << 8) | buf[11]) == g_net->drop_seq_to_server) {
		g_net->drop_seq_to_server = -1;	/* once */
		return;
	}
	if (g_net->loss_pct && rnd() % 100 < g_net->loss_pct)
		return;
	if (g_net->reorder_pct && rnd() % 100 < g_net->reorder_pct)
		delay += 1 + rnd() % 60;
	enqueue(to, buf, len, delay);
	if (g_net->dup_pct && rnd() % 100 < g_net->dup_pct)
		enqueue(to, buf, len, delay + rnd() % 40);
}

/* client connection callbacks */
static int cli_send(struct cattp_conn *conn, const uint8_t *buf, size_t len)
{
	(void)conn;
	net_send(-1, buf, len);
	return 0;
}

static void cli_established(struct cattp_conn *conn)
{
	struct client *c = cattp_conn_priv(conn);

	c->established = true;
}

static void cli_deliver(struct cattp_conn *conn, const uint8_t *sdu, size_t len)
{
	struct client *c = cattp_conn_priv(conn);

	c->rx = talloc_realloc_size(g_net, c->rx, c->rx_len + len);
	memcpy(c->rx + c->rx_len, sdu, len);
	c->rx_len += len;
	c->rx_sdus++;
}

static void cli_closed(struct cattp_conn *conn, enum cattp_conn_cause cause, uint8_t reason)
{
	struct client *c = cattp_conn_priv(conn);

	CU_ASSERT_FALSE(c->closed);	/* told once */
	c->closed = true;
	c->cause = cause;
	c->reason = reason;
}

static const struct cattp_conn_ops cli_ops = {
	.send = cli_send,
	.established = cli_established,
	.deliver = cli_deliver,
	.closed = cli_closed,
};

/* server callbacks: the peer key is the client index (one byte) */
static int srv_send(struct cattp_server *srv, const void *peer, size_t peer_len, const uint8_t *buf, size_t len)
{
	(void)srv;
	CU_ASSERT_EQUAL_FATAL(peer_len, 1);
	net_send(*(const uint8_t *)peer, buf, len);
	return 0;
}

static int srv_accept(struct cattp_conn *conn, const uint8_t *ident, size_t ident_len)
{
	(void)conn;
	/* identification data as the SM-SR would check it against the EIS: here "good" or "flood" */
	if (ident_len == 4 && !memcmp(ident, "good", 4))
		return 0;
	if (ident_len == 5 && !memcmp(ident, "flood", 5))
		return 0;
	return OTA_CATTP_RST_PORT_UNAVAIL;
}

static void srv_established(struct cattp_conn *conn)
{
	(void)conn;
	g_net->srv_established++;
}

static void srv_deliver(struct cattp_conn *conn, const uint8_t *sdu, size_t len)
{
	g_net->srv_rx = talloc_realloc_size(g_net, g_net->srv_rx, g_net->srv_rx_len + len);
	memcpy(g_net->srv_rx + g_net->srv_rx_len, sdu, len);
	g_net->srv_rx_len += len;
	g_net->srv_rx_sdus++;
	if (g_net->echo)
		CU_ASSERT_EQUAL(cattp_conn_send(conn, sdu, len, g_net->now), 0);
}

static void srv_closed(struct cattp_conn *conn, enum cattp_conn_cause cause, uint8_t reason)
{
	(void)conn;
	g_net->srv_closed++;
	g_net->srv_cause = cause;
	g_net->srv_reason = reason;
}

static const struct cattp_conn_ops srv_ops = {
	.accept = srv_accept,
	.established = srv_established,
	.deliver = srv_deliver,
	.closed = srv_closed,
};

static uint16_t srv_iss(struct cattp_server *srv)
{
	(void)srv;
	return 0xFFF0 + (rnd() & 7);	/* near the wrap-around on purpose */
}

static void test_params(struct cattp_conn_params *p)
{
	cattp_conn_params_default(p);
	p->rto_ms = 200;
	p->rto_max_ms = 1600;
	p->max_retries = 6;
	p->keepalive_ms = 5000;
	p->max_send_queue = 2 * BULK;
}

static void net_init(uint32_t seed, unsigned int max_conns, const struct cattp_conn_params *sp)
{
	struct cattp_conn_params p;

	g_net = talloc_zero(g_test_ctx, struct net);
	g_net->rng = seed;
	g_net->drop_seq_to_server = -1;
	INIT_LLIST_HEAD(&g_net->queue);
	if (!sp) {
		test_params(&p);
		p.local_port = SRV_PORT;
		sp = &p;
	}
	g_net->srv = cattp_server_alloc(g_net, sp, max_conns, srv_send, &srv_ops, srv_iss, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_net->srv);
}

static struct client *add_client(const char *ident, const struct cattp_conn_params *cp)
{
	struct cattp_conn_params p;
	struct client *c = &g_net->cli[g_net->num_cli];

	if (!cp) {
		test_params(&p);
		cp = &p;
	}
	p = *cp;
	p.local_port = CLI_PORT + g_net->num_cli;
	p.remote_port = SRV_PORT;
	p.iss = 0x7FF0 + g_net->num_cli;
	c->idx = g_net->num_cli++;
	c->conn = cattp_conn_alloc(g_net, &p, &cli_ops, c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->conn);
	CU_ASSERT_EQUAL(cattp_conn_connect(c->conn, (const uint8_t *)ident, strlen(ident), g_net->now), 0);
	return c;
}

/* Deliver everything due now and run the timers due now. */
static void step_now(void)
{
	struct dgram *d;
	unsigned int i;

	while (!llist_empty(&g_net->queue)) {
		d = llist_first_entry(&g_net->queue, struct dgram, list);
		if (d->at > g_net->now)
			break;
		llist_del(&d->list);
		if (d->to < 0) {
			uint8_t key = 0;
			/* the peer key of a client is its index; find which one from the source port */
			if (d->len >= 6)
				key = ((d->data[4] << 8) | d->data[5]) - CLI_PORT;
			cattp_server_rx(g_net->srv, &key, 1, d->data, d->len, g_net->now);
		} else if (g_net->cli[d->to].conn) {
			cattp_conn_rx(g_net->cli[d->to].conn, d->data, d->len, g_net->now);
		}
		talloc_free(d);
	}
	cattp_server_tick(g_net->srv, g_net->now);
	for (i = 0; i < g_net->num_cli; i++)
		cattp_conn_tick(g_net->cli[i].conn, g_net->now);
}

/* Advance the fake clock to the next event (datagram or deadline), never past limit. */
static bool step(uint64_t limit)
{
	uint64_t next = cattp_server_tick(g_net->srv, g_net->now);
	unsigned int i;

	for (i = 0; i < g_net->num_cli; i++) {
		uint64_t d = cattp_conn_next_deadline(g_net->cli[i].conn);

		if (d < next)
			next = d;
	}
	if (!llist_empty(&g_net->queue)) {
		struct dgram *d = llist_first_entry(&g_net->queue, struct dgram, list);

		if (d->at < next)
			next = d->at;
	}
	if (next == CATTP_CONN_NO_DEADLINE || next > limit)
		return false;
	if (next > g_net->now)
		g_net->now = next;
	step_now();
	return true;
}

/* Run until cond() holds or the fake clock reaches now + ms (bounded in steps too). */
static bool run_until(bool (*cond)(void), uint64_t ms)
{
	uint64_t limit = g_net->now + ms;
	unsigned int steps = 0;

	step_now();
	while (!(cond && cond()) && steps++ < 2000000) {
		if (!step(limit)) {
			g_net->now = limit;
			step_now();
			break;
		}
	}
	return cond ? cond() : true;
}

static bool cli0_established(void)
{
	return g_net->cli[0].established;
}

static bool cli0_closed(void)
{
	return g_net->cli[0].closed;
}

static struct cattp_conn *srv_conn(int idx)
{
	uint8_t key = idx;

	return cattp_server_find(g_net->srv, &key, 1);
}

static void free_net(void)
{
	TALLOC_FREE(g_net);
}

/* ------------------------------------------------------------------------------------------------------------- */

static void test_open_transfer_close(void)
{
	struct client *c;
	struct cattp_conn *sc;
	const uint8_t hello[] = "hello server";
	const uint8_t *id;
	size_t id_len;

	net_init(1, 4, NULL);
	c = add_client("good", NULL);
	CU_ASSERT_EQUAL(cattp_conn_state(c->conn), CATTP_CONN_ST_SYN_SENT);
	CU_ASSERT_TRUE(run_until(cli0_established, 1000));
	CU_ASSERT_EQUAL(cattp_conn_state(c->conn), CATTP_CONN_ST_OPEN);
	run_until(NULL, 100);
	sc = srv_conn(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	CU_ASSERT_EQUAL(cattp_conn_state(sc), CATTP_CONN_ST_OPEN);
	CU_ASSERT_EQUAL(g_net->srv_established, 1);
	id = cattp_conn_ident(sc, &id_len);
	CU_ASSERT_EQUAL(id_len, 4);
	CU_ASSERT_EQUAL(memcmp(id, "good", 4), 0);
	/* negotiated sizes: both used the defaults */
	CU_ASSERT_EQUAL(cattp_conn_max_pdu(c->conn), 200);
	CU_ASSERT_EQUAL(cattp_conn_max_sdu(sc), 1024);

	g_net->echo = true;
	CU_ASSERT_EQUAL(cattp_conn_send(c->conn, hello, sizeof(hello), g_net->now), 0);
	run_until(NULL, 500);
	CU_ASSERT_EQUAL(g_net->srv_rx_len, sizeof(hello));
	CU_ASSERT_EQUAL(c->rx_len, sizeof(hello));
	if (c->rx_len == sizeof(hello))
		CU_ASSERT_EQUAL(memcmp(c->rx, hello, sizeof(hello)), 0);
	CU_ASSERT_EQUAL(cattp_conn_unacked_bytes(c->conn), 0);
	CU_ASSERT_EQUAL(cattp_conn_unacked_bytes(sc), 0);

	/* errors on send */
	CU_ASSERT_EQUAL(cattp_conn_send(c->conn, hello, 0, g_net->now), -EMSGSIZE);
	{
		static const uint8_t big[1025];

		CU_ASSERT_EQUAL(cattp_conn_send(c->conn, big, sizeof(big), g_net->now), -EMSGSIZE);
	}

	/* orderly close: RST normal ending, the server is told peer-rst/normal and frees the connection */
	CU_ASSERT_EQUAL(cattp_conn_close(c->conn, g_net->now), 0);
	CU_ASSERT_TRUE(c->closed);
	CU_ASSERT_EQUAL(c->cause, CATTP_CONN_C_LOCAL_CLOSE);
	CU_ASSERT_EQUAL(cattp_conn_state(c->conn), CATTP_CONN_ST_CLOSE_WAIT);
	CU_ASSERT_EQUAL(cattp_conn_send(c->conn, hello, 1, g_net->now), -ENOTCONN);
	run_until(NULL, 5000);
	CU_ASSERT_EQUAL(cattp_conn_state(c->conn), CATTP_CONN_ST_CLOSED);
	CU_ASSERT_EQUAL(g_net->srv_closed, 1);
	CU_ASSERT_EQUAL(g_net->srv_cause, CATTP_CONN_C_PEER_RST);
	CU_ASSERT_EQUAL(g_net->srv_reason, OTA_CATTP_RST_NORMAL);
	CU_ASSERT_EQUAL(cattp_conn_stats(c->conn)->rst_tx[OTA_CATTP_RST_NORMAL], 1);
	CU_ASSERT_EQUAL(cattp_server_num_conns(g_net->srv), 0);
	CU_ASSERT_EQUAL(cattp_server_stats(g_net->srv)->closed, 1);
	CU_ASSERT_EQUAL(cattp_conn_stats(c->conn)->retransmissions, 0);
	free_net();
}

/* A close requested with data outstanding waits for the acknowledgement. */
static void test_close_waits_for_data(void)
{
	struct client *c;
	uint8_t buf[1000];

	net_init(2, 4, NULL);
	c = add_client("good", NULL);
	memset(buf, 0x5a, sizeof(buf));
	/* queued before OPEN: sent once the SYN-ACK arrives */
	CU_ASSERT_EQUAL(cattp_conn_send(c->conn, buf, sizeof(buf), g_net->now), 0);
	CU_ASSERT_EQUAL(cattp_conn_close(c->conn, g_net->now), 0);
	CU_ASSERT_FALSE(c->closed);
	CU_ASSERT_TRUE(run_until(cli0_closed, 5000));
	CU_ASSERT_EQUAL(c->cause, CATTP_CONN_C_LOCAL_CLOSE);
	CU_ASSERT_EQUAL(g_net->srv_rx_len, sizeof(buf));
	CU_ASSERT_EQUAL(g_net->srv_rx_sdus, 1);
	free_net();
}

static bool bulk_done(void)
{
	struct client *c = &g_net->cli[0];
	struct cattp_conn *sc = srv_conn(0);

	return g_net->srv_rx_len == BULK && c->rx_len == BULK && sc && !cattp_conn_unacked_bytes(sc) &&
	       !cattp_conn_unacked_bytes(c->conn);
}

/* 64 KiB each way in SDUs of 1000 bytes (6 PDUs each), through a network with the given faults. */
static void bulk(uint32_t seed, unsigned int loss, unsigned int dup, unsigned int reorder)
{
	struct client *c;
	struct cattp_conn *sc;
	uint8_t *data;
	size_t off, i;
	const struct cattp_conn_stats *cs, *ss;

	net_init(seed, 4, NULL);
	g_net->loss_pct = loss;
	g_net->dup_pct = dup;
	g_net->reorder_pct = reorder;
	c = add_client("good", NULL);
	CU_ASSERT_TRUE_FATAL(run_until(cli0_established, 60000));
	run_until(NULL, 200);
	sc = srv_conn(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);

	data = talloc_size(g_net, BULK);
	for (i = 0; i < BULK; i++)
		data[i] = (i * 7 + i / 251) & 0xff;
	for (off = 0; off < BULK; off += 1000) {
		size_t n = BULK - off < 1000 ? BULK - off : 1000;

		CU_ASSERT_EQUAL(cattp_conn_send(c->conn, data + off, n, g_net->now), 0);
		CU_ASSERT_EQUAL(cattp_conn_send(sc, data + BULK - off - n, n, g_net->now), 0);
	}
	CU_ASSERT_TRUE(run_until(bulk_done, 3600 * 1000));
	CU_ASSERT_EQUAL(g_net->srv_rx_len, BULK);
	CU_ASSERT_EQUAL(c->rx_len, BULK);
	if (g_net->srv_rx_len == BULK)
		CU_ASSERT_EQUAL(memcmp(g_net->srv_rx, data, BULK), 0);
	if (c->rx_len == BULK) {
		/* the server sent its SDUs from the end backwards */
		for (off = 0; off < BULK; off += 1000) {
			size_t n = BULK - off < 1000 ? BULK - off : 1000;

			CU_ASSERT_EQUAL(memcmp(c->rx + off, data + BULK - off - n, n), 0);
		}
	}
	CU_ASSERT_EQUAL(g_net->srv_rx_sdus, (BULK + 999) / 1000);
	CU_ASSERT_EQUAL(c->rx_sdus, (BULK + 999) / 1000);
	CU_ASSERT_FALSE(c->closed);
	cs = cattp_conn_stats(c->conn);
	ss = cattp_conn_stats(sc);
	if (loss) {
		CU_ASSERT(cs->retransmissions > 0);
		CU_ASSERT(ss->retransmissions > 0);
	} else if (!reorder && !dup) {
		CU_ASSERT_EQUAL(cs->retransmissions, 0);
		CU_ASSERT_EQUAL(ss->retransmissions, 0);
		CU_ASSERT_EQUAL(cs->duplicates + ss->duplicates, 0);
	}
	if (dup)
		CU_ASSERT(cs->duplicates + ss->duplicates > 0);
	CU_ASSERT_EQUAL(cs->bad_checksum + ss->bad_checksum + cs->malformed + ss->malformed, 0);
	printf("\n  bulk seed %u loss %u%% dup %u%% reorder %u%%: %" PRIu64 " ms, cli rtx %u dup %u oow %u, "
	       "srv rtx %u dup %u oow %u ", seed, loss, dup, reorder, g_net->now, cs->retransmissions,
	       cs->duplicates, cs->out_of_window, ss->retransmissions, ss->duplicates, ss->out_of_window);

	/* and a clean close afterwards */
	CU_ASSERT_EQUAL(cattp_conn_close(c->conn, g_net->now), 0);
	CU_ASSERT_TRUE(run_until(cli0_closed, 60000));
	CU_ASSERT_EQUAL(c->cause, CATTP_CONN_C_LOCAL_CLOSE);
	free_net();
}

static void test_bulk_clean(void)
{
	bulk(11, 0, 0, 0);
}

static void test_bulk_loss10(void)
{
	bulk(12, 10, 0, 0);
}

static void test_bulk_dup_reorder(void)
{
	bulk(13, 0, 10, 20);
}

static void test_bulk_loss_dup_reorder(void)
{
	bulk(14, 10, 10, 20);
	bulk(15, 20, 5, 30);
}

/* The server disappears: the client retransmits with exponential backoff up to the limit, then RST. */
static void test_retry_limit(void)
{
	struct client *c;
	const struct cattp_conn_stats *cs;
	uint8_t buf[10] = { 1 };
	uint64_t t0;

	net_init(3, 4, NULL);
	c = add_client("good", NULL);
	CU_ASSERT_TRUE_FATAL(run_until(cli0_established, 1000));
	run_until(NULL, 100);
	g_net->blackhole = true;
	t0 = g_net->now;
	g_net->sent_to_server = 0;
	CU_ASSERT_EQUAL(cattp_conn_send(c->conn, buf, sizeof(buf), g_net->now), 0);
	CU_ASSERT_TRUE(run_until(cli0_closed, 60000));
	CU_ASSERT_EQUAL(c->cause, CATTP_CONN_C_MAX_RETRIES);
	CU_ASSERT_EQUAL(c->reason, OTA_CATTP_RST_MAX_RETRIES);
	cs = cattp_conn_stats(c->conn);
	CU_ASSERT_EQUAL(cs->retransmissions, 6);
	CU_ASSERT_EQUAL(cs->rst_tx[OTA_CATTP_RST_MAX_RETRIES], 1);
	/* 1 data PDU + 6 retransmissions + RST */
	CU_ASSERT_EQUAL(g_net->sent_to_server, 8);
	/* backoff 200, then 400 800 1600 1600 1600 1600 (capped) before giving up */
	CU_ASSERT_EQUAL(g_net->now - t0, 200 + 400 + 800 + 1600 * 4);
	free_net();
}

/* The SYN is retransmitted when lost; a SYN never answered ends in max-retries too. */
static void test_syn_retransmit(void)
{
	struct client *c;

	net_init(4, 4, NULL);
	g_net->blackhole = true;
	c = add_client("good", NULL);
	run_until(NULL, 250);	/* first SYN lost, one retransmission at 200 ms */
	CU_ASSERT_EQUAL(cattp_conn_stats(c->conn)->retransmissions, 1);
	g_net->blackhole = false;
	CU_ASSERT_TRUE(run_until(cli0_established, 2000));
	CU_ASSERT_EQUAL(g_net->srv_established, 0);	/* the server opens on the ACK */
	run_until(NULL, 100);
	CU_ASSERT_EQUAL(g_net->srv_established, 1);
	free_net();

	net_init(5, 4, NULL);
	g_net->blackhole = true;
	c = add_client("good", NULL);
	CU_ASSERT_TRUE(run_until(cli0_closed, 60000));
	CU_ASSERT_EQUAL(c->cause, CATTP_CONN_C_MAX_RETRIES);
	CU_ASSERT_FALSE(c->established);
	free_net();
}

/* Unknown identification: the accept callback refuses with a reason, the client is told that reason. */
static void test_refused_ident(void)
{
	struct client *c;

	net_init(6, 4, NULL);
	c = add_client("evil", NULL);
	CU_ASSERT_TRUE(run_until(cli0_closed, 1000));
	CU_ASSERT_EQUAL(c->cause, CATTP_CONN_C_PEER_RST);
	CU_ASSERT_EQUAL(c->reason, OTA_CATTP_RST_PORT_UNAVAIL);
	CU_ASSERT_FALSE(c->established);
	CU_ASSERT_EQUAL(cattp_conn_state(c->conn), CATTP_CONN_ST_CLOSED);
	CU_ASSERT_EQUAL(cattp_server_num_conns(g_net->srv), 0);
	CU_ASSERT_EQUAL(g_net->srv_closed, 1);
	CU_ASSERT_EQUAL(g_net->srv_cause, CATTP_CONN_C_REFUSED);
	CU_ASSERT_EQUAL(cattp_conn_stats(c->conn)->rst_rx[OTA_CATTP_RST_PORT_UNAVAIL], 1);
	free_net();
}

/* A client offering a too small max PDU size is refused with illegal-parameters. */
static void test_refused_params(void)
{
	struct client *c;
	struct cattp_conn_params p;
	struct ota_cattp_pdu pdu;
	uint8_t buf[64], key = 0;
	uint16_t csum;
	int n;

	net_init(7, 4, NULL);
	test_params(&p);
	c = add_client("good", &p);
	/* replace the client's SYN by a hand-made one with max PDU 22 */
	while (!llist_empty(&g_net->queue)) {
		struct dgram *d = llist_first_entry(&g_net->queue, struct dgram, list);

		llist_del(&d->list);
		talloc_free(d);
	}
	ota_cattp_init_syn(&pdu, false, CLI_PORT, SRV_PORT, 0x7FF0, 0, 10, 22, 1000, (const uint8_t *)"good", 4);
	n = ota_cattp_encode(buf, sizeof(buf), &pdu);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(cattp_server_rx(g_net->srv, &key, 1, buf, n, g_net->now), 0);
	CU_ASSERT_TRUE(run_until(cli0_closed, 1000));
	CU_ASSERT_EQUAL(c->reason, OTA_CATTP_RST_ILLEGAL_PARAMS);

	/* a SYN with version bits 01 gets RST version-not-supported */
	buf[0] |= 0x01;
	buf[16] = buf[17] = 0;
	csum = ota_cattp_checksum(buf, n);
	buf[16] = csum >> 8;
	buf[17] = csum & 0xff;
	g_net->srv_reason = 0;
	CU_ASSERT_EQUAL(cattp_server_rx(g_net->srv, &key, 1, buf, n, g_net->now), 0);
	CU_ASSERT_EQUAL(g_net->srv_reason, OTA_CATTP_RST_VERSION);
	CU_ASSERT_EQUAL(cattp_server_num_conns(g_net->srv), 0);
	free_net();
}

/* Idle: NUL keep-alives after the interval, acknowledged; the connection stays open; a dead peer is found. */
static void test_keepalive(void)
{
	struct client *c;
	struct cattp_conn *sc;

	net_init(8, 4, NULL);
	c = add_client("good", NULL);
	CU_ASSERT_TRUE_FATAL(run_until(cli0_established, 1000));
	run_until(NULL, 100);
	sc = srv_conn(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	run_until(NULL, 20000);		/* 4 keep-alive intervals of 5 s */
	CU_ASSERT(cattp_conn_stats(c->conn)->keepalives_tx + cattp_conn_stats(sc)->keepalives_tx >= 3);
	CU_ASSERT_EQUAL(cattp_conn_stats(c->conn)->retransmissions, 0);
	CU_ASSERT_EQUAL(cattp_conn_state(c->conn), CATTP_CONN_ST_OPEN);
	CU_ASSERT_EQUAL(cattp_conn_state(sc), CATTP_CONN_ST_OPEN);
	CU_ASSERT_EQUAL(cattp_conn_unacked_bytes(c->conn), 0);

	/* the device goes away: the server's next keep-alive is never acknowledged */
	g_net->blackhole = true;
	run_until(NULL, 30000);
	CU_ASSERT_EQUAL(g_net->srv_closed, 1);
	CU_ASSERT_EQUAL(g_net->srv_cause, CATTP_CONN_C_MAX_RETRIES);
	CU_ASSERT_EQUAL(cattp_server_num_conns(g_net->srv), 0);
	free_net();
}

/* Idle close: no SDU for idle_timeout_ms -> RST normal ending, the peer is told. */
static void test_idle_close(void)
{
	struct cattp_conn_params p;
	struct client *c;

	test_params(&p);
	p.local_port = SRV_PORT;
	p.idle_timeout_ms = 12000;
	net_init(9, 4, &p);
	c = add_client("good", NULL);
	CU_ASSERT_TRUE_FATAL(run_until(cli0_established, 1000));
	CU_ASSERT_TRUE(run_until(cli0_closed, 20000));
	CU_ASSERT_EQUAL(c->cause, CATTP_CONN_C_PEER_RST);
	CU_ASSERT_EQUAL(c->reason, OTA_CATTP_RST_NORMAL);
	CU_ASSERT_EQUAL(g_net->srv_cause, CATTP_CONN_C_IDLE);
	CU_ASSERT(g_net->now >= 12000 && g_net->now < 13000);
	run_until(NULL, 5000);
	CU_ASSERT_EQUAL(cattp_server_num_conns(g_net->srv), 0);
	free_net();
}

/* Every byte of a valid data datagram flipped: each copy is dropped and counted, nothing changes. */
static void test_corrupted(void)
{
	struct client *c;
	struct cattp_conn *sc;
	struct ota_cattp_pdu pdu;
	struct cattp_conn_stats before;
	const struct cattp_conn_stats *ss;
	uint8_t buf[64], bad[64];
	const uint8_t payload[] = "0123456789";
	unsigned int sent, drops;
	int n, i;
	uint8_t key = 0;

	net_init(10, 4, NULL);
	c = add_client("good", NULL);
	CU_ASSERT_TRUE_FATAL(run_until(cli0_established, 1000));
	run_until(NULL, 100);
	sc = srv_conn(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	/* what the client would send next: seq iss + 1, acknowledging the server's SYN-ACK */
	ota_cattp_init_ack(&pdu, CLI_PORT, SRV_PORT, 0x7FF1, 0, 10, payload, sizeof(payload), false);
	/* the server's iss is unknown here: take the ack number from the last datagram it sent */
	pdu.ack = (g_net->last_to_client[10] << 8) | g_net->last_to_client[11];
	n = ota_cattp_encode(buf, sizeof(buf), &pdu);
	CU_ASSERT_FATAL(n > 0);

	ss = cattp_conn_stats(sc);
	before = *ss;
	sent = g_net->sent_to_clients;
	for (i = 0; i < n; i++) {
		memcpy(bad, buf, n);
		bad[i] ^= 0xff;
		CU_ASSERT_EQUAL(cattp_server_rx(g_net->srv, &key, 1, bad, n, g_net->now), -EBADMSG);
	}
	/* truncated and extended copies */
	CU_ASSERT_EQUAL(cattp_server_rx(g_net->srv, &key, 1, buf, n - 1, g_net->now), -EBADMSG);
	CU_ASSERT_EQUAL(cattp_server_rx(g_net->srv, &key, 1, buf, 5, g_net->now), -EBADMSG);
	CU_ASSERT_EQUAL(cattp_server_rx(g_net->srv, &key, 1, NULL, 0, g_net->now), -EBADMSG);
	drops = (ss->bad_checksum - before.bad_checksum) + (ss->malformed - before.malformed);
	CU_ASSERT_EQUAL(drops, (unsigned int)n + 3);
	CU_ASSERT(ss->bad_checksum - before.bad_checksum >= (unsigned int)n - 1);
	CU_ASSERT_EQUAL(g_net->sent_to_clients, sent);	/* nothing answered */
	CU_ASSERT_EQUAL(ss->rx_pdus, before.rx_pdus);
	CU_ASSERT_EQUAL(ss->rx_sdus, 0);
	CU_ASSERT_EQUAL(cattp_conn_state(sc), CATTP_CONN_ST_OPEN);

	/* the intact datagram is still accepted in sequence: nothing moved */
	CU_ASSERT_EQUAL(cattp_server_rx(g_net->srv, &key, 1, buf, n, g_net->now), 0);
	CU_ASSERT_EQUAL(g_net->srv_rx_sdus, 1);
	CU_ASSERT_EQUAL(g_net->srv_rx_len, sizeof(payload));
	/* again: a duplicate, counted, re-acknowledged */
	CU_ASSERT_EQUAL(cattp_server_rx(g_net->srv, &key, 1, buf, n, g_net->now), -EPROTO);
	CU_ASSERT_EQUAL(ss->duplicates, 1);
	CU_ASSERT_EQUAL(g_net->srv_rx_sdus, 1);

	/* out of window: seq far ahead, dropped and counted */
	pdu.seq = 0x7FF2 + 100;
	n = ota_cattp_encode(buf, sizeof(buf), &pdu);
	CU_ASSERT_EQUAL(cattp_server_rx(g_net->srv, &key, 1, buf, n, g_net->now), -EPROTO);
	CU_ASSERT_EQUAL(ss->out_of_window, 1);
	/* wrong destination port */
	pdu.seq = 0x7FF2;
	pdu.dst_port = SRV_PORT + 1;
	n = ota_cattp_encode(buf, sizeof(buf), &pdu);
	CU_ASSERT_EQUAL(cattp_server_rx(g_net->srv, &key, 1, buf, n, g_net->now), -EPROTO);
	CU_ASSERT_EQUAL(ss->unexpected, 1);
	/* acknowledging something never sent */
	pdu.dst_port = SRV_PORT;
	pdu.ack += 1000;
	n = ota_cattp_encode(buf, sizeof(buf), &pdu);
	CU_ASSERT_EQUAL(cattp_server_rx(g_net->srv, &key, 1, buf, n, g_net->now), -EPROTO);
	CU_ASSERT_EQUAL(ss->unexpected, 2);
	CU_ASSERT_EQUAL(g_net->srv_rx_sdus, 1);
	CU_ASSERT_EQUAL(cattp_conn_state(sc), CATTP_CONN_ST_OPEN);

	/* the real client still works afterwards (its seq iss + 1 was taken by our injected PDU: the client's
	 * first SDU has the same sequence number, so the server sees it as a duplicate and the client must not
	 * care; send two so the second one shows up) */
	CU_ASSERT_EQUAL(cattp_conn_send(c->conn, payload, 3, g_net->now), 0);
	CU_ASSERT_EQUAL(cattp_conn_send(c->conn, payload, 4, g_net->now), 0);
	run_until(NULL, 1000);
	CU_ASSERT_EQUAL(g_net->srv_rx_sdus, 2);
	CU_ASSERT_EQUAL(g_net->srv_rx_len, sizeof(payload) + 4);
	free_net();
}

/* SYN flood from many peers: the table stays bounded, an established connection keeps working, half-open
 * connections expire. */
static void test_syn_flood(void)
{
	struct client *c;
	struct ota_cattp_pdu pdu;
	uint8_t buf[64];
	const uint8_t sdu[] = "still here";
	unsigned int i;
	int n, refused = 0;

	net_init(16, 8, NULL);
	c = add_client("good", NULL);
	CU_ASSERT_TRUE_FATAL(run_until(cli0_established, 1000));
	run_until(NULL, 100);
	g_net->echo = true;
	for (i = 1; i <= 100; i++) {
		uint8_t key = i;

		ota_cattp_init_syn(&pdu, false, CLI_PORT + i, SRV_PORT, i, 0, 10, 200, 1000,
				   (const uint8_t *)"flood", 5);
		n = ota_cattp_encode(buf, sizeof(buf), &pdu);
		if (cattp_server_rx(g_net->srv, &key, 1, buf, n, g_net->now) == -EBUSY)
			refused++;
	}
	CU_ASSERT_EQUAL(cattp_server_num_conns(g_net->srv), 8);
	CU_ASSERT_EQUAL(refused, 93);
	CU_ASSERT_EQUAL(cattp_server_stats(g_net->srv)->refused_full, 93);
	CU_ASSERT_EQUAL(cattp_server_stats(g_net->srv)->accepted, 8);

	CU_ASSERT_EQUAL(cattp_conn_send(c->conn, sdu, sizeof(sdu), g_net->now), 0);
	run_until(NULL, 500);
	CU_ASSERT_EQUAL(c->rx_len, sizeof(sdu));

	/* the half-open connections give up after the retry limit (SYN-ACKs go to clients that do not exist) */
	run_until(NULL, 20000);
	CU_ASSERT_EQUAL(cattp_server_num_conns(g_net->srv), 1);
	CU_ASSERT_EQUAL(cattp_conn_state(c->conn), CATTP_CONN_ST_OPEN);
	CU_ASSERT_FALSE(c->closed);

	/* datagrams from unknown peers that are no SYN: counted, answered with a RST */
	{
		uint8_t key = 200;

		ota_cattp_init_nul(&pdu, CLI_PORT + 200, SRV_PORT, 5, 6, 10);
		n = ota_cattp_encode(buf, sizeof(buf), &pdu);
		CU_ASSERT_EQUAL(cattp_server_rx(g_net->srv, &key, 1, buf, n, g_net->now), -ENOTCONN);
		CU_ASSERT_EQUAL(cattp_server_stats(g_net->srv)->no_conn, 1);
		CU_ASSERT_EQUAL(cattp_server_rx(g_net->srv, &key, 1, buf, n - 1, g_net->now), -EBADMSG);
		CU_ASSERT_EQUAL(cattp_server_stats(g_net->srv)->bad_datagram, 1);
	}
	free_net();
}

/* Segmentation limits: an SDU beyond the negotiated max SDU size is refused locally, and a peer that
 * sends one (SEG never cleared) is reset. */
static void test_sdu_limit(void)
{
	struct cattp_conn_params p;
	struct client *c;
	struct cattp_conn *sc;
	uint8_t *big;

	test_params(&p);
	p.local_port = SRV_PORT;
	p.max_sdu_size = 300;
	p.max_pdu_size = 60;
	net_init(17, 4, &p);
	c = add_client("good", NULL);
	CU_ASSERT_TRUE_FATAL(run_until(cli0_established, 1000));
	run_until(NULL, 100);
	sc = srv_conn(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	CU_ASSERT_EQUAL(cattp_conn_max_pdu(c->conn), 60);
	CU_ASSERT_EQUAL(cattp_conn_max_sdu(c->conn), 300);
	big = talloc_zero_size(g_net, 1000);
	CU_ASSERT_EQUAL(cattp_conn_send(c->conn, big, 301, g_net->now), -EMSGSIZE);
	CU_ASSERT_EQUAL(cattp_conn_send(c->conn, big, 300, g_net->now), 0);
	run_until(NULL, 1000);
	CU_ASSERT_EQUAL(g_net->srv_rx_len, 300);
	/* 300 bytes in PDUs of 42 data bytes: 8 PDUs (7 with SEG) */
	CU_ASSERT_EQUAL(g_net->srv_rx_sdus, 1);
	free_net();
}

/* One data PDU lost in the middle of a window: the receiver EAKs the later ones, the sender retransmits only
 * the lost one and the SDU is delivered once, intact. */
static void test_eak(void)
{
	struct client *c;
	struct cattp_conn *sc;
	uint8_t buf[1000];
	unsigned int i;

	net_init(18, 4, NULL);
	c = add_client("good", NULL);
	CU_ASSERT_TRUE_FATAL(run_until(cli0_established, 1000));
	run_until(NULL, 100);
	sc = srv_conn(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = i;
	/* the client's data starts at iss + 1 = 0x7FF1: lose the second PDU of the SDU */
	g_net->drop_seq_to_server = 0x7FF2;
	CU_ASSERT_EQUAL(cattp_conn_send(c->conn, buf, sizeof(buf), g_net->now), 0);
	run_until(NULL, 15);
	/* 6 PDUs sent, 5 arrived: 1 in order, 4 held out of order and EAK-ed */
	CU_ASSERT_EQUAL(g_net->srv_rx_sdus, 0);
	CU_ASSERT_EQUAL(cattp_conn_stats(sc)->tx_pdus, 1 + 5);	/* SYN-ACK, then one ACK/EAK per data PDU received */
	CU_ASSERT_EQUAL(cattp_conn_stats(c->conn)->retransmissions, 0);
	/* the EAKs reach the client: it drops the 4 EAK-ed PDUs and retransmits the lost one at once */
	run_until(NULL, 100);
	CU_ASSERT_EQUAL(cattp_conn_stats(c->conn)->retransmissions, 1);
	CU_ASSERT_EQUAL(g_net->srv_rx_sdus, 1);
	run_until(NULL, 1000);
	CU_ASSERT_EQUAL(cattp_conn_stats(c->conn)->retransmissions, 1);	/* the timer never fired */
	CU_ASSERT_EQUAL(g_net->srv_rx_sdus, 1);
	CU_ASSERT_EQUAL(g_net->srv_rx_len, sizeof(buf));
	if (g_net->srv_rx_len == sizeof(buf))
		CU_ASSERT_EQUAL(memcmp(g_net->srv_rx, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(cattp_conn_unacked_bytes(c->conn), 0);
	CU_ASSERT_EQUAL(cattp_conn_stats(sc)->duplicates, 0);
	free_net();
}

/* A peer that never ends its SDU (SEG on every PDU) is reset once the negotiated max SDU size is exceeded. */
static void test_sdu_overflow(void)
{
	struct client *c;
	struct cattp_conn *sc;
	struct ota_cattp_pdu pdu;
	uint8_t data[182], buf[256];
	uint16_t seq = 0x7FF1, ack;
	unsigned int i;
	int n;
	uint8_t key = 0;

	net_init(19, 4, NULL);
	c = add_client("good", NULL);
	CU_ASSERT_TRUE_FATAL(run_until(cli0_established, 1000));
	run_until(NULL, 100);
	sc = srv_conn(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	ack = (g_net->last_to_client[10] << 8) | g_net->last_to_client[11];
	memset(data, 0xab, sizeof(data));
	/* 1024 / 182 = 5.6: the 6th segment goes beyond the limit */
	for (i = 0; i < 6; i++) {
		ota_cattp_init_ack(&pdu, CLI_PORT, SRV_PORT, seq++, ack, 10, data, sizeof(data), true);
		n = ota_cattp_encode(buf, sizeof(buf), &pdu);
		cattp_server_rx(g_net->srv, &key, 1, buf, n, g_net->now);
		if (i < 5)
			CU_ASSERT_EQUAL(g_net->srv_closed, 0);
	}
	CU_ASSERT_EQUAL(g_net->srv_closed, 1);
	CU_ASSERT_EQUAL(g_net->srv_cause, CATTP_CONN_C_PROTOCOL);
	CU_ASSERT_EQUAL(g_net->srv_reason, OTA_CATTP_RST_ILLEGAL_PARAMS);
	CU_ASSERT_EQUAL(g_net->srv_rx_sdus, 0);
	(void)c;
	free_net();
}

/* Abort whose RST is lost: the peer's next PDU gets the RST again from CLOSE_WAIT, with the same reason. */
static void test_abort_rst_repeated(void)
{
	struct client *c;
	struct cattp_conn *sc;
	const uint8_t sdu[] = "are you there?";

	net_init(20, 4, NULL);
	c = add_client("good", NULL);
	CU_ASSERT_TRUE_FATAL(run_until(cli0_established, 1000));
	run_until(NULL, 100);
	sc = srv_conn(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	g_net->blackhole = true;
	CU_ASSERT_EQUAL(cattp_conn_abort(c->conn, OTA_CATTP_RST_TEMP_UNABLE, g_net->now), 0);
	CU_ASSERT_TRUE(c->closed);
	CU_ASSERT_EQUAL(c->cause, CATTP_CONN_C_LOCAL_ABORT);
	CU_ASSERT_EQUAL(cattp_conn_abort(c->conn, OTA_CATTP_RST_TEMP_UNABLE, g_net->now), -ENOTCONN);
	CU_ASSERT_EQUAL(cattp_conn_state(c->conn), CATTP_CONN_ST_CLOSE_WAIT);
	g_net->blackhole = false;
	CU_ASSERT_EQUAL(cattp_conn_send(sc, sdu, sizeof(sdu), g_net->now), 0);
	run_until(NULL, 100);
	CU_ASSERT_EQUAL(g_net->srv_closed, 1);
	CU_ASSERT_EQUAL(g_net->srv_cause, CATTP_CONN_C_PEER_RST);
	CU_ASSERT_EQUAL(g_net->srv_reason, OTA_CATTP_RST_TEMP_UNABLE);
	CU_ASSERT_EQUAL(cattp_conn_stats(c->conn)->rst_tx[OTA_CATTP_RST_TEMP_UNABLE], 2);
	CU_ASSERT_EQUAL(c->rx_len, 0);
	CU_ASSERT_EQUAL(cattp_server_num_conns(g_net->srv), 0);
	run_until(NULL, 5000);
	CU_ASSERT_EQUAL(cattp_conn_state(c->conn), CATTP_CONN_ST_CLOSED);
	free_net();
}

/* A device restarts and opens again from the same address with a new SYN: the old connection is reset and the
 * new one works. */
static void test_peer_restart(void)
{
	struct client *c;
	struct cattp_conn_params p;
	const uint8_t sdu[] = "after reboot";

	net_init(21, 4, NULL);
	c = add_client("good", NULL);
	CU_ASSERT_TRUE_FATAL(run_until(cli0_established, 1000));
	run_until(NULL, 100);
	CU_ASSERT_EQUAL(g_net->srv_established, 1);

	/* the same client slot (same peer key and port) with a fresh connection and another iss */
	TALLOC_FREE(c->conn);
	memset(c, 0, sizeof(*c));
	test_params(&p);
	p.local_port = CLI_PORT;
	p.remote_port = SRV_PORT;
	p.iss = 0x1234;
	c->conn = cattp_conn_alloc(g_net, &p, &cli_ops, c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->conn);
	CU_ASSERT_EQUAL(cattp_conn_connect(c->conn, (const uint8_t *)"good", 4, g_net->now), 0);
	CU_ASSERT_TRUE(run_until(cli0_established, 5000));
	run_until(NULL, 100);
	CU_ASSERT_EQUAL(g_net->srv_closed, 1);
	CU_ASSERT_EQUAL(g_net->srv_cause, CATTP_CONN_C_PROTOCOL);
	CU_ASSERT_EQUAL(g_net->srv_established, 2);
	CU_ASSERT_EQUAL(cattp_server_num_conns(g_net->srv), 1);
	g_net->echo = true;
	CU_ASSERT_EQUAL(cattp_conn_send(c->conn, sdu, sizeof(sdu), g_net->now), 0);
	run_until(NULL, 500);
	CU_ASSERT_EQUAL(c->rx_len, sizeof(sdu));
	free_net();
}

/* Window sizes at both ends of the range (1: stop-and-wait; 32: the maximum), with loss, across the sequence
 * number wrap: 16 KiB each way. */
static bool windows_done(void)
{
	struct cattp_conn *sc = srv_conn(0);

	return g_net->srv_rx_len == 16384 && g_net->cli[0].rx_len == 16384 && sc &&
	       !cattp_conn_unacked_bytes(sc) && !cattp_conn_unacked_bytes(g_net->cli[0].conn);
}

static void test_windows(void)
{
	struct cattp_conn_params sp, cp;
	struct client *c;
	struct cattp_conn *sc;
	uint8_t *data;
	unsigned int i;

	test_params(&sp);
	sp.local_port = SRV_PORT;
	sp.window = 32;
	test_params(&cp);
	cp.window = 1;
	net_init(22, 4, &sp);
	g_net->loss_pct = 10;
	c = add_client("good", &cp);
	CU_ASSERT_TRUE_FATAL(run_until(cli0_established, 60000));
	run_until(NULL, 100);
	sc = srv_conn(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sc);
	data = talloc_size(g_net, 16384);
	for (i = 0; i < 16384; i++)
		data[i] = i * 13;
	for (i = 0; i < 16384; i += 1024) {
		CU_ASSERT_EQUAL(cattp_conn_send(c->conn, data + i, 1024, g_net->now), 0);
		CU_ASSERT_EQUAL(cattp_conn_send(sc, data + i, 1024, g_net->now), 0);
	}
	CU_ASSERT_TRUE(run_until(windows_done, 3600 * 1000));
	if (g_net->srv_rx_len == 16384)
		CU_ASSERT_EQUAL(memcmp(g_net->srv_rx, data, 16384), 0);
	if (c->rx_len == 16384)
		CU_ASSERT_EQUAL(memcmp(c->rx, data, 16384), 0);
	/* the server respects the client's window of 1: nothing ever lands beyond it */
	CU_ASSERT_EQUAL(cattp_conn_stats(c->conn)->out_of_window, 0);
	CU_ASSERT(cattp_conn_stats(sc)->retransmissions > 0);
	free_net();
}

static const struct test_case conn_cases[] = {
	TEST_CASE(test_open_transfer_close),
	TEST_CASE(test_close_waits_for_data),
	TEST_CASE(test_bulk_clean),
	TEST_CASE(test_bulk_loss10),
	TEST_CASE(test_bulk_dup_reorder),
	TEST_CASE(test_bulk_loss_dup_reorder),
	TEST_CASE(test_retry_limit),
	TEST_CASE(test_syn_retransmit),
	TEST_CASE(test_refused_ident),
	TEST_CASE(test_refused_params),
	TEST_CASE(test_keepalive),
	TEST_CASE(test_idle_close),
	TEST_CASE(test_corrupted),
	TEST_CASE(test_syn_flood),
	TEST_CASE(test_sdu_limit),
	TEST_CASE(test_eak),
	TEST_CASE(test_sdu_overflow),
	TEST_CASE(test_abort_rst_repeated),
	TEST_CASE(test_peer_restart),
	TEST_CASE(test_windows),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "cattp_conn", suite_init, suite_cleanup, conn_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
