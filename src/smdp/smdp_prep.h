/*! \file smdp_prep.h
 * SM-DP profile preparation (SGP.02 §5.2 and §10.1; issue #6): profile templates per operator and profile type,
 * personalisation batches with their secrets sealed at rest (include/sgp02/common/kek.h), the ICCID inventory, and the
 * personalisation of a template for one reserved ICCID. Used by sgp02-smdp, by `sgp02-ctl smdp` and by the tests,
 * so it talks to PostgreSQL through a plain struct db (any schema at the SM-DP version, no prepared statements).
 *
 * Error convention: 0 or a negative errno; functions that take err/err_size also leave a one-line message there
 * naming the cause (and the line of a batch file). No secret ever appears in a message or a log line.
 *
 * Personalisation batch file format (CSV, UTF-8/ASCII, one ICCID per line):
 *   - lines starting with '#' and blank lines are ignored; a trailing CR is ignored; no quoting (no value
 *     contains a comma); spaces around values are ignored;
 *   - the first other line is the header naming the columns, in any order, case-insensitive:
 *       required: iccid imsi ki opc pin1 puk1
 *       optional: pin2 puk2 adm1 msisdn (the column may be missing, or a value empty: the template's value stays)
 *       kic kid kik: required on every line when the template has an OTA key set, refused when it has none
 *   - iccid: 18..20 decimal digits, the last one the Luhn check digit (ITU-T E.118);
 *     imsi: 6..15 digits (3GPP TS 23.003 §2.2); msisdn: 1..15 digits, optional leading '+' (ITU-T E.164);
 *     ki, opc: 32 or 64 hex digits (16 or 32 bytes: MILENAGE or TUAK);
 *     pin1, pin2: 4..8 digits; puk1, puk2: 8 digits (ETSI TS 102 221 §9.5: coded as ASCII digits padded with FF);
 *     adm1: 8 digits, or 16 hex digits for a raw 8-byte value;
 *     kic, kid, kik: 32, 48 or 64 hex digits: the OTA keys (key identifiers 1, 2, 3 = KIc, KID, KIK, ETSI
 *     TS 102 225 / GlobalPlatform Amendment B) of the template's first SCP80 key set (smdp_ota_kvn()).
 *     Only that key set is personalised: any other key set of the template keeps the template's keys.
 *   Example:
 *     iccid,imsi,ki,opc,pin1,puk1,kic,kid,kik,msisdn
 *     89882280000000000012,001010000000001,000102030405060708090A0B0C0D0E0F,<32 hex>,0000,12345678,<32 hex>,...
 * A batch is imported all or nothing, in one transaction.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sgp02/gp/saip.h>

struct db;
struct kek;

#define SMDP_MNO_ID_MAX		128	/*!< longest Mno-id OID text we accept */
#define SMDP_PROFILE_TYPE_MAX	100	/*!< SGP.02 ProfileType: String100 */
#define SMDP_BATCH_MAX_ROWS	100000	/*!< rows of one batch file */
#define SMDP_BATCH_MAX_BYTES	(32u << 20)	/*!< size of one batch file */
#define SMDP_BATCH_MAX_LINE	2048	/*!< length of one line */
#define SMDP_TEMPLATE_MAX_BYTES	(1u << 20)	/*!< size of one template package */
#define SMDP_OTA_KVN_MAX	0x0F	/*!< SCP80 key sets have versions 01..0F (ETSI TS 102 225 §5.1.2) */

/*! Secrets of one ICCID, in the order of the profile_data columns. */
enum smdp_secret {
	SMDP_S_KI,
	SMDP_S_OPC,
	SMDP_S_PIN1,
	SMDP_S_PUK1,
	SMDP_S_PIN2,
	SMDP_S_PUK2,
	SMDP_S_ADM1,
	SMDP_S_KIC,
	SMDP_S_KID,
	SMDP_S_KIK,
	_SMDP_S_NUM
};

/*! Column name of a secret ("ki", "pin1", ...). */
const char *smdp_secret_name(enum smdp_secret s);

/*! Personalisation data of one ICCID. PINs/PUKs/ADM1 hold the 8 bytes that go into the package. */
struct smdp_prep_row {
	unsigned int line;		/*!< line in the batch file (1-based), 0 if not from a file */
	char iccid[21];
	char imsi[16];
	char msisdn[16];		/*!< "" if not given */
	uint8_t secret[_SMDP_S_NUM][32];
	uint8_t secret_len[_SMDP_S_NUM];	/*!< 0 = not given (only pin2, puk2, adm1) */
};

