/* Tests of SM-DP profile preparation (src/smdp/smdp_prep.c, src/common/kek.c): template import of the TS.48 packages,
 * personalisation batches (validation, all-or-nothing import, secrets sealed at rest), the ICCID inventory under
 * concurrent reservations, and personalisation of a reserved ICCID.
 * Needs PostgreSQL: scripts/check starts a private one and exports PG*. Each test works in a schema of its own. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/db.h>
#include <sgp02/common/db_schema.h>
#include <sgp02/gp/saip.h>

#include <sgp02/common/kek.h>
#include "../../src/smdp/smdp_prep.h"
#include "testlib.h"

#define MNO "1.3.6.1.4.1.99999.1"
#define EID1 "89049032123451234512345678901235"

static const char *const ts48[] = {
	"ts48v7-SAIP2.3_BERTLV_SUCI.der",
	"ts48v7-SAIP2.3_BERTLV_SUCI_NoRAMRFM.der",
	"ts48v7-SAIP2.3_NoBERTLV.der",
	"ts48v7-SAIP2.3_NoBERTLV_NoRAMRFM.der",
};

static char g_schema[64];
static void *g_log_ctx;
static const uint8_t kek_bytes[32] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
				       0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
				       0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f };

static struct db *open_db(void *ctx, const char *schema)
{
	struct db *db = db_alloc(ctx, "", schema, NULL, 0);

	if (db && db_connect(db, "smdp prep_test") < 0) {
		talloc_free(db);
		return NULL;
	}
	return db;
}

/* A fresh schema at the SM-DP's version. */
static struct db *fresh_db(const char *suffix)
{
	struct db *db;
	char sql[160];

	snprintf(g_schema, sizeof(g_schema), "t_smdp_%d_%s", (int)getpid(), suffix);
	db = open_db(g_test_ctx, "public");
	CU_ASSERT_FATAL(db != NULL);
	snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", g_schema);
	CU_ASSERT_FATAL(db_exec_sql(db, sql, NULL) >= 0);
	talloc_free(db);
	db = open_db(g_test_ctx, g_schema);
	CU_ASSERT_FATAL(db != NULL);
	CU_ASSERT_FATAL(db_schema_upgrade(db, &db_schema_smdp, db_schema_smdp.num_migrations) == 0);
	return db;
}

static void drop_schema(void)
{
	struct db *db = open_db(g_test_ctx, "public");
	char sql[160];

	CU_ASSERT_FATAL(db != NULL);
	snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", g_schema);
	CU_ASSERT(db_exec_sql(db, sql, NULL) >= 0);
	talloc_free(db);
}

static uint8_t *read_profile(const char *name, size_t *len)
{
	char path[512];
	uint8_t *p;

	snprintf(path, sizeof(path), "%s/vectors/profiles/%s", test_shared_dir(), name);
	p = test_read_file(path, len);
	CU_ASSERT_FATAL(p != NULL);
	return p;
}

static void import_template(struct db *db, const char *type, unsigned int which)
{
	struct smdp_template_info ti;
	char err[256] = "";
	size_t len;
	uint8_t *pkg = read_profile(ts48[which], &len);
	int rc = smdp_template_import(db, MNO, type, pkg, len, false, "prep_test", &ti, err, sizeof(err));

	if (rc)
		fprintf(stderr, "import %s: %d %s\n", ts48[which], rc, err);
	CU_ASSERT_FATAL(rc == 0);
}

