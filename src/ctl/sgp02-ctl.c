/* sgp02-ctl: the operator's command line tool. Dispatches to one ctl_<group>.c per group. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl.h"

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
} groups[] = {
	{ "ota", ctl_ota_main, "encode/decode SCP80 OTA packets (encode-cmd, decode-por, decode-cmd)" },
	{ "saip", ctl_saip_main, "inspect SAIP profile packages (list)" },
	{ "es1", ctl_es1_main, "ES1 as the EUM: sign and register EIS with the SM-SR (register)" },
	{ "es4", ctl_es4_main, "ES4/ES3 as an operator or SM-DP: read an EIS from the SM-SR (get-eis)" },
	{ "pki", ctl_pki_main, "test PKI: GP-format and X.509 certificates for demos and tests (init, show, verify)" },
	{ "smdp", ctl_smdp_main, "SM-DP profile preparation on PostgreSQL (import-template, import-batch, inventory)" },
};

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "sgp02-ctl %s: operator tool for the sgp02 SM-SR/SM-DP\n\n", PACKAGE_VERSION);
	fprintf(f, "Usage: sgp02-ctl GROUP COMMAND [options]   (sgp02-ctl GROUP -h for details)\n\n");
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		fprintf(f, "  %-6s %s\n", groups[i].name, groups[i].help);
}

int main(int argc, char **argv)
{
	unsigned int i;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("sgp02-ctl %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (!strcmp(argv[1], groups[i].name))
			return groups[i].main(argc - 1, argv + 1);
	}
	fprintf(stderr, "sgp02-ctl: unknown group '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}

