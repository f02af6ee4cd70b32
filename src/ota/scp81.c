/*! \file scp81.c
 * SCP81 pieces: GP Amendment B triggering parameters, SGP.02 PSK-TLS identity, X-Admin-* headers, card POSTs.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <talloc.h>

#include <sgp02/ota/rapdu.h>
#include <sgp02/ota/scp81.h>

#include "ota_buf.h"

/* ------------------------------------------------------------------------------------------------------------
 * Small helpers: hex, blanks, TLVs, output buffer
 * ------------------------------------------------------------------------------------------------------------ */

static const char hexdig[] = "0123456789ABCDEF";

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

/* Strict hex decode of exactly n characters into n/2 bytes. */
static int hex_decode(const char *s, size_t n, uint8_t *out)
{
	size_t i;

	if (n & 1)
		return -EBADMSG;
	for (i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);

		if (hi < 0 || lo < 0)
			return -EBADMSG;
		out[i / 2] = (hi << 4) | lo;
	}
	return 0;
}

static char *hex_append(char *p, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		*p++ = hexdig[b[i] >> 4];
		*p++ = hexdig[b[i] & 0xF];
	}
	*p = '\0';
	return p;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim blanks around [*s, *s + *n) */
static void trim(const char **s, size_t *n)
{
	while (*n && is_blank(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_blank((*s)[*n - 1]))
		(*n)--;
}

/* Case-insensitive compare of a counted string with a literal */
static bool ieq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* Case-insensitive prefix match; advances *s / *n past it on success */
static bool iprefix(const char **s, size_t *n, const char *lit)
{
	size_t l = strlen(lit);

	if (*n < l || strncasecmp(*s, lit, l) != 0)
		return false;
	*s += l;
	*n -= l;
	return true;
}

/* Append a TLV whose value is the content of another buffer, and free that buffer. */
static int wb_tlv_take(struct ota_wbuf *w, uint8_t tag, struct ota_wbuf *inner)
{
	int rc = ota_wb_tlv(w, tag, inner->data, inner->len);

	talloc_free(inner->data);
	inner->data = NULL;
	inner->len = inner->cap = 0;
	return rc;
}

/* ------------------------------------------------------------------------------------------------------------
 * Headers
 * ------------------------------------------------------------------------------------------------------------ */

static const char *const status_names[] = {
	[OTA_SCP81_ST_OK] = "ok",
	[OTA_SCP81_ST_UNKNOWN_APPLICATION] = "unknown-application",
	[OTA_SCP81_ST_NOT_A_SECURITY_DOMAIN] = "not-a-security-domain",
	[OTA_SCP81_ST_SECURITY_ERROR] = "security-error",
	[OTA_SCP81_ST_UNAVAILABLE_SE] = "unavailable-se",
	[OTA_SCP81_ST_TEMP_UNAVAILABLE_APP] = "temporarily-unavailable-application",
	[OTA_SCP81_ST_SCRIPT_FORMAT_ERROR] = "script-format-error",
};

#define NUM_STATUS (sizeof(status_names) / sizeof(status_names[0]))

const char *ota_scp81_script_status_name(enum ota_scp81_script_status st)
{
	if ((unsigned int)st >= NUM_STATUS)
		return NULL;
	return status_names[st];
}

int ota_scp81_script_status_parse(const char *value)
{
	size_t n, i;

	if (!value)
		return -EINVAL;
	n = strlen(value);
	trim(&value, &n);
	for (i = 0; i < NUM_STATUS; i++) {
		if (ieq(value, n, status_names[i]))
			return i;
	}
	return -EBADMSG;
}

int ota_scp81_resume_parse(const char *value, bool *resume)
{
	size_t n;

	if (!resume)
		return -EINVAL;
	*resume = false;
	if (!value)
		return 0;
	n = strlen(value);
	trim(&value, &n);
	if (ieq(value, n, "true")) {
		*resume = true;
		return 0;
	}
	if (ieq(value, n, "false"))
		return 0;
	return -EBADMSG;
}

int ota_scp81_protocol_check(const char *value)
{
	size_t n;

	if (!value)
		return -EINVAL;
	n = strlen(value);
	trim(&value, &n);
	if (!iprefix(&value, &n, "globalplatform-remote-admin/") || n == 0)
		return -EBADMSG;
	return ieq(value, n, "1.0") ? 0 : -ENOTSUP;
}

int ota_scp81_content_type_check(const char *value, bool response)
{
	static const char base[] = "application/vnd.globalplatform.card-content-mgt";
	const char *mt, *semi;
	size_t n, mtn;
	int rc = -EBADMSG;	/* until a version parameter is seen */

	if (!value)
		return -EINVAL;
	n = strlen(value);
	semi = memchr(value, ';', n);
	mt = value;
	mtn = semi ? (size_t)(semi - value) : n;
	trim(&mt, &mtn);
	if (!iprefix(&mt, &mtn, base))
		return -EBADMSG;
	if (response ? !ieq(mt, mtn, "-response") : mtn != 0)
		return -EBADMSG;

	/* parameters: ; name = value ; ... (RFC 7231 §3.1.1.1) */
	while (semi) {
		const char *p = semi + 1, *eq, *pv;
		size_t pn, nn, vn;

		semi = strchr(p, ';');
		pn = semi ? (size_t)(semi - p) : strlen(p);
		eq = memchr(p, '=', pn);
		if (!eq)
			return -EBADMSG;
		nn = eq - p;
		pv = eq + 1;
		vn = pn - nn - 1;
		trim(&p, &nn);
		trim(&pv, &vn);
		if (vn >= 2 && pv[0] == '"' && pv[vn - 1] == '"') {
			pv++;
			vn -= 2;
		}
		if (!ieq(p, nn, "version"))
			continue;
		if (rc != -EBADMSG)
			return -EBADMSG;	/* version given twice */
		rc = ieq(pv, vn, "1.0") ? 0 : -ENOTSUP;
	}
	return rc;
}

int ota_scp81_next_uri_check(const char *value)
{
	size_t i, n;

	if (!value)
		return -EINVAL;
	n = strlen(value);
	if (n == 0 || n > 1024)
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		unsigned char c = value[i];

		if (c <= 0x20 || c >= 0x7F)
			return -EBADMSG;
	}
	return 0;
}

