/* PostgreSQL access on libpq; see db.h for the contract and the error mapping. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include <talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/timer_compat.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/tdef.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/db.h>

static const struct rate_ctr_desc db_ctr_desc[] = {
	[DB_CTR_QUERIES] = { "db:queries", "Statements executed" },
	[DB_CTR_ERRORS] = { "db:errors", "Statements that failed" },
	[DB_CTR_TIMEOUTS] = { "db:timeouts", "Statements cancelled by statement_timeout" },
	[DB_CTR_RECONNECTS] = { "db:reconnects", "Connections re-established after a loss" },
	[DB_CTR_CONNECT_FAILS] = { "db:connect_fails", "Failed attempts to reconnect" },
	[DB_CTR_COMMITS] = { "db:commits", "Transactions committed" },
	[DB_CTR_ROLLBACKS] = { "db:rollbacks", "Transactions rolled back" },
};

static const struct rate_ctr_group_desc db_ctrg_desc = {
	.group_name_prefix = "db",
	.group_description = "PostgreSQL database access",
	.class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_ctr = ARRAY_SIZE(db_ctr_desc),
	.ctr_desc = db_ctr_desc,
};

static unsigned int g_db_instance;

static int db_destructor(struct db *db);

static void db_ctr_inc(struct db *db, enum db_ctr c)
{
	if (db->ctrs)
		rate_ctr_inc(rate_ctr_group_get_ctr(db->ctrs, c));
}

bool db_identifier_ok(const char *name)
{
	size_t i;

	if (!name || !name[0] || strlen(name) > 63)
		return false;
	if (!(islower((unsigned char)name[0]) || name[0] == '_'))
		return false;
	for (i = 1; name[i]; i++) {
		if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) || name[i] == '_'))
			return false;
	}
	return true;
}

char *db_conninfo_redacted(void *ctx, const char *conninfo)
{
	char *out = talloc_strdup(ctx, conninfo ? conninfo : "");
	char *p;

	/* keyword form: password=secret or password = 'se cret' */
	p = strstr(out, "password");
	while (p) {
		char *q = p + strlen("password");
		while (*q == ' ')
			q++;
		if (*q == '=') {
			q++;
			while (*q == ' ')
				q++;
			if (*q == '\'') {
				q++;
				while (*q && *q != '\'')
					*q++ = '*';
			} else {
				while (*q && *q != ' ')
					*q++ = '*';
			}
		}
		p = strstr(q, "password");
	}
	/* URI form: postgresql://user:secret@host */
	p = strstr(out, "://");
	if (p) {
		char *at = strchr(p + 3, '@');
		char *colon = strchr(p + 3, ':');
		if (at && colon && colon < at) {
			for (p = colon + 1; p < at; p++)
				*p = '*';
		}
	}
	return out;
}

int db_errno_from_sqlstate(const char *s)
{
	if (!s || strlen(s) != 5)
		return -EIO;
	if (!strcmp(s, "23505"))
		return -EEXIST;
	if (!strcmp(s, "23503"))
		return -ENOENT;
	if (!strcmp(s, "23502") || !strcmp(s, "23514") || !strncmp(s, "22", 2))
		return -EINVAL;
	if (!strcmp(s, "57014"))
		return -ETIMEDOUT;
	if (!strcmp(s, "55P03"))
		return -EBUSY;
	if (!strcmp(s, "42501"))
		return -EPERM;
	if (!strcmp(s, "40001") || !strcmp(s, "40P01"))
		return -EAGAIN;
	/* 08xxx connection exceptions, 57P0x admin shutdown / crash: the connection is gone */
	return -EIO;
}

struct db *db_alloc(void *ctx, const char *conninfo, const char *schema,
		    const struct db_stmt *stmts, unsigned int num_stmts)
{
	struct db *db;

	if (!db_identifier_ok(schema))
		return NULL;
	db = talloc_zero(ctx, struct db);
	db->conninfo = talloc_strdup(db, conninfo ? conninfo : "");
	db->schema = talloc_strdup(db, schema);
	db->stmts = stmts;
	db->num_stmts = num_stmts;
	db->statement_timeout_ms = 5000;
	db->ctrs = rate_ctr_group_alloc(db, &db_ctrg_desc, g_db_instance++);
	talloc_set_destructor(db, db_destructor);
	return db;
}

static int db_destructor(struct db *db)
{
	db_disconnect(db);
	if (db->ctrs)
		rate_ctr_group_free(db->ctrs);
	db->ctrs = NULL;
	return 0;
}

static void db_notice(void *arg, const char *msg)
{
	size_t len = strlen(msg);

	LOGP(DDB, LOGL_DEBUG, "PostgreSQL: %.*s\n", (int)(len && msg[len - 1] == '\n' ? len - 1 : len), msg);
}

