/* SOAP 1.2 + WS-Addressing 1.0 processing of the GSMA ES interfaces (see soap.h for the rules).
 *
 * References: SOAP 1.2 Part 1 (envelope, faults, mustUnderstand) and Part 2 §7 (HTTP binding); WS-Addressing 1.0
 * Core and SOAP Binding (headers, faults); SGP.02 Annex B as digested in shared/spec/SGP02.md §6.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <talloc.h>
#include <libxml/tree.h>
#include <openssl/rand.h>

#include <osmocom/core/logging.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/utils.h>

#include <sgp02/common/logging.h>
#include <sgp02/ws/soap.h>
#include <sgp02/ws/ws_store.h>
#include "ws_internal.h"

#define LOGWS(svc, level, fmt, args...) \
	LOGP(DWS, level, "%s: " fmt, (svc)->cfg.name ? (svc)->cfg.name : "ws", ## args)

struct ws_handler {
	ws_handler_cb cb;
	void *data;
	ws_filler_cb fill;
	void *fill_data;
};

struct ws_service {
	struct ws_service_cfg cfg;
	struct ws_schema *schema;
	const struct ws_op *ops;
	unsigned int num_ops;
	struct ws_handler *handlers;	/* indexed like ops */
	const struct ws_store_ops *store_ops;
	void *store;
	time_t (*now)(void *data);
	void *now_data;
	struct rate_ctr_group *ctrg;
};

static const struct rate_ctr_desc ws_ctr_desc[] = {
	[WS_CTR_REQUESTS] = { "requests", "SOAP messages received" },
	[WS_CTR_DISPATCHED] = { "dispatched", "Requests handed to their handler" },
	[WS_CTR_FAULT_SENDER] = { "fault:sender", "Sender Faults answered (bad message)" },
	[WS_CTR_FAULT_RECEIVER] = { "fault:receiver", "Receiver Faults answered (not implemented, failure, busy)" },
	[WS_CTR_FAULT_OTHER] = { "fault:other", "VersionMismatch and MustUnderstand Faults answered" },
	[WS_CTR_DUPLICATES] = { "duplicates", "Duplicate MessageIDs answered from the store" },
	[WS_CTR_EXPIRED] = { "expired", "Requests answered EXPIRED without execution" },
};

static const struct rate_ctr_group_desc ws_ctrg_desc = {
	.group_name_prefix = "ws",
	.group_description = "SOAP web service",
	.class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_ctr = ARRAY_SIZE(ws_ctr_desc),
	.ctr_desc = ws_ctr_desc,
};

static void ctr_inc(struct ws_service *svc, enum ws_ctr c)
{
	if (svc->ctrg)
		rate_ctr_inc(rate_ctr_group_get_ctr(svc->ctrg, c));
}

static int service_free(struct ws_service *svc)
{
	if (svc->ctrg)
		rate_ctr_group_free(svc->ctrg);
	return 0;
}

const char *ws_mep_name(enum ws_mep mep)
{
	switch (mep) {
	case WS_MEP_SYNC:
		return "synchronous";
	case WS_MEP_ASYNC:
		return "asynchronous";
	case WS_MEP_ONEWAY:
		return "one-way";
	}
	return "?";
}

/* ------------------------------------------------------------------ small helpers */

char *ws_datetime(char *buf, size_t size, time_t t)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, size, "1970-01-01T00:00:00Z");
	return buf;
}

char *ws_new_message_id(void *ctx, const char *entity_id)
{
	uint8_t u[16];

	if (RAND_bytes(u, sizeof(u)) != 1)
		return NULL;
	/* RFC 4122 §4.4: version 4, variant 10 */
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	/* digest §6.2: the MessageID is prefixed with the sender's domain, "//<sender OID>/<unique id>" */
	return talloc_asprintf(ctx, "//%s/urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			       "%02x%02x%02x%02x%02x%02x", entity_id ? entity_id : "sgp02",
			       u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
			       u[10], u[11], u[12], u[13], u[14], u[15]);
}

static char *trim_dup(void *ctx, const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	return talloc_strndup(ctx, s, len);
}

/* Text content of an element, trimmed, talloc'd on ctx. */
static char *node_text(void *ctx, xmlNodePtr n)
{
	xmlChar *c = xmlNodeGetContent(n);
	char *r;

	if (!c)
		return talloc_strdup(ctx, "");
	r = trim_dup(ctx, (const char *)c, strlen((const char *)c));
	xmlFree(c);
	return r;
}

bool ws_content_type_ok(void *ctx, const char *ct, char **action)
{
	const char *p, *semi;
	char *type;
	bool ok;

	if (action)
		*action = NULL;
	if (!ct)
		return false;
	semi = strchr(ct, ';');
	type = trim_dup(ctx, ct, semi ? (size_t)(semi - ct) : strlen(ct));
	/* SOAP 1.2 Part 2 §7.1.4 / RFC 3902: media type application/soap+xml */
	ok = type && !strcasecmp(type, "application/soap+xml");
	talloc_free(type);
	if (!ok)
		return false;
	for (p = semi; p && *p; p = semi) {
		const char *eq, *end;

		p++;
		semi = strchr(p, ';');
		end = semi ? semi : p + strlen(p);
		while (p < end && isspace((unsigned char)*p))
			p++;
		eq = memchr(p, '=', end - p);
		if (!eq || eq - p != 6 || strncasecmp(p, "action", 6))
			continue;
		if (action) {
			char *v = trim_dup(ctx, eq + 1, end - eq - 1);
			size_t l = v ? strlen(v) : 0;

			if (l >= 2 && v[0] == '"' && v[l - 1] == '"') {
				memmove(v, v + 1, l - 2);
				v[l - 2] = '\0';
			}
			*action = v;
		}
	}
	return true;
}

/* ------------------------------------------------------------------ service */

