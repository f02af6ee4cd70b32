/*! \file gpcert.h
 * GlobalPlatform-format (GP Card Spec Amendment E) certificates as SGP.02 uses them for
 * CERT.DP.ECDSA, CERT.SR.ECDSA and CERT.ECASD.ECKA (SGP.02 §2.3, §4.1.3.1; digest §9.1):
 *
 *     7F21 L
 *        93 L <serial>  42 L <CA identifier>  5F20 L <subject identifier>  95 L <key usage>
 *        [5F25 04 <effective date YYYYMMDD, BCD>]  5F24 04 <expiration date, BCD>
 *        [73 L <discretionary data: C8 01 <entity type>, C9 L <authority key identifier>, ...>]
 *        7F49 L { B0 L <public key point 04||X||Y>  [F0 01 <key parameter reference>] }
 *        5F37 L <signature: ECDSA-SHA256, plain r||s, over every TLV above (inside 7F21)>
 *
 * Parsing, building + signing (for our test PKI and the simulated fleet: CI -> EUM -> ECASD, CI -> SM-DP),
 * signature verification and chain verification against trusted CI certificates, with an explicit
 * `now` (no hidden clock).
 *
 * Errors: malformed/truncated -> -EBADMSG; a declared length beyond the buffer -> -EMSGSIZE;
 * signature mismatch -> -EKEYREJECTED; expired / not yet valid -> -EKEYEXPIRED; issuer not found ->
 * -ENOKEY; unsupported curve -> -ENOTSUP; bad caller argument -> -EINVAL; allocation -> -ENOMEM.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

/*! GP Amd E key parameter reference (tag 'F0').  '00' = NIST P-256 is what SGP.02 implementations send
 *  (digest §9.1); '03' for brainpoolP256r1 follows the GP table as remembered [INF: verify]. */
enum gp_curve_ref {
	GP_CURVE_NIST_P256 = 0x00,
	GP_CURVE_BRAINPOOL_P256R1 = 0x03,
};

/*! SGP.02 discretionary data 'C8' entity type (digest §8.11/§9.1) */
#define GP_CERT_ENTITY_SMDP	0x01
#define GP_CERT_ENTITY_SMSR	0x02

#define GP_CERT_POINT_LEN	65	/*!< uncompressed 256-bit point */
#define GP_CERT_SIG_LEN		64	/*!< r || s for a 256-bit curve */

struct gp_cert_date {
	uint16_t year;
	uint8_t month;
	uint8_t day;
};

/*! A parsed certificate.  All pointers point into `raw`, which the structure owns (talloc child). */
struct gp_cert {
	uint8_t *raw;			/*!< the whole 7F21 TLV */
	size_t raw_len;
	const uint8_t *tbs;		/*!< signed data: the TLVs before 5F37 */
	size_t tbs_len;
	const uint8_t *serial;
	size_t serial_len;
	const uint8_t *ca_id;		/*!< '42' */
	size_t ca_id_len;
	const uint8_t *subject_id;	/*!< '5F20' */
	size_t subject_id_len;
	const uint8_t *key_usage;	/*!< '95' */
	size_t key_usage_len;
	bool has_effective;
	struct gp_cert_date effective;	/*!< '5F25' */
	struct gp_cert_date expiration;	/*!< '5F24' */
	const uint8_t *discretionary;	/*!< value of '73', NULL if absent */
	size_t discretionary_len;
	int entity_type;		/*!< value of '73'/'C8' (1 byte), -1 if absent */
	const uint8_t *aki;		/*!< value of '73'/'C9', NULL if absent */
	size_t aki_len;
	uint8_t curve_ref;		/*!< 'F0' ('00' when absent) */
	const uint8_t *point;		/*!< 'B0' */
	size_t point_len;
	const uint8_t *sig;		/*!< '5F37' */
	size_t sig_len;
};

/*! What to put in a new certificate (gp_cert_build()).  NULL/0 members are left out where optional. */
struct gp_cert_template {
	const uint8_t *serial;
	size_t serial_len;
	const uint8_t *ca_id;
	size_t ca_id_len;
	const uint8_t *subject_id;
	size_t subject_id_len;
	const uint8_t *key_usage;	/*!< NULL = '88' (the value NJ and WH send) */
	size_t key_usage_len;
	bool has_effective;
	struct gp_cert_date effective;
	struct gp_cert_date expiration;
	int entity_type;		/*!< -1 = no 'C8' */
	const uint8_t *aki;		/*!< NULL = no 'C9' */
	size_t aki_len;
	const uint8_t *extra_discretionary;	/*!< raw TLVs appended inside '73' */
	size_t extra_discretionary_len;
	bool with_curve_ref;		/*!< emit 'F0' (recommended) */
};

