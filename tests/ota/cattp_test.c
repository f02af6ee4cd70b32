/* Tests for the CAT_TP PDU codec (ETSI TS 102 127). The expected PDUs below were computed independently (a few
 * lines of Python implementing the TS 102 127 header layout and the RFC 1071 checksum), not with this code. */
#include <errno.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/ota/cattp.h>

#include "testlib.h"

#define HEX_SYN		"8000001A00010400000012340000000A5FF200C803E803010203"
#define HEX_SYNACK	"C000001704000001000001001234000A23F900C803E800"
#define HEX_ACK		"4000001200010400000012350100000AA8AD"
#define HEX_DATA	"4400001204000001000501011235000A9BA10102030405"
#define HEX_EAK		"6000001600010400000012360101000A86A001030104"
#define HEX_NUL		"4800001200010400000012360101000AA0AB"
#define HEX_RST		"10000013040000010000010200000000E5E905"

static const uint8_t ident[] = { 0x01, 0x02, 0x03 };
static const uint8_t payload[] = { 0x01, 0x02, 0x03, 0x04, 0x05 };

static void check_encode(const struct ota_cattp_pdu *pdu, const char *hex)
{
	uint8_t buf[600];
	int n;

	n = ota_cattp_encode(buf, sizeof(buf), pdu);
	CU_ASSERT(n > 0);
	CU_ASSERT_EQUAL(n, ota_cattp_encoded_len(pdu));
	if (n > 0)
		TEST_ASSERT_HEX(buf, n, hex);
	/* one byte too small */
	if (n > 0)
		CU_ASSERT_EQUAL(ota_cattp_encode(buf, n - 1, pdu), -EMSGSIZE);
}