struct ws_service *ws_service_alloc(void *ctx, const struct ws_service_cfg *cfg, struct ws_schema *schema,
				    const struct ws_op *ops)
{
	struct ws_service *svc;
	unsigned int n;

	if (!cfg || !ops)
		return NULL;
	xmlInitParser();
	svc = talloc_zero(ctx, struct ws_service);
	if (!svc)
		return NULL;
	svc->cfg.name = talloc_strdup(svc, cfg->name ? cfg->name : "ws");
	svc->cfg.path = talloc_strdup(svc, cfg->path ? cfg->path : "/");
	svc->cfg.own_address = cfg->own_address ? talloc_strdup(svc, cfg->own_address) : NULL;
	svc->cfg.entity_id = talloc_strdup(svc, cfg->entity_id ? cfg->entity_id : "sgp02");
	svc->cfg.max_body = cfg->max_body ? cfg->max_body : WS_MAX_BODY_DEFAULT;
	svc->cfg.max_depth = cfg->max_depth ? cfg->max_depth : WS_MAX_DEPTH_DEFAULT;
	svc->cfg.wsdl_file = cfg->wsdl_file ? talloc_strdup(svc, cfg->wsdl_file) : NULL;
	svc->schema = schema;
	svc->ops = ops;
	for (n = 0; ops[n].name; n++)
		;
	svc->num_ops = n;
	svc->handlers = talloc_zero_array(svc, struct ws_handler, n ? n : 1);
	if (!svc->handlers) {
		talloc_free(svc);
		return NULL;
	}
	talloc_set_destructor(svc, service_free);
	{
		static unsigned int ctr_idx;

		svc->ctrg = rate_ctr_group_alloc(svc, &ws_ctrg_desc, ctr_idx++);
		if (svc->ctrg)
			rate_ctr_group_set_name(svc->ctrg, svc->cfg.name);
	}
	return svc;
}

const struct ws_service_cfg *ws_service_cfg(const struct ws_service *svc)
{
	return &svc->cfg;
}

struct rate_ctr_group *ws_service_ctrg(const struct ws_service *svc)
{
	return svc->ctrg;
}

struct ws_schema *ws_service_schema(const struct ws_service *svc)
{
	return svc->schema;
}

int ws_service_set_handler(struct ws_service *svc, const char *op_name, ws_handler_cb cb, void *data)
{
	unsigned int i;

	for (i = 0; i < svc->num_ops; i++) {
		if (!strcmp(svc->ops[i].name, op_name)) {
			svc->handlers[i].cb = cb;
			svc->handlers[i].data = data;
			return 0;
		}
	}
	return -ENOENT;
}

int ws_service_set_filler(struct ws_service *svc, const char *op_name, ws_filler_cb cb, void *data)
{
	unsigned int i;

	for (i = 0; i < svc->num_ops; i++) {
		if (!strcmp(svc->ops[i].name, op_name)) {
			svc->handlers[i].fill = cb;
			svc->handlers[i].fill_data = data;
			return 0;
		}
	}
	return -ENOENT;
}

void ws_service_set_store(struct ws_service *svc, const struct ws_store_ops *ops, void *store)
{
	svc->store_ops = ops;
	svc->store = store;
}

void ws_service_set_clock(struct ws_service *svc, time_t (*now)(void *data), void *data)
{
	svc->now = now;
	svc->now_data = data;
}

time_t ws_service_now(const struct ws_service *svc)
{
	return svc->now ? svc->now(svc->now_data) : time(NULL);
}

/* Does the last path segment of an Action name function fn? Accepts "<fn>", "<fn>Request". */
static bool segment_names(const char *seg, size_t seg_len, const char *fn, size_t fn_len)
{
	if (seg_len == fn_len)
		return !strncmp(seg, fn, fn_len);
	if (seg_len == fn_len + 7)
		return !strncmp(seg, fn, fn_len) && !strncmp(seg + fn_len, "Request", 7);
	return false;
}

const struct ws_op *ws_service_find_op(const struct ws_service *svc, const char *action)
{
	const char *seg;
	size_t seg_len;
	unsigned int i;

	if (!action)
		return NULL;
	for (i = 0; i < svc->num_ops; i++)
		if (!strcmp(svc->ops[i].action, action))
			return &svc->ops[i];
	/* digest §6.3: implementations differ in the category path ("ProfileManagent", mixed categories);
	 * match on the function name, the last path segment */
	seg = strrchr(action, '/');
	seg = seg ? seg + 1 : action;
	seg_len = strlen(seg);
	for (i = 0; i < svc->num_ops; i++) {
		const struct ws_op *op = &svc->ops[i];
		size_t fn_len = strlen(op->name);

		/* a received callback "<Fn>Callback" is announced by the Action of function <Fn> */
		if (fn_len > 8 && !strcmp(op->name + fn_len - 8, "Callback"))
			fn_len -= 8;
		if (segment_names(seg, seg_len, op->name, fn_len))
			return op;
	}
	return NULL;
}

static struct ws_handler *op_handler(struct ws_service *svc, const struct ws_op *op)
{
	return &svc->handlers[op - svc->ops];
}

/* ------------------------------------------------------------------ envelopes */

static const char *fault_code_name(enum ws_fault_code c)
{
	switch (c) {
	case WS_FAULT_VERSION_MISMATCH:
		return "env:VersionMismatch";
	case WS_FAULT_MUST_UNDERSTAND:
		return "env:MustUnderstand";
	case WS_FAULT_SENDER:
		return "env:Sender";
	case WS_FAULT_RECEIVER:
	default:
		return "env:Receiver";
	}
}

int ws_fault_http_status(enum ws_fault_code code)
{
	/* SOAP 1.2 Part 2 §7.5.1.2, table 20 */
	return code == WS_FAULT_SENDER ? 400 : 500;
}

static int doc_dump(void *ctx, xmlDocPtr doc, uint8_t **xml, size_t *len)
{
	xmlChar *mem = NULL;
	int size = 0;

	xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	if (!mem || size <= 0) {
		xmlFree(mem);
		return -ENOMEM;
	}
	*xml = talloc_memdup(ctx, mem, size + 1);
	xmlFree(mem);
	if (!*xml)
		return -ENOMEM;
	(*xml)[size] = '\0';
	*len = size;
	return 0;
}

