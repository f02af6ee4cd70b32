/*! \file device.h
 * The simulated devices of sgp02-fleet: N M2M devices, each with an eUICC (euicc.h) and an SMS bearer behind
 * the fleet's SMSC. MT short messages come in by MSISDN, go to the card, and what the card answers (PoRs,
 * notifications) leaves as MO short messages through a sink (the SMSC, or a fake in tests).
 *
 * Memory: a device costs one pointer until it first receives a short message; its card is created then, from
 * the deterministic manufacturing data (fleet_euicc_perso_derive()), so 100 000 devices fit in one process.
 *
 * Fault injection with a seeded PRNG (xorshift64*), configurable per fleet and counted per fault: drop an MT
 * or an MO, duplicate it, delay it (osmo_timer), reorder it (hold it until the next message of the same device
 * and direction has passed, or at most reorder_hold_ms), and take a device offline for a period (MT refused
 * with -EAGAIN, MO lost). With the same seed and the same sequence of input events the same faults happen.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sgp02/fleet/euicc.h>

/*! Most devices one fleet may have (MSISDNs and ICCIDs carry a 7-digit index). */
#define FLEET_MAX_DEVICES	1000000

/*! Where MO short messages go (8-bit data, UDHI, PID 7F, DCS F6, SGP02.md §7.1). */
struct fleet_mo_sink {
	/*! Submit one MO message from \a src (the device's MSISDN) to \a dst (the SM-SR's address).
	 *  \returns 0 if taken, a negative errno if refused (counted as mo_refused). */
	int (*submit)(void *priv, const char *src, const char *dst, const uint8_t *ud, size_t len);
	void *priv;
};

/*! Fault rates are probabilities 0.0 .. 1.0 per message (offline: per MT message, the chance that the device
 *  goes offline just then). */
struct fleet_faults {
	double drop_mt;
	double drop_mo;
	double dup_mt;
	double dup_mo;
	double delay;			/*!< both directions */
	double reorder;			/*!< both directions */
	double offline;
	uint32_t delay_min_ms;		/*!< default 100 */
	uint32_t delay_max_ms;		/*!< default 2000 */
	uint32_t reorder_hold_ms;	/*!< default 5000 */
	uint32_t offline_ms;		/*!< default 60000 */
};

struct fleet_devices_cfg {
	unsigned int num;		/*!< number of devices (default 100) */
	uint64_t fault_seed;		/*!< PRNG seed of the fault injection */
	struct fleet_eum_params eum;	/*!< manufacturing data of the cards (its key_seed makes the keys) */
	struct fleet_euicc_cfg card;	/*!< card behaviour */
	struct fleet_faults faults;
	const char *smsr_addr;		/*!< where notifications go; NULL: the source of the last MT message */
	bool strict_msisdn;		/*!< MT only reaches a device on the MSISDN of its enabled profile */
};

/*! Fleet-wide counters. */
struct fleet_devices_stats {
	unsigned long mt_rx;		/*!< MT messages offered by the SMSC */
	unsigned long mt_unknown;	/*!< MT for an MSISDN no device answers to */
	unsigned long mt_text;		/*!< MT without UDHI (for the device's user, not the card) */
	unsigned long mt_offline;	/*!< MT refused because the device was offline */
	unsigned long mt_dropped;
	unsigned long mt_duplicated;
	unsigned long mt_delayed;
	unsigned long mt_reordered;
	unsigned long mt_to_card;	/*!< MT messages handed to a card */
	unsigned long mo_tx;		/*!< MO messages handed to the sink */
	unsigned long mo_refused;	/*!< ... and refused by it */
	unsigned long mo_dropped;
	unsigned long mo_duplicated;
	unsigned long mo_delayed;
	unsigned long mo_reordered;
	unsigned long mo_offline;	/*!< MO lost because the device was offline */
	unsigned long por_tx;		/*!< PoR messages produced by cards */
	unsigned long notif_tx;		/*!< notification messages produced by cards */
	unsigned long offline_periods;	/*!< times a device went offline */
	unsigned long cards;		/*!< cards created so far */
};

struct fleet_devices;

