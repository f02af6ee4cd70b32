/*! \file cattp_conn.c
 * CAT_TP connection state machine (ETSI TS 102 127 §6) and a small server table on top of it.
 *
 * The sequence-number rules are those of RFC 908 (RDP), which TS 102 127 follows: ack = last PDU received in
 * sequence, acceptable window rcv_cur < seq <= rcv_cur + window, SYN/NUL/data PDUs take a sequence number.
 * Timers are deadlines compared with the owner's clock; nothing here reads a clock or touches a socket.
 */
#include <errno.h>
#include <string.h>

#include <talloc.h>
#include <osmocom/core/linuxlist.h>

#include <sgp02/ota/cattp.h>
#include <sgp02/ota/cattp_conn.h>

#define DEF_MAX_PDU		200	/* SGP.02 §7.4 digest: the reference implementation's default */
#define DEF_MAX_SDU		1024
#define DEF_WINDOW		10
#define DEF_RTO_MS		1000
#define DEF_RTO_MAX_MS		16000
#define DEF_MAX_RETRIES		10
#define DEF_KEEPALIVE_MS	30000
#define DEF_SEND_QUEUE		65536

#define RING			CATTP_CONN_MAX_WINDOW

/* One PDU in flight (sent, not acknowledged) or received out of order. */
#define SLOT_FAST_RTX	0x01	/* tx slot: already retransmitted because of an EAK (not a header flag) */

struct cattp_slot {
	uint16_t seq;
	uint8_t flags;		/* OTA_CATTP_F_SEG / OTA_CATTP_F_NUL, SLOT_FAST_RTX */
	uint16_t len;
	uint8_t data[];
};

/* One SDU queued by the owner, not yet fully segmented. */
struct cattp_sdu {
	struct llist_head list;
	size_t len;
	size_t off;		/* bytes already put into PDUs */
	uint8_t data[];
};

struct cattp_srv_entry;

struct cattp_conn {
	struct cattp_conn_params p;
	struct cattp_conn_ops ops;
	void *priv;
	struct cattp_srv_entry *entry;	/* set when owned by a cattp_server */

	/* both rings have ring_mask + 1 slots: the window rounded up to a power of two, so that the index stays
	 * continuous across the 16-bit sequence number wrap */
	uint8_t ring_mask;

	enum cattp_conn_state state;
	bool closing;			/* orderly close requested */
	bool in_rx;			/* inside cattp_conn_rx(): no flush from cattp_conn_send() */
	uint8_t last_rst_reason;	/* the RST we sent, repeated in CLOSE_WAIT */
	uint16_t local_port, remote_port;

	/* send side */
	uint16_t snd_nxt, snd_una;
	uint16_t snd_max_pdu, snd_max_sdu;	/* negotiated: what we may send */
	uint8_t peer_window;
	struct cattp_slot **tx;			/* in flight, indexed by seq & ring_mask (NULL: acked or EAK-ed) */
	struct llist_head sendq;
	size_t sendq_bytes;			/* queued, not yet in PDUs */
	size_t inflight_bytes;			/* in PDUs, not yet acknowledged */

	/* receive side */
	uint16_t rcv_irs, rcv_cur;
	uint16_t rcv_max_pdu, rcv_max_sdu;	/* negotiated: what we accept */
	struct cattp_slot **ooo;		/* out of order, indexed by seq & ring_mask */
	uint8_t *reasm;
	size_t reasm_len, reasm_cap;
	bool ack_pending;

	/* timers */
	uint32_t rto;
	unsigned int retries;
	uint64_t rtx_deadline;
	uint64_t cw_deadline;
	uint64_t last_tx, last_sdu;

	uint8_t ident_len;
	uint8_t *ident;

	struct cattp_conn_stats stats;
};

static inline int16_t sdiff(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b);
}

static inline unsigned int rst_slot(uint8_t reason)
{
	return reason < CATTP_CONN_RST_REASONS - 1 ? reason : CATTP_CONN_RST_REASONS - 1;
}

void cattp_conn_params_default(struct cattp_conn_params *params)
{
	memset(params, 0, sizeof(*params));
	params->max_pdu_size = DEF_MAX_PDU;
	params->max_sdu_size = DEF_MAX_SDU;
	params->window = DEF_WINDOW;
	params->rto_ms = DEF_RTO_MS;
	params->rto_max_ms = DEF_RTO_MAX_MS;
	params->max_retries = DEF_MAX_RETRIES;
	params->keepalive_ms = DEF_KEEPALIVE_MS;
	params->close_wait_ms = 2 * DEF_RTO_MS;
	params->max_send_queue = DEF_SEND_QUEUE;
}

static int fill_params(struct cattp_conn_params *p, const struct cattp_conn_params *in)
{
	*p = *in;
	if (!p->max_pdu_size)
		p->max_pdu_size = DEF_MAX_PDU;
	if (!p->max_sdu_size)
		p->max_sdu_size = DEF_MAX_SDU;
	if (!p->window)
		p->window = DEF_WINDOW;
	if (!p->rto_ms)
		p->rto_ms = DEF_RTO_MS;
	if (!p->rto_max_ms)
		p->rto_max_ms = p->rto_ms > DEF_RTO_MAX_MS ? p->rto_ms : DEF_RTO_MAX_MS;
	if (!p->max_retries)
		p->max_retries = DEF_MAX_RETRIES;
	if (!p->keepalive_ms)
		p->keepalive_ms = DEF_KEEPALIVE_MS;
	if (!p->close_wait_ms)
		p->close_wait_ms = 2 * p->rto_ms;
	if (!p->max_send_queue)
		p->max_send_queue = DEF_SEND_QUEUE;
	if (p->max_pdu_size < CATTP_CONN_MIN_PDU || p->window > CATTP_CONN_MAX_WINDOW || p->rto_max_ms < p->rto_ms)
		return -EINVAL;
	return 0;
}

static int conn_destructor(struct cattp_conn *conn);

