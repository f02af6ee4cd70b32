/*! \file esme.h
 * The SM-SR's SMPP 3.4 ESME: ES5 over SMS-PP (SGP.02 digest §7.1). Several transceiver binds to
 * one or more SMSCs, each reconnecting with exponential backoff and sending at most its configured
 * rate (token bucket) with at most its window of unanswered submit_sm. Messages wait in one queue
 * that every bound bind takes from, so that a bind that goes down leaves its share to the others.
 *
 * MT: submit_sm for SMS-PP data download (esm_class UDHI 0x40, protocol_id 0x7F "(U)SIM data
 * download", data_coding 0xF6 "8-bit, class 2" by default), with a delivery receipt requested if
 * configured. ESME_RTHROTTLED and ESME_RMSGQFUL are retried with backoff (bounded); any other
 * error ends the message. The result reaches the caller exactly once through submit_result.
 * Delivery is at least once: a submit_sm whose answer was lost with its connection is sent again
 * (the OTA layer's counters make a repeated command packet harmless, ETSI TS 102 225 §5.1.1).
 *
 * MO: deliver_sm (SMS-SUBMIT from a device, e.g. a PoR or a notification) goes to the mo
 * callback and is answered with its status; delivery receipts are parsed and reported apart.
 * No reassembly of concatenated MO here: the caller uses src/ota/sms.c for that.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct esme;
struct osmo_tdef;

/*! ESME timers (osmo_tdef group "esme"), values in ms. */
enum esme_timer {
	ESME_T_RECONNECT = -1,		/*!< first reconnect delay; doubles per failure */
	ESME_T_RECONNECT_MAX = -2,	/*!< reconnect delay ceiling */
	ESME_T_RESUBMIT = -3,		/*!< first resubmit delay after THROTTLED/MSGQFUL; doubles per retry */
	ESME_T_RESUBMIT_MAX = -4,	/*!< resubmit delay ceiling */
};
extern struct osmo_tdef esme_tdefs[];

struct esme_bind_cfg {
	const char *name;		/*!< for logs and counters */
	const char *host;		/*!< SMSC address (numeric or "localhost") */
	uint16_t port;
	const char *system_id;		/*!< at most 15 characters (SMPP 3.4 §5.2.1) */
	const char *password;		/*!< at most 8 characters; never logged */
	const char *system_type;	/*!< may be NULL */
	uint8_t addr_ton;
	uint8_t addr_npi;
	const char *address_range;	/*!< may be NULL */
	unsigned int window;		/*!< unanswered submit_sm at most (0: 10) */
	unsigned int rate;		/*!< submit_sm per second at most (0: no limit) */
	unsigned int burst;		/*!< token bucket depth (0: rate/10, at least 1) */
};

struct esme_cfg {
	const char *source_addr;	/*!< our SMS address (the SM-SR's short code), may be empty */
	uint8_t source_ton;
	uint8_t source_npi;
	uint8_t protocol_id;		/*!< TP-PID, 0x7F: (U)SIM data download (TS 23.040 §9.2.3.9) */
	uint8_t data_coding;		/*!< TP-DCS, 0xF6: 8-bit data, class 2 (TS 23.038 §4) */
	bool registered_delivery;	/*!< ask the SMSC for delivery receipts */
	unsigned int max_retries;	/*!< resubmissions of one message at most */
	unsigned int max_queue;		/*!< messages waiting at most; beyond, esme_submit() refuses */
};

/*! Fill \a cfg with the defaults (PID 0x7F, DCS 0xF6, receipts on, 5 retries, 100000 queued). */
void esme_cfg_defaults(struct esme_cfg *cfg);

/*! One MT short message. */
struct esme_msg {
	const char *dest_addr;		/*!< the device's MSISDN */
	uint8_t dest_ton;
	uint8_t dest_npi;
	const uint8_t *ud;		/*!< TP-UD (with its UDH if \a udhi) */
	size_t ud_len;			/*!< at most SMPP_UD_MAX */
	bool udhi;			/*!< TP-UDHI: UD starts with a UDH (always for SMS-PP data download) */
};

