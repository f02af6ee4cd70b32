/* Outgoing SOAP calls on the HTTP client (see ws_client.h). */
#include <errno.h>
#include <string.h>

#include <talloc.h>
#include <libxml/tree.h>

#include <osmocom/core/logging.h>

#include <sgp02/common/http_client.h>
#include <sgp02/common/logging.h>
#include <sgp02/ws/soap.h>
#include <sgp02/ws/ws_client.h>
#include "ws_internal.h"

/* One call in flight. Not a talloc child of anything: the http_client calls back exactly once (also with
 * -ECANCELED when it is freed), and the call is freed then. */
struct ws_call {
	struct ws_service *svc;
	const struct ws_op *op;
	char *url;
	char *message_id;
	ws_call_cb cb;
	void *data;
};

static char *text_of(void *ctx, xmlNodePtr n)
{
	xmlChar *c = n ? xmlNodeGetContent(n) : NULL;
	char *r = talloc_strdup(ctx, c ? (const char *)c : "");

	xmlFree(c);
	return r;
}

/* Child element of n by namespace and name. */
static xmlNodePtr child(xmlNodePtr n, const char *ns, const char *name)
{
	for (n = ws_xml_first_elem(n); n; n = ws_xml_next_elem(n))
		if (ws_xml_is(n, ns, name))
			return n;
	return NULL;
}

/* SOAP 1.2 Part 1 §5.4: Fault/Code/Value, Fault/Code/Subcode/Value, Fault/Reason/Text */
static void parse_fault(void *ctx, xmlNodePtr fault, struct ws_call_result *r)
{
	xmlNodePtr code = child(fault, WS_NS_SOAP12, "Code");
	xmlNodePtr sub = child(code, WS_NS_SOAP12, "Subcode");
	xmlNodePtr reason = child(fault, WS_NS_SOAP12, "Reason");

	r->rc = -EPROTO;
	r->fault_code = text_of(ctx, child(code, WS_NS_SOAP12, "Value"));
	r->fault_subcode = sub ? text_of(ctx, child(sub, WS_NS_SOAP12, "Value")) : NULL;
	r->fault_reason = text_of(ctx, child(reason, WS_NS_SOAP12, "Text"));
	r->error = talloc_asprintf(ctx, "SOAP Fault %s%s%s: %s", r->fault_code, r->fault_subcode ? "/" : "",
				   r->fault_subcode ? r->fault_subcode : "", r->fault_reason);
}

static void call_answer(int status, const char *content_type, const uint8_t *body, size_t len, void *data)
{
	struct ws_call *c = data;
	void *tmp = talloc_new(c);
	struct ws_call_result r = { .status = status, .message_id = c->message_id };
	xmlDocPtr doc = NULL;
	xmlNodePtr env, hdr = NULL, b = NULL, fn = NULL, n;
	char *err = NULL;

	if (status < 0) {
		r.rc = status;
		r.error = talloc_asprintf(tmp, "no answer from %s (%s)", c->url, strerror(-status));
		goto done;
	}
	if (len) {
		doc = ws_xml_parse_safe(tmp, body, len, 0, &err);
		env = doc ? xmlDocGetRootElement(doc) : NULL;
		if (ws_xml_is(env, WS_NS_SOAP12, "Envelope")) {
			hdr = child(env, WS_NS_SOAP12, "Header");
			b = child(env, WS_NS_SOAP12, "Body");
			fn = ws_xml_first_elem(b);
		}
		n = child(hdr, WS_NS_WSA, "RelatesTo");
		r.relates_to = n ? text_of(tmp, n) : NULL;
		if (fn && ws_xml_is(fn, WS_NS_SOAP12, "Fault")) {
			parse_fault(tmp, fn, &r);
			goto done;
		}
	}
	if (status < 200 || status > 299) {
		r.rc = -EBADMSG;
		r.error = talloc_asprintf(tmp, "HTTP %d from %s without a SOAP Fault", status, c->url);
		goto done;
	}
	if (c->op->mep != WS_MEP_SYNC) {
		/* digest §6.3: the provider accepts an asynchronous request or a notification at HTTP level */
		r.rc = 0;
		goto done;
	}
	if (!fn) {
		r.rc = -EBADMSG;
		r.error = talloc_asprintf(tmp, "answer from %s is not a SOAP 1.2 envelope%s%s", c->url,
					  err ? ": " : "", err ? err : "");
		goto done;
	}
	if (!ws_xml_is(fn, WS_NS_RPS, c->op->resp_elem)) {
		r.rc = -EBADMSG;
		r.error = talloc_asprintf(tmp, "answer holds %.100s, not %s", (const char *)fn->name, c->op->resp_elem);
		goto done;
	}
	if (ws_service_schema(c->svc) && ws_schema_validate_elem(ws_service_schema(c->svc), tmp, fn, &err) < 0) {
		r.rc = -EBADMSG;
		r.error = talloc_asprintf(tmp, "%s does not validate: %s", c->op->resp_elem, err);
		goto done;
	}
	/* WS-Addressing: a reply relates to our MessageID; a mismatch is logged, not fatal (lenient, §6.3) */
	if (!r.relates_to || strcmp(r.relates_to, c->message_id))
		LOGP(DWS, LOGL_NOTICE, "%s: answer from %s relates to '%.200s', not to %s\n", c->op->name, c->url,
		     r.relates_to ? r.relates_to : "(none)", c->message_id);
	r.rc = 0;
	r.body = fn;
done:
	if (r.rc)
		LOGP(DWS, LOGL_NOTICE, "%s %s to %s: %s\n", c->op->name, c->message_id, c->url, r.error);
	else
		LOGP(DWS, LOGL_INFO, "%s %s to %s: done (%d)\n", c->op->name, c->message_id, c->url, status);
	c->cb(&r, c->data);
	if (doc)
		xmlFreeDoc(doc);
	talloc_free(tmp);
	talloc_free(c);
}