struct cattp_conn *cattp_conn_alloc(void *ctx, const struct cattp_conn_params *params,
				    const struct cattp_conn_ops *ops, void *priv)
{
	struct cattp_conn *conn;
	unsigned int ring;

	if (!params || !ops || !ops->send)
		return NULL;
	conn = talloc_zero(ctx, struct cattp_conn);
	if (!conn)
		return NULL;
	if (fill_params(&conn->p, params) < 0) {
		talloc_free(conn);
		return NULL;
	}
	for (ring = 1; ring < conn->p.window; ring <<= 1)
		;
	conn->ring_mask = ring - 1;
	conn->tx = talloc_zero_array(conn, struct cattp_slot *, 2 * ring);
	if (!conn->tx) {
		talloc_free(conn);
		return NULL;
	}
	conn->ooo = conn->tx + ring;
	conn->ops = *ops;
	conn->priv = priv;
	conn->state = CATTP_CONN_ST_LISTEN;
	INIT_LLIST_HEAD(&conn->sendq);
	conn->local_port = conn->p.local_port;
	conn->remote_port = conn->p.remote_port;
	conn->snd_nxt = conn->snd_una = conn->p.iss;
	conn->rto = conn->p.rto_ms;
	conn->rtx_deadline = CATTP_CONN_NO_DEADLINE;
	conn->cw_deadline = CATTP_CONN_NO_DEADLINE;
	talloc_set_destructor(conn, conn_destructor);
	return conn;
}

/* ---------------------------------------------------------------------------------------------------------------
 * sending
 */

static void tx_datagram(struct cattp_conn *conn, const struct ota_cattp_pdu *pdu, uint64_t now)
{
	uint8_t stackbuf[512];
	uint8_t *buf = stackbuf;
	int n;

	n = ota_cattp_encoded_len(pdu);
	if (n < 0)
		return;		/* programming error: we only build valid PDUs */
	if ((size_t)n > sizeof(stackbuf)) {
		buf = talloc_size(conn, n);
		if (!buf)
			return;	/* counted as a loss: retransmission recovers */
	}
	n = ota_cattp_encode(buf, n, pdu);
	if (n > 0) {
		conn->stats.tx_pdus++;
		conn->last_tx = now;
		conn->ops.send(conn, buf, n);
	}
	if (buf != stackbuf)
		talloc_free(buf);
}

static bool have_irs(const struct cattp_conn *conn)
{
	return conn->state == CATTP_CONN_ST_SYN_RCVD || conn->state == CATTP_CONN_ST_OPEN ||
	       conn->state == CATTP_CONN_ST_CLOSE_WAIT;
}

static void tx_rst(struct cattp_conn *conn, uint8_t reason, uint64_t now)
{
	struct ota_cattp_pdu pdu;

	ota_cattp_init_rst(&pdu, conn->local_port, conn->remote_port, conn->snd_nxt, have_irs(conn), conn->rcv_cur,
			   reason);
	conn->stats.rst_tx[rst_slot(reason)]++;
	conn->last_rst_reason = reason;
	tx_datagram(conn, &pdu, now);
}

static void tx_syn(struct cattp_conn *conn, uint64_t now)
{
	struct ota_cattp_pdu pdu;
	bool ack = conn->state == CATTP_CONN_ST_SYN_RCVD;

	/* TS 102 127: the SYN-ACK carries the negotiated sizes and no identification */
	ota_cattp_init_syn(&pdu, ack, conn->local_port, conn->remote_port, conn->p.iss, conn->rcv_cur,
			   conn->p.window, ack ? conn->rcv_max_pdu : conn->p.max_pdu_size,
			   ack ? conn->rcv_max_sdu : conn->p.max_sdu_size, ack ? NULL : conn->ident,
			   ack ? 0 : conn->ident_len);
	tx_datagram(conn, &pdu, now);
}

/* A data or NUL PDU from a slot, carrying the current acknowledgement. */
static void tx_slot(struct cattp_conn *conn, const struct cattp_slot *s, uint64_t now)
{
	struct ota_cattp_pdu pdu;

	if (s->flags & OTA_CATTP_F_NUL)
		ota_cattp_init_nul(&pdu, conn->local_port, conn->remote_port, s->seq, conn->rcv_cur, conn->p.window);
	else
		ota_cattp_init_ack(&pdu, conn->local_port, conn->remote_port, s->seq, conn->rcv_cur, conn->p.window,
				   s->data, s->len, s->flags & OTA_CATTP_F_SEG);
	tx_datagram(conn, &pdu, now);
	conn->ack_pending = false;
}

/* Pure ACK, or EAK listing what we hold out of order. The sequence number is the next one, not consumed. */
static void tx_ack(struct cattp_conn *conn, uint64_t now)
{
	struct ota_cattp_pdu pdu;
	uint16_t eak[RING];
	unsigned int n = 0, i;

	for (i = 2; i <= conn->p.window; i++) {
		uint16_t seq = conn->rcv_cur + i;
		struct cattp_slot *s = conn->ooo[seq & conn->ring_mask];

		if (s && s->seq == seq)
			eak[n++] = seq;
	}
	if (n)
		ota_cattp_init_eak(&pdu, conn->local_port, conn->remote_port, conn->snd_nxt, conn->rcv_cur,
				   conn->p.window, eak, n);
	else
		ota_cattp_init_ack(&pdu, conn->local_port, conn->remote_port, conn->snd_nxt, conn->rcv_cur,
				   conn->p.window, NULL, 0, false);
	tx_datagram(conn, &pdu, now);
	conn->ack_pending = false;
}

static uint16_t inflight(const struct cattp_conn *conn)
{
	return conn->snd_nxt - conn->snd_una;
}

static void arm_rtx(struct cattp_conn *conn, uint64_t now)
{
	if (conn->rtx_deadline == CATTP_CONN_NO_DEADLINE)
		conn->rtx_deadline = now + conn->rto;
}

/* Put a new sequence-consuming PDU in flight and send it. */
static int tx_new(struct cattp_conn *conn, uint8_t flags, const uint8_t *data, uint16_t len, uint64_t now)
{
	struct cattp_slot *s;

	s = talloc_size(conn, sizeof(*s) + len);
	if (!s)
		return -ENOMEM;
	talloc_set_name_const(s, "cattp_slot");
	s->seq = conn->snd_nxt++;
	s->flags = flags;
	s->len = len;
	if (len)
		memcpy(s->data, data, len);
	conn->tx[s->seq & conn->ring_mask] = s;
	conn->inflight_bytes += len;
	tx_slot(conn, s, now);
	arm_rtx(conn, now);
	return 0;
}

/* Send queued SDU data as far as the peer's window allows, then any acknowledgement still owed. */
static void flush(struct cattp_conn *conn, uint64_t now)
{
	uint16_t max_data;

	if (conn->state != CATTP_CONN_ST_OPEN)
		return;
	max_data = conn->snd_max_pdu - OTA_CATTP_HDR_LEN;
	/* the peer's window, and never more than our ring holds */
	while (!llist_empty(&conn->sendq) && inflight(conn) < conn->peer_window && inflight(conn) <= conn->ring_mask) {
		struct cattp_sdu *sdu = llist_first_entry(&conn->sendq, struct cattp_sdu, list);
		size_t left = sdu->len - sdu->off;
		uint16_t chunk = left > max_data ? max_data : left;
		/* TS 102 127: SEG on every PDU of the SDU except the last */
		uint8_t flags = left > chunk ? OTA_CATTP_F_SEG : 0;

		if (tx_new(conn, flags, sdu->data + sdu->off, chunk, now) < 0)
			break;
		sdu->off += chunk;
		conn->sendq_bytes -= chunk;
		if (sdu->off == sdu->len) {
			llist_del(&sdu->list);
			talloc_free(sdu);
			conn->stats.tx_sdus++;
		}
	}
	if (conn->ack_pending)
		tx_ack(conn, now);
}

