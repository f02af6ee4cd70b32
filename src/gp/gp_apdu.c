/*! \file gp_apdu.c
 * GlobalPlatform C-APDU builders and R-APDU parsers for SGP.02 ES5/ES8 (SGP.02 §4.1.1, §4.1.3;
 * GP Card Spec v2.3 §11). Byte layouts are summarised in shared/spec/SGP02.md §8.
 */
#include <errno.h>
#include <string.h>

#include <sgp02/gp/bertlv.h>
#include <sgp02/gp/gp_apdu.h>

const uint8_t gp_aid_isd_r[16] = { 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
				   0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00 };
const uint8_t gp_aid_ecasd[16] = { 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
				   0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x02, 0x00 };
const uint8_t gp_aid_isdp_elf[16] = { 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
				      0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x0D, 0x00 };
const uint8_t gp_aid_isdp_module[16] = { 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF,
					 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x0E, 0x00 };

/* install parameters of ES5.CreateISDP: C9 { 81 02 03 70 } = SCP03 with i = 70 */
static const uint8_t default_isdp_params[] = { 0xC9, 0x04, 0x81, 0x02, 0x03, 0x70 };
/* privileges of an ISD-P: Security Domain, Trusted Path, Authorized Management */
static const uint8_t isdp_privileges[] = { 0x80, 0xC0, 0x00 };

int gp_isdp_aid(uint32_t tar, uint8_t out[16])
{
	if (!out || tar > 0xffffff)
		return -EINVAL;
	memcpy(out, gp_aid_isd_r, 12);
	out[12] = tar >> 16;
	out[13] = tar >> 8;
	out[14] = tar;
	out[15] = 0x00;
	return 0;
}

int gp_aid_tar(const uint8_t *aid, size_t aid_len, uint32_t *tar)
{
	if (!aid || !tar || aid_len != 16)
		return -EINVAL;
	/* TS 102 226 / SGP.02 Annex H: implicit TAR = AID bytes 13..15 (1-based) */
	*tar = ((uint32_t)aid[12] << 16) | (aid[13] << 8) | aid[14];
	return 0;
}

const char *gp_lcs_name(uint8_t lcs)
{
	switch (lcs) {
	case GP_LCS_SELECTABLE:
		return "SELECTABLE";
	case GP_LCS_PERSONALIZED:
		return "PERSONALIZED";
	case GP_LCS_DISABLED:
		return "DISABLED";
	case GP_LCS_ENABLED:
		return "ENABLED";
	}
	return "UNKNOWN";
}

/* ---- C-APDU assembly ---- */

static int capdu_start(struct gp_capdu *c, uint8_t ins, uint8_t p1, uint8_t p2)
{
	if (!c)
		return -EINVAL;
	c->buf[0] = 0x80;	/* SGP.02 §4.1.1: GP proprietary class, no secure messaging */
	c->buf[1] = ins;
	c->buf[2] = p1;
	c->buf[3] = p2;
	c->buf[4] = 0;		/* Lc, fixed up by capdu_end() */
	c->len = 5;
	return 0;
}

static int capdu_add(struct gp_capdu *c, const uint8_t *d, size_t len)
{
	if (!d && len)
		return -EINVAL;
	if (len > 5 + 255 - c->len)
		return -EMSGSIZE;
	if (len)
		memcpy(c->buf + c->len, d, len);
	c->len += len;
	return 0;
}

static int capdu_add_lv(struct gp_capdu *c, const uint8_t *d, size_t len)
{
	uint8_t l = len;
	int rc;

	if (len > 255)
		return -EMSGSIZE;
	rc = capdu_add(c, &l, 1);
	return rc < 0 ? rc : capdu_add(c, d, len);
}

static int capdu_add_tlv(struct gp_capdu *c, uint32_t tag, const uint8_t *d, size_t len)
{
	int rc;

	if (!d && len)
		return -EINVAL;
	rc = gp_tlv_encode(c->buf + c->len, 5 + 255 - c->len, tag, d, len);
	if (rc < 0)
		return rc;
	c->len += rc;
	return 0;
}

static int capdu_end(struct gp_capdu *c, bool le)
{
	size_t lc = c->len - 5;

	if (lc == 0) {
		/* case 1/2: no Lc */
		c->len = 4;
	} else {
		c->buf[4] = lc;
	}
	if (le)
		c->buf[c->len++] = 0x00;
	return 0;
}

