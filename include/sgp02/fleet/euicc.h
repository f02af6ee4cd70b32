/*! \file euicc.h
 * The simulated eUICC of sgp02-fleet: an ISD-R with a real SCP80 key set and replay counter, an ECASD
 * placeholder holding the EID, and ISD-Ps with their life-cycle states, executing the ES5 commands of SGP.02
 * that travel by SMS (SGP02.md §7.1, §7.2, §8).
 *
 * The card is pure logic with an explicit clock: SMS user data in, SMS user data out. It never reads a clock,
 * never logs secrets and owns no timers; the caller (device.c) asks fleet_euicc_next_timeout() when to call
 * fleet_euicc_tick() again (notification re-sends).
 *
 * What a card is made of ("manufactured by the EUM") is derived from a key-material seed and the card's index
 * by fleet_euicc_perso_derive(), so the same seed always gives the same EIDs, keys, ICCIDs and MSISDNs: the
 * fleet can create cards lazily and write their EIS (fleet_euicc_eis_xml()) without keeping them in memory.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sgp02/ota/scp80.h>
#include <sgp02/ota/sms.h>
#include <sgp02/gp/eid.h>

/*! ISD-Ps one card can hold (pre-loaded ones included). */
#define FLEET_EUICC_MAX_PROFILES	8
/*! Longest SM-SR addressing parameter value (DGI 3A07 to the ISD-R) the card keeps. */
#define FLEET_EUICC_MAX_ADDR_PARAMS	64

/*! POL1 rules of a profile (SGP02.md §3.2); a bit mask. */
enum fleet_pol1 {
	FLEET_POL1_DISABLE_NOT_ALLOWED = 0x01,
	FLEET_POL1_DELETE_NOT_ALLOWED = 0x02,
	/*! "Profile deletion is mandatory when its state is changed to disabled" */
	FLEET_POL1_DELETE_ON_DISABLE = 0x04,
};

/*! What the EUM puts into every card of a fleet (the common part of the manufacturing data). */
struct fleet_eum_params {
	uint64_t key_seed;		/*!< seed of all key material and identifiers */
	const char *eum_id;		/*!< EUM OID, e.g. "1.3.6.1.4.1.99999.30" */
	const char *smsr_id;		/*!< OID of the SM-SR the cards are registered with */
	const char *mno_boot_id;	/*!< OID of the operator owning the bootstrap profile */
	const char *mno_op_id;		/*!< OID of the operator owning the operational profile */
	const char *msisdn_prefix;	/*!< digits; profile MSISDNs are prefix ‖ 0|1 ‖ 7-digit index */
	const char *production_date;	/*!< xs:dateTime, e.g. "2026-01-01T00:00:00Z" */
	uint8_t kvn;			/*!< ISD-R SCP80 key version, 1..15 */
	uint8_t op_pol1;		/*!< POL1 of the operational profile (enum fleet_pol1 bits) */
	uint32_t total_mem;		/*!< memory for profiles with no profile installed (bytes) */
	uint32_t boot_mem;		/*!< memory taken by the bootstrap profile */
	uint32_t op_mem;		/*!< memory taken by the operational profile */
};

/*! Fill \a p with the defaults used by sgp02-fleet: seed 1, EUM 1.3.6.1.4.1.99999.30, SM-SR 1.3.6.1.4.1.99999.20,
 *  bootstrap operator 1.3.6.1.4.1.99999.2, operational operator 1.3.6.1.4.1.99999.1, MSISDN prefix "4915", KVN 1,
 *  no POL1, 512 KiB for profiles, 64 KiB per pre-loaded profile. */
void fleet_eum_params_default(struct fleet_eum_params *p);

/*! One pre-loaded profile as manufactured. */
struct fleet_perso_profile {
	char iccid[20];			/*!< 19 digits (18 + Luhn), E.118 order */
	char msisdn[24];		/*!< prefix ‖ 0|1 ‖ 7-digit index */
	uint32_t tar;			/*!< ISD-P TAR, 000010..00FFFF */
	uint8_t aid[16];
	uint32_t mem;
	bool enabled;
	bool fallback;
	uint8_t pol1;
	const char *mno_id;		/*!< points into the fleet_eum_params */
};

