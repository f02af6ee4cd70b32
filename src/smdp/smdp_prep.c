/*! \file smdp_prep.c
 * SM-DP profile preparation: templates, personalisation batches, ICCID inventory, personalisation
 * (see smdp_prep.h). SQL is unprepared (db_exec_params) because the module serves three programs with
 * different statement tables: the daemon, sgp02-ctl and the tests. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <talloc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>

#include <sgp02/common/db.h>
#include <sgp02/common/logging.h>
#include <sgp02/gp/saip.h>

#include <sgp02/common/kek.h>
#include "smdp_prep.h"

static const char *const secret_names[_SMDP_S_NUM] = {
	[SMDP_S_KI] = "ki", [SMDP_S_OPC] = "opc", [SMDP_S_PIN1] = "pin1", [SMDP_S_PUK1] = "puk1",
	[SMDP_S_PIN2] = "pin2", [SMDP_S_PUK2] = "puk2", [SMDP_S_ADM1] = "adm1",
	[SMDP_S_KIC] = "kic", [SMDP_S_KID] = "kid", [SMDP_S_KIK] = "kik",
};

static const char *const state_names[_SMDP_INV_NUM] = {
	[SMDP_INV_AVAILABLE] = "available", [SMDP_INV_RESERVED] = "reserved", [SMDP_INV_INSTALLED] = "installed",
	[SMDP_INV_RELEASED] = "released", [SMDP_INV_UNUSABLE] = "unusable",
};

/* TS 102 221 §9.5.1 key references: PIN/PUK of application 1, second PIN of application 1, ADM1 */
#define KEYREF_PIN1	0x01
#define KEYREF_PIN2	0x81
#define KEYREF_ADM1	0x0A
/* GlobalPlatform Amendment B / TS 102 225: key identifiers within an SCP80 key set */
#define KID_KIC		0x01
#define KID_KID		0x02
#define KID_KIK		0x03

const char *smdp_secret_name(enum smdp_secret s)
{
	return (unsigned int)s < _SMDP_S_NUM ? secret_names[s] : "?";
}

const char *smdp_inv_state_name(enum smdp_inv_state st)
{
	return (unsigned int)st < _SMDP_INV_NUM ? state_names[st] : "?";
}

int smdp_inv_state_parse(const char *name)
{
	unsigned int i;

	for (i = 0; name && i < _SMDP_INV_NUM; i++)
		if (!strcmp(name, state_names[i]))
			return (int)i;
	return -EINVAL;
}

static void seterr(char *err, size_t err_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (!err || !err_size)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
}

static bool all_digits(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s), i;

	if (n < min || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool smdp_mno_id_ok(const char *s)
{
	bool digit = false;
	size_t n;

	/* ObjectIdentifier in dotted decimal: arcs of digits separated by single dots, at least two arcs */
	if (!s || !*s || (n = strlen(s)) > SMDP_MNO_ID_MAX || !strchr(s, '.'))
		return false;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			digit = true;
		} else if (*s == '.' && digit) {
			digit = false;
		} else {
			return false;
		}
	}
	return digit;
}

