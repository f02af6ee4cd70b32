/*! \file soap.h
 * SOAP 1.2 + WS-Addressing 1.0 core of the GSMA ES interfaces (SGP.02 Annex B, digest §6), independent of the
 * transport: it takes the raw HTTP request body, its Content-Type and the peer identity, and yields either a
 * dispatched, schema-valid request for a registered operation, or a SOAP 1.2 Fault to send back.
 *
 * Processing order of ws_process() (each step answers with the Fault named):
 *   1. Content-Type must be application/soap+xml (optional charset/action parameters) -> HTTP 415 + Sender Fault
 *   2. size limit (default 1 MiB)                                          -> Sender Fault
 *   3. safe parse: no network, no DTD, no entity expansion; any DOCTYPE is refused while parsing (before an
 *      entity declaration is even read), element depth limit (default 64) -> Sender Fault
 *   4. envelope: SOAP 1.2 namespace (a SOAP 1.1 envelope gets VersionMismatch), optional Header, one Body with
 *      exactly one element child                                          -> Sender Fault
 *   5. header blocks with mustUnderstand="true" targeted at us that we do not process -> MustUnderstand Fault
 *   6. WS-Addressing: each of MessageID, Action, To present once (ReplyTo too for asynchronous operations)
 *      -> Sender, subcode wsa:MessageAddressingHeaderRequired / wsa:InvalidAddressingHeader
 *   7. operation by wsa:Action, matched leniently by function name (digest §6.3) -> wsa:ActionNotSupported;
 *      the Body element must be the operation's request element            -> Sender Fault;
 *      an asynchronous operation needs an http(s) wsa:ReplyTo              -> wsa:OnlyNonAnonymousAddressSupported
 *      / wsa:InvalidAddressingHeader. A Content-Type action parameter that differs from wsa:Action is only
 *      logged: clients generated from the GSMA WSDL (no soapAction) send action="" or action="None".
 *   8. XSD validation of the Body element with the schema compiled at start-up -> Sender Fault naming the first
 *      violation (line and libxml2 message)
 *   9. duplicate (sender, MessageID): replayed from the store, the handler is not executed again (see below)
 *  10. no handler registered -> Receiver Fault "not implemented"; ValidityPeriod already over -> Expired response
 *  11. the handler is called; it answers with ws_request_finish() now or later.
 *
 * Duplicates (WS-Addressing MessageID from the same sender; the sender is the TLS peer identity, else the
 * wsa:From address): a request that was answered is answered again with the stored envelope (synchronous: the
 * same HTTP answer; asynchronous: 202 and the stored callback is POSTed again to ReplyTo; one-way: 202). A
 * duplicate of a synchronous request that is still executing gets a Receiver Fault "still being processed;
 * retry later" (HTTP 500), so that a retry after the end gets the stored answer; asynchronous and one-way
 * duplicates in progress just get 202 (the single callback follows). Pre-dispatch Faults are not stored.
 *
 * Fault HTTP status (SOAP 1.2 Part 2 §7.5.1.2): Sender 400, Receiver / MustUnderstand / VersionMismatch 500;
 * an unsupported media type 415.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <libxml/tree.h>

#define WS_NS_SOAP12	"http://www.w3.org/2003/05/soap-envelope"
#define WS_NS_SOAP11	"http://schemas.xmlsoap.org/soap/envelope/"
#define WS_NS_WSA	"http://www.w3.org/2005/08/addressing"
#define WS_NS_RPS	"http://namespaces.gsma.org/esim-messaging/3"
/*! WS-Addressing 1.0 Core §3.2.1: anonymous address (answer in the HTTP response) */
#define WS_WSA_ANONYMOUS	WS_NS_WSA "/anonymous"
#define WS_WSA_NONE		WS_NS_WSA "/none"
/*! WS-Addressing 1.0 Core §3.2.4: RelationshipType of a reply */
#define WS_WSA_REPLY		WS_NS_WSA "/reply"
/*! WS-Addressing 1.0 SOAP Binding §6: Action of a fault message */
#define WS_WSA_FAULT_ACTION	WS_NS_WSA "/fault"

