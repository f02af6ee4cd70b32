/* libFuzzer target: BER-TLV parser, validator, path lookup, splice, and the GP response parsers.
 * Invariants checked (abort on violation): a DER-valid input re-encodes byte for byte; BER input
 * converts to DER with the same structure; splicing a value with itself reproduces the input; a
 * splice result is valid again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/gp/bertlv.h>
#include <sgp02/gp/gp_apdu.h>

static void check_reencode(const uint8_t *data, size_t size)
{
	struct gp_tlv t;
	size_t off = 0;
	uint8_t *buf = malloc(size + 16);

	if (!buf)
		return;
	while (gp_tlv_next(data, size, &off, &t) > 0) {
		int rc = gp_tlv_encode(buf, size + 16, t.tag, t.val, t.len);

		if (rc < 0 || (size_t)rc != t.total || memcmp(buf, t.tlv, t.total))
			abort();
	}
	free(buf);
}

/* follow the first child at every level and splice the innermost value */
static void check_splice(void *ctx, const uint8_t *data, size_t size, uint8_t extra)
{
	size_t offs[GP_TLV_MAX_DEPTH];
	unsigned int depth = 0;
	const uint8_t *cur = data;
	size_t cur_len = size;
	struct gp_tlv t;
	uint8_t *out, *val;
	size_t out_len;
	int before, after;

	while (depth < GP_TLV_MAX_DEPTH && gp_tlv_parse(cur, cur_len, &t) > 0) {
		offs[depth++] = t.tlv - data;
		if (!t.constructed || t.len == 0)
			break;
		cur = t.val;
		cur_len = t.len;
	}
	if (!depth)
		return;
	if (gp_tlv_splice(ctx, data, size, offs, depth, t.val, t.len, &out, &out_len) == 0) {
		if (out_len != size || memcmp(out, data, size))
			abort();
		talloc_free(out);
	}
	before = gp_tlv_validate(data, size, false, GP_TLV_MAX_DEPTH);
	if (before < 0 || t.constructed)
		return;
	/* a longer primitive value: still valid, same number of TLVs */
	val = malloc(t.len + 200);
	if (!val)
		return;
	memcpy(val, t.val, t.len);
	memset(val + t.len, extra, 200);
	if (gp_tlv_splice(ctx, data, size, offs, depth, val, t.len + 200, &out, &out_len) == 0) {
		after = gp_tlv_validate(out, out_len, false, GP_TLV_MAX_DEPTH);
		/* changed lengths are re-encoded minimally, so each level may lose up to 3 length bytes */
		if (after != before || out_len + 3 * depth < size + 200)
			abort();
		talloc_free(out);
	}
	free(val);
}

static void parse_responses(const uint8_t *data, size_t size)
{
	struct gp_isdp_status st[4];
	struct gp_notification nt;
	struct gp_card_resources res;
	uint8_t eid[16], aids[4][GP_AID_MAX];
	size_t lens[4];
	const uint8_t *d;
	size_t dl;
	uint16_t sw;
	int n;

	n = gp_parse_get_status(data, size, st, 4);
	if (n > 0 && (st[0].aid_len < 5 || st[0].aid_len > GP_AID_MAX))
		abort();
	if (gp_parse_notification(data, size, &nt) == 0 && nt.has_aid && (nt.aid_len < 5 || nt.aid_len > 16))
		abort();
	gp_parse_card_resources(data, size, &res);
	gp_parse_eid_response(data, size, eid);
	n = gp_parse_notification_confirm(data, size, aids, lens, 4);
	if (n > 0 && (lens[0] < 5 || lens[0] > GP_AID_MAX))
		abort();
	if (gp_rapdu_split(data, size, &d, &dl, &sw) == 0) {
		if (dl + 2 != size)
			abort();
		(void)gp_sw_name(sw);
		(void)gp_sw_to_errno(sw);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *ctx = talloc_named_const(NULL, 0, "fuzz_bertlv");
	uint32_t path[3] = { 0xE3, 0x4F, 0 };
	struct gp_tlv t;

	if (gp_tlv_validate(data, size, true, GP_TLV_MAX_DEPTH) >= 0)
		check_reencode(data, size);
	{
		/* BER -> DER normalisation keeps the structure and yields strict DER */
		int ber = gp_tlv_validate(data, size, false, GP_TLV_MAX_DEPTH);
		uint8_t *der;
		size_t der_len;
		int rc = gp_tlv_to_der(ctx, data, size, GP_TLV_MAX_DEPTH, &der, &der_len);

		if ((ber >= 0) != (rc == 0))
			abort();
		if (rc == 0 && (gp_tlv_validate(der, der_len, true, GP_TLV_MAX_DEPTH) != ber || der_len > size))
			abort();
	}
	gp_tlv_find_path(data, size, path, 2, &t, NULL);
	path[0] = 0xBF30;
	path[1] = 0xFF21;
	path[2] = 0x82;
	gp_tlv_find_path(data, size, path, 3, &t, NULL);
	check_splice(ctx, data, size, size ? data[0] : 0);
	parse_responses(data, size);
	talloc_free(ctx);
	return 0;
}
