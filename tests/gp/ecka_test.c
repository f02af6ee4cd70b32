/* Unit tests for Scenario #3 key establishment (ECKA-EG): CRT encoding, X9.63 KDF, ECDH, the full
 * SM-DP <-> ECASD exchange on both curves, and negative cases. */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <talloc.h>

#include <sgp02/gp/ecka.h>
#include <sgp02/gp/gpcert.h>
#include <sgp02/gp/scp03.h>
#include <sgp02/gp/scp03t.h>

#include "testlib.h"

#define NOW	((time_t)20619 * 86400)	/* 2026-06-15 */

static int pkey_destructor(EVP_PKEY **p)
{
	EVP_PKEY_free(*p);
	return 0;
}

static EVP_PKEY *owned(EVP_PKEY *k)
{
	EVP_PKEY **h = talloc(g_test_ctx, EVP_PKEY *);

	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	*h = k;
	talloc_set_destructor(h, pkey_destructor);
	return k;
}

static EVP_PKEY *gen(uint8_t curve)
{
	EVP_PKEY *k = NULL;

	CU_ASSERT_EQUAL_FATAL(gp_ecka_keygen(curve, &k), 0);
	return owned(k);
}

/* A small PKI: CI (self-signed), SM-DP certificate, ECASD key pair. */
struct world {
	uint8_t curve;
	EVP_PKEY *ci, *dp, *ecasd;
	struct gp_cert *ci_c;
	uint8_t *dp_der;
	size_t dp_len;
};

static void make_cert(EVP_PKEY *subj, EVP_PKEY *issuer, const char *ca, const char *sid, int entity,
		      struct gp_cert_date exp, uint8_t **der, size_t *len)
{
	struct gp_cert_template t;

	memset(&t, 0, sizeof(t));
	t.serial = (const uint8_t *)"\x01\x02";
	t.serial_len = 2;
	t.ca_id = (const uint8_t *)ca;
	t.ca_id_len = strlen(ca);
	t.subject_id = (const uint8_t *)sid;
	t.subject_id_len = strlen(sid);
	t.has_effective = true;
	t.effective = (struct gp_cert_date){ 2025, 1, 1 };
	t.expiration = exp;
	t.entity_type = entity;
	t.with_curve_ref = true;
	CU_ASSERT_EQUAL_FATAL(gp_cert_build(g_test_ctx, &t, subj, issuer, der, len), 0);
}

static void make_world(struct world *w, uint8_t curve)
{
	uint8_t *der;
	size_t len;

	memset(w, 0, sizeof(*w));
	w->curve = curve;
	w->ci = gen(curve);
	w->dp = gen(curve);
	w->ecasd = gen(curve);
	make_cert(w->ci, w->ci, "CI", "CI", -1, (struct gp_cert_date){ 2040, 1, 1 }, &der, &len);
	CU_ASSERT_EQUAL_FATAL(gp_cert_parse(g_test_ctx, der, len, &w->ci_c), 0);
	make_cert(w->dp, w->ci, "CI", "SMDP", GP_CERT_ENTITY_SMDP, (struct gp_cert_date){ 2030, 1, 1 },
		  &w->dp_der, &w->dp_len);
}

static void default_crt(struct gp_ecka_crt *c, uint8_t scen, uint8_t ku)
{
	memset(c, 0, sizeof(*c));
	c->scenario_param = scen;
	c->key_usage = ku;
	c->key_type = GP_ECKA_KEYTYPE_AES;
	c->key_len = 16;
	c->kid = 0x01;
	c->kvn = 0x30;
	if (scen & GP_ECKA_SCEN_HOSTID) {
		memcpy(c->sdin, "\x12\x34\x56", 3);
		c->sdin_len = 3;
		memcpy(c->host_id, "HOST-ID-0123456", 15);
		c->host_id_len = 15;
	}
}

