/*! \file ctl_ota.c
 * `sgp02-ctl ota`: build SCP80 command packets as SMS user data, and check PoRs / command packets.
 * Keys are read from the command line and never printed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <talloc.h>

#include <osmocom/core/utils.h>

#include <sgp02/ota/scp80.h>
#include <sgp02/ota/sms.h>

#include "ctl.h"

#define EXIT_CHECK	1	/* a check failed (RC/CC, counter) */
#define EXIT_USAGE	2	/* usage or input error */

/* Most --ud options (SMS parts) accepted by one command. */
#define MAX_UD		255

static const char usage_text[] =
"usage: sgp02-ctl ota encode-cmd --spi HEX --kic HEX --kid HEX --tar HEX --cntr HEX\n"
"                                 [--kic-key HEX] [--kid-key HEX] --data HEX [--ref HEX] [--ref16] [--allow-des]\n"
"       sgp02-ctl ota decode-por --spi HEX --kic HEX --kid HEX [--kic-key HEX] [--kid-key HEX]\n"
"                                 [--cntr HEX] --ud HEX [--ud HEX ...] [--allow-des]\n"
"       sgp02-ctl ota decode-cmd [--spi HEX] --kic HEX --kid HEX [--kic-key HEX] [--kid-key HEX]\n"
"                                 [--stored-cntr HEX] --ud HEX [--ud HEX ...] [--allow-des]\n"
"\n"
"SCP80 secured packets over SMS-PP (ETSI TS 102 225, 3GPP TS 31.115).\n"
"\n"
"encode-cmd   build a command packet (CPL..end) and print the SMS user data (UDH 02 70 00 + packet), one line\n"
"             per short message in lowercase hex; long packets are split into concatenated SMS (8-bit\n"
"             reference --ref, default 00; --ref16 for a 16-bit reference).\n"
"decode-por   the server side: verify and decode a PoR given as SMS user data (UDH with IEI 71 + response\n"
"             packet). Several --ud are reassembled first. With --cntr, the PoR must echo that counter.\n"
"             Prints one JSON object on one line:\n"
"               {\"tar\":\"b00011\",\"cntr\":\"0000000000\",\"pcntr\":0,\"status\":0,\"status_name\":\"por_ok\",\n"
"                \"data\":\"01612f\"}\n"
"             tar, cntr, data: lowercase hex strings; pcntr, status: numbers (status per TS 102 225 Table 5).\n"
"decode-cmd   the card side: reassemble the --ud parts, decipher, check RC/CC and print\n"
"               {\"spi\":\"1639\",\"kic\":\"12\",\"kid\":\"12\",\"tar\":\"000000\",\"cntr\":\"0000000001\",\n"
"                \"pcntr\":3,\"data\":\"...\"}\n"
"             With --spi, the packet must carry that SPI. With --stored-cntr (the card's counter), the SPI\n"
"             counter rules are applied.\n"
"\n"
"--spi        two SPI octets, e.g. 1639;  --kic/--kid  the KIc/KID octets (key version << 4 | algorithm:\n"
"             1 DES (needs --allow-des), 5 3DES 2 keys, 9 3DES 3 keys, 2 AES; with RC, KID 1 = CRC-16, 5 = CRC-32)\n"
"--kic-key/--kid-key  the keys (not needed for what the SPI does not use); never printed\n"
"--tar        three octets; --cntr five octets; --data the secured data (e.g. a remote command script)\n"
"\n"
"Exit status: 0 success, 1 a check failed (RC/CC mismatch, counter rule, SPI mismatch), 2 usage or input error.\n";

struct ota_args {
	bool have_spi, have_kic, have_kid, have_tar, have_cntr, have_data, have_stored;
	uint8_t spi[2];
	struct ota_scp80_keyset ks;
	uint8_t tar[3];
	uint8_t cntr[5];
	uint8_t stored[5];
	uint8_t *data;
	size_t data_len;
	uint16_t ref;
	bool ref16;
	const char *ud_hex[MAX_UD];
	unsigned int num_ud;
};

