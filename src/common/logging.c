/* Log categories of sgp02 (see logging.h). */
#include <osmocom/core/utils.h>
#include <sgp02/common/logging.h>

static const struct log_info_cat sgp02_log_cats[] = {
	[DMAIN] = {
		.name = "DMAIN", .description = "Start-up, shutdown and configuration",
		.color = "\033[1;35m", .enabled = 1, .loglevel = LOGL_NOTICE,
	},
	[DDB] = {
		.name = "DDB", .description = "PostgreSQL access and schema management",
		.color = "\033[1;36m", .enabled = 1, .loglevel = LOGL_NOTICE,
	},
	[DSMSR] = {
		.name = "DSMSR", .description = "SM-SR procedures",
		.color = "\033[1;32m", .enabled = 1, .loglevel = LOGL_NOTICE,
	},
	[DSMDP] = {
		.name = "DSMDP", .description = "SM-DP procedures",
		.color = "\033[1;33m", .enabled = 1, .loglevel = LOGL_NOTICE,
	},
	[DWS] = {
		.name = "DWS", .description = "SOAP web services (ES1, ES2, ES3, ES4, ES7)",
		.color = "\033[1;34m", .enabled = 1, .loglevel = LOGL_NOTICE,
	},
	[DHTTP] = {
		.name = "DHTTP", .description = "HTTP and TLS transport",
		.color = "\033[0;34m", .enabled = 1, .loglevel = LOGL_NOTICE,
	},
	[DSMPP] = {
		.name = "DSMPP", .description = "SMPP client and server",
		.color = "\033[0;32m", .enabled = 1, .loglevel = LOGL_NOTICE,
	},
	[DOTA] = {
		.name = "DOTA", .description = "OTA security and bearers: SCP80, SCP81, CAT_TP",
		.color = "\033[0;33m", .enabled = 1, .loglevel = LOGL_NOTICE,
	},
	[DFLEET] = {
		.name = "DFLEET", .description = "Simulated fleet of eUICCs",
		.color = "\033[0;35m", .enabled = 1, .loglevel = LOGL_NOTICE,
	},
};

const struct log_info sgp02_log_info = {
	.cat = sgp02_log_cats,
	.num_cat = ARRAY_SIZE(sgp02_log_cats),
};
