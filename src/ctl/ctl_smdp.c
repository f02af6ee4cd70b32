/*! \file ctl_smdp.c
 * `sgp02-ctl smdp ...`: SM-DP profile preparation from the command line (issue #6), talking to the SM-DP's
 * PostgreSQL schema directly, so that operators can script imports:
 *   import-template --mno OID --type NAME [--replace] FILE   a SAIP (DER) package as the template
 *   import-batch --mno OID --type NAME --kek FILE FILE        a personalisation batch (CSV, see smdp_prep.h)
 *   inventory                                                 ICCID counts per operator, type and state
 *   reserve (--mno OID --type NAME | --iccid ICCID) --eid EID   hand out an ICCID for a download
 *   release --iccid ICCID [--unusable]                        a failed download: return or retire it
 *   personalise --iccid ICCID --kek FILE --out FILE           the personalised package of a reserved ICCID
 * Database: --db CONNINFO (libpq keyword or URI form; default empty: PGHOST, PGPORT, PGUSER, PGDATABASE, ...
 * from the environment, as for the daemon) and --schema NAME (default smdp). The schema must be at the version
 * this build expects (start sgp02-smdp once with --db-upgrade, or pass --db-upgrade here).
 * No secret is ever printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <talloc.h>
#include <openssl/crypto.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>

#include <sgp02/common/db.h>
#include <sgp02/common/db_schema.h>
#include <sgp02/common/logging.h>

#include <sgp02/common/kek.h>
#include "../smdp/smdp_prep.h"
#include "ctl.h"

struct smdp_opts {
	const char *db;
	const char *schema;
	const char *mno;
	const char *type;
	const char *kek;
	const char *eid;
	const char *iccid;
	const char *out;
	bool unusable;
	bool replace;
	bool upgrade;
	bool verbose;
};

static void smdp_usage(FILE *f)
{
	fprintf(f,
		"usage: sgp02-ctl smdp COMMAND [options]\n"
		"  import-template --mno OID --type NAME [--replace] FILE\n"
		"      store a SAIP profile package (DER, e.g. a TS.48 package) as the template of an operator\n"
		"      (Mno-id OID) and profile type (1..100 characters), after checking that it parses and has\n"
		"      the fields personalisation replaces\n"
		"  import-batch --mno OID --type NAME --kek FILE FILE\n"
		"      import a personalisation batch (CSV: header line iccid,imsi,ki,opc,pin1,puk1[,pin2,puk2,adm1]\n"
		"      [,kic,kid,kik][,msisdn]); secrets are sealed with AES-256-GCM under the key-encryption key\n"
		"      FILE (32 bytes raw or 64 hex digits); all lines or none are imported\n"
		"  inventory\n"
		"      ICCID counts per operator, profile type and state\n"
		"  reserve --mno OID --type NAME --eid EID | reserve --iccid ICCID --eid EID\n"
		"      hand out one available ICCID (or the given one) for a download to EID; prints the ICCID\n"
		"  release --iccid ICCID [--unusable]\n"
		"      a download of a reserved ICCID failed: make it available again, or retire it\n"
		"  personalise --iccid ICCID --kek FILE --out FILE\n"
		"      write the personalised package (DER) of a reserved ICCID; the file holds its secrets in clear\n"
		"      and is created with mode 0600\n"
		"options for every command:\n"
		"  --db CONNINFO    libpq connection string (default: PGHOST, PGPORT, PGUSER, PGDATABASE, ...)\n"
		"  --schema NAME    schema of the SM-DP tables (default smdp)\n"
		"  --db-upgrade     bring the schema to this build's version first\n"
		"  -v, --verbose    log database messages\n"
		"exit status: 0 success, 1 refused (bad input, already present, database error), 2 usage\n");
}

/* Read a whole file (at most max bytes). \returns 0 or -errno (-EFBIG when larger) */
static int slurp(void *ctx, const char *path, size_t max, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;
	size_t n;

	if (!f)
		return -errno;
	/* a regular file is read in a buffer of its size; anything else (a pipe) may take up to max */
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size < max)
		max = (size_t)st.st_size;
	buf = talloc_size(ctx, max + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	if (n > max)
		return -EFBIG;
	*out = buf;
	*len = n;
	return 0;
}