static void print_hex(FILE *f, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
}

/* Parse hex of exactly \a want octets (or any length up to \a max when \a want is 0). \returns length or -1. */
static int parse_hex(const char *opt, const char *hex, uint8_t *out, size_t want, size_t max)
{
	size_t n = strlen(hex);
	int rc;

	if (n % 2 || n / 2 > max || (want && n / 2 != want)) {
		fprintf(stderr, "ota: %s: expected %zu hex octets\n", opt, want ? want : max);
		return -1;
	}
	if (n == 0)
		return 0;
	rc = osmo_hexparse(hex, out, max);
	if (rc < 0 || (size_t)rc != n / 2) {
		fprintf(stderr, "ota: %s: not a hex string\n", opt);
		return -1;
	}
	return rc;
}

static int parse_args(void *ctx, int argc, char **argv, struct ota_args *a)
{
	uint8_t b[OTA_SCP80_MAX_KEY_LEN];
	int i, rc;

	for (i = 2; i < argc; i++) {
		const char *opt = argv[i], *val;

		if (!strcmp(opt, "--ref16")) {
			a->ref16 = true;
			continue;
		}
		if (!strcmp(opt, "--allow-des")) {
			a->ks.allow_single_des = true;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "ota: %s needs a value\n", opt);
			return -1;
		}
		val = argv[++i];
		if (!strcmp(opt, "--spi")) {
			if (parse_hex(opt, val, a->spi, 2, 2) < 0)
				return -1;
			a->have_spi = true;
		} else if (!strcmp(opt, "--kic") || !strcmp(opt, "--kid")) {
			if (parse_hex(opt, val, b, 1, 1) < 0)
				return -1;
			if (opt[4] == 'c') {
				a->ks.kic = b[0];
				a->have_kic = true;
			} else {
				a->ks.kid = b[0];
				a->have_kid = true;
			}
		} else if (!strcmp(opt, "--kic-key")) {
			rc = parse_hex(opt, val, a->ks.kic_key, 0, OTA_SCP80_MAX_KEY_LEN);
			if (rc < 0)
				return -1;
			a->ks.kic_key_len = rc;
		} else if (!strcmp(opt, "--kid-key")) {
			rc = parse_hex(opt, val, a->ks.kid_key, 0, OTA_SCP80_MAX_KEY_LEN);
			if (rc < 0)
				return -1;
			a->ks.kid_key_len = rc;
		} else if (!strcmp(opt, "--tar")) {
			if (parse_hex(opt, val, a->tar, 3, 3) < 0)
				return -1;
			a->have_tar = true;
		} else if (!strcmp(opt, "--cntr")) {
			if (parse_hex(opt, val, a->cntr, 5, 5) < 0)
				return -1;
			a->have_cntr = true;
		} else if (!strcmp(opt, "--stored-cntr")) {
			if (parse_hex(opt, val, a->stored, 5, 5) < 0)
				return -1;
			a->have_stored = true;
		} else if (!strcmp(opt, "--data")) {
			size_t max = strlen(val) / 2 + 1;

			a->data = talloc_size(ctx, max);
			if (!a->data)
				return -1;
			rc = parse_hex(opt, val, a->data, 0, max);
			if (rc < 0)
				return -1;
			a->data_len = rc;
			a->have_data = true;
		} else if (!strcmp(opt, "--ref")) {
			rc = parse_hex(opt, val, b, 0, 2);
			if (rc <= 0)
				return -1;
			a->ref = rc == 2 ? (b[0] << 8) | b[1] : b[0];
		} else if (!strcmp(opt, "--ud")) {
			if (a->num_ud >= MAX_UD) {
				fprintf(stderr, "ota: too many --ud\n");
				return -1;
			}
			a->ud_hex[a->num_ud++] = val;
		} else {
			fprintf(stderr, "ota: unknown option %s\n", opt);
			return -1;
		}
	}
	return 0;
}

static int need(bool have, const char *opt)
{
	if (!have)
		fprintf(stderr, "ota: %s is required\n", opt);
	return have ? 0 : -1;
}

