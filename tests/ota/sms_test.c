/* Tests for SMS-PP user data (src/ota/sms.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/ota/scp80.h>
#include <sgp02/ota/sms.h>

#include "testlib.h"

/* hex of a buffer, talloc'd on g_test_ctx */
static const char *hexstr(const uint8_t *b, size_t n)
{
	char *s = talloc_size(g_test_ctx, 2 * n + 1);
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", b[i]);
	s[2 * n] = '\0';
	return s;
}

/* The key must be present in vectors.json under "sms" / \a group. */
static void need_vector(const char *group, const char *key)
{
	unsigned int i;
	const char *k;

	for (i = 0; (k = test_vector_key(i, "sms", group, NULL)); i++) {
		if (!strcmp(k, key))
			return;
	}
	CU_FAIL("vector missing");
	printf("missing vector sms/%s/%s\n", group, key);
}

static void test_udh_vectors(void)
{
	struct ota_sms_udh udh;
	const struct ota_sms_ie *ie;
	unsigned int n;
	size_t len;
	uint8_t *ud;
	int rc;

	/* every UDH vector parses, and the rest of the data is what the description says */
	for (n = 0; test_vector_key(n, "sms", "udh", NULL); n++) {
		ud = test_hex(test_vector_key(n, "sms", "udh", NULL), &len);
		CU_ASSERT(ota_sms_udh_parse(ud, len, &udh) > 0);
	}
	CU_ASSERT_EQUAL(n, 4);

	need_vector("udh", "027100");
	ud = test_hex("027100", &len);
	rc = ota_sms_udh_parse(ud, len, &udh);
	CU_ASSERT_EQUAL(rc, 3);
	CU_ASSERT_EQUAL(udh.num_ie, 1);
	CU_ASSERT_EQUAL(udh.ie[0].iei, 0x71);
	CU_ASSERT_EQUAL(udh.ie[0].len, 0);

	need_vector("udh", "027100abcdef");
	ud = test_hex("027100abcdef", &len);
	rc = ota_sms_udh_parse(ud, len, &udh);
	CU_ASSERT_EQUAL_FATAL(rc, 3);
	CU_ASSERT_EQUAL(udh.num_ie, 1);
	TEST_ASSERT_HEX(ud + rc, len - rc, "abcdef");

	need_vector("udh", "03710110");
	ud = test_hex("03710110", &len);
	rc = ota_sms_udh_parse(ud, len, &udh);
	CU_ASSERT_EQUAL(rc, 4);
	ie = ota_sms_udh_find(&udh, 0x71);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ie);
	CU_ASSERT_EQUAL(ie->len, 1);
	CU_ASSERT_EQUAL(ie->val[0], 0x10);

	need_vector("udh", "0571007001ffabcd");
	ud = test_hex("0571007001ffabcd", &len);
	rc = ota_sms_udh_parse(ud, len, &udh);
	CU_ASSERT_EQUAL_FATAL(rc, 6);
	CU_ASSERT_EQUAL(udh.num_ie, 2);
	CU_ASSERT_EQUAL(udh.ie[0].iei, 0x71);
	CU_ASSERT_EQUAL(udh.ie[0].len, 0);
	CU_ASSERT_EQUAL(udh.ie[1].iei, 0x70);
	CU_ASSERT_EQUAL(udh.ie[1].len, 1);
	CU_ASSERT_EQUAL(udh.ie[1].val[0], 0xff);
	TEST_ASSERT_HEX(ud + rc, len - rc, "abcd");
	CU_ASSERT_PTR_NULL(ota_sms_udh_find(&udh, 0x00));

	/* and build them back */
	{
		uint8_t out[16];

		rc = ota_sms_udh_build(udh.ie, udh.num_ie, out, sizeof(out));
		CU_ASSERT_EQUAL(rc, 6);
		TEST_ASSERT_HEX(out, rc, "0571007001ff");
		CU_ASSERT_EQUAL(ota_sms_udh_build(udh.ie, udh.num_ie, out, 5), -EMSGSIZE);
		rc = ota_sms_udh_build(NULL, 0, out, sizeof(out));
		CU_ASSERT_EQUAL(rc, 1);
		CU_ASSERT_EQUAL(out[0], 0);
	}
}

