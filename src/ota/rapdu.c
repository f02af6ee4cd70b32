/*! \file rapdu.c
 * Remote APDU scripts, ETSI TS 102 226 §5: compact format (§5.1) and expanded format (§5.2) with Command and
 * Response Scripting Templates, Script Chaining and script splitting.
 */
#include <errno.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/ota/rapdu.h>

#include "ota_buf.h"

/* ------------------------------------------------------------------------------------------------------------
 * BER length fields. TS 102 226 §5.2 uses BER-TLV with single-byte tags; lengths up to 65535 are enough for any
 * script we send or receive (an HTTP body is split into several scripts long before that).
 * ------------------------------------------------------------------------------------------------------------ */

int ota_rapdu_len_size(size_t len)
{
	if (len < 0x80)
		return 1;
	if (len <= 0xFF)
		return 2;
	if (len <= OTA_RAPDU_MAX_LEN)
		return 3;
	return -EMSGSIZE;
}

int ota_rapdu_len_encode(uint8_t *out, size_t out_size, size_t len)
{
	int n = ota_rapdu_len_size(len);

	if (n < 0)
		return n;
	if (!out || out_size < (size_t)n)
		return -EMSGSIZE;
	switch (n) {
	case 1:
		out[0] = len;
		break;
	case 2:
		out[0] = 0x81;
		out[1] = len;
		break;
	default:
		out[0] = 0x82;
		out[1] = len >> 8;
		out[2] = len & 0xFF;
		break;
	}
	return n;
}

int ota_rapdu_len_decode(const uint8_t *buf, size_t buf_len, size_t *len)
{
	if (!buf || !len || buf_len < 1)
		return -EBADMSG;
	if (buf[0] < 0x80) {
		*len = buf[0];
		return 1;
	}
	switch (buf[0]) {
	case 0x81:
		if (buf_len < 2)
			return -EBADMSG;
		*len = buf[1];
		return 2;
	case 0x82:
		if (buf_len < 3)
			return -EBADMSG;
		*len = ((size_t)buf[1] << 8) | buf[2];
		return 3;
	default:
		/* 80 (indefinite) is only legal for the scripting template itself; 83.. are never needed here */
		return -EBADMSG;
	}
}

/* Wrap content in a scripting template and hand the result to the caller (as a talloc child of ctx). */
static int wrap_template(void *ctx, struct ota_wbuf *content, enum ota_rapdu_format format, uint8_t tag_def,
			 uint8_t tag_indef, uint8_t **out, size_t *out_len)
{
	struct ota_wbuf w = { .ctx = ctx };
	int rc;

	if (format == OTA_RAPDU_FMT_DEFINITE) {
		/* ota_wb_len() answers -EMSGSIZE for content longer than OTA_RAPDU_MAX_LEN */
		if ((rc = ota_wb_byte(&w, tag_def)) < 0 || (rc = ota_wb_len(&w, content->len)) < 0)
			goto err;
	} else {
		/* BER indefinite form: tag, 80, contents, end-of-contents 00 00 */
		if ((rc = ota_wb_byte(&w, tag_indef)) < 0 || (rc = ota_wb_byte(&w, 0x80)) < 0)
			goto err;
	}
	if ((rc = ota_wb_put(&w, content->data, content->len)) < 0)
		goto err;
	if (format == OTA_RAPDU_FMT_INDEFINITE) {
		static const uint8_t eoc[2] = { 0x00, 0x00 };

		if ((rc = ota_wb_put(&w, eoc, 2)) < 0)
			goto err;
	}
	if (!w.data) {
		/* cannot happen (a template has at least 2 bytes), keep the analyser happy */
		rc = -ENOMEM;
		goto err;
	}
	*out = w.data;
	*out_len = w.len;
	return 0;
err:
	talloc_free(w.data);
	return rc;
}

/* ------------------------------------------------------------------------------------------------------------
 * C-APDU structure
 * ------------------------------------------------------------------------------------------------------------ */

