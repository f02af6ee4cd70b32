/*! \file db_schema.h
 * Versioned schema migrations. The SQL lives in sql/<schema>/NNNN_name.sql; the build embeds it
 * (scripts/sql2c.sh) so that a binary always knows exactly which schema version it needs.
 *
 * Each schema has a table <schema>.schema_version (version, name, applied_at). A daemon refuses
 * to run on a schema older than it expects (unless started with --db-upgrade) or newer (a newer
 * binary upgraded it). Each migration runs in its own transaction, serialised between processes
 * by an advisory lock, so several daemons sharing a database can start at the same time. */
#pragma once

#include <stdbool.h>

struct db;

struct db_migration {
	unsigned int version;	/*!< 1, 2, 3, ... without gaps */
	const char *name;	/*!< file name without .sql */
	const char *sql;	/*!< statements, run with search_path set to the schema */
};

struct db_schema_def {
	const char *schema;	/*!< default schema name, e.g. "smsr" */
	const struct db_migration *migrations;
	unsigned int num_migrations;	/*!< == the version this binary expects */
};

/* Generated from sql/smsr and sql/smdp by scripts/sql2c.sh. */
extern const struct db_schema_def db_schema_smsr;
extern const struct db_schema_def db_schema_smdp;

/*! Read the schema version of db->schema. \param[out] version 0 if the schema or its version table
 *  does not exist. \returns 0 or -errno */
int db_schema_version(struct db *db, unsigned int *version);

/*! Apply the pending migrations of \a def up to and including \a target (each in one transaction).
 *  \returns 0, -EINVAL if target is beyond def, -EPROTO if the database is already newer than
 *  target, or the -errno of the failed migration (which is rolled back; earlier ones stay). */
int db_schema_upgrade(struct db *db, const struct db_schema_def *def, unsigned int target);

/*! Check that db->schema is at the version \a def expects; with \a upgrade, bring it there first.
 *  Logs a clear message naming --db-upgrade when the schema is too old, or the versions when it is
 *  too new. \returns 0, -ENOEXEC when too old (and not upgrading), -EPROTO when newer, or -errno */
int db_schema_check(struct db *db, const struct db_schema_def *def, bool upgrade);