static void test_udh_malformed(void)
{
	static const char *const bad[] = {
		"",		/* no UDHL */
		"03",		/* UDHL beyond the end */
		"027100"	/* fine; truncated below */,
		"0171",		/* IE without length */
		"027101",	/* IE value beyond the UDH */
		"03700200ff",	/* IE value beyond the UDH (UDHL 3, IE claims 2) */
	};
	struct ota_sms_udh udh;
	struct ota_sms_concat c;
	size_t len, l;
	unsigned int i;
	uint8_t *ud;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ud = test_hex(bad[i], &len);
		if (i == 2) {
			CU_ASSERT_EQUAL(ota_sms_udh_parse(ud, len, &udh), 3);
			for (l = 0; l < len; l++)
				CU_ASSERT_EQUAL(ota_sms_udh_parse(ud, l, &udh), -EBADMSG);
			continue;
		}
		CU_ASSERT_EQUAL(ota_sms_udh_parse(ud, len, &udh), -EBADMSG);
	}
	CU_ASSERT_EQUAL(ota_sms_udh_parse(NULL, 0, &udh), -EINVAL);

	/* concatenation IEs: wrong length, total 0, seq 0, seq > total */
	ud = test_hex("0400020102", &len);
	CU_ASSERT_EQUAL(ota_sms_udh_parse(ud, len, &udh), 5);
	CU_ASSERT_EQUAL(ota_sms_udh_concat(&udh, &c), -EBADMSG);
	ud = test_hex("050003010000", &len);
	CU_ASSERT_EQUAL(ota_sms_udh_parse(ud, len, &udh), 6);
	CU_ASSERT_EQUAL(ota_sms_udh_concat(&udh, &c), -EBADMSG);
	ud = test_hex("050003010200", &len);
	ota_sms_udh_parse(ud, len, &udh);
	CU_ASSERT_EQUAL(ota_sms_udh_concat(&udh, &c), -EBADMSG);
	ud = test_hex("050003010203", &len);
	ota_sms_udh_parse(ud, len, &udh);
	CU_ASSERT_EQUAL(ota_sms_udh_concat(&udh, &c), -EBADMSG);
	ud = test_hex("050003010202", &len);
	ota_sms_udh_parse(ud, len, &udh);
	CU_ASSERT_EQUAL(ota_sms_udh_concat(&udh, &c), 1);
	CU_ASSERT(c.ref == 1 && c.total == 2 && c.seq == 2 && !c.ref16);
	ud = test_hex("0608041234030170", &len);
	ota_sms_udh_parse(ud, len, &udh);
	CU_ASSERT_EQUAL(ota_sms_udh_concat(&udh, &c), 1);
	CU_ASSERT(c.ref == 0x1234 && c.total == 3 && c.seq == 1 && c.ref16);
	ud = test_hex("050803123403", &len);	/* 16-bit reference IE of length 3 */
	CU_ASSERT_EQUAL(ota_sms_udh_parse(ud, len, &udh), 6);
	CU_ASSERT_EQUAL(ota_sms_udh_concat(&udh, &c), -EBADMSG);
	ud = test_hex("027000", &len);
	ota_sms_udh_parse(ud, len, &udh);
	CU_ASSERT_EQUAL(ota_sms_udh_concat(&udh, &c), 0);
}

static void test_address_vectors(void)
{
	struct ota_sms_addr a;
	uint8_t out[16], *b;
	size_t len;
	int rc;

	need_vector("address_field", "0480214399");
	b = test_hex("0480214399", &len);
	rc = ota_sms_addr_decode(b, len, &a);
	CU_ASSERT_EQUAL(rc, 4);		/* the trailer 99 is not part of it */
	CU_ASSERT_STRING_EQUAL(a.digits, "1234");
	CU_ASSERT_EQUAL(a.ton, OTA_SMS_TON_UNKNOWN);
	CU_ASSERT_EQUAL(a.npi, OTA_SMS_NPI_UNKNOWN);
	rc = ota_sms_addr_encode(&a, out, sizeof(out));
	CU_ASSERT_EQUAL(rc, 4);
	TEST_ASSERT_HEX(out, rc, "04802143");

	need_vector("address_field", "038021f399");
	b = test_hex("038021f399", &len);
	rc = ota_sms_addr_decode(b, len, &a);
	CU_ASSERT_EQUAL(rc, 4);
	CU_ASSERT_STRING_EQUAL(a.digits, "123");
	rc = ota_sms_addr_encode(&a, out, sizeof(out));
	TEST_ASSERT_HEX(out, rc, "038021f3");

	need_vector("address_field", "AddressField('12345','international','isdn_e164')");
	a = (struct ota_sms_addr){ .ton = OTA_SMS_TON_INTERNATIONAL, .npi = OTA_SMS_NPI_ISDN_E164, .digits = "12345" };
	rc = ota_sms_addr_encode(&a, out, sizeof(out));
	CU_ASSERT_EQUAL(rc, 5);
	TEST_ASSERT_HEX(out, rc, test_vector("sms", "address_field",
					     "AddressField('12345','international','isdn_e164')", NULL));
	rc = ota_sms_addr_decode(out, rc, &a);
	CU_ASSERT_EQUAL(rc, 5);
	CU_ASSERT_STRING_EQUAL(a.digits, "12345");
	CU_ASSERT_EQUAL(a.ton, OTA_SMS_TON_INTERNATIONAL);
	CU_ASSERT_EQUAL(a.npi, OTA_SMS_NPI_ISDN_E164);
}

