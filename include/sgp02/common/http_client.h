/*! \file http_client.h
 * Outgoing HTTP(S) on the libosmocore event loop: libcurl's multi interface driven by osmo_fd
 * and osmo_timer (socket and timer callbacks), so requests never block the loop.
 * TLS with a client certificate (mutual TLS for ES interfaces), server verification against a CA
 * bundle, per-request timeout, connection reuse (keep-alive), and for one-way notifications a
 * bounded retry with exponential backoff.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_header;
struct http_client;

struct http_client_cfg {
	const char *ca_file;		/*!< CA bundle to verify servers; NULL: no verification (tests only) */
	const char *cert_file;		/*!< client certificate (PEM) or NULL */
	const char *key_file;		/*!< its private key (PEM) or NULL */
	unsigned long timeout_ms;	/*!< whole request, default 30 s */
	unsigned long connect_timeout_ms;	/*!< default 10 s */
	unsigned int max_conns_per_host;	/*!< default 8 */
};

/*! Result of a request: \a status is the HTTP status (>= 100), or a negative errno when no HTTP
 *  answer came (-ETIMEDOUT, -ECONNREFUSED, -EPROTO for TLS failures, -EIO otherwise). The body
 *  is only valid during the call. */
typedef void (*http_client_cb)(int status, const char *content_type, const uint8_t *body, size_t len,
			       void *data);

enum http_client_flags {
	/*! Retry on no answer or 5xx, up to max_retries times, with backoff (for notifications). */
	HTTP_CLIENT_RETRY = 1 << 0,
};

struct http_client_req_opts {
	unsigned int flags;
	unsigned int max_retries;	/*!< with HTTP_CLIENT_RETRY; default 5 */
	unsigned long backoff_ms;	/*!< first retry delay, doubled each time; default 1000 */
	unsigned long timeout_ms;	/*!< 0: the client's default */
};

struct http_client *http_client_alloc(void *ctx, const struct http_client_cfg *cfg);
void http_client_free(struct http_client *hc);

/*! POST \a body to \a url. \a headers: NULL or \a num_headers extra headers. \a opts may be NULL.
 *  \a cb is called exactly once (also when the client is freed first: with -ECANCELED).
 *  \returns 0 or -errno (then cb is not called). */
int http_client_post(struct http_client *hc, const char *url, const char *content_type,
		     const struct http_header *headers, unsigned int num_headers,
		     const uint8_t *body, size_t len, const struct http_client_req_opts *opts,
		     http_client_cb cb, void *data);

/*! Number of requests in flight (including those waiting for a retry). */
unsigned int http_client_pending(const struct http_client *hc);