/*! A parsed batch file; its memory is wiped when freed. */
struct smdp_batch {
	unsigned int n;
	struct smdp_prep_row *rows;
};

/*! ICCID inventory states (table inventory). */
enum smdp_inv_state {
	SMDP_INV_AVAILABLE,	/*!< personalisation data imported, not handed out */
	SMDP_INV_RESERVED,	/*!< handed out for a download to one EID */
	SMDP_INV_INSTALLED,	/*!< the profile was downloaded and installed */
	SMDP_INV_RELEASED,	/*!< the profile was deleted from the eUICC; not reused until made available */
	SMDP_INV_UNUSABLE,	/*!< never to be handed out again (e.g. a failed download, by policy) */
	_SMDP_INV_NUM
};

/*! What a failed download does with its reserved ICCID. */
enum smdp_fail_policy {
	SMDP_FAIL_RETURN,	/*!< back to available: nothing of it stayed on the eUICC */
	SMDP_FAIL_UNUSABLE,	/*!< marked unusable */
};

const char *smdp_inv_state_name(enum smdp_inv_state st);
/*! \returns the state of that name, or -EINVAL */
int smdp_inv_state_parse(const char *name);

/*! \returns true if s is a dotted-decimal OID (Mno-id), at most SMDP_MNO_ID_MAX characters. */
bool smdp_mno_id_ok(const char *s);
/*! \returns true if s is a usable profile type: 1..100 bytes, no control characters. */
bool smdp_profile_type_ok(const char *s);
/*! \returns true if s is 18..20 digits whose last digit is the Luhn check digit. */
bool smdp_iccid_ok(const char *s);

/*! What a template import found in the package. */
struct smdp_template_info {
	int pe_count;
	struct gp_saip_header hdr;
};

/*! The key set version personalised with the OTA keys: the lowest KVN 01..0F for which the package's
 *  securityDomain PEs hold key identifiers 1, 2 and 3. \returns the KVN, or -ENOENT if there is none. */
int smdp_ota_kvn(const uint8_t *pkg, size_t len);

/*! Validate a SAIP package (gp_saip_validate(), the header, every field personalisation needs: header ICCID,
 *  EF.IMSI, Ki, OPc, PIN1/PUK1) and store it as the template of
 *  (mno_id, profile_type), creating the profile type if needed.
 *  \param replace allow replacing an existing template of the pair
 *  \param actor who imports (audit trail)
 *  \returns 0; -EINVAL (bad argument), -EBADMSG (not a SAIP package), -ENOENT (a needed field missing),
 *  -EEXIST (a template exists and !replace), -EFBIG (too large), database -errno. */
int smdp_template_import(struct db *db, const char *mno_id, const char *profile_type, const uint8_t *pkg,
			 size_t len, bool replace, const char *actor, struct smdp_template_info *info,
			 char *err, size_t err_size);

/*! Read the template of (mno_id, profile_type). \param[out] pkg talloc'd on ctx
 *  \returns 0, -ENOENT, or database -errno. */
int smdp_template_get(void *ctx, struct db *db, const char *mno_id, const char *profile_type, uint8_t **pkg,
		      size_t *len);

/*! Parse and validate a batch file (format in the file comment). Stops at the first bad line.
 *  \param[out] out talloc'd on ctx (wiped when freed)
 *  \returns 0; -EINVAL (a bad line: message names it), -EFBIG (too many rows or bytes), -ENOMEM. */
int smdp_batch_parse(void *ctx, const char *text, size_t len, struct smdp_batch **out, char *err, size_t err_size);

/*! Import a parsed batch for (mno_id, profile_type), whose template must exist: one inventory row (available)
 *  and one profile_data row (secrets sealed under kek) per ICCID, all in one transaction. Checked against the
 *  template first: Ki, OPc and OTA keys must have the template's lengths; OTA keys must be given exactly when the
 *  template has an OTA key set; PIN2/PUK2/ADM1 only where the template has them.
 *  \param source file name recorded with the batch (may be NULL) \param[out] batch_id may be NULL
 *  \returns 0; -ENOENT (no template), -EEXIST (an ICCID already known: message names the line), -EINVAL,
 *  database -errno. Nothing is imported unless 0 is returned. */
int smdp_batch_import(struct db *db, const struct kek *kek, const char *mno_id, const char *profile_type,
		      const struct smdp_batch *batch, const char *source, const char *actor, long *batch_id,
		      char *err, size_t err_size);