static void test_address_edge(void)
{
	struct ota_sms_addr a;
	uint8_t out[16], *b;
	size_t len, l;
	int rc;

	/* every truncation */
	b = test_hex("05912143f5", &len);
	for (l = 0; l < len; l++)
		CU_ASSERT_EQUAL(ota_sms_addr_decode(b, l, &a), -EBADMSG);
	/* filler in the middle, too many digits */
	b = test_hex("0491f143", &len);
	CU_ASSERT_EQUAL(ota_sms_addr_decode(b, len, &a), -EBADMSG);
	b = test_hex("1591" "1111111111" "1111111111" "11", &len);
	CU_ASSERT_EQUAL(ota_sms_addr_decode(b, len, &a), -EBADMSG);
	/* empty address */
	b = test_hex("0080", &len);
	CU_ASSERT_EQUAL(ota_sms_addr_decode(b, len, &a), 2);
	CU_ASSERT_STRING_EQUAL(a.digits, "");
	/* 20 digits and the extra characters */
	a = (struct ota_sms_addr){ .ton = 1, .npi = 1, .digits = "0123456789*#abc01234" };
	rc = ota_sms_addr_encode(&a, out, sizeof(out));
	CU_ASSERT_EQUAL(rc, 12);
	TEST_ASSERT_HEX(out, rc, "1491" "1032547698badc0e2143");
	CU_ASSERT_EQUAL(ota_sms_addr_decode(out, rc, &a), 12);
	CU_ASSERT_STRING_EQUAL(a.digits, "0123456789*#abc01234");
	CU_ASSERT_EQUAL(ota_sms_addr_encode(&a, out, 11), -EMSGSIZE);
	/* bad input to the encoder */
	a = (struct ota_sms_addr){ .ton = 1, .npi = 1, .digits = "12x" };
	CU_ASSERT_EQUAL(ota_sms_addr_encode(&a, out, sizeof(out)), -EINVAL);
	a = (struct ota_sms_addr){ .ton = 5, .npi = 0, .digits = "abc" };
	CU_ASSERT_EQUAL(ota_sms_addr_encode(&a, out, sizeof(out)), -EINVAL);
	a = (struct ota_sms_addr){ .ton = 8, .npi = 0, .digits = "1" };
	CU_ASSERT_EQUAL(ota_sms_addr_encode(&a, out, sizeof(out)), -EINVAL);
	/* alphanumeric (GSM 7-bit packed): "ekit" from the SMS-DELIVER vector's originator */
	b = test_hex("08d0e5759a0e", &len);
	CU_ASSERT_EQUAL(ota_sms_addr_decode(b, len, &a), 6);
	CU_ASSERT_EQUAL(a.ton, OTA_SMS_TON_ALPHANUMERIC);
	CU_ASSERT_STRING_EQUAL(a.digits, "ekit");
	/* 20 semi-octets = 10 octets = 11 characters "Hello World" packed */
	b = test_hex("14d0c8329bfd065ddf723619", &len);
	CU_ASSERT_EQUAL(ota_sms_addr_decode(b, len, &a), 12);
	CU_ASSERT_STRING_EQUAL(a.digits, "Hello World");
}

/* Compare one decoded field with the vector's value text. */
static void check_field(const char *tpdu_hex, const char *group, const char *field, const struct ota_sms_tpdu *t)
{
	const char *want = test_vector("sms", group, tpdu_hex, field, NULL);
	const char *got;
	static const char *const vpf_names[] = { "none", "enhanced", "relative", "absolute" };

	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	if (!strcmp(field, "mti"))
		got = talloc_asprintf(g_test_ctx, "%u", t->mti);
	else if (!strcmp(field, "udl"))
		got = talloc_asprintf(g_test_ctx, "%u", t->udl);
	else if (!strcmp(field, "pid"))
		got = strlen(want) == 2 ? talloc_asprintf(g_test_ctx, "%02x", t->pid)
					: talloc_asprintf(g_test_ctx, "%u", t->pid);
	else if (!strcmp(field, "dcs"))
		got = talloc_asprintf(g_test_ctx, "%02x", t->dcs);
	else if (!strcmp(field, "vpf"))
		got = vpf_names[t->vpf & 3];
	else {
		bool v;

		if (!strcmp(field, "mms"))
			v = t->mms;
		else if (!strcmp(field, "lp"))
			v = t->lp;
		else if (!strcmp(field, "rp"))
			v = t->rp;
		else if (!strcmp(field, "udhi"))
			v = t->udhi;
		else if (!strcmp(field, "sri"))
			v = t->sri;
		else if (!strcmp(field, "rd"))
			v = t->rd;
		else if (!strcmp(field, "srr"))
			v = t->srr;
		else {
			printf("unknown field %s\n", field);
			CU_FAIL("unknown field in vector");
			return;
		}
		got = v ? "true" : "false";
	}
	if (strcmp(got, want)) {
		printf("%s %s: got %s want %s\n", group, field, got, want);
		CU_FAIL("field mismatch");
	} else {
		CU_PASS("field");
	}
}

static void check_tpdu_group(const char *group, uint8_t mti)
{
	unsigned int n, f, fields = 0;
	const char *hex, *field;

	for (n = 0; (hex = test_vector_key(n, "sms", group, NULL)); n++) {
		struct ota_sms_tpdu t;
		uint8_t *b, out[200];
		size_t len, l;
		int rc;

		b = test_hex(hex, &len);
		rc = ota_sms_tpdu_decode(b, len, &t);
		CU_ASSERT_EQUAL(rc, 0);
		if (rc)
			continue;
		CU_ASSERT_EQUAL(t.mti, mti);
		for (f = 0; (field = test_vector_key(f, "sms", group, hex, NULL)); f++) {
			check_field(hex, group, field, &t);
			fields++;
		}
		CU_ASSERT_EQUAL(t.ud + t.ud_len, b + len);
		/* re-encoding gives the same octets (both vectors use 8-bit data); alphanumeric addresses are
		 * decoded only */
		rc = ota_sms_tpdu_encode(&t, out, sizeof(out));
		if (t.addr.ton == OTA_SMS_TON_ALPHANUMERIC) {
			CU_ASSERT_EQUAL(rc, -EINVAL);
		} else {
			CU_ASSERT_EQUAL(rc, (int)len);
			if (rc > 0)
				CU_ASSERT(memcmp(out, b, len) == 0);
		}
		/* every truncation and one extra octet are rejected */
		for (l = 0; l < len; l++)
			CU_ASSERT_EQUAL(ota_sms_tpdu_decode(b, l, &t), -EBADMSG);
		{
			uint8_t *x = talloc_size(g_test_ctx, len + 1);

			memcpy(x, b, len);
			x[len] = 0;
			CU_ASSERT_EQUAL(ota_sms_tpdu_decode(x, len + 1, &t), -EBADMSG);
		}
	}
	CU_ASSERT(n >= 1);
	CU_ASSERT(fields >= 9);
}

