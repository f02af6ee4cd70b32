/*! \file ws_client.h
 * Outgoing SOAP 1.2 calls of the GSMA ES interfaces (SM-DP -> SM-SR over ES3, notifications to operators and
 * SM-DPs, ES7 between SM-SRs), on the http_client (libcurl multi on the event loop).
 *
 * ws_call() wraps a function element in an envelope with our WS-Addressing headers (From = the service's own
 * address, To = the URL, a new MessageID, Action = the operation's canonical input Action, ReplyTo for
 * asynchronous operations), refuses to send a body that does not validate against the schema, and POSTs it
 * with the action parameter in the Content-Type (SOAP 1.2 Part 2 §7.1.4). The answer is parsed with the same
 * safe parser as requests:
 *   - synchronous: 200 + response envelope -> its function element (validated, RelatesTo checked);
 *   - asynchronous / one-way: 2xx without a SOAP body -> accepted (the response comes later as a callback to
 *     ReplyTo, received by a service with a *Callback operation);
 *   - any SOAP Fault -> fault code, WS-Addressing subcode and reason.
 * One-way operations (notifications) are POSTed with the client's bounded retry and backoff.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

struct http_client;
struct ws_service;
struct ws_op;

/*! Outcome of a call, valid during the callback only. */
struct ws_call_result {
	int status;			/*!< HTTP status, or a negative errno when no HTTP answer came */
	/*! 0: success (SYNC: \a body set; ASYNC/ONEWAY: accepted); -EPROTO: a SOAP Fault (fault_* set);
	 *  -EBADMSG: an answer that is not what the operation expects (\a error says why); other -errno:
	 *  transport failure */
	int rc;
	const char *error;		/*!< human-readable reason when rc != 0 */
	const char *fault_code;		/*!< e.g. "env:Sender" */
	const char *fault_subcode;	/*!< e.g. "wsa:ActionNotSupported", or NULL */
	const char *fault_reason;
	xmlNodePtr body;		/*!< SYNC: the response function element */
	const char *message_id;		/*!< MessageID of the request we sent */
	const char *relates_to;		/*!< RelatesTo of the answer, if any */
};

typedef void (*ws_call_cb)(const struct ws_call_result *r, void *data);

struct ws_call_opts {
	const char *to;			/*!< wsa:To; NULL: the URL */
	const char *reply_to;		/*!< wsa:ReplyTo address, mandatory for WS_MEP_ASYNC */
	const char *message_id;		/*!< NULL: a new one (use a stored one to retry a call idempotently) */
	unsigned long timeout_ms;	/*!< 0: the client's default */
};

/*! Call operation \a op at \a url with the function element \a body (copied). \a svc gives our identity
 *  (own_address, entity_id) and the schema. If \a message_id_out is not NULL it receives the MessageID used
 *  (talloc'd on \a ctx), to be stored so that a callback's RelatesTo can be matched.
 *  \returns 0 (then \a cb is called exactly once), -EINVAL (missing ReplyTo for ASYNC, bad arguments),
 *  -EBADMSG (\a body does not validate: nothing is sent), -ENOMEM, or the http_client's error. */
int ws_call(struct ws_service *svc, struct http_client *hc, void *ctx, const char *url, const struct ws_op *op,
	    xmlNodePtr body, const struct ws_call_opts *opts, char **message_id_out, ws_call_cb cb, void *data);