bool smdp_profile_type_ok(const char *s)
{
	size_t n;

	if (!s || !(n = strlen(s)) || n > SMDP_PROFILE_TYPE_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* ISO/IEC 7812-1 Annex B (Luhn): from the check digit leftwards, every second digit doubled */
static bool luhn_ok(const char *s)
{
	size_t n = strlen(s), i;
	unsigned int sum = 0;

	for (i = 0; i < n; i++) {
		unsigned int d = (unsigned int)(s[n - 1 - i] - '0');

		if (i % 2) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

bool smdp_iccid_ok(const char *s)
{
	return s && all_digits(s, 18, 20) && luhn_ok(s);
}

static bool eid_ok(const char *eid)
{
	size_t i;

	if (!eid || strlen(eid) != 32)
		return false;
	for (i = 0; i < 32; i++)
		if (!((eid[i] >= '0' && eid[i] <= '9') || (eid[i] >= 'A' && eid[i] <= 'F')))
			return false;
	return true;
}

/* ------------------------------------------------------------------------------------------ templates */

/* Length of the first occurrence of field (with key_ref, unless any_ref). \returns length or -ENOENT */
static int field_len(const uint8_t *pkg, size_t len, enum gp_saip_field field, bool any_ref, unsigned int key_ref)
{
	struct gp_saip_item it;
	unsigned int n;

	for (n = 0; gp_saip_find(pkg, len, field, n, &it) == 0; n++)
		if (any_ref || it.key_ref == key_ref)
			return (int)it.len;
	return -ENOENT;
}

/* true if the package holds at least one occurrence of field (with key_ref, unless any_ref) */
static bool has_field(const uint8_t *pkg, size_t len, enum gp_saip_field field, bool any_ref, unsigned int key_ref)
{
	struct gp_saip_item it;
	unsigned int n;

	for (n = 0; gp_saip_find(pkg, len, field, n, &it) == 0; n++)
		if (any_ref || it.key_ref == key_ref)
			return true;
	return false;
}

int smdp_ota_kvn(const uint8_t *pkg, size_t len)
{
	unsigned int kvn;

	/* ETSI TS 102 225 §5.1.2: SCP80 key sets have key version numbers 01..0F */
	for (kvn = 1; kvn <= SMDP_OTA_KVN_MAX; kvn++) {
		if (has_field(pkg, len, GP_SAIP_F_SD_KEY, false, kvn << 8 | KID_KIC) &&
		    has_field(pkg, len, GP_SAIP_F_SD_KEY, false, kvn << 8 | KID_KID) &&
		    has_field(pkg, len, GP_SAIP_F_SD_KEY, false, kvn << 8 | KID_KIK))
			return (int)kvn;
	}
	return -ENOENT;
}

static const struct {
	enum gp_saip_field field;
	bool any_ref;
	unsigned int key_ref;
	const char *what;
} needed_fields[] = {
	{ GP_SAIP_F_HDR_ICCID, true, 0, "header iccid" },
	{ GP_SAIP_F_EF_IMSI, true, 0, "EF.IMSI" },
	{ GP_SAIP_F_KI, true, 0, "akaParameter key (Ki)" },
	{ GP_SAIP_F_OPC, true, 0, "akaParameter opc" },
	{ GP_SAIP_F_PIN, false, KEYREF_PIN1, "PIN1 (pinAppl1)" },
	{ GP_SAIP_F_PUK, false, KEYREF_PIN1, "PUK1 (pukAppl1)" },
};

int smdp_template_import(struct db *db, const char *mno_id, const char *profile_type, const uint8_t *pkg,
			 size_t len, bool replace, const char *actor, struct smdp_template_info *info,
			 char *err, size_t err_size)
{
	static const char *sql_type =
		"INSERT INTO profile_type (mno_id, profile_type) VALUES ($1, $2) ON CONFLICT DO NOTHING";
	static const char *sql_insert =
		"INSERT INTO profile_template (mno_id, profile_type, package, package_sha256, pe_count, saip_major,"
		" saip_minor, header_type, header_iccid, services) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
	static const char *sql_upsert =
		"INSERT INTO profile_template (mno_id, profile_type, package, package_sha256, pe_count, saip_major,"
		" saip_minor, header_type, header_iccid, services) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
		" ON CONFLICT (mno_id, profile_type) DO UPDATE SET package = $3, package_sha256 = $4, pe_count = $5,"
		" saip_major = $6, saip_minor = $7, header_type = $8, header_iccid = $9, services = $10,"
		" imported_at = now()";
	static const char *sql_audit =
		"INSERT INTO audit (actor, action, detail) VALUES ($1, 'import-template', $2)";
	struct smdp_template_info ti;
	uint8_t digest[32];
	unsigned int dlen = 0;
	char s_pes[16], s_maj[16], s_min[16], s_svc[24], detail[400];
	const char *params[10];
	int lengths[10] = { 0 }, formats[10] = { 0 };
	unsigned int i;
	int rc;

	if (!db || !pkg || !smdp_mno_id_ok(mno_id) || !smdp_profile_type_ok(profile_type)) {
		seterr(err, err_size, "bad operator id (an OID such as 1.2.3) or profile type (1..100 characters)");
		return -EINVAL;
	}
	if (len > SMDP_TEMPLATE_MAX_BYTES) {
		seterr(err, err_size, "package of %zu bytes is larger than %u", len, SMDP_TEMPLATE_MAX_BYTES);
		return -EFBIG;
	}
	memset(&ti, 0, sizeof(ti));
	ti.pe_count = gp_saip_validate(pkg, len);
	if (ti.pe_count < 0) {
		seterr(err, err_size, "not a SAIP profile package: %s", strerror(-ti.pe_count));
		return -EBADMSG;
	}
	rc = gp_saip_read_header(pkg, len, &ti.hdr);
	if (rc < 0) {
		seterr(err, err_size, "bad ProfileHeader: %s", strerror(-rc));
		return -EBADMSG;
	}
	for (i = 0; i < ARRAY_SIZE(needed_fields); i++) {
		if (!has_field(pkg, len, needed_fields[i].field, needed_fields[i].any_ref, needed_fields[i].key_ref)) {
			seterr(err, err_size, "the package has no %s to personalise", needed_fields[i].what);
			return -ENOENT;
		}
	}
	if (EVP_Digest(pkg, len, digest, &dlen, EVP_sha256(), NULL) != 1 || dlen != sizeof(digest)) {
		seterr(err, err_size, "SHA-256 failed");
		return -EIO;
	}

	snprintf(s_pes, sizeof(s_pes), "%d", ti.pe_count);
	snprintf(s_maj, sizeof(s_maj), "%u", ti.hdr.major);
	snprintf(s_min, sizeof(s_min), "%u", ti.hdr.minor);
	snprintf(s_svc, sizeof(s_svc), "%u", ti.hdr.services);
	params[0] = mno_id;
	params[1] = profile_type;
	params[2] = (const char *)pkg;
	lengths[2] = (int)len;
	formats[2] = 1;
	params[3] = (const char *)digest;
	lengths[3] = sizeof(digest);
	formats[3] = 1;
	params[4] = s_pes;
	params[5] = s_maj;
	params[6] = s_min;
	params[7] = ti.hdr.profile_type;
	params[8] = ti.hdr.iccid;
	params[9] = s_svc;

	rc = db_begin(db);
	if (rc < 0)
		goto db_fail;
	rc = db_exec_params(db, sql_type, 2, params, NULL, NULL, NULL);
	if (rc >= 0)
		rc = db_exec_params(db, replace ? sql_upsert : sql_insert, 10, params, lengths, formats, NULL);
	if (rc == -EEXIST) {
		db_rollback(db);
		seterr(err, err_size, "operator %s already has a template for profile type '%s' (use --replace)",
		       mno_id, profile_type);
		return rc;
	}
	if (rc >= 0) {
		const char *ap[2] = { actor ? actor : "unknown", detail };

		snprintf(detail, sizeof(detail), "mno %s type %s: %zu bytes, %d PEs, SAIP %u.%u", mno_id,
			 profile_type, len, ti.pe_count, ti.hdr.major, ti.hdr.minor);
		rc = db_exec_params(db, sql_audit, 2, ap, NULL, NULL, NULL);
	}
	if (rc >= 0)
		rc = db_commit(db);
	else
		db_rollback(db);
	if (rc < 0)
		goto db_fail;
	LOGP(DSMDP, LOGL_NOTICE, "template imported: mno %s type '%s', %zu bytes, %d PEs\n", mno_id, profile_type,
	     len, ti.pe_count);
	if (info)
		*info = ti;
	return 0;
db_fail:
	seterr(err, err_size, "database: %s", strerror(-rc));
	return rc;
}

/* bytea of a text-format result into a talloc buffer (wiped when freed if secret) */
static int get_bytea(void *ctx, PGresult *res, int row, int col, bool secret, uint8_t **out, size_t *out_len)
{
	unsigned char *raw;
	size_t n;

	raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, col), &n);
	if (!raw)
		return -ENOMEM;
	*out = secret ? kek_secret_alloc(ctx, n) : talloc_size(ctx, n ? n : 1);
	if (*out) {
		memcpy(*out, raw, n);
		*out_len = n;
	}
	OPENSSL_cleanse(raw, n);
	PQfreemem(raw);
	return *out ? 0 : -ENOMEM;
}

int smdp_template_get(void *ctx, struct db *db, const char *mno_id, const char *profile_type, uint8_t **pkg,
		      size_t *len)
{
	const char *params[2] = { mno_id, profile_type };
	PGresult *res;
	int rc;

	rc = db_exec_params(db, "SELECT package FROM profile_template WHERE mno_id = $1 AND profile_type = $2",
			    2, params, NULL, NULL, &res);
	if (rc < 0)
		return rc;
	if (rc == 0)
		rc = -ENOENT;
	else
		rc = get_bytea(ctx, res, 0, 0, false, pkg, len);
	PQclear(res);
	return rc;
}

/* ------------------------------------------------------------------------------------------ batch files */

static int hex_to_bin(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s), i;

	if (n % 2 || n / 2 > max)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char c = s[i];
		int v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return -EINVAL;
		if (i % 2 == 0)
			out[i / 2] = (uint8_t)(v << 4);
		else
			out[i / 2] |= (uint8_t)v;
	}
	return (int)(n / 2);
}

