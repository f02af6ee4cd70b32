/* Byte-stream connections on the libosmocore event loop: plain TCP and TLS (see conn.h).
 *
 * One struct conn per socket. Plain and TLS differ only in four places (read, write, handshake,
 * shutdown), each a small branch on c->ssl. TLS is non-blocking: every SSL_* call that cannot
 * finish says through SSL_get_error() whether it waits for the socket to become readable or
 * writable, and we arm exactly that (a read may wait for writability and a write for
 * readability; read_wants_write / write_wants_read remember those crossings).
 *
 * Reentrancy: user callbacks may call conn_close(), conn_abort() or talloc_free() on their conn
 * (or free its listener). While a callback of a conn runs, c->cb_depth > 0; ending the conn then
 * only releases the socket and marks it, and the outermost callback return finishes the job
 * (closed() and the free), so no code of ours touches freed memory and no callback follows
 * talloc_free().
 *
 * When closed() comes:
 *  - conn_abort() and an overflowing conn_write(): at once when called from outside the conn's
 *    own callbacks (the conn is gone when they return), else right after that callback returns;
 *  - conn_close(): never inside the call; the loop flushes, sends close_notify, then reports
 *    CONN_CLOSE_LOCAL;
 *  - talloc_free(conn): never.
 *
 * Timers (conn_tdefs): conn_set_timeout() counts progress in either direction (data received,
 * or queued data accepted by the socket), so a slow but live reader of a long answer is not
 * "idle". Without an owner's timeout, set-up (connect + handshake) and the flush of
 * conn_close() still have bounds. After our FIN the socket lingers, read and discarded, so that
 * input we never read cannot turn the close into a reset that destroys our last answer.
 */
#define _GNU_SOURCE	/* accept4() */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <talloc.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <osmocom/core/linuxlist.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/utils.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/conn.h>
#include "conn_tls.h"

/* Timers of this module (osmo_tdef so that a daemon can expose them on the VTY later). */
static struct osmo_tdef conn_tdefs[] = {
	{ .T = -1, .default_val = 2000, .val = 2000, .unit = OSMO_TDEF_MS,
	  .desc = "Lingering close: after our FIN/close_notify, read and discard what the peer still sends for "
		  "at most this long, so that unread input does not turn our close into a reset that destroys "
		  "the last answer in flight" },
	{ .T = -2, .default_val = 30000, .val = 30000, .unit = OSMO_TDEF_MS,
	  .desc = "conn_close() without a conn_set_timeout(): give up flushing the queue after this long "
		  "without progress" },
	{ .T = -3, .default_val = 100, .val = 100, .unit = OSMO_TDEF_MS,
	  .desc = "Listener: pause accepting for this long when out of file descriptors or memory" },
	{ .T = -4, .default_val = 30000, .val = 30000, .unit = OSMO_TDEF_MS,
	  .desc = "Connection set-up (TCP connect and TLS handshake) must finish within this long, unless the "
		  "owner set its own conn_set_timeout()" },
	{}
};

#define CONN_T_LINGER	-1
#define CONN_T_FLUSH	-2
#define CONN_T_ACCEPT_PAUSE	-3
#define CONN_T_SETUP	-4

/* Per-listener counters ("conn_listener" group, named after the listening address). */
enum conn_listener_ctr {
	CONN_LCTR_ACCEPTED,
	CONN_LCTR_REFUSED,
	CONN_LCTR_TLS_FAILURES,
	CONN_LCTR_TIMEOUTS,
	CONN_LCTR_OVERFLOWS,
	CONN_LCTR_ERRORS,
};

static const struct rate_ctr_desc conn_listener_ctr_desc[] = {
	[CONN_LCTR_ACCEPTED] = { "conn:accepted", "Connections accepted" },
	[CONN_LCTR_REFUSED] = { "conn:refused", "Connections refused by their owner" },
	[CONN_LCTR_TLS_FAILURES] = { "conn:tls_failures", "TLS handshakes or records that failed" },
	[CONN_LCTR_TIMEOUTS] = { "conn:timeouts", "Connections closed by a timeout" },
	[CONN_LCTR_OVERFLOWS] = { "conn:overflows", "Connections closed because their write queue overflowed" },
	[CONN_LCTR_ERRORS] = { "conn:errors", "Connections ended by a socket error" },
};

static const struct rate_ctr_group_desc conn_listener_ctrg_desc = {
	.group_name_prefix = "conn_listener",
	.group_description = "Listening socket (plain TCP or TLS)",
	.class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_ctr = ARRAY_SIZE(conn_listener_ctr_desc),
	.ctr_desc = conn_listener_ctr_desc,
};

static unsigned int g_conn_listener_idx;

/* One read delivers at most one TLS record's worth of plaintext (RFC 5246 §6.2.1: 2^14). */
#define CONN_READ_BUF		16384
/* Per event, at most this many reads/accepts: one busy peer must not starve the others. */
#define CONN_MAX_READS_PER_EVENT	32
#define CONN_MAX_ACCEPTS_PER_EVENT	64
#define CONN_DEFAULT_WRITE_LIMIT	(1024 * 1024)
#define CONN_CHUNK_MIN		4096
#define CONN_CHUNK_MAX		65536