static void test_tpdu_submit_vector(void)
{
	struct ota_sms_tpdu t;
	uint8_t *b;
	size_t len;

	check_tpdu_group("sms_submit_decode", 1);
	b = test_hex(test_vector_key(0, "sms", "sms_submit_decode", NULL), &len);
	CU_ASSERT_EQUAL_FATAL(ota_sms_tpdu_decode(b, len, &t), 0);
	CU_ASSERT_EQUAL(t.mr, 0x0d);
	CU_ASSERT_STRING_EQUAL(t.addr.digits, "61416271170");
	CU_ASSERT_EQUAL(t.addr.ton, OTA_SMS_TON_INTERNATIONAL);
	CU_ASSERT_EQUAL(t.vp_len, 1);
	CU_ASSERT_EQUAL(t.vp[0], 0xa7);
	CU_ASSERT_EQUAL(t.ud_len, 140);
	/* its UDH: application port addressing (IEI 05) and part 1 of 2 of an 8-bit concatenation */
	{
		struct ota_sms_udh udh;
		struct ota_sms_concat c;
		const struct ota_sms_ie *ie;

		CU_ASSERT_EQUAL(ota_sms_udh_parse(t.ud, t.ud_len, &udh), 12);
		CU_ASSERT_EQUAL(udh.num_ie, 2);
		ie = ota_sms_udh_find(&udh, 0x05);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ie);
		TEST_ASSERT_HEX(ie->val, ie->len, "23f423f4");
		CU_ASSERT_EQUAL(ota_sms_udh_concat(&udh, &c), 1);
		CU_ASSERT(c.ref == 1 && c.total == 2 && c.seq == 1 && !c.ref16);
	}
}

static void test_tpdu_deliver_vector(void)
{
	struct ota_sms_tpdu t;
	uint8_t *b;
	size_t len;

	check_tpdu_group("sms_deliver_decode", 0);
	b = test_hex(test_vector_key(0, "sms", "sms_deliver_decode", NULL), &len);
	CU_ASSERT_EQUAL_FATAL(ota_sms_tpdu_decode(b, len, &t), 0);
	CU_ASSERT_STRING_EQUAL(t.addr.digits, "ekit");
	TEST_ASSERT_HEX(t.scts, 7, "90709030751300");
	TEST_ASSERT_HEX(t.ud, t.ud_len, "24010101bb400101");
}

static void test_tpdu_misc(void)
{
	struct ota_sms_tpdu t, d;
	uint8_t out[200], *b;
	size_t len;
	int rc;

	/* 7-bit DCS: UDL counts septets; 5 septets = 5 octets, 8 septets = 7 octets */
	b = test_hex("0004912143" "0000" "00000000000000" "08" "31d98c56b3dd70", &len);
	CU_ASSERT_EQUAL(ota_sms_tpdu_decode(b, len, &t), 0);
	CU_ASSERT_EQUAL(t.udl, 8);
	CU_ASSERT_EQUAL(t.ud_len, 7);
	CU_ASSERT(ota_sms_dcs_is_7bit(0x00));
	CU_ASSERT(!ota_sms_dcs_is_7bit(0x04));
	CU_ASSERT(!ota_sms_dcs_is_7bit(0x08));
	CU_ASSERT(!ota_sms_dcs_is_7bit(0xf6));
	CU_ASSERT(ota_sms_dcs_is_7bit(0xf0));
	/* other MTIs */
	b = test_hex("02", &len);
	CU_ASSERT_EQUAL(ota_sms_tpdu_decode(b, len, &t), -ENOTSUP);
	/* UDL too large */
	b = test_hex("0004912143" "00f6" "00000000000000" "8d", &len);
	CU_ASSERT_EQUAL(ota_sms_tpdu_decode(b, len, &t), -EBADMSG);

	/* An MT OTA SMS-DELIVER (TS 31.115: PID 7F, DCS F6, UDHI) round trip */
	memset(&t, 0, sizeof(t));
	t.mti = 0;
	t.mms = true;
	t.udhi = true;
	t.addr = (struct ota_sms_addr){ .ton = 1, .npi = 1, .digits = "4915" };
	t.pid = 0x7f;
	t.dcs = 0xf6;
	t.ud = (const uint8_t *)"\x02\x70\x00\x00\x01\x00";
	t.ud_len = 6;
	rc = ota_sms_tpdu_encode(&t, out, sizeof(out));
	CU_ASSERT_EQUAL(rc, 1 + 4 + 2 + 7 + 1 + 6);
	TEST_ASSERT_HEX(out, rc, "44" "04919451" "7ff6" "00000000000000" "06" "027000000100");
	CU_ASSERT_EQUAL(ota_sms_tpdu_decode(out, rc, &d), 0);
	CU_ASSERT(d.udhi && d.mms && d.pid == 0x7f && d.dcs == 0xf6 && d.ud_len == 6);
	CU_ASSERT_EQUAL(ota_sms_tpdu_encode(&t, out, rc - 1), -EMSGSIZE);
	/* SMS-SUBMIT with a wrong VP length, and 7-bit data, are refused by the encoder */
	t.mti = 1;
	t.vpf = OTA_SMS_VPF_RELATIVE;
	t.vp_len = 0;
	CU_ASSERT_EQUAL(ota_sms_tpdu_encode(&t, out, sizeof(out)), -EINVAL);
	t.vp_len = 1;
	CU_ASSERT(ota_sms_tpdu_encode(&t, out, sizeof(out)) > 0);
	t.dcs = 0x00;
	CU_ASSERT_EQUAL(ota_sms_tpdu_encode(&t, out, sizeof(out)), -EINVAL);
}

