/* The SM-SR's SMPP binds: configuration, start/stop, VTY; see smsr_smpp.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/tdef.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/app.h>
#include <sgp02/common/smpp.h>
#include "esme.h"
#include "smsr_smpp.h"

#define MAX_BINDS 16

struct smsr_smpp_cfg {
	struct {
		char *name, *host, *system_id, *password;
		uint16_t port;
		unsigned int rate, window;
	} binds[MAX_BINDS];
	unsigned int num_binds;
	char *source_addr;
	struct esme_cfg esme;
};

static struct smsr_smpp_cfg g_cfg;
static struct esme *g_esme;
static struct sgp02_app *g_smpp_app;
static smsr_smpp_mo_cb g_mo_cb;
static void *g_mo_data;

static struct cmd_node smpp_node = {
	SGP02_SMPP_NODE,
	"%s(config-smpp)# ",
	1,
};

static void set_str(char **dst, const char *val)
{
	talloc_free(*dst);
	*dst = val ? talloc_strdup(g_smpp_app->ctx, val) : NULL;
}

DEFUN(cfg_smpp, cfg_smpp_cmd, "smpp",
      "Configure the SMS bearer: SMPP 3.4 binds to the SMSC(s)\n")
{
	vty->node = SGP02_SMPP_NODE;
	return CMD_SUCCESS;
}

DEFUN(cfg_smpp_bind, cfg_smpp_bind_cmd,
      "bind NAME A.B.C.D <1-65535> system-id ID password PASSWORD rate <0-100000> window <1-1000>",
      "A transceiver bind to an SMSC (several binds share the traffic)\n" "Name for logs and counters\n"
      "SMSC address\n" "SMSC port\n" "system_id\n" "At most 15 characters\n" "password\n"
      "At most 8 characters (never logged)\n" "submit_sm per second at most on this bind\n" "0: no limit\n"
      "Unanswered submit_sm at most\n" "Window size\n")
{
	unsigned int i;

	if (strlen(argv[3]) > 15 || strlen(argv[4]) > 8) {
		vty_out(vty, "%% system-id has at most 15 and password at most 8 characters (SMPP 3.4 5.2.1)%s",
			VTY_NEWLINE);
		return CMD_WARNING;
	}
	for (i = 0; i < g_cfg.num_binds && strcmp(g_cfg.binds[i].name, argv[0]); i++)
		;
	if (i == MAX_BINDS) {
		vty_out(vty, "%% at most %u binds%s", MAX_BINDS, VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (i == g_cfg.num_binds) {
		memset(&g_cfg.binds[i], 0, sizeof(g_cfg.binds[i]));
		g_cfg.num_binds++;
	}
	set_str(&g_cfg.binds[i].name, argv[0]);
	set_str(&g_cfg.binds[i].host, argv[1]);
	g_cfg.binds[i].port = atoi(argv[2]);
	set_str(&g_cfg.binds[i].system_id, argv[3]);
	set_str(&g_cfg.binds[i].password, argv[4]);
	g_cfg.binds[i].rate = atoi(argv[5]);
	g_cfg.binds[i].window = atoi(argv[6]);
	return CMD_SUCCESS;
}

DEFUN(cfg_smpp_source, cfg_smpp_source_cmd, "source-address ADDR",
      "Our SMS address (the SM-SR's short code) in submit_sm\n" "Digits\n")
{
	set_str(&g_cfg.source_addr, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_smpp_dcs, cfg_smpp_dcs_cmd, "data-coding <0-255>",
      "TP-DCS of the secured packets (default 246 = 0xF6: 8-bit data, class 2; TS 23.038)\n" "Value\n")
{
	g_cfg.esme.data_coding = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_smpp_queue, cfg_smpp_queue_cmd, "max-queue <1-10000000>",
      "Messages waiting for a bind at most; beyond, new ones are refused\n" "Messages\n")
{
	g_cfg.esme.max_queue = atoi(argv[0]);
	return CMD_SUCCESS;
}

static int config_write_smpp(struct vty *vty)
{
	unsigned int i;

	vty_out(vty, "smpp%s", VTY_NEWLINE);
	for (i = 0; i < g_cfg.num_binds; i++)
		vty_out(vty, " bind %s %s %u system-id %s password %s rate %u window %u%s", g_cfg.binds[i].name,
			g_cfg.binds[i].host, g_cfg.binds[i].port, g_cfg.binds[i].system_id, g_cfg.binds[i].password,
			g_cfg.binds[i].rate, g_cfg.binds[i].window, VTY_NEWLINE);
	if (g_cfg.source_addr)
		vty_out(vty, " source-address %s%s", g_cfg.source_addr, VTY_NEWLINE);
	vty_out(vty, " data-coding %u%s", g_cfg.esme.data_coding, VTY_NEWLINE);
	vty_out(vty, " max-queue %u%s", g_cfg.esme.max_queue, VTY_NEWLINE);
	return CMD_SUCCESS;
}

DEFUN(show_smpp, show_smpp_cmd, "show smpp",
      SHOW_STR "SMPP binds of the SMS bearer\n")
{
	const struct esme_stats *st;
	unsigned int i;

	if (!g_esme) {
		vty_out(vty, "SMPP: no bind configured%s", VTY_NEWLINE);
		return CMD_SUCCESS;
	}
	st = esme_get_stats(g_esme);
	vty_out(vty, "SMPP: %u of %u binds up, %u messages queued%s", esme_bound_count(g_esme), g_cfg.num_binds,
		esme_queue_len(g_esme), VTY_NEWLINE);
	for (i = 0; i < g_cfg.num_binds; i++) {
		uint32_t refusal = esme_bind_last_refusal(g_esme, g_cfg.binds[i].name);
		vty_out(vty, " %s %s:%u system-id %s, sent %lu%s%s%s", g_cfg.binds[i].name, g_cfg.binds[i].host,
			g_cfg.binds[i].port, g_cfg.binds[i].system_id, esme_bind_sent(g_esme, g_cfg.binds[i].name),
			refusal ? ", last refusal " : "", refusal ? smpp_status_name(refusal) : "", VTY_NEWLINE);
	}
	vty_out(vty, " submitted %lu, accepted %lu, throttled %lu, queue full %lu, resubmitted %lu, failed %lu%s",
		st->submitted, st->accepted, st->throttled, st->queue_full, st->resubmitted, st->failed, VTY_NEWLINE);
	vty_out(vty, " received %lu, receipts %lu, binds %lu, bind failures %lu%s", st->received, st->receipts,
		st->binds, st->bind_failures, VTY_NEWLINE);
	return CMD_SUCCESS;
}

void smsr_smpp_vty_init(struct sgp02_app *app)
{
	g_smpp_app = app;
	esme_cfg_defaults(&g_cfg.esme);
	install_element(CONFIG_NODE, &cfg_smpp_cmd);
	install_node(&smpp_node, config_write_smpp);
	install_element(SGP02_SMPP_NODE, &cfg_smpp_bind_cmd);
	install_element(SGP02_SMPP_NODE, &cfg_smpp_source_cmd);
	install_element(SGP02_SMPP_NODE, &cfg_smpp_dcs_cmd);
	install_element(SGP02_SMPP_NODE, &cfg_smpp_queue_cmd);
	install_element_ve(&show_smpp_cmd);
}

static void submit_result(struct esme *e, void *msg_data, int err, uint32_t status, const char *message_id)
{
	/* ES5 procedures pass their own msg_data and handle results; nothing is submitted here yet */
}

