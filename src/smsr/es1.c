/*! \file es1.c
 * ES1 RegisterEIS (EUM -> SM-SR; SGP.02 §5.1, SGP02.md §5.1 and §10.2): the EUM registers an eUICC's EIS.
 *
 * Checks, in this order, each with its StatusCodeData (SGP02.md §4.2/§4.3, ws_codes.h):
 *  1. the requester's TLS identity maps to an EUM ("eum OID certificate-cn CN")     else 1.1 / 1.2 Not Allowed
 *  2. the Eis parses strictly (ws_eis_parse())                                       else ws_eis_parse_status()
 *  3. the requester is the EUM named in Eum-id                                       else 1.1 / 1.2
 *  4. that EUM has trusted certificates ("eum OID certificate FILE")                 else 8.6 / 6.1 (unknown EUM)
 *  5. the EumSignature verifies against them (ws_xmldsig_verify_eis())               else ws_xmldsig_status()
 *  6. no ICCID, ISD-P AID, key set version or key index twice (the registry's keys) else 8.6 / 2.1 Invalid
 *  7. Smsr-id is our entity-id                                                       else 8.7 / 3.4 Invalid Destination
 *  8. stored in one transaction with its audit row; EID already registered           -> 8.1.1 / 3.3 Already in Use
 *     (an ICCID already registered on another eUICC                                   -> 8.2.1 / 3.3)
 * Only then EXECUTED_SUCCESS is answered (the state is committed before the answer).
 *
 * The ISD-R key values: SGP.02 lets EUM and SM-SR agree on a transport protection of the key values in the EIS
 * (SGP02.md §3.1: at least AES-128 ECB with a transport key). No such key is configured here yet, so the values are
 * taken as they come (the test fleet writes them in clear) and encrypted at rest under our KEK.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <talloc.h>
#include <osmocom/core/logging.h>

#include <sgp02/common/app.h>
#include <sgp02/common/logging.h>
#include <sgp02/ws/soap.h>
#include <sgp02/ws/ws_codes.h>
#include <sgp02/ws/ws_daemon.h>
#include <sgp02/ws/eis.h>
#include <sgp02/ws/xmldsig.h>
#include "eis_registry.h"
#include "smsr_es.h"

static int fail(struct ws_request *req, const char *subject, const char *reason, const char *message)
{
	struct ws_status st = {
		.kind = WS_STATUS_FAILED,
		.subject = subject,
		.reason = reason,
		.message = message,
	};

	LOGP(DWS, LOGL_NOTICE, "ES1 RegisterEIS from %s refused: %s/%s %s\n",
	     req->peer_identity ? req->peer_identity : "-", subject, reason, message ? message : "");
	ws_request_finish_status(req, &st);
	return 0;
}

/* What the database keys need unique within one EIS (the XSD does not say so, the registry does): ICCIDs and ISD-P
 * AIDs of the profiles, key set versions per security domain, key indexes per key set.
 * \returns NULL when consistent, else what is duplicated. */
static const char *duplicate_in(const struct ws_eis *eis)
{
	const struct ws_eis_sd *sds[2] = { &eis->isd_r, &eis->ecasd };
	unsigned int i, j, s, a, b;

	for (i = 0; i < eis->num_profiles; i++)
		for (j = i + 1; j < eis->num_profiles; j++) {
			const struct ws_eis_profile *p = &eis->profiles[i], *q = &eis->profiles[j];

			if (!strcasecmp(p->iccid, q->iccid))
				return "ICCID twice in ProfileInfo";
			if (p->isd_p_aid.len == q->isd_p_aid.len &&
			    !memcmp(p->isd_p_aid.data, q->isd_p_aid.data, p->isd_p_aid.len))
				return "Isd-p-aid twice in ProfileInfo";
		}
	for (s = 0; s < 2; s++)
		for (i = 0; i < sds[s]->num_keysets; i++) {
			const struct ws_eis_keyset *ks = &sds[s]->keysets[i];

			for (j = i + 1; j < sds[s]->num_keysets; j++)
				if (ks->version == sds[s]->keysets[j].version)
					return "key set Version twice in a security domain";
			for (a = 0; a < ks->num_items; a++)
				for (b = a + 1; b < ks->num_items; b++)
					if (!ks->items[a].is_cert && !ks->items[b].is_cert &&
					    ks->items[a].key.index == ks->items[b].key.index)
						return "key Index twice in a key set";
		}
	return NULL;
}