enum conn_state {
	CONN_ST_CONNECTING,	/*!< outgoing TCP connect in progress */
	CONN_ST_HANDSHAKE,	/*!< TLS handshake */
	CONN_ST_OPEN,		/*!< data flows (with c->closing: only outwards, then shutdown) */
	CONN_ST_SHUTDOWN,	/*!< queue flushed, sending TLS close_notify */
	CONN_ST_DEAD,		/*!< socket released; closed() delivered or pending */
};

struct conn_wchunk {
	struct llist_head list;
	size_t cap;
	size_t len;		/*!< bytes filled */
	size_t off;		/*!< bytes sent */
	uint8_t data[];
};

struct conn {
	struct osmo_fd ofd;
	enum conn_state state;
	struct conn_listener *listener;	/*!< NULL for outgoing conns (or after the listener went) */
	struct llist_head entry;	/*!< in listener->conns */
	struct tls_ctx *tls;		/*!< only compared with NULL: the SSL keeps what it needs */
	SSL *ssl;

	const struct conn_ops *ops;
	void *data;

	struct llist_head wq;		/*!< struct conn_wchunk, oldest first */
	size_t queued;
	size_t write_limit;
	bool had_queue;			/*!< for drained(): data was queued since the last drain */

	bool reading;			/*!< the owner wants data (conn_set_reading()) */
	bool closing;			/*!< conn_close(): flush, then shut down */
	bool read_wants_write;		/*!< last SSL_read said WANT_WRITE */
	bool write_wants_read;		/*!< last SSL_write said WANT_READ */
	bool hs_wants_write;		/*!< handshake/shutdown said WANT_WRITE */
	int connect_err;		/*!< connect() failed at once: reported from the kick timer */

	unsigned long timeout_ms;
	struct osmo_timer_list idle_timer;
	struct osmo_timer_list kick_timer;	/*!< run I/O from the loop (buffered TLS data, resume) */

	unsigned int cb_depth;		/*!< > 0 while one of our callbacks runs */
	bool free_pending;		/*!< talloc_free() during a callback */
	bool closed_pending;		/*!< ended during a callback: deliver closed() on return */
	enum conn_close_reason close_reason;

	char *peer_identity;
	char peer_name[INET6_ADDRSTRLEN + 10];
};

struct conn_listener {
	struct osmo_fd ofd;
	struct tls_ctx *tls;
	conn_accept_cb accept;
	void *data;
	uint16_t port;
	unsigned int count;
	struct llist_head conns;
	struct osmo_timer_list pause_timer;
	struct rate_ctr_group *ctrs;
	unsigned int cb_depth;
	bool free_pending;
};

/* After a close: the socket half-closed by us, draining the peer until its FIN or a timeout. */
struct conn_linger {
	struct osmo_fd ofd;
	struct osmo_timer_list timer;
};

static const struct value_string conn_close_reason_names[] = {
	{ CONN_CLOSE_PEER, "peer closed" },
	{ CONN_CLOSE_LOCAL, "closed locally" },
	{ CONN_CLOSE_ERROR, "socket error" },
	{ CONN_CLOSE_TLS, "TLS failure" },
	{ CONN_CLOSE_TIMEOUT, "timeout" },
	{ CONN_CLOSE_OVERFLOW, "write queue overflow" },
	{}
};

const char *conn_close_reason_name(enum conn_close_reason r)
{
	return get_value_string(conn_close_reason_names, r);
}

