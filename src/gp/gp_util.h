/*! \file gp_util.h
 * Internal to libgp: the small fixed-buffer BER-TLV reader and writer used by ecka.c, gpcert.c and scp03t.c
 * (ISO/IEC 7816-4 §5.2 / GP Card Spec Annex B: tags of up to 3 bytes, definite lengths of up to 3 length bytes).
 * The general codec with builders is bertlv.h; these helpers only read one TLV or write into a buffer the caller
 * has already sized. Not installed, not part of the public API.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*! One TLV read from a buffer; val points into it. */
struct gp_util_tlv {
	uint32_t tag;
	const uint8_t *val;
	size_t len;
	size_t total;	/*!< header + value */
};

/*! Read the BER length at buf[i] (the tag is buf[0..i-1], already in t->tag) and fill the rest of t.
 *  \returns 0, -EBADMSG (truncated, indefinite or more than 3 length bytes) or -EMSGSIZE (value runs past len) */
int gp_util_tlv_finish(const uint8_t *buf, size_t len, size_t i, struct gp_util_tlv *t);

/*! Read the first TLV of buf (tag of 1..3 bytes).
 *  \returns 0, -EBADMSG (truncated or malformed header) or -EMSGSIZE (value runs past len) */
int gp_util_tlv_next(const uint8_t *buf, size_t len, struct gp_util_tlv *t);

/*! Size of a tag (1..3 bytes) plus its definite length field. */
size_t gp_util_hdr_size(uint32_t tag, size_t len);

/*! Size of a whole TLV. */
size_t gp_util_tlv_size(uint32_t tag, size_t len);

/*! Write tag and definite length at p (the caller sized the buffer with gp_util_hdr_size()).
 *  \returns the position of the value */
uint8_t *gp_util_put_hdr(uint8_t *p, uint32_t tag, size_t len);

/*! Write a whole TLV at p (sized with gp_util_tlv_size()). \returns the position after it */
uint8_t *gp_util_put_tlv(uint8_t *p, uint32_t tag, const uint8_t *val, size_t len);