/* Columns of a batch file. The secret columns come first, in enum smdp_secret order. */
enum col {
	COL_ICCID = _SMDP_S_NUM,
	COL_IMSI,
	COL_MSISDN,
	_NUM_COL
};

static const char *col_name(unsigned int c)
{
	switch (c) {
	case COL_ICCID:
		return "iccid";
	case COL_IMSI:
		return "imsi";
	case COL_MSISDN:
		return "msisdn";
	default:
		return smdp_secret_name(c);
	}
}

static bool col_optional(unsigned int c)
{
	return c == SMDP_S_PIN2 || c == SMDP_S_PUK2 || c == SMDP_S_ADM1 || c == COL_MSISDN || c == SMDP_S_KIC ||
	       c == SMDP_S_KID || c == SMDP_S_KIK;
}

/* Validate and store one field. Messages never quote a secret value. \returns 0 or -EINVAL */
static int set_field(struct smdp_prep_row *r, unsigned int c, const char *v, char *why, size_t why_size)
{
	int n;

	switch (c) {
	case COL_ICCID:
		if (!all_digits(v, 18, 20)) {
			snprintf(why, why_size, "iccid must be 18 to 20 digits");
			return -EINVAL;
		}
		if (!luhn_ok(v)) {
			snprintf(why, why_size, "iccid %s fails the Luhn check digit", v);
			return -EINVAL;
		}
		strcpy(r->iccid, v);
		return 0;
	case COL_IMSI:
		if (!all_digits(v, 6, 15)) {
			snprintf(why, why_size, "imsi must be 6 to 15 digits");
			return -EINVAL;
		}
		strcpy(r->imsi, v);
		return 0;
	case COL_MSISDN:
		if (*v == '+')
			v++;
		if (!all_digits(v, 1, 15)) {
			snprintf(why, why_size, "msisdn must be 1 to 15 digits");
			return -EINVAL;
		}
		strcpy(r->msisdn, v);
		return 0;
	case SMDP_S_KI:
	case SMDP_S_OPC:
		n = hex_to_bin(v, r->secret[c], sizeof(r->secret[c]));
		if (n != 16 && n != 32) {
			snprintf(why, why_size, "%s must be 32 or 64 hex digits (got %zu characters)", col_name(c),
				 strlen(v));
			return -EINVAL;
		}
		break;
	case SMDP_S_KIC:
	case SMDP_S_KID:
	case SMDP_S_KIK:
		n = hex_to_bin(v, r->secret[c], sizeof(r->secret[c]));
		if (n != 16 && n != 24 && n != 32) {
			snprintf(why, why_size, "%s must be 32, 48 or 64 hex digits (got %zu characters)",
				 col_name(c), strlen(v));
			return -EINVAL;
		}
		break;
	case SMDP_S_PIN1:
	case SMDP_S_PIN2:
		if (!all_digits(v, 4, 8) || gp_saip_pin_encode(v, r->secret[c]) < 0) {
			snprintf(why, why_size, "%s must be 4 to 8 digits", col_name(c));
			return -EINVAL;
		}
		n = 8;
		break;
	case SMDP_S_PUK1:
	case SMDP_S_PUK2:
		if (!all_digits(v, 8, 8) || gp_saip_pin_encode(v, r->secret[c]) < 0) {
			snprintf(why, why_size, "%s must be 8 digits", col_name(c));
			return -EINVAL;
		}
		n = 8;
		break;
	case SMDP_S_ADM1:
		if (all_digits(v, 8, 8)) {
			if (gp_saip_pin_encode(v, r->secret[c]) < 0)
				return -EINVAL;
			n = 8;
		} else if (strlen(v) == 16 && hex_to_bin(v, r->secret[c], 8) == 8) {
			n = 8;
		} else {
			snprintf(why, why_size, "adm1 must be 8 digits or 16 hex digits");
			return -EINVAL;
		}
		break;
	default:
		return -EINVAL;
	}
	r->secret_len[c] = (uint8_t)n;
	return 0;
}

/* Trim spaces/tabs in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Split line (modified in place) at commas. \returns number of fields, or -1 if more than max. */
static int split(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *c = strchr(p, ',');

		if (n >= max)
			return -1;
		if (c)
			*c = '\0';
		fields[n++] = trim(p);
		if (!c)
			return n;
		p = c + 1;
	}
}

static int cmp_row_iccid(const void *a, const void *b)
{
	const struct smdp_prep_row *const *x = a, *const *y = b;
	int c = strcmp((*x)->iccid, (*y)->iccid);

	return c ? c : ((*x)->line > (*y)->line) - ((*x)->line < (*y)->line);
}

/* An ICCID on two lines: name the earliest line that repeats an earlier one. Sorting keeps this O(n log n)
 * for the largest batches. \returns 0, -EINVAL or -ENOMEM */
static int find_repeats(const struct smdp_batch *b, char *err, size_t err_size)
{
	const struct smdp_prep_row **v = talloc_array(NULL, const struct smdp_prep_row *, b->n);
	const struct smdp_prep_row *first = NULL, *again = NULL;
	unsigned int i;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < b->n; i++)
		v[i] = &b->rows[i];
	qsort(v, b->n, sizeof(*v), cmp_row_iccid);
	for (i = 1; i < b->n; i++) {
		if (strcmp(v[i]->iccid, v[i - 1]->iccid))
			continue;
		/* v[i - 1] has the lower line of the pair; the group's first line is found by walking back */
		if (!again || v[i]->line < again->line) {
			unsigned int k = i - 1;

			while (k > 0 && !strcmp(v[k - 1]->iccid, v[i]->iccid))
				k--;
			again = v[i];
			first = v[k];
		}
	}
	talloc_free(v);
	if (again) {
		seterr(err, err_size, "line %u: iccid %s repeats line %u", again->line, again->iccid, first->line);
		return -EINVAL;
	}
	return 0;
}

