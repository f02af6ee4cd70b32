/* Tests of the SOAP 1.2 + WS-Addressing core (src/ws/soap.c, ws_xml.c, ws_store.c, ws_codes.c): dispatch of
 * valid ES messages, every answer validated against the GSMA schema, and bad input answered with the right
 * Fault (run under ASan/UBSan). */
#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/utils.h>

#include <sgp02/common/logging.h>
#include <sgp02/ws/soap.h>
#include <sgp02/ws/ws_catalog.h>
#include <sgp02/ws/ws_codes.h>
#include <sgp02/ws/ws_store.h>

#include "testlib.h"

#define CT_SOAP "application/soap+xml; charset=utf-8"
#define MID_GETEIS "//1.3.6.1.4.1.99999.1/urn:uuid:3b9a6e60-0001-4000-8000-000000000001"
#define MID_ENABLE "//1.3.6.1.4.1.99999.1/urn:uuid:3b9a6e60-0002-4000-8000-000000000002"
#define EID "89001012012341234012345678901224"

static void *g_ctx;
static struct ws_schema *g_schema;
static time_t g_now = 1714557600;	/* 2024-05-01T10:00:00Z */

static time_t fake_now(void *data)
{
	return g_now;
}

/* ------------------------------------------------------------------ helpers */

static const char *data_path(const char *name)
{
	return talloc_asprintf(g_test_ctx, "%s/tests/ws/data/%s", SGP02_SRCDIR, name);
}