#define LOGCONN(c, level, fmt, args...) \
	LOGP(DHTTP, level, "%s%s: " fmt, (c)->tls ? "tls " : "", (c)->peer_name, ## args)

static bool conn_io(struct conn *c);
static void conn_update_when(struct conn *c);

/* ------------------------------------------------------------------ life cycle */

static void conn_free_queue(struct conn *c)
{
	struct conn_wchunk *w, *tmp;

	llist_for_each_entry_safe(w, tmp, &c->wq, list) {
		llist_del(&w->list);
		talloc_free(w);
	}
	c->queued = 0;
}

/* Let go of everything that can produce events: after this no callback can fire. */
static void conn_release(struct conn *c)
{
	osmo_timer_del(&c->idle_timer);
	osmo_timer_del(&c->kick_timer);
	if (c->ofd.fd >= 0) {
		if (osmo_fd_is_registered(&c->ofd))
			osmo_fd_unregister(&c->ofd);
		close(c->ofd.fd);
		c->ofd.fd = -1;
	}
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	conn_free_queue(c);
	if (c->listener) {
		llist_del(&c->entry);
		c->listener->count--;
		c->listener = NULL;
	}
}

static int conn_destructor(struct conn *c)
{
	conn_release(c);
	c->state = CONN_ST_DEAD;
	if (c->cb_depth > 0) {
		/* freed from inside one of its own callbacks: keep the memory until it returns */
		c->free_pending = true;
		return -1;
	}
	return 0;
}

static void conn_listener_ctr_inc(struct conn_listener *l, enum conn_close_reason reason)
{
	int idx;

	switch (reason) {
	case CONN_CLOSE_TLS:
		idx = CONN_LCTR_TLS_FAILURES;
		break;
	case CONN_CLOSE_TIMEOUT:
		idx = CONN_LCTR_TIMEOUTS;
		break;
	case CONN_CLOSE_OVERFLOW:
		idx = CONN_LCTR_OVERFLOWS;
		break;
	case CONN_CLOSE_ERROR:
		idx = CONN_LCTR_ERRORS;
		break;
	default:
		return;
	}
	if (l->ctrs)
		rate_ctr_inc2(l->ctrs, idx);
}

static void conn_deliver_closed(struct conn *c)
{
	c->cb_depth++;
	if (c->ops && c->ops->closed)
		c->ops->closed(c, c->close_reason);
	c->cb_depth--;
	talloc_free(c);
}

/* End the connection: release it now, tell the owner (now, or when its callback returns), free it. */
static void conn_finish(struct conn *c, enum conn_close_reason reason)
{
	if (c->state == CONN_ST_DEAD)
		return;
	LOGCONN(c, reason == CONN_CLOSE_LOCAL || reason == CONN_CLOSE_PEER ? LOGL_DEBUG : LOGL_INFO,
		"connection ended: %s\n", conn_close_reason_name(reason));
	if (c->listener)
		conn_listener_ctr_inc(c->listener, reason);
	conn_release(c);
	c->state = CONN_ST_DEAD;
	c->close_reason = reason;
	if (c->cb_depth > 0) {
		c->closed_pending = true;
		return;
	}
	conn_deliver_closed(c);
}

static void conn_cb_enter(struct conn *c)
{
	c->cb_depth++;
}

/* Leave a callback. \returns true if the conn is still alive and may be used. */
static bool conn_cb_leave(struct conn *c)
{
	if (--c->cb_depth > 0)
		return c->state != CONN_ST_DEAD;
	if (c->free_pending) {
		talloc_free(c);
		return false;
	}
	if (c->closed_pending) {
		c->closed_pending = false;
		conn_deliver_closed(c);
		return false;
	}
	return c->state != CONN_ST_DEAD;
}

/* ------------------------------------------------------------------ lingering close */

static int conn_linger_destructor(struct conn_linger *lg)
{
	osmo_timer_del(&lg->timer);
	if (lg->ofd.fd >= 0) {
		osmo_fd_unregister(&lg->ofd);
		close(lg->ofd.fd);
		lg->ofd.fd = -1;
	}
	return 0;
}

static void conn_linger_timeout(void *data)
{
	talloc_free(data);
}

static int conn_linger_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct conn_linger *lg = ofd->data;
	uint8_t buf[4096];
	int i;

	for (i = 0; i < CONN_MAX_READS_PER_EVENT; i++) {
		ssize_t n = recv(ofd->fd, buf, sizeof(buf), 0);

		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		/* EOF or error: the peer is done too */
		talloc_free(lg);
		return 0;
	}
	return 0;
}

/* Hand the socket of \a c over to a lingering reader that closes it when the peer has finished. */
static void conn_linger_start(struct conn *c)
{
	void *parent = c->listener ? (void *)c->listener : talloc_parent(c);
	struct conn_linger *lg;
	int fd = c->ofd.fd;
	unsigned long ms;

	if (fd < 0)
		return;
	shutdown(fd, SHUT_WR);
	lg = parent ? talloc_zero(parent, struct conn_linger) : NULL;
	if (!lg)
		return;		/* conn_release() closes it right away instead */
	osmo_fd_unregister(&c->ofd);
	c->ofd.fd = -1;
	osmo_fd_setup(&lg->ofd, fd, OSMO_FD_READ, conn_linger_cb, lg, 0);
	if (osmo_fd_register(&lg->ofd) < 0) {
		close(fd);
		lg->ofd.fd = -1;
		talloc_free(lg);
		return;
	}
	osmo_timer_setup(&lg->timer, conn_linger_timeout, lg);
	talloc_set_destructor(lg, conn_linger_destructor);
	ms = osmo_tdef_get(conn_tdefs, CONN_T_LINGER, OSMO_TDEF_MS, -1);
	osmo_timer_schedule(&lg->timer, ms / 1000, (ms % 1000) * 1000);
}

/* ------------------------------------------------------------------ timers */

static void conn_arm_idle(struct conn *c)
{
	unsigned long ms = c->timeout_ms;

	if (!ms && c->closing)
		ms = osmo_tdef_get(conn_tdefs, CONN_T_FLUSH, OSMO_TDEF_MS, -1);
	else if (!ms && (c->state == CONN_ST_CONNECTING || c->state == CONN_ST_HANDSHAKE))
		ms = osmo_tdef_get(conn_tdefs, CONN_T_SETUP, OSMO_TDEF_MS, -1);
	if (!ms) {
		osmo_timer_del(&c->idle_timer);
		return;
	}
	osmo_timer_schedule(&c->idle_timer, ms / 1000, (ms % 1000) * 1000);
}

static void conn_idle_timeout(void *data)
{
	struct conn *c = data;

	LOGCONN(c, LOGL_INFO, "timeout (%s)\n", c->state == CONN_ST_OPEN ? "no progress" : "set-up not finished");
	conn_finish(c, CONN_CLOSE_TIMEOUT);
}

static void conn_kick(struct conn *c)
{
	osmo_timer_schedule(&c->kick_timer, 0, 0);
}

/* ------------------------------------------------------------------ I/O */

