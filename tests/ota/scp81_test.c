/* Tests for the SCP81 pieces (GP Amd B triggering parameters, SGP.02 PSK identity, X-Admin-* headers). */
#include <errno.h>
#include <ctype.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/ota/scp81.h>

#include "testlib.h"

#define VEC "scp81_admin_session_trigger_tlvs"

/* Wrap one vector TLV so that it sits where GP Amd B Table 3-3 puts it: 85 in 83; 8A/8C in 89 in 83. */
static char *wrap_vector(const char *tlv_hex)
{
	size_t l = strlen(tlv_hex) / 2;
	char *s;

	if (!strncasecmp(tlv_hex, "85", 2))
		s = talloc_asprintf(g_test_ctx, "81%02zx83%02zx%s", l + 2, l, tlv_hex);
	else
		s = talloc_asprintf(g_test_ctx, "81%02zx83%02zx89%02zx%s", l + 4, l + 2, l, tlv_hex);
	return s;
}

static void test_trigger_vectors(void)
{
	unsigned int i, n = 0;
	const char *key;

	for (i = 0; (key = test_vector_key(i, VEC, NULL)); i++) {
		struct ota_scp81_trigger t = { 0 }, *p;
		const char *wrapped = wrap_vector(key);
		uint8_t *b, *out, *psk = NULL;
		size_t len, out_len, psk_len = 0;

		n++;
		if (!strncasecmp(key, "85", 2)) {
			const char *kvn = test_vector(VEC, key, "kvn", NULL);
			const char *kid = test_vector(VEC, key, "kid", NULL);
			const char *sha = test_vector(VEC, key, "sha_type", NULL);

			CU_ASSERT_PTR_NOT_NULL_FATAL(kvn);
			CU_ASSERT_PTR_NOT_NULL_FATAL(kid);
			psk = test_hex(test_vector(VEC, key, "psk_id", NULL), &psk_len);
			t.has_security = true;
			t.security.psk_id = psk;
			t.security.psk_id_len = psk_len;
			t.security.kvn = atoi(kvn);
			t.security.kid = atoi(kid);
			if (sha && strcmp(sha, "null")) {
				t.security.has_sha_type = true;
				t.security.sha_type = atoi(sha);
			}
		} else {
			const char *str = test_vector(VEC, key, NULL);

			CU_ASSERT_PTR_NOT_NULL_FATAL(str);
			t.has_http_post = true;
			if (!strncasecmp(key, "8a", 2))
				t.admin_host = str;
			else if (!strncasecmp(key, "8c", 2))
				t.admin_uri = str;
			else
				CU_FAIL("unexpected vector tag");
		}

		/* build: byte-exact */
		CU_ASSERT_EQUAL_FATAL(ota_scp81_trigger_build(g_test_ctx, &t, &out, &out_len), 0);
		TEST_ASSERT_HEX(out, out_len, wrapped);

		/* parse: the same fields */
		b = test_hex(wrapped, &len);
		CU_ASSERT_EQUAL_FATAL(ota_scp81_trigger_parse(g_test_ctx, b, len, &p), 0);
		CU_ASSERT_FALSE(p->use_defaults);
		CU_ASSERT_EQUAL(p->has_security, t.has_security);
		CU_ASSERT_EQUAL(p->has_http_post, t.has_http_post);
		if (t.has_security) {
			TEST_ASSERT_HEX(p->security.psk_id, p->security.psk_id_len,
					test_vector(VEC, key, "psk_id", NULL));
			CU_ASSERT_EQUAL(p->security.kvn, t.security.kvn);
			CU_ASSERT_EQUAL(p->security.kid, t.security.kid);
			CU_ASSERT_EQUAL(p->security.has_sha_type, t.security.has_sha_type);
		}
		if (t.admin_host) {
			CU_ASSERT_STRING_EQUAL(p->admin_host, t.admin_host);
		} else {
			CU_ASSERT_PTR_NULL(p->admin_host);
		}
		if (t.admin_uri) {
			CU_ASSERT_STRING_EQUAL(p->admin_uri, t.admin_uri);
		} else {
			CU_ASSERT_PTR_NULL(p->admin_uri);
		}
		CU_ASSERT_PTR_NULL(p->agent_id);
	}
	CU_ASSERT_EQUAL(n, 3);
}

