/* Unit tests for GP-format certificates: build/parse round trip, chain CI -> EUM -> ECASD and CI -> SM-DP,
 * tampering, truncation, wrong CA, dates. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>
#include <talloc.h>

#include <sgp02/gp/gpcert.h>

#include "testlib.h"

/* 2025-01-01 00:00:00 UTC and friends, computed by hand: days since epoch * 86400 */
#define T_2024_12_31_235959	((time_t)20088 * 86400 - 1)
#define T_2025_01_01		((time_t)20089 * 86400)
#define T_2026_06_15		((time_t)20619 * 86400)
#define T_2030_12_31_235959	((time_t)22280 * 86400 - 1)
#define T_2031_01_01		((time_t)22280 * 86400)

struct pki {
	EVP_PKEY *ci, *eum, *ecasd, *dp;
	uint8_t *ci_der, *eum_der, *ecasd_der, *dp_der;
	size_t ci_len, eum_len, ecasd_len, dp_len;
	struct gp_cert *ci_c, *eum_c, *ecasd_c, *dp_c;
};

static EVP_PKEY *keygen(const char *curve)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);

	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	return k;
}

static int talloc_pkey_free(EVP_PKEY **p)
{
	EVP_PKEY_free(*p);
	return 0;
}

/* tie an EVP_PKEY's lifetime to the test context */
static EVP_PKEY *owned(EVP_PKEY *k)
{
	EVP_PKEY **h = talloc(g_test_ctx, EVP_PKEY *);

	*h = k;
	talloc_set_destructor(h, talloc_pkey_free);
	return k;
}

static void fill_tmpl(struct gp_cert_template *t, const char *serial, const char *ca, const char *subj,
		      const char *aki, int entity)
{
	memset(t, 0, sizeof(*t));
	t->serial = (const uint8_t *)serial;
	t->serial_len = strlen(serial);
	t->ca_id = (const uint8_t *)ca;
	t->ca_id_len = strlen(ca);
	t->subject_id = (const uint8_t *)subj;
	t->subject_id_len = strlen(subj);
	t->has_effective = true;
	t->effective = (struct gp_cert_date){ 2025, 1, 1 };
	t->expiration = (struct gp_cert_date){ 2030, 12, 31 };
	t->entity_type = entity;
	t->aki = (const uint8_t *)aki;
	t->aki_len = aki ? strlen(aki) : 0;
	t->with_curve_ref = true;
}

static void make_pki(struct pki *p, const char *curve)
{
	struct gp_cert_template t;

	memset(p, 0, sizeof(*p));
	p->ci = owned(keygen(curve));
	p->eum = owned(keygen(curve));
	p->ecasd = owned(keygen(curve));
	p->dp = owned(keygen(curve));
	fill_tmpl(&t, "\x01", "CI-ID", "CI-ID", NULL, -1);
	CU_ASSERT_EQUAL_FATAL(gp_cert_build(g_test_ctx, &t, p->ci, p->ci, &p->ci_der, &p->ci_len), 0);
	fill_tmpl(&t, "\x02", "CI-ID", "EUM-SKI-0001", "CI-ID", -1);
	CU_ASSERT_EQUAL_FATAL(gp_cert_build(g_test_ctx, &t, p->eum, p->ci, &p->eum_der, &p->eum_len), 0);
	fill_tmpl(&t, "\x03\x04", "EUM-SKI-0001", "89049032123451234512345678901235", "EUM-SKI-0001", -1);
	CU_ASSERT_EQUAL_FATAL(gp_cert_build(g_test_ctx, &t, p->ecasd, p->eum, &p->ecasd_der, &p->ecasd_len), 0);
	fill_tmpl(&t, "\x05", "CI-ID", "DP-SKI-0001", "CI-ID", GP_CERT_ENTITY_SMDP);
	CU_ASSERT_EQUAL_FATAL(gp_cert_build(g_test_ctx, &t, p->dp, p->ci, &p->dp_der, &p->dp_len), 0);
	CU_ASSERT_EQUAL_FATAL(gp_cert_parse(g_test_ctx, p->ci_der, p->ci_len, &p->ci_c), 0);
	CU_ASSERT_EQUAL_FATAL(gp_cert_parse(g_test_ctx, p->eum_der, p->eum_len, &p->eum_c), 0);
	CU_ASSERT_EQUAL_FATAL(gp_cert_parse(g_test_ctx, p->ecasd_der, p->ecasd_len, &p->ecasd_c), 0);
	CU_ASSERT_EQUAL_FATAL(gp_cert_parse(g_test_ctx, p->dp_der, p->dp_len, &p->dp_c), 0);
}