int ota_scp81_admin_from_format(void *ctx, const uint8_t eid[16], const uint8_t *aid, size_t aid_len, char **out)
{
	char buf[12 + 32 + 13 + 10 + 1 + 22 + 1];
	char *p;

	if (!eid || !out || (aid_len && (aid_len < 5 || aid_len > 16 || !aid)))
		return -EINVAL;
	/* SGP.02 §2.4.4 / GP Amd B: "//se-id/eid/<EID>;//aa-id/aid/<RID>/<PIX>" */
	p = buf + sprintf(buf, "//se-id/eid/");
	p = hex_append(p, eid, 16);
	if (aid_len) {
		p += sprintf(p, ";//aa-id/aid/");
		p = hex_append(p, aid, 5);
		*p++ = '/';
		hex_append(p, aid + 5, aid_len - 5);
	}
	*out = talloc_strdup(ctx, buf);
	return *out ? 0 : -ENOMEM;
}

/* Parse "<RID>/<PIX>" in hex (RID 10 hex digits, PIX 0..22 hex digits) from a counted string. */
static int parse_rid_pix(const char *s, size_t n, uint8_t *aid, size_t *aid_len)
{
	size_t pix;

	if (n < 11 || s[10] != '/')
		return -EBADMSG;
	pix = n - 11;
	if (pix > 22 || hex_decode(s, 10, aid) < 0 || hex_decode(s + 11, pix, aid + 5) < 0)
		return -EBADMSG;
	*aid_len = 5 + pix / 2;
	return 0;
}