/* OPEN CHANNEL TLVs as in SGP.02 §7.3: default bearer, buffer size, TCP client port 443, IPv4 10.0.0.1 */
#define CONN_HEX "350103 39020400 3C03020 1BB 3E05210A000001"

static void test_trigger_full_roundtrip(void)
{
	static const uint8_t fqdn[] = "\x04smsr\x07""example\x03""com";
	static const uint8_t dnsconn[] = { 0x3E, 0x05, 0x21, 8, 8, 8, 8 };
	static const uint8_t psk[] = { 0x80, 0x01, 0x02 };
	uint8_t extsec[200];
	struct ota_scp81_trigger t = { 0 }, *p;
	uint8_t *conn, *out;
	size_t conn_len, out_len;

	memset(extsec, 0x3C, sizeof(extsec));
	conn = test_hex(CONN_HEX, &conn_len);
	t.has_conn_params = true;
	t.conn_params = conn;
	t.conn_params_len = conn_len;
	t.has_security = true;
	t.security = (struct ota_scp81_security_params){ psk, sizeof(psk), 0x40, 0x01, true, 0x02 };
	t.has_ext_security = true;
	t.ext_security = extsec;
	t.ext_security_len = sizeof(extsec);	/* forces the 81 xx length form on A5, 82 xx xx on 83 and 81 */
	t.has_retry = true;
	t.retry = (struct ota_scp81_retry_policy){ 3, { 0x00, 0x01, 0x30 }, true };
	t.has_http_post = true;
	t.admin_host = "smsr.example.com";
	t.agent_id = "//se-id/eid/89049032123451234512345678901235;//aa-id/aid/A000000559/1010FFFFFFFF8900000100";
	t.admin_uri = "/gsma/adminagent/42";
	t.has_dns = true;
	t.ras_fqdn = fqdn;
	t.ras_fqdn_len = sizeof(fqdn) - 1;
	t.dns_conn = dnsconn;
	t.dns_conn_len = sizeof(dnsconn);

	CU_ASSERT_EQUAL_FATAL(ota_scp81_trigger_build(g_test_ctx, &t, &out, &out_len), 0);
	/* outer: 81 82 xx xx 83 82 xx xx 84 13 <conn> 85 08 03 800102 02 40 01 02 */
	TEST_ASSERT_HEX(out, 1, "81");
	CU_ASSERT_EQUAL(out[1], 0x82);
	CU_ASSERT_EQUAL(out[4], 0x83);
	CU_ASSERT_EQUAL(out[5], 0x82);
	TEST_ASSERT_HEX(out + 8, 2 + conn_len + 10, "8413" CONN_HEX "8508 03800102 024001 02");
	TEST_ASSERT_HEX(out + 8 + 2 + conn_len + 10, 3, "A581C8");

	CU_ASSERT_EQUAL_FATAL(ota_scp81_trigger_parse(g_test_ctx, out, out_len, &p), 0);
	CU_ASSERT_TRUE(p->has_conn_params);
	TEST_ASSERT_HEX(p->conn_params, p->conn_params_len, CONN_HEX);
	CU_ASSERT_TRUE(p->has_security);
	TEST_ASSERT_HEX(p->security.psk_id, p->security.psk_id_len, "800102");
	CU_ASSERT_EQUAL(p->security.kvn, 0x40);
	CU_ASSERT_EQUAL(p->security.kid, 0x01);
	CU_ASSERT_TRUE(p->security.has_sha_type);
	CU_ASSERT_EQUAL(p->security.sha_type, 0x02);
	CU_ASSERT_TRUE(p->has_ext_security);
	CU_ASSERT_EQUAL(p->ext_security_len, sizeof(extsec));
	CU_ASSERT(memcmp(p->ext_security, extsec, sizeof(extsec)) == 0);
	CU_ASSERT_TRUE(p->has_retry);
	CU_ASSERT_EQUAL(p->retry.counter, 3);
	TEST_ASSERT_HEX(p->retry.delay, 3, "000130");
	CU_ASSERT_TRUE(p->retry.report_failure);
	CU_ASSERT_STRING_EQUAL(p->admin_host, t.admin_host);
	CU_ASSERT_STRING_EQUAL(p->agent_id, t.agent_id);
	CU_ASSERT_STRING_EQUAL(p->admin_uri, t.admin_uri);
	CU_ASSERT_TRUE(p->has_dns);
	CU_ASSERT_EQUAL(p->ras_fqdn_len, sizeof(fqdn) - 1);
	CU_ASSERT(memcmp(p->ras_fqdn, fqdn, sizeof(fqdn) - 1) == 0);
	TEST_ASSERT_HEX(p->dns_conn, p->dns_conn_len, "3E052108080808");

	/* and it rebuilds to the same bytes */
	{
		uint8_t *out2;
		size_t out2_len;

		CU_ASSERT_EQUAL(ota_scp81_trigger_build(g_test_ctx, p, &out2, &out2_len), 0);
		CU_ASSERT_EQUAL(out2_len, out_len);
		CU_ASSERT(memcmp(out, out2, out_len) == 0);
	}
}

