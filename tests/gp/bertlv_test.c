/* Unit tests for the BER-TLV codec (src/gp/bertlv.c). */
#include <errno.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/gp/bertlv.h>

#include "testlib.h"

static void test_tags(void)
{
	static const struct {
		const char *hex;
		int rc;
		uint32_t tag;
		uint8_t len;
	} v[] = {
		{ "4F", 0, 0x4F, 1 },
		{ "9F70", 0, 0x9F70, 2 },
		{ "5F20", 0, 0x5F20, 2 },
		{ "BF30", 0, 0xBF30, 2 },
		{ "FF21", 0, 0xFF21, 2 },
		{ "DF8102", 0, 0xDF8102, 3 },
		{ "DF818203", 0, 0xDF818203, 4 },
		{ "DF81828304", -ENOTSUP, 0, 0 },	/* 5-byte tag */
		{ "1F80", -EBADMSG, 0, 0 },		/* leading zero bits in the tag number */
		{ "9F", -EBADMSG, 0, 0 },		/* truncated */
		{ "BF81", -EBADMSG, 0, 0 },		/* truncated continuation */
		{ "00", -EBADMSG, 0, 0 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n;
		uint8_t *b = test_hex(v[i].hex, &n);
		uint32_t tag = 0;
		uint8_t tl = 0;
		int rc = gp_tlv_decode_tag(b, n, &tag, &tl);

		CU_ASSERT_EQUAL(rc, v[i].rc);
		if (rc == 0) {
			CU_ASSERT_EQUAL(tag, v[i].tag);
			CU_ASSERT_EQUAL(tl, v[i].len);
			CU_ASSERT_EQUAL(gp_tlv_tag_size(tag), tl);
		}
	}
	CU_ASSERT_EQUAL(gp_tlv_decode_tag(NULL, 0, NULL, NULL), -EBADMSG);
}

static void test_lengths(void)
{
	static const struct {
		const char *hex;
		int rc;
		size_t len;
		bool der;
	} v[] = {
		{ "8200", 2, 0, true },
		{ "82017F", 3, 1, true },
		{ "8281017F", 4, 1, false },		/* long form for a short length: BER, not DER */
		{ "8282020000", -EMSGSIZE, 0, false },
		{ "8280", -ENOTSUP, 0, false },		/* indefinite */
		{ "8285", -ENOTSUP, 0, false },		/* 5 length bytes */
		{ "82FF", -EBADMSG, 0, false },		/* reserved */
		{ "8282", -EBADMSG, 0, false },		/* length bytes missing */
		{ "828201", -EBADMSG, 0, false },
		{ "8205AABB", -EMSGSIZE, 0, false },	/* declared length past the end */
		{ "82", -EBADMSG, 0, false },		/* no length at all */
		{ "", -EBADMSG, 0, false },
	};
	unsigned int i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n;
		uint8_t *b = test_hex(v[i].hex, &n);
		struct gp_tlv t;
		int rc = gp_tlv_parse(b, n, &t);

		CU_ASSERT_EQUAL(rc, v[i].rc);
		if (rc > 0) {
			CU_ASSERT_EQUAL(t.len, v[i].len);
			CU_ASSERT_EQUAL(t.der_len, v[i].der);
			CU_ASSERT_EQUAL(t.tag, 0x82);
			CU_ASSERT_FALSE(t.constructed);
			CU_ASSERT_EQUAL(t.cls, GP_TLV_CLASS_CONTEXT);
		}
	}
}