/*! Default limits */
#define WS_MAX_BODY_DEFAULT	(1024 * 1024)
#define WS_MAX_DEPTH_DEFAULT	64

struct ws_schema;
struct ws_service;
struct ws_request;
struct ws_store_ops;

/* ------------------------------------------------------------------ schema */

/*! Compile an XSD once (e.g. ../shared/spec/gsma-esim-messaging-3/all-requests.xsd). Includes and imports are
 *  resolved relative to the file, from local files only: any network URL fails the load.
 *  \returns the compiled schema (talloc child of \a ctx, freed with it), or NULL (logged: first error). */
struct ws_schema *ws_schema_load(void *ctx, const char *xsd_path);

/*! Validate one element (with its subtree) against the schema. \a err (may be NULL) gets a talloc'd (on
 *  \a ctx) "line N: message" text of the first violation. \returns 0 when valid, -EBADMSG when invalid. */
int ws_schema_validate_elem(struct ws_schema *s, void *ctx, xmlNodePtr elem, char **err);

/*! Parse a SOAP envelope (safely, as ws_process does) and validate the Body's element. Used by tests and for
 *  self-checks of what we send. \returns 0, -EBADMSG (not an envelope / invalid, \a err says why). */
int ws_schema_validate_envelope(struct ws_schema *s, void *ctx, const uint8_t *xml, size_t len, char **err);

/* ------------------------------------------------------------------ operations */

/*! Message exchange pattern of an operation (digest §6.3). */
enum ws_mep {
	/*! request/response in the same HTTP exchange; Actions …/<Fn>Request and …/<Fn>Response */
	WS_MEP_SYNC,
	/*! HTTP 202 at once, the response later POSTed to wsa:ReplyTo with wsa:RelatesTo (callback action) */
	WS_MEP_ASYNC,
	/*! one-way (notification, or a callback received): HTTP 202, no SOAP answer */
	WS_MEP_ONEWAY,
};

const char *ws_mep_name(enum ws_mep mep);

/*! One operation of a service. Strings are static (catalogue tables, see ws_catalog.h). */
struct ws_op {
	const char *name;	/*!< function name, e.g. "ES4-EnableProfile" (leniently matched in wsa:Action) */
	const char *req_elem;	/*!< Body element local name (rps namespace), e.g. "ES4-EnableProfileRequest" */
	const char *action;	/*!< canonical input wsa:Action */
	enum ws_mep mep;
	const char *resp_elem;	/*!< response element (SYNC/ASYNC), NULL for ONEWAY */
	const char *resp_action;	/*!< SYNC: output Action; ASYNC: callback Action; NULL for ONEWAY */
};

/* ------------------------------------------------------------------ FunctionExecutionStatus */

/*! StatusType of euicc.common.types.xsd (ExecutionStatusType/Status). */
enum ws_status_kind {
	WS_STATUS_SUCCESS,	/*!< "EXECUTED_SUCCESS" */
	WS_STATUS_WARNING,	/*!< "EXECUTED_WITHWARNING" (StatusCodeData present) */
	WS_STATUS_FAILED,	/*!< "FAILED" (StatusCodeData present) */
	WS_STATUS_EXPIRED,	/*!< "EXPIRED" (StatusCodeData present) */
};

/*! XML enumeration value of a status kind, e.g. "EXECUTED_SUCCESS". */
const char *ws_status_kind_str(enum ws_status_kind k);

/*! What went into FunctionExecutionStatus. Strings are copied by the builders. */
struct ws_status {
	enum ws_status_kind kind;
	const char *subject;	/*!< StatusCodeData/Subject OID, e.g. "8.1.1" (not for SUCCESS) */
	const char *reason;	/*!< StatusCodeData/Reason OID, e.g. "3.9" */
	const char *subject_id;	/*!< SubjectIdentifier, optional */
	const char *message;	/*!< Message, optional */
	/*! BaseResponseType/AcceptableValidityPeriod (seconds) when the requested one was not acceptable;
	 *  0: absent. Used by ws_resp_begin(), not part of FunctionExecutionStatus. */
	unsigned long acceptable_vp;
};