static int batch_destructor(struct smdp_batch *b)
{
	if (b->rows)
		OPENSSL_cleanse(b->rows, sizeof(*b->rows) * b->n);
	return 0;
}

int smdp_batch_parse(void *ctx, const char *text, size_t len, struct smdp_batch **out, char *err, size_t err_size)
{
	char line[SMDP_BATCH_MAX_LINE + 1];
	char *fields[_NUM_COL + 1];
	int colmap[_NUM_COL + 1];	/* field index -> column */
	bool have_header = false;
	unsigned int lines = 0, lineno = 0, c;
	struct smdp_batch *b;
	size_t pos = 0, i;
	int rc = 0;

	if (!text && len)
		return -EINVAL;
	if (len > SMDP_BATCH_MAX_BYTES) {
		seterr(err, err_size, "file larger than %u bytes", SMDP_BATCH_MAX_BYTES);
		return -EFBIG;
	}
	for (i = 0; i < len; i++)
		if (text[i] == '\n')
			lines++;
	lines++;
	if (lines > SMDP_BATCH_MAX_ROWS + 1000)
		lines = SMDP_BATCH_MAX_ROWS + 1000;	/* the row count is checked below */
	b = talloc_zero(ctx, struct smdp_batch);
	if (!b)
		return -ENOMEM;
	/* sized once (no realloc, which would leave copies of secrets behind), wiped when freed */
	b->rows = talloc_zero_array(b, struct smdp_prep_row, lines);
	if (!b->rows) {
		talloc_free(b);
		return -ENOMEM;
	}
	talloc_set_destructor(b, batch_destructor);

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
		struct smdp_prep_row *r;
		int nf, k;
		char *l;

		lineno++;
		if (ll > SMDP_BATCH_MAX_LINE) {
			seterr(err, err_size, "line %u: longer than %u characters", lineno, SMDP_BATCH_MAX_LINE);
			rc = -EINVAL;
			break;
		}
		memcpy(line, text + pos, ll);
		line[ll] = '\0';
		pos += ll + (nl ? 1 : 0);
		if (memchr(line, '\0', ll)) {
			seterr(err, err_size, "line %u: contains a NUL byte", lineno);
			rc = -EINVAL;
			break;
		}
		l = trim(line);
		if (!*l || *l == '#')
			continue;
		nf = split(l, fields, _NUM_COL);
		if (!have_header) {
			bool seen[_NUM_COL] = { false };

			if (nf < 0) {
				seterr(err, err_size, "line %u: header has more than %d columns", lineno, _NUM_COL);
				rc = -EINVAL;
				break;
			}
			for (k = 0; k < nf; k++) {
				for (c = 0; c < _NUM_COL; c++)
					if (!strcasecmp(fields[k], col_name(c)))
						break;
				if (c == _NUM_COL || seen[c]) {
					seterr(err, err_size, "line %u: header column '%.40s' is %s", lineno, fields[k],
					       c == _NUM_COL ? "unknown" : "repeated");
					rc = -EINVAL;
					break;
				}
				seen[c] = true;
				colmap[k] = (int)c;
			}
			if (rc)
				break;
			for (c = 0; c < _NUM_COL; c++) {
				if (!seen[c] && !col_optional(c)) {
					seterr(err, err_size, "line %u: header lacks the required column '%s'", lineno,
					       col_name(c));
					rc = -EINVAL;
					break;
				}
			}
			if (rc)
				break;
			have_header = true;
			/* remember the header's width in colmap[_NUM_COL] */
			colmap[_NUM_COL] = nf;
			continue;
		}
		if (nf != colmap[_NUM_COL]) {
			if (nf < 0)
				seterr(err, err_size, "line %u: more fields than the header's %d", lineno,
				       colmap[_NUM_COL]);
			else
				seterr(err, err_size, "line %u: %d fields where the header has %d", lineno, nf,
				       colmap[_NUM_COL]);
			rc = -EINVAL;
			break;
		}
		if (b->n >= SMDP_BATCH_MAX_ROWS) {
			seterr(err, err_size, "line %u: more than %u rows", lineno, SMDP_BATCH_MAX_ROWS);
			rc = -EFBIG;
			break;
		}
		r = &b->rows[b->n];
		r->line = lineno;
		for (k = 0; k < nf; k++) {
			char why[160];

			c = (unsigned int)colmap[k];
			if (!*fields[k]) {
				if (col_optional(c))
					continue;
				seterr(err, err_size, "line %u: %s is empty", lineno, col_name(c));
				rc = -EINVAL;
				break;
			}
			if (set_field(r, c, fields[k], why, sizeof(why)) < 0) {
				seterr(err, err_size, "line %u: %s", lineno, why);
				rc = -EINVAL;
				break;
			}
		}
		OPENSSL_cleanse(line, sizeof(line));
		if (rc)
			break;
		b->n++;
	}
	OPENSSL_cleanse(line, sizeof(line));
	if (!rc && !have_header) {
		seterr(err, err_size, "no header line (iccid,imsi,ki,...)");
		rc = -EINVAL;
	}
	if (!rc && !b->n) {
		seterr(err, err_size, "no data line");
		rc = -EINVAL;
	}
	if (!rc)
		rc = find_repeats(b, err, err_size);
	if (rc) {
		talloc_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

/* Associated data of a sealed value: names the table, the row and the column (include/sgp02/common/kek.h). */
static void secret_ad(char *ad, size_t ad_size, const char *iccid, enum smdp_secret s)
{
	snprintf(ad, ad_size, "sgp02-smdp/profile_data/%s/%s", iccid, smdp_secret_name(s));
}

static int import_row(struct db *db, const struct kek *kek, const char *mno_id, const char *profile_type,
		      const char *batch_id, const struct smdp_prep_row *r)
{
	static const char *sql_inv =
		"INSERT INTO inventory (iccid, mno_id, profile_type) VALUES ($1, $2, $3)";
	static const char *sql_data =
		"INSERT INTO profile_data (iccid, batch_id, imsi, msisdn, ki, opc, pin1, puk1, pin2, puk2, adm1,"
		" kic, kid, kik) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)";
	const char *params[4 + _SMDP_S_NUM];
	int lengths[4 + _SMDP_S_NUM] = { 0 }, formats[4 + _SMDP_S_NUM] = { 0 };
	void *tmp = talloc_new(NULL);
	unsigned int s;
	int rc;

	if (!tmp)
		return -ENOMEM;
	params[0] = r->iccid;
	params[1] = mno_id;
	params[2] = profile_type;
	rc = db_exec_params(db, sql_inv, 3, params, NULL, NULL, NULL);
	if (rc < 0)
		goto out;
	params[1] = batch_id;
	params[2] = r->imsi;
	params[3] = r->msisdn[0] ? r->msisdn : NULL;
	for (s = 0; s < _SMDP_S_NUM; s++) {
		uint8_t *sealed;
		size_t sealed_len;
		char ad[128];

		params[4 + s] = NULL;
		formats[4 + s] = 1;
		if (!r->secret_len[s])
			continue;
		secret_ad(ad, sizeof(ad), r->iccid, s);
		rc = kek_seal(tmp, kek, ad, r->secret[s], r->secret_len[s], &sealed, &sealed_len);
		if (rc < 0)
			goto out;
		params[4 + s] = (const char *)sealed;
		lengths[4 + s] = (int)sealed_len;
	}
	rc = db_exec_params(db, sql_data, 4 + _SMDP_S_NUM, params, lengths, formats, NULL);
out:
	talloc_free(tmp);
	return rc < 0 ? rc : 0;
}

int smdp_batch_import(struct db *db, const struct kek *kek, const char *mno_id, const char *profile_type,
		      const struct smdp_batch *batch, const char *source, const char *actor, long *batch_id,
		      char *err, size_t err_size)
{
	static const char *sql_batch =
		"INSERT INTO prep_batch (mno_id, profile_type, source, row_count) VALUES ($1, $2, $3, $4) RETURNING id";
	static const char *sql_audit =
		"INSERT INTO audit (actor, action, detail) VALUES ($1, 'import-batch', $2)";
	static const struct {
		enum smdp_secret s;
		enum gp_saip_field field;
		unsigned int key_ref;
	} optional[] = {
		{ SMDP_S_PIN2, GP_SAIP_F_PIN, KEYREF_PIN2 },
		{ SMDP_S_PUK2, GP_SAIP_F_PUK, KEYREF_PIN2 },
		{ SMDP_S_ADM1, GP_SAIP_F_PIN, KEYREF_ADM1 },
	};
	static const struct {
		enum smdp_secret s;
		enum gp_saip_field field;
		unsigned int key_ref;	/* for SD keys: the key identifier; the KVN is the template's */
	} sized[] = {
		{ SMDP_S_KI, GP_SAIP_F_KI, 0 },
		{ SMDP_S_OPC, GP_SAIP_F_OPC, 0 },
		{ SMDP_S_KIC, GP_SAIP_F_SD_KEY, KID_KIC },
		{ SMDP_S_KID, GP_SAIP_F_SD_KEY, KID_KID },
		{ SMDP_S_KIK, GP_SAIP_F_SD_KEY, KID_KIK },
	};
	void *tmp;
	uint8_t *tpl;
	size_t tpl_len;
	char s_rows[16], s_id[24], detail[400];
	const char *params[4];
	PGresult *res;
	unsigned int i, k;
	bool has_ota;
	int rc;

	if (!db || !kek || !batch || !batch->n || !smdp_mno_id_ok(mno_id) || !smdp_profile_type_ok(profile_type)) {
		seterr(err, err_size, "bad operator id, profile type or empty batch");
		return -EINVAL;
	}
	tmp = talloc_new(NULL);
	if (!tmp)
		return -ENOMEM;
	rc = smdp_template_get(tmp, db, mno_id, profile_type, &tpl, &tpl_len);
	if (rc == -ENOENT) {
		seterr(err, err_size, "no template for operator %s profile type '%s' (import-template first)", mno_id,
		       profile_type);
		goto out;
	} else if (rc < 0) {
		seterr(err, err_size, "database: %s", strerror(-rc));
		goto out;
	}
	/* OTA keys: required when the template has an SCP80 key set (its test keys must not stay), refused
	 * when it has none */
	has_ota = smdp_ota_kvn(tpl, tpl_len) > 0;
	for (i = 0; i < batch->n; i++) {
		for (k = SMDP_S_KIC; k <= SMDP_S_KIK; k++) {
			if (has_ota != !!batch->rows[i].secret_len[k]) {
				seterr(err, err_size, "line %u: %s %s", batch->rows[i].line, smdp_secret_name(k),
				       has_ota ? "is required: the template has OTA keys" :
				       "given but the template has no OTA key set");
				rc = -EINVAL;
				goto out;
			}
		}
	}
	/* a key of another length than the template's would not fit its algorithm (MILENAGE vs TUAK, the key
	 * type of an OTA key): refuse it now rather than produce profiles that cannot authenticate */
	for (k = 0; k < ARRAY_SIZE(sized); k++) {
		unsigned int ref = sized[k].key_ref;
		int want;

		if (sized[k].field == GP_SAIP_F_SD_KEY) {
			if (!has_ota)
				continue;
			ref |= (unsigned int)smdp_ota_kvn(tpl, tpl_len) << 8;
		}
		want = field_len(tpl, tpl_len, sized[k].field, sized[k].field != GP_SAIP_F_SD_KEY, ref);
		for (i = 0; want > 0 && i < batch->n; i++) {
			if (batch->rows[i].secret_len[sized[k].s] != want) {
				seterr(err, err_size, "line %u: %s is %u bytes, the template's is %d",
				       batch->rows[i].line, smdp_secret_name(sized[k].s),
				       batch->rows[i].secret_len[sized[k].s], want);
				rc = -EINVAL;
				goto out;
			}
		}
	}
	/* an optional value the template cannot take would make every download of that ICCID fail later */
	for (k = 0; k < ARRAY_SIZE(optional); k++) {
		if (has_field(tpl, tpl_len, optional[k].field, false, optional[k].key_ref))
			continue;
		for (i = 0; i < batch->n; i++) {
			if (batch->rows[i].secret_len[optional[k].s]) {
				seterr(err, err_size, "line %u: the template has no %s to personalise",
				       batch->rows[i].line, smdp_secret_name(optional[k].s));
				rc = -ENOENT;
				goto out;
			}
		}
	}

	rc = db_begin(db);
	if (rc < 0) {
		seterr(err, err_size, "database: %s", strerror(-rc));
		goto out;
	}
	snprintf(s_rows, sizeof(s_rows), "%u", batch->n);
	params[0] = mno_id;
	params[1] = profile_type;
	params[2] = source;
	params[3] = s_rows;
	rc = db_exec_params(db, sql_batch, 4, params, NULL, NULL, &res);
	if (rc < 0) {
		seterr(err, err_size, "database: %s", strerror(-rc));
		goto rollback;
	}
	snprintf(s_id, sizeof(s_id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	for (i = 0; i < batch->n; i++) {
		const struct smdp_prep_row *r = &batch->rows[i];

		rc = import_row(db, kek, mno_id, profile_type, s_id, r);
		if (rc == -EEXIST) {
			seterr(err, err_size, "line %u: iccid %s is already in the inventory", r->line, r->iccid);
			goto rollback;
		} else if (rc < 0) {
			seterr(err, err_size, "line %u: iccid %s: %s", r->line, r->iccid, strerror(-rc));
			goto rollback;
		}
	}
	snprintf(detail, sizeof(detail), "batch %s: mno %s type %s, %u ICCIDs, from %.200s", s_id, mno_id,
		 profile_type, batch->n, source ? source : "-");
	params[0] = actor ? actor : "unknown";
	params[1] = detail;
	rc = db_exec_params(db, sql_audit, 2, params, NULL, NULL, NULL);
	if (rc < 0) {
		seterr(err, err_size, "database: %s", strerror(-rc));
		goto rollback;
	}
	rc = db_commit(db);
	if (rc < 0) {
		seterr(err, err_size, "database: commit failed: %s", strerror(-rc));
		goto out;
	}
	LOGP(DSMDP, LOGL_NOTICE, "batch %s imported: mno %s type '%s', %u ICCIDs\n", s_id, mno_id, profile_type,
	     batch->n);
	if (batch_id)
		*batch_id = atol(s_id);
	rc = 0;
	goto out;
rollback:
	db_rollback(db);
out:
	talloc_free(tmp);
	return rc;
}

/* ------------------------------------------------------------------------------------------ inventory */

/* Every change of an ICCID's state is appended to the audit trail in the same statement (so both or neither
 * happen); the actor is the program, as it named its connection. */
static const char *audit_actor(const struct db *db)
{
	return db->application_name ? db->application_name : "sgp02-smdp";
}

int smdp_inventory_reserve(struct db *db, const char *mno_id, const char *profile_type, const char *eid,
			   char iccid[21])
{
	/* SKIP LOCKED: a row another transaction is taking is passed over instead of waited for, so that
	 * concurrent downloads each get a different ICCID without serialising on one row */
	static const char *sql =
		"WITH u AS (UPDATE inventory SET state = 'reserved', eid = $3, updated_at = now() WHERE iccid = ("
		" SELECT iccid FROM inventory WHERE mno_id = $1 AND profile_type = $2 AND state = 'available'"
		" ORDER BY iccid LIMIT 1 FOR UPDATE SKIP LOCKED) AND state = 'available' RETURNING iccid, eid)"
		" INSERT INTO audit (eid, iccid, actor, action, detail)"
		" SELECT eid, iccid, $4, 'inventory', 'available -> reserved' FROM u RETURNING iccid";
	const char *params[4] = { mno_id, profile_type, eid, audit_actor(db) };
	PGresult *res;
	int rc;

	if (!db || !mno_id || !profile_type || !eid_ok(eid))
		return -EINVAL;
	rc = db_exec_params(db, sql, 4, params, NULL, NULL, &res);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		PQclear(res);
		return -ENOSPC;
	}
	snprintf(iccid, 21, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	LOGP(DSMDP, LOGL_INFO, "ICCID %s reserved for EID %s\n", iccid, eid);
	return 0;
}

int smdp_inventory_get(struct db *db, const char *iccid, enum smdp_inv_state *state, char eid[33])
{
	const char *params[1] = { iccid };
	PGresult *res;
	int rc;

	rc = db_exec_params(db, "SELECT state, coalesce(eid, '') FROM inventory WHERE iccid = $1", 1, params,
			    NULL, NULL, &res);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		PQclear(res);
		return -ENOENT;
	}
	rc = smdp_inv_state_parse(PQgetvalue(res, 0, 0));
	if (rc >= 0) {
		if (state)
			*state = rc;
		if (eid)
			snprintf(eid, 33, "%s", PQgetvalue(res, 0, 1));
		rc = 0;
	} else {
		rc = -EIO;
	}
	PQclear(res);
	return rc;
}

int smdp_profile_info(struct db *db, const char *iccid, struct smdp_profile_info *pi)
{
	static const char *sql =
		"SELECT i.mno_id, i.profile_type, i.state, coalesce(i.eid, ''), coalesce(d.imsi, ''),"
		" coalesce(d.msisdn, ''), coalesce(octet_length(t.package), 0)"
		" FROM inventory i LEFT JOIN profile_data d ON d.iccid = i.iccid"
		" LEFT JOIN profile_template t ON t.mno_id = i.mno_id AND t.profile_type = i.profile_type"
		" WHERE i.iccid = $1";
	const char *params[1] = { iccid };
	PGresult *res;
	int rc;

	if (!db || !iccid || !pi)
		return -EINVAL;
	rc = db_exec_params(db, sql, 1, params, NULL, NULL, &res);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		PQclear(res);
		return -ENOENT;
	}
	memset(pi, 0, sizeof(*pi));
	snprintf(pi->mno_id, sizeof(pi->mno_id), "%s", PQgetvalue(res, 0, 0));
	snprintf(pi->profile_type, sizeof(pi->profile_type), "%s", PQgetvalue(res, 0, 1));
	rc = smdp_inv_state_parse(PQgetvalue(res, 0, 2));
	pi->state = rc >= 0 ? (enum smdp_inv_state)rc : SMDP_INV_UNUSABLE;
	snprintf(pi->eid, sizeof(pi->eid), "%s", PQgetvalue(res, 0, 3));
	snprintf(pi->imsi, sizeof(pi->imsi), "%s", PQgetvalue(res, 0, 4));
	snprintf(pi->msisdn, sizeof(pi->msisdn), "%s", PQgetvalue(res, 0, 5));
	pi->package_len = (size_t)atol(PQgetvalue(res, 0, 6));
	PQclear(res);
	return rc >= 0 ? 0 : -EIO;
}

/* 0 rows updated: tell an unknown ICCID from one in another state */
static int why_not_updated(struct db *db, const char *iccid)
{
	int rc = smdp_inventory_get(db, iccid, NULL, NULL);

	return rc == 0 ? -EBUSY : rc;
}

int smdp_inventory_reserve_iccid(struct db *db, const char *mno_id, const char *iccid, const char *eid)
{
	static const char *sql =
		"WITH u AS (UPDATE inventory SET state = 'reserved', eid = $2, updated_at = now()"
		" WHERE iccid = $1 AND state = 'available' AND ($3::text IS NULL OR mno_id = $3) RETURNING iccid, eid)"
		" INSERT INTO audit (eid, iccid, actor, action, detail)"
		" SELECT eid, iccid, $4, 'inventory', 'available -> reserved' FROM u";
	const char *params[4] = { iccid, eid, mno_id, audit_actor(db) };
	struct smdp_profile_info pi;
	int rc;

	if (!db || !iccid || !eid_ok(eid))
		return -EINVAL;
	rc = db_exec_params(db, sql, 4, params, NULL, NULL, NULL);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		rc = smdp_profile_info(db, iccid, &pi);
		if (rc < 0)
			return rc;
		return mno_id && strcmp(pi.mno_id, mno_id) ? -EPERM : -EBUSY;
	}
	LOGP(DSMDP, LOGL_INFO, "ICCID %s reserved for EID %s\n", iccid, eid);
	return 0;
}