static void test_crt_encoding(void)
{
	struct gp_ecka_crt c, d;
	uint8_t buf[128];
	int len;

	default_crt(&c, 0x0A, GP_ECKA_KU_THREE_KEYS);
	len = gp_ecka_crt_encode(&c, buf, sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(len, 23);
	TEST_ASSERT_HEX(buf, len, "A615 90020 30A 950110 800188 810110 820101 830130 9100");
	CU_ASSERT_EQUAL(gp_ecka_crt_decode(buf, len, &d), 0);
	CU_ASSERT(memcmp(&c, &d, sizeof(c)) == 0);
	/* SCP80-style key set with a 5-byte counter and key access */
	c.kvn = 0x01;
	c.counter_len = 5;
	memcpy(c.counter, "\x00\x00\x00\x00\x01", 5);
	c.has_key_access = true;
	c.key_access = 0x00;
	len = gp_ecka_crt_encode(&c, buf, sizeof(buf));
	TEST_ASSERT_HEX(buf, len, "A61D 9002030A 950110 960100 800188 810110 820101 830101 91050000000001");
	CU_ASSERT_EQUAL(gp_ecka_crt_decode(buf, len, &d), 0);
	CU_ASSERT(memcmp(&c, &d, sizeof(c)) == 0);
	/* with SDIN / HostID */
	default_crt(&c, 0x0E, GP_ECKA_KU_ONE_KEY);
	len = gp_ecka_crt_encode(&c, buf, sizeof(buf));
	CU_ASSERT(len > 23);
	CU_ASSERT_EQUAL(gp_ecka_crt_decode(buf, len, &d), 0);
	CU_ASSERT(memcmp(&c, &d, sizeof(c)) == 0);
	CU_ASSERT_EQUAL(gp_ecka_crt_encode(&c, buf, 10), -EMSGSIZE);
	/* decode negatives: truncation, scenario 2, unknown tag, missing mandatory */
	{
		int i;

		for (i = 0; i < len; i++)
			CU_ASSERT_EQUAL(gp_ecka_crt_decode(buf, i, &d), -EBADMSG);
	}
	{
		size_t l;
		uint8_t *b = test_hex("A607 90020202 950110", &l);

		CU_ASSERT_EQUAL(gp_ecka_crt_decode(b, l, &d), -ENOTSUP);
		b = test_hex("A607 9002030A 950110", &l);
		CU_ASSERT_EQUAL(gp_ecka_crt_decode(b, l, &d), -EBADMSG);
		b = test_hex("A618 9002030A 950110 800188 810110 820101 830130 9100 DF0100", &l);
		CU_ASSERT_EQUAL(gp_ecka_crt_decode(b, l, &d), -EBADMSG);
	}
}

/* Our X9.63 KDF against OpenSSL's own X963KDF implementation */
static void test_x963_kdf(void)
{
	uint8_t z[32], info[40], mine[100], ref[100];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "X963KDF", NULL);
	EVP_KDF_CTX *kctx;
	OSSL_PARAM params[4];
	unsigned int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(kdf);
	for (i = 0; i < sizeof(z); i++)
		z[i] = i * 7 + 1;
	for (i = 0; i < sizeof(info); i++)
		info[i] = 0xA0 ^ i;
	kctx = EVP_KDF_CTX_new(kdf);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z, sizeof(z));
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof(info));
	params[3] = OSSL_PARAM_construct_end();
	CU_ASSERT_EQUAL_FATAL(EVP_KDF_derive(kctx, ref, sizeof(ref), params), 1);
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	CU_ASSERT_EQUAL(gp_ecka_x963_kdf(z, sizeof(z), info, sizeof(info), mine, sizeof(mine)), 0);
	CU_ASSERT(memcmp(mine, ref, sizeof(ref)) == 0);
	CU_ASSERT_EQUAL(gp_ecka_x963_kdf(z, sizeof(z), info, sizeof(info), mine, 16), 0);
	CU_ASSERT(memcmp(mine, ref, 16) == 0);
}

