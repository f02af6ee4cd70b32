/* Tests for SCP80 command and response packets (src/ota/scp80.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/ota/scp80.h>

#include "testlib.h"

#define VEC "scp80_3des_card_8988211000000467285"

static const uint8_t tar_b00000[3] = { 0xb0, 0x00, 0x00 };
static const uint8_t tar_b00011[3] = { 0xb0, 0x00, 0x11 };
static const uint8_t cntr0[5];

/* The 3DES (2 keys, key version 3) key set of the card the vectors came from. */
static void card_keyset(struct ota_scp80_keyset *ks)
{
	const char *kic = test_vector(VEC, "keyset", "kic", NULL);
	const char *kid = test_vector(VEC, "keyset", "kid", NULL);
	uint8_t *b;
	size_t n;

	memset(ks, 0, sizeof(*ks));
	CU_ASSERT_STRING_EQUAL(test_vector(VEC, "keyset", "algo", NULL), "triple_des_cbc2");
	CU_ASSERT_STRING_EQUAL(test_vector(VEC, "keyset", "kic_idx", NULL), "3");
	CU_ASSERT_STRING_EQUAL(test_vector(VEC, "keyset", "kid_idx", NULL), "3");
	ks->kic = 0x35;		/* key version 3, triple DES outer CBC 2 keys */
	ks->kid = 0x35;
	CU_ASSERT_PTR_NOT_NULL_FATAL(kic);
	CU_ASSERT_PTR_NOT_NULL_FATAL(kid);
	b = test_hex(kic, &n);
	CU_ASSERT_EQUAL_FATAL(n, 16);
	memcpy(ks->kic_key, b, n);
	ks->kic_key_len = n;
	b = test_hex(kid, &n);
	CU_ASSERT_EQUAL_FATAL(n, 16);
	memcpy(ks->kid_key, b, n);
	ks->kid_key_len = n;
}

static uint8_t *vec_hex(const char *name, size_t *len)
{
	const char *h = test_vector(VEC, name, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	return test_hex(h, len);
}

static const uint8_t apdu_select_mf[] = { 0x00, 0xa4, 0x00, 0x00, 0x02, 0x3f, 0x00 };

static void check_apdu_vector(void)
{
	size_t n;
	uint8_t *b = test_hex(test_vector(VEC, "apdu", NULL), &n);

	CU_ASSERT_EQUAL(n, sizeof(apdu_select_mf));
	CU_ASSERT(memcmp(b, apdu_select_mf, n) == 0);
	CU_ASSERT_STRING_EQUAL(test_vector(VEC, "tar", NULL), "b00000");
}

/* Build and unwrap one of the card's command vectors. \a raw_no_cpl: the vector omits CPL (pySim quirk). */
static void check_cmd_vector(const char *name, uint8_t spi1, bool raw_no_cpl)
{
	struct ota_scp80_keyset ks;
	struct ota_scp80_cmd cmd;
	const uint8_t spi[2] = { spi1, 0x19 };
	uint8_t out[128], buf[128], *vec, *full;
	size_t vlen, flen;
	int rc;

	check_apdu_vector();
	card_keyset(&ks);
	vec = vec_hex(name, &vlen);
	if (raw_no_cpl) {
		/* A correct packet carries CPL = number of octets after it */
		flen = vlen + 2;
		full = talloc_size(g_test_ctx, flen);
		full[0] = vlen >> 8;
		full[1] = vlen & 0xff;
		memcpy(full + 2, vec, vlen);
	} else {
		full = vec;
		flen = vlen;
	}

	rc = ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr0, apdu_select_mf, sizeof(apdu_select_mf), out,
				 sizeof(out));
	CU_ASSERT_EQUAL(rc, (int)flen);
	if (rc > 0)
		TEST_ASSERT_HEX(out, rc, talloc_asprintf(g_test_ctx, "%s%s",
					raw_no_cpl ? talloc_asprintf(g_test_ctx, "%04zx", vlen) : "",
					test_vector(VEC, name, NULL)));

	rc = ota_scp80_cmd_unwrap(&ks, full, flen, NULL, &cmd, buf, sizeof(buf));
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(cmd.status, OTA_SCP80_POR_OK);
	CU_ASSERT_EQUAL(cmd.spi[0], spi1);
	CU_ASSERT_EQUAL(cmd.kic, 0x35);
	CU_ASSERT_EQUAL(cmd.kid, 0x35);
	CU_ASSERT(memcmp(cmd.tar, tar_b00000, 3) == 0);
	CU_ASSERT(memcmp(cmd.cntr, cntr0, 5) == 0);
	CU_ASSERT_EQUAL(cmd.data_len, sizeof(apdu_select_mf));
	if (rc == 0 && cmd.data_len == sizeof(apdu_select_mf))
		CU_ASSERT(memcmp(cmd.data, apdu_select_mf, cmd.data_len) == 0);

	/* The raw pySim form without CPL is not a valid packet */
	if (raw_no_cpl) {
		rc = ota_scp80_cmd_unwrap(&ks, vec, vlen, NULL, &cmd, buf, sizeof(buf));
		CU_ASSERT(rc == -EMSGSIZE || rc == -EBADMSG);
	}
}

static void test_vec_cmd_ciphered_nocc(void)
{
	struct ota_scp80_cmd cmd;
	uint8_t buf[64];
	size_t n;
	uint8_t *v = vec_hex("cmd_ciphered_noCC (SPI 0419)", &n);

	check_cmd_vector("cmd_ciphered_noCC (SPI 0419)", 0x04, false);
	/* 13 octets of CNTR..data padded to 16: PCNTR = 3 */
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&(struct ota_scp80_keyset){ 0 }, v, n, NULL, &cmd, buf, sizeof(buf)),
			-ENOKEY);
}

static void test_vec_cmd_cc_only(void)
{
	check_cmd_vector("cmd_CC_only (SPI 0219) pySim raw = no CPL", 0x02, true);
}

static void test_vec_cmd_none(void)
{
	check_cmd_vector("cmd_none (SPI 0019) pySim raw = no CPL", 0x00, true);
}

