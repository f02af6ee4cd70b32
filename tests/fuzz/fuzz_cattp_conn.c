/* libFuzzer target: datagrams into a server-side CAT_TP connection (ETSI TS 102 127) after a valid open.
 *
 * The input is a sequence of records: time step (1 byte, ms × 16) | length (2 bytes, big endian) | datagram.
 * Each datagram goes to cattp_conn_rx() on a connection opened by a valid SYN and ACK; between records the fake
 * clock advances and cattp_conn_tick() runs. To reach the data paths, a record whose length has the top bit set
 * gets a correct checksum written into it before it is fed in (when it is at least a header long).
 * Invariants checked: the state is always a valid one, the connection never holds more unacknowledged bytes than
 * its send queue bound, every answer the connection sends decodes as a correct PDU.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/ota/cattp.h>
#include <sgp02/ota/cattp_conn.h>

#define SRV_PORT	1024
#define CLI_PORT	5000
#define SRV_ISS		0x1000
#define CLI_ISS		0xFFFE	/* wraps early */

static int fz_send(struct cattp_conn *conn, const uint8_t *buf, size_t len)
{
	struct ota_cattp_pdu pdu;

	(void)conn;
	if (ota_cattp_decode(&pdu, buf, len) != 0)
		abort();
	return 0;
}

static void fz_deliver(struct cattp_conn *conn, const uint8_t *sdu, size_t len)
{
	static const uint8_t echo[] = "ok";

	/* answer like the SM-SR would: a short SDU back for every SDU */
	if (!len || len > cattp_conn_max_sdu(conn))
		abort();
	cattp_conn_send(conn, echo, sizeof(echo), 0);
	(void)sdu;
}

static const struct cattp_conn_ops fz_ops = {
	.send = fz_send,
	.deliver = fz_deliver,
};

static void feed(struct cattp_conn *conn, const struct ota_cattp_pdu *pdu, uint64_t now)
{
	uint8_t buf[300];
	int n = ota_cattp_encode(buf, sizeof(buf), pdu);

	if (n < 0 || cattp_conn_rx(conn, buf, n, now) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *ctx = talloc_new(NULL);
	struct cattp_conn_params p;
	struct cattp_conn *conn;
	struct ota_cattp_pdu pdu;
	uint64_t now = 0;
	size_t off = 0;

	cattp_conn_params_default(&p);
	p.local_port = SRV_PORT;
	p.iss = SRV_ISS;
	p.rto_ms = 100;
	p.max_retries = 3;
	p.keepalive_ms = 1000;
	p.idle_timeout_ms = 100000;
	p.max_sdu_size = 600;
	p.max_send_queue = 4096;
	conn = cattp_conn_alloc(ctx, &p, &fz_ops, NULL);
	if (!conn)
		abort();

	/* valid passive open: SYN, then the ACK of the SYN-ACK */
	ota_cattp_init_syn(&pdu, false, CLI_PORT, SRV_PORT, CLI_ISS, 0, 10, 100, 600, (const uint8_t *)"id", 2);
	feed(conn, &pdu, now);
	ota_cattp_init_ack(&pdu, CLI_PORT, SRV_PORT, (uint16_t)(CLI_ISS + 1), SRV_ISS, 10, NULL, 0, false);
	feed(conn, &pdu, now);
	if (cattp_conn_state(conn) != CATTP_CONN_ST_OPEN)
		abort();

	while (off + 3 <= size) {
		uint8_t step = data[off];
		uint16_t len = (data[off + 1] << 8) | data[off + 2];
		bool fix = len & 0x8000;
		uint8_t *dg;

		len &= 0x7FFF;
		off += 3;
		if (len > size - off)
			len = size - off;
		dg = talloc_size(ctx, len ? len : 1);
		if (len)
			memcpy(dg, data + off, len);
		off += len;
		if (fix && len >= OTA_CATTP_HDR_LEN) {
			uint16_t c;

			dg[16] = dg[17] = 0;
			c = ota_cattp_checksum(dg, len);
			dg[16] = c >> 8;
			dg[17] = c & 0xff;
		}
		cattp_conn_rx(conn, dg, len, now);
		talloc_free(dg);
		now += (uint64_t)step * 16;
		cattp_conn_tick(conn, now);
		if (cattp_conn_state(conn) > CATTP_CONN_ST_CLOSED)
			abort();
		if (cattp_conn_unacked_bytes(conn) > p.max_send_queue + CATTP_CONN_MAX_WINDOW * 100)
			abort();
	}
	talloc_free(ctx);
	return 0;
}