/* ---------------------------------------------------------------------------------------------------------------
 * closing
 */

static void free_buffers(struct cattp_conn *conn)
{
	struct cattp_sdu *sdu, *tmp;
	unsigned int i;

	for (i = 0; conn->tx && i <= conn->ring_mask; i++) {
		TALLOC_FREE(conn->tx[i]);
		TALLOC_FREE(conn->ooo[i]);
	}
	llist_for_each_entry_safe(sdu, tmp, &conn->sendq, list) {
		llist_del(&sdu->list);
		talloc_free(sdu);
	}
	conn->sendq_bytes = 0;
	conn->inflight_bytes = 0;
	TALLOC_FREE(conn->reasm);
	conn->reasm_len = conn->reasm_cap = 0;
}

static int conn_destructor(struct cattp_conn *conn)
{
	free_buffers(conn);
	return 0;
}

/* End the connection: optionally send a RST, drop all buffers, tell the owner once. */
static void finish(struct cattp_conn *conn, enum cattp_conn_cause cause, uint8_t reason, bool send_rst,
		   uint64_t now)
{
	if (conn->state == CATTP_CONN_ST_CLOSED || conn->state == CATTP_CONN_ST_CLOSE_WAIT)
		return;
	if (send_rst)
		tx_rst(conn, reason, now);
	free_buffers(conn);
	conn->rtx_deadline = CATTP_CONN_NO_DEADLINE;
	conn->closing = false;
	if (send_rst && conn->state != CATTP_CONN_ST_LISTEN) {
		/* linger so that stray PDUs of the peer (our RST lost) get another RST */
		conn->state = CATTP_CONN_ST_CLOSE_WAIT;
		conn->cw_deadline = now + conn->p.close_wait_ms;
	} else {
		conn->state = CATTP_CONN_ST_CLOSED;
	}
	if (conn->ops.closed)
		conn->ops.closed(conn, cause, reason);
}

/* Orderly close completes once everything queued has been sent and acknowledged. */
static void check_close_done(struct cattp_conn *conn, uint64_t now)
{
	if (conn->closing && conn->state == CATTP_CONN_ST_OPEN && llist_empty(&conn->sendq) && !inflight(conn))
		finish(conn, CATTP_CONN_C_LOCAL_CLOSE, OTA_CATTP_RST_NORMAL, true, now);
}

/* ---------------------------------------------------------------------------------------------------------------
 * receiving
 */

static uint8_t clamp_window(uint16_t w)
{
	if (w < 1)
		return 1;	/* a zero window would stall both sides: treat it as one PDU */
	return w > RING ? RING : w;
}

static void established(struct cattp_conn *conn, uint64_t now)
{
	conn->state = CATTP_CONN_ST_OPEN;
	conn->last_sdu = now;
	if (conn->ops.established)
		conn->ops.established(conn);
}

/* Passive open (TS 102 127 §6: LISTEN receives a SYN). */
static int rx_listen(struct cattp_conn *conn, const struct ota_cattp_pdu *pdu, int type, uint64_t now)
{
	int reason = 0;

	if (type != OTA_CATTP_PDU_SYN) {
		conn->stats.unexpected++;
		return -EPROTO;
	}
	conn->remote_port = pdu->src_port;
	conn->local_port = pdu->dst_port;
	conn->rcv_irs = conn->rcv_cur = pdu->seq;
	if (conn->p.local_port && pdu->dst_port != conn->p.local_port)
		reason = OTA_CATTP_RST_PORT_UNAVAIL;
	else if (pdu->max_pdu_size < CATTP_CONN_MIN_PDU || pdu->max_sdu_size == 0)
		reason = OTA_CATTP_RST_ILLEGAL_PARAMS;
	else if (conn->ops.accept)
		reason = conn->ops.accept(conn, pdu->ident, pdu->ident_len);
	if (reason < 0 || reason > 0xff)
		reason = OTA_CATTP_RST_TEMP_UNABLE;
	if (reason) {
		/* answer the SYN: RST acknowledging its sequence number */
		conn->state = CATTP_CONN_ST_SYN_RCVD;	/* so that the RST carries the ACK */
		tx_rst(conn, reason, now);
		conn->state = CATTP_CONN_ST_LISTEN;
		finish(conn, CATTP_CONN_C_REFUSED, reason, false, now);
		return 0;
	}
	if (pdu->ident_len) {
		conn->ident = talloc_memdup(conn, pdu->ident, pdu->ident_len);
		if (!conn->ident) {
			finish(conn, CATTP_CONN_C_REFUSED, OTA_CATTP_RST_TEMP_UNABLE, false, now);
			return -ENOMEM;
		}
		conn->ident_len = pdu->ident_len;
	}
	/* negotiate: each side uses the smaller of the two values, in both directions */
	conn->snd_max_pdu = conn->rcv_max_pdu = pdu->max_pdu_size < conn->p.max_pdu_size ?
						pdu->max_pdu_size : conn->p.max_pdu_size;
	conn->snd_max_sdu = conn->rcv_max_sdu = pdu->max_sdu_size < conn->p.max_sdu_size ?
						pdu->max_sdu_size : conn->p.max_sdu_size;
	conn->peer_window = clamp_window(pdu->window);
	conn->state = CATTP_CONN_ST_SYN_RCVD;
	conn->snd_nxt = conn->p.iss + 1;	/* the SYN-ACK takes iss */
	conn->snd_una = conn->p.iss;
	tx_syn(conn, now);
	arm_rtx(conn, now);
	return 0;
}