/*! Parse one certificate; the buffer must hold exactly one 7F21 TLV.
 *  \returns 0 and *out (talloc child of ctx); -EBADMSG, -EMSGSIZE, -ENOTSUP (point/signature size),
 *  -EINVAL, -ENOMEM. */
int gp_cert_parse(void *ctx, const uint8_t *buf, size_t len, struct gp_cert **out);

/*! Build and sign a certificate for subject_pub, signed with issuer_priv (ECDSA-SHA256, raw r||s).
 *  \returns 0 and a talloc'd *out and *out_len; -EINVAL; -ENOTSUP (curve); -ENOMEM; -EIO. */
int gp_cert_build(void *ctx, const struct gp_cert_template *t, EVP_PKEY *subject_pub, EVP_PKEY *issuer_priv,
		  uint8_t **out, size_t *out_len);

/*! Verify the certificate's signature with the issuer's public key.
 *  \returns 0, -EKEYREJECTED, -EINVAL. */
int gp_cert_verify_sig(const struct gp_cert *cert, EVP_PKEY *issuer_pub);

/*! Check the validity period against now: valid from 00:00:00 UTC of the effective date to 23:59:59 UTC
 *  of the expiration date [INF: day granularity, UTC].  \returns 0 or -EKEYEXPIRED. */
int gp_cert_check_validity(const struct gp_cert *cert, time_t now);

/*! Does `issuer` issue `cert`?  Uses the authority key identifier 'C9' when present, else the CA
 *  identifier '42', compared with the issuer's subject identifier '5F20' [INF: SGP.02 §2.3.2.2 reading]. */
bool gp_cert_issued_by(const struct gp_cert *cert, const struct gp_cert *issuer);

/*! Verify a chain: chain[0] is the leaf, chain[i+1] issues chain[i], and the last one is issued by one of
 *  the trusted anchors (CI certificates; their own signature is not checked, their dates are).  Every
 *  certificate's validity is checked against now.
 *  \returns 0; -ENOKEY (issuer not found / chain broken); -EKEYREJECTED (a signature); -EKEYEXPIRED;
 *  -ENOTSUP (a curve); -EINVAL. */
int gp_cert_verify_chain(struct gp_cert *const *chain, size_t n, struct gp_cert *const *anchors, size_t n_anchors,
			 time_t now);

/*! Verify one certificate against an issuer known only by its identifier and public key, e.g. an EUM or CI
 *  whose own certificate is X.509 (SGP.02: the identifier is the issuer's SubjectKeyIdentifier).  Checks the
 *  issuer match (as gp_cert_issued_by()), the signature and the dates.
 *  \returns 0; -ENOKEY (other issuer); -EKEYREJECTED; -EKEYEXPIRED; -EINVAL. */
int gp_cert_verify_with_key(const struct gp_cert *cert, const uint8_t *issuer_id, size_t issuer_id_len,
			    EVP_PKEY *issuer_pub, time_t now);

/*! Public key of a certificate as an EVP_PKEY (caller frees with EVP_PKEY_free()).
 *  \returns 0, -ENOTSUP (unknown curve ref), -EBADMSG (point not on the curve), -ENOMEM. */
int gp_cert_pubkey(const struct gp_cert *cert, EVP_PKEY **out);

/* ------------------------------------------------------------------------------------------------ */
/* EC helpers shared with ECKA */

/*! OpenSSL group name for a key parameter reference, NULL if unsupported. */
const char *gp_curve_name(uint8_t curve_ref);

/*! Key parameter reference of an EC key.  \returns the reference (>= 0) or -ENOTSUP. */
int gp_curve_of_key(EVP_PKEY *pkey);

/*! EC public key from an uncompressed point.  \returns 0, -ENOTSUP, -EBADMSG, -ENOMEM. */
int gp_ec_pubkey_from_point(uint8_t curve_ref, const uint8_t *point, size_t len, EVP_PKEY **out);

/*! Uncompressed point (04||X||Y) of an EC key.  \returns the length or -EMSGSIZE / -EINVAL. */
int gp_ec_point_of_key(EVP_PKEY *pkey, uint8_t *out, size_t out_size);

/*! ECDSA-SHA256 signature as plain r||s (each 32 bytes, left-padded).  \returns 0 or -EINVAL / -EIO. */
int gp_ecdsa_sign_raw(EVP_PKEY *priv, const uint8_t *data, size_t len, uint8_t sig[GP_CERT_SIG_LEN]);

/*! Verify a plain r||s ECDSA-SHA256 signature.  \returns 0, -EKEYREJECTED, -EINVAL. */
int gp_ecdsa_verify_raw(EVP_PKEY *pub, const uint8_t *data, size_t len, const uint8_t *sig, size_t sig_len);

/*! Encode a BCD date YYYYMMDD (4 bytes).  \returns 0 or -EINVAL. */
int gp_cert_date_encode(const struct gp_cert_date *d, uint8_t out[4]);