static bool transition_ok(enum smdp_inv_state from, enum smdp_inv_state to)
{
	switch (from) {
	case SMDP_INV_RESERVED:
		return to == SMDP_INV_INSTALLED || to == SMDP_INV_AVAILABLE || to == SMDP_INV_UNUSABLE;
	case SMDP_INV_INSTALLED:
		return to == SMDP_INV_RELEASED || to == SMDP_INV_UNUSABLE;
	case SMDP_INV_RELEASED:
		return to == SMDP_INV_AVAILABLE || to == SMDP_INV_UNUSABLE;
	case SMDP_INV_AVAILABLE:
		return to == SMDP_INV_UNUSABLE;
	default:
		return false;
	}
}

int smdp_inventory_set_state(struct db *db, const char *iccid, enum smdp_inv_state from, enum smdp_inv_state to)
{
	/* the audit row keeps the EID the ICCID had, also when leaving for available clears it */
	static const char *sql =
		"WITH o AS (SELECT iccid, eid FROM inventory WHERE iccid = $1 AND state = $2 FOR UPDATE),"
		" u AS (UPDATE inventory i SET state = $3, updated_at = now(),"
		" eid = CASE WHEN $3 = 'available' THEN NULL ELSE i.eid END"
		" FROM o WHERE i.iccid = o.iccid AND i.state = $2 RETURNING o.iccid, o.eid)"
		" INSERT INTO audit (eid, iccid, actor, action, detail)"
		" SELECT eid, iccid, $4, 'inventory', $2 || ' -> ' || $3 FROM u";
	const char *params[4];
	int rc;

	if (!db || !iccid || (unsigned int)from >= _SMDP_INV_NUM || (unsigned int)to >= _SMDP_INV_NUM ||
	    !transition_ok(from, to))
		return -EINVAL;
	params[0] = iccid;
	params[1] = state_names[from];
	params[2] = state_names[to];
	params[3] = audit_actor(db);
	rc = db_exec_params(db, sql, 4, params, NULL, NULL, NULL);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return why_not_updated(db, iccid);
	LOGP(DSMDP, LOGL_INFO, "ICCID %s: %s -> %s\n", iccid, state_names[from], state_names[to]);
	return 0;
}