static void check_por_vector(const char *name, uint8_t spi2, int expect_rc)
{
	struct ota_scp80_keyset ks;
	struct ota_scp80_por por;
	const uint8_t spi[2] = { 0x16, spi2 };
	uint8_t buf[128], out[128], *ud, *exp_data;
	size_t n, en;
	int rc;

	card_keyset(&ks);
	ud = vec_hex(name, &n);
	rc = ota_scp80_por_unwrap(&ks, spi, ud, n, cntr0, &por, buf, sizeof(buf));
	CU_ASSERT_EQUAL(rc, expect_rc);
	if (expect_rc)
		return;
	CU_ASSERT(memcmp(por.tar, tar_b00011, 3) == 0);
	CU_ASSERT(memcmp(por.cntr, cntr0, 5) == 0);
	CU_ASSERT_STRING_EQUAL(ota_scp80_por_status_name(por.status),
			       test_vector(VEC, "por_expect", "response_status", NULL));
	/* Compact remote response (TS 102 226 §5.1.2): number of commands, last SW */
	CU_ASSERT_EQUAL_FATAL(por.data_len, 3);
	CU_ASSERT_STRING_EQUAL(talloc_asprintf(g_test_ctx, "%u", por.data[0]),
			       test_vector(VEC, "por_expect", "number_of_commands", NULL));
	exp_data = test_hex(test_vector(VEC, "por_expect", "last_status_word", NULL), &en);
	CU_ASSERT_EQUAL_FATAL(en, 2);
	CU_ASSERT(memcmp(por.data + 1, exp_data, 2) == 0);

	/* The card side builds exactly the same bytes (zero padding, same CC) */
	rc = ota_scp80_por_build(&ks, spi, tar_b00011, cntr0, por.status, por.data, por.data_len, out, sizeof(out));
	CU_ASSERT_EQUAL(rc, (int)n);
	if (rc > 0)
		TEST_ASSERT_HEX(out, rc, test_vector(VEC, name, NULL));
}

static void test_vec_por_ciphered_cc(void)
{
	check_por_vector("por (TAR b00011) ciphered+CC (SPI xx19)", 0x19, 0);
}

static void test_vec_por_cc(void)
{
	check_por_vector("por CC only (SPI xx09)", 0x09, 0);
	/* The same with PoR-by-SMS-SUBMIT set (SPI2 = 29): the bit does not change the coding */
	check_por_vector("por CC only (SPI xx09)", 0x29, 0);
}

static void test_vec_por_cc_corrupted(void)
{
	check_por_vector("por CC only, corrupted (must fail)", 0x09, -EKEYREJECTED);
}

static void test_vec_por_none(void)
{
	check_por_vector("por none (SPI xx01)", 0x01, 0);
	/* A PoR without CC when the SPI asked for one is rejected (RHL does not match) */
	check_por_vector("por none (SPI xx01)", 0x09, -EBADMSG);
	/* A PoR with CC when the SPI asked for none is rejected too */
	check_por_vector("por CC only (SPI xx09)", 0x01, -EBADMSG);
}

static void test_vec_por_wrong_cntr(void)
{
	struct ota_scp80_keyset ks;
	struct ota_scp80_por por;
	const uint8_t spi[2] = { 0x16, 0x09 };
	const uint8_t cntr1[5] = { 0, 0, 0, 0, 1 };
	uint8_t buf[128], *ud;
	size_t n;

	card_keyset(&ks);
	ud = vec_hex("por CC only (SPI xx09)", &n);
	CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&ks, spi, ud, n, cntr1, &por, buf, sizeof(buf)), -ERANGE);
	CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&ks, spi, ud, n, NULL, &por, buf, sizeof(buf)), 0);
}

/* An AES-128 known answer, SPI 16 39, computed by an independent script (Python "cryptography": AES-CBC and
 * CMAC) following the same TS 102 225 layout. */
static void aes_keyset(struct ota_scp80_keyset *ks, size_t klen)
{
	size_t i;

	memset(ks, 0, sizeof(*ks));
	ks->kic = 0x12;
	ks->kid = 0x12;
	for (i = 0; i < klen; i++) {
		ks->kic_key[i] = i;
		ks->kid_key[i] = 0x10 + i;
	}
	ks->kic_key_len = klen;
	ks->kid_key_len = klen;
}

static void test_aes_kat(void)
{
	struct ota_scp80_keyset ks;
	struct ota_scp80_cmd cmd;
	struct ota_scp80_por por;
	const uint8_t spi[2] = { 0x16, 0x39 };
	const uint8_t tar[3] = { 0x00, 0x00, 0x01 };
	const uint8_t cntr[5] = { 0, 0, 0, 0, 1 };
	size_t dlen, rlen, plen;
	uint8_t *data = test_hex("aa0a220880f28000024f00", &dlen);
	uint8_t *rdata = test_hex("ab07800101230200009000", &rlen);
	uint8_t *porv = test_hex("027100002412000001564b1bf49f4f7111539a45f338422b3ce538b095d69957245298c6855b8a78bb",
				 &plen);
	uint8_t out[128], buf[128];
	uint64_t re = 0;
	int rc;

	aes_keyset(&ks, 16);
	rc = ota_scp80_cmd_build(&ks, spi, tar, cntr, data, dlen, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(rc, 42);
	TEST_ASSERT_HEX(out, rc, "0028151639121200000116"
			"7506429d557b50ca707417e23830b9318c313a572aab102ec4d3d6e6381ae5");
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&ks, out, rc, &re, &cmd, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(re, 1);
	CU_ASSERT_EQUAL(cmd.pcntr, 7);	/* 6 + 8 + 11 octets padded to 32 */
	CU_ASSERT_EQUAL(cmd.data_len, dlen);
	CU_ASSERT(memcmp(cmd.data, data, dlen) == 0);

	rc = ota_scp80_por_build(&ks, spi, tar, cntr, 0, rdata, rlen, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(rc, (int)plen);
	CU_ASSERT(memcmp(out, porv, plen) == 0);
	CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&ks, spi, porv, plen, cntr, &por, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(por.status, 0);
	CU_ASSERT_EQUAL(por.data_len, rlen);
	CU_ASSERT(memcmp(por.data, rdata, rlen) == 0);
}

/* A server that pads to 16 octets for the CC without ciphering (as Njiwa does): PCNTR 7, covered by the CC.
 * Computed by the same independent script as test_aes_kat. */
static void test_aes_cc_padded_unciphered(void)
{
	struct ota_scp80_keyset ks;
	struct ota_scp80_cmd cmd;
	size_t plen;
	uint8_t *pkt = test_hex("002815123912120000010000000002073cceb9ac94411eefaa0a220880f28000024f00"
				"00000000000000", &plen);
	uint8_t buf[64];
	uint64_t re = 1;

	aes_keyset(&ks, 16);
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&ks, pkt, plen, &re, &cmd, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(cmd.pcntr, 7);
	CU_ASSERT_EQUAL(re, 2);
	TEST_ASSERT_HEX(cmd.data, cmd.data_len, "aa0a220880f28000024f00");
}

/* RC known answers computed by an independent script: CRC-32 with Python's zlib.crc32 (as pySim does), CRC-16
 * with an ISO/IEC 13239 (X.25) routine checked against its standard check value 906E for "123456789".
 * The CRC-16 octet order (most significant first) is our reading [INF]. */
static void test_rc_kat(void)
{
	struct ota_scp80_keyset ks;
	struct ota_scp80_cmd cmd;
	const uint8_t spi[2] = { 0x11, 0x21 };
	const uint8_t cntr1[5] = { 0, 0, 0, 0, 1 };
	uint8_t out[64], buf[64];
	int len;

	aes_keyset(&ks, 16);
	ks.kid = 0x15;
	len = ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr1, apdu_select_mf, 7, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(len, 27);
	TEST_ASSERT_HEX(out, len, "00191111211215b000000000000001007e04880c00a40000023f00");
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&ks, out, len, NULL, &cmd, buf, sizeof(buf)), 0);
	ks.kid = 0x11;
	len = ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr1, apdu_select_mf, 7, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(len, 25);
	TEST_ASSERT_HEX(out, len, "00170f11211211b000000000000001008ce000a40000023f00");
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&ks, out, len, NULL, &cmd, buf, sizeof(buf)), 0);
}

