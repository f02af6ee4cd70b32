/* Tests for remote APDU scripts (ETSI TS 102 226 §5). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/ota/rapdu.h>

#include "testlib.h"

/* GET DATA FF21 (case 2) and SELECT 3F00 (case 3) */
static const uint8_t apdu_getdata[] = { 0x80, 0xCA, 0xFF, 0x21, 0x00 };
static const uint8_t apdu_select[] = { 0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00 };

static void test_len_codec(void)
{
	static const struct {
		size_t len;
		const char *hex;
	} v[] = {
		{ 0, "00" }, { 0x7F, "7F" }, { 0x80, "8180" }, { 0xFF, "81FF" }, { 0x100, "820100" },
		{ 0xFFFF, "82FFFF" },
	};
	uint8_t b[3];
	size_t l;
	unsigned int i;
	int n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = ota_rapdu_len_encode(b, sizeof(b), v[i].len);
		CU_ASSERT_EQUAL(n, ota_rapdu_len_size(v[i].len));
		TEST_ASSERT_HEX(b, n > 0 ? n : 0, v[i].hex);
		CU_ASSERT_EQUAL(ota_rapdu_len_decode(b, n, &l), n);
		CU_ASSERT_EQUAL(l, v[i].len);
	}
	CU_ASSERT_EQUAL(ota_rapdu_len_size(0x10000), -EMSGSIZE);
	CU_ASSERT_EQUAL(ota_rapdu_len_encode(b, sizeof(b), 0x10000), -EMSGSIZE);
	CU_ASSERT_EQUAL(ota_rapdu_len_encode(b, 2, 0x100), -EMSGSIZE);
	/* non-minimal long form is accepted */
	b[0] = 0x81; b[1] = 0x05;
	CU_ASSERT_EQUAL(ota_rapdu_len_decode(b, 2, &l), 2);
	CU_ASSERT_EQUAL(l, 5);
	/* truncated, indefinite, unsupported forms */
	CU_ASSERT_EQUAL(ota_rapdu_len_decode(b, 1, &l), -EBADMSG);
	b[0] = 0x82;
	CU_ASSERT_EQUAL(ota_rapdu_len_decode(b, 2, &l), -EBADMSG);
	b[0] = 0x80;
	CU_ASSERT_EQUAL(ota_rapdu_len_decode(b, 3, &l), -EBADMSG);
	b[0] = 0x83;
	CU_ASSERT_EQUAL(ota_rapdu_len_decode(b, 3, &l), -EBADMSG);
	CU_ASSERT_EQUAL(ota_rapdu_len_decode(b, 0, &l), -EBADMSG);
}

static void test_apdu_check(void)
{
	size_t len;
	uint8_t *a;

	CU_ASSERT_EQUAL(ota_rapdu_apdu_check(apdu_getdata, 4), 0);
	CU_ASSERT_EQUAL(ota_rapdu_apdu_check(apdu_getdata, 5), 0);
	CU_ASSERT_EQUAL(ota_rapdu_apdu_check(apdu_select, 7), 0);
	CU_ASSERT_EQUAL(ota_rapdu_apdu_check(apdu_getdata, 3), -EBADMSG);
	a = test_hex("00A4040002 3F00 00", &len);	/* case 4 */
	CU_ASSERT_EQUAL(ota_rapdu_apdu_check(a, len), 0);
	CU_ASSERT_EQUAL(ota_rapdu_apdu_check(a, 6), -EBADMSG);
	a = test_hex("00A4040002 3F00 00 00", &len);
	CU_ASSERT_EQUAL(ota_rapdu_apdu_check(a, len), -EBADMSG);
	a = test_hex("80E20000 000003 010203", &len);	/* extended case 3 */
	CU_ASSERT_EQUAL(ota_rapdu_apdu_check(a, len), 0);
	a = test_hex("80E20000 000003 010203 0000", &len);	/* extended case 4 */
	CU_ASSERT_EQUAL(ota_rapdu_apdu_check(a, len), 0);
	a = test_hex("80CA0000 000100", &len);	/* extended case 2 */
	CU_ASSERT_EQUAL(ota_rapdu_apdu_check(a, len), 0);
	a = test_hex("80E20000 000000 01", &len);
	CU_ASSERT_EQUAL(ota_rapdu_apdu_check(a, len), -EBADMSG);
	a = test_hex("80E20000 0000", &len);
	CU_ASSERT_EQUAL(ota_rapdu_apdu_check(a, len), -EBADMSG);
	CU_ASSERT_EQUAL(ota_rapdu_apdu_check(NULL, 5), -EBADMSG);
}

