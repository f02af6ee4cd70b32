/*! \file ota_buf.c
 * Internal to libota: TLV reader and growable output buffer used by rapdu.c and scp81.c (see ota_buf.h).
 */
#include <errno.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/ota/rapdu.h>

#include "ota_buf.h"

int ota_tlv_read(const uint8_t *buf, size_t end, size_t *off, struct ota_tlv *t)
{
	size_t l, hdr;
	int rc;

	if (*off >= end)
		return -EBADMSG;
	t->tag = buf[*off];
	rc = ota_rapdu_len_decode(buf + *off + 1, end - *off - 1, &l);
	if (rc < 0)
		return rc;
	hdr = 1 + rc;
	if (l > end - *off - hdr)
		return -EMSGSIZE;
	t->val = buf + *off + hdr;
	t->len = l;
	*off += hdr + l;
	return 0;
}

/* Make room for n more bytes, doubling the capacity from 64 */
static int wb_reserve(struct ota_wbuf *w, size_t n)
{
	size_t ncap;
	uint8_t *p;

	if (w->len + n <= w->cap)
		return 0;
	ncap = w->cap ? w->cap : 64;
	while (ncap < w->len + n)
		ncap *= 2;
	p = talloc_realloc_size(w->ctx, w->data, ncap);
	if (!p)
		return -ENOMEM;
	w->data = p;
	w->cap = ncap;
	return 0;
}

int ota_wb_put(struct ota_wbuf *w, const void *d, size_t n)
{
	int rc = wb_reserve(w, n);

	if (rc < 0)
		return rc;
	if (n)
		memcpy(w->data + w->len, d, n);
	w->len += n;
	return 0;
}

int ota_wb_byte(struct ota_wbuf *w, uint8_t b)
{
	return ota_wb_put(w, &b, 1);
}

int ota_wb_len(struct ota_wbuf *w, size_t len)
{
	uint8_t l[3];
	int n = ota_rapdu_len_encode(l, sizeof(l), len);

	if (n < 0)
		return n;
	return ota_wb_put(w, l, n);
}

int ota_wb_tlv(struct ota_wbuf *w, uint8_t tag, const void *v, size_t n)
{
	uint8_t hdr[4];
	int l;

	if (n && !v)
		return -EINVAL;
	hdr[0] = tag;
	l = ota_rapdu_len_encode(hdr + 1, sizeof(hdr) - 1, n);
	if (l < 0)
		return l;
	if ((l = ota_wb_put(w, hdr, 1 + l)) < 0)
		return l;
	return ota_wb_put(w, v, n);
}
