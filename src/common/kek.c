/*! \file kek.c
 * AES-256-GCM encryption of secrets at rest under a key-encryption key (see kek.h). OpenSSL 3 EVP only. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <sgp02/common/kek.h>

static int wipe_kek(struct kek *kek)
{
	OPENSSL_cleanse(kek->key, sizeof(kek->key));
	return 0;
}

static int wipe_buf(uint8_t *buf)
{
	OPENSSL_cleanse(buf, talloc_get_size(buf));
	return 0;
}

uint8_t *kek_secret_alloc(void *ctx, size_t len)
{
	/* talloc_size(0) would still return a valid pointer; keep at least one byte to wipe */
	uint8_t *buf = talloc_zero_size(ctx, len ? len : 1);

	if (buf)
		talloc_set_destructor(buf, wipe_buf);
	return buf;
}

struct kek *kek_alloc(void *ctx, const uint8_t key[KEK_LEN])
{
	struct kek *kek = talloc_zero(ctx, struct kek);

	if (!kek)
		return NULL;
	talloc_set_destructor(kek, wipe_kek);
	memcpy(kek->key, key, KEK_LEN);
	return kek;
}

static int nibble(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The file as 64 hex digits, whitespace ignored. \returns 0 or -EINVAL */
static int kek_from_hex(const uint8_t *buf, size_t len, uint8_t key[KEK_LEN])
{
	unsigned int digits = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		int v;

		if (is_space(buf[i]))
			continue;
		v = nibble(buf[i]);
		if (v < 0 || digits >= 2 * KEK_LEN)
			return -EINVAL;
		if (digits % 2 == 0)
			key[digits / 2] = (uint8_t)(v << 4);
		else
			key[digits / 2] |= (uint8_t)v;
		digits++;
	}
	return digits == 2 * KEK_LEN ? 0 : -EINVAL;
}

int kek_load(void *ctx, const char *path, struct kek **out)
{
	uint8_t buf[KEK_FILE_MAX + 1];
	uint8_t key[KEK_LEN];
	size_t len = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* read at most one byte more than we accept, to tell an oversized file */
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
	if (!rc && len > KEK_FILE_MAX)
		rc = -EINVAL;
	if (!rc && kek_from_hex(buf, len, key) < 0) {
		/* not hex: then it must be the 32 raw bytes */
		if (len == KEK_LEN)
			memcpy(key, buf, KEK_LEN);
		else
			rc = -EINVAL;
	}
	if (!rc) {
		*out = kek_alloc(ctx, key);
		if (!*out)
			rc = -ENOMEM;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* One AES-256-GCM operation over in[len] into out[len]. Encrypting writes tag, decrypting checks it.
 * \returns 0, -EBADMSG (decryption: tag mismatch), -EIO */
static int aes_gcm(const struct kek *kek, int encrypt, const uint8_t *nonce, const uint8_t *ad, size_t ad_len,
		   const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl, rc = -EIO;

	if (!c)
		return -EIO;
	if (EVP_CipherInit_ex2(c, EVP_aes_256_gcm(), NULL, NULL, encrypt, NULL) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, KEK_NONCE_LEN, NULL) != 1)
		goto out;
	if (EVP_CipherInit_ex2(c, NULL, kek->key, nonce, encrypt, NULL) != 1)
		goto out;
	if (ad_len && EVP_CipherUpdate(c, NULL, &outl, ad, (int)ad_len) != 1)
		goto out;
	if (len && EVP_CipherUpdate(c, out, &outl, in, (int)len) != 1)
		goto out;
	if (!encrypt && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, KEK_TAG_LEN, tag) != 1)
		goto out;
	/* GCM is a stream mode: Final writes nothing, but checks the tag when decrypting */
	if (EVP_CipherFinal_ex(c, out + len, &outl) != 1) {
		rc = encrypt ? -EIO : -EBADMSG;
		goto out;
	}
	if (encrypt && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, KEK_TAG_LEN, tag) != 1)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

int kek_seal(void *ctx, const struct kek *kek, const char *ad, const uint8_t *pt, size_t len,
		  uint8_t **out, size_t *out_len)
{
	uint8_t *buf;
	int rc;

	if (!kek || !ad || (len && !pt) || len > KEK_MAX_PT || strlen(ad) > KEK_MAX_AD)
		return -EINVAL;
	buf = talloc_size(ctx, len + KEK_OVERHEAD);
	if (!buf)
		return -ENOMEM;
	if (RAND_bytes(buf, KEK_NONCE_LEN) != 1) {
		talloc_free(buf);
		return -EIO;
	}
	rc = aes_gcm(kek, 1, buf, (const uint8_t *)ad, strlen(ad), pt, len, buf + KEK_NONCE_LEN,
		     buf + KEK_NONCE_LEN + len);
	if (rc < 0) {
		talloc_free(buf);
		return rc;
	}
	*out = buf;
	*out_len = len + KEK_OVERHEAD;
	return 0;
}

int kek_open(void *ctx, const struct kek *kek, const char *ad, const uint8_t *in, size_t len,
		  uint8_t **pt, size_t *pt_len)
{
	uint8_t tag[KEK_TAG_LEN];
	uint8_t *buf;
	size_t n;
	int rc;

	if (!kek || !ad || !in || len < KEK_OVERHEAD || len - KEK_OVERHEAD > KEK_MAX_PT ||
	    strlen(ad) > KEK_MAX_AD)
		return -EINVAL;
	n = len - KEK_OVERHEAD;
	buf = kek_secret_alloc(ctx, n);
	if (!buf)
		return -ENOMEM;
	memcpy(tag, in + KEK_NONCE_LEN + n, KEK_TAG_LEN);
	rc = aes_gcm(kek, 0, in, (const uint8_t *)ad, strlen(ad), in + KEK_NONCE_LEN, n, buf, tag);
	if (rc < 0) {
		talloc_free(buf);	/* wiped by its destructor */
		return rc;
	}
	*pt = buf;
	*pt_len = n;
	return 0;
}

int kek_encrypt(const struct kek *k, const uint8_t *pt, size_t len, const uint8_t *ad, size_t ad_len,
		uint8_t *nonce, uint8_t *ct, uint8_t *tag)
{
	if (!k || (len && (!pt || !ct)) || !nonce || !tag || len > KEK_MAX_PT || (ad_len && !ad))
		return -EINVAL;
	/* SP 800-38D §8.2.2: random IVs; 2^32 invocations per key stay far out of reach here */
	if (RAND_bytes(nonce, KEK_NONCE_LEN) != 1)
		return -EIO;
	return aes_gcm(k, 1, nonce, ad, ad_len, pt, len, ct, tag);
}

int kek_decrypt(const struct kek *k, const uint8_t *nonce, const uint8_t *ct, size_t len,
		const uint8_t *tag, const uint8_t *ad, size_t ad_len, uint8_t *pt)
{
	uint8_t t[KEK_TAG_LEN];
	int rc;

	if (!k || (len && (!pt || !ct)) || !nonce || !tag || len > KEK_MAX_PT || (ad_len && !ad))
		return -EINVAL;
	memcpy(t, tag, sizeof(t));
	rc = aes_gcm(k, 0, nonce, ad, ad_len, ct, len, pt, t);
	if (rc < 0 && len)
		OPENSSL_cleanse(pt, len);
	return rc;
}