static uint32_t mo_cb(struct esme *e, const struct esme_mo *mo, void *data)
{
	if (g_mo_cb)
		return g_mo_cb(mo, g_mo_data);
	LOGP(DSMPP, LOGL_NOTICE, "MO from %s on bind %s (%zu octets, PID 0x%02x): no ES5 handler yet, "
	     "acknowledged and dropped\n", mo->source_addr, mo->bind, mo->ud_len, mo->protocol_id);
	return 0;
}

static const struct esme_ops smsr_esme_ops = {
	.submit_result = submit_result,
	.mo = mo_cb,
};

int smsr_smpp_start(struct sgp02_app *app)
{
	unsigned int i;

	if (!g_cfg.num_binds) {
		LOGP(DSMPP, LOGL_NOTICE, "no SMPP bind configured: ES5 over SMS is off\n");
		return 0;
	}
	g_cfg.esme.source_addr = g_cfg.source_addr ? g_cfg.source_addr : "";
	g_esme = esme_alloc(app->ctx, &g_cfg.esme, &smsr_esme_ops, NULL);
	if (!g_esme)
		return -ENOMEM;
	for (i = 0; i < g_cfg.num_binds; i++) {
		struct esme_bind_cfg bc = {
			.name = g_cfg.binds[i].name,
			.host = g_cfg.binds[i].host,
			.port = g_cfg.binds[i].port,
			.system_id = g_cfg.binds[i].system_id,
			.password = g_cfg.binds[i].password,
			.rate = g_cfg.binds[i].rate,
			.window = g_cfg.binds[i].window,
		};
		int rc = esme_add_bind(g_esme, &bc);
		if (rc < 0) {
			LOGP(DSMPP, LOGL_FATAL, "SMPP bind %s: %s\n", bc.name, strerror(-rc));
			return rc;
		}
	}
	esme_start(g_esme);
	return 0;
}

void smsr_smpp_stop(void)
{
	if (!g_esme)
		return;
	esme_stop(g_esme);
	TALLOC_FREE(g_esme);
}

struct esme *smsr_smpp_esme(void)
{
	return g_esme;
}

void smsr_smpp_set_mo_handler(smsr_smpp_mo_cb cb, void *data)
{
	g_mo_cb = cb;
	g_mo_data = data;
}