int ota_rapdu_apdu_check(const uint8_t *apdu, size_t len)
{
	size_t lc;

	if (!apdu || len < 4)
		return -EBADMSG;
	if (len == 4 || len == 5)	/* case 1, case 2 short */
		return 0;
	lc = apdu[4];
	if (lc != 0) {
		/* case 3 / case 4 short */
		if (len == 5 + lc || len == 6 + lc)
			return 0;
		return -EBADMSG;
	}
	/* ISO/IEC 7816-4 extended length: 00 then 2-byte Le (case 2E) or 2-byte Lc, data, [2-byte Le] */
	if (len == 7)
		return 0;
	if (len < 7)
		return -EBADMSG;
	lc = ((size_t)apdu[5] << 8) | apdu[6];
	if (lc == 0)
		return -EBADMSG;
	if (len == 7 + lc || len == 9 + lc)
		return 0;
	return -EBADMSG;
}

/* ------------------------------------------------------------------------------------------------------------
 * Command scripts
 * ------------------------------------------------------------------------------------------------------------ */

static bool chain_valid(unsigned int v)
{
	return v == OTA_RAPDU_CHAIN_FIRST || v == OTA_RAPDU_CHAIN_NEXT || v == OTA_RAPDU_CHAIN_LAST ||
	       v == OTA_RAPDU_CHAIN_FIRST_KEEP;
}

int ota_rapdu_cmd_build(void *ctx, const struct ota_rapdu_cmd_script *script, uint8_t **out, size_t *out_len)
{
	struct ota_wbuf c = { .ctx = ctx };
	unsigned int i;
	int rc;

	if (!script || !out || !out_len || (script->num_items && !script->items))
		return -EINVAL;
	if (script->chaining != OTA_RAPDU_CHAIN_NONE && !chain_valid(script->chaining))
		return -EINVAL;

	if (script->format == OTA_RAPDU_FMT_COMPACT) {
		/* TS 102 226 §5.1: the APDUs simply follow each other; no actions, no chaining */
		if (script->chaining != OTA_RAPDU_CHAIN_NONE || script->num_items == 0)
			return -EINVAL;
		for (i = 0; i < script->num_items; i++) {
			const struct ota_rapdu_cmd_item *it = &script->items[i];

			if (it->type != OTA_RAPDU_CITEM_CAPDU || ota_rapdu_apdu_check(it->data, it->len) < 0) {
				rc = -EINVAL;
				goto err;
			}
			if ((rc = ota_wb_put(&c, it->data, it->len)) < 0)
				goto err;
		}
		*out = c.data;
		*out_len = c.len;
		return 0;
	}
	if (script->format != OTA_RAPDU_FMT_DEFINITE && script->format != OTA_RAPDU_FMT_INDEFINITE)
		return -EINVAL;

	/* TS 102 226 §5.2.1.1: the Script Chaining TLV comes first in the template */
	if (script->chaining != OTA_RAPDU_CHAIN_NONE) {
		uint8_t v = script->chaining;

		if ((rc = ota_wb_tlv(&c, OTA_RAPDU_TAG_SCRIPT_CHAINING, &v, 1)) < 0)
			goto err;
	}
	for (i = 0; i < script->num_items; i++) {
		const struct ota_rapdu_cmd_item *it = &script->items[i];

		switch (it->type) {
		case OTA_RAPDU_CITEM_CAPDU:
			if (ota_rapdu_apdu_check(it->data, it->len) < 0) {
				rc = -EINVAL;
				goto err;
			}
			break;
		case OTA_RAPDU_CITEM_IMMEDIATE_ACTION:
		case OTA_RAPDU_CITEM_ERROR_ACTION:
			if (it->len && !it->data) {
				rc = -EINVAL;
				goto err;
			}
			break;
		default:
			rc = -EINVAL;
			goto err;
		}
		if ((rc = ota_wb_tlv(&c, it->type, it->data, it->len)) < 0)
			goto err;
	}
	rc = wrap_template(ctx, &c, script->format, OTA_RAPDU_TAG_CMD_SCRIPT_DEF, OTA_RAPDU_TAG_CMD_SCRIPT_INDEF,
			   out, out_len);
err:
	talloc_free(c.data);
	return rc;
}