/* Active open: SYN_SENT receives the SYN-ACK or a RST. */
static int rx_syn_sent(struct cattp_conn *conn, const struct ota_cattp_pdu *pdu, int type, uint64_t now)
{
	if (type == OTA_CATTP_PDU_RST) {
		if ((pdu->flags & OTA_CATTP_F_ACK) && pdu->ack != conn->p.iss) {
			conn->stats.unexpected++;
			return -EPROTO;
		}
		conn->stats.rst_rx[rst_slot(pdu->rst_reason)]++;
		finish(conn, CATTP_CONN_C_PEER_RST, pdu->rst_reason, false, now);
		return 0;
	}
	if (type != OTA_CATTP_PDU_SYN_ACK || pdu->ack != conn->p.iss) {
		conn->stats.unexpected++;
		return -EPROTO;
	}
	conn->rcv_irs = conn->rcv_cur = pdu->seq;
	conn->snd_una = conn->p.iss + 1;
	conn->retries = 0;
	conn->rto = conn->p.rto_ms;
	conn->rtx_deadline = CATTP_CONN_NO_DEADLINE;
	conn->state = CATTP_CONN_ST_OPEN;	/* so a RST carries the ACK */
	if (pdu->max_pdu_size < CATTP_CONN_MIN_PDU || pdu->max_sdu_size == 0) {
		finish(conn, CATTP_CONN_C_PROTOCOL, OTA_CATTP_RST_ILLEGAL_PARAMS, true, now);
		return 0;
	}
	conn->snd_max_pdu = conn->rcv_max_pdu = pdu->max_pdu_size < conn->p.max_pdu_size ?
						pdu->max_pdu_size : conn->p.max_pdu_size;
	conn->snd_max_sdu = conn->rcv_max_sdu = pdu->max_sdu_size < conn->p.max_sdu_size ?
						pdu->max_sdu_size : conn->p.max_sdu_size;
	conn->peer_window = clamp_window(pdu->window);
	conn->ack_pending = true;
	established(conn, now);
	return 0;
}

/* Cumulative acknowledgement: everything up to and including ack has arrived. */
static void process_ack(struct cattp_conn *conn, uint16_t ack, uint64_t now)
{
	uint16_t seq;

	if (sdiff(ack, conn->snd_una) < 0)
		return;		/* nothing new */
	for (seq = conn->snd_una; sdiff(seq, ack) <= 0; seq++) {
		struct cattp_slot *s = conn->tx[seq & conn->ring_mask];

		if (s && s->seq == seq) {
			conn->inflight_bytes -= s->len;
			TALLOC_FREE(conn->tx[seq & conn->ring_mask]);
		}
	}
	conn->snd_una = ack + 1;
	/* progress: the backoff starts over */
	conn->retries = 0;
	conn->rto = conn->p.rto_ms;
	conn->rtx_deadline = inflight(conn) ? now + conn->rto : CATTP_CONN_NO_DEADLINE;
}

/* EAK: the listed PDUs arrived out of order and are never retransmitted. The PDUs before the highest one listed
 * that are still unacknowledged were probably lost: retransmit each of them once now instead of waiting for the
 * timer (a reordered PDU may cost one needless retransmission). */
static void process_eak(struct cattp_conn *conn, const struct ota_cattp_pdu *pdu, uint64_t now)
{
	unsigned int i;
	uint16_t seq, high = conn->snd_una;
	bool any = false;

	for (i = 0; i < pdu->num_eak; i++) {
		struct cattp_slot *s;

		seq = pdu->eak[i];
		if (sdiff(seq, conn->snd_una) < 0 || sdiff(seq, conn->snd_nxt) >= 0)
			continue;
		if (!any || sdiff(seq, high) > 0)
			high = seq;
		any = true;
		s = conn->tx[seq & conn->ring_mask];
		if (s && s->seq == seq) {
			conn->inflight_bytes -= s->len;
			TALLOC_FREE(conn->tx[seq & conn->ring_mask]);
		}
	}
	if (!any)
		return;
	for (seq = conn->snd_una; sdiff(seq, high) < 0; seq++) {
		struct cattp_slot *s = conn->tx[seq & conn->ring_mask];

		if (s && s->seq == seq && !(s->flags & SLOT_FAST_RTX)) {
			s->flags |= SLOT_FAST_RTX;
			conn->stats.retransmissions++;
			tx_slot(conn, s, now);
		}
	}
}

/* An in-sequence PDU: advance, reassemble, deliver. \returns false if the connection ended meanwhile. */
static bool consume(struct cattp_conn *conn, uint16_t seq, uint8_t flags, const uint8_t *data, uint16_t len,
		    uint64_t now)
{
	conn->rcv_cur = seq;
	conn->ack_pending = true;
	if (flags & OTA_CATTP_F_NUL)
		return true;
	if (conn->reasm_len + len > conn->rcv_max_sdu) {
		/* bounded memory: an SDU beyond the negotiated size is a protocol violation */
		finish(conn, CATTP_CONN_C_PROTOCOL, OTA_CATTP_RST_ILLEGAL_PARAMS, true, now);
		return false;
	}
	if (len) {
		if (conn->reasm_len + len > conn->reasm_cap) {
			size_t cap = conn->reasm_cap ? conn->reasm_cap * 2 : 256;
			uint8_t *nb;

			while (cap < conn->reasm_len + len)
				cap *= 2;
			if (cap > conn->rcv_max_sdu)
				cap = conn->rcv_max_sdu;
			nb = talloc_realloc_size(conn, conn->reasm, cap);
			if (!nb) {
				finish(conn, CATTP_CONN_C_PROTOCOL, OTA_CATTP_RST_TEMP_UNABLE, true, now);
				return false;
			}
			conn->reasm = nb;
			conn->reasm_cap = cap;
		}
		memcpy(conn->reasm + conn->reasm_len, data, len);
		conn->reasm_len += len;
	}
	if (flags & OTA_CATTP_F_SEG)
		return true;
	if (!conn->reasm_len)
		return true;	/* an empty SDU is not delivered */
	conn->stats.rx_sdus++;
	conn->stats.rx_bytes += conn->reasm_len;
	conn->last_sdu = now;
	if (conn->ops.deliver)
		conn->ops.deliver(conn, conn->reasm, conn->reasm_len);
	conn->reasm_len = 0;
	if (conn->reasm_cap > 256) {
		/* keep idle connections small */
		TALLOC_FREE(conn->reasm);
		conn->reasm_cap = 0;
	}
	return conn->state == CATTP_CONN_ST_OPEN;
}

