/* Versioned schema migrations; see db_schema.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>
#include <sgp02/common/logging.h>
#include <sgp02/common/db.h>
#include <sgp02/common/db_schema.h>

int db_schema_version(struct db *db, unsigned int *version)
{
	PGresult *res = NULL;
	char sql[256];
	int rc;

	*version = 0;
	/* to_regclass() is NULL when the schema or the table is missing: no error to log */
	snprintf(sql, sizeof(sql), "SELECT to_regclass('%s.schema_version') IS NOT NULL", db->schema);
	rc = db_exec_sql(db, sql, &res);
	if (rc < 0)
		return rc;
	if (strcmp(PQgetvalue(res, 0, 0), "t")) {
		PQclear(res);
		return 0;
	}
	PQclear(res);
	snprintf(sql, sizeof(sql), "SELECT coalesce(max(version), 0) FROM %s.schema_version", db->schema);
	rc = db_exec_sql(db, sql, &res);
	if (rc < 0)
		return rc;
	*version = (unsigned int)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

/* Apply one migration inside its own transaction. The advisory lock serialises concurrent
 * upgraders (several daemons on one database); the version is re-read under the lock. */
static int db_apply_one(struct db *db, const struct db_migration *m)
{
	char *sql;
	unsigned int cur;
	int rc;

	rc = db_begin(db);
	if (rc < 0)
		return rc;
	sql = talloc_asprintf(db, "SELECT pg_advisory_xact_lock(hashtext('sgp02 migrate %s'))", db->schema);
	rc = db_exec_sql(db, sql, NULL);
	talloc_free(sql);
	if (rc < 0)
		goto fail;
	rc = db_schema_version(db, &cur);
	if (rc < 0)
		goto fail;
	if (cur >= m->version) {
		/* another process did it while we waited for the lock */
		return db_rollback(db);
	}
	if (cur != m->version - 1) {
		rc = -EPROTO;
		goto fail;
	}
	sql = talloc_asprintf(db,
		"CREATE SCHEMA IF NOT EXISTS %1$s;"
		"SET LOCAL search_path TO %1$s;"
		"CREATE TABLE IF NOT EXISTS %1$s.schema_version ("
		" version integer PRIMARY KEY,"
		" name text NOT NULL,"
		" applied_at timestamptz NOT NULL DEFAULT now());", db->schema);
	rc = db_exec_sql(db, sql, NULL);
	talloc_free(sql);
	if (rc < 0)
		goto fail;
	rc = db_exec_sql(db, m->sql, NULL);
	if (rc < 0) {
		LOGP(DDB, LOGL_ERROR, "schema %s: migration %s failed\n", db->schema, m->name);
		goto fail;
	}
	sql = talloc_asprintf(db, "INSERT INTO %s.schema_version (version, name) VALUES (%u, '%s')",
			      db->schema, m->version, m->name);
	rc = db_exec_sql(db, sql, NULL);
	talloc_free(sql);
	if (rc < 0)
		goto fail;
	rc = db_commit(db);
	if (rc < 0)
		return rc;
	LOGP(DDB, LOGL_NOTICE, "schema %s: applied migration %s\n", db->schema, m->name);
	return 0;
fail:
	db_rollback(db);
	return rc;
}

int db_schema_upgrade(struct db *db, const struct db_schema_def *def, unsigned int target)
{
	unsigned int cur, i;
	int rc;

	if (target > def->num_migrations)
		return -EINVAL;
	rc = db_schema_version(db, &cur);
	if (rc < 0)
		return rc;
	if (cur > target)
		return -EPROTO;
	for (i = cur; i < target; i++) {
		/* migration file names come from our own source tree, never from input */
		if (strchr(def->migrations[i].name, '\''))
			return -EINVAL;
		rc = db_apply_one(db, &def->migrations[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int db_schema_check(struct db *db, const struct db_schema_def *def, bool upgrade)
{
	unsigned int cur;
	int rc;

	rc = db_schema_version(db, &cur);
	if (rc < 0)
		return rc;
	if (cur > def->num_migrations) {
		LOGP(DDB, LOGL_ERROR, "database schema %s is at version %u, newer than the version %u this program "
		     "knows: run a newer sgp02 (a newer release upgraded this database)\n",
		     db->schema, cur, def->num_migrations);
		return -EPROTO;
	}
	if (cur < def->num_migrations) {
		if (!upgrade) {
			LOGP(DDB, LOGL_ERROR, "database schema %s is at version %u, this program needs version %u: "
			     "start it once with --db-upgrade to apply the %u pending migration(s)\n",
			     db->schema, cur, def->num_migrations, def->num_migrations - cur);
			return -ENOEXEC;
		}
		LOGP(DDB, LOGL_NOTICE, "upgrading database schema %s from version %u to %u\n",
		     db->schema, cur, def->num_migrations);
		rc = db_schema_upgrade(db, def, def->num_migrations);
		if (rc < 0) {
			LOGP(DDB, LOGL_ERROR, "upgrading database schema %s failed: %s\n", db->schema, strerror(-rc));
			return rc;
		}
	}
	return 0;
}