static void test_build_parse(void)
{
	struct pki p;
	uint8_t point[65];

	make_pki(&p, "prime256v1");
	CU_ASSERT_EQUAL(p.dp_der[0], 0x7F);
	CU_ASSERT_EQUAL(p.dp_der[1], 0x21);
	CU_ASSERT_EQUAL(p.dp_c->serial_len, 1);
	CU_ASSERT_EQUAL(p.dp_c->serial[0], 0x05);
	CU_ASSERT_EQUAL(p.dp_c->ca_id_len, 5);
	CU_ASSERT(memcmp(p.dp_c->ca_id, "CI-ID", 5) == 0);
	CU_ASSERT_EQUAL(p.dp_c->key_usage_len, 1);
	CU_ASSERT_EQUAL(p.dp_c->key_usage[0], 0x88);
	CU_ASSERT(p.dp_c->has_effective);
	CU_ASSERT_EQUAL(p.dp_c->effective.year, 2025);
	CU_ASSERT_EQUAL(p.dp_c->expiration.year, 2030);
	CU_ASSERT_EQUAL(p.dp_c->expiration.month, 12);
	CU_ASSERT_EQUAL(p.dp_c->expiration.day, 31);
	CU_ASSERT_EQUAL(p.dp_c->entity_type, GP_CERT_ENTITY_SMDP);
	CU_ASSERT_EQUAL(p.dp_c->aki_len, 5);
	CU_ASSERT_EQUAL(p.dp_c->curve_ref, GP_CURVE_NIST_P256);
	CU_ASSERT_EQUAL(p.ecasd_c->entity_type, -1);
	CU_ASSERT_EQUAL(gp_ec_point_of_key(p.dp, point, sizeof(point)), 65);
	CU_ASSERT_EQUAL(p.dp_c->point_len, 65);
	CU_ASSERT(memcmp(p.dp_c->point, point, 65) == 0);
	CU_ASSERT_EQUAL(p.dp_c->sig_len, 64);
	/* signed data = everything inside 7F21 before 5F37 */
	CU_ASSERT(p.dp_c->tbs + p.dp_c->tbs_len + 3 + 64 == p.dp_c->raw + p.dp_c->raw_len);
	CU_ASSERT_EQUAL(p.dp_c->tbs[0], 0x93);
	/* the DER date encoding: 5F24 04 20 30 12 31 */
	CU_ASSERT_PTR_NOT_NULL(memmem(p.dp_der, p.dp_len, "\x5F\x24\x04\x20\x30\x12\x31", 7));
	CU_ASSERT_PTR_NOT_NULL(memmem(p.dp_der, p.dp_len, "\x73\x0a\xC8\x01\x01\xC9\x05" "CI-ID", 12));
	CU_ASSERT_PTR_NOT_NULL(memmem(p.dp_der, p.dp_len, "\xF0\x01\x00", 3));
}

static void test_chain_ok(void)
{
	struct pki p;
	struct gp_cert *chain[2], *anchors[1];

	make_pki(&p, "prime256v1");
	chain[0] = p.ecasd_c;
	chain[1] = p.eum_c;
	anchors[0] = p.ci_c;
	CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 2, anchors, 1, T_2026_06_15), 0);
	chain[0] = p.dp_c;
	CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 1, anchors, 1, T_2026_06_15), 0);
	/* the CI is self-signed */
	chain[0] = p.ci_c;
	CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 1, anchors, 1, T_2026_06_15), 0);
	/* missing intermediate: ECASD directly under the CI */
	chain[0] = p.ecasd_c;
	CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 1, anchors, 1, T_2026_06_15), -ENOKEY);
	/* wrong order */
	chain[0] = p.eum_c;
	chain[1] = p.ecasd_c;
	CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 2, anchors, 1, T_2026_06_15), -ENOKEY);
	CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 0, anchors, 1, T_2026_06_15), -EINVAL);
}

static void test_chain_brainpool(void)
{
	struct pki p;
	struct gp_cert *chain[2], *anchors[1];

	make_pki(&p, "brainpoolP256r1");
	CU_ASSERT_EQUAL(p.ecasd_c->curve_ref, GP_CURVE_BRAINPOOL_P256R1);
	chain[0] = p.ecasd_c;
	chain[1] = p.eum_c;
	anchors[0] = p.ci_c;
	CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 2, anchors, 1, T_2026_06_15), 0);
}