/* The SMPP submit_sm of an OTA tool carries UD = 02 70 00 + a command packet (keys unknown: structure only). */
static void test_smpp_vector(void)
{
	const char *key = "smpp_submit_sm_from_smpp_ota_tool (seq 1, UD = 027000 + SJA5 3DES ciphered cmd)";
	struct ota_scp80_cmd hdr;
	struct ota_sms_udh udh;
	uint8_t *pdu, *ud;
	size_t len, ud_len;
	int rc;

	pdu = test_hex(test_vector("sms", key, NULL), &len);
	CU_ASSERT_EQUAL_FATAL(len, 0x4a);
	/* short_message is the tail of the PDU, sm_length just before it */
	ud_len = pdu[len - 38];
	CU_ASSERT_EQUAL_FATAL(ud_len, 37);
	ud = pdu + len - ud_len;
	rc = ota_sms_udh_parse(ud, ud_len, &udh);
	CU_ASSERT_EQUAL_FATAL(rc, 3);
	CU_ASSERT_PTR_NOT_NULL(ota_sms_udh_find(&udh, OTA_SMS_IEI_CPI));
	CU_ASSERT_EQUAL(ota_scp80_cmd_peek(ud + rc, ud_len - rc, &hdr), 0);
	CU_ASSERT(hdr.spi[0] == 0x06 && hdr.spi[1] == 0x19);
	CU_ASSERT(hdr.kic == 0x35 && hdr.kid == 0x35);
	TEST_ASSERT_HEX(hdr.tar, 3, "b00011");
}

/*
 * Splitting
 */

static void check_split(size_t len, bool ref16, int expect_parts)
{
	struct ota_sms_ud *parts;
	uint8_t *pkt = talloc_size(g_test_ctx, len + 1), *joined = talloc_size(g_test_ctx, len + 1);
	size_t i, off = 0;
	int n, p;

	for (i = 0; i < len; i++)
		pkt[i] = i ^ (i >> 8);
	n = ota_sms_split(g_test_ctx, OTA_SMS_IEI_CPI, pkt, len, ref16 ? 0xbeef : 0x42, ref16, &parts);
	CU_ASSERT_EQUAL(n, expect_parts);
	if (n <= 0)
		return;
	for (p = 0; p < n; p++) {
		struct ota_sms_udh udh;
		struct ota_sms_concat c;
		const char *want;
		int hl;

		CU_ASSERT(parts[p].len <= OTA_SMS_UD_MAX);
		hl = ota_sms_udh_parse(parts[p].data, parts[p].len, &udh);
		CU_ASSERT_FATAL(hl > 0);
		if (n == 1) {
			TEST_ASSERT_HEX(parts[p].data, 3, "027000");
		} else {
			if (p == 0)
				want = ref16 ? talloc_asprintf(g_test_ctx, "08700008" "04beef%02x01", n)
					     : talloc_asprintf(g_test_ctx, "07700000" "0342%02x01", n);
			else
				want = ref16 ? talloc_asprintf(g_test_ctx, "060804beef%02x%02x", n, p + 1)
					     : talloc_asprintf(g_test_ctx, "05000342%02x%02x", n, p + 1);
			TEST_ASSERT_HEX(parts[p].data, hl, want);
			CU_ASSERT_EQUAL(ota_sms_udh_concat(&udh, &c), 1);
			/* exact payload accounting: all but the last part are full */
			if (p < n - 1) {
				CU_ASSERT_EQUAL(parts[p].len, OTA_SMS_UD_MAX);
			} else {
				CU_ASSERT(parts[p].len > (size_t)hl);
			}
		}
		memcpy(joined + off, parts[p].data + hl, parts[p].len - hl);
		off += parts[p].len - hl;
	}
	CU_ASSERT_EQUAL(off, len);
	CU_ASSERT(memcmp(joined, pkt, len) == 0);
}

static void test_split(void)
{
	struct ota_sms_ud *parts;

	check_split(1, false, 1);
	check_split(137, false, 1);
	check_split(138, false, 2);		/* 132 + 6 */
	check_split(132 + 134, false, 2);
	check_split(132 + 134 + 1, false, 3);
	check_split(132 + 254 * 134, false, 255);
	check_split(132 + 254 * 134 + 1, false, -EMSGSIZE);
	check_split(137, true, 1);
	check_split(138, true, 2);		/* 131 + 7 */
	check_split(131 + 133, true, 2);
	check_split(131 + 133 + 1, true, 3);
	check_split(131 + 254 * 133, true, 255);
	check_split(131 + 254 * 133 + 1, true, -EMSGSIZE);
	CU_ASSERT_EQUAL(ota_sms_split(g_test_ctx, OTA_SMS_IEI_CPI, NULL, 0, 0, false, &parts), -EINVAL);
}

