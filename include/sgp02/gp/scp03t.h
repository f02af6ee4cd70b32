/*! \file scp03t.h
 * SCP03t: SCP03 with TLV-coded commands, used by the SM-DP for ES8.DownloadAndInstallation (SGP.02 §4.1.3.3,
 * digest §9.4).  The SM-DP puts the TLVs into ES3.SendData; the ISD-P answers with TLVs.
 *
 *   84 0A <KVN> <KID> <host challenge 8>            INITIALIZE UPDATE   -> 84 20 <IU response, as SCP03>
 *   85 11 <SL> <host cryptogram 8> <C-MAC 8>        EXTERNAL AUTHENTICATE -> 85 00, or 85 08 <R-MAC> with R-MAC
 *   86 L  <AES-CBC(S-ENC, ICV, pad80(segment))> <C-MAC 8>   profile segment -> 86 00, or 86 L <enc data> <R-MAC>
 *   9F xx ...                                        error answer from the card
 *
 * MAC rules (same keys, counter and chaining as SCP03, GP Amd D):
 *   C-MAC = CMAC(S-MAC, chaining value || tag || BER length (counting the MAC) || encrypted data)[0..8]
 *   R-MAC = CMAC(S-RMAC, chaining value || tag || BER length (counting the R-MAC) || encrypted data)[0..8]
 * The C-MAC form follows NJ's reading of SGP.02 [impl; verify]; the R-MAC form is our symmetrical choice
 * [INF: verify against SGP.02 §4.1.3.3].  The ICV for segments is AES(S-ENC, counter) with the counter
 * incremented per command; responses use '80' || counter[1..15] (as SCP03 R-ENC).
 *
 * Errors: malformed TLV / unexpected tag / wrong state of the exchange -> -EBADMSG; length beyond the buffer or
 * output too small -> -EMSGSIZE; MAC or cryptogram mismatch -> -EKEYREJECTED; the card answered with a
 * '9Fxx' error TLV -> -EREMOTEIO; unsupported option -> -ENOTSUP; bad argument -> -EINVAL; -ENOMEM.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sgp02/gp/scp03.h>

#define GP_SCP03T_TAG_IU	0x84
#define GP_SCP03T_TAG_EA	0x85
#define GP_SCP03T_TAG_DATA	0x86
/*! Default plaintext segment size: 1024 bytes as reported for SGP.02 (CSDN-143889877, digest §9.4) [INF] */
#define GP_SCP03T_SEG_DEFAULT	1024
/*! Largest plaintext segment we produce or accept */
#define GP_SCP03T_SEG_MAX	4096
/*! Card side: largest profile package reassembled */
#define GP_SCP03T_PROFILE_MAX	(1024 * 1024)

/*! One protected TLV (talloc'd). */
struct gp_scp03t_tlv {
	uint8_t *data;
	size_t len;
};

/* ------------------------------------------------------------------------------------------------ */
/* SM-DP side */

/*! Build the '84' INITIALIZE UPDATE TLV and reset the session.  \returns the length (12), -EMSGSIZE, -EINVAL. */
int gp_scp03t_init_update(struct gp_scp03_session *s, uint8_t kvn, uint8_t kid, const uint8_t host_challenge[8],
			  uint8_t *out, size_t out_size);

/*! Process the '84' answer: derive the session keys and check the card cryptogram.
 *  \returns 0; -EREMOTEIO ('9Fxx'); -EBADMSG; -EKEYREJECTED; -ENOTSUP. */
int gp_scp03t_process_iu_resp(struct gp_scp03_session *s, const struct gp_scp03_keys *keys, const uint8_t *tlv,
			      size_t len);

/*! Build the '85' EXTERNAL AUTHENTICATE TLV (SGP.02 uses security level '33').
 *  \returns the length (19), -EINVAL (state), -ENOTSUP (level), -EMSGSIZE. */
int gp_scp03t_ext_auth(struct gp_scp03_session *s, uint8_t sec_level, uint8_t *out, size_t out_size);

/*! Protect one segment as an '86' TLV (C-DEC if in the security level, always C-MAC).
 *  \returns the TLV length; -EMSGSIZE (seg_len > GP_SCP03T_SEG_MAX or output too small); -EINVAL. */
