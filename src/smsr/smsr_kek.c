/*! \file smsr_kek.c
 * AES-256-GCM encryption at rest of EIS key components (see smsr_kek.h). OpenSSL 3 EVP only. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "smsr_kek.h"

static int kek_destructor(struct smsr_kek *k)
{
	OPENSSL_cleanse(k->key, sizeof(k->key));
	return 0;
}

struct smsr_kek *smsr_kek_alloc(void *ctx, const uint8_t key[SMSR_KEK_LEN])
{
	struct smsr_kek *k = talloc_zero(ctx, struct smsr_kek);

	if (!k)
		return NULL;
	memcpy(k->key, key, SMSR_KEK_LEN);
	talloc_set_destructor(k, kek_destructor);
	return k;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 64 hex digits with any whitespace around or between them */
static int parse_hex_key(const uint8_t *buf, size_t len, uint8_t key[SMSR_KEK_LEN])
{
	size_t i, n = 0;
	int hi = -1;

	for (i = 0; i < len; i++) {
		int v;

		if (isspace(buf[i]))
			continue;
		v = hexval(buf[i]);
		if (v < 0 || n >= SMSR_KEK_LEN)
			return -EINVAL;
		if (hi < 0) {
			hi = v;
		} else {
			key[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n == SMSR_KEK_LEN && hi < 0 ? 0 : -EINVAL;
}

int smsr_kek_load(void *ctx, const char *path, struct smsr_kek **out)
{
	uint8_t buf[SMSR_KEK_FILE_MAX + 1];
	uint8_t key[SMSR_KEK_LEN];
	size_t len = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!rc && len > SMSR_KEK_FILE_MAX)
		rc = -EINVAL;
	if (!rc) {
		if (parse_hex_key(buf, len, key) == 0)
			rc = 0;
		else if (len == SMSR_KEK_LEN)
			memcpy(key, buf, SMSR_KEK_LEN);
		else
			rc = -EINVAL;
	}
	if (!rc) {
		*out = smsr_kek_alloc(ctx, key);
		if (!*out)
			rc = -ENOMEM;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* one GCM operation; enc: 1 encrypt, 0 decrypt (tag checked) */
static int gcm(const struct smsr_kek *k, int enc, const uint8_t *nonce, const uint8_t *in, size_t len,
	       const uint8_t *ad, size_t ad_len, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *c;
	int n, rc = -EIO;

	if (len > SMSR_KEK_MAX_PT || ad_len > 1024 || (ad_len && !ad))
		return -EINVAL;
	c = EVP_CIPHER_CTX_new();
	if (!c)
		return -EIO;
	if (EVP_CipherInit_ex2(c, EVP_aes_256_gcm(), NULL, NULL, enc, NULL) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SMSR_KEK_NONCE_LEN, NULL) != 1)
		goto out;
	if (EVP_CipherInit_ex2(c, NULL, k->key, nonce, enc, NULL) != 1)
		goto out;
	if (ad_len && EVP_CipherUpdate(c, NULL, &n, ad, (int)ad_len) != 1)
		goto out;
	if (len && EVP_CipherUpdate(c, out, &n, in, (int)len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SMSR_KEK_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(c, out + len, &n) != 1) {
		rc = enc ? -EIO : -EBADMSG;
		goto out;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SMSR_KEK_TAG_LEN, tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	if (rc && len)
		OPENSSL_cleanse(out, len);
	return rc;
}

int smsr_kek_encrypt(const struct smsr_kek *k, const uint8_t *pt, size_t len, const uint8_t *ad, size_t ad_len,
		     uint8_t *nonce, uint8_t *ct, uint8_t *tag)
{
	if (!k || (len && (!pt || !ct)) || !nonce || !tag)
		return -EINVAL;
	/* SP 800-38D §8.2.2: random IVs; 2^32 invocations per key stay far out of reach for an EIS registry */
	if (RAND_bytes(nonce, SMSR_KEK_NONCE_LEN) != 1)
		return -EIO;
	return gcm(k, 1, nonce, pt, len, ad, ad_len, ct, tag);
}

int smsr_kek_decrypt(const struct smsr_kek *k, const uint8_t *nonce, const uint8_t *ct, size_t len,
		     const uint8_t *tag, const uint8_t *ad, size_t ad_len, uint8_t *pt)
{
	if (!k || (len && (!pt || !ct)) || !nonce || !tag)
		return -EINVAL;
	return gcm(k, 0, nonce, ct, len, ad, ad_len, pt, (uint8_t *)tag);
}
