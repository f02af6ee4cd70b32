/*! \file bertlv.h
 * BER-TLV codec (ISO/IEC 8825-1 as profiled by ISO/IEC 7816-4 §5.2 and GP Card Spec Annex B):
 * tags of 1..4 bytes, definite lengths in short form or long form 81/82/83/84, strict bounds checks,
 * sibling iteration, lookup by tag path, a builder for nested TLVs and a splice helper that replaces
 * one nested value and recomputes every enclosing length (DER re-encoding).
 *
 * Error convention (all functions): truncated or malformed input -> -EBADMSG; a declared length that
 * runs past the end of the enclosing buffer, or an output buffer too small -> -EMSGSIZE; indefinite
 * length, tags longer than 4 bytes or lengths longer than 4 bytes -> -ENOTSUP; nesting deeper than
 * the caller's limit -> -ELOOP; bad caller argument -> -EINVAL; tag not present -> -ENOENT.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! Default nesting limit used by the validators and the builder. */
#define GP_TLV_MAX_DEPTH 32

/*! Tag class bits (first tag byte, b8..b7). */
#define GP_TLV_CLASS_UNIVERSAL	0x00
#define GP_TLV_CLASS_APPLICATION 0x40
#define GP_TLV_CLASS_CONTEXT	0x80
#define GP_TLV_CLASS_PRIVATE	0xC0

/*! One decoded TLV. Pointers refer into the parsed buffer; nothing is allocated. */
struct gp_tlv {
	uint32_t tag;		/*!< tag bytes as a big-endian number, e.g. 0x4F, 0x9F70, 0xBF30 */
	uint8_t tag_len;	/*!< number of tag bytes (1..4) */
	uint8_t len_len;	/*!< number of length bytes (1..5) */
	uint8_t cls;		/*!< GP_TLV_CLASS_* */
	bool constructed;	/*!< b6 of the first tag byte */
	bool der_len;		/*!< length is in minimal (DER) form */
	const uint8_t *tlv;	/*!< start of the tag */
	const uint8_t *val;	/*!< start of the value */
	size_t len;		/*!< value length */
	size_t total;		/*!< tag + length + value bytes */
};

/*! Decode the tag at buf. \param[out] tag big-endian tag number \param[out] tag_len bytes used.
 *  \returns 0; -EBADMSG if truncated or empty; -ENOTSUP if the tag is longer than 4 bytes. */
int gp_tlv_decode_tag(const uint8_t *buf, size_t len, uint32_t *tag, uint8_t *tag_len);

/*! Parse one TLV at the start of buf; its value must fit in buf.
 *  \returns total encoded length (> 0); -EBADMSG if the header is truncated or malformed (first tag
 *  byte 00, a tag continuation byte 80, length byte FF); -EMSGSIZE if the value runs past len;
 *  -ENOTSUP for indefinite length (80), more than 4 length bytes or a tag longer than 4 bytes. */
int gp_tlv_parse(const uint8_t *buf, size_t len, struct gp_tlv *tlv);

/*! Iterate siblings: parse the TLV at buf[*off] and advance *off past it.
 *  Skips nothing: padding bytes 00/FF between TLVs are NOT accepted (they are errors here).
 *  \returns 1 when a TLV was returned, 0 at the end of buf, or a negative errno as gp_tlv_parse(). */
int gp_tlv_next(const uint8_t *buf, size_t len, size_t *off, struct gp_tlv *tlv);

/*! Find the n-th (0-based) sibling with the given tag among the TLVs of buf.
 *  \returns 0 and fills *out; -ENOENT if absent; negative errno on malformed siblings before it. */
int gp_tlv_find_nth(const uint8_t *buf, size_t len, uint32_t tag, unsigned int n, struct gp_tlv *out);

/*! Find the first sibling with the given tag. \returns as gp_tlv_find_nth(). */
int gp_tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct gp_tlv *out);

/*! Descend a path of tags: path[0] among the siblings of buf, path[1] inside its value, etc.
 *  \param offs if not NULL, receives for each level the offset (from buf) of that TLV's first byte.
 *  \returns 0; -ENOENT if some element is absent; -EBADMSG if an intermediate element is primitive;
 *  negative errno from parsing. */
int gp_tlv_find_path(const uint8_t *buf, size_t len, const uint32_t *path, unsigned int n, struct gp_tlv *out,
		     size_t *offs);

/*! Check that buf is a sequence of well-formed TLVs and that the value of every constructed TLV is
 *  itself exactly a sequence of TLVs, recursively.
 *  \param der also require minimal length encodings.
 *  \param max_depth nesting limit (1 = only the top level is parsed).
 *  \returns number of TLVs seen (>= 0); -EBADMSG/-EMSGSIZE/-ENOTSUP as gp_tlv_parse(); -EBADMSG for a
 *  non-minimal length when der is set; -ELOOP if nested deeper than max_depth. */