/*
 * Round trips over every combination
 */

struct algo {
	const char *name;
	uint8_t nibble;
	size_t klen;
};

static const struct algo algos[] = {
	{ "des", 0x1, 8 },
	{ "3des2", 0x5, 16 },
	{ "3des3", 0x9, 24 },
	{ "aes128", 0x2, 16 },
	{ "aes192", 0x2, 24 },
	{ "aes256", 0x2, 32 },
};

/* Key set for an algorithm; for RC, the KID nibble selects the CRC instead (rc_kid = 1 or 5). */
static void make_keyset(struct ota_scp80_keyset *ks, const struct algo *a, uint8_t rc_kid)
{
	size_t i;

	memset(ks, 0, sizeof(*ks));
	ks->kic = 0x40 | a->nibble;
	ks->kid = 0x40 | (rc_kid ? rc_kid : a->nibble);
	for (i = 0; i < a->klen; i++) {
		ks->kic_key[i] = 0xa0 ^ (i * 7);
		ks->kid_key[i] = 0x5c ^ (i * 13);
	}
	ks->kic_key_len = a->klen;
	ks->kid_key_len = a->klen;
	ks->allow_single_des = true;
}

static const size_t data_lens[] = { 0, 1, 7, 8, 9, 15, 16, 17, 100, 1000 };

/* integrity variants: none, RC CRC-16, RC CRC-32, CC */
static const struct {
	enum ota_scp80_integ integ;
	uint8_t rc_kid;
	unsigned int sig_len;
} integs[] = {
	{ OTA_SCP80_INTEG_NONE, 0, 0 },
	{ OTA_SCP80_INTEG_RC, 0x1, 2 },
	{ OTA_SCP80_INTEG_RC, 0x5, 4 },
	{ OTA_SCP80_INTEG_CC, 0, 8 },
};

static void test_cmd_roundtrip_all(void)
{
	uint8_t data[1000], out[1100], buf[1100];
	unsigned int a, m, c, i, l, checked = 0;

	for (i = 0; i < sizeof(data); i++)
		data[i] = i * 31 + 5;
	for (a = 0; a < ARRAY_SIZE(algos); a++)
	for (m = 0; m < 4; m++)
	for (c = 0; c < 2; c++)
	for (i = 0; i < ARRAY_SIZE(integs); i++)
	for (l = 0; l < ARRAY_SIZE(data_lens); l++) {
		struct ota_scp80_keyset ks;
		struct ota_scp80_spi s = { .cntr = m, .ciphered = c, .integ = integs[i].integ,
					   .por = OTA_SCP80_POR_REQUIRED };
		struct ota_scp80_cmd cmd;
		uint8_t spi[2], cntr[5];
		uint64_t re = 41, expect_re;
		size_t len = data_lens[l], exp_len, block = algos[a].nibble == 0x2 ? 16 : 8;
		int rc;

		make_keyset(&ks, &algos[a], integs[i].rc_kid);
		ota_scp80_spi_encode(&s, spi);
		ota_scp80_cntr_put(cntr, 42);
		rc = ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr, data, len, out, sizeof(out));
		exp_len = 16 + integs[i].sig_len + len;
		if (c)
			exp_len += (block - (6 + integs[i].sig_len + len) % block) % block;
		CU_ASSERT_EQUAL(rc, (int)exp_len);
		if (rc < 0) {
			printf("build failed: %s m=%u c=%u i=%u len=%zu: %d\n", algos[a].name, m, c, i, len, rc);
			continue;
		}
		CU_ASSERT_EQUAL(out[0] << 8 | out[1], rc - 2);
		CU_ASSERT_EQUAL(out[2], 13 + integs[i].sig_len);
		if (c)
			CU_ASSERT_EQUAL((rc - 10) % block, 0);
		if (!c)	/* in clear, the data follows the header and RC/CC */
			CU_ASSERT(len == 0 || memcmp(out + 16 + integs[i].sig_len, data, len) == 0);
		rc = ota_scp80_cmd_unwrap(&ks, out, rc, &re, &cmd, buf, sizeof(buf));
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_EQUAL(cmd.status, OTA_SCP80_POR_OK);
		CU_ASSERT_EQUAL(cmd.data_len, len);
		CU_ASSERT(len == 0 || (cmd.data_len == len && memcmp(cmd.data, data, len) == 0));
		CU_ASSERT(memcmp(cmd.spi, spi, 2) == 0);
		CU_ASSERT_EQUAL(ota_scp80_cntr_get(cmd.cntr), 42);
		expect_re = (m == OTA_SCP80_CNTR_HIGHER || m == OTA_SCP80_CNTR_PLUS_ONE) ? 42 : 41;
		CU_ASSERT_EQUAL(re, expect_re);
		checked++;
	}
	CU_ASSERT_EQUAL(checked, ARRAY_SIZE(algos) * 4 * 2 * ARRAY_SIZE(integs) * ARRAY_SIZE(data_lens));
}