static void test_ecdh(void)
{
	static const uint8_t curves[] = { GP_CURVE_NIST_P256, GP_CURVE_BRAINPOOL_P256R1 };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		EVP_PKEY *a = gen(curves[i]), *b = gen(curves[i]);
		uint8_t s1[66], s2[66];

		CU_ASSERT_EQUAL(gp_ecka_shared_secret(a, b, s1, sizeof(s1)), 32);
		CU_ASSERT_EQUAL(gp_ecka_shared_secret(b, a, s2, sizeof(s2)), 32);
		CU_ASSERT(memcmp(s1, s2, 32) == 0);
		CU_ASSERT_EQUAL(gp_ecka_shared_secret(a, b, s1, 16), -EMSGSIZE);
	}
	CU_ASSERT_EQUAL(gp_ecka_shared_secret(gen(GP_CURVE_NIST_P256), gen(GP_CURVE_BRAINPOOL_P256R1),
					      (uint8_t[66]){ 0 }, 66), -ENOTSUP);
	CU_ASSERT_EQUAL(gp_ecka_keygen(0x77, &(EVP_PKEY *){ NULL }), -ENOTSUP);
}

struct exchange {
	struct gp_ecka_crt crt;
	EVP_PKEY *esk;
	uint8_t rc[16], dr[16];
	uint8_t *m2;
	size_t m2_len;
	uint8_t ans[64];
	int ans_len;
	struct gp_ecka_keys host_keys, card_keys;
	struct gp_ecka_crt card_crt;
};

static const uint8_t g_sin[] = { 0x06, 0x05, 0x2B, 0x06, 0x01, 0x04, 0x01 };

/* Run the whole exchange; returns the card's answer to step 2 */
static void run_exchange(struct world *w, struct exchange *x, uint8_t scen, uint8_t ku)
{
	uint8_t m1[512], ans1[64];
	struct gp_cert *dp_c = NULL;
	EVP_PKEY *dp_pub = NULL;
	int m1_len, a1;
	unsigned int i;

	memset(x, 0, sizeof(*x));
	for (i = 0; i < 16; i++) {
		x->rc[i] = 0x40 + i;
		x->dr[i] = 0x90 + i;
	}
	/* step 1 */
	m1_len = gp_ecka_build_3a01(w->dp_der, w->dp_len, m1, sizeof(m1));
	CU_ASSERT_FATAL(m1_len > 0);
	CU_ASSERT_EQUAL(m1[0], 0x3A);
	CU_ASSERT_EQUAL(m1[1], 0x01);
	a1 = gp_ecka_card_3a01(g_test_ctx, m1, m1_len, w->ci_c, NOW, GP_CERT_ENTITY_SMDP, x->rc, 16, &dp_c, ans1,
			       sizeof(ans1));
	CU_ASSERT_EQUAL_FATAL(a1, 18);
	CU_ASSERT_EQUAL(ans1[0], 0x85);
	CU_ASSERT_EQUAL(ans1[1], 16);
	/* step 2 */
	default_crt(&x->crt, scen, ku);
	x->esk = gen(w->curve);
	CU_ASSERT_EQUAL_FATAL(gp_ecka_build_3a02(g_test_ctx, &x->crt, x->esk, ans1 + 2, 16, w->dp, &x->m2,
						 &x->m2_len), 0);
	CU_ASSERT_EQUAL(x->m2[0], 0x3A);
	CU_ASSERT_EQUAL(x->m2[1], 0x02);
	CU_ASSERT_EQUAL_FATAL(gp_cert_pubkey(dp_c, &dp_pub), 0);
	x->ans_len = gp_ecka_card_3a02(x->m2, x->m2_len, dp_pub, x->rc, 16, w->ecasd, x->dr, g_sin, sizeof(g_sin),
				       &x->card_crt, &x->card_keys, x->ans, sizeof(x->ans));
	EVP_PKEY_free(dp_pub);
	CU_ASSERT_FATAL(x->ans_len > 0);
	CU_ASSERT(memcmp(&x->card_crt, &x->crt, sizeof(x->crt)) == 0);
	/* step 3 */
	CU_ASSERT_EQUAL_FATAL(gp_ecka_host_finish(&x->crt, x->esk, w->ecasd, x->ans, x->ans_len, g_sin, sizeof(g_sin),
						  &x->host_keys), 0);
	CU_ASSERT(memcmp(&x->host_keys, &x->card_keys, sizeof(x->host_keys)) == 0);
}

