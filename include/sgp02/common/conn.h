/*! \file conn.h
 * Byte-stream connections on the libosmocore event loop: plain TCP or TLS (certificates with
 * optional client-certificate verification, or TLS 1.2 PSK), non-blocking in both cases, so that
 * protocol code (HTTP, SMPP, SCP81) never sees OpenSSL or sockets.
 *
 * Ownership: a listener and its connections are talloc children of the context given; freeing a
 * conn closes it. Callbacks are never called after conn_close()/talloc_free() of that conn.
 * TLS follows SSL_get_error(): a read that needs a write (or the reverse) re-arms exactly the
 * event OpenSSL asks for.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct conn_listener;
struct tls_ctx;

/*! Why a connection ended, passed to conn_ops.closed. */
enum conn_close_reason {
	CONN_CLOSE_PEER,	/*!< orderly close by the peer (EOF / TLS close_notify) */
	CONN_CLOSE_LOCAL,	/*!< conn_close() finished flushing */
	CONN_CLOSE_ERROR,	/*!< socket error or reset */
	CONN_CLOSE_TLS,		/*!< TLS handshake or record failure (bad certificate, wrong PSK, ...) */
	CONN_CLOSE_TIMEOUT,	/*!< a conn_set_timeout() expired */
	CONN_CLOSE_OVERFLOW,	/*!< the write queue exceeded its bound */
};

const char *conn_close_reason_name(enum conn_close_reason r);

/*! Callbacks of a connection's owner. */
struct conn_ops {
	/*! TLS handshake done (or, for plain TCP, connected); peer identity is now known. May be NULL. */
	void (*established)(struct conn *c);
	/*! Application data arrived (decrypted). Return 0 to go on, or a negative value after
	 *  having called conn_close()/conn_abort() (then nothing more is delivered). */
	int (*data)(struct conn *c, const uint8_t *buf, size_t len);
	/*! The write queue has drained (for flow control). May be NULL. */
	void (*drained)(struct conn *c);
	/*! The connection is gone; the conn is freed right after this returns. */
	void (*closed)(struct conn *c, enum conn_close_reason reason);
};

/* ------------------------------------------------------------------ TLS contexts */

/*! Server TLS with a certificate. If \a ca_file is set, clients must present a certificate that
 *  verifies against it (mutual TLS); the verified subject becomes the peer identity.
 *  Minimum TLS 1.2. \returns NULL on error (logged: which file, what OpenSSL said). */
struct tls_ctx *tls_server_ctx_new(void *ctx, const char *cert_file, const char *key_file, const char *ca_file);

/*! Client TLS: verify the server against \a ca_file (NULL: no verification, tests only), and
 *  present \a cert_file/\a key_file if given. \returns NULL on error. */
struct tls_ctx *tls_client_ctx_new(void *ctx, const char *ca_file, const char *cert_file, const char *key_file);

/*! Look up the PSK for an identity. \returns key length (> 0), or -ENOENT for an unknown
 *  identity (the handshake then fails). Never log the key. */
typedef int (*tls_psk_lookup_cb)(const char *identity, uint8_t *key, size_t key_max, void *data);

/*! Server TLS 1.2 with PSK cipher suites only (GP Amendment B / SGP.02 SCP81:
 *  TLS_PSK_WITH_AES_128_GCM_SHA256, TLS_PSK_WITH_AES_128_CBC_SHA256), no session resumption
 *  (no tickets, no session cache). The PSK identity becomes the peer identity. */
struct tls_ctx *tls_psk_server_ctx_new(void *ctx, tls_psk_lookup_cb lookup, void *data);

/*! Client TLS 1.2 PSK (for the simulated eUICC): \a identity and \a key are copied. */
struct tls_ctx *tls_psk_client_ctx_new(void *ctx, const char *identity, const uint8_t *key, size_t key_len);

/* ------------------------------------------------------------------ listeners and connections */

/*! Called for every accepted connection; set its ops and data with conn_set_ops()/conn_set_data()
 *  before returning. Return non-zero to refuse it (it is closed at once). */
typedef int (*conn_accept_cb)(struct conn_listener *l, struct conn *c, void *data);

/*! Listen on \a addr:\a port (TCP; port 0 picks a free one, see conn_listener_port()).
 *  \a tls NULL for plain TCP. \returns NULL on error (logged). */
struct conn_listener *conn_listen(void *ctx, const char *addr, uint16_t port, struct tls_ctx *tls,
				  conn_accept_cb accept, void *data);
uint16_t conn_listener_port(const struct conn_listener *l);
/*! Number of connections of this listener that are open now. */
unsigned int conn_listener_count(const struct conn_listener *l);

/*! Connect to \a host:\a port (numeric address or name), TLS if \a tls != NULL; established()
 *  is called when ready, closed() on failure. \returns the conn or NULL on immediate error. */
struct conn *conn_connect(void *ctx, const char *host, uint16_t port, struct tls_ctx *tls,
			  const struct conn_ops *ops, void *data);

void conn_set_ops(struct conn *c, const struct conn_ops *ops);
void conn_set_data(struct conn *c, void *data);
void *conn_get_data(const struct conn *c);

/*! Queue bytes for sending. The queue is bounded (conn_set_write_limit(), default 1 MiB):
 *  beyond it the connection is closed with CONN_CLOSE_OVERFLOW and -ENOBUFS returned.
 *  \returns 0, -ENOBUFS, or -ENOTCONN after close. */
int conn_write(struct conn *c, const void *buf, size_t len);
void conn_set_write_limit(struct conn *c, size_t max_queued);
size_t conn_queued(const struct conn *c);

/*! Stop (false) or resume (true) reading, for back-pressure while a request is being handled. */
void conn_set_reading(struct conn *c, bool on);

/*! Close after the queued data is sent (TLS close_notify first). closed() is called with
 *  CONN_CLOSE_LOCAL. */
void conn_close(struct conn *c);
/*! Close at once, dropping queued data; closed() is called with \a reason. */
void conn_abort(struct conn *c, enum conn_close_reason reason);

/*! Close with CONN_CLOSE_TIMEOUT if no data arrives for \a ms (0: off). Re-armed on each arrival. */
void conn_set_timeout(struct conn *c, unsigned long ms);

/*! Peer identity: the verified client certificate's subject CN (mutual TLS), the PSK identity
 *  (PSK-TLS), or NULL (plain TCP / no client certificate). */
const char *conn_peer_identity(const struct conn *c);
/*! "a.b.c.d:port" of the peer, for logging. */
const char *conn_peer_name(const struct conn *c);
bool conn_is_tls(const struct conn *c);