static void test_dates(void)
{
	struct pki p;
	struct gp_cert *chain[2], *anchors[1];

	make_pki(&p, "prime256v1");
	CU_ASSERT_EQUAL(gp_cert_check_validity(p.dp_c, T_2025_01_01), 0);
	CU_ASSERT_EQUAL(gp_cert_check_validity(p.dp_c, T_2024_12_31_235959), -EKEYEXPIRED);
	CU_ASSERT_EQUAL(gp_cert_check_validity(p.dp_c, T_2030_12_31_235959), 0);
	CU_ASSERT_EQUAL(gp_cert_check_validity(p.dp_c, T_2031_01_01), -EKEYEXPIRED);
	chain[0] = p.ecasd_c;
	chain[1] = p.eum_c;
	anchors[0] = p.ci_c;
	CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 2, anchors, 1, T_2031_01_01), -EKEYEXPIRED);
	CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 2, anchors, 1, T_2024_12_31_235959), -EKEYEXPIRED);
}

static void test_expired_intermediate(void)
{
	struct pki p;
	struct gp_cert_template t;
	struct gp_cert *eum2, *chain[2], *anchors[1];
	uint8_t *der;
	size_t len;

	make_pki(&p, "prime256v1");
	fill_tmpl(&t, "\x02", "CI-ID", "EUM-SKI-0001", "CI-ID", -1);
	t.expiration = (struct gp_cert_date){ 2025, 6, 30 };
	CU_ASSERT_EQUAL_FATAL(gp_cert_build(g_test_ctx, &t, p.eum, p.ci, &der, &len), 0);
	CU_ASSERT_EQUAL_FATAL(gp_cert_parse(g_test_ctx, der, len, &eum2), 0);
	chain[0] = p.ecasd_c;
	chain[1] = eum2;
	anchors[0] = p.ci_c;
	CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 2, anchors, 1, T_2026_06_15), -EKEYEXPIRED);
}

static void test_wrong_ca(void)
{
	struct pki p, q;
	struct gp_cert *chain[2], *anchors[2];

	make_pki(&p, "prime256v1");
	make_pki(&q, "prime256v1");	/* same identifiers, other keys: an impostor CI */
	chain[0] = p.ecasd_c;
	chain[1] = p.eum_c;
	anchors[0] = q.ci_c;
	CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 2, anchors, 1, T_2026_06_15), -EKEYREJECTED);
	/* an impostor EUM in the middle */
	chain[1] = q.eum_c;
	anchors[0] = p.ci_c;
	CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 2, anchors, 1, T_2026_06_15), -EKEYREJECTED);
	/* no anchor at all */
	chain[1] = p.eum_c;
	CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 2, anchors, 0, T_2026_06_15), -ENOKEY);
	/* a CI with another identifier */
	{
		struct gp_cert_template t;
		struct gp_cert *other;
		uint8_t *der;
		size_t len;

		fill_tmpl(&t, "\x09", "OTHER-CI", "OTHER-CI", NULL, -1);
		CU_ASSERT_EQUAL_FATAL(gp_cert_build(g_test_ctx, &t, p.ci, p.ci, &der, &len), 0);
		CU_ASSERT_EQUAL_FATAL(gp_cert_parse(g_test_ctx, der, len, &other), 0);
		anchors[0] = other;
		CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 2, anchors, 1, T_2026_06_15), -ENOKEY);
		/* the right one second in the list */
		anchors[1] = p.ci_c;
		CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 2, anchors, 2, T_2026_06_15), 0);
	}
}

/* Every byte of the SM-DP certificate flipped: parse fails or the chain does not verify; never a crash. */
static void test_tamper_and_truncate(void)
{
	struct pki p;
	struct gp_cert *c, *chain[1], *anchors[1];
	uint8_t *t;
	size_t i;
	int rc;

	make_pki(&p, "prime256v1");
	anchors[0] = p.ci_c;
	t = talloc_size(g_test_ctx, p.dp_len);
	for (i = 0; i < p.dp_len; i++) {
		unsigned int bit;

		for (bit = 0; bit < 8; bit += 3) {
			memcpy(t, p.dp_der, p.dp_len);
			t[i] ^= 1 << bit;
			rc = gp_cert_parse(g_test_ctx, t, p.dp_len, &c);
			if (rc < 0)
				continue;
			chain[0] = c;
			rc = gp_cert_verify_chain(chain, 1, anchors, 1, T_2026_06_15);
			if (rc == 0)
				fprintf(stderr, "flip at %zu bit %u accepted\n", i, bit);
			CU_ASSERT(rc == -EKEYREJECTED || rc == -ENOKEY || rc == -ENOTSUP);
			talloc_free(c);
		}
	}
	for (i = 0; i < p.dp_len; i++) {
		rc = gp_cert_parse(g_test_ctx, p.dp_der, i, &c);
		CU_ASSERT(rc == -EBADMSG || rc == -EMSGSIZE);
	}
	/* trailing garbage */
	t = talloc_size(g_test_ctx, p.dp_len + 1);
	memcpy(t, p.dp_der, p.dp_len);
	t[p.dp_len] = 0;
	CU_ASSERT_EQUAL(gp_cert_parse(g_test_ctx, t, p.dp_len + 1, &c), -EBADMSG);
}