int gp_scp03t_protect(struct gp_scp03_session *s, const uint8_t *seg, size_t seg_len, uint8_t *out,
		      size_t out_size);

/*! Split a profile package into segments of at most seg_max bytes and protect each as an '86' TLV, in order.
 *  \returns 0 with *tlvs (talloc array, child of ctx, elements children of it) and *n; -EINVAL; -ENOMEM;
 *  -EMSGSIZE (seg_max too large). */
int gp_scp03t_split(void *ctx, struct gp_scp03_session *s, const uint8_t *pkg, size_t len, size_t seg_max,
		    struct gp_scp03t_tlv **tlvs, size_t *n);

/*! Group protected TLVs, in order, into ES3.SendData payloads of at most max_len bytes each (a TLV is never
 *  split across two payloads: SGP.02 v4 forbids breaking one ES8 command across transports, digest §9.4).
 *  \returns 0 with *batches (talloc array, child of ctx) and *n_batches; -EMSGSIZE if one TLV alone exceeds
 *  max_len; -EINVAL; -ENOMEM. */
int gp_scp03t_batch(void *ctx, const struct gp_scp03t_tlv *tlvs, size_t n, size_t max_len,
		    struct gp_scp03t_tlv **batches, size_t *n_batches);

/*! Check the card's answer to the last command: '85'/'86' with no data, or with (encrypted) data and an R-MAC.
 *  Plain response data (e.g. a DER EUICCResponse) goes to out.
 *  \returns the plain length (0 for '86 00'); -EREMOTEIO ('9Fxx'); -EBADMSG; -EKEYREJECTED; -EMSGSIZE. */
int gp_scp03t_unprotect_resp(struct gp_scp03_session *s, const uint8_t *tlv, size_t len, uint8_t *out,
			     size_t out_size);

/*! Error code of a '9Fxx' TLV (the tag, e.g. 0x9F84), or -EBADMSG if it is not one. */
int gp_scp03t_error_tag(const uint8_t *tlv, size_t len);

/* ------------------------------------------------------------------------------------------------ */
/* Card (ISD-P) side: a verifying, decrypting reader that reassembles the profile package */

struct gp_scp03t_card;

/*! New reader for an ISD-P with static keys; card challenges are pseudo-random (i = '70') from the sequence
 *  counter (starting at `seq_counter`, incremented per INITIALIZE UPDATE) and the ISD-P AID.
 *  \returns the object (talloc child of ctx) or NULL on bad arguments / no memory. */
struct gp_scp03t_card *gp_scp03t_card_alloc(void *ctx, const struct gp_scp03_keys *keys, const uint8_t *aid,
					    size_t aid_len, uint32_t seq_counter);

/*! Process the data of one ES8 delivery (one or more TLVs, in order).  The answers of all processed TLVs
 *  are appended to *resp (talloc child of the card, replaced on every call).  Processing stops at the first
 *  bad TLV; the session is then closed (a new INITIALIZE UPDATE is needed), as a card would.
 *  \returns 0; -EBADMSG; -EKEYREJECTED; -ENOTSUP; -EMSGSIZE (profile too large); -ENOMEM. */
int gp_scp03t_card_process(struct gp_scp03t_card *c, const uint8_t *in, size_t len, uint8_t **resp,
			   size_t *resp_len);

/*! Protect response data (e.g. an EUICCResponse) for the last '86' as '86 L <R-ENC data> <R-MAC>'.
 *  \returns the TLV length, -EINVAL (not authenticated), -EMSGSIZE. */
int gp_scp03t_card_wrap_resp(struct gp_scp03t_card *c, const uint8_t *data, size_t len, uint8_t *out,
			     size_t out_size);

/*! The profile package bytes reassembled so far (owned by the card object). */
const uint8_t *gp_scp03t_card_profile(const struct gp_scp03t_card *c, size_t *len);

/*! Is a secure channel open (EXTERNAL AUTHENTICATE accepted)? */
bool gp_scp03t_card_authenticated(const struct gp_scp03t_card *c);
