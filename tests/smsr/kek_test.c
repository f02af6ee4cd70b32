/* Unit tests of the EIS key-encryption helpers (src/common/kek.c): AES-256-GCM round trip, refusal of a wrong
 * KEK, of tampered nonce/ciphertext/tag/associated data, fresh nonces, and the KEK file formats. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>
#include <CUnit/CUnit.h>
#include <openssl/evp.h>

#include "testlib.h"
#include <sgp02/common/kek.h>

static const uint8_t kek1[KEK_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};
static const uint8_t key16[16] = { 0x88, 0x68, 0x42, 0xB4, 0x90, 0x41, 0xB4, 0x33,
				   0xD0, 0xAD, 0x22, 0x63, 0x44, 0x10, 0x87, 0x0E };
static const char ad[] = "89049032010000000001000000000088/ISD-R/1/1/0";

struct sealed {
	uint8_t nonce[KEK_NONCE_LEN];
	uint8_t ct[sizeof(key16)];
	uint8_t tag[KEK_TAG_LEN];
};

static void seal(const struct kek *k, struct sealed *s)
{
	CU_ASSERT_EQUAL_FATAL(kek_encrypt(k, key16, sizeof(key16), (const uint8_t *)ad, strlen(ad), s->nonce,
					       s->ct, s->tag), 0);
}

static int open_(const struct kek *k, const struct sealed *s, const char *a, uint8_t *out)
{
	return kek_decrypt(k, s->nonce, s->ct, sizeof(s->ct), s->tag, (const uint8_t *)a, strlen(a), out);
}

static void test_round_trip(void)
{
	struct kek *k = kek_alloc(g_test_ctx, kek1);
	struct sealed s;
	uint8_t out[sizeof(key16)];

	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	seal(k, &s);
	CU_ASSERT_NOT_EQUAL(memcmp(s.ct, key16, sizeof(key16)), 0);
	CU_ASSERT_EQUAL(open_(k, &s, ad, out), 0);
	CU_ASSERT_EQUAL(memcmp(out, key16, sizeof(key16)), 0);
}

/* a known answer from an independent computation with OpenSSL's one-shot API would only test OpenSSL against
 * itself; instead check the GCM output length and that an empty plaintext still authenticates */
static void test_empty_plaintext(void)
{
	struct kek *k = kek_alloc(g_test_ctx, kek1);
	uint8_t nonce[KEK_NONCE_LEN], tag[KEK_TAG_LEN];

	CU_ASSERT_EQUAL(kek_encrypt(k, NULL, 0, (const uint8_t *)ad, strlen(ad), nonce, NULL, tag), 0);
	CU_ASSERT_EQUAL(kek_decrypt(k, nonce, NULL, 0, tag, (const uint8_t *)ad, strlen(ad), NULL), 0);
	tag[0] ^= 1;
	CU_ASSERT_EQUAL(kek_decrypt(k, nonce, NULL, 0, tag, (const uint8_t *)ad, strlen(ad), NULL), -EBADMSG);
}

static void test_wrong_kek(void)
{
	uint8_t other[KEK_LEN];
	struct kek *k = kek_alloc(g_test_ctx, kek1), *k2;
	struct sealed s;
	uint8_t out[sizeof(key16)];

	memcpy(other, kek1, sizeof(other));
	other[31] ^= 0x80;
	k2 = kek_alloc(g_test_ctx, other);
	seal(k, &s);
	CU_ASSERT_EQUAL(open_(k2, &s, ad, out), -EBADMSG);
	/* nothing of the plaintext is left in the output */
	CU_ASSERT_NOT_EQUAL(memcmp(out, key16, sizeof(key16)), 0);
}