/*! Append <FunctionExecutionStatus> (rps namespace) to \a parent: Status, and StatusCodeData with Subject,
 *  Reason, SubjectIdentifier?, Message? unless kind is SUCCESS. For WARNING/FAILED/EXPIRED a missing subject or
 *  reason defaults to 1 (Generic) / 4 (Processing Error), so the output always validates.
 *  \returns the new element, NULL on allocation failure. */
xmlNodePtr ws_fes_append(xmlNodePtr parent, const struct ws_status *st);

/*! Status an expired request gets (ValidityPeriod over): EXPIRED, subject 1.6 (Function), reason 4.10 (Time to
 *  Live Expired) [SGP.22 value; NJ uses 5.3 — INF, check SGP.02 §5.1]. */
extern const struct ws_status ws_status_expired;

/* ------------------------------------------------------------------ services */

struct ws_service_cfg {
	const char *name;	/*!< for logs, e.g. "ES4SmSrService" */
	const char *path;	/*!< endpoint path, e.g. "/ES4" (used by ws_http) */
	/*! wsa:From/Address of what we send: "<endpoint>?EntityId=<our OID>&EntityName=<name>" (digest §6.2) */
	const char *own_address;
	const char *entity_id;	/*!< our OID: MessageIDs we create are "//<entity_id>/urn:uuid:<uuid>" */
	size_t max_body;	/*!< 0: WS_MAX_BODY_DEFAULT */
	unsigned int max_depth;	/*!< 0: WS_MAX_DEPTH_DEFAULT */
	const char *wsdl_file;	/*!< served at GET <path>?wsdl by ws_http (NULL: 404) */
};

/*! Create a service with its operations (\a ops: array terminated by an entry with name NULL, kept by
 *  reference) validated against \a schema (kept by reference; NULL disables validation, tests only).
 *  \returns NULL on bad arguments. */
struct ws_service *ws_service_alloc(void *ctx, const struct ws_service_cfg *cfg, struct ws_schema *schema,
				    const struct ws_op *ops);
const struct ws_service_cfg *ws_service_cfg(const struct ws_service *svc);
/*! Rate counters of a service (osmo rate_ctr group "ws", named after the service), indexed by these. */
enum ws_ctr {
	WS_CTR_REQUESTS,	/*!< POSTed messages processed */
	WS_CTR_DISPATCHED,	/*!< requests handed to a handler */
	WS_CTR_FAULT_SENDER,	/*!< Sender Faults (bad message) */
	WS_CTR_FAULT_RECEIVER,	/*!< Receiver Faults (not implemented, handler failure, busy) */
	WS_CTR_FAULT_OTHER,	/*!< VersionMismatch and MustUnderstand Faults */
	WS_CTR_DUPLICATES,	/*!< duplicates answered from the store */
	WS_CTR_EXPIRED,		/*!< requests answered EXPIRED without execution */
};
struct rate_ctr_group *ws_service_ctrg(const struct ws_service *svc);

/*! The schema the service validates with (NULL: none). */
struct ws_schema *ws_service_schema(const struct ws_service *svc);

/*! Handler of one operation. Called with a validated request; it must answer with ws_request_finish() (now,
 *  or later from the event loop; for one-way operations too, with no response). \returns 0 when it took the
 *  request (answered or will answer), or a negative errno without having answered: the requester then gets a
 *  Receiver Fault and the request is freed. */
typedef int (*ws_handler_cb)(struct ws_request *req, void *data);

/*! Register the handler of operation \a op_name. \returns 0, -ENOENT (no such operation). */
int ws_service_set_handler(struct ws_service *svc, const char *op_name, ws_handler_cb cb, void *data);

