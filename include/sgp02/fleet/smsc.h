/*! \file smsc.h
 * The simulated fleet's SMSC: an SMPP 3.4 server (plain TCP) that the SM-SR's ESME binds to as a
 * transceiver. MT submit_sm go to the device layer through a callback; MO messages from devices
 * and delivery receipts go to the bound ESMEs as deliver_sm, round robin, and wait (bounded) while
 * no ESME is bound. Like a real SMSC it has a maximum rate, beyond which it answers
 * ESME_RTHROTTLED, and it can be told to answer ESME_RMSGQFUL (fault injection for tests).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct smsc;
struct osmo_tdef;

/*! SMSC timers (osmo_tdef group "smsc"), values in ms. */
enum smsc_timer {
	SMSC_T_MO_RETRY = -1,	/*!< delay before offering a refused/unanswered deliver_sm again */
};
extern struct osmo_tdef smsc_tdefs[];

struct smsc_cfg {
	const char *addr;		/*!< listen address, e.g. "127.0.0.1" */
	uint16_t port;			/*!< 0: any free port (see smsc_port()) */
	const char *system_id;		/*!< the ESME's system_id we accept */
	const char *password;		/*!< its password; never logged */
	unsigned int rate;		/*!< submit_sm per second accepted (0: no limit) */
	unsigned int burst;		/*!< token bucket depth (0: rate/10, at least 1) */
	unsigned int window;		/*!< unanswered deliver_sm per bind (0: 10) */
	unsigned int max_queue;		/*!< MO/receipts waiting at most (0: 100000) */
	unsigned int max_attempts;	/*!< deliver_sm attempts per message (0: 10) */
};

/*! An MT message as submitted by the ESME. Pointers valid during the callback only. */
struct smsc_mt {
	const char *system_id;		/*!< of the bind it came on */
	const char *message_id;		/*!< what the ESME gets in submit_sm_resp */
	const char *source_addr;
	uint8_t source_ton;
	uint8_t source_npi;
	const char *dest_addr;
	uint8_t dest_ton;
	uint8_t dest_npi;
	uint8_t esm_class;
	bool udhi;
	uint8_t protocol_id;
	uint8_t data_coding;
	uint8_t registered_delivery;
	const uint8_t *ud;
	size_t ud_len;
};

/*! An MO message from a device (SMS-SUBMIT towards the SM-SR). */
struct smsc_mo {
	const char *source_addr;	/*!< the device's MSISDN */
	uint8_t source_ton;
	uint8_t source_npi;
	const char *dest_addr;		/*!< the SM-SR's address */
	uint8_t protocol_id;
	uint8_t data_coding;
	bool udhi;
	const uint8_t *ud;
	size_t ud_len;			/*!< at most SMPP_UD_MAX */
};

/*! What the device layer did with an MT message. */
enum smsc_mt_result {
	SMSC_MT_DELIVERED = 0,		/*!< delivered to the device (receipt DELIVRD) */
	SMSC_MT_UNDELIVERABLE = -1,	/*!< accepted, but the device is unreachable (receipt UNDELIV) */
};

/*! Called from the event loop; must not free the SMSC. */
struct smsc_ops {
	/*! An MT message. \returns an smsc_mt_result, or a positive SMPP status to refuse the submit_sm. */
	int (*mt)(struct smsc *s, const struct smsc_mt *mt, void *data);
};

struct smsc_stats {
	unsigned long binds;		/*!< successful binds */
	unsigned long bind_refused;	/*!< wrong system_id/password, already bound */
	unsigned long mt_received;	/*!< submit_sm */
	unsigned long mt_accepted;	/*!< submit_sm_resp ESME_ROK */
	unsigned long throttled;	/*!< answered ESME_RTHROTTLED */
	unsigned long queue_full;	/*!< answered ESME_RMSGQFUL */
	unsigned long receipts;		/*!< delivery receipts queued */
	unsigned long mo_queued;	/*!< smsc_deliver_mo() accepted */
	unsigned long delivered;	/*!< deliver_sm answered ESME_ROK (MO and receipts) */
	unsigned long deliver_retries;	/*!< deliver_sm offered again */
	unsigned long dropped;		/*!< deliver_sm given up after max_attempts */
};

/*! Start the SMSC listening. \returns NULL on error (logged). */
struct smsc *smsc_alloc(void *ctx, const struct smsc_cfg *cfg, const struct smsc_ops *ops, void *data);
uint16_t smsc_port(const struct smsc *s);
/*! Change the accepted submit_sm rate (0: no limit). */
void smsc_set_rate(struct smsc *s, unsigned int rate, unsigned int burst);
/*! Answer the next \a n submit_sm with ESME_RMSGQFUL (fault injection). */
void smsc_inject_queue_full(struct smsc *s, unsigned int n);
/*! Send an MO message to a bound ESME as deliver_sm (now, or once one is bound).
 *  \returns 0, -EINVAL, -EMSGSIZE, -ENOSPC (queue full). */
int smsc_deliver_mo(struct smsc *s, const struct smsc_mo *mo);
unsigned int smsc_bound_count(const struct smsc *s);
/*! deliver_sm waiting or unanswered. */
unsigned int smsc_pending(const struct smsc *s);
const struct smsc_stats *smsc_get_stats(const struct smsc *s);
