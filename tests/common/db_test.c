/* Tests of the PostgreSQL layer (db.c) and the schema migrations (db_schema.c).
 * Needs a PostgreSQL server: scripts/check starts a private one and exports PGHOST/PGPORT/
 * PGUSER/PGDATABASE. Each test works in schemas of its own, named after the process id. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/logging.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/db.h>
#include <sgp02/common/db_schema.h>

#include "testlib.h"

enum t_stmt {
	T_INSERT,
	T_INSERT_CHILD,
	T_COUNT,
	T_SLEEP,
	T_BACKEND_PID,
	T_BAD_VALUE,
	_NUM_T
};

static const struct db_stmt t_stmts[_NUM_T] = {
	[T_INSERT] = { "insert", "INSERT INTO item (k, v) VALUES ($1, $2)" },
	[T_INSERT_CHILD] = { "insert_child", "INSERT INTO child (k) VALUES ($1)" },
	[T_COUNT] = { "count", "SELECT count(*) FROM item" },
	[T_SLEEP] = { "sleep", "SELECT pg_sleep($1::float8)" },
	[T_BACKEND_PID] = { "pid", "SELECT pg_backend_pid()" },
	[T_BAD_VALUE] = { "bad_value", "SELECT $1::integer" },
};

static char g_schema[64];
static void *g_log_ctx;

static struct db *admin_db(void)
{
	struct db *db = db_alloc(g_test_ctx, "", "public", NULL, 0);
	CU_ASSERT_FATAL(db != NULL);
	CU_ASSERT_FATAL(db_connect(db, "db_test admin") == 0);
	return db;
}

/* A fresh schema with two tables, and a handle on it with the statement table prepared. */
static struct db *fresh_db(const char *suffix)
{
	struct db *adm = admin_db();
	struct db *db;
	char sql[512];

	snprintf(g_schema, sizeof(g_schema), "t_db_%d_%s", (int)getpid(), suffix);
	snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %1$s CASCADE; CREATE SCHEMA %1$s;"
		 "CREATE TABLE %1$s.item (k text PRIMARY KEY, v integer CHECK (v >= 0));"
		 "CREATE TABLE %1$s.child (k text REFERENCES %1$s.item(k));", g_schema);
	CU_ASSERT_FATAL(db_exec_sql(adm, sql, NULL) >= 0);
	talloc_free(adm);

	db = db_alloc(g_test_ctx, "", g_schema, t_stmts, _NUM_T);
	CU_ASSERT_FATAL(db != NULL);
	db->prepare_on_connect = true;
	CU_ASSERT_FATAL(db_connect(db, "db_test") == 0);
	return db;
}

static void drop_schema(const char *schema)
{
	struct db *adm = admin_db();
	char sql[128];

	snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", schema);
	CU_ASSERT(db_exec_sql(adm, sql, NULL) >= 0);
	talloc_free(adm);
}

static uint64_t ctr(struct db *db, enum db_ctr c)
{
	return rate_ctr_group_get_ctr(db->ctrs, c)->current;
}

static long count_items(struct db *db)
{
	PGresult *res;
	long n;

	CU_ASSERT_FATAL(db_exec(db, T_COUNT, 0, NULL, &res) == 1);
	n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

/* Kill the backend of \a db from another session, as an administrator or a crash would. */
static void terminate_backend(struct db *db)
{
	struct db *adm = admin_db();
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)", PQbackendPID(db->conn));
	CU_ASSERT(db_exec_sql(adm, sql, NULL) == 1);
	talloc_free(adm);
	usleep(100 * 1000);
}

