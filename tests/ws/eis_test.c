/* Tests of the EIS codec (src/ws/eis.c): parse/build round trips of the fixtures in tests/ws/data-eis (which
 * validate against the GSMA XSD), refusal of missing elements and bad values with a specific error, bounds,
 * secrets, and the safe reader (no DTD, no external entity). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <talloc.h>

#include <sgp02/common/logging.h>
#include <sgp02/gp/eid.h>
#include <sgp02/ws/eis.h>

#include "testlib.h"

static void *g_suite_ctx;
static xmlSchemaPtr g_schema;

/* ------------------------------------------------------------------------------------------------------------- */

static const char *data_path(const char *name)
{
	return talloc_asprintf(g_test_ctx, "%s/tests/ws/data-eis/%s", SGP02_SRCDIR, name);
}

static xmlDocPtr load_doc(const char *name, bool noblanks)
{
	size_t len;
	uint8_t *buf = test_read_file(data_path(name), &len);
	xmlDocPtr d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	if (noblanks)
		d = xmlReadMemory((const char *)buf, (int)len, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	else
		d = ws_eis_read_xml(g_test_ctx, buf, len, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	return d;
}

/* first element with this local name, depth first, document order */
static xmlNodePtr find(xmlNodePtr n, const char *name)
{
	xmlNodePtr c, r;

	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrEqual(n->name, BAD_CAST name))
			return n;
		for (c = n->children; c; c = c->next) {
			r = find(c, name);
			if (r)
				return r;
		}
	}
	return NULL;
}

static xmlNodePtr eis_of(xmlDocPtr d)
{
	xmlNodePtr e = find(xmlDocGetRootElement(d), "Eis");

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	return e;
}

static int validate(xmlDocPtr d)
{
	xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(g_schema);
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	rc = xmlSchemaValidateDoc(v, d);
	xmlSchemaFreeValidCtxt(v);
	return rc;
}

/* exclusive c14n of a node (subtree), talloc'd on g_test_ctx */
static char *c14n(xmlNodePtr n)
{
	xmlDocPtr d = xmlNewDoc(BAD_CAST "1.0");
	xmlChar *out = NULL;
	char *s;
	int len;

	xmlDocSetRootElement(d, xmlDocCopyNode(n, d, 1));
	len = xmlC14NDocDumpMemory(d, NULL, XML_C14N_EXCLUSIVE_1_0, NULL, 0, &out);
	CU_ASSERT_FATAL(len > 0);
	s = talloc_strndup(g_test_ctx, (char *)out, (size_t)len);
	xmlFree(out);
	xmlFreeDoc(d);
	return s;
}

/* new ES1-RegisterEISRequest document with the EIS built into it */
static xmlDocPtr build_request_pfx(const struct ws_eis *eis, const char *prefix, int *rc)
{
	xmlDocPtr d = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = xmlNewDocNode(d, NULL, BAD_CAST "ES1-RegisterEISRequest", NULL);
	xmlNsPtr ns = xmlNewNs(root, BAD_CAST WS_EIS_NS, BAD_CAST prefix);

	xmlSetNs(root, ns);
	xmlDocSetRootElement(d, root);
	xmlNewChild(root, ns, BAD_CAST "FunctionCallIdentifier", BAD_CAST "reg-0001");
	xmlNewChild(root, ns, BAD_CAST "ValidityPeriod", BAD_CAST "3600");
	*rc = ws_eis_build(eis, root, "Eis", ns, NULL);
	return d;
}

static xmlDocPtr build_request(const struct ws_eis *eis, int *rc)
{
	return build_request_pfx(eis, "rps", rc);
}

static struct ws_eis *parse_fixture(const char *name)
{
	xmlDocPtr d = load_doc(name, false);
	struct ws_eis *eis = NULL;
	char *err = NULL;
	int rc = ws_eis_parse(g_test_ctx, eis_of(d), &eis, &err);

	if (rc)
		printf("parse %s: %d %s\n", name, rc, err ? err : "");
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	xmlFreeDoc(d);
	return eis;
}

/* ------------------------------------------------------------------------------------------------------------- */