static void test_por_roundtrip_all(void)
{
	uint8_t data[1000], out[1100], buf[1100];
	unsigned int a, c, i, sub, req, l, st, checked = 0;

	for (i = 0; i < sizeof(data); i++)
		data[i] = i * 17 + 3;
	for (a = 0; a < ARRAY_SIZE(algos); a++)
	for (c = 0; c < 2; c++)
	for (i = 0; i < ARRAY_SIZE(integs); i++)
	for (sub = 0; sub < 2; sub++)
	for (req = 0; req < 3; req++)
	for (l = 0; l < ARRAY_SIZE(data_lens); l++)
	for (st = 0; st <= OTA_SCP80_POR_RESP_USSD; st += 6) {
		struct ota_scp80_keyset ks;
		struct ota_scp80_spi s = { .cntr = OTA_SCP80_CNTR_HIGHER, .ciphered = true,
					   .integ = OTA_SCP80_INTEG_CC, .por_in_submit = sub,
					   .por_ciphered = c, .por_integ = integs[i].integ, .por = req };
		struct ota_scp80_por por;
		uint8_t spi[2], cntr[5];
		size_t len = data_lens[l], exp_len, block = algos[a].nibble == 0x2 ? 16 : 8;
		int rc;

		make_keyset(&ks, &algos[a], integs[i].rc_kid);
		ota_scp80_spi_encode(&s, spi);
		ota_scp80_cntr_put(cntr, 0x0102030405ULL);
		rc = ota_scp80_por_build(&ks, spi, tar_b00011, cntr, st, data, len, out, sizeof(out));
		exp_len = 3 + 13 + integs[i].sig_len + len;
		if (c)
			exp_len += (block - (7 + integs[i].sig_len + len) % block) % block;
		CU_ASSERT_EQUAL(rc, (int)exp_len);
		if (rc < 0)
			continue;
		CU_ASSERT(out[0] == 0x02 && out[1] == 0x71 && out[2] == 0x00);
		CU_ASSERT_EQUAL(out[3] << 8 | out[4], rc - 5);
		CU_ASSERT_EQUAL(out[5], 10 + integs[i].sig_len);
		rc = ota_scp80_por_unwrap(&ks, spi, out, rc, cntr, &por, buf, sizeof(buf));
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_EQUAL(por.status, st);
		CU_ASSERT(memcmp(por.tar, tar_b00011, 3) == 0);
		CU_ASSERT_EQUAL(ota_scp80_cntr_get(por.cntr), 0x0102030405ULL);
		CU_ASSERT(por.data_len == len && (len == 0 || memcmp(por.data, data, len) == 0));
		checked++;
	}
	CU_ASSERT_EQUAL(checked, ARRAY_SIZE(algos) * 2 * ARRAY_SIZE(integs) * 2 * 3 * ARRAY_SIZE(data_lens) * 3);
}

/* The whole exchange for the full cross product of both SPI octets and every algorithm: the server builds the
 * command, the card opens it (counter rules applied) and answers with a PoR as SPI2 asks, the server checks
 * the PoR against the command's counter. */
static void test_exchange_cross_product(void)
{
	uint8_t data[64], pkt[200], buf[200], ud[200];
	unsigned int a, spi1, spi2, checked = 0, n = 0;

	for (a = 0; a < sizeof(data); a++)
		data[a] = 0xc0 + a;
	for (a = 0; a < ARRAY_SIZE(algos); a++)
	for (spi1 = 0; spi1 < 0x20; spi1++)
	for (spi2 = 0; spi2 < 0x40; spi2++) {
		const uint8_t spi[2] = { spi1, spi2 };
		struct ota_scp80_keyset ks;
		struct ota_scp80_cmd cmd;
		struct ota_scp80_por por;
		struct ota_scp80_spi s;
		uint8_t cntr[5];
		uint64_t server_cntr = 99, card_cntr = 99;
		size_t len = n++ % sizeof(data);
		int plen, rlen, rc;

		ota_scp80_spi_decode(spi, &s);
		/* DS and the reserved PoR value are not supported; RC in SPI1 and SPI2 would need different KIDs */
		if (s.integ == OTA_SCP80_INTEG_DS || s.por_integ == OTA_SCP80_INTEG_DS || s.por == 3)
			continue;
		if ((s.integ == OTA_SCP80_INTEG_RC && s.por_integ == OTA_SCP80_INTEG_CC) ||
		    (s.integ == OTA_SCP80_INTEG_CC && s.por_integ == OTA_SCP80_INTEG_RC))
			continue;
		make_keyset(&ks, &algos[a],
			    (s.integ == OTA_SCP80_INTEG_RC || s.por_integ == OTA_SCP80_INTEG_RC) ? 0x5 : 0);
		CU_ASSERT_EQUAL(ota_scp80_cntr_next(&server_cntr, cntr), 0);
		plen = ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr, data, len, pkt, sizeof(pkt));
		CU_ASSERT(plen > 0);
		if (plen <= 0)
			continue;
		rc = ota_scp80_cmd_unwrap(&ks, pkt, plen, &card_cntr, &cmd, buf, sizeof(buf));
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT(cmd.data_len == len && (len == 0 || memcmp(cmd.data, data, len) == 0));
		CU_ASSERT_EQUAL(card_cntr, (s.cntr >= OTA_SCP80_CNTR_HIGHER) ? 100 : 99);
		/* replaying it fails exactly when the SPI asks for replay protection */
		rc = ota_scp80_cmd_unwrap(&ks, pkt, plen, &card_cntr, &cmd, buf, sizeof(buf));
		CU_ASSERT_EQUAL(rc, s.cntr >= OTA_SCP80_CNTR_HIGHER ? -ERANGE : 0);
		if (s.por == OTA_SCP80_POR_NONE)
			continue;
		/* (cmd was overwritten by the failed replay: use the values of the first opening) */
		rlen = ota_scp80_por_build(&ks, spi, tar_b00000, cntr, OTA_SCP80_POR_OK, data, len, ud, sizeof(ud));
		CU_ASSERT(rlen > 0);
		if (rlen <= 0)
			continue;
		rc = ota_scp80_por_unwrap(&ks, spi, ud, rlen, cntr, &por, buf, sizeof(buf));
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT(por.data_len == len && (len == 0 || memcmp(por.data, data, len) == 0));
		checked++;
	}
	/* 6 algorithms x (SPI1: 4 counter x 2 cipher x 3 integrity) x (SPI2 with PoR: 2 x 2 x 3 x 2), minus RC/CC
	 * mixes */
	CU_ASSERT(checked > 1000);
}

/* SPI bytes round trip through the decoded struct for every value of the defined bits. */
static void test_spi_codec(void)
{
	unsigned int v;

	for (v = 0; v < 0x10000; v++) {
		uint8_t in[2] = { v >> 8, v & 0xff }, out[2];
		struct ota_scp80_spi s;

		ota_scp80_spi_decode(in, &s);
		ota_scp80_spi_encode(&s, out);
		CU_ASSERT_EQUAL(out[0], in[0] & 0x1f);
		CU_ASSERT_EQUAL(out[1], in[1] & 0x3f);
	}
	{
		const uint8_t spi[2] = { 0x16, 0x39 };
		struct ota_scp80_spi s;

		ota_scp80_spi_decode(spi, &s);
		CU_ASSERT_EQUAL(s.cntr, OTA_SCP80_CNTR_HIGHER);
		CU_ASSERT(s.ciphered);
		CU_ASSERT_EQUAL(s.integ, OTA_SCP80_INTEG_CC);
		CU_ASSERT(s.por_in_submit);
		CU_ASSERT(s.por_ciphered);
		CU_ASSERT_EQUAL(s.por_integ, OTA_SCP80_INTEG_CC);
		CU_ASSERT_EQUAL(s.por, OTA_SCP80_POR_REQUIRED);
	}
}

static void test_spi_sgp02_minimum(void)
{
	static const struct {
		uint8_t spi1;
		bool ok;
	} cases[] = {
		{ 0x16, true }, { 0x1e, true }, { 0x06, false }, { 0x0e, false }, { 0x12, false }, { 0x15, false },
		{ 0x14, false }, { 0x17, false }, { 0x00, false }, { 0x36, true }, { 0xf6, true },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const uint8_t spi[2] = { cases[i].spi1, 0x39 };

		CU_ASSERT_EQUAL(ota_scp80_spi_meets_sgp02(spi), cases[i].ok);
	}
}