/* New envelope document with Header and Body; returns the doc, sets *hdr and *body. */
static xmlDocPtr env_new(xmlNodePtr *hdr, xmlNodePtr *body, xmlNsPtr *env_ns, xmlNsPtr *wsa_ns)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr env;

	if (!doc)
		return NULL;
	env = xmlNewDocNode(doc, NULL, BAD_CAST "Envelope", NULL);
	*env_ns = xmlNewNs(env, BAD_CAST WS_NS_SOAP12, BAD_CAST "env");
	*wsa_ns = xmlNewNs(env, BAD_CAST WS_NS_WSA, BAD_CAST "wsa");
	xmlSetNs(env, *env_ns);
	xmlDocSetRootElement(doc, env);
	*hdr = xmlNewChild(env, *env_ns, BAD_CAST "Header", NULL);
	*body = xmlNewChild(env, *env_ns, BAD_CAST "Body", NULL);
	if (!*env_ns || !*wsa_ns || !*hdr || !*body) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

static xmlNodePtr add_wsa(xmlNodePtr hdr, xmlNsPtr wsa_ns, const char *name, const char *text)
{
	return xmlNewTextChild(hdr, wsa_ns, BAD_CAST name, BAD_CAST text);
}

static void add_wsa_epr(xmlNodePtr hdr, xmlNsPtr wsa_ns, const char *name, const char *address)
{
	xmlNodePtr epr = xmlNewChild(hdr, wsa_ns, BAD_CAST name, NULL);

	if (epr)
		xmlNewTextChild(epr, wsa_ns, BAD_CAST "Address", BAD_CAST address);
}

int ws_envelope_build(struct ws_service *svc, void *ctx, const struct ws_env_hdr *h, xmlNodePtr body,
		      uint8_t **xml, size_t *len)
{
	xmlNodePtr hdr, b, n;
	xmlNsPtr env_ns, wsa_ns;
	xmlDocPtr doc;
	char *mid = NULL;
	int rc;

	doc = env_new(&hdr, &b, &env_ns, &wsa_ns);
	if (!doc)
		return -ENOMEM;
	if (h->from)
		add_wsa_epr(hdr, wsa_ns, "From", h->from);
	n = add_wsa(hdr, wsa_ns, "To", h->to ? h->to : WS_WSA_ANONYMOUS);
	xmlNewNsProp(n, env_ns, BAD_CAST "mustUnderstand", BAD_CAST "true");
	if (!h->message_id)
		mid = ws_new_message_id(ctx, svc ? svc->cfg.entity_id : NULL);
	add_wsa(hdr, wsa_ns, "MessageID", h->message_id ? h->message_id : mid);
	talloc_free(mid);
	n = add_wsa(hdr, wsa_ns, "Action", h->action);
	xmlNewNsProp(n, env_ns, BAD_CAST "mustUnderstand", BAD_CAST "true");
	if (h->reply_to)
		add_wsa_epr(hdr, wsa_ns, "ReplyTo", h->reply_to);
	if (h->relates_to) {
		n = add_wsa(hdr, wsa_ns, "RelatesTo", h->relates_to);
		xmlNewProp(n, BAD_CAST "RelationshipType", BAD_CAST WS_WSA_REPLY);
	}
	if (body) {
		n = xmlDocCopyNode(body, doc, 1);
		if (!n || !xmlAddChild(b, n)) {
			xmlFreeNode(n);
			xmlFreeDoc(doc);
			return -ENOMEM;
		}
	}
	rc = doc_dump(ctx, doc, xml, len);
	xmlFreeDoc(doc);
	return rc;
}

int ws_fault_build(struct ws_service *svc, void *ctx, const struct ws_fault *f, uint8_t **xml, size_t *len)
{
	xmlNodePtr hdr, b, fault, code, n, sub, detail;
	xmlNsPtr env_ns, wsa_ns;
	xmlDocPtr doc;
	char *mid;
	int rc;

	doc = env_new(&hdr, &b, &env_ns, &wsa_ns);
	if (!doc)
		return -ENOMEM;
	if (f->code == WS_FAULT_MUST_UNDERSTAND && f->nu_name) {
		/* SOAP 1.2 Part 1 §5.4.8: one NotUnderstood header block per header not understood */
		char *qname = talloc_asprintf(ctx, "%s%s", f->nu_ns ? "nu:" : "", f->nu_name);

		n = xmlNewChild(hdr, env_ns, BAD_CAST "NotUnderstood", NULL);
		if (n && f->nu_ns)
			xmlNewNs(n, BAD_CAST f->nu_ns, BAD_CAST "nu");
		if (n && qname)
			xmlNewProp(n, BAD_CAST "qname", BAD_CAST qname);
		talloc_free(qname);
	}
	/* WS-Addressing SOAP Binding §6: faults carry the fault Action and relate to the request */
	add_wsa(hdr, wsa_ns, "Action", WS_WSA_FAULT_ACTION);
	mid = ws_new_message_id(ctx, svc ? svc->cfg.entity_id : NULL);
	add_wsa(hdr, wsa_ns, "MessageID", mid);
	talloc_free(mid);
	if (f->relates_to) {
		n = add_wsa(hdr, wsa_ns, "RelatesTo", f->relates_to);
		xmlNewProp(n, BAD_CAST "RelationshipType", BAD_CAST WS_WSA_REPLY);
	}

	fault = xmlNewChild(b, env_ns, BAD_CAST "Fault", NULL);
	code = xmlNewChild(fault, env_ns, BAD_CAST "Code", NULL);
	xmlNewChild(code, env_ns, BAD_CAST "Value", BAD_CAST fault_code_name(f->code));
	if (f->wsa_subcode) {
		char *v = talloc_asprintf(ctx, "wsa:%s", f->wsa_subcode);

		sub = xmlNewChild(code, env_ns, BAD_CAST "Subcode", NULL);
		xmlNewTextChild(sub, env_ns, BAD_CAST "Value", BAD_CAST v);
		talloc_free(v);
	}
	n = xmlNewChild(fault, env_ns, BAD_CAST "Reason", NULL);
	n = xmlNewTextChild(n, env_ns, BAD_CAST "Text", BAD_CAST(f->reason ? f->reason : "error"));
	xmlNodeSetLang(n, BAD_CAST "en");
	if (f->problem_header || f->problem_action) {
		detail = xmlNewChild(fault, env_ns, BAD_CAST "Detail", NULL);
		if (f->problem_header)
			add_wsa(detail, wsa_ns, "ProblemHeaderQName", f->problem_header);
		if (f->problem_action) {
			n = xmlNewChild(detail, wsa_ns, BAD_CAST "ProblemAction", NULL);
			add_wsa(n, wsa_ns, "Action", f->problem_action);
		}
	}
	rc = doc_dump(ctx, doc, xml, len);
	xmlFreeDoc(doc);
	return rc;
}