static void test_sqlstate_map(void)
{
	CU_ASSERT_EQUAL(db_errno_from_sqlstate("23505"), -EEXIST);
	CU_ASSERT_EQUAL(db_errno_from_sqlstate("23503"), -ENOENT);
	CU_ASSERT_EQUAL(db_errno_from_sqlstate("23514"), -EINVAL);
	CU_ASSERT_EQUAL(db_errno_from_sqlstate("23502"), -EINVAL);
	CU_ASSERT_EQUAL(db_errno_from_sqlstate("22P02"), -EINVAL);
	CU_ASSERT_EQUAL(db_errno_from_sqlstate("57014"), -ETIMEDOUT);
	CU_ASSERT_EQUAL(db_errno_from_sqlstate("55P03"), -EBUSY);
	CU_ASSERT_EQUAL(db_errno_from_sqlstate("40001"), -EAGAIN);
	CU_ASSERT_EQUAL(db_errno_from_sqlstate("40P01"), -EAGAIN);
	CU_ASSERT_EQUAL(db_errno_from_sqlstate("42501"), -EPERM);
	CU_ASSERT_EQUAL(db_errno_from_sqlstate("08006"), -EIO);
	CU_ASSERT_EQUAL(db_errno_from_sqlstate("57P01"), -EIO);
	CU_ASSERT_EQUAL(db_errno_from_sqlstate(NULL), -EIO);
	CU_ASSERT_EQUAL(db_errno_from_sqlstate("235"), -EIO);
}

static void test_identifier(void)
{
	CU_ASSERT(db_identifier_ok("smsr"));
	CU_ASSERT(db_identifier_ok("_x9"));
	CU_ASSERT(!db_identifier_ok(""));
	CU_ASSERT(!db_identifier_ok(NULL));
	CU_ASSERT(!db_identifier_ok("Smsr"));
	CU_ASSERT(!db_identifier_ok("9abc"));
	CU_ASSERT(!db_identifier_ok("a;drop table x"));
	CU_ASSERT(!db_identifier_ok("a\"b"));
	CU_ASSERT(!db_identifier_ok("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd"));
	CU_ASSERT_PTR_NULL(db_alloc(g_test_ctx, "", "bad-name", NULL, 0));
}

static void test_conninfo_redacted(void)
{
	char *s = db_conninfo_redacted(g_test_ctx, "host=x password=secret dbname=y");
	CU_ASSERT_STRING_EQUAL(s, "host=x password=****** dbname=y");
	s = db_conninfo_redacted(g_test_ctx, "password = 'a b' user=u");
	CU_ASSERT_STRING_EQUAL(s, "password = '***' user=u");
	s = db_conninfo_redacted(g_test_ctx, "postgresql://u:pw@h/db");
	CU_ASSERT_STRING_EQUAL(s, "postgresql://u:**@h/db");
	s = db_conninfo_redacted(g_test_ctx, "postgresql://u@h/db");
	CU_ASSERT_STRING_EQUAL(s, "postgresql://u@h/db");
}

static void test_connect_refused(void)
{
	struct db *db = db_alloc(g_test_ctx, "host=/nonexistent-sgp02 port=1 connect_timeout=2", "smsr", NULL, 0);
	CU_ASSERT_EQUAL(db_connect(db, "t"), -ECONNREFUSED);
	CU_ASSERT_PTR_NULL(db->conn);
	/* a statement on a handle that cannot connect fails cleanly */
	CU_ASSERT_EQUAL(db_exec_sql(db, "SELECT 1", NULL), -EIO);
}

static void test_unique_violation(void)
{
	struct db *db = fresh_db("uniq");
	const char *p[2] = { "a", "1" };

	CU_ASSERT_EQUAL(db_exec(db, T_INSERT, 2, p, NULL), 1);
	CU_ASSERT_EQUAL(db_exec(db, T_INSERT, 2, p, NULL), -EEXIST);
	CU_ASSERT_EQUAL(ctr(db, DB_CTR_ERRORS), 1);
	CU_ASSERT_EQUAL(count_items(db), 1);
	drop_schema(g_schema);
}

