/*! \file cattp_conn.h
 * CAT_TP connection state machine (ETSI TS 102 127 §6), transport independent, shared by the SM-SR (passive open)
 * and sgp02-fleet (the eUICC side, active open).
 *
 * Pure logic: no sockets, no hidden clock, no logging (the owner logs from its callbacks and reads the counters).
 * The owner
 *   - feeds each received UDP payload in with cattp_conn_rx(),
 *   - sends what the ops->send() callback hands out as one UDP datagram each,
 *   - receives complete SDUs, in order and reassembled, through ops->deliver(),
 *   - queues SDUs with cattp_conn_send(),
 *   - drives time with cattp_conn_tick(), which returns the next absolute deadline (one osmo_timer per connection
 *     is enough; tests use a fake clock). All times are milliseconds on any monotonic clock the owner chooses.
 *
 * Sequence numbers follow TS 102 127 (as RFC 908 RDP): SYN, NUL and data PDUs each take one sequence number; the
 * acknowledgement number is the last PDU received in sequence; a pure ACK or EAK carries the next sequence number
 * without taking it. A PDU is acceptable when 0 < seq - last_in_sequence <= our window. Out-of-order PDUs inside the
 * window are kept and reported with EAK; the sender never retransmits a PDU the peer has EAK-ed, and retransmits
 * the unacknowledged PDUs below the highest EAK-ed one at once (once each) instead of waiting for the timer.
 * Retransmission: one timer per connection (the oldest unacknowledged PDU), initial params.rto_ms, doubled on
 * every expiry up to params.rto_max_ms, reset when the cumulative acknowledgement advances; on expiry everything
 * unacknowledged and not EAK-ed is sent again; after params.max_retries expiries without progress: RST
 * max-retries-exceeded and ops->closed(CATTP_CONN_C_MAX_RETRIES).
 *
 * SDUs larger than one PDU are segmented: SEG is set on every PDU of the SDU except the last (TS 102 127 §5.2).
 *
 * Memory per connection: the struct (408 bytes on x86-64), two rings of pointers (the window rounded up to a power
 * of two: 2 × 16 × 8 bytes for the default window 10), at most one PDU payload per ring slot on each side,
 * one reassembly buffer that grows up to the negotiated max SDU size, and the SDUs the owner queued (bounded by
 * params.max_send_queue bytes).
 *
 * Callbacks must not free the connection; free it (talloc_free()) after the entry point that reported
 * CATTP_CONN_ST_CLOSED has returned. A connection in CATTP_CONN_ST_CLOSED ignores further input.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sgp02/ota/cattp.h>

#define CATTP_CONN_MAX_WINDOW		32	/*!< upper bound for our receive window and the peer's */
#define CATTP_CONN_MIN_PDU		0x17	/*!< smallest max PDU size accepted in a SYN (header 18 + 5 data) */
#define CATTP_CONN_NO_DEADLINE		UINT64_MAX
#define CATTP_CONN_RST_REASONS		8	/*!< counter slots: reasons 0..6, slot 7 for any RFU value */

enum cattp_conn_state {
	CATTP_CONN_ST_LISTEN,		/*!< passive, waiting for a SYN */
	CATTP_CONN_ST_SYN_SENT,		/*!< active, SYN sent, waiting for the SYN-ACK */
	CATTP_CONN_ST_SYN_RCVD,		/*!< passive, SYN-ACK sent, waiting for the ACK */
	CATTP_CONN_ST_OPEN,
	CATTP_CONN_ST_CLOSE_WAIT,	/*!< RST sent or received, lingering to answer stray PDUs with RST */
	CATTP_CONN_ST_CLOSED,		/*!< finished: the owner may free it */
};

/*! Why a connection ended (passed to ops->closed, together with the RST reason sent or received). */
enum cattp_conn_cause {
	CATTP_CONN_C_LOCAL_CLOSE,	/*!< cattp_conn_close() finished: all data acknowledged, RST normal sent */
	CATTP_CONN_C_LOCAL_ABORT,	/*!< cattp_conn_abort() */
	CATTP_CONN_C_PEER_RST,		/*!< the peer sent RST (reason given) */
	CATTP_CONN_C_REFUSED,		/*!< passive open refused (accept callback, parameters or version) */
	CATTP_CONN_C_MAX_RETRIES,	/*!< retransmission limit reached, RST max-retries sent */
	CATTP_CONN_C_IDLE,		/*!< no SDU in either direction for params.idle_timeout_ms, RST normal sent */
	CATTP_CONN_C_PROTOCOL,		/*!< protocol violation by the peer (SDU too large, unexpected SYN), RST sent */
};

/*! Parameters. The SM-SR maps the timers to osmo_tdef rows. Zero fields take the defaults documented here
 *  (cattp_conn_params_default()). */
