/* libFuzzer target: concatenated SMS reassembly (ota_sms_reasm_feed) and the other SMS decoders.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude tests/fuzz/fuzz_sms_reasm.c \
 *     <every .c of src/ota and src/gp> \
 *     $(pkg-config --cflags --libs libosmocore talloc libcrypto)
 * Input: a sequence of records  sender(1) time-step(1) length(1) user-data(length); the whole input is also
 * given to the UDH, address and TPDU decoders. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/ota/sms.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ota_sms_reasm_cfg cfg = { .max_pending = 4, .max_parts = 8, .timeout_ms = 1000 };
	void *ctx = talloc_named_const(NULL, 0, "fuzz");
	struct ota_sms_reasm *r = ota_sms_reasm_alloc(ctx, &cfg);
	struct ota_sms_udh udh;
	struct ota_sms_concat c;
	struct ota_sms_addr addr;
	struct ota_sms_tpdu t;
	uint64_t now = 0;
	size_t off = 0;
	int rc;

	if (ota_sms_udh_parse(data, size, &udh) > 0)
		ota_sms_udh_concat(&udh, &c);
	ota_sms_addr_decode(data, size, &addr);
	if (ota_sms_tpdu_decode(data, size, &t) == 0) {
		if (t.ud + t.ud_len != data + size)
			abort();
	}

	while (off + 3 <= size) {
		char sender[4];
		size_t len = data[off + 2];
		uint8_t *ud, *out = NULL;
		size_t out_len = 0;

		snprintf(sender, sizeof(sender), "%u", data[off] & 3);
		now += data[off + 1] * 10;
		off += 3;
		if (len > size - off)
			len = size - off;
		/* an exact-size copy, so that any over-read is seen */
		ud = malloc(len ? len : 1);
		memcpy(ud, data + off, len);
		rc = ota_sms_reasm_feed(r, sender, ud, len, now, ctx, &out, &out_len);
		free(ud);
		off += len;
		if (rc == 1) {
			/* the result starts with a well-formed UDH without concatenation IEs */
			if (ota_sms_udh_parse(out, out_len, &udh) < 0 || ota_sms_udh_concat(&udh, &c) != 0)
				abort();
			talloc_free(out);
		}
		if (ota_sms_reasm_pending(r) > cfg.max_pending)
			abort();
	}
	talloc_free(ctx);
	return 0;
}