static int register_eis(struct ws_request *req, void *data)
{
	struct sgp02_app *app = data;
	const struct ws_service_cfg *cfg = ws_service_cfg(req->svc);
	struct ws_status ok = { .kind = WS_STATUS_SUCCESS };
	const char *eum_oid, *subject, *reason, *what = NULL, *dup;
	struct ws_xmldsig_trust *trust;
	struct ws_eis *eis = NULL;
	xmlNodePtr node;
	char *err = NULL;
	int rc;

	eum_oid = smsr_entity_oid(SMSR_ROLE_EUM, req->peer_identity);
	if (!eum_oid)
		return fail(req, WS_SUBJ_FUNCTION_REQUESTER, WS_REASON_NOT_ALLOWED, "requester is not a known EUM");

	node = ws_req_child(req, "Eis");
	if (!node)
		return fail(req, WS_SUBJ_EIS, WS_REASON_MANDATORY_MISSING, "Eis missing");
	rc = ws_eis_parse(req, node, &eis, &err);
	if (rc < 0) {
		ws_eis_parse_status(rc, &subject, &reason);
		return fail(req, subject, reason, err ? err : "EIS not valid");
	}
	if (strcmp(eis->eum_id, eum_oid))
		return fail(req, WS_SUBJ_FUNCTION_REQUESTER, WS_REASON_NOT_ALLOWED,
			    "the requester is not the EUM of this EIS (Eum-id)");
	trust = smsr_eum_trust(eis->eum_id);
	if (!trust)
		return fail(req, WS_SUBJ_EIS, WS_REASON_VERIFICATION_FAILED, "unknown EUM (no trusted certificate)");
	rc = ws_xmldsig_verify_eis(trust, node, req, NULL, &err);
	if (rc < 0) {
		ws_xmldsig_status(rc, &subject, &reason);
		return fail(req, subject, reason, talloc_asprintf(req, "EumSignature: %s", err ? err : strerror(-rc)));
	}
	dup = duplicate_in(eis);
	if (dup)
		return fail(req, WS_SUBJ_EIS, WS_REASON_INVALID, dup);
	if (!cfg->entity_id || strcmp(eis->smsr_id, cfg->entity_id))
		return fail(req, WS_SUBJ_SMSR, WS_REASON_INVALID_DESTINATION,
			    cfg->entity_id ? "Smsr-id is not this SM-SR" : "this SM-SR has no entity-id configured");

	rc = smsr_eis_store(app, eis, eum_oid, "RegisterEIS", &what);
	switch (rc) {
	case 0:
		LOGP(DWS, LOGL_INFO, "ES1 RegisterEIS: EID %s registered by EUM %s (%u profiles)\n", eis->eid, eum_oid,
		     eis->num_profiles);
		break;
	case -EEXIST:
		if (what && !strcmp(what, "iccid"))
			return fail(req, WS_SUBJ_ICCID, WS_REASON_ALREADY_IN_USE,
				    "an ICCID of this EIS is registered already");
		return fail(req, WS_SUBJ_EID, WS_REASON_ALREADY_IN_USE, "EID already registered");
	case -EINVAL:
		return fail(req, WS_SUBJ_EIS, WS_REASON_INVALID, "a value of the EIS cannot be stored");
	case -ENOKEY:
		return fail(req, WS_SUBJ_FUNCTION_PROVIDER, WS_REASON_EXECUTION_ERROR,
			    "no key-encryption-key configured");
	default:
		return fail(req, WS_SUBJ_FUNCTION_PROVIDER, WS_REASON_EXECUTION_ERROR, "database error");
	}
	if (!ws_resp_begin(req, &ok))
		return -ENOMEM;
	ws_request_finish(req);
	return 0;
}

int smsr_es1_init(struct sgp02_app *app)
{
	struct ws_service *svc = ws_daemon_service("ES1SmSrService");

	if (!svc)
		return -ENOENT;
	return ws_service_set_handler(svc, "ES1-RegisterEIS", register_eis, app);
}
