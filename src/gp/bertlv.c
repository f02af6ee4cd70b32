/*! \file bertlv.c
 * BER-TLV decoding and encoding (ISO/IEC 8825-1 §8.1, ISO/IEC 7816-4 §5.2, GP Card Spec Annex B).
 * Only definite lengths are supported; DER (minimal) lengths are produced by every encoder.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/gp/bertlv.h>

int gp_tlv_decode_tag(const uint8_t *buf, size_t len, uint32_t *tag, uint8_t *tag_len)
{
	uint32_t t;
	size_t i;

	if (!buf || len < 1)
		return -EBADMSG;
	/* ISO/IEC 7816-4 §5.2: 00 is not a valid first tag byte (it is padding / end-of-contents) */
	if (buf[0] == 0x00)
		return -EBADMSG;
	t = buf[0];
	if ((buf[0] & 0x1f) != 0x1f) {
		*tag = t;
		*tag_len = 1;
		return 0;
	}
	/* X.690 §8.1.2.4: subsequent bytes carry 7 bits each, b8 set on all but the last;
	 * the first subsequent byte must not be 80 (leading zero bits) */
	for (i = 1; ; i++) {
		if (i >= len)
			return -EBADMSG;
		if (i >= 4)
			return -ENOTSUP;
		if (i == 1 && buf[i] == 0x80)
			return -EBADMSG;
		t = (t << 8) | buf[i];
		if (!(buf[i] & 0x80))
			break;
	}
	*tag = t;
	*tag_len = i + 1;
	return 0;
}

int gp_tlv_parse(const uint8_t *buf, size_t len, struct gp_tlv *tlv)
{
	uint32_t tag;
	uint8_t tag_len;
	size_t pos, vlen, nlen, i;
	int rc;

	if (!tlv)
		return -EINVAL;
	rc = gp_tlv_decode_tag(buf, len, &tag, &tag_len);
	if (rc < 0)
		return rc;
	pos = tag_len;
	if (pos >= len)
		return -EBADMSG;

	/* X.690 §8.1.3: short form 00..7F, long form 81..84 followed by that many bytes */
	if (buf[pos] < 0x80) {
		vlen = buf[pos];
		nlen = 0;
		tlv->der_len = true;
	} else if (buf[pos] == 0x80) {
		return -ENOTSUP;	/* indefinite form: never valid in DER / GP */
	} else if (buf[pos] == 0xff) {
		return -EBADMSG;	/* X.690 §8.1.3.5 c): reserved */
	} else {
		nlen = buf[pos] & 0x7f;
		if (nlen > 4)
			return -ENOTSUP;
		if (pos + 1 + nlen > len)
			return -EBADMSG;
		vlen = 0;
		for (i = 0; i < nlen; i++)
			vlen = (vlen << 8) | buf[pos + 1 + i];
		/* DER: long form only for >= 128 and without leading zero bytes */
		tlv->der_len = vlen >= 0x80 && buf[pos + 1] != 0x00;
	}
	pos += 1 + nlen;
	if (vlen > len - pos)
		return -EMSGSIZE;
	if (pos + vlen > INT_MAX)
		return -EMSGSIZE;

	tlv->tag = tag;
	tlv->tag_len = tag_len;
	tlv->len_len = 1 + nlen;
	tlv->cls = buf[0] & 0xc0;
	tlv->constructed = !!(buf[0] & 0x20);
	tlv->tlv = buf;
	tlv->val = buf + pos;
	tlv->len = vlen;
	tlv->total = pos + vlen;
	return (int)tlv->total;
}

int gp_tlv_next(const uint8_t *buf, size_t len, size_t *off, struct gp_tlv *tlv)
{
	int rc;

	if (!off || !tlv || (!buf && len))
		return -EINVAL;
	if (*off >= len)
		return 0;
	rc = gp_tlv_parse(buf + *off, len - *off, tlv);
	if (rc < 0)
		return rc;
	*off += rc;
	return 1;
}

int gp_tlv_find_nth(const uint8_t *buf, size_t len, uint32_t tag, unsigned int n, struct gp_tlv *out)
{
	struct gp_tlv t;
	size_t off = 0;
	int rc;

	while ((rc = gp_tlv_next(buf, len, &off, &t)) > 0) {
		if (t.tag != tag)
			continue;
		if (n-- == 0) {
			if (out)
				*out = t;
			return 0;
		}
	}
	return rc < 0 ? rc : -ENOENT;
}