static void test_tampered(void)
{
	struct kek *k = kek_alloc(g_test_ctx, kek1);
	struct sealed s, t;
	uint8_t out[sizeof(key16)];
	unsigned int i;

	seal(k, &s);
	/* every single bit flip anywhere in nonce, ciphertext and tag is detected */
	for (i = 0; i < sizeof(s) * 8; i++) {
		t = s;
		((uint8_t *)&t)[i / 8] ^= (uint8_t)(1u << (i % 8));
		CU_ASSERT_EQUAL(open_(k, &t, ad, out), -EBADMSG);
	}
	/* the value moved to another place (other EID, key set or key) */
	CU_ASSERT_EQUAL(open_(k, &s, "89049032010000000001000000000185/ISD-R/1/1/0", out), -EBADMSG);
	CU_ASSERT_EQUAL(open_(k, &s, "89049032010000000001000000000088/ISD-R/2/1/0", out), -EBADMSG);
	CU_ASSERT_EQUAL(open_(k, &s, "89049032010000000001000000000088/ISD-R/1/2/0", out), -EBADMSG);
	CU_ASSERT_EQUAL(open_(k, &s, ad, out), 0);
}

static void test_nonce_unique(void)
{
	struct kek *k = kek_alloc(g_test_ctx, kek1);
	struct sealed *s = talloc_array(g_test_ctx, struct sealed, 1000);
	unsigned int i, j, dup = 0, same_ct = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (i = 0; i < 1000; i++)
		seal(k, &s[i]);
	for (i = 0; i < 1000; i++)
		for (j = i + 1; j < 1000; j++) {
			dup += !memcmp(s[i].nonce, s[j].nonce, KEK_NONCE_LEN);
			same_ct += !memcmp(s[i].ct, s[j].ct, sizeof(s[i].ct));
		}
	CU_ASSERT_EQUAL(dup, 0);
	/* the same plaintext never gives the same ciphertext */
	CU_ASSERT_EQUAL(same_ct, 0);
}

static void test_bad_args(void)
{
	struct kek *k = kek_alloc(g_test_ctx, kek1);
	uint8_t big[KEK_MAX_PT + 1] = { 0 }, nonce[KEK_NONCE_LEN], tag[KEK_TAG_LEN];
	uint8_t *ct = talloc_size(g_test_ctx, sizeof(big));

	CU_ASSERT_EQUAL(kek_encrypt(k, big, sizeof(big), NULL, 0, nonce, ct, tag), -EINVAL);
	CU_ASSERT_EQUAL(kek_encrypt(NULL, big, 16, NULL, 0, nonce, ct, tag), -EINVAL);
	CU_ASSERT_EQUAL(kek_decrypt(k, nonce, ct, sizeof(big), tag, NULL, 0, big), -EINVAL);
}

static char *write_tmp(const void *data, size_t len)
{
	char *path = talloc_strdup(g_test_ctx, "/tmp/kek_test.XXXXXX");
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, data, len) == (ssize_t)len);
	close(fd);
	return path;
}

static void check_load(const void *data, size_t len, int want)
{
	struct kek *k = NULL;
	char *path = write_tmp(data, len);
	int rc = kek_load(g_test_ctx, path, &k);

	unlink(path);
	CU_ASSERT_EQUAL(rc, want);
	if (want == 0 && rc == 0)
		CU_ASSERT_EQUAL(memcmp(k->key, kek1, KEK_LEN), 0);
}

static void test_load(void)
{
	static const char hex[] = "000102030405060708090a0b0c0d0e0f\n101112131415161718191A1B1C1D1E1F\n";
	struct kek *k = NULL;

	check_load(kek1, sizeof(kek1), 0);				/* raw */
	check_load(hex, strlen(hex), 0);				/* hex, lines, mixed case */
	check_load(hex, 40, -EINVAL);					/* short hex */
	check_load(kek1, 31, -EINVAL);					/* short raw */
	check_load("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00", 66, -EINVAL);
	check_load("zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 64, -EINVAL);
	CU_ASSERT_EQUAL(kek_load(g_test_ctx, "/nonexistent/kek", &k), -ENOENT);
}

static const struct test_case kek_cases[] = {
	TEST_CASE(test_round_trip),
	TEST_CASE(test_empty_plaintext),
	TEST_CASE(test_wrong_kek),
	TEST_CASE(test_tampered),
	TEST_CASE(test_nonce_unique),
	TEST_CASE(test_bad_args),
	TEST_CASE(test_load),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "smsr_kek", NULL, NULL, kek_cases },
	{}
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
