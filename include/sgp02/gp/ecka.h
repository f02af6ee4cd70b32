/*! \file ecka.h
 * Key establishment Scenario #3 (GP Card Spec Amendment E, ECKA-EG) as SGP.02 uses it to create the
 * ISD-P (or, for SM-SR change, the ISD-R) key set: SGP.02 §3.1.2, §4.1.3.1 (digest §8.11, §9.2).
 *
 * Flow (host = SM-DP / SM-SR2, card = ECASD on the eUICC):
 *   1. host -> card  STORE DATA DGI 3A01 { 7F21 CERT.DP.ECDSA }            card -> host  85 L <RC>
 *   2. host: ephemeral key pair on the ECASD curve, CRT A6, signature over
 *      3A02-TLV(A6) || 7F49-TLV(ePK) || 00 85 L <RC>   (ECDSA-SHA256, plain r||s)
 *      host -> card  STORE DATA 3A02 L <A6..> 7F49 L <ePK> 5F37 L <sig>   card -> host  [85 L <DR>] 86 L <receipt>
 *   3. both: ShS = x(eSK.DP x PK.ECASD) = x(SK.ECASD x ePK.DP); KeyData = X9.63-KDF-SHA256(ShS, SharedInfo);
 *      KeyData = receipt key || key 1 [|| key 2 || key 3]; receipt = AES-CMAC(receipt key, A6-TLV || [85 L DR]).
 *
 * Uncertain points (digest §12.6): the scenario parameter bits, SharedInfo with SIN/SDIN, the '7F49' form of
 * ePK (we send B0 + F0 like the certificate), whether 3A02 wraps only A6.  They are marked [INF] below.
 *
 * Errors: malformed -> -EBADMSG; buffer too small -> -EMSGSIZE; signature/receipt mismatch -> -EKEYREJECTED;
 * unsupported curve/option -> -ENOTSUP; bad argument -> -EINVAL; certificate dates -> -EKEYEXPIRED;
 * certificate issuer unknown -> -ENOKEY; allocation -> -ENOMEM; OpenSSL failure -> -EIO.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include <sgp02/gp/gpcert.h>
#include <sgp02/gp/scp03.h>

/*! Scenario parameter bits (GP Amd E "Table 4-17" as quoted by NJ; digest §9.2) */
#define GP_ECKA_SCEN_DELETE_KEYS	0x01
#define GP_ECKA_SCEN_DR			0x02	/*!< derivation random requested */
#define GP_ECKA_SCEN_HOSTID		0x04	/*!< HostID / SIN / SDIN included in the derivation */
#define GP_ECKA_SCEN_CERT_FIRST		0x08	/*!< certificate verification precedes */

/*! Key usage qualifier ('95') */
#define GP_ECKA_KU_THREE_KEYS	0x10	/*!< ENC/MAC/DEK (SCP03) or KIc/KID/DEK (SCP80) */
#define GP_ECKA_KU_ONE_KEY	0x5C	/*!< one base key (SCP03 base key, SCP81 PSK) */

/*! Key type ('80') */
#define GP_ECKA_KEYTYPE_AES	0x88
#define GP_ECKA_KEYTYPE_PSK_TLS	0x85

#define GP_ECKA_MAX_KEY_LEN	32
#define GP_ECKA_MAX_ID_LEN	16
#define GP_ECKA_RECEIPT_LEN	16
#define GP_ECKA_DR_LEN		16	/*!< DR length for curves of <= 383 bits (GP Amd A Table 3-27 via NJ) */