static uint8_t *fixture(const char *name, size_t *len)
{
	uint8_t *b = test_read_file(data_path(name), len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	return b;
}

/* Envelope with standard namespaces around header blocks and a body. */
static char *mkenv(const char *hdrs, const char *body)
{
	return talloc_asprintf(g_test_ctx,
		"<?xml version=\"1.0\"?>\n"
		"<s:Envelope xmlns:s=\"" WS_NS_SOAP12 "\" xmlns:wsa=\"" WS_NS_WSA "\" xmlns:rps=\"" WS_NS_RPS "\">"
		"<s:Header>%s</s:Header><s:Body>%s</s:Body></s:Envelope>", hdrs, body);
}

#define H_FROM "<wsa:From><wsa:Address>https://mno.example.com/ES4?EntityId=1.2.3&amp;EntityName=MNO</wsa:Address>" \
	"</wsa:From>"
#define H_TO "<wsa:To>https://smsr.example.com/ES4</wsa:To>"
#define H_MID(x) "<wsa:MessageID>//1.2.3/urn:uuid:" x "</wsa:MessageID>"
#define H_ACT(x) "<wsa:Action>http://gsma.com/ES4/" x "</wsa:Action>"
#define H_REPLY "<wsa:ReplyTo><wsa:Address>https://mno.example.com/cb</wsa:Address></wsa:ReplyTo>"
#define H_SEC "<wsse:Security xmlns:wsse=\"urn:x-sec\" s:mustUnderstand=\"true\"/>"
#define A_GETEIS "ProfileManagement/ES4-GetEISRequest"
#define A_ENABLE "PlatformManagement/ES4-EnableProfile"
#define B_GETEIS "<rps:ES4-GetEISRequest><rps:FunctionCallIdentifier>F1</rps:FunctionCallIdentifier>" \
	"<rps:Eid>" EID "</rps:Eid></rps:ES4-GetEISRequest>"
#define B_ENABLE "<rps:ES4-EnableProfileRequest><rps:FunctionCallIdentifier>F2</rps:FunctionCallIdentifier>" \
	"<rps:Eid>" EID "</rps:Eid><rps:Iccid>8933010000000000010</rps:Iccid></rps:ES4-EnableProfileRequest>"

/* What a done callback saw. */
struct done_rec {
	int calls;
	int status;
	char *xml;
	size_t len;
	char *reply_to;
};

static void done_cb(struct ws_request *req, int status, const uint8_t *xml, size_t len, void *data)
{
	struct done_rec *d = data;

	d->calls++;
	d->status = status;
	talloc_free(d->xml);
	d->xml = xml ? talloc_strndup(g_test_ctx, (const char *)xml, len) : NULL;
	d->len = len;
	d->reply_to = req->reply_to ? talloc_strdup(g_test_ctx, req->reply_to) : NULL;
}

/* Handler state shared by the tests. */
struct hstate {
	int calls;
	int rc;			/* returned by the handler */
	bool finish;		/* finish at once */
	struct ws_status st;
	const char *extra_name, *extra_text;	/* response element to append */
	struct ws_request *held;	/* not finished yet */
	char *eid;
	char *fcid;
	char *message_id;
	unsigned long vp;
};

static int handler(struct ws_request *req, void *data)
{
	struct hstate *h = data;

	h->calls++;
	h->eid = talloc_strdup(g_test_ctx, ws_req_text(req, "Eid"));
	CU_ASSERT((ws_req_child(req, "Eid") != NULL) == (h->eid != NULL));
	CU_ASSERT_PTR_NULL(ws_req_child(req, "NoSuchElement"));
	h->fcid = req->function_call_id ? talloc_strdup(g_test_ctx, req->function_call_id) : NULL;
	h->message_id = talloc_strdup(g_test_ctx, req->message_id);
	h->vp = req->validity_period;
	if (h->rc < 0)
		return h->rc;
	if (!h->finish) {
		h->held = req;
		return 0;
	}
	if (req->op->mep == WS_MEP_ONEWAY)
		return ws_request_finish(req);
	if (h->extra_name) {
		xmlNodePtr r = ws_resp_begin(req, &h->st);

		CU_ASSERT_PTR_NOT_NULL(r);
		if (h->extra_text) {
			ws_xml_add_text(r, h->extra_name, h->extra_text);
		} else {
			/* a subtree from another document (as an EIS built elsewhere) */
			xmlDocPtr d = xmlNewDoc(BAD_CAST "1.0");
			xmlNodePtr e = xmlNewDocNode(d, NULL, BAD_CAST h->extra_name,
						     BAD_CAST "A0000005591010FFFFFFFF89");

			xmlSetNs(e, xmlNewNs(e, BAD_CAST WS_NS_RPS, BAD_CAST "x"));
			xmlDocSetRootElement(d, e);
			CU_ASSERT_PTR_NOT_NULL(ws_xml_add_copy(r, e));
			xmlFreeDoc(d);
		}
		return ws_request_finish(req);
	}
	return ws_request_finish_status(req, &h->st);
}

static struct ws_service *mksvc(const struct ws_op *ops, const char *name)
{
	struct ws_service_cfg cfg = {
		.name = name,
		.path = "/ES4",
		.own_address = "https://smsr.example.com/ES4?EntityId=1.3.6.1.4.1.99999.20&EntityName=SM-SR",
		.entity_id = "1.3.6.1.4.1.99999.20",
	};
	struct ws_service *svc = ws_service_alloc(g_test_ctx, &cfg, g_schema, ops);

	CU_ASSERT_PTR_NOT_NULL_FATAL(svc);
	ws_service_set_clock(svc, fake_now, NULL);
	return svc;
}

static void run(struct ws_service *svc, const void *body, size_t len, const char *ct, struct done_rec *d,
		struct ws_result *res)
{
	struct ws_input in = {
		.body = body,
		.len = len,
		.content_type = ct,
		.done = done_cb,
		.done_data = d,
	};

	ws_process(svc, g_test_ctx, &in, res);
}

static void run_str(struct ws_service *svc, const char *xml, struct done_rec *d, struct ws_result *res)
{
	run(svc, xml, strlen(xml), CT_SOAP, d, res);
}

static uint64_t ctr(struct ws_service *svc, enum ws_ctr c)
{
	return rate_ctr_group_get_ctr(ws_service_ctrg(svc), c)->current;
}

static bool contains(const void *hay, size_t len, const char *needle)
{
	return hay && memmem(hay, len, needle, strlen(needle)) != NULL;
}

/* Assert a Fault: HTTP status, code, optional wsa subcode and a piece of the reason. */
static void assert_fault(const struct ws_result *res, int status, const char *code, const char *subcode,
			 const char *reason_part, int line)
{
	bool ok = res->http_status == status && res->xml && contains(res->xml, res->len, "<env:Fault>") &&
		  contains(res->xml, res->len, talloc_asprintf(g_test_ctx, "<env:Value>env:%s</env:Value>", code)) &&
		  (!subcode || contains(res->xml, res->len,
					talloc_asprintf(g_test_ctx, "<env:Value>wsa:%s</env:Value>", subcode))) &&
		  (!reason_part || contains(res->xml, res->len, reason_part)) &&
		  contains(res->xml, res->len, WS_WSA_FAULT_ACTION);

	if (!ok)
		fprintf(stderr, "line %d: expected %d %s/%s '%s', got %d:\n%.*s\n", line, status, code,
			subcode ? subcode : "-", reason_part ? reason_part : "", res->http_status, (int)res->len,
			res->xml ? (const char *)res->xml : "");
	CU_ASSERT(ok);
	CU_ASSERT_PTR_NULL(res->req);
}
#define ASSERT_FAULT(res, st, code, sub, reason) assert_fault(res, st, code, sub, reason, __LINE__)

static void assert_valid(const char *xml, size_t len)
{
	char *err = NULL;
	int rc = ws_schema_validate_envelope(g_schema, g_test_ctx, (const uint8_t *)xml, len, &err);

	if (rc)
		fprintf(stderr, "not valid: %s\n%.*s\n", err, (int)len, xml);
	CU_ASSERT_EQUAL(rc, 0);
}

/* ------------------------------------------------------------------ valid exchanges */

static void test_sync_get_eis(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct hstate h = { .finish = true, .st = { .kind = WS_STATUS_SUCCESS } };
	struct done_rec d = { 0 };
	struct ws_result res;
	size_t len;
	uint8_t *b = fixture("es4_get_eis.xml", &len);

	CU_ASSERT_EQUAL(ws_service_set_handler(svc, "ES4-GetEIS", handler, &h), 0);
	run(svc, b, len, CT_SOAP, &d, &res);
	CU_ASSERT_EQUAL(res.http_status, 0);	/* answered through done */
	CU_ASSERT_PTR_NULL(res.req);
	CU_ASSERT_EQUAL(h.calls, 1);
	CU_ASSERT_STRING_EQUAL(h.eid, EID);
	CU_ASSERT_STRING_EQUAL(h.fcid, "TX-GETEIS-1");
	CU_ASSERT_STRING_EQUAL(h.message_id, MID_GETEIS);
	CU_ASSERT_EQUAL(h.vp, 0);
	CU_ASSERT_EQUAL(d.calls, 1);
	CU_ASSERT_EQUAL(d.status, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d.xml);
	assert_valid(d.xml, d.len);
	CU_ASSERT(contains(d.xml, d.len, "<rps:ES4-GetEISResponse"));
	CU_ASSERT(contains(d.xml, d.len, "<rps:Status>EXECUTED_SUCCESS</rps:Status>"));
	CU_ASSERT(contains(d.xml, d.len, "<rps:ProcessingStart>2024-05-01T10:00:00Z</rps:ProcessingStart>"));
	CU_ASSERT(contains(d.xml, d.len, "RelationshipType=\"" WS_WSA_REPLY "\">" MID_GETEIS "</wsa:RelatesTo>"));
	CU_ASSERT(contains(d.xml, d.len,
			   ">http://gsma.com/ES4/ProfileManagement/ES4-GetEISResponse</wsa:Action>"));
	CU_ASSERT(contains(d.xml, d.len, ">" WS_WSA_ANONYMOUS "</wsa:To>"));
	CU_ASSERT(contains(d.xml, d.len, "<wsa:MessageID>//1.3.6.1.4.1.99999.20/urn:uuid:"));
	CU_ASSERT(contains(d.xml, d.len, "EntityId=1.3.6.1.4.1.99999.20&amp;EntityName=SM-SR</wsa:Address>"));
}

static void test_async_enable_profile(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct hstate h = { .finish = false };
	struct done_rec d = { 0 };
	struct ws_result res;
	struct ws_status st = { .kind = WS_STATUS_WARNING, .subject = "1.6", .reason = "4.3", .acceptable_vp = 600 };
	size_t len;
	uint8_t *b = fixture("es4_enable_profile.xml", &len);

	ws_service_set_handler(svc, "ES4-EnableProfile", handler, &h);
	run(svc, b, len, CT_SOAP "; action=\"http://gsma.com/ES4/PlatformManagement/ES4-EnableProfile\"", &d, &res);
	CU_ASSERT_EQUAL(res.http_status, 202);
	CU_ASSERT_PTR_NULL(res.xml);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res.req);
	CU_ASSERT_PTR_EQUAL(res.req, h.held);
	CU_ASSERT_EQUAL(h.vp, 3600);
	CU_ASSERT_STRING_EQUAL(res.req->reply_to, "https://mno.example.com/ES4/callback");
	CU_ASSERT_STRING_EQUAL(res.req->sender,
			       "https://mno.example.com/ES4?EntityId=1.3.6.1.4.1.99999.1&EntityName=MNO");
	CU_ASSERT_EQUAL(d.calls, 0);

	/* the eUICC answered 42 s later */
	g_now += 42;
	CU_ASSERT_FALSE(ws_request_expired(h.held, g_now));
	CU_ASSERT_TRUE(ws_request_expired(h.held, g_now - 42 + 3600));
	CU_ASSERT_PTR_NOT_NULL(ws_resp_begin(h.held, &st));
	CU_ASSERT_EQUAL(ws_request_finish(h.held), 0);
	g_now -= 42;
	CU_ASSERT_EQUAL(d.calls, 1);
	CU_ASSERT_EQUAL(d.status, 202);
	CU_ASSERT_STRING_EQUAL(d.reply_to, "https://mno.example.com/ES4/callback");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d.xml);
	assert_valid(d.xml, d.len);
	CU_ASSERT(contains(d.xml, d.len, ">https://mno.example.com/ES4/callback</wsa:To>"));
	CU_ASSERT(contains(d.xml, d.len,
			   ">http://gsma.com/ES4/PlatformManagementCallBack/ES4-EnableProfile</wsa:Action>"));
	CU_ASSERT(contains(d.xml, d.len, ">" MID_ENABLE "</wsa:RelatesTo>"));
	CU_ASSERT(contains(d.xml, d.len, "<rps:ProcessingEnd>2024-05-01T10:00:42Z</rps:ProcessingEnd>"
			   "<rps:AcceptableValidityPeriod>600</rps:AcceptableValidityPeriod>"
			   "<rps:FunctionExecutionStatus>"));
}

