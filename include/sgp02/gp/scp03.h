/*! \file scp03.h
 * GlobalPlatform Secure Channel Protocol '03' (GP Card Spec v2.2/2.3 Amendment D), APDU form.
 *
 * Both ends are implemented: the host (SM-DP / off-card entity) builds INITIALIZE UPDATE and
 * EXTERNAL AUTHENTICATE, wraps commands and unwraps responses; the card side (used by tests and the
 * simulated eUICC) answers INITIALIZE UPDATE, checks EXTERNAL AUTHENTICATE, unwraps commands and
 * wraps responses.  Only S8 mode (8-byte challenges, cryptograms and MACs) is supported, which is what
 * SGP.02 uses (i = '70').  Short APDUs only (Lc <= 255).
 *
 * Error convention: malformed input -> -EBADMSG; output buffer too small / Lc overflow -> -EMSGSIZE;
 * cryptogram or MAC mismatch -> -EKEYREJECTED; unsupported option (SCP version, security level,
 * key length) -> -ENOTSUP; invalid caller argument or wrong session state -> -EINVAL.
 * No function logs, aborts or allocates.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! Security level bits (GP Amd D §5.1, EXTERNAL AUTHENTICATE P1) */
#define GP_SCP03_SL_CMAC	0x01	/*!< C-MAC */
#define GP_SCP03_SL_CDEC	0x02	/*!< C-DECRYPTION (command data encrypted) */
#define GP_SCP03_SL_RMAC	0x10	/*!< R-MAC */
#define GP_SCP03_SL_RENC	0x20	/*!< R-ENCRYPTION */

/*! GP Amd D §4.1.5 Table 4-1: derivation constants */
#define GP_SCP03_DC_CARD_CRYPTOGRAM	0x00
#define GP_SCP03_DC_HOST_CRYPTOGRAM	0x01
#define GP_SCP03_DC_CARD_CHALLENGE	0x02
#define GP_SCP03_DC_S_ENC		0x04
#define GP_SCP03_DC_S_MAC		0x06
#define GP_SCP03_DC_S_RMAC		0x07

#define GP_SCP03_MAX_KEY_LEN	32
#define GP_SCP03_CHALLENGE_LEN	8
#define GP_SCP03_MAC_LEN	8
#define GP_SCP03_BLOCK		16
/*! Largest short APDU we produce: header(5) + 255 + Le(1) */
#define GP_SCP03_MAX_APDU	261
/*! INITIALIZE UPDATE response length in S8 mode with the 3-byte sequence counter */
#define GP_SCP03_IU_RESP_LEN	32

/*! Static SCP03 key set (K-ENC, K-MAC, K-DEK) of a Security Domain. */
struct gp_scp03_keys {
	uint8_t kvn;			/*!< key version number ('30'..'3F' for SCP03) */
	uint8_t key_len;		/*!< 16, 24 or 32 (AES-128/192/256) */
	uint8_t enc[GP_SCP03_MAX_KEY_LEN];
	uint8_t mac[GP_SCP03_MAX_KEY_LEN];
	uint8_t dek[GP_SCP03_MAX_KEY_LEN];
};

/*! Secure channel session state (either end).  Plain data; zeroise with gp_scp03_session_clear(). */
struct gp_scp03_session {
	uint8_t key_len;
	uint8_t s_enc[GP_SCP03_MAX_KEY_LEN];
	uint8_t s_mac[GP_SCP03_MAX_KEY_LEN];
	uint8_t s_rmac[GP_SCP03_MAX_KEY_LEN];
	uint8_t dek[GP_SCP03_MAX_KEY_LEN];	/*!< static DEK, for gp_scp03_dek_encrypt() */
	uint8_t kvn;
	uint8_t i_param;			/*!< 'i' from the INITIALIZE UPDATE response */
	uint8_t host_challenge[GP_SCP03_CHALLENGE_LEN];
	uint8_t card_challenge[GP_SCP03_CHALLENGE_LEN];
	uint8_t host_cryptogram[GP_SCP03_CHALLENGE_LEN];
	uint8_t card_cryptogram[GP_SCP03_CHALLENGE_LEN];
	uint8_t seq_counter[3];			/*!< sequence counter returned with i = '70' */
	uint8_t mac_chain[GP_SCP03_BLOCK];	/*!< MAC chaining value (full 16-byte CMAC of the last command) */
	uint64_t enc_counter;			/*!< encryption counter; the ICV block is its 16-byte big-endian form */
	uint8_t sec_level;			/*!< security level once authenticated */
	bool keys_derived;			/*!< session keys present (after INITIALIZE UPDATE) */
	bool authenticated;			/*!< EXTERNAL AUTHENTICATE done */
};

/* ------------------------------------------------------------------------------------------------ */
/* Primitives (also used by SCP03t and ECKA) */

