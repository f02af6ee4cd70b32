/*! \file app.h
 * What every sgp02 daemon does the same way: command line, talloc root (report on SIGUSR1),
 * logging, VTY with its config file and telnet interface on 127.0.0.1, timers (osmo_tdef groups
 * on the VTY), counters, the database with its schema check, and graceful shutdown on
 * SIGTERM/SIGINT. A daemon fills in a struct sgp02_app and calls sgp02_app_main(). */
#pragma once

#include <stdbool.h>
#include <osmocom/core/tdef.h>
#include <osmocom/vty/command.h>

struct db;
struct db_schema_def;
struct db_stmt;
struct vty;

/*! Options from the command line. */
struct sgp02_app_opts {
	const char *config_file;
	bool db_upgrade;		/*!< --db-upgrade: apply pending schema migrations */
	bool db_upgrade_only;		/*!< --db-upgrade-only: ... and exit */
};

/*! Database configuration ("database" node of the config file). */
struct sgp02_db_cfg {
	char *conninfo;			/*!< libpq conninfo; empty: all from PG* environment */
	char *schema;			/*!< NULL: the daemon's default schema */
	unsigned int statement_timeout_ms;
};

struct sgp02_app {
	/* filled in by the daemon */
	const char *name;		/*!< "sgp02-smsr" */
	const char *description;	/*!< one line for --help and show version */
	const char *default_config;	/*!< e.g. "sgp02-smsr.cfg" */
	int default_vty_port;
	const struct db_schema_def *schema;
	const struct db_stmt *stmts;	/*!< the daemon's prepared statement table */
	unsigned int num_stmts;
	struct osmo_tdef_group *tdef_groups;	/*!< terminated by name == NULL; may be NULL */
	/*! install the daemon's own VTY nodes/commands (before the config file is read) */
	void (*vty_init)(struct sgp02_app *app);
	/*! called once the database is open and checked; non-zero return aborts start-up */
	int (*start)(struct sgp02_app *app);
	/*! called on shutdown before the database is closed */
	void (*stop)(struct sgp02_app *app);

	/* set by sgp02_app_main() */
	void *ctx;			/*!< talloc root of the daemon */
	struct sgp02_app_opts opts;
	struct sgp02_db_cfg db_cfg;
	struct db *db;
	void *priv;			/*!< daemon state */
};

extern struct sgp02_app *g_app;

/*! Run a daemon: parse argv, initialise, read config, open and check the database, serve until
 *  SIGTERM/SIGINT, then shut down and free everything. \returns the process exit status. */
int sgp02_app_main(struct sgp02_app *app, int argc, char **argv);

/*! Initialise logging, VTY and common commands without running (for tests). */
void sgp02_app_init_vty(struct sgp02_app *app, void *ctx);

/*! Read a config file into the VTY (after sgp02_app_init_vty()). \returns 0 or -errno */
int sgp02_app_read_config(struct sgp02_app *app, const char *file);

/*! Open the database from app->db_cfg and check/upgrade its schema. \returns 0 or -errno */
int sgp02_app_open_db(struct sgp02_app *app);

/*! Free what sgp02_app_init_vty() and sgp02_app_open_db() set up. */
void sgp02_app_cleanup(struct sgp02_app *app);

/*! VTY node ids of the common config nodes. */
enum sgp02_vty_node {
	SGP02_DATABASE_NODE = _LAST_OSMOVTY_NODE + 1,
	SGP02_SMSR_NODE,
	SGP02_SMDP_NODE,
	SGP02_SMPP_NODE,
	_SGP02_LAST_NODE,
};