/*! Completes a status-only response that the core or ws_request_finish_status() builds (e.g. EXPIRED) with the
 *  elements the schema makes mandatory even on failure: ES3-CreateISDPResponse/Isd-p-aid,
 *  ES7-CreateAdditionalKeySetResponse/DerivationRandom+Receipt, ES7-AuthenticateSMSRResponse/RandomChallenge.
 *  \a resp already holds ProcessingStart/End and FunctionExecutionStatus; append after them. */
typedef void (*ws_filler_cb)(struct ws_request *req, xmlNodePtr resp, void *data);

/*! Register the filler of operation \a op_name. \returns 0, -ENOENT (no such operation). */
int ws_service_set_filler(struct ws_service *svc, const char *op_name, ws_filler_cb cb, void *data);

/*! Plug the duplicate-detection store (ws_store.h); without one, duplicates are not detected. */
void ws_service_set_store(struct ws_service *svc, const struct ws_store_ops *ops, void *store);

/*! Clock used for ValidityPeriod, ProcessingStart/End and MessageDate (tests use a fake one).
 *  NULL: time(NULL). */
void ws_service_set_clock(struct ws_service *svc, time_t (*now)(void *data), void *data);
time_t ws_service_now(const struct ws_service *svc);

/*! Find an operation of the service by Action, leniently: the canonical Action, or a last path segment that
 *  names the function (with or without a "Request" suffix, "…Callback" operations by their function).
 *  \returns the operation or NULL. */
const struct ws_op *ws_service_find_op(const struct ws_service *svc, const char *action);

/* ------------------------------------------------------------------ processing */

/*! Called once when a dispatched request is finished (ws_request_finish()): \a xml / \a len is the envelope of
 *  the answer (SYNC: the HTTP response body with \a http_status; ASYNC: the callback to POST to
 *  req->reply_to; ONEWAY: NULL/0). The request is freed after it returns. */
typedef void (*ws_done_cb)(struct ws_request *req, int http_status, const uint8_t *xml, size_t len, void *data);

/*! What the transport hands in. */
struct ws_input {
	const uint8_t *body;
	size_t len;
	const char *content_type;	/*!< Content-Type header value, NULL if absent */
	const char *peer_identity;	/*!< TLS peer identity (conn_peer_identity()), NULL if none */
	time_t received;		/*!< reception time (start of ValidityPeriod); 0: the service clock now */
	ws_done_cb done;		/*!< called when a dispatched request finishes (see above) */
	void *done_data;
};

/*! What to answer on the HTTP exchange right now. */
struct ws_result {
	/*! 200 / 202 / 400 / 415 / 500 to answer now; 0 when the answer comes later through ws_input.done
	 *  (a synchronous request whose handler did not finish yet) */
	int http_status;
	uint8_t *xml;		/*!< body to answer now (talloc'd on the ctx given), NULL for an empty body */
	size_t len;
	/*! a duplicate of a finished asynchronous request: POST \a resend_xml to \a resend_url again */
	char *resend_url;
	uint8_t *resend_xml;
	size_t resend_len;
	/*! the dispatched request when it is still running (http_status 0, or 202 for ASYNC/ONEWAY), else NULL */
	struct ws_request *req;
};

/*! Process one HTTP request body. Never fails: malformed input yields a Fault in \a res. Allocations of \a res
 *  are children of \a ctx. \a in->done may be called before this returns (handler answered at once): then
 *  res->http_status is 0 for SYNC, and the transport must answer from the done callback. */
void ws_process(struct ws_service *svc, void *ctx, const struct ws_input *in, struct ws_result *res);