static void test_full_exchange(void)
{
	static const uint8_t curves[] = { GP_CURVE_NIST_P256, GP_CURVE_BRAINPOOL_P256R1 };
	static const uint8_t scens[] = { 0x09, 0x0A, 0x0B, 0x0E };
	static const uint8_t kus[] = { GP_ECKA_KU_THREE_KEYS, GP_ECKA_KU_ONE_KEY };
	unsigned int c, s, k;

	for (c = 0; c < 2; c++) {
		struct world w;

		make_world(&w, curves[c]);
		for (s = 0; s < sizeof(scens); s++) {
			for (k = 0; k < 2; k++) {
				struct exchange x;

				run_exchange(&w, &x, scens[s], kus[k]);
				CU_ASSERT_EQUAL(x.host_keys.n_keys, kus[k] == GP_ECKA_KU_ONE_KEY ? 1 : 3);
				CU_ASSERT_EQUAL(x.ans_len, (scens[s] & GP_ECKA_SCEN_DR) ? 36 : 18);
			}
		}
	}
}

/* The derived key material is what KeyData says: recompute it by hand from ShS */
static void test_key_layout(void)
{
	struct world w;
	struct exchange x;
	uint8_t shs[32], info[64], kd[64], rcpt[16], a6[64];
	int il, a6_len;

	make_world(&w, GP_CURVE_NIST_P256);
	run_exchange(&w, &x, 0x0A, GP_ECKA_KU_THREE_KEYS);
	CU_ASSERT_EQUAL_FATAL(gp_ecka_shared_secret(x.esk, w.ecasd, shs, sizeof(shs)), 32);
	il = gp_ecka_shared_info(&x.crt, x.dr, 16, NULL, 0, info, sizeof(info));
	CU_ASSERT_EQUAL_FATAL(il, 3 + 16);
	CU_ASSERT_EQUAL(info[0], 0x10);
	CU_ASSERT_EQUAL(info[1], 0x88);
	CU_ASSERT_EQUAL(info[2], 0x10);
	CU_ASSERT_EQUAL(gp_ecka_x963_kdf(shs, 32, info, il, kd, 64), 0);
	CU_ASSERT(memcmp(kd, x.host_keys.receipt_key, 16) == 0);
	CU_ASSERT(memcmp(kd + 16, x.host_keys.key[0], 16) == 0);
	CU_ASSERT(memcmp(kd + 32, x.host_keys.key[1], 16) == 0);
	CU_ASSERT(memcmp(kd + 48, x.host_keys.key[2], 16) == 0);
	/* answer = 85 10 DR 86 10 CMAC(receipt key, A6 || 85 10 DR) */
	CU_ASSERT_EQUAL(x.ans[0], 0x85);
	CU_ASSERT(memcmp(x.ans + 2, x.dr, 16) == 0);
	CU_ASSERT_EQUAL(x.ans[18], 0x86);
	a6_len = gp_ecka_crt_encode(&x.crt, a6, sizeof(a6));
	{
		uint8_t buf[128];

		memcpy(buf, a6, a6_len);
		buf[a6_len] = 0x85;
		buf[a6_len + 1] = 0x10;
		memcpy(buf + a6_len + 2, x.dr, 16);
		CU_ASSERT_EQUAL(gp_scp03_cmac(kd, 16, buf, a6_len + 18, rcpt), 0);
	}
	CU_ASSERT(memcmp(x.ans + 20, rcpt, 16) == 0);
	/* with HostID/SDIN and SIN (scenario bit 04) the SharedInfo grows */
	default_crt(&x.crt, 0x0E, GP_ECKA_KU_ONE_KEY);
	il = gp_ecka_shared_info(&x.crt, x.dr, 16, g_sin, sizeof(g_sin), info, sizeof(info));
	CU_ASSERT_EQUAL(il, 3 + 16 + 1 + 15 + 1 + 7 + 1 + 3);
	CU_ASSERT_EQUAL(info[19], 15);
}

