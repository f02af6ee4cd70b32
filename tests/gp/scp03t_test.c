/* Unit tests for SCP03t: TLV commands, profile split + card-side reassembly with a TS.48 profile package,
 * cross-check with the SCP03 vectors, negative cases (tampering, reordering, replay, truncation). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/gp/scp03.h>
#include <sgp02/gp/scp03t.h>

#include "testlib.h"

static const uint8_t g_aid[] = { 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00,
				 0x00, 0x10, 0x00 };

static void keys_default(struct gp_scp03_keys *k)
{
	unsigned int i;

	memset(k, 0, sizeof(*k));
	k->kvn = 0x30;
	k->key_len = 16;
	for (i = 0; i < 16; i++) {
		k->enc[i] = i;
		k->mac[i] = 0x10 + i;
		k->dek[i] = 0x20 + i;
	}
}

static uint8_t *load_profile(size_t *len)
{
	char path[512];
	uint8_t *p;

	snprintf(path, sizeof(path), "%s/vectors/profiles/ts48v7-SAIP2.3_BERTLV_SUCI.der", test_shared_dir());
	p = test_read_file(path, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_FATAL(*len > 10000);
	return p;
}

/* Open a channel between host session s and card c at security level sl. */
static void open_channel(struct gp_scp03_session *s, struct gp_scp03t_card *c, const struct gp_scp03_keys *k,
			 uint8_t sl)
{
	uint8_t hc[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 }, cmd[32], out[64], *resp;
	size_t resp_len;
	int l;

	l = gp_scp03t_init_update(s, k->kvn, 0x00, hc, cmd, sizeof(cmd));
	CU_ASSERT_EQUAL_FATAL(l, 12);
	CU_ASSERT_EQUAL_FATAL(gp_scp03t_card_process(c, cmd, l, &resp, &resp_len), 0);
	CU_ASSERT_EQUAL_FATAL(resp_len, 34);
	CU_ASSERT_EQUAL(resp[0], 0x84);
	CU_ASSERT_EQUAL(resp[14], 0x70);
	CU_ASSERT_EQUAL_FATAL(gp_scp03t_process_iu_resp(s, k, resp, resp_len), 0);
	l = gp_scp03t_ext_auth(s, sl, cmd, sizeof(cmd));
	CU_ASSERT_EQUAL_FATAL(l, 19);
	CU_ASSERT_EQUAL_FATAL(gp_scp03t_card_process(c, cmd, l, &resp, &resp_len), 0);
	CU_ASSERT_FATAL(gp_scp03t_card_authenticated(c));
	CU_ASSERT_EQUAL(resp[0], 0x85);
	CU_ASSERT_EQUAL(gp_scp03t_unprotect_resp(s, resp, resp_len, out, sizeof(out)), 0);
}

/* Concatenate all TLVs into one buffer (several TLVs per ES3.SendData). */
static uint8_t *concat(struct gp_scp03t_tlv *t, size_t n, size_t *len)
{
	size_t total = 0, i;
	uint8_t *b;

	for (i = 0; i < n; i++)
		total += t[i].len;
	b = talloc_size(g_test_ctx, total);
	total = 0;
	for (i = 0; i < n; i++) {
		memcpy(b + total, t[i].data, t[i].len);
		total += t[i].len;
	}
	*len = total;
	return b;
}

static void test_profile_roundtrip(void)
{
	static const uint8_t levels[] = { 0x33, 0x13, 0x03, 0x01, 0x11 };
	static const size_t segs[] = { 1024, 1, 15, 16, 17, 255, 1000, 4096 };
	struct gp_scp03_keys k;
	size_t plen, li, si;
	uint8_t *prof = load_profile(&plen);

	keys_default(&k);
	for (li = 0; li < sizeof(levels); li++) {
		for (si = 0; si < sizeof(segs) / sizeof(segs[0]); si++) {
			struct gp_scp03_session s;
			struct gp_scp03t_card *c = gp_scp03t_card_alloc(g_test_ctx, &k, g_aid, sizeof(g_aid), 1);
			struct gp_scp03t_tlv *tlvs;
			size_t n, all_len, resp_len, got_len, i;
			uint8_t *all, *resp;
			const uint8_t *got;

			if (segs[si] == 1 && li > 0)
				continue;	/* one byte per TLV is slow; once is enough */
			CU_ASSERT_PTR_NOT_NULL_FATAL(c);
			open_channel(&s, c, &k, levels[li]);
			CU_ASSERT_EQUAL_FATAL(gp_scp03t_split(g_test_ctx, &s, prof, plen, segs[si], &tlvs, &n), 0);
			CU_ASSERT_EQUAL(n, (plen + segs[si] - 1) / segs[si]);
			for (i = 0; i < n; i++)
				CU_ASSERT_EQUAL(tlvs[i].data[0], 0x86);
			all = concat(tlvs, n, &all_len);
			CU_ASSERT_EQUAL_FATAL(gp_scp03t_card_process(c, all, all_len, &resp, &resp_len), 0);
			CU_ASSERT_EQUAL(resp_len, 2 * n);
			for (i = 0; i < n; i++) {
				CU_ASSERT_EQUAL(resp[2 * i], 0x86);
				CU_ASSERT_EQUAL(resp[2 * i + 1], 0x00);
			}
			got = gp_scp03t_card_profile(c, &got_len);
			CU_ASSERT_EQUAL_FATAL(got_len, plen);
			CU_ASSERT(memcmp(got, prof, plen) == 0);
			talloc_free(tlvs);
			talloc_free(c);
		}
	}
}