/* Classify a failed SSL_* call (return value \a rc). \returns true if it only has to wait for the
 * socket (then *wants_write says for which direction), false if the connection is over (then
 * *reason says why; real failures are logged). */
static bool conn_ssl_wait(struct conn *c, int rc, bool *wants_write, enum conn_close_reason *reason,
			  const char *what)
{
	int err = SSL_get_error(c->ssl, rc);
	int sys_errno = errno;
	bool open = c->state == CONN_ST_OPEN;
	unsigned long e;
	char buf[512];

	switch (err) {
	case SSL_ERROR_WANT_READ:
		*wants_write = false;
		return true;
	case SSL_ERROR_WANT_WRITE:
		*wants_write = true;
		return true;
	case SSL_ERROR_ZERO_RETURN:
		/* close_notify from the peer */
		*reason = CONN_CLOSE_PEER;
		return false;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0) {
			if (rc == 0 || sys_errno == 0) {
				LOGCONN(c, LOGL_DEBUG, "%s: peer closed without close_notify\n", what);
				*reason = open ? CONN_CLOSE_PEER : CONN_CLOSE_TLS;
			} else {
				LOGCONN(c, LOGL_INFO, "%s: %s\n", what, strerror(sys_errno));
				*reason = open ? CONN_CLOSE_ERROR : CONN_CLOSE_TLS;
			}
			return false;
		}
		/* OpenSSL queued the reason */
		/* fall through */
	case SSL_ERROR_SSL:
	default:
		e = ERR_peek_error();
		/* OpenSSL 3 reports a bare EOF as an error; after the handshake the application
		 * protocol (HTTP lengths) detects truncation, so this is the peer closing */
		if (open && ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			LOGCONN(c, LOGL_DEBUG, "%s: peer closed without close_notify\n", what);
			*reason = CONN_CLOSE_PEER;
			return false;
		}
		if (c->state == CONN_ST_HANDSHAKE)
			LOGCONN(c, LOGL_NOTICE, "TLS handshake failed: %s\n",
				tls_handshake_err_str(c->ssl, buf, sizeof(buf)));
		else
			LOGCONN(c, LOGL_NOTICE, "TLS %s failed: %s\n", what, tls_err_str(buf, sizeof(buf)));
		*reason = CONN_CLOSE_TLS;
		return false;
	}
}

/* Write as much of the queue as the socket takes. \returns false if the conn ended. */
static bool conn_flush(struct conn *c)
{
	bool progress = false;

	while (!llist_empty(&c->wq)) {
		struct conn_wchunk *w = llist_first_entry(&c->wq, struct conn_wchunk, list);
		size_t len = w->len - w->off;
		ssize_t n;

		if (c->ssl) {
			int rc;

			ERR_clear_error();
			errno = 0;
			rc = SSL_write(c->ssl, w->data + w->off, len > INT_MAX ? INT_MAX : (int)len);
			if (rc <= 0) {
				enum conn_close_reason reason;
				bool ww;

				if (!conn_ssl_wait(c, rc, &ww, &reason, "write")) {
					conn_finish(c, reason);
					return false;
				}
				c->write_wants_read = !ww;
				break;
			}
			n = rc;
		} else {
			n = send(c->ofd.fd, w->data + w->off, len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				LOGCONN(c, LOGL_INFO, "send: %s\n", strerror(errno));
				conn_finish(c, CONN_CLOSE_ERROR);
				return false;
			}
		}
		c->write_wants_read = false;
		progress = true;
		w->off += n;
		c->queued -= n;
		if (w->off == w->len) {
			llist_del(&w->list);
			talloc_free(w);
		}
	}
	/* sending counts as activity: a slow but live reader is not idle */
	if (progress && (c->timeout_ms || c->closing))
		conn_arm_idle(c);
	return true;
}

/* Read and deliver. \returns false if the conn ended. */
static bool conn_read(struct conn *c)
{
	uint8_t buf[CONN_READ_BUF];
	int i;

	for (i = 0; i < CONN_MAX_READS_PER_EVENT; i++) {
		ssize_t n;
		int rc;

		if (!c->reading || c->closing)
			return true;
		if (c->ssl) {
			ERR_clear_error();
			errno = 0;
			rc = SSL_read(c->ssl, buf, sizeof(buf));
			if (rc <= 0) {
				enum conn_close_reason reason;
				bool ww;

				if (!conn_ssl_wait(c, rc, &ww, &reason, "read")) {
					conn_finish(c, reason);
					return false;
				}
				c->read_wants_write = ww;
				return true;
			}
			c->read_wants_write = false;
			n = rc;
		} else {
			n = recv(c->ofd.fd, buf, sizeof(buf), 0);
			if (n == 0) {
				conn_finish(c, CONN_CLOSE_PEER);
				return false;
			}
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return true;
				LOGCONN(c, LOGL_INFO, "recv: %s\n", strerror(errno));
				conn_finish(c, CONN_CLOSE_ERROR);
				return false;
			}
		}
		if (c->timeout_ms)
			conn_arm_idle(c);
		if (!c->ops || !c->ops->data) {
			LOGCONN(c, LOGL_ERROR, "data but no owner (conn_set_ops() missing)\n");
			conn_finish(c, CONN_CLOSE_ERROR);
			return false;
		}
		conn_cb_enter(c);
		rc = c->ops->data(c, buf, n);
		if (!conn_cb_leave(c))
			return false;
		if (rc < 0 && !c->closing) {
			LOGCONN(c, LOGL_ERROR, "data handler failed without closing; aborting\n");
			conn_finish(c, CONN_CLOSE_ERROR);
			return false;
		}
	}
	/* budget used up: TLS may hold decrypted bytes the socket no longer signals */
	if (c->ssl && SSL_has_pending(c->ssl))
		conn_kick(c);
	return true;
}