/*! An MO message (deliver_sm that is not a receipt). Pointers valid during the callback only. */
struct esme_mo {
	const char *bind;		/*!< name of the bind it came on */
	const char *source_addr;
	uint8_t source_ton;
	uint8_t source_npi;
	const char *dest_addr;
	uint8_t esm_class;
	uint8_t protocol_id;
	uint8_t data_coding;
	bool udhi;
	const uint8_t *ud;
	size_t ud_len;
};

/*! A delivery receipt (SMPP 3.4 Appendix B). Pointers valid during the callback only. */
struct esme_receipt {
	const char *message_id;		/*!< the SMSC's id from submit_sm_resp */
	const char *stat;		/*!< "DELIVRD", "UNDELIV", "EXPIRED", ... */
	bool delivered;
	unsigned int err;
	const char *source_addr;	/*!< the device */
};

/*! Callbacks run from the event loop, never from inside esme_submit(). They may call esme_submit(), but
 *  must not free the ESME (do that from the loop, e.g. a zero timer). */
struct esme_ops {
	/*! Result of esme_submit(): \a err 0 and \a message_id on success; else -EAGAIN (still
	 *  throttled / queue full after all retries), -EPROTO (SMSC error \a status), -ETIMEDOUT. */
	void (*submit_result)(struct esme *e, void *msg_data, int err, uint32_t status, const char *message_id);
	/*! A delivery receipt. May be NULL. */
	void (*receipt)(struct esme *e, const struct esme_receipt *r, void *data);
	/*! An MO message; \returns the SMPP status for deliver_sm_resp (0: ESME_ROK). May be NULL
	 *  (MO is then refused with ESME_RX_T_APPN). */
	uint32_t (*mo)(struct esme *e, const struct esme_mo *mo, void *data);
};

struct esme_stats {
	unsigned long submitted;	/*!< submit_sm sent (including resubmissions) */
	unsigned long accepted;		/*!< submit_sm_resp ESME_ROK */
	unsigned long throttled;	/*!< ESME_RTHROTTLED answers */
	unsigned long queue_full;	/*!< ESME_RMSGQFUL answers */
	unsigned long resubmitted;	/*!< messages put back in the queue */
	unsigned long failed;		/*!< messages given up (callback with an error) */
	unsigned long received;		/*!< MO deliver_sm */
	unsigned long receipts;		/*!< delivery receipts */
	unsigned long binds;		/*!< successful binds */
	unsigned long bind_failures;	/*!< refused binds and failed connects */
};

/*! \returns the ESME, or NULL (source_addr longer than 20 characters, out of memory). */
struct esme *esme_alloc(void *ctx, const struct esme_cfg *cfg, const struct esme_ops *ops, void *data);
/*! Add a bind (before or after esme_start()). \returns 0 or -EINVAL (field too long). */
int esme_add_bind(struct esme *e, const struct esme_bind_cfg *bc);
/*! Connect every bind. */
void esme_start(struct esme *e);
/*! Shut down gracefully: unbind every bind (SMPP 3.4 §4.2) and stop reconnecting. Queued messages
 *  stay queued (no callbacks); free the ESME once esme_link_count() is 0 (or at any time). */
void esme_stop(struct esme *e);
/*! Binds that still have a connection (connecting, binding, bound or unbinding). */
unsigned int esme_link_count(const struct esme *e);
/*! Queue a message; \a msg is copied. \returns 0 (submit_result follows exactly once), -EINVAL,
 *  -EMSGSIZE, -ENOSPC (queue full). */
int esme_submit(struct esme *e, const struct esme_msg *msg, void *msg_data);

unsigned int esme_bound_count(const struct esme *e);
unsigned int esme_queue_len(const struct esme *e);
const struct esme_stats *esme_get_stats(const struct esme *e);
/*! The status of the last refused bind_transceiver_resp of the bind called \a name (0: none
 *  since it last bound), so that an operator sees "ESME_RINVPASWD" rather than "down". */
uint32_t esme_bind_last_refusal(const struct esme *e, const char *name);
/*! submit_sm sent on the bind called \a name (for rate checks), or 0. */
unsigned long esme_bind_sent(const struct esme *e, const char *name);