static void test_fixtures_validate(void)
{
	const char *names[] = { "eis_full.xml", "eis_min.xml" };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		xmlDocPtr d = load_doc(names[i], false);

		CU_ASSERT_EQUAL(validate(d), 0);
		xmlFreeDoc(d);
	}
}

static void test_parse_full(void)
{
	struct ws_eis *eis = parse_fixture("eis_full.xml");
	const struct ws_eis_profile *p;
	const struct ws_eis_keyset *ks;

	CU_ASSERT_STRING_EQUAL(eis->eid, "89049032000000000000000000001230");
	CU_ASSERT_STRING_EQUAL(eis->eum_id, "1.3.6.1.4.1.99999.1");
	CU_ASSERT_STRING_EQUAL(eis->production_date, "2026-01-15T10:30:00Z");
	CU_ASSERT_STRING_EQUAL(eis->platform_type, "sgp02-sim & test <OS>");
	CU_ASSERT_STRING_EQUAL(eis->platform_version, "4.2.0");
	TEST_ASSERT_HEX(eis->isd_p_loadfile_aid.data, eis->isd_p_loadfile_aid.len, "A0000005591010FFFFFFFF8900000D00");
	CU_ASSERT_EQUAL(eis->ecasd.role, WS_EIS_ROLE_ECASD);
	CU_ASSERT_EQUAL(eis->ecasd.num_tars, 1);
	CU_ASSERT_EQUAL(eis->ecasd.num_keysets, 1);
	CU_ASSERT_EQUAL(eis->ecasd.keysets[0].type, WS_EIS_KS_CA);
	CU_ASSERT_EQUAL(eis->ecasd.keysets[0].num_items, 1);
	CU_ASSERT_TRUE(eis->ecasd.keysets[0].items[0].is_cert);
	CU_ASSERT_STRING_EQUAL(eis->ecasd.keysets[0].items[0].cert.ca_id, "1.3.6.1.4.1.99999.100");
	TEST_ASSERT_HEX(eis->ecasd.keysets[0].items[0].cert.value.data, eis->ecasd.keysets[0].items[0].cert.value.len,
			"7F2181E59301019F2001");
	CU_ASSERT_TRUE(eis->caps.cattp_support);
	CU_ASSERT_STRING_EQUAL(eis->caps.cattp_version, "9.0.0");
	CU_ASSERT_STRING_EQUAL(eis->caps.http_version, "1.1.3");
	CU_ASSERT_STRING_EQUAL(eis->caps.remote_provisioning_version, "3.2.0");
	CU_ASSERT_PTR_NOT_NULL(eis->eum_signature_xml);
	CU_ASSERT_EQUAL(eis->remaining_memory, 131072);
	CU_ASSERT_EQUAL(eis->available_memory, 262144);
	CU_ASSERT_STRING_EQUAL(eis->last_audit_date, "2026-11-01T08:00:00.250+01:00");
	CU_ASSERT_STRING_EQUAL(eis->smsr_id, "1.3.6.1.4.1.99999.2");

	CU_ASSERT_EQUAL_FATAL(eis->num_profiles, 2);
	p = &eis->profiles[0];
	CU_ASSERT_STRING_EQUAL(p->iccid, "8949001234567890123");
	CU_ASSERT_TRUE(p->fallback);
	CU_ASSERT_STRING_EQUAL(p->imsi, "262019876543210");
	CU_ASSERT_STRING_EQUAL(p->msisdn, "491701234567");
	CU_ASSERT_EQUAL(p->state, WS_EIS_PROFILE_ENABLED);
	CU_ASSERT_PTR_NULL(p->smdp_id);
	CU_ASSERT_TRUE(p->has_free_memory);
	CU_ASSERT_EQUAL(p->free_memory, 1024);
	CU_ASSERT_EQUAL(p->num_rules, 0);
	p = &eis->profiles[1];
	CU_ASSERT_STRING_EQUAL(p->iccid, "8949001234567890131F");
	CU_ASSERT_PTR_NULL(p->imsi);
	CU_ASSERT_PTR_NULL(p->msisdn);
	CU_ASSERT_EQUAL(p->state, WS_EIS_PROFILE_DISABLED);
	CU_ASSERT_STRING_EQUAL(p->smdp_id, "1.3.6.1.4.1.99999.3");
	CU_ASSERT_STRING_EQUAL(p->profile_type, "3G_16K");
	CU_ASSERT_FALSE(p->has_free_memory);
	CU_ASSERT_EQUAL_FATAL(p->num_rules, 2);
	CU_ASSERT_EQUAL(p->rules[0].action, WS_EIS_POL2_DISABLE);
	CU_ASSERT_EQUAL(p->rules[0].qualification, WS_EIS_POL2_AUTO_DELETE);
	CU_ASSERT_EQUAL(p->rules[1].action, WS_EIS_POL2_DELETE);
	CU_ASSERT_EQUAL(p->rules[1].qualification, WS_EIS_POL2_NOT_ALLOWED);

	CU_ASSERT_EQUAL(eis->isd_r.role, WS_EIS_ROLE_ISD_R);
	CU_ASSERT_EQUAL(eis->isd_r.num_tars, 2);
	TEST_ASSERT_HEX(eis->isd_r.tars[1], 3, "000010");
	CU_ASSERT_EQUAL_FATAL(eis->isd_r.num_keysets, 2);
	ks = &eis->isd_r.keysets[0];
	CU_ASSERT_EQUAL(ks->version, 1);
	CU_ASSERT_EQUAL(ks->type, WS_EIS_KS_SCP80);
	CU_ASSERT_TRUE(ks->has_cntr);
	CU_ASSERT_EQUAL(ks->cntr, 42);
	CU_ASSERT_EQUAL_FATAL(ks->num_items, 3);
	CU_ASSERT_FALSE(ks->items[1].is_cert);
	CU_ASSERT_EQUAL(ks->items[1].key.index, 2);
	TEST_ASSERT_HEX(ks->items[1].key.kcv.data, ks->items[1].key.kcv.len, "D4E5F6");
	CU_ASSERT_EQUAL(ks->items[1].key.num_components, 1);
	CU_ASSERT_EQUAL(ks->items[1].key.components[0].type, 0x88);
	TEST_ASSERT_HEX(ks->items[1].key.components[0].value.data, ks->items[1].key.components[0].value.len,
			"FFEEDDCCBBAA99887766554433221100");
	ks = &eis->isd_r.keysets[1];
	CU_ASSERT_EQUAL(ks->type, WS_EIS_KS_SCP81);
	CU_ASSERT_FALSE(ks->has_cntr);
	CU_ASSERT_EQUAL(ks->items[0].key.kcv.len, 0);

	CU_ASSERT_TRUE(eis->has_audit_trail);
	CU_ASSERT_EQUAL_FATAL(eis->num_audit, 2);
	CU_ASSERT_EQUAL(eis->audit[0].operation_type, 0x0200);
	CU_ASSERT_EQUAL(eis->audit[0].status, WS_EIS_EXEC_FAILED);
	CU_ASSERT_STRING_EQUAL(eis->audit[0].reason, "3.9");
	CU_ASSERT_STRING_EQUAL(eis->audit[0].message, "no PoR");
	TEST_ASSERT_HEX(eis->audit[0].imei.data, eis->audit[0].imei.len, "3554420000000011");
	CU_ASSERT_TRUE(eis->audit[1].has_status);
	CU_ASSERT_FALSE(eis->audit[1].has_status_code);
	CU_ASSERT_PTR_NULL(eis->audit[1].iccid);
	CU_ASSERT_EQUAL(eis->num_props, 2);
	CU_ASSERT_STRING_EQUAL(eis->props[0].value, "meter \"X\"");
	CU_ASSERT_STRING_EQUAL(eis->props[1].value, "");
}

