/*! \file ctl_saip.c
 * `sgp02-ctl saip list FILE`: one line per ProfileElement of a SAIP (DER) profile package.
 * Personalisation secrets (Ki, OPc, PINs, keys) are never printed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/gp/saip.h>

#include "ctl.h"

#define SAIP_MAX_FILE (16 * 1024 * 1024)

static void saip_usage(FILE *f)
{
	fprintf(f, "usage: sgp02-ctl saip list FILE\n"
		   "  list the ProfileElements of a SAIP profile package (DER): index, type, tag, length,\n"
		   "  PE identification; for the header also version, profile type and ICCID\n");
}

/* Read a whole file into a talloc buffer; returns 0 or -errno. */
static int read_file(void *ctx, const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n = 0, cap = 65536, r;

	if (!f)
		return -errno;
	buf = talloc_size(ctx, cap);
	while (buf) {
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (n < cap)
			break;
		if (cap >= SAIP_MAX_FILE) {
			fclose(f);
			return -EFBIG;
		}
		cap *= 2;
		buf = talloc_realloc_size(ctx, buf, cap);
	}
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

static int saip_list(void *ctx, const char *path)
{
	struct gp_saip_header hdr;
	struct gp_saip_pe pe;
	size_t len = 0, off = 0;
	uint8_t *pkg = NULL;
	unsigned int i = 0;
	int rc;

	rc = read_file(ctx, path, &pkg, &len);
	if (rc < 0) {
		fprintf(stderr, "saip: cannot read %s: %s\n", path, strerror(-rc));
		return 2;
	}
	rc = gp_saip_validate(pkg, len);
	if (rc < 0) {
		fprintf(stderr, "saip: %s is not a SAIP profile package (%s)\n", path, strerror(-rc));
		return 2;
	}
	rc = gp_saip_read_header(pkg, len, &hdr);
	if (rc < 0) {
		fprintf(stderr, "saip: %s: invalid ProfileHeader (%s)\n", path, strerror(-rc));
		return 2;
	}
	while ((rc = gp_saip_next(pkg, len, &off, i, &pe)) > 0) {
		printf("%3u %-22s tag=%-4X len=%-6zu", pe.index, pe.name, pe.tag, pe.len);
		if (pe.type == GP_SAIP_PE_HEADER) {
			unsigned int b;
			const char *sep = " services=";

			printf(" version=%u.%u iccid=%s profileType=\"%s\"", hdr.major, hdr.minor, hdr.iccid,
			       hdr.profile_type);
			for (b = 0; b < 32; b++) {
				const char *sn = gp_saip_service_name(b);

				if (!(hdr.services & (1u << b)))
					continue;
				if (sn)
					printf("%s%s", sep, sn);
				else
					printf("%s#%u", sep, b);
				sep = ",";
			}
		} else if (pe.identification >= 0)
			printf(" id=%d%s", pe.identification, pe.mandated ? " mandated" : "");
		printf("\n");
		i++;
	}
	if (rc < 0) {
		fprintf(stderr, "saip: %s: %s\n", path, strerror(-rc));
		return 2;
	}
	printf("%u profile elements, %zu bytes\n", i, len);
	return 0;
}

int ctl_saip_main(int argc, char **argv)
{
	void *ctx;
	int rc;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		saip_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "list") || argc != 3) {
		saip_usage(stderr);
		return 2;
	}
	ctx = talloc_named_const(NULL, 0, "ctl_saip");
	rc = saip_list(ctx, argv[2]);
	talloc_free(ctx);
	return rc;
}