static void test_cmd_build(void)
{
	const struct ota_rapdu_apdu apdus[] = {
		{ apdu_getdata, sizeof(apdu_getdata) },
		{ apdu_select, sizeof(apdu_select) },
	};
	uint8_t *out;
	size_t len;

	/* the single-command HTTP body seen in a public SCP81 test: AE 80 22 05 <apdu> 00 00 */
	CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, apdus, 1, OTA_RAPDU_FMT_INDEFINITE, OTA_RAPDU_CHAIN_NONE,
						  &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "ae80220580caff21000000");

	CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, apdus, 2, OTA_RAPDU_FMT_DEFINITE, OTA_RAPDU_CHAIN_NONE,
						  &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "AA10 2205 80CAFF2100 2207 00A40400023F00");

	CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, apdus, 2, OTA_RAPDU_FMT_DEFINITE, OTA_RAPDU_CHAIN_FIRST,
						  &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "AA13 830101 2205 80CAFF2100 2207 00A40400023F00");

	CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, apdus, 2, OTA_RAPDU_FMT_INDEFINITE, OTA_RAPDU_CHAIN_LAST,
						  &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "AE80 830103 2205 80CAFF2100 2207 00A40400023F00 0000");

	CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, apdus, 2, OTA_RAPDU_FMT_COMPACT, OTA_RAPDU_CHAIN_NONE,
						  &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "80CAFF2100 00A40400023F00");

	/* compact: no chaining, no empty script */
	CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, apdus, 2, OTA_RAPDU_FMT_COMPACT, OTA_RAPDU_CHAIN_FIRST,
						  &out, &len), -EINVAL);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, apdus, 0, OTA_RAPDU_FMT_COMPACT, OTA_RAPDU_CHAIN_NONE,
						  &out, &len), -EINVAL);
	/* bad chaining value, bad format, malformed APDU */
	CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, apdus, 2, OTA_RAPDU_FMT_DEFINITE, 0x04, &out, &len),
			-EINVAL);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, apdus, 2, 7, OTA_RAPDU_CHAIN_NONE, &out, &len), -EINVAL);
	{
		const struct ota_rapdu_apdu bad = { apdu_select, 6 };

		CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, &bad, 1, OTA_RAPDU_FMT_DEFINITE,
							  OTA_RAPDU_CHAIN_NONE, &out, &len), -EINVAL);
	}
	/* an empty expanded script is legal */
	CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, NULL, 0, OTA_RAPDU_FMT_DEFINITE, OTA_RAPDU_CHAIN_NONE,
						  &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "AA00");
}

static void test_cmd_build_actions(void)
{
	const uint8_t ia[] = { 0x01 };
	struct ota_rapdu_cmd_item items[] = {
		{ OTA_RAPDU_CITEM_IMMEDIATE_ACTION, ia, 1 },
		{ OTA_RAPDU_CITEM_CAPDU, apdu_getdata, sizeof(apdu_getdata) },
		{ OTA_RAPDU_CITEM_ERROR_ACTION, NULL, 0 },
	};
	struct ota_rapdu_cmd_script s = { .format = OTA_RAPDU_FMT_DEFINITE, .chaining = OTA_RAPDU_CHAIN_FIRST_KEEP,
					  .num_items = 3, .items = items };
	struct ota_rapdu_cmd_script *p;
	uint8_t *out;
	size_t len;

	CU_ASSERT_EQUAL(ota_rapdu_cmd_build(g_test_ctx, &s, &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "AA0F 830111 810101 2205 80CAFF2100 8200");
	CU_ASSERT_EQUAL(ota_rapdu_cmd_parse(g_test_ctx, out, len, &p), 0);
	CU_ASSERT_EQUAL(p->format, OTA_RAPDU_FMT_DEFINITE);
	CU_ASSERT_EQUAL(p->chaining, OTA_RAPDU_CHAIN_FIRST_KEEP);
	CU_ASSERT_EQUAL(p->num_items, 3);
	CU_ASSERT_EQUAL(p->items[0].type, OTA_RAPDU_CITEM_IMMEDIATE_ACTION);
	TEST_ASSERT_HEX(p->items[0].data, p->items[0].len, "01");
	CU_ASSERT_EQUAL(p->items[1].type, OTA_RAPDU_CITEM_CAPDU);
	TEST_ASSERT_HEX(p->items[1].data, p->items[1].len, "80CAFF2100");
	CU_ASSERT_EQUAL(p->items[2].type, OTA_RAPDU_CITEM_ERROR_ACTION);
	CU_ASSERT_EQUAL(p->items[2].len, 0);

	/* compact cannot carry actions */
	s.format = OTA_RAPDU_FMT_COMPACT;
	s.chaining = OTA_RAPDU_CHAIN_NONE;
	CU_ASSERT_EQUAL(ota_rapdu_cmd_build(g_test_ctx, &s, &out, &len), -EINVAL);
	/* unknown item type */
	s.format = OTA_RAPDU_FMT_INDEFINITE;
	items[0].type = 0x23;
	CU_ASSERT_EQUAL(ota_rapdu_cmd_build(g_test_ctx, &s, &out, &len), -EINVAL);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_build(g_test_ctx, NULL, &out, &len), -EINVAL);
}