int smdp_inventory_release(struct db *db, const char *iccid, enum smdp_fail_policy policy)
{
	return smdp_inventory_set_state(db, iccid, SMDP_INV_RESERVED,
					policy == SMDP_FAIL_RETURN ? SMDP_INV_AVAILABLE : SMDP_INV_UNUSABLE);
}

int smdp_inventory_counts(void *ctx, struct db *db, struct smdp_inv_count **out, unsigned int *n)
{
	static const char *sql =
		"SELECT mno_id, profile_type, state, count(*) FROM inventory GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";
	struct smdp_inv_count *c = NULL;
	unsigned int nc = 0;
	PGresult *res;
	int rows, i, rc;

	rc = db_exec_params(db, sql, 0, NULL, NULL, NULL, &res);
	if (rc < 0)
		return rc;
	rows = PQntuples(res);
	c = talloc_zero_array(ctx, struct smdp_inv_count, rows ? rows : 1);
	if (!c) {
		PQclear(res);
		return -ENOMEM;
	}
	for (i = 0; i < rows; i++) {
		const char *mno = PQgetvalue(res, i, 0), *type = PQgetvalue(res, i, 1);
		int st = smdp_inv_state_parse(PQgetvalue(res, i, 2));

		if (!nc || strcmp(c[nc - 1].mno_id, mno) || strcmp(c[nc - 1].profile_type, type)) {
			snprintf(c[nc].mno_id, sizeof(c[nc].mno_id), "%s", mno);
			snprintf(c[nc].profile_type, sizeof(c[nc].profile_type), "%s", type);
			nc++;
		}
		if (st >= 0)
			c[nc - 1].n[st] = atol(PQgetvalue(res, i, 3));
	}
	PQclear(res);
	*out = c;
	*n = nc;
	return 0;
}

