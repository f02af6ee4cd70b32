/*! \file db.h
 * PostgreSQL access on libpq for the sgp02 daemons.
 *
 * Each daemon owns one `struct db`: a connection (any libpq conninfo; PGHOST/PGPORT/... from the
 * environment fill in what the conninfo leaves out), the daemon's table of prepared statements
 * (indexed by an enum of the daemon, SQL text in its db_*.c file), the schema it works in, and a
 * statement_timeout. Every value goes to the server as a parameter, never spliced into SQL.
 *
 * Errors are mapped to negative errno values; the PostgreSQL message is logged (category DDB):
 *   unique violation (23505)                    -> -EEXIST
 *   foreign key violation (23503)               -> -ENOENT
 *   check / not-null violation, bad data (22*)  -> -EINVAL
 *   statement timeout / query canceled (57014)  -> -ETIMEDOUT
 *   lock not available (55P03)                  -> -EBUSY
 *   insufficient privilege (42501)              -> -EPERM (e.g. changing the append-only audit trail)
 *   serialization failure / deadlock (40001/40P01) -> -EAGAIN (retry the transaction)
 *   connection lost: reconnect and retry once when no transaction is open, else -EIO
 *   anything else                               -> -EIO
 *
 * Calls are synchronous and meant to be short (bounded by statement_timeout); keep them behind
 * db_*() functions so that they can become asynchronous later without touching callers.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>

struct rate_ctr_group;
struct osmo_tdef;

/*! One prepared statement of a daemon's table. */
struct db_stmt {
	const char *name;	/*!< short name, used as the prepared statement name */
	const char *sql;	/*!< SQL text with $1.. placeholders */
};

enum db_ctr {
	DB_CTR_QUERIES,
	DB_CTR_ERRORS,
	DB_CTR_TIMEOUTS,
	DB_CTR_RECONNECTS,
	DB_CTR_CONNECT_FAILS,
	DB_CTR_COMMITS,
	DB_CTR_ROLLBACKS,
};

struct db {
	char *conninfo;		/*!< as configured (may contain a password: never log it) */
	char *schema;		/*!< PostgreSQL schema the daemon works in, e.g. "smsr" */
	PGconn *conn;
	const struct db_stmt *stmts;
	unsigned int num_stmts;
	unsigned int statement_timeout_ms;
	bool in_txn;		/*!< a transaction is open on this connection */
	bool prepare_on_connect;	/*!< re-prepare the statement table after every (re)connect */
	char *application_name;
	unsigned int reconnect_interval_s;	/*!< after a failed reconnect, fail fast (-EIO) this long */
	const struct osmo_tdef *reconnect_tdef;	/*!< if set, its value overrides reconnect_interval_s */
	int64_t last_connect_fail_ms;	/*!< monotonic time of the last failed reconnect, 0 = none */
	struct rate_ctr_group *ctrs;
};

/*! Allocate (not yet connect) a database handle.
 *  \param[in] ctx talloc parent
 *  \param[in] conninfo libpq connection string (keywords or URI)
 *  \param[in] schema schema name ([a-z_][a-z0-9_]*, at most 63 chars)
 *  \param[in] stmts prepared statement table (may be NULL with num_stmts 0)
 *  \returns handle, or NULL if schema is not a plain identifier */
struct db *db_alloc(void *ctx, const char *conninfo, const char *schema,
		    const struct db_stmt *stmts, unsigned int num_stmts);

/*! Connect and set search_path, statement_timeout and application_name; prepare the statement
 *  table too if db->prepare_on_connect is set (the daemons set it once the schema is checked).
 *  \returns 0, or -ECONNREFUSED when the server cannot be reached, or another -errno */
int db_connect(struct db *db, const char *application_name);

/*! (Re-)prepare all statements of the table. \returns 0 or -errno of the first failure */
int db_prepare(struct db *db);

/*! Close the connection (the handle stays usable: the next call reconnects). */
void db_disconnect(struct db *db);

/*! Execute prepared statement \a stmt with text parameters (NULL entry = SQL NULL).
 *  A connection found lost is re-established and the statement retried once, but only outside a
 *  transaction; inside one the transaction is gone and -EIO is returned (run it again from the start).
 *  \param[out] res if not NULL, receives the result (caller PQclear()s it); untouched on error
 *  \returns number of rows affected or returned (>= 0), or -errno as mapped above */
int db_exec(struct db *db, unsigned int stmt, int nparams, const char *const *params, PGresult **res);

/*! Like db_exec() with per-parameter lengths and formats (1 = binary, e.g. bytea). */
int db_execb(struct db *db, unsigned int stmt, int nparams, const char *const *params,
	     const int *lengths, const int *formats, PGresult **res);

/*! Execute SQL text with text parameters $1..$n, unprepared (for modules that have no place in a daemon's
 *  statement table, e.g. shared stores). Same error mapping and reconnect rules as db_exec(). */
int db_exec_params(struct db *db, const char *sql, int nparams, const char *const *params,
		   const int *lengths, const int *formats, PGresult **res);

/*! Execute SQL text without parameters (administration: migrations, SET, tests).
 *  May contain several statements. \returns rows affected/returned of the last statement or -errno */
int db_exec_sql(struct db *db, const char *sql, PGresult **res);

/*! Transactions. db_begin() fails with -EINVAL if one is already open.
 *  db_commit() maps a failed commit like any statement; db_rollback() always leaves no transaction open. */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

/*! Map a 5-character SQLSTATE to a negative errno value (table above; NULL -> -EIO). */
int db_errno_from_sqlstate(const char *sqlstate);

/*! \returns true if \a name is a safe unquoted SQL identifier ([a-z_][a-z0-9_]{0,62}). */
bool db_identifier_ok(const char *name);

/*! A connection string with any password=... / :password@ part masked, talloc'd on \a ctx. */
char *db_conninfo_redacted(void *ctx, const char *conninfo);