int ota_scp81_admin_from_parse(const char *value, uint8_t eid[16], uint8_t *aid, size_t *aid_len)
{
	size_t n;

	if (!value || !eid || !aid || !aid_len)
		return -EINVAL;
	n = strlen(value);
	trim(&value, &n);
	if (!iprefix(&value, &n, "//se-id/eid/") || n < 32 || hex_decode(value, 32, eid) < 0)
		return -EBADMSG;
	value += 32;
	n -= 32;
	*aid_len = 0;
	if (n == 0)
		return 0;
	if (!iprefix(&value, &n, ";//aa-id/aid/"))
		return -EBADMSG;
	return parse_rid_pix(value, n, aid, aid_len);
}

int ota_scp81_targeted_app_format(void *ctx, const uint8_t *aid, size_t aid_len, char **out)
{
	char buf[6 + 10 + 1 + 22 + 1];
	char *p;

	if (!aid || !out || aid_len < 5 || aid_len > 16)
		return -EINVAL;
	p = buf + sprintf(buf, "//aid/");
	p = hex_append(p, aid, 5);
	*p++ = '/';
	hex_append(p, aid + 5, aid_len - 5);
	*out = talloc_strdup(ctx, buf);
	return *out ? 0 : -ENOMEM;
}

int ota_scp81_targeted_app_parse(const char *value, uint8_t *aid, size_t *aid_len)
{
	size_t n;

	if (!value || !aid || !aid_len)
		return -EINVAL;
	n = strlen(value);
	trim(&value, &n);
	if (!iprefix(&value, &n, "//aid/"))
		return -EBADMSG;
	return parse_rid_pix(value, n, aid, aid_len);
}

/* ------------------------------------------------------------------------------------------------------------
 * PSK identity (SGP.02 §2.4.4.1)
 * ------------------------------------------------------------------------------------------------------------ */

#define PSK_ID_MAX_BIN (3 + 18 + 18 + 3 + 3)

int ota_scp81_psk_id_encode_bin(uint8_t *out, size_t out_size, const struct ota_scp81_psk_id *id)
{
	size_t n;
	uint8_t *p;

	if (!id || id->aid_len < 5 || id->aid_len > 16)
		return -EINVAL;
	n = 3 + 18 + 2 + id->aid_len + 3 + 3;
	if (!out || out_size < n)
		return -EMSGSIZE;
	p = out;
	*p++ = OTA_SCP81_PSK_ID_TAG_FORMAT;
	*p++ = 1;
	*p++ = id->format;
	*p++ = OTA_SCP81_PSK_ID_TAG_EID;
	*p++ = 16;
	memcpy(p, id->eid, 16);
	p += 16;
	*p++ = OTA_SCP81_PSK_ID_TAG_AID;
	*p++ = id->aid_len;
	memcpy(p, id->aid, id->aid_len);
	p += id->aid_len;
	*p++ = OTA_SCP81_PSK_ID_TAG_KEY_ID;
	*p++ = 1;
	*p++ = id->key_id;
	*p++ = OTA_SCP81_PSK_ID_TAG_KVN;
	*p++ = 1;
	*p++ = id->kvn;
	return n;
}

int ota_scp81_psk_id_encode(void *ctx, const struct ota_scp81_psk_id *id, char **hex)
{
	uint8_t bin[PSK_ID_MAX_BIN];
	int n;

	if (!hex)
		return -EINVAL;
	n = ota_scp81_psk_id_encode_bin(bin, sizeof(bin), id);
	if (n < 0)
		return n;
	*hex = talloc_size(ctx, 2 * n + 1);
	if (!*hex)
		return -ENOMEM;
	hex_append(*hex, bin, n);
	return 0;
}