/* A script with items longer than 127 / 255 bytes uses the 81 / 82 length forms. */
static void test_cmd_long_forms(void)
{
	uint8_t big[5 + 200], big2[5 + 250];
	struct ota_rapdu_apdu apdus[2];
	struct ota_rapdu_cmd_script *p;
	uint8_t *out;
	size_t len;
	int f;

	memset(big, 0x5A, sizeof(big));
	big[4] = 200;
	memset(big2, 0xA5, sizeof(big2));
	big2[4] = 250;
	apdus[0] = (struct ota_rapdu_apdu){ big, sizeof(big) };
	apdus[1] = (struct ota_rapdu_apdu){ big2, sizeof(big2) };

	CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, apdus, 1, OTA_RAPDU_FMT_DEFINITE, OTA_RAPDU_CHAIN_NONE,
						  &out, &len), 0);
	/* AA 81 D0 22 81 CD ... */
	CU_ASSERT_EQUAL(len, 3 + 3 + 205);
	TEST_ASSERT_HEX(out, 6, "AA81D02281CD");

	CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, apdus, 2, OTA_RAPDU_FMT_DEFINITE, OTA_RAPDU_CHAIN_NONE,
						  &out, &len), 0);
	/* content = 3+205 + 3+255 = 466 = 0x1D2 */
	CU_ASSERT_EQUAL(len, 4 + 466);
	TEST_ASSERT_HEX(out, 7, "AA8201D22281CD");
	TEST_ASSERT_HEX(out + 4 + 208, 3, "2281FF");

	for (f = OTA_RAPDU_FMT_DEFINITE; f <= OTA_RAPDU_FMT_INDEFINITE; f++) {
		CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, apdus, 2, f, OTA_RAPDU_CHAIN_NONE, &out, &len),
				0);
		CU_ASSERT_EQUAL(ota_rapdu_cmd_parse(g_test_ctx, out, len, &p), 0);
		CU_ASSERT_EQUAL_FATAL(p->num_items, 2);
		CU_ASSERT_EQUAL(p->format, f);
		CU_ASSERT_EQUAL(p->items[0].len, sizeof(big));
		CU_ASSERT(memcmp(p->items[0].data, big, sizeof(big)) == 0);
		CU_ASSERT_EQUAL(p->items[1].len, sizeof(big2));
		CU_ASSERT(memcmp(p->items[1].data, big2, sizeof(big2)) == 0);
	}
}

static void test_cmd_parse(void)
{
	struct ota_rapdu_cmd_script *p;
	uint8_t *b;
	size_t len;

	b = test_hex("ae80220580caff21000000", &len);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_parse(g_test_ctx, b, len, &p), 0);
	CU_ASSERT_EQUAL(p->format, OTA_RAPDU_FMT_INDEFINITE);
	CU_ASSERT_EQUAL(p->chaining, OTA_RAPDU_CHAIN_NONE);
	CU_ASSERT_EQUAL_FATAL(p->num_items, 1);
	TEST_ASSERT_HEX(p->items[0].data, p->items[0].len, "80caff2100");

	b = test_hex("AA13 830102 2205 80CAFF2100 2207 00A40400023F00", &len);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_parse(g_test_ctx, b, len, &p), 0);
	CU_ASSERT_EQUAL(p->chaining, OTA_RAPDU_CHAIN_NEXT);
	CU_ASSERT_EQUAL(p->num_items, 2);

	/* non-minimal long form length of the template */
	b = test_hex("AA8107 2205 80CAFF2100", &len);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_parse(g_test_ctx, b, len, &p), 0);
	b = test_hex("AE80 0000", &len);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_parse(g_test_ctx, b, len, &p), 0);
	CU_ASSERT_EQUAL(p->num_items, 0);
}

struct neg {
	const char *hex;
	int rc;
	const char *why;
};

