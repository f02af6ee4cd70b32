/* EIS codec: the GSMA EISType (euicc.common.types.xsd; digest §3.1) <-> struct ws_eis. See eis.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <openssl/crypto.h>
#include <talloc.h>

#include <sgp02/gp/eid.h>
#include <sgp02/ws/eis.h>
#include <sgp02/ws/ws_codes.h>

/* parser state: the talloc parent of the result and where the first error goes */
struct pst {
	void *ctx;		/* allocations of the EIS */
	void *errctx;		/* parent of the error message */
	char **err;
	const xmlChar *ns;	/* namespace of the Eis element (chameleon schemas) */
};

static int fail(struct pst *p, int rc, const char *path, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct pst *p, int rc, const char *path, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (!p->err || *p->err)
		return rc;
	va_start(ap, fmt);
	msg = talloc_vasprintf(p->errctx, fmt, ap);
	va_end(ap);
	*p->err = msg ? talloc_asprintf(p->errctx, "%s: %s", path, msg) : NULL;
	talloc_free(msg);
	return rc;
}

/* ---------------------------------------------------------------------------------------------------------------
 * walking a sequence of child elements
 */

struct cur {
	xmlNodePtr n;		/* next element to look at, NULL at the end */
	const char *path;	/* the parent's path, for messages */
	int rc;			/* first structural error (text between elements) */
};

static bool is_blank(const xmlChar *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	return true;
}

/* advance to the next element; non-blank text between elements is refused (the XSD has no mixed content) */
static xmlNodePtr skip_to_elem(struct pst *p, struct cur *c, xmlNodePtr n)
{
	for (; n; n = n->next) {
		if (n->type == XML_ELEMENT_NODE)
			return n;
		if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && !is_blank(n->content)) {
			c->rc = fail(p, -EPROTO, c->path, "unexpected text content");
			return NULL;
		}
		if (n->type == XML_ENTITY_REF_NODE) {
			c->rc = fail(p, -EPROTO, c->path, "entity reference not allowed");
			return NULL;
		}
	}
	return NULL;
}

static void cur_init(struct pst *p, struct cur *c, xmlNodePtr parent, const char *path)
{
	c->path = path;
	c->rc = 0;
	c->n = skip_to_elem(p, c, parent->children);
}

static bool same_ns(struct pst *p, xmlNodePtr n)
{
	const xmlChar *href = n->ns ? n->ns->href : NULL;

	if (!p->ns || !href)
		return p->ns == href;
	return xmlStrEqual(p->ns, href);
}

/*! Take the next element if it is \a name; \returns it, or NULL (with -ENOENT recorded in *rc when \a required). */
static xmlNodePtr take(struct pst *p, struct cur *c, const char *name, bool required, int *rc)
{
	xmlNodePtr n = c->n;

	if (c->rc) {
		*rc = c->rc;
		return NULL;
	}
	if (n && same_ns(p, n) && xmlStrEqual(n->name, BAD_CAST name)) {
		c->n = skip_to_elem(p, c, n->next);
		if (c->rc)
			*rc = c->rc;
		return n;
	}
	if (required)
		*rc = fail(p, -ENOENT, c->path, "required element %s missing%s%s", name, n ? " before " : "",
			   n ? (const char *)n->name : "");
	return NULL;
}

/*! The sequence must be finished. */
static int cur_end(struct pst *p, struct cur *c)
{
	if (c->rc)
		return c->rc;
	if (c->n)
		return fail(p, -EPROTO, c->path, "unexpected element %s", (const char *)c->n->name);
	return 0;
}

static char *mkpath(struct pst *p, const char *parent, const char *name)
{
	return talloc_asprintf(p->errctx, "%s/%s", parent, name);
}

/* ---------------------------------------------------------------------------------------------------------------
 * simple values
 */

/* text of a simple-content element: no child elements allowed; \returns talloc'd copy or NULL (error set) */
static char *text_of(struct pst *p, xmlNodePtr n, const char *path, int *rc)
{
	size_t total = 0;
	char *s;
	xmlNodePtr c;

	for (c = n->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
			total += xmlStrlen(c->content);
		else if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
			continue;
		else {
			*rc = fail(p, -EBADMSG, path, "element content not allowed");
			return NULL;
		}
	}
	if (total > WS_EIS_MAX_HEX * 2 + 64) {
		*rc = fail(p, -E2BIG, path, "value too long");
		return NULL;
	}
	s = talloc_size(p->ctx, total + 1);
	if (!s) {
		*rc = -ENOMEM;
		return NULL;
	}
	s[0] = '\0';
	for (c = n->children; c; c = c->next)
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
			strcat(s, (const char *)c->content);
	return s;
}

/* XSD whiteSpace=collapse for the non-string types: strip leading/trailing blanks */
static char *collapse(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
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

/* ObjectIdentifierType: ([\d]+[.])*[\d]+ */
static bool valid_oid(const char *s)
{
	bool digit = false;

	if (!*s)
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

/* ThreeDigitVersion: \d+[.]\d+[.]\d+ */
static bool valid_version(const char *s)
{
	int parts = 0;
	bool digit = false;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			digit = true;
		} else if (*s == '.' && digit && parts < 2) {
			parts++;
			digit = false;
		} else {
			return false;
		}
	}
	return digit && parts == 2;
}

/* ICCIDType: 89[0-9fF]{4,18} */
static bool valid_iccid(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 6 || n > 20 || s[0] != '8' || s[1] != '9')
		return false;
	for (i = 2; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == 'f' || s[i] == 'F'))
			return false;
	return true;
}

