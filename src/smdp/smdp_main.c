/* sgp02-smdp: the SM-DP daemon (SGP.02). This file: start-up, VTY, timers, counters. */
#include <stdio.h>
#include <string.h>

#include <osmocom/core/utils.h>
#include <osmocom/core/tdef.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/app.h>
#include <sgp02/common/db.h>
#include <sgp02/common/db_schema.h>
#include <sgp02/ws/ws_catalog.h>
#include <sgp02/ws/ws_daemon.h>
#include "smdp.h"

/* Every timer of the SM-DP, changeable from the VTY ("timer smdp X1 30"). */
struct osmo_tdef g_smdp_tdefs[] = {
	{ .T = -1, .default_val = 5, .unit = OSMO_TDEF_S,
	  .desc = "Least interval between attempts to reconnect to PostgreSQL while it is unreachable" },
	{}
};

static struct osmo_tdef_group smdp_tdef_groups[] = {
	{ .name = "smdp", .desc = "SM-DP timers", .tdefs = g_smdp_tdefs },
	{}
};

DEFUN(show_smdp_inventory, show_smdp_inventory_cmd, "show smdp inventory",
      SHOW_STR "SM-DP\n" "Number of ICCIDs in the profile inventory\n")
{
	long total, avail;
	int rc = db_smdp_inventory_counts(g_app, &total, &avail);

	if (rc < 0) {
		vty_out(vty, "%% database error: %s%s", strerror(-rc), VTY_NEWLINE);
		return CMD_WARNING;
	}
	vty_out(vty, "ICCIDs: %ld, available: %ld%s", total, avail, VTY_NEWLINE);
	return CMD_SUCCESS;
}

/* The SOAP services of the SM-DP (SGP.02 Annex B; paths in wsdl/README.md): ES2 for operators, and the
 * receiver of the SM-SR's ES3 callbacks and notifications. Functions get handlers as they are built; until
 * then they answer a Receiver Fault saying so. */
static const struct ws_daemon_service smdp_services[] = {
	{ "ES2SmDpService", "/ES2", ws_ops_ES2SmDpService, "ES2_SMDP.wsdl" },
	{ "ES3SmDpService", "/ES3/callback", ws_ops_ES3SmDpService, "ES3_SMDP.wsdl" },
};

static void smdp_vty_init(struct sgp02_app *app)
{
	install_element_ve(&show_smdp_inventory_cmd);
	smdp_prep_vty_init(app);
	ws_daemon_vty_init(app, 4444);
}

static int smdp_start(struct sgp02_app *app)
{
	int rc = smdp_prep_start(app);

	if (rc < 0)
		return rc;
	return ws_daemon_start(app, smdp_services, ARRAY_SIZE(smdp_services));
}

static void smdp_stop(struct sgp02_app *app)
{
	ws_daemon_stop();
	smdp_prep_stop(app);
}

static struct sgp02_app g_smdp_app = {
	.name = "sgp02-smdp",
	.description = "SGP.02 SM-DP (subscription manager, data preparation)",
	.default_config = "sgp02-smdp.cfg",
	.default_vty_port = 4259,
	.schema = &db_schema_smdp,
	.stmts = smdp_stmts,
	.num_stmts = _NUM_SMDP_STMT,
	.tdef_groups = smdp_tdef_groups,
	.vty_init = smdp_vty_init,
	.start = smdp_start,
	.stop = smdp_stop,
};

int main(int argc, char **argv)
{
	return sgp02_app_main(&g_smdp_app, argc, argv);
}