static void test_checksum(void)
{
	/* RFC 1071 §3 example: 0001 f203 f4f5 f6f7 sums to ddf2, complement 220d */
	const uint8_t ex[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	const uint8_t odd[] = { 0x12, 0x34, 0x56 };

	CU_ASSERT_EQUAL(ota_cattp_checksum(ex, sizeof(ex)), 0x220d);
	/* odd length: 1234 + 5600 = 6834 -> 97cb */
	CU_ASSERT_EQUAL(ota_cattp_checksum(odd, sizeof(odd)), 0x97cb);
	CU_ASSERT_EQUAL(ota_cattp_checksum(NULL, 0), 0xFFFF);
}

static void test_encode_vectors(void)
{
	struct ota_cattp_pdu p;
	const uint16_t eak[] = { 0x0103, 0x0104 };

	CU_ASSERT_EQUAL(ota_cattp_init_syn(&p, false, 1, 1024, 0x1234, 0x9999, 10, 200, 1000, ident, 3), 0);
	CU_ASSERT_EQUAL(p.ack, 0);	/* ack number only with ACK */
	check_encode(&p, HEX_SYN);
	CU_ASSERT_EQUAL(ota_cattp_init_syn(&p, true, 1024, 1, 0x0100, 0x1234, 10, 200, 1000, NULL, 0), 0);
	check_encode(&p, HEX_SYNACK);
	CU_ASSERT_EQUAL(ota_cattp_init_ack(&p, 1, 1024, 0x1235, 0x0100, 10, NULL, 0, false), 0);
	check_encode(&p, HEX_ACK);
	CU_ASSERT_EQUAL(ota_cattp_init_ack(&p, 1024, 1, 0x0101, 0x1235, 10, payload, sizeof(payload), true), 0);
	check_encode(&p, HEX_DATA);
	CU_ASSERT_EQUAL(ota_cattp_init_eak(&p, 1, 1024, 0x1236, 0x0101, 10, eak, 2), 0);
	check_encode(&p, HEX_EAK);
	CU_ASSERT_EQUAL(ota_cattp_init_nul(&p, 1, 1024, 0x1236, 0x0101, 10), 0);
	check_encode(&p, HEX_NUL);
	CU_ASSERT_EQUAL(ota_cattp_init_rst(&p, 1024, 1, 0x0102, false, 0x5555, OTA_CATTP_RST_MAX_RETRIES), 0);
	check_encode(&p, HEX_RST);
}

static void test_decode_vectors(void)
{
	struct ota_cattp_pdu p;
	uint8_t *b;
	size_t len;

	b = test_hex(HEX_SYN, &len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), 0);
	CU_ASSERT_EQUAL(ota_cattp_pdu_type(p.flags), OTA_CATTP_PDU_SYN);
	CU_ASSERT_EQUAL(p.version, 0);
	CU_ASSERT_EQUAL(p.src_port, 1);
	CU_ASSERT_EQUAL(p.dst_port, 1024);
	CU_ASSERT_EQUAL(p.seq, 0x1234);
	CU_ASSERT_EQUAL(p.window, 10);
	CU_ASSERT_EQUAL(p.checksum, 0x5FF2);
	CU_ASSERT_EQUAL(p.max_pdu_size, 200);
	CU_ASSERT_EQUAL(p.max_sdu_size, 1000);
	TEST_ASSERT_HEX(p.ident, p.ident_len, "010203");
	CU_ASSERT_EQUAL(p.data_len, 0);
	CU_ASSERT_PTR_NULL(p.data);

	b = test_hex(HEX_SYNACK, &len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), 0);
	CU_ASSERT_EQUAL(ota_cattp_pdu_type(p.flags), OTA_CATTP_PDU_SYN_ACK);
	CU_ASSERT_EQUAL(p.ack, 0x1234);
	CU_ASSERT_EQUAL(p.ident_len, 0);

	b = test_hex(HEX_DATA, &len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), 0);
	CU_ASSERT_EQUAL(ota_cattp_pdu_type(p.flags), OTA_CATTP_PDU_ACK);
	CU_ASSERT(p.flags & OTA_CATTP_F_SEG);
	TEST_ASSERT_HEX(p.data, p.data_len, "0102030405");
	CU_ASSERT_PTR_EQUAL(p.data, b + 18);

	b = test_hex(HEX_EAK, &len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), 0);
	CU_ASSERT_EQUAL(ota_cattp_pdu_type(p.flags), OTA_CATTP_PDU_EAK);
	CU_ASSERT_EQUAL_FATAL(p.num_eak, 2);
	CU_ASSERT_EQUAL(p.eak[0], 0x0103);
	CU_ASSERT_EQUAL(p.eak[1], 0x0104);

	b = test_hex(HEX_NUL, &len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), 0);
	CU_ASSERT_EQUAL(ota_cattp_pdu_type(p.flags), OTA_CATTP_PDU_NUL);

	b = test_hex(HEX_RST, &len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), 0);
	CU_ASSERT_EQUAL(ota_cattp_pdu_type(p.flags), OTA_CATTP_PDU_RST);
	CU_ASSERT_EQUAL(p.rst_reason, OTA_CATTP_RST_MAX_RETRIES);
	CU_ASSERT_STRING_EQUAL(ota_cattp_rst_reason_name(p.rst_reason), "max-retries-exceeded");
}

/* Encode then decode every PDU type with option variations; the decoded PDU equals the original. */
static void roundtrip(const struct ota_cattp_pdu *in)
{
	uint8_t buf[600];
	struct ota_cattp_pdu out;
	int n;

	n = ota_cattp_encode(buf, sizeof(buf), in);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL_FATAL(ota_cattp_decode(&out, buf, n), 0);
	CU_ASSERT_EQUAL(out.flags, in->flags);
	CU_ASSERT_EQUAL(out.src_port, in->src_port);
	CU_ASSERT_EQUAL(out.dst_port, in->dst_port);
	CU_ASSERT_EQUAL(out.seq, in->seq);
	CU_ASSERT_EQUAL(out.ack, in->ack);
	CU_ASSERT_EQUAL(out.window, in->window);
	CU_ASSERT_EQUAL(out.max_pdu_size, in->max_pdu_size);
	CU_ASSERT_EQUAL(out.max_sdu_size, in->max_sdu_size);
	CU_ASSERT_EQUAL(out.ident_len, in->ident_len);
	CU_ASSERT(memcmp(out.ident, in->ident, in->ident_len) == 0);
	CU_ASSERT_EQUAL(out.num_eak, in->num_eak);
	CU_ASSERT(memcmp(out.eak, in->eak, in->num_eak * 2) == 0);
	CU_ASSERT_EQUAL(out.rst_reason, in->rst_reason);
	CU_ASSERT_EQUAL(out.data_len, in->data_len);
	if (in->data_len)
		CU_ASSERT(memcmp(out.data, in->data, in->data_len) == 0);
	CU_ASSERT_EQUAL(ota_cattp_checksum(buf, n), 0);
}