static bool dd(const char *s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int num(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* xs:dateTime lexical form: YYYY-MM-DDThh:mm:ss(.s+)?(Z|(+|-)hh:mm)?  (4-digit years; values range-checked) */
static bool valid_datetime(const char *s)
{
	if (strlen(s) < 19 || !dd(s, 4) || s[4] != '-' || !dd(s + 5, 2) || s[7] != '-' || !dd(s + 8, 2) ||
	    s[10] != 'T' || !dd(s + 11, 2) || s[13] != ':' || !dd(s + 14, 2) || s[16] != ':' || !dd(s + 17, 2))
		return false;
	if (num(s + 5, 2) < 1 || num(s + 5, 2) > 12 || num(s + 8, 2) < 1 || num(s + 8, 2) > 31 ||
	    num(s + 11, 2) > 24 || num(s + 14, 2) > 59 || num(s + 17, 2) > 59)
		return false;
	s += 19;
	if (*s == '.') {
		s++;
		if (!dd(s, 1))
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z')
		return s[1] == '\0';
	if (*s == '+' || *s == '-')
		return dd(s + 1, 2) && s[3] == ':' && dd(s + 4, 2) && s[6] == '\0' && num(s + 1, 2) <= 14 &&
		       num(s + 4, 2) <= 59;
	return *s == '\0';
}

/* number of characters (not bytes) of a UTF-8 string */
static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

enum vkind { V_STR100, V_STR, V_OID, V_VERSION, V_DATETIME, V_ICCID, V_MSISDN, V_IMSI };

static int get_str(struct pst *p, xmlNodePtr n, const char *path, enum vkind k, char **out)
{
	int rc = 0;
	char *s = text_of(p, n, path, &rc);
	char *v;
	bool ok;

	if (!s)
		return rc;
	v = s;
	switch (k) {
	case V_STR100:
		ok = utf8_len(s) <= 100;
		break;
	case V_STR:
		ok = utf8_len(s) <= WS_EIS_MAX_STR;
		break;
	case V_OID:
		ok = valid_oid(s);
		break;
	case V_VERSION:
		ok = valid_version(s);
		break;
	case V_DATETIME:
		v = collapse(s);
		ok = valid_datetime(v);
		break;
	case V_ICCID:
		ok = valid_iccid(s);
		break;
	case V_MSISDN:
		ok = all_digits(s, 3, 15);
		break;
	case V_IMSI:
		ok = all_digits(s, 0, 15);
		break;
	default:
		ok = false;
	}
	if (!ok) {
		/* echo only a bounded, printable part of the bad value */
		rc = fail(p, -EBADMSG, path, "invalid value \"%.40s\"", s);
		talloc_free(s);
		return rc;
	}
	if (v != s)
		memmove(s, v, strlen(v) + 1);
	*out = s;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* xs:hexBinary of min..max bytes into a talloc'd buffer (on \a parent) */
static int get_hex(struct pst *p, xmlNodePtr n, const char *path, size_t min, size_t max, uint8_t **data, size_t *len)
{
	int rc = 0;
	char *s = text_of(p, n, path, &rc), *h;
	size_t hl, i;
	uint8_t *b = NULL;

	if (!s)
		return rc;
	h = collapse(s);
	hl = strlen(h);
	if (hl % 2) {
		rc = fail(p, -EBADMSG, path, "odd number of hex digits");
		goto out;
	}
	if (hl / 2 < min || hl / 2 > max) {
		rc = fail(p, -EBADMSG, path, "length %zu bytes, expected %zu..%zu", hl / 2, min, max);
		goto out;
	}
	if (hl) {
		b = talloc_size(p->ctx, hl / 2);
		if (!b) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < hl / 2; i++) {
		int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			rc = fail(p, -EBADMSG, path, "not hexadecimal");
			talloc_free(b);
			goto out;
		}
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*data = b;
	*len = hl / 2;
out:
	talloc_free(s);
	return rc;
}

static int get_bytes(struct pst *p, xmlNodePtr n, const char *path, size_t min, size_t max, struct ws_eis_bytes *b)
{
	return get_hex(p, n, path, min, max, &b->data, &b->len);
}

/* hex text of an attribute (same rules) */
static int attr_hex(struct pst *p, xmlNodePtr n, const char *attr, const char *path, size_t min, size_t max,
		    uint8_t **data, size_t *len)
{
	xmlAttrPtr a = xmlHasProp(n, BAD_CAST attr);
	xmlNode tmp;

	if (!a || a->ns)
		return fail(p, -ENOENT, path, "required attribute %s missing", attr);
	/* reuse the element text reader on the attribute's text children */
	memset(&tmp, 0, sizeof(tmp));
	tmp.type = XML_ELEMENT_NODE;
	tmp.children = a->children;
	return get_hex(p, &tmp, path, min, max, data, len);
}

static int get_u64(struct pst *p, xmlNodePtr n, const char *path, uint64_t min, uint64_t max, uint64_t *out)
{
	int rc = 0;
	char *s = text_of(p, n, path, &rc), *v;
	uint64_t x = 0;

	if (!s)
		return rc;
	v = collapse(s);
	if (*v == '+')
		v++;
	if (!all_digits(v, 1, 40)) {
		rc = fail(p, -EBADMSG, path, "not a non-negative integer");
		goto out;
	}
	for (; *v; v++) {
		if (x > (UINT64_MAX - (uint64_t)(*v - '0')) / 10) {
			rc = fail(p, -EBADMSG, path, "integer too large");
			goto out;
		}
		x = x * 10 + (uint64_t)(*v - '0');
	}
	if (x < min || x > max) {
		rc = fail(p, -EBADMSG, path, "value %" PRIu64 " out of range %" PRIu64 "..%" PRIu64, x, min, max);
		goto out;
	}
	*out = x;
out:
	talloc_free(s);
	return rc;
}

static int get_bool(struct pst *p, xmlNodePtr n, const char *path, bool *out)
{
	int rc = 0;
	char *s = text_of(p, n, path, &rc), *v;

	if (!s)
		return rc;
	v = collapse(s);
	if (!strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		rc = fail(p, -EBADMSG, path, "not a boolean");
	talloc_free(s);
	return rc;
}

/* an enumerated string: index into \a names, which ends with NULL */
static int get_enum(struct pst *p, xmlNodePtr n, const char *path, const char *const *names, int *out)
{
	int rc = 0, i;
	char *s = text_of(p, n, path, &rc);

	if (!s)
		return rc;
	for (i = 0; names[i]; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			talloc_free(s);
			return 0;
		}
	}
	rc = fail(p, -EBADMSG, path, "invalid value \"%.40s\"", s);
	talloc_free(s);
	return rc;
}

static const char *const state_names[] = { "Created", "Disabled", "Enabled", NULL };
static const char *const usage_names[] = { "", "SCP03", "SCP80", "SCP81", "TokenGeneration", "ReceiptVerification",
					   "CA", NULL };
static const char *const role_names[] = { "ISD-R", "ECASD", NULL };
static const char *const action_names[] = { "ENABLE", "DISABLE", "DELETE", NULL };
static const char *const qual_names[] = { "Not-Allowed", "Auto-Delete", NULL };
static const char *const status_names[] = { "EXECUTED_SUCCESS", "EXECUTED_WITHWARNING", "FAILED", "EXPIRED", NULL };

void ws_eis_parse_status(int rc, const char **subject, const char **reason)
{
	if (rc == -ENOMEM) {
		*subject = WS_SUBJ_FUNCTION_PROVIDER;
		*reason = WS_REASON_EXECUTION_ERROR;
		return;
	}
	*subject = WS_SUBJ_EIS;
	*reason = rc == -ENOENT ? WS_REASON_MANDATORY_MISSING : WS_REASON_INVALID;
}

const char *ws_eis_profile_state_name(enum ws_eis_profile_state st)
{
	return (unsigned int)st < 3 ? state_names[st] : "?";
}

const char *ws_eis_keyset_usage_name(enum ws_eis_keyset_usage u)
{
	return (unsigned int)u < 7 ? usage_names[u] : "?";
}

/* ---------------------------------------------------------------------------------------------------------------
 * macros for the sequence walkers: X_REQ / X_OPT take the next element; on error jump to out
 */

#define TAKE(var, name, req)								\
	do {										\
		var = take(p, &c, name, req, &rc);					\
		if (rc)									\
			goto out;							\
	} while (0)

#define CHECK(expr)									\
	do {										\
		rc = (expr);								\
		if (rc)									\
			goto out;							\
	} while (0)

/* count following siblings with the same name, for bounding repeated elements before allocating */
static unsigned int count_run(struct pst *p, xmlNodePtr n, const char *name)
{
	unsigned int cnt = 0;

	for (; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && same_ns(p, n) && xmlStrEqual(n->name, BAD_CAST name))
			cnt++;
	return cnt;
}

/* ---------------------------------------------------------------------------------------------------------------
 * complex types
 */

static int parse_key(struct pst *p, xmlNodePtr kn, const char *path, struct ws_eis_key *k)
{
	struct cur c;
	xmlNodePtr n;
	uint64_t v;
	int rc = 0;
	unsigned int max;

	CHECK(attr_hex(p, kn, "kcv", path, 0, 32, &k->kcv.data, &k->kcv.len));
	cur_init(p, &c, kn, path);
	TAKE(n, "Index", true);
	CHECK(get_u64(p, n, mkpath(p, path, "Index"), 0, 127, &v));
	k->index = (uint8_t)v;
	max = count_run(p, c.n, "KeyComponents");
	if (max > WS_EIS_MAX_COMPONENTS) {
		rc = fail(p, -E2BIG, path, "more than %d KeyComponents", WS_EIS_MAX_COMPONENTS);
		goto out;
	}
	k->components = talloc_zero_array(p->ctx, struct ws_eis_key_component, max ? max : 1);
	if (!k->components)
		return -ENOMEM;
	while (1) {
		struct ws_eis_key_component *kc = &k->components[k->num_components];
		char *cpath = mkpath(p, path, "KeyComponents");
		uint8_t *t = NULL;
		size_t tl = 0;

		n = take(p, &c, "KeyComponents", k->num_components == 0, &rc);
		if (rc)
			goto out;
		if (!n)
			break;
		if (n->children && !is_blank(n->children->content)) {
			rc = fail(p, -EBADMSG, cpath, "content not allowed");
			goto out;
		}
		CHECK(attr_hex(p, n, "type", cpath, 1, 1, &t, &tl));
		kc->type = t[0];
		talloc_free(t);
		CHECK(attr_hex(p, n, "value", cpath, 0, 256, &kc->value.data, &kc->value.len));
		k->num_components++;
	}
	rc = cur_end(p, &c);
out:
	return rc;
}

static int parse_cert(struct pst *p, xmlNodePtr cn, const char *path, struct ws_eis_gp_cert *gc)
{
	struct cur c;
	xmlNodePtr n;
	uint64_t v;
	int rc = 0;

	cur_init(p, &c, cn, path);
	TAKE(n, "Index", true);
	CHECK(get_u64(p, n, mkpath(p, path, "Index"), 0, 127, &v));
	gc->index = (uint8_t)v;
	TAKE(n, "CaId", true);
	CHECK(get_str(p, n, mkpath(p, path, "CaId"), V_OID, &gc->ca_id));
	TAKE(n, "Value", true);
	CHECK(get_bytes(p, n, mkpath(p, path, "Value"), 0, WS_EIS_MAX_HEX, &gc->value));
	rc = cur_end(p, &c);
out:
	return rc;
}

static int parse_keyset(struct pst *p, xmlNodePtr kn, const char *path, struct ws_eis_keyset *ks)
{
	struct cur c;
	xmlNodePtr n;
	uint64_t v;
	int rc = 0, e;
	unsigned int max;

	cur_init(p, &c, kn, path);
	TAKE(n, "Version", true);
	CHECK(get_u64(p, n, mkpath(p, path, "Version"), 1, 127, &v));
	ks->version = (uint8_t)v;
	TAKE(n, "Type", false);
	if (n) {
		CHECK(get_enum(p, n, mkpath(p, path, "Type"), usage_names, &e));
		if (e == WS_EIS_KS_NONE) {
			rc = fail(p, -EBADMSG, path, "empty Type");
			goto out;
		}
		ks->type = e;
	}
	TAKE(n, "Cntr", false);
	if (n) {
		CHECK(get_u64(p, n, mkpath(p, path, "Cntr"), 0, UINT64_MAX, &ks->cntr));
		ks->has_cntr = true;
	}
	max = count_run(p, c.n, "Key") + count_run(p, c.n, "Certificate");
	if (max > WS_EIS_MAX_KEYS) {
		rc = fail(p, -E2BIG, path, "more than %d Key/Certificate", WS_EIS_MAX_KEYS);
		goto out;
	}
	ks->items = talloc_zero_array(p->ctx, struct ws_eis_keyset_item, max ? max : 1);
	if (!ks->items)
		return -ENOMEM;
	while (c.n && !c.rc) {
		struct ws_eis_keyset_item *it = &ks->items[ks->num_items];

		if ((n = take(p, &c, "Key", false, &rc))) {
			CHECK(parse_key(p, n, talloc_asprintf(p->errctx, "%s/Key[%u]", path, ks->num_items + 1),
					&it->key));
		} else if (!rc && (n = take(p, &c, "Certificate", false, &rc))) {
			it->is_cert = true;
			CHECK(parse_cert(p, n, talloc_asprintf(p->errctx, "%s/Certificate[%u]", path,
							      ks->num_items + 1), &it->cert));
		} else {
			break;
		}
		if (rc)
			goto out;
		ks->num_items++;
	}
	rc = cur_end(p, &c);
out:
	return rc;
}

static int parse_sd(struct pst *p, xmlNodePtr sn, const char *path, struct ws_eis_sd *sd)
{
	struct cur c;
	xmlNodePtr n;
	int rc = 0, e;
	unsigned int max;
	uint8_t *t;
	size_t tl;

	cur_init(p, &c, sn, path);
	TAKE(n, "Aid", true);
	CHECK(get_bytes(p, n, mkpath(p, path, "Aid"), 5, 16, &sd->aid));
	max = count_run(p, c.n, "Tar");
	if (max > WS_EIS_MAX_TARS) {
		rc = fail(p, -E2BIG, path, "more than %d Tar", WS_EIS_MAX_TARS);
		goto out;
	}
	if (max) {
		sd->tars = talloc_zero_size(p->ctx, sizeof(sd->tars[0]) * max);
		if (!sd->tars)
			return -ENOMEM;
	}
	while ((n = take(p, &c, "Tar", false, &rc))) {
		CHECK(get_hex(p, n, mkpath(p, path, "Tar"), 3, 3, &t, &tl));
		memcpy(sd->tars[sd->num_tars++], t, 3);
		talloc_free(t);
	}
	if (rc)
		goto out;
	TAKE(n, "Sin", true);
	CHECK(get_bytes(p, n, mkpath(p, path, "Sin"), 0, 16, &sd->sin));
	TAKE(n, "Sdin", true);
	CHECK(get_bytes(p, n, mkpath(p, path, "Sdin"), 0, 16, &sd->sdin));
	TAKE(n, "Role", true);
	CHECK(get_enum(p, n, mkpath(p, path, "Role"), role_names, &e));
	sd->role = e;
	max = count_run(p, c.n, "Keyset");
	if (max > WS_EIS_MAX_KEYSETS) {
		rc = fail(p, -E2BIG, path, "more than %d Keyset", WS_EIS_MAX_KEYSETS);
		goto out;
	}
	sd->keysets = talloc_zero_array(p->ctx, struct ws_eis_keyset, max ? max : 1);
	if (!sd->keysets)
		return -ENOMEM;
	while (1) {
		n = take(p, &c, "Keyset", sd->num_keysets == 0, &rc);
		if (rc)
			goto out;
		if (!n)
			break;
		CHECK(parse_keyset(p, n, talloc_asprintf(p->errctx, "%s/Keyset[%u]", path, sd->num_keysets + 1),
				   &sd->keysets[sd->num_keysets]));
		sd->num_keysets++;
	}
	rc = cur_end(p, &c);
out:
	return rc;
}

static int parse_caps(struct pst *p, xmlNodePtr cn, const char *path, struct ws_eis_caps *caps)
{
	struct cur c;
	xmlNodePtr n;
	int rc = 0;

	cur_init(p, &c, cn, path);
	TAKE(n, "CattpSupport", true);
	CHECK(get_bool(p, n, mkpath(p, path, "CattpSupport"), &caps->cattp_support));
	TAKE(n, "CattpVersion", false);
	if (n)
		CHECK(get_str(p, n, mkpath(p, path, "CattpVersion"), V_VERSION, &caps->cattp_version));
	TAKE(n, "HttpSupport", true);
	CHECK(get_bool(p, n, mkpath(p, path, "HttpSupport"), &caps->http_support));
	TAKE(n, "HttpVersion", false);
	if (n)
		CHECK(get_str(p, n, mkpath(p, path, "HttpVersion"), V_VERSION, &caps->http_version));
	TAKE(n, "SecurePacketVersion", true);
	CHECK(get_str(p, n, mkpath(p, path, "SecurePacketVersion"), V_VERSION, &caps->secure_packet_version));
	TAKE(n, "RemoteProvisioningVersion", true);
	CHECK(get_str(p, n, mkpath(p, path, "RemoteProvisioningVersion"), V_VERSION,
		      &caps->remote_provisioning_version));
	rc = cur_end(p, &c);
out:
	return rc;
}

static int parse_eid(struct pst *p, xmlNodePtr n, const char *path, char eid[33])
{
	int rc = 0;
	char *s = text_of(p, n, path, &rc), *v;

	if (!s)
		return rc;
	v = collapse(s);
	/* EIDType is hexBinary; an EID is 32 decimal digits (SGP.29 §2.2) with MOD 97-10 check digits */
	rc = gp_eid_validate(v);
	if (rc == -EBADMSG)
		rc = fail(p, -EBADMSG, path, "EID check digits wrong");
	else if (rc)
		rc = fail(p, -EBADMSG, path, "EID is not 32 decimal digits");
	else
		memcpy(eid, v, 33);
	talloc_free(s);
	return rc;
}

static int parse_signed_info(struct pst *p, xmlNodePtr sn, const char *path, struct ws_eis *eis)
{
	struct cur c;
	xmlNodePtr n;
	int rc = 0;

	cur_init(p, &c, sn, path);
	TAKE(n, "Eid", true);
	CHECK(parse_eid(p, n, mkpath(p, path, "Eid"), eis->eid));
	TAKE(n, "Eum-id", true);
	CHECK(get_str(p, n, mkpath(p, path, "Eum-id"), V_OID, &eis->eum_id));
	TAKE(n, "ProductionDate", true);
	CHECK(get_str(p, n, mkpath(p, path, "ProductionDate"), V_DATETIME, &eis->production_date));
	TAKE(n, "PlatformType", true);
	CHECK(get_str(p, n, mkpath(p, path, "PlatformType"), V_STR100, &eis->platform_type));
	TAKE(n, "PlatformVersion", true);
	CHECK(get_str(p, n, mkpath(p, path, "PlatformVersion"), V_VERSION, &eis->platform_version));
	TAKE(n, "Isd-p-loadfile-aid", true);
	CHECK(get_bytes(p, n, mkpath(p, path, "Isd-p-loadfile-aid"), 5, 16, &eis->isd_p_loadfile_aid));
	TAKE(n, "Isd-p-module-aid", true);
	CHECK(get_bytes(p, n, mkpath(p, path, "Isd-p-module-aid"), 5, 16, &eis->isd_p_module_aid));
	TAKE(n, "Ecasd", true);
	CHECK(parse_sd(p, n, mkpath(p, path, "Ecasd"), &eis->ecasd));
	if (eis->ecasd.role != WS_EIS_ROLE_ECASD) {
		rc = fail(p, -EBADMSG, path, "Ecasd/Role must be ECASD");
		goto out;
	}
	TAKE(n, "EuiccCapabilities", true);
	CHECK(parse_caps(p, n, mkpath(p, path, "EuiccCapabilities"), &eis->caps));
	rc = cur_end(p, &c);
out:
	return rc;
}

static int parse_profile(struct pst *p, xmlNodePtr pn, const char *path, struct ws_eis_profile *pr)
{
	struct cur c, c2;
	xmlNodePtr n, sa, r;
	int rc = 0, e;
	unsigned int max;

	cur_init(p, &c, pn, path);
	TAKE(n, "Iccid", true);
	CHECK(get_str(p, n, mkpath(p, path, "Iccid"), V_ICCID, &pr->iccid));
	TAKE(n, "Isd-p-aid", true);
	CHECK(get_bytes(p, n, mkpath(p, path, "Isd-p-aid"), 5, 16, &pr->isd_p_aid));
	TAKE(n, "Mno-id", true);
	CHECK(get_str(p, n, mkpath(p, path, "Mno-id"), V_OID, &pr->mno_id));
	TAKE(n, "FallbackAttribute", true);
	CHECK(get_bool(p, n, mkpath(p, path, "FallbackAttribute"), &pr->fallback));
	TAKE(sa, "SubscriptionAddress", true);
	cur_init(p, &c2, sa, mkpath(p, path, "SubscriptionAddress"));
	n = take(p, &c2, "Imsi", false, &rc);
	if (rc)
		goto out;
	if (n)
		CHECK(get_str(p, n, mkpath(p, c2.path, "Imsi"), V_IMSI, &pr->imsi));
	n = take(p, &c2, "Msisdn", false, &rc);
	if (rc)
		goto out;
	if (n)
		CHECK(get_str(p, n, mkpath(p, c2.path, "Msisdn"), V_MSISDN, &pr->msisdn));
	CHECK(cur_end(p, &c2));
	TAKE(n, "State", true);
	CHECK(get_enum(p, n, mkpath(p, path, "State"), state_names, &e));
	pr->state = e;
	TAKE(n, "Smdp-id", false);
	if (n)
		CHECK(get_str(p, n, mkpath(p, path, "Smdp-id"), V_OID, &pr->smdp_id));
	TAKE(n, "ProfileType", false);
	if (n)
		CHECK(get_str(p, n, mkpath(p, path, "ProfileType"), V_STR100, &pr->profile_type));
	TAKE(n, "AllocatedMemory", true);
	CHECK(get_u64(p, n, mkpath(p, path, "AllocatedMemory"), 0, UINT64_MAX, &pr->allocated_memory));
	TAKE(n, "FreeMemory", false);
	if (n) {
		CHECK(get_u64(p, n, mkpath(p, path, "FreeMemory"), 0, UINT64_MAX, &pr->free_memory));
		pr->has_free_memory = true;
	}
	TAKE(n, "pol2", true);
	cur_init(p, &c2, n, mkpath(p, path, "pol2"));
	max = count_run(p, c2.n, "Rule");
	if (max > WS_EIS_MAX_RULES) {
		rc = fail(p, -E2BIG, c2.path, "more than %d Rule", WS_EIS_MAX_RULES);
		goto out;
	}
	if (max) {
		pr->rules = talloc_zero_array(p->ctx, struct ws_eis_pol2_rule, max);
		if (!pr->rules)
			return -ENOMEM;
	}
	while ((r = take(p, &c2, "Rule", false, &rc))) {
		struct cur c3;
		const char *rpath = talloc_asprintf(p->errctx, "%s/Rule[%u]", c2.path, pr->num_rules + 1);
		static const char *const subj_names[] = { "PROFILE", NULL };

		cur_init(p, &c3, r, rpath);
		n = take(p, &c3, "Subject", true, &rc);
		if (rc)
			goto out;
		CHECK(get_enum(p, n, mkpath(p, rpath, "Subject"), subj_names, &e));
		n = take(p, &c3, "Action", true, &rc);
		if (rc)
			goto out;
		CHECK(get_enum(p, n, mkpath(p, rpath, "Action"), action_names, &e));
		pr->rules[pr->num_rules].action = e;
		n = take(p, &c3, "Qualification", true, &rc);
		if (rc)
			goto out;
		CHECK(get_enum(p, n, mkpath(p, rpath, "Qualification"), qual_names, &e));
		pr->rules[pr->num_rules].qualification = e;
		CHECK(cur_end(p, &c3));
		pr->num_rules++;
	}
	if (rc)
		goto out;
	CHECK(cur_end(p, &c2));
	rc = cur_end(p, &c);
out:
	return rc;
}

static int parse_audit(struct pst *p, xmlNodePtr an, const char *path, struct ws_eis_audit *a)
{
	struct cur c;
	xmlNodePtr n;
	int rc = 0, e;
	uint8_t *ot;
	size_t otl;

	cur_init(p, &c, an, path);
	TAKE(n, "Eid", true);
	a->eid = talloc_zero_size(p->ctx, 33);
	if (!a->eid)
		return -ENOMEM;
	CHECK(parse_eid(p, n, mkpath(p, path, "Eid"), a->eid));
	TAKE(n, "Smsr-id", true);
	CHECK(get_str(p, n, mkpath(p, path, "Smsr-id"), V_OID, &a->smsr_id));
	TAKE(n, "OperationDate", true);
	CHECK(get_str(p, n, mkpath(p, path, "OperationDate"), V_DATETIME, &a->operation_date));
	TAKE(n, "OperationType", true);
	CHECK(get_hex(p, n, mkpath(p, path, "OperationType"), 2, 2, &ot, &otl));
	a->operation_type = (uint16_t)(ot[0] << 8 | ot[1]);
	talloc_free(ot);
	TAKE(n, "RequesterId", false);
	if (n)
		CHECK(get_str(p, n, mkpath(p, path, "RequesterId"), V_OID, &a->requester_id));
	TAKE(n, "OperationExecutionStatus", false);
	if (n) {
		struct cur c2;
		xmlNodePtr s, sc;
		const char *spath = mkpath(p, path, "OperationExecutionStatus");

		cur_init(p, &c2, n, spath);
		s = take(p, &c2, "Status", true, &rc);
		if (rc)
			goto out;
		CHECK(get_enum(p, s, mkpath(p, spath, "Status"), status_names, &e));
		a->status = e;
		a->has_status = true;
		sc = take(p, &c2, "StatusCodeData", false, &rc);
		if (rc)
			goto out;
		if (sc) {
			struct cur c3;
			const char *cpath = mkpath(p, spath, "StatusCodeData");

			cur_init(p, &c3, sc, cpath);
			a->has_status_code = true;
			s = take(p, &c3, "Subject", true, &rc);
			if (rc)
				goto out;
			CHECK(get_str(p, s, mkpath(p, cpath, "Subject"), V_OID, &a->subject));
			s = take(p, &c3, "Reason", true, &rc);
			if (rc)
				goto out;
			CHECK(get_str(p, s, mkpath(p, cpath, "Reason"), V_OID, &a->reason));
			s = take(p, &c3, "SubjectIdentifier", false, &rc);
			if (rc)
				goto out;
			if (s)
				CHECK(get_str(p, s, mkpath(p, cpath, "SubjectIdentifier"), V_STR,
					      &a->subject_identifier));
			s = take(p, &c3, "Message", false, &rc);
			if (rc)
				goto out;
			if (s)
				CHECK(get_str(p, s, mkpath(p, cpath, "Message"), V_STR, &a->message));
			CHECK(cur_end(p, &c3));
		}
		CHECK(cur_end(p, &c2));
	}
	TAKE(n, "Isd-p-aid", false);
	if (n)
		CHECK(get_bytes(p, n, mkpath(p, path, "Isd-p-aid"), 5, 16, &a->isd_p_aid));
	TAKE(n, "Iccid", false);
	if (n)
		CHECK(get_str(p, n, mkpath(p, path, "Iccid"), V_ICCID, &a->iccid));
	TAKE(n, "Imei", false);
	if (n)
		CHECK(get_bytes(p, n, mkpath(p, path, "Imei"), 0, 32, &a->imei));
	TAKE(n, "Meid", false);
	if (n)
		CHECK(get_bytes(p, n, mkpath(p, path, "Meid"), 0, 32, &a->meid));
	rc = cur_end(p, &c);
out:
	return rc;
}

/* serialise the EumSignature element standalone: namespaces used inside it are declared on the copy's root */
static int copy_signature(struct pst *p, xmlNodePtr sig, char **out)
{
	xmlDocPtr d = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr cp;
	xmlBufferPtr buf = NULL;
	int rc = -ENOMEM;

	if (!d)
		return -ENOMEM;
	cp = xmlDocCopyNode(sig, d, 1);
	if (!cp)
		goto out;
	xmlDocSetRootElement(d, cp);
	buf = xmlBufferCreate();
	if (!buf || xmlNodeDump(buf, d, cp, 0, 0) < 0)
		goto out;
	if (xmlBufferLength(buf) > WS_EIS_MAX_SIGNATURE) {
		rc = fail(p, -E2BIG, "Eis/EumSignature", "signature too large");
		goto out;
	}
	*out = talloc_strndup(p->ctx, (const char *)xmlBufferContent(buf), (size_t)xmlBufferLength(buf));
	rc = *out ? 0 : -ENOMEM;
out:
	if (buf)
		xmlBufferFree(buf);
	xmlFreeDoc(d);
	return rc;
}

/* EumSignedInfo as signed: exclusive c14n without comments of a copy (namespaces it uses declared on it) */
static int copy_signed_info(struct pst *p, xmlNodePtr si, char **out)
{
	xmlDocPtr d = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr cp;
	xmlChar *mem = NULL;
	int len, rc = -ENOMEM;

	if (!d)
		return -ENOMEM;
	cp = xmlDocCopyNode(si, d, 1);
	if (!cp)
		goto out;
	xmlDocSetRootElement(d, cp);
	len = xmlC14NDocDumpMemory(d, NULL, XML_C14N_EXCLUSIVE_1_0, NULL, 0, &mem);
	if (len < 0)
		goto out;
	*out = talloc_strndup(p->ctx, (const char *)mem, (size_t)len);
	rc = *out ? 0 : -ENOMEM;
out:
	xmlFree(mem);
	xmlFreeDoc(d);
	return rc;
}

static int wipe_secrets_cb(struct ws_eis_secret *s, void *data)
{
	(void)data;
	if (s->data)
		OPENSSL_cleanse(s->data, s->len);
	return 0;
}

static int eis_destructor(struct ws_eis *eis)
{
	ws_eis_for_each_secret(eis, wipe_secrets_cb, NULL);
	return 0;
}

int ws_eis_parse(void *ctx, xmlNodePtr eis_node, struct ws_eis **out, char **err)
{
	struct ws_eis *eis;
	struct pst pst, *p = &pst;
	struct cur c;
	xmlNodePtr n;
	unsigned int max;
	int rc = 0;
	void *tmp;

	if (err)
		*err = NULL;
	if (!eis_node || eis_node->type != XML_ELEMENT_NODE)
		return -EINVAL;
	eis = talloc_zero(ctx, struct ws_eis);
	tmp = talloc_new(NULL);
	if (!eis || !tmp) {
		talloc_free(eis);
		talloc_free(tmp);
		return -ENOMEM;
	}
	talloc_set_destructor(eis, eis_destructor);
	p->ctx = eis;
	p->errctx = tmp;
	p->err = err;
	p->ns = eis_node->ns ? eis_node->ns->href : NULL;

	cur_init(p, &c, eis_node, "Eis");
	TAKE(n, "EumSignedInfo", true);
	CHECK(parse_signed_info(p, n, "Eis/EumSignedInfo", eis));
	CHECK(copy_signed_info(p, n, &eis->eum_signed_info_xml));
	TAKE(n, "EumSignature", true);
	CHECK(copy_signature(p, n, &eis->eum_signature_xml));
	TAKE(n, "RemainingMemory", true);
	CHECK(get_u64(p, n, "Eis/RemainingMemory", 0, UINT64_MAX, &eis->remaining_memory));
	TAKE(n, "AvailableMemoryForProfiles", true);
	CHECK(get_u64(p, n, "Eis/AvailableMemoryForProfiles", 0, UINT64_MAX, &eis->available_memory));
	TAKE(n, "LastAuditDate", false);
	if (n)
		CHECK(get_str(p, n, "Eis/LastAuditDate", V_DATETIME, &eis->last_audit_date));
	TAKE(n, "Smsr-id", true);
	CHECK(get_str(p, n, "Eis/Smsr-id", V_OID, &eis->smsr_id));
	max = count_run(p, c.n, "ProfileInfo");
	if (max > WS_EIS_MAX_PROFILES) {
		rc = fail(p, -E2BIG, "Eis", "more than %d ProfileInfo", WS_EIS_MAX_PROFILES);
		goto out;
	}
	if (max) {
		eis->profiles = talloc_zero_array(eis, struct ws_eis_profile, max);
		if (!eis->profiles) {
			rc = -ENOMEM;
			goto out;
		}
	}
	while ((n = take(p, &c, "ProfileInfo", false, &rc))) {
		CHECK(parse_profile(p, n, talloc_asprintf(tmp, "Eis/ProfileInfo[%u]", eis->num_profiles + 1),
				    &eis->profiles[eis->num_profiles]));
		eis->num_profiles++;
	}
	if (rc)
		goto out;
	TAKE(n, "Isd-r", true);
	CHECK(parse_sd(p, n, "Eis/Isd-r", &eis->isd_r));
	if (eis->isd_r.role != WS_EIS_ROLE_ISD_R) {
		rc = fail(p, -EBADMSG, "Eis/Isd-r", "Role must be ISD-R");
		goto out;
	}
	TAKE(n, "AuditTrail", false);
	if (n) {
		struct cur c2;
		xmlNodePtr r;

		eis->has_audit_trail = true;
		cur_init(p, &c2, n, "Eis/AuditTrail");
		max = count_run(p, c2.n, "Record");
		if (max > WS_EIS_MAX_AUDIT) {
			rc = fail(p, -E2BIG, "Eis/AuditTrail", "more than %d Record", WS_EIS_MAX_AUDIT);
			goto out;
		}
		if (max) {
			eis->audit = talloc_zero_array(eis, struct ws_eis_audit, max);
			if (!eis->audit) {
				rc = -ENOMEM;
				goto out;
			}
		}
		while ((r = take(p, &c2, "Record", false, &rc))) {
			CHECK(parse_audit(p, r, talloc_asprintf(tmp, "Eis/AuditTrail/Record[%u]", eis->num_audit + 1),
					  &eis->audit[eis->num_audit]));
			eis->num_audit++;
		}
		if (rc)
			goto out;
		CHECK(cur_end(p, &c2));
	}
	TAKE(n, "AdditionalProperties", false);
	if (n) {
		struct cur c2;
		xmlNodePtr r;

		cur_init(p, &c2, n, "Eis/AdditionalProperties");
		max = count_run(p, c2.n, "Property");
		if (max > WS_EIS_MAX_PROPS) {
			rc = fail(p, -E2BIG, "Eis/AdditionalProperties", "more than %d Property", WS_EIS_MAX_PROPS);
			goto out;
		}
		eis->props = talloc_zero_array(eis, struct ws_eis_property, max ? max : 1);
		if (!eis->props) {
			rc = -ENOMEM;
			goto out;
		}
		while (1) {
			struct ws_eis_property *pr = &eis->props[eis->num_props];
			xmlChar *k, *v;

			r = take(p, &c2, "Property", eis->num_props == 0, &rc);
			if (rc)
				goto out;
			if (!r)
				break;
			k = xmlGetNoNsProp(r, BAD_CAST "key");
			v = xmlGetNoNsProp(r, BAD_CAST "value");
			if (!k || !v || !*k || utf8_len((char *)k) > WS_EIS_MAX_STR ||
			    utf8_len((char *)v) > WS_EIS_MAX_STR) {
				rc = fail(p, !k || !v ? -ENOENT : -EBADMSG, "Eis/AdditionalProperties/Property",
					  "key and value attributes required, key non-empty, both bounded");
			} else {
				pr->key = talloc_strdup(eis, (char *)k);
				pr->value = talloc_strdup(eis, (char *)v);
				if (!pr->key || !pr->value)
					rc = -ENOMEM;
			}
			xmlFree(k);
			xmlFree(v);
			if (rc)
				goto out;
			eis->num_props++;
		}
		CHECK(cur_end(p, &c2));
	}
	rc = cur_end(p, &c);
out:
	if (rc) {
		talloc_free(eis);
		/* the message must outlive tmp */
		if (err && *err)
			*err = talloc_steal(ctx, *err);
		else if (err && rc == -ENOMEM)
			*err = NULL;
	} else {
		*out = eis;
	}
	talloc_free(tmp);
	return rc;
}

/* ---------------------------------------------------------------------------------------------------------------
 * building
 */

struct bst {
	xmlNsPtr ns;
	int rc;
};

static xmlNodePtr add(struct bst *b, xmlNodePtr parent, const char *name, const char *text)
{
	xmlNodePtr n;

	if (b->rc)
		return NULL;
	n = xmlNewChild(parent, b->ns, BAD_CAST name, NULL);
	if (!n) {
		b->rc = -ENOMEM;
		return NULL;
	}
	if (text) {
		/* xmlNodeAddContent escapes markup characters as needed on output */
		xmlNodeAddContent(n, BAD_CAST text);
	}
	return n;
}

static void add_req(struct bst *b, xmlNodePtr parent, const char *name, const char *text)
{
	if (!text) {
		if (!b->rc)
			b->rc = -EINVAL;
		return;
	}
	add(b, parent, name, text);
}

static void add_opt(struct bst *b, xmlNodePtr parent, const char *name, const char *text)
{
	if (text)
		add(b, parent, name, text);
}

static char *hexstr(const uint8_t *d, size_t len)
{
	static const char hx[] = "0123456789ABCDEF";
	char *s = talloc_size(NULL, len * 2 + 1);
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < len; i++) {
		s[2 * i] = hx[d[i] >> 4];
		s[2 * i + 1] = hx[d[i] & 15];
	}
	s[len * 2] = '\0';
	return s;
}

static void add_hex(struct bst *b, xmlNodePtr parent, const char *name, const uint8_t *d, size_t len)
{
	char *s = hexstr(d, len);

	if (!s) {
		b->rc = -ENOMEM;
		return;
	}
	add(b, parent, name, s);
	talloc_free(s);
}

static void set_hex_attr(struct bst *b, xmlNodePtr n, const char *name, const uint8_t *d, size_t len)
{
	char *s;

	if (b->rc || !n)
		return;
	s = hexstr(d, len);
	if (!s || !xmlNewProp(n, BAD_CAST name, BAD_CAST s))
		b->rc = -ENOMEM;
	talloc_free(s);
}

static void add_u64(struct bst *b, xmlNodePtr parent, const char *name, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, v);
	add(b, parent, name, s);
}

static void add_bool(struct bst *b, xmlNodePtr parent, const char *name, bool v)
{
	add(b, parent, name, v ? "true" : "false");
}

static void build_sd(struct bst *b, xmlNodePtr parent, const char *name, const struct ws_eis_sd *sd)
{
	xmlNodePtr s = add(b, parent, name, NULL);
	unsigned int i, j, k;

	if (!s)
		return;
	if (sd->aid.len < 5 || sd->num_keysets < 1) {
		b->rc = -EINVAL;
		return;
	}
	add_hex(b, s, "Aid", sd->aid.data, sd->aid.len);
	for (i = 0; i < sd->num_tars; i++)
		add_hex(b, s, "Tar", sd->tars[i], 3);
	add_hex(b, s, "Sin", sd->sin.data, sd->sin.len);
	add_hex(b, s, "Sdin", sd->sdin.data, sd->sdin.len);
	add(b, s, "Role", (unsigned int)sd->role < 2 ? role_names[sd->role] : NULL);
	for (i = 0; i < sd->num_keysets; i++) {
		const struct ws_eis_keyset *ks = &sd->keysets[i];
		xmlNodePtr kn = add(b, s, "Keyset", NULL);

		if (ks->version < 1 || ks->version > 127) {
			b->rc = -EINVAL;
			return;
		}
		add_u64(b, kn, "Version", ks->version);
		if (ks->type != WS_EIS_KS_NONE)
			add_req(b, kn, "Type", (unsigned int)ks->type < 7 ? usage_names[ks->type] : NULL);
		if (ks->has_cntr)
			add_u64(b, kn, "Cntr", ks->cntr);
		for (j = 0; j < ks->num_items; j++) {
			const struct ws_eis_keyset_item *it = &ks->items[j];

			if (it->is_cert) {
				xmlNodePtr cn = add(b, kn, "Certificate", NULL);

				add_u64(b, cn, "Index", it->cert.index);
				add_req(b, cn, "CaId", it->cert.ca_id);
				add_hex(b, cn, "Value", it->cert.value.data, it->cert.value.len);
			} else {
				xmlNodePtr key = add(b, kn, "Key", NULL);

				if (it->key.num_components < 1) {
					b->rc = -EINVAL;
					return;
				}
				set_hex_attr(b, key, "kcv", it->key.kcv.data, it->key.kcv.len);
				add_u64(b, key, "Index", it->key.index);
				for (k = 0; k < it->key.num_components; k++) {
					const struct ws_eis_key_component *kc = &it->key.components[k];
					xmlNodePtr c = add(b, key, "KeyComponents", NULL);

					set_hex_attr(b, c, "type", &kc->type, 1);
					set_hex_attr(b, c, "value", kc->value.data, kc->value.len);
				}
			}
		}
	}
}

/* copy \a c as the last child of \a parent (another document). xmlDocCopyNode() declares the namespaces the copy
 * uses on the copy itself, with the same prefixes: canonical forms, hence signatures, depend on the prefixes. */
static int clone_child(xmlNodePtr c, xmlNodePtr parent)
{
	xmlNodePtr cp = xmlDocCopyNode(c, parent->doc, 1);

	if (!cp)
		return -ENOMEM;
	if (!xmlAddChild(parent, cp)) {
		xmlFreeNode(cp);
		return -ENOMEM;
	}
	return 0;
}

/* put the stored EumSignature content into \a sig (the empty element just created) */
static void build_signature(struct bst *b, xmlNodePtr sig, const char *xml)
{
	xmlDocPtr d;
	xmlNodePtr c;

	if (b->rc || !sig || !xml)
		return;
	d = ws_eis_read_xml(NULL, (const uint8_t *)xml, strlen(xml), NULL);
	if (!d) {
		b->rc = -EINVAL;
		return;
	}
	for (c = xmlDocGetRootElement(d)->children; c; c = c->next) {
		if (clone_child(c, sig)) {
			b->rc = -ENOMEM;
			break;
		}
	}
	xmlFreeDoc(d);
}

int ws_eis_build(const struct ws_eis *eis, xmlNodePtr parent, const char *name, xmlNsPtr ns, xmlNodePtr *out)
{
	struct bst bs = { .ns = ns, .rc = 0 }, *b = &bs;
	xmlNodePtr e, si, n, sig;
	unsigned int i, j;

	if (!eis || !parent || !name)
		return -EINVAL;
	if (gp_eid_validate(eis->eid))
		return -EINVAL;
	e = add(b, parent, name, NULL);
	if (!e)
		return b->rc;

	if (eis->eum_signed_info_xml) {
		xmlDocPtr d = ws_eis_read_xml(NULL, (const uint8_t *)eis->eum_signed_info_xml,
					      strlen(eis->eum_signed_info_xml), NULL);

		xmlNodePtr r = d ? xmlDocGetRootElement(d) : NULL;
		const xmlChar *want = ns ? ns->href : NULL, *have = r && r->ns ? r->ns->href : NULL;

		if (!r) {
			b->rc = -EINVAL;
		} else if ((!want && !have) || (want && have && xmlStrEqual(want, have))) {
			if (clone_child(r, e))
				b->rc = -ENOMEM;
			xmlFreeDoc(d);
			goto signed_info_done;
		}
		/* another namespace than the one asked for: build from the fields */
		if (d)
			xmlFreeDoc(d);
	}
	si = add(b, e, "EumSignedInfo", NULL);
	add(b, si, "Eid", eis->eid);
	add_req(b, si, "Eum-id", eis->eum_id);
	add_req(b, si, "ProductionDate", eis->production_date);
	add_req(b, si, "PlatformType", eis->platform_type);
	add_req(b, si, "PlatformVersion", eis->platform_version);
	add_hex(b, si, "Isd-p-loadfile-aid", eis->isd_p_loadfile_aid.data, eis->isd_p_loadfile_aid.len);
	add_hex(b, si, "Isd-p-module-aid", eis->isd_p_module_aid.data, eis->isd_p_module_aid.len);
	build_sd(b, si, "Ecasd", &eis->ecasd);
	n = add(b, si, "EuiccCapabilities", NULL);
	add_bool(b, n, "CattpSupport", eis->caps.cattp_support);
	add_opt(b, n, "CattpVersion", eis->caps.cattp_version);
	add_bool(b, n, "HttpSupport", eis->caps.http_support);
	add_opt(b, n, "HttpVersion", eis->caps.http_version);
	add_req(b, n, "SecurePacketVersion", eis->caps.secure_packet_version);
	add_req(b, n, "RemoteProvisioningVersion", eis->caps.remote_provisioning_version);
signed_info_done:
	sig = add(b, e, "EumSignature", NULL);
	build_signature(b, sig, eis->eum_signature_xml);

	add_u64(b, e, "RemainingMemory", eis->remaining_memory);
	add_u64(b, e, "AvailableMemoryForProfiles", eis->available_memory);
	add_opt(b, e, "LastAuditDate", eis->last_audit_date);
	add_req(b, e, "Smsr-id", eis->smsr_id);
	for (i = 0; i < eis->num_profiles; i++) {
		const struct ws_eis_profile *pr = &eis->profiles[i];
		xmlNodePtr pn = add(b, e, "ProfileInfo", NULL), sa, pol;

		add_req(b, pn, "Iccid", pr->iccid);
		add_hex(b, pn, "Isd-p-aid", pr->isd_p_aid.data, pr->isd_p_aid.len);
		add_req(b, pn, "Mno-id", pr->mno_id);
		add_bool(b, pn, "FallbackAttribute", pr->fallback);
		sa = add(b, pn, "SubscriptionAddress", NULL);
		add_opt(b, sa, "Imsi", pr->imsi);
		add_opt(b, sa, "Msisdn", pr->msisdn);
		add_req(b, pn, "State", (unsigned int)pr->state < 3 ? state_names[pr->state] : NULL);
		add_opt(b, pn, "Smdp-id", pr->smdp_id);
		add_opt(b, pn, "ProfileType", pr->profile_type);
		add_u64(b, pn, "AllocatedMemory", pr->allocated_memory);
		if (pr->has_free_memory)
			add_u64(b, pn, "FreeMemory", pr->free_memory);
		pol = add(b, pn, "pol2", NULL);
		for (j = 0; j < pr->num_rules; j++) {
			xmlNodePtr r = add(b, pol, "Rule", NULL);

			add(b, r, "Subject", "PROFILE");
			add_req(b, r, "Action", (unsigned int)pr->rules[j].action < 3 ?
				action_names[pr->rules[j].action] : NULL);
			add_req(b, r, "Qualification", (unsigned int)pr->rules[j].qualification < 2 ?
				qual_names[pr->rules[j].qualification] : NULL);
		}
	}
	build_sd(b, e, "Isd-r", &eis->isd_r);
	if (eis->has_audit_trail) {
		xmlNodePtr at = add(b, e, "AuditTrail", NULL);

		for (i = 0; i < eis->num_audit; i++) {
			const struct ws_eis_audit *a = &eis->audit[i];
			xmlNodePtr r = add(b, at, "Record", NULL);
			uint8_t ot[2] = { a->operation_type >> 8, a->operation_type & 0xff };

			add_req(b, r, "Eid", a->eid);
			add_req(b, r, "Smsr-id", a->smsr_id);
			add_req(b, r, "OperationDate", a->operation_date);
			add_hex(b, r, "OperationType", ot, 2);
			add_opt(b, r, "RequesterId", a->requester_id);
			if (a->has_status) {
				xmlNodePtr st = add(b, r, "OperationExecutionStatus", NULL);

				add_req(b, st, "Status", (unsigned int)a->status < 4 ? status_names[a->status] : NULL);
				if (a->has_status_code) {
					xmlNodePtr sc = add(b, st, "StatusCodeData", NULL);

					add_req(b, sc, "Subject", a->subject);
					add_req(b, sc, "Reason", a->reason);
					add_opt(b, sc, "SubjectIdentifier", a->subject_identifier);
					add_opt(b, sc, "Message", a->message);
				}
			}
			if (a->isd_p_aid.len)
				add_hex(b, r, "Isd-p-aid", a->isd_p_aid.data, a->isd_p_aid.len);
			add_opt(b, r, "Iccid", a->iccid);
			if (a->imei.len)
				add_hex(b, r, "Imei", a->imei.data, a->imei.len);
			if (a->meid.len)
				add_hex(b, r, "Meid", a->meid.data, a->meid.len);
		}
	}
	if (eis->num_props) {
		xmlNodePtr ap = add(b, e, "AdditionalProperties", NULL);

		for (i = 0; i < eis->num_props; i++) {
			xmlNodePtr pn = add(b, ap, "Property", NULL);

			if (!pn)
				break;
			if (!eis->props[i].key || !*eis->props[i].key || !eis->props[i].value) {
				b->rc = -EINVAL;
				break;
			}
			if (!xmlNewProp(pn, BAD_CAST "key", BAD_CAST eis->props[i].key) ||
			    !xmlNewProp(pn, BAD_CAST "value", BAD_CAST eis->props[i].value))
				b->rc = -ENOMEM;
		}
	}
	if (b->rc) {
		xmlUnlinkNode(e);
		xmlFreeNode(e);
		return b->rc;
	}
	if (out)
		*out = e;
	return 0;
}

/* ---------------------------------------------------------------------------------------------------------------
 * safe standalone parsing
 */

struct rd {
	bool dtd_seen;
};

/* any DTD (internal subset) is refused: no entity can be declared, so none can be expanded (XXE, billion laughs) */
static void rd_internal_subset(void *c, const xmlChar *name, const xmlChar *ext_id, const xmlChar *sys_id)
{
	xmlParserCtxtPtr ctxt = c;
	struct rd *r = ctxt->_private;

	(void)name;
	(void)ext_id;
	(void)sys_id;
	r->dtd_seen = true;
	xmlStopParser(ctxt);
}

static xmlParserInputPtr deny_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	return NULL;
}

xmlDocPtr ws_eis_read_xml(void *ctx, const uint8_t *buf, size_t len, char **err)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc = NULL;
	xmlExternalEntityLoader old;
	struct rd r = { .dtd_seen = false };
	const char *why = NULL;

	if (err)
		*err = NULL;
	if (!buf || len > INT32_MAX)
		return NULL;
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return NULL;
	ctxt->_private = &r;
	ctxt->sax->internalSubset = rd_internal_subset;
	/* belt and braces: even a slipped-through external reference cannot load anything */
	old = xmlGetExternalEntityLoader();
	xmlSetExternalEntityLoader(deny_loader);
	doc = xmlCtxtReadMemory(ctxt, (const char *)buf, (int)len, NULL, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlSetExternalEntityLoader(old);
	if (r.dtd_seen)
		why = "DTD not allowed";
	else if (!doc || !ctxt->wellFormed)
		why = "not well-formed XML";
	else if (doc->intSubset || doc->extSubset)
		why = "DTD not allowed";
	else if (!xmlDocGetRootElement(doc))
		why = "no root element";
	if (why) {
		if (doc)
			xmlFreeDoc(doc);
		doc = NULL;
		if (err)
			*err = talloc_strdup(ctx, why);
	}
	xmlFreeParserCtxt(ctxt);
	return doc;
}

/* ---------------------------------------------------------------------------------------------------------------
 * secrets
 */

static int sd_secrets(struct ws_eis_sd *sd, int (*cb)(struct ws_eis_secret *s, void *data), void *data)
{
	unsigned int i, j, k;
	int rc;

	for (i = 0; i < sd->num_keysets; i++)
		for (j = 0; j < sd->keysets[i].num_items; j++) {
			struct ws_eis_keyset_item *it = &sd->keysets[i].items[j];

			if (it->is_cert)
				continue;
			for (k = 0; k < it->key.num_components; k++) {
				rc = cb(&it->key.components[k].value, data);
				if (rc)
					return rc;
			}
		}
	return 0;
}

int ws_eis_for_each_secret(struct ws_eis *eis, int (*cb)(struct ws_eis_secret *s, void *data), void *data)
{
	int rc = sd_secrets(&eis->ecasd, cb, data);

	return rc ? rc : sd_secrets(&eis->isd_r, cb, data);
}

static int redact_cb(struct ws_eis_secret *s, void *data)
{
	(void)data;
	if (s->data) {
		OPENSSL_cleanse(s->data, s->len);
		talloc_free(s->data);
	}
	s->data = NULL;
	s->len = 0;
	return 0;
}

void ws_eis_redact(struct ws_eis *eis)
{
	ws_eis_for_each_secret(eis, redact_cb, NULL);
}

/* ---------------------------------------------------------------------------------------------------------------
 * helpers for the SM-SR
 */

struct ws_eis_profile *ws_eis_find_profile(struct ws_eis *eis, const char *iccid)
{
	unsigned int i;

	if (!eis || !iccid)
		return NULL;
	for (i = 0; i < eis->num_profiles; i++)
		if (eis->profiles[i].iccid && !strcasecmp(eis->profiles[i].iccid, iccid))
			return &eis->profiles[i];
	return NULL;
}

/* is this ICCID one of the kept profiles? */
static bool kept_iccid(const struct ws_eis *eis, const char *iccid)
{
	unsigned int i;

	for (i = 0; iccid && i < eis->num_profiles; i++)
		if (!strcasecmp(eis->profiles[i].iccid, iccid))
			return true;
	return false;
}

void ws_eis_keep_mno(struct ws_eis *eis, const char *mno_id)
{
	unsigned int i, n = 0;

	if (!eis)
		return;
	for (i = 0; i < eis->num_profiles; i++) {
		if (mno_id && eis->profiles[i].mno_id && !strcmp(eis->profiles[i].mno_id, mno_id))
			eis->profiles[n++] = eis->profiles[i];
	}
	eis->num_profiles = n;
	/* audit records about another MNO's profile go too; records without an ICCID are about the eUICC and stay,
	 * unless another MNO requested them */
	n = 0;
	for (i = 0; i < eis->num_audit; i++) {
		const struct ws_eis_audit *a = &eis->audit[i];

		if ((!a->iccid || kept_iccid(eis, a->iccid)) &&
		    (!a->requester_id || !mno_id || !strcmp(a->requester_id, mno_id) || a->iccid))
			eis->audit[n++] = eis->audit[i];
	}
	eis->num_audit = n;
	ws_eis_redact(eis);
}
