/* Unit tests of the SM-SR's EIS registry (src/smsr/eis_registry.c) on PostgreSQL: store and load round trip (every
 * stored field, POL2 rules, counters), key components only in the encrypted table and back with the KEK, refusal
 * of a duplicate EID and of an ICCID in use (nothing of the refused EIS left behind), a tampered key row, the
 * callers' views, and the "smsr" config node. Needs PG* in the environment (scripts/check). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>
#include <CUnit/CUnit.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/application.h>
#include <osmocom/vty/vty.h>
#include <libxml/tree.h>

#include <sgp02/common/app.h>
#include <sgp02/common/db.h>
#include <sgp02/common/db_schema.h>
#include <sgp02/common/logging.h>
#include <sgp02/ws/eis.h>

#include "testlib.h"
#include "../../src/smsr/eis_registry.h"
#include "../../src/smsr/smsr.h"

static void *g_root;
static char g_schema[64];
static char g_dir[64];
static struct sgp02_app t_app = {
	.name = "registry_test",
	.stmts = smsr_stmts,
	.num_stmts = _NUM_SMSR_STMT,
};

static const char *const full_keys[] = {	/* key values of tests/ws/data-eis/eis_full.xml */
	"00112233445566778899AABBCCDDEEFF", "FFEEDDCCBBAA99887766554433221100",
	"0F1E2D3C4B5A69788796A5B4C3D2E1F0", "000102030405060708090A0B0C0D0E0F",
};

static xmlNodePtr find_eis(xmlNodePtr n)
{
	for (; n; n = n->next) {
		xmlNodePtr r;

		if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, "Eis"))
			return n;
		r = find_eis(n->children);
		if (r)
			return r;
	}
	return NULL;
}

