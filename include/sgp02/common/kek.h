/*! ile kek.h
 * Secrets encrypted at rest under a key-encryption key (KEK) read from a file named in the configuration: the
 * SM-SR's EIS key components (ISD-R/ECASD key sets) and the SM-DP's personalisation secrets (Ki, OPc, PINs/PUKs,
 * OTA keys). AES-256-GCM (NIST SP 800-38D) with a fresh random 96-bit nonce per value (§8.2.2) and a 128-bit tag;
 * the associated data names where the value belongs (table, row key, field), so that a value copied into another
 * row or field no longer decrypts.
 *
 * Two forms: detached (nonce, ciphertext and tag apart, for tables that store them in columns of their own) and
 * sealed (one byte string: nonce (12) || ciphertext (same length as the plaintext) || tag (16)).
 *
 * Never log a KEK, a plaintext or a ciphertext. Plaintexts returned here are talloc buffers wiped when freed.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KEK_LEN		32	/*!< AES-256 key */
#define KEK_NONCE_LEN	12	/*!< SP 800-38D §8.2: 96-bit IV */
#define KEK_TAG_LEN	16	/*!< full-length GCM tag */
#define KEK_OVERHEAD	(KEK_NONCE_LEN + KEK_TAG_LEN)
#define KEK_MAX_PT		4096	/*!< longest plaintext (a key component is at most 256 bytes) */
#define KEK_MAX_AD		256	/*!< longest associated data */
#define KEK_FILE_MAX	1024	/*!< longest KEK file accepted (64 hex digits plus whitespace) */

/*! A key-encryption key (talloc object, wiped when freed). */
struct kek {
	uint8_t key[KEK_LEN];
};

/*! Make a KEK from 32 bytes. \returns the KEK, or NULL when out of memory. */
struct kek *kek_alloc(void *ctx, const uint8_t key[KEK_LEN]);

/*! Read a KEK file: exactly 32 raw bytes, or 64 hexadecimal digits (whitespace anywhere is ignored).
 *  \returns 0 with *out set; -errno from open()/read(); -EINVAL when the file is neither form; -ENOMEM. */
int kek_load(void *ctx, const char *path, struct kek **out);

/*! Seal a plaintext. \param[in] ad associated data (NUL-terminated text naming the row and field)
 *  \param[out] out talloc'd on ctx: nonce || ciphertext || tag, *out_len = len + KEK_OVERHEAD
 *  \returns 0; -EINVAL (plaintext or associated data too long); -ENOMEM; -EIO (OpenSSL or RNG failure). */
int kek_seal(void *ctx, const struct kek *kek, const char *ad, const uint8_t *pt, size_t len,
		  uint8_t **out, size_t *out_len);

/*! Open a sealed value. \param[out] pt talloc'd on ctx (wiped when freed), *pt_len = len - KEK_OVERHEAD
 *  \returns 0; -EBADMSG (wrong KEK, other associated data, or tampered value); -EINVAL (too short or too
 *  long); -ENOMEM; -EIO. */
int kek_open(void *ctx, const struct kek *kek, const char *ad, const uint8_t *in, size_t len,
		  uint8_t **pt, size_t *pt_len);

/*! Allocate a buffer for secret bytes that is wiped (OPENSSL_cleanse) when freed. \returns NULL on ENOMEM. */
uint8_t *kek_secret_alloc(void *ctx, size_t len);

/*! Detached form: encrypt \a pt (\a len <= KEK_MAX_PT bytes) with a fresh random nonce; \a ad binary.
 *  \param[out] nonce KEK_NONCE_LEN bytes  \param[out] ct \a len bytes  \param[out] tag KEK_TAG_LEN bytes
 *  \returns 0, -EINVAL (bad length), -EIO (OpenSSL or RNG failure). */
int kek_encrypt(const struct kek *k, const uint8_t *pt, size_t len, const uint8_t *ad, size_t ad_len,
		uint8_t *nonce, uint8_t *ct, uint8_t *tag);

/*! Detached form: decrypt and authenticate. \param[out] pt \a len bytes (wiped on failure).
 *  \returns 0, -EBADMSG (wrong KEK, tampered nonce/ciphertext/tag/associated data), -EINVAL, -EIO. */
int kek_decrypt(const struct kek *k, const uint8_t *nonce, const uint8_t *ct, size_t len,
		const uint8_t *tag, const uint8_t *ad, size_t ad_len, uint8_t *pt);
