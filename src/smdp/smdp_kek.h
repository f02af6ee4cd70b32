/*! \file smdp_kek.h
 * Personalisation secrets of the SM-DP encrypted at rest (issue #6 "SM-DP profile preparation": Ki, OPc,
 * PINs/PUKs and OTA keys never stored in clear). AES-256-GCM (NIST SP 800-38D) under a key-encryption key
 * (KEK) read from a file named in the configuration; a fresh random 96-bit nonce per value (SP 800-38D §8.2.2)
 * and a 128-bit tag. The associated data names where the value belongs (table, row key, field), so that a
 * sealed value copied into another row or field no longer opens.
 *
 * A sealed value is one byte string: nonce (12) || ciphertext (same length as the plaintext) || tag (16).
 *
 * Never log a KEK, a plaintext or a sealed value. Plaintexts returned here are talloc buffers that are wiped
 * when freed.
 *
 * The SM-SR has the same mechanism for EIS keys (src/smsr/smsr_kek.c); the two should become one module in
 * src/common.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SMDP_KEK_LEN		32	/*!< AES-256 key */
#define SMDP_KEK_NONCE_LEN	12	/*!< SP 800-38D §8.2: 96-bit IV */
#define SMDP_KEK_TAG_LEN	16	/*!< full-length GCM tag */
#define SMDP_KEK_OVERHEAD	(SMDP_KEK_NONCE_LEN + SMDP_KEK_TAG_LEN)
#define SMDP_KEK_MAX_PT		1024	/*!< longest plaintext sealed here (keys are at most 32 bytes) */
#define SMDP_KEK_MAX_AD		256	/*!< longest associated data */
#define SMDP_KEK_FILE_MAX	512	/*!< longest KEK file accepted (64 hex digits plus whitespace) */

/*! A key-encryption key (opaque talloc object, wiped when freed). */
struct smdp_kek;

/*! Make a KEK from 32 bytes. \returns the KEK, or NULL when out of memory. */
struct smdp_kek *smdp_kek_alloc(void *ctx, const uint8_t key[SMDP_KEK_LEN]);

/*! Read a KEK file: exactly 32 raw bytes, or 64 hexadecimal digits (whitespace anywhere is ignored).
 *  \returns 0 with *out set; -errno from open()/read(); -EINVAL when the file is neither form; -ENOMEM. */
int smdp_kek_load(void *ctx, const char *path, struct smdp_kek **out);

/*! Seal a plaintext. \param[in] ad associated data (NUL-terminated text naming the row and field)
 *  \param[out] out talloc'd on ctx: nonce || ciphertext || tag, *out_len = len + SMDP_KEK_OVERHEAD
 *  \returns 0; -EINVAL (plaintext or associated data too long); -ENOMEM; -EIO (OpenSSL or RNG failure). */
int smdp_kek_seal(void *ctx, const struct smdp_kek *kek, const char *ad, const uint8_t *pt, size_t len,
		  uint8_t **out, size_t *out_len);

/*! Open a sealed value. \param[out] pt talloc'd on ctx (wiped when freed), *pt_len = len - SMDP_KEK_OVERHEAD
 *  \returns 0; -EBADMSG (wrong KEK, other associated data, or tampered value); -EINVAL (too short or too
 *  long); -ENOMEM; -EIO. */
int smdp_kek_open(void *ctx, const struct smdp_kek *kek, const char *ad, const uint8_t *in, size_t len,
		  uint8_t **pt, size_t *pt_len);

/*! Allocate a buffer for secret bytes that is wiped (OPENSSL_cleanse) when freed. \returns NULL on ENOMEM. */
uint8_t *smdp_secret_alloc(void *ctx, size_t len);
