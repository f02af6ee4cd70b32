/*! \file smpp.h
 * SMPP 3.4: PDU codec (libsmpp34 underneath, guarded by our own structural checks) and an SMPP
 * link on a conn: framing (4-byte command_length, then the body), sequence numbers, a window of
 * outstanding requests with response timeouts, enquire_link sending and answering, generic_nack
 * for PDUs we cannot decode, and unbind. Shared by the SM-SR's ESME (src/smsr/esme.c) and the
 * fleet's SMSC (src/fleet/smsc.c); neither knows about bytes on the wire.
 *
 * Ownership: a link is a talloc object; it takes over its conn (conn ops and data are the
 * link's). Freeing the link closes the conn at once, silently (no callbacks). The owner learns
 * about the end of a link only through smpp_link_ops.closed, always from the event loop, never
 * from inside an smpp_link_*() call.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct osmo_tdef;

/* SMPP 3.4 §5.1.2 command_id values we use (same as libsmpp34's smpp34.h). */
#define SMPP_GENERIC_NACK		0x80000000
#define SMPP_BIND_RECEIVER		0x00000001
#define SMPP_BIND_TRANSMITTER		0x00000002
#define SMPP_SUBMIT_SM			0x00000004
#define SMPP_DELIVER_SM			0x00000005
#define SMPP_UNBIND			0x00000006
#define SMPP_BIND_TRANSCEIVER		0x00000009
#define SMPP_ENQUIRE_LINK		0x00000015
#define SMPP_RESP_BIT			0x80000000

/* SMPP 3.4 §5.1.3 command_status values we use. */
#define SMPP_ROK			0x00000000
#define SMPP_RINVMSGLEN			0x00000001
#define SMPP_RINVCMDLEN			0x00000002
#define SMPP_RINVCMDID			0x00000003
#define SMPP_RINVBNDSTS			0x00000004
#define SMPP_RALYBND			0x00000005
#define SMPP_RSYSERR			0x00000008
#define SMPP_RINVDSTADR			0x0000000B
#define SMPP_RBINDFAIL			0x0000000D
#define SMPP_RINVPASWD			0x0000000E
#define SMPP_RINVSYSID			0x0000000F
#define SMPP_RMSGQFUL			0x00000014
#define SMPP_RSUBMITFAIL		0x00000045
#define SMPP_RTHROTTLED			0x00000058
#define SMPP_RX_T_APPN			0x00000064
#define SMPP_RINVOPTPARSTREAM		0x000000C0
#define SMPP_RINVPARLEN			0x000000C2
#define SMPP_RUNKNOWNERR		0x000000FF

/* SMPP 3.4 §5.2.12 esm_class bits */
#define SMPP_ESM_RECEIPT_MASK		0x3C	/*!< message type bits 5..2 */
#define SMPP_ESM_DELIVERY_RECEIPT	0x04	/*!< SMSC delivery receipt (deliver_sm) */
#define SMPP_ESM_UDHI			0x40	/*!< UDHI: short_message starts with a UDH */

/*! Framing bound: a command_length beyond this (or below the 16-byte header) ends the link. */
#define SMPP_MAX_PDU_LEN		(64 * 1024)
/*! Largest user data: short_message carries up to SMPP_SM_MAX (libsmpp34 packs at most 253
 *  octets there), beyond that the message_payload TLV, which libsmpp34 bounds at 1024. */
#define SMPP_SM_MAX			253
#define SMPP_UD_MAX			1024
/*! At most this many TLVs in one PDU: libsmpp34 logs every field into a fixed 2 KiB buffer, so
 *  the number of fields it is given must stay bounded. */
#define SMPP_MAX_TLVS			12

/*! Timers of SMPP links (osmo_tdef, group "smpp"). T numbers: */
enum smpp_timer {
	SMPP_T_RESP = -1,		/*!< response timeout of a request (ms) */
	SMPP_T_ENQUIRE = -2,		/*!< enquire_link interval while bound (ms) */
	SMPP_T_UNBIND = -3,		/*!< how long to wait for unbind_resp before closing (ms) */
};
extern struct osmo_tdef smpp_tdefs[];

/*! One PDU in decoded form: the fields of every PDU type we handle, flat. Strings are NUL
 *  terminated and bounded by their SMPP 3.4 §5.2 sizes. */
struct smpp_pdu {
	uint32_t command_id;
	uint32_t command_status;
	uint32_t sequence_number;

	/* bind_* (§4.1) and bind_*_resp (system_id) */
	char system_id[16];
	char password[9];
	char system_type[13];
	uint8_t interface_version;
	uint8_t addr_ton;
	uint8_t addr_npi;
	char address_range[41];

	/* submit_sm (§4.4.1), deliver_sm (§4.6.1) */
	char service_type[6];
	uint8_t source_addr_ton;
	uint8_t source_addr_npi;
	char source_addr[21];
	uint8_t dest_addr_ton;
	uint8_t dest_addr_npi;
	char destination_addr[21];
	uint8_t esm_class;
	uint8_t protocol_id;
	uint8_t priority_flag;
	uint8_t registered_delivery;
	uint8_t data_coding;
	/*! user data: short_message, or the message_payload TLV (§5.3.2.32) if that was present */
	uint8_t ud[SMPP_UD_MAX];
	size_t ud_len;