/* the fixture, with our Smsr-id and \a eid / ICCID suffix changed so that each case has its own */
static struct ws_eis *fixture(const char *eid)
{
	char *path = talloc_asprintf(g_test_ctx, "%s/tests/ws/data-eis/eis_full.xml", SGP02_SRCDIR);
	size_t len;
	uint8_t *buf = test_read_file(path, &len);
	struct ws_eis *eis = NULL;
	xmlDocPtr d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	d = ws_eis_read_xml(g_test_ctx, buf, len, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(ws_eis_parse(g_test_ctx, find_eis(xmlDocGetRootElement(d)), &eis, NULL), 0);
	xmlFreeDoc(d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(eis);
	if (eid) {
		memcpy(eis->eid, eid, 32);
		/* a built EumSignedInfo must carry the new EID */
		talloc_free(eis->eum_signed_info_xml);
		eis->eum_signed_info_xml = NULL;
	}
	return eis;
}

static long count(const char *sql)
{
	PGresult *res = NULL;
	long n = -1;

	if (db_exec_sql(t_app.db, sql, &res) >= 0 && PQntuples(res) == 1)
		n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

static bool secret_eq(const struct ws_eis_secret *s, const char *hex)
{
	size_t n;
	uint8_t *b = test_hex(hex, &n);

	return b && n == s->len && !memcmp(b, s->data, n);
}

/* EIDs with valid check digits (gp_eid_validate) */
#define EID_A "89049032000000000000000000001230"
#define EID_B "89049032010000000001000000000088"
#define EID_C "89049032010000000001000000000185"

static void test_store_load(void)
{
	struct ws_eis *in = fixture(NULL), *out = NULL;
	const char *what = "x";
	unsigned int i;

	CU_ASSERT_EQUAL(smsr_eis_store(&t_app, in, "1.3.6.1.4.1.99999.30", "RegisterEIS", &what), 0);
	CU_ASSERT_PTR_NULL(what);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM audit WHERE action = 'RegisterEIS'"), 1);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM keyset_key"), 4);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM profile"), 2);
	/* no key value in clear in any table */
	for (i = 0; i < 4; i++) {
		char *sql = talloc_asprintf(g_test_ctx, "SELECT count(*) FROM eis e, profile p, keyset k, "
					    "keyset_key kk WHERE strpos(upper(e::text || p::text || k::text || "
					    "kk::text), '%s') > 0", full_keys[i]);
		CU_ASSERT_EQUAL(count(sql), 0);
	}

	CU_ASSERT_EQUAL_FATAL(smsr_eis_load(&t_app, g_test_ctx, EID_A, &out), 0);
	CU_ASSERT_STRING_EQUAL(out->eid, in->eid);
	CU_ASSERT_STRING_EQUAL(out->eum_signed_info_xml, in->eum_signed_info_xml);
	CU_ASSERT_STRING_EQUAL(out->eum_signature_xml, in->eum_signature_xml);
	CU_ASSERT_EQUAL(out->remaining_memory, 131072);
	CU_ASSERT_EQUAL(out->available_memory, 262144);
	CU_ASSERT_STRING_EQUAL(out->last_audit_date, in->last_audit_date);
	CU_ASSERT_EQUAL_FATAL(out->num_profiles, 2);
	for (i = 0; i < 2; i++) {
		const struct ws_eis_profile *a = &in->profiles[i], *b = &out->profiles[i];

		CU_ASSERT_STRING_EQUAL(a->iccid, b->iccid);
		CU_ASSERT_STRING_EQUAL(a->mno_id, b->mno_id);
		CU_ASSERT_EQUAL(a->state, b->state);
		CU_ASSERT_EQUAL(a->fallback, b->fallback);
		CU_ASSERT_EQUAL(a->allocated_memory, b->allocated_memory);
		CU_ASSERT_EQUAL(a->has_free_memory, b->has_free_memory);
		CU_ASSERT_EQUAL(a->num_rules, b->num_rules);
		CU_ASSERT_EQUAL(!a->smdp_id, !b->smdp_id);
		CU_ASSERT_EQUAL(!a->imsi, !b->imsi);
	}
	CU_ASSERT_EQUAL(out->profiles[1].num_rules, 2);
	CU_ASSERT_EQUAL(out->profiles[1].rules[0].action, WS_EIS_POL2_DISABLE);
	CU_ASSERT_EQUAL(out->profiles[1].rules[0].qualification, WS_EIS_POL2_AUTO_DELETE);
	CU_ASSERT_EQUAL(out->profiles[1].rules[1].action, WS_EIS_POL2_DELETE);
	CU_ASSERT_EQUAL(out->profiles[1].rules[1].qualification, WS_EIS_POL2_NOT_ALLOWED);
	/* loaded without secrets; the KEK gives them back */
	CU_ASSERT_EQUAL(out->isd_r.keysets[0].items[0].key.components[0].value.len, 0);
	CU_ASSERT_EQUAL_FATAL(smsr_eis_load_secrets(&t_app, out), 0);
	CU_ASSERT(secret_eq(&out->isd_r.keysets[0].items[0].key.components[0].value, full_keys[0]));
	CU_ASSERT(secret_eq(&out->isd_r.keysets[0].items[1].key.components[0].value, full_keys[1]));
	CU_ASSERT(secret_eq(&out->isd_r.keysets[0].items[2].key.components[0].value, full_keys[2]));

	/* the same EID again: refused, nothing added */
	CU_ASSERT_EQUAL(smsr_eis_store(&t_app, in, "1.3.6.1.4.1.99999.30", "RegisterEIS", &what), -EEXIST);
	CU_ASSERT_STRING_EQUAL(what, "eid");
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM audit"), 1);

	CU_ASSERT_EQUAL(smsr_eis_load(&t_app, g_test_ctx, EID_C, &out), -ENOENT);
}

static void test_iccid_in_use(void)
{
	struct ws_eis *in = fixture(EID_B);
	const char *what = NULL;

	/* EID_A (test_store_load) holds these ICCIDs already */
	CU_ASSERT_EQUAL(smsr_eis_store(&t_app, in, "1.3.6.1.4.1.99999.30", "RegisterEIS", &what), -EEXIST);
	CU_ASSERT_PTR_NOT_NULL_FATAL(what);
	CU_ASSERT_STRING_EQUAL(what, "iccid");
	/* one transaction: nothing of it is left */
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM eis WHERE eid = '" EID_B "'"), 0);
	CU_ASSERT_EQUAL(count("SELECT count(*) FROM audit WHERE eid = '" EID_B "'"), 0);
	CU_ASSERT_FALSE(t_app.db->in_txn);
}

static void test_tampered_row(void)
{
	struct ws_eis *in = fixture(EID_C), *out = NULL;

	in->profiles[0].iccid = talloc_strdup(in, "8949001234567890999");
	in->profiles[1].iccid = talloc_strdup(in, "8949001234567890998");
	CU_ASSERT_EQUAL_FATAL(smsr_eis_store(&t_app, in, "1.3.6.1.4.1.99999.30", "RegisterEIS", NULL), 0);
	CU_ASSERT_EQUAL_FATAL(smsr_eis_load(&t_app, g_test_ctx, EID_C, &out), 0);
	CU_ASSERT_EQUAL(smsr_eis_load_secrets(&t_app, out), 0);
	/* key 2's value in key 1's place (same EID, same key set) */
	CU_ASSERT(db_exec_sql(t_app.db, "UPDATE keyset_key d SET nonce = s.nonce, ciphertext = s.ciphertext, "
			      "tag = s.tag FROM keyset_key s WHERE d.eid = '" EID_C "' AND s.eid = d.eid AND "
			      "d.sd = 'ISD-R' AND s.sd = 'ISD-R' AND d.version = 1 AND s.version = 1 AND "
			      "d.key_index = 1 AND s.key_index = 2", NULL) == 1);
	CU_ASSERT_EQUAL_FATAL(smsr_eis_load(&t_app, g_test_ctx, EID_C, &out), 0);
	CU_ASSERT_EQUAL(smsr_eis_load_secrets(&t_app, out), -EBADMSG);
}

static void test_views(void)
{
	struct ws_eis *e = NULL;
	unsigned int i, j;

	/* operator 99999.10 owns the first profile */
	CU_ASSERT_EQUAL_FATAL(smsr_eis_load(&t_app, g_test_ctx, EID_A, &e), 0);
	CU_ASSERT_EQUAL(smsr_eis_load_secrets(&t_app, e), 0);
	smsr_eis_view(e, SMSR_ROLE_OPERATOR, "1.3.6.1.4.1.99999.10");
	CU_ASSERT_EQUAL_FATAL(e->num_profiles, 1);
	CU_ASSERT_STRING_EQUAL(e->profiles[0].iccid, "8949001234567890123");
	for (i = 0; i < e->isd_r.num_keysets; i++)
		for (j = 0; j < e->isd_r.keysets[i].num_items; j++)
			CU_ASSERT(e->isd_r.keysets[i].items[j].is_cert);
	CU_ASSERT_PTR_NOT_NULL(e->eum_signature_xml);

	/* an operator without profiles there: platform data only */
	CU_ASSERT_EQUAL_FATAL(smsr_eis_load(&t_app, g_test_ctx, EID_A, &e), 0);
	smsr_eis_view(e, SMSR_ROLE_OPERATOR, "1.3.6.1.4.1.99999.77");
	CU_ASSERT_EQUAL(e->num_profiles, 0);

	/* the SM-DP 99999.3 manages the second one */
	CU_ASSERT_EQUAL_FATAL(smsr_eis_load(&t_app, g_test_ctx, EID_A, &e), 0);
	CU_ASSERT_EQUAL(smsr_eis_load_secrets(&t_app, e), 0);
	smsr_eis_view(e, SMSR_ROLE_SMDP, "1.3.6.1.4.1.99999.3");
	CU_ASSERT_EQUAL_FATAL(e->num_profiles, 1);
	CU_ASSERT_STRING_EQUAL(e->profiles[0].iccid, "8949001234567890131F");
	CU_ASSERT_EQUAL(e->num_audit, 0);
	for (i = 0; i < e->ecasd.num_keysets; i++)
		for (j = 0; j < e->ecasd.keysets[i].num_items; j++)
			CU_ASSERT(e->ecasd.keysets[i].items[j].is_cert);
}

static void test_config(void)
{
	CU_ASSERT_STRING_EQUAL(smsr_entity_oid(SMSR_ROLE_OPERATOR, "MNO1"), "1.3.6.1.4.1.99999.1");
	CU_ASSERT_STRING_EQUAL(smsr_entity_oid(SMSR_ROLE_SMDP, "SMDP1"), "1.3.6.1.4.1.99999.10");
	/* a CN maps in its role only */
	CU_ASSERT_PTR_NULL(smsr_entity_oid(SMSR_ROLE_EUM, "MNO1"));
	CU_ASSERT_PTR_NULL(smsr_entity_oid(SMSR_ROLE_OPERATOR, "MNO3"));
	CU_ASSERT_PTR_NULL(smsr_entity_oid(SMSR_ROLE_OPERATOR, NULL));
	CU_ASSERT_PTR_NULL(smsr_eum_trust("1.3.6.1.4.1.99999.30"));
	CU_ASSERT(smsr_registry_has_kek());
}

static int suite_init(void)
{
	struct db *adm;
	char *cfg, sql[128];
	FILE *f;

	if (!getenv("PGHOST") && !getenv("PGDATABASE")) {
		fprintf(stderr, "registry_test needs a PostgreSQL server: run it through scripts/check\n");
		return 1;
	}
	g_root = talloc_named_const(NULL, 0, "registry_test");
	sgp02_app_init_vty(&t_app, g_root);
	log_set_log_level(osmo_stderr_target, LOGL_FATAL);
	smsr_registry_vty_init(&t_app);

	snprintf(g_dir, sizeof(g_dir), "/tmp/registry_test.XXXXXX");
	if (!mkdtemp(g_dir))
		return 1;
	cfg = talloc_asprintf(g_root, "%s/kek", g_dir);
	f = fopen(cfg, "w");
	if (!f)
		return 1;
	fputs("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", f);
	fclose(f);
	cfg = talloc_asprintf(g_root, "%s/smsr.cfg", g_dir);
	f = fopen(cfg, "w");
	if (!f)
		return 1;
	fprintf(f, "smsr\n key-encryption-key %s/kek\n operator 1.3.6.1.4.1.99999.1 certificate-cn MNO1\n"
		" smdp 1.3.6.1.4.1.99999.10 certificate-cn SMDP1\n", g_dir);
	fclose(f);
	if (sgp02_app_read_config(&t_app, cfg) < 0)
		return 1;

	snprintf(g_schema, sizeof(g_schema), "t_registry_%d", (int)getpid());
	adm = db_alloc(g_root, "", "public", NULL, 0);
	snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", g_schema);
	if (!adm || db_connect(adm, "registry_test") < 0 || db_exec_sql(adm, sql, NULL) < 0)
		return 1;
	talloc_free(adm);
	t_app.db = db_alloc(g_root, "", g_schema, smsr_stmts, _NUM_SMSR_STMT);
	if (!t_app.db || db_connect(t_app.db, "registry_test") < 0 ||
	    db_schema_check(t_app.db, &db_schema_smsr, true) < 0)
		return 1;
	t_app.db->prepare_on_connect = true;
	if (db_prepare(t_app.db) < 0)
		return 1;
	return smsr_registry_start(&t_app) < 0;
}

static int suite_cleanup(void)
{
	char sql[128];
	char *p;

	smsr_registry_stop();
	if (t_app.db) {
		snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", g_schema);
		db_exec_sql(t_app.db, sql, NULL);
	}
	p = talloc_asprintf(g_root, "%s/kek", g_dir);
	unlink(p);
	p = talloc_asprintf(g_root, "%s/smsr.cfg", g_dir);
	unlink(p);
	rmdir(g_dir);
	sgp02_app_cleanup(&t_app);
	talloc_free(g_root);
	return 0;
}

static const struct test_case registry_cases[] = {
	TEST_CASE(test_config),
	TEST_CASE(test_store_load),
	TEST_CASE(test_iccid_in_use),
	TEST_CASE(test_tampered_row),
	TEST_CASE(test_views),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "smsr_registry", suite_init, suite_cleanup, registry_cases },
	{}
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
