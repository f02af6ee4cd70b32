/*! \file geteis.c
 * GetEIS on ES4 (operator -> SM-SR) and ES3 (SM-DP -> SM-SR): SGP.02 §5.3/§5.4 (SGP02.md §5.3, §5.4, §10.12).
 * A database read, no OTA: the EIS of the requested EID as it stands, reduced to what the caller may see
 * (smsr_eis_view(): an operator its own profiles, the SM-DP the profiles it manages; no key ever).
 *  - requester's TLS identity not mapped to an operator (ES4) / SM-DP (ES3)  -> FAILED 1.1 / 1.2 Not Allowed
 *  - EID not registered                                                      -> FAILED 8.1.1 / 3.9 Unknown
 *  - database failure                                                        -> FAILED 1.2 / 4.2 Execution Error
 */
#include <errno.h>
#include <string.h>

#include <talloc.h>
#include <osmocom/core/logging.h>

#include <sgp02/common/app.h>
#include <sgp02/common/logging.h>
#include <sgp02/ws/soap.h>
#include <sgp02/ws/ws_codes.h>
#include <sgp02/ws/ws_daemon.h>
#include <sgp02/ws/eis.h>
#include "eis_registry.h"
#include "smsr_es.h"

struct geteis_svc {
	struct sgp02_app *app;
	enum smsr_role role;
};

static int fail(struct ws_request *req, const char *subject, const char *reason, const char *message)
{
	struct ws_status st = {
		.kind = WS_STATUS_FAILED,
		.subject = subject,
		.reason = reason,
		.message = message,
	};

	LOGP(DWS, LOGL_INFO, "%s from %s: %s/%s %s\n", req->op->name, req->peer_identity ? req->peer_identity : "-",
	     subject, reason, message ? message : "");
	ws_request_finish_status(req, &st);
	return 0;
}

static int build_check(const struct ws_eis *eis)
{
	xmlDocPtr d = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = d ? xmlNewDocNode(d, NULL, BAD_CAST "r", NULL) : NULL;
	int rc = -ENOMEM;

	if (root) {
		xmlDocSetRootElement(d, root);
		rc = ws_eis_build(eis, root, "Eis", xmlNewNs(root, BAD_CAST WS_EIS_NS, NULL), NULL);
	}
	xmlFreeDoc(d);
	return rc;
}

static int get_eis(struct ws_request *req, void *data)
{
	const struct geteis_svc *g = data;
	struct ws_status ok = { .kind = WS_STATUS_SUCCESS };
	const char *oid, *eid;
	struct ws_eis *eis = NULL;
	xmlNodePtr resp;
	int rc;

	oid = smsr_entity_oid(g->role, req->peer_identity);
	if (!oid)
		return fail(req, WS_SUBJ_FUNCTION_REQUESTER, WS_REASON_NOT_ALLOWED,
			    g->role == SMSR_ROLE_SMDP ? "requester is not a known SM-DP" :
			    "requester is not a known operator");
	eid = ws_req_text(req, "Eid");
	if (!eid)
		return fail(req, WS_SUBJ_EID, WS_REASON_MANDATORY_MISSING, "Eid missing");
	/* the schema checked the EIDType lexically; the table holds upper-case hex digits */
	rc = smsr_eis_load(g->app, req, eid, &eis);
	if (rc == -ENOENT)
		return fail(req, WS_SUBJ_EID, WS_REASON_UNKNOWN, "EID not registered");
	if (rc < 0)
		return fail(req, WS_SUBJ_FUNCTION_PROVIDER, WS_REASON_EXECUTION_ERROR, "EIS not available");
	smsr_eis_view(eis, g->role, oid);

	/* build it once on a scratch document so that a failure can still be answered with a status */
	rc = build_check(eis);
	if (rc < 0) {
		LOGP(DWS, LOGL_ERROR, "%s: EIS %s cannot be built: %s\n", req->op->name, eid, strerror(-rc));
		talloc_free(eis);
		return fail(req, WS_SUBJ_FUNCTION_PROVIDER, WS_REASON_EXECUTION_ERROR, "EIS not available");
	}
	resp = ws_resp_begin(req, &ok);
	rc = resp ? ws_eis_build(eis, resp, "Eis", resp->ns, NULL) : -ENOMEM;
	talloc_free(eis);
	if (rc < 0)
		return rc;
	LOGP(DWS, LOGL_INFO, "%s: EIS %s to %s\n", req->op->name, eid, oid);
	ws_request_finish(req);
	return 0;
}

int smsr_geteis_init(struct sgp02_app *app)
{
	struct ws_service *es3 = ws_daemon_service("ES3SmSrService");
	struct ws_service *es4 = ws_daemon_service("ES4SmSrService");
	static struct geteis_svc g3, g4;
	int rc;

	if (!es3 || !es4)
		return -ENOENT;
	g3 = (struct geteis_svc){ .app = app, .role = SMSR_ROLE_SMDP };
	g4 = (struct geteis_svc){ .app = app, .role = SMSR_ROLE_OPERATOR };
	rc = ws_service_set_handler(es3, "ES3-GetEIS", get_eis, &g3);
	if (rc == 0)
		rc = ws_service_set_handler(es4, "ES4-GetEIS", get_eis, &g4);
	return rc;
}