int gp_tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct gp_tlv *out)
{
	return gp_tlv_find_nth(buf, len, tag, 0, out);
}

int gp_tlv_find_path(const uint8_t *buf, size_t len, const uint32_t *path, unsigned int n, struct gp_tlv *out,
		     size_t *offs)
{
	const uint8_t *cur = buf;
	size_t cur_len = len;
	struct gp_tlv t;
	unsigned int i;
	int rc;

	if (!path || n == 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (i > 0) {
			if (!t.constructed)
				return -EBADMSG;
			cur = t.val;
			cur_len = t.len;
		}
		rc = gp_tlv_find(cur, cur_len, path[i], &t);
		if (rc < 0)
			return rc;
		if (offs)
			offs[i] = t.tlv - buf;
	}
	if (out)
		*out = t;
	return 0;
}

static int validate(const uint8_t *buf, size_t len, bool der, unsigned int depth_left)
{
	struct gp_tlv t;
	size_t off = 0;
	int rc, count = 0;

	if (depth_left == 0)
		return -ELOOP;
	while ((rc = gp_tlv_next(buf, len, &off, &t)) > 0) {
		if (der && !t.der_len)
			return -EBADMSG;
		count++;
		if (t.constructed && t.len) {
			rc = validate(t.val, t.len, der, depth_left - 1);
			if (rc < 0)
				return rc;
			if (count > INT_MAX - rc)
				return -EMSGSIZE;
			count += rc;
		}
	}
	return rc < 0 ? rc : count;
}

int gp_tlv_validate(const uint8_t *buf, size_t len, bool der, unsigned int max_depth)
{
	if (!buf && len)
		return -EINVAL;
	return validate(buf, len, der, max_depth);
}

unsigned int gp_tlv_tag_size(uint32_t tag)
{
	if (tag > 0xffffff)
		return 4;
	if (tag > 0xffff)
		return 3;
	if (tag > 0xff)
		return 2;
	return 1;
}

unsigned int gp_tlv_len_size(size_t len)
{
	if (len < 0x80)
		return 1;
	if (len <= 0xff)
		return 2;
	if (len <= 0xffff)
		return 3;
	if (len <= 0xffffff)
		return 4;
	return 5;
}

int gp_tlv_encode_len(uint8_t *out, size_t out_size, size_t len)
{
	unsigned int n = gp_tlv_len_size(len), i;

	if ((uint64_t)len > 0xffffffffULL)
		return -EINVAL;
	if (!out || out_size < n)
		return -EMSGSIZE;
	if (n == 1) {
		out[0] = len;
		return 1;
	}
	out[0] = 0x80 | (n - 1);
	for (i = 1; i < n; i++)
		out[i] = len >> (8 * (n - 1 - i));
	return n;
}

int gp_tlv_encode_tag(uint8_t *out, size_t out_size, uint32_t tag)
{
	unsigned int n = gp_tlv_tag_size(tag), i;

	if (tag == 0)
		return -EINVAL;
	if (!out || out_size < n)
		return -EMSGSIZE;
	for (i = 0; i < n; i++)
		out[i] = tag >> (8 * (n - 1 - i));
	return n;
}

int gp_tlv_encode(uint8_t *out, size_t out_size, uint32_t tag, const uint8_t *val, size_t len)
{
	int t, l;

	if (!val && len)
		return -EINVAL;
	t = gp_tlv_encode_tag(out, out_size, tag);
	if (t < 0)
		return t;
	l = gp_tlv_encode_len(out + t, out_size - t, len);
	if (l < 0)
		return l;
	if (out_size - t - l < len)
		return -EMSGSIZE;
	if (len)
		memcpy(out + t + l, val, len);
	if ((size_t)t + l + len > INT_MAX)
		return -EMSGSIZE;
	return t + l + len;
}

/* ---- builder ---- */

static int builder_reserve(struct gp_tlv_builder *b, size_t extra)
{
	size_t cap, need;
	uint8_t *n;

	if (b->err)
		return b->err;
	if (extra > INT_MAX - b->len) {
		b->err = -EMSGSIZE;
		return b->err;
	}
	need = b->len + extra;
	cap = talloc_get_size(b->data);
	if (need <= cap)
		return 0;
	while (cap < need)
		cap = cap ? cap * 2 : 64;
	n = talloc_realloc_size(talloc_parent(b->data), b->data, cap);
	if (!n) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->data = n;
	return 0;
}