static bool conn_start_shutdown(struct conn *c)
{
	c->state = CONN_ST_SHUTDOWN;
	c->hs_wants_write = false;
	if (c->ssl) {
		int rc;

		ERR_clear_error();
		errno = 0;
		/* RFC 5246 §7.2.1: send close_notify; 0 means sent, peer's not yet seen (we do not wait) */
		rc = SSL_shutdown(c->ssl);
		if (rc < 0) {
			int err = SSL_get_error(c->ssl, rc);

			if (err == SSL_ERROR_WANT_WRITE) {
				c->hs_wants_write = true;
				return true;
			}
			ERR_clear_error();
			/* the data went out; only the close_notify could not: close anyway */
		}
	}
	conn_linger_start(c);
	conn_finish(c, CONN_CLOSE_LOCAL);
	return false;
}

static bool conn_handshake(struct conn *c)
{
	char *identity = NULL;
	int rc;

	ERR_clear_error();
	errno = 0;
	rc = SSL_do_handshake(c->ssl);
	if (rc != 1) {
		enum conn_close_reason reason;
		bool ww;

		if (!conn_ssl_wait(c, rc, &ww, &reason, "handshake")) {
			/* Anything that ends a handshake is a TLS failure (refused certificate, PSK, EOF).
			 * OpenSSL has queued an alert saying why; close gently so that a reset caused by
			 * records we never read cannot overtake it at the peer. */
			conn_linger_start(c);
			conn_finish(c, CONN_CLOSE_TLS);
			return false;
		}
		c->hs_wants_write = ww;
		return true;
	}
	c->hs_wants_write = false;
	if (tls_conn_peer_identity(c->ssl, c, &identity) < 0) {
		LOGCONN(c, LOGL_NOTICE, "TLS handshake without a verified peer\n");
		conn_finish(c, CONN_CLOSE_TLS);
		return false;
	}
	c->peer_identity = identity;
	c->state = CONN_ST_OPEN;
	conn_arm_idle(c);	/* the set-up timeout ends here */
	LOGCONN(c, LOGL_INFO, "TLS established: %s %s, peer '%s'\n", SSL_get_version(c->ssl),
		SSL_get_cipher_name(c->ssl), identity ? identity : "-");
	if (!c->closing && c->ops && c->ops->established) {
		conn_cb_enter(c);
		c->ops->established(c);
		if (!conn_cb_leave(c))
			return false;
	}
	return conn_io(c);
}

/* Tell the owner once the write queue has emptied. \returns false if the conn ended. */
static bool conn_report_drained(struct conn *c)
{
	if (llist_empty(&c->wq) && c->had_queue) {
		c->had_queue = false;
		if (!c->closing && c->ops && c->ops->drained) {
			conn_cb_enter(c);
			c->ops->drained(c);
			if (!conn_cb_leave(c))
				return false;
		}
	}
	return true;
}

/* Data phase: flush, maybe shut down, read. \returns false if the conn ended. */
static bool conn_io(struct conn *c)
{
	if (c->state != CONN_ST_OPEN)
		return c->state != CONN_ST_DEAD;
	if (!llist_empty(&c->wq) && !conn_flush(c))
		return false;
	if (!conn_report_drained(c))
		return false;
	if (c->closing) {
		if (llist_empty(&c->wq))
			return conn_start_shutdown(c);
		return true;
	}
	if (!conn_read(c))
		return false;
	/* answers queued by the data callback go out now rather than one loop turn later; if that empties
	 * the queue, drained() is due now too (no write event will come to report it) */
	if (!llist_empty(&c->wq) && !c->closing) {
		if (!conn_flush(c))
			return false;
		return conn_report_drained(c);
	}
	return true;
}

static void conn_set_peer_name(struct conn *c, const struct sockaddr *sa)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		snprintf(c->peer_name, sizeof(c->peer_name), "%s:%u", addr, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		snprintf(c->peer_name, sizeof(c->peer_name), "[%s]:%u", addr, ntohs(sin6->sin6_port));
	} else {
		snprintf(c->peer_name, sizeof(c->peer_name), "?");
	}
}