int ota_rapdu_cmd_build_apdus(void *ctx, const struct ota_rapdu_apdu *apdus, unsigned int num,
			      enum ota_rapdu_format format, enum ota_rapdu_chain chaining, uint8_t **out,
			      size_t *out_len)
{
	struct ota_rapdu_cmd_script s = { .format = format, .chaining = chaining, .num_items = num };
	unsigned int i;
	int rc;

	if (num && !apdus)
		return -EINVAL;
	if (num) {
		s.items = talloc_zero_array(NULL, struct ota_rapdu_cmd_item, num);
		if (!s.items)
			return -ENOMEM;
	}
	for (i = 0; i < num; i++) {
		s.items[i].type = OTA_RAPDU_CITEM_CAPDU;
		s.items[i].data = apdus[i].data;
		s.items[i].len = apdus[i].len;
	}
	rc = ota_rapdu_cmd_build(ctx, &s, out, out_len);
	talloc_free(s.items);
	return rc;
}

/* Size of one TLV with a single-byte tag and a value of n bytes (n <= OTA_RAPDU_MAX_LEN). */
static size_t tlv_size(size_t n)
{
	return 1 + ota_rapdu_len_size(n) + n;
}

/* Whether an expanded template around content of c bytes fits in budget bytes. A definite template cannot
 * describe more than OTA_RAPDU_MAX_LEN content bytes, whatever the budget. */
static bool template_fits(enum ota_rapdu_format format, size_t c, size_t budget)
{
	if (format == OTA_RAPDU_FMT_INDEFINITE)
		return c <= SIZE_MAX - 4 && 2 + c + 2 <= budget;
	if (c > OTA_RAPDU_MAX_LEN)
		return false;
	return tlv_size(c) <= budget;
}

int ota_rapdu_cmd_split(void *ctx, const struct ota_rapdu_apdu *apdus, unsigned int num, enum ota_rapdu_format format,
			size_t budget, bool keep_on_reset, struct ota_rapdu_buf **scripts, unsigned int *num_scripts)
{
	struct ota_rapdu_buf *arr = NULL;
	unsigned int *first = NULL;	/* index of the first APDU of each script */
	unsigned int n_scr = 0, i;
	size_t total = 0, cur;
	int rc;

	if (!apdus || !num || !scripts || !num_scripts)
		return -EINVAL;
	if (format != OTA_RAPDU_FMT_DEFINITE && format != OTA_RAPDU_FMT_INDEFINITE)
		return -EINVAL;
	for (i = 0; i < num; i++) {
		if (ota_rapdu_apdu_check(apdus[i].data, apdus[i].len) < 0 || apdus[i].len > OTA_RAPDU_MAX_LEN)
			return -EINVAL;
		total += tlv_size(apdus[i].len);
	}

	first = talloc_zero_array(NULL, unsigned int, num + 1);
	if (!first)
		return -ENOMEM;

	if (template_fits(format, total, budget)) {
		/* one script, no chaining TLV needed */
		first[n_scr++] = 0;
	} else {
		/* Greedy packing; every script carries the 3-byte chaining TLV "83 01 xx". */
		cur = 3;
		first[n_scr++] = 0;
		for (i = 0; i < num; i++) {
			size_t t = tlv_size(apdus[i].len);

			if (template_fits(format, cur + t, budget)) {
				cur += t;
				continue;
			}
			if (!template_fits(format, 3 + t, budget)) {
				rc = -EMSGSIZE;	/* this APDU does not fit even alone */
				goto out;
			}
			first[n_scr++] = i;
			cur = 3 + t;
		}
	}
	first[n_scr] = num;

	arr = talloc_zero_array(ctx, struct ota_rapdu_buf, n_scr);
	if (!arr) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n_scr; i++) {
		enum ota_rapdu_chain ch = OTA_RAPDU_CHAIN_NONE;

		if (n_scr > 1) {
			if (i == 0)
				ch = keep_on_reset ? OTA_RAPDU_CHAIN_FIRST_KEEP : OTA_RAPDU_CHAIN_FIRST;
			else if (i == n_scr - 1)
				ch = OTA_RAPDU_CHAIN_LAST;
			else
				ch = OTA_RAPDU_CHAIN_NEXT;
		}
		rc = ota_rapdu_cmd_build_apdus(arr, apdus + first[i], first[i + 1] - first[i], format, ch,
					       &arr[i].data, &arr[i].len);
		if (rc < 0)
			goto out;
	}
	*scripts = arr;
	*num_scripts = n_scr;
	arr = NULL;
	rc = 0;