static void test_cntr_helpers(void)
{
	uint8_t c[5];

	ota_scp80_cntr_put(c, 0x0102030405ULL);
	CU_ASSERT(c[0] == 1 && c[1] == 2 && c[2] == 3 && c[3] == 4 && c[4] == 5);
	CU_ASSERT_EQUAL(ota_scp80_cntr_get(c), 0x0102030405ULL);
	ota_scp80_cntr_put(c, OTA_SCP80_CNTR_MAX);
	CU_ASSERT_EQUAL(ota_scp80_cntr_get(c), OTA_SCP80_CNTR_MAX);
	{
		uint64_t stored = 0x00000000ff;

		CU_ASSERT_EQUAL(ota_scp80_cntr_next(&stored, c), 0);
		CU_ASSERT_EQUAL(stored, 0x100);
		TEST_ASSERT_HEX(c, 5, "0000000100");
		stored = OTA_SCP80_CNTR_MAX - 1;
		CU_ASSERT_EQUAL(ota_scp80_cntr_next(&stored, c), 0);
		TEST_ASSERT_HEX(c, 5, "ffffffffff");
		CU_ASSERT_EQUAL(ota_scp80_cntr_next(&stored, c), -ERANGE);
		CU_ASSERT_EQUAL(stored, OTA_SCP80_CNTR_MAX);
		CU_ASSERT_EQUAL(ota_scp80_cntr_next(NULL, c), -EINVAL);
	}
}

/* The working buffer may be the packet itself. */
static void test_unwrap_in_place(void)
{
	struct ota_scp80_keyset ks;
	struct ota_scp80_cmd cmd;
	struct ota_scp80_por por;
	const uint8_t spi[2] = { 0x16, 0x39 };
	uint8_t pkt[64];
	int len;

	aes_keyset(&ks, 16);
	len = ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr0, apdu_select_mf, 7, pkt, sizeof(pkt));
	CU_ASSERT_FATAL(len > 0);
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&ks, pkt, len, NULL, &cmd, pkt, sizeof(pkt)), 0);
	CU_ASSERT(cmd.data_len == 7 && memcmp(cmd.data, apdu_select_mf, 7) == 0);
	len = ota_scp80_por_build(&ks, spi, tar_b00000, cntr0, 0, apdu_select_mf, 7, pkt, sizeof(pkt));
	CU_ASSERT_FATAL(len > 0);
	CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&ks, spi, pkt, len, cntr0, &por, pkt, sizeof(pkt)), 0);
	CU_ASSERT(por.data_len == 7 && memcmp(por.data, apdu_select_mf, 7) == 0);
}

static void test_status_names(void)
{
	CU_ASSERT_STRING_EQUAL(ota_scp80_por_status_name(0x00), "por_ok");
	CU_ASSERT_STRING_EQUAL(ota_scp80_por_status_name(0x01), "rc_cc_ds_failed");
	CU_ASSERT_STRING_EQUAL(ota_scp80_por_status_name(0x02), "cntr_low");
	CU_ASSERT_STRING_EQUAL(ota_scp80_por_status_name(0x03), "cntr_high");
	CU_ASSERT_STRING_EQUAL(ota_scp80_por_status_name(0x04), "cntr_blocked");
	CU_ASSERT_STRING_EQUAL(ota_scp80_por_status_name(0x05), "ciphering_error");
	CU_ASSERT_STRING_EQUAL(ota_scp80_por_status_name(0x06), "unidentified_security_error");
	CU_ASSERT_STRING_EQUAL(ota_scp80_por_status_name(0x07), "insufficient_memory");
	CU_ASSERT_STRING_EQUAL(ota_scp80_por_status_name(0x08), "more_time_needed");
	CU_ASSERT_STRING_EQUAL(ota_scp80_por_status_name(0x09), "tar_unknown");
	CU_ASSERT_STRING_EQUAL(ota_scp80_por_status_name(0x0a), "insufficient_security_level");
	CU_ASSERT_STRING_EQUAL(ota_scp80_por_status_name(0x0b), "actual_response_sms_submit");
	CU_ASSERT_STRING_EQUAL(ota_scp80_por_status_name(0x0c), "actual_response_ussd");
	CU_ASSERT_PTR_NOT_NULL(ota_scp80_por_status_name(0x42));
}

/*
 * Negative tests
 */

/* A packet to attack: AES-128, counter "higher", ciphered, CC. */
static int attack_cmd(struct ota_scp80_keyset *ks, uint8_t *out, size_t out_size, uint8_t spi1)
{
	const uint8_t spi[2] = { spi1, 0x39 };
	uint8_t cntr[5];

	/* with RC, the KID names CRC-32 */
	make_keyset(ks, &algos[3], (spi1 & 3) == OTA_SCP80_INTEG_RC ? 0x5 : 0);
	ota_scp80_cntr_put(cntr, 10);
	return ota_scp80_cmd_build(ks, spi, tar_b00000, cntr, apdu_select_mf, sizeof(apdu_select_mf), out, out_size);
}

static void test_cmd_truncated(void)
{
	static const uint8_t spis[] = { 0x16, 0x15, 0x12, 0x11, 0x10, 0x00 };
	struct ota_scp80_keyset ks;
	struct ota_scp80_cmd cmd;
	uint8_t pkt[64], buf[64];
	unsigned int s;
	int len, l, rc;

	for (s = 0; s < sizeof(spis); s++) {
		len = attack_cmd(&ks, pkt, sizeof(pkt), spis[s]);
		CU_ASSERT_FATAL(len > 16);
		for (l = 0; l < len; l++) {
			uint64_t re = 5;

			rc = ota_scp80_cmd_unwrap(&ks, pkt, l, &re, &cmd, buf, sizeof(buf));
			/* shorter than CPL itself: malformed; otherwise CPL points beyond the buffer */
			CU_ASSERT_EQUAL(rc, l < 2 ? -EBADMSG : -EMSGSIZE);
			CU_ASSERT_EQUAL(re, 5);
		}
		/* one octet too many */
		pkt[len] = 0;
		CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&ks, pkt, len + 1, NULL, &cmd, buf, sizeof(buf)), -EBADMSG);
		/* CPL adjusted to a shorter packet: the CC (or cipher block alignment) no longer matches */
		for (l = 3; l < len; l++) {
			uint8_t t[64];

			memcpy(t, pkt, l);
			t[0] = (l - 2) >> 8;
			t[1] = (l - 2) & 0xff;
			rc = ota_scp80_cmd_unwrap(&ks, t, l, NULL, &cmd, buf, sizeof(buf));
			if (spis[s] & 0x07) {	/* protected: always rejected */
				CU_ASSERT(rc == -EBADMSG || rc == -EKEYREJECTED);
			} else {		/* unprotected: only the structure can be checked */
				CU_ASSERT(rc == 0 || rc == -EBADMSG);
			}
		}
	}
}