static int check_aid(const uint8_t *aid, size_t len)
{
	/* ISO/IEC 7816-4 §8.2.1.2: AID 5..16 bytes */
	if (!aid || len < 5 || len > 16)
		return -EINVAL;
	return 0;
}

/* ---- install ---- */

static int put_quota(uint8_t *out, size_t out_size, uint32_t tag, uint32_t v)
{
	uint8_t be[4] = { v >> 24, v >> 16, v >> 8, v };

	/* 2 bytes when it fits, else 4 (GP Card Spec table 11-49 system parameters) */
	if (v <= 0xffff)
		return gp_tlv_encode(out, out_size, tag, be + 2, 2);
	return gp_tlv_encode(out, out_size, tag, be, 4);
}

int gp_install_params_encode(const struct gp_install_params *p, uint8_t *out, size_t out_size)
{
	uint8_t sys[64 + 255];
	size_t sys_len = 0, pos = 0;
	int rc;

	if (!p || !out || (!p->app_params && p->app_params_len) || (!p->stk_params && p->stk_params_len))
		return -EINVAL;
	if (p->stk_params_len > 255)
		return -EMSGSIZE;
	rc = gp_tlv_encode(out, out_size, 0xC9, p->app_params, p->app_params_len);
	if (rc < 0)
		return rc;
	pos = rc;
	if (p->has_nv_quota) {
		rc = put_quota(sys + sys_len, sizeof(sys) - sys_len, 0xC8, p->nv_quota);
		if (rc < 0)
			return rc;
		sys_len += rc;
	}
	if (p->has_v_quota) {
		rc = put_quota(sys + sys_len, sizeof(sys) - sys_len, 0xC7, p->v_quota);
		if (rc < 0)
			return rc;
		sys_len += rc;
	}
	if (p->stk_params) {
		rc = gp_tlv_encode(sys + sys_len, sizeof(sys) - sys_len, 0xCA, p->stk_params, p->stk_params_len);
		if (rc < 0)
			return rc;
		sys_len += rc;
	}
	if (sys_len) {
		rc = gp_tlv_encode(out + pos, out_size - pos, 0xEF, sys, sys_len);
		if (rc < 0)
			return rc;
		pos += rc;
	}
	return pos;
}

int gp_apdu_install(struct gp_capdu *c, const uint8_t *elf, size_t elf_len, const uint8_t *mod, size_t mod_len,
		    const uint8_t *inst, size_t inst_len, const uint8_t *priv, size_t priv_len,
		    const uint8_t *params, size_t params_len)
{
	static const uint8_t no_token = 0x00;
	int rc;

	if (check_aid(elf, elf_len) || check_aid(mod, mod_len) || check_aid(inst, inst_len) || !priv ||
	    priv_len < 1 || priv_len > 3 || (!params && params_len))
		return -EINVAL;
	/* GP Card Spec §11.5 (INSTALL): P1 0C = for install + make selectable */
	capdu_start(c, 0xE6, 0x0C, 0x00);
	if ((rc = capdu_add_lv(c, elf, elf_len)) < 0 || (rc = capdu_add_lv(c, mod, mod_len)) < 0 ||
	    (rc = capdu_add_lv(c, inst, inst_len)) < 0 || (rc = capdu_add_lv(c, priv, priv_len)) < 0 ||
	    (rc = capdu_add_lv(c, params, params_len)) < 0 || (rc = capdu_add(c, &no_token, 1)) < 0)
		return rc;
	return capdu_end(c, true);
}

int gp_apdu_create_isdp(struct gp_capdu *c, const uint8_t *isdp_aid, size_t aid_len, const uint8_t *params,
			size_t params_len)
{
	if (!params) {
		params = default_isdp_params;
		params_len = sizeof(default_isdp_params);
	}
	return gp_apdu_install(c, gp_aid_isdp_elf, 16, gp_aid_isdp_module, 16, isdp_aid, aid_len, isdp_privileges,
			       sizeof(isdp_privileges), params, params_len);
}

