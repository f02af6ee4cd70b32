/*! \file ota_buf.h
 * Internal to libota: single-byte-tag TLV reader and a growable talloc output buffer, shared by the Remote APDU
 * script codec (rapdu.c, ETSI TS 102 226 §5.2) and the SCP81 triggering parameters (scp81.c, GP Amd B §2.4).
 * Lengths use the BER forms of rapdu.h (short, 81, 82). Not installed, not part of the public API.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/*! One TLV with a single-byte tag; val points into the buffer it was read from. */
struct ota_tlv {
	uint8_t tag;
	const uint8_t *val;
	size_t len;
};

/*! Read one TLV at buf[*off], not reaching beyond buf[end - 1], and advance *off past it.
 *  \returns 0, -EBADMSG (truncated header or unsupported length form) or -EMSGSIZE (value runs past end) */
int ota_tlv_read(const uint8_t *buf, size_t end, size_t *off, struct ota_tlv *t);

/*! A growable output buffer; data is a talloc child of ctx (NULL until the first byte is written). */
struct ota_wbuf {
	void *ctx;
	uint8_t *data;
	size_t len, cap;
};

/*! Append n bytes of d (d may be NULL when n is 0). \returns 0 or -ENOMEM */
int ota_wb_put(struct ota_wbuf *w, const void *d, size_t n);

/*! Append one byte. \returns 0 or -ENOMEM */
int ota_wb_byte(struct ota_wbuf *w, uint8_t b);

/*! Append a BER length field. \returns 0, -EMSGSIZE (len > OTA_RAPDU_MAX_LEN) or -ENOMEM */
int ota_wb_len(struct ota_wbuf *w, size_t len);

/*! Append tag, BER length and value. \returns 0, -EINVAL (n > 0 without v), -EMSGSIZE or -ENOMEM */
int ota_wb_tlv(struct ota_wbuf *w, uint8_t tag, const void *v, size_t n);