/* SendData in several batches, one TLV at a time */
static void test_batches(void)
{
	struct gp_scp03_keys k;
	struct gp_scp03_session s;
	struct gp_scp03t_card *c;
	struct gp_scp03t_tlv *tlvs;
	size_t plen, n, i, rl, gl;
	uint8_t *prof = load_profile(&plen), *resp;

	keys_default(&k);
	c = gp_scp03t_card_alloc(g_test_ctx, &k, g_aid, sizeof(g_aid), 0x10);
	open_channel(&s, c, &k, 0x33);
	CU_ASSERT_EQUAL_FATAL(gp_scp03t_split(g_test_ctx, &s, prof, plen, GP_SCP03T_SEG_DEFAULT, &tlvs, &n), 0);
	CU_ASSERT_EQUAL(n, 13);
	/* with R-ENC the 1024-byte segment is 1040 bytes + 8 MAC: '86 82 04 18' */
	CU_ASSERT_EQUAL(tlvs[0].len, 4 + 1040 + 8);
	CU_ASSERT_EQUAL(tlvs[0].data[1], 0x82);
	CU_ASSERT_EQUAL(tlvs[0].data[2], 0x04);
	CU_ASSERT_EQUAL(tlvs[0].data[3], 0x18);
	for (i = 0; i < n; i++) {
		CU_ASSERT_EQUAL_FATAL(gp_scp03t_card_process(c, tlvs[i].data, tlvs[i].len, &resp, &rl), 0);
		CU_ASSERT_EQUAL(rl, 2);
		CU_ASSERT_EQUAL(gp_scp03t_unprotect_resp(&s, resp, rl, NULL, 0), 0);
	}
	CU_ASSERT(memcmp(gp_scp03t_card_profile(c, &gl), prof, plen) == 0);
	CU_ASSERT_EQUAL(gl, plen);
}

/* The ciphertext of a segment equals SCP03's C-DEC of the same data at the same counter: check against
 * the vector "SCP03_Test_AES128_33" (first wrapped command, counter 1). */