/* long forms 81, 82, 83, 84 with real buffers */
static void test_long_forms(void)
{
	static const size_t lens[] = { 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x12345 };
	unsigned int i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t vlen = lens[i], cap = vlen + 10;
		uint8_t *buf = talloc_zero_size(g_test_ctx, cap);
		uint8_t *val = talloc_size(g_test_ctx, vlen);
		struct gp_tlv t;
		int rc;

		memset(val, 0x5a, vlen);
		rc = gp_tlv_encode(buf, cap, 0xDF8102, val, vlen);
		CU_ASSERT_EQUAL(rc, (int)(3 + gp_tlv_len_size(vlen) + vlen));
		CU_ASSERT_EQUAL(buf[3], 0x80 | (gp_tlv_len_size(vlen) - 1));
		CU_ASSERT_EQUAL(gp_tlv_parse(buf, rc, &t), rc);
		CU_ASSERT_EQUAL(t.len, vlen);
		CU_ASSERT_TRUE(t.der_len);
		CU_ASSERT_EQUAL(t.tag, 0xDF8102);
		CU_ASSERT_EQUAL(t.val - buf, 3 + gp_tlv_len_size(vlen));
		/* one byte short: value past the end */
		CU_ASSERT_EQUAL(gp_tlv_parse(buf, rc - 1, &t), -EMSGSIZE);
		/* output too small */
		CU_ASSERT_EQUAL(gp_tlv_encode(buf, rc - 1, 0xDF8102, val, vlen), -EMSGSIZE);
	}
	/* 84 form with 4 length bytes parses (value absent -> EMSGSIZE, not a crash) */
	{
		size_t n;
		uint8_t *b = test_hex("04 84 01 00 00 00", &n);
		struct gp_tlv t;

		CU_ASSERT_EQUAL(gp_tlv_parse(b, n, &t), -EMSGSIZE);
		b = test_hex("04 84 00 00 00 01 AA", &n);
		CU_ASSERT_EQUAL(gp_tlv_parse(b, n, &t), 7);
		CU_ASSERT_FALSE(t.der_len);
	}
}

static void test_encode_len(void)
{
	uint8_t out[8];

	CU_ASSERT_EQUAL(gp_tlv_encode_len(out, sizeof(out), 0), 1);
	TEST_ASSERT_HEX(out, 1, "00");
	CU_ASSERT_EQUAL(gp_tlv_encode_len(out, sizeof(out), 127), 1);
	TEST_ASSERT_HEX(out, 1, "7F");
	CU_ASSERT_EQUAL(gp_tlv_encode_len(out, sizeof(out), 128), 2);
	TEST_ASSERT_HEX(out, 2, "8180");
	CU_ASSERT_EQUAL(gp_tlv_encode_len(out, sizeof(out), 255), 2);
	TEST_ASSERT_HEX(out, 2, "81FF");
	CU_ASSERT_EQUAL(gp_tlv_encode_len(out, sizeof(out), 256), 3);
	TEST_ASSERT_HEX(out, 3, "820100");
	CU_ASSERT_EQUAL(gp_tlv_encode_len(out, sizeof(out), 0xffff), 3);
	TEST_ASSERT_HEX(out, 3, "82FFFF");
	CU_ASSERT_EQUAL(gp_tlv_encode_len(out, sizeof(out), 0x10000), 4);
	TEST_ASSERT_HEX(out, 4, "83010000");
	CU_ASSERT_EQUAL(gp_tlv_encode_len(out, sizeof(out), 0x1000000), 5);
	TEST_ASSERT_HEX(out, 5, "8401000000");
	CU_ASSERT_EQUAL(gp_tlv_encode_len(out, 2, 0x10000), -EMSGSIZE);
	CU_ASSERT_EQUAL(gp_tlv_encode_tag(out, sizeof(out), 0), -EINVAL);
	CU_ASSERT_EQUAL(gp_tlv_encode_tag(out, 1, 0x9F70), -EMSGSIZE);
	CU_ASSERT_EQUAL(gp_tlv_encode_tag(out, sizeof(out), 0x9F70), 2);
	TEST_ASSERT_HEX(out, 2, "9F70");
	CU_ASSERT_EQUAL(gp_tlv_encode(out, sizeof(out), 0x4F, NULL, 1), -EINVAL);
}

/* E3 { 4F 10 <AID>, 9F70 01 07, 53 01 01 } followed by a sibling 90 00 */
static const char *g_nested = "E319 4F10A0000005591010FFFFFFFF8900001000 9F700107 530101 9000";