/* ICCID of row i: 19 digits + the Luhn check digit */
static void make_iccid(unsigned int i, char out[21])
{
	unsigned int sum = 0, k;

	snprintf(out, 21, "898822800000%07u", i);
	for (k = 0; k < 19; k++) {
		unsigned int d = (unsigned int)(out[18 - k] - '0');

		/* the check digit will be rightmost: the digit next to it is doubled */
		if (k % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	out[19] = (char)('0' + (10 - sum % 10) % 10);
	out[20] = '\0';
}

/* deterministic per-row key: 16 bytes derived from row and salt */
static void make_key_hex(unsigned int i, unsigned int salt, char out[33])
{
	unsigned int k;

	for (k = 0; k < 16; k++)
		snprintf(out + 2 * k, 3, "%02X", (i * 37 + salt * 101 + k * 13 + 0x5a) & 0xff);
}

static const char *BATCH_HEADER = "iccid,imsi,ki,opc,pin1,puk1,pin2,puk2,adm1,kic,kid,kik,msisdn\n";

static char *batch_line(void *ctx, unsigned int i)
{
	char iccid[21], ki[33], opc[33], kic[33], kid[33], kik[33];

	make_iccid(i, iccid);
	make_key_hex(i, 1, ki);
	make_key_hex(i, 2, opc);
	make_key_hex(i, 3, kic);
	make_key_hex(i, 4, kid);
	make_key_hex(i, 5, kik);
	return talloc_asprintf(ctx, "%s,00101%010u,%s,%s,%04u,%08u,%04u,%08u,%08u,%s,%s,%s,+4917%08u\n", iccid,
			       i, ki, opc, 1000 + i, 20000000 + i, 3000 + i, 40000000 + i, 50000000 + i, kic, kid,
			       kik, i);
}

static char *make_batch(void *ctx, unsigned int first, unsigned int n)
{
	char *s = talloc_asprintf(ctx, "# test batch\n%s", BATCH_HEADER);
	unsigned int i;

	for (i = first; i < first + n; i++)
		s = talloc_asprintf_append(s, "%s", batch_line(ctx, i));
	return s;
}

static int import_batch_text(struct db *db, const struct kek *kek, const char *type, const char *text,
			     char *err, size_t err_size)
{
	struct smdp_batch *b;
	int rc = smdp_batch_parse(g_test_ctx, text, strlen(text), &b, err, err_size);

	if (rc < 0)
		return rc;
	rc = smdp_batch_import(db, kek, MNO, type, b, "test.csv", "prep_test", NULL, err, err_size);
	talloc_free(b);
	return rc;
}

static long count_sql(struct db *db, const char *sql)
{
	PGresult *res;
	long n;

	CU_ASSERT_FATAL(db_exec_sql(db, sql, &res) == 1);
	n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* ------------------------------------------------------------------------------------------ no database */

static void test_kek(void)
{
	struct kek *k = kek_alloc(g_test_ctx, kek_bytes), *k2, *kl;
	uint8_t other[32], *sealed, *pt;
	size_t sealed_len, pt_len;
	const uint8_t secret[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	char path[128];
	FILE *f;

	CU_ASSERT_FATAL(k != NULL);
	CU_ASSERT_EQUAL(kek_seal(g_test_ctx, k, "row1/ki", secret, 16, &sealed, &sealed_len), 0);
	CU_ASSERT_EQUAL(sealed_len, 16 + KEK_OVERHEAD);
	CU_ASSERT(memmem(sealed, sealed_len, secret, 16) == NULL);
	CU_ASSERT_EQUAL(kek_open(g_test_ctx, k, "row1/ki", sealed, sealed_len, &pt, &pt_len), 0);
	CU_ASSERT_EQUAL(pt_len, 16);
	CU_ASSERT(memcmp(pt, secret, 16) == 0);
	/* another row or field */
	CU_ASSERT_EQUAL(kek_open(g_test_ctx, k, "row2/ki", sealed, sealed_len, &pt, &pt_len), -EBADMSG);
	/* another key */
	memcpy(other, kek_bytes, 32);
	other[31] ^= 1;
	k2 = kek_alloc(g_test_ctx, other);
	CU_ASSERT_EQUAL(kek_open(g_test_ctx, k2, "row1/ki", sealed, sealed_len, &pt, &pt_len), -EBADMSG);
	/* tampered */
	sealed[KEK_NONCE_LEN] ^= 0x80;
	CU_ASSERT_EQUAL(kek_open(g_test_ctx, k, "row1/ki", sealed, sealed_len, &pt, &pt_len), -EBADMSG);
	CU_ASSERT_EQUAL(kek_open(g_test_ctx, k, "row1/ki", sealed, KEK_OVERHEAD - 1, &pt, &pt_len),
			-EINVAL);

	/* key files: hex with whitespace, raw, and bad */
	snprintf(path, sizeof(path), "/tmp/smdp_prep_test_%d.kek", (int)getpid());
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fprintf(f, "101112131415161718191a1b1c1d1e1f\n 202122232425262728292A2B2C2D2E2F\n");
	fclose(f);
	CU_ASSERT_EQUAL(kek_load(g_test_ctx, path, &kl), 0);
	CU_ASSERT_EQUAL(kek_open(g_test_ctx, kl, "row1/ki", sealed, sealed_len, &pt, &pt_len), -EBADMSG);
	sealed[KEK_NONCE_LEN] ^= 0x80;
	CU_ASSERT_EQUAL(kek_open(g_test_ctx, kl, "row1/ki", sealed, sealed_len, &pt, &pt_len), 0);
	f = fopen(path, "w");
	fwrite(kek_bytes, 1, 32, f);
	fclose(f);
	CU_ASSERT_EQUAL(kek_load(g_test_ctx, path, &kl), 0);
	CU_ASSERT_EQUAL(kek_open(g_test_ctx, kl, "row1/ki", sealed, sealed_len, &pt, &pt_len), 0);
	f = fopen(path, "w");
	fprintf(f, "1011121314");
	fclose(f);
	CU_ASSERT_EQUAL(kek_load(g_test_ctx, path, &kl), -EINVAL);
	unlink(path);
	CU_ASSERT_EQUAL(kek_load(g_test_ctx, path, &kl), -ENOENT);
}

static void test_validators(void)
{
	char iccid[21];

	make_iccid(1, iccid);
	CU_ASSERT(smdp_iccid_ok(iccid));
	CU_ASSERT(smdp_iccid_ok("89014103211118510720"));	/* a well-known valid ICCID */
	CU_ASSERT(!smdp_iccid_ok("89014103211118510721"));
	CU_ASSERT(!smdp_iccid_ok("89014103211118510"));
	CU_ASSERT(!smdp_iccid_ok("8901410321111851072X"));
	CU_ASSERT(smdp_mno_id_ok("1.3.6.1.4.1.99999.1"));
	CU_ASSERT(!smdp_mno_id_ok("1..3"));
	CU_ASSERT(!smdp_mno_id_ok("1.3."));
	CU_ASSERT(!smdp_mno_id_ok("13"));
	CU_ASSERT(!smdp_mno_id_ok("1.3a"));
	CU_ASSERT(smdp_profile_type_ok("TS.48 v7 test profile"));
	CU_ASSERT(!smdp_profile_type_ok(""));
	CU_ASSERT(!smdp_profile_type_ok("a\nb"));
	CU_ASSERT_EQUAL(smdp_inv_state_parse("reserved"), SMDP_INV_RESERVED);
	CU_ASSERT_EQUAL(smdp_inv_state_parse("bogus"), -EINVAL);
}

/* Parse text, expect failure with a message that contains want. */
static void expect_parse_error(const char *text, const char *want)
{
	struct smdp_batch *b = NULL;
	char err[256] = "";
	int rc = smdp_batch_parse(g_test_ctx, text, strlen(text), &b, err, sizeof(err));

	CU_ASSERT(rc < 0);
	if (!strstr(err, want))
		fprintf(stderr, "error '%s' lacks '%s'\n", err, want);
	CU_ASSERT(strstr(err, want) != NULL);
}

static void test_batch_parse(void)
{
	char *text = make_batch(g_test_ctx, 0, 3), *bad, *l;
	struct smdp_batch *b;
	char err[256] = "", iccid[21];
	int rc;

	rc = smdp_batch_parse(g_test_ctx, text, strlen(text), &b, err, sizeof(err));
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(b->n, 3);
	make_iccid(2, iccid);
	CU_ASSERT_STRING_EQUAL(b->rows[2].iccid, iccid);
	CU_ASSERT_EQUAL(b->rows[2].line, 5);
	CU_ASSERT_STRING_EQUAL(b->rows[2].imsi, "001010000000002");
	CU_ASSERT_STRING_EQUAL(b->rows[2].msisdn, "491700000002");
	CU_ASSERT_EQUAL(b->rows[2].secret_len[SMDP_S_KI], 16);
	TEST_ASSERT_HEX(b->rows[0].secret[SMDP_S_PIN1], 8, "31303030FFFFFFFF");
	TEST_ASSERT_HEX(b->rows[0].secret[SMDP_S_PUK1], 8, "3230303030303030");

	/* optional columns missing, CRLF, spaces */
	l = talloc_asprintf(g_test_ctx, "ICCID, IMSI ,ki,opc,pin1,puk1,kic,kid,kik\r\n"
			    "%s,001010000000009,%s,%s,1234,12345678,%s,%s,%s\r\n", iccid,
			    "000102030405060708090A0B0C0D0E0F", "000102030405060708090A0B0C0D0E0F",
			    "000102030405060708090A0B0C0D0E0F", "000102030405060708090A0B0C0D0E0F",
			    "000102030405060708090A0B0C0D0E0F");
	CU_ASSERT_EQUAL(smdp_batch_parse(g_test_ctx, l, strlen(l), &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(b->rows[0].secret_len[SMDP_S_PIN2], 0);
	CU_ASSERT_STRING_EQUAL(b->rows[0].msisdn, "");

	/* wrong Luhn on line 4 (the 3rd data row): change the check digit */
	bad = talloc_strdup(g_test_ctx, text);
	l = strchr(strchr(strchr(bad, '\n') + 1, '\n') + 1, '\n') + 1;	/* line 4 */
	l[19] = l[19] == '9' ? '0' : l[19] + 1;
	expect_parse_error(bad, "line 4: iccid");
	expect_parse_error(bad, "Luhn");
	/* short Ki on line 3 */
	bad = talloc_strdup(g_test_ctx, text);
	l = strchr(strchr(bad, '\n') + 1, '\n') + 1;	/* line 3 */
	l = strchr(strchr(l, ',') + 1, ',') + 1;	/* the ki field */
	memmove(l, l + 2, strlen(l + 2) + 1);
	expect_parse_error(bad, "line 3: ki must be 32 or 64 hex digits");

	expect_parse_error("iccid,imsi\n", "line 1: header lacks the required column 'ki'");
	expect_parse_error("iccid,imsi,bogus\n", "line 1: header column 'bogus' is unknown");
	expect_parse_error("# nothing\n", "no header");
	expect_parse_error(BATCH_HEADER, "no data line");
	bad = talloc_asprintf(g_test_ctx, "%s%s%s", BATCH_HEADER, batch_line(g_test_ctx, 7),
			      batch_line(g_test_ctx, 7));
	expect_parse_error(bad, "line 3: iccid");
	expect_parse_error(bad, "repeats line 2");
	bad = talloc_asprintf(g_test_ctx, "%s%s%s%s%s%s", BATCH_HEADER, batch_line(g_test_ctx, 9),
			      batch_line(g_test_ctx, 8), batch_line(g_test_ctx, 5), batch_line(g_test_ctx, 8),
			      batch_line(g_test_ctx, 9));
	expect_parse_error(bad, "line 5: iccid");
	expect_parse_error(bad, "repeats line 3");
	bad = talloc_asprintf(g_test_ctx, "%s%s", BATCH_HEADER, "1,2,3\n");
	expect_parse_error(bad, "line 2: 3 fields where the header has 13");
}

/* ------------------------------------------------------------------------------------------ with PostgreSQL */

static void test_template_import(void)
{
	struct db *db = fresh_db("tpl");
	char type[32], err[256];
	struct smdp_template_info ti;
	uint8_t *pkg, *back;
	size_t len, back_len;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ts48); i++) {
		snprintf(type, sizeof(type), "ts48-%u", i);
		import_template(db, type, i);
		pkg = read_profile(ts48[i], &len);
		CU_ASSERT_EQUAL(smdp_template_get(g_test_ctx, db, MNO, type, &back, &back_len), 0);
		CU_ASSERT_EQUAL(back_len, len);
		CU_ASSERT(memcmp(back, pkg, len) == 0);
	}
	CU_ASSERT_EQUAL(count_sql(db, "SELECT count(*) FROM profile_template WHERE saip_major = 2 AND pe_count > 10"
				  " AND octet_length(package) > 10000 AND length(header_iccid) >= 18"), 4);
	CU_ASSERT_EQUAL(count_sql(db, "SELECT count(*) FROM profile_type"), 4);
	CU_ASSERT_EQUAL(count_sql(db, "SELECT count(*) FROM audit WHERE action = 'import-template'"), 4);

	/* again: refused unless replacing */
	pkg = read_profile(ts48[0], &len);
	CU_ASSERT_EQUAL(smdp_template_import(db, MNO, "ts48-1", pkg, len, false, "t", NULL, err, sizeof(err)),
			-EEXIST);
	CU_ASSERT_EQUAL(smdp_template_import(db, MNO, "ts48-1", pkg, len, true, "t", &ti, err, sizeof(err)), 0);
	CU_ASSERT(ti.pe_count > 10);
	CU_ASSERT_EQUAL(smdp_template_get(g_test_ctx, db, MNO, "ts48-1", &back, &back_len), 0);
	CU_ASSERT(back_len == len && memcmp(back, pkg, len) == 0);
	/* not SAIP: truncated, or no PE-End */
	CU_ASSERT_EQUAL(smdp_template_import(db, MNO, "bad", pkg, len - 1, false, "t", NULL, err, sizeof(err)),
			-EBADMSG);
	CU_ASSERT(strstr(err, "not a SAIP") != NULL);
	CU_ASSERT_EQUAL(smdp_template_import(db, "nooid", "bad", pkg, len, false, "t", NULL, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(smdp_template_get(g_test_ctx, db, MNO, "bad", &back, &back_len), -ENOENT);
	drop_schema();
}

static void test_batch_import(void)
{
	struct db *db = fresh_db("batch");
	struct kek *kek = kek_alloc(g_test_ctx, kek_bytes);
	char err[256] = "", *text, *l, ki[33], sql[256];
	struct smdp_inv_count *c;
	unsigned int n;
	int rc;

	/* no template yet */
	text = make_batch(g_test_ctx, 0, 100);
	CU_ASSERT_EQUAL(import_batch_text(db, kek, "ts48", text, err, sizeof(err)), -ENOENT);
	CU_ASSERT(strstr(err, "no template") != NULL);
	import_template(db, "ts48", 2);

	rc = import_batch_text(db, kek, "ts48", text, err, sizeof(err));
	if (rc)
		fprintf(stderr, "batch: %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(count_sql(db, "SELECT count(*) FROM inventory WHERE state = 'available' AND eid IS NULL"),
			100);
	CU_ASSERT_EQUAL(count_sql(db, "SELECT count(*) FROM profile_data"), 100);
	CU_ASSERT_EQUAL(count_sql(db, "SELECT count(*) FROM prep_batch WHERE row_count = 100"), 1);
	CU_ASSERT_EQUAL(smdp_inventory_counts(g_test_ctx, db, &c, &n), 0);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(c[0].mno_id, MNO);
	CU_ASSERT_EQUAL(c[0].n[SMDP_INV_AVAILABLE], 100);

	/* secrets never in clear: no column of any row holds the hex of a Ki, OPc or an OTA key */
	for (n = 0; n < 100; n += 33) {
		unsigned int salt;

		for (salt = 1; salt <= 5; salt++) {
			make_key_hex(n, salt, ki);
			snprintf(sql, sizeof(sql), "SELECT count(*) FROM profile_data p WHERE"
				 " upper(p::text) LIKE '%%%s%%'", ki);
			CU_ASSERT_EQUAL(count_sql(db, sql), 0);
		}
	}
	/* nor the PIN/PUK as stored in the package (ASCII digits) */
	CU_ASSERT_EQUAL(count_sql(db, "SELECT count(*) FROM profile_data p WHERE upper(p::text) LIKE "
				  "'%32303030303030%'"), 0);
	CU_ASSERT_EQUAL(count_sql(db, "SELECT count(*) FROM profile_data WHERE octet_length(ki) = 16 + 28"), 100);

	/* a batch whose 57th data row has a wrong Luhn digit is refused as a whole, naming the line */
	text = make_batch(g_test_ctx, 100, 100);
	l = text;
	for (n = 0; n < 2 + 56; n++)
		l = strchr(l, '\n') + 1;
	l[19] = l[19] == '9' ? '0' : l[19] + 1;
	CU_ASSERT(import_batch_text(db, kek, "ts48", text, err, sizeof(err)) == -EINVAL);
	CU_ASSERT(strstr(err, "line 59:") != NULL);
	/* a short Ki on the last line */
	text = make_batch(g_test_ctx, 100, 100);
	l = strrchr(text, '\n');
	*l = '\0';
	l = strrchr(text, '\n') + 1;
	l = strchr(strchr(l, ',') + 1, ',') + 1;
	memmove(l, l + 4, strlen(l + 4) + 1);
	CU_ASSERT(import_batch_text(db, kek, "ts48", text, err, sizeof(err)) == -EINVAL);
	CU_ASSERT(strstr(err, "line 102: ki") != NULL);
	/* the template has an OTA key set: a batch without OTA keys would leave its test keys in every profile */
	text = talloc_asprintf(g_test_ctx, "iccid,imsi,ki,opc,pin1,puk1\n%.20s,001010000000999,%s,%s,1234,12345678\n",
			       batch_line(g_test_ctx, 999), "000102030405060708090A0B0C0D0E0F",
			       "000102030405060708090A0B0C0D0E0F");
	CU_ASSERT(import_batch_text(db, kek, "ts48", text, err, sizeof(err)) == -EINVAL);
	CU_ASSERT(strstr(err, "line 2: kic is required") != NULL);
	/* a 32-byte Ki where the template's algorithm takes 16 */
	text = make_batch(g_test_ctx, 300, 3);
	l = strrchr(text, '\n');
	*l = '\0';
	l = strrchr(text, '\n') + 1;
	l = strchr(strchr(l, ',') + 1, ',') + 1;
	text = talloc_asprintf(g_test_ctx, "%.*s000102030405060708090A0B0C0D0E0F%s\n", (int)(l - text), text, l);
	CU_ASSERT(import_batch_text(db, kek, "ts48", text, err, sizeof(err)) == -EINVAL);
	CU_ASSERT(strstr(err, "line 5: ki is 32 bytes, the template's is 16") != NULL);
	/* an ICCID already in the inventory (found by the database, mid-transaction): nothing of it stays */
	text = make_batch(g_test_ctx, 150, 100);	/* 150..249, none known */
	text = talloc_asprintf_append(text, "%s", batch_line(g_test_ctx, 42));
	CU_ASSERT(import_batch_text(db, kek, "ts48", text, err, sizeof(err)) == -EEXIST);
	CU_ASSERT(strstr(err, "line 103:") != NULL);
	CU_ASSERT(strstr(err, "already in the inventory") != NULL);
	CU_ASSERT_EQUAL(count_sql(db, "SELECT count(*) FROM inventory"), 100);
	CU_ASSERT_EQUAL(count_sql(db, "SELECT count(*) FROM profile_data"), 100);
	CU_ASSERT_EQUAL(count_sql(db, "SELECT count(*) FROM prep_batch"), 1);
	drop_schema();
}

static struct db *db_with_batch(const char *suffix, unsigned int n)
{
	struct db *db = fresh_db(suffix);
	struct kek *kek = kek_alloc(g_test_ctx, kek_bytes);
	char err[256] = "";

	import_template(db, "ts48", 2);
	CU_ASSERT_FATAL(import_batch_text(db, kek, "ts48", make_batch(g_test_ctx, 0, n), err, sizeof(err)) == 0);
	return db;
}

static void test_inventory_states(void)
{
	struct db *db = db_with_batch("inv", 3);
	enum smdp_inv_state st;
	char iccid[21], other[21], eid[33];

	CU_ASSERT_EQUAL(smdp_inventory_reserve(db, MNO, "ts48", "not an eid", iccid), -EINVAL);
	CU_ASSERT_EQUAL(smdp_inventory_reserve(db, MNO, "ts48", EID1, iccid), 0);
	CU_ASSERT_EQUAL(smdp_inventory_get(db, iccid, &st, eid), 0);
	CU_ASSERT_EQUAL(st, SMDP_INV_RESERVED);
	CU_ASSERT_STRING_EQUAL(eid, EID1);
	/* by ICCID */
	make_iccid(2, other);
	CU_ASSERT_EQUAL(smdp_inventory_reserve_iccid(db, "1.2.3", other, EID1), -EPERM);
	CU_ASSERT_EQUAL(smdp_inventory_reserve_iccid(db, MNO, other, EID1), 0);
	CU_ASSERT_EQUAL(smdp_inventory_reserve_iccid(db, MNO, other, EID1), -EBUSY);
	CU_ASSERT_EQUAL(smdp_inventory_reserve_iccid(db, NULL, "89014103211118510720", EID1), -ENOENT);
	{
		struct smdp_profile_info pi;

		CU_ASSERT_EQUAL(smdp_profile_info(db, other, &pi), 0);
		CU_ASSERT_STRING_EQUAL(pi.mno_id, MNO);
		CU_ASSERT_STRING_EQUAL(pi.profile_type, "ts48");
		CU_ASSERT_EQUAL(pi.state, SMDP_INV_RESERVED);
		CU_ASSERT_STRING_EQUAL(pi.eid, EID1);
		CU_ASSERT_STRING_EQUAL(pi.imsi, "001010000000002");
		CU_ASSERT_STRING_EQUAL(pi.msisdn, "491700000002");
		CU_ASSERT(pi.package_len > 10000);
		CU_ASSERT_EQUAL(smdp_profile_info(db, "89014103211118510720", &pi), -ENOENT);
	}
	/* transitions */
	CU_ASSERT_EQUAL(smdp_inventory_set_state(db, iccid, SMDP_INV_RESERVED, SMDP_INV_INSTALLED), 0);
	CU_ASSERT_EQUAL(smdp_inventory_set_state(db, iccid, SMDP_INV_RESERVED, SMDP_INV_INSTALLED), -EBUSY);
	CU_ASSERT_EQUAL(smdp_inventory_set_state(db, iccid, SMDP_INV_INSTALLED, SMDP_INV_AVAILABLE), -EINVAL);
	CU_ASSERT_EQUAL(smdp_inventory_set_state(db, iccid, SMDP_INV_INSTALLED, SMDP_INV_RELEASED), 0);
	CU_ASSERT_EQUAL(smdp_inventory_set_state(db, iccid, SMDP_INV_RELEASED, SMDP_INV_AVAILABLE), 0);
	CU_ASSERT_EQUAL(smdp_inventory_get(db, iccid, &st, eid), 0);
	CU_ASSERT_EQUAL(st, SMDP_INV_AVAILABLE);
	CU_ASSERT_STRING_EQUAL(eid, "");
	/* failed downloads per policy */
	CU_ASSERT_EQUAL(smdp_inventory_release(db, other, SMDP_FAIL_UNUSABLE), 0);
	CU_ASSERT_EQUAL(smdp_inventory_get(db, other, &st, NULL), 0);
	CU_ASSERT_EQUAL(st, SMDP_INV_UNUSABLE);
	CU_ASSERT_EQUAL(smdp_inventory_reserve(db, MNO, "ts48", EID1, iccid), 0);
	CU_ASSERT_EQUAL(smdp_inventory_release(db, iccid, SMDP_FAIL_RETURN), 0);
	CU_ASSERT_EQUAL(smdp_inventory_get(db, iccid, &st, NULL), 0);
	CU_ASSERT_EQUAL(st, SMDP_INV_AVAILABLE);
	/* exhaust: 2 available left */
	CU_ASSERT_EQUAL(smdp_inventory_reserve(db, MNO, "ts48", EID1, iccid), 0);
	CU_ASSERT_EQUAL(smdp_inventory_reserve(db, MNO, "ts48", EID1, iccid), 0);
	CU_ASSERT_EQUAL(smdp_inventory_reserve(db, MNO, "ts48", EID1, iccid), -ENOSPC);
	CU_ASSERT_EQUAL(smdp_inventory_reserve(db, MNO, "other", EID1, iccid), -ENOSPC);
	/* every change is in the audit trail, with the EID it concerned */
	CU_ASSERT_EQUAL(count_sql(db, "SELECT count(*) FROM audit WHERE action = 'inventory'"), 10);
	CU_ASSERT_EQUAL(count_sql(db, "SELECT count(*) FROM audit WHERE action = 'inventory' AND"
				  " detail = 'released -> available' AND eid = '" EID1 "'"), 1);
	drop_schema();
}

#define N_CHILDREN 20

/* Child: own connection, wait for the start signal, reserve one ICCID, report it. Never returns. */
static void reserve_child(int go_fd, int out_fd, unsigned int idx)
{
	struct db *db = open_db(NULL, g_schema);
	char eid[33], iccid[21], line[64];
	int rc = -EIO, len;

	snprintf(eid, sizeof(eid), "8904903200000000000000000000%04u", idx);
	if (db) {
		char c;

		(void)!read(go_fd, &c, 1);	/* returns 0 when the parent closes the pipe: everyone starts */
		rc = smdp_inventory_reserve(db, MNO, "ts48", eid, iccid);
	}
	len = rc == 0 ? snprintf(line, sizeof(line), "%s %s\n", iccid, eid) : snprintf(line, sizeof(line),
											"ERR %d\n", rc);
	(void)!write(out_fd, line, (size_t)len);
	_exit(0);
}

static void test_concurrent_reservations(void)
{
	struct db *db = db_with_batch("conc", 30);
	int go[2], out[2];
	pid_t pids[N_CHILDREN];
	char buf[N_CHILDREN * 64 + 1], *p, *save = NULL;
	char got[N_CHILDREN][21];
	size_t have = 0;
	unsigned int i, j, n = 0;

	CU_ASSERT_FATAL(pipe(go) == 0 && pipe(out) == 0);
	for (i = 0; i < N_CHILDREN; i++) {
		pids[i] = fork();
		CU_ASSERT_FATAL(pids[i] >= 0);
		if (pids[i] == 0) {
			close(go[1]);
			close(out[0]);
			reserve_child(go[0], out[1], i);
		}
	}
	close(go[0]);
	close(out[1]);
	usleep(200 * 1000);	/* let the children connect; then start them all at once */
	close(go[1]);
	for (;;) {
		ssize_t r = read(out[0], buf + have, sizeof(buf) - 1 - have);

		if (r <= 0)
			break;
		have += (size_t)r;
	}
	close(out[0]);
	for (i = 0; i < N_CHILDREN; i++) {
		int status;

		CU_ASSERT(waitpid(pids[i], &status, 0) == pids[i]);
	}
	buf[have] = '\0';
	for (p = strtok_r(buf, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		CU_ASSERT(strncmp(p, "ERR", 3) != 0);
		if (!strncmp(p, "ERR", 3) || n >= N_CHILDREN) {
			fprintf(stderr, "child: %s\n", p);
			continue;
		}
		snprintf(got[n++], 21, "%.20s", p);
	}
	CU_ASSERT_EQUAL(n, N_CHILDREN);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			CU_ASSERT(strcmp(got[i], got[j]) != 0);
	CU_ASSERT_EQUAL(count_sql(db, "SELECT count(*) FROM inventory WHERE state = 'reserved'"), N_CHILDREN);
	CU_ASSERT_EQUAL(count_sql(db, "SELECT count(DISTINCT eid) FROM inventory WHERE state = 'reserved'"),
			N_CHILDREN);
	drop_schema();
}

/* every byte where a and b differ lies in the value of one of the given fields of b */
static bool diff_only_in(const uint8_t *a, const uint8_t *b, size_t len, unsigned int *n_diff)
{
	static const enum gp_saip_field fields[] = {
		GP_SAIP_F_HDR_ICCID, GP_SAIP_F_EF_ICCID, GP_SAIP_F_EF_IMSI, GP_SAIP_F_KI, GP_SAIP_F_OPC,
		GP_SAIP_F_PIN, GP_SAIP_F_PUK, GP_SAIP_F_SD_KEY,
	};
	size_t off;

	*n_diff = 0;
	for (off = 0; off < len; off++) {
		bool inside = false;
		unsigned int f, k;

		if (a[off] == b[off])
			continue;
		(*n_diff)++;
		for (f = 0; f < ARRAY_SIZE(fields) && !inside; f++) {
			struct gp_saip_item it;

			for (k = 0; gp_saip_find(b, len, fields[f], k, &it) == 0; k++) {
				size_t start = (size_t)(it.val - b);

				if (off >= start && off < start + it.len) {
					inside = true;
					break;
				}
			}
		}
		if (!inside) {
			fprintf(stderr, "difference at offset %zu outside the personalised fields\n", off);
			return false;
		}
	}
	return true;
}

static void test_personalise(void)
{
	struct db *db = db_with_batch("perso", 5);
	struct kek *kek = kek_alloc(g_test_ctx, kek_bytes), *wrong;
	struct gp_saip_header hdr;
	struct gp_saip_item it;
	uint8_t *tpl, *pkg, *want, bad_key[32];
	size_t tpl_len, len, want_len;
	char iccid[21], digits[32], ki_hex[33], sql[512];
	unsigned int ndiff, k, row;

	CU_ASSERT_EQUAL_FATAL(smdp_template_get(g_test_ctx, db, MNO, "ts48", &tpl, &tpl_len), 0);
	CU_ASSERT_EQUAL(smdp_inventory_reserve(db, MNO, "ts48", EID1, iccid), 0);
	row = (unsigned int)atoi(iccid + 12) / 10;	/* make_iccid: the row number precedes the check digit */

	CU_ASSERT_EQUAL_FATAL(smdp_personalise(g_test_ctx, db, kek, iccid, &pkg, &len), 0);
	CU_ASSERT(gp_saip_validate(pkg, len) > 10);
	CU_ASSERT_EQUAL(len, tpl_len);
	CU_ASSERT_EQUAL(gp_saip_read_header(pkg, len, &hdr), 0);
	CU_ASSERT_STRING_EQUAL(hdr.iccid, iccid);
	CU_ASSERT_EQUAL(gp_saip_find(pkg, len, GP_SAIP_F_EF_ICCID, 0, &it), 0);
	CU_ASSERT(gp_saip_iccid_decode(it.val, it.len, true, digits, sizeof(digits)) == 20);
	CU_ASSERT_STRING_EQUAL(digits, iccid);
	for (k = 0; gp_saip_find(pkg, len, GP_SAIP_F_EF_IMSI, k, &it) == 0; k++) {
		snprintf(sql, sizeof(sql), "00101%010u", row);
		CU_ASSERT(gp_saip_imsi_decode(it.val, it.len, digits, sizeof(digits)) == 15);
		CU_ASSERT_STRING_EQUAL(digits, sql);
	}
	CU_ASSERT(k >= 1);
	make_key_hex(row, 1, ki_hex);
	want = test_hex(ki_hex, &want_len);
	for (k = 0; gp_saip_find(pkg, len, GP_SAIP_F_KI, k, &it) == 0; k++)
		CU_ASSERT(it.len == want_len && memcmp(it.val, want, want_len) == 0);
	CU_ASSERT(k >= 1);
	make_key_hex(row, 3, ki_hex);	/* KIc */
	want = test_hex(ki_hex, &want_len);
	for (k = 0; gp_saip_find(pkg, len, GP_SAIP_F_SD_KEY, k, &it) == 0; k++)
		if (it.key_ref == ((unsigned int)smdp_ota_kvn(pkg, len) << 8 | 1))
			CU_ASSERT(it.len == want_len && memcmp(it.val, want, want_len) == 0);
	for (k = 0; gp_saip_find(pkg, len, GP_SAIP_F_PIN, k, &it) == 0; k++) {
		if (it.key_ref == 0x01) {
			snprintf(sql, sizeof(sql), "%04u", 1000 + row);
			CU_ASSERT(it.len == 8 && memcmp(it.val, sql, 4) == 0);
		}
	}
	/* the template otherwise unchanged */
	CU_ASSERT(diff_only_in(tpl, pkg, len, &ndiff));
	CU_ASSERT(ndiff > 16);

	/* a wrong key-encryption key does not decrypt */
	memcpy(bad_key, kek_bytes, 32);
	bad_key[0] ^= 0xff;
	wrong = kek_alloc(g_test_ctx, bad_key);
	CU_ASSERT_EQUAL(smdp_personalise(g_test_ctx, db, wrong, iccid, &pkg, &len), -EBADMSG);
	/* a sealed value copied from another row does not decrypt either */
	make_iccid(row == 0 ? 1 : 0, digits);
	snprintf(sql, sizeof(sql), "UPDATE profile_data SET ki = (SELECT ki FROM profile_data WHERE iccid = '%s')"
		 " WHERE iccid = '%s'", digits, iccid);
	CU_ASSERT_EQUAL(db_exec_sql(db, sql, NULL), 1);
	CU_ASSERT_EQUAL(smdp_personalise(g_test_ctx, db, kek, iccid, &pkg, &len), -EBADMSG);
	/* only reserved ICCIDs are personalised */
	CU_ASSERT_EQUAL(smdp_personalise(g_test_ctx, db, kek, digits, &pkg, &len), -EBUSY);
	CU_ASSERT_EQUAL(smdp_personalise(g_test_ctx, db, kek, "89014103211118510720", &pkg, &len), -ENOENT);
	drop_schema();
}

/* every TS.48 package personalises and still parses */
static void test_personalise_all_templates(void)
{
	char *text = make_batch(g_test_ctx, 0, 1);
	struct smdp_batch *b;
	char err[256];
	unsigned int i, ndiff;

	CU_ASSERT_FATAL(smdp_batch_parse(g_test_ctx, text, strlen(text), &b, err, sizeof(err)) == 0);
	for (i = 0; i < ARRAY_SIZE(ts48); i++) {
		size_t len, out_len;
		uint8_t *tpl = read_profile(ts48[i], &len), *out;
		struct gp_saip_header hdr;

		CU_ASSERT_EQUAL_FATAL(smdp_personalise_pkg(g_test_ctx, tpl, len, &b->rows[0], &out, &out_len), 0);
		CU_ASSERT(gp_saip_validate(out, out_len) > 0);
		CU_ASSERT_EQUAL(gp_saip_read_header(out, out_len, &hdr), 0);
		CU_ASSERT_STRING_EQUAL(hdr.iccid, b->rows[0].iccid);
		CU_ASSERT_EQUAL_FATAL(out_len, len);
		CU_ASSERT(diff_only_in(tpl, out, len, &ndiff));
	}
}

static int suite_init(void)
{
	if (!getenv("PGHOST") && !getenv("PGDATABASE")) {
		fprintf(stderr, "prep_test needs a PostgreSQL server: run it through scripts/check "
			"(or export PGHOST, PGPORT, PGUSER, PGDATABASE)\n");
		return 1;
	}
	g_log_ctx = talloc_named_const(NULL, 0, "prep_test log");
	osmo_init_logging2(g_log_ctx, &sgp02_log_info);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	log_set_log_level(osmo_stderr_target, LOGL_ERROR);
	/* the children of the concurrency test must not turn into zombies if a test aborts */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int suite_cleanup(void)
{
	log_fini();
	talloc_free(g_log_ctx);
	return 0;
}

static const struct test_case cases[] = {
	TEST_CASE(test_kek),
	TEST_CASE(test_validators),
	TEST_CASE(test_batch_parse),
	TEST_CASE(test_personalise_all_templates),
	TEST_CASE(test_template_import),
	TEST_CASE(test_batch_import),
	TEST_CASE(test_inventory_states),
	TEST_CASE(test_concurrent_reservations),
	TEST_CASE(test_personalise),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "smdp_prep", suite_init, suite_cleanup, cases },
	{ NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