static void test_roundtrip(void)
{
	uint8_t id[OTA_CATTP_MAX_IDENT], data[300];
	uint16_t eak[OTA_CATTP_MAX_EAK];
	struct ota_cattp_pdu p;
	unsigned int i;

	for (i = 0; i < sizeof(id); i++)
		id[i] = i * 7;
	for (i = 0; i < sizeof(data); i++)
		data[i] = i;
	for (i = 0; i < OTA_CATTP_MAX_EAK; i++)
		eak[i] = 0xFF00 + i;

	/* SYN with empty, 1-byte, odd and maximum identification */
	ota_cattp_init_syn(&p, false, 0xFFFF, 0, 0xFFFF, 0, 0xFFFF, 0x17, 0xFFFF, id, 0);
	roundtrip(&p);
	ota_cattp_init_syn(&p, false, 9, 9, 0, 0, 1, 200, 200, id, 1);
	roundtrip(&p);
	ota_cattp_init_syn(&p, true, 9, 9, 0, 0xABCD, 1, 200, 200, id, 17);
	roundtrip(&p);
	ota_cattp_init_syn(&p, true, 9, 9, 0, 0xABCD, 1, 200, 200, id, OTA_CATTP_MAX_IDENT);
	roundtrip(&p);
	CU_ASSERT_EQUAL(ota_cattp_encoded_len(&p), 255);

	/* ACK: none, odd and even data, SEG */
	ota_cattp_init_ack(&p, 1, 2, 3, 4, 5, NULL, 0, false);
	roundtrip(&p);
	ota_cattp_init_ack(&p, 1, 2, 3, 4, 5, data, 1, true);
	roundtrip(&p);
	ota_cattp_init_ack(&p, 1, 2, 3, 4, 5, data, sizeof(data), false);
	roundtrip(&p);

	/* EAK: empty, one, maximum, and with data */
	ota_cattp_init_eak(&p, 1, 2, 3, 4, 5, eak, 0);
	roundtrip(&p);
	ota_cattp_init_eak(&p, 1, 2, 3, 4, 5, eak, 1);
	roundtrip(&p);
	ota_cattp_init_eak(&p, 1, 2, 3, 4, 5, eak, OTA_CATTP_MAX_EAK);
	roundtrip(&p);
	CU_ASSERT_EQUAL(ota_cattp_encoded_len(&p), 18 + 2 * 118);
	p.data = data;
	p.data_len = 33;
	roundtrip(&p);

	ota_cattp_init_nul(&p, 1, 2, 3, 4, 5);
	roundtrip(&p);

	/* RST with and without ACK, all reasons */
	for (i = 0; i <= 7; i++) {
		ota_cattp_init_rst(&p, 1, 2, 3, i & 1, 0x4242, i);
		roundtrip(&p);
	}
}