/* parse -> build gives the same canonical XML as the fixture (blank text ignored), and validates */
static void round_trip(const char *name, const char *prefix)
{
	struct ws_eis *eis = parse_fixture(name), *eis2 = NULL;
	xmlDocPtr ref = load_doc(name, true), out;
	char *a, *b;
	int rc;

	out = build_request_pfx(eis, prefix, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(validate(out), 0);
	a = c14n(eis_of(ref));
	{
		/* the stored signature keeps its blank text: compare without blank text on both sides */
		xmlChar *mem = NULL;
		int ml = 0;
		xmlDocPtr nb;

		xmlDocDumpMemory(out, &mem, &ml);
		nb = xmlReadMemory((const char *)mem, ml, NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
		xmlFree(mem);
		CU_ASSERT_PTR_NOT_NULL_FATAL(nb);
		b = c14n(eis_of(nb));
		xmlFreeDoc(nb);
	}
	/* the fixtures write the same lexical forms the builder does (uppercase hex, true/false) */
	if (strcmp(a, b))
		printf("\nfixture: %s\nbuilt:   %s\n", a, b);
	CU_ASSERT_STRING_EQUAL(a, b);
	/* and the built EIS parses back */
	rc = ws_eis_parse(g_test_ctx, eis_of(out), &eis2, NULL);
	CU_ASSERT_EQUAL(rc, 0);
	xmlFreeDoc(out);
	xmlFreeDoc(ref);
}

static void test_round_trip_full(void)
{
	round_trip("eis_full.xml", "rps");
}

static void test_round_trip_min(void)
{
	round_trip("eis_min.xml", NULL);
}

/* the namespace of the Eis is used for the children (chameleon XSD): a foreign one is refused */
static void test_build_namespace(void)
{
	struct ws_eis *eis = parse_fixture("eis_min.xml"), *eis2 = NULL;
	xmlDocPtr d = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = xmlNewDocNode(d, NULL, BAD_CAST "wrap", NULL), e = NULL, eid;
	char *err = NULL;

	xmlDocSetRootElement(d, root);
	CU_ASSERT_EQUAL(ws_eis_build(eis, root, "Eis", NULL, &e), 0);
	CU_ASSERT_EQUAL(ws_eis_parse(g_test_ctx, e, &eis2, NULL), 0);
	/* put one child into another namespace */
	eid = find(e, "Eid");
	xmlSetNs(eid, xmlNewNs(root, BAD_CAST "urn:other", BAD_CAST "o"));
	CU_ASSERT_EQUAL(ws_eis_parse(g_test_ctx, e, &eis2, &err), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "Eid"));
	xmlFreeDoc(d);
}

/* -- refusals --------------------------------------------------------------------------------------------------- */

/* remove the first element \a name (document order) from the full fixture and parse */
static int parse_without(const char *name, char **err)
{
	xmlDocPtr d = load_doc("eis_full.xml", false);
	xmlNodePtr n = find(eis_of(d), name);
	struct ws_eis *eis = NULL;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	xmlUnlinkNode(n);
	xmlFreeNode(n);
	rc = ws_eis_parse(g_test_ctx, eis_of(d), &eis, err);
	CU_ASSERT_PTR_NULL(eis);
	xmlFreeDoc(d);
	return rc;
}

static void test_missing_required(void)
{
	static const char *const req[] = {
		"EumSignedInfo", "Eid", "Eum-id", "ProductionDate", "PlatformType", "PlatformVersion",
		"Isd-p-loadfile-aid", "Isd-p-module-aid", "Ecasd", "Aid", "Sin", "Sdin", "Role", "Keyset", "Version",
		"Index", "CaId", "Value", "EuiccCapabilities", "CattpSupport", "HttpSupport", "SecurePacketVersion",
		"RemoteProvisioningVersion", "EumSignature", "RemainingMemory", "AvailableMemoryForProfiles",
		"Smsr-id", "Iccid", "Isd-p-aid", "Mno-id", "FallbackAttribute", "SubscriptionAddress", "State",
		"AllocatedMemory", "pol2", "Isd-r", "KeyComponents", "OperationDate", "OperationType", "Subject",
	};
	unsigned int i;

	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		char *err = NULL;
		int rc = parse_without(req[i], &err);

		if (rc != -ENOENT || !err || !strstr(err, req[i]))
			printf("\nwithout %s: rc=%d err=%s\n", req[i], rc, err ? err : "(null)");
		CU_ASSERT_EQUAL(rc, -ENOENT);
		CU_ASSERT_PTR_NOT_NULL(err && strstr(err, req[i]));
	}
}