static void test_cmd_every_byte_flipped(void)
{
	static const uint8_t spis[] = { 0x16, 0x12, 0x11, 0x15 };	/* CC+cipher, CC, CRC32, CRC32+cipher */
	struct ota_scp80_keyset ks;
	struct ota_scp80_cmd cmd;
	uint8_t pkt[64], buf[64];
	unsigned int s, bit;
	int len, i, rc;

	for (s = 0; s < sizeof(spis); s++) {
		len = attack_cmd(&ks, pkt, sizeof(pkt), spis[s]);
		CU_ASSERT_FATAL(len > 16);
		for (i = 0; i < len; i++) {
			for (bit = 0; bit < 8; bit++) {
				uint8_t t[64];
				uint64_t re = 5;

				memcpy(t, pkt, len);
				t[i] ^= 1 << bit;
				rc = ota_scp80_cmd_unwrap(&ks, t, len, &re, &cmd, buf, sizeof(buf));
				CU_ASSERT(rc < 0);
				CU_ASSERT(rc == -EBADMSG || rc == -EMSGSIZE || rc == -EKEYREJECTED || rc == -ENOKEY ||
					  rc == -ENOTSUP);
				CU_ASSERT_EQUAL(re, 5);
				/* From TAR on (covered by the RC/CC), any change breaks the RC/CC */
				if (i >= 7)
					CU_ASSERT_EQUAL(rc, -EKEYREJECTED);
				if (i >= 7 && rc == -EKEYREJECTED)
					CU_ASSERT_EQUAL(cmd.status, OTA_SCP80_POR_RC_CC_DS_FAILED);
			}
		}
	}
	/* the unmodified packet passes */
	len = attack_cmd(&ks, pkt, sizeof(pkt), 0x16);
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&ks, pkt, len, NULL, &cmd, buf, sizeof(buf)), 0);
}

static void test_cmd_wrong_keys(void)
{
	struct ota_scp80_keyset ks, bad;
	struct ota_scp80_cmd cmd;
	uint8_t pkt[64], buf[64];
	int len;

	len = attack_cmd(&ks, pkt, sizeof(pkt), 0x16);
	bad = ks;
	bad.kic_key[0] ^= 1;
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&bad, pkt, len, NULL, &cmd, buf, sizeof(buf)), -EKEYREJECTED);
	CU_ASSERT_EQUAL(cmd.status, OTA_SCP80_POR_RC_CC_DS_FAILED);
	bad = ks;
	bad.kid_key[15] ^= 0x80;
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&bad, pkt, len, NULL, &cmd, buf, sizeof(buf)), -EKEYREJECTED);
	/* other key version in the keyset */
	bad = ks;
	bad.kic = 0x52;
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&bad, pkt, len, NULL, &cmd, buf, sizeof(buf)), -ENOKEY);
	bad = ks;
	bad.kid = 0x52;
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&bad, pkt, len, NULL, &cmd, buf, sizeof(buf)), -ENOKEY);
	/* AES-256 key for an AES-128 packet: same KIc/KID bytes, different key: CC fails */
	bad = ks;
	bad.kic_key_len = bad.kid_key_len = 32;
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&bad, pkt, len, NULL, &cmd, buf, sizeof(buf)), -EKEYREJECTED);
	/* the right keys work */
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&ks, pkt, len, NULL, &cmd, buf, sizeof(buf)), 0);

	/* 3DES card vector with a wrong KID key */
	{
		struct ota_scp80_keyset cks;
		size_t n;
		uint8_t *v = vec_hex("cmd_ciphered_noCC (SPI 0419)", &n);
		uint8_t *k1 = test_hex(test_vector(VEC, "other_keys_of_that_card", "KIC1", NULL), NULL);

		card_keyset(&cks);
		memcpy(cks.kic_key, k1, 16);
		/* no CC: a wrong KIc key cannot be detected for sure; at least the data is not the APDU */
		if (ota_scp80_cmd_unwrap(&cks, v, n, NULL, &cmd, buf, sizeof(buf)) == 0)
			CU_ASSERT(cmd.data_len != 7 || memcmp(cmd.data, apdu_select_mf, 7) != 0);
	}
}

static void check_cntr(uint8_t mode, uint64_t stored, uint64_t sent, int expect_rc, uint8_t expect_status)
{
	struct ota_scp80_keyset ks;
	struct ota_scp80_cmd cmd;
	struct ota_scp80_spi s = { .cntr = mode, .ciphered = true, .integ = OTA_SCP80_INTEG_CC };
	uint8_t spi[2], cntr[5], pkt[64], buf[64];
	uint64_t re = stored;
	int len, rc;

	make_keyset(&ks, &algos[3], 0);
	ota_scp80_spi_encode(&s, spi);
	ota_scp80_cntr_put(cntr, sent);
	len = ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr, apdu_select_mf, 7, pkt, sizeof(pkt));
	CU_ASSERT_FATAL(len > 0);
	rc = ota_scp80_cmd_unwrap(&ks, pkt, len, &re, &cmd, buf, sizeof(buf));
	CU_ASSERT_EQUAL(rc, expect_rc);
	CU_ASSERT_EQUAL(cmd.status, expect_status);
	if (rc == 0 && (mode == OTA_SCP80_CNTR_HIGHER || mode == OTA_SCP80_CNTR_PLUS_ONE)) {
		CU_ASSERT_EQUAL(re, sent);
	} else {
		CU_ASSERT_EQUAL(re, stored);
	}
}

