/* Unit tests for the GlobalPlatform APDU builders/parsers (src/gp/gp_apdu.c). */
#include <errno.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/gp/gp_apdu.h>

#include "testlib.h"

#define ISDP_AID "A0000005591010FFFFFFFF8900001300"

static uint8_t *aid13(size_t *n)
{
	return test_hex(ISDP_AID, n);
}

/* vectors.json "gp_install_params": pySim-style gen_install_parameters() results */
static void test_install_params_vectors(void)
{
	struct gp_install_params p = { 0 };
	uint8_t out[128];
	size_t n;
	const char *exp = test_vector("gp_install_params", "gen_install_parameters()", NULL);
	uint8_t *stk;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(exp);
	rc = gp_install_params_encode(&p, out, sizeof(out));
	CU_ASSERT_FATAL(rc > 0);
	TEST_ASSERT_HEX(out, rc, exp);

	exp = test_vector("gp_install_params", "gen_install_parameters(256,256,'010001001505000000000000000000000000')",
			  NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(exp);
	stk = test_hex("010001001505000000000000000000000000", &n);
	p.has_nv_quota = true;
	p.nv_quota = 256;
	p.has_v_quota = true;
	p.v_quota = 256;
	p.stk_params = stk;
	p.stk_params_len = n;
	rc = gp_install_params_encode(&p, out, sizeof(out));
	CU_ASSERT_FATAL(rc > 0);
	TEST_ASSERT_HEX(out, rc, exp);

	/* quotas above FFFF take 4 bytes; too small an output buffer is reported */
	p.stk_params = NULL;
	p.stk_params_len = 0;
	p.has_v_quota = false;
	p.nv_quota = 0x12345;
	rc = gp_install_params_encode(&p, out, sizeof(out));
	CU_ASSERT_EQUAL(rc, 10);
	TEST_ASSERT_HEX(out, rc, "C900 EF06 C80400012345");
	CU_ASSERT_EQUAL(gp_install_params_encode(&p, out, 5), -EMSGSIZE);
	CU_ASSERT_EQUAL(gp_install_params_encode(NULL, out, 5), -EINVAL);
}

/* SGP.02 digest §8.1: WH example of ES5.CreateISDP */
static void test_create_isdp(void)
{
	struct gp_capdu c;
	size_t n;
	uint8_t *aid = aid13(&n), tar_aid[16];
	uint32_t tar;

	CU_ASSERT_EQUAL(gp_apdu_create_isdp(&c, aid, n, NULL, 0), 0);
	TEST_ASSERT_HEX(c.buf, c.len, "80E60C003F 10A0000005591010FFFFFFFF8900000D00 10A0000005591010FFFFFFFF8900000E00"
				      "10A0000005591010FFFFFFFF8900001300 0380C000 06C90481020370 00 00");
	CU_ASSERT_EQUAL(gp_isdp_aid(0x000013, tar_aid), 0);
	TEST_ASSERT_HEX(tar_aid, 16, ISDP_AID);
	CU_ASSERT_EQUAL(gp_aid_tar(tar_aid, 16, &tar), 0);
	CU_ASSERT_EQUAL(tar, 0x13);
	CU_ASSERT_EQUAL(gp_aid_tar(gp_aid_isd_r, 16, &tar), 0);
	CU_ASSERT_EQUAL(tar, 0x000001);
	CU_ASSERT_EQUAL(gp_isdp_aid(0x1000000, tar_aid), -EINVAL);

	/* with explicit install parameters (memory quota) */
	{
		size_t pn;
		uint8_t *params = test_hex("C90481020370 EF04 C8020400", &pn);

		CU_ASSERT_EQUAL(gp_apdu_create_isdp(&c, aid, n, params, pn), 0);
		CU_ASSERT_EQUAL(c.buf[4], 0x3F + 6);
		TEST_ASSERT_HEX(c.buf + c.len - 15, 15, "0CC90481020370EF04C80204000000");
	}
	CU_ASSERT_EQUAL(gp_apdu_create_isdp(&c, aid, 4, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(gp_apdu_create_isdp(&c, aid, 17, NULL, 0), -EINVAL);
	/* install parameters too long for one short APDU */
	{
		uint8_t big[255] = { 0 };

		CU_ASSERT_EQUAL(gp_apdu_create_isdp(&c, aid, n, big, sizeof(big)), -EMSGSIZE);
	}
}

static void test_install_perso(void)
{
	struct gp_capdu c;
	size_t n;
	uint8_t *aid = aid13(&n);

	CU_ASSERT_EQUAL(gp_apdu_install_perso(&c, aid, n), 0);
	TEST_ASSERT_HEX(c.buf, c.len, "80E6200016 0000 10" ISDP_AID "000000 00");
}

static void test_store_data(void)
{
	struct gp_capdu c;
	size_t n;
	uint8_t *aid = aid13(&n), buf[300], val[260];

	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&c, aid, n), 0);
	TEST_ASSERT_HEX(c.buf, c.len, "80E2880015 3A03 12 4F10" ISDP_AID);
	CU_ASSERT_EQUAL(gp_apdu_disable_profile(&c, aid, n), 0);
	TEST_ASSERT_HEX(c.buf, c.len, "80E2880015 3A04 12 4F10" ISDP_AID);
	CU_ASSERT_EQUAL(gp_apdu_set_fallback(&c, aid, n), 0);
	TEST_ASSERT_HEX(c.buf, c.len, "80E2880015 3A05 12 4F10" ISDP_AID);
	CU_ASSERT_EQUAL(gp_apdu_notification_confirm(&c, 0x0102), 0);
	TEST_ASSERT_HEX(c.buf, c.len, "80E2890007 3A08 04 4E020102 00");
	{
		size_t pn;
		uint8_t *p = test_hex("A0 08 06 06 91 44 11 00 00 F0", &pn);

		CU_ASSERT_EQUAL(gp_apdu_connectivity_params(&c, p, pn), 0);
		TEST_ASSERT_HEX(c.buf, c.len, "80E288000D 3A07 0A A00806069144110000F0");
	}
	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&c, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(gp_apdu_connectivity_params(&c, NULL, 0), -EINVAL);

	/* DGI lengths: one byte up to FE, FF + 2 bytes from FF */
	memset(val, 0x11, sizeof(val));
	CU_ASSERT_EQUAL(gp_dgi_encode(buf, sizeof(buf), 0x3A01, val, 254), 3 + 254);
	TEST_ASSERT_HEX(buf, 3, "3A01FE");
	CU_ASSERT_EQUAL(gp_dgi_encode(buf, sizeof(buf), 0x3A01, val, 255), 5 + 255);
	TEST_ASSERT_HEX(buf, 5, "3A01FF00FF");
	CU_ASSERT_EQUAL(gp_dgi_encode(buf, 100, 0x3A01, val, 255), -EMSGSIZE);
	/* a DGI that does not fit one short APDU */
	CU_ASSERT_EQUAL(gp_apdu_store_dgi(&c, 0x3A01, val, 253, false), -EMSGSIZE);
	CU_ASSERT_EQUAL(gp_apdu_store_dgi(&c, 0x3A01, val, 252, false), 0);
	CU_ASSERT_EQUAL(c.len, 5 + 255);
	/* multi-block STORE DATA with explicit P1/P2 */
	CU_ASSERT_EQUAL(gp_apdu_store_data(&c, GP_STORE_DGI | GP_STORE_RESP, 0x00, val, 10), 0);
	TEST_ASSERT_HEX(c.buf, 5, "80E209000A");
	CU_ASSERT_EQUAL(c.len, 5 + 10 + 1);
	CU_ASSERT_EQUAL(gp_apdu_store_data(&c, 0x88, 0x01, val, 0), -EINVAL);
}

static void test_delete_status_data(void)
{
	struct gp_capdu c;
	size_t n, tn, kn;
	uint8_t *aid = aid13(&n);
	uint8_t *b6 = test_hex("42 01 AA 45 01 BB 5F20 01 CC 93 01 DD", &tn);
	uint8_t *tok = test_hex("0102030405060708", &kn);

	CU_ASSERT_EQUAL(gp_apdu_delete(&c, aid, n, 0x40), 0);
	TEST_ASSERT_HEX(c.buf, c.len, "80E4004012 4F10" ISDP_AID "00");
	CU_ASSERT_EQUAL(gp_apdu_delete(&c, aid, n, GP_DELETE_RELATED), 0);
	TEST_ASSERT_HEX(c.buf, c.len, "80E4008012 4F10" ISDP_AID "00");
	CU_ASSERT_EQUAL(gp_apdu_master_delete(&c, aid, n, 0x40, b6, tn, tok, kn), 0);
	TEST_ASSERT_HEX(c.buf, c.len, "80E400402B 4F10" ISDP_AID
			"B60D 4201AA 4501BB 5F2001CC 9301DD 9E08 0102030405060708 00");
	CU_ASSERT_EQUAL(gp_apdu_master_delete(&c, aid, n, 0x40, NULL, 0, tok, kn), -EINVAL);

	CU_ASSERT_EQUAL(gp_apdu_get_status(&c, aid, n, true, 0x02), 0);
	TEST_ASSERT_HEX(c.buf, c.len, "80F2400217 4F10" ISDP_AID "5C034F9F70 00");
	CU_ASSERT_EQUAL(gp_apdu_get_status(&c, aid, n, false, 0x02), 0);
	TEST_ASSERT_HEX(c.buf, c.len, "80F2400212 4F10" ISDP_AID "00");
	CU_ASSERT_EQUAL(gp_apdu_get_status(&c, NULL, 0, true, 0x03), 0);
	TEST_ASSERT_HEX(c.buf, c.len, "80F2400307 4F00 5C034F9F70 00");
	CU_ASSERT_EQUAL(gp_apdu_get_status(&c, NULL, 0, true, 0x01), -EINVAL);

	CU_ASSERT_EQUAL(gp_apdu_get_data(&c, 0x005A, NULL, 0), 0);
	TEST_ASSERT_HEX(c.buf, c.len, "80CA005A00");
	CU_ASSERT_EQUAL(gp_apdu_get_data(&c, 0xFF21, NULL, 0), 0);
	TEST_ASSERT_HEX(c.buf, c.len, "80CAFF2100");
	CU_ASSERT_EQUAL(gp_apdu_get_data(&c, 0xBF30, (const uint8_t *)"\x66", 1), 0);
	TEST_ASSERT_HEX(c.buf, c.len, "80CABF3003 5C0166 00");
	CU_ASSERT_EQUAL(gp_apdu_get_data(&c, 0, NULL, 0), -EINVAL);
}

static void test_sw(void)
{
	const uint8_t *d;
	size_t dl;
	uint16_t sw;
	size_t n;
	uint8_t *r = test_hex("AABB6A88", &n);

	CU_ASSERT_EQUAL(gp_rapdu_split(r, n, &d, &dl, &sw), 0);
	CU_ASSERT_EQUAL(dl, 2);
	CU_ASSERT_EQUAL(sw, 0x6A88);
	CU_ASSERT_PTR_EQUAL(d, r);
	CU_ASSERT_EQUAL(gp_rapdu_split(r, 1, &d, &dl, &sw), -EBADMSG);

	CU_ASSERT_STRING_EQUAL(gp_sw_name(0x6A88), "referenced data not found");
	CU_ASSERT_STRING_EQUAL(gp_sw_name(0x6985), "conditions of use not satisfied");
	CU_ASSERT_STRING_EQUAL(gp_sw_name(0x6A80), "incorrect values in command data");
	CU_ASSERT_STRING_EQUAL(gp_sw_name(0x9000), "success");
	CU_ASSERT_STRING_EQUAL(gp_sw_name(0x6110), "response data available");
	CU_ASSERT_STRING_EQUAL(gp_sw_name(0x1234), "unknown status");
	CU_ASSERT_EQUAL(gp_sw_to_errno(0x9000), 0);
	CU_ASSERT_EQUAL(gp_sw_to_errno(0x9F10), 0);
	CU_ASSERT_EQUAL(gp_sw_to_errno(0x6310), 0);
	CU_ASSERT_STRING_EQUAL(gp_sw_name(0x6310), "more data available");
	CU_ASSERT_EQUAL(gp_sw_to_errno(0x6A88), -ENOENT);
	CU_ASSERT_EQUAL(gp_sw_to_errno(0x6A82), -ENOENT);
	CU_ASSERT_EQUAL(gp_sw_to_errno(0x6985), -EPERM);
	CU_ASSERT_EQUAL(gp_sw_to_errno(0x69E1), -EACCES);
	CU_ASSERT_EQUAL(gp_sw_to_errno(0x6A80), -EINVAL);
	CU_ASSERT_EQUAL(gp_sw_to_errno(0x6A84), -ENOSPC);
	CU_ASSERT_EQUAL(gp_sw_to_errno(0x6581), -EIO);
	CU_ASSERT_EQUAL(gp_sw_to_errno(0x9484), -ENOTSUP);
	CU_ASSERT_EQUAL(gp_sw_to_errno(0x9485), -EKEYREJECTED);
	CU_ASSERT_EQUAL(gp_sw_to_errno(0x6F00), -EPROTO);
	CU_ASSERT_STRING_EQUAL(gp_lcs_name(0x3F), "ENABLED");
	CU_ASSERT_STRING_EQUAL(gp_lcs_name(0x1F), "DISABLED");
	CU_ASSERT_STRING_EQUAL(gp_lcs_name(0x07), "SELECTABLE");
	CU_ASSERT_STRING_EQUAL(gp_lcs_name(0x0F), "PERSONALIZED");
	CU_ASSERT_STRING_EQUAL(gp_lcs_name(0x01), "UNKNOWN");
}

static void test_parse_get_status(void)
{
	struct gp_isdp_status st[4];
	size_t n;
	uint8_t *r;
	int rc;

	/* WH check form: E3 16 4F 10 AID 9F70 01 LCS */
	r = test_hex("E316 4F10" ISDP_AID "9F70013F", &n);
	rc = gp_parse_get_status(r, n, st, 4);
	CU_ASSERT_EQUAL_FATAL(rc, 1);
	CU_ASSERT_EQUAL(st[0].aid_len, 16);
	TEST_ASSERT_HEX(st[0].aid, 16, ISDP_AID);
	CU_ASSERT_TRUE(st[0].has_lcs);
	CU_ASSERT_EQUAL(st[0].lcs, GP_LCS_ENABLED);
	CU_ASSERT_FALSE(st[0].has_props);

	/* two ISD-Ps, the second with fall-back attribute and memory figures */
	r = test_hex("E316 4F10A0000005591010FFFFFFFF8900001000 9F70011F"
		     "E328 4F10A0000005591010FFFFFFFF8900001100 9F700107 530101 8F0400010000 91020800 C5038000C0", &n);
	rc = gp_parse_get_status(r, n, st, 4);
	CU_ASSERT_EQUAL_FATAL(rc, 2);
	CU_ASSERT_EQUAL(st[0].lcs, GP_LCS_DISABLED);
	CU_ASSERT_FALSE(st[0].fallback);
	CU_ASSERT_EQUAL(st[1].lcs, GP_LCS_SELECTABLE);
	CU_ASSERT_TRUE(st[1].fallback);
	CU_ASSERT_TRUE(st[1].has_granted_nv);
	CU_ASSERT_EQUAL(st[1].granted_nv, 0x10000);
	CU_ASSERT_EQUAL(st[1].remaining_nv, 0x800);
	/* only max stored, count still right */
	CU_ASSERT_EQUAL(gp_parse_get_status(r, n, st, 1), 2);
	CU_ASSERT_EQUAL(gp_parse_get_status(r, n, NULL, 0), 2);
	/* empty response */
	CU_ASSERT_EQUAL(gp_parse_get_status(r, 0, st, 4), 0);

	/* malformed */
	r = test_hex("E303 9F7001", &n);
	CU_ASSERT_EQUAL(gp_parse_get_status(r, n, st, 4), -EMSGSIZE);
	r = test_hex("E304 9F70013F", &n);
	CU_ASSERT_EQUAL(gp_parse_get_status(r, n, st, 4), -ENOENT);	/* no AID */
	r = test_hex("E1024F00", &n);
	CU_ASSERT_EQUAL(gp_parse_get_status(r, n, st, 4), -EBADMSG);
	r = test_hex("E306 4F04A0000005", &n);
	CU_ASSERT_EQUAL(gp_parse_get_status(r, n, st, 4), -EBADMSG);	/* AID too short */
	r = test_hex("E317 4F10" ISDP_AID "9F7000 ", &n);
	CU_ASSERT_EQUAL(gp_parse_get_status(r, n, st, 4), -EMSGSIZE);
	r = test_hex("E316 4F10" ISDP_AID "9F700000", &n);
	CU_ASSERT_EQUAL(gp_parse_get_status(r, n, st, 4), -EBADMSG);	/* empty LCS */
}

static void test_parse_eid_resources(void)
{
	struct gp_card_resources res;
	uint8_t eid[16];
	size_t n;
	uint8_t *r = test_hex("5A10 89049032123451234512345678901235", &n);

	CU_ASSERT_EQUAL(gp_parse_eid_response(r, n, eid), 0);
	TEST_ASSERT_HEX(eid, 16, "89049032123451234512345678901235");
	CU_ASSERT_EQUAL(gp_parse_eid_response(r, n - 1, eid), -EMSGSIZE);
	r = test_hex("5A0F 890490321234512345123456789012", &n);
	CU_ASSERT_EQUAL(gp_parse_eid_response(r, n, eid), -EBADMSG);
	r = test_hex("4C10 89049032123451234512345678901235", &n);
	CU_ASSERT_EQUAL(gp_parse_eid_response(r, n, eid), -EBADMSG);

	r = test_hex("FF21 0B 810103 82030100AB 830108", &n);
	CU_ASSERT_EQUAL(gp_parse_card_resources(r, n, &res), 0);
	CU_ASSERT_TRUE(res.has_apps);
	CU_ASSERT_EQUAL(res.apps, 3);
	CU_ASSERT_EQUAL(res.free_nv, 0x0100AB);
	CU_ASSERT_EQUAL(res.free_v, 8);
	r = test_hex("BF30 0E FF21 0B 810103 82030100AB 830108", &n);
	CU_ASSERT_EQUAL(gp_parse_card_resources(r, n, &res), 0);
	CU_ASSERT_EQUAL(res.free_nv, 0x0100AB);
	r = test_hex("BF30 02 8000", &n);
	CU_ASSERT_EQUAL(gp_parse_card_resources(r, n, &res), -ENOENT);
	r = test_hex("FF21 03 820500", &n);
	CU_ASSERT_EQUAL(gp_parse_card_resources(r, n, &res), -EMSGSIZE);
	r = test_hex("FF21 02 8200", &n);
	CU_ASSERT_EQUAL(gp_parse_card_resources(r, n, &res), -EBADMSG);
}

#define EID_HEX "89049032123451234512345678901235"

static void test_parse_notification(void)
{
	struct gp_notification nt;
	size_t n;
	uint8_t *r;

	r = test_hex("E1 2B 4C10" EID_HEX "4D0102 2F10" ISDP_AID "4E020007", &n);
	CU_ASSERT_EQUAL(gp_parse_notification(r, n, &nt), 0);
	TEST_ASSERT_HEX(nt.eid, 16, EID_HEX);
	CU_ASSERT_EQUAL(nt.type, GP_NOTIF_PROFILE_CHANGE_OK);
	CU_ASSERT_TRUE(nt.has_aid);
	TEST_ASSERT_HEX(nt.aid, nt.aid_len, ISDP_AID);
	CU_ASSERT_EQUAL(nt.seq, 7);
	CU_ASSERT_FALSE(nt.has_imei);
	CU_ASSERT_STRING_EQUAL(gp_notif_type_name(nt.type), "profile change succeeded");

	/* eUICC declaration with IMEI and MEID, CR-flagged tags */
	r = test_hex("E1 2C 4C10" EID_HEX "4D0101 9408 3512345678901234 ED07 A1000001234567 4E021234", &n);
	CU_ASSERT_EQUAL(gp_parse_notification(r, n, &nt), 0);
	CU_ASSERT_EQUAL(nt.type, GP_NOTIF_EUICC_DECLARATION);
	CU_ASSERT_FALSE(nt.has_aid);
	CU_ASSERT_TRUE(nt.has_imei);
	TEST_ASSERT_HEX(nt.imei, nt.imei_len, "3512345678901234");
	CU_ASSERT_TRUE(nt.has_meid);
	CU_ASSERT_EQUAL(nt.meid_len, 7);
	CU_ASSERT_EQUAL(nt.seq, 0x1234);

	/* missing sequence number */
	r = test_hex("E1 15 4C10" EID_HEX "4D0102", &n);
	CU_ASSERT_EQUAL(gp_parse_notification(r, n, &nt), -ENOENT);
	/* wrong sizes */
	r = test_hex("E1 18 4C10" EID_HEX "4D0102 4E0107", &n);
	CU_ASSERT_EQUAL(gp_parse_notification(r, n, &nt), -EBADMSG);
	r = test_hex("E1 14 4C0F" "890490321234512345123456789012" "4D0102", &n);
	CU_ASSERT_EQUAL(gp_parse_notification(r, n, &nt), -EBADMSG);
	/* wrong outer tag, trailing bytes, truncation */
	r = test_hex("E2 19 4C10" EID_HEX "4D0102 4E020007", &n);
	CU_ASSERT_EQUAL(gp_parse_notification(r, n, &nt), -EBADMSG);
	r = test_hex("E1 19 4C10" EID_HEX "4D0102 4E020007 00", &n);
	CU_ASSERT_EQUAL(gp_parse_notification(r, n, &nt), -EBADMSG);
	{
		size_t cut;

		r = test_hex("E1 2B 4C10" EID_HEX "4D0102 2F10" ISDP_AID "4E020007", &n);
		for (cut = 0; cut < n; cut++) {
			uint8_t *p = talloc_memdup(g_test_ctx, r, cut ? cut : 1);
			int rc = gp_parse_notification(p, cut, &nt);

			CU_ASSERT(rc == -EBADMSG || rc == -EMSGSIZE);
			talloc_free(p);
		}
	}
}

static void test_parse_notification_confirm(void)
{
	uint8_t aids[4][GP_AID_MAX];
	size_t lens[4], n;
	uint8_t *r;

	CU_ASSERT_EQUAL(gp_parse_notification_confirm(NULL, 0, aids, lens, 4), 0);
	r = test_hex("80 24 4F10A0000005591010FFFFFFFF8900001000 4F10" ISDP_AID, &n);
	CU_ASSERT_EQUAL(gp_parse_notification_confirm(r, n, aids, lens, 4), 2);
	CU_ASSERT_EQUAL(lens[1], 16);
	TEST_ASSERT_HEX(aids[1], 16, ISDP_AID);
	CU_ASSERT_EQUAL(gp_parse_notification_confirm(r, n, aids, lens, 1), 2);
	r = test_hex("80 02 4F00", &n);
	CU_ASSERT_EQUAL(gp_parse_notification_confirm(r, n, aids, lens, 4), -EBADMSG);
	r = test_hex("81 00", &n);
	CU_ASSERT_EQUAL(gp_parse_notification_confirm(r, n, aids, lens, 4), -EBADMSG);
	r = test_hex("80 05 4F10", &n);
	CU_ASSERT_EQUAL(gp_parse_notification_confirm(r, n, aids, lens, 4), -EMSGSIZE);
}

static const struct test_case apdu_cases[] = {
	TEST_CASE(test_install_params_vectors),
	TEST_CASE(test_create_isdp),
	TEST_CASE(test_install_perso),
	TEST_CASE(test_store_data),
	TEST_CASE(test_delete_status_data),
	TEST_CASE(test_sw),
	TEST_CASE(test_parse_get_status),
	TEST_CASE(test_parse_eid_resources),
	TEST_CASE(test_parse_notification),
	TEST_CASE(test_parse_notification_confirm),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "gp_apdu", NULL, NULL, apdu_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