static void test_init_invalid(void)
{
	struct ota_cattp_pdu p;
	uint16_t eak[OTA_CATTP_MAX_EAK + 1] = { 0 };

	CU_ASSERT_EQUAL(ota_cattp_init_syn(&p, false, 1, 2, 3, 4, 5, 6, 7, NULL, 1), -EINVAL);
	CU_ASSERT_EQUAL(ota_cattp_init_syn(NULL, false, 1, 2, 3, 4, 5, 6, 7, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(ota_cattp_init_syn(&p, false, 1, 2, 3, 4, 5, 6, 7, ident, OTA_CATTP_MAX_IDENT + 1), -EINVAL);
	CU_ASSERT_EQUAL(ota_cattp_init_ack(&p, 1, 2, 3, 4, 5, NULL, 3, false), -EINVAL);
	CU_ASSERT_EQUAL(ota_cattp_init_eak(&p, 1, 2, 3, 4, 5, eak, OTA_CATTP_MAX_EAK + 1), -EINVAL);
	CU_ASSERT_EQUAL(ota_cattp_init_eak(&p, 1, 2, 3, 4, 5, NULL, 1), -EINVAL);
	CU_ASSERT_EQUAL(ota_cattp_init_nul(NULL, 1, 2, 3, 4, 5), -EINVAL);
	CU_ASSERT_EQUAL(ota_cattp_init_rst(NULL, 1, 2, 3, false, 4, 5), -EINVAL);
}

static void test_encode_invalid(void)
{
	struct ota_cattp_pdu p;
	uint8_t buf[300];

	/* data on SYN, RST, NUL */
	ota_cattp_init_syn(&p, false, 1, 2, 3, 4, 5, 6, 7, NULL, 0);
	p.data = payload;
	p.data_len = 1;
	CU_ASSERT_EQUAL(ota_cattp_encode(buf, sizeof(buf), &p), -EINVAL);
	ota_cattp_init_rst(&p, 1, 2, 3, false, 4, 0);
	p.data = payload;
	p.data_len = 1;
	CU_ASSERT_EQUAL(ota_cattp_encode(buf, sizeof(buf), &p), -EINVAL);
	ota_cattp_init_nul(&p, 1, 2, 3, 4, 5);
	p.data = payload;
	p.data_len = 1;
	CU_ASSERT_EQUAL(ota_cattp_encode(buf, sizeof(buf), &p), -EINVAL);
	/* data_len without data */
	ota_cattp_init_ack(&p, 1, 2, 3, 4, 5, NULL, 0, false);
	p.data_len = 2;
	CU_ASSERT_EQUAL(ota_cattp_encode(buf, sizeof(buf), &p), -EINVAL);
	/* illegal flags and version */
	ota_cattp_init_ack(&p, 1, 2, 3, 4, 5, NULL, 0, false);
	p.flags = OTA_CATTP_F_SEG;
	CU_ASSERT_EQUAL(ota_cattp_encode(buf, sizeof(buf), &p), -EINVAL);
	p.flags = OTA_CATTP_F_ACK | 0x01;
	CU_ASSERT_EQUAL(ota_cattp_encode(buf, sizeof(buf), &p), -EINVAL);
	p.flags = OTA_CATTP_F_ACK;
	p.version = 4;
	CU_ASSERT_EQUAL(ota_cattp_encode(buf, sizeof(buf), &p), -EINVAL);
	/* a future version can be encoded (for tests of the peer's RST) */
	p.version = 1;
	CU_ASSERT_EQUAL(ota_cattp_encode(buf, sizeof(buf), &p), 18);
	CU_ASSERT_EQUAL(buf[0], 0x41);
	/* counts beyond the one-byte header length */
	ota_cattp_init_eak(&p, 1, 2, 3, 4, 5, NULL, 0);
	p.num_eak = OTA_CATTP_MAX_EAK + 1;
	CU_ASSERT_EQUAL(ota_cattp_encode(buf, sizeof(buf), &p), -EINVAL);
	ota_cattp_init_syn(&p, false, 1, 2, 3, 4, 5, 6, 7, NULL, 0);
	p.ident_len = OTA_CATTP_MAX_IDENT + 1;
	CU_ASSERT_EQUAL(ota_cattp_encode(buf, sizeof(buf), &p), -EINVAL);
	CU_ASSERT_EQUAL(ota_cattp_encode(buf, sizeof(buf), NULL), -EINVAL);
	CU_ASSERT_EQUAL(ota_cattp_encoded_len(NULL), -EINVAL);
}

static void test_flag_combinations(void)
{
	unsigned int f;
	int t;

	for (f = 0; f < 256; f++) {
		uint8_t fl = f & OTA_CATTP_F_MASK;
		int expect;

		if (fl & OTA_CATTP_F_SYN)
			expect = (fl & 0x3C) ? -EBADMSG :
				 (fl & OTA_CATTP_F_ACK ? OTA_CATTP_PDU_SYN_ACK : OTA_CATTP_PDU_SYN);
		else if (fl & OTA_CATTP_F_RST)
			expect = (fl & 0x2C) ? -EBADMSG : OTA_CATTP_PDU_RST;
		else if (!(fl & OTA_CATTP_F_ACK))
			expect = -EBADMSG;
		else if (fl & OTA_CATTP_F_NUL)
			expect = (fl & 0x24) ? -EBADMSG : OTA_CATTP_PDU_NUL;
		else if (fl & OTA_CATTP_F_EAK)
			expect = OTA_CATTP_PDU_EAK;
		else
			expect = OTA_CATTP_PDU_ACK;
		t = ota_cattp_pdu_type(f);
		CU_ASSERT_EQUAL(t, expect);
	}
	CU_ASSERT_STRING_EQUAL(ota_cattp_pdu_type_name(OTA_CATTP_PDU_SYN_ACK), "SYN-ACK");
	CU_ASSERT_STRING_EQUAL(ota_cattp_pdu_type_name(-EBADMSG), "unknown");
}

/* Recompute the checksum of a hand-modified PDU so that only the structural check can fail. */
static void fix_checksum(uint8_t *b, size_t len)
{
	uint16_t c;

	b[16] = b[17] = 0;
	c = ota_cattp_checksum(b, len);
	b[16] = c >> 8;
	b[17] = c & 0xFF;
}

static void test_decode_negative(void)
{
	struct ota_cattp_pdu p;
	uint8_t *b;
	size_t len;

	/* too short for the fixed header */
	b = test_hex(HEX_ACK, &len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, 17), -EBADMSG);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, NULL, 0), -EBADMSG);
	CU_ASSERT_EQUAL(ota_cattp_decode(NULL, b, len), -EINVAL);

	/* trailing byte after the declared length */
	b = test_hex(HEX_ACK "00", &len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), -EBADMSG);

	/* declared data length exceeds the datagram */
	b = test_hex(HEX_DATA, &len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len - 1), -EMSGSIZE);

	/* header length below 18 */
	b = test_hex(HEX_ACK, &len);
	b[3] = 17;
	fix_checksum(b, len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), -EBADMSG);

	/* bad checksum */
	b = test_hex(HEX_ACK, &len);
	b[17] ^= 0x01;
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), -EBADMSG);

	/* illegal flags: SYN+RST, nothing set, NUL+SEG */
	b = test_hex(HEX_NUL, &len);
	b[0] = 0x90;
	fix_checksum(b, len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), -EBADMSG);
	b[0] = 0x00;
	fix_checksum(b, len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), -EBADMSG);
	b[0] = 0x4C;
	fix_checksum(b, len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), -EBADMSG);

	/* data on a NUL PDU */
	b = test_hex("480000120001040000011236 0101000A 0000 AA", &len);
	fix_checksum(b, len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), -EBADMSG);

	/* SYN whose identification length does not match the header length */
	b = test_hex(HEX_SYN, &len);
	b[22] = 2;
	fix_checksum(b, len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), -EBADMSG);
	/* SYN with header shorter than 23 */
	b = test_hex("8000001400010400000012340000000A0000 00C8", &len);
	fix_checksum(b, len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), -EBADMSG);

	/* EAK with an odd extension */
	b = test_hex("6000001500010400000012360101000A0000 010301", &len);
	fix_checksum(b, len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), -EBADMSG);

	/* RST with a longer header, or with data */
	b = test_hex("10000014040000010000010200000000 0000 0500", &len);
	fix_checksum(b, len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), -EBADMSG);
	b = test_hex("10000013040000010001010200000000 0000 05 AA", &len);
	fix_checksum(b, len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), -EBADMSG);

	/* ACK with a variable header */
	b = test_hex("40000014000104000000123501000 00A 0000 0000", &len);
	fix_checksum(b, len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), -EBADMSG);

	/* version 1: decoded, but reported as unsupported */
	b = test_hex(HEX_SYN, &len);
	b[0] |= 0x01;
	fix_checksum(b, len);
	CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), -ENOTSUP);
	CU_ASSERT_EQUAL(p.version, 1);
	CU_ASSERT_EQUAL(p.src_port, 1);
	CU_ASSERT_EQUAL(p.dst_port, 1024);
	CU_ASSERT_EQUAL(p.seq, 0x1234);
}