static void test_iterate_find(void)
{
	size_t n, off = 0;
	uint8_t *b = test_hex(g_nested, &n);
	struct gp_tlv t;
	uint32_t path[2] = { 0xE3, 0x9F70 };
	size_t offs[2];
	int rc;

	CU_ASSERT_EQUAL(gp_tlv_next(b, n, &off, &t), 1);
	CU_ASSERT_EQUAL(t.tag, 0xE3);
	CU_ASSERT_TRUE(t.constructed);
	CU_ASSERT_EQUAL(t.cls, GP_TLV_CLASS_PRIVATE);
	CU_ASSERT_EQUAL(t.len, 0x19);
	CU_ASSERT_EQUAL(gp_tlv_next(b, n, &off, &t), 1);
	CU_ASSERT_EQUAL(t.tag, 0x90);
	CU_ASSERT_EQUAL(t.len, 0);
	CU_ASSERT_EQUAL(gp_tlv_next(b, n, &off, &t), 0);
	CU_ASSERT_EQUAL(off, n);

	rc = gp_tlv_find_path(b, n, path, 2, &t, offs);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(t.len, 1);
	CU_ASSERT_EQUAL(t.val[0], 0x07);
	CU_ASSERT_EQUAL(offs[0], 0);
	CU_ASSERT_EQUAL(offs[1], 2 + 18);

	path[1] = 0x5F20;
	CU_ASSERT_EQUAL(gp_tlv_find_path(b, n, path, 2, &t, NULL), -ENOENT);
	/* descending into a primitive TLV is an error */
	path[0] = 0x90;
	path[1] = 0x4F;
	CU_ASSERT_EQUAL(gp_tlv_find_path(b, n, path, 2, &t, NULL), -EBADMSG);
	CU_ASSERT_EQUAL(gp_tlv_find_path(b, n, path, 0, &t, NULL), -EINVAL);

	CU_ASSERT_EQUAL(gp_tlv_find(b, n, 0x90, &t), 0);
	CU_ASSERT_EQUAL(gp_tlv_find_nth(b, n, 0x90, 1, &t), -ENOENT);
	/* a malformed sibling before the wanted tag is reported */
	b = test_hex("4F 05 01 90 00", &n);
	CU_ASSERT_EQUAL(gp_tlv_find(b, n, 0x90, &t), -EMSGSIZE);

	b = test_hex(g_nested, &n);
	CU_ASSERT_EQUAL(gp_tlv_validate(b, n, true, GP_TLV_MAX_DEPTH), 5);
}

static void test_validate_der(void)
{
	size_t n;
	uint8_t *b;

	/* nested non-minimal length: BER ok, DER rejected */
	b = test_hex("A0 05 81 03 01 02 03", &n);
	CU_ASSERT_EQUAL(gp_tlv_validate(b, n, false, 4), 2);
	CU_ASSERT_EQUAL(gp_tlv_validate(b, n, true, 4), 2);
	b = test_hex("A0 06 81 81 03 01 02 03", &n);
	CU_ASSERT_EQUAL(gp_tlv_validate(b, n, false, 4), 2);
	CU_ASSERT_EQUAL(gp_tlv_validate(b, n, true, 4), -EBADMSG);
	/* constructed value that is not a TLV sequence */
	b = test_hex("A0 03 81 05 01", &n);
	CU_ASSERT_EQUAL(gp_tlv_validate(b, n, false, 4), -EMSGSIZE);
	/* empty buffer: zero TLVs */
	CU_ASSERT_EQUAL(gp_tlv_validate(b, 0, true, 4), 0);
	CU_ASSERT_EQUAL(gp_tlv_validate(NULL, 3, true, 4), -EINVAL);
}