/* A sequence-consuming PDU (data or NUL) in SYN_RCVD/OPEN. */
static int rx_seq(struct cattp_conn *conn, const struct ota_cattp_pdu *pdu, uint64_t now)
{
	int16_t d = sdiff(pdu->seq, conn->rcv_cur);
	uint8_t flags = pdu->flags & (OTA_CATTP_F_SEG | OTA_CATTP_F_NUL);
	struct cattp_slot *s;

	if (d <= 0) {
		conn->stats.duplicates++;
		conn->ack_pending = true;	/* our ACK was probably lost */
		return -EPROTO;
	}
	if (d > conn->p.window) {
		conn->stats.out_of_window++;
		return -EPROTO;
	}
	if (d > 1) {
		s = conn->ooo[pdu->seq & conn->ring_mask];
		if (s && s->seq == pdu->seq) {
			conn->stats.duplicates++;
			conn->ack_pending = true;
			return -EPROTO;
		}
		TALLOC_FREE(conn->ooo[pdu->seq & conn->ring_mask]);
		s = talloc_size(conn, sizeof(*s) + pdu->data_len);
		if (!s)
			return -ENOMEM;
		talloc_set_name_const(s, "cattp_slot");
		s->seq = pdu->seq;
		s->flags = flags;
		s->len = pdu->data_len;
		if (pdu->data_len)
			memcpy(s->data, pdu->data, pdu->data_len);
		conn->ooo[pdu->seq & conn->ring_mask] = s;
		conn->ack_pending = true;	/* EAK */
		return 0;
	}
	if (!consume(conn, pdu->seq, flags, pdu->data, pdu->data_len, now))
		return 0;
	/* drain what arrived early */
	for (;;) {
		uint16_t next = conn->rcv_cur + 1;
		bool ok;

		s = conn->ooo[next & conn->ring_mask];
		if (!s || s->seq != next)
			break;
		conn->ooo[next & conn->ring_mask] = NULL;
		ok = consume(conn, s->seq, s->flags, s->data, s->len, now);
		talloc_free(s);
		if (!ok)
			break;
	}
	return 0;
}

/* SYN_RCVD and OPEN. */
static int rx_sync(struct cattp_conn *conn, const struct ota_cattp_pdu *pdu, int type, uint64_t now)
{
	bool syn_rcvd = conn->state == CATTP_CONN_ST_SYN_RCVD;

	switch (type) {
	case OTA_CATTP_PDU_RST:
		conn->stats.rst_rx[rst_slot(pdu->rst_reason)]++;
		finish(conn, CATTP_CONN_C_PEER_RST, pdu->rst_reason, false, now);
		return 0;
	case OTA_CATTP_PDU_SYN:
		if (pdu->seq == conn->rcv_irs) {
			/* retransmitted SYN: our SYN-ACK was lost (or this is a network duplicate) */
			conn->stats.duplicates++;
			if (syn_rcvd)
				tx_syn(conn, now);
			return -EPROTO;
		}
		/* a new SYN from the same peer: it restarted */
		finish(conn, CATTP_CONN_C_PROTOCOL, OTA_CATTP_RST_UNEXPECTED_PDU, true, now);
		return 0;
	case OTA_CATTP_PDU_SYN_ACK:
		if (!syn_rcvd && pdu->seq == conn->rcv_irs && pdu->ack == conn->p.iss) {
			/* our ACK of the SYN-ACK was lost */
			conn->stats.duplicates++;
			conn->ack_pending = true;
			flush(conn, now);
			return -EPROTO;
		}
		conn->stats.unexpected++;
		return -EPROTO;
	default:
		break;
	}

	/* ACK, EAK, NUL, data: first the acknowledgement, which must be in range */
	if (syn_rcvd) {
		if (pdu->ack != conn->p.iss) {
			conn->stats.unexpected++;
			return -EPROTO;
		}
	} else if (sdiff(pdu->ack, conn->snd_una) < -1 || sdiff(pdu->ack, conn->snd_nxt) >= 0) {
		conn->stats.unexpected++;
		return -EPROTO;
	}
	if (pdu->data_len > conn->rcv_max_pdu - OTA_CATTP_HDR_LEN) {
		conn->stats.unexpected++;	/* larger than negotiated: would break the memory bound */
		return -EPROTO;
	}
	process_ack(conn, pdu->ack, now);
	conn->peer_window = clamp_window(pdu->window);
	if (type == OTA_CATTP_PDU_EAK)
		process_eak(conn, pdu, now);
	if (syn_rcvd)
		established(conn, now);
	if (pdu->data_len || type == OTA_CATTP_PDU_NUL)
		return rx_seq(conn, pdu, now);
	return 0;
}

int cattp_conn_rx(struct cattp_conn *conn, const uint8_t *buf, size_t len, uint64_t now_ms)
{
	struct ota_cattp_pdu pdu;
	int rc, type;

	if (!conn)
		return -EINVAL;
	if (conn->state == CATTP_CONN_ST_CLOSED)
		return -ENOTCONN;

	rc = ota_cattp_decode(&pdu, buf, len);
	if (rc == -ENOTSUP && conn->state == CATTP_CONN_ST_LISTEN && ota_cattp_pdu_type(pdu.flags) ==
	    OTA_CATTP_PDU_SYN) {
		/* TS 102 127: answer an unknown version with RST version-not-supported */
		conn->stats.rx_pdus++;
		conn->remote_port = pdu.src_port;
		conn->local_port = pdu.dst_port;
		conn->rcv_irs = conn->rcv_cur = pdu.seq;
		conn->state = CATTP_CONN_ST_SYN_RCVD;
		tx_rst(conn, OTA_CATTP_RST_VERSION, now_ms);
		conn->state = CATTP_CONN_ST_LISTEN;
		finish(conn, CATTP_CONN_C_REFUSED, OTA_CATTP_RST_VERSION, false, now_ms);
		return 0;
	}
	if (rc < 0) {
		if (buf && len >= OTA_CATTP_HDR_LEN && ota_cattp_checksum(buf, len) != 0)
			conn->stats.bad_checksum++;
		else
			conn->stats.malformed++;
		return -EBADMSG;
	}
	conn->stats.rx_pdus++;
	type = ota_cattp_pdu_type(pdu.flags);

	if (conn->state != CATTP_CONN_ST_LISTEN &&
	    (pdu.src_port != conn->remote_port || pdu.dst_port != conn->local_port)) {
		conn->stats.unexpected++;
		return -EPROTO;
	}

	conn->in_rx = true;
	switch (conn->state) {
	case CATTP_CONN_ST_LISTEN:
		rc = rx_listen(conn, &pdu, type, now_ms);
		break;
	case CATTP_CONN_ST_SYN_SENT:
		rc = rx_syn_sent(conn, &pdu, type, now_ms);
		break;
	case CATTP_CONN_ST_SYN_RCVD:
	case CATTP_CONN_ST_OPEN:
		rc = rx_sync(conn, &pdu, type, now_ms);
		break;
	case CATTP_CONN_ST_CLOSE_WAIT:
		/* our RST may have been lost: repeat it, never answer a RST */
		if (type == OTA_CATTP_PDU_RST)
			conn->stats.rst_rx[rst_slot(pdu.rst_reason)]++;
		else
			tx_rst(conn, conn->last_rst_reason, now_ms);
		rc = 0;
		break;
	default:
		rc = -ENOTCONN;
		break;
	}
	conn->in_rx = false;
	flush(conn, now_ms);
	check_close_done(conn, now_ms);
	return rc;
}