static void test_cmd_parse_negative(void)
{
	static const struct neg v[] = {
		{ "AB07 2205 80CAFF2100", -EBADMSG, "response template" },
		{ "2205 80CAFF2100", -EBADMSG, "no template" },
		{ "AA08 2205 80CAFF2100", -EMSGSIZE, "template length exceeds buffer" },
		{ "AA06 2205 80CAFF2100", -EBADMSG, "item exceeds template: trailing byte" },
		{ "AA07 2205 80CAFF2100 00", -EBADMSG, "trailing byte" },
		{ "AA07 2206 80CAFF2100", -EMSGSIZE, "item length exceeds template" },
		{ "AA07 2405 80CAFF2100", -EBADMSG, "unknown tag" },
		{ "AA08 2206 80CAFF210000", -EBADMSG, "malformed C-APDU" },
		{ "AA05 2203 80CAFF", -EBADMSG, "C-APDU too short" },
		{ "AA0A 2205 80CAFF2100 830101", -EBADMSG, "chaining not first" },
		{ "AA06 830101 830102", -EBADMSG, "chaining twice" },
		{ "AA03 830104", -EBADMSG, "unknown chaining value" },
		{ "AA04 83020101", -EBADMSG, "chaining length" },
		{ "AA02 8380", -EBADMSG, "indefinite item length" },
		{ "AA03 828300", -EBADMSG, "unsupported length form" },
		{ "AE81 2205 80CAFF2100 0000", -EBADMSG, "AE without 80" },
		{ "AE80 2205 80CAFF2100", -EBADMSG, "missing end-of-contents" },
		{ "AE80 2205 80CAFF2100 00", -EBADMSG, "half end-of-contents" },
		{ "AE80 2205 80CAFF2100 0000 00", -EBADMSG, "byte after end-of-contents" },
		{ "AE80 2205 80CAFF2100 0000 2205 80CAFF2100", -EBADMSG, "item after end-of-contents" },
		{ "AA", -EBADMSG, "tag only" },
		{ "AA81", -EBADMSG, "truncated length" },
		{ "AA82 0100", -EMSGSIZE, "long length exceeds" },
	};
	struct ota_rapdu_cmd_script *p = NULL;
	unsigned int i;
	uint8_t *b;
	size_t len;
	int rc;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		b = test_hex(v[i].hex, &len);
		rc = ota_rapdu_cmd_parse(g_test_ctx, b, len, &p);
		if (rc != v[i].rc)
			printf("\n%s (%s): rc=%d expected %d\n", v[i].hex, v[i].why, rc, v[i].rc);
		CU_ASSERT_EQUAL(rc, v[i].rc);
	}
	CU_ASSERT_EQUAL(ota_rapdu_cmd_parse(g_test_ctx, NULL, 0, &p), -EBADMSG);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_parse(g_test_ctx, b, len, NULL), -EINVAL);
}

/* Every proper prefix of a valid script is rejected with -EBADMSG or -EMSGSIZE; every single-byte corruption
 * either parses or is rejected, never crashes (ASan checks the reads). */
static void test_cmd_truncation_and_flips(void)
{
	static const char *valid[] = {
		"AA13 830101 2205 80CAFF2100 2207 00A40400023F00",
		"AE80 830103 2205 80CAFF2100 2207 00A40400023F00 0000",
		"AA0F 830111 810101 2205 80CAFF2100 8200",
	};
	struct ota_rapdu_cmd_script *p;
	unsigned int i;
	size_t n, len, k;
	uint8_t *b, *c;
	int rc;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		b = test_hex(valid[i], &len);
		CU_ASSERT_EQUAL(ota_rapdu_cmd_parse(g_test_ctx, b, len, &p), 0);
		for (n = 0; n < len; n++) {
			c = talloc_memdup(g_test_ctx, b, n ? n : 1);
			rc = ota_rapdu_cmd_parse(g_test_ctx, c, n, &p);
			CU_ASSERT(rc == -EBADMSG || rc == -EMSGSIZE);
			talloc_free(c);
		}
		for (k = 0; k < len; k++) {
			c = talloc_memdup(g_test_ctx, b, len);
			c[k] ^= 0xFF;
			rc = ota_rapdu_cmd_parse(g_test_ctx, c, len, &p);
			CU_ASSERT(rc == 0 || rc == -EBADMSG || rc == -EMSGSIZE);
			talloc_free(c);
		}
	}
}