static void test_deep_nesting(void)
{
	const unsigned int depth = 200;
	uint8_t *b = talloc_size(g_test_ctx, 2 * depth);
	unsigned int i;

	/* A0 (2*depth-2) A0 ... A0 00, all short form? no: build from the inside out */
	for (i = 0; i < depth; i++) {
		b[2 * i] = 0xA0;
		b[2 * i + 1] = 2 * (depth - 1 - i);
	}
	/* lengths above 127 would need the long form; keep only the innermost 60 levels */
	b += 2 * (depth - 60);
	CU_ASSERT_EQUAL(gp_tlv_validate(b, 120, false, 60), 60);
	CU_ASSERT_EQUAL(gp_tlv_validate(b, 120, false, 59), -ELOOP);
	CU_ASSERT_EQUAL(gp_tlv_validate(b, 120, false, GP_TLV_MAX_DEPTH), -ELOOP);
}

/* Truncating a nested structure at every length gives a specific error, never a crash */
static void test_truncation(void)
{
	size_t n, cut;
	uint8_t *b = test_hex("BF30 81 83 FF21 0E 81 02 0010 82 04 00010000 83 02 0800"
			      "C0 70 0000000000000000000000000000000000000000000000000000000000000000"
			      "0000000000000000000000000000000000000000000000000000000000000000"
			      "0000000000000000000000000000000000000000000000000000000000000000"
			      "00000000000000000000000000000000", &n);

	CU_ASSERT_EQUAL(gp_tlv_validate(b, n, true, 8), 6);
	for (cut = 1; cut < n; cut++) {
		uint8_t *p = talloc_memdup(g_test_ctx, b, cut);	/* exact-size copy for ASan */
		int rc = gp_tlv_validate(p, cut, true, 8);

		/* header of the outer TLV is 4 bytes: shorter -> header truncated, else value truncated */
		if (cut < 4)
			CU_ASSERT_EQUAL(rc, -EBADMSG);
		if (cut >= 4)
			CU_ASSERT_EQUAL(rc, -EMSGSIZE);
		talloc_free(p);
	}
}

/* Flipping every bit of every header byte: defined results only */
static void test_header_flips(void)
{
	size_t n, i;
	uint8_t *b = test_hex(g_nested, &n);
	/* header positions: E3 1A | 4F 10 | 9F 70 01 | 53 01 | 90 00 */
	static const size_t hdr[] = { 0, 1, 2, 3, 20, 21, 22, 24, 25, 27, 28 };
	unsigned int bit, counts[4] = { 0 };

	for (i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++) {
		for (bit = 0; bit < 8; bit++) {
			uint8_t *p = talloc_memdup(g_test_ctx, b, n);
			int rc;

			p[hdr[i]] ^= 1 << bit;
			rc = gp_tlv_validate(p, n, true, GP_TLV_MAX_DEPTH);
			CU_ASSERT(rc >= 0 || rc == -EBADMSG || rc == -EMSGSIZE || rc == -ENOTSUP);
			if (rc >= 0)
				counts[0]++;
			else if (rc == -EBADMSG)
				counts[1]++;
			else if (rc == -EMSGSIZE)
				counts[2]++;
			else
				counts[3]++;
			talloc_free(p);
		}
	}
	/* the outer length byte 19 -> 99 (bit 7): long form with 25 length bytes -> unsupported */
	{
		uint8_t *p = talloc_memdup(g_test_ctx, b, n);

		p[1] = 0x99;
		CU_ASSERT_EQUAL(gp_tlv_validate(p, n, true, GP_TLV_MAX_DEPTH), -ENOTSUP);
		p[1] = 0x1A;	/* one more: swallows half of the sibling's header */
		CU_ASSERT_EQUAL(gp_tlv_validate(p, n, true, GP_TLV_MAX_DEPTH), -EBADMSG);
		p[1] = 0x1C;	/* more than available */
		CU_ASSERT_EQUAL(gp_tlv_validate(p, n, true, GP_TLV_MAX_DEPTH), -EMSGSIZE);
		p[1] = 0x80;
		CU_ASSERT_EQUAL(gp_tlv_validate(p, n, true, GP_TLV_MAX_DEPTH), -ENOTSUP);
		p[1] = 0x18;	/* one less: the last child overruns the parent */
		CU_ASSERT_EQUAL(gp_tlv_validate(p, n, true, GP_TLV_MAX_DEPTH), -EMSGSIZE);
	}
	/* each class of outcome happened */
	CU_ASSERT(counts[0] > 0);
	CU_ASSERT(counts[1] > 0);
	CU_ASSERT(counts[2] > 0);
	CU_ASSERT(counts[3] > 0);
}

