/*! \file conn_tls.h
 * Private glue between conn.c (sockets, event loop) and tls.c (OpenSSL contexts). Not installed,
 * not for use outside src/common: protocol code only sees conn.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <openssl/ssl.h>

#include <sgp02/common/conn.h>

/*! What a tls_ctx was made for; decides how the peer identity is found. */
enum tls_ctx_kind {
	TLS_KIND_CERT_SERVER,
	TLS_KIND_CERT_CLIENT,
	TLS_KIND_PSK_SERVER,
	TLS_KIND_PSK_CLIENT,
};

/*! Create the SSL object for one connection on socket \a fd. \a host (clients only, may be NULL)
 *  is the name or address the server certificate must match when the context verifies servers.
 *  \returns the SSL or NULL (logged). */
SSL *tls_conn_ssl_new(struct tls_ctx *t, int fd, const char *host);

/*! True if \a t makes server-side connections. */
bool tls_ctx_is_server(const struct tls_ctx *t);

/*! After a completed handshake: the peer identity as a talloc string on \a ctx (client certificate
 *  subject CN, PSK identity, or the verified server CN on the client side), or NULL if there is
 *  none. \returns 0, or -EACCES if the context demanded a verified peer and there is none (or the
 *  tls_ctx is gone). */
int tls_conn_peer_identity(SSL *ssl, void *ctx, char **identity);

/*! Format and drain the OpenSSL error queue into \a buf (for one log line). \returns buf. */
const char *tls_err_str(char *buf, size_t len);

/*! Describe why a handshake on \a ssl failed, certificate verification included, into \a buf. */
const char *tls_handshake_err_str(SSL *ssl, char *buf, size_t len);