out:
	talloc_free(arr);
	talloc_free(first);
	return rc;
}

/* Locate the contents of an expanded template. For the definite form, [*start, *end) is the contents. For the
 * indefinite form *end is the buffer end and *indef is set: the item loop must find the 00 00 end-of-contents. */
static int template_open(const uint8_t *buf, size_t len, uint8_t tag_def, uint8_t tag_indef,
			 enum ota_rapdu_format *format, size_t *start, size_t *end)
{
	size_t l;
	int rc;

	if (!buf || len < 2)
		return -EBADMSG;
	if (buf[0] == tag_indef) {
		if (buf[1] != 0x80)
			return -EBADMSG;
		*format = OTA_RAPDU_FMT_INDEFINITE;
		*start = 2;
		*end = len;
		return 0;
	}
	if (buf[0] != tag_def)
		return -EBADMSG;
	rc = ota_rapdu_len_decode(buf + 1, len - 1, &l);
	if (rc < 0)
		return rc;
	if (l > len - 1 - rc)
		return -EMSGSIZE;
	if (1 + rc + l != len)
		return -EBADMSG;	/* trailing bytes after the template */
	*format = OTA_RAPDU_FMT_DEFINITE;
	*start = 1 + rc;
	*end = len;
	return 0;
}

/* Item loop helper: returns 1 when the end of the contents is reached, 0 with the next TLV in *t (and *off past
 * it), <0 on error. */
static int template_next(const uint8_t *buf, size_t *off, size_t end, enum ota_rapdu_format format,
			 struct ota_tlv *t)
{
	if (format == OTA_RAPDU_FMT_DEFINITE) {
		if (*off == end)
			return 1;
	} else if (*off + 2 <= end && buf[*off] == 0x00 && buf[*off + 1] == 0x00) {
		return *off + 2 == end ? 1 : -EBADMSG;	/* nothing may follow end-of-contents */
	} else if (*off >= end) {
		return -EBADMSG;	/* end-of-contents missing */
	}
	return ota_tlv_read(buf, end, off, t);
}

/* Grow a talloc'd array of items by one; returns the new (zeroed) slot or NULL. */
static void *grow(void *parent, void **arr, unsigned int *num, unsigned int *cap, size_t elem)
{
	if (*num == *cap) {
		unsigned int ncap = *cap ? *cap * 2 : 8;
		void *p = talloc_realloc_size(parent, *arr, (size_t)ncap * elem);

		if (!p)
			return NULL;
		*arr = p;
		*cap = ncap;
	}
	memset((uint8_t *)*arr + (size_t)*num * elem, 0, elem);
	return (uint8_t *)*arr + (size_t)(*num)++ * elem;
}

/* Append a zeroed item to a parsed script (which owns its items array; *cap is the array's capacity). */
static struct ota_rapdu_cmd_item *cmd_item_add(struct ota_rapdu_cmd_script *s, unsigned int *cap)
{
	void *arr = s->items;
	struct ota_rapdu_cmd_item *it = grow(s, &arr, &s->num_items, cap, sizeof(*it));

	s->items = arr;
	return it;
}

static struct ota_rapdu_resp_item *resp_item_add(struct ota_rapdu_resp_script *s, unsigned int *cap)
{
	void *arr = s->items;
	struct ota_rapdu_resp_item *it = grow(s, &arr, &s->num_items, cap, sizeof(*it));

	s->items = arr;
	return it;
}