static void test_optional_absent_ok(void)
{
	static const char *const opt[] = {
		"Tar", "Type", "Cntr", "CattpVersion", "HttpVersion", "LastAuditDate", "ProfileInfo", "Imsi", "Msisdn",
		"ProfileType", "FreeMemory", "Smdp-id", "Rule", "AuditTrail", "AdditionalProperties", "RequesterId",
		"StatusCodeData", "OperationExecutionStatus", "Imei", "Meid",
	};
	unsigned int i;

	for (i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
		xmlDocPtr d = load_doc("eis_full.xml", false);
		xmlNodePtr n = find(eis_of(d), opt[i]);
		struct ws_eis *eis = NULL;
		char *err = NULL;
		int rc;

		CU_ASSERT_PTR_NOT_NULL_FATAL(n);
		xmlUnlinkNode(n);
		xmlFreeNode(n);
		rc = ws_eis_parse(g_test_ctx, eis_of(d), &eis, &err);
		if (rc)
			printf("\nwithout optional %s: %d %s\n", opt[i], rc, err);
		CU_ASSERT_EQUAL(rc, 0);
		xmlFreeDoc(d);
	}
}

/* set the text of the first element \a name and parse */
static int parse_with_value(const char *name, const char *value, char **err)
{
	xmlDocPtr d = load_doc("eis_full.xml", false);
	xmlNodePtr n = find(eis_of(d), name);
	struct ws_eis *eis = NULL;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	xmlNodeSetContent(n, NULL);
	xmlNodeAddContent(n, BAD_CAST value);
	rc = ws_eis_parse(g_test_ctx, eis_of(d), &eis, err);
	if (!rc)
		CU_ASSERT_PTR_NOT_NULL(eis);
	xmlFreeDoc(d);
	return rc;
}