int gp_tlv_builder_init(struct gp_tlv_builder *b, void *ctx)
{
	if (!b)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->data = talloc_size(ctx, 64);
	if (!b->data) {
		b->err = -ENOMEM;
		return b->err;
	}
	return 0;
}

int gp_tlv_put_raw(struct gp_tlv_builder *b, const uint8_t *data, size_t len)
{
	int rc;

	if (!b)
		return -EINVAL;
	if (!data && len)
		return b->err = b->err ? b->err : -EINVAL;
	rc = builder_reserve(b, len);
	if (rc < 0)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int gp_tlv_put(struct gp_tlv_builder *b, uint32_t tag, const uint8_t *val, size_t len)
{
	int rc;

	if (!b)
		return -EINVAL;
	if (tag == 0 || (!val && len) || len > 0xffffffffULL)
		return b->err = b->err ? b->err : -EINVAL;
	rc = builder_reserve(b, 4 + 5 + len);
	if (rc < 0)
		return rc;
	rc = gp_tlv_encode(b->data + b->len, talloc_get_size(b->data) - b->len, tag, val, len);
	if (rc < 0)
		return b->err = rc;
	b->len += rc;
	return 0;
}

int gp_tlv_put_uint(struct gp_tlv_builder *b, uint32_t tag, uint32_t v)
{
	uint8_t be[4];
	unsigned int n = 1, i;

	while (n < 4 && (v >> (8 * n)))
		n++;
	for (i = 0; i < n; i++)
		be[i] = v >> (8 * (n - 1 - i));
	return gp_tlv_put(b, tag, be, n);
}

int gp_tlv_open(struct gp_tlv_builder *b, uint32_t tag)
{
	int rc;

	if (!b)
		return -EINVAL;
	if (b->err)
		return b->err;
	if (tag == 0)
		return b->err = -EINVAL;
	if (b->depth >= GP_TLV_MAX_DEPTH)
		return b->err = -ELOOP;
	/* reserve one length byte; gp_tlv_close() moves the value if it needs more */
	rc = builder_reserve(b, 4 + 1);
	if (rc < 0)
		return rc;
	rc = gp_tlv_encode_tag(b->data + b->len, 4, tag);
	if (rc < 0)
		return b->err = rc;
	b->len += rc;
	b->data[b->len++] = 0;
	b->open_hdr[b->depth] = 1;
	b->open[b->depth++] = b->len;
	return 0;
}

int gp_tlv_close(struct gp_tlv_builder *b)
{
	size_t start, vlen;
	unsigned int need;
	int rc;

	if (!b)
		return -EINVAL;
	if (b->err)
		return b->err;
	if (b->depth == 0)
		return b->err = -EINVAL;
	start = b->open[--b->depth];
	vlen = b->len - start;
	need = gp_tlv_len_size(vlen);
	if (need > 1) {
		rc = builder_reserve(b, need - 1);
		if (rc < 0)
			return rc;
		memmove(b->data + start + need - 1, b->data + start, vlen);
		b->len += need - 1;
	}
	gp_tlv_encode_len(b->data + start - 1, need, vlen);
	return 0;
}

int gp_tlv_builder_finish(struct gp_tlv_builder *b)
{
	if (!b)
		return -EINVAL;
	if (b->err)
		return b->err;
	if (b->depth)
		return b->err = -EINVAL;
	if (b->len > INT_MAX)
		return b->err = -EMSGSIZE;
	return (int)b->len;
}

/* ---- DER re-encoding ---- */

static int to_der(struct gp_tlv_builder *b, const uint8_t *buf, size_t len, unsigned int depth_left)
{
	struct gp_tlv t;
	size_t off = 0;
	int rc;

	if (depth_left == 0)
		return -ELOOP;
	while ((rc = gp_tlv_next(buf, len, &off, &t)) > 0) {
		if (!t.constructed) {
			rc = gp_tlv_put(b, t.tag, t.val, t.len);
			if (rc < 0)
				return rc;
			continue;
		}
		rc = gp_tlv_open(b, t.tag);
		if (rc == -ELOOP)
			return -ELOOP;
		if (rc < 0)
			return rc;
		if (t.len) {
			rc = to_der(b, t.val, t.len, depth_left - 1);
			if (rc < 0)
				return rc;
		}
		rc = gp_tlv_close(b);
		if (rc < 0)
			return rc;
	}
	return rc;
}

int gp_tlv_to_der(void *ctx, const uint8_t *buf, size_t len, unsigned int max_depth, uint8_t **out, size_t *out_len)
{
	struct gp_tlv_builder b;
	int rc;

	if ((!buf && len) || !out || !out_len)
		return -EINVAL;
	if (max_depth > GP_TLV_MAX_DEPTH)
		max_depth = GP_TLV_MAX_DEPTH;
	rc = gp_tlv_builder_init(&b, ctx);
	if (rc < 0)
		return rc;
	rc = to_der(&b, buf, len, max_depth);
	if (rc == 0)
		rc = gp_tlv_builder_finish(&b);
	if (rc < 0) {
		talloc_free(b.data);
		return rc;
	}
	*out = b.data;
	*out_len = b.len;
	return 0;
}

/* ---- splice ---- */

int gp_tlv_splice(void *ctx, const uint8_t *buf, size_t len, const size_t *offs, unsigned int depth,
		  const uint8_t *val, size_t val_len, uint8_t **out, size_t *out_len)
{
	struct gp_tlv chain[GP_TLV_MAX_DEPTH];
	size_t newlen[GP_TLV_MAX_DEPTH];
	size_t total, limit_off, limit_len, pos;
	unsigned int i;
	uint8_t *o;
	int rc;

	if (!buf || !offs || depth == 0 || depth > GP_TLV_MAX_DEPTH || !out || !out_len || (!val && val_len))
		return -EINVAL;

	/* re-parse the chain and check that each TLV lies inside its parent's value */
	limit_off = 0;
	limit_len = len;
	for (i = 0; i < depth; i++) {
		if (offs[i] < limit_off || offs[i] >= limit_off + limit_len)
			return -EINVAL;
		rc = gp_tlv_parse(buf + offs[i], limit_off + limit_len - offs[i], &chain[i]);
		if (rc < 0)
			return rc;
		if (i + 1 < depth && !chain[i].constructed)
			return -EINVAL;
		limit_off = chain[i].val - buf;
		limit_len = chain[i].len;
	}

	/* new value lengths, innermost first */
	newlen[depth - 1] = val_len;
	for (i = depth - 1; i > 0; i--) {
		size_t child_old = chain[i].total;
		size_t child_new = chain[i].tag_len +
			    (newlen[i] == chain[i].len ? chain[i].len_len : gp_tlv_len_size(newlen[i])) + newlen[i];
		newlen[i - 1] = chain[i - 1].len - child_old + child_new;
	}
	total = len - chain[0].total + chain[0].tag_len +
		(newlen[0] == chain[0].len ? chain[0].len_len : gp_tlv_len_size(newlen[0])) + newlen[0];
	if (total > 0xffffffffULL)
		return -EMSGSIZE;

	o = talloc_size(ctx, total ? total : 1);
	if (!o)
		return -ENOMEM;

	/* bytes before the outermost TLV */
	memcpy(o, buf, offs[0]);
	pos = offs[0];
	for (i = 0; i < depth; i++) {
		const struct gp_tlv *t = &chain[i];

		memcpy(o + pos, t->tlv, t->tag_len);
		pos += t->tag_len;
		if (newlen[i] == t->len) {
			memcpy(o + pos, t->tlv + t->tag_len, t->len_len);
			pos += t->len_len;
		} else {
			pos += gp_tlv_encode_len(o + pos, total - pos, newlen[i]);
		}
		if (i + 1 < depth) {
			/* value bytes before the next chain element */
			size_t pre = chain[i + 1].tlv - t->val;

			memcpy(o + pos, t->val, pre);
			pos += pre;
		} else if (val_len) {
			memcpy(o + pos, val, val_len);
			pos += val_len;
		}
	}
	/* trailing bytes of each level, innermost first */
	for (i = depth - 1; i > 0; i--) {
		const uint8_t *child_end = chain[i].tlv + chain[i].total;
		const uint8_t *parent_end = chain[i - 1].val + chain[i - 1].len;

		memcpy(o + pos, child_end, parent_end - child_end);
		pos += parent_end - child_end;
	}
	memcpy(o + pos, chain[0].tlv + chain[0].total, len - offs[0] - chain[0].total);
	pos += len - offs[0] - chain[0].total;
	if (pos != total) {
		talloc_free(o);
		return -EINVAL;
	}
	*out = o;
	*out_len = total;
	return 0;
}