/* ------------------------------------------------------------------ FunctionExecutionStatus */

const struct ws_status ws_status_expired = {
	.kind = WS_STATUS_EXPIRED,
	.subject = "1.6",
	.reason = "4.10",
	.message = "Validity period expired before execution",
};

const char *ws_status_kind_str(enum ws_status_kind k)
{
	/* euicc.common.types.xsd StatusType */
	switch (k) {
	case WS_STATUS_SUCCESS:
		return "EXECUTED_SUCCESS";
	case WS_STATUS_WARNING:
		return "EXECUTED_WITHWARNING";
	case WS_STATUS_FAILED:
		return "FAILED";
	case WS_STATUS_EXPIRED:
		return "EXPIRED";
	}
	return "FAILED";
}

xmlNodePtr ws_xml_add_text(xmlNodePtr parent, const char *name, const char *text)
{
	xmlNsPtr ns;

	if (!parent)
		return NULL;
	ns = xmlSearchNsByHref(parent->doc, parent, BAD_CAST WS_NS_RPS);
	return xmlNewTextChild(parent, ns, BAD_CAST name, BAD_CAST text);
}

xmlNodePtr ws_fes_append(xmlNodePtr parent, const struct ws_status *st)
{
	xmlNodePtr fes, scd;

	fes = ws_xml_add_text(parent, "FunctionExecutionStatus", NULL);
	if (!fes)
		return NULL;
	ws_xml_add_text(fes, "Status", ws_status_kind_str(st->kind));
	/* StatusCodeDataType: present only if the Status is not EXECUTED_SUCCESS */
	if (st->kind == WS_STATUS_SUCCESS)
		return fes;
	scd = ws_xml_add_text(fes, "StatusCodeData", NULL);
	ws_xml_add_text(scd, "Subject", st->subject ? st->subject : "1");
	ws_xml_add_text(scd, "Reason", st->reason ? st->reason : "4");
	if (st->subject_id)
		ws_xml_add_text(scd, "SubjectIdentifier", st->subject_id);
	if (st->message)
		ws_xml_add_text(scd, "Message", st->message);
	return fes;
}

/* ------------------------------------------------------------------ requests */

static int req_free(struct ws_request *req)
{
	if (req->doc)
		xmlFreeDoc(req->doc);
	if (req->resp_doc)
		xmlFreeDoc(req->resp_doc);
	return 0;
}

xmlNodePtr ws_req_child(struct ws_request *req, const char *local_name)
{
	xmlNodePtr n;

	for (n = ws_xml_first_elem(req->body); n; n = ws_xml_next_elem(n))
		if (ws_xml_is(n, WS_NS_RPS, local_name))
			return n;
	return NULL;
}

xmlNodePtr ws_xml_add_copy(xmlNodePtr parent, xmlNodePtr node)
{
	xmlNodePtr c;

	if (!parent || !node)
		return NULL;
	c = xmlDocCopyNode(node, parent->doc, 1);
	if (c && !xmlAddChild(parent, c)) {
		xmlFreeNode(c);
		return NULL;
	}
	return c;
}

const char *ws_req_text(struct ws_request *req, const char *local_name)
{
	xmlNodePtr n = ws_req_child(req, local_name);

	return n ? node_text(req, n) : NULL;
}

bool ws_request_expired(const struct ws_request *req, time_t now)
{
	/* euicc.common.request.xsd ValidityPeriod: seconds from reception by the function provider */
	if (!req->validity_period)
		return false;
	if (now < req->received)
		return false;
	return (unsigned long)(now - req->received) >= req->validity_period;
}

xmlNodePtr ws_resp_begin(struct ws_request *req, const struct ws_status *st)
{
	char tbuf[32];
	xmlNsPtr ns;
	xmlNodePtr resp;

	if (req->op->mep == WS_MEP_ONEWAY || !req->op->resp_elem || req->finished)
		return NULL;
	if (req->resp_doc) {
		xmlFreeDoc(req->resp_doc);
		req->resp_doc = NULL;
		req->resp = NULL;
	}
	req->resp_doc = xmlNewDoc(BAD_CAST "1.0");
	if (!req->resp_doc)
		return NULL;
	resp = xmlNewDocNode(req->resp_doc, NULL, BAD_CAST req->op->resp_elem, NULL);
	ns = xmlNewNs(resp, BAD_CAST WS_NS_RPS, BAD_CAST "rps");
	xmlSetNs(resp, ns);
	xmlDocSetRootElement(req->resp_doc, resp);
	/* BaseResponseType order: ProcessingStart, ProcessingEnd, AcceptableValidityPeriod, FunctionExecutionStatus */
	ws_xml_add_text(resp, "ProcessingStart", ws_datetime(tbuf, sizeof(tbuf),
							      req->started ? req->started : req->received));
	ws_xml_add_text(resp, "ProcessingEnd", ws_datetime(tbuf, sizeof(tbuf), ws_service_now(req->svc)));
	if (st->acceptable_vp) {
		snprintf(tbuf, sizeof(tbuf), "%lu", st->acceptable_vp);
		ws_xml_add_text(resp, "AcceptableValidityPeriod", tbuf);
	}
	if (!ws_fes_append(resp, st)) {
		xmlFreeDoc(req->resp_doc);
		req->resp_doc = NULL;
		return NULL;
	}
	req->resp = resp;
	return resp;
}