static struct db *smdp_db(void *ctx, const struct smdp_opts *o)
{
	struct db *db = db_alloc(ctx, o->db, o->schema, NULL, 0);
	int rc;

	if (!db) {
		fprintf(stderr, "smdp: bad schema name '%s'\n", o->schema);
		return NULL;
	}
	rc = db_connect(db, "sgp02-ctl smdp");
	if (rc < 0) {
		fprintf(stderr, "smdp: cannot connect to PostgreSQL: %s\n", strerror(-rc));
		return NULL;
	}
	rc = db_schema_check(db, &db_schema_smdp, o->upgrade);
	if (rc < 0) {
		fprintf(stderr, "smdp: schema %s is not at version %u: %s\n", o->schema, db_schema_smdp.num_migrations,
			rc == -ENOEXEC ? "too old or missing (use --db-upgrade, or start sgp02-smdp --db-upgrade)" :
			rc == -EPROTO ? "newer than this build" : strerror(-rc));
		return NULL;
	}
	return db;
}

static int cmd_import_template(void *ctx, const struct smdp_opts *o, const char *file)
{
	struct smdp_template_info ti;
	char err[256] = "";
	uint8_t *pkg;
	size_t len;
	struct db *db;
	int rc;

	rc = slurp(ctx, file, SMDP_TEMPLATE_MAX_BYTES, &pkg, &len);
	if (rc < 0) {
		fprintf(stderr, "smdp: cannot read %s: %s\n", file, strerror(-rc));
		return 1;
	}
	db = smdp_db(ctx, o);
	if (!db)
		return 1;
	rc = smdp_template_import(db, o->mno, o->type, pkg, len, o->replace, "sgp02-ctl", &ti, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "smdp: %s: %s\n", file, err[0] ? err : strerror(-rc));
		return 1;
	}
	printf("template imported: mno %s type '%s': %zu bytes, %d PEs, SAIP %u.%u, header profile type '%s',"
	       " ICCID %s\n", o->mno, o->type, len, ti.pe_count, ti.hdr.major, ti.hdr.minor, ti.hdr.profile_type,
	       ti.hdr.iccid);
	return 0;
}

static int cmd_import_batch(void *ctx, const struct smdp_opts *o, const char *file)
{
	struct kek *kek;
	struct smdp_batch *b;
	char err[256] = "";
	uint8_t *text;
	size_t len;
	long id = 0;
	struct db *db;
	int rc;

	if (!o->kek) {
		fprintf(stderr, "smdp: import-batch needs --kek FILE\n");
		return 2;
	}
	rc = kek_load(ctx, o->kek, &kek);
	if (rc < 0) {
		fprintf(stderr, "smdp: key-encryption key %s: %s\n", o->kek,
			rc == -EINVAL ? "not 32 bytes raw nor 64 hex digits" : strerror(-rc));
		return 1;
	}
	rc = slurp(ctx, file, SMDP_BATCH_MAX_BYTES, &text, &len);
	if (rc < 0) {
		fprintf(stderr, "smdp: cannot read %s: %s\n", file, strerror(-rc));
		return 1;
	}
	rc = smdp_batch_parse(ctx, (const char *)text, len, &b, err, sizeof(err));
	OPENSSL_cleanse(text, len);
	if (rc < 0) {
		fprintf(stderr, "smdp: %s: %s; nothing imported\n", file, err[0] ? err : strerror(-rc));
		return 1;
	}
	db = smdp_db(ctx, o);
	if (!db)
		return 1;
	rc = smdp_batch_import(db, kek, o->mno, o->type, b, file, "sgp02-ctl", &id, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "smdp: %s: %s; nothing imported\n", file, err[0] ? err : strerror(-rc));
		return 1;
	}
	printf("batch %ld imported: mno %s type '%s': %u ICCIDs\n", id, o->mno, o->type, b->n);
	return 0;
}