static void test_sync_create_isdp(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES3SmSrService, "ES3SmSrService");
	struct hstate h = { .finish = true, .st = { .kind = WS_STATUS_SUCCESS },
			    .extra_name = "Isd-p-aid", .extra_text = "A0000005591010FFFFFFFF8900001000" };
	struct done_rec d = { 0 };
	struct ws_result res;
	size_t len;
	uint8_t *b = fixture("es3_create_isdp.xml", &len);

	ws_service_set_handler(svc, "ES3-CreateISDP", handler, &h);
	run(svc, b, len, CT_SOAP, &d, &res);
	CU_ASSERT_EQUAL(h.calls, 1);
	CU_ASSERT_EQUAL(h.vp, 10);
	CU_ASSERT_EQUAL(d.status, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d.xml);
	assert_valid(d.xml, d.len);
	CU_ASSERT(contains(d.xml, d.len, "<rps:Isd-p-aid>A0000005591010FFFFFFFF8900001000</rps:Isd-p-aid>"));
	CU_ASSERT(contains(d.xml, d.len, "ES3-CreateISDPResponse</wsa:Action>"));
	/* the same with the element copied in from another document (other prefix) */
	h.extra_text = NULL;
	{
		char *x = (char *)fixture("es3_create_isdp.xml", &len), *p = strstr(x, "6f1c2d3e-0001");

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		memcpy(p, "6f1c2d3e-0002", 13);	/* another MessageID */
		run(svc, x, strlen(x), CT_SOAP, &d, &res);
	}
	CU_ASSERT_EQUAL(h.calls, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d.xml);
	assert_valid(d.xml, d.len);
	CU_ASSERT(contains(d.xml, d.len, ">A0000005591010FFFFFFFF89</x:Isd-p-aid>"));
}

static void test_oneway_notification(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES3SmDpService, "ES3SmDpService");
	struct hstate h = { .finish = true };
	struct done_rec d = { 0 };
	struct ws_result res;
	size_t len;
	uint8_t *b = fixture("es3_profile_enabled_notif.xml", &len);

	ws_service_set_handler(svc, "ES3-HandleProfileEnabledNotification", handler, &h);
	run(svc, b, len, "application/soap+xml", &d, &res);
	CU_ASSERT_EQUAL(res.http_status, 202);
	CU_ASSERT_PTR_NULL(res.xml);
	CU_ASSERT_EQUAL(h.calls, 1);
	CU_ASSERT_PTR_NULL(h.fcid);
	CU_ASSERT_STRING_EQUAL(h.eid, EID);
	CU_ASSERT_EQUAL(d.calls, 1);
	CU_ASSERT_PTR_NULL(d.xml);
}

/* A callback (response of an asynchronous call) received as a one-way message on the requester side. */
static void test_callback_received(void)
{
	struct ws_service *smsr = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct ws_service *smdp = mksvc(ws_ops_ES3SmDpService, "ES3SmDpService");
	struct ws_status st = { .kind = WS_STATUS_SUCCESS };
	struct done_rec d = { 0 };
	struct ws_result res;
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr r = xmlNewDocNode(doc, NULL, BAD_CAST "ES3-CreateISDPResponse", NULL);
	struct ws_env_hdr hdr = {
		.action = "http://gsma.com/ES3/ProfileManagementCallBack/ES3-CreateISDP",
		.to = "https://smdp.example.com/ES3/callback",
		.from = "https://smsr.example.com/ES3?EntityId=1.2.3",
		.relates_to = "//1.2.3/urn:uuid:original",
	};
	struct hstate h = { .finish = true };
	uint8_t *xml;
	size_t len;

	xmlSetNs(r, xmlNewNs(r, BAD_CAST WS_NS_RPS, BAD_CAST "rps"));
	xmlDocSetRootElement(doc, r);
	ws_fes_append(r, &st);
	ws_xml_add_text(r, "Isd-p-aid", "A0000005591010FFFFFFFF8900001000");
	CU_ASSERT_EQUAL(ws_envelope_build(smsr, g_test_ctx, &hdr, r, &xml, &len), 0);
	xmlFreeDoc(doc);
	assert_valid((const char *)xml, len);

	ws_service_set_handler(smdp, "ES3-CreateISDPCallback", handler, &h);
	run(smdp, xml, len, CT_SOAP, &d, &res);
	CU_ASSERT_EQUAL(res.http_status, 202);
	CU_ASSERT_EQUAL(h.calls, 1);
	CU_ASSERT_EQUAL(d.calls, 1);
}

static void test_lenient_action(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct hstate h = { .finish = true };
	struct done_rec d = { 0 };
	struct ws_result res;

	ws_service_set_handler(svc, "ES4-GetEIS", handler, &h);
	/* misspelt category as some implementations send it, function without "Request" */
	run_str(svc, mkenv(H_FROM H_TO H_MID("l1") "<wsa:Action>http://gsma.com/ES4/ProfileManagent/ES4-GetEIS"
			   "</wsa:Action>", B_GETEIS), &d, &res);
	CU_ASSERT_EQUAL(h.calls, 1);
	CU_ASSERT_EQUAL(d.status, 200);
	CU_ASSERT_PTR_NOT_NULL(ws_service_find_op(svc, "urn:x/ES4-EnableProfileRequest"));
	CU_ASSERT_PTR_NULL(ws_service_find_op(svc, "http://gsma.com/ES4/X/ES4-Nothing"));
	/* received callbacks match by function name */
	CU_ASSERT_PTR_NOT_NULL(ws_service_find_op(mksvc(ws_ops_ES3SmDpService, "dp"),
						  "http://gsma.com/ES3/ProfileManagementCallBack/ES3-SendData"));
}

/* ------------------------------------------------------------------ bad input */

static void test_wrong_content_type(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct ws_result res;
	char *x = mkenv(H_FROM H_TO H_MID("c1") H_ACT(A_GETEIS), B_GETEIS);

	run(svc, x, strlen(x), "text/xml; charset=utf-8", NULL, &res);
	ASSERT_FAULT(&res, 415, "Sender", NULL, "not application/soap+xml");
	run(svc, x, strlen(x), NULL, NULL, &res);
	ASSERT_FAULT(&res, 415, "Sender", NULL, "(none)");
}

static void test_malformed(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct ws_result res;

	run_str(svc, "<s:Envelope xmlns:s=\"" WS_NS_SOAP12 "\"><s:Body>", NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "malformed XML, line 1");
	run_str(svc, "not xml at all", NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "malformed XML");
	run(svc, "", 0, CT_SOAP, NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "empty body");
	/* an undeclared entity reference (no DTD can declare one) */
	run_str(svc, mkenv(H_FROM H_TO H_MID("m1") H_ACT(A_GETEIS), "<rps:ES4-GetEISRequest>&foo;"
			   "</rps:ES4-GetEISRequest>"), NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "malformed XML");
	/* not SOAP */
	run_str(svc, "<a/>", NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "not a SOAP 1.2 Envelope");
	/* two Body children */
	run_str(svc, mkenv(H_FROM H_TO H_MID("m2") H_ACT(A_GETEIS), B_GETEIS B_GETEIS), NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "exactly one function element");
	/* empty Body */
	run_str(svc, mkenv(H_FROM H_TO H_MID("m3") H_ACT(A_GETEIS), ""), NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "exactly one function element");
}