static void store_save(struct ws_service *svc, const struct ws_request *req, enum ws_store_state state,
		       int http_status, const uint8_t *xml, size_t len)
{
	struct ws_store_entry e = {
		.state = state,
		.http_status = http_status,
		.reply_to = req->op->mep == WS_MEP_ASYNC ? req->reply_to : NULL,
		.xml = xml,
		.xml_len = len,
	};
	int rc;

	if (!svc->store_ops)
		return;
	rc = svc->store_ops->save(svc->store, req->sender, req->message_id, &e);
	if (rc < 0)
		LOGWS(svc, LOGL_ERROR, "%s %s: cannot store the answer (%d)\n", req->op->name, req->message_id, rc);
}

static void req_release(struct ws_request *req)
{
	req->finished = true;
	if (!req->in_dispatch)
		talloc_free(req);
}

int ws_request_finish(struct ws_request *req)
{
	struct ws_service *svc = req->svc;
	uint8_t *xml = NULL;
	size_t len = 0;
	int status, rc = 0;

	if (req->finished)
		return -EALREADY;
	if (req->op->mep == WS_MEP_ONEWAY) {
		status = 202;
	} else if (!req->resp) {
		struct ws_fault f = {
			.code = WS_FAULT_RECEIVER,
			.reason = "the function provider finished without an answer",
			.relates_to = req->message_id,
		};

		LOGWS(svc, LOGL_ERROR, "%s %s: handler finished without a response\n", req->op->name,
		      req->message_id);
		rc = ws_fault_build(svc, req, &f, &xml, &len);
		status = 500;
	} else {
		char *err = NULL;
		struct ws_env_hdr h = {
			.action = req->op->resp_action,
			.to = req->op->mep == WS_MEP_ASYNC ? req->reply_to : NULL,
			.from = svc->cfg.own_address,
			.relates_to = req->message_id,
		};

		/* what we send must validate too (issue #4); a failure here is our bug, so log it loudly */
		if (svc->schema && ws_schema_validate_elem(svc->schema, req, req->resp, &err) < 0)
			LOGWS(svc, LOGL_ERROR, "%s %s: our response does not validate: %s\n", req->op->name,
			      req->message_id, err);
		rc = ws_envelope_build(svc, req, &h, req->resp, &xml, &len);
		status = req->op->mep == WS_MEP_ASYNC ? 202 : 200;
	}
	if (rc < 0) {
		LOGWS(svc, LOGL_ERROR, "%s %s: cannot build the answer (%d)\n", req->op->name, req->message_id, rc);
		xml = NULL;
		len = 0;
		status = 500;
	}
	store_save(svc, req, WS_STORE_DONE, status, xml, len);
	LOGWS(svc, LOGL_INFO, "%s %s from %s finished\n", req->op->name, req->message_id, req->sender);
	if (req->done)
		req->done(req, status, xml, len, req->done_data);
	req_release(req);
	return rc;
}

int ws_request_finish_status(struct ws_request *req, const struct ws_status *st)
{
	struct ws_handler *hd = &req->svc->handlers[req->op - req->svc->ops];

	if (req->op->mep != WS_MEP_ONEWAY) {
		if (!ws_resp_begin(req, st)) {
			if (!req->finished)
				ws_request_finish(req);
			return -ENOMEM;
		}
		if (hd->fill)
			hd->fill(req, req->resp, hd->fill_data);
	}
	return ws_request_finish(req);
}

void ws_request_detach(struct ws_request *req)
{
	req->done = NULL;
	req->done_data = NULL;
}

/* ------------------------------------------------------------------ answers after a restart */

int ws_request_release(struct ws_request *req)
{
	if (req->op->mep != WS_MEP_ASYNC || req->finished)
		return -EINVAL;
	LOGWS(req->svc, LOGL_INFO, "%s %s from %s: released, answered later\n", req->op->name, req->message_id,
	      req->sender);
	req->done = NULL;
	req_release(req);
	return 0;
}

struct xml_holder {
	xmlDocPtr doc;
};

static int xml_holder_free(struct xml_holder *h)
{
	xmlFreeDoc(h->doc);
	return 0;
}

xmlNodePtr ws_resp_new(void *ctx, const struct ws_op *op, time_t start, time_t end, const struct ws_status *st)
{
	struct xml_holder *h;
	xmlNodePtr resp;
	char tbuf[32];

	if (!op || op->mep == WS_MEP_ONEWAY || !op->resp_elem || !st)
		return NULL;
	h = talloc_zero(ctx, struct xml_holder);
	if (!h)
		return NULL;
	h->doc = xmlNewDoc(BAD_CAST "1.0");
	if (!h->doc) {
		talloc_free(h);
		return NULL;
	}
	talloc_set_destructor(h, xml_holder_free);
	resp = xmlNewDocNode(h->doc, NULL, BAD_CAST op->resp_elem, NULL);
	xmlSetNs(resp, xmlNewNs(resp, BAD_CAST WS_NS_RPS, BAD_CAST "rps"));
	xmlDocSetRootElement(h->doc, resp);
	ws_xml_add_text(resp, "ProcessingStart", ws_datetime(tbuf, sizeof(tbuf), start));
	ws_xml_add_text(resp, "ProcessingEnd", ws_datetime(tbuf, sizeof(tbuf), end));
	if (st->acceptable_vp) {
		snprintf(tbuf, sizeof(tbuf), "%lu", st->acceptable_vp);
		ws_xml_add_text(resp, "AcceptableValidityPeriod", tbuf);
	}
	if (!ws_fes_append(resp, st)) {
		talloc_free(h);
		return NULL;
	}
	return resp;
}