int ota_rapdu_cmd_parse(void *ctx, const uint8_t *buf, size_t len, struct ota_rapdu_cmd_script **out)
{
	struct ota_rapdu_cmd_script *s;
	unsigned int cap = 0;
	size_t off, end;
	int rc;

	if (!out)
		return -EINVAL;
	s = talloc_zero(ctx, struct ota_rapdu_cmd_script);
	if (!s)
		return -ENOMEM;
	rc = template_open(buf, len, OTA_RAPDU_TAG_CMD_SCRIPT_DEF, OTA_RAPDU_TAG_CMD_SCRIPT_INDEF, &s->format, &off,
			   &end);
	if (rc < 0)
		goto err;

	for (;;) {
		struct ota_rapdu_cmd_item *it;
		struct ota_tlv t;

		rc = template_next(buf, &off, end, s->format, &t);
		if (rc < 0)
			goto err;
		if (rc == 1)
			break;

		switch (t.tag) {
		case OTA_RAPDU_TAG_SCRIPT_CHAINING:
			/* TS 102 226 §5.2.1.1: one chaining TLV, as the first TLV of the script */
			if (s->num_items || s->chaining != OTA_RAPDU_CHAIN_NONE || t.len != 1 ||
			    !chain_valid(t.val[0])) {
				rc = -EBADMSG;
				goto err;
			}
			s->chaining = t.val[0];
			continue;
		case OTA_RAPDU_TAG_CAPDU:
			if (ota_rapdu_apdu_check(t.val, t.len) < 0) {
				rc = -EBADMSG;
				goto err;
			}
			break;
		case OTA_RAPDU_TAG_IMMEDIATE_ACTION:
		case OTA_RAPDU_TAG_ERROR_ACTION:
			break;
		default:
			rc = -EBADMSG;	/* unknown tag */
			goto err;
		}
		it = cmd_item_add(s, &cap);
		if (!it) {
			rc = -ENOMEM;
			goto err;
		}
		it->type = t.tag;
		it->data = t.val;
		it->len = t.len;
	}
	*out = s;
	return 0;
err:
	talloc_free(s);
	return rc;
}

/* The compact format (TS 102 226 §5.1) does not say which byte P3 is, so a parser must know the command case.
 * We treat these case 2 instructions as "P3 = Le, no data" and everything else as "P3 = Lc, data follows"
 * (our rule, not a quote of the spec). */
static bool compact_is_case2(uint8_t ins)
{
	return ins == 0xC0 || ins == 0xCA || ins == 0xB0 || ins == 0xB2;
}

int ota_rapdu_cmd_parse_compact(void *ctx, const uint8_t *buf, size_t len, struct ota_rapdu_cmd_script **out)
{
	struct ota_rapdu_cmd_script *s;
	unsigned int cap = 0;
	size_t off = 0;
	int rc;

	if (!out)
		return -EINVAL;
	if (!buf || len == 0)
		return -EBADMSG;
	s = talloc_zero(ctx, struct ota_rapdu_cmd_script);
	if (!s)
		return -ENOMEM;
	s->format = OTA_RAPDU_FMT_COMPACT;
	while (off < len) {
		struct ota_rapdu_cmd_item *it;
		size_t alen;

		if (len - off < 5) {
			rc = -EBADMSG;
			goto err;
		}
		alen = 5;
		if (!compact_is_case2(buf[off + 1]))
			alen += buf[off + 4];
		if (alen > len - off) {
			rc = -EMSGSIZE;
			goto err;
		}
		it = cmd_item_add(s, &cap);
		if (!it) {
			rc = -ENOMEM;
			goto err;
		}
		it->type = OTA_RAPDU_CITEM_CAPDU;
		it->data = buf + off;
		it->len = alen;
		off += alen;
	}
	*out = s;
	return 0;
err:
	talloc_free(s);
	return rc;
}

/* ------------------------------------------------------------------------------------------------------------
 * Response scripts
 * ------------------------------------------------------------------------------------------------------------ */