/*
 * Reassembly
 */

static int feed(struct ota_sms_reasm *r, const char *sender, const struct ota_sms_ud *ud, uint64_t now,
		uint8_t **out, size_t *out_len)
{
	return ota_sms_reasm_feed(r, sender, ud->data, ud->len, now, g_test_ctx, out, out_len);
}

static void test_reasm_orders(void)
{
	static const unsigned int orders[][4] = {
		{ 0, 1, 2, 3 }, { 3, 2, 1, 0 }, { 1, 3, 0, 2 }, { 2, 0, 3, 1 },
	};
	uint8_t pkt[500], *out;
	struct ota_sms_ud *parts;
	size_t out_len, i;
	unsigned int o, k;
	int n, rc;

	for (i = 0; i < sizeof(pkt); i++)
		pkt[i] = i * 7;
	n = ota_sms_split(g_test_ctx, OTA_SMS_IEI_RPI, pkt, sizeof(pkt), 9, false, &parts);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	for (o = 0; o < ARRAY_SIZE(orders); o++) {
		struct ota_sms_reasm *r = ota_sms_reasm_alloc(g_test_ctx, NULL);

		for (k = 0; k < 4; k++) {
			rc = feed(r, "+4912345", &parts[orders[o][k]], 1000 + k, &out, &out_len);
			if (k < 3) {
				CU_ASSERT_EQUAL(rc, 0);
				CU_ASSERT_EQUAL(ota_sms_reasm_pending(r), 1);
				/* a duplicate is ignored */
				rc = feed(r, "+4912345", &parts[orders[o][k]], 1000 + k, &out, &out_len);
				CU_ASSERT_EQUAL(rc, 0);
			}
		}
		CU_ASSERT_EQUAL(rc, 1);
		CU_ASSERT_EQUAL(ota_sms_reasm_pending(r), 0);
		CU_ASSERT_EQUAL_FATAL(out_len, 3 + sizeof(pkt));
		TEST_ASSERT_HEX(out, 3, "027100");
		CU_ASSERT(memcmp(out + 3, pkt, sizeof(pkt)) == 0);
		CU_ASSERT_EQUAL(ota_sms_reasm_stats(r)->duplicates, 3);
		CU_ASSERT_EQUAL(ota_sms_reasm_stats(r)->completed, 1);
		/* a late duplicate after completion starts a new message that never completes */
		CU_ASSERT_EQUAL(feed(r, "+4912345", &parts[0], 2000, &out, &out_len), 0);
		CU_ASSERT_EQUAL(ota_sms_reasm_expire(r, 2000 + 60000), 1);
		talloc_free(r);
	}
}

static void test_reasm_single(void)
{
	struct ota_sms_reasm *r = ota_sms_reasm_alloc(g_test_ctx, NULL);
	uint8_t *ud, *out;
	size_t len, out_len;

	/* no concatenation IE: handed over as is */
	ud = test_hex("027100000e0ab000110000000000000001612f", &len);
	CU_ASSERT_EQUAL(ota_sms_reasm_feed(r, "1", ud, len, 0, g_test_ctx, &out, &out_len), 1);
	CU_ASSERT_EQUAL(out_len, len);
	CU_ASSERT(memcmp(out, ud, len) == 0);
	/* total = 1: the concatenation IE is removed */
	ud = test_hex("0771000003010101" "abcd", &len);
	CU_ASSERT_EQUAL(ota_sms_reasm_feed(r, "1", ud, len, 0, g_test_ctx, &out, &out_len), 1);
	TEST_ASSERT_HEX(out, out_len, "027100abcd");
	/* only a concatenation IE: an empty UDH remains */
	ud = test_hex("050003010101" "ab", &len);
	CU_ASSERT_EQUAL(ota_sms_reasm_feed(r, "1", ud, len, 0, g_test_ctx, &out, &out_len), 1);
	TEST_ASSERT_HEX(out, out_len, "00ab");
	CU_ASSERT_EQUAL(ota_sms_reasm_pending(r), 0);
}

static void test_reasm_interleaved(void)
{
	struct ota_sms_reasm *r = ota_sms_reasm_alloc(g_test_ctx, NULL);
	struct ota_sms_ud *a, *b, *c;
	uint8_t pa[200], pb[300], pc[200], *out;
	size_t out_len;

	memset(pa, 0xaa, sizeof(pa));
	memset(pb, 0xbb, sizeof(pb));
	memset(pc, 0xcc, sizeof(pc));
	CU_ASSERT_EQUAL(ota_sms_split(g_test_ctx, OTA_SMS_IEI_CPI, pa, sizeof(pa), 1, false, &a), 2);
	CU_ASSERT_EQUAL(ota_sms_split(g_test_ctx, OTA_SMS_IEI_CPI, pb, sizeof(pb), 1, false, &b), 3);
	/* same reference, 16-bit: a different message */
	CU_ASSERT_EQUAL(ota_sms_split(g_test_ctx, OTA_SMS_IEI_CPI, pc, sizeof(pc), 1, true, &c), 2);

	CU_ASSERT_EQUAL(feed(r, "A", &a[1], 0, &out, &out_len), 0);
	CU_ASSERT_EQUAL(feed(r, "B", &b[0], 1, &out, &out_len), 0);	/* same ref, other sender */
	CU_ASSERT_EQUAL(feed(r, "A", &c[0], 2, &out, &out_len), 0);	/* same sender, 16-bit ref */
	CU_ASSERT_EQUAL(ota_sms_reasm_pending(r), 3);
	CU_ASSERT_EQUAL(feed(r, "B", &b[2], 3, &out, &out_len), 0);
	CU_ASSERT_EQUAL(feed(r, "A", &a[0], 4, &out, &out_len), 1);
	CU_ASSERT(out_len == 3 + sizeof(pa) && out[3] == 0xaa && out[out_len - 1] == 0xaa);
	CU_ASSERT_EQUAL(feed(r, "A", &c[1], 5, &out, &out_len), 1);
	CU_ASSERT(out_len == 3 + sizeof(pc) && out[3] == 0xcc && out[out_len - 1] == 0xcc);
	CU_ASSERT_EQUAL(feed(r, "B", &b[1], 6, &out, &out_len), 1);
	CU_ASSERT(out_len == 3 + sizeof(pb) && out[3] == 0xbb && out[out_len - 1] == 0xbb);
	CU_ASSERT_EQUAL(ota_sms_reasm_pending(r), 0);
}