struct cattp_conn_params {
	uint16_t local_port;		/*!< our CAT_TP port (passive: 0 = accept any destination port) */
	uint16_t remote_port;		/*!< active open only: the server's CAT_TP port */
	uint16_t iss;			/*!< initial send sequence number: the owner picks it at random */
	uint16_t max_pdu_size;		/*!< largest PDU (header + data) we accept; default 200, min 23 */
	uint16_t max_sdu_size;		/*!< largest SDU we accept; default 1024 */
	uint8_t window;			/*!< receive window in PDUs, 1..CATTP_CONN_MAX_WINDOW; default 10 */
	uint32_t rto_ms;		/*!< initial retransmission timeout; default 1000 */
	uint32_t rto_max_ms;		/*!< cap of the exponential backoff; default 16000 */
	unsigned int max_retries;	/*!< retransmissions of one PDU before RST max-retries; default 10 */
	uint32_t keepalive_ms;		/*!< send a NUL after this long without sending (OPEN, nothing in flight);
					     0 = default 30000 */
	bool no_keepalive;		/*!< disable keep-alive NULs */
	uint32_t idle_timeout_ms;	/*!< close (RST normal) after this long without an SDU; 0 = never */
	uint32_t close_wait_ms;		/*!< linger after RST; default 2 × rto_ms */
	size_t max_send_queue;		/*!< bytes of SDUs queued and not yet sent; default 64 KiB */
};

/*! Counters (for the VTY). Every dropped datagram is counted in exactly one of the drop counters. */
struct cattp_conn_stats {
	uint32_t rx_pdus;		/*!< datagrams that decoded correctly */
	uint32_t tx_pdus;		/*!< datagrams handed to ops->send (including retransmissions) */
	uint32_t rx_sdus, tx_sdus;
	uint64_t rx_bytes, tx_bytes;	/*!< SDU payload bytes delivered / queued and sent */
	uint32_t retransmissions;
	uint32_t keepalives_tx;
	uint32_t bad_checksum;		/*!< drop: checksum wrong */
	uint32_t malformed;		/*!< drop: length, flags or variable header invalid */
	uint32_t duplicates;		/*!< drop: sequence number already received */
	uint32_t out_of_window;		/*!< drop: sequence number beyond the receive window */
	uint32_t unexpected;		/*!< drop: wrong ports, PDU not valid in this state, ack out of range */
	uint32_t rst_rx[CATTP_CONN_RST_REASONS];	/*!< RSTs received, by reason */
	uint32_t rst_tx[CATTP_CONN_RST_REASONS];	/*!< RSTs sent, by reason */
};

struct cattp_conn;

struct cattp_conn_ops {
	/*! Send one datagram (required). A negative return is counted as a loss; retransmission recovers. */
	int (*send)(struct cattp_conn *conn, const uint8_t *buf, size_t len);
	/*! Passive open: decide on the SYN's identification data. \returns 0 to accept, or an
	 *  enum ota_cattp_rst_reason (> 0) to refuse with a RST of that reason. NULL accepts everything. */
	int (*accept)(struct cattp_conn *conn, const uint8_t *ident, size_t ident_len);
	/*! The connection reached OPEN (optional). */
	void (*established)(struct cattp_conn *conn);
	/*! One complete SDU, in order (optional). */
	void (*deliver)(struct cattp_conn *conn, const uint8_t *sdu, size_t len);
	/*! The connection ended (optional; called once). rst_reason is the reason sent or received. */
	void (*closed)(struct cattp_conn *conn, enum cattp_conn_cause cause, uint8_t rst_reason);
};

/*! Fill params with the defaults. */
void cattp_conn_params_default(struct cattp_conn_params *params);

/*! Allocate a connection (state LISTEN). params and ops are copied; zero params take the defaults.
 *  \returns the connection, or NULL (out of memory or params out of range). */
struct cattp_conn *cattp_conn_alloc(void *ctx, const struct cattp_conn_params *params,
				    const struct cattp_conn_ops *ops, void *priv);

/*! Active open: send a SYN carrying the identification data; the SYN is retransmitted like data.
 *  \returns 0; -EINVAL (ident too long), -EISCONN (not in LISTEN). */
int cattp_conn_connect(struct cattp_conn *conn, const uint8_t *ident, size_t ident_len, uint64_t now_ms);

/*! Feed one received datagram. Bad datagrams are counted and dropped without any state change.
 *  \returns 0 when the datagram was used; -EBADMSG (dropped: checksum or malformed), -EPROTO (dropped: not
 *  acceptable in this state or window), -ENOTCONN (connection closed). */
int cattp_conn_rx(struct cattp_conn *conn, const uint8_t *buf, size_t len, uint64_t now_ms);

/*! Queue one SDU (copied) for sending; segmented as needed. Allowed in SYN_SENT, SYN_RCVD and OPEN (sent once open).
 *  \returns 0; -EMSGSIZE (larger than the negotiated max SDU size, or empty), -ENOBUFS (send queue full),
 *  -ENOTCONN (closing or closed). */
int cattp_conn_send(struct cattp_conn *conn, const uint8_t *sdu, size_t len, uint64_t now_ms);