int gp_apdu_install_perso(struct gp_capdu *c, const uint8_t *aid, size_t aid_len)
{
	static const uint8_t zeros[3] = { 0, 0, 0 };
	int rc;

	if (check_aid(aid, aid_len))
		return -EINVAL;
	/* GP Card Spec §11.5 (INSTALL): P1 20 = for personalization; only the application AID is present:
	 * 00 (ELF) 00 (module) L AID 00 (privileges) 00 (params) 00 (token) */
	capdu_start(c, 0xE6, 0x20, 0x00);
	if ((rc = capdu_add(c, zeros, 2)) < 0 || (rc = capdu_add_lv(c, aid, aid_len)) < 0 ||
	    (rc = capdu_add(c, zeros, 3)) < 0)
		return rc;
	return capdu_end(c, true);
}

/* ---- STORE DATA ---- */

int gp_dgi_encode(uint8_t *out, size_t out_size, uint16_t dgi, const uint8_t *val, size_t len)
{
	size_t hdr = len < 255 ? 3 : 5;

	if (!out || (!val && len) || len > 0xffff)
		return -EINVAL;
	if (out_size < hdr || out_size - hdr < len)
		return -EMSGSIZE;
	out[0] = dgi >> 8;
	out[1] = dgi;
	/* GP Card Spec §11.11 (STORE DATA, DGI format): DGI length on 1 byte (00..FE) or FF followed
	 * by 2 bytes */
	if (hdr == 3) {
		out[2] = len;
	} else {
		out[2] = 0xff;
		out[3] = len >> 8;
		out[4] = len;
	}
	if (len)
		memcpy(out + hdr, val, len);
	return hdr + len;
}

int gp_apdu_store_data(struct gp_capdu *c, uint8_t p1, uint8_t p2, const uint8_t *data, size_t len)
{
	int rc;

	if (!data || len == 0)
		return -EINVAL;
	capdu_start(c, 0xE2, p1, p2);
	rc = capdu_add(c, data, len);
	if (rc < 0)
		return rc;
	return capdu_end(c, !!(p1 & GP_STORE_RESP));
}

int gp_apdu_store_dgi(struct gp_capdu *c, uint16_t dgi, const uint8_t *val, size_t len, bool resp)
{
	uint8_t data[255];
	int rc;

	if (!c)
		return -EINVAL;
	rc = gp_dgi_encode(data, sizeof(data), dgi, val, len);
	if (rc < 0)
		return rc;
	return gp_apdu_store_data(c, GP_STORE_LAST | GP_STORE_DGI | (resp ? GP_STORE_RESP : 0), 0x00, data, rc);
}

static int store_aid_dgi(struct gp_capdu *c, uint16_t dgi, const uint8_t *aid, size_t aid_len)
{
	uint8_t v[2 + 16];
	int rc;

	if (check_aid(aid, aid_len))
		return -EINVAL;
	rc = gp_tlv_encode(v, sizeof(v), 0x4F, aid, aid_len);
	if (rc < 0)
		return rc;
	return gp_apdu_store_dgi(c, dgi, v, rc, false);
}

int gp_apdu_enable_profile(struct gp_capdu *c, const uint8_t *aid, size_t aid_len)
{
	return store_aid_dgi(c, 0x3A03, aid, aid_len);
}

int gp_apdu_disable_profile(struct gp_capdu *c, const uint8_t *aid, size_t aid_len)
{
	return store_aid_dgi(c, 0x3A04, aid, aid_len);
}

int gp_apdu_set_fallback(struct gp_capdu *c, const uint8_t *aid, size_t aid_len)
{
	return store_aid_dgi(c, 0x3A05, aid, aid_len);
}

int gp_apdu_connectivity_params(struct gp_capdu *c, const uint8_t *params, size_t len)
{
	if (!params || !len)
		return -EINVAL;
	return gp_apdu_store_dgi(c, 0x3A07, params, len, false);
}

int gp_apdu_notification_confirm(struct gp_capdu *c, uint16_t seq)
{
	uint8_t v[4] = { 0x4E, 0x02, seq >> 8, seq };

	/* SGP.02 §4.1.1.12: response data (deleted ISD-Ps) expected -> P1 89, Le 00 */
	return gp_apdu_store_dgi(c, 0x3A08, v, sizeof(v), true);
}

/* ---- DELETE / GET STATUS / GET DATA ---- */

