/* libFuzzer target: remote APDU script parsers (ETSI TS 102 226), command and response side.
 * The first byte selects the parser; whatever parses must rebuild and parse again to the same items. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/ota/rapdu.h>

static void cmd_roundtrip(void *ctx, const struct ota_rapdu_cmd_script *s)
{
	struct ota_rapdu_cmd_script *s2;
	uint8_t *out;
	size_t len;
	unsigned int i;

	if (ota_rapdu_cmd_build(ctx, s, &out, &len) < 0)
		return;	/* e.g. a compact C-APDU that ota_rapdu_apdu_check() refuses */
	if (s->format == OTA_RAPDU_FMT_COMPACT) {
		if (ota_rapdu_cmd_parse_compact(ctx, out, len, &s2) < 0)
			abort();
	} else if (ota_rapdu_cmd_parse(ctx, out, len, &s2) < 0) {
		abort();
	}
	if (s2->num_items != s->num_items || s2->chaining != s->chaining || s2->format != s->format)
		abort();
	for (i = 0; i < s->num_items; i++) {
		if (s2->items[i].type != s->items[i].type || s2->items[i].len != s->items[i].len ||
		    memcmp(s2->items[i].data, s->items[i].data, s->items[i].len))
			abort();
	}
}

/* Split the C-APDUs of a parsed script with a small budget; the chained scripts must carry them all, in order. */
static void split_check(void *ctx, const struct ota_rapdu_cmd_script *s, size_t budget)
{
	struct ota_rapdu_apdu *apdus;
	struct ota_rapdu_buf *scr;
	unsigned int i, n = 0, k = 0, ns;

	apdus = talloc_array(ctx, struct ota_rapdu_apdu, s->num_items + 1);
	if (!apdus)
		return;
	for (i = 0; i < s->num_items; i++) {
		if (s->items[i].type == OTA_RAPDU_CITEM_CAPDU)
			apdus[n++] = (struct ota_rapdu_apdu){ s->items[i].data, s->items[i].len };
	}
	if (!n || ota_rapdu_cmd_split(ctx, apdus, n, OTA_RAPDU_FMT_DEFINITE, budget, false, &scr, &ns) < 0)
		return;
	for (i = 0; i < ns; i++) {
		struct ota_rapdu_cmd_script *p;
		unsigned int j;

		if (scr[i].len > budget || ota_rapdu_cmd_parse(ctx, scr[i].data, scr[i].len, &p) < 0)
			abort();
		for (j = 0; j < p->num_items; j++, k++) {
			if (k >= n || p->items[j].len != apdus[k].len ||
			    memcmp(p->items[j].data, apdus[k].data, apdus[k].len))
				abort();
		}
	}
	if (k != n)
		abort();
}

static void resp_roundtrip(void *ctx, const struct ota_rapdu_resp_script *s)
{
	struct ota_rapdu_resp_script *s2;
	uint8_t *out;
	size_t len;
	unsigned int i;
	int rc;

	if (ota_rapdu_resp_build(ctx, s, &out, &len) < 0)
		abort();
	if (s->format == OTA_RAPDU_FMT_COMPACT)
		rc = ota_rapdu_resp_parse_compact(ctx, out, len, &s2);
	else
		rc = ota_rapdu_resp_parse(ctx, out, len, &s2);
	if (rc < 0 || s2->num_items != s->num_items || s2->num_executed != s->num_executed ||
	    s2->has_num_executed != s->has_num_executed)
		abort();
	for (i = 0; i < s->num_items; i++) {
		if (s2->items[i].type != s->items[i].type || s2->items[i].len != s->items[i].len ||
		    s2->items[i].sw != s->items[i].sw || s2->items[i].code != s->items[i].code ||
		    (s->items[i].len && memcmp(s2->items[i].data, s->items[i].data, s->items[i].len)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *ctx = talloc_named_const(NULL, 0, "fuzz_rapdu");
	struct ota_rapdu_cmd_script *cs;
	struct ota_rapdu_resp_script *rs;
	uint16_t sw;

	if (size < 1)
		goto out;
	switch (data[0] & 3) {
	case 0:
		if (ota_rapdu_cmd_parse(ctx, data + 1, size - 1, &cs) == 0) {
			cmd_roundtrip(ctx, cs);
			split_check(ctx, cs, 8 + (data[0] >> 2) * 4);
		}
		break;
	case 1:
		if (ota_rapdu_cmd_parse_compact(ctx, data + 1, size - 1, &cs) == 0)
			cmd_roundtrip(ctx, cs);
		break;
	case 2:
		if (ota_rapdu_resp_parse(ctx, data + 1, size - 1, &rs) == 0) {
			ota_rapdu_resp_last_sw(rs, &sw);
			resp_roundtrip(ctx, rs);
		}
		break;
	case 3:
		if (ota_rapdu_resp_parse_compact(ctx, data + 1, size - 1, &rs) == 0)
			resp_roundtrip(ctx, rs);
		break;
	}
out:
	talloc_free(ctx);
	return 0;
}