static void test_split(void)
{
	struct ota_rapdu_apdu apdus[10];
	uint8_t raw[10][25];
	struct ota_rapdu_buf *scripts;
	unsigned int n, i, j, k = 0;
	int f;

	for (i = 0; i < 10; i++) {
		memset(raw[i], i, sizeof(raw[i]));
		raw[i][0] = 0x80;
		raw[i][1] = 0xE2;
		raw[i][4] = 20;
		apdus[i] = (struct ota_rapdu_apdu){ raw[i], sizeof(raw[i]) };
	}

	for (f = OTA_RAPDU_FMT_DEFINITE; f <= OTA_RAPDU_FMT_INDEFINITE; f++) {
		/* all 10 APDUs (27 bytes each as TLVs) fit in 300 bytes: one script, no chaining */
		CU_ASSERT_EQUAL(ota_rapdu_cmd_split(g_test_ctx, apdus, 10, f, 300, false, &scripts, &n), 0);
		CU_ASSERT_EQUAL_FATAL(n, 1);
		CU_ASSERT_EQUAL(scripts[0].len, 4 + 270);	/* AA 82 01 0E or AE 80 ... 00 00 */

		/* budget 100: 3 chaining + 3 x 27 = 84 content per script -> 4 scripts (3+3+3+1) */
		CU_ASSERT_EQUAL(ota_rapdu_cmd_split(g_test_ctx, apdus, 10, f, 100, f == OTA_RAPDU_FMT_INDEFINITE,
						    &scripts, &n), 0);
		CU_ASSERT_EQUAL_FATAL(n, 4);
		k = 0;
		for (i = 0; i < n; i++) {
			struct ota_rapdu_cmd_script *p;

			CU_ASSERT(scripts[i].len <= 100);
			CU_ASSERT_EQUAL_FATAL(ota_rapdu_cmd_parse(g_test_ctx, scripts[i].data, scripts[i].len, &p), 0);
			CU_ASSERT_EQUAL(p->format, f);
			if (i == 0) {
				enum ota_rapdu_chain first = f == OTA_RAPDU_FMT_INDEFINITE ?
							     OTA_RAPDU_CHAIN_FIRST_KEEP : OTA_RAPDU_CHAIN_FIRST;

				CU_ASSERT_EQUAL(p->chaining, first);
			} else if (i == n - 1) {
				CU_ASSERT_EQUAL(p->chaining, OTA_RAPDU_CHAIN_LAST);
			} else {
				CU_ASSERT_EQUAL(p->chaining, OTA_RAPDU_CHAIN_NEXT);
			}
			CU_ASSERT_EQUAL(p->num_items, i == n - 1 ? 1 : 3);
			for (j = 0; j < p->num_items; j++, k++) {
				CU_ASSERT_EQUAL(p->items[j].len, sizeof(raw[k]));
				CU_ASSERT(memcmp(p->items[j].data, raw[k], sizeof(raw[k])) == 0);
			}
		}
		CU_ASSERT_EQUAL(k, 10);
	}
	/* exact fit: definite, 2 APDUs + chaining = 57 content -> 59 bytes */
	CU_ASSERT_EQUAL(ota_rapdu_cmd_split(g_test_ctx, apdus, 10, OTA_RAPDU_FMT_DEFINITE, 59, false, &scripts, &n), 0);
	CU_ASSERT_EQUAL(n, 5);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(scripts[i].len, 59);
	/* a single APDU cannot fit */
	CU_ASSERT_EQUAL(ota_rapdu_cmd_split(g_test_ctx, apdus, 10, OTA_RAPDU_FMT_DEFINITE, 31, false, &scripts, &n),
			-EMSGSIZE);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_split(g_test_ctx, apdus, 10, OTA_RAPDU_FMT_COMPACT, 300, false, &scripts, &n),
			-EINVAL);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_split(g_test_ctx, apdus, 0, OTA_RAPDU_FMT_DEFINITE, 300, false, &scripts, &n),
			-EINVAL);
}

/* A definite template cannot describe more than 65535 content bytes: build refuses, split chains. */
static void test_over_64k(void)
{
	enum { N = 300 };
	struct ota_rapdu_apdu *apdus = talloc_array(g_test_ctx, struct ota_rapdu_apdu, N);
	uint8_t *raw = talloc_zero_size(g_test_ctx, 260);
	struct ota_rapdu_buf *scripts;
	struct ota_rapdu_cmd_script *p;
	unsigned int n, i, total = 0;
	uint8_t *out;
	size_t len;

	raw[1] = 0xE2;
	raw[4] = 255;
	for (i = 0; i < N; i++)
		apdus[i] = (struct ota_rapdu_apdu){ raw, 260 };
	/* 300 x (1 + 3 + 260) = 79200 content bytes */
	CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, apdus, N, OTA_RAPDU_FMT_DEFINITE, OTA_RAPDU_CHAIN_NONE,
						  &out, &len), -EMSGSIZE);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_build_apdus(g_test_ctx, apdus, N, OTA_RAPDU_FMT_INDEFINITE, OTA_RAPDU_CHAIN_NONE,
						  &out, &len), 0);
	CU_ASSERT_EQUAL(len, 4 + 79200);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_split(g_test_ctx, apdus, N, OTA_RAPDU_FMT_DEFINITE, SIZE_MAX, false, &scripts,
					    &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	for (i = 0; i < n; i++) {
		CU_ASSERT(scripts[i].len <= 4 + 0xFFFF);
		CU_ASSERT_EQUAL_FATAL(ota_rapdu_cmd_parse(g_test_ctx, scripts[i].data, scripts[i].len, &p), 0);
		CU_ASSERT_EQUAL(p->chaining, i == 0 ? OTA_RAPDU_CHAIN_FIRST : OTA_RAPDU_CHAIN_LAST);
		total += p->num_items;
	}
	CU_ASSERT_EQUAL(total, N);
	/* (65535 - 3) / 264 = 248 APDUs fit in the first script */
	CU_ASSERT_EQUAL(scripts[0].len, 4 + 3 + 248 * 264);
}