static void db_log_result_error(struct db *db, const char *what, const PGresult *res, int rc)
{
	const char *msg = res ? PQresultErrorMessage(res) : NULL;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	int level = (rc == -EEXIST || rc == -ENOENT || rc == -EINVAL) ? LOGL_NOTICE : LOGL_ERROR;

	if (!msg || !*msg)
		msg = db->conn ? PQerrorMessage(db->conn) : "no connection";
	/* PostgreSQL messages end with a newline */
	LOGP(DDB, level, "%s failed (SQLSTATE %s, %s): %.*s\n", what, state ? state : "-", strerror(-rc),
	     (int)(strlen(msg) && msg[strlen(msg) - 1] == '\n' ? strlen(msg) - 1 : strlen(msg)), msg);
}

/* Run a command with no result rows on the raw connection (used while connecting). */
static int db_raw_command(struct db *db, const char *sql, int nparams, const char *const *params)
{
	PGresult *res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		rc = db_errno_from_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE));
		db_log_result_error(db, sql, res, rc);
	}
	PQclear(res);
	return rc;
}

int db_prepare(struct db *db)
{
	unsigned int i;

	for (i = 0; i < db->num_stmts; i++) {
		PGresult *res;
		char name[32];

		if (!db->stmts[i].sql)
			continue;
		snprintf(name, sizeof(name), "s%u", i);
		/* a reconnect gives a new session: prepared statements are per session */
		res = PQprepare(db->conn, name, db->stmts[i].sql, 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			int rc = db_errno_from_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE));
			db_log_result_error(db, db->stmts[i].name, res, rc);
			PQclear(res);
			return rc;
		}
		PQclear(res);
	}
	return 0;
}

int db_connect(struct db *db, const char *application_name)
{
	char timeout[32];
	const char *p[1];
	int rc;

	if (application_name) {
		talloc_free(db->application_name);
		db->application_name = talloc_strdup(db, application_name);
	}
	db_disconnect(db);
	db->conn = PQconnectdb(db->conninfo);
	if (!db->conn)
		return -ENOMEM;
	if (PQstatus(db->conn) != CONNECTION_OK) {
		char *msg = talloc_strdup(db, PQerrorMessage(db->conn));
		char *nl;
		while ((nl = strchr(msg, '\n')))
			*nl = ' ';
		LOGP(DDB, LOGL_ERROR, "cannot connect to PostgreSQL: %s\n", msg);
		talloc_free(msg);
		db_disconnect(db);
		return -ECONNREFUSED;
	}
	/* Server notices go to our log, not to stderr. */
	PQsetNoticeProcessor(db->conn, db_notice, db);

	/* schema is a checked identifier; set_config() takes it as a parameter anyway */
	p[0] = db->schema;
	rc = db_raw_command(db, "SELECT pg_catalog.set_config('search_path', $1, false)", 1, p);
	if (rc < 0)
		goto fail;
	snprintf(timeout, sizeof(timeout), "%u", db->statement_timeout_ms);
	p[0] = timeout;
	rc = db_raw_command(db, "SELECT pg_catalog.set_config('statement_timeout', $1, false)", 1, p);
	if (rc < 0)
		goto fail;
	if (db->application_name) {
		p[0] = db->application_name;
		rc = db_raw_command(db, "SELECT pg_catalog.set_config('application_name', $1, false)", 1, p);
		if (rc < 0)
			goto fail;
	}
	if (db->prepare_on_connect) {
		rc = db_prepare(db);
		if (rc < 0)
			goto fail;
	}
	db->in_txn = false;
	LOGP(DDB, LOGL_INFO, "connected to PostgreSQL %d, schema %s\n", PQserverVersion(db->conn), db->schema);
	return 0;
fail:
	db_disconnect(db);
	return rc;
}

void db_disconnect(struct db *db)
{
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
	db->in_txn = false;
}

static bool db_conn_lost(struct db *db)
{
	return !db->conn || PQstatus(db->conn) != CONNECTION_OK;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	osmo_clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reconnect after a loss. While the server stays unreachable, try at most once per
 * reconnect_interval_s so that a dead database does not stall every caller on the loop.
 * \returns 0 or -EIO */
static int db_reconnect(struct db *db)
{
	int64_t t = now_ms();
	unsigned long interval = db->reconnect_tdef ? db->reconnect_tdef->val : db->reconnect_interval_s;

	if (db->last_connect_fail_ms && t - db->last_connect_fail_ms < (int64_t)interval * 1000)
		return -EIO;
	LOGP(DDB, LOGL_NOTICE, "connection to PostgreSQL lost, reconnecting\n");
	if (db_connect(db, NULL) < 0) {
		db_ctr_inc(db, DB_CTR_CONNECT_FAILS);
		db->last_connect_fail_ms = t ? t : 1;
		return -EIO;
	}
	db->last_connect_fail_ms = 0;
	db_ctr_inc(db, DB_CTR_RECONNECTS);
	return 0;
}

/* Common result handling. Takes ownership of res. */
static int db_result(struct db *db, const char *what, PGresult *res, PGresult **out)
{
	ExecStatusType st = PQresultStatus(res);
	int rc;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (st == PGRES_TUPLES_OK)
			rc = PQntuples(res);
		else
			rc = atoi(PQcmdTuples(res));
		if (out)
			*out = res;
		else
			PQclear(res);
		return rc;
	}
	rc = db_errno_from_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE));
	db_ctr_inc(db, DB_CTR_ERRORS);
	if (rc == -ETIMEDOUT)
		db_ctr_inc(db, DB_CTR_TIMEOUTS);
	db_log_result_error(db, what, res, rc);
	PQclear(res);
	return rc;
}