static int cmd_reserve(void *ctx, const struct smdp_opts *o)
{
	char iccid[21];
	struct db *db;
	int rc;

	db = smdp_db(ctx, o);
	if (!db)
		return 1;
	if (o->iccid) {
		rc = smdp_inventory_reserve_iccid(db, o->mno, o->iccid, o->eid);
		snprintf(iccid, sizeof(iccid), "%s", o->iccid);
	} else {
		rc = smdp_inventory_reserve(db, o->mno, o->type, o->eid, iccid);
	}
	if (rc < 0) {
		fprintf(stderr, "smdp: reserve: %s\n", rc == -ENOSPC ? "no ICCID available" :
			rc == -EBUSY ? "the ICCID is not available" : rc == -ENOENT ? "unknown ICCID" :
			rc == -EPERM ? "the ICCID belongs to another operator" :
			rc == -EINVAL ? "bad EID (32 hex digits, upper case)" : strerror(-rc));
		return 1;
	}
	printf("%s\n", iccid);
	return 0;
}

static int cmd_release(void *ctx, const struct smdp_opts *o)
{
	struct db *db;
	int rc;

	db = smdp_db(ctx, o);
	if (!db)
		return 1;
	rc = smdp_inventory_release(db, o->iccid, o->unusable ? SMDP_FAIL_UNUSABLE : SMDP_FAIL_RETURN);
	if (rc < 0) {
		fprintf(stderr, "smdp: release: %s\n", rc == -EBUSY ? "the ICCID is not reserved" :
			rc == -ENOENT ? "unknown ICCID" : strerror(-rc));
		return 1;
	}
	printf("%s %s\n", o->iccid, o->unusable ? "unusable" : "available");
	return 0;
}

static int cmd_personalise(void *ctx, const struct smdp_opts *o)
{
	struct kek *kek;
	uint8_t *pkg;
	size_t len, done = 0;
	struct db *db;
	int rc, fd;

	rc = kek_load(ctx, o->kek, &kek);
	if (rc < 0) {
		fprintf(stderr, "smdp: key-encryption key %s: %s\n", o->kek,
			rc == -EINVAL ? "not 32 bytes raw nor 64 hex digits" : strerror(-rc));
		return 1;
	}
	db = smdp_db(ctx, o);
	if (!db)
		return 1;
	rc = smdp_personalise(ctx, db, kek, o->iccid, &pkg, &len);
	if (rc < 0) {
		fprintf(stderr, "smdp: personalise %s: %s\n", o->iccid,
			rc == -EBUSY ? "the ICCID is not reserved" : rc == -ENOENT ? "unknown ICCID" :
			rc == -EBADMSG ? "its secrets do not decrypt (wrong key-encryption key?)" : strerror(-rc));
		return 1;
	}
	fd = open(o->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "smdp: %s: %s\n", o->out, strerror(errno));
		return 1;
	}
	while (done < len) {
		ssize_t n = write(fd, pkg + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "smdp: %s: %s\n", o->out, strerror(errno));
			close(fd);
			return 1;
		}
		done += (size_t)n;
	}
	if (close(fd) < 0) {
		fprintf(stderr, "smdp: %s: %s\n", o->out, strerror(errno));
		return 1;
	}
	printf("%s: %zu bytes\n", o->out, len);
	return 0;
}

static int cmd_inventory(void *ctx, const struct smdp_opts *o)
{
	struct smdp_inv_count *c;
	unsigned int n, i, s;
	struct db *db;
	int rc;

	db = smdp_db(ctx, o);
	if (!db)
		return 1;
	rc = smdp_inventory_counts(ctx, db, &c, &n);
	if (rc < 0) {
		fprintf(stderr, "smdp: inventory: %s\n", strerror(-rc));
		return 1;
	}
	printf("%-30s %-24s", "mno", "profile-type");
	for (s = 0; s < _SMDP_INV_NUM; s++)
		printf(" %10s", smdp_inv_state_name(s));
	printf("\n");
	for (i = 0; i < n; i++) {
		printf("%-30s %-24s", c[i].mno_id, c[i].profile_type);
		for (s = 0; s < _SMDP_INV_NUM; s++)
			printf(" %10ld", c[i].n[s]);
		printf("\n");
	}
	return 0;
}

