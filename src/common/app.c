/* Daemon plumbing shared by sgp02-smsr and sgp02-smdp; see app.h. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include <talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/msgb.h>
#include <osmocom/core/select.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/stat_item.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>
#include <osmocom/vty/logging.h>
#include <osmocom/vty/misc.h>
#include <osmocom/vty/stats.h>
#include <osmocom/vty/telnet_interface.h>
#include <osmocom/vty/tdef_vty.h>

#include "config.h"
#include <sgp02/common/logging.h>
#include <sgp02/common/db.h>
#include <sgp02/common/db_schema.h>
#include <sgp02/common/app.h>

struct sgp02_app *g_app;

enum app_stat {
	APP_STAT_DB_CONNECTED,
	APP_STAT_DB_SCHEMA_VERSION,
};

static const struct osmo_stat_item_desc app_stat_desc[] = {
	[APP_STAT_DB_CONNECTED] = { "db:connected", "1 while connected to PostgreSQL", "", 16, 0 },
	[APP_STAT_DB_SCHEMA_VERSION] = { "db:schema_version", "Schema version of the database", "", 16, 0 },
};

static const struct osmo_stat_item_group_desc app_statg_desc = {
	.group_name_prefix = "app",
	.group_description = "Daemon state",
	.class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_items = ARRAY_SIZE(app_stat_desc),
	.item_desc = app_stat_desc,
};

static struct osmo_stat_item_group *g_app_stats;

static void app_stat_set(enum app_stat item, int32_t value)
{
	if (g_app_stats)
		osmo_stat_item_set(osmo_stat_item_group_get_item(g_app_stats, item), value);
}

/* ---------------------------------------------------------------- VTY: database node */

static struct cmd_node database_node = {
	SGP02_DATABASE_NODE,
	"%s(config-database)# ",
	1,
};

DEFUN(cfg_database, cfg_database_cmd, "database",
      "Configure the PostgreSQL database\n")
{
	vty->node = SGP02_DATABASE_NODE;
	return CMD_SUCCESS;
}

DEFUN(cfg_db_conninfo, cfg_db_conninfo_cmd, "conninfo .CONNINFO",
      "libpq connection string (keywords or URI); what it leaves out comes from PGHOST, PGPORT, ...\n"
      "Connection string, e.g. host=/run/postgresql dbname=sgp02\n")
{
	char *s = argv_concat(argv, argc, 0);

	talloc_free(g_app->db_cfg.conninfo);
	g_app->db_cfg.conninfo = talloc_strdup(g_app->ctx, s);
	talloc_free(s);
	return CMD_SUCCESS;
}