/*! A dispatched request. Owned by the ws core until ws_request_finish(). */
struct ws_request {
	struct ws_service *svc;
	const struct ws_op *op;
	const char *sender;		/*!< duplicate key: peer identity, else wsa:From address, else "-" */
	const char *peer_identity;	/*!< TLS peer identity or NULL */
	/* WS-Addressing (digest §6.2) */
	const char *message_id;
	const char *action;
	const char *to;
	const char *from;		/*!< wsa:From/wsa:Address or NULL */
	const char *reply_to;		/*!< wsa:ReplyTo/wsa:Address or NULL */
	const char *relates_to;		/*!< wsa:RelatesTo (a callback we receive) or NULL */
	/* Body (BaseRequestType, euicc.common.request.xsd) */
	xmlDocPtr doc;
	xmlNodePtr body;		/*!< the function element */
	const char *function_call_id;	/*!< FunctionCallIdentifier, NULL for notifications/callbacks */
	unsigned long validity_period;	/*!< ValidityPeriod in seconds, 0 when absent */
	time_t received;
	/* the answer under construction */
	xmlDocPtr resp_doc;
	xmlNodePtr resp;		/*!< the response element, after ws_resp_begin() */
	/* private */
	ws_done_cb done;
	void *done_data;
	time_t started;			/*!< when the handler was called (ProcessingStart) */
	bool finished;
	bool in_dispatch;
};

/*! Text of the first child element of the request's function element named \a local_name (rps namespace).
 *  \returns a talloc'd string on \a req, or NULL if absent. */
const char *ws_req_text(struct ws_request *req, const char *local_name);

/*! First child element of the request's function element named \a local_name (rps namespace), for complex
 *  content (e.g. ES2-DownloadProfileRequest/Eid, ES4-UpdatePolicyRulesRequest/Pol2). \returns it or NULL. */
xmlNodePtr ws_req_child(struct ws_request *req, const char *local_name);

/*! Has the request's ValidityPeriod (seconds from reception, BaseRequestType) run out at \a now? A request
 *  without ValidityPeriod never expires. */
bool ws_request_expired(const struct ws_request *req, time_t now);

/*! Start the response element (SYNC/ASYNC operations) with ProcessingStart (reception), ProcessingEnd (now)
 *  and FunctionExecutionStatus \a st, in BaseResponseType order. The handler appends the operation's own
 *  elements after it (ws_xml_add_text()). \returns the response element, NULL on error or for ONEWAY. */
xmlNodePtr ws_resp_begin(struct ws_request *req, const struct ws_status *st);

/*! Append <rps:\a name>\a text</rps:\a name> to \a parent. \returns the new element or NULL. */
xmlNodePtr ws_xml_add_text(xmlNodePtr parent, const char *name, const char *text);

/*! Append a deep copy of \a node (from any document, e.g. an EIS built by eis.h) to \a parent.
 *  \returns the copy or NULL. */
xmlNodePtr ws_xml_add_copy(xmlNodePtr parent, xmlNodePtr node);

/*! Finish a request: build the answer envelope (response element or, if ws_resp_begin() was not called for a
 *  SYNC/ASYNC operation, a Receiver Fault), store it for duplicates, hand it to the transport (done callback)
 *  and free the request. \returns 0 or -errno (the request is freed either way). */
int ws_request_finish(struct ws_request *req);

/*! Finish with just a status (ws_resp_begin(), the operation's filler if any, ws_request_finish()), e.g. FAILED
 *  or EXPIRED. */
int ws_request_finish_status(struct ws_request *req, const struct ws_status *st);

/*! The transport is gone (connection closed before a synchronous answer): the done callback is not called any
 *  more; the request still runs to its end and its answer is stored for duplicates. */
void ws_request_detach(struct ws_request *req);

/* ------------------------------------------------------------------ answers after a restart */

/*! Let go of an asynchronous request whose answer comes much later (an eUICC that sleeps for days), perhaps
 *  from another process after a restart: the caller has persisted what the answer needs (operation name,
 *  message_id, sender, reply_to). The request is freed without an answer; the store keeps it PROCESSING, so
 *  that duplicates get 202, until ws_answer_build() stores the answer. \returns 0, -EINVAL (not ASYNC). */
int ws_request_release(struct ws_request *req);