int ctl_smdp_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "schema", required_argument, NULL, 's' },
		{ "mno", required_argument, NULL, 'm' },
		{ "type", required_argument, NULL, 't' },
		{ "kek", required_argument, NULL, 'k' },
		{ "eid", required_argument, NULL, 'e' },
		{ "iccid", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "unusable", no_argument, NULL, 'n' },
		{ "replace", no_argument, NULL, 'r' },
		{ "db-upgrade", no_argument, NULL, 'u' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct smdp_opts o = { .db = "", .schema = "smdp" };
	const char *cmd;
	void *ctx;
	int c, rc;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		smdp_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.db = optarg;
			break;
		case 's':
			o.schema = optarg;
			break;
		case 'm':
			o.mno = optarg;
			break;
		case 't':
			o.type = optarg;
			break;
		case 'k':
			o.kek = optarg;
			break;
		case 'r':
			o.replace = true;
			break;
		case 'e':
			o.eid = optarg;
			break;
		case 'i':
			o.iccid = optarg;
			break;
		case 'o':
			o.out = optarg;
			break;
		case 'n':
			o.unusable = true;
			break;
		case 'u':
			o.upgrade = true;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			smdp_usage(stdout);
			return 0;
		default:
			smdp_usage(stderr);
			return 2;
		}
	}
	argc -= 1 + optind;
	argv += 1 + optind;

	if (!strcmp(cmd, "import-template") || !strcmp(cmd, "import-batch")) {
		if (argc != 1 || !o.mno || !o.type) {
			fprintf(stderr, "smdp: %s needs --mno OID --type NAME and one FILE\n", cmd);
			return 2;
		}
		if (!smdp_mno_id_ok(o.mno) || !smdp_profile_type_ok(o.type)) {
			fprintf(stderr, "smdp: --mno must be an OID (e.g. 1.3.6.1.4.1.99999.1), --type 1..100 "
				"printable characters\n");
			return 2;
		}
	} else if (!strcmp(cmd, "inventory")) {
		if (argc != 0) {
			smdp_usage(stderr);
			return 2;
		}
	} else if (!strcmp(cmd, "reserve")) {
		if (argc != 0 || !o.eid || (!o.iccid && (!o.mno || !o.type))) {
			fprintf(stderr, "smdp: reserve needs --eid EID and --mno OID --type NAME, or --iccid ICCID\n");
			return 2;
		}
	} else if (!strcmp(cmd, "release")) {
		if (argc != 0 || !o.iccid) {
			fprintf(stderr, "smdp: release needs --iccid ICCID\n");
			return 2;
		}
	} else if (!strcmp(cmd, "personalise")) {
		if (argc != 0 || !o.iccid || !o.kek || !o.out) {
			fprintf(stderr, "smdp: personalise needs --iccid ICCID --kek FILE --out FILE\n");
			return 2;
		}
	} else {
		fprintf(stderr, "smdp: unknown command '%s'\n", cmd);
		smdp_usage(stderr);
		return 2;
	}

	ctx = talloc_named_const(NULL, 0, "sgp02-ctl smdp");
	osmo_init_logging2(ctx, &sgp02_log_info);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	log_set_print_category(osmo_stderr_target, 1);
	log_set_use_color(osmo_stderr_target, 0);
	log_set_log_level(osmo_stderr_target, o.verbose ? LOGL_INFO : LOGL_FATAL);

	if (!strcmp(cmd, "import-template"))
		rc = cmd_import_template(ctx, &o, argv[0]);
	else if (!strcmp(cmd, "import-batch"))
		rc = cmd_import_batch(ctx, &o, argv[0]);
	else if (!strcmp(cmd, "reserve"))
		rc = cmd_reserve(ctx, &o);
	else if (!strcmp(cmd, "release"))
		rc = cmd_release(ctx, &o);
	else if (!strcmp(cmd, "personalise"))
		rc = cmd_personalise(ctx, &o);
	else
		rc = cmd_inventory(ctx, &o);
	log_fini();
	talloc_free(ctx);
	return rc;
}