	/* submit_sm_resp (§4.4.2); for deliver_sm receipts the receipted_message_id TLV (§5.3.2.12) */
	char message_id[65];
	char receipted_message_id[65];
	/*! message_state TLV (§5.3.2.35), 0 = absent */
	uint8_t message_state;
};

const char *smpp_status_name(uint32_t status);
const char *smpp_command_name(uint32_t command_id);

/*! Encode \a pdu into \a buf. Responses with a non-zero status are header-only (SMPP 3.4 §4.1.2,
 *  §4.4.2: their body is not returned). \returns 0 and the length in *len, -EINVAL for a field
 *  out of bounds or an unsupported command, -ENOBUFS if \a size is too small. */
int smpp_pdu_encode(const struct smpp_pdu *pdu, uint8_t *buf, size_t size, size_t *len);

/*! Decode one whole PDU (including its command_length). Unknown command ids and malformed bodies
 *  are refused; \a nack_status then gets the status for the generic_nack (§4.3).
 *  \returns 0, -EBADMSG (malformed), -ENOTSUP (unknown command id). */
int smpp_pdu_decode(struct smpp_pdu *pdu, const uint8_t *buf, size_t len, uint32_t *nack_status);

/*! Does the message_id-bearing receipt text of a delivery receipt (SMPP 3.4 Appendix B
 *  "id:IIII sub:SSS dlvrd:DDD submit date:... done date:... stat:STATE err:E text:...")
 *  name this id and state? Fills \a id (size 65) and \a stat (size 8); either may end up
 *  empty. \returns 0, or -EINVAL if no "id:" is found. */
int smpp_receipt_parse(const uint8_t *text, size_t len, char *id, char *stat, unsigned int *err);

/* ------------------------------------------------------------------ links */

struct smpp_link;

/*! Why a link ended (closed callback). */
enum smpp_link_end {
	SMPP_END_PEER,		/*!< peer closed the TCP connection */
	SMPP_END_UNBIND,	/*!< unbind done (either side) */
	SMPP_END_ERROR,		/*!< socket error, refused connect, write overflow */
	SMPP_END_TIMEOUT,	/*!< enquire_link or unbind unanswered */
	SMPP_END_PROTOCOL,	/*!< framing broken (bad command_length) */
	SMPP_END_LOCAL,		/*!< smpp_link_close() */
};
const char *smpp_link_end_name(enum smpp_link_end e);

struct smpp_link_ops {
	/*! TCP connection ready (outgoing links). May be NULL. */
	void (*established)(struct smpp_link *l);
	/*! A request arrived (anything but enquire_link and unbind, which the link answers itself).
	 *  Answer it with smpp_link_respond() (now or later). NULL: every request gets a generic_nack. */
	void (*request)(struct smpp_link *l, const struct smpp_pdu *pdu);
	/*! The link is gone; outstanding requests have had their callbacks (-ENOTCONN). The owner
	 *  frees the link (here or later). */
	void (*closed)(struct smpp_link *l, enum smpp_link_end why);
};

/*! Result of a request: \a resp is the response (or generic_nack; check command_status), or NULL
 *  with \a err -ETIMEDOUT (no answer in time), -ENOTCONN (link gone), -EBADMSG (undecodable
 *  answer). */
typedef void (*smpp_resp_cb)(struct smpp_link *l, const struct smpp_pdu *resp, int err, void *data);

/*! Wrap an accepted or connecting \a c. \a name is used in log lines. */
struct smpp_link *smpp_link_alloc(void *ctx, struct conn *c, const struct smpp_link_ops *ops, void *data,
				  const char *name);
/*! Connect to \a host:\a port (plain TCP) and wrap the connection. \returns NULL on immediate error. */
struct smpp_link *smpp_link_connect(void *ctx, const char *host, uint16_t port, const struct smpp_link_ops *ops,
				    void *data, const char *name);
void *smpp_link_data(const struct smpp_link *l);
const char *smpp_link_name(const struct smpp_link *l);

/*! At most \a n outstanding requests (default 10; enquire_link and unbind do not count). */
void smpp_link_set_window(struct smpp_link *l, unsigned int n);
unsigned int smpp_link_outstanding(const struct smpp_link *l);
bool smpp_link_window_open(const struct smpp_link *l);

/*! Send a request: assigns the sequence number (returned in pdu->sequence_number). \a cb is called
 *  exactly once, from the loop. \returns 0, -EBUSY (window full), -ENOTCONN, -EINVAL (encode). */
int smpp_link_request(struct smpp_link *l, struct smpp_pdu *pdu, smpp_resp_cb cb, void *cb_data);
/*! Answer \a req with \a status; \a resp carries the body fields (may be NULL). \returns 0 or -errno. */
int smpp_link_respond(struct smpp_link *l, const struct smpp_pdu *req, uint32_t status, const struct smpp_pdu *resp);
/*! Send enquire_link every SMPP_T_ENQUIRE while \a on; an unanswered one ends the link. */
void smpp_link_keepalive(struct smpp_link *l, bool on);
/*! Send unbind; the link ends (SMPP_END_UNBIND) on unbind_resp or after SMPP_T_UNBIND. */
void smpp_link_unbind(struct smpp_link *l);
/*! End the link now (flushing what is queued); closed() follows from the loop. */
void smpp_link_close(struct smpp_link *l);
bool smpp_link_is_up(const struct smpp_link *l);

/*! Low-level write of raw bytes (tests only: garbage injection). */
int smpp_link_write_raw(struct smpp_link *l, const void *buf, size_t len);