/*! A response element of \a op (rps namespace) with ProcessingStart \a start, ProcessingEnd \a end and
 *  FunctionExecutionStatus \a st, on a document freed with \a ctx; append the operation's own elements after
 *  it. \returns the element, NULL for a ONEWAY operation or on error. */
xmlNodePtr ws_resp_new(void *ctx, const struct ws_op *op, time_t start, time_t end, const struct ws_status *st);

/*! Build the callback envelope answering a released asynchronous request (Action: the operation's callback
 *  Action, To: \a reply_to, RelatesTo: \a message_id, From: our address), validate \a resp (logged if not
 *  valid) and store the envelope for duplicates of (\a sender, \a message_id). Send it with
 *  ws_http_send_callback(). \returns 0, -EINVAL, -ENOMEM. */
int ws_answer_build(struct ws_service *svc, void *ctx, const struct ws_op *op, const char *sender,
		    const char *message_id, const char *reply_to, xmlNodePtr resp, uint8_t **xml, size_t *len);

/* ------------------------------------------------------------------ envelopes */

/*! SOAP 1.2 fault codes (SOAP 1.2 Part 1 §5.4.6). */
enum ws_fault_code {
	WS_FAULT_VERSION_MISMATCH,
	WS_FAULT_MUST_UNDERSTAND,
	WS_FAULT_SENDER,
	WS_FAULT_RECEIVER,
};

/*! A Fault to build. */
struct ws_fault {
	enum ws_fault_code code;
	/*! local name of a WS-Addressing subcode, e.g. "ActionNotSupported", or NULL */
	const char *wsa_subcode;
	const char *reason;		/*!< Reason/Text (xml:lang="en") */
	/*! detail: WS-Addressing ProblemHeaderQName (e.g. "wsa:MessageID") or ProblemAction; NULL: none */
	const char *problem_header;
	const char *problem_action;
	/*! MustUnderstand: namespace and local name of the header not understood (env:NotUnderstood) */
	const char *nu_ns, *nu_name;
	const char *relates_to;		/*!< the request's MessageID when known */
};

/*! HTTP status for a fault code: Sender 400, others 500. */
int ws_fault_http_status(enum ws_fault_code code);

/*! Serialise a Fault envelope (talloc'd on \a ctx). \returns 0 or -ENOMEM. */
int ws_fault_build(struct ws_service *svc, void *ctx, const struct ws_fault *f, uint8_t **xml, size_t *len);

/*! Headers of an envelope we send (response, callback, or a request of our own as a client). */
struct ws_env_hdr {
	const char *action;
	const char *to;			/*!< NULL: WS_WSA_ANONYMOUS */
	const char *from;		/*!< NULL: none */
	const char *reply_to;		/*!< NULL: none */
	const char *relates_to;		/*!< NULL: none (RelationshipType reply when present) */
	const char *message_id;		/*!< NULL: a new one (ws_new_message_id()) */
};

/*! Serialise an envelope with the WS-Addressing headers \a h and \a body (copied) as the only Body child.
 *  \returns 0 or -ENOMEM. */
int ws_envelope_build(struct ws_service *svc, void *ctx, const struct ws_env_hdr *h, xmlNodePtr body,
		      uint8_t **xml, size_t *len);

/*! A new unique MessageID "//<entity id>/urn:uuid:<random v4 UUID>" (talloc'd on \a ctx). */
char *ws_new_message_id(void *ctx, const char *entity_id);

/*! xs:dateTime in UTC ("2024-05-01T10:00:00Z") into \a buf (>= 21 bytes). \returns buf. */
char *ws_datetime(char *buf, size_t size, time_t t);

/*! Check a Content-Type for SOAP 1.2: "application/soap+xml" with optional parameters. If \a action is not
 *  NULL, it gets the action parameter (talloc'd on \a ctx) or NULL. \returns true if acceptable. */
bool ws_content_type_ok(void *ctx, const char *content_type, char **action);