int ota_scp81_psk_id_decode(struct ota_scp81_psk_id *id, const char *hex, size_t hex_len)
{
	uint8_t bin[128];
	unsigned int seen = 0;
	size_t len, off = 0;
	int rc;

	if (!id || (hex_len && !hex))
		return -EINVAL;
	memset(id, 0, sizeof(*id));
	if (hex_len > 2 * sizeof(bin))
		return -EMSGSIZE;
	if (hex_len == 0 || hex_decode(hex, hex_len, bin) < 0)
		return -EBADMSG;
	len = hex_len / 2;

	while (off < len) {
		struct ota_tlv t;
		unsigned int bit;

		rc = ota_tlv_read(bin, len, &off, &t);
		if (rc < 0)
			return rc;
		switch (t.tag) {
		case OTA_SCP81_PSK_ID_TAG_FORMAT:
			bit = 1;
			if (t.len != 1)
				return -EBADMSG;
			id->format = t.val[0];
			break;
		case OTA_SCP81_PSK_ID_TAG_EID:
			bit = 2;
			if (t.len != 16)
				return -EBADMSG;
			memcpy(id->eid, t.val, 16);
			break;
		case OTA_SCP81_PSK_ID_TAG_AID:
			bit = 4;
			if (t.len < 5 || t.len > 16)
				return -EBADMSG;
			memcpy(id->aid, t.val, t.len);
			id->aid_len = t.len;
			break;
		case OTA_SCP81_PSK_ID_TAG_KEY_ID:
			bit = 8;
			if (t.len != 1)
				return -EBADMSG;
			id->key_id = t.val[0];
			break;
		case OTA_SCP81_PSK_ID_TAG_KVN:
			bit = 16;
			if (t.len != 1)
				return -EBADMSG;
			id->kvn = t.val[0];
			break;
		default:
			return -EBADMSG;
		}
		if (seen & bit)
			return -EBADMSG;
		seen |= bit;
	}
	return seen == 31 ? 0 : -EBADMSG;
}

/* ------------------------------------------------------------------------------------------------------------
 * Administration Session Triggering Parameters (GP Amd B Table 3-3)
 * ------------------------------------------------------------------------------------------------------------ */

static int build_session_params(struct ota_wbuf *w, const struct ota_scp81_trigger *t)
{
	struct ota_wbuf v = { .ctx = w->ctx };
	int rc;

	if (t->has_conn_params &&
	    (rc = ota_wb_tlv(w, OTA_SCP81_TAG_CONN_PARAMS, t->conn_params, t->conn_params_len)) < 0)
		return rc;
	if (t->has_security) {
		/* GP Amd B §3.8.2: PSK identity with 1-byte length, then "02 KVN KID", then optional SHA type */
		const struct ota_scp81_security_params *s = &t->security;
		uint8_t b[4] = { (uint8_t)s->psk_id_len, 0x02, s->kvn, s->kid };

		if (s->psk_id_len > 255 || (s->psk_id_len && !s->psk_id))
			return -EINVAL;
		if ((rc = ota_wb_put(&v, b, 1)) < 0 || (rc = ota_wb_put(&v, s->psk_id, s->psk_id_len)) < 0 ||
		    (rc = ota_wb_put(&v, b + 1, 3)) < 0 ||
		    (s->has_sha_type && (rc = ota_wb_put(&v, &s->sha_type, 1)) < 0) ||
		    (rc = wb_tlv_take(w, OTA_SCP81_TAG_SECURITY_PARAMS, &v)) < 0)
			goto err;
	}
	if (t->has_ext_security &&
	    (rc = ota_wb_tlv(w, OTA_SCP81_TAG_EXT_SECURITY, t->ext_security, t->ext_security_len)) < 0)
		return rc;
	if (t->has_retry) {
		/* GP Amd B §3.8.3: counter, TS 102 223 timer value TLV, optional failure report */
		const struct ota_scp81_retry_policy *r = &t->retry;
		uint8_t b[7] = { r->counter >> 8, r->counter & 0xFF, OTA_SCP81_TAG_TIMER_VALUE, 3,
				 r->delay[0], r->delay[1], r->delay[2] };
		static const uint8_t rep[2] = { OTA_SCP81_TAG_REPORT_FAILURE, 0x00 };

		if ((rc = ota_wb_put(&v, b, sizeof(b))) < 0 ||
		    (r->report_failure && (rc = ota_wb_put(&v, rep, 2)) < 0) ||
		    (rc = wb_tlv_take(w, OTA_SCP81_TAG_RETRY_POLICY, &v)) < 0)
			goto err;
	}
	if (t->has_http_post) {
		if ((t->admin_host && (rc = ota_wb_tlv(&v, OTA_SCP81_TAG_ADMIN_HOST, t->admin_host,
						      strlen(t->admin_host))) < 0) ||
		    (t->agent_id && (rc = ota_wb_tlv(&v, OTA_SCP81_TAG_AGENT_ID, t->agent_id,
						    strlen(t->agent_id))) < 0) ||
		    (t->admin_uri && (rc = ota_wb_tlv(&v, OTA_SCP81_TAG_ADMIN_URI, t->admin_uri,
						     strlen(t->admin_uri))) < 0) ||
		    (rc = wb_tlv_take(w, OTA_SCP81_TAG_HTTP_POST, &v)) < 0)
			goto err;
	}
	return 0;
err:
	talloc_free(v.data);
	return rc;
}