/* The connect() finished (writable socket). \returns false if the conn ended. */
static bool conn_connected(struct conn *c)
{
	int err = c->connect_err;
	socklen_t len = sizeof(err);

	if (!err && getsockopt(c->ofd.fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		LOGCONN(c, LOGL_INFO, "connect: %s\n", strerror(err));
		conn_finish(c, CONN_CLOSE_ERROR);
		return false;
	}
	if (c->ssl) {
		c->state = CONN_ST_HANDSHAKE;
		return conn_handshake(c);
	}
	c->state = CONN_ST_OPEN;
	conn_arm_idle(c);
	LOGCONN(c, LOGL_DEBUG, "connected\n");
	if (!c->closing && c->ops && c->ops->established) {
		conn_cb_enter(c);
		c->ops->established(c);
		if (!conn_cb_leave(c))
			return false;
	}
	return conn_io(c);
}

static bool conn_step(struct conn *c)
{
	switch (c->state) {
	case CONN_ST_CONNECTING:
		return conn_connected(c);
	case CONN_ST_HANDSHAKE:
		return conn_handshake(c);
	case CONN_ST_OPEN:
		return conn_io(c);
	case CONN_ST_SHUTDOWN:
		return conn_start_shutdown(c);
	case CONN_ST_DEAD:
		break;
	}
	return false;
}

static int conn_fd_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct conn *c = ofd->data;


	if (c->state == CONN_ST_CONNECTING && !(what & OSMO_FD_WRITE) && !c->connect_err)
		return 0;
	if (conn_step(c))
		conn_update_when(c);
	return 0;
}

static void conn_kick_cb(void *data)
{
	struct conn *c = data;

	if (conn_step(c))
		conn_update_when(c);
}

/* Watch exactly the events the current state waits for. */
static void conn_update_when(struct conn *c)
{
	unsigned int when = 0;

	switch (c->state) {
	case CONN_ST_CONNECTING:
		when = OSMO_FD_WRITE;
		break;
	case CONN_ST_HANDSHAKE:
	case CONN_ST_SHUTDOWN:
		when = c->hs_wants_write ? OSMO_FD_WRITE : OSMO_FD_READ;
		break;
	case CONN_ST_OPEN:
		if (!llist_empty(&c->wq) || c->closing)
			when |= c->write_wants_read ? OSMO_FD_READ : OSMO_FD_WRITE;
		if (c->reading && !c->closing)
			when |= c->read_wants_write ? OSMO_FD_WRITE : OSMO_FD_READ;
		break;
	case CONN_ST_DEAD:
		return;
	}
	osmo_fd_update_when(&c->ofd, 0, when);
}

static struct conn *conn_alloc(void *ctx, int fd)
{
	struct conn *c = talloc_zero(ctx, struct conn);

	if (!c)
		return NULL;
	INIT_LLIST_HEAD(&c->wq);
	INIT_LLIST_HEAD(&c->entry);
	c->write_limit = CONN_DEFAULT_WRITE_LIMIT;
	c->reading = true;
	osmo_timer_setup(&c->idle_timer, conn_idle_timeout, c);
	osmo_timer_setup(&c->kick_timer, conn_kick_cb, c);
	osmo_fd_setup(&c->ofd, fd, 0, conn_fd_cb, c, 0);
	talloc_set_destructor(c, conn_destructor);
	return c;
}

/* ------------------------------------------------------------------ listener */

static int conn_listener_destructor(struct conn_listener *l)
{
	struct conn *c, *tmp;

	if (l->cb_depth > 0) {
		l->free_pending = true;
		return -1;
	}
	osmo_timer_del(&l->pause_timer);
	if (l->ctrs) {
		rate_ctr_group_free(l->ctrs);
		l->ctrs = NULL;
	}
	if (l->ofd.fd >= 0) {
		osmo_fd_unregister(&l->ofd);
		close(l->ofd.fd);
		l->ofd.fd = -1;
	}
	/* the conns are our talloc children and go with us; forget them first so that none
	 * looks back at this listener while it is being torn down */
	llist_for_each_entry_safe(c, tmp, &l->conns, entry) {
		llist_del(&c->entry);
		INIT_LLIST_HEAD(&c->entry);
		c->listener = NULL;
		l->count--;
	}
	return 0;
}

static void conn_listener_resume(void *data)
{
	struct conn_listener *l = data;

	osmo_fd_read_enable(&l->ofd);
}

/* Set up one accepted socket. \returns false if the listener itself was freed meanwhile. */
static bool conn_accept_one(struct conn_listener *l, int fd, const struct sockaddr *sa)
{
	struct conn *c = conn_alloc(l, fd);
	int one = 1;
	int rc;

	if (!c) {
		close(fd);
		return true;
	}
	conn_set_peer_name(c, sa);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (l->tls) {
		c->tls = l->tls;
		c->ssl = tls_conn_ssl_new(l->tls, fd, NULL);
		if (!c->ssl) {
			talloc_free(c);	/* closes fd */
			return true;
		}
		c->state = CONN_ST_HANDSHAKE;
	} else {
		c->state = CONN_ST_OPEN;
	}
	c->listener = l;
	llist_add_tail(&c->entry, &l->conns);
	l->count++;
	if (osmo_fd_register(&c->ofd) < 0) {
		LOGCONN(c, LOGL_ERROR, "cannot register socket\n");
		talloc_free(c);
		return true;
	}
	LOGCONN(c, LOGL_DEBUG, "accepted (%u open on port %u)\n", l->count, l->port);
	if (l->ctrs)
		rate_ctr_inc2(l->ctrs, CONN_LCTR_ACCEPTED);

	l->cb_depth++;
	conn_cb_enter(c);
	rc = l->accept(l, c, l->data);
	if (conn_cb_leave(c)) {
		if (rc != 0 || !c->ops) {
			LOGCONN(c, LOGL_INFO, "refused by its owner\n");
			if (l->ctrs)
				rate_ctr_inc2(l->ctrs, CONN_LCTR_REFUSED);
			talloc_free(c);
		} else if (c->state == CONN_ST_OPEN && !c->closing && c->ops->established) {
			conn_cb_enter(c);
			c->ops->established(c);
			if (conn_cb_leave(c))
				conn_update_when(c);
		} else {
			if (c->state == CONN_ST_HANDSHAKE && !c->timeout_ms)
				conn_arm_idle(c);
			conn_update_when(c);
		}
	}
	l->cb_depth--;
	if (l->free_pending) {
		talloc_free(l);
		return false;
	}
	return true;
}