static void test_cross_check_scp03_vector(void)
{
	const char *v = "SCP03_Test_AES128_33";
	const char *seq = test_vector("scp03", v, "sequence (each wrap uses the MAC chaining of the previous)", NULL);
	struct gp_scp03_keys k;
	struct gp_scp03_session s;
	uint8_t *iu_cmd, *iu_resp, out[64];
	const char *p;
	size_t l1, l2;
	static const uint8_t data[] = { 0xBF, 0x3E, 0x03, 0x5C, 0x01, 0x5A };
	int l;

	CU_ASSERT_PTR_NOT_NULL_FATAL(seq);
	keys_default(&k);
	p = strstr(seq, "80503000");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	iu_cmd = test_hex(talloc_strndup(g_test_ctx, p, 28), &l1);
	p = strstr(seq, "0000000000000000000030");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	iu_resp = test_hex(talloc_strndup(g_test_ctx, p, 64), &l2);
	CU_ASSERT_EQUAL_FATAL(gp_scp03t_init_update(&s, 0x30, 0, iu_cmd + 5, out, sizeof(out)), 12);
	/* the card's answer, wrapped as a TLV */
	out[0] = 0x84;
	out[1] = 32;
	memcpy(out + 2, iu_resp, 32);
	CU_ASSERT_EQUAL_FATAL(gp_scp03t_process_iu_resp(&s, &k, out, 34), 0);
	CU_ASSERT_EQUAL_FATAL(gp_scp03t_ext_auth(&s, 0x33, out, sizeof(out)), 19);
	/* host cryptogram as in the vector's EXTERNAL AUTHENTICATE (84 82 33 00 10 <8c36f96bcc00724a> ...) */
	TEST_ASSERT_HEX(out + 3, 8, "8c36f96bcc00724a");
	l = gp_scp03t_protect(&s, data, sizeof(data), out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(l, 2 + 16 + 8);
	TEST_ASSERT_HEX(out + 2, 16, "267a85dfe4a98fca6fb0527e0dfecce4");
}

static void test_response_wrap(void)
{
	struct gp_scp03_keys k;
	struct gp_scp03_session s;
	struct gp_scp03t_card *c;
	uint8_t seg[100], tlv[200], rsp[200], plain[200], t[200], *resp;
	size_t rl;
	int l, rw, i, rc;
	/* an EUICCResponse-like DER blob */
	static const uint8_t eresp[] = { 0x30, 0x07, 0xA0, 0x05, 0x30, 0x03, 0x80, 0x01, 0x00 };

	keys_default(&k);
	c = gp_scp03t_card_alloc(g_test_ctx, &k, g_aid, sizeof(g_aid), 1);
	open_channel(&s, c, &k, 0x33);
	memset(seg, 0x5A, sizeof(seg));
	l = gp_scp03t_protect(&s, seg, sizeof(seg), tlv, sizeof(tlv));
	CU_ASSERT_EQUAL_FATAL(gp_scp03t_card_process(c, tlv, l, &resp, &rl), 0);
	rw = gp_scp03t_card_wrap_resp(c, eresp, sizeof(eresp), rsp, sizeof(rsp));
	CU_ASSERT_EQUAL_FATAL(rw, 2 + 16 + 8);
	CU_ASSERT_EQUAL(gp_scp03t_unprotect_resp(&s, rsp, rw, plain, sizeof(plain)), (int)sizeof(eresp));
	CU_ASSERT(memcmp(plain, eresp, sizeof(eresp)) == 0);
	for (i = 0; i < rw; i++) {
		memcpy(t, rsp, rw);
		t[i] ^= 0x08;
		rc = gp_scp03t_unprotect_resp(&s, t, rw, plain, sizeof(plain));
		CU_ASSERT(rc == -EKEYREJECTED || rc == -EBADMSG || rc == -EREMOTEIO);
	}
	for (i = 0; i < rw; i++) {
		rc = gp_scp03t_unprotect_resp(&s, rsp, i, plain, sizeof(plain));
		CU_ASSERT(rc == -EBADMSG);
	}
	CU_ASSERT_EQUAL(gp_scp03t_unprotect_resp(&s, rsp, rw, plain, 3), -EMSGSIZE);
	/* '9F84' error answer */
	CU_ASSERT_EQUAL(gp_scp03t_unprotect_resp(&s, (const uint8_t *)"\x9F\x84\x01\x02", 4, plain, sizeof(plain)),
			-EREMOTEIO);
	CU_ASSERT_EQUAL(gp_scp03t_error_tag((const uint8_t *)"\x9F\x84\x01\x02", 4), 0x9F84);
	CU_ASSERT_EQUAL(gp_scp03t_error_tag((const uint8_t *)"\x86\x00", 2), -EBADMSG);
	/* the error seen on a real eUICC (stackoverflow q. 67604329): 9F46 01 02 */
	CU_ASSERT_EQUAL(gp_scp03t_error_tag((const uint8_t *)"\x9F\x46\x01\x02", 4), 0x9F46);
	CU_ASSERT_EQUAL(gp_scp03t_process_iu_resp(&s, &k, (const uint8_t *)"\x9F\x84\x00", 3), -EREMOTEIO);
}

/* Tampering with a segment: rejected, and the channel is closed so the following segments fail too. */
static void test_tamper(void)
{
	struct gp_scp03_keys k;
	struct gp_scp03_session s;
	struct gp_scp03t_card *c;
	uint8_t seg[40], tlv[3][100], t[100], *resp;
	size_t rl;
	int l[3], i, j, rc;

	keys_default(&k);
	for (i = 0; i < 40; i++)
		seg[i] = i;
	c = gp_scp03t_card_alloc(g_test_ctx, &k, g_aid, sizeof(g_aid), 1);
	open_channel(&s, c, &k, 0x33);
	for (j = 0; j < 3; j++)
		l[j] = gp_scp03t_protect(&s, seg, sizeof(seg), tlv[j], sizeof(tlv[j]));
	/* every byte of the first TLV flipped, each time on a fresh channel */
	for (i = 0; i < l[0]; i++) {
		struct gp_scp03t_card *c2 = gp_scp03t_card_alloc(g_test_ctx, &k, g_aid, sizeof(g_aid), 1);
		struct gp_scp03_session s2;
		uint8_t tl[100];
		int ll;

		open_channel(&s2, c2, &k, 0x33);
		ll = gp_scp03t_protect(&s2, seg, sizeof(seg), tl, sizeof(tl));
		memcpy(t, tl, ll);
		t[i] ^= 0x80;
		rc = gp_scp03t_card_process(c2, t, ll, &resp, &rl);
		CU_ASSERT(rc == -EKEYREJECTED || rc == -EBADMSG || rc == -EMSGSIZE);
		CU_ASSERT(!gp_scp03t_card_authenticated(c2));
		talloc_free(c2);
	}
	/* reordering: the second segment first */
	rc = gp_scp03t_card_process(c, tlv[1], l[1], &resp, &rl);
	CU_ASSERT_EQUAL(rc, -EKEYREJECTED);
	/* the channel is closed now: even the right segment is refused */
	CU_ASSERT_EQUAL(gp_scp03t_card_process(c, tlv[0], l[0], &resp, &rl), -EBADMSG);
	/* replay and drop on a fresh channel */
	talloc_free(c);
	c = gp_scp03t_card_alloc(g_test_ctx, &k, g_aid, sizeof(g_aid), 5);
	open_channel(&s, c, &k, 0x33);
	for (j = 0; j < 3; j++)
		l[j] = gp_scp03t_protect(&s, seg, sizeof(seg), tlv[j], sizeof(tlv[j]));
	CU_ASSERT_EQUAL(gp_scp03t_card_process(c, tlv[0], l[0], &resp, &rl), 0);
	CU_ASSERT_EQUAL(gp_scp03t_card_process(c, tlv[0], l[0], &resp, &rl), -EKEYREJECTED);	/* replay */
	open_channel(&s, c, &k, 0x33);
	for (j = 0; j < 3; j++)
		l[j] = gp_scp03t_protect(&s, seg, sizeof(seg), tlv[j], sizeof(tlv[j]));
	CU_ASSERT_EQUAL(gp_scp03t_card_process(c, tlv[0], l[0], &resp, &rl), 0);
	CU_ASSERT_EQUAL(gp_scp03t_card_process(c, tlv[2], l[2], &resp, &rl), -EKEYREJECTED);	/* dropped #1 */
	/* truncation of a TLV at every length, on fresh channels */
	for (i = 0; i < l[0]; i++) {
		struct gp_scp03t_card *c2 = gp_scp03t_card_alloc(g_test_ctx, &k, g_aid, sizeof(g_aid), 1);
		struct gp_scp03_session s2;
		uint8_t tl[100];
		int ll;

		open_channel(&s2, c2, &k, 0x33);
		ll = gp_scp03t_protect(&s2, seg, sizeof(seg), tl, sizeof(tl));
		rc = gp_scp03t_card_process(c2, tl, i, &resp, &rl);
		CU_ASSERT(i == 0 ? rc == 0 : (rc == -EKEYREJECTED || rc == -EBADMSG));
		(void)ll;
		talloc_free(c2);
	}
}

static void test_state_and_keys(void)
{
	struct gp_scp03_keys k, bad;
	struct gp_scp03_session s;
	struct gp_scp03t_card *c;
	uint8_t hc[8] = { 0 }, cmd[64], seg[4] = { 1, 2, 3, 4 }, *resp;
	size_t rl;
	int l;

	keys_default(&k);
	c = gp_scp03t_card_alloc(g_test_ctx, &k, g_aid, sizeof(g_aid), 1);
	/* a segment before any INITIALIZE UPDATE */
	CU_ASSERT_EQUAL(gp_scp03t_card_process(c, (const uint8_t *)"\x86\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00", 11,
					       &resp, &rl), -EBADMSG);
	/* unknown tag */
	CU_ASSERT_EQUAL(gp_scp03t_card_process(c, (const uint8_t *)"\x87\x00", 2, &resp, &rl), -EBADMSG);
	/* wrong KVN */
	l = gp_scp03t_init_update(&s, 0x31, 0, hc, cmd, sizeof(cmd));
	CU_ASSERT_EQUAL(gp_scp03t_card_process(c, cmd, l, &resp, &rl), -EBADMSG);
	/* host with the wrong keys: the card cryptogram does not verify */
	bad = k;
	bad.mac[3] ^= 1;
	l = gp_scp03t_init_update(&s, 0x30, 0, hc, cmd, sizeof(cmd));
	CU_ASSERT_EQUAL_FATAL(gp_scp03t_card_process(c, cmd, l, &resp, &rl), 0);
	CU_ASSERT_EQUAL(gp_scp03t_process_iu_resp(&s, &bad, resp, rl), -EKEYREJECTED);
	/* protecting before authentication is a caller error */
	CU_ASSERT_EQUAL(gp_scp03t_protect(&s, seg, 4, cmd, sizeof(cmd)), -EINVAL);
	/* each IU uses a new sequence counter -> a new card challenge */
	{
		uint8_t r1[34], r2[34];

		l = gp_scp03t_init_update(&s, 0x30, 0, hc, cmd, sizeof(cmd));
		gp_scp03t_card_process(c, cmd, l, &resp, &rl);
		memcpy(r1, resp, 34);
		gp_scp03t_card_process(c, cmd, l, &resp, &rl);
		memcpy(r2, resp, 34);
		CU_ASSERT(memcmp(r1 + 15, r2 + 15, 8) != 0);
		CU_ASSERT(r1[33] + 1 == r2[33]);
	}
	/* split argument checks */
	{
		struct gp_scp03t_tlv *t;
		size_t n;

		CU_ASSERT_EQUAL(gp_scp03t_split(g_test_ctx, &s, seg, 4, 0, &t, &n), -EINVAL);
		CU_ASSERT_EQUAL(gp_scp03t_split(g_test_ctx, &s, seg, 4, GP_SCP03T_SEG_MAX + 1, &t, &n), -EMSGSIZE);
	}
}

/* SendData batching: TLVs are kept whole, in order, and the card accepts the batches one by one */
static void test_batching(void)
{
	struct gp_scp03_keys k;
	struct gp_scp03_session s;
	struct gp_scp03t_card *c;
	struct gp_scp03t_tlv *tlvs, *b;
	size_t plen, n, nb, i, rl, gl, total = 0;
	uint8_t *prof = load_profile(&plen), *resp;

	keys_default(&k);
	c = gp_scp03t_card_alloc(g_test_ctx, &k, g_aid, sizeof(g_aid), 1);
	open_channel(&s, c, &k, 0x33);
	CU_ASSERT_EQUAL_FATAL(gp_scp03t_split(g_test_ctx, &s, prof, plen, 1000, &tlvs, &n), 0);
	CU_ASSERT_EQUAL(gp_scp03t_batch(g_test_ctx, tlvs, n, 1000, &b, &nb), -EMSGSIZE);
	CU_ASSERT_EQUAL_FATAL(gp_scp03t_batch(g_test_ctx, tlvs, n, 3500, &b, &nb), 0);
	/* 12385 bytes: 12 segments of 1000 (protected: 86 82 03F8 + 1008 + 8 = 1020 bytes) and one of 385 (412):
	 * three full ones per 3500-byte batch, the short last one fits into the fourth batch */
	CU_ASSERT_EQUAL(n, 13);
	CU_ASSERT_EQUAL(tlvs[0].len, 1020);
	CU_ASSERT_EQUAL(nb, 4);
	for (i = 0; i < nb; i++) {
		CU_ASSERT(b[i].len <= 3500);
		total += b[i].len;
		CU_ASSERT_EQUAL_FATAL(gp_scp03t_card_process(c, b[i].data, b[i].len, &resp, &rl), 0);
	}
	for (i = 0; i < n; i++)
		total -= tlvs[i].len;
	CU_ASSERT_EQUAL(total, 0);
	CU_ASSERT(memcmp(gp_scp03t_card_profile(c, &gl), prof, plen) == 0);
	CU_ASSERT_EQUAL(gl, plen);
	CU_ASSERT_EQUAL(gp_scp03t_batch(g_test_ctx, tlvs, 0, 3500, &b, &nb), -EINVAL);
}

static const struct test_case scp03t_cases[] = {
	TEST_CASE(test_profile_roundtrip),
	TEST_CASE(test_batches),
	TEST_CASE(test_cross_check_scp03_vector),
	TEST_CASE(test_response_wrap),
	TEST_CASE(test_tamper),
	TEST_CASE(test_state_and_keys),
	TEST_CASE(test_batching),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "scp03t", NULL, NULL, scp03t_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