/*! Orderly close: send everything queued, wait until it is acknowledged, then RST with reason normal ending.
 *  \returns 0; -ENOTCONN if already closing or closed. */
int cattp_conn_close(struct cattp_conn *conn, uint64_t now_ms);

/*! Immediate close: send a RST with the given reason now, drop all queued data, call ops->closed.
 *  \returns 0; -ENOTCONN if already closed. */
int cattp_conn_abort(struct cattp_conn *conn, uint8_t reason, uint64_t now_ms);

/*! Run the timers due at now_ms (retransmission, keep-alive, idle, close-wait).
 *  \returns the next absolute deadline, or CATTP_CONN_NO_DEADLINE. */
uint64_t cattp_conn_tick(struct cattp_conn *conn, uint64_t now_ms);

/*! The next absolute deadline without running anything (e.g. after cattp_conn_rx()). */
uint64_t cattp_conn_next_deadline(const struct cattp_conn *conn);

enum cattp_conn_state cattp_conn_state(const struct cattp_conn *conn);
const char *cattp_conn_state_name(enum cattp_conn_state state);
const char *cattp_conn_cause_name(enum cattp_conn_cause cause);
const struct cattp_conn_stats *cattp_conn_stats(const struct cattp_conn *conn);
void *cattp_conn_priv(const struct cattp_conn *conn);
void cattp_conn_set_priv(struct cattp_conn *conn, void *priv);
/*! Negotiated sizes (valid from OPEN): what we send at most in one PDU / one SDU. */
uint16_t cattp_conn_max_pdu(const struct cattp_conn *conn);
uint16_t cattp_conn_max_sdu(const struct cattp_conn *conn);
/*! Bytes of SDUs queued and not yet acknowledged (0: everything sent has been acknowledged). */
size_t cattp_conn_unacked_bytes(const struct cattp_conn *conn);
/*! The SYN's identification data (passive side; valid once the SYN is accepted). */
const uint8_t *cattp_conn_ident(const struct cattp_conn *conn, size_t *len);

/*
 * Server helper: one UDP socket, many connections keyed by the peer address (opaque bytes, e.g. a struct
 * sockaddr_in6), bounded by max_conns. A SYN from an unknown peer creates a connection (passive open) unless the
 * table is full (RST temporarily-unable, counted); other PDUs from unknown peers get a RST unexpected-PDU (never
 * more bytes than they sent) unless they are RSTs or invalid. Closed connections are freed by the server after
 * ops->closed returned.
 */
#define CATTP_PEER_MAX	32	/*!< longest peer key */

struct cattp_server;

struct cattp_server_stats {
	uint32_t accepted;		/*!< connections created by a SYN */
	uint32_t refused_full;		/*!< SYNs refused because max_conns connections exist */
	uint32_t no_conn;		/*!< datagrams from unknown peers that were not a SYN */
	uint32_t bad_datagram;		/*!< datagrams from unknown peers that did not decode */
	uint32_t closed;		/*!< connections ended and freed */
};

/*! Send a datagram to a peer (required). */
typedef int (*cattp_server_send_cb)(struct cattp_server *srv, const void *peer, size_t peer_len,
				    const uint8_t *buf, size_t len);

/*! Allocate a server. params are the per-connection parameters (iss is replaced by next_iss() per connection when
 *  given). conn_ops->send is ignored (the server routes through send_cb); accept, established, deliver, closed are
 *  called for each connection. \returns the server or NULL. */
struct cattp_server *cattp_server_alloc(void *ctx, const struct cattp_conn_params *params, unsigned int max_conns,
					cattp_server_send_cb send_cb, const struct cattp_conn_ops *conn_ops,
					uint16_t (*next_iss)(struct cattp_server *srv), void *priv);

/*! Feed a datagram received from peer. \returns as cattp_conn_rx(); -EBUSY when a SYN was refused (table full),
 *  -ENOTCONN for a non-SYN from an unknown peer, -EINVAL for a bad peer key. */
int cattp_server_rx(struct cattp_server *srv, const void *peer, size_t peer_len, const uint8_t *buf, size_t len,
		    uint64_t now_ms);
/*! Run all connections' timers and free the closed ones. \returns the next deadline of all connections. */
uint64_t cattp_server_tick(struct cattp_server *srv, uint64_t now_ms);
/*! The connection of a peer, or NULL. */
struct cattp_conn *cattp_server_find(struct cattp_server *srv, const void *peer, size_t peer_len);
/*! The peer key of a server connection (NULL for a connection not owned by a server). */
const void *cattp_server_conn_peer(const struct cattp_conn *conn, size_t *peer_len);
/*! The server owning a connection, or NULL. */
struct cattp_server *cattp_server_of(const struct cattp_conn *conn);
unsigned int cattp_server_num_conns(const struct cattp_server *srv);
const struct cattp_server_stats *cattp_server_stats(const struct cattp_server *srv);
void *cattp_server_priv(const struct cattp_server *srv);
