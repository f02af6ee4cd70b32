/*! \file smsr_kek.h
 * Key components of the EIS encrypted at rest (issue #5 "EIS registry": ISD-R key sets encrypted under a configured
 * key-encryption key). AES-256-GCM (NIST SP 800-38D) with a 96-bit random nonce per value, a 128-bit tag, and the
 * place of the value (EID, security domain, key set version, key index, component) as associated data, so that a
 * ciphertext moved to another row fails to decrypt. Never log a key, a KEK or a plaintext.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SMSR_KEK_LEN		32	/*!< AES-256 */
#define SMSR_KEK_NONCE_LEN	12	/*!< SP 800-38D §8.2: 96-bit IV */
#define SMSR_KEK_TAG_LEN	16
#define SMSR_KEK_MAX_PT		4096	/*!< bytes of one plaintext (a key component is at most 256) */
#define SMSR_KEK_FILE_MAX	1024	/*!< bytes of a key-encryption key file (hex with whitespace) */

/*! A key-encryption key (talloc object; wiped when freed). */
struct smsr_kek {
	uint8_t key[SMSR_KEK_LEN];
};

/*! A KEK from 32 bytes. \returns NULL on allocation failure. */
struct smsr_kek *smsr_kek_alloc(void *ctx, const uint8_t key[SMSR_KEK_LEN]);

/*! Read a KEK file: 32 raw bytes, or 64 hex digits (whitespace ignored).
 *  \returns 0, -ENOENT/-EACCES/... from open/read, -EINVAL (not 32 bytes in either form), -ENOMEM. */
int smsr_kek_load(void *ctx, const char *path, struct smsr_kek **out);

/*! Encrypt \a pt (\a len <= SMSR_KEK_MAX_PT bytes) with a fresh random nonce.
 *  \param[out] nonce SMSR_KEK_NONCE_LEN bytes
 *  \param[out] ct \a len bytes
 *  \param[out] tag SMSR_KEK_TAG_LEN bytes
 *  \returns 0, -EINVAL (bad length), -EIO (OpenSSL or RNG failure). */
int smsr_kek_encrypt(const struct smsr_kek *k, const uint8_t *pt, size_t len, const uint8_t *ad, size_t ad_len,
		     uint8_t *nonce, uint8_t *ct, uint8_t *tag);

/*! Decrypt and authenticate. \param[out] pt \a len bytes (wiped on failure).
 *  \returns 0, -EBADMSG (wrong KEK, tampered nonce/ciphertext/tag/associated data), -EINVAL, -EIO. */
int smsr_kek_decrypt(const struct smsr_kek *k, const uint8_t *nonce, const uint8_t *ct, size_t len,
		     const uint8_t *tag, const uint8_t *ad, size_t ad_len, uint8_t *pt);