int ws_answer_build(struct ws_service *svc, void *ctx, const struct ws_op *op, const char *sender,
		    const char *message_id, const char *reply_to, xmlNodePtr resp, uint8_t **xml, size_t *len)
{
	struct ws_env_hdr h = { 0 };
	struct ws_store_entry e = { 0 };
	char *err = NULL;
	int rc;

	if (!svc || !op || op->mep != WS_MEP_ASYNC || !sender || !message_id || !reply_to || !resp ||
	    !ws_xml_is(resp, WS_NS_RPS, op->resp_elem))
		return -EINVAL;
	if (svc->schema && ws_schema_validate_elem(svc->schema, ctx, resp, &err) < 0)
		LOGWS(svc, LOGL_ERROR, "%s %s: our response does not validate: %s\n", op->name, message_id, err);
	talloc_free(err);
	h.action = op->resp_action;
	h.to = reply_to;
	h.from = svc->cfg.own_address;
	h.relates_to = message_id;
	rc = ws_envelope_build(svc, ctx, &h, resp, xml, len);
	if (rc < 0)
		return rc;
	if (svc->store_ops) {
		e.state = WS_STORE_DONE;
		e.http_status = 202;
		e.reply_to = reply_to;
		e.xml = *xml;
		e.xml_len = *len;
		rc = svc->store_ops->save(svc->store, sender, message_id, &e);
		if (rc < 0)
			LOGWS(svc, LOGL_ERROR, "%s %s: cannot store the answer (%d)\n", op->name, message_id, rc);
	}
	LOGWS(svc, LOGL_INFO, "%s %s from %s: answer built\n", op->name, message_id, sender);
	return 0;
}

/* ------------------------------------------------------------------ ws_process */

static void answer_fault(struct ws_service *svc, void *ctx, struct ws_result *res, const struct ws_fault *f,
			 int http_status)
{
	if (ws_fault_build(svc, ctx, f, &res->xml, &res->len) < 0) {
		res->xml = NULL;
		res->len = 0;
		http_status = 500;
	}
	res->http_status = http_status ? http_status : ws_fault_http_status(f->code);
	ctr_inc(svc, f->code == WS_FAULT_SENDER ? WS_CTR_FAULT_SENDER :
		     f->code == WS_FAULT_RECEIVER ? WS_CTR_FAULT_RECEIVER : WS_CTR_FAULT_OTHER);
	LOGWS(svc, f->code == WS_FAULT_RECEIVER ? LOGL_ERROR : LOGL_NOTICE, "Fault %s%s%s: %s\n",
	      fault_code_name(f->code), f->wsa_subcode ? "/wsa:" : "", f->wsa_subcode ? f->wsa_subcode : "",
	      f->reason);
}

#define FAULT(code_, sub_, ...) do { \
		f.code = code_; \
		f.wsa_subcode = sub_; \
		f.reason = talloc_asprintf(tmp, __VA_ARGS__); \
		goto fault; \
	} while (0)

/* Collected WS-Addressing headers. */
struct wsa_hdrs {
	xmlNodePtr message_id, action, to, from, reply_to, relates_to, fault_to;
};

static bool targeted_at_us(xmlNodePtr hb)
{
	xmlChar *role = xmlGetNsProp(hb, BAD_CAST "role", BAD_CAST WS_NS_SOAP12);
	bool us;

	/* SOAP 1.2 Part 1 §2.2: no role = ultimateReceiver; "next" applies to every node; "none" to no node */
	if (!role)
		return true;
	us = !strcmp((const char *)role, WS_NS_SOAP12 "/role/next") ||
	     !strcmp((const char *)role, WS_NS_SOAP12 "/role/ultimateReceiver");
	xmlFree(role);
	return us;
}

static bool must_understand(xmlNodePtr hb)
{
	xmlChar *mu = xmlGetNsProp(hb, BAD_CAST "mustUnderstand", BAD_CAST WS_NS_SOAP12);
	bool r;

	if (!mu)
		return false;
	r = !strcmp((const char *)mu, "true") || !strcmp((const char *)mu, "1");
	xmlFree(mu);
	return r;
}

static const char *epr_address(void *ctx, xmlNodePtr epr)
{
	xmlNodePtr n;

	for (n = ws_xml_first_elem(epr); n; n = ws_xml_next_elem(n))
		if (ws_xml_is(n, WS_NS_WSA, "Address"))
			return node_text(ctx, n);
	return NULL;
}

/* Is there non-blank text directly under n (mixed content where only elements belong)? */
static bool has_text(xmlNodePtr n)
{
	xmlNodePtr c;

	for (c = n->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			const xmlChar *p;

			for (p = c->content; p && *p; p++)
				if (!isspace(*p))
					return true;
		}
	}
	return false;
}