static void test_bad_values(void)
{
	static const struct {
		const char *elem, *value, *msg;
	} bad[] = {
		{ "Eid", "89049032000000000000000000001231", "check digits" },
		{ "Eid", "8904903200000000000000000000123", "32 decimal digits" },
		{ "Eid", "8904903200000000000000000000123A", "32 decimal digits" },
		{ "Eid", "", "32 decimal digits" },
		{ "Eum-id", "1..2", "invalid value" },
		{ "Eum-id", "abc", "invalid value" },
		{ "ProductionDate", "yesterday", "invalid value" },
		{ "ProductionDate", "2026-13-01T00:00:00Z", "invalid value" },
		{ "ProductionDate", "2026-01-01T00:00:00+25:00", "invalid value" },
		{ "PlatformVersion", "1.2", "invalid value" },
		{ "PlatformVersion", "1.2.3.4", "invalid value" },
		{ "Isd-p-loadfile-aid", "A0000005", "expected 5..16" },
		{ "Isd-p-module-aid", "A0000005591010FFFFFFFF8900000E0000", "expected 5..16" },
		{ "Isd-p-module-aid", "A00000055G", "not hexadecimal" },
		{ "Isd-p-module-aid", "A00000055", "odd number" },
		{ "Tar", "0002", "expected 3..3" },
		{ "Sin", "000102030405060708090A0B0C0D0E0F10", "expected 0..16" },
		{ "Role", "ISD-R", "Role must be ECASD" },
		{ "Version", "0", "out of range" },
		{ "Version", "128", "out of range" },
		{ "Version", "-1", "not a non-negative integer" },
		{ "Type", "SCP02", "invalid value" },
		{ "CattpSupport", "yes", "not a boolean" },
		{ "RemainingMemory", "-5", "not a non-negative integer" },
		{ "RemainingMemory", "99999999999999999999999", "too large" },
		{ "Iccid", "12345678901234567890", "invalid value" },
		{ "Iccid", "8912", "invalid value" },
		{ "Iccid", "894900123456789012345", "invalid value" },
		{ "Imsi", "2620198765432101", "invalid value" },
		{ "Msisdn", "+491701234567", "invalid value" },
		{ "State", "Running", "invalid value" },
		{ "Qualification", "Maybe", "invalid value" },
		{ "OperationType", "02", "expected 2..2" },
		{ "Status", "OK", "invalid value" },
		{ "PlatformType", "01234567890123456789012345678901234567890123456789"
				  "01234567890123456789012345678901234567890123456789x", "invalid value" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *err = NULL;
		int rc = parse_with_value(bad[i].elem, bad[i].value, &err);

		if (rc != -EBADMSG || !err || !strstr(err, bad[i].msg))
			printf("\n%s=\"%s\": rc=%d err=%s\n", bad[i].elem, bad[i].value, rc, err ? err : "(null)");
		CU_ASSERT_EQUAL(rc, -EBADMSG);
		CU_ASSERT_PTR_NOT_NULL(err && strstr(err, bad[i].elem) && strstr(err, bad[i].msg));
	}
	/* whitespace around non-string values is collapsed by the XSD: accepted */
	CU_ASSERT_EQUAL(parse_with_value("RemainingMemory", " 12\n", NULL), 0);
	CU_ASSERT_EQUAL(parse_with_value("CattpSupport", " 1 ", NULL), 0);
	CU_ASSERT_EQUAL(parse_with_value("Isd-p-module-aid", "a0000005591010ffffffff8900000e00", NULL), 0);
}

static void test_structure_refused(void)
{
	xmlDocPtr d;
	xmlNodePtr e, n;
	struct ws_eis *eis = NULL;
	char *err = NULL;

	/* unknown element at the end */
	d = load_doc("eis_full.xml", false);
	e = eis_of(d);
	xmlNewChild(e, e->ns, BAD_CAST "Surprise", NULL);
	CU_ASSERT_EQUAL(ws_eis_parse(g_test_ctx, e, &eis, &err), -EPROTO);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "Surprise"));
	xmlFreeDoc(d);

	/* order: Smsr-id moved after the ProfileInfo entries */
	d = load_doc("eis_full.xml", false);
	e = eis_of(d);
	n = find(e, "Smsr-id");
	xmlUnlinkNode(n);
	xmlAddPrevSibling(find(e, "Isd-r"), n);
	err = NULL;
	CU_ASSERT_EQUAL(ws_eis_parse(g_test_ctx, e, &eis, &err), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "Smsr-id"));
	xmlFreeDoc(d);

	/* text between elements */
	d = load_doc("eis_full.xml", false);
	e = eis_of(d);
	xmlAddPrevSibling(find(e, "Smsr-id"), xmlNewText(BAD_CAST "junk"));
	CU_ASSERT_EQUAL(ws_eis_parse(g_test_ctx, e, &eis, NULL), -EPROTO);
	xmlFreeDoc(d);

	/* an element inside a simple value */
	d = load_doc("eis_full.xml", false);
	e = eis_of(d);
	xmlNewChild(find(e, "Eid"), e->ns, BAD_CAST "x", NULL);
	CU_ASSERT_EQUAL(ws_eis_parse(g_test_ctx, e, &eis, NULL), -EBADMSG);
	xmlFreeDoc(d);

	/* ISD-R with the ECASD role */
	d = load_doc("eis_full.xml", false);
	e = eis_of(d);
	n = find(find(e, "Isd-r"), "Role");
	xmlNodeSetContent(n, BAD_CAST "ECASD");
	err = NULL;
	CU_ASSERT_EQUAL(ws_eis_parse(g_test_ctx, e, &eis, &err), -EBADMSG);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "Isd-r"));
	xmlFreeDoc(d);

	/* key component without value attribute */
	d = load_doc("eis_full.xml", false);
	e = eis_of(d);
	xmlUnsetProp(find(e, "KeyComponents"), BAD_CAST "value");
	CU_ASSERT_EQUAL(ws_eis_parse(g_test_ctx, e, &eis, NULL), -ENOENT);
	xmlFreeDoc(d);

	/* empty Property key */
	d = load_doc("eis_full.xml", false);
	e = eis_of(d);
	xmlSetProp(find(e, "Property"), BAD_CAST "key", BAD_CAST "");
	CU_ASSERT_EQUAL(ws_eis_parse(g_test_ctx, e, &eis, NULL), -EBADMSG);
	xmlFreeDoc(d);
}

