/* Tests of the configuration file handling shared by the daemons (app.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <talloc.h>
#include <osmocom/core/tdef.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>

#include <sgp02/common/app.h>
#include <sgp02/common/db_schema.h>
#include <sgp02/ws/ws_daemon.h>

#include "testlib.h"

static struct osmo_tdef t_tdefs[] = {
	{ .T = -1, .default_val = 5, .unit = OSMO_TDEF_S, .desc = "test timer" },
	{}
};

static struct osmo_tdef_group t_groups[] = {
	{ .name = "test", .desc = "test timers", .tdefs = t_tdefs },
	{}
};

static struct sgp02_app t_app = {
	.name = "config_test",
	.description = "test",
	.default_config = "none.cfg",
	.default_vty_port = 4999,
	.schema = &db_schema_smsr,
	.tdef_groups = t_groups,
};

static void *g_root;

static char *data_file(const char *name)
{
	return talloc_asprintf(g_test_ctx, "%s/tests/common/data/%s", SGP02_SRCDIR, name);
}

static void reset_cfg(void)
{
	TALLOC_FREE(t_app.db_cfg.conninfo);
	TALLOC_FREE(t_app.db_cfg.schema);
	t_app.db_cfg.statement_timeout_ms = 5000;
	osmo_tdefs_reset(t_tdefs);
}

static void test_full_config(void)
{
	reset_cfg();
	CU_ASSERT_EQUAL(sgp02_app_read_config(&t_app, data_file("full.cfg")), 0);
	CU_ASSERT_STRING_EQUAL(t_app.db_cfg.conninfo, "host=/var/run/postgresql port=5433 dbname=sgp02 user=smsr");
	CU_ASSERT_STRING_EQUAL(t_app.db_cfg.schema, "smsr_site2");
	CU_ASSERT_EQUAL(t_app.db_cfg.statement_timeout_ms, 1234);
	CU_ASSERT_EQUAL(osmo_tdef_get(t_tdefs, -1, OSMO_TDEF_S, -1), 17);
	CU_ASSERT_STRING_EQUAL(vty_get_bind_addr(), "127.0.0.1");
	CU_ASSERT_EQUAL(vty_get_bind_port(1), 4999);
}

static void test_defaults(void)
{
	reset_cfg();
	CU_ASSERT_EQUAL(t_app.db_cfg.statement_timeout_ms, 5000);
	CU_ASSERT_PTR_NULL(t_app.db_cfg.conninfo);
	CU_ASSERT_EQUAL(osmo_tdef_get(t_tdefs, -1, OSMO_TDEF_S, -1), 5);
}

static void test_bad_schema_name(void)
{
	reset_cfg();
	CU_ASSERT(sgp02_app_read_config(&t_app, data_file("bad_schema.cfg")) < 0);
	CU_ASSERT_PTR_NULL(t_app.db_cfg.schema);
}

static void test_unknown_command(void)
{
	reset_cfg();
	CU_ASSERT(sgp02_app_read_config(&t_app, data_file("unknown_cmd.cfg")) < 0);
}

static void test_bad_timeout(void)
{
	reset_cfg();
	CU_ASSERT(sgp02_app_read_config(&t_app, data_file("bad_timeout.cfg")) < 0);
	CU_ASSERT_EQUAL(t_app.db_cfg.statement_timeout_ms, 5000);
}

static void test_unknown_timer(void)
{
	reset_cfg();
	CU_ASSERT(sgp02_app_read_config(&t_app, data_file("bad_timer.cfg")) < 0);
}

static void test_missing_file(void)
{
	CU_ASSERT_EQUAL(sgp02_app_read_config(&t_app, "/nonexistent/sgp02.cfg"), -ENOENT);
}

static void test_shipped_configs(void)
{
	/* the configs in conf/ must parse; both use the same common nodes */
	static const char *files[] = { "sgp02-smsr.cfg", "sgp02-smdp.cfg" };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		char *f = talloc_asprintf(g_test_ctx, "%s/conf/%s", SGP02_SRCDIR, files[i]);
		reset_cfg();
		CU_ASSERT_EQUAL(sgp02_app_read_config(&t_app, f), 0);
		CU_ASSERT_STRING_EQUAL(t_app.db_cfg.conninfo, "dbname=sgp02");
	}
}

static int suite_init(void)
{
	g_root = talloc_named_const(NULL, 0, "config_test");
	sgp02_app_init_vty(&t_app, g_root);
	/* the daemons' config files also carry the web-service node */
	ws_daemon_vty_init(&t_app, 0);
	return 0;
}

static int suite_cleanup(void)
{
	sgp02_app_cleanup(&t_app);
	return 0;
}

static const struct test_case cases[] = {
	TEST_CASE(test_defaults),
	TEST_CASE(test_full_config),
	TEST_CASE(test_bad_schema_name),
	TEST_CASE(test_unknown_command),
	TEST_CASE(test_bad_timeout),
	TEST_CASE(test_unknown_timer),
	TEST_CASE(test_missing_file),
	TEST_CASE(test_shipped_configs),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "config", suite_init, suite_cleanup, cases },
	{ NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