static void test_compact(void)
{
	struct ota_rapdu_cmd_script *p;
	struct ota_rapdu_resp_script *r;
	uint8_t *b, *out;
	size_t len;
	uint16_t sw;

	/* SELECT (case 3), GET RESPONSE (case 2: P3 is Le), STORE DATA */
	b = test_hex("00A40400023F00 00C0000010 80E2900003 3A0300", &len);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_parse_compact(g_test_ctx, b, len, &p), 0);
	CU_ASSERT_EQUAL(p->format, OTA_RAPDU_FMT_COMPACT);
	CU_ASSERT_EQUAL_FATAL(p->num_items, 3);
	TEST_ASSERT_HEX(p->items[0].data, p->items[0].len, "00A40400023F00");
	TEST_ASSERT_HEX(p->items[1].data, p->items[1].len, "00C0000010");
	TEST_ASSERT_HEX(p->items[2].data, p->items[2].len, "80E29000033A0300");
	CU_ASSERT_EQUAL(ota_rapdu_cmd_build(g_test_ctx, p, &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "00A40400023F00 00C0000010 80E2900003 3A0300");

	b = test_hex("00A4040002 3F", &len);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_parse_compact(g_test_ctx, b, len, &p), -EMSGSIZE);
	b = test_hex("00A40400", &len);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_parse_compact(g_test_ctx, b, len, &p), -EBADMSG);
	CU_ASSERT_EQUAL(ota_rapdu_cmd_parse_compact(g_test_ctx, b, 0, &p), -EBADMSG);

	/* response: 2 commands executed, last SW 6A82, no data */
	b = test_hex("02 6A82", &len);
	CU_ASSERT_EQUAL(ota_rapdu_resp_parse_compact(g_test_ctx, b, len, &r), 0);
	CU_ASSERT_EQUAL(r->num_executed, 2);
	CU_ASSERT_EQUAL(ota_rapdu_resp_last_sw(r, &sw), 0);
	CU_ASSERT_EQUAL(sw, 0x6A82);
	CU_ASSERT_EQUAL(r->items[0].len, 0);
	b = test_hex("01 9000 0102", &len);
	CU_ASSERT_EQUAL(ota_rapdu_resp_parse_compact(g_test_ctx, b, len, &r), 0);
	TEST_ASSERT_HEX(r->items[0].data, r->items[0].len, "0102");
	CU_ASSERT_EQUAL(ota_rapdu_resp_build(g_test_ctx, r, &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "01 9000 0102");
	CU_ASSERT_EQUAL(ota_rapdu_resp_parse_compact(g_test_ctx, b, 2, &r), -EBADMSG);
}