static void test_cmd_counter_rules(void)
{
	/* no counter / no check: anything goes and the stored counter is left alone */
	check_cntr(OTA_SCP80_CNTR_NONE, 5, 0, 0, OTA_SCP80_POR_OK);
	check_cntr(OTA_SCP80_CNTR_NONE, 5, 3, 0, OTA_SCP80_POR_OK);
	check_cntr(OTA_SCP80_CNTR_NO_CHECK, 5, 3, 0, OTA_SCP80_POR_OK);
	check_cntr(OTA_SCP80_CNTR_NO_CHECK, 5, 5, 0, OTA_SCP80_POR_OK);
	/* must be higher */
	check_cntr(OTA_SCP80_CNTR_HIGHER, 5, 4, -ERANGE, OTA_SCP80_POR_CNTR_LOW);
	check_cntr(OTA_SCP80_CNTR_HIGHER, 5, 5, -ERANGE, OTA_SCP80_POR_CNTR_LOW);
	check_cntr(OTA_SCP80_CNTR_HIGHER, 5, 6, 0, OTA_SCP80_POR_OK);
	check_cntr(OTA_SCP80_CNTR_HIGHER, 5, 1000, 0, OTA_SCP80_POR_OK);
	check_cntr(OTA_SCP80_CNTR_HIGHER, 0, OTA_SCP80_CNTR_MAX, 0, OTA_SCP80_POR_OK);
	check_cntr(OTA_SCP80_CNTR_HIGHER, OTA_SCP80_CNTR_MAX, 0, -ERANGE, OTA_SCP80_POR_CNTR_BLOCKED);
	/* must be exactly one higher */
	check_cntr(OTA_SCP80_CNTR_PLUS_ONE, 5, 5, -ERANGE, OTA_SCP80_POR_CNTR_LOW);
	check_cntr(OTA_SCP80_CNTR_PLUS_ONE, 5, 6, 0, OTA_SCP80_POR_OK);
	check_cntr(OTA_SCP80_CNTR_PLUS_ONE, 5, 7, -ERANGE, OTA_SCP80_POR_CNTR_HIGH);
	check_cntr(OTA_SCP80_CNTR_PLUS_ONE, OTA_SCP80_CNTR_MAX - 1, OTA_SCP80_CNTR_MAX, 0, OTA_SCP80_POR_OK);
	check_cntr(OTA_SCP80_CNTR_PLUS_ONE, OTA_SCP80_CNTR_MAX, 0, -ERANGE, OTA_SCP80_POR_CNTR_BLOCKED);
}

static void test_cmd_replay(void)
{
	struct ota_scp80_keyset ks;
	struct ota_scp80_cmd cmd;
	uint8_t pkt[64], buf[64];
	uint64_t re = 9;
	int len;

	len = attack_cmd(&ks, pkt, sizeof(pkt), 0x16);	/* counter 10, "must be higher" */
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&ks, pkt, len, &re, &cmd, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(re, 10);
	/* the same packet again is a replay */
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&ks, pkt, len, &re, &cmd, buf, sizeof(buf)), -ERANGE);
	CU_ASSERT_EQUAL(cmd.status, OTA_SCP80_POR_CNTR_LOW);
	CU_ASSERT_EQUAL(re, 10);
}

static void test_unsupported(void)
{
	struct ota_scp80_keyset ks;
	struct ota_scp80_cmd cmd;
	uint8_t out[128], buf[128];
	const uint8_t spi_cc_ciph[2] = { 0x16, 0x39 }, spi_ds[2] = { 0x13, 0x00 }, spi_por_ds[2] = { 0x12, 0x0d };
	int len;

	/* single DES only when allowed */
	make_keyset(&ks, &algos[0], 0);
	ks.allow_single_des = false;
	CU_ASSERT_EQUAL(ota_scp80_cmd_build(&ks, spi_cc_ciph, tar_b00000, cntr0, NULL, 0, out, sizeof(out)),
			-ENOTSUP);
	ks.allow_single_des = true;
	len = ota_scp80_cmd_build(&ks, spi_cc_ciph, tar_b00000, cntr0, NULL, 0, out, sizeof(out));
	CU_ASSERT(len > 0);
	ks.allow_single_des = false;
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&ks, out, len, NULL, &cmd, buf, sizeof(buf)), -ENOTSUP);

	/* digital signature */
	make_keyset(&ks, &algos[3], 0);
	CU_ASSERT_EQUAL(ota_scp80_cmd_build(&ks, spi_ds, tar_b00000, cntr0, NULL, 0, out, sizeof(out)), -ENOTSUP);
	CU_ASSERT_EQUAL(ota_scp80_por_build(&ks, spi_por_ds, tar_b00000, cntr0, 0, NULL, 0, out, sizeof(out)),
			-ENOTSUP);
	/* implicit algorithm, DES-ECB, reserved AES modes */
	ks.kic = 0x10;
	CU_ASSERT_EQUAL(ota_scp80_cmd_build(&ks, spi_cc_ciph, tar_b00000, cntr0, NULL, 0, out, sizeof(out)),
			-ENOTSUP);
	ks.kic = 0x1d;
	CU_ASSERT_EQUAL(ota_scp80_cmd_build(&ks, spi_cc_ciph, tar_b00000, cntr0, NULL, 0, out, sizeof(out)),
			-ENOTSUP);
	ks.kic = 0x16;
	CU_ASSERT_EQUAL(ota_scp80_cmd_build(&ks, spi_cc_ciph, tar_b00000, cntr0, NULL, 0, out, sizeof(out)),
			-ENOTSUP);
	/* RC with a KID that is no CRC */
	make_keyset(&ks, &algos[3], 0);
	{
		const uint8_t spi_rc[2] = { 0x11, 0x00 };

		ks.kid = 0x13;	/* proprietary */
		CU_ASSERT_EQUAL(ota_scp80_cmd_build(&ks, spi_rc, tar_b00000, cntr0, NULL, 0, out, sizeof(out)),
				-ENOTSUP);
	}
}

static void test_invalid_args(void)
{
	struct ota_scp80_keyset ks;
	struct ota_scp80_cmd cmd;
	struct ota_scp80_por por;
	const uint8_t spi[2] = { 0x16, 0x39 };
	uint8_t out[128], buf[128];
	int len, l;

	make_keyset(&ks, &algos[3], 0);
	CU_ASSERT_EQUAL(ota_scp80_cmd_build(NULL, spi, tar_b00000, cntr0, NULL, 0, out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr0, NULL, 5, out, sizeof(out)), -EINVAL);
	CU_ASSERT_EQUAL(ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr0, NULL, 0, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&ks, NULL, 0, NULL, &cmd, buf, sizeof(buf)), -EINVAL);
	CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&ks, spi, NULL, 0, NULL, &por, buf, sizeof(buf)), -EINVAL);
	/* wrong key lengths */
	ks.kic_key_len = 15;
	CU_ASSERT_EQUAL(ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr0, NULL, 0, out, sizeof(out)), -EINVAL);
	ks.kic_key_len = 33;
	CU_ASSERT_EQUAL(ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr0, NULL, 0, out, sizeof(out)), -EINVAL);
	make_keyset(&ks, &algos[1], 0);
	ks.kid_key_len = 24;
	CU_ASSERT_EQUAL(ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr0, NULL, 0, out, sizeof(out)), -EINVAL);

	/* every output size short of the packet */
	make_keyset(&ks, &algos[3], 0);
	len = ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr0, apdu_select_mf, 7, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(len, 42);
	for (l = 0; l < len; l++)
		CU_ASSERT_EQUAL(ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr0, apdu_select_mf, 7, out, l),
				-EMSGSIZE);
	CU_ASSERT_EQUAL(ota_scp80_cmd_unwrap(&ks, out, len, NULL, &cmd, buf, len - 1), -EMSGSIZE);
	len = ota_scp80_por_build(&ks, spi, tar_b00000, cntr0, 0, apdu_select_mf, 7, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(len, 3 + 2 + 1 + 3 + 32);
	for (l = 0; l < len; l++)
		CU_ASSERT_EQUAL(ota_scp80_por_build(&ks, spi, tar_b00000, cntr0, 0, apdu_select_mf, 7, out, l),
				-EMSGSIZE);
	CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&ks, spi, out, len, NULL, &por, buf, len - 1), -EMSGSIZE);
	/* too long for CPL */
	{
		size_t big = 70000;
		uint8_t *d = talloc_zero_size(g_test_ctx, big), *o = talloc_size(g_test_ctx, big + 64);

		CU_ASSERT_EQUAL(ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr0, d, big, o, big + 64), -EMSGSIZE);
		/* 65520 octets: CNTR..data = 65534, padded to 65536, CPL = 65544 */
		CU_ASSERT_EQUAL(ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr0, d, 65520, o, big + 64), -EMSGSIZE);
		/* 65496 octets: padded by 10, CPL = 65528 */
		CU_ASSERT_EQUAL(ota_scp80_cmd_build(&ks, spi, tar_b00000, cntr0, d, 65496, o, big + 64), 65530);
	}
}