static void test_trigger_small(void)
{
	struct ota_scp81_trigger t = { 0 }, *p;
	uint8_t *out, *b;
	size_t len;

	/* nothing, or use_defaults: "81 00" (the form NJ sends to use the card's stored parameters) */
	CU_ASSERT_EQUAL(ota_scp81_trigger_build(g_test_ctx, &t, &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "8100");
	t.use_defaults = true;
	t.has_http_post = true;
	t.admin_uri = "/x";
	CU_ASSERT_EQUAL(ota_scp81_trigger_build(g_test_ctx, &t, &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "8100");
	CU_ASSERT_EQUAL(ota_scp81_trigger_parse(g_test_ctx, out, len, &p), 0);
	CU_ASSERT_TRUE(p->use_defaults);
	CU_ASSERT_FALSE(p->has_http_post);

	/* retry policy without failure report, timer tag 25 accepted */
	memset(&t, 0, sizeof(t));
	t.has_retry = true;
	t.retry = (struct ota_scp81_retry_policy){ 0x0102, { 1, 2, 3 }, false };
	CU_ASSERT_EQUAL(ota_scp81_trigger_build(g_test_ctx, &t, &out, &len), 0);
	TEST_ASSERT_HEX(out, len, "810B 8309 8607 0102 A503 010203");
	b = test_hex("810B 8309 8607 0102 2503 010203", &len);
	CU_ASSERT_EQUAL(ota_scp81_trigger_parse(g_test_ctx, b, len, &p), 0);
	CU_ASSERT_EQUAL(p->retry.counter, 0x0102);
	CU_ASSERT_FALSE(p->retry.report_failure);

	/* empty 83 and empty B3, empty values */
	b = test_hex("8106 8300 B302 D600", &len);
	CU_ASSERT_EQUAL(ota_scp81_trigger_parse(g_test_ctx, b, len, &p), 0);
	CU_ASSERT_FALSE(p->use_defaults);
	CU_ASSERT_TRUE(p->has_dns);
	CU_ASSERT_PTR_NOT_NULL(p->ras_fqdn);
	CU_ASSERT_EQUAL(p->ras_fqdn_len, 0);
	CU_ASSERT_PTR_NULL(p->dns_conn);

	/* build argument errors */
	memset(&t, 0, sizeof(t));
	t.has_security = true;
	t.security.psk_id_len = 4;
	CU_ASSERT_EQUAL(ota_scp81_trigger_build(g_test_ctx, &t, &out, &len), -EINVAL);
	t.security.psk_id_len = 256;
	t.security.psk_id = talloc_zero_size(g_test_ctx, 256);
	CU_ASSERT_EQUAL(ota_scp81_trigger_build(g_test_ctx, &t, &out, &len), -EINVAL);
	memset(&t, 0, sizeof(t));
	t.has_conn_params = true;
	t.conn_params_len = 2;
	CU_ASSERT_EQUAL(ota_scp81_trigger_build(g_test_ctx, &t, &out, &len), -EINVAL);
	CU_ASSERT_EQUAL(ota_scp81_trigger_build(g_test_ctx, NULL, &out, &len), -EINVAL);
}

struct neg {
	const char *hex;
	int rc;
	const char *why;
};

static void test_trigger_negative(void)
{
	static const struct neg v[] = {
		{ "8200", -EBADMSG, "wrong outer tag" },
		{ "8100 00", -EBADMSG, "trailing byte" },
		{ "8101", -EMSGSIZE, "outer length exceeds" },
		{ "81", -EBADMSG, "tag only" },
		{ "8102 8400", -EBADMSG, "84 outside 83" },
		{ "8104 8300 8300", -EBADMSG, "83 twice" },
		{ "8104 B300 B300", -EBADMSG, "B3 twice" },
		{ "8104 8302 8800", -EBADMSG, "unknown tag in 83" },
		{ "8106 8304 8400 8400", -EBADMSG, "84 twice" },
		{ "8104 8302 8500", -EBADMSG, "85 empty" },
		{ "810B 8309 8507 01AA 0200400102", -EBADMSG, "85 too long" },
		{ "8107 8305 8503 00 0200", -EBADMSG, "85 without KID" },
		{ "8108 8306 8504 00 030040", -EBADMSG, "85 kvn/kid length not 2" },
		{ "8108 8306 8504 05 020040", -EBADMSG, "85 psk length exceeds" },
		{ "810A 8308 8606 0001 A503 0000", -EBADMSG, "86 short timer" },
		{ "810B 8309 8607 0001 A403 000000", -EBADMSG, "86 wrong timer tag" },
		{ "810B 8309 8607 0001 A502 000000", -EBADMSG, "86 wrong timer length" },
		{ "810D 830B 8609 0001 A503 000000 8701", -EBADMSG, "86 bad report" },
		{ "810D 830B 8609 0001 A503 000000 8800", -EBADMSG, "86 wrong report tag" },
		{ "8106 8304 8902 8D00", -EBADMSG, "unknown tag in 89" },
		{ "8108 8306 8904 8A00 8A00", -EBADMSG, "8A twice" },
		{ "8107 8305 8903 8A01 00", -EBADMSG, "NUL in a string" },
		{ "8104 B302 D700", -EBADMSG, "unknown tag in B3" },
		{ "8106 B304 FA00 FA00", -EBADMSG, "FA twice" },
		{ "8104 8302 8403", -EMSGSIZE, "inner length exceeds" },
		{ "8104 8302 8480", -EBADMSG, "indefinite inner length" },
	};
	struct ota_scp81_trigger *p;
	unsigned int i;
	uint8_t *b;
	size_t len;
	int rc;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		b = test_hex(v[i].hex, &len);
		rc = ota_scp81_trigger_parse(g_test_ctx, b, len, &p);
		if (rc != v[i].rc)
			printf("\n%s (%s): rc=%d expected %d\n", v[i].hex, v[i].why, rc, v[i].rc);
		CU_ASSERT_EQUAL(rc, v[i].rc);
	}
	CU_ASSERT_EQUAL(ota_scp81_trigger_parse(g_test_ctx, NULL, 0, &p), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_trigger_parse(g_test_ctx, b, len, NULL), -EINVAL);
}

static void test_trigger_truncation_and_flips(void)
{
	static const uint8_t psk[] = { 0xDE, 0xAD, 0xBE, 0xEF };
	struct ota_scp81_trigger t = { 0 }, *p;
	uint8_t *out, *c, *conn;
	size_t len, n, k, conn_len;
	int rc;

	conn = test_hex(CONN_HEX, &conn_len);
	t.has_conn_params = true;
	t.conn_params = conn;
	t.conn_params_len = conn_len;
	t.has_security = true;
	t.security = (struct ota_scp81_security_params){ psk, sizeof(psk), 0x40, 0x01, false, 0 };
	t.has_retry = true;
	t.retry = (struct ota_scp81_retry_policy){ 3, { 0, 1, 0 }, true };
	t.has_http_post = true;
	t.admin_host = "admin.host";
	t.admin_uri = "https://admin.host/uri";
	t.has_dns = true;
	t.ras_fqdn = psk;
	t.ras_fqdn_len = 2;
	CU_ASSERT_EQUAL_FATAL(ota_scp81_trigger_build(g_test_ctx, &t, &out, &len), 0);
	CU_ASSERT_EQUAL(ota_scp81_trigger_parse(g_test_ctx, out, len, &p), 0);
	for (n = 0; n < len; n++) {
		c = talloc_memdup(g_test_ctx, out, n ? n : 1);
		rc = ota_scp81_trigger_parse(g_test_ctx, c, n, &p);
		CU_ASSERT(rc == -EBADMSG || rc == -EMSGSIZE);
		talloc_free(c);
	}
	for (k = 0; k < len; k++) {
		c = talloc_memdup(g_test_ctx, out, len);
		c[k] ^= 0xFF;
		rc = ota_scp81_trigger_parse(g_test_ctx, c, len, &p);
		CU_ASSERT(rc == 0 || rc == -EBADMSG || rc == -EMSGSIZE);
		talloc_free(c);
	}
}

#define EID_HEX "89049032123451234512345678901235"
#define ISDR_AID_HEX "A0000005591010FFFFFFFF8900000100"
#define PSK_ID_HEX "800102" "8110" EID_HEX "4F10" ISDR_AID_HEX "820101" "830140"

static void test_psk_id(void)
{
	struct ota_scp81_psk_id id = { .format = OTA_SCP81_PSK_ID_FORMAT_FQ, .aid_len = 16, .key_id = 1, .kvn = 0x40 };
	struct ota_scp81_psk_id d;
	uint8_t *b, bin[64];
	size_t len;
	char *hex, *lower;
	unsigned int i;

	b = test_hex(EID_HEX, &len);
	memcpy(id.eid, b, 16);
	b = test_hex(ISDR_AID_HEX, &len);
	memcpy(id.aid, b, 16);

	CU_ASSERT_EQUAL(ota_scp81_psk_id_encode(g_test_ctx, &id, &hex), 0);
	CU_ASSERT_STRING_EQUAL(hex, PSK_ID_HEX);
	CU_ASSERT_EQUAL(ota_scp81_psk_id_encode_bin(bin, sizeof(bin), &id), 45);
	CU_ASSERT_EQUAL(ota_scp81_psk_id_encode_bin(bin, 44, &id), -EMSGSIZE);

	CU_ASSERT_EQUAL(ota_scp81_psk_id_decode(&d, hex, strlen(hex)), 0);
	CU_ASSERT(memcmp(&d, &id, sizeof(d)) == 0);
	/* lower case and a string that is not NUL-terminated at hex_len */
	lower = talloc_asprintf(g_test_ctx, "%sFFFF", hex);
	for (i = 0; lower[i]; i++)
		lower[i] = tolower((unsigned char)lower[i]);
	CU_ASSERT_EQUAL(ota_scp81_psk_id_decode(&d, lower, strlen(hex)), 0);
	CU_ASSERT(memcmp(&d, &id, sizeof(d)) == 0);

	/* only two of the five TLVs */
	CU_ASSERT_EQUAL(ota_scp81_psk_id_decode(&d, "830141820102", 12), -EBADMSG);
	/* any order, shorter AID */
	{
		const char *h = "830141" "820102" "4F05A000000559" "8110" EID_HEX "800102";

		CU_ASSERT_EQUAL(ota_scp81_psk_id_decode(&d, h, strlen(h)), 0);
		CU_ASSERT_EQUAL(d.kvn, 0x41);
		CU_ASSERT_EQUAL(d.key_id, 2);
		CU_ASSERT_EQUAL(d.aid_len, 5);
	}

	id.aid_len = 4;
	CU_ASSERT_EQUAL(ota_scp81_psk_id_encode(g_test_ctx, &id, &hex), -EINVAL);
	id.aid_len = 17;
	CU_ASSERT_EQUAL(ota_scp81_psk_id_encode_bin(bin, sizeof(bin), &id), -EINVAL);
}

static void test_psk_id_negative(void)
{
	static const struct neg v[] = {
		{ "", -EBADMSG, "empty" },
		{ PSK_ID_HEX "0", -EBADMSG, "odd length" },
		{ "800102 8110" EID_HEX "4F10" ISDR_AID_HEX "820101 83014G", -EBADMSG, "bad hex digit" },
		{ "8110" EID_HEX "4F10" ISDR_AID_HEX "820101 830140", -EBADMSG, "format missing" },
		{ "800102 800102 8110" EID_HEX "4F10" ISDR_AID_HEX "820101 830140", -EBADMSG, "format twice" },
		{ "800102 810F" EID_HEX "4F10" ISDR_AID_HEX "820101 830140", -EBADMSG, "EID length" },
		{ "800102 8110" EID_HEX "4F04A0000005 820101 830140", -EBADMSG, "AID too short" },
		{ "80020201 8110" EID_HEX "4F10" ISDR_AID_HEX "820101 830140", -EBADMSG, "format length" },
		{ "800102 8110" EID_HEX "4F10" ISDR_AID_HEX "820101 830140 840100", -EBADMSG, "unknown tag" },
		{ "800102 8110" EID_HEX "4F10" ISDR_AID_HEX "820101 8302", -EMSGSIZE, "truncated value" },
		{ "800102 8110" EID_HEX "4F10" ISDR_AID_HEX "820101 83", -EBADMSG, "truncated length" },
	};
	struct ota_scp81_psk_id d;
	unsigned int i;
	char *h;
	int rc;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* strip the blanks used for readability */
		h = talloc_strdup(g_test_ctx, v[i].hex);
		{
			char *w = h;
			const char *r;

			for (r = v[i].hex; *r; r++)
				if (*r != ' ')
					*w++ = *r;
			*w = '\0';
		}
		rc = ota_scp81_psk_id_decode(&d, h, strlen(h));
		if (rc != v[i].rc)
			printf("\n%s (%s): rc=%d expected %d\n", v[i].hex, v[i].why, rc, v[i].rc);
		CU_ASSERT_EQUAL(rc, v[i].rc);
	}
	h = talloc_zero_size(g_test_ctx, 1000);
	memset(h, '0', 999);
	CU_ASSERT_EQUAL(ota_scp81_psk_id_decode(&d, h, 999), -EMSGSIZE);
	CU_ASSERT_EQUAL(ota_scp81_psk_id_decode(NULL, h, 2), -EINVAL);
	CU_ASSERT_EQUAL(ota_scp81_psk_id_decode(&d, NULL, 2), -EINVAL);
}