int gp_tlv_validate(const uint8_t *buf, size_t len, bool der, unsigned int max_depth);

/*! Number of bytes needed to encode a tag (1..4). */
unsigned int gp_tlv_tag_size(uint32_t tag);
/*! Number of bytes of the minimal (DER) length encoding of len (1..5). */
unsigned int gp_tlv_len_size(size_t len);
/*! Write the minimal length encoding of len. \returns bytes written or -EMSGSIZE. */
int gp_tlv_encode_len(uint8_t *out, size_t out_size, size_t len);
/*! Write a tag. \returns bytes written or -EMSGSIZE; -EINVAL for tag 0. */
int gp_tlv_encode_tag(uint8_t *out, size_t out_size, uint32_t tag);
/*! Write tag, minimal length and value (val may alias nothing in out).
 *  \returns total bytes written, -EMSGSIZE if out is too small, -EINVAL for tag 0 or val NULL with len. */
int gp_tlv_encode(uint8_t *out, size_t out_size, uint32_t tag, const uint8_t *val, size_t len);

/*! Incremental builder of nested TLVs in a talloc'd, growing buffer. Errors are sticky: after the
 *  first failure every call returns the same error and gp_tlv_builder_finish() reports it. */
struct gp_tlv_builder {
	uint8_t *data;		/*!< talloc'd buffer */
	size_t len;		/*!< bytes used */
	size_t open[GP_TLV_MAX_DEPTH];	/*!< value start offsets of the open constructed TLVs */
	uint8_t open_hdr[GP_TLV_MAX_DEPTH];	/*!< bytes reserved for each open TLV's length */
	unsigned int depth;	/*!< number of open constructed TLVs */
	int err;		/*!< first error, 0 if none */
};

/*! Start a builder; its buffer is a talloc child of ctx. \returns 0 or -ENOMEM/-EINVAL. */
int gp_tlv_builder_init(struct gp_tlv_builder *b, void *ctx);
/*! Append raw bytes. \returns 0 or sticky negative errno. */
int gp_tlv_put_raw(struct gp_tlv_builder *b, const uint8_t *data, size_t len);
/*! Append a complete TLV. \returns 0 or sticky negative errno. */
int gp_tlv_put(struct gp_tlv_builder *b, uint32_t tag, const uint8_t *val, size_t len);
/*! Append a TLV whose value is an unsigned big-endian integer in the fewest bytes (at least 1). */
int gp_tlv_put_uint(struct gp_tlv_builder *b, uint32_t tag, uint32_t v);
/*! Open a constructed TLV; everything appended until gp_tlv_close() becomes its value.
 *  \returns 0, -ELOOP beyond GP_TLV_MAX_DEPTH, or sticky errno. */
int gp_tlv_open(struct gp_tlv_builder *b, uint32_t tag);
/*! Close the innermost open TLV and write its minimal length. \returns 0, -EINVAL if none open. */
int gp_tlv_close(struct gp_tlv_builder *b);
/*! Finish: all TLVs must be closed. \returns encoded length (>= 0) or the sticky negative errno. */
int gp_tlv_builder_finish(struct gp_tlv_builder *b);

/*! Re-encode a sequence of BER-TLVs with minimal (DER) lengths, recursing into constructed TLVs up to
 *  max_depth levels. Tags and primitive values are copied unchanged.
 *  \param[out] out talloc'd on ctx \param[out] out_len its length.
 *  \returns 0; parse errors as gp_tlv_validate() (-ELOOP beyond max_depth); -ENOMEM; -EINVAL. */
int gp_tlv_to_der(void *ctx, const uint8_t *buf, size_t len, unsigned int max_depth, uint8_t **out, size_t *out_len);

/*! Replace the value of a nested TLV and re-encode the lengths of all enclosing TLVs.
 *  \param offs offsets (from buf) of the TLV chain, outermost first, as filled by gp_tlv_find_path();
 *  offs[depth-1] is the TLV whose value is replaced; each must lie inside the previous one's value.
 *  A length whose value does not change keeps its original encoding, so replacing a value by one of
 *  the same size changes no other byte. Changed lengths are written in minimal form.
 *  \param[out] out talloc'd result on ctx \param[out] out_len its length.
 *  \returns 0; -EINVAL for bad arguments or an inconsistent chain; parse errors as gp_tlv_parse();
 *  -ENOMEM. */
int gp_tlv_splice(void *ctx, const uint8_t *buf, size_t len, const size_t *offs, unsigned int depth,
		  const uint8_t *val, size_t val_len, uint8_t **out, size_t *out_len);