static void test_builder(void)
{
	struct gp_tlv_builder b;
	size_t n;
	uint8_t *aid = test_hex("A0000005591010FFFFFFFF8900001000", &n);
	uint8_t big[200];
	struct gp_tlv t;
	int rc;

	CU_ASSERT_EQUAL(gp_tlv_builder_init(&b, g_test_ctx), 0);
	gp_tlv_open(&b, 0xE3);
	gp_tlv_put(&b, 0x4F, aid, n);
	gp_tlv_put_uint(&b, 0x9F70, 7);
	gp_tlv_put_uint(&b, 0x53, 1);
	gp_tlv_close(&b);
	gp_tlv_put(&b, 0x90, NULL, 0);
	rc = gp_tlv_builder_finish(&b);
	CU_ASSERT_EQUAL(rc, 29);
	TEST_ASSERT_HEX(b.data, b.len, g_nested);

	/* a value needing 81 xx inside two levels: the builder moves the value when closing */
	memset(big, 0xAB, sizeof(big));
	CU_ASSERT_EQUAL(gp_tlv_builder_init(&b, g_test_ctx), 0);
	gp_tlv_open(&b, 0xBF30);
	gp_tlv_open(&b, 0xFF21);
	gp_tlv_put(&b, 0xC0, big, sizeof(big));
	gp_tlv_put_uint(&b, 0x82, 0x10000);
	gp_tlv_close(&b);
	gp_tlv_close(&b);
	rc = gp_tlv_builder_finish(&b);
	CU_ASSERT_EQUAL(rc, 216);
	CU_ASSERT_EQUAL(gp_tlv_validate(b.data, b.len, true, 4), 4);
	CU_ASSERT_EQUAL(gp_tlv_parse(b.data, b.len, &t), rc);
	CU_ASSERT_EQUAL(t.tag, 0xBF30);
	CU_ASSERT_EQUAL(t.len, 212);
	TEST_ASSERT_HEX(b.data + rc - 5, 5, "8203010000");

	/* put_uint encodes at least one byte */
	CU_ASSERT_EQUAL(gp_tlv_builder_init(&b, g_test_ctx), 0);
	gp_tlv_put_uint(&b, 0x80, 0);
	gp_tlv_put_uint(&b, 0x81, 0x1234);
	CU_ASSERT_EQUAL(gp_tlv_builder_finish(&b), 7);
	TEST_ASSERT_HEX(b.data, b.len, "800100 81021234");
}