/*! AES-CMAC (NIST SP 800-38B) with a 16/24/32-byte key, full 16-byte output.
 *  \returns 0, -EINVAL on a bad key length, -ENOMEM/-EIO on an OpenSSL failure. */
int gp_scp03_cmac(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t out[16]);

/*! AES-CMAC over the concatenation of two buffers (saves a copy for "chaining value || data").
 *  \returns as gp_scp03_cmac(). */
int gp_scp03_cmac2(const uint8_t *key, size_t key_len, const uint8_t *a, size_t alen,
		   const uint8_t *b, size_t blen, uint8_t out[16]);

/*! AES-CBC without padding; len must be a multiple of 16; in and out may be the same buffer.
 *  \param[in] encrypt true to encrypt, false to decrypt. \param[in] iv 16 bytes (NULL = zero IV).
 *  \returns 0, -EINVAL on a bad key length or len, -EIO on an OpenSSL failure. */
int gp_scp03_aes_cbc(bool encrypt, const uint8_t *key, size_t key_len, const uint8_t *iv,
		     const uint8_t *in, size_t len, uint8_t *out);

/*! The SCP03 data derivation function (GP Amd D §4.1.5; NIST SP 800-108 counter mode, PRF = AES-CMAC):
 *  block i = CMAC(key, 00*11 || constant || 00 || L(16 bits) || i || context).
 *  \param[in] out_bits output length L in bits (multiple of 8, at most 0xffff).
 *  \returns 0 or -EINVAL / -EIO. */
int gp_scp03_kdf(const uint8_t *key, size_t key_len, uint8_t constant, const uint8_t *context, size_t context_len,
		 unsigned int out_bits, uint8_t *out);

/*! Key check value of an AES key: first 3 bytes of AES-ECB(key, 16 x '01') (GP Card Spec, PUT KEY key check
 *  value for AES keys; checked against the "scp03_kcv" vectors).  \returns 0 or -EINVAL / -EIO. */
int gp_scp03_kcv(const uint8_t *key, size_t key_len, uint8_t kcv[3]);

/*! Pad with '80 00..' to a multiple of 16 (GP Card Spec §B.2.3).  buf must have room for len + 16.
 *  \returns the padded length. */
size_t gp_scp03_pad80(uint8_t *buf, size_t len);

/*! Find the '80 00..' padding of a decrypted block string.
 *  \returns the unpadded length, or -EBADMSG if the padding is malformed. */
int gp_scp03_unpad80(const uint8_t *buf, size_t len);

/*! Is sl a security level we support (C-MAC always; R-ENC only with C-DEC and R-MAC)? */
bool gp_scp03_sec_level_ok(uint8_t sl);

/*! ICV for the session's current encryption counter (GP Amd D §6.2.6): AES(S-ENC, counter); for a response
 *  (§6.2.7) the first byte of the counter block is '80'.  \returns 0 or -EINVAL / -EIO. */
int gp_scp03_icv(const struct gp_scp03_session *s, bool response, uint8_t icv[16]);

/*! Zeroise a session. */
void gp_scp03_session_clear(struct gp_scp03_session *s);

/*! Derive S-ENC, S-MAC, S-RMAC and both cryptograms from the static keys and the two challenges
 *  (GP Amd D §6.2.1, §6.2.2.2, §6.2.2.3).  Resets the MAC chaining value and the counter.
 *  \returns 0, -EINVAL (key length) or -EIO. */
int gp_scp03_derive_session(struct gp_scp03_session *s, const struct gp_scp03_keys *keys,
			    const uint8_t host_challenge[8], const uint8_t card_challenge[8]);

/*! Compute the pseudo-random card challenge (i = '70'; GP Amd D §6.2.2.1): the 64-bit KDF output with
 *  constant '02' under K-ENC over context = sequence counter (3 bytes) || AID of the invoking SD.
 *  \returns 0 or -EINVAL / -EIO. */
int gp_scp03_card_challenge(const struct gp_scp03_keys *keys, const uint8_t seq_counter[3],
			    const uint8_t *aid, size_t aid_len, uint8_t out[8]);

/*! Encrypt sensitive data (e.g. key values of PUT KEY) with the static DEK: AES-CBC, zero IV, len a multiple
 *  of 16 (GP Amd D §6.2.8).  \returns 0 or -EINVAL / -EIO. */
int gp_scp03_dek_encrypt(const struct gp_scp03_session *s, const uint8_t *in, size_t len, uint8_t *out);

/* ------------------------------------------------------------------------------------------------ */
/* Host side (off-card entity) */

/*! Build INITIALIZE UPDATE '80 50 KVN 00 08 <host challenge> 00' and remember the challenge.
 *  \returns the APDU length (14), -EMSGSIZE if out_size is too small, -EINVAL. */
int gp_scp03_init_update_cmd(struct gp_scp03_session *s, uint8_t kvn, const uint8_t host_challenge[8],
			     uint8_t *out, size_t out_size);