static void test_constraint_errors(void)
{
	struct db *db = fresh_db("cons");
	const char *neg[2] = { "b", "-1" };
	const char *nokey[1] = { "missing" };
	const char *notint[1] = { "12x" };

	CU_ASSERT_EQUAL(db_exec(db, T_INSERT, 2, neg, NULL), -EINVAL);
	CU_ASSERT_EQUAL(db_exec(db, T_INSERT_CHILD, 1, nokey, NULL), -ENOENT);
	CU_ASSERT_EQUAL(db_exec(db, T_BAD_VALUE, 1, notint, NULL), -EINVAL);
	CU_ASSERT_EQUAL(db_exec(db, _NUM_T, 0, NULL, NULL), -EINVAL);
	/* values are parameters, never SQL: a quote is just data */
	const char *quote[2] = { "x'); DROP TABLE item; --", "3" };
	CU_ASSERT_EQUAL(db_exec(db, T_INSERT, 2, quote, NULL), 1);
	CU_ASSERT_EQUAL(count_items(db), 1);
	drop_schema(g_schema);
}

static void test_timeout(void)
{
	struct db *db = fresh_db("tmo");
	const char *p[1] = { "3" };

	db_disconnect(db);
	db->statement_timeout_ms = 200;
	CU_ASSERT_FATAL(db_connect(db, NULL) == 0);
	CU_ASSERT_EQUAL(db_exec(db, T_SLEEP, 1, p, NULL), -ETIMEDOUT);
	CU_ASSERT_EQUAL(ctr(db, DB_CTR_TIMEOUTS), 1);
	/* the connection is still good afterwards */
	CU_ASSERT_EQUAL(count_items(db), 0);
	drop_schema(g_schema);
}

static void test_reconnect(void)
{
	struct db *db = fresh_db("reconn");
	const char *p[2] = { "k", "1" };
	int pid1 = PQbackendPID(db->conn);

	terminate_backend(db);
	/* outside a transaction: reconnected transparently, statements prepared again */
	CU_ASSERT_EQUAL(db_exec(db, T_INSERT, 2, p, NULL), 1);
	CU_ASSERT_EQUAL(ctr(db, DB_CTR_RECONNECTS), 1);
	CU_ASSERT_NOT_EQUAL(PQbackendPID(db->conn), pid1);
	CU_ASSERT_EQUAL(count_items(db), 1);
	drop_schema(g_schema);
}

static void test_lost_in_transaction(void)
{
	struct db *db = fresh_db("losttxn");
	const char *p[2] = { "k", "1" };

	CU_ASSERT_EQUAL(db_begin(db), 0);
	CU_ASSERT_EQUAL(db_exec(db, T_INSERT, 2, p, NULL), 1);
	terminate_backend(db);
	/* the transaction is gone: the caller must learn it, not get a silent retry */
	CU_ASSERT_EQUAL(db_exec(db, T_INSERT, 2, p, NULL), -EIO);
	CU_ASSERT(!db->in_txn);
	CU_ASSERT_EQUAL(db_commit(db), -EINVAL);
	/* nothing of it was committed; the next statement reconnects */
	CU_ASSERT_EQUAL(count_items(db), 0);
	drop_schema(g_schema);
}

static void test_server_unreachable_after_loss(void)
{
	struct db *db = fresh_db("gone");

	terminate_backend(db);
	/* the server can no longer be reached (as if it were down): -EIO, no crash, no hang */
	talloc_free(db->conninfo);
	db->conninfo = talloc_strdup(db, "host=/nonexistent-sgp02 port=1 connect_timeout=2");
	db->reconnect_interval_s = 0;
	CU_ASSERT_EQUAL(db_exec(db, T_COUNT, 0, NULL, NULL), -EIO);
	CU_ASSERT_EQUAL(db_exec(db, T_COUNT, 0, NULL, NULL), -EIO);
	CU_ASSERT_EQUAL(ctr(db, DB_CTR_CONNECT_FAILS), 2);
	/* with a reconnect interval, calls in between fail at once without trying */
	db->reconnect_interval_s = 60;
	CU_ASSERT_EQUAL(db_exec(db, T_COUNT, 0, NULL, NULL), -EIO);
	CU_ASSERT_EQUAL(db_exec_sql(db, "SELECT 1", NULL), -EIO);
	CU_ASSERT_EQUAL(ctr(db, DB_CTR_CONNECT_FAILS), 2);
	/* once the interval has passed (here: set to 0) and the server is back, it reconnects */
	talloc_free(db->conninfo);
	db->conninfo = talloc_strdup(db, "");
	db->reconnect_interval_s = 0;
	CU_ASSERT_EQUAL(db_exec(db, T_COUNT, 0, NULL, NULL), 1);
	CU_ASSERT_EQUAL(ctr(db, DB_CTR_RECONNECTS), 1);
	drop_schema(g_schema);
}