/* ------------------------------------------------------------------------------------------ personalisation */

/* Replace *pkg by the result of one step; the previous buffer held secrets too, so it is wiped. */
static void step(uint8_t **pkg, size_t *len, uint8_t *next, size_t next_len, bool own)
{
	if (own) {
		OPENSSL_cleanse(*pkg, *len);
		talloc_free(*pkg);
	}
	*pkg = next;
	*len = next_len;
}

int smdp_personalise_pkg(void *ctx, const uint8_t *tpl, size_t tpl_len, const struct smdp_prep_row *r,
			 uint8_t **out, size_t *out_len)
{
	static const struct {
		enum smdp_secret s;
		enum gp_saip_field field;
		unsigned int key_ref;
	} codes[] = {
		{ SMDP_S_PIN1, GP_SAIP_F_PIN, KEYREF_PIN1 },
		{ SMDP_S_PUK1, GP_SAIP_F_PUK, KEYREF_PIN1 },
		{ SMDP_S_PIN2, GP_SAIP_F_PIN, KEYREF_PIN2 },
		{ SMDP_S_PUK2, GP_SAIP_F_PUK, KEYREF_PIN2 },
		{ SMDP_S_ADM1, GP_SAIP_F_PIN, KEYREF_ADM1 },
	};
	static const struct {
		enum smdp_secret s;
		uint8_t kid;
	} ota[] = {
		{ SMDP_S_KIC, KID_KIC }, { SMDP_S_KID, KID_KID }, { SMDP_S_KIK, KID_KIK },
	};
	void *tmp = talloc_new(NULL);
	uint8_t *cur = (uint8_t *)tpl, *next;
	size_t len = tpl_len, next_len;
	bool own = false;
	unsigned int i, n;
	int rc, kvn = 0;

	if (!tmp)
		return -ENOMEM;
	if (r->secret_len[SMDP_S_KIC] || r->secret_len[SMDP_S_KID] || r->secret_len[SMDP_S_KIK]) {
		kvn = smdp_ota_kvn(tpl, tpl_len);
		if (kvn < 0) {
			rc = kvn;
			goto out;
		}
	}
	rc = gp_saip_set_iccid(tmp, cur, len, r->iccid, &next, &next_len);
	if (rc < 0)
		goto out;
	step(&cur, &len, next, next_len, own);
	own = true;
	rc = gp_saip_set_imsi(tmp, cur, len, r->imsi, &next, &next_len);
	if (rc < 0)
		goto out;
	step(&cur, &len, next, next_len, own);
	/* every akaParameter PE with an algoParameter (a profile may carry one for USIM and one for ISIM) */
	for (n = 0;; n++) {
		rc = gp_saip_set_aka(tmp, cur, len, n, r->secret[SMDP_S_KI], r->secret_len[SMDP_S_KI],
				     r->secret[SMDP_S_OPC], r->secret_len[SMDP_S_OPC], &next, &next_len);
		if (rc == -ENOENT && n > 0)
			break;
		if (rc < 0)
			goto out;
		step(&cur, &len, next, next_len, own);
	}
	for (i = 0; i < ARRAY_SIZE(codes); i++) {
		if (!r->secret_len[codes[i].s])
			continue;
		rc = gp_saip_set_code(tmp, cur, len, codes[i].field, codes[i].key_ref, r->secret[codes[i].s],
				      r->secret_len[codes[i].s], &next, &next_len);
		if (rc < 0)
			goto out;
		step(&cur, &len, next, next_len, own);
	}
	for (i = 0; i < ARRAY_SIZE(ota); i++) {
		if (!r->secret_len[ota[i].s])
			continue;
		rc = gp_saip_set_sd_key(tmp, cur, len, (uint8_t)kvn, ota[i].kid, r->secret[ota[i].s],
					r->secret_len[ota[i].s], &next, &next_len);
		if (rc < 0)
			goto out;
		step(&cur, &len, next, next_len, own);
	}
	rc = gp_saip_validate(cur, len);
	if (rc < 0)
		goto out;
	*out = kek_secret_alloc(ctx, len);
	if (!*out) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(*out, cur, len);
	*out_len = len;
	rc = 0;
out:
	if (own)
		OPENSSL_cleanse(cur, len);
	talloc_free(tmp);
	return rc;
}