static void test_xxe_and_dtd(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct ws_result res;
	const char *xxe =
		"<?xml version=\"1.0\"?>\n<!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
		"<s:Envelope xmlns:s=\"" WS_NS_SOAP12 "\"><s:Body><a>&x;</a></s:Body></s:Envelope>";
	const char *ext_dtd =
		"<?xml version=\"1.0\"?>\n<!DOCTYPE e SYSTEM \"http://127.0.0.1:1/evil.dtd\">\n"
		"<s:Envelope xmlns:s=\"" WS_NS_SOAP12 "\"><s:Body><a/></s:Body></s:Envelope>";
	const char *param_ent =
		"<?xml version=\"1.0\"?>\n<!DOCTYPE e [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>\n"
		"<s:Envelope xmlns:s=\"" WS_NS_SOAP12 "\"><s:Body><a/></s:Body></s:Envelope>";
	const char *laughs =
		"<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
		"<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
		"<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
		"<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
		"<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
		"<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
		"<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
		"<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
		"<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
		"<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">]>\n"
		"<s:Envelope xmlns:s=\"" WS_NS_SOAP12 "\"><s:Body><a>&lol9;</a></s:Body></s:Envelope>";
	const char *plain_doctype =
		"<?xml version=\"1.0\"?>\n<!DOCTYPE Envelope>\n"
		"<s:Envelope xmlns:s=\"" WS_NS_SOAP12 "\"><s:Body><a/></s:Body></s:Envelope>";

	run_str(svc, xxe, NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "DOCTYPE/DTD is not allowed");
	CU_ASSERT_FALSE(contains(res.xml, res.len, "root:"));
	run_str(svc, ext_dtd, NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "DOCTYPE/DTD is not allowed");
	run_str(svc, param_ent, NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "DOCTYPE/DTD is not allowed");
	run_str(svc, laughs, NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "DOCTYPE/DTD is not allowed");
	CU_ASSERT(res.len < 4096);
	run_str(svc, plain_doctype, NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "DOCTYPE/DTD is not allowed");
}

static void test_oversize_and_depth(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct ws_result res;
	size_t big = WS_MAX_BODY_DEFAULT + 1, i;
	char *x = talloc_size(g_test_ctx, big + 1);
	char *deep;

	memset(x, ' ', big);
	x[big] = '\0';
	memcpy(x, "<a>", 3);
	run(svc, x, big, CT_SOAP, NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "exceeds the limit of 1048576");

	/* 100 nested elements inside the function element: beyond the default depth 64 */
	deep = talloc_strdup(g_test_ctx, "");
	for (i = 0; i < 100; i++)
		deep = talloc_strdup_append(deep, "<rps:x>");
	for (i = 0; i < 100; i++)
		deep = talloc_strdup_append(deep, "</rps:x>");
	run_str(svc, mkenv(H_FROM H_TO H_MID("d1") H_ACT(A_GETEIS), deep), NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "element nesting deeper than 64");

	/* a huge number of nested elements is stopped early as well (no stack exhaustion) */
	deep = talloc_strdup(g_test_ctx, "");
	for (i = 0; i < 20000; i++)
		deep = talloc_strdup_append(deep, "<x>");
	run_str(svc, deep, NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "element nesting deeper than 64");
}

static void test_version_mismatch(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct ws_result res;

	run_str(svc, "<e:Envelope xmlns:e=\"" WS_NS_SOAP11 "\"><e:Body><a/></e:Body></e:Envelope>", NULL, &res);
	ASSERT_FAULT(&res, 500, "VersionMismatch", NULL, "SOAP 1.1 envelope");
}