/*! Fill \a cfg with the defaults (100 devices, no faults, fleet_eum_params_default()). */
void fleet_devices_cfg_default(struct fleet_devices_cfg *cfg);

/*! Create the fleet. The strings in cfg (eum, smsr_addr) are copied. \returns NULL on bad cfg or no memory. */
struct fleet_devices *fleet_devices_alloc(void *ctx, const struct fleet_devices_cfg *cfg,
					  const struct fleet_mo_sink *sink);

/*! An MT short message from the SMSC for \a dst (user data with UDH; the caller checked TP-UDHI).
 *  \returns 0 if taken (also when a fault drops it: the SMSC cannot know), -ENOENT if no device has that
 *  MSISDN, -EAGAIN if the device is offline, -EINVAL, -ENOMEM. */
int fleet_devices_mt(struct fleet_devices *f, const char *src, const char *dst, const uint8_t *ud, size_t len);

/*! Replace the MO sink (e.g. once the SMSC exists). \returns 0 or -EINVAL. */
int fleet_devices_set_sink(struct fleet_devices *f, const struct fleet_mo_sink *sink);

/*! Find the device answering to \a msisdn. \returns its index or -ENOENT. */
int fleet_devices_lookup(struct fleet_devices *f, const char *msisdn);

/*! Take device \a index offline for \a ms milliseconds from now (0: back online). \returns 0 or -ENOENT. */
int fleet_devices_set_offline(struct fleet_devices *f, unsigned int index, uint32_t ms);

/*! Device \a index loses the network of its enabled profile: its card falls back (fleet_euicc_fallback()).
 *  \returns 0, -ENOENT (bad index or no fall-back profile), -EALREADY (already on the fall-back profile). */
int fleet_devices_fallback(struct fleet_devices *f, unsigned int index);

/*! \returns the card of device \a index, creating it if needed (NULL on a bad index or no memory). */
struct fleet_euicc *fleet_devices_card(struct fleet_devices *f, unsigned int index);

/*! The device's own MSISDN (that of its bootstrap profile), written into \a buf (at least 24 bytes).
 *  \returns buf, or NULL on a bad index. */
const char *fleet_devices_msisdn(struct fleet_devices *f, unsigned int index, char *buf, size_t size);

/*! \returns the fleet counters. */
const struct fleet_devices_stats *fleet_devices_stats(const struct fleet_devices *f);
/*! Add up the counters of every card created so far into \a sum. */
void fleet_devices_card_stats(const struct fleet_devices *f, struct fleet_euicc_stats *sum);
/*! \returns the number of devices. */
unsigned int fleet_devices_num(const struct fleet_devices *f);
/*! \returns the number of messages waiting in delay/reorder timers. */
unsigned int fleet_devices_in_flight(const struct fleet_devices *f);
/*! \returns the number of cards with an unconfirmed notification. */
unsigned int fleet_devices_notif_pending(const struct fleet_devices *f);
/*! \returns the configuration in use. */
const struct fleet_devices_cfg *fleet_devices_cfg(const struct fleet_devices *f);

/*
 * Glue to the fleet's SMSC (smsc.h), shared by sgp02-fleet and the tests
 */
struct smsc;
struct smsc_mt;

/*! smsc_ops.mt callback; \a data is the struct fleet_devices. An MT without UDHI is a text message for the
 *  device, not the card: delivered and otherwise ignored. \returns SMSC_MT_DELIVERED (also when a fault drops
 *  the message), SMSC_MT_UNDELIVERABLE (device offline), SMPP ESME_RINVDSTADR (no such MSISDN),
 *  ESME_RINVMSGLEN / ESME_RSYSERR. */
int fleet_devices_smsc_mt(struct smsc *s, const struct smsc_mt *mt, void *data);
/*! fleet_mo_sink.submit for the SMSC; \a priv is the struct smsc. Sends the MO as deliver_sm with source
 *  TON/NPI international/E.164, PID 7F, DCS F6, UDHI. \returns smsc_deliver_mo()'s result. */
int fleet_devices_smsc_mo(void *priv, const char *src, const char *dst, const uint8_t *ud, size_t len);