/* The PoR as seen by the server: every truncation and every flipped bit is rejected. */
static void test_por_negative(void)
{
	static const uint8_t spi2s[] = { 0x39, 0x29, 0x25, 0x35 };	/* CC+ciph, CC, CRC32, CRC32+ciph */
	struct ota_scp80_keyset ks;
	struct ota_scp80_por por;
	uint8_t cntr[5], ud[64], buf[64];
	unsigned int s, bit;
	int len, i, rc;

	for (s = 0; s < sizeof(spi2s); s++) {
		const uint8_t spi[2] = { 0x16, spi2s[s] };

		make_keyset(&ks, &algos[3], (spi2s[s] & 0x04) ? 0x5 : 0);
		ota_scp80_cntr_put(cntr, 77);
		len = ota_scp80_por_build(&ks, spi, tar_b00011, cntr, 0, (const uint8_t *)"\x01\x90\x00", 3, ud,
					  sizeof(ud));
		CU_ASSERT_FATAL(len > 16);
		CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&ks, spi, ud, len, cntr, &por, buf, sizeof(buf)), 0);
		for (i = 0; i < len; i++) {
			rc = ota_scp80_por_unwrap(&ks, spi, ud, i, cntr, &por, buf, sizeof(buf));
			/* up to the UDH: malformed; then RPL points beyond the end */
			CU_ASSERT_EQUAL(rc, i < 5 ? -EBADMSG : -EMSGSIZE);
		}
		for (i = 0; i < len; i++) {
			for (bit = 0; bit < 8; bit++) {
				uint8_t t[64];

				memcpy(t, ud, len);
				t[i] ^= 1 << bit;
				rc = ota_scp80_por_unwrap(&ks, spi, t, len, cntr, &por, buf, sizeof(buf));
				CU_ASSERT(rc == -EBADMSG || rc == -EMSGSIZE || rc == -EKEYREJECTED);
				if (i >= 6)
					CU_ASSERT_EQUAL(rc, -EKEYREJECTED);
			}
		}
		/* wrong counter expected */
		ota_scp80_cntr_put(cntr, 78);
		CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&ks, spi, ud, len, cntr, &por, buf, sizeof(buf)), -ERANGE);
		/* wrong keys */
		ks.kid_key[0] ^= 1;
		ks.kic_key[0] ^= 1;
		rc = ota_scp80_por_unwrap(&ks, spi, ud, len, NULL, &por, buf, sizeof(buf));
		CU_ASSERT_EQUAL(rc, (spi2s[s] & 0x08) || (spi2s[s] & 0x10) ? -EKEYREJECTED : 0);
	}
	/* no IEI 71 in the UDH */
	{
		const uint8_t spi[2] = { 0x16, 0x01 };
		uint8_t u[] = { 0x02, 0x70, 0x00, 0x00, 0x0e, 0x0a, 0xb0, 0x00, 0x11, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x61,
				0x2f };

		make_keyset(&ks, &algos[3], 0);
		CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&ks, spi, u, sizeof(u), NULL, &por, buf, sizeof(buf)), -EBADMSG);
		u[1] = 0x71;
		CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&ks, spi, u, sizeof(u), NULL, &por, buf, sizeof(buf)), 0);
		CU_ASSERT_EQUAL(por.status, OTA_SCP80_POR_OK);
		/* PCNTR without ciphering (some implementations pad for the CC): stripped; beyond the data: bad */
		u[14] = 1;
		CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&ks, spi, u, sizeof(u), NULL, &por, buf, sizeof(buf)), 0);
		CU_ASSERT_EQUAL(por.data_len, 2);
		u[14] = 4;
		CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&ks, spi, u, sizeof(u), NULL, &por, buf, sizeof(buf)), -EBADMSG);
		u[14] = 0;
		/* UDH longer than the user data; IE longer than the UDH */
		u[0] = 0x20;
		CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&ks, spi, u, sizeof(u), NULL, &por, buf, sizeof(buf)), -EBADMSG);
		u[0] = 0x02;
		u[2] = 0x01;
		CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&ks, spi, u, sizeof(u), NULL, &por, buf, sizeof(buf)), -EBADMSG);
	}
}

static const struct test_case vector_cases[] = {
	TEST_CASE(test_vec_cmd_ciphered_nocc),
	TEST_CASE(test_vec_cmd_cc_only),
	TEST_CASE(test_vec_cmd_none),
	TEST_CASE(test_vec_por_ciphered_cc),
	TEST_CASE(test_vec_por_cc),
	TEST_CASE(test_vec_por_cc_corrupted),
	TEST_CASE(test_vec_por_none),
	TEST_CASE(test_vec_por_wrong_cntr),
	TEST_CASE(test_aes_kat),
	TEST_CASE(test_aes_cc_padded_unciphered),
	TEST_CASE(test_rc_kat),
	TEST_END
};

static const struct test_case roundtrip_cases[] = {
	TEST_CASE(test_spi_codec),
	TEST_CASE(test_spi_sgp02_minimum),
	TEST_CASE(test_cntr_helpers),
	TEST_CASE(test_unwrap_in_place),
	TEST_CASE(test_status_names),
	TEST_CASE(test_cmd_roundtrip_all),
	TEST_CASE(test_por_roundtrip_all),
	TEST_CASE(test_exchange_cross_product),
	TEST_END
};

static const struct test_case negative_cases[] = {
	TEST_CASE(test_cmd_truncated),
	TEST_CASE(test_cmd_every_byte_flipped),
	TEST_CASE(test_cmd_wrong_keys),
	TEST_CASE(test_cmd_counter_rules),
	TEST_CASE(test_cmd_replay),
	TEST_CASE(test_unsupported),
	TEST_CASE(test_invalid_args),
	TEST_CASE(test_por_negative),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "scp80_vectors", NULL, NULL, vector_cases },
	{ "scp80_roundtrip", NULL, NULL, roundtrip_cases },
	{ "scp80_negative", NULL, NULL, negative_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