static void test_parse_rules(void)
{
	/* hand-made certificates: missing mandatory element, duplicate, signature not last, bad date */
	static const char *bad[] = {
		/* no 5F37 */
		"7F21 0E 9301 01 4201 41 5F2001 42 950188 5F2404 20301231",
		/* bad BCD date */
		"7F21 5B 9301 01 4201 41 5F2001 42 950188 5F2404 2030133A"
		" 7F49 43 B041 04" "0000000000000000000000000000000000000000000000000000000000000000"
		"0000000000000000000000000000000000000000000000000000000000000000"
		" 5F3740 00",
		/* indefinite length */
		"7F21 80 0000",
	};
	struct gp_cert *c;
	size_t len;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *b = test_hex(bad[i], &len);
		int rc = gp_cert_parse(g_test_ctx, b, len, &c);

		CU_ASSERT(rc == -EBADMSG || rc == -EMSGSIZE);
	}
	CU_ASSERT_EQUAL(gp_cert_parse(g_test_ctx, NULL, 0, NULL), -EINVAL);
}

static void test_point_checks(void)
{
	uint8_t pt[65];
	EVP_PKEY *k = NULL;

	memset(pt, 0x11, sizeof(pt));
	pt[0] = 0x04;
	CU_ASSERT_EQUAL(gp_ec_pubkey_from_point(GP_CURVE_NIST_P256, pt, 65, &k), -EBADMSG);
	CU_ASSERT_PTR_NULL(k);
	CU_ASSERT_EQUAL(gp_ec_pubkey_from_point(0x42, pt, 65, &k), -ENOTSUP);
	CU_ASSERT_EQUAL(gp_ec_pubkey_from_point(GP_CURVE_NIST_P256, pt, 64, &k), -EBADMSG);
}

static void test_raw_sig(void)
{
	EVP_PKEY *k = owned(keygen("prime256v1"));
	uint8_t sig[64];
	unsigned int i;

	for (i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL(gp_ecdsa_sign_raw(k, (const uint8_t *)"hello", 5, sig), 0);
		CU_ASSERT_EQUAL(gp_ecdsa_verify_raw(k, (const uint8_t *)"hello", 5, sig, 64), 0);
		CU_ASSERT_EQUAL(gp_ecdsa_verify_raw(k, (const uint8_t *)"hellO", 5, sig, 64), -EKEYREJECTED);
		CU_ASSERT_EQUAL(gp_ecdsa_verify_raw(k, (const uint8_t *)"hello", 5, sig, 63), -EKEYREJECTED);
	}
	memset(sig, 0, sizeof(sig));
	CU_ASSERT_EQUAL(gp_ecdsa_verify_raw(k, (const uint8_t *)"hello", 5, sig, 64), -EKEYREJECTED);
}

/* An issuer known only as (identifier, public key), e.g. an X.509 EUM certificate */
static void test_verify_with_key(void)
{
	struct pki p;

	make_pki(&p, "prime256v1");
	CU_ASSERT_EQUAL(gp_cert_verify_with_key(p.ecasd_c, (const uint8_t *)"EUM-SKI-0001", 12, p.eum, T_2026_06_15), 0);
	CU_ASSERT_EQUAL(gp_cert_verify_with_key(p.ecasd_c, (const uint8_t *)"EUM-SKI-0002", 12, p.eum, T_2026_06_15),
			-ENOKEY);
	CU_ASSERT_EQUAL(gp_cert_verify_with_key(p.ecasd_c, (const uint8_t *)"EUM-SKI-0001", 12, p.ci, T_2026_06_15),
			-EKEYREJECTED);
	CU_ASSERT_EQUAL(gp_cert_verify_with_key(p.ecasd_c, (const uint8_t *)"EUM-SKI-0001", 12, p.eum, T_2031_01_01),
			-EKEYEXPIRED);
	CU_ASSERT_EQUAL(gp_cert_verify_with_key(p.ecasd_c, NULL, 12, p.eum, T_2031_01_01), -EINVAL);
}

static const struct test_case gpcert_cases[] = {
	TEST_CASE(test_build_parse),
	TEST_CASE(test_chain_ok),
	TEST_CASE(test_chain_brainpool),
	TEST_CASE(test_dates),
	TEST_CASE(test_expired_intermediate),
	TEST_CASE(test_wrong_ca),
	TEST_CASE(test_tamper_and_truncate),
	TEST_CASE(test_parse_rules),
	TEST_CASE(test_point_checks),
	TEST_CASE(test_raw_sig),
	TEST_CASE(test_verify_with_key),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "gpcert", NULL, NULL, gpcert_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