/* The SCP03 keys from the exchange work for a secure channel */
static void test_keys_feed_scp03(void)
{
	struct world w;
	struct exchange x;
	struct gp_scp03_keys k;
	struct gp_scp03_session host, card;
	uint8_t hc[8] = { 1 }, cc[8] = { 2 }, ctr[3] = { 0, 0, 1 }, buf[64], resp[64];
	int l, rl;

	make_world(&w, GP_CURVE_NIST_P256);
	run_exchange(&w, &x, 0x0A, GP_ECKA_KU_THREE_KEYS);
	CU_ASSERT_EQUAL_FATAL(gp_ecka_keys_to_scp03(&x.card_keys, x.crt.kvn, &k), 0);
	CU_ASSERT(memcmp(k.mac, x.host_keys.key[1], 16) == 0);
	l = gp_scp03_init_update_cmd(&host, k.kvn, hc, buf, sizeof(buf));
	rl = gp_scp03_card_init_update(&card, &k, buf, l, NULL, cc, ctr, resp, sizeof(resp));
	CU_ASSERT_EQUAL(gp_scp03_parse_init_update_resp(&host, &k, resp, rl), 0);
	/* a one-key set is not an SCP03 key set */
	run_exchange(&w, &x, 0x0A, GP_ECKA_KU_ONE_KEY);
	CU_ASSERT_EQUAL(gp_ecka_keys_to_scp03(&x.card_keys, 0x30, &k), -EINVAL);
}

/* End to end as in SGP.02 §3.1.2-§3.1.3: key establishment, then the SCP03t download of a TS.48 profile with
 * the new key set (SM-DP keys from the host side, ISD-P keys from the card side). */