static void test_transactions(void)
{
	struct db *db = fresh_db("txn");
	const char *a[2] = { "a", "1" };
	const char *b[2] = { "b", "2" };

	CU_ASSERT_EQUAL(db_begin(db), 0);
	CU_ASSERT_EQUAL(db_begin(db), -EINVAL);
	CU_ASSERT_EQUAL(db_exec(db, T_INSERT, 2, a, NULL), 1);
	CU_ASSERT_EQUAL(db_rollback(db), 0);
	CU_ASSERT_EQUAL(count_items(db), 0);

	CU_ASSERT_EQUAL(db_begin(db), 0);
	CU_ASSERT_EQUAL(db_exec(db, T_INSERT, 2, a, NULL), 1);
	CU_ASSERT_EQUAL(db_commit(db), 0);
	CU_ASSERT_EQUAL(count_items(db), 1);

	/* a failed statement poisons the transaction: COMMIT must not report success */
	CU_ASSERT_EQUAL(db_begin(db), 0);
	CU_ASSERT_EQUAL(db_exec(db, T_INSERT, 2, b, NULL), 1);
	CU_ASSERT_EQUAL(db_exec(db, T_INSERT, 2, a, NULL), -EEXIST);
	CU_ASSERT_EQUAL(db_commit(db), -EIO);
	CU_ASSERT_EQUAL(count_items(db), 1);
	CU_ASSERT_EQUAL(ctr(db, DB_CTR_COMMITS), 1);
	drop_schema(g_schema);
}

static void test_exec_params(void)
{
	struct db *db = fresh_db("params");
	const char *p[2] = { "q", "7" };
	PGresult *res;

	CU_ASSERT_EQUAL(db_exec_params(db, "INSERT INTO item (k, v) VALUES ($1, $2)", 2, p, NULL, NULL, NULL), 1);
	CU_ASSERT_EQUAL(db_exec_params(db, "INSERT INTO item (k, v) VALUES ($1, $2)", 2, p, NULL, NULL, NULL),
			-EEXIST);
	CU_ASSERT_EQUAL(db_exec_params(db, "SELECT v FROM item WHERE k = $1", 1, p, NULL, NULL, &res), 1);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "7");
	PQclear(res);
	/* a lost connection is re-established for unprepared statements too */
	terminate_backend(db);
	CU_ASSERT_EQUAL(db_exec_params(db, "SELECT v FROM item WHERE k = $1", 1, p, NULL, NULL, NULL), 1);
	CU_ASSERT_EQUAL(ctr(db, DB_CTR_RECONNECTS), 1);
	drop_schema(g_schema);
}

static void test_no_leak(void)
{
	void *ctx = talloc_named_const(g_test_ctx, 0, "leakcheck");
	struct db *db = db_alloc(ctx, "", "public", t_stmts, 0);

	CU_ASSERT_FATAL(db_connect(db, "leak") == 0);
	CU_ASSERT_EQUAL(db_exec_sql(db, "SELECT 1", NULL), 1);
	talloc_free(db);
	CU_ASSERT_EQUAL(talloc_total_blocks(ctx), 1);
	talloc_free(ctx);
}

/* ------------------------------------------------------------------ migrations */

static struct db *schema_db(const struct db_schema_def *def, unsigned int k)
{
	struct db *db;