/* Run a prepared statement (\a prepared != NULL) or SQL text with parameters; reconnect and retry once when
 * the connection was lost outside a transaction. */
static int db_run(struct db *db, const char *what, const char *prepared, const char *sql, int nparams,
		  const char *const *params, const int *lengths, const int *formats, PGresult **res)
{
	bool retried = false;
	PGresult *r;

again:
	if (db_conn_lost(db)) {
		if (db->in_txn) {
			db->in_txn = false;
			return -EIO;
		}
		if (db_reconnect(db) < 0)
			return -EIO;
	}
	db_ctr_inc(db, DB_CTR_QUERIES);
	if (prepared)
		r = PQexecPrepared(db->conn, prepared, nparams, params, lengths, formats, 0);
	else
		r = PQexecParams(db->conn, sql, nparams, NULL, params, lengths, formats, 0);
	if (PQresultStatus(r) == PGRES_FATAL_ERROR && db_conn_lost(db)) {
		PQclear(r);
		if (db->in_txn || retried) {
			LOGP(DDB, LOGL_ERROR, "%s: connection to PostgreSQL lost%s\n", what,
			     db->in_txn ? " inside a transaction" : "");
			db_ctr_inc(db, DB_CTR_ERRORS);
			db->in_txn = false;
			return -EIO;
		}
		retried = true;
		goto again;
	}
	return db_result(db, what, r, res);
}

int db_execb(struct db *db, unsigned int stmt, int nparams, const char *const *params,
	     const int *lengths, const int *formats, PGresult **res)
{
	char name[32];

	if (stmt >= db->num_stmts || !db->stmts[stmt].sql)
		return -EINVAL;
	snprintf(name, sizeof(name), "s%u", stmt);
	return db_run(db, db->stmts[stmt].name, name, NULL, nparams, params, lengths, formats, res);
}

int db_exec_params(struct db *db, const char *sql, int nparams, const char *const *params,
		   const int *lengths, const int *formats, PGresult **res)
{
	return db_run(db, "SQL", NULL, sql, nparams, params, lengths, formats, res);
}

int db_exec(struct db *db, unsigned int stmt, int nparams, const char *const *params, PGresult **res)
{
	return db_execb(db, stmt, nparams, params, NULL, NULL, res);
}

int db_exec_sql(struct db *db, const char *sql, PGresult **res)
{
	PGresult *r;

	if (db_conn_lost(db)) {
		if (db->in_txn) {
			db->in_txn = false;
			return -EIO;
		}
		if (db_reconnect(db) < 0)
			return -EIO;
	}
	db_ctr_inc(db, DB_CTR_QUERIES);
	r = PQexec(db->conn, sql);
	if (PQresultStatus(r) == PGRES_FATAL_ERROR && db_conn_lost(db)) {
		PQclear(r);
		LOGP(DDB, LOGL_ERROR, "connection to PostgreSQL lost\n");
		db_ctr_inc(db, DB_CTR_ERRORS);
		db->in_txn = false;
		return -EIO;
	}
	return db_result(db, "SQL", r, res);
}

int db_begin(struct db *db)
{
	int rc;

	if (db->in_txn)
		return -EINVAL;
	rc = db_exec_sql(db, "BEGIN", NULL);
	if (rc < 0)
		return rc;
	db->in_txn = true;
	return 0;
}

int db_commit(struct db *db)
{
	int rc;
	PGresult *res = NULL;

	if (!db->in_txn)
		return -EINVAL;
	rc = db_exec_sql(db, "COMMIT", &res);
	db->in_txn = false;
	if (rc < 0)
		return rc;
	/* COMMIT of a transaction in which a statement failed answers ROLLBACK, without an error */
	if (strcmp(PQcmdStatus(res), "COMMIT")) {
		PQclear(res);
		LOGP(DDB, LOGL_ERROR, "COMMIT rolled back: a statement of the transaction had failed\n");
		db_ctr_inc(db, DB_CTR_ROLLBACKS);
		return -EIO;
	}
	PQclear(res);
	db_ctr_inc(db, DB_CTR_COMMITS);
	return 0;
}

int db_rollback(struct db *db)
{
	int rc = 0;

	if (db->in_txn && !db_conn_lost(db))
		rc = db_exec_sql(db, "ROLLBACK", NULL);
	db->in_txn = false;
	db_ctr_inc(db, DB_CTR_ROLLBACKS);
	return rc < 0 ? rc : 0;
}