static void test_bounds(void)
{
	xmlDocPtr d = load_doc("eis_full.xml", false);
	xmlNodePtr e = eis_of(d), p = find(e, "ProfileInfo");
	struct ws_eis *eis = NULL;
	char *err = NULL;
	unsigned int i;

	for (i = 0; i < WS_EIS_MAX_PROFILES; i++)
		xmlAddNextSibling(p, xmlDocCopyNode(p, d, 1));
	CU_ASSERT_EQUAL(ws_eis_parse(g_test_ctx, e, &eis, &err), -E2BIG);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "ProfileInfo"));
	xmlFreeDoc(d);

	d = load_doc("eis_full.xml", false);
	e = eis_of(d);
	p = find(e, "Tar");
	for (i = 0; i < WS_EIS_MAX_TARS; i++)
		xmlAddNextSibling(p, xmlDocCopyNode(p, d, 1));
	CU_ASSERT_EQUAL(ws_eis_parse(g_test_ctx, e, &eis, NULL), -E2BIG);
	xmlFreeDoc(d);
}

/* -- secrets ---------------------------------------------------------------------------------------------------- */

static int count_cb(struct ws_eis_secret *s, void *data)
{
	unsigned int *n = data;

	(*n)++;
	CU_ASSERT_EQUAL(s->len, 16);
	return 0;
}