	snprintf(g_schema, sizeof(g_schema), "t_mig_%d_%s_%u", (int)getpid(), def->schema, k);
	drop_schema(g_schema);
	db = db_alloc(g_test_ctx, "", g_schema, NULL, 0);
	CU_ASSERT_FATAL(db_connect(db, "db_test mig") == 0);
	return db;
}

static void check_upgrade_from_every_version(const struct db_schema_def *def)
{
	unsigned int k, v;

	CU_ASSERT_FATAL(def->num_migrations >= 2);
	for (k = 0; k <= def->num_migrations; k++) {
		struct db *db = schema_db(def, k);

		CU_ASSERT_EQUAL(db_schema_version(db, &v), 0);
		CU_ASSERT_EQUAL(v, 0);
		/* bring it to the older version k, as an older release would have left it */
		CU_ASSERT_EQUAL(db_schema_upgrade(db, def, k), 0);
		CU_ASSERT_EQUAL(db_schema_version(db, &v), 0);
		CU_ASSERT_EQUAL(v, k);
		/* without --db-upgrade an older schema is refused */
		CU_ASSERT_EQUAL(db_schema_check(db, def, false), k < def->num_migrations ? -ENOEXEC : 0);
		CU_ASSERT_EQUAL(db_schema_version(db, &v), 0);
		CU_ASSERT_EQUAL(v, k);
		/* with it, brought up to date; a second run changes nothing */
		CU_ASSERT_EQUAL(db_schema_check(db, def, true), 0);
		CU_ASSERT_EQUAL(db_schema_version(db, &v), 0);
		CU_ASSERT_EQUAL(v, def->num_migrations);
		CU_ASSERT_EQUAL(db_schema_check(db, def, true), 0);
		CU_ASSERT_EQUAL(db_exec_sql(db, "SELECT version FROM schema_version", NULL), (int)def->num_migrations);
		/* going backwards is refused */
		if (k < def->num_migrations)
			CU_ASSERT_EQUAL(db_schema_upgrade(db, def, k), -EPROTO);
		CU_ASSERT_EQUAL(db_schema_upgrade(db, def, def->num_migrations + 1), -EINVAL);
		drop_schema(g_schema);
		talloc_free(db);
	}
}

static void test_migrations_smsr(void)
{
	check_upgrade_from_every_version(&db_schema_smsr);
}

static void test_migrations_smdp(void)
{
	check_upgrade_from_every_version(&db_schema_smdp);
}

static void test_schema_newer(void)
{
	struct db *db = schema_db(&db_schema_smsr, 99);
	char sql[256];

	CU_ASSERT_EQUAL(db_schema_upgrade(db, &db_schema_smsr, db_schema_smsr.num_migrations), 0);
	snprintf(sql, sizeof(sql), "INSERT INTO schema_version (version, name) VALUES (%u, 'from the future')",
		 db_schema_smsr.num_migrations + 1);
	CU_ASSERT_EQUAL(db_exec_sql(db, sql, NULL), 1);
	CU_ASSERT_EQUAL(db_schema_check(db, &db_schema_smsr, false), -EPROTO);
	CU_ASSERT_EQUAL(db_schema_check(db, &db_schema_smsr, true), -EPROTO);
	drop_schema(g_schema);
}

static const struct db_migration bad_migrations[] = {
	{ 1, "0001_ok", "CREATE TABLE a (x integer);" },
	{ 2, "0002_broken", "CREATE TABLE b (x integer); INSERT INTO a VALUES ('not a number');" },
};

static const struct db_schema_def bad_def = {
	.schema = "bad", .migrations = bad_migrations, .num_migrations = 2,
};

static void test_failed_migration_rolls_back(void)
{
	struct db *db = schema_db(&bad_def, 0);
	PGresult *res;
	unsigned int v;

	CU_ASSERT_EQUAL(db_schema_check(db, &bad_def, true), -EINVAL);
	CU_ASSERT_EQUAL(db_schema_version(db, &v), 0);
	CU_ASSERT_EQUAL(v, 1);
	CU_ASSERT_FALSE(db->in_txn);
	/* table b of the failed migration does not exist: all of it was rolled back */
	CU_ASSERT_EQUAL(db_exec_sql(db, "SELECT to_regclass('b') IS NULL", &res), 1);
	CU_ASSERT_STRING_EQUAL(PQgetvalue(res, 0, 0), "t");
	PQclear(res);
	drop_schema(g_schema);
}