/*! Parse the INITIALIZE UPDATE response data (without SW): key div data(10) || KVN || '03' || i ||
 *  card challenge(8) || card cryptogram(8) [|| sequence counter(3)], derive the session keys with
 *  `keys` and verify the card cryptogram.
 *  \returns 0; -EBADMSG (length); -ENOTSUP (SCP version not '03'); -EINVAL (KVN differs from keys->kvn,
 *  no INITIALIZE UPDATE built before); -EKEYREJECTED (card cryptogram mismatch). */
int gp_scp03_parse_init_update_resp(struct gp_scp03_session *s, const struct gp_scp03_keys *keys,
				    const uint8_t *resp, size_t len);

/*! Build EXTERNAL AUTHENTICATE '84 82 SL 00 10 <host cryptogram> <C-MAC>' (GP Amd D §7.1.2); C-MAC
 *  over a zero chaining value.  Sets the security level for the following commands and the counter to 0
 *  (the first wrapped command uses counter 1).
 *  \returns the APDU length (21), -EINVAL (state, SL without C-MAC, R-ENC without R-MAC ...), -ENOTSUP, -EMSGSIZE. */
int gp_scp03_ext_auth_cmd(struct gp_scp03_session *s, uint8_t sec_level, uint8_t *out, size_t out_size);

/*! Wrap a plain command APDU (case 1..4, short, CLA with b8 set) per the session's security level:
 *  C-DECRYPTION (AES-CBC, ICV = AES(S-ENC, counter)) then C-MAC over chaining value || modified header ||
 *  data (GP Amd D §6.2.4, §6.2.6).  The encryption counter is incremented for every command.
 *  \returns the wrapped length; -EBADMSG (malformed APDU); -EMSGSIZE (Lc would exceed 255, out too small);
 *  -EINVAL (not authenticated). */
int gp_scp03_wrap_cmd(struct gp_scp03_session *s, const uint8_t *apdu, size_t len, uint8_t *out, size_t out_size);

/*! Unwrap a response (data field without SW, plus the SW) per the security level: verify the R-MAC over
 *  chaining value || data || SW and decrypt with ICV = AES(S-ENC, '80' || counter[1..15]) (GP Amd D §6.2.5,
 *  §6.2.7).  Responses with an error SW (not 9000/62xx/63xx) carry no R-MAC and are returned as they are.
 *  \returns the plain data length written to out; -EBADMSG (too short, bad padding); -EKEYREJECTED (R-MAC);
 *  -EMSGSIZE; -EINVAL. */
int gp_scp03_unwrap_resp(struct gp_scp03_session *s, uint16_t sw, const uint8_t *data, size_t len,
			 uint8_t *out, size_t out_size);

/* ------------------------------------------------------------------------------------------------ */
/* Card side (simulated eUICC, tests) */

/*! Process INITIALIZE UPDATE on the card: check the command, derive session keys and build the response
 *  data (32 bytes, without SW): div data || KVN || '03' || '70' || card challenge || card cryptogram ||
 *  sequence counter.
 *  \param[in] div_data 10 bytes of key diversification data (NULL = zeros).
 *  \returns the response length; -EBADMSG; -EINVAL (KVN not ours); -EMSGSIZE. */
int gp_scp03_card_init_update(struct gp_scp03_session *s, const struct gp_scp03_keys *keys,
			      const uint8_t *apdu, size_t len, const uint8_t div_data[10],
			      const uint8_t card_challenge[8], const uint8_t seq_counter[3],
			      uint8_t *out, size_t out_size);

/*! Process EXTERNAL AUTHENTICATE on the card: verify the host cryptogram and the C-MAC, adopt the
 *  security level.  \returns 0; -EBADMSG; -EKEYREJECTED (cryptogram or MAC); -ENOTSUP (security level);
 *  -EINVAL (no INITIALIZE UPDATE before). */
int gp_scp03_card_ext_auth(struct gp_scp03_session *s, const uint8_t *apdu, size_t len);

/*! Unwrap a protected command on the card: verify the C-MAC, decrypt, and rebuild the plain APDU (CLA
 *  with b3 cleared, Lc of the plain data, Le kept).  The counter and the chaining value advance only when the
 *  MAC verifies.  \returns plain APDU length; -EBADMSG; -EKEYREJECTED; -EMSGSIZE; -EINVAL. */
int gp_scp03_card_unwrap_cmd(struct gp_scp03_session *s, const uint8_t *apdu, size_t len,
			     uint8_t *out, size_t out_size);

/*! Wrap a response on the card: R-ENC (if data present) and R-MAC per the security level.  With an error
 *  SW the data is returned unprotected (and should be empty).
 *  \returns the protected data length (without SW); -EMSGSIZE; -EINVAL. */
int gp_scp03_card_wrap_resp(struct gp_scp03_session *s, const uint8_t *data, size_t len, uint16_t sw,
			    uint8_t *out, size_t out_size);