static void test_secrets(void)
{
	struct ws_eis *eis = parse_fixture("eis_full.xml");
	unsigned int n = 0;
	xmlDocPtr out;
	int rc;

	CU_ASSERT_EQUAL(ws_eis_for_each_secret(eis, count_cb, &n), 0);
	CU_ASSERT_EQUAL(n, 4);
	ws_eis_redact(eis);
	CU_ASSERT_EQUAL(eis->isd_r.keysets[0].items[0].key.components[0].value.len, 0);
	CU_ASSERT_PTR_NULL(eis->isd_r.keysets[0].items[0].key.components[0].value.data);
	/* the redacted EIS still builds and validates, with empty values */
	out = build_request(eis, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(validate(out), 0);
	CU_ASSERT_STRING_EQUAL((char *)xmlHasProp(find(eis_of(out), "KeyComponents"), BAD_CAST "value")
				       ->children->content, "");
	/* kcv is not secret */
	CU_ASSERT_STRING_EQUAL((char *)xmlHasProp(find(eis_of(out), "Key"), BAD_CAST "kcv")->children->content,
			       "A1B2C3");
	xmlFreeDoc(out);
}

static void test_keep_mno(void)
{
	struct ws_eis *eis = parse_fixture("eis_full.xml");
	xmlDocPtr out;
	int rc;

	CU_ASSERT_PTR_NOT_NULL(ws_eis_find_profile(eis, "8949001234567890131f"));
	CU_ASSERT_PTR_NULL(ws_eis_find_profile(eis, "8949001234567890000"));
	ws_eis_keep_mno(eis, "1.3.6.1.4.1.99999.11");
	CU_ASSERT_EQUAL_FATAL(eis->num_profiles, 1);
	CU_ASSERT_STRING_EQUAL(eis->profiles[0].iccid, "8949001234567890131F");
	/* the audit record about the other MNO's profile is gone, the eUICC-level one stays */
	CU_ASSERT_EQUAL_FATAL(eis->num_audit, 1);
	CU_ASSERT_EQUAL(eis->audit[0].operation_type, 0x0001);
	CU_ASSERT_EQUAL(eis->isd_r.keysets[0].items[0].key.components[0].value.len, 0);
	out = build_request(eis, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(validate(out), 0);
	xmlFreeDoc(out);

	/* an MNO with no profile sees none */
	eis = parse_fixture("eis_full.xml");
	ws_eis_keep_mno(eis, "9.9");
	CU_ASSERT_EQUAL(eis->num_profiles, 0);
}

static void test_build_refuses_incomplete(void)
{
	struct ws_eis *eis = parse_fixture("eis_min.xml");
	xmlDocPtr out;
	int rc;

	eis->smsr_id = NULL;
	out = build_request(eis, &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	/* nothing half-built is left behind */
	CU_ASSERT_PTR_NULL(find(xmlDocGetRootElement(out), "Eis"));
	xmlFreeDoc(out);

	eis = parse_fixture("eis_min.xml");
	eis->eid[31] = '1';	/* wrong check digit */
	out = build_request(eis, &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	xmlFreeDoc(out);

	/* without a signature: an empty EumSignature placeholder */
	eis = parse_fixture("eis_min.xml");
	eis->eum_signature_xml = NULL;
	out = build_request(eis, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(find(eis_of(out), "EumSignature"));
	CU_ASSERT_PTR_NULL(find(eis_of(out), "SignedInfo"));
	xmlFreeDoc(out);
}

/* -- safe reader ------------------------------------------------------------------------------------------------ */

static void test_read_xml_refuses_dtd(void)
{
	static const char *const evil[] = {
		/* XXE: external entity pointing at a local file */
		"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>",
		/* external DTD over the network */
		"<?xml version=\"1.0\"?><!DOCTYPE x SYSTEM \"http://127.0.0.1:9/x.dtd\"><x/>",
		/* billion laughs */
		"<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">"
		"<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>"
		"<l>&d;&d;&d;&d;&d;&d;&d;&d;</l>",
		/* parameter entity */
		"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY % p SYSTEM \"file:///etc/hostname\"> %p;]><x/>",
	};
	unsigned int i;

	for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		char *err = NULL;
		xmlDocPtr d = ws_eis_read_xml(g_test_ctx, (const uint8_t *)evil[i], strlen(evil[i]), &err);

		CU_ASSERT_PTR_NULL(d);
		if (d)
			xmlFreeDoc(d);
		CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "DTD"));
	}
	{
		const char *bad = "<x><y></x>";
		char *err = NULL;

		CU_ASSERT_PTR_NULL(ws_eis_read_xml(g_test_ctx, (const uint8_t *)bad, strlen(bad), &err));
		CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "well-formed"));
	}
}