static void test_audit_append_only(void)
{
	struct db *db = schema_db(&db_schema_smsr, 100);

	CU_ASSERT_EQUAL(db_schema_check(db, &db_schema_smsr, true), 0);
	CU_ASSERT_EQUAL(db_exec_sql(db, "INSERT INTO audit (actor, action) VALUES ('t', 'Test')", NULL), 1);
	CU_ASSERT_EQUAL(db_exec_sql(db, "UPDATE audit SET action = 'Forged'", NULL), -EPERM);
	CU_ASSERT_EQUAL(db_exec_sql(db, "DELETE FROM audit", NULL), -EPERM);
	CU_ASSERT_EQUAL(db_exec_sql(db, "TRUNCATE audit", NULL), -EPERM);
	CU_ASSERT_EQUAL(db_exec_sql(db, "SELECT * FROM audit", NULL), 1);
	/* an eUICC has at most one enabled profile */
	CU_ASSERT_EQUAL(db_exec_sql(db, "INSERT INTO eis (eid, eum_id) VALUES "
				    "('89001012012341234012345678901224', 'EUM1')", NULL), 1);
	CU_ASSERT_EQUAL(db_exec_sql(db, "INSERT INTO profile (eid, isdp_aid, state) VALUES "
				    "('89001012012341234012345678901224', '\\xA0000005591010FFFFFFFF8900001000', "
				    "'Enabled')", NULL), 1);
	CU_ASSERT_EQUAL(db_exec_sql(db, "INSERT INTO profile (eid, isdp_aid, state) VALUES "
				    "('89001012012341234012345678901224', '\\xA0000005591010FFFFFFFF8900001100', "
				    "'Enabled')", NULL), -EEXIST);
	drop_schema(g_schema);
}

static int suite_init(void)
{
	if (!getenv("PGHOST") && !getenv("PGDATABASE")) {
		fprintf(stderr, "db_test needs a PostgreSQL server: run it through scripts/check "
			"(or export PGHOST, PGPORT, PGUSER, PGDATABASE)\n");
		return 1;
	}
	g_log_ctx = talloc_named_const(NULL, 0, "db_test_log");
	osmo_init_logging2(g_log_ctx, &sgp02_log_info);
	log_set_print_category(osmo_stderr_target, 1);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	log_set_log_level(osmo_stderr_target, LOGL_NOTICE);
	return 0;
}

static int suite_cleanup(void)
{
	log_fini();
	talloc_free(g_log_ctx);
	return 0;
}

static const struct test_case db_cases[] = {
	TEST_CASE(test_sqlstate_map),
	TEST_CASE(test_identifier),
	TEST_CASE(test_conninfo_redacted),
	TEST_CASE(test_connect_refused),
	TEST_CASE(test_unique_violation),
	TEST_CASE(test_constraint_errors),
	TEST_CASE(test_timeout),
	TEST_CASE(test_reconnect),
	TEST_CASE(test_lost_in_transaction),
	TEST_CASE(test_server_unreachable_after_loss),
	TEST_CASE(test_transactions),
	TEST_CASE(test_exec_params),
	TEST_CASE(test_no_leak),
	TEST_END
};

static const struct test_case mig_cases[] = {
	TEST_CASE(test_migrations_smsr),
	TEST_CASE(test_migrations_smdp),
	TEST_CASE(test_schema_newer),
	TEST_CASE(test_failed_migration_rolls_back),
	TEST_CASE(test_audit_append_only),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "db", suite_init, suite_cleanup, db_cases },
	{ "migrations", suite_init, suite_cleanup, mig_cases },
	{ NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