static int cmd_encode(void *ctx, struct ota_args *a)
{
	struct ota_sms_ud *parts;
	uint8_t *pkt;
	size_t size;
	int len, n, i;

	if (need(a->have_spi, "--spi") || need(a->have_kic, "--kic") || need(a->have_kid, "--kid") ||
	    need(a->have_tar, "--tar") || need(a->have_cntr, "--cntr") || need(a->have_data, "--data"))
		return EXIT_USAGE;
	size = a->data_len + OTA_SCP80_CMD_OVERHEAD;
	pkt = talloc_size(ctx, size);
	if (!pkt)
		return EXIT_USAGE;
	len = ota_scp80_cmd_build(&a->ks, a->spi, a->tar, a->cntr, a->data, a->data_len, pkt, size);
	if (len < 0) {
		fprintf(stderr, "ota: cannot build the command packet: %s\n", strerror(-len));
		return EXIT_USAGE;
	}
	n = ota_sms_split(ctx, OTA_SMS_IEI_CPI, pkt, len, a->ref, a->ref16, &parts);
	if (n < 0) {
		fprintf(stderr, "ota: cannot split the command packet into SMS: %s\n", strerror(-n));
		return EXIT_USAGE;
	}
	for (i = 0; i < n; i++) {
		print_hex(stdout, parts[i].data, parts[i].len);
		putchar('\n');
	}
	return 0;
}

/* Parse the --ud options and reassemble them into one user data. \returns 0 or -1 (message printed). */
static int collect_ud(void *ctx, const struct ota_args *a, uint8_t **ud, size_t *ud_len)
{
	struct ota_sms_reasm_cfg cfg = { .max_pending = 1, .max_parts = 255 };
	struct ota_sms_reasm *r;
	unsigned int i;
	int rc = 0;

	if (need(a->num_ud > 0, "--ud"))
		return -1;
	r = ota_sms_reasm_alloc(ctx, &cfg);
	if (!r)
		return -1;
	for (i = 0; i < a->num_ud; i++) {
		uint8_t buf[OTA_SMS_UD_MAX];
		int n = parse_hex("--ud", a->ud_hex[i], buf, 0, sizeof(buf));

		if (n <= 0) {
			if (n == 0)
				fprintf(stderr, "ota: --ud is empty\n");
			return -1;
		}
		rc = ota_sms_reasm_feed(r, "ctl", buf, n, 0, ctx, ud, ud_len);
		if (rc < 0) {
			fprintf(stderr, "ota: --ud #%u: bad SMS user data: %s\n", i + 1, strerror(-rc));
			return -1;
		}
		if (rc == 1 && i + 1 < a->num_ud) {
			fprintf(stderr, "ota: --ud #%u completes a message; more --ud follow\n", i + 1);
			return -1;
		}
	}
	if (rc != 1) {
		fprintf(stderr, "ota: concatenated SMS incomplete (%u parts given)\n", a->num_ud);
		return -1;
	}
	return 0;
}

static int exit_for(int rc)
{
	return (rc == -EKEYREJECTED || rc == -ERANGE) ? EXIT_CHECK : EXIT_USAGE;
}

static int cmd_decode_por(void *ctx, struct ota_args *a)
{
	struct ota_scp80_por por;
	uint8_t *ud, *buf;
	size_t ud_len;
	int rc;

	if (need(a->have_spi, "--spi") || need(a->have_kic, "--kic") || need(a->have_kid, "--kid"))
		return EXIT_USAGE;
	if (collect_ud(ctx, a, &ud, &ud_len) < 0)
		return EXIT_USAGE;
	buf = talloc_size(ctx, ud_len);
	if (!buf)
		return EXIT_USAGE;
	rc = ota_scp80_por_unwrap(&a->ks, a->spi, ud, ud_len, a->have_cntr ? a->cntr : NULL, &por, buf, ud_len);
	if (rc < 0) {
		fprintf(stderr, "ota: PoR rejected: %s\n",
			rc == -EKEYREJECTED ? "RC/CC does not verify" :
			rc == -ERANGE ? "counter does not match the command's" : strerror(-rc));
		return exit_for(rc);
	}
	printf("{\"tar\":\"");
	print_hex(stdout, por.tar, 3);
	printf("\",\"cntr\":\"");
	print_hex(stdout, por.cntr, 5);
	printf("\",\"pcntr\":%u,\"status\":%u,\"status_name\":\"%s\",\"data\":\"", por.pcntr, por.status,
	       ota_scp80_por_status_name(por.status));
	print_hex(stdout, por.data, por.data_len);
	printf("\"}\n");
	return 0;
}