/* an entity reference slipped into an EIS (e.g. built by hand) is refused by the parser */
static void test_entity_ref_in_eis(void)
{
	xmlDocPtr d = load_doc("eis_full.xml", false);
	xmlNodePtr e = eis_of(d);
	struct ws_eis *eis = NULL;

	xmlAddPrevSibling(find(e, "Smsr-id"), xmlNewReference(d, BAD_CAST "&ext;"));
	CU_ASSERT_EQUAL(ws_eis_parse(g_test_ctx, e, &eis, NULL), -EPROTO);
	xmlFreeDoc(d);
}

/* ------------------------------------------------------------------------------------------------------------- */

static int suite_init(void)
{
	char *xsd;
	xmlSchemaParserCtxtPtr pc;

	g_suite_ctx = talloc_named_const(NULL, 0, "eis_test");
	osmo_init_logging2(g_suite_ctx, &sgp02_log_info);
	log_set_print_category(osmo_stderr_target, 1);
	xsd = talloc_asprintf(g_suite_ctx, "%s/spec/gsma-esim-messaging-3/all-requests.xsd", test_shared_dir());
	pc = xmlSchemaNewParserCtxt(xsd);
	if (!pc)
		return -1;
	g_schema = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	return g_schema ? 0 : -1;
}

static int suite_cleanup(void)
{
	xmlSchemaFree(g_schema);
	g_schema = NULL;
	log_fini();
	talloc_free(g_suite_ctx);
	return 0;
}

static const struct test_case eis_cases[] = {
	TEST_CASE(test_fixtures_validate),
	TEST_CASE(test_parse_full),
	TEST_CASE(test_round_trip_full),
	TEST_CASE(test_round_trip_min),
	TEST_CASE(test_build_namespace),
	TEST_CASE(test_missing_required),
	TEST_CASE(test_optional_absent_ok),
	TEST_CASE(test_bad_values),
	TEST_CASE(test_structure_refused),
	TEST_CASE(test_bounds),
	TEST_CASE(test_secrets),
	TEST_CASE(test_keep_mno),
	TEST_CASE(test_build_refuses_incomplete),
	TEST_CASE(test_read_xml_refuses_dtd),
	TEST_CASE(test_entity_ref_in_eis),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "eis", suite_init, suite_cleanup, eis_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