int ota_rapdu_resp_build(void *ctx, const struct ota_rapdu_resp_script *script, uint8_t **out, size_t *out_len)
{
	struct ota_wbuf c = { .ctx = ctx };
	unsigned int i;
	int rc;

	if (!script || !out || !out_len || (script->num_items && !script->items))
		return -EINVAL;

	if (script->format == OTA_RAPDU_FMT_COMPACT) {
		const struct ota_rapdu_resp_item *it = script->items;
		uint8_t hdr[3];

		if (script->num_items != 1 || it->type != OTA_RAPDU_RITEM_RAPDU || (it->len && !it->data))
			return -EINVAL;
		hdr[0] = script->num_executed;
		hdr[1] = it->sw >> 8;
		hdr[2] = it->sw & 0xFF;
		if ((rc = ota_wb_put(&c, hdr, 3)) < 0 || (rc = ota_wb_put(&c, it->data, it->len)) < 0)
			goto err;
		*out = c.data;
		*out_len = c.len;
		return 0;
	}
	if (script->format != OTA_RAPDU_FMT_DEFINITE && script->format != OTA_RAPDU_FMT_INDEFINITE)
		return -EINVAL;

	/* TS 102 226 §5.2.2: number of executed command TLVs first (optional in the indefinite form) */
	if ((script->format == OTA_RAPDU_FMT_DEFINITE || script->has_num_executed) &&
	    (rc = ota_wb_tlv(&c, OTA_RAPDU_TAG_NUM_EXECUTED, &script->num_executed, 1)) < 0)
		goto err;
	for (i = 0; i < script->num_items; i++) {
		const struct ota_rapdu_resp_item *it = &script->items[i];
		uint8_t b;

		if (it->len && !it->data) {
			rc = -EINVAL;
			goto err;
		}
		switch (it->type) {
		case OTA_RAPDU_RITEM_RAPDU:
			if (it->len > OTA_RAPDU_MAX_LEN - 2) {
				rc = -EMSGSIZE;
				goto err;
			}
			if ((rc = ota_wb_byte(&c, OTA_RAPDU_TAG_RAPDU)) < 0 || (rc = ota_wb_len(&c, it->len + 2)) < 0 ||
			    (rc = ota_wb_put(&c, it->data, it->len)) < 0 || (rc = ota_wb_byte(&c, it->sw >> 8)) < 0 ||
			    (rc = ota_wb_byte(&c, it->sw & 0xFF)) < 0)
				goto err;
			break;
		case OTA_RAPDU_RITEM_IMMEDIATE_ACTION:
			if ((rc = ota_wb_tlv(&c, OTA_RAPDU_TAG_IMMEDIATE_ACTION, it->data, it->len)) < 0)
				goto err;
			break;
		case OTA_RAPDU_RITEM_SCRIPT_CHAINING:
		case OTA_RAPDU_RITEM_BAD_FORMAT:
			b = it->code;
			if ((rc = ota_wb_tlv(&c, it->type, &b, 1)) < 0)
				goto err;
			break;
		default:
			rc = -EINVAL;
			goto err;
		}
	}
	rc = wrap_template(ctx, &c, script->format, OTA_RAPDU_TAG_RSP_SCRIPT_DEF, OTA_RAPDU_TAG_RSP_SCRIPT_INDEF,
			   out, out_len);
err:
	talloc_free(c.data);
	return rc;
}

int ota_rapdu_resp_parse(void *ctx, const uint8_t *buf, size_t len, struct ota_rapdu_resp_script **out)
{
	struct ota_rapdu_resp_script *s;
	unsigned int cap = 0, n_rapdu = 0;
	bool first = true;
	size_t off, end;
	int rc;

	if (!out)
		return -EINVAL;
	s = talloc_zero(ctx, struct ota_rapdu_resp_script);
	if (!s)
		return -ENOMEM;
	rc = template_open(buf, len, OTA_RAPDU_TAG_RSP_SCRIPT_DEF, OTA_RAPDU_TAG_RSP_SCRIPT_INDEF, &s->format, &off,
			   &end);
	if (rc < 0)
		goto err;

	for (;;) {
		struct ota_rapdu_resp_item *it;
		struct ota_tlv t;

		rc = template_next(buf, &off, end, s->format, &t);
		if (rc < 0)
			goto err;
		if (rc == 1)
			break;

		if (first && t.tag == OTA_RAPDU_TAG_NUM_EXECUTED) {
			/* TS 102 226 §5.2.2: the number of executed commands comes first */
			if (t.len != 1) {
				rc = -EBADMSG;
				goto err;
			}
			s->num_executed = t.val[0];
			s->has_num_executed = true;
			first = false;
			continue;
		}
		if (first && s->format == OTA_RAPDU_FMT_DEFINITE) {
			rc = -EBADMSG;	/* mandatory in the definite form */
			goto err;
		}
		first = false;
		switch (t.tag) {
		case OTA_RAPDU_TAG_RAPDU:
			if (t.len < 2) {
				rc = -EBADMSG;
				goto err;
			}
			n_rapdu++;
			break;
		case OTA_RAPDU_TAG_SCRIPT_CHAINING:
		case OTA_RAPDU_TAG_BAD_FORMAT:
			if (t.len != 1) {
				rc = -EBADMSG;
				goto err;
			}
			break;
		case OTA_RAPDU_TAG_IMMEDIATE_ACTION:
			break;
		default:
			rc = -EBADMSG;	/* unknown tag, or a second "80" */
			goto err;
		}
		it = resp_item_add(s, &cap);
		if (!it) {
			rc = -ENOMEM;
			goto err;
		}
		it->type = t.tag;
		switch (t.tag) {
		case OTA_RAPDU_TAG_RAPDU:
			it->data = t.val;
			it->len = t.len - 2;
			it->sw = (t.val[t.len - 2] << 8) | t.val[t.len - 1];
			break;
		case OTA_RAPDU_TAG_SCRIPT_CHAINING:
		case OTA_RAPDU_TAG_BAD_FORMAT:
			it->code = t.val[0];
			break;
		default:
			it->data = t.val;
			it->len = t.len;
			break;
		}
	}
	if (s->format == OTA_RAPDU_FMT_DEFINITE && !s->has_num_executed) {
		rc = -EBADMSG;	/* empty definite template */
		goto err;
	}
	if (!s->has_num_executed)
		s->num_executed = n_rapdu > 0xFF ? 0xFF : n_rapdu;
	*out = s;
	return 0;
err:
	talloc_free(s);
	return rc;
}