static int cmd_decode_cmd(void *ctx, struct ota_args *a)
{
	struct ota_scp80_cmd cmd;
	struct ota_sms_udh udh;
	uint8_t *ud, *buf;
	size_t ud_len;
	uint64_t stored = 0;
	int rc, hl;

	if (need(a->have_kic, "--kic") || need(a->have_kid, "--kid"))
		return EXIT_USAGE;
	if (collect_ud(ctx, a, &ud, &ud_len) < 0)
		return EXIT_USAGE;
	hl = ota_sms_udh_parse(ud, ud_len, &udh);
	if (hl < 0 || !ota_sms_udh_find(&udh, OTA_SMS_IEI_CPI)) {
		fprintf(stderr, "ota: the user data has no command packet identifier (IEI 70)\n");
		return EXIT_USAGE;
	}
	buf = talloc_size(ctx, ud_len);
	if (!buf)
		return EXIT_USAGE;
	if (a->have_stored)
		stored = ota_scp80_cntr_get(a->stored);
	rc = ota_scp80_cmd_unwrap(&a->ks, ud + hl, ud_len - hl, a->have_stored ? &stored : NULL, &cmd, buf,
				  ud_len);
	if (rc < 0) {
		fprintf(stderr, "ota: command packet rejected: %s (PoR status %02x %s)\n",
			rc == -EKEYREJECTED ? "RC/CC does not verify" :
			rc == -ERANGE ? "counter rule violated" : strerror(-rc),
			cmd.status, ota_scp80_por_status_name(cmd.status));
		return exit_for(rc);
	}
	if (a->have_spi && (cmd.spi[0] != a->spi[0] || cmd.spi[1] != a->spi[1])) {
		fprintf(stderr, "ota: the packet's SPI %02x%02x is not the expected %02x%02x\n", cmd.spi[0],
			cmd.spi[1], a->spi[0], a->spi[1]);
		return EXIT_CHECK;
	}
	printf("{\"spi\":\"%02x%02x\",\"kic\":\"%02x\",\"kid\":\"%02x\",\"tar\":\"", cmd.spi[0], cmd.spi[1], cmd.kic,
	       cmd.kid);
	print_hex(stdout, cmd.tar, 3);
	printf("\",\"cntr\":\"");
	print_hex(stdout, cmd.cntr, 5);
	printf("\",\"pcntr\":%u,\"data\":\"", cmd.pcntr);
	print_hex(stdout, cmd.data, cmd.data_len);
	printf("\"}\n");
	return 0;
}

int ctl_ota_main(int argc, char **argv)
{
	struct ota_args *a;
	void *ctx;
	int rc, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
	}
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	ctx = talloc_named_const(NULL, 0, "ctl_ota");
	a = talloc_zero(ctx, struct ota_args);
	if (!a || parse_args(ctx, argc, argv, a) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (!strcmp(argv[1], "encode-cmd")) {
		rc = cmd_encode(ctx, a);
	} else if (!strcmp(argv[1], "decode-por")) {
		rc = cmd_decode_por(ctx, a);
	} else if (!strcmp(argv[1], "decode-cmd")) {
		rc = cmd_decode_cmd(ctx, a);
	} else {
		fprintf(stderr, "ota: unknown command %s\n", argv[1]);
		fputs(usage_text, stderr);
		rc = EXIT_USAGE;
	}
out:
	if (a)
		OPENSSL_cleanse(&a->ks, sizeof(a->ks));
	talloc_free(ctx);
	return rc;
}
