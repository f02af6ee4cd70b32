/*! \file fleet_main.c
 * sgp02-fleet: the simulated world of SGP.02 over SMS. An SMSC (SMPP 3.4 server, smsc.h) that the SM-SR's
 * ESME binds to, and N devices with eUICCs (device.h, euicc.h) that answer the SM-SR's command packets with
 * PoRs and notify profile switches, with seeded fault injection. It links no SM-SR/SM-DP code and needs no
 * database: it meets the SM-SR only on the wire.
 *
 *   sgp02-fleet --write-eis DIR [options]   write the EIS of every card (DIR/<EID>.xml, DIR/index.csv), exit
 *   sgp02-fleet [--eis-dir DIR] [options]   (write the EIS, then) run the SMSC and the devices until SIGTERM
 *
 * A telnet VTY on 127.0.0.1 (default port 4260) shows counters ("show fleet", "show fleet device N") and can
 * take a device offline ("fleet device N offline MS").
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <talloc.h>
#include <openssl/crypto.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/command.h>
#include <osmocom/vty/logging.h>
#include <osmocom/vty/misc.h>
#include <osmocom/vty/telnet_interface.h>
#include <osmocom/vty/vty.h>

#include "config.h"
#include <sgp02/common/logging.h>
#include <sgp02/common/smpp.h>
#include <sgp02/fleet/device.h>
#include <sgp02/fleet/euicc.h>
#include <sgp02/fleet/smsc.h>
#include <sgp02/gp/gp_apdu.h>

#define FLEET_DEFAULT_VTY_PORT	4260
#define FLEET_DEFAULT_SMPP_PORT	2775

struct fleet_opts {
	struct fleet_devices_cfg dev;
	const char *smsc_addr;
	int smsc_port;
	const char *system_id;
	const char *password;
	unsigned int smsc_rate;
	const char *write_eis;		/* write and exit */
	const char *eis_dir;		/* write and run */
	int vty_port;
	const char *config_file;
	unsigned int summary_s;
};

static struct {
	void *ctx;
	struct fleet_opts o;
	struct fleet_devices *fleet;
	struct smsc *smsc;
	struct osmo_timer_list summary_timer;
	volatile sig_atomic_t quit;
} g_fleet;

/* ------------------------------------------------------------------------------------------------------------
 * options
 */

static void usage(const char *prog)
{
	printf("Usage: %s [options]\n"
	       "Simulated SGP.02 fleet: an SMSC (SMPP server) and N devices with eUICCs.\n\n"
	       "  -n, --devices N          number of devices (default 100, at most %u)\n"
	       "  -k, --key-seed N         seed of the key material, EIDs, ICCIDs (default 1)\n"
	       "  -s, --seed N             seed of the fault injection PRNG (default 1)\n"
	       "      --msisdn-prefix D    MSISDN prefix, up to 7 digits (default 4915): prefix 0|1 index(7)\n"
	       "      --op-pol1 MASK       POL1 of the operational profile: 1 disable not allowed, 2 delete not\n"
	       "                           allowed, 4 delete when disabled (default 0)\n"
	       "      --strict-msisdn      MT only reaches a device on the MSISDN of its enabled profile\n"
	       "      --notif-retry-ms MS  notification re-send interval (default 30000)\n"
	       "      --notif-tries N      notification sends before roll-back (default 10)\n"
	       "      --smsr-address A     where notifications go (default: the sender of the last MT)\n"
	       "      --eum-id OID --smsr-id OID --mno-boot-id OID --mno-op-id OID   identities in the EIS\n"
	       "                           (default 1.3.6.1.4.1.99999. 30, 20, 2, 1)\n"
	       "  Faults (probabilities 0..1 per message):\n"
	       "      --drop-mt P  --drop-mo P  --dup-mt P  --dup-mo P  --delay P  --reorder P  --offline P\n"
	       "      --delay-ms MIN[-MAX] (default 100-2000)  --reorder-hold-ms MS (5000)  --offline-ms MS (60000)\n"
	       "  SMSC:\n"
	       "  -a, --smsc-addr A        SMPP listen address (default 127.0.0.1)\n"
	       "  -p, --smsc-port N        SMPP port (default %d, 0: any free port)\n"
	       "  -u, --system-id ID       system_id the SM-SR binds with (default sgp02smsr)\n"
	       "  -w, --password PW        its password (default fleetpw)\n"
	       "  -r, --smsc-rate N        submit_sm per second accepted (default 1000, 0: no limit)\n"
	       "  EIS:\n"
	       "      --write-eis DIR      write DIR/<EID>.xml and DIR/index.csv for every card, then exit\n"
	       "      --eis-dir DIR        the same, then run\n"
	       "  Other:\n"
	       "  -c, --config FILE        VTY config file (logging, line vty)\n"
	       "  -t, --vty-port N         telnet VTY port on 127.0.0.1 (default %d, 0: none)\n"
	       "      --summary S          log a summary every S seconds (default 10, 0: never)\n"
	       "  -h, --help               this text\n"
	       "  -V, --version            version\n",
	       prog, FLEET_MAX_DEVICES, FLEET_DEFAULT_SMPP_PORT, FLEET_DEFAULT_VTY_PORT);
}