int gp_apdu_delete(struct gp_capdu *c, const uint8_t *aid, size_t aid_len, uint8_t p2)
{
	int rc;

	if (check_aid(aid, aid_len))
		return -EINVAL;
	capdu_start(c, 0xE4, 0x00, p2);
	rc = capdu_add_tlv(c, 0x4F, aid, aid_len);
	if (rc < 0)
		return rc;
	return capdu_end(c, true);
}

int gp_apdu_master_delete(struct gp_capdu *c, const uint8_t *aid, size_t aid_len, uint8_t p2, const uint8_t *b6,
			  size_t b6_len, const uint8_t *token, size_t token_len)
{
	int rc;

	if (check_aid(aid, aid_len) || !b6 || !b6_len || !token || !token_len)
		return -EINVAL;
	capdu_start(c, 0xE4, 0x00, p2);
	if ((rc = capdu_add_tlv(c, 0x4F, aid, aid_len)) < 0 || (rc = capdu_add_tlv(c, 0xB6, b6, b6_len)) < 0 ||
	    (rc = capdu_add_tlv(c, 0x9E, token, token_len)) < 0)
		return rc;
	return capdu_end(c, true);
}

int gp_apdu_get_status(struct gp_capdu *c, const uint8_t *aid, size_t aid_len, bool tag_list, uint8_t p2)
{
	static const uint8_t tags[] = { 0x4F, 0x9F, 0x70 };
	int rc;

	if ((aid_len && check_aid(aid, aid_len)) || (p2 != 0x02 && p2 != 0x03))
		return -EINVAL;
	/* GP Card Spec §11.4 (GET STATUS): P1 40 = applications incl. security domains; P2 b2 = TLV format */
	capdu_start(c, 0xF2, 0x40, p2);
	rc = capdu_add_tlv(c, 0x4F, aid, aid_len);
	if (rc == 0 && tag_list)
		rc = capdu_add_tlv(c, 0x5C, tags, sizeof(tags));
	if (rc < 0)
		return rc;
	return capdu_end(c, true);
}

int gp_apdu_get_data(struct gp_capdu *c, uint16_t tag, const uint8_t *tag_list, size_t tag_list_len)
{
	int rc;

	if (!tag || (!tag_list && tag_list_len))
		return -EINVAL;
	capdu_start(c, 0xCA, tag >> 8, tag);
	if (tag_list_len) {
		rc = capdu_add_tlv(c, 0x5C, tag_list, tag_list_len);
		if (rc < 0)
			return rc;
	}
	return capdu_end(c, true);
}

/* ---- status words ---- */

int gp_rapdu_split(const uint8_t *rapdu, size_t len, const uint8_t **data, size_t *data_len, uint16_t *sw)
{
	if (!rapdu || len < 2)
		return -EBADMSG;
	if (data)
		*data = rapdu;
	if (data_len)
		*data_len = len - 2;
	if (sw)
		*sw = (rapdu[len - 2] << 8) | rapdu[len - 1];
	return 0;
}

const char *gp_sw_name(uint16_t sw)
{
	switch (sw) {
	case 0x9000:
		return "success";
	case 0x6985:
		return "conditions of use not satisfied";
	case 0x69E1:
		return "POL1 of the Profile prevents this action";
	case 0x6A80:
		return "incorrect values in command data";
	case 0x6A82:
		return "application not found";
	case 0x6A84:
		return "not enough memory space";
	case 0x6A88:
		return "referenced data not found";
	case 0x6581:
		return "memory failure";
	case 0x9484:
		return "algorithm not supported";
	case 0x9485:
		return "invalid key check value";
	case 0x6D00:
		return "instruction not supported";
	case 0x6E00:
		return "class not supported";
	case 0x6A86:
		return "incorrect P1 P2";
	case 0x6700:
		return "wrong length";
	case 0x6982:
		return "security status not satisfied";
	case 0x6310:
		return "more data available";
	}
	if ((sw & 0xff00) == 0x6100 || (sw & 0xff00) == 0x9F00)
		return "response data available";
	return "unknown status";
}

