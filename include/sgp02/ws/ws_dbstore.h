/*! \file ws_dbstore.h
 * PostgreSQL-backed store of answered web-service requests (ws_store.h), in the table ws_message of the
 * daemon's schema (sql/<schema>/0003_ws_message.sql). The answer is committed before it is sent, so a
 * duplicate MessageID is answered the same way even after a restart. Entries older than the configured
 * retention are forgotten (ws_dbstore_expire()).
 */
#pragma once

#include <sgp02/ws/ws_store.h>

struct db;
struct ws_dbstore;

struct ws_dbstore *ws_dbstore_alloc(void *ctx, struct db *db, unsigned long retention_s);
/*! Delete entries older than the retention. \returns number deleted or -errno. */
int ws_dbstore_expire(struct ws_dbstore *st);

/*! The ops (store argument: the struct ws_dbstore *). */
extern const struct ws_store_ops ws_dbstore_ops;