/* ---------------------------------------------------------------------------------------------------------------
 * owner requests
 */

int cattp_conn_connect(struct cattp_conn *conn, const uint8_t *ident, size_t ident_len, uint64_t now_ms)
{
	if (!conn || ident_len > OTA_CATTP_MAX_IDENT || (ident_len && !ident))
		return -EINVAL;
	if (conn->state != CATTP_CONN_ST_LISTEN)
		return -EISCONN;
	if (ident_len) {
		conn->ident = talloc_memdup(conn, ident, ident_len);
		if (!conn->ident)
			return -ENOMEM;
	}
	conn->ident_len = ident_len;
	conn->state = CATTP_CONN_ST_SYN_SENT;
	conn->snd_una = conn->p.iss;
	conn->snd_nxt = conn->p.iss + 1;	/* the SYN takes iss */
	tx_syn(conn, now_ms);
	arm_rtx(conn, now_ms);
	return 0;
}

int cattp_conn_send(struct cattp_conn *conn, const uint8_t *sdu, size_t len, uint64_t now_ms)
{
	struct cattp_sdu *q;
	size_t limit;

	if (!conn || (len && !sdu))
		return -EINVAL;
	if (conn->closing || (conn->state != CATTP_CONN_ST_SYN_SENT && conn->state != CATTP_CONN_ST_SYN_RCVD &&
			      conn->state != CATTP_CONN_ST_OPEN))
		return -ENOTCONN;
	/* in SYN_SENT the negotiated size is not known yet: our own limit applies (if the server asks for less, the
	 * SDU is still segmented correctly but the peer may reset the connection) */
	limit = conn->state == CATTP_CONN_ST_SYN_SENT ? conn->p.max_sdu_size : conn->snd_max_sdu;
	if (!len || len > limit)
		return -EMSGSIZE;
	if (conn->sendq_bytes + len > conn->p.max_send_queue)
		return -ENOBUFS;
	q = talloc_size(conn, sizeof(*q) + len);
	if (!q)
		return -ENOMEM;
	talloc_set_name_const(q, "cattp_sdu");
	q->len = len;
	q->off = 0;
	memcpy(q->data, sdu, len);
	llist_add_tail(&q->list, &conn->sendq);
	conn->sendq_bytes += len;
	conn->stats.tx_bytes += len;
	conn->last_sdu = now_ms;
	if (!conn->in_rx)
		flush(conn, now_ms);
	return 0;
}

int cattp_conn_close(struct cattp_conn *conn, uint64_t now_ms)
{
	if (!conn)
		return -EINVAL;
	switch (conn->state) {
	case CATTP_CONN_ST_LISTEN:
		finish(conn, CATTP_CONN_C_LOCAL_CLOSE, OTA_CATTP_RST_NORMAL, false, now_ms);
		return 0;
	case CATTP_CONN_ST_SYN_SENT:
		if (llist_empty(&conn->sendq)) {
			finish(conn, CATTP_CONN_C_LOCAL_CLOSE, OTA_CATTP_RST_NORMAL, true, now_ms);
			return 0;
		}
		/* data queued before the SYN-ACK: send it first */
		/* fall through */
	case CATTP_CONN_ST_SYN_RCVD:
	case CATTP_CONN_ST_OPEN:
		if (conn->closing)
			return -ENOTCONN;
		conn->closing = true;
		if (!conn->in_rx)
			check_close_done(conn, now_ms);
		return 0;
	default:
		return -ENOTCONN;
	}
}