int smdp_personalise(void *ctx, struct db *db, const struct kek *kek, const char *iccid, uint8_t **out,
		     size_t *out_len)
{
	static const char *sql =
		"SELECT i.state, t.package, d.imsi, coalesce(d.msisdn, ''),"
		" d.ki, d.opc, d.pin1, d.puk1, d.pin2, d.puk2, d.adm1, d.kic, d.kid, d.kik"
		" FROM inventory i JOIN profile_data d ON d.iccid = i.iccid"
		" JOIN profile_template t ON t.mno_id = i.mno_id AND t.profile_type = i.profile_type"
		" WHERE i.iccid = $1";
	const char *params[1] = { iccid };
	struct smdp_prep_row *r;
	uint8_t *tpl;
	size_t tpl_len;
	PGresult *res;
	void *tmp;
	unsigned int s;
	int rc;

	if (!db || !kek || !iccid || !out || !out_len)
		return -EINVAL;
	rc = db_exec_params(db, sql, 1, params, NULL, NULL, &res);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		PQclear(res);
		return -ENOENT;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "reserved")) {
		PQclear(res);
		return -EBUSY;
	}
	tmp = talloc_new(NULL);
	r = tmp ? (struct smdp_prep_row *)kek_secret_alloc(tmp, sizeof(*r)) : NULL;
	if (!r) {
		rc = -ENOMEM;
		goto out;
	}
	snprintf(r->iccid, sizeof(r->iccid), "%s", iccid);
	snprintf(r->imsi, sizeof(r->imsi), "%s", PQgetvalue(res, 0, 2));
	snprintf(r->msisdn, sizeof(r->msisdn), "%s", PQgetvalue(res, 0, 3));
	rc = get_bytea(tmp, res, 0, 1, false, &tpl, &tpl_len);
	if (rc < 0)
		goto out;
	for (s = 0; s < _SMDP_S_NUM; s++) {
		uint8_t *sealed, *pt;
		size_t sealed_len, pt_len;
		char ad[128];

		if (PQgetisnull(res, 0, 4 + s))
			continue;
		rc = get_bytea(tmp, res, 0, 4 + s, false, &sealed, &sealed_len);
		if (rc < 0)
			goto out;
		secret_ad(ad, sizeof(ad), iccid, s);
		rc = kek_open(tmp, kek, ad, sealed, sealed_len, &pt, &pt_len);
		if (rc == 0 && pt_len > sizeof(r->secret[s]))
			rc = -EBADMSG;
		if (rc < 0) {
			LOGP(DSMDP, LOGL_ERROR, "ICCID %s: %s does not decrypt (%s): wrong key-encryption key?\n",
			     iccid, smdp_secret_name(s), strerror(-rc));
			goto out;
		}
		memcpy(r->secret[s], pt, pt_len);
		r->secret_len[s] = (uint8_t)pt_len;
		talloc_free(pt);
	}
	rc = smdp_personalise_pkg(ctx, tpl, tpl_len, r, out, out_len);
	if (rc < 0)
		LOGP(DSMDP, LOGL_ERROR, "ICCID %s: personalisation failed: %s\n", iccid, strerror(-rc));
out:
	PQclear(res);
	talloc_free(tmp);	/* wipes r and the plaintexts */
	return rc;
}