DEFUN(cfg_db_schema, cfg_db_schema_cmd, "schema NAME",
      "PostgreSQL schema to work in (default: the daemon's own, smsr or smdp)\n"
      "Schema name: lower-case letters, digits and _\n")
{
	if (!db_identifier_ok(argv[0])) {
		vty_out(vty, "%% invalid schema name '%s': use [a-z_][a-z0-9_]*, at most 63 characters%s",
			argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	talloc_free(g_app->db_cfg.schema);
	g_app->db_cfg.schema = talloc_strdup(g_app->ctx, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_db_timeout, cfg_db_timeout_cmd, "statement-timeout <1-3600000>",
      "Longest time one SQL statement may run before PostgreSQL cancels it\n"
      "Milliseconds\n")
{
	g_app->db_cfg.statement_timeout_ms = atoi(argv[0]);
	return CMD_SUCCESS;
}

static int config_write_database(struct vty *vty)
{
	struct sgp02_db_cfg *c = &g_app->db_cfg;

	vty_out(vty, "database%s", VTY_NEWLINE);
	if (c->conninfo && *c->conninfo)
		vty_out(vty, " conninfo %s%s", c->conninfo, VTY_NEWLINE);
	if (c->schema)
		vty_out(vty, " schema %s%s", c->schema, VTY_NEWLINE);
	vty_out(vty, " statement-timeout %u%s", c->statement_timeout_ms, VTY_NEWLINE);
	return CMD_SUCCESS;
}

DEFUN(show_database, show_database_cmd, "show database",
      SHOW_STR "Database connection and schema\n")
{
	struct db *db = g_app->db;
	unsigned int version = 0;
	char *ci;

	if (!db) {
		vty_out(vty, "Database: not open%s", VTY_NEWLINE);
		return CMD_SUCCESS;
	}
	ci = db_conninfo_redacted(db, db->conninfo);
	vty_out(vty, "Database: %s%s", *ci ? ci : "(from PG* environment)", VTY_NEWLINE);
	talloc_free(ci);
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK) {
		int v = PQserverVersion(db->conn);
		vty_out(vty, " Connected to PostgreSQL %d.%d, database %s on %s%s", v / 10000, v % 10000,
			PQdb(db->conn), PQhost(db->conn), VTY_NEWLINE);
	} else {
		vty_out(vty, " Not connected%s", VTY_NEWLINE);
	}
	vty_out(vty, " Schema: %s, expected version %u", db->schema, g_app->schema->num_migrations);
	if (!db->in_txn && db_schema_version(db, &version) == 0)
		vty_out(vty, ", database version %u", version);
	vty_out(vty, "%s", VTY_NEWLINE);
	vty_out(vty, " Statement timeout: %u ms, prepared statements: %u%s", db->statement_timeout_ms,
		db->num_stmts, VTY_NEWLINE);
	return CMD_SUCCESS;
}

static struct vty_app_info g_vty_info = {
	.version = PACKAGE_VERSION,
	.copyright = "Copyright (C) the sgp02 authors\r\n"
		     "License AGPLv3+: GNU AGPL version 3 or later <http://gnu.org/licenses/agpl-3.0.html>\r\n"
		     "This is free software: you are free to change and redistribute it.\r\n"
		     "There is NO WARRANTY, to the extent permitted by law.\r\n",
};

void sgp02_app_init_vty(struct sgp02_app *app, void *ctx)
{
	g_app = app;
	app->ctx = ctx;
	if (!app->db_cfg.statement_timeout_ms)
		app->db_cfg.statement_timeout_ms = 5000;

	msgb_talloc_ctx_init(ctx, 0);
	osmo_init_logging2(ctx, &sgp02_log_info);
	log_set_print_category(osmo_stderr_target, 1);
	log_set_print_category_hex(osmo_stderr_target, 0);
	log_set_print_level(osmo_stderr_target, 1);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);

	g_vty_info.name = app->name;
	g_vty_info.tall_ctx = ctx;
	vty_init(&g_vty_info);
	logging_vty_add_cmds();
	osmo_stats_vty_add_cmds();
	osmo_talloc_vty_add_cmds();
	osmo_fsm_vty_add_cmds();

	install_element(CONFIG_NODE, &cfg_database_cmd);
	install_node(&database_node, config_write_database);
	install_element(SGP02_DATABASE_NODE, &cfg_db_conninfo_cmd);
	install_element(SGP02_DATABASE_NODE, &cfg_db_schema_cmd);
	install_element(SGP02_DATABASE_NODE, &cfg_db_timeout_cmd);
	install_element_ve(&show_database_cmd);

	if (app->tdef_groups) {
		struct osmo_tdef_group *g;
		for (g = app->tdef_groups; g->name; g++)
			osmo_tdefs_reset(g->tdefs);
		osmo_tdef_vty_groups_init(CONFIG_NODE, app->tdef_groups);
	}
	if (app->vty_init)
		app->vty_init(app);

	g_app_stats = osmo_stat_item_group_alloc(ctx, &app_statg_desc, 0);
}

int sgp02_app_read_config(struct sgp02_app *app, const char *file)
{
	int rc = vty_read_config_file(file, NULL);

	if (rc < 0) {
		LOGP(DMAIN, LOGL_FATAL, "cannot read config file '%s': %s\n", file,
		     access(file, R_OK) ? strerror(errno) : "invalid configuration (see the line reported above)");
		return rc == -ENOENT || access(file, R_OK) ? -ENOENT : -EINVAL;
	}
	return 0;
}

int sgp02_app_open_db(struct sgp02_app *app)
{
	const char *schema = app->db_cfg.schema ? app->db_cfg.schema : app->schema->schema;
	unsigned int version = 0;
	int rc;

	app->db = db_alloc(app->ctx, app->db_cfg.conninfo, schema, app->stmts, app->num_stmts);
	if (!app->db)
		return -EINVAL;
	app->db->statement_timeout_ms = app->db_cfg.statement_timeout_ms;
	if (app->tdef_groups)
		app->db->reconnect_tdef = osmo_tdef_get_entry(app->tdef_groups[0].tdefs, -1);
	rc = db_connect(app->db, app->name);
	if (rc < 0)
		return rc;
	app_stat_set(APP_STAT_DB_CONNECTED, 1);
	rc = db_schema_check(app->db, app->schema, app->opts.db_upgrade);
	if (rc < 0)
		return rc;
	if (db_schema_version(app->db, &version) == 0)
		app_stat_set(APP_STAT_DB_SCHEMA_VERSION, version);
	app->db->prepare_on_connect = true;
	rc = db_prepare(app->db);
	if (rc < 0)
		return rc;
	LOGP(DDB, LOGL_NOTICE, "database schema %s at version %u\n", schema, version);
	return 0;
}

void sgp02_app_cleanup(struct sgp02_app *app)
{
	if (app->db) {
		talloc_free(app->db);
		app->db = NULL;
	}
	if (g_app_stats) {
		osmo_stat_item_group_free(g_app_stats);
		g_app_stats = NULL;
	}
	app_stat_set(APP_STAT_DB_CONNECTED, 0);
}

/* ---------------------------------------------------------------- signals and main */

static void signal_cb(struct osmo_signalfd *osfd, const struct signalfd_siginfo *fdsi)
{
	switch (fdsi->ssi_signo) {
	case SIGINT:
	case SIGTERM:
		LOGP(DMAIN, LOGL_NOTICE, "signal %u received, shutting down\n", fdsi->ssi_signo);
		osmo_select_shutdown_request();
		break;
	case SIGUSR1:
		/* talloc report of everything the daemon holds, for hunting leaks in production */
		talloc_report_full(g_app->ctx, stderr);
		break;
	default:
		break;
	}
}

static void print_help(const struct sgp02_app *app)
{
	printf("%s %s: %s\n\n", app->name, PACKAGE_VERSION, app->description);
	printf("Usage: %s [options]\n", app->name);
	printf("  -c, --config-file FILE  read configuration from FILE (default: %s)\n", app->default_config);
	printf("      --db-upgrade        apply pending database schema migrations, then run\n");
	printf("      --db-upgrade-only   apply pending database schema migrations, then exit\n");
	printf("  -V, --version           print the version and exit\n");
	printf("  -h, --help              this text\n");
	printf("\nThe VTY listens on 127.0.0.1 port %d unless the config file says otherwise "
	       "('line vty' / 'bind').\n", app->default_vty_port);
}

static int parse_options(struct sgp02_app *app, int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "config-file", required_argument, NULL, 'c' },
		{ "db-upgrade", no_argument, NULL, 'U' },
		{ "db-upgrade-only", no_argument, NULL, 'O' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	app->opts.config_file = app->default_config;
	while ((c = getopt_long(argc, argv, "c:Vh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			app->opts.config_file = optarg;
			break;
		case 'U':
			app->opts.db_upgrade = true;
			break;
		case 'O':
			app->opts.db_upgrade = true;
			app->opts.db_upgrade_only = true;
			break;
		case 'V':
			printf("%s %s\n", app->name, PACKAGE_VERSION);
			return 0;
		case 'h':
			print_help(app);
			return 0;
		default:
			fprintf(stderr, "Try '%s --help'.\n", app->name);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'. Try '%s --help'.\n", app->name, argv[optind], app->name);
		return 2;
	}
	return -1;
}

int sgp02_app_main(struct sgp02_app *app, int argc, char **argv)
{
	struct osmo_signalfd *sfd;
	sigset_t sigs;
	void *root;
	int rc;

	rc = parse_options(app, argc, argv);
	if (rc >= 0)
		return rc;

	root = talloc_named_const(NULL, 0, app->name);
	sgp02_app_init_vty(app, root);

	if (sgp02_app_read_config(app, app->opts.config_file) < 0) {
		rc = 1;
		goto out;
	}

	/* Signals are read from a signalfd in the event loop: no work in signal context. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = osmo_signalfd_setup(root, sigs, signal_cb, NULL);
	if (!sfd) {
		LOGP(DMAIN, LOGL_FATAL, "cannot set up the signal fd\n");
		rc = 1;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);

	rc = sgp02_app_open_db(app);
	if (rc < 0) {
		if (rc == -ECONNREFUSED)
			LOGP(DMAIN, LOGL_FATAL, "cannot connect to the database: check 'database' / 'conninfo' in %s "
			     "and the PG* environment\n", app->opts.config_file);
		rc = 1;
		goto out_fd;
	}
	if (app->opts.db_upgrade_only) {
		LOGP(DMAIN, LOGL_NOTICE, "database schema is up to date; exiting (--db-upgrade-only)\n");
		rc = 0;
		goto out_db;
	}

	rc = telnet_init_default(root, NULL, app->default_vty_port);
	if (rc < 0) {
		LOGP(DMAIN, LOGL_FATAL, "cannot bind the VTY telnet port %s:%d: %s\n", vty_get_bind_addr(),
		     vty_get_bind_port(app->default_vty_port), strerror(errno));
		rc = 1;
		goto out_db;
	}

	if (app->start && app->start(app) != 0) {
		rc = 1;
		goto out_telnet;
	}

	LOGP(DMAIN, LOGL_NOTICE, "%s %s started; VTY on %s:%d\n", app->name, PACKAGE_VERSION,
	     vty_get_bind_addr(), vty_get_bind_port(app->default_vty_port));

	while (!osmo_select_shutdown_done())
		osmo_select_main_ctx(0);

	LOGP(DMAIN, LOGL_NOTICE, "%s stopped\n", app->name);
	rc = 0;
	if (app->stop)
		app->stop(app);
out_telnet:
	telnet_exit();
out_db:
	sgp02_app_cleanup(app);
out_fd:
	osmo_fd_unregister(&sfd->ofd);
	close(sfd->ofd.fd);
out:
	log_fini();
	talloc_free(root);
	return rc;
}