static void test_headers_status(void)
{
	static const char *names[] = { "ok", "unknown-application", "not-a-security-domain", "security-error",
				       "unavailable-se", "temporarily-unavailable-application",
				       "script-format-error" };
	unsigned int i;
	bool r;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		CU_ASSERT_STRING_EQUAL(ota_scp81_script_status_name(i), names[i]);
		CU_ASSERT_EQUAL(ota_scp81_script_status_parse(names[i]), (int)i);
	}
	CU_ASSERT_PTR_NULL(ota_scp81_script_status_name(7));
	CU_ASSERT_EQUAL(ota_scp81_script_status_parse(" Security-Error "), OTA_SCP81_ST_SECURITY_ERROR);
	CU_ASSERT_EQUAL(ota_scp81_script_status_parse("okay"), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_script_status_parse(""), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_script_status_parse(NULL), -EINVAL);

	CU_ASSERT_EQUAL(ota_scp81_resume_parse(NULL, &r), 0);
	CU_ASSERT_FALSE(r);
	CU_ASSERT_EQUAL(ota_scp81_resume_parse(" TRUE", &r), 0);
	CU_ASSERT_TRUE(r);
	CU_ASSERT_EQUAL(ota_scp81_resume_parse("false", &r), 0);
	CU_ASSERT_FALSE(r);
	CU_ASSERT_EQUAL(ota_scp81_resume_parse("yes", &r), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_resume_parse("true", NULL), -EINVAL);
}

