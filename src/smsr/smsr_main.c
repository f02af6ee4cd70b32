/* sgp02-smsr: the SM-SR daemon (SGP.02). This file: start-up, VTY, timers, counters. */
#include <stdio.h>
#include <string.h>

#include <osmocom/core/utils.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/tdef.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/app.h>
#include <sgp02/common/db.h>
#include <sgp02/common/db_schema.h>
#include <sgp02/ws/ws_catalog.h>
#include <sgp02/ws/ws_daemon.h>
#include "esme.h"
#include "smsr.h"
#include "smsr_smpp.h"
#include "smsr_es.h"
#include "eis_registry.h"

/* Every timer of the SM-SR, changeable from the VTY ("timer smsr X1 30"). */
struct osmo_tdef g_smsr_tdefs[] = {
	{ .T = -1, .default_val = 5, .unit = OSMO_TDEF_S,
	  .desc = "Least interval between attempts to reconnect to PostgreSQL while it is unreachable" },
	{}
};

static struct osmo_tdef_group smsr_tdef_groups[] = {
	{ .name = "smsr", .desc = "SM-SR timers", .tdefs = g_smsr_tdefs },
	{ .name = "esme", .desc = "SMPP binds to the SMSC (ESME) timers", .tdefs = esme_tdefs },
	{}
};

DEFUN(show_smsr_summary, show_smsr_summary_cmd, "show smsr summary",
      SHOW_STR "SM-SR\n" "Number of eUICCs and profiles in the EIS\n")
{
	long n_eis, n_prof;
	int rc = db_smsr_counts(g_app, &n_eis, &n_prof);

	if (rc < 0) {
		vty_out(vty, "%% database error: %s%s", strerror(-rc), VTY_NEWLINE);
		return CMD_WARNING;
	}
	vty_out(vty, "eUICCs: %ld, profiles: %ld%s", n_eis, n_prof, VTY_NEWLINE);
	return CMD_SUCCESS;
}

/* The SOAP services of the SM-SR (SGP.02 Annex B; paths in wsdl/README.md). Functions get handlers as they
 * are built; until then they answer a Receiver Fault saying so. */
static const struct ws_daemon_service smsr_services[] = {
	{ "ES1SmSrService", "/ES1", ws_ops_ES1SmSrService, "ES1_SMSR.wsdl" },
	{ "ES3SmSrService", "/ES3", ws_ops_ES3SmSrService, "ES3_SMSR.wsdl" },
	{ "ES4SmSrService", "/ES4", ws_ops_ES4SmSrService, "ES4_SMSR.wsdl" },
	{ "ES7SmSrService", "/ES7", ws_ops_ES7SmSrService, "ES7_SMSR.wsdl" },
	{ "ES7SmSrProviderService", "/ES7/async", ws_ops_ES7SmSrProviderService, "ES7_SMSR_Provider.wsdl" },
	{ "ES7SmSrRequesterService", "/ES7/callback", ws_ops_ES7SmSrRequesterService, "ES7_SMSR_Requester.wsdl" },
};

static void smsr_vty_init(struct sgp02_app *app)
{
	install_element_ve(&show_smsr_summary_cmd);
	smsr_registry_vty_init(app);
	ws_daemon_vty_init(app, 4443);
	smsr_smpp_vty_init(app);
}

static int smsr_start(struct sgp02_app *app)
{
	int rc = smsr_registry_start(app);

	if (rc < 0)
		return rc;
	rc = ws_daemon_start(app, smsr_services, ARRAY_SIZE(smsr_services));
	if (rc < 0)
		return rc;
	rc = smsr_es1_init(app);
	if (rc == 0)
		rc = smsr_geteis_init(app);
	if (rc == 0)
		rc = smsr_smpp_start(app);
	return rc;
}

static void smsr_stop(struct sgp02_app *app)
{
	smsr_smpp_stop();
	ws_daemon_stop();
	smsr_registry_stop();
}

static struct sgp02_app g_smsr_app = {
	.name = "sgp02-smsr",
	.description = "SGP.02 SM-SR (subscription manager, secure routing)",
	.default_config = "sgp02-smsr.cfg",
	.default_vty_port = 4258,
	.schema = &db_schema_smsr,
	.stmts = smsr_stmts,
	.num_stmts = _NUM_SMSR_STMT,
	.tdef_groups = smsr_tdef_groups,
	.vty_init = smsr_vty_init,
	.start = smsr_start,
	.stop = smsr_stop,
};

int main(int argc, char **argv)
{
	return sgp02_app_main(&g_smsr_app, argc, argv);
}