/*! Everything that makes one card: index 0 is the bootstrap profile (enabled, fall-back attribute), index 1 the
 *  operational profile (disabled). */
struct fleet_euicc_perso {
	uint32_t index;
	char eid[GP_EID_DIGITS + 1];
	uint8_t eid_bin[GP_EID_BYTES];
	struct ota_scp80_keyset isdr_ks;	/*!< AES-128, KIc = KID = KVN ‖ 2 (SGP02.md §7.1) */
	uint8_t kvn;
	uint8_t sin[16];		/*!< Security Domain Identification Number placeholder */
	struct fleet_perso_profile prof[2];
	uint32_t total_mem;
};

/*! Derive the manufacturing data of card \a index from \a p (deterministic).
 *  \returns 0, -EINVAL (bad parameters: KVN, prefix not digits or too long, index > 9999999), -EIO (crypto). */
int fleet_euicc_perso_derive(const struct fleet_eum_params *p, uint32_t index, struct fleet_euicc_perso *out);

/*! The EIS of a freshly manufactured card as an XML fragment: one `<Eis>` element of the GSMA EISType
 *  (namespace http://namespaces.gsma.org/esim-messaging/3), see the format comment in euicc.c.
 *  \param[in] device_msisdn the device's SMS address, written as AdditionalProperties
 *  \returns a talloc'd NUL-terminated string (child of \a ctx) or NULL on allocation failure. */
char *fleet_euicc_eis_xml(void *ctx, const struct fleet_eum_params *p, const struct fleet_euicc_perso *perso,
			  const char *device_msisdn);

/*! Behaviour of a card (not part of its identity). Zero fields take the defaults shown. */
struct fleet_euicc_cfg {
	uint64_t refresh_ms;		/*!< accepted switch to first notification (default 0 = at once) */
	uint64_t notif_retry_ms;	/*!< notification re-send interval while unconfirmed (default 30000) */
	unsigned int notif_max_tries;	/*!< sends of a notification before roll-back / giving up (default 10) */
	uint32_t default_isdp_mem;	/*!< memory reserved by CreateISDP without a quota (default 32768) */
	uint64_t reasm_timeout_ms;	/*!< concatenated command parts older than this are dropped (default 60000) */
};

/*! Kinds of MO short messages a card produces. */
enum fleet_mo_kind {
	FLEET_MO_POR,			/*!< response packet (PoR) to a command packet */
	FLEET_MO_NOTIF,			/*!< notification (E1) in a command packet with CNTR 0 */
};

/*! One MO short message to send (8-bit data, UDHI set, PID 7F, DCS F6). */
struct fleet_mo {
	enum fleet_mo_kind kind;
	struct ota_sms_ud ud;
};

/*! Counters of one card. */
struct fleet_euicc_stats {
	unsigned long mt_rx;		/*!< short messages received */
	unsigned long not_ota;		/*!< short messages without a command packet (ignored) */
	unsigned long concat_parts;	/*!< concatenated parts stored */
	unsigned long discarded;	/*!< command packets silently discarded (security level, keys, CC, format) */
	unsigned long replayed;		/*!< command packets refused by the counter rule (never executed) */
	unsigned long tar_unknown;	/*!< authentic command packets for a TAR we do not serve */
	unsigned long scripts;		/*!< command scripts executed */
	unsigned long apdus;		/*!< C-APDUs executed */
	unsigned long apdu_errors;	/*!< C-APDUs answered with an error status word */
	unsigned long por_tx;		/*!< PoRs produced */
	unsigned long notif_tx;		/*!< notification sends (first sends and re-sends) */
	unsigned long notif_confirmed;	/*!< notifications confirmed by the SM-SR */
	unsigned long notif_given_up;	/*!< notifications abandoned after notif_max_tries */
	unsigned long rollbacks;	/*!< profile switches rolled back */
};

/*! A profile (ISD-P) as the card holds it. */
struct fleet_euicc_profile {
	bool used;
	uint8_t aid[16];
	uint8_t lcs;			/*!< enum gp_isdp_lcs */
	bool fallback;
	uint8_t pol1;
	uint32_t mem;
};

struct fleet_euicc;