/*! Control reference template A6 of the key establishment (digest §9.2 step 3). */
struct gp_ecka_crt {
	uint8_t scenario_param;		/*!< '90 02 03 <param>' */
	uint8_t key_usage;		/*!< '95' */
	bool has_key_access;
	uint8_t key_access;		/*!< '96' (optional) */
	uint8_t key_type;		/*!< '80' */
	uint8_t key_len;		/*!< '81' (16) */
	uint8_t kid;			/*!< '82' KID of the first key */
	uint8_t kvn;			/*!< '83' */
	uint8_t counter_len;		/*!< '91' length: 0 for SCP03, 5 for SCP80/SCP81 */
	uint8_t counter[8];
	uint8_t sdin_len;		/*!< '45' (only with GP_ECKA_SCEN_HOSTID) */
	uint8_t sdin[GP_ECKA_MAX_ID_LEN];
	uint8_t host_id_len;		/*!< '84' (only with GP_ECKA_SCEN_HOSTID) */
	uint8_t host_id[GP_ECKA_MAX_ID_LEN];
};

/*! Derived key material. */
struct gp_ecka_keys {
	uint8_t key_len;
	uint8_t n_keys;				/*!< 1 or 3 */
	uint8_t receipt_key[GP_ECKA_MAX_KEY_LEN];
	uint8_t key[3][GP_ECKA_MAX_KEY_LEN];	/*!< ENC, MAC, DEK (or the single base key in key[0]) */
};

/*! Encode the CRT as an A6 TLV.  \returns the length, -EMSGSIZE, -EINVAL. */
int gp_ecka_crt_encode(const struct gp_ecka_crt *crt, uint8_t *out, size_t out_size);

/*! Decode an A6 TLV (exactly `len` bytes).  Unknown tags inside A6 are refused.
 *  \returns 0, -EBADMSG, -ENOTSUP (scenario other than 3). */
int gp_ecka_crt_decode(const uint8_t *buf, size_t len, struct gp_ecka_crt *crt);

/*! Ephemeral (or static, for the simulated ECASD) key pair on a GP curve.  \returns 0, -ENOTSUP, -EIO. */
int gp_ecka_keygen(uint8_t curve_ref, EVP_PKEY **out);

/*! ECKA (BSI TR-03111 §4.3.1): ShS = x-coordinate of priv x peer.  Both keys must be on the same curve.
 *  \returns the ShS length (32), -ENOTSUP (curves differ), -EMSGSIZE, -EIO. */
int gp_ecka_shared_secret(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t *out, size_t out_size);

/*! ANSI X9.63 KDF with SHA-256 (BSI TR-03111 §4.3.3): H(Z || counter32 || SharedInfo) for counter = 1, 2 ...
 *  \returns 0, -EINVAL, -EIO. */
int gp_ecka_x963_kdf(const uint8_t *z, size_t z_len, const uint8_t *info, size_t info_len, uint8_t *out,
		     size_t out_len);

/*! SharedInfo = key usage || key type || key length || [DR] || [len || HostID] || [len || SIN || len || SDIN]
 *  (GP Amd A Table 3-28 as NJ reads it).  HostID/SIN/SDIN only with GP_ECKA_SCEN_HOSTID; SIN comes from the
 *  target SD (not carried in A6) [INF].  \returns the length or -EMSGSIZE / -EINVAL. */
int gp_ecka_shared_info(const struct gp_ecka_crt *crt, const uint8_t *dr, size_t dr_len, const uint8_t *sin,
			size_t sin_len, uint8_t *out, size_t out_size);

/*! Derive the key material from ShS: X9.63 KDF output cut into receipt key || key 1 [|| key 2 || key 3],
 *  each crt->key_len bytes.  \returns 0, -ENOTSUP (key usage / length), -EINVAL, -EIO. */
int gp_ecka_derive(const struct gp_ecka_crt *crt, const uint8_t *shs, size_t shs_len, const uint8_t *dr,
		   size_t dr_len, const uint8_t *sin, size_t sin_len, struct gp_ecka_keys *keys);

/*! Receipt = AES-CMAC(receipt key, A6-TLV || [85 L DR]) (GP Amd E Table 4-22 as NJ reads it).
 *  \returns 0, -EINVAL, -EIO. */