static void test_resp(void)
{
	struct ota_rapdu_resp_script *r;
	uint8_t *b, *out;
	size_t len;
	uint16_t sw;

	/* from a public SCP81 test: AF 80 | 80 01 01 | 23 04 9305 9000 | 00 00 */
	b = test_hex("af80800101230493059000 0000", &len);
	CU_ASSERT_EQUAL(ota_rapdu_resp_parse(g_test_ctx, b, len, &r), 0);
	CU_ASSERT_EQUAL(r->format, OTA_RAPDU_FMT_INDEFINITE);
	CU_ASSERT_EQUAL(r->num_executed, 1);
	CU_ASSERT_EQUAL_FATAL(r->num_items, 1);
	CU_ASSERT_EQUAL(r->items[0].type, OTA_RAPDU_RITEM_RAPDU);
	CU_ASSERT_EQUAL(r->items[0].sw, 0x9000);
	TEST_ASSERT_HEX(r->items[0].data, r->items[0].len, "9305");
	CU_ASSERT_EQUAL(ota_rapdu_resp_build(g_test_ctx, r, &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "af80800101230493059000 0000");
	r->format = OTA_RAPDU_FMT_DEFINITE;
	CU_ASSERT_EQUAL(ota_rapdu_resp_build(g_test_ctx, r, &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "AB09 800101 230493059000");

	/* 3 executed, SW only, immediate action response, bad format (wrong length) */
	b = test_hex("AB11 800103 23029000 23026A88 810100 900102", &len);
	CU_ASSERT_EQUAL(ota_rapdu_resp_parse(g_test_ctx, b, len, &r), 0);
	CU_ASSERT_EQUAL(r->num_executed, 3);
	CU_ASSERT_EQUAL_FATAL(r->num_items, 4);
	CU_ASSERT_EQUAL(r->items[0].sw, 0x9000);
	CU_ASSERT_EQUAL(r->items[0].len, 0);
	CU_ASSERT_EQUAL(r->items[1].sw, 0x6A88);
	CU_ASSERT_EQUAL(r->items[2].type, OTA_RAPDU_RITEM_IMMEDIATE_ACTION);
	TEST_ASSERT_HEX(r->items[2].data, r->items[2].len, "00");
	CU_ASSERT_EQUAL(r->items[3].type, OTA_RAPDU_RITEM_BAD_FORMAT);
	CU_ASSERT_EQUAL(r->items[3].code, OTA_RAPDU_BAD_FMT_WRONG_LENGTH);
	CU_ASSERT_STRING_EQUAL(ota_rapdu_bad_format_name(r->items[3].code), "wrong-length");
	CU_ASSERT_EQUAL(ota_rapdu_resp_last_sw(r, &sw), 0);
	CU_ASSERT_EQUAL(sw, 0x6A88);
	CU_ASSERT_EQUAL(ota_rapdu_resp_build(g_test_ctx, r, &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "AB11 800103 23029000 23026A88 810100 900102");

	/* indefinite form without "80" (TS 102 226 Table 5.10a as read by pySim): count = number of R-APDUs */
	b = test_hex("AF80 23029000 23026A82 0000", &len);
	CU_ASSERT_EQUAL(ota_rapdu_resp_parse(g_test_ctx, b, len, &r), 0);
	CU_ASSERT_FALSE(r->has_num_executed);
	CU_ASSERT_EQUAL(r->num_executed, 2);
	CU_ASSERT_EQUAL(ota_rapdu_resp_build(g_test_ctx, r, &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "AF80 23029000 23026A82 0000");
	/* ... but the definite form always carries it */
	r->format = OTA_RAPDU_FMT_DEFINITE;
	CU_ASSERT_EQUAL(ota_rapdu_resp_build(g_test_ctx, r, &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "AB0B 800102 23029000 23026A82");
	b = test_hex("AF80 0000", &len);
	CU_ASSERT_EQUAL(ota_rapdu_resp_parse(g_test_ctx, b, len, &r), 0);
	CU_ASSERT_EQUAL(r->num_items, 0);
	CU_ASSERT_EQUAL(r->num_executed, 0);

	/* script chaining response: no previous script */
	b = test_hex("AB06 800100 830101", &len);
	CU_ASSERT_EQUAL(ota_rapdu_resp_parse(g_test_ctx, b, len, &r), 0);
	CU_ASSERT_EQUAL_FATAL(r->num_items, 1);
	CU_ASSERT_EQUAL(r->items[0].type, OTA_RAPDU_RITEM_SCRIPT_CHAINING);
	CU_ASSERT_EQUAL(r->items[0].code, OTA_RAPDU_CHAIN_RESP_NO_PREVIOUS);
	CU_ASSERT_STRING_EQUAL(ota_rapdu_chain_resp_name(r->items[0].code), "no-previous-script");
	CU_ASSERT_EQUAL(ota_rapdu_resp_build(g_test_ctx, r, &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "AB06 800100 830101");

	/* truncated response data: SW 62F1 ends the script */
	b = test_hex("AB0A 800101 2305 AABBCC62F1", &len);
	CU_ASSERT_EQUAL(ota_rapdu_resp_parse(g_test_ctx, b, len, &r), 0);
	CU_ASSERT_EQUAL(ota_rapdu_resp_last_sw(r, &sw), 0);
	CU_ASSERT_EQUAL(sw, OTA_RAPDU_SW_TRUNCATED);

	/* no R-APDU at all */
	b = test_hex("AB03 800100", &len);
	CU_ASSERT_EQUAL(ota_rapdu_resp_parse(g_test_ctx, b, len, &r), 0);
	CU_ASSERT_EQUAL(ota_rapdu_resp_last_sw(r, &sw), -ENOENT);
	CU_ASSERT_EQUAL(ota_rapdu_resp_last_sw(NULL, &sw), -EINVAL);
}

static void test_resp_negative(void)
{
	static const struct neg v[] = {
		{ "AA03 800101", -EBADMSG, "command template" },
		{ "AB04 23029000", -EBADMSG, "missing 80" },
		{ "AB00", -EBADMSG, "empty: missing 80" },
		{ "AB04 80020101", -EBADMSG, "80 with 2 bytes" },
		{ "AB06 800101 800101", -EBADMSG, "80 twice" },
		{ "AB06 800101 230190", -EBADMSG, "R-APDU of 1 byte" },
		{ "AB07 800101 90020102", -EBADMSG, "bad format length" },
		{ "AB07 800101 24029000", -EBADMSG, "unknown tag" },
		{ "AB07 800101 22029000", -EBADMSG, "C-APDU tag in response" },
		{ "AB08 800101 23029000", -EMSGSIZE, "template length exceeds" },
		{ "AB07 800101 23039000", -EMSGSIZE, "item length exceeds" },
		{ "AF80 800101 23029000", -EBADMSG, "missing end-of-contents" },
		{ "AF80 800101 23029000 0000 00", -EBADMSG, "trailing" },
		{ "AF80 23029000 800101 0000", -EBADMSG, "80 not first" },
		{ "AF80 800101 800101 0000", -EBADMSG, "80 twice (indefinite)" },
		{ "AF80 830201 0000", -EBADMSG, "chaining response length" },
	};
	struct ota_rapdu_resp_script *r;
	unsigned int i;
	uint8_t *b, *c;
	size_t len, n, k;
	int rc;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		b = test_hex(v[i].hex, &len);
		rc = ota_rapdu_resp_parse(g_test_ctx, b, len, &r);
		if (rc != v[i].rc)
			printf("\n%s (%s): rc=%d expected %d\n", v[i].hex, v[i].why, rc, v[i].rc);
		CU_ASSERT_EQUAL(rc, v[i].rc);
	}

	b = test_hex("AF80 800103 23029000 23026A88 810100 900102 0000", &len);
	CU_ASSERT_EQUAL(ota_rapdu_resp_parse(g_test_ctx, b, len, &r), 0);
	for (n = 0; n < len; n++) {
		c = talloc_memdup(g_test_ctx, b, n ? n : 1);
		rc = ota_rapdu_resp_parse(g_test_ctx, c, n, &r);
		CU_ASSERT(rc == -EBADMSG || rc == -EMSGSIZE);
		talloc_free(c);
	}
	for (k = 0; k < len; k++) {
		c = talloc_memdup(g_test_ctx, b, len);
		c[k] ^= 0xFF;
		rc = ota_rapdu_resp_parse(g_test_ctx, c, len, &r);
		CU_ASSERT(rc == 0 || rc == -EBADMSG || rc == -EMSGSIZE);
		talloc_free(c);
	}
}

static void test_resp_build_negative(void)
{
	struct ota_rapdu_resp_item it = { .type = OTA_RAPDU_RITEM_RAPDU, .sw = 0x9000 };
	struct ota_rapdu_resp_script s = { .format = OTA_RAPDU_FMT_COMPACT, .num_items = 0, .items = &it };
	uint8_t *out;
	size_t len;

	CU_ASSERT_EQUAL(ota_rapdu_resp_build(g_test_ctx, &s, &out, &len), -EINVAL);
	s.num_items = 1;
	CU_ASSERT_EQUAL(ota_rapdu_resp_build(g_test_ctx, &s, &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "009000");
	it.type = 0x22;
	s.format = OTA_RAPDU_FMT_DEFINITE;
	CU_ASSERT_EQUAL(ota_rapdu_resp_build(g_test_ctx, &s, &out, &len), -EINVAL);
	s.format = 9;
	CU_ASSERT_EQUAL(ota_rapdu_resp_build(g_test_ctx, &s, &out, &len), -EINVAL);
}

static void test_names(void)
{
	CU_ASSERT_STRING_EQUAL(ota_rapdu_chain_name(OTA_RAPDU_CHAIN_FIRST), "first");
	CU_ASSERT_STRING_EQUAL(ota_rapdu_chain_name(OTA_RAPDU_CHAIN_LAST), "last");
	CU_ASSERT_STRING_EQUAL(ota_rapdu_chain_name(0x42), "unknown");
	CU_ASSERT_STRING_EQUAL(ota_rapdu_bad_format_name(1), "unknown-tag");
	CU_ASSERT_STRING_EQUAL(ota_rapdu_bad_format_name(3), "length-not-found");
	CU_ASSERT_STRING_EQUAL(ota_rapdu_bad_format_name(0), "unknown");
	CU_ASSERT_STRING_EQUAL(ota_rapdu_chain_resp_name(2), "not-supported");
	CU_ASSERT_STRING_EQUAL(ota_rapdu_chain_resp_name(3), "unable-to-process");
	CU_ASSERT_STRING_EQUAL(ota_rapdu_chain_resp_name(4), "unknown");
}

static const struct test_case rapdu_cases[] = {
	TEST_CASE(test_len_codec),
	TEST_CASE(test_apdu_check),
	TEST_CASE(test_cmd_build),
	TEST_CASE(test_cmd_build_actions),
	TEST_CASE(test_cmd_long_forms),
	TEST_CASE(test_cmd_parse),
	TEST_CASE(test_cmd_parse_negative),
	TEST_CASE(test_cmd_truncation_and_flips),
	TEST_CASE(test_split),
	TEST_CASE(test_over_64k),
	TEST_CASE(test_compact),
	TEST_CASE(test_resp),
	TEST_CASE(test_resp_negative),
	TEST_CASE(test_resp_build_negative),
	TEST_CASE(test_names),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "rapdu", NULL, NULL, rapdu_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