/*! Hand out one available ICCID of (mno_id, profile_type) for a download to eid (32 hex digits), atomically:
 *  concurrent callers on other connections never get the same ICCID (SELECT ... FOR UPDATE SKIP LOCKED).
 *  \param[out] iccid the ICCID reserved
 *  \returns 0; -ENOSPC (none available); -EINVAL; database -errno. */
int smdp_inventory_reserve(struct db *db, const char *mno_id, const char *profile_type, const char *eid,
			   char iccid[21]);

/*! Reserve one given ICCID (DownloadProfile by ICCID) for eid.
 *  \param mno_id the requesting operator: an ICCID of another operator's inventory is refused (NULL: any)
 *  \returns 0; -ENOENT (unknown ICCID); -EPERM (another operator's); -EBUSY (not available); -EINVAL;
 *  database -errno. */
int smdp_inventory_reserve_iccid(struct db *db, const char *mno_id, const char *iccid, const char *eid);

/*! What the download procedure needs to know of an ICCID besides its package (no secret). */
struct smdp_profile_info {
	char mno_id[SMDP_MNO_ID_MAX + 1];
	char profile_type[SMDP_PROFILE_TYPE_MAX + 1];
	enum smdp_inv_state state;
	char eid[33];		/*!< "" if none */
	char imsi[16];		/*!< SubscriptionAddress of ES3.ProfileDownloadCompleted; "" if no data */
	char msisdn[16];	/*!< "" if none */
	size_t package_len;	/*!< template size: the personalised package has this size when the batch values have
				 *   the template's lengths (e.g. a basis for CreateISDP RequiredMemory) */
};

/*! Read the non-secret data of one ICCID. \returns 0, -ENOENT, database -errno. */
int smdp_profile_info(struct db *db, const char *iccid, struct smdp_profile_info *pi);

/*! Move an ICCID from one state to another. Allowed: reserved -> installed | available | unusable;
 *  installed -> released | unusable; released -> available | unusable; available -> unusable.
 *  Leaving for available clears the EID.
 *  \returns 0; -EINVAL (transition not allowed); -ENOENT (unknown ICCID); -EBUSY (not in state from);
 *  database -errno. */
int smdp_inventory_set_state(struct db *db, const char *iccid, enum smdp_inv_state from, enum smdp_inv_state to);

/*! A download of a reserved ICCID failed: return it or mark it unusable, per policy. \returns as set_state. */
int smdp_inventory_release(struct db *db, const char *iccid, enum smdp_fail_policy policy);

/*! State and EID of one ICCID. \param eid 33 bytes, "" if none. \returns 0, -ENOENT, database -errno. */
int smdp_inventory_get(struct db *db, const char *iccid, enum smdp_inv_state *state, char eid[33]);

/*! ICCID counts per state of one (mno_id, profile_type). */
struct smdp_inv_count {
	char mno_id[SMDP_MNO_ID_MAX + 1];
	char profile_type[SMDP_PROFILE_TYPE_MAX + 1];
	long n[_SMDP_INV_NUM];
};

/*! Counts per operator, profile type and state. \param[out] out talloc'd array on ctx.
 *  \returns 0 or database -errno. */
int smdp_inventory_counts(void *ctx, struct db *db, struct smdp_inv_count **out, unsigned int *n);

/*! Personalise a template with one row's data: header and EF.ICCID, every EF.IMSI, Ki/OPc of every
 *  akaParameter, PIN1/PUK1 (key reference 01), PIN2/PUK2 (81) and ADM1 (0A) where given, and the OTA keys
 *  1..3 of key set smdp_ota_kvn() in every securityDomain PE, where given. The result is checked with
 *  gp_saip_validate().
 *  \param[out] out talloc'd on ctx (wiped when freed) \returns 0, -ENOENT (field missing), negative errno. */
int smdp_personalise_pkg(void *ctx, const uint8_t *tpl, size_t tpl_len, const struct smdp_prep_row *row,
			 uint8_t **out, size_t *out_len);

/*! Produce the personalised package of a reserved ICCID from its template and its decrypted data; the
 *  plaintext secrets exist only in memory during the call.
 *  \param[out] out talloc'd on ctx (wiped when freed)
 *  \returns 0; -ENOENT (unknown ICCID or no data/template); -EBUSY (not reserved); -EBADMSG (a secret does not
 *  open under kek: wrong key or moved value); other negative errno. */
int smdp_personalise(void *ctx, struct db *db, const struct kek *kek, const char *iccid, uint8_t **out,
		     size_t *out_len);
