/*! \file smdp_prep_vty.c
 * Configuration and VTY of SM-DP profile preparation in sgp02-smdp: the `smdp` node (key-encryption key of the
 * personalisation secrets, what a failed download does with its ICCID) and show commands for the templates and
 * the inventory. The preparation itself is in smdp_prep.c; imports are done with `sgp02-ctl smdp`. */
#include <errno.h>
#include <string.h>

#include <talloc.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/command.h>
#include <osmocom/vty/vty.h>

#include <sgp02/common/app.h>
#include <sgp02/common/db.h>
#include <sgp02/common/logging.h>

#include "smdp.h"
#include <sgp02/common/kek.h>
#include "smdp_prep.h"

static struct {
	void *ctx;
	char *kek_file;
	enum smdp_fail_policy fail_policy;
	struct kek *kek;	/*!< loaded by smdp_prep_start() */
} g_prep;

const struct kek *smdp_prep_kek(void)
{
	return g_prep.kek;
}

enum smdp_fail_policy smdp_prep_fail_policy(void)
{
	return g_prep.fail_policy;
}

static struct cmd_node smdp_node = {
	SGP02_SMDP_NODE,
	"%s(config-smdp)# ",
	1,
};

DEFUN(cfg_smdp, cfg_smdp_cmd, "smdp", "Configure the SM-DP (profile preparation)\n")
{
	vty->node = SGP02_SMDP_NODE;
	return CMD_SUCCESS;
}

DEFUN(cfg_smdp_kek, cfg_kek_cmd, "key-encryption-key FILE",
      "Key-encryption key of the personalisation secrets at rest (AES-256-GCM)\n"
      "File with 32 bytes, raw or as 64 hex digits\n")
{
	osmo_talloc_replace_string(g_prep.ctx, &g_prep.kek_file, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_smdp_fail_policy, cfg_smdp_fail_policy_cmd, "failed-download-iccid (return|unusable)",
      "What a failed download does with the ICCID it reserved\n"
      "Return it to the inventory (available again)\n" "Mark it unusable\n")
{
	g_prep.fail_policy = strcmp(argv[0], "return") ? SMDP_FAIL_UNUSABLE : SMDP_FAIL_RETURN;
	return CMD_SUCCESS;
}

static int config_write_smdp(struct vty *vty)
{
	vty_out(vty, "smdp%s", VTY_NEWLINE);
	if (g_prep.kek_file)
		vty_out(vty, " key-encryption-key %s%s", g_prep.kek_file, VTY_NEWLINE);
	vty_out(vty, " failed-download-iccid %s%s", g_prep.fail_policy == SMDP_FAIL_RETURN ? "return" : "unusable",
		VTY_NEWLINE);
	return CMD_SUCCESS;
}

DEFUN(show_smdp_inventory_detail, show_smdp_inventory_detail_cmd, "show smdp inventory detail",
      SHOW_STR "SM-DP\n" "ICCID inventory\n" "Counts per operator, profile type and state\n")
{
	struct smdp_inv_count *c;
	unsigned int n, i, s;
	void *tmp = talloc_new(NULL);
	int rc = smdp_inventory_counts(tmp, g_app->db, &c, &n);

	if (rc < 0) {
		vty_out(vty, "%% database error: %s%s", strerror(-rc), VTY_NEWLINE);
		talloc_free(tmp);
		return CMD_WARNING;
	}
	for (i = 0; i < n; i++) {
		vty_out(vty, "%s '%s':", c[i].mno_id, c[i].profile_type);
		for (s = 0; s < _SMDP_INV_NUM; s++)
			vty_out(vty, " %s %ld", smdp_inv_state_name(s), c[i].n[s]);
		vty_out(vty, "%s", VTY_NEWLINE);
	}
	talloc_free(tmp);
	return CMD_SUCCESS;
}

DEFUN(show_smdp_templates, show_smdp_templates_cmd, "show smdp templates",
      SHOW_STR "SM-DP\n" "Profile templates per operator and profile type\n")
{
	PGresult *res;
	int rc, i;

	rc = db_exec_params(g_app->db, "SELECT mno_id, profile_type, octet_length(package), pe_count, saip_major,"
			    " saip_minor, header_type, imported_at FROM profile_template ORDER BY 1, 2", 0, NULL, NULL,
			    NULL, &res);
	if (rc < 0) {
		vty_out(vty, "%% database error: %s%s", strerror(-rc), VTY_NEWLINE);
		return CMD_WARNING;
	}
	for (i = 0; i < PQntuples(res); i++)
		vty_out(vty, "%s '%s': %s bytes, %s PEs, SAIP %s.%s, header type '%s', imported %s%s",
			PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), PQgetvalue(res, i, 3),
			PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), PQgetvalue(res, i, 6), PQgetvalue(res, i, 7),
			VTY_NEWLINE);
	PQclear(res);
	return CMD_SUCCESS;
}

void smdp_prep_vty_init(struct sgp02_app *app)
{
	g_prep.ctx = app->ctx;
	g_prep.fail_policy = SMDP_FAIL_RETURN;
	install_element(CONFIG_NODE, &cfg_smdp_cmd);
	install_node(&smdp_node, config_write_smdp);
	install_element(SGP02_SMDP_NODE, &cfg_kek_cmd);
	install_element(SGP02_SMDP_NODE, &cfg_smdp_fail_policy_cmd);
	install_element_ve(&show_smdp_inventory_detail_cmd);
	install_element_ve(&show_smdp_templates_cmd);
}

int smdp_prep_start(struct sgp02_app *app)
{
	int rc;

	if (!g_prep.kek_file) {
		LOGP(DSMDP, LOGL_NOTICE, "no key-encryption-key configured (smdp node): profiles cannot be"
		     " personalised\n");
		return 0;
	}
	rc = kek_load(app->ctx, g_prep.kek_file, &g_prep.kek);
	if (rc < 0) {
		LOGP(DSMDP, LOGL_FATAL, "key-encryption-key %s: %s\n", g_prep.kek_file,
		     rc == -EINVAL ? "not 32 bytes raw nor 64 hex digits" : strerror(-rc));
		return rc;
	}
	return 0;
}

void smdp_prep_stop(struct sgp02_app *app)
{
	TALLOC_FREE(g_prep.kek);	/* wiped by its destructor */
}