int cattp_conn_abort(struct cattp_conn *conn, uint8_t reason, uint64_t now_ms)
{
	if (!conn)
		return -EINVAL;
	if (conn->state == CATTP_CONN_ST_CLOSED || conn->state == CATTP_CONN_ST_CLOSE_WAIT)
		return -ENOTCONN;
	finish(conn, CATTP_CONN_C_LOCAL_ABORT, reason, conn->state != CATTP_CONN_ST_LISTEN, now_ms);
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------------
 * timers
 */

static void rtx_expired(struct cattp_conn *conn, uint64_t now)
{
	uint16_t seq;

	if (++conn->retries > conn->p.max_retries) {
		finish(conn, CATTP_CONN_C_MAX_RETRIES, OTA_CATTP_RST_MAX_RETRIES, true, now);
		return;
	}
	/* exponential backoff, capped */
	conn->rto = conn->rto * 2 > conn->p.rto_max_ms ? conn->p.rto_max_ms : conn->rto * 2;
	conn->rtx_deadline = now + conn->rto;
	if (conn->state == CATTP_CONN_ST_SYN_SENT || conn->state == CATTP_CONN_ST_SYN_RCVD) {
		conn->stats.retransmissions++;
		tx_syn(conn, now);
		return;
	}
	for (seq = conn->snd_una; seq != conn->snd_nxt; seq++) {
		struct cattp_slot *s = conn->tx[seq & conn->ring_mask];

		if (s && s->seq == seq) {
			conn->stats.retransmissions++;
			tx_slot(conn, s, now);
		}
	}
}

static uint64_t min_deadline(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static bool keepalive_due_possible(const struct cattp_conn *conn)
{
	return conn->state == CATTP_CONN_ST_OPEN && !conn->p.no_keepalive && !inflight(conn) &&
	       llist_empty(&conn->sendq);
}

uint64_t cattp_conn_next_deadline(const struct cattp_conn *conn)
{
	uint64_t d = CATTP_CONN_NO_DEADLINE;

	if (!conn)
		return d;
	switch (conn->state) {
	case CATTP_CONN_ST_CLOSE_WAIT:
		return conn->cw_deadline;
	case CATTP_CONN_ST_SYN_SENT:
	case CATTP_CONN_ST_SYN_RCVD:
	case CATTP_CONN_ST_OPEN:
		break;
	default:
		return d;
	}
	d = conn->rtx_deadline;
	if (keepalive_due_possible(conn))
		d = min_deadline(d, conn->last_tx + conn->p.keepalive_ms);
	if (conn->state == CATTP_CONN_ST_OPEN && conn->p.idle_timeout_ms)
		d = min_deadline(d, conn->last_sdu + conn->p.idle_timeout_ms);
	return d;
}

uint64_t cattp_conn_tick(struct cattp_conn *conn, uint64_t now_ms)
{
	if (!conn)
		return CATTP_CONN_NO_DEADLINE;
	if (conn->state == CATTP_CONN_ST_CLOSE_WAIT) {
		if (now_ms >= conn->cw_deadline) {
			conn->state = CATTP_CONN_ST_CLOSED;
			conn->cw_deadline = CATTP_CONN_NO_DEADLINE;
		}
		return cattp_conn_next_deadline(conn);
	}
	if (conn->rtx_deadline != CATTP_CONN_NO_DEADLINE && now_ms >= conn->rtx_deadline)
		rtx_expired(conn, now_ms);
	if (conn->state == CATTP_CONN_ST_OPEN && conn->p.idle_timeout_ms &&
	    now_ms >= conn->last_sdu + conn->p.idle_timeout_ms) {
		/* idle close: nothing to say for a while; the SM-SR opens a new session when it needs one */
		finish(conn, CATTP_CONN_C_IDLE, OTA_CATTP_RST_NORMAL, true, now_ms);
	}
	if (keepalive_due_possible(conn) && now_ms >= conn->last_tx + conn->p.keepalive_ms) {
		/* TS 102 127: NUL keep-alive takes a sequence number and is acknowledged like data, so a dead peer
		 * ends in the retransmission limit */
		conn->stats.keepalives_tx++;
		tx_new(conn, OTA_CATTP_F_NUL, NULL, 0, now_ms);
	}
	return cattp_conn_next_deadline(conn);
}

/* ---------------------------------------------------------------------------------------------------------------
 * accessors
 */

enum cattp_conn_state cattp_conn_state(const struct cattp_conn *conn)
{
	return conn->state;
}

const char *cattp_conn_state_name(enum cattp_conn_state state)
{
	switch (state) {
	case CATTP_CONN_ST_LISTEN:
		return "LISTEN";
	case CATTP_CONN_ST_SYN_SENT:
		return "SYN_SENT";
	case CATTP_CONN_ST_SYN_RCVD:
		return "SYN_RCVD";
	case CATTP_CONN_ST_OPEN:
		return "OPEN";
	case CATTP_CONN_ST_CLOSE_WAIT:
		return "CLOSE_WAIT";
	case CATTP_CONN_ST_CLOSED:
		return "CLOSED";
	}
	return "unknown";
}

const char *cattp_conn_cause_name(enum cattp_conn_cause cause)
{
	switch (cause) {
	case CATTP_CONN_C_LOCAL_CLOSE:
		return "local-close";
	case CATTP_CONN_C_LOCAL_ABORT:
		return "local-abort";
	case CATTP_CONN_C_PEER_RST:
		return "peer-rst";
	case CATTP_CONN_C_REFUSED:
		return "refused";
	case CATTP_CONN_C_MAX_RETRIES:
		return "max-retries";
	case CATTP_CONN_C_IDLE:
		return "idle";
	case CATTP_CONN_C_PROTOCOL:
		return "protocol-error";
	}
	return "unknown";
}

const struct cattp_conn_stats *cattp_conn_stats(const struct cattp_conn *conn)
{
	return &conn->stats;
}

void *cattp_conn_priv(const struct cattp_conn *conn)
{
	return conn->priv;
}

void cattp_conn_set_priv(struct cattp_conn *conn, void *priv)
{
	conn->priv = priv;
}

uint16_t cattp_conn_max_pdu(const struct cattp_conn *conn)
{
	return conn->snd_max_pdu;
}

uint16_t cattp_conn_max_sdu(const struct cattp_conn *conn)
{
	return conn->snd_max_sdu;
}

size_t cattp_conn_unacked_bytes(const struct cattp_conn *conn)
{
	return conn->sendq_bytes + conn->inflight_bytes;
}

const uint8_t *cattp_conn_ident(const struct cattp_conn *conn, size_t *len)
{
	if (len)
		*len = conn->ident_len;
	return conn->ident;
}

/* ---------------------------------------------------------------------------------------------------------------
 * server: connections keyed by peer
 */

#define SRV_BUCKETS	256

struct cattp_srv_entry {
	struct llist_head list;		/* in a hash bucket */
	struct cattp_server *srv;
	struct cattp_conn *conn;
	uint8_t peer_len;
	uint8_t peer[CATTP_PEER_MAX];
};

struct cattp_server {
	struct cattp_conn_params params;
	struct cattp_conn_ops owner_ops;
	cattp_server_send_cb send_cb;
	uint16_t (*next_iss)(struct cattp_server *srv);
	void *priv;
	unsigned int max_conns;
	unsigned int num_conns;
	struct llist_head buckets[SRV_BUCKETS];
	struct cattp_server_stats stats;
};

static unsigned int peer_hash(const void *peer, size_t len)
{
	const uint8_t *p = peer;
	uint32_t h = 2166136261u;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h % SRV_BUCKETS;
}

static struct cattp_srv_entry *srv_lookup(struct cattp_server *srv, const void *peer, size_t peer_len)
{
	struct cattp_srv_entry *e;

	llist_for_each_entry(e, &srv->buckets[peer_hash(peer, peer_len)], list) {
		if (e->peer_len == peer_len && !memcmp(e->peer, peer, peer_len))
			return e;
	}
	return NULL;
}

static int srv_conn_send(struct cattp_conn *conn, const uint8_t *buf, size_t len)
{
	struct cattp_srv_entry *e = conn->entry;

	return e->srv->send_cb(e->srv, e->peer, e->peer_len, buf, len);
}

static int srv_conn_accept(struct cattp_conn *conn, const uint8_t *ident, size_t ident_len)
{
	struct cattp_server *srv = conn->entry->srv;

	return srv->owner_ops.accept ? srv->owner_ops.accept(conn, ident, ident_len) : 0;
}

static void srv_conn_established(struct cattp_conn *conn)
{
	struct cattp_server *srv = conn->entry->srv;

	if (srv->owner_ops.established)
		srv->owner_ops.established(conn);
}

static void srv_conn_deliver(struct cattp_conn *conn, const uint8_t *sdu, size_t len)
{
	struct cattp_server *srv = conn->entry->srv;

	if (srv->owner_ops.deliver)
		srv->owner_ops.deliver(conn, sdu, len);
}

static void srv_conn_closed(struct cattp_conn *conn, enum cattp_conn_cause cause, uint8_t reason)
{
	struct cattp_server *srv = conn->entry->srv;

	if (srv->owner_ops.closed)
		srv->owner_ops.closed(conn, cause, reason);
}

static const struct cattp_conn_ops srv_conn_ops = {
	.send = srv_conn_send,
	.accept = srv_conn_accept,
	.established = srv_conn_established,
	.deliver = srv_conn_deliver,
	.closed = srv_conn_closed,
};

struct cattp_server *cattp_server_alloc(void *ctx, const struct cattp_conn_params *params, unsigned int max_conns,
					cattp_server_send_cb send_cb, const struct cattp_conn_ops *conn_ops,
					uint16_t (*next_iss)(struct cattp_server *srv), void *priv)
{
	struct cattp_server *srv;
	struct cattp_conn_params check;
	unsigned int i;

	if (!params || !send_cb || !conn_ops || !max_conns || fill_params(&check, params) < 0)
		return NULL;
	srv = talloc_zero(ctx, struct cattp_server);
	if (!srv)
		return NULL;
	srv->params = *params;
	srv->owner_ops = *conn_ops;
	srv->send_cb = send_cb;
	srv->next_iss = next_iss;
	srv->priv = priv;
	srv->max_conns = max_conns;
	for (i = 0; i < SRV_BUCKETS; i++)
		INIT_LLIST_HEAD(&srv->buckets[i]);
	return srv;
}

static void srv_free_entry(struct cattp_server *srv, struct cattp_srv_entry *e)
{
	llist_del(&e->list);
	srv->num_conns--;
	srv->stats.closed++;
	talloc_free(e);		/* the connection is its child */
}

/* Answer a datagram from an unknown peer (TS 102 127 / RFC 908 CLOSED state): RST, never to a RST. */
static void srv_answer_rst(struct cattp_server *srv, const void *peer, size_t peer_len,
			   const struct ota_cattp_pdu *in, uint8_t reason)
{
	struct ota_cattp_pdu pdu;
	uint8_t buf[OTA_CATTP_RST_HDR_LEN];
	int n;

	if (in->flags & OTA_CATTP_F_ACK && !(in->flags & OTA_CATTP_F_SYN))
		ota_cattp_init_rst(&pdu, in->dst_port, in->src_port, in->ack + 1, false, 0, reason);
	else
		ota_cattp_init_rst(&pdu, in->dst_port, in->src_port, 0, true, in->seq, reason);
	n = ota_cattp_encode(buf, sizeof(buf), &pdu);
	if (n > 0)
		srv->send_cb(srv, peer, peer_len, buf, n);
}

int cattp_server_rx(struct cattp_server *srv, const void *peer, size_t peer_len, const uint8_t *buf, size_t len,
		    uint64_t now_ms)
{
	struct cattp_srv_entry *e;
	struct ota_cattp_pdu pdu;
	struct cattp_conn_params p;
	int rc;

	if (!srv || !peer || !peer_len || peer_len > CATTP_PEER_MAX)
		return -EINVAL;
	e = srv_lookup(srv, peer, peer_len);
	if (e && e->conn->state == CATTP_CONN_ST_CLOSE_WAIT && len > 0 && buf &&
	    ota_cattp_pdu_type(buf[0]) == OTA_CATTP_PDU_SYN) {
		/* the peer reconnects from the same address while we linger: start over */
		srv_free_entry(srv, e);
		e = NULL;
	}
	if (e) {
		rc = cattp_conn_rx(e->conn, buf, len, now_ms);
		if (e->conn->state == CATTP_CONN_ST_CLOSED)
			srv_free_entry(srv, e);
		return rc;
	}

	rc = ota_cattp_decode(&pdu, buf, len);
	if (rc < 0 && rc != -ENOTSUP) {
		srv->stats.bad_datagram++;
		return -EBADMSG;
	}
	if (ota_cattp_pdu_type(pdu.flags) != OTA_CATTP_PDU_SYN) {
		srv->stats.no_conn++;
		if (rc == 0 && !(pdu.flags & OTA_CATTP_F_RST))
			srv_answer_rst(srv, peer, peer_len, &pdu, OTA_CATTP_RST_UNEXPECTED_PDU);
		return -ENOTCONN;
	}
	if (srv->num_conns >= srv->max_conns) {
		/* SYN flood or overload: bounded table, the peer may retry later */
		srv->stats.refused_full++;
		srv_answer_rst(srv, peer, peer_len, &pdu, OTA_CATTP_RST_TEMP_UNABLE);
		return -EBUSY;
	}

	e = talloc_zero(srv, struct cattp_srv_entry);
	if (!e)
		return -ENOMEM;
	e->srv = srv;
	e->peer_len = peer_len;
	memcpy(e->peer, peer, peer_len);
	p = srv->params;
	if (srv->next_iss)
		p.iss = srv->next_iss(srv);
	e->conn = cattp_conn_alloc(e, &p, &srv_conn_ops, NULL);
	if (!e->conn) {
		talloc_free(e);
		return -ENOMEM;
	}
	e->conn->entry = e;
	llist_add_tail(&e->list, &srv->buckets[peer_hash(peer, peer_len)]);
	srv->num_conns++;
	srv->stats.accepted++;
	rc = cattp_conn_rx(e->conn, buf, len, now_ms);
	if (e->conn->state == CATTP_CONN_ST_CLOSED)
		srv_free_entry(srv, e);
	return rc;
}

uint64_t cattp_server_tick(struct cattp_server *srv, uint64_t now_ms)
{
	uint64_t d = CATTP_CONN_NO_DEADLINE;
	unsigned int i;

	if (!srv)
		return d;
	for (i = 0; i < SRV_BUCKETS; i++) {
		struct cattp_srv_entry *e, *tmp;

		llist_for_each_entry_safe(e, tmp, &srv->buckets[i], list) {
			uint64_t c = cattp_conn_tick(e->conn, now_ms);

			if (e->conn->state == CATTP_CONN_ST_CLOSED)
				srv_free_entry(srv, e);
			else
				d = min_deadline(d, c);
		}
	}
	return d;
}

struct cattp_conn *cattp_server_find(struct cattp_server *srv, const void *peer, size_t peer_len)
{
	struct cattp_srv_entry *e;

	if (!srv || !peer || !peer_len || peer_len > CATTP_PEER_MAX)
		return NULL;
	e = srv_lookup(srv, peer, peer_len);
	return e ? e->conn : NULL;
}

const void *cattp_server_conn_peer(const struct cattp_conn *conn, size_t *peer_len)
{
	if (!conn || !conn->entry)
		return NULL;
	if (peer_len)
		*peer_len = conn->entry->peer_len;
	return conn->entry->peer;
}

struct cattp_server *cattp_server_of(const struct cattp_conn *conn)
{
	return conn && conn->entry ? conn->entry->srv : NULL;
}

unsigned int cattp_server_num_conns(const struct cattp_server *srv)
{
	return srv->num_conns;
}

const struct cattp_server_stats *cattp_server_stats(const struct cattp_server *srv)
{
	return &srv->stats;
}

void *cattp_server_priv(const struct cattp_server *srv)
{
	return srv->priv;
}