static void test_headers_protocol_ct(void)
{
	CU_ASSERT_EQUAL(ota_scp81_protocol_check(OTA_SCP81_PROTOCOL), 0);
	CU_ASSERT_EQUAL(ota_scp81_protocol_check(" GlobalPlatform-Remote-Admin/1.0 "), 0);
	CU_ASSERT_EQUAL(ota_scp81_protocol_check("globalplatform-remote-admin/1.1.1"), -ENOTSUP);
	CU_ASSERT_EQUAL(ota_scp81_protocol_check("globalplatform-remote-admin/"), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_protocol_check("http/1.1"), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_protocol_check(NULL), -EINVAL);

	CU_ASSERT_EQUAL(ota_scp81_content_type_check(OTA_SCP81_CT_COMMAND, false), 0);
	CU_ASSERT_EQUAL(ota_scp81_content_type_check(OTA_SCP81_CT_RESPONSE, true), 0);
	CU_ASSERT_EQUAL(ota_scp81_content_type_check(OTA_SCP81_CT_COMMAND, true), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_content_type_check(OTA_SCP81_CT_RESPONSE, false), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_content_type_check(
		"Application/VND.globalplatform.card-content-mgt-response ; charset=binary; version = \"1.0\" ", true),
		0);
	CU_ASSERT_EQUAL(ota_scp81_content_type_check("application/vnd.globalplatform.card-content-mgt;version=1.1.1",
						     false), -ENOTSUP);
	CU_ASSERT_EQUAL(ota_scp81_content_type_check("application/vnd.globalplatform.card-content-mgt", false),
			-EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_content_type_check("application/vnd.globalplatform.card-content-mgt;version",
						     false), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_content_type_check(
		"application/vnd.globalplatform.card-content-mgt;version=1.0;version=1.0", false), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_content_type_check("application/octet-stream", false), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_content_type_check("", false), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_content_type_check(NULL, false), -EINVAL);

	CU_ASSERT_EQUAL(ota_scp81_next_uri_check("/gsma/adminagent?cmd=2"), 0);
	CU_ASSERT_EQUAL(ota_scp81_next_uri_check(""), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_next_uri_check("/a b"), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_next_uri_check("/a\r\nX-Evil: 1"), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_next_uri_check(NULL), -EINVAL);
}