int ota_scp81_trigger_build(void *ctx, const struct ota_scp81_trigger *t, uint8_t **out, size_t *out_len)
{
	struct ota_wbuf top = { .ctx = ctx }, sess = { .ctx = ctx }, dns = { .ctx = ctx };
	bool any_sess;
	int rc;

	if (!t || !out || !out_len)
		return -EINVAL;
	any_sess = !t->use_defaults && (t->has_conn_params || t->has_security || t->has_ext_security ||
					t->has_retry || t->has_http_post);

	if (any_sess && (rc = build_session_params(&sess, t)) < 0)
		goto err;
	if (!t->use_defaults && t->has_dns) {
		if ((t->ras_fqdn &&
		     (rc = ota_wb_tlv(&dns, OTA_SCP81_TAG_RAS_FQDN, t->ras_fqdn, t->ras_fqdn_len)) < 0) ||
		    (t->dns_conn &&
		     (rc = ota_wb_tlv(&dns, OTA_SCP81_TAG_DNS_CONN, t->dns_conn, t->dns_conn_len)) < 0))
			goto err;
	}
	{
		struct ota_wbuf v = { .ctx = ctx };

		if ((any_sess && (rc = wb_tlv_take(&v, OTA_SCP81_TAG_SESSION_PARAMS, &sess)) < 0) ||
		    (!t->use_defaults && t->has_dns && (rc = wb_tlv_take(&v, OTA_SCP81_TAG_DNS_PARAMS, &dns)) < 0) ||
		    (rc = wb_tlv_take(&top, OTA_SCP81_TAG_TRIGGER, &v)) < 0) {
			talloc_free(v.data);
			goto err;
		}
	}
	*out = top.data;
	*out_len = top.len;
	return 0;
err:
	talloc_free(top.data);
	talloc_free(sess.data);
	talloc_free(dns.data);
	return rc;
}

static int dup_blob(void *ctx, const struct ota_tlv *t, const uint8_t **p, size_t *len)
{
	/* keep a non-NULL pointer even for an empty value, so that "present" stays visible */
	uint8_t *d = talloc_memdup(ctx, t->len ? t->val : (const uint8_t *)"", t->len ? t->len : 1);

	if (!d)
		return -ENOMEM;
	*p = d;
	*len = t->len;
	return 0;
}

static int dup_str(void *ctx, const struct ota_tlv *t, const char **s)
{
	char *d;

	if (memchr(t->val, '\0', t->len))
		return -EBADMSG;
	d = talloc_strndup(ctx, (const char *)t->val, t->len);
	if (!d)
		return -ENOMEM;
	*s = d;
	return 0;
}

static int parse_security(const struct ota_tlv *t, struct ota_scp81_security_params *s)
{
	size_t l;

	if (t->len < 1)
		return -EBADMSG;
	l = t->val[0];
	if (t->len < 1 + l + 3 || t->len > 1 + l + 4)
		return -EBADMSG;
	if (t->val[1 + l] != 0x02)	/* length of KVN + KID */
		return -EBADMSG;
	s->psk_id = t->val + 1;	/* re-pointed to a copy by the caller */
	s->psk_id_len = l;
	s->kvn = t->val[2 + l];
	s->kid = t->val[3 + l];
	s->has_sha_type = t->len == 1 + l + 4;
	s->sha_type = s->has_sha_type ? t->val[4 + l] : 0;
	return 0;
}

