/* libFuzzer target: SAIP package walker and personaliser.
 * Invariants (abort on violation): for a package that validates, replacing any located field by
 * its own value reproduces the package; replacing it by a longer value gives a package that still
 * validates, has the same number of PEs and yields the new value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/gp/saip.h>

static void check_fields(void *ctx, const uint8_t *data, size_t size, int n_pes)
{
	enum gp_saip_field f;

	for (f = GP_SAIP_F_HDR_ICCID; f <= GP_SAIP_F_SD_KEY; f++) {
		struct gp_saip_item it, it2;
		uint8_t *out, val[64];
		size_t out_len, vlen;

		if (gp_saip_find(data, size, f, 0, &it) != 0)
			continue;
		if (gp_saip_replace(ctx, data, size, &it, it.val, it.len, &out, &out_len) != 0)
			abort();
		if (out_len != size || memcmp(out, data, size))
			abort();
		talloc_free(out);

		vlen = it.len + 7 < sizeof(val) ? it.len + 7 : sizeof(val);
		memset(val, 0x5a, vlen);
		if (gp_saip_replace(ctx, data, size, &it, val, vlen, &out, &out_len) != 0)
			abort();
		if (gp_saip_validate(out, out_len) != n_pes)
			abort();
		if (gp_saip_find(out, out_len, f, 0, &it2) != 0 || it2.len != vlen || memcmp(it2.val, val, vlen))
			abort();
		talloc_free(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *ctx = talloc_named_const(NULL, 0, "fuzz_saip");
	struct gp_saip_header hdr;
	struct gp_saip_item it;
	struct gp_saip_pe pe;
	size_t off = 0, out_len;
	unsigned int i = 0, k;
	uint8_t *out, pin[8];
	char digits[32];
	int n;

	n = gp_saip_validate(data, size);
	while (gp_saip_next(data, size, &off, i, &pe) > 0) {
		if (pe.offset + pe.total > size || pe.val + pe.len > data + size)
			abort();
		i++;
	}
	if (gp_saip_read_header(data, size, &hdr) == 0 && strlen(hdr.iccid) > 20)
		abort();
	for (k = 0; k < 4; k++)
		if (gp_saip_find(data, size, GP_SAIP_F_PIN, k, &it) == 0 && it.val + it.len > data + size)
			abort();
	if (gp_saip_find(data, size, GP_SAIP_F_EF_IMSI, 0, &it) == 0)
		gp_saip_imsi_decode(it.val, it.len, digits, sizeof(digits));
	if (gp_saip_find(data, size, GP_SAIP_F_EF_ICCID, 0, &it) == 0 && it.len <= 10)
		gp_saip_iccid_decode(it.val, it.len, true, digits, sizeof(digits));
	if (n > 0) {
		check_fields(ctx, data, size, n);
		if (gp_saip_set_iccid(ctx, data, size, "8949000000000000001", &out, &out_len) == 0 &&
		    gp_saip_validate(out, out_len) != n)
			abort();
		gp_saip_pin_encode("1234", pin);
		if (gp_saip_set_code(ctx, data, size, GP_SAIP_F_PIN, 1, pin, 8, &out, &out_len) > 0 &&
		    gp_saip_validate(out, out_len) != n)
			abort();
	}
	talloc_free(ctx);
	return 0;
}