static int conn_listener_cb(struct osmo_fd *ofd, unsigned int what)
{
	struct conn_listener *l = ofd->data;
	int i;

	for (i = 0; i < CONN_MAX_ACCEPTS_PER_EVENT; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(ofd->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			unsigned long ms;

			switch (errno) {
			case EAGAIN:
#if EAGAIN != EWOULDBLOCK
			case EWOULDBLOCK:
#endif
				return 0;
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
				continue;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				/* the pending connection stays readable: back off instead of spinning */
				ms = osmo_tdef_get(conn_tdefs, CONN_T_ACCEPT_PAUSE, OSMO_TDEF_MS, -1);
				LOGP(DHTTP, LOGL_ERROR, "listener port %u: accept: %s; pausing %lu ms\n", l->port,
				     strerror(errno), ms);
				osmo_fd_read_disable(&l->ofd);
				osmo_timer_schedule(&l->pause_timer, ms / 1000, (ms % 1000) * 1000);
				return 0;
			default:
				LOGP(DHTTP, LOGL_ERROR, "listener port %u: accept: %s\n", l->port, strerror(errno));
				return 0;
			}
		}
		if (!conn_accept_one(l, fd, (struct sockaddr *)&ss))
			return 0;
	}
	return 0;
}

struct conn_listener *conn_listen(void *ctx, const char *addr, uint16_t port, struct tls_ctx *tls,
				  conn_accept_cb accept, void *data)
{
	struct sockaddr_storage ss = {};
	socklen_t sl;
	struct conn_listener *l;
	int one = 1;
	int fd;

	if (!accept || !addr)
		return NULL;
	if (tls && !tls_ctx_is_server(tls)) {
		LOGP(DHTTP, LOGL_ERROR, "listen %s:%u: TLS context is a client context\n", addr, port);
		return NULL;
	}
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		LOGP(DHTTP, LOGL_ERROR, "listen: '%s' is not a numeric address\n", addr);
		return NULL;
	}

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		LOGP(DHTTP, LOGL_ERROR, "listen %s:%u: socket: %s\n", addr, port, strerror(errno));
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, SOMAXCONN) < 0) {
		LOGP(DHTTP, LOGL_ERROR, "listen %s:%u: %s\n", addr, port, strerror(errno));
		close(fd);
		return NULL;
	}
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		LOGP(DHTTP, LOGL_ERROR, "listen %s:%u: getsockname: %s\n", addr, port, strerror(errno));
		close(fd);
		return NULL;
	}

	l = talloc_zero(ctx, struct conn_listener);
	if (!l) {
		close(fd);
		return NULL;
	}
	l->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port :
			((struct sockaddr_in6 *)&ss)->sin6_port);
	l->tls = tls;
	l->accept = accept;
	l->data = data;
	INIT_LLIST_HEAD(&l->conns);
	osmo_timer_setup(&l->pause_timer, conn_listener_resume, l);
	osmo_fd_setup(&l->ofd, fd, OSMO_FD_READ, conn_listener_cb, l, 0);
	if (osmo_fd_register(&l->ofd) < 0) {
		close(fd);
		talloc_free(l);
		return NULL;
	}
	talloc_set_destructor(l, conn_listener_destructor);
	/* counters are a convenience: a listener works without them */
	l->ctrs = rate_ctr_group_alloc(l, &conn_listener_ctrg_desc, g_conn_listener_idx++);
	if (l->ctrs) {
		char name[INET6_ADDRSTRLEN + 10];

		snprintf(name, sizeof(name), "%s:%u", addr, l->port);
		rate_ctr_group_set_name(l->ctrs, name);
	}
	LOGP(DHTTP, LOGL_INFO, "listening on %s port %u (%s)\n", addr, l->port, tls ? "TLS" : "plain TCP");
	return l;
}

uint16_t conn_listener_port(const struct conn_listener *l)
{
	return l->port;
}

unsigned int conn_listener_count(const struct conn_listener *l)
{
	return l->count;
}

/* ------------------------------------------------------------------ outgoing */