static int parse_retry(const struct ota_tlv *t, struct ota_scp81_retry_policy *r)
{
	const uint8_t *v = t->val;

	/* TS 102 223 Timer value: tag 25 or A5 (comprehension required), length 3 */
	if (t->len != 7 && t->len != 9)
		return -EBADMSG;
	if ((v[2] & 0x7F) != (OTA_SCP81_TAG_TIMER_VALUE & 0x7F) || v[3] != 3)
		return -EBADMSG;
	r->counter = (v[0] << 8) | v[1];
	memcpy(r->delay, v + 4, 3);
	r->report_failure = false;
	if (t->len == 9) {
		if (v[7] != OTA_SCP81_TAG_REPORT_FAILURE || v[8] != 0)
			return -EBADMSG;
		r->report_failure = true;
	}
	return 0;
}

/* State of one trigger parse: copies go to ctx (the trigger itself) */
struct trig_parse {
	void *ctx;
	struct ota_scp81_trigger *trig;
	bool have_sess;
};

/* Hand each TLV inside the value of parent to item; stops at the first error. */
static int each_tlv(struct trig_parse *p, const struct ota_tlv *parent,
		    int (*item)(struct trig_parse *p, const struct ota_tlv *t))
{
	size_t off = 0;
	int rc;

	while (off < parent->len) {
		struct ota_tlv t;

		rc = ota_tlv_read(parent->val, parent->len, &off, &t);
		if (rc < 0)
			return rc;
		rc = item(p, &t);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Inside the HTTP POST parameters */
static int http_post_item(struct trig_parse *p, const struct ota_tlv *t)
{
	struct ota_scp81_trigger *trig = p->trig;
	const char **dst;

	switch (t->tag) {
	case OTA_SCP81_TAG_ADMIN_HOST:
		dst = &trig->admin_host;
		break;
	case OTA_SCP81_TAG_AGENT_ID:
		dst = &trig->agent_id;
		break;
	case OTA_SCP81_TAG_ADMIN_URI:
		dst = &trig->admin_uri;
		break;
	default:
		return -EBADMSG;
	}
	if (*dst)
		return -EBADMSG;	/* duplicate */
	return dup_str(p->ctx, t, dst);
}

/* Inside the session parameters */
static int session_item(struct trig_parse *p, const struct ota_tlv *t)
{
	struct ota_scp81_trigger *trig = p->trig;
	int rc;

	switch (t->tag) {
	case OTA_SCP81_TAG_CONN_PARAMS:
		if (trig->has_conn_params)
			return -EBADMSG;
		trig->has_conn_params = true;
		return dup_blob(p->ctx, t, &trig->conn_params, &trig->conn_params_len);
	case OTA_SCP81_TAG_SECURITY_PARAMS:
		if (trig->has_security)
			return -EBADMSG;
		trig->has_security = true;
		rc = parse_security(t, &trig->security);
		if (rc == 0) {
			struct ota_tlv id = { .val = trig->security.psk_id, .len = trig->security.psk_id_len };

			rc = dup_blob(p->ctx, &id, &trig->security.psk_id, &trig->security.psk_id_len);
		}
		return rc;
	case OTA_SCP81_TAG_EXT_SECURITY:
		if (trig->has_ext_security)
			return -EBADMSG;
		trig->has_ext_security = true;
		return dup_blob(p->ctx, t, &trig->ext_security, &trig->ext_security_len);
	case OTA_SCP81_TAG_RETRY_POLICY:
		if (trig->has_retry)
			return -EBADMSG;
		trig->has_retry = true;
		return parse_retry(t, &trig->retry);
	case OTA_SCP81_TAG_HTTP_POST:
		if (trig->has_http_post)
			return -EBADMSG;
		trig->has_http_post = true;
		return each_tlv(p, t, http_post_item);
	default:
		return -EBADMSG;
	}
}

/* Inside the DNS parameters */
static int dns_item(struct trig_parse *p, const struct ota_tlv *t)
{
	struct ota_scp81_trigger *trig = p->trig;

	switch (t->tag) {
	case OTA_SCP81_TAG_RAS_FQDN:
		if (trig->ras_fqdn)
			return -EBADMSG;
		return dup_blob(p->ctx, t, &trig->ras_fqdn, &trig->ras_fqdn_len);
	case OTA_SCP81_TAG_DNS_CONN:
		if (trig->dns_conn)
			return -EBADMSG;
		return dup_blob(p->ctx, t, &trig->dns_conn, &trig->dns_conn_len);
	default:
		return -EBADMSG;
	}
}

/* Inside the triggering parameters: at most one session and one DNS parameters TLV */
static int trigger_item(struct trig_parse *p, const struct ota_tlv *t)
{
	switch (t->tag) {
	case OTA_SCP81_TAG_SESSION_PARAMS:
		if (p->have_sess)
			return -EBADMSG;
		p->have_sess = true;
		return each_tlv(p, t, session_item);
	case OTA_SCP81_TAG_DNS_PARAMS:
		if (p->trig->has_dns)
			return -EBADMSG;
		p->trig->has_dns = true;
		return each_tlv(p, t, dns_item);
	default:
		return -EBADMSG;
	}
}

int ota_scp81_trigger_parse(void *ctx, const uint8_t *buf, size_t len, struct ota_scp81_trigger **out)
{
	struct ota_scp81_trigger *trig;
	struct trig_parse p;
	struct ota_tlv top;
	size_t off = 0;
	int rc;

	if (!out)
		return -EINVAL;
	if (!buf || len == 0)
		return -EBADMSG;
	rc = ota_tlv_read(buf, len, &off, &top);
	if (rc < 0)
		return rc;
	if (top.tag != OTA_SCP81_TAG_TRIGGER || off != len)
		return -EBADMSG;

	trig = talloc_zero(ctx, struct ota_scp81_trigger);
	if (!trig)
		return -ENOMEM;
	if (top.len == 0) {
		trig->use_defaults = true;
		*out = trig;
		return 0;
	}
	p = (struct trig_parse){ .ctx = trig, .trig = trig };
	rc = each_tlv(&p, &top, trigger_item);
	if (rc < 0) {
		talloc_free(trig);
		return rc;
	}
	*out = trig;
	return 0;
}

/* ------------------------------------------------------------------------------------------------------------
 * The card's POST
 * ------------------------------------------------------------------------------------------------------------ */

/* Statuses after which the POST carries no script response (GP Amd B; GP admin agent extension) */
static bool status_forbids_body(enum ota_scp81_script_status st)
{
	return st == OTA_SCP81_ST_UNKNOWN_APPLICATION || st == OTA_SCP81_ST_NOT_A_SECURITY_DOMAIN ||
	       st == OTA_SCP81_ST_SECURITY_ERROR || st == OTA_SCP81_ST_UNAVAILABLE_SE;
}

int ota_scp81_post_parse(void *ctx, const char *content_type, const char *script_status, const char *resume,
			 const uint8_t *body, size_t body_len, struct ota_scp81_post **out)
{
	struct ota_scp81_post *p;
	int rc;

	if (!out || (body_len && !body))
		return -EINVAL;
	p = talloc_zero(ctx, struct ota_scp81_post);
	if (!p)
		return -ENOMEM;

	rc = ota_scp81_resume_parse(resume, &p->resume);
	if (rc < 0)
		goto err;
	if (script_status) {
		rc = ota_scp81_script_status_parse(script_status);
		if (rc < 0)
			goto err;
		p->has_status = true;
		p->status = rc;
	}
	if (body_len) {
		if (!content_type || !p->has_status || status_forbids_body(p->status)) {
			rc = -EBADMSG;
			goto err;
		}
		rc = ota_scp81_content_type_check(content_type, true);
		if (rc < 0)
			goto err;
		rc = ota_rapdu_resp_parse(p, body, body_len, &p->resp);
		if (rc < 0)
			goto err;
	}
	*out = p;
	return 0;
err:
	talloc_free(p);
	return rc;
}
