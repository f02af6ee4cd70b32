/*! \file ws_http.h
 * Glue of the SOAP core (soap.h) to the HTTP server and client (SOAP 1.2 Part 2 §7, HTTP binding):
 *  - POST <service path>: the body goes through ws_process(); a synchronous answer (200, or a Fault: Sender 400,
 *    Receiver 500, media type 415) comes in the HTTP response, possibly later when the handler finishes;
 *    asynchronous and one-way requests get "202 Accepted" with an empty body at once (digest §6.2/§6.3), and the
 *    response of an asynchronous one is POSTed later to wsa:ReplyTo with wsa:RelatesTo, through the
 *    http_client with bounded retry and backoff;
 *  - GET <service path>?wsdl: the service's WSDL file (ws_service_cfg.wsdl_file, relative to the configured
 *    WSDL directory unless absolute) with the address placeholder replaced by our public base URL, 404 when there
 *    is none;
 *  - other paths 404, other methods 405.
 *
 * Usage: ws = ws_http_alloc(ctx, &cfg); ws_http_add_service(ws, svc) for each service;
 *        http_server_start(ctx, &server_cfg, ws_http_handler, ws).
 * Teardown: stop the HTTP server first, then free the ws_http (requests still running are detached from it:
 * their answers are still stored for duplicates), then the services.
 */
#pragma once

#include <stdint.h>

struct http_client;
struct http_request;
struct ws_service;
struct ws_http;

/*! Placeholder of the service addresses in our WSDLs (wsdl/gen-wsdl.py), replaced when served. */
#define WS_WSDL_ADDRESS_PLACEHOLDER	"https://sgp02-endpoint.invalid"

struct ws_http_cfg {
	const char *wsdl_dir;		/*!< directory of the WSDL/XSD files served at ?wsdl (NULL: cwd) */
	/*! client for asynchronous callbacks (NULL: callbacks cannot be sent; they are logged as lost) */
	struct http_client *client;
	unsigned int cb_max_retries;	/*!< retries of a callback POST on no answer/5xx; 0: default 5 */
	unsigned long cb_backoff_ms;	/*!< first retry delay, doubled each time; 0: default 1000 */
	/*! our public base URL, e.g. "https://smsr.example.com:8443": replaces WS_WSDL_ADDRESS_PLACEHOLDER in the
	 *  WSDLs served at ?wsdl, so that soap:address points at us; NULL: WSDLs are served unchanged */
	const char *public_base_url;
};

struct ws_http *ws_http_alloc(void *ctx, const struct ws_http_cfg *cfg);

/*! Serve \a svc at its configured path. \returns 0, -EEXIST (path taken), -ENOMEM. */
int ws_http_add_service(struct ws_http *wh, struct ws_service *svc);

/*! The http_handler_cb to pass to http_server_start() with the struct ws_http as data. */
void ws_http_handler(struct http_request *req, void *data);

/*! POST a callback envelope (e.g. from ws_answer_build()) to \a url with bounded retry and backoff; \a action
 *  goes into the Content-Type, \a relates_to into the logs. The outcome is logged.
 *  \returns 0 (sent or being retried), -ENOTCONN (no HTTP client configured), -EINVAL, or the client's error. */
int ws_http_send_callback(struct ws_http *wh, const char *url, const char *action, const char *relates_to,
			  const uint8_t *xml, size_t len);

/*! Callbacks (asynchronous responses) in flight. */
unsigned int ws_http_callbacks_pending(const struct ws_http *wh);
