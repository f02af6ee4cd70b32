/*! \file ws_store.h
 * Store of answered requests, so that a duplicate WS-Addressing MessageID from the same sender is answered
 * idempotently (the handler is not executed twice). The ws core saves an entry in state PROCESSING when it
 * dispatches a request and replaces it with DONE and the answer envelope when the request finishes.
 *
 * The daemons plug a PostgreSQL-backed implementation in (the answer must be committed before it is sent,
 * ARCHITECTURE "State lives in PostgreSQL"); ws_mem_store is a bounded in-memory one (LRU + TTL) for tests,
 * tools and as a cache.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum ws_store_state {
	WS_STORE_PROCESSING = 1,	/*!< dispatched, not finished */
	WS_STORE_DONE = 2,		/*!< finished; xml holds the answer (NULL for one-way) */
};

struct ws_store_entry {
	enum ws_store_state state;
	int http_status;	/*!< SYNC: HTTP status of the stored answer */
	const char *reply_to;	/*!< ASYNC: where the callback goes, else NULL */
	const uint8_t *xml;	/*!< the answer envelope (SYNC response or ASYNC callback), NULL otherwise */
	size_t xml_len;
};

struct ws_store_ops {
	/*! Look up (\a sender, \a message_id). On success fill \a out (strings/buffers talloc'd on \a ctx).
	 *  \returns 0, -ENOENT (unknown or expired), or another -errno (then the request is processed as new). */
	int (*lookup)(void *store, void *ctx, const char *sender, const char *message_id, struct ws_store_entry *out);
	/*! Insert or replace (\a sender, \a message_id) with a copy of \a e. \returns 0 or -errno. */
	int (*save)(void *store, const char *sender, const char *message_id, const struct ws_store_entry *e);
};

/*! Bounded in-memory store. */
struct ws_mem_store;

/*! \a max_entries: beyond it the least recently used entry goes; \a ttl_s: entries older than that (seconds
 *  since saved) are forgotten; \a now: clock (NULL: time(NULL)). */
struct ws_mem_store *ws_mem_store_alloc(void *ctx, unsigned int max_entries, unsigned long ttl_s,
					time_t (*now)(void *data), void *now_data);
unsigned int ws_mem_store_count(const struct ws_mem_store *st);

/*! The ops of ws_mem_store (store argument: the struct ws_mem_store *). */
extern const struct ws_store_ops ws_mem_store_ops;