static void test_missing_headers(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct ws_result res;

	run_str(svc, mkenv(H_FROM H_TO H_ACT(A_GETEIS), B_GETEIS), NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", "MessageAddressingHeaderRequired", "wsa:MessageID is required");
	CU_ASSERT(contains(res.xml, res.len, "<wsa:ProblemHeaderQName>wsa:MessageID</wsa:ProblemHeaderQName>"));

	run_str(svc, mkenv(H_FROM H_TO H_MID("h1"), B_GETEIS), NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", "MessageAddressingHeaderRequired", "wsa:Action is required");
	CU_ASSERT(contains(res.xml, res.len, ">//1.2.3/urn:uuid:h1</wsa:RelatesTo>"));

	run_str(svc, mkenv(H_FROM H_MID("h2") H_ACT(A_GETEIS), B_GETEIS), NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", "MessageAddressingHeaderRequired", "wsa:To is required");

	/* no Header at all */
	run_str(svc, "<s:Envelope xmlns:s=\"" WS_NS_SOAP12 "\" xmlns:rps=\"" WS_NS_RPS "\"><s:Body>" B_GETEIS
		"</s:Body></s:Envelope>", NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", "MessageAddressingHeaderRequired", "wsa:MessageID is required");

	/* asynchronous without ReplyTo, and with the anonymous one */
	run_str(svc, mkenv(H_FROM H_TO H_MID("h3") H_ACT(A_ENABLE), B_ENABLE), NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", "MessageAddressingHeaderRequired", "wsa:ReplyTo is required");
	run_str(svc, mkenv(H_FROM H_TO H_MID("h4") H_ACT(A_ENABLE) "<wsa:ReplyTo><wsa:Address>" WS_WSA_ANONYMOUS
			   "</wsa:Address></wsa:ReplyTo>", B_ENABLE), NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", "OnlyNonAnonymousAddressSupported", "callback address");
	run_str(svc, mkenv(H_FROM H_TO H_MID("h4b") H_ACT(A_ENABLE) "<wsa:ReplyTo><wsa:Address>file:///etc/passwd"
			   "</wsa:Address></wsa:ReplyTo>", B_ENABLE), NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", "InvalidAddressingHeader", "is not an http(s) URL");

	/* a header twice */
	run_str(svc, mkenv(H_FROM H_TO H_MID("h5") H_MID("h6") H_ACT(A_GETEIS), B_GETEIS), NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", "InvalidAddressingHeader", "more than once");
	CU_ASSERT_EQUAL(ctr(svc, WS_CTR_REQUESTS), 8);
	CU_ASSERT_EQUAL(ctr(svc, WS_CTR_FAULT_SENDER), 8);
	CU_ASSERT_EQUAL(ctr(svc, WS_CTR_DISPATCHED), 0);
}

static void test_unknown_action(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct ws_result res;

	run_str(svc, mkenv(H_FROM H_TO H_MID("u1") H_ACT("ProfileManagement/ES4-Frobnicate"), B_GETEIS), NULL,
		&res);
	ASSERT_FAULT(&res, 400, "Sender", "ActionNotSupported", "ES4-Frobnicate' is not supported");
	CU_ASSERT(contains(res.xml, res.len, "<wsa:ProblemAction><wsa:Action>"));
	/* an ES3 action on the ES4 endpoint */
	run_str(svc, mkenv(H_FROM H_TO H_MID("u2") "<wsa:Action>http://gsma.com/ES3/ProfileManagement/"
			   "ES3-CreateISDPRequest</wsa:Action>", B_GETEIS), NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", "ActionNotSupported", NULL);
	/* action and body disagree */
	run_str(svc, mkenv(H_FROM H_TO H_MID("u3") H_ACT(A_GETEIS), B_ENABLE), NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "does not match action");
	/* Content-Type action parameter and wsa:Action disagree: wsa:Action rules (clients generated from the GSMA
	 * WSDL send action="None"), so this reaches dispatch (and the missing handler) */
	{
		char *x = mkenv(H_FROM H_TO H_MID("u4") H_ACT(A_GETEIS), B_GETEIS);

		run(svc, x, strlen(x), CT_SOAP "; action=\"None\"", NULL, &res);
		ASSERT_FAULT(&res, 500, "Receiver", NULL, "ES4-GetEIS is not implemented");
	}
}

static void test_schema_invalid(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct hstate h = { .finish = true };
	struct ws_result res;

	ws_service_set_handler(svc, "ES4-GetEIS", handler, &h);
	/* Eid is not hexBinary */
	run_str(svc, mkenv(H_FROM H_TO H_MID("s1") H_ACT(A_GETEIS), "<rps:ES4-GetEISRequest><rps:"
			   "FunctionCallIdentifier>F</rps:FunctionCallIdentifier><rps:Eid>XYZ</rps:Eid>"
			   "</rps:ES4-GetEISRequest>"), NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "ES4-GetEISRequest does not validate: line 2: Element");
	CU_ASSERT(contains(res.xml, res.len, "Eid"));
	/* FunctionCallIdentifier missing */
	run_str(svc, mkenv(H_FROM H_TO H_MID("s2") H_ACT(A_GETEIS), "<rps:ES4-GetEISRequest><rps:Eid>" EID
			   "</rps:Eid></rps:ES4-GetEISRequest>"), NULL, &res);
	ASSERT_FAULT(&res, 400, "Sender", NULL, "FunctionCallIdentifier");
	CU_ASSERT_EQUAL(h.calls, 0);
}

static void test_must_understand(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct hstate h = { .finish = true };
	struct done_rec d = { 0 };
	struct ws_result res;

	ws_service_set_handler(svc, "ES4-GetEIS", handler, &h);
	run_str(svc, mkenv(H_SEC H_FROM H_TO H_MID("mu1") H_ACT(A_GETEIS), B_GETEIS), NULL, &res);
	ASSERT_FAULT(&res, 500, "MustUnderstand", NULL, "{urn:x-sec}Security");
	CU_ASSERT_EQUAL(ctr(svc, WS_CTR_FAULT_OTHER), 1);
	CU_ASSERT(contains(res.xml, res.len, "<env:NotUnderstood"));
	CU_ASSERT(contains(res.xml, res.len, "qname=\"nu:Security\""));
	/* the same header for another role is not ours to understand; without mustUnderstand it is ignored */
	run_str(svc, mkenv("<x:Y xmlns:x=\"urn:x\" s:mustUnderstand=\"1\" s:role=\"urn:someone-else\"/>"
			   "<x:Z xmlns:x=\"urn:x\"/>" H_FROM H_TO H_MID("mu2") H_ACT(A_GETEIS), B_GETEIS), &d, &res);
	CU_ASSERT_EQUAL(h.calls, 1);
	CU_ASSERT_EQUAL(d.status, 200);
}

static int failing_handler(struct ws_request *req, void *data)
{
	return -EIO;
}

static void test_not_implemented(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct ws_result res;

	run_str(svc, mkenv(H_FROM H_TO H_MID("n1") H_ACT(A_GETEIS), B_GETEIS), NULL, &res);
	ASSERT_FAULT(&res, 500, "Receiver", NULL, "ES4-GetEIS is not implemented by ES4SmSrService");
	run_str(svc, mkenv(H_FROM H_TO H_MID("n2") H_ACT(A_ENABLE) H_REPLY, B_ENABLE), NULL, &res);
	ASSERT_FAULT(&res, 500, "Receiver", NULL, "ES4-EnableProfile is not implemented");
	CU_ASSERT_EQUAL(ws_service_set_handler(svc, "ES4-Nothing", handler, NULL), -ENOENT);
	ws_service_set_handler(svc, "ES4-GetEIS", failing_handler, NULL);
	run_str(svc, mkenv(H_FROM H_TO H_MID("n3") H_ACT(A_GETEIS), B_GETEIS), NULL, &res);
	ASSERT_FAULT(&res, 500, "Receiver", NULL, "ES4-GetEIS failed in the function provider");
}

/* ------------------------------------------------------------------ duplicates, validity */

static void test_duplicate_sync(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct ws_mem_store *st = ws_mem_store_alloc(g_test_ctx, 100, 3600, fake_now, NULL);
	struct hstate h = { .finish = true, .st = { .kind = WS_STATUS_SUCCESS } };
	struct done_rec d = { 0 };
	struct ws_result res;
	char *first;
	char *x = mkenv(H_FROM H_TO H_MID("dup1") H_ACT(A_GETEIS), B_GETEIS);

	ws_service_set_store(svc, &ws_mem_store_ops, st);
	ws_service_set_handler(svc, "ES4-GetEIS", handler, &h);
	run_str(svc, x, &d, &res);
	CU_ASSERT_EQUAL(h.calls, 1);
	CU_ASSERT_EQUAL(d.status, 200);
	first = talloc_strdup(g_test_ctx, d.xml);

	/* the retry is answered from the store, byte for byte, without running the handler */
	run_str(svc, x, &d, &res);
	CU_ASSERT_EQUAL(h.calls, 1);
	CU_ASSERT_EQUAL(d.calls, 1);
	CU_ASSERT_EQUAL(res.http_status, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res.xml);
	CU_ASSERT_EQUAL(res.len, strlen(first));
	CU_ASSERT(!memcmp(res.xml, first, res.len));

	/* the same MessageID from another sender is another request */
	{
		struct ws_input in = { .body = (uint8_t *)x, .len = strlen(x), .content_type = CT_SOAP,
				       .peer_identity = "other-mno", .done = done_cb, .done_data = &d };

		ws_process(svc, g_test_ctx, &in, &res);
		CU_ASSERT_EQUAL(h.calls, 2);
	}

	/* while the first is executing, a duplicate is told to retry */
	h.finish = false;
	x = mkenv(H_FROM H_TO H_MID("dup2") H_ACT(A_GETEIS), B_GETEIS);
	run_str(svc, x, &d, &res);
	CU_ASSERT_EQUAL(h.calls, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h.held);
	run_str(svc, x, NULL, &res);
	ASSERT_FAULT(&res, 500, "Receiver", NULL, "still being processed");
	CU_ASSERT_EQUAL(h.calls, 3);
	ws_request_finish_status(h.held, &h.st);
	run_str(svc, x, NULL, &res);
	CU_ASSERT_EQUAL(res.http_status, 200);
	CU_ASSERT(contains(res.xml, res.len, "ES4-GetEISResponse"));
	CU_ASSERT_EQUAL(h.calls, 3);
	CU_ASSERT_EQUAL(ctr(svc, WS_CTR_DUPLICATES), 3);
	CU_ASSERT_EQUAL(ctr(svc, WS_CTR_DISPATCHED), 3);
	CU_ASSERT_EQUAL(ctr(svc, WS_CTR_FAULT_RECEIVER), 1);
}

static void test_duplicate_async(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	struct ws_mem_store *st = ws_mem_store_alloc(g_test_ctx, 100, 3600, fake_now, NULL);
	struct hstate h = { .finish = false, .st = { .kind = WS_STATUS_SUCCESS } };
	struct done_rec d = { 0 };
	struct ws_result res;
	char *x = mkenv(H_FROM H_TO H_MID("da1") H_ACT(A_ENABLE) H_REPLY, B_ENABLE);

	ws_service_set_store(svc, &ws_mem_store_ops, st);
	ws_service_set_handler(svc, "ES4-EnableProfile", handler, &h);
	run_str(svc, x, &d, &res);
	CU_ASSERT_EQUAL(res.http_status, 202);
	CU_ASSERT_EQUAL(h.calls, 1);
	/* in progress: 202 again, nothing else */
	run_str(svc, x, &d, &res);
	CU_ASSERT_EQUAL(res.http_status, 202);
	CU_ASSERT_PTR_NULL(res.xml);
	CU_ASSERT_PTR_NULL(res.resend_xml);
	CU_ASSERT_EQUAL(h.calls, 1);
	ws_request_finish_status(h.held, &h.st);
	CU_ASSERT_EQUAL(d.calls, 1);
	/* finished: 202 and the stored callback to send again */
	run_str(svc, x, &d, &res);
	CU_ASSERT_EQUAL(res.http_status, 202);
	CU_ASSERT_EQUAL(h.calls, 1);
	CU_ASSERT_STRING_EQUAL(res.resend_url, "https://mno.example.com/cb");
	CU_ASSERT_EQUAL(res.resend_len, d.len);
	CU_ASSERT(res.resend_xml && !memcmp(res.resend_xml, d.xml, d.len));
}

static void fill_isdp_aid(struct ws_request *req, xmlNodePtr resp, void *data)
{
	int *calls = data;

	(*calls)++;
	ws_xml_add_text(resp, "Isd-p-aid", "A0000005591010FFFFFFFF8900001000");
}

static void test_validity_expired(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES3SmSrService, "ES3SmSrService");
	struct hstate h = { .finish = true, .st = { .kind = WS_STATUS_SUCCESS } };
	struct done_rec d = { 0 };
	struct ws_result res;
	size_t len;
	uint8_t *b = fixture("es3_create_isdp.xml", &len);	/* ValidityPeriod 10 */
	struct ws_input in = { .body = b, .len = len, .content_type = CT_SOAP, .done = done_cb, .done_data = &d };
	int fills = 0;

	ws_service_set_handler(svc, "ES3-CreateISDP", handler, &h);
	/* the schema wants Isd-p-aid even in a failure answer: the daemon supplies it */
	CU_ASSERT_EQUAL(ws_service_set_filler(svc, "ES3-CreateISDP", fill_isdp_aid, &fills), 0);
	CU_ASSERT_EQUAL(ws_service_set_filler(svc, "ES3-Nothing", fill_isdp_aid, &fills), -ENOENT);
	/* received 10 s ago (queued), executed now: expired, the handler is not run */
	in.received = g_now - 10;
	ws_process(svc, g_test_ctx, &in, &res);
	CU_ASSERT_EQUAL(h.calls, 0);
	CU_ASSERT_EQUAL(d.status, 200);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d.xml);
	assert_valid(d.xml, d.len);
	CU_ASSERT(contains(d.xml, d.len, "<rps:Status>EXPIRED</rps:Status>"));
	CU_ASSERT(contains(d.xml, d.len, "<rps:Subject>1.6</rps:Subject>"));
	CU_ASSERT_EQUAL(fills, 1);
	CU_ASSERT_EQUAL(ctr(svc, WS_CTR_EXPIRED), 1);
	/* 9 s ago: still valid */
	in.received = g_now - 9;
	ws_process(svc, g_test_ctx, &in, &res);
	CU_ASSERT_EQUAL(h.calls, 1);
}

/* ------------------------------------------------------------------ builders, tables, store */

static void test_fes_all_kinds(void)
{
	struct ws_service *svc = mksvc(ws_ops_ES4SmSrService, "ES4SmSrService");
	const struct ws_status sts[] = {
		{ .kind = WS_STATUS_SUCCESS },
		{ .kind = WS_STATUS_WARNING, .subject = WS_SUBJ_PROFILE, .reason = WS_REASON_STOPPED_ON_WARNING,
		  .message = "warning <&> text" },
		{ .kind = WS_STATUS_FAILED, .subject = WS_SUBJ_EID, .reason = WS_REASON_UNKNOWN,
		  .subject_id = EID, .message = "Unknown EID" },
		{ .kind = WS_STATUS_EXPIRED, .subject = WS_SUBJ_FUNCTION, .reason = WS_REASON_TTL_EXPIRED },
		{ .kind = WS_STATUS_FAILED },	/* defaults filled in */
	};
	const char *want[] = {
		"<rps:FunctionExecutionStatus><rps:Status>EXECUTED_SUCCESS</rps:Status></rps:FunctionExecutionStatus>",
		"<rps:Status>EXECUTED_WITHWARNING</rps:Status><rps:StatusCodeData><rps:Subject>8.2</rps:Subject>"
		"<rps:Reason>4.3</rps:Reason><rps:Message>warning &lt;&amp;&gt; text</rps:Message>",
		"<rps:Status>FAILED</rps:Status><rps:StatusCodeData><rps:Subject>8.1.1</rps:Subject><rps:Reason>3.9"
		"</rps:Reason><rps:SubjectIdentifier>" EID "</rps:SubjectIdentifier><rps:Message>Unknown EID",
		"<rps:Status>EXPIRED</rps:Status><rps:StatusCodeData><rps:Subject>1.6</rps:Subject><rps:Reason>4.10"
		"</rps:Reason></rps:StatusCodeData>",
		"<rps:Status>FAILED</rps:Status><rps:StatusCodeData><rps:Subject>1</rps:Subject><rps:Reason>4"
		"</rps:Reason></rps:StatusCodeData>",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sts); i++) {
		xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
		xmlNodePtr r = xmlNewDocNode(doc, NULL, BAD_CAST "ES4-EnableProfileResponse", NULL);
		struct ws_env_hdr hdr = { .action = "urn:a", .relates_to = "urn:m" };
		uint8_t *xml;
		size_t len;

		xmlSetNs(r, xmlNewNs(r, BAD_CAST WS_NS_RPS, BAD_CAST "rps"));
		xmlDocSetRootElement(doc, r);
		CU_ASSERT_PTR_NOT_NULL(ws_fes_append(r, &sts[i]));
		CU_ASSERT_EQUAL(ws_envelope_build(svc, g_test_ctx, &hdr, r, &xml, &len), 0);
		xmlFreeDoc(doc);
		assert_valid((const char *)xml, len);
		if (!contains(xml, len, want[i]))
			fprintf(stderr, "kind %u: %s\n", i, xml);
		CU_ASSERT(contains(xml, len, want[i]));
	}
	CU_ASSERT_STRING_EQUAL(ws_status_kind_str(WS_STATUS_WARNING), "EXECUTED_WITHWARNING");
}

static void test_codes(void)
{
	CU_ASSERT_STRING_EQUAL(ws_subject_name("8.1.1"), "EID");
	CU_ASSERT_STRING_EQUAL(ws_subject_name(WS_SUBJ_ICCID), "Profile ICCID");
	CU_ASSERT_STRING_EQUAL(ws_reason_name("3.9"), "Unknown");
	CU_ASSERT_STRING_EQUAL(ws_reason_name(WS_REASON_INVALID_DESTINATION), "Invalid Destination");
	CU_ASSERT_PTR_NULL(ws_reason_name("99.9"));
	CU_ASSERT_PTR_NULL(ws_subject_name(NULL));
}

static void test_content_type(void)
{
	char *a;

	CU_ASSERT_TRUE(ws_content_type_ok(g_test_ctx, "application/soap+xml", &a));
	CU_ASSERT_PTR_NULL(a);
	CU_ASSERT_TRUE(ws_content_type_ok(g_test_ctx, " Application/SOAP+XML ;charset=UTF-8; action=\"urn:x\"", &a));
	CU_ASSERT_STRING_EQUAL(a, "urn:x");
	CU_ASSERT_TRUE(ws_content_type_ok(g_test_ctx, "application/soap+xml;action=urn:y", &a));
	CU_ASSERT_STRING_EQUAL(a, "urn:y");
	CU_ASSERT_FALSE(ws_content_type_ok(g_test_ctx, "text/xml", NULL));
	CU_ASSERT_FALSE(ws_content_type_ok(g_test_ctx, "application/soap+xmlx", NULL));
	CU_ASSERT_FALSE(ws_content_type_ok(g_test_ctx, "", NULL));
}

static void test_message_id(void)
{
	char *a = ws_new_message_id(g_test_ctx, "1.2.3");
	char *b = ws_new_message_id(g_test_ctx, "1.2.3");

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(strlen(a), strlen("//1.2.3/urn:uuid:") + 36);
	CU_ASSERT(!strncmp(a, "//1.2.3/urn:uuid:", 17));
	CU_ASSERT_EQUAL(a[17 + 14], '4');	/* version 4 */
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

static void test_mem_store(void)
{
	struct ws_mem_store *st = ws_mem_store_alloc(g_test_ctx, 3, 60, fake_now, NULL);
	struct ws_store_entry e = { .state = WS_STORE_DONE, .http_status = 200, .xml = (const uint8_t *)"abc",
				    .xml_len = 3 }, out;
	time_t t0 = g_now;

	CU_ASSERT_EQUAL(ws_mem_store_ops.save(st, "s", "m1", &e), 0);
	CU_ASSERT_EQUAL(ws_mem_store_ops.save(st, "s", "m2", &e), 0);
	CU_ASSERT_EQUAL(ws_mem_store_ops.save(st, "s", "m3", &e), 0);
	CU_ASSERT_EQUAL(ws_mem_store_count(st), 3);
	/* m1 used: m2 is now the least recently used and goes first */
	CU_ASSERT_EQUAL(ws_mem_store_ops.lookup(st, g_test_ctx, "s", "m1", &out), 0);
	CU_ASSERT_EQUAL(out.xml_len, 3);
	CU_ASSERT(!memcmp(out.xml, "abc", 3));
	CU_ASSERT_EQUAL(ws_mem_store_ops.save(st, "s", "m4", &e), 0);
	CU_ASSERT_EQUAL(ws_mem_store_count(st), 3);
	CU_ASSERT_EQUAL(ws_mem_store_ops.lookup(st, g_test_ctx, "s", "m2", &out), -ENOENT);
	CU_ASSERT_EQUAL(ws_mem_store_ops.lookup(st, g_test_ctx, "s", "m1", &out), 0);
	CU_ASSERT_EQUAL(ws_mem_store_ops.lookup(st, g_test_ctx, "t", "m1", &out), -ENOENT);
	/* replace keeps one entry */
	e.state = WS_STORE_PROCESSING;
	CU_ASSERT_EQUAL(ws_mem_store_ops.save(st, "s", "m1", &e), 0);
	CU_ASSERT_EQUAL(ws_mem_store_count(st), 3);
	CU_ASSERT_EQUAL(ws_mem_store_ops.lookup(st, g_test_ctx, "s", "m1", &out), 0);
	CU_ASSERT_EQUAL(out.state, WS_STORE_PROCESSING);
	/* TTL */
	g_now = t0 + 60;
	CU_ASSERT_EQUAL(ws_mem_store_ops.lookup(st, g_test_ctx, "s", "m1", &out), -ENOENT);
	g_now = t0;
}

static void test_catalogue(void)
{
	const struct ws_op *tables[] = {
		ws_ops_ES1SmSrService, ws_ops_ES2SmDpService, ws_ops_ES3SmDpService, ws_ops_ES3SmSrService,
		ws_ops_ES4SmSrService, ws_ops_ES7SmSrService, ws_ops_ES7SmSrProviderService,
		ws_ops_ES7SmSrRequesterService, ws_ops_ES2MnoCallbackService, ws_ops_ES4MnoCallbackService,
	};
	unsigned int t, n = 0;

	for (t = 0; t < ARRAY_SIZE(tables); t++) {
		const struct ws_op *op;

		for (op = tables[t]; op->name; op++, n++) {
			xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
			xmlNodePtr r = xmlNewDocNode(doc, NULL, BAD_CAST op->req_elem, NULL);
			char *err = NULL;

			CU_ASSERT_PTR_NOT_NULL(op->action);
			CU_ASSERT((op->mep == WS_MEP_ONEWAY) == (op->resp_elem == NULL));
			CU_ASSERT((op->mep == WS_MEP_ONEWAY) == (op->resp_action == NULL));
			/* every element named is declared by the schema: an empty one fails on content, not on
			 * "No matching global declaration" */
			xmlSetNs(r, xmlNewNs(r, BAD_CAST WS_NS_RPS, BAD_CAST "rps"));
			xmlDocSetRootElement(doc, r);
			ws_schema_validate_elem(g_schema, g_test_ctx, r, &err);
			if (err && strstr(err, "No matching global"))
				fprintf(stderr, "%s: %s\n", op->req_elem, err);
			CU_ASSERT(!err || !strstr(err, "No matching global"));
			xmlFreeDoc(doc);
		}
	}
	CU_ASSERT_EQUAL(n, 67);
}

/* Every callback an asynchronous provider sends is an operation of the requester's callback service, with the
 * same element: the two sides of each interface agree. */
static void test_catalogue_callbacks_match(void)
{
	const struct {
		const struct ws_op *provider, *requester;
	} pairs[] = {
		{ ws_ops_ES2SmDpService, ws_ops_ES2MnoCallbackService },
		{ ws_ops_ES4SmSrService, ws_ops_ES4MnoCallbackService },
		{ ws_ops_ES7SmSrProviderService, ws_ops_ES7SmSrRequesterService },
	};
	unsigned int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		struct ws_service *req_svc = mksvc(pairs[i].requester, "requester");
		const struct ws_op *op;

		for (op = pairs[i].provider; op->name; op++) {
			const struct ws_op *cb;

			if (op->mep != WS_MEP_ASYNC)
				continue;
			cb = ws_service_find_op(req_svc, op->resp_action);
			if (!cb || strcmp(cb->req_elem, op->resp_elem) || strcmp(cb->action, op->resp_action))
				fprintf(stderr, "%s: callback %s not received as such\n", op->name, op->resp_action);
			CU_ASSERT(cb && !strcmp(cb->req_elem, op->resp_elem) && !strcmp(cb->action, op->resp_action));
			n++;
		}
	}
	CU_ASSERT_EQUAL(n, 13);
}

static void test_schema_load_errors(void)
{
	CU_ASSERT_PTR_NULL(ws_schema_load(g_test_ctx, "/nonexistent/x.xsd"));
	CU_ASSERT_PTR_NULL(ws_schema_load(g_test_ctx, data_path("es4_get_eis.xml")));
}

/* Deterministic mutations of the valid fixtures (flip, drop, duplicate, truncate, insert markup) through the
 * whole pipeline: every outcome is a defined answer, never a crash or a leak (the ASan build checks). */
static uint32_t xs_state = 0x2545f491;

static uint32_t xs(void)
{
	xs_state ^= xs_state << 13;
	xs_state ^= xs_state >> 17;
	xs_state ^= xs_state << 5;
	return xs_state;
}

static void test_mutations(void)
{
	static const char *const inserts[] = {
		"<!DOCTYPE x [<!ENTITY a \"b\">]>", "&a;", "<![CDATA[x]]>", "<?pi x?>", "<!-- c -->", "</", "<",
		"&#0;", "&#x110000;", "\xff\xfe", "xmlns:rps=\"urn:other\"", " s:mustUnderstand=\"true\"", "\"",
	};
	static const char *const names[] = {
		"es4_get_eis.xml", "es4_enable_profile.xml", "es3_create_isdp.xml", "es3_profile_enabled_notif.xml",
	};
	struct ws_service *svc[] = {
		mksvc(ws_ops_ES4SmSrService, "ES4SmSrService"),
		mksvc(ws_ops_ES3SmSrService, "ES3SmSrService"),
		mksvc(ws_ops_ES3SmDpService, "ES3SmDpService"),
	};
	struct hstate h = { .finish = true, .st = { .kind = WS_STATUS_SUCCESS },
			    .extra_name = "Isd-p-aid", .extra_text = "A0000005591010FFFFFFFF8900001000" };
	struct hstate hn = { .finish = true };
	unsigned int i, counts[600] = { 0 };
	uint8_t *fx[4];
	size_t fx_len[4];

	for (i = 0; i < 4; i++)
		fx[i] = fixture(names[i], &fx_len[i]);

	ws_service_set_handler(svc[0], "ES4-GetEIS", handler, &hn);
	ws_service_set_handler(svc[0], "ES4-EnableProfile", handler, &hn);
	ws_service_set_handler(svc[1], "ES3-CreateISDP", handler, &h);
	ws_service_set_handler(svc[2], "ES3-HandleProfileEnabledNotification", handler, &hn);
	for (i = 0; i < 2000; i++) {
		void *ctx = talloc_new(g_test_ctx);
		size_t len = fx_len[i % 4], pos;
		char *m = talloc_size(ctx, len + 64);
		struct done_rec d = { 0 };
		struct ws_result res;
		struct ws_input in = { .content_type = CT_SOAP, .done = done_cb, .done_data = &d };
		const char *ins;

		memcpy(m, fx[i % 4], len);
		pos = xs() % len;
		switch (xs() % 5) {
		case 0:	/* flip a byte */
			m[pos] ^= 1 << (xs() % 8);
			break;
		case 1:	/* truncate */
			len = pos;
			break;
		case 2:	/* drop a run */
			{
				size_t n = 1 + xs() % 16;

				if (pos + n > len)
					n = len - pos;
				memmove(m + pos, m + pos + n, len - pos - n);
				len -= n;
			}
			break;
		case 3:	/* insert markup */
			ins = inserts[xs() % ARRAY_SIZE(inserts)];
			if (strlen(ins) <= 60) {
				memmove(m + pos + strlen(ins), m + pos, len - pos);
				memcpy(m + pos, ins, strlen(ins));
				len += strlen(ins);
			}
			break;
		default: /* swap two bytes */
			{
				size_t q = xs() % len;
				char t = m[pos];

				m[pos] = m[q];
				m[q] = t;
			}
			break;
		}
		in.body = (uint8_t *)m;
		in.len = len;
		ws_process(svc[i % 4 == 3 ? 2 : (i % 4 == 2 ? 1 : 0)], ctx, &in, &res);
		CU_ASSERT(res.http_status == 0 || res.http_status == 202 || res.http_status == 400 ||
			  res.http_status == 500);
		if (res.http_status == 400 || res.http_status == 500)
			CU_ASSERT(res.xml && contains(res.xml, res.len, "<env:Fault>"));
		if (res.http_status == 0)
			CU_ASSERT(d.calls == 1 && d.status == 200 && d.xml);
		CU_ASSERT_PTR_NULL(res.req);
		if (res.http_status < (int)ARRAY_SIZE(counts))
			counts[res.http_status]++;
		talloc_free(ctx);
	}
	/* both outcomes occur: mutations that keep the message valid, and Faults */
	CU_ASSERT(counts[400] > 0);
	CU_ASSERT(counts[0] + counts[202] > 0);
	printf("[mutations: %u answered, %u accepted, %u Sender, %u Receiver] ", counts[0], counts[202], counts[400],
	       counts[500]);
}

/* ------------------------------------------------------------------ main */

static int suite_init(void)
{
	char *path;

	static void *log_ctx;

	if (!log_ctx) {
		/* once per process: the logging targets live until exit */
		log_ctx = talloc_named_const(NULL, 0, "soap_test_log");
		osmo_init_logging2(log_ctx, &sgp02_log_info);
		log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
		log_set_log_level(osmo_stderr_target, LOGL_ERROR);
	}
	g_ctx = talloc_named_const(NULL, 0, "soap_test");
	path = talloc_asprintf(g_ctx, "%s/spec/gsma-esim-messaging-3/all-requests.xsd", test_shared_dir());
	g_schema = ws_schema_load(g_ctx, path);
	return g_schema ? 0 : 1;
}

static int suite_cleanup(void)
{
	talloc_free(g_ctx);
	g_ctx = NULL;
	return 0;
}

static const struct test_case exchange_cases[] = {
	TEST_CASE(test_sync_get_eis),
	TEST_CASE(test_async_enable_profile),
	TEST_CASE(test_sync_create_isdp),
	TEST_CASE(test_oneway_notification),
	TEST_CASE(test_callback_received),
	TEST_CASE(test_lenient_action),
	TEST_END
};

static const struct test_case bad_cases[] = {
	TEST_CASE(test_wrong_content_type),
	TEST_CASE(test_malformed),
	TEST_CASE(test_xxe_and_dtd),
	TEST_CASE(test_oversize_and_depth),
	TEST_CASE(test_version_mismatch),
	TEST_CASE(test_missing_headers),
	TEST_CASE(test_unknown_action),
	TEST_CASE(test_schema_invalid),
	TEST_CASE(test_must_understand),
	TEST_CASE(test_not_implemented),
	TEST_CASE(test_mutations),
	TEST_END
};

static const struct test_case rule_cases[] = {
	TEST_CASE(test_duplicate_sync),
	TEST_CASE(test_duplicate_async),
	TEST_CASE(test_validity_expired),
	TEST_CASE(test_fes_all_kinds),
	TEST_CASE(test_codes),
	TEST_CASE(test_content_type),
	TEST_CASE(test_message_id),
	TEST_CASE(test_mem_store),
	TEST_CASE(test_catalogue),
	TEST_CASE(test_catalogue_callbacks_match),
	TEST_CASE(test_schema_load_errors),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "exchange", suite_init, suite_cleanup, exchange_cases },
	{ "bad_input", suite_init, suite_cleanup, bad_cases },
	{ "rules", suite_init, suite_cleanup, rule_cases },
	{ NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