enum {
	OPT_MSISDN_PREFIX = 256, OPT_OP_POL1, OPT_STRICT, OPT_NOTIF_RETRY, OPT_NOTIF_TRIES, OPT_SMSR_ADDR,
	OPT_DROP_MT, OPT_DROP_MO, OPT_DUP_MT, OPT_DUP_MO, OPT_DELAY, OPT_REORDER, OPT_OFFLINE, OPT_DELAY_MS,
	OPT_REORDER_HOLD, OPT_OFFLINE_MS, OPT_WRITE_EIS, OPT_EIS_DIR, OPT_SUMMARY, OPT_EUM_ID, OPT_SMSR_ID,
	OPT_MNO_BOOT_ID, OPT_MNO_OP_ID,
};

/* ObjectIdentifierType of the XSD: ([0-9]+[.])*[0-9]+ */
static bool oid_ok(const char *s)
{
	bool digit = false;

	if (!s || !*s || strlen(s) > 64)
		return false;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digit = true;
		else if (*s == '.' && digit)
			digit = false;
		else
			return false;
	}
	return digit;
}

static int parse_ulong(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_prob(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0.0 && v <= 1.0))
		return -EINVAL;
	*out = v;
	return 0;
}

/*! \returns 0 to run, 1 when done (help, version), -EINVAL on a bad option */
static int parse_opts(int argc, char **argv, struct fleet_opts *o)
{
	static const struct option lo[] = {
		{ "devices", 1, NULL, 'n' }, { "key-seed", 1, NULL, 'k' }, { "seed", 1, NULL, 's' },
		{ "msisdn-prefix", 1, NULL, OPT_MSISDN_PREFIX }, { "op-pol1", 1, NULL, OPT_OP_POL1 },
		{ "strict-msisdn", 0, NULL, OPT_STRICT }, { "notif-retry-ms", 1, NULL, OPT_NOTIF_RETRY },
		{ "notif-tries", 1, NULL, OPT_NOTIF_TRIES }, { "smsr-address", 1, NULL, OPT_SMSR_ADDR },
		{ "drop-mt", 1, NULL, OPT_DROP_MT }, { "drop-mo", 1, NULL, OPT_DROP_MO },
		{ "dup-mt", 1, NULL, OPT_DUP_MT }, { "dup-mo", 1, NULL, OPT_DUP_MO }, { "delay", 1, NULL, OPT_DELAY },
		{ "reorder", 1, NULL, OPT_REORDER }, { "offline", 1, NULL, OPT_OFFLINE },
		{ "delay-ms", 1, NULL, OPT_DELAY_MS }, { "reorder-hold-ms", 1, NULL, OPT_REORDER_HOLD },
		{ "offline-ms", 1, NULL, OPT_OFFLINE_MS }, { "smsc-addr", 1, NULL, 'a' }, { "smsc-port", 1, NULL, 'p' },
		{ "system-id", 1, NULL, 'u' }, { "password", 1, NULL, 'w' }, { "smsc-rate", 1, NULL, 'r' },
		{ "write-eis", 1, NULL, OPT_WRITE_EIS }, { "eis-dir", 1, NULL, OPT_EIS_DIR },
		{ "config", 1, NULL, 'c' }, { "vty-port", 1, NULL, 't' }, { "summary", 1, NULL, OPT_SUMMARY },
		{ "eum-id", 1, NULL, OPT_EUM_ID }, { "smsr-id", 1, NULL, OPT_SMSR_ID },
		{ "mno-boot-id", 1, NULL, OPT_MNO_BOOT_ID }, { "mno-op-id", 1, NULL, OPT_MNO_OP_ID },
		{ "help", 0, NULL, 'h' }, { "version", 0, NULL, 'V' }, { NULL, 0, NULL, 0 }
	};
	struct fleet_faults *ft = &o->dev.faults;
	unsigned long long v;
	int c, rc;

	while ((c = getopt_long(argc, argv, "n:k:s:a:p:u:w:r:c:t:hV", lo, NULL)) != -1) {
		rc = 0;
		switch (c) {
		case 'n':
			rc = parse_ulong(optarg, FLEET_MAX_DEVICES, &v);
			if (!rc && !v)
				rc = -EINVAL;
			o->dev.num = v;
			break;
		case 'k':
			rc = parse_ulong(optarg, UINT64_MAX, &v);
			o->dev.eum.key_seed = v;
			break;
		case 's':
			rc = parse_ulong(optarg, UINT64_MAX, &v);
			o->dev.fault_seed = v;
			break;
		case OPT_MSISDN_PREFIX:
			o->dev.eum.msisdn_prefix = optarg;
			break;
		case OPT_OP_POL1:
			rc = parse_ulong(optarg, 7, &v);
			o->dev.eum.op_pol1 = v;
			break;
		case OPT_STRICT:
			o->dev.strict_msisdn = true;
			break;
		case OPT_NOTIF_RETRY:
			rc = parse_ulong(optarg, 86400000, &v);
			o->dev.card.notif_retry_ms = v;
			break;
		case OPT_NOTIF_TRIES:
			rc = parse_ulong(optarg, 1000, &v);
			o->dev.card.notif_max_tries = v;
			break;
		case OPT_SMSR_ADDR:
			o->dev.smsr_addr = optarg;
			if (strlen(optarg) > 20)
				rc = -EINVAL;
			break;
		case OPT_DROP_MT:
			rc = parse_prob(optarg, &ft->drop_mt);
			break;
		case OPT_DROP_MO:
			rc = parse_prob(optarg, &ft->drop_mo);
			break;
		case OPT_DUP_MT:
			rc = parse_prob(optarg, &ft->dup_mt);
			break;
		case OPT_DUP_MO:
			rc = parse_prob(optarg, &ft->dup_mo);
			break;
		case OPT_DELAY:
			rc = parse_prob(optarg, &ft->delay);
			break;
		case OPT_REORDER:
			rc = parse_prob(optarg, &ft->reorder);
			break;
		case OPT_OFFLINE:
			rc = parse_prob(optarg, &ft->offline);
			break;
		case OPT_DELAY_MS: {
			char *dash = strchr(optarg, '-');

			if (dash) {
				*dash = '\0';
				rc = parse_ulong(dash + 1, 3600000, &v);
				ft->delay_max_ms = v;
			}
			if (!rc)
				rc = parse_ulong(optarg, 3600000, &v);
			ft->delay_min_ms = v;
			if (!dash)
				ft->delay_max_ms = v;
			break;
		}
		case OPT_REORDER_HOLD:
			rc = parse_ulong(optarg, 3600000, &v);
			ft->reorder_hold_ms = v;
			break;
		case OPT_OFFLINE_MS:
			rc = parse_ulong(optarg, 86400000, &v);
			ft->offline_ms = v;
			break;
		case 'a':
			o->smsc_addr = optarg;
			break;
		case 'p':
			rc = parse_ulong(optarg, 65535, &v);
			o->smsc_port = v;
			break;
		case 'u':
			o->system_id = optarg;
			if (strlen(optarg) > 15)
				rc = -EINVAL;
			break;
		case 'w':
			o->password = optarg;
			if (strlen(optarg) > 8)
				rc = -EINVAL;
			break;
		case 'r':
			rc = parse_ulong(optarg, 10000000, &v);
			o->smsc_rate = v;
			break;
		case OPT_WRITE_EIS:
			o->write_eis = optarg;
			break;
		case OPT_EIS_DIR:
			o->eis_dir = optarg;
			break;
		case 'c':
			o->config_file = optarg;
			break;
		case 't':
			rc = parse_ulong(optarg, 65535, &v);
			o->vty_port = v;
			break;
		case OPT_SUMMARY:
			rc = parse_ulong(optarg, 86400, &v);
			o->summary_s = v;
			break;
		case OPT_EUM_ID:
			o->dev.eum.eum_id = optarg;
			rc = oid_ok(optarg) ? 0 : -EINVAL;
			break;
		case OPT_SMSR_ID:
			o->dev.eum.smsr_id = optarg;
			rc = oid_ok(optarg) ? 0 : -EINVAL;
			break;
		case OPT_MNO_BOOT_ID:
			o->dev.eum.mno_boot_id = optarg;
			rc = oid_ok(optarg) ? 0 : -EINVAL;
			break;
		case OPT_MNO_OP_ID:
			o->dev.eum.mno_op_id = optarg;
			rc = oid_ok(optarg) ? 0 : -EINVAL;
			break;
		case 'h':
			usage(argv[0]);
			return 1;
		case 'V':
			printf("sgp02-fleet %s\n", PACKAGE_VERSION);
			return 1;
		default:
			return -EINVAL;
		}
		if (rc < 0) {
			fprintf(stderr, "%s: bad option value '%s'\n", argv[0], optarg);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0], argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------------------------
 * EIS export
 */

/* Write DIR/<EID>.xml (the Eis element, format in euicc.c) for every card, and DIR/index.csv with one line per
 * card: index,eid,device_msisdn,bootstrap_iccid,operational_iccid,eis_file. \returns 0 or -errno. */
static int write_eis(const char *dir, const struct fleet_devices_cfg *cfg)
{
	struct fleet_euicc_perso perso;
	char path[4096];
	FILE *idx;
	unsigned int i;
	int rc = 0;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		LOGP(DFLEET, LOGL_ERROR, "cannot create %s: %s\n", dir, strerror(-rc));
		return rc;
	}
	snprintf(path, sizeof(path), "%s/index.csv", dir);
	idx = fopen(path, "w");
	if (!idx) {
		rc = -errno;
		LOGP(DFLEET, LOGL_ERROR, "cannot write %s: %s\n", path, strerror(-rc));
		return rc;
	}
	fprintf(idx, "index,eid,device_msisdn,bootstrap_iccid,operational_iccid,eis_file\n");
	for (i = 0; i < cfg->num && !rc; i++) {
		char *xml;
		FILE *f;

		rc = fleet_euicc_perso_derive(&cfg->eum, i, &perso);
		if (rc < 0)
			break;
		xml = fleet_euicc_eis_xml(g_fleet.ctx, &cfg->eum, &perso, perso.prof[0].msisdn);
		if (!xml) {
			rc = -ENOMEM;
			break;
		}
		snprintf(path, sizeof(path), "%s/%s.xml", dir, perso.eid);
		f = fopen(path, "w");
		if (!f || fputs(xml, f) == EOF)
			rc = -(errno ? errno : EIO);
		if (f && fclose(f) != 0 && !rc)
			rc = -(errno ? errno : EIO);
		talloc_free(xml);
		fprintf(idx, "%u,%s,%s,%s,%s,%s.xml\n", i, perso.eid, perso.prof[0].msisdn, perso.prof[0].iccid,
			perso.prof[1].iccid, perso.eid);
	}
	OPENSSL_cleanse(&perso, sizeof(perso));
	if (fclose(idx) != 0 && !rc)
		rc = -errno;
	if (rc < 0)
		LOGP(DFLEET, LOGL_ERROR, "writing the EIS to %s failed: %s\n", dir, strerror(-rc));
	else
		LOGP(DFLEET, LOGL_NOTICE, "wrote the EIS of %u eUICCs to %s\n", cfg->num, dir);
	return rc;
}

/* ------------------------------------------------------------------------------------------------------------
 * SMSC <-> devices
 */

/* ------------------------------------------------------------------------------------------------------------
 * VTY
 */

static void show_summary(struct vty *vty)
{
	const struct fleet_devices_stats *s = fleet_devices_stats(g_fleet.fleet);
	const struct smsc_stats *ss = g_fleet.smsc ? smsc_get_stats(g_fleet.smsc) : NULL;
	struct fleet_euicc_stats cs;

	fleet_devices_card_stats(g_fleet.fleet, &cs);
	vty_out(vty, "Fleet: %u devices, %lu cards active, %u notifications unconfirmed, %u messages in delay%s",
		fleet_devices_num(g_fleet.fleet), s->cards, fleet_devices_notif_pending(g_fleet.fleet),
		fleet_devices_in_flight(g_fleet.fleet), VTY_NEWLINE);
	vty_out(vty, " MT: %lu offered, %lu to cards, %lu unknown number, %lu offline, %lu not OTA%s", s->mt_rx,
		s->mt_to_card, s->mt_unknown, s->mt_offline, s->mt_text, VTY_NEWLINE);
	vty_out(vty, " MO: %lu sent, %lu refused by the SMSC, %lu lost offline; PoR %lu, notifications %lu%s", s->mo_tx,
		s->mo_refused, s->mo_offline, s->por_tx, s->notif_tx, VTY_NEWLINE);
	vty_out(vty, " Faults: MT dropped %lu duplicated %lu delayed %lu reordered %lu; MO dropped %lu duplicated %lu "
		"delayed %lu reordered %lu; offline periods %lu%s", s->mt_dropped, s->mt_duplicated, s->mt_delayed,
		s->mt_reordered, s->mo_dropped, s->mo_duplicated, s->mo_delayed, s->mo_reordered, s->offline_periods,
		VTY_NEWLINE);
	vty_out(vty, " Cards: %lu scripts, %lu APDUs (%lu errors), %lu discarded, %lu replayed, %lu TAR unknown, "
		"%lu notifications confirmed, %lu given up, %lu roll-backs%s", cs.scripts, cs.apdus, cs.apdu_errors,
		cs.discarded, cs.replayed, cs.tar_unknown, cs.notif_confirmed, cs.notif_given_up, cs.rollbacks,
		VTY_NEWLINE);
	if (ss)
		vty_out(vty, " SMSC: port %u, %u binds, submit_sm %lu (accepted %lu, throttled %lu), "
			"deliver_sm ok %lu, "
			"retries %lu, dropped %lu, pending %u%s", smsc_port(g_fleet.smsc),
			smsc_bound_count(g_fleet.smsc), ss->mt_received, ss->mt_accepted, ss->throttled, ss->delivered,
			ss->deliver_retries, ss->dropped, smsc_pending(g_fleet.smsc), VTY_NEWLINE);
}

DEFUN(show_fleet, show_fleet_cmd, "show fleet",
      SHOW_STR "Simulated fleet: devices, cards, faults, SMSC\n")
{
	show_summary(vty);
	return CMD_SUCCESS;
}

DEFUN(show_fleet_device, show_fleet_device_cmd, "show fleet device <0-999999>",
      SHOW_STR "Simulated fleet\n" "One device\n" "Device index\n")
{
	unsigned int idx = atoi(argv[0]), i;
	struct fleet_euicc *e;
	char msisdn[24], aid[33];

	if (idx >= fleet_devices_num(g_fleet.fleet)) {
		vty_out(vty, "%% no device %u%s", idx, VTY_NEWLINE);
		return CMD_WARNING;
	}
	e = fleet_devices_card(g_fleet.fleet, idx);
	if (!e)
		return CMD_WARNING;
	vty_out(vty, "Device %u, MSISDN %s, EID %s, ISD-R counter %" PRIu64 ", free memory %u%s", idx,
		fleet_devices_msisdn(g_fleet.fleet, idx, msisdn, sizeof(msisdn)), fleet_euicc_eid(e),
		fleet_euicc_cntr(e), fleet_euicc_free_mem(e), VTY_NEWLINE);
	for (i = 0; i < FLEET_EUICC_MAX_PROFILES; i++) {
		const struct fleet_euicc_profile *p = fleet_euicc_profile(e, i);

		if (!p->used)
			continue;
		osmo_hexdump_buf(aid, sizeof(aid), p->aid, 16, "", true);
		vty_out(vty, " ISD-P %s %s%s POL1 %u memory %u%s", aid, gp_lcs_name(p->lcs),
			p->fallback ? " fall-back" : "", p->pol1, p->mem, VTY_NEWLINE);
	}
	return CMD_SUCCESS;
}

DEFUN(fleet_device_offline, fleet_device_offline_cmd, "fleet device <0-999999> offline <0-86400000>",
      "Simulated fleet\n" "One device\n" "Device index\n" "Take it offline (MT refused, MO lost)\n"
      "Milliseconds (0: back online)\n")
{
	if (fleet_devices_set_offline(g_fleet.fleet, atoi(argv[0]), atoi(argv[1])) < 0) {
		vty_out(vty, "%% no device %s%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	return CMD_SUCCESS;
}

DEFUN(fleet_device_fallback, fleet_device_fallback_cmd, "fleet device <0-999999> lose-network",
      "Simulated fleet\n" "One device\n" "Device index\n"
      "The enabled profile loses its network: the card falls back (notification type 05)\n")
{
	int rc = fleet_devices_fallback(g_fleet.fleet, atoi(argv[0]));

	if (rc == -EALREADY) {
		vty_out(vty, "%% device %s is on its fall-back profile already%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (rc < 0) {
		vty_out(vty, "%% device %s: %s%s", argv[0], strerror(-rc), VTY_NEWLINE);
		return CMD_WARNING;
	}
	return CMD_SUCCESS;
}

static struct vty_app_info vty_info = {
	.name = "sgp02-fleet",
	.version = PACKAGE_VERSION,
	.copyright = "sgp02-fleet: simulated SGP.02 fleet (SMSC and eUICCs)\r\n",
};

/* ------------------------------------------------------------------------------------------------------------
 * main
 */

static void summary_cb(void *data)
{
	const struct fleet_devices_stats *s = fleet_devices_stats(g_fleet.fleet);
	struct fleet_euicc_stats cs;

	fleet_devices_card_stats(g_fleet.fleet, &cs);
	LOGP(DFLEET, LOGL_NOTICE, "summary: MT %lu (to cards %lu), MO %lu, PoR %lu, notifications %lu (confirmed %lu, "
	     "unconfirmed %u), scripts %lu, replayed %lu, discarded %lu, roll-backs %lu, SMSC binds %u\n", s->mt_rx,
	     s->mt_to_card, s->mo_tx, s->por_tx, s->notif_tx, cs.notif_confirmed,
	     fleet_devices_notif_pending(g_fleet.fleet), cs.scripts, cs.replayed, cs.discarded, cs.rollbacks,
	     smsc_bound_count(g_fleet.smsc));
	osmo_timer_schedule(&g_fleet.summary_timer, g_fleet.o.summary_s, 0);
}

static void sig_quit(int sig)
{
	g_fleet.quit = 1;
}

int main(int argc, char **argv)
{
	struct fleet_opts *o = &g_fleet.o;
	struct fleet_mo_sink sink = { fleet_devices_smsc_mo, NULL };
	struct smsc_cfg scfg;
	struct smsc_ops sops = { .mt = fleet_devices_smsc_mt };
	int rc = 1;

	g_fleet.ctx = talloc_named_const(NULL, 0, "sgp02-fleet");
	fleet_devices_cfg_default(&o->dev);
	o->smsc_addr = "127.0.0.1";
	o->smsc_port = FLEET_DEFAULT_SMPP_PORT;
	o->system_id = "sgp02smsr";
	o->password = "fleetpw";
	o->smsc_rate = 1000;
	o->vty_port = FLEET_DEFAULT_VTY_PORT;
	o->summary_s = 10;
	rc = parse_opts(argc, argv, o);
	if (rc) {
		if (rc < 0)
			fprintf(stderr, "Try '%s --help'.\n", argv[0]);
		rc = rc < 0 ? 1 : 0;
		goto out_ctx;
	}
	rc = 1;

	osmo_init_logging2(g_fleet.ctx, &sgp02_log_info);
	log_set_print_category(osmo_stderr_target, 1);
	log_set_print_level(osmo_stderr_target, 1);
	log_set_use_color(osmo_stderr_target, 0);
	log_set_category_filter(osmo_stderr_target, DFLEET, 1, LOGL_NOTICE);
	vty_info.tall_ctx = g_fleet.ctx;
	vty_init(&vty_info);
	logging_vty_add_cmds();
	osmo_talloc_vty_add_cmds();
	install_element_ve(&show_fleet_cmd);
	install_element_ve(&show_fleet_device_cmd);
	install_element(ENABLE_NODE, &fleet_device_offline_cmd);
	install_element(ENABLE_NODE, &fleet_device_fallback_cmd);
	if (o->config_file && vty_read_config_file(o->config_file, NULL) < 0) {
		fprintf(stderr, "cannot read config file %s\n", o->config_file);
		goto out_log;
	}

	if (o->write_eis) {
		rc = write_eis(o->write_eis, &o->dev) < 0 ? 1 : 0;
		goto out_log;
	}
	if (o->eis_dir && write_eis(o->eis_dir, &o->dev) < 0)
		goto out_log;

	memset(&scfg, 0, sizeof(scfg));
	scfg.addr = o->smsc_addr;
	scfg.port = o->smsc_port;
	scfg.system_id = o->system_id;
	scfg.password = o->password;
	scfg.rate = o->smsc_rate;
	/* the SMSC's MT callback needs the fleet and the fleet's MO sink needs the SMSC: the fleet comes first,
	 * its sink gets the SMSC before the loop runs */
	g_fleet.fleet = fleet_devices_alloc(g_fleet.ctx, &o->dev, &sink);
	if (!g_fleet.fleet) {
		LOGP(DFLEET, LOGL_ERROR, "cannot create the fleet (check --msisdn-prefix and the memory sizes)\n");
		goto out_log;
	}
	g_fleet.smsc = smsc_alloc(g_fleet.ctx, &scfg, &sops, g_fleet.fleet);
	if (!g_fleet.smsc) {
		LOGP(DFLEET, LOGL_ERROR, "cannot start the SMSC on %s:%d\n", o->smsc_addr, o->smsc_port);
		goto out_fleet;
	}
	sink.priv = g_fleet.smsc;
	fleet_devices_set_sink(g_fleet.fleet, &sink);
	if (o->vty_port && telnet_init_default(g_fleet.ctx, NULL, o->vty_port) < 0) {
		LOGP(DFLEET, LOGL_ERROR, "cannot open the VTY on port %d\n", o->vty_port);
		goto out_smsc;
	}
	signal(SIGTERM, sig_quit);
	signal(SIGINT, sig_quit);
	signal(SIGPIPE, SIG_IGN);
	if (o->summary_s) {
		osmo_timer_setup(&g_fleet.summary_timer, summary_cb, NULL);
		osmo_timer_schedule(&g_fleet.summary_timer, o->summary_s, 0);
	}
	/* the seeds are not secret; the keys they make are never logged */
	LOGP(DFLEET, LOGL_NOTICE, "%u devices (MSISDN %s0%07u..), key seed %" PRIu64 ", fault seed %" PRIu64
	     ", SMSC on %s:%u (system_id %s, %u submit_sm/s)\n", o->dev.num, o->dev.eum.msisdn_prefix, 0,
	     o->dev.eum.key_seed, o->dev.fault_seed, o->smsc_addr, smsc_port(g_fleet.smsc), o->system_id,
	     o->smsc_rate);

	while (!g_fleet.quit)
		osmo_select_main_ctx(0);

	LOGP(DFLEET, LOGL_NOTICE, "shutting down\n");
	osmo_timer_del(&g_fleet.summary_timer);
	rc = 0;
	/* telnet_exit() with no telnet VTY started dereferences its listening fd: only if we started one */
	if (o->vty_port)
		telnet_exit();
out_smsc:
	/* the SMSC first: it must not call into a freed fleet */
	talloc_free(g_fleet.smsc);
out_fleet:
	talloc_free(g_fleet.fleet);
out_log:
	log_fini();
out_ctx:
	talloc_free(g_fleet.ctx);
	return rc;
}