int gp_sw_to_errno(uint16_t sw)
{
	/* 6310: GET STATUS has more entries (GP Card Spec §11.4), fetch them with P2 "next" */
	if (sw == 0x9000 || sw == 0x6310 || (sw & 0xff00) == 0x6100 || (sw & 0xff00) == 0x9F00)
		return 0;
	switch (sw) {
	case 0x6A88:
	case 0x6A82:
		return -ENOENT;
	case 0x6985:
		return -EPERM;
	case 0x69E1:
		return -EACCES;
	case 0x6A80:
		return -EINVAL;
	case 0x6A84:
		return -ENOSPC;
	case 0x6581:
		return -EIO;
	case 0x9484:
		return -ENOTSUP;
	case 0x9485:
		return -EKEYREJECTED;
	}
	return -EPROTO;
}

/* ---- response parsers ---- */

static int be_uint(const struct gp_tlv *t, uint32_t *v)
{
	size_t i;

	if (t->len < 1 || t->len > 4)
		return -EBADMSG;
	*v = 0;
	for (i = 0; i < t->len; i++)
		*v = (*v << 8) | t->val[i];
	return 0;
}

int gp_parse_get_status(const uint8_t *data, size_t len, struct gp_isdp_status *out, size_t max)
{
	struct gp_tlv e3, t;
	size_t off = 0, ioff;
	int rc, n = 0;

	if ((!data && len) || (!out && max))
		return -EINVAL;
	while ((rc = gp_tlv_next(data, len, &off, &e3)) > 0) {
		struct gp_isdp_status s;
		bool have_aid = false;

		if (e3.tag != 0xE3)
			return -EBADMSG;
		memset(&s, 0, sizeof(s));
		ioff = 0;
		while ((rc = gp_tlv_next(e3.val, e3.len, &ioff, &t)) > 0) {
			switch (t.tag) {
			case 0x4F:
				if (have_aid || t.len < 5 || t.len > GP_AID_MAX)
					return -EBADMSG;
				memcpy(s.aid, t.val, t.len);
				s.aid_len = t.len;
				have_aid = true;
				break;
			case 0x9F70:
				/* GP: 1 byte application LCS (2 bytes for some cards: LCS + app-specific) */
				if (t.len < 1 || t.len > 2)
					return -EBADMSG;
				s.has_lcs = true;
				s.lcs = t.val[0];
				break;
			case 0x53:
				if (t.len != 1)
					return -EBADMSG;
				s.has_props = true;
				s.props = t.val[0];
				s.fallback = t.val[0] & 0x01;
				break;
			case 0x8F:
				if (be_uint(&t, &s.granted_nv) < 0)
					return -EBADMSG;
				s.has_granted_nv = true;
				break;
			case 0x91:
				if (be_uint(&t, &s.remaining_nv) < 0)
					return -EBADMSG;
				s.has_remaining_nv = true;
				break;
			default:
				/* other GP tags (C5 privileges, CF implicit selection, ...) are skipped */
				break;
			}
		}
		if (rc < 0)
			return rc;
		if (!have_aid)
			return -ENOENT;
		if ((size_t)n < max)
			out[n] = s;
		if (n == 0x7fffffff)
			return -EMSGSIZE;
		n++;
	}
	return rc < 0 ? rc : n;
}

int gp_parse_eid_response(const uint8_t *data, size_t len, uint8_t eid[16])
{
	struct gp_tlv t;
	int rc;

	if (!data || !eid)
		return -EINVAL;
	rc = gp_tlv_parse(data, len, &t);
	if (rc < 0)
		return rc;
	if (t.tag != 0x5A || t.len != 16 || (size_t)rc != len)
		return -EBADMSG;
	memcpy(eid, t.val, 16);
	return 0;
}

int gp_parse_card_resources(const uint8_t *data, size_t len, struct gp_card_resources *res)
{
	struct gp_tlv t, outer;
	size_t off = 0;
	int rc;

	if ((!data && len) || !res)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	/* the template may come bare or inside BF30 (SGP.02 GET DATA on the ISD-R) */
	rc = gp_tlv_find(data, len, 0xBF30, &outer);
	if (rc == 0)
		rc = gp_tlv_find(outer.val, outer.len, 0xFF21, &t);
	else if (rc == -ENOENT)
		rc = gp_tlv_find(data, len, 0xFF21, &t);
	if (rc < 0)
		return rc;
	while ((rc = gp_tlv_next(t.val, t.len, &off, &outer)) > 0) {
		switch (outer.tag) {
		case 0x81:
			if (be_uint(&outer, &res->apps) < 0)
				return -EBADMSG;
			res->has_apps = true;
			break;
		case 0x82:
			if (be_uint(&outer, &res->free_nv) < 0)
				return -EBADMSG;
			res->has_free_nv = true;
			break;
		case 0x83:
			if (be_uint(&outer, &res->free_v) < 0)
				return -EBADMSG;
			res->has_free_v = true;
			break;
		}
	}
	return rc < 0 ? rc : 0;
}

