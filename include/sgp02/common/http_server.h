/*! \file http_server.h
 * HTTP/1.1 server on conn.h connections, parsing with libhttp-parser. Serves the SOAP endpoints
 * (mutual TLS) and the SCP81 admin server (PSK-TLS).
 *
 * One request at a time per connection (pipelined requests wait); a handler may answer at once
 * or later (asynchronously, e.g. SCP81 holds a POST until there is a command for the eUICC).
 * Keep-alive, chunked request bodies (de-chunked before the handler sees them), chunked
 * responses, "Expect: 100-continue". Every limit answers with its status and is logged:
 *   header bigger than max_header_bytes        -> 431
 *   body bigger than max_body_bytes            -> 413 (Content-Length checked before reading)
 *   header not complete within header_timeout  -> 408, then close
 *   body not complete within body_timeout      -> 408, then close
 *   no request on an idle keep-alive connection for idle_timeout -> close
 *   more than max_conns connections            -> 503, then close
 *   malformed request                          -> 400; unsupported method/version -> 501/505
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct tls_ctx;
struct http_server;
struct http_request;

struct http_header {
	const char *name;
	const char *value;
};

struct http_server_cfg {
	const char *addr;		/*!< listen address, e.g. "127.0.0.1" */
	uint16_t port;			/*!< 0: pick a free port (see http_server_port()) */
	struct tls_ctx *tls;		/*!< NULL: plain HTTP (loopback development only) */
	size_t max_header_bytes;	/*!< default 16 KiB */
	size_t max_body_bytes;		/*!< default 1 MiB */
	unsigned long header_timeout_ms;	/*!< default 10 s */
	unsigned long body_timeout_ms;	/*!< default 30 s */
	unsigned long idle_timeout_ms;	/*!< default 60 s */
	unsigned int max_conns;		/*!< default 1000 */
};

/*! Called once per complete request. The handler must eventually answer with http_respond() or
 *  the http_respond_start/chunk/end() sequence; until then the request stays valid (unless the
 *  connection dies: then on_abort, if set, is called and the request is freed). */
typedef void (*http_handler_cb)(struct http_request *req, void *data);

struct http_request {
	const char *method;		/*!< "GET", "POST", ... */
	const char *path;		/*!< URL path without query, e.g. "/ES4" */
	const char *query;		/*!< query string without '?', or NULL (e.g. "wsdl") */
	const struct http_header *headers;	/*!< num_headers entries; names as received */
	unsigned int num_headers;
	const uint8_t *body;		/*!< de-chunked body, NUL-terminated for convenience */
	size_t body_len;
	struct conn *conn;		/*!< the connection it came on (peer identity: conn_peer_identity()) */
	void *handler_data;		/*!< free for the handler */
	/*! called if the connection dies before the answer; the request is freed after it */
	void (*on_abort)(struct http_request *req);
};

struct http_server *http_server_start(void *ctx, const struct http_server_cfg *cfg, http_handler_cb handler,
				      void *data);
uint16_t http_server_port(const struct http_server *srv);
void http_server_stop(struct http_server *srv);

/*! Case-insensitive header lookup. \returns value or NULL. */
const char *http_req_header(const struct http_request *req, const char *name);

/*! Send a complete response (Content-Length). \a extra: NULL or array of \a num_extra headers.
 *  \returns 0 or -errno (the request is finished either way). */
int http_respond(struct http_request *req, int status, const char *content_type,
		 const struct http_header *extra, unsigned int num_extra, const uint8_t *body, size_t len);

/*! Chunked response: start (status line + headers, Transfer-Encoding: chunked), any number of
 *  chunks, end (last chunk). \returns 0 or -errno. */
int http_respond_start(struct http_request *req, int status, const char *content_type,
		       const struct http_header *extra, unsigned int num_extra);
int http_respond_chunk(struct http_request *req, const uint8_t *buf, size_t len);
int http_respond_end(struct http_request *req);

/*! Reason phrase of a status code ("Not Found"). */
const char *http_status_text(int status);
