/*! \file gp_util.c
 * Internal to libgp: one-TLV BER reader and fixed-buffer writer shared by ecka.c, gpcert.c and scp03t.c
 * (see gp_util.h).
 */
#include <errno.h>
#include <string.h>

#include "gp_util.h"

int gp_util_tlv_finish(const uint8_t *buf, size_t len, size_t i, struct gp_util_tlv *t)
{
	size_t n, l = 0;

	if (i >= len)
		return -EBADMSG;
	if (buf[i] < 0x80) {
		l = buf[i++];
	} else {
		n = buf[i++] & 0x7F;
		if (n == 0 || n > 3 || i + n > len)
			return -EBADMSG;	/* indefinite length, absurd size or truncated */
		while (n--)
			l = (l << 8) | buf[i++];
	}
	if (l > len - i)
		return -EMSGSIZE;
	t->val = buf + i;
	t->len = l;
	t->total = i + l;
	return 0;
}

int gp_util_tlv_next(const uint8_t *buf, size_t len, struct gp_util_tlv *t)
{
	size_t i = 0;

	if (!buf || len < 2)
		return -EBADMSG;
	t->tag = buf[i++];
	if ((t->tag & 0x1F) == 0x1F) {
		/* subsequent tag bytes while b8 is set; at most 3 tag bytes */
		do {
			if (i >= len || i > 2)
				return -EBADMSG;
			t->tag = (t->tag << 8) | buf[i];
		} while (buf[i++] & 0x80);
	}
	return gp_util_tlv_finish(buf, len, i, t);
}

static size_t len_size(size_t len)
{
	return len < 0x80 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 4;
}

static size_t tag_size(uint32_t tag)
{
	return tag > 0xFFFF ? 3 : tag > 0xFF ? 2 : 1;
}

size_t gp_util_hdr_size(uint32_t tag, size_t len)
{
	return tag_size(tag) + len_size(len);
}

size_t gp_util_tlv_size(uint32_t tag, size_t len)
{
	return gp_util_hdr_size(tag, len) + len;
}

uint8_t *gp_util_put_hdr(uint8_t *p, uint32_t tag, size_t len)
{
	if (tag > 0xFFFF)
		*p++ = tag >> 16;
	if (tag > 0xFF)
		*p++ = tag >> 8;
	*p++ = tag;
	if (len < 0x80) {
		*p++ = len;
	} else if (len < 0x100) {
		*p++ = 0x81;
		*p++ = len;
	} else if (len < 0x10000) {
		*p++ = 0x82;
		*p++ = len >> 8;
		*p++ = len;
	} else {
		*p++ = 0x83;
		*p++ = len >> 16;
		*p++ = len >> 8;
		*p++ = len;
	}
	return p;
}

uint8_t *gp_util_put_tlv(uint8_t *p, uint32_t tag, const uint8_t *val, size_t len)
{
	p = gp_util_put_hdr(p, tag, len);
	if (len)
		memcpy(p, val, len);
	return p + len;
}