static void test_headers_ids(void)
{
	uint8_t *eid, *aid, e[16], a[16];
	size_t len, alen;
	char *s;

	eid = test_hex(EID_HEX, &len);
	aid = test_hex(ISDR_AID_HEX, &alen);

	CU_ASSERT_EQUAL(ota_scp81_admin_from_format(g_test_ctx, eid, aid, alen, &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "//se-id/eid/" EID_HEX ";//aa-id/aid/A000000559/1010FFFFFFFF8900000100");
	CU_ASSERT_EQUAL(ota_scp81_admin_from_parse(s, e, a, &len), 0);
	CU_ASSERT(memcmp(e, eid, 16) == 0);
	CU_ASSERT_EQUAL(len, 16);
	CU_ASSERT(memcmp(a, aid, 16) == 0);
	CU_ASSERT_EQUAL(ota_scp81_admin_from_format(g_test_ctx, eid, NULL, 0, &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "//se-id/eid/" EID_HEX);
	CU_ASSERT_EQUAL(ota_scp81_admin_from_parse(s, e, a, &len), 0);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(ota_scp81_admin_from_parse("//se-id/eid/" EID_HEX ";//aa-id/aid/a000000559/", e, a, &len), 0);
	CU_ASSERT_EQUAL(len, 5);
	CU_ASSERT_EQUAL(ota_scp81_admin_from_format(g_test_ctx, eid, aid, 4, &s), -EINVAL);
	CU_ASSERT_EQUAL(ota_scp81_admin_from_parse("//se-id/eid/123456", e, a, &len), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_admin_from_parse("//se-id/iccid/" EID_HEX, e, a, &len), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_admin_from_parse("//se-id/eid/" EID_HEX ";", e, a, &len), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_admin_from_parse("//se-id/eid/" EID_HEX ";//aa-id/aid/A0000005591010", e, a, &len),
			-EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_admin_from_parse("//se-id/eid/" EID_HEX ";//aa-id/aid/A000000559/101", e, a, &len),
			-EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_admin_from_parse(
		"//se-id/eid/" EID_HEX ";//aa-id/aid/A000000559/1010FFFFFFFF890000010000", e, a, &len), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_admin_from_parse(NULL, e, a, &len), -EINVAL);

	/* an ISD-P AID as in SGP.02 §7.3 */
	aid = test_hex("A0000005591010FFFFFFFF8900001000", &alen);
	CU_ASSERT_EQUAL(ota_scp81_targeted_app_format(g_test_ctx, aid, alen, &s), 0);
	CU_ASSERT_STRING_EQUAL(s, "//aid/A000000559/1010FFFFFFFF8900001000");
	CU_ASSERT_EQUAL(ota_scp81_targeted_app_parse(s, a, &len), 0);
	CU_ASSERT_EQUAL(len, 16);
	CU_ASSERT(memcmp(a, aid, 16) == 0);
	CU_ASSERT_EQUAL(ota_scp81_targeted_app_parse("//aid/A000000559", a, &len), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_targeted_app_parse("//aid/A00000055X/10", a, &len), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_targeted_app_parse("aid/A000000559/10", a, &len), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_targeted_app_format(g_test_ctx, aid, 4, &s), -EINVAL);
	CU_ASSERT_EQUAL(ota_scp81_targeted_app_format(g_test_ctx, aid, 17, &s), -EINVAL);
}

static void test_post(void)
{
	struct ota_scp81_post *p;
	uint8_t *body;
	size_t len;
	uint16_t sw;

	/* the first POST: no body, no status */
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx, NULL, NULL, NULL, NULL, 0, &p), 0);
	CU_ASSERT_FALSE(p->has_status);
	CU_ASSERT_FALSE(p->resume);
	CU_ASSERT_PTR_NULL(p->resp);

	/* a response script */
	body = test_hex("af80800101230493059000 0000", &len);
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx, OTA_SCP81_CT_RESPONSE, "ok", NULL, body, len, &p), 0);
	CU_ASSERT_TRUE(p->has_status);
	CU_ASSERT_EQUAL(p->status, OTA_SCP81_ST_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->resp);
	CU_ASSERT_EQUAL(p->resp->num_executed, 1);
	CU_ASSERT_EQUAL(ota_rapdu_resp_last_sw(p->resp, &sw), 0);
	CU_ASSERT_EQUAL(sw, 0x9000);

	/* a resumed POST */
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx, OTA_SCP81_CT_RESPONSE, "ok", "true", body, len, &p), 0);
	CU_ASSERT_TRUE(p->resume);

	/* a failed script without body */
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx, NULL, "security-error", NULL, NULL, 0, &p), 0);
	CU_ASSERT_EQUAL(p->status, OTA_SCP81_ST_SECURITY_ERROR);
	/* partial results are allowed with script-format-error */
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx, OTA_SCP81_CT_RESPONSE, "script-format-error", NULL, body, len,
					     &p), 0);

	/* negative */
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx, OTA_SCP81_CT_RESPONSE, "security-error", NULL, body, len, &p),
			-EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx, NULL, "ok", NULL, body, len, &p), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx, OTA_SCP81_CT_RESPONSE, NULL, NULL, body, len, &p), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx, OTA_SCP81_CT_COMMAND, "ok", NULL, body, len, &p), -EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx,
					     "application/vnd.globalplatform.card-content-mgt-response;version=1.1",
					     "ok", NULL, body, len, &p), -ENOTSUP);
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx, OTA_SCP81_CT_RESPONSE, "fine", NULL, body, len, &p),
			-EBADMSG);
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx, OTA_SCP81_CT_RESPONSE, "ok", "maybe", body, len, &p),
			-EBADMSG);
	/* a command template is not a response; a truncated script */
	body = test_hex("ae80220580caff21000000", &len);
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx, OTA_SCP81_CT_RESPONSE, "ok", NULL, body, len, &p), -EBADMSG);
	body = test_hex("AB09 800101 230493059000", &len);
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx, OTA_SCP81_CT_RESPONSE, "ok", NULL, body, len - 1, &p),
			-EMSGSIZE);
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx, OTA_SCP81_CT_RESPONSE, "ok", NULL, NULL, 3, &p), -EINVAL);
	CU_ASSERT_EQUAL(ota_scp81_post_parse(g_test_ctx, NULL, NULL, NULL, NULL, 0, NULL), -EINVAL);
}

static const struct test_case scp81_cases[] = {
	TEST_CASE(test_trigger_vectors),
	TEST_CASE(test_trigger_full_roundtrip),
	TEST_CASE(test_trigger_small),
	TEST_CASE(test_trigger_negative),
	TEST_CASE(test_trigger_truncation_and_flips),
	TEST_CASE(test_psk_id),
	TEST_CASE(test_psk_id_negative),
	TEST_CASE(test_headers_status),
	TEST_CASE(test_headers_protocol_ct),
	TEST_CASE(test_headers_ids),
	TEST_CASE(test_post),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "scp81", NULL, NULL, scp81_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