int gp_ecka_receipt(const struct gp_ecka_keys *keys, const uint8_t *a6, size_t a6_len, const uint8_t *dr,
		    size_t dr_len, uint8_t out[GP_ECKA_RECEIPT_LEN]);

/*! Turn three derived keys (ENC, MAC, DEK, in that order [INF: order as in NJ]) into an SCP03 key set with the
 *  CRT's KVN.  \returns 0 or -EINVAL (not three keys). */
int gp_ecka_keys_to_scp03(const struct gp_ecka_keys *keys, uint8_t kvn, struct gp_scp03_keys *out);

/*! DGI 3A01 { certificate } for STORE DATA (GP DGI length: 1 byte up to 254, else 'FF' + 2 bytes).
 *  \returns the length, -EMSGSIZE, -EINVAL. */
int gp_ecka_build_3a01(const uint8_t *cert, size_t cert_len, uint8_t *out, size_t out_size);

/*! Host side, step 2: build the STORE DATA data field 3A02 L <A6> || 7F49 L <ePK> || 5F37 L <sig>, the signature
 *  (with sk_dp) covering 3A02-TLV || 7F49-TLV || 00 85 L <RC>.  \returns 0 and a talloc'd *out; -EINVAL;
 *  -ENOMEM; -EIO; -ENOTSUP (curve). */
int gp_ecka_build_3a02(void *ctx, const struct gp_ecka_crt *crt, EVP_PKEY *epk, const uint8_t *rc, size_t rc_len,
		       EVP_PKEY *sk_dp, uint8_t **out, size_t *out_len);

/*! Host side, step 3: parse the card's answer ([85 L DR] 86 L receipt), compute ShS from the ephemeral
 *  private key and PK.ECASD.ECKA, derive the keys and check the receipt.
 *  \returns 0 with *keys filled; -EBADMSG (answer malformed, DR missing although requested); -EKEYREJECTED
 *  (receipt); -ENOTSUP; -EIO. */
int gp_ecka_host_finish(const struct gp_ecka_crt *crt, EVP_PKEY *esk, EVP_PKEY *pk_ecasd, const uint8_t *resp,
			size_t resp_len, const uint8_t *sin, size_t sin_len, struct gp_ecka_keys *keys);

/*! Card side, step 1: take DGI 3A01, check the off-card entity certificate against the CI certificate
 *  (signature, dates at `now`, entity type if expected_entity >= 0) and answer 85 L <RC> (RC given by the
 *  caller, 16..32 bytes).  \returns the answer length with *cert set (talloc child of ctx); -EBADMSG;
 *  -EKEYREJECTED; -EKEYEXPIRED; -ENOKEY; -EACCES (wrong entity type); -EMSGSIZE. */
int gp_ecka_card_3a01(void *ctx, const uint8_t *data, size_t len, struct gp_cert *ci, time_t now,
		      int expected_entity, const uint8_t *rc, size_t rc_len, struct gp_cert **cert,
		      uint8_t *out, size_t out_size);

/*! Card side, step 2: take 3A02 || 7F49 || 5F37, verify the signature with the off-card entity's key over
 *  3A02-TLV || 7F49-TLV || 00 85 L <RC>, compute ShS with SK.ECASD.ECKA, derive the keys and answer
 *  [85 L DR] 86 10 <receipt>.  `dr` must hold GP_ECKA_DR_LEN random bytes if the CRT asks for DR.
 *  \returns the answer length with *crt and *keys filled; -EBADMSG; -EKEYREJECTED (signature); -ENOTSUP
 *  (curve mismatch, key usage); -EINVAL (DR needed but not given); -EMSGSIZE. */
int gp_ecka_card_3a02(const uint8_t *data, size_t len, EVP_PKEY *pk_entity, const uint8_t *rc, size_t rc_len,
		      EVP_PKEY *sk_ecasd, const uint8_t *dr, const uint8_t *sin, size_t sin_len,
		      struct gp_ecka_crt *crt, struct gp_ecka_keys *keys, uint8_t *out, size_t out_size);