int ws_call(struct ws_service *svc, struct http_client *hc, void *ctx, const char *url, const struct ws_op *op,
	    xmlNodePtr body, const struct ws_call_opts *opts, char **message_id_out, ws_call_cb cb, void *data)
{
	static const struct ws_call_opts no_opts;
	const struct ws_service_cfg *cfg;
	struct http_client_req_opts ho = { 0 };
	struct ws_env_hdr h = { 0 };
	struct ws_call *c;
	char *err = NULL, *ct;
	uint8_t *xml;
	size_t len;
	int rc;

	if (!svc || !hc || !url || !op || !body || !cb)
		return -EINVAL;
	if (!opts)
		opts = &no_opts;
	if (op->mep == WS_MEP_ASYNC && (!opts->reply_to || !*opts->reply_to))
		return -EINVAL;
	if (!ws_xml_is(body, WS_NS_RPS, op->req_elem))
		return -EINVAL;
	cfg = ws_service_cfg(svc);
	c = talloc_zero(NULL, struct ws_call);
	if (!c)
		return -ENOMEM;
	/* never send what the receiver would reject as schema-invalid: it is our bug, say so here */
	if (ws_service_schema(svc) && ws_schema_validate_elem(ws_service_schema(svc), c, body, &err) < 0) {
		LOGP(DWS, LOGL_ERROR, "%s to %s not sent: %s does not validate: %s\n", op->name, url, op->req_elem,
		     err);
		talloc_free(c);
		return -EBADMSG;
	}
	c->svc = svc;
	c->op = op;
	c->cb = cb;
	c->data = data;
	c->url = talloc_strdup(c, url);
	c->message_id = opts->message_id ? talloc_strdup(c, opts->message_id) : ws_new_message_id(c, cfg->entity_id);
	if (!c->url || !c->message_id) {
		talloc_free(c);
		return -ENOMEM;
	}
	h.action = op->action;
	h.to = opts->to ? opts->to : url;
	h.from = cfg->own_address;
	h.reply_to = op->mep == WS_MEP_ASYNC ? opts->reply_to : NULL;
	h.message_id = c->message_id;
	rc = ws_envelope_build(svc, c, &h, body, &xml, &len);
	ct = talloc_asprintf(c, "application/soap+xml; charset=utf-8; action=\"%s\"", op->action);
	if (rc < 0 || !ct) {
		talloc_free(c);
		return -ENOMEM;
	}
	ho.timeout_ms = opts->timeout_ms;
	/* notifications have no answer to wait for: deliver them with bounded retry (issue #4) */
	if (op->mep == WS_MEP_ONEWAY)
		ho.flags = HTTP_CLIENT_RETRY;
	if (message_id_out)
		*message_id_out = talloc_strdup(ctx, c->message_id);
	rc = http_client_post(hc, url, ct, NULL, 0, xml, len, &ho, call_answer, c);
	talloc_free(xml);
	talloc_free(ct);
	if (rc < 0) {
		LOGP(DWS, LOGL_ERROR, "%s to %s: cannot send (%s)\n", op->name, url, strerror(-rc));
		if (message_id_out) {
			talloc_free(*message_id_out);
			*message_id_out = NULL;
		}
		talloc_free(c);
		return rc;
	}
	LOGP(DWS, LOGL_INFO, "%s %s sent to %s\n", op->name, c->message_id, url);
	return 0;
}
