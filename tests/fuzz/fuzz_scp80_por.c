/* libFuzzer target: PoR parsing on the server side (ota_scp80_por_unwrap), plus a build -> unwrap round trip.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude tests/fuzz/fuzz_scp80_por.c \
 *     <every .c of src/ota and src/gp> \
 *     $(pkg-config --cflags --libs libosmocore talloc libcrypto)
 * Input: octet 0 selects the key set, octet 1 is SPI2, octet 2 the expected-counter mode, the rest is the SMS
 * user data (UDH + response packet). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sgp02/ota/scp80.h>

static const struct {
	uint8_t nibble;
	uint8_t klen;
} algos[] = { { 0x1, 8 }, { 0x5, 16 }, { 0x9, 24 }, { 0x2, 16 }, { 0x2, 24 }, { 0x2, 32 }, { 0x0, 16 } };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ota_scp80_keyset ks;
	struct ota_scp80_por por;
	uint8_t spi[2], cntr[5] = { 0 };
	uint8_t *buf, *ud;
	unsigned int a, i;
	int rc, len;

	if (size < 3)
		return 0;
	a = data[0] % (sizeof(algos) / sizeof(algos[0]));
	memset(&ks, 0, sizeof(ks));
	ks.kic = 0x20 | algos[a].nibble;
	ks.kid = (data[0] & 0x40) ? 0x25 : (data[0] & 0x20) ? 0x21 : ks.kic;
	for (i = 0; i < algos[a].klen; i++) {
		ks.kic_key[i] = 0x11 * i;
		ks.kid_key[i] = 0x22 + i;
	}
	ks.kic_key_len = ks.kid_key_len = algos[a].klen;
	ks.allow_single_des = data[0] & 0x80;
	spi[0] = 0x16;
	spi[1] = data[1];
	data += 3;
	size -= 3;

	buf = malloc(size + 1);
	rc = ota_scp80_por_unwrap(&ks, spi, data, size, (data[-1] & 1) ? cntr : NULL, &por, buf, size);
	if (rc == 0 && por.data_len && (por.data < buf || por.data + por.data_len > buf + size))
		abort();
	free(buf);

	ud = malloc(size + OTA_SCP80_POR_OVERHEAD);
	buf = malloc(size + OTA_SCP80_POR_OVERHEAD);
	len = ota_scp80_por_build(&ks, spi, (const uint8_t *)"\xb0\x00\x11", cntr, data[-1], data, size, ud,
				  size + OTA_SCP80_POR_OVERHEAD);
	if (len > 0) {
		rc = ota_scp80_por_unwrap(&ks, spi, ud, len, cntr, &por, buf, len);
		if (rc != 0 || por.status != data[-1] || por.data_len != size || (size && memcmp(por.data, data, size)))
			abort();
	}
	free(ud);
	free(buf);
	return 0;
}