struct conn *conn_connect(void *ctx, const char *host, uint16_t port, struct tls_ctx *tls,
			  const struct conn_ops *ops, void *data)
{
	struct sockaddr_storage ss = {};
	const char *addr = host;
	struct conn *c;
	socklen_t sl;
	int one = 1;
	int fd;

	if (!host || !ops)
		return NULL;
	if (tls && tls_ctx_is_server(tls)) {
		LOGP(DHTTP, LOGL_ERROR, "connect %s:%u: TLS context is a server context\n", host, port);
		return NULL;
	}
	/* Numeric addresses only (a resolver would block the loop); "localhost" is the one name
	 * everybody uses in configs and tests. */
	if (!strcmp(host, "localhost"))
		addr = "127.0.0.1";
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		LOGP(DHTTP, LOGL_ERROR, "connect: '%s' is not a numeric address\n", host);
		return NULL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		LOGP(DHTTP, LOGL_ERROR, "connect %s:%u: socket: %s\n", host, port, strerror(errno));
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = conn_alloc(ctx, fd);
	if (!c) {
		close(fd);
		return NULL;
	}
	conn_set_peer_name(c, (struct sockaddr *)&ss);
	c->ops = ops;
	c->data = data;
	c->state = CONN_ST_CONNECTING;
	if (tls) {
		c->tls = tls;
		c->ssl = tls_conn_ssl_new(tls, fd, host);
		if (!c->ssl) {
			talloc_free(c);
			return NULL;
		}
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		/* report like any other failed connect: through closed(), from the loop */
		c->connect_err = errno;
		conn_kick(c);
	}
	if (osmo_fd_register(&c->ofd) < 0) {
		talloc_free(c);
		return NULL;
	}
	conn_arm_idle(c);
	conn_update_when(c);
	return c;
}

/* ------------------------------------------------------------------ API */

void conn_set_ops(struct conn *c, const struct conn_ops *ops)
{
	c->ops = ops;
}

void conn_set_data(struct conn *c, void *data)
{
	c->data = data;
}

void *conn_get_data(const struct conn *c)
{
	return c->data;
}

int conn_write(struct conn *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	struct conn_wchunk *w;
	LLIST_HEAD(fresh);

	if (c->state == CONN_ST_DEAD || c->closing)
		return -ENOTCONN;
	if (len == 0)
		return 0;
	if (len > c->write_limit || c->queued > c->write_limit - len) {
		LOGCONN(c, LOGL_NOTICE, "write queue over its limit (%zu + %zu > %zu bytes)\n", c->queued, len,
			c->write_limit);
		conn_finish(c, CONN_CLOSE_OVERFLOW);
		return -ENOBUFS;
	}
	/* fill the tail chunk first; it may be the one being sent, which only ever grows */
	if (!llist_empty(&c->wq)) {
		size_t n;

		w = llist_last_entry(&c->wq, struct conn_wchunk, list);
		n = OSMO_MIN(w->cap - w->len, len);
		memcpy(w->data + w->len, p, n);
		w->len += n;
		p += n;
		len -= n;
		c->queued += n;
	}
	/* allocate all new chunks before queueing any, so that a failure leaves no half write */
	while (len > 0) {
		size_t cap = OSMO_MAX((size_t)CONN_CHUNK_MIN, OSMO_MIN(len, (size_t)CONN_CHUNK_MAX));
		size_t n = OSMO_MIN(cap, len);

		w = talloc_size(c, sizeof(*w) + cap);
		if (!w)
			break;
		talloc_set_name_const(w, "conn_wchunk");
		w->cap = cap;
		w->len = n;
		w->off = 0;
		memcpy(w->data, p, n);
		llist_add_tail(&w->list, &fresh);
		p += n;
		len -= n;
	}
	if (len > 0) {
		struct conn_wchunk *tmp;

		llist_for_each_entry_safe(w, tmp, &fresh, list)
			talloc_free(w);
		LOGCONN(c, LOGL_ERROR, "out of memory queueing data\n");
		conn_finish(c, CONN_CLOSE_ERROR);
		return -ENOMEM;
	}
	{
		struct conn_wchunk *tmp;

		llist_for_each_entry_safe(w, tmp, &fresh, list) {
			llist_del(&w->list);
			llist_add_tail(&w->list, &c->wq);
			c->queued += w->len;
		}
	}
	c->had_queue = true;
	conn_update_when(c);
	return 0;
}

void conn_set_write_limit(struct conn *c, size_t max_queued)
{
	c->write_limit = max_queued;
}

size_t conn_queued(const struct conn *c)
{
	return c->queued;
}

void conn_set_reading(struct conn *c, bool on)
{
	if (c->state == CONN_ST_DEAD || c->reading == on)
		return;
	c->reading = on;
	conn_update_when(c);
	/* decrypted bytes may wait inside OpenSSL, which no socket event would announce */
	if (on && c->ssl && c->state == CONN_ST_OPEN)
		conn_kick(c);
}

void conn_close(struct conn *c)
{
	if (c->state == CONN_ST_DEAD || c->closing)
		return;
	c->closing = true;
	conn_arm_idle(c);
	/* the shutdown itself runs from the loop: closed() never fires inside conn_close() */
	conn_update_when(c);
	if (c->state == CONN_ST_OPEN)
		conn_kick(c);
}

void conn_abort(struct conn *c, enum conn_close_reason reason)
{
	conn_finish(c, reason);
}

void conn_set_timeout(struct conn *c, unsigned long ms)
{
	if (c->state == CONN_ST_DEAD)
		return;
	c->timeout_ms = ms;
	conn_arm_idle(c);
}

const char *conn_peer_identity(const struct conn *c)
{
	return c->peer_identity;
}

const char *conn_peer_name(const struct conn *c)
{
	return c->peer_name;
}

bool conn_is_tls(const struct conn *c)
{
	return c->tls != NULL;
}