const char *gp_notif_type_name(uint8_t type)
{
	switch (type) {
	case GP_NOTIF_EUICC_DECLARATION:
		return "eUICC declaration";
	case GP_NOTIF_PROFILE_CHANGE_OK:
		return "profile change succeeded";
	case GP_NOTIF_PROFILE_CHANGE_ROLLBACK:
		return "profile change failed, roll-back";
	case GP_NOTIF_VOID:
		return "void";
	case GP_NOTIF_PROFILE_CHANGE_FALLBACK:
		return "profile change after fall-back";
	}
	return "unknown";
}

int gp_parse_notification(const uint8_t *data, size_t len, struct gp_notification *n)
{
	struct gp_tlv e1, t;
	bool have_eid = false, have_type = false, have_seq = false;
	size_t off = 0;
	int rc;

	if (!data || !n)
		return -EINVAL;
	memset(n, 0, sizeof(*n));
	rc = gp_tlv_parse(data, len, &e1);
	if (rc < 0)
		return rc;
	if (e1.tag != 0xE1 || (size_t)rc != len)
		return -EBADMSG;
	/* the children are COMPREHENSION-TLVs (TS 102 223 §7.1.1: b8 of the tag = CR flag); their
	 * single-byte tags and lengths parse like BER here */
	while ((rc = gp_tlv_next(e1.val, e1.len, &off, &t)) > 0) {
		switch (t.tag) {
		case 0x4C:
			if (t.len != 16)
				return -EBADMSG;
			memcpy(n->eid, t.val, 16);
			have_eid = true;
			break;
		case 0x4D:
			if (t.len != 1)
				return -EBADMSG;
			n->type = t.val[0];
			have_type = true;
			break;
		case 0x2F:
		case 0xAF:
			if (t.len < 5 || t.len > GP_AID_MAX)
				return -EBADMSG;
			memcpy(n->aid, t.val, t.len);
			n->aid_len = t.len;
			n->has_aid = true;
			break;
		case 0x14:
		case 0x94:
			if (t.len > sizeof(n->imei))
				return -EBADMSG;
			memcpy(n->imei, t.val, t.len);
			n->imei_len = t.len;
			n->has_imei = true;
			break;
		case 0x6D:
		case 0xED:
			if (t.len > sizeof(n->meid))
				return -EBADMSG;
			memcpy(n->meid, t.val, t.len);
			n->meid_len = t.len;
			n->has_meid = true;
			break;
		case 0x4E:
			if (t.len != 2)
				return -EBADMSG;
			n->seq = (t.val[0] << 8) | t.val[1];
			have_seq = true;
			break;
		default:
			break;
		}
	}
	if (rc < 0)
		return rc;
	if (!have_eid || !have_type || !have_seq)
		return -ENOENT;
	return 0;
}

int gp_parse_notification_confirm(const uint8_t *data, size_t len, uint8_t (*aids)[GP_AID_MAX], size_t *aid_lens,
				  size_t max)
{
	struct gp_tlv outer, t;
	size_t off = 0;
	int rc, n = 0;

	if ((!data && len) || (max && (!aids || !aid_lens)))
		return -EINVAL;
	if (len == 0)
		return 0;
	rc = gp_tlv_parse(data, len, &outer);
	if (rc < 0)
		return rc;
	if (outer.tag != 0x80 || (size_t)rc != len)
		return -EBADMSG;
	while ((rc = gp_tlv_next(outer.val, outer.len, &off, &t)) > 0) {
		if (t.tag != 0x4F || t.len < 5 || t.len > GP_AID_MAX)
			return -EBADMSG;
		if ((size_t)n < max) {
			memcpy(aids[n], t.val, t.len);
			aid_lens[n] = t.len;
		}
		n++;
	}
	return rc < 0 ? rc : n;
}
