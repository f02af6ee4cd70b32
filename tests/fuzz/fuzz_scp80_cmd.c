/* libFuzzer target: SCP80 command packet parsing on the card side (ota_scp80_cmd_peek / _unwrap), plus a
 * build -> unwrap round trip with the input as secured data.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude tests/fuzz/fuzz_scp80_cmd.c \
 *     <every .c of src/ota and src/gp> \
 *     $(pkg-config --cflags --libs libosmocore talloc libcrypto)
 * Input: octet 0 selects the key set (algorithm, RC/CC variant), octets 1..5 the stored counter's low bits,
 * the rest is the packet. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sgp02/ota/scp80.h>

static const struct {
	uint8_t nibble;
	uint8_t klen;
} algos[] = { { 0x1, 8 }, { 0x5, 16 }, { 0x9, 24 }, { 0x2, 16 }, { 0x2, 24 }, { 0x2, 32 }, { 0x0, 16 } };

static void make_keyset(struct ota_scp80_keyset *ks, uint8_t sel)
{
	unsigned int a = sel % (sizeof(algos) / sizeof(algos[0]));
	unsigned int i;

	memset(ks, 0, sizeof(*ks));
	ks->kic = 0x10 | algos[a].nibble;
	/* bit 3..4: KID names the same algorithm, CRC-16 or CRC-32 */
	switch ((sel >> 3) & 3) {
	case 1:
		ks->kid = 0x11;
		break;
	case 2:
		ks->kid = 0x15;
		break;
	default:
		ks->kid = ks->kic;
		break;
	}
	for (i = 0; i < algos[a].klen; i++) {
		ks->kic_key[i] = i;
		ks->kid_key[i] = 0x40 + i;
	}
	ks->kic_key_len = algos[a].klen;
	ks->kid_key_len = algos[a].klen;
	ks->allow_single_des = sel & 0x80;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ota_scp80_keyset ks;
	struct ota_scp80_cmd cmd;
	uint8_t *buf, *pkt;
	uint64_t re;
	size_t i;
	int rc, len;

	if (size < 6)
		return 0;
	make_keyset(&ks, data[0]);
	re = 0;
	for (i = 1; i < 6; i++)
		re = (re << 8) | data[i];
	data += 6;
	size -= 6;

	ota_scp80_cmd_peek(data, size, &cmd);

	buf = malloc(size + 1);
	rc = ota_scp80_cmd_unwrap(&ks, data, size, &re, &cmd, buf, size);
	if (rc == 0) {
		/* the data lies inside the packet's copy */
		if (cmd.data_len > size || (cmd.data_len && (cmd.data < buf || cmd.data + cmd.data_len > buf + size)))
			abort();
	}
	free(buf);

	/* round trip: whatever the input, a packet we build opens again to the same data */
	if (size >= 2) {
		const uint8_t spi[2] = { data[0] & 0x1f, data[1] & 0x3f };
		const uint8_t tar[3] = { 1, 2, 3 }, cntr[5] = { 0, 0, 0, 1, 0 };

		pkt = malloc(size + OTA_SCP80_CMD_OVERHEAD);
		buf = malloc(size + OTA_SCP80_CMD_OVERHEAD);
		len = ota_scp80_cmd_build(&ks, spi, tar, cntr, data, size, pkt, size + OTA_SCP80_CMD_OVERHEAD);
		if (len > 0) {
			rc = ota_scp80_cmd_unwrap(&ks, pkt, len, NULL, &cmd, buf, len);
			if (rc != 0 || cmd.data_len != size || (size && memcmp(cmd.data, data, size)))
				abort();
		}
		free(pkt);
		free(buf);
	}
	return 0;
}