static void test_builder_errors(void)
{
	struct gp_tlv_builder b;
	unsigned int i;

	CU_ASSERT_EQUAL(gp_tlv_builder_init(&b, g_test_ctx), 0);
	CU_ASSERT_EQUAL(gp_tlv_close(&b), -EINVAL);
	/* sticky */
	CU_ASSERT_EQUAL(gp_tlv_put(&b, 0x80, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(gp_tlv_builder_finish(&b), -EINVAL);

	CU_ASSERT_EQUAL(gp_tlv_builder_init(&b, g_test_ctx), 0);
	for (i = 0; i < GP_TLV_MAX_DEPTH; i++)
		CU_ASSERT_EQUAL(gp_tlv_open(&b, 0xA0), 0);
	CU_ASSERT_EQUAL(gp_tlv_open(&b, 0xA0), -ELOOP);
	CU_ASSERT_EQUAL(gp_tlv_builder_finish(&b), -ELOOP);

	CU_ASSERT_EQUAL(gp_tlv_builder_init(&b, g_test_ctx), 0);
	gp_tlv_open(&b, 0xA0);
	CU_ASSERT_EQUAL(gp_tlv_builder_finish(&b), -EINVAL);	/* still open */

	CU_ASSERT_EQUAL(gp_tlv_builder_init(&b, g_test_ctx), 0);
	CU_ASSERT_EQUAL(gp_tlv_put(&b, 0, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(gp_tlv_put_raw(&b, (const uint8_t *)"x", 1), -EINVAL);
}

static void test_splice(void)
{
	size_t n, on;
	uint8_t *b = test_hex("01 02 A0 08 A1 06 80 01 11 81 01 22 03 04", &n);
	static const uint32_t path[3] = { 0xA0, 0xA1, 0x81 };
	size_t offs[3];
	struct gp_tlv t;
	uint8_t *out, big[300];

	/* prefix 0102 is not a TLV start for find_path (tag 01 len 02 ...) -> use offsets directly */
	offs[0] = 2;
	offs[1] = 4;
	offs[2] = 9;
	CU_ASSERT_EQUAL(gp_tlv_splice(g_test_ctx, b, n, offs, 3, (const uint8_t *)"\x33", 1, &out, &on), 0);
	TEST_ASSERT_HEX(out, on, "01 02 A0 08 A1 06 80 01 11 81 01 33 03 04");

	/* longer value: all enclosing lengths grow */
	CU_ASSERT_EQUAL(gp_tlv_splice(g_test_ctx, b, n, offs, 3, (const uint8_t *)"\x33\x44\x55", 3, &out, &on), 0);
	TEST_ASSERT_HEX(out, on, "01 02 A0 0A A1 08 80 01 11 81 03 334455 03 04");
	/* shorter (empty) value */
	CU_ASSERT_EQUAL(gp_tlv_splice(g_test_ctx, b, n, offs, 3, NULL, 0, &out, &on), 0);
	TEST_ASSERT_HEX(out, on, "01 02 A0 07 A1 05 80 01 11 81 00 03 04");

	/* length form changes 1 -> 3 bytes at every level */
	memset(big, 0xEE, sizeof(big));
	CU_ASSERT_EQUAL(gp_tlv_splice(g_test_ctx, b, n, offs, 3, big, sizeof(big), &out, &on), 0);
	CU_ASSERT_EQUAL(on, n - 1 + 300 + 2 * 3);
	CU_ASSERT_EQUAL(gp_tlv_find_path(out + 2, on - 4, path, 3, &t, NULL), 0);
	CU_ASSERT_EQUAL(t.len, 300);
	CU_ASSERT_EQUAL(memcmp(t.val, big, 300), 0);
	CU_ASSERT_EQUAL(gp_tlv_validate(out + 2, on - 4, true, 8), 4);
	TEST_ASSERT_HEX(out, 2 + 4, "0102A0820137");
	TEST_ASSERT_HEX(out + on - 2, 2, "0304");

	/* a non-minimal length that does not change is kept as it was */
	b = test_hex("A0 81 05 80 03 AA BB CC", &n);
	offs[0] = 0;
	offs[1] = 3;
	CU_ASSERT_EQUAL(gp_tlv_splice(g_test_ctx, b, n, offs, 2, (const uint8_t *)"\x01\x02\x03", 3, &out, &on), 0);
	TEST_ASSERT_HEX(out, on, "A0 81 05 80 03 010203");
	CU_ASSERT_EQUAL(gp_tlv_splice(g_test_ctx, b, n, offs, 2, (const uint8_t *)"\x01", 1, &out, &on), 0);
	TEST_ASSERT_HEX(out, on, "A0 03 80 01 01");

	/* found by fuzz_bertlv: a non-minimal zero length (82 00 00) that changes is rewritten in minimal
	 * form, so the output is shorter than input + growth */
	b = test_hex("03 82 00 00", &n);
	offs[0] = 0;
	memset(big, 0x03, 200);
	CU_ASSERT_EQUAL(gp_tlv_splice(g_test_ctx, b, n, offs, 1, big, 200, &out, &on), 0);
	CU_ASSERT_EQUAL(on, 1 + 2 + 200);
	TEST_ASSERT_HEX(out, 3, "0381C8");
	CU_ASSERT_EQUAL(gp_tlv_validate(out, on, true, 2), 1);

	/* inconsistent chains */
	b = test_hex("A0 81 05 80 03 AA BB CC", &n);
	offs[0] = 0;
	offs[1] = 1;
	CU_ASSERT_EQUAL(gp_tlv_splice(g_test_ctx, b, n, offs, 2, NULL, 0, &out, &on), -EINVAL);
	offs[1] = 8;
	CU_ASSERT_EQUAL(gp_tlv_splice(g_test_ctx, b, n, offs, 2, NULL, 0, &out, &on), -EINVAL);
	CU_ASSERT_EQUAL(gp_tlv_splice(g_test_ctx, b, n, offs, 0, NULL, 0, &out, &on), -EINVAL);
	/* primitive in the middle of a chain */
	b = test_hex("80 03 AA BB CC", &n);
	offs[0] = 0;
	offs[1] = 2;
	CU_ASSERT_EQUAL(gp_tlv_splice(g_test_ctx, b, n, offs, 2, NULL, 0, &out, &on), -EINVAL);
}

static void test_to_der(void)
{
	size_t n, on;
	uint8_t *b, *out;

	b = test_hex("A0 81 08 80 81 03 AABBCC A1 00 9F70 82 00 01 07 5A 01 01", &n);
	CU_ASSERT_EQUAL(gp_tlv_validate(b, n, true, 4), -EBADMSG);
	CU_ASSERT_EQUAL(gp_tlv_to_der(g_test_ctx, b, n, 4, &out, &on), 0);
	TEST_ASSERT_HEX(out, on, "A0 07 80 03 AABBCC A1 00 9F70 01 07 5A 01 01");
	CU_ASSERT_EQUAL(gp_tlv_validate(out, on, true, 4), 5);
	/* already DER: unchanged */
	b = test_hex(g_nested, &n);
	CU_ASSERT_EQUAL(gp_tlv_to_der(g_test_ctx, b, n, 4, &out, &on), 0);
	CU_ASSERT_EQUAL(on, n);
	CU_ASSERT_EQUAL(memcmp(out, b, n), 0);
	/* errors */
	b = test_hex("A0 04 A1 02 A2 00", &n);
	CU_ASSERT_EQUAL(gp_tlv_to_der(g_test_ctx, b, n, 2, &out, &on), -ELOOP);
	CU_ASSERT_EQUAL(gp_tlv_to_der(g_test_ctx, b, n, 3, &out, &on), 0);
	b = test_hex("A0 05 80 05 01", &n);
	CU_ASSERT_EQUAL(gp_tlv_to_der(g_test_ctx, b, n, 3, &out, &on), -EMSGSIZE);
	CU_ASSERT_EQUAL(gp_tlv_to_der(g_test_ctx, b, 2, 3, &out, &on), -EMSGSIZE);
	CU_ASSERT_EQUAL(gp_tlv_to_der(g_test_ctx, NULL, 2, 3, &out, &on), -EINVAL);
}

static const struct test_case tlv_cases[] = {
	TEST_CASE(test_tags),
	TEST_CASE(test_lengths),
	TEST_CASE(test_long_forms),
	TEST_CASE(test_encode_len),
	TEST_CASE(test_iterate_find),
	TEST_CASE(test_validate_der),
	TEST_CASE(test_deep_nesting),
	TEST_CASE(test_truncation),
	TEST_CASE(test_header_flips),
	TEST_CASE(test_builder),
	TEST_CASE(test_builder_errors),
	TEST_CASE(test_splice),
	TEST_CASE(test_to_der),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "bertlv", NULL, NULL, tlv_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