static void test_download_with_new_keys(void)
{
	struct world w;
	struct exchange x;
	struct gp_scp03_keys dp_keys, isdp_keys;
	struct gp_scp03_session s;
	struct gp_scp03t_card *card;
	struct gp_scp03t_tlv *tlvs;
	uint8_t hc[8] = { 0xC0, 0xFF, 0xEE }, cmd[32], *resp, *prof;
	size_t rl, plen, n, i, got;
	char path[512];
	int l;

	make_world(&w, GP_CURVE_BRAINPOOL_P256R1);
	run_exchange(&w, &x, 0x0A, GP_ECKA_KU_THREE_KEYS);
	CU_ASSERT_EQUAL_FATAL(gp_ecka_keys_to_scp03(&x.host_keys, x.crt.kvn, &dp_keys), 0);
	CU_ASSERT_EQUAL_FATAL(gp_ecka_keys_to_scp03(&x.card_keys, x.card_crt.kvn, &isdp_keys), 0);
	card = gp_scp03t_card_alloc(g_test_ctx, &isdp_keys, (const uint8_t *)"\xA0\x00\x00\x05\x59\x10\x10\xFF\xFF"
				    "\xFF\xFF\x89\x00\x00\x10\x00", 16, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(card);
	l = gp_scp03t_init_update(&s, dp_keys.kvn, 0, hc, cmd, sizeof(cmd));
	CU_ASSERT_EQUAL_FATAL(gp_scp03t_card_process(card, cmd, l, &resp, &rl), 0);
	CU_ASSERT_EQUAL_FATAL(gp_scp03t_process_iu_resp(&s, &dp_keys, resp, rl), 0);
	l = gp_scp03t_ext_auth(&s, 0x33, cmd, sizeof(cmd));
	CU_ASSERT_EQUAL_FATAL(gp_scp03t_card_process(card, cmd, l, &resp, &rl), 0);
	snprintf(path, sizeof(path), "%s/vectors/profiles/ts48v7-SAIP2.3_NoBERTLV.der", test_shared_dir());
	prof = test_read_file(path, &plen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(prof);
	CU_ASSERT_EQUAL_FATAL(gp_scp03t_split(g_test_ctx, &s, prof, plen, GP_SCP03T_SEG_DEFAULT, &tlvs, &n), 0);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL_FATAL(gp_scp03t_card_process(card, tlvs[i].data, tlvs[i].len, &resp, &rl), 0);
	CU_ASSERT(memcmp(gp_scp03t_card_profile(card, &got), prof, plen) == 0);
	CU_ASSERT_EQUAL(got, plen);
}

static void test_neg_step2(void)
{
	struct world w, other;
	struct exchange x;
	struct gp_ecka_crt crt;
	struct gp_ecka_keys keys;
	uint8_t out[64], *t, rc2[16];
	EVP_PKEY *dp_pub;
	size_t i;
	int res;

	make_world(&w, GP_CURVE_NIST_P256);
	make_world(&other, GP_CURVE_NIST_P256);
	run_exchange(&w, &x, 0x0A, GP_ECKA_KU_THREE_KEYS);
	dp_pub = w.dp;	/* the private key object also holds the public key */
	t = talloc_size(g_test_ctx, x.m2_len);
	/* every byte flipped */
	for (i = 0; i < x.m2_len; i++) {
		memcpy(t, x.m2, x.m2_len);
		t[i] ^= 0x01;
		res = gp_ecka_card_3a02(t, x.m2_len, dp_pub, x.rc, 16, w.ecasd, x.dr, NULL, 0, &crt, &keys, out,
					sizeof(out));
		CU_ASSERT(res == -EKEYREJECTED || res == -EBADMSG || res == -ENOTSUP);
	}
	/* truncated at every length */
	for (i = 0; i < x.m2_len; i++) {
		res = gp_ecka_card_3a02(x.m2, i, dp_pub, x.rc, 16, w.ecasd, x.dr, NULL, 0, &crt, &keys, out,
					sizeof(out));
		CU_ASSERT(res == -EKEYREJECTED || res == -EBADMSG);
	}
	/* another RC (replay of an old STORE DATA) */
	memcpy(rc2, x.rc, 16);
	rc2[15] ^= 0xFF;
	CU_ASSERT_EQUAL(gp_ecka_card_3a02(x.m2, x.m2_len, dp_pub, rc2, 16, w.ecasd, x.dr, NULL, 0, &crt, &keys, out,
					  sizeof(out)), -EKEYREJECTED);
	/* signed by someone else */
	CU_ASSERT_EQUAL(gp_ecka_card_3a02(x.m2, x.m2_len, other.dp, x.rc, 16, w.ecasd, x.dr, NULL, 0, &crt, &keys,
					  out, sizeof(out)), -EKEYREJECTED);
	/* DR requested but the caller gave none */
	CU_ASSERT_EQUAL(gp_ecka_card_3a02(x.m2, x.m2_len, dp_pub, x.rc, 16, w.ecasd, NULL, NULL, 0, &crt, &keys, out,
					  sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(gp_ecka_card_3a02(x.m2, x.m2_len, dp_pub, x.rc, 16, w.ecasd, x.dr, NULL, 0, &crt, &keys, out,
					  10), -EMSGSIZE);
}

static void test_neg_receipt(void)
{
	struct world w;
	struct exchange x;
	struct gp_ecka_keys keys;
	uint8_t t[64];
	int i, res;

	make_world(&w, GP_CURVE_NIST_P256);
	run_exchange(&w, &x, 0x0A, GP_ECKA_KU_THREE_KEYS);
	for (i = 0; i < x.ans_len; i++) {
		memcpy(t, x.ans, x.ans_len);
		t[i] ^= 0x20;
		res = gp_ecka_host_finish(&x.crt, x.esk, w.ecasd, t, x.ans_len, g_sin, sizeof(g_sin), &keys);
		CU_ASSERT(res == -EKEYREJECTED || res == -EBADMSG);
	}
	for (i = 0; i < x.ans_len; i++) {
		res = gp_ecka_host_finish(&x.crt, x.esk, w.ecasd, x.ans, i, g_sin, sizeof(g_sin), &keys);
		CU_ASSERT(res == -EKEYREJECTED || res == -EBADMSG);
	}
	/* a different ECASD key (wrong eUICC) */
	res = gp_ecka_host_finish(&x.crt, x.esk, gen(GP_CURVE_NIST_P256), x.ans, x.ans_len, g_sin, sizeof(g_sin),
				  &keys);
	CU_ASSERT_EQUAL(res, -EKEYREJECTED);
	/* receipt without DR although DR was requested */
	res = gp_ecka_host_finish(&x.crt, x.esk, w.ecasd, x.ans + 18, 18, g_sin, sizeof(g_sin), &keys);
	CU_ASSERT_EQUAL(res, -EBADMSG);
}

static void test_neg_step1(void)
{
	struct world w, other;
	struct gp_cert *c;
	uint8_t m1[512], ans[64], rc[16] = { 0 }, *der;
	size_t len;
	int l;

	make_world(&w, GP_CURVE_NIST_P256);
	make_world(&other, GP_CURVE_NIST_P256);
	l = gp_ecka_build_3a01(w.dp_der, w.dp_len, m1, sizeof(m1));
	/* wrong entity type expected (an SM-SR certificate wanted) */
	CU_ASSERT_EQUAL(gp_ecka_card_3a01(g_test_ctx, m1, l, w.ci_c, NOW, GP_CERT_ENTITY_SMSR, rc, 16, &c, ans,
					  sizeof(ans)), -EACCES);
	/* expired */
	CU_ASSERT_EQUAL(gp_ecka_card_3a01(g_test_ctx, m1, l, w.ci_c, (time_t)22000 * 86400, 1, rc, 16, &c, ans,
					  sizeof(ans)), -EKEYEXPIRED);
	/* another CI with the same name */
	CU_ASSERT_EQUAL(gp_ecka_card_3a01(g_test_ctx, m1, l, other.ci_c, NOW, 1, rc, 16, &c, ans, sizeof(ans)),
			-EKEYREJECTED);
	/* a certificate from an unknown CA */
	make_cert(w.dp, w.ci, "XX", "SMDP", 1, (struct gp_cert_date){ 2030, 1, 1 }, &der, &len);
	l = gp_ecka_build_3a01(der, len, m1, sizeof(m1));
	CU_ASSERT_EQUAL(gp_ecka_card_3a01(g_test_ctx, m1, l, w.ci_c, NOW, 1, rc, 16, &c, ans, sizeof(ans)), -ENOKEY);
	/* truncated */
	for (len = 0; len < (size_t)l; len++) {
		int res = gp_ecka_card_3a01(g_test_ctx, m1, len, w.ci_c, NOW, 1, rc, 16, &c, ans, sizeof(ans));

		CU_ASSERT_EQUAL(res, -EBADMSG);
	}
	/* long DGI length form ('FF' + 2 bytes) */
	{
		uint8_t big[300] = { 0 }, out[310];

		CU_ASSERT_EQUAL(gp_ecka_build_3a01(big, 300, out, sizeof(out)), 305);
		CU_ASSERT_EQUAL(out[2], 0xFF);
		CU_ASSERT_EQUAL(out[3], 0x01);
		CU_ASSERT_EQUAL(out[4], 0x2C);
		CU_ASSERT_EQUAL(gp_ecka_build_3a01(big, 300, out, 304), -EMSGSIZE);
	}
}

static void test_curve_mismatch(void)
{
	struct world w;
	struct exchange x;
	struct gp_ecka_crt crt;
	struct gp_ecka_keys keys;
	EVP_PKEY *bp_ecasd = gen(GP_CURVE_BRAINPOOL_P256R1);
	uint8_t out[64];

	make_world(&w, GP_CURVE_NIST_P256);
	run_exchange(&w, &x, 0x0A, GP_ECKA_KU_THREE_KEYS);
	/* an ECASD on brainpool receiving a P-256 ephemeral key */
	CU_ASSERT_EQUAL(gp_ecka_card_3a02(x.m2, x.m2_len, w.dp, x.rc, 16, bp_ecasd, x.dr, NULL, 0, &crt, &keys, out,
					  sizeof(out)), -ENOTSUP);
}

static const struct test_case ecka_cases[] = {
	TEST_CASE(test_crt_encoding),
	TEST_CASE(test_x963_kdf),
	TEST_CASE(test_ecdh),
	TEST_CASE(test_full_exchange),
	TEST_CASE(test_key_layout),
	TEST_CASE(test_keys_feed_scp03),
	TEST_CASE(test_download_with_new_keys),
	TEST_CASE(test_neg_step2),
	TEST_CASE(test_neg_receipt),
	TEST_CASE(test_neg_step1),
	TEST_CASE(test_curve_mismatch),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "ecka", NULL, NULL, ecka_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