/* Every truncation of every vector is rejected, and every single-byte change anywhere in the PDU (flip of all bits
 * or of the low bit) is caught: by the length checks or by the checksum. */
static void test_truncation_and_flips(void)
{
	static const char *vec[] = { HEX_SYN, HEX_SYNACK, HEX_ACK, HEX_DATA, HEX_EAK, HEX_NUL, HEX_RST };
	struct ota_cattp_pdu p;
	unsigned int i;
	size_t len, n, k;
	uint8_t *b, *c;
	int rc, x;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		b = test_hex(vec[i], &len);
		CU_ASSERT_EQUAL(ota_cattp_decode(&p, b, len), 0);
		for (n = 0; n < len; n++) {
			c = talloc_memdup(g_test_ctx, b, n ? n : 1);
			rc = ota_cattp_decode(&p, c, n);
			CU_ASSERT(n < 18 ? rc == -EBADMSG : rc == -EMSGSIZE);
			talloc_free(c);
		}
		for (k = 0; k < len; k++) {
			for (x = 0; x < 2; x++) {
				c = talloc_memdup(g_test_ctx, b, len);
				c[k] ^= x ? 0x01 : 0xFF;
				rc = ota_cattp_decode(&p, c, len);
				CU_ASSERT(rc == -EBADMSG || rc == -EMSGSIZE);
				talloc_free(c);
			}
		}
	}
}