int ota_rapdu_resp_parse_compact(void *ctx, const uint8_t *buf, size_t len, struct ota_rapdu_resp_script **out)
{
	struct ota_rapdu_resp_script *s;

	if (!out)
		return -EINVAL;
	if (!buf || len < 3)
		return -EBADMSG;
	s = talloc_zero(ctx, struct ota_rapdu_resp_script);
	if (!s)
		return -ENOMEM;
	s->items = talloc_zero(s, struct ota_rapdu_resp_item);
	if (!s->items) {
		talloc_free(s);
		return -ENOMEM;
	}
	s->format = OTA_RAPDU_FMT_COMPACT;
	s->has_num_executed = true;
	s->num_executed = buf[0];
	s->num_items = 1;
	s->items[0].type = OTA_RAPDU_RITEM_RAPDU;
	s->items[0].sw = (buf[1] << 8) | buf[2];
	s->items[0].data = buf + 3;
	s->items[0].len = len - 3;
	*out = s;
	return 0;
}

int ota_rapdu_resp_last_sw(const struct ota_rapdu_resp_script *script, uint16_t *sw)
{
	unsigned int i;

	if (!script || !sw)
		return -EINVAL;
	for (i = script->num_items; i > 0; i--) {
		if (script->items[i - 1].type == OTA_RAPDU_RITEM_RAPDU) {
			*sw = script->items[i - 1].sw;
			return 0;
		}
	}
	return -ENOENT;
}

const char *ota_rapdu_chain_name(enum ota_rapdu_chain chain)
{
	switch (chain) {
	case OTA_RAPDU_CHAIN_NONE:
		return "none";
	case OTA_RAPDU_CHAIN_FIRST:
		return "first";
	case OTA_RAPDU_CHAIN_FIRST_KEEP:
		return "first-keep-at-reset";
	case OTA_RAPDU_CHAIN_NEXT:
		return "next";
	case OTA_RAPDU_CHAIN_LAST:
		return "last";
	}
	return "unknown";
}

const char *ota_rapdu_chain_resp_name(uint8_t value)
{
	switch (value) {
	case OTA_RAPDU_CHAIN_RESP_NO_PREVIOUS:
		return "no-previous-script";
	case OTA_RAPDU_CHAIN_RESP_NOT_SUPPORTED:
		return "not-supported";
	case OTA_RAPDU_CHAIN_RESP_UNABLE:
		return "unable-to-process";
	}
	return "unknown";
}

const char *ota_rapdu_bad_format_name(uint8_t value)
{
	switch (value) {
	case OTA_RAPDU_BAD_FMT_UNKNOWN_TAG:
		return "unknown-tag";
	case OTA_RAPDU_BAD_FMT_WRONG_LENGTH:
		return "wrong-length";
	case OTA_RAPDU_BAD_FMT_LENGTH_NOT_FOUND:
		return "length-not-found";
	}
	return "unknown";
}