static void test_reasm_timeout(void)
{
	struct ota_sms_reasm_cfg cfg = { .timeout_ms = 5000 };
	struct ota_sms_reasm *r = ota_sms_reasm_alloc(g_test_ctx, &cfg);
	struct ota_sms_ud *a;
	uint8_t pa[200], *out;
	size_t out_len;

	memset(pa, 1, sizeof(pa));
	CU_ASSERT_EQUAL(ota_sms_split(g_test_ctx, OTA_SMS_IEI_CPI, pa, sizeof(pa), 7, false, &a), 2);
	CU_ASSERT_EQUAL(feed(r, "A", &a[0], 10000, &out, &out_len), 0);
	CU_ASSERT_EQUAL(ota_sms_reasm_expire(r, 14999), 0);
	CU_ASSERT_EQUAL(ota_sms_reasm_pending(r), 1);
	/* just in time */
	CU_ASSERT_EQUAL(feed(r, "A", &a[1], 14999, &out, &out_len), 1);
	/* too late: the first part is gone, the second starts a new message */
	CU_ASSERT_EQUAL(feed(r, "A", &a[0], 20000, &out, &out_len), 0);
	CU_ASSERT_EQUAL(feed(r, "A", &a[1], 25000, &out, &out_len), 0);
	CU_ASSERT_EQUAL(ota_sms_reasm_stats(r)->expired, 1);
	CU_ASSERT_EQUAL(ota_sms_reasm_pending(r), 1);
	CU_ASSERT_EQUAL(ota_sms_reasm_expire(r, 30000), 1);
	CU_ASSERT_EQUAL(ota_sms_reasm_pending(r), 0);
	/* a clock that goes backwards does not expire anything */
	CU_ASSERT_EQUAL(feed(r, "A", &a[0], 50000, &out, &out_len), 0);
	CU_ASSERT_EQUAL(ota_sms_reasm_expire(r, 100), 0);
	CU_ASSERT_EQUAL(ota_sms_reasm_pending(r), 1);
}

static void test_reasm_limits(void)
{
	struct ota_sms_reasm_cfg cfg = { .max_pending = 3, .max_parts = 4 };
	struct ota_sms_reasm *r = ota_sms_reasm_alloc(g_test_ctx, &cfg);
	struct ota_sms_ud *a, *big;
	uint8_t pa[200], pbig[700], *out, *ud;
	size_t out_len, len;
	char sender[16];
	unsigned int i;

	memset(pa, 1, sizeof(pa));
	memset(pbig, 2, sizeof(pbig));
	CU_ASSERT_EQUAL(ota_sms_split(g_test_ctx, OTA_SMS_IEI_CPI, pa, sizeof(pa), 7, false, &a), 2);
	CU_ASSERT_EQUAL(ota_sms_split(g_test_ctx, OTA_SMS_IEI_CPI, pbig, sizeof(pbig), 8, false, &big), 6);
	/* more parts than allowed */
	CU_ASSERT_EQUAL(feed(r, "A", &big[0], 0, &out, &out_len), -EMSGSIZE);
	CU_ASSERT_EQUAL(ota_sms_reasm_pending(r), 0);
	/* max_pending: the oldest is evicted */
	for (i = 0; i < 5; i++) {
		snprintf(sender, sizeof(sender), "S%u", i);
		CU_ASSERT_EQUAL(feed(r, sender, &a[0], i, &out, &out_len), 0);
		CU_ASSERT(ota_sms_reasm_pending(r) <= 3);
	}
	CU_ASSERT_EQUAL(ota_sms_reasm_stats(r)->evicted, 2);
	CU_ASSERT_EQUAL(feed(r, "S0", &a[1], 10, &out, &out_len), 0);	/* S0 was evicted */
	CU_ASSERT_EQUAL(feed(r, "S4", &a[1], 11, &out, &out_len), 1);	/* S4 still there */
	/* a part that disagrees on the number of parts drops the message */
	r = ota_sms_reasm_alloc(g_test_ctx, NULL);
	CU_ASSERT_EQUAL(feed(r, "A", &a[0], 0, &out, &out_len), 0);
	ud = test_hex("050003070302" "ff", &len);
	CU_ASSERT_EQUAL(ota_sms_reasm_feed(r, "A", ud, len, 1, g_test_ctx, &out, &out_len), -EBADMSG);
	CU_ASSERT_EQUAL(ota_sms_reasm_pending(r), 0);
	/* malformed input */
	ud = test_hex("0500030702", &len);
	CU_ASSERT_EQUAL(ota_sms_reasm_feed(r, "A", ud, len, 1, g_test_ctx, &out, &out_len), -EBADMSG);
	ud = test_hex("050003070200", &len);
	CU_ASSERT_EQUAL(ota_sms_reasm_feed(r, "A", ud, len, 1, g_test_ctx, &out, &out_len), -EBADMSG);
	CU_ASSERT_EQUAL(ota_sms_reasm_feed(r, "A", ud, 0, 1, g_test_ctx, &out, &out_len), -EBADMSG);
	CU_ASSERT_EQUAL(ota_sms_reasm_feed(r, "A", ud, 141, 1, g_test_ctx, &out, &out_len), -EMSGSIZE);
	CU_ASSERT_EQUAL(ota_sms_reasm_feed(NULL, "A", ud, len, 1, g_test_ctx, &out, &out_len), -EINVAL);
	CU_ASSERT_EQUAL(ota_sms_reasm_stats(r)->rejected, 5);
}