static void test_names(void)
{
	CU_ASSERT_STRING_EQUAL(ota_cattp_rst_reason_name(0), "normal-ending");
	CU_ASSERT_STRING_EQUAL(ota_cattp_rst_reason_name(1), "illegal-parameters");
	CU_ASSERT_STRING_EQUAL(ota_cattp_rst_reason_name(2), "temporarily-unable");
	CU_ASSERT_STRING_EQUAL(ota_cattp_rst_reason_name(3), "port-not-available");
	CU_ASSERT_STRING_EQUAL(ota_cattp_rst_reason_name(4), "unexpected-pdu");
	CU_ASSERT_STRING_EQUAL(ota_cattp_rst_reason_name(6), "version-not-supported");
	CU_ASSERT_STRING_EQUAL(ota_cattp_rst_reason_name(7), "rfu");
	CU_ASSERT_STRING_EQUAL(ota_cattp_rst_reason_name(0xFF), "rfu");
}

static const struct test_case cattp_cases[] = {
	TEST_CASE(test_checksum),
	TEST_CASE(test_encode_vectors),
	TEST_CASE(test_decode_vectors),
	TEST_CASE(test_roundtrip),
	TEST_CASE(test_init_invalid),
	TEST_CASE(test_encode_invalid),
	TEST_CASE(test_flag_combinations),
	TEST_CASE(test_decode_negative),
	TEST_CASE(test_truncation_and_flips),
	TEST_CASE(test_names),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "cattp", NULL, NULL, cattp_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