/*! Manufacture a card from its personalisation data. \returns the card (talloc child of \a ctx) or NULL. */
struct fleet_euicc *fleet_euicc_alloc(void *ctx, const struct fleet_euicc_perso *perso,
				      const struct fleet_euicc_cfg *cfg);

/*! Receive one MT short message (TP-UD with its UDH; the caller has checked TP-UDHI).
 *  Concatenated command packets are reassembled first; a complete command packet for the ISD-R is verified
 *  (SGP.02 minimum SPI, KIc/KID, CC, counter "higher") and its script executed; the PoR is produced when the SPI
 *  asks for it. Packets that fail the security checks are discarded without a PoR (SGP02.md §7.1); an authentic
 *  packet with a stale counter is never executed and gets a PoR "counter low" if a PoR is requested.
 *  \param[in] now_ms the caller's monotonic clock
 *  \param[out] mo talloc'd array (child of \a out_ctx) of the MO messages to send now, in order; NULL if none
 *  \param[out] num_mo number of entries
 *  \returns 0 (also for discarded input: see the counters), -ENOMEM, -EINVAL. */
int fleet_euicc_rx(struct fleet_euicc *e, const uint8_t *ud, size_t ud_len, uint64_t now_ms, void *out_ctx,
		   struct fleet_mo **mo, unsigned int *num_mo);

/*! Let time pass: (re-)send a due notification, roll back a profile switch whose notification was never
 *  confirmed (type 03 follows). Same outputs as fleet_euicc_rx(). \returns 0, -ENOMEM, -EINVAL. */
int fleet_euicc_tick(struct fleet_euicc *e, uint64_t now_ms, void *out_ctx, struct fleet_mo **mo,
		     unsigned int *num_mo);

/*! The Fall-back Mechanism (SGP02.md §10.8): the enabled profile lost its network. The card disables it (ignoring
 *  its POL1), enables the profile with the Fall-back Attribute and notifies with type 05; the notification goes
 *  out at the next fleet_euicc_tick() (or at once in the outputs here). No roll-back follows an unconfirmed
 *  type 05. \returns 0, -EALREADY (the fall-back profile is the enabled one), -ENOENT (no fall-back profile),
 *  -ENOMEM, -EINVAL. */
int fleet_euicc_fallback(struct fleet_euicc *e, uint64_t now_ms, void *out_ctx, struct fleet_mo **mo,
			 unsigned int *num_mo);

/*! \returns true and the time fleet_euicc_tick() wants to be called at, or false if nothing is pending. */
bool fleet_euicc_next_timeout(const struct fleet_euicc *e, uint64_t *at_ms);

/*! \returns the card's EID (32 digits). */
const char *fleet_euicc_eid(const struct fleet_euicc *e);
/*! \returns the ISD-R replay counter the card holds (the highest counter accepted). */
uint64_t fleet_euicc_cntr(const struct fleet_euicc *e);
/*! \returns the card's counters. */
const struct fleet_euicc_stats *fleet_euicc_stats(const struct fleet_euicc *e);
/*! \returns profile slot \a i (0..FLEET_EUICC_MAX_PROFILES-1; check ->used), NULL if out of range. */
const struct fleet_euicc_profile *fleet_euicc_profile(const struct fleet_euicc *e, unsigned int i);
/*! \returns the profile with ISD-P \a aid, or NULL. */
const struct fleet_euicc_profile *fleet_euicc_profile_by_aid(const struct fleet_euicc *e, const uint8_t aid[16]);
/*! \returns the enabled profile, or NULL. */
const struct fleet_euicc_profile *fleet_euicc_enabled(const struct fleet_euicc *e);
/*! Set the POL1 of a profile, as its operator would over ES6. \returns 0 or -ENOENT. */
int fleet_euicc_set_pol1(struct fleet_euicc *e, const uint8_t aid[16], uint8_t pol1);
/*! \returns free memory for profiles (bytes). */
uint32_t fleet_euicc_free_mem(const struct fleet_euicc *e);
/*! \returns true while a notification waits for its confirmation; its sequence number in *seq if not NULL. */
bool fleet_euicc_notif_pending(const struct fleet_euicc *e, uint16_t *seq);