/* Regression: a part stored from a buffer of exactly ud_len octets must not be read beyond its end. */
static void test_reasm_exact_buffers(void)
{
	struct ota_sms_reasm *r = ota_sms_reasm_alloc(g_test_ctx, NULL);
	struct ota_sms_ud *a;
	uint8_t pa[300], *out = NULL;
	size_t out_len = 0;
	int n, i, rc = 0;

	memset(pa, 0x5a, sizeof(pa));
	n = ota_sms_split(g_test_ctx, OTA_SMS_IEI_CPI, pa, sizeof(pa), 3, false, &a);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	for (i = 0; i < n; i++) {
		uint8_t *exact = talloc_memdup(g_test_ctx, a[i].data, a[i].len);

		rc = ota_sms_reasm_feed(r, "x", exact, a[i].len, 0, g_test_ctx, &out, &out_len);
		talloc_free(exact);
	}
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT_EQUAL(out_len, 3 + sizeof(pa));
}

/* End to end: SCP80 command packet -> SMS parts -> reassembly (shuffled) -> unwrap. */
static void test_scp80_over_sms(void)
{
	struct ota_scp80_keyset ks = { .kic = 0x12, .kid = 0x12, .kic_key_len = 16, .kid_key_len = 16 };
	const uint8_t spi[2] = { 0x16, 0x39 }, tar[3] = { 0, 0, 0 }, cntr[5] = { 0, 0, 0, 0, 2 };
	struct ota_sms_reasm *r = ota_sms_reasm_alloc(g_test_ctx, NULL);
	struct ota_scp80_cmd cmd;
	struct ota_sms_ud *parts;
	struct ota_sms_udh udh;
	uint8_t data[400], pkt[500], buf[500], *out = NULL;
	size_t out_len = 0;
	uint64_t re = 1;
	int len, n, i, rc = 0, hl;

	memset(ks.kic_key, 0x11, 16);
	memset(ks.kid_key, 0x22, 16);
	for (i = 0; i < (int)sizeof(data); i++)
		data[i] = i;
	len = ota_scp80_cmd_build(&ks, spi, tar, cntr, data, sizeof(data), pkt, sizeof(pkt));
	CU_ASSERT_FATAL(len > 0);
	n = ota_sms_split(g_test_ctx, OTA_SMS_IEI_CPI, pkt, len, 0x33, false, &parts);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	for (i = n - 1; i >= 0; i--)
		rc = feed(r, "sender", &parts[i], 0, &out, &out_len);
	CU_ASSERT_EQUAL_FATAL(rc, 1);
	hl = ota_sms_udh_parse(out, out_len, &udh);
	CU_ASSERT_EQUAL_FATAL(hl, 3);
	CU_ASSERT_PTR_NOT_NULL(ota_sms_udh_find(&udh, OTA_SMS_IEI_CPI));
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&ks, out + hl, out_len - hl, &re, &cmd, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(re, 2);
	CU_ASSERT(cmd.data_len == sizeof(data) && memcmp(cmd.data, data, sizeof(data)) == 0);
	(void)hexstr;
}

static const struct test_case udh_cases[] = {
	TEST_CASE(test_udh_vectors),
	TEST_CASE(test_udh_malformed),
	TEST_CASE(test_smpp_vector),
	TEST_END
};

static const struct test_case addr_cases[] = {
	TEST_CASE(test_address_vectors),
	TEST_CASE(test_address_edge),
	TEST_CASE(test_tpdu_submit_vector),
	TEST_CASE(test_tpdu_deliver_vector),
	TEST_CASE(test_tpdu_misc),
	TEST_END
};

static const struct test_case concat_cases[] = {
	TEST_CASE(test_split),
	TEST_CASE(test_reasm_orders),
	TEST_CASE(test_reasm_single),
	TEST_CASE(test_reasm_interleaved),
	TEST_CASE(test_reasm_timeout),
	TEST_CASE(test_reasm_limits),
	TEST_CASE(test_reasm_exact_buffers),
	TEST_CASE(test_scp80_over_sms),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "sms_udh", NULL, NULL, udh_cases },
	{ "sms_tpdu", NULL, NULL, addr_cases },
	{ "sms_concat", NULL, NULL, concat_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