void ws_process(struct ws_service *svc, void *ctx, const struct ws_input *in, struct ws_result *res)
{
	void *tmp = talloc_new(ctx);
	struct ws_fault f = { 0 };
	struct wsa_hdrs w = { 0 };
	struct ws_request *req = NULL;
	struct ws_handler *hd;
	const struct ws_op *op;
	xmlDocPtr doc = NULL;
	xmlNodePtr env, n, header = NULL, body = NULL, fn;
	char *ct_action = NULL, *perr = NULL, *verr = NULL;
	const char *message_id, *action, *sender, *reply_to = NULL, *from = NULL, *vp;
	int http_override = 0, rc;

	memset(res, 0, sizeof(*res));
	ctr_inc(svc, WS_CTR_REQUESTS);

	/* SOAP 1.2 Part 2 §7.1.4: the HTTP binding uses application/soap+xml */
	if (!ws_content_type_ok(tmp, in->content_type, &ct_action)) {
		http_override = 415;
		FAULT(WS_FAULT_SENDER, NULL, "Content-Type '%.200s' is not application/soap+xml (SOAP 1.2)",
		      in->content_type ? in->content_type : "(none)");
	}
	if (in->len > svc->cfg.max_body)
		FAULT(WS_FAULT_SENDER, NULL, "message of %zu bytes exceeds the limit of %zu", in->len,
		      svc->cfg.max_body);
	doc = ws_xml_parse_safe(tmp, in->body, in->len, svc->cfg.max_depth, &perr);
	if (!doc)
		FAULT(WS_FAULT_SENDER, NULL, "%s", perr);

	/* envelope: SOAP 1.2 Part 1 §5.1 */
	env = xmlDocGetRootElement(doc);
	if (ws_xml_is(env, WS_NS_SOAP11, "Envelope"))
		FAULT(WS_FAULT_VERSION_MISMATCH, NULL, "SOAP 1.1 envelope; this endpoint speaks SOAP 1.2");
	if (!ws_xml_is(env, WS_NS_SOAP12, "Envelope"))
		FAULT(WS_FAULT_SENDER, NULL, "root element is not a SOAP 1.2 Envelope");
	n = ws_xml_first_elem(env);
	if (ws_xml_is(n, WS_NS_SOAP12, "Header")) {
		header = n;
		n = ws_xml_next_elem(n);
	}
	if (!ws_xml_is(n, WS_NS_SOAP12, "Body") || ws_xml_next_elem(n) || has_text(env))
		FAULT(WS_FAULT_SENDER, NULL, "Envelope must hold an optional Header and one Body, nothing else");
	body = n;
	fn = ws_xml_first_elem(body);
	if (!fn || ws_xml_next_elem(fn) || has_text(body))
		FAULT(WS_FAULT_SENDER, NULL, "Body must hold exactly one function element (SGP.02 Annex B)");

	/* header blocks */
	for (n = header ? ws_xml_first_elem(header) : NULL; n; n = ws_xml_next_elem(n)) {
		xmlNodePtr *slot = NULL;

		if (!targeted_at_us(n))
			continue;
		if (n->ns && !strcmp((const char *)n->ns->href, WS_NS_WSA)) {
			const char *nm = (const char *)n->name;

			if (!strcmp(nm, "MessageID"))
				slot = &w.message_id;
			else if (!strcmp(nm, "Action"))
				slot = &w.action;
			else if (!strcmp(nm, "To"))
				slot = &w.to;
			else if (!strcmp(nm, "From"))
				slot = &w.from;
			else if (!strcmp(nm, "ReplyTo"))
				slot = &w.reply_to;
			else if (!strcmp(nm, "RelatesTo"))
				slot = &w.relates_to;
			else if (!strcmp(nm, "FaultTo"))
				slot = &w.fault_to;
		}
		if (slot) {
			/* WS-Addressing 1.0 Core §3.2: each of these at most once */
			if (*slot) {
				f.problem_header = talloc_asprintf(tmp, "wsa:%s", n->name);
				FAULT(WS_FAULT_SENDER, "InvalidAddressingHeader",
				      "header wsa:%s appears more than once", n->name);
			}
			*slot = n;
			continue;
		}
		if (must_understand(n)) {
			f.nu_ns = n->ns ? talloc_strdup(tmp, (const char *)n->ns->href) : NULL;
			f.nu_name = talloc_strdup(tmp, (const char *)n->name);
			FAULT(WS_FAULT_MUST_UNDERSTAND, NULL,
			      "header {%.200s}%.200s with mustUnderstand is not understood",
			      f.nu_ns ? f.nu_ns : "", f.nu_name);
		}
	}
	message_id = w.message_id ? node_text(tmp, w.message_id) : NULL;
	f.relates_to = message_id && *message_id ? message_id : NULL;
	if (!w.message_id || !*message_id) {
		f.problem_header = "wsa:MessageID";
		FAULT(WS_FAULT_SENDER, "MessageAddressingHeaderRequired", "wsa:MessageID is required");
	}
	action = w.action ? node_text(tmp, w.action) : NULL;
	if (!action || !*action) {
		f.problem_header = "wsa:Action";
		FAULT(WS_FAULT_SENDER, "MessageAddressingHeaderRequired", "wsa:Action is required");
	}
	if (!w.to || !*node_text(tmp, w.to)) {
		f.problem_header = "wsa:To";
		FAULT(WS_FAULT_SENDER, "MessageAddressingHeaderRequired", "wsa:To is required (SGP.02 Annex B)");
	}
	if (w.from)
		from = epr_address(tmp, w.from);
	if (w.reply_to)
		reply_to = epr_address(tmp, w.reply_to);
	/* WS-Addressing SOAP Binding: an action parameter of the media type should equal wsa:Action. Clients
	 * generated from the GSMA WSDL (no soapAction) send action="" or even action="None" (python3-zeep), and
	 * they must work unchanged (issue #4), so wsa:Action rules and a mismatch is only logged. */
	if (ct_action && *ct_action && strcmp(ct_action, action))
		LOGWS(svc, LOGL_INFO, "Content-Type action '%.200s' differs from wsa:Action '%.200s'; "
		      "using the latter\n", ct_action, action);

	op = ws_service_find_op(svc, action);
	if (!op) {
		f.problem_action = action;
		FAULT(WS_FAULT_SENDER, "ActionNotSupported", "action '%.200s' is not supported by %s", action,
		      svc->cfg.name);
	}
	if (!ws_xml_is(fn, WS_NS_RPS, op->req_elem))
		FAULT(WS_FAULT_SENDER, NULL, "Body element {%.200s}%.200s does not match action %.200s (expected %s)",
		      fn->ns ? (const char *)fn->ns->href : "", fn->name, action, op->req_elem);
	if (op->mep == WS_MEP_ASYNC) {
		if (!reply_to || !*reply_to) {
			f.problem_header = "wsa:ReplyTo";
			FAULT(WS_FAULT_SENDER, "MessageAddressingHeaderRequired",
			      "wsa:ReplyTo is required for the asynchronous function %s", op->name);
		}
		if (!strcmp(reply_to, WS_WSA_ANONYMOUS) || !strcmp(reply_to, WS_WSA_NONE)) {
			f.problem_header = "wsa:ReplyTo";
			FAULT(WS_FAULT_SENDER, "OnlyNonAnonymousAddressSupported",
			      "the asynchronous function %s needs a callback address in wsa:ReplyTo", op->name);
		}
		/* the callback is POSTed there: only an absolute http(s) URL makes sense (no WS-MakeConnection) */
		if (strncasecmp(reply_to, "http://", 7) && strncasecmp(reply_to, "https://", 8)) {
			f.problem_header = "wsa:ReplyTo";
			FAULT(WS_FAULT_SENDER, "InvalidAddressingHeader",
			      "wsa:ReplyTo '%.200s' is not an http(s) URL", reply_to);
		}
	}

	/* XSD validation of the function element (issue #4) */
	if (svc->schema && ws_schema_validate_elem(svc->schema, tmp, fn, &verr) < 0)
		FAULT(WS_FAULT_SENDER, NULL, "%s does not validate: %s", op->req_elem, verr);

	sender = in->peer_identity ? in->peer_identity : (from && *from ? from : "-");

	/* duplicates: answered from the store, never executed twice (see soap.h) */
	if (svc->store_ops) {
		struct ws_store_entry e = { 0 };

		rc = svc->store_ops->lookup(svc->store, tmp, sender, message_id, &e);
		if (rc == 0 && e.state == WS_STORE_DONE) {
			LOGWS(svc, LOGL_NOTICE, "%s %s from %s: duplicate, answer replayed\n", op->name, message_id,
			      sender);
			ctr_inc(svc, WS_CTR_DUPLICATES);
			if (op->mep == WS_MEP_ASYNC && e.http_status == 202 && e.xml) {
				res->http_status = 202;
				res->resend_url = talloc_strdup(ctx, e.reply_to ? e.reply_to : reply_to);
				res->resend_xml = talloc_memdup(ctx, e.xml, e.xml_len);
				res->resend_len = e.xml_len;
			} else {
				res->http_status = e.http_status ? e.http_status : 202;
				if (e.xml && e.xml_len) {
					res->xml = talloc_memdup(ctx, e.xml, e.xml_len);
					res->len = e.xml_len;
				}
			}
			goto out;
		}
		if (rc == 0 && e.state == WS_STORE_PROCESSING) {
			LOGWS(svc, LOGL_NOTICE, "%s %s from %s: duplicate of a request in progress\n", op->name,
			      message_id, sender);
			ctr_inc(svc, WS_CTR_DUPLICATES);
			if (op->mep != WS_MEP_SYNC) {
				res->http_status = 202;
				goto out;
			}
			FAULT(WS_FAULT_RECEIVER, NULL, "message %.200s is still being processed; retry later",
			      message_id);
		}
	}

	hd = op_handler(svc, op);
	if (!hd->cb)
		FAULT(WS_FAULT_RECEIVER, NULL, "%s is not implemented by %s", op->name, svc->cfg.name);

	/* the request outlives this HTTP exchange: it hangs off the service */
	req = talloc_zero(svc, struct ws_request);
	if (!req)
		FAULT(WS_FAULT_RECEIVER, NULL, "out of memory");
	talloc_set_destructor(req, req_free);
	req->svc = svc;
	req->op = op;
	req->sender = talloc_strdup(req, sender);
	req->peer_identity = in->peer_identity ? talloc_strdup(req, in->peer_identity) : NULL;
	req->message_id = talloc_strdup(req, message_id);
	req->action = talloc_strdup(req, action);
	req->to = node_text(req, w.to);
	req->from = from ? talloc_strdup(req, from) : NULL;
	req->reply_to = reply_to ? talloc_strdup(req, reply_to) : NULL;
	req->relates_to = w.relates_to ? node_text(req, w.relates_to) : NULL;
	req->doc = doc;
	doc = NULL;
	req->body = fn;
	req->function_call_id = ws_req_text(req, "FunctionCallIdentifier");
	vp = ws_req_text(req, "ValidityPeriod");
	if (vp) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(vp, &end, 10);
		/* a value beyond what we can count is as good as "no limit" */
		req->validity_period = (errno == ERANGE || *end) ? 0 : v;
	}
	req->received = in->received ? in->received : ws_service_now(svc);
	req->done = in->done;
	req->done_data = in->done_data;

	store_save(svc, req, WS_STORE_PROCESSING, 0, NULL, 0);
	LOGWS(svc, LOGL_INFO, "%s (%s) %s from %s\n", op->name, ws_mep_name(op->mep), message_id, sender);

	res->http_status = op->mep == WS_MEP_SYNC ? 0 : 202;
	req->in_dispatch = true;
	req->started = ws_service_now(svc);
	if (op->mep != WS_MEP_ONEWAY && ws_request_expired(req, req->started)) {
		/* SGP.02 §5.1 (digest §4.1): the validity period ran out before execution -> Expired */
		LOGWS(svc, LOGL_NOTICE, "%s %s: validity period of %lu s expired\n", op->name, message_id,
		      req->validity_period);
		ctr_inc(svc, WS_CTR_EXPIRED);
		ws_request_finish_status(req, &ws_status_expired);
		rc = 0;
	} else {
		ctr_inc(svc, WS_CTR_DISPATCHED);
		rc = hd->cb(req, hd->data);
	}
	req->in_dispatch = false;
	if (req->finished) {
		talloc_free(req);
		goto out;
	}
	if (rc < 0) {
		struct ws_fault hf = {
			.code = WS_FAULT_RECEIVER,
			.reason = talloc_asprintf(tmp, "%s failed in the function provider (%s)", op->name,
						  strerror(-rc)),
			.relates_to = message_id,
		};

		answer_fault(svc, ctx, res, &hf, 0);
		store_save(svc, req, WS_STORE_DONE, res->http_status, res->xml, res->len);
		talloc_free(req);
		goto out;
	}
	res->req = req;
	goto out;

fault:
	answer_fault(svc, ctx, res, &f, http_override);
out:
	if (doc)
		xmlFreeDoc(doc);
	talloc_free(tmp);
}
