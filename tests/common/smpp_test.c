/* Tests of smpp.h: the PDU codec (known bytes, round trips, refusals), delivery receipt text, and
 * SMPP links on 127.0.0.1 driven by a raw TCP peer that sends exactly the bytes a test wants
 * (split PDUs, many PDUs at once, broken lengths, unknown commands), plus link-to-link keepalive. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/conn.h>
#include <sgp02/common/smpp.h>

#include "testlib.h"

static void *g_root;

/* ------------------------------------------------------------------ loop helpers */

struct deadline {
	struct osmo_timer_list timer;
	bool expired;
};

static void deadline_cb(void *data)
{
	((struct deadline *)data)->expired = true;
}

/* Run the loop until \a cond holds or \a ms pass. */
#define RUN_UNTIL(cond, ms) do { \
		struct deadline _d = {}; \
		osmo_timer_setup(&_d.timer, deadline_cb, &_d); \
		osmo_timer_schedule(&_d.timer, (ms) / 1000, ((ms) % 1000) * 1000); \
		while (!(cond) && !_d.expired) \
			osmo_select_main_ctx(0); \
		osmo_timer_del(&_d.timer); \
	} while (0)

#define RUN_FOR(ms) RUN_UNTIL(false, ms)

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* ------------------------------------------------------------------ codec */

static void test_submit_sm_known_bytes(void)
{
	struct smpp_pdu p = {
		.command_id = SMPP_SUBMIT_SM,
		.sequence_number = 1,
		.source_addr_ton = 1, .source_addr_npi = 1, .source_addr = "12345",
		.dest_addr_ton = 1, .dest_addr_npi = 1, .destination_addr = "4912345678",
		.esm_class = SMPP_ESM_UDHI, .protocol_id = 0x7F, .registered_delivery = 1, .data_coding = 0xF6,
		.ud = { 0x02, 0x70, 0x00 }, .ud_len = 3,
	};
	uint8_t buf[512];
	size_t len = 0;

	CU_ASSERT_EQUAL(smpp_pdu_encode(&p, buf, sizeof(buf), &len), 0);
	/* SMPP 3.4 §4.4.1 field by field */
	TEST_ASSERT_HEX(buf, len, "00000033 00000004 00000000 00000001 00 0101 313233343500 0101 3439313233343536373800"
			"40 7F 00 00 00 01 00 F6 00 03 027000");
}

static void test_codec_round_trips(void)
{
	struct smpp_pdu in = {}, out;
	uint8_t buf[2048];
	size_t len = 0;
	uint32_t nack;
	size_t i;

	/* bind_transceiver */
	in.command_id = SMPP_BIND_TRANSCEIVER;
	in.sequence_number = 7;
	strcpy(in.system_id, "smsr1");
	strcpy(in.password, "secret");
	strcpy(in.system_type, "OTA");
	in.addr_ton = 1;
	in.addr_npi = 1;
	strcpy(in.address_range, "^49");
	CU_ASSERT_EQUAL(smpp_pdu_encode(&in, buf, sizeof(buf), &len), 0);
	CU_ASSERT_EQUAL(smpp_pdu_decode(&out, buf, len, &nack), 0);
	CU_ASSERT_EQUAL(out.command_id, SMPP_BIND_TRANSCEIVER);
	CU_ASSERT_EQUAL(out.sequence_number, 7);
	CU_ASSERT_STRING_EQUAL(out.system_id, "smsr1");
	CU_ASSERT_STRING_EQUAL(out.password, "secret");
	CU_ASSERT_STRING_EQUAL(out.system_type, "OTA");
	CU_ASSERT_EQUAL(out.interface_version, 0x34);
	CU_ASSERT_STRING_EQUAL(out.address_range, "^49");

	/* bind_transceiver_resp */
	memset(&in, 0, sizeof(in));
	in.command_id = SMPP_BIND_TRANSCEIVER | SMPP_RESP_BIT;
	in.sequence_number = 7;
	strcpy(in.system_id, "smsc");
	CU_ASSERT_EQUAL(smpp_pdu_encode(&in, buf, sizeof(buf), &len), 0);
	CU_ASSERT_EQUAL(smpp_pdu_decode(&out, buf, len, &nack), 0);
	CU_ASSERT_STRING_EQUAL(out.system_id, "smsc");

	/* submit_sm with 300 octets: message_payload TLV (§5.3.2.32) */
	memset(&in, 0, sizeof(in));
	in.command_id = SMPP_SUBMIT_SM;
	in.sequence_number = 0x7FFFFFFF;
	strcpy(in.destination_addr, "491700000001");
	in.esm_class = SMPP_ESM_UDHI;
	in.protocol_id = 0x7F;
	in.data_coding = 0xF6;
	for (i = 0; i < 300; i++)
		in.ud[i] = i;
	in.ud_len = 300;
	CU_ASSERT_EQUAL(smpp_pdu_encode(&in, buf, sizeof(buf), &len), 0);
	CU_ASSERT_EQUAL(len, 16 + 29 + 4 + 300);
	/* sm_length 0, then TLV 0x0424 length 300 */
	TEST_ASSERT_HEX(buf + len - 305, 5, "00 0424 012C");
	CU_ASSERT_EQUAL(smpp_pdu_decode(&out, buf, len, &nack), 0);
	CU_ASSERT_EQUAL(out.ud_len, 300);
	CU_ASSERT_EQUAL(memcmp(out.ud, in.ud, 300), 0);
	CU_ASSERT_EQUAL(out.esm_class, SMPP_ESM_UDHI);
	CU_ASSERT_EQUAL(out.protocol_id, 0x7F);
	CU_ASSERT_EQUAL(out.data_coding, 0xF6);
	CU_ASSERT_STRING_EQUAL(out.destination_addr, "491700000001");

	/* 253 octets still fit short_message, 1025 do not fit at all */
	in.ud_len = SMPP_SM_MAX;
	CU_ASSERT_EQUAL(smpp_pdu_encode(&in, buf, sizeof(buf), &len), 0);
	CU_ASSERT_EQUAL(len, 16 + 29 + SMPP_SM_MAX);
	CU_ASSERT_EQUAL(smpp_pdu_decode(&out, buf, len, &nack), 0);
	CU_ASSERT_EQUAL(out.ud_len, SMPP_SM_MAX);
	in.ud_len = SMPP_UD_MAX + 1;
	CU_ASSERT_EQUAL(smpp_pdu_encode(&in, buf, sizeof(buf), &len), -EINVAL);
	in.ud_len = 10;
	CU_ASSERT_EQUAL(smpp_pdu_encode(&in, buf, 20, &len), -ENOBUFS);

	/* submit_sm_resp */
	memset(&in, 0, sizeof(in));
	in.command_id = SMPP_SUBMIT_SM | SMPP_RESP_BIT;
	in.sequence_number = 3;
	strcpy(in.message_id, "abc123");
	CU_ASSERT_EQUAL(smpp_pdu_encode(&in, buf, sizeof(buf), &len), 0);
	CU_ASSERT_EQUAL(smpp_pdu_decode(&out, buf, len, &nack), 0);
	CU_ASSERT_STRING_EQUAL(out.message_id, "abc123");

	/* deliver_sm receipt with receipted_message_id and message_state */
	memset(&in, 0, sizeof(in));
	in.command_id = SMPP_DELIVER_SM;
	in.sequence_number = 4;
	strcpy(in.source_addr, "491700000001");
	in.esm_class = SMPP_ESM_DELIVERY_RECEIPT;
	strcpy((char *)in.ud, "id:abc123 stat:DELIVRD");
	in.ud_len = strlen((char *)in.ud);
	strcpy(in.receipted_message_id, "abc123");
	in.message_state = 2;
	CU_ASSERT_EQUAL(smpp_pdu_encode(&in, buf, sizeof(buf), &len), 0);
	CU_ASSERT_EQUAL(smpp_pdu_decode(&out, buf, len, &nack), 0);
	CU_ASSERT_STRING_EQUAL(out.receipted_message_id, "abc123");
	CU_ASSERT_EQUAL(out.message_state, 2);
	CU_ASSERT_EQUAL(out.ud_len, in.ud_len);
	CU_ASSERT_EQUAL(out.esm_class, SMPP_ESM_DELIVERY_RECEIPT);

	/* deliver_sm_resp */
	memset(&in, 0, sizeof(in));
	in.command_id = SMPP_DELIVER_SM | SMPP_RESP_BIT;
	in.sequence_number = 4;
	CU_ASSERT_EQUAL(smpp_pdu_encode(&in, buf, sizeof(buf), &len), 0);
	TEST_ASSERT_HEX(buf, len, "00000011 80000005 00000000 00000004 00");
	CU_ASSERT_EQUAL(smpp_pdu_decode(&out, buf, len, &nack), 0);
}

static void test_codec_header_only(void)
{
	struct smpp_pdu in = {
		.command_id = SMPP_SUBMIT_SM | SMPP_RESP_BIT,
		.command_status = SMPP_RTHROTTLED,
		.sequence_number = 9,
		.message_id = "ignored",
	};
	struct smpp_pdu out;
	uint8_t buf[64];
	size_t len = 0;
	uint32_t nack;

	/* §4.4.2: no body with a non-zero status */
	CU_ASSERT_EQUAL(smpp_pdu_encode(&in, buf, sizeof(buf), &len), 0);
	TEST_ASSERT_HEX(buf, len, "00000010 80000004 00000058 00000009");
	CU_ASSERT_EQUAL(smpp_pdu_decode(&out, buf, len, &nack), 0);
	CU_ASSERT_EQUAL(out.command_status, SMPP_RTHROTTLED);
	CU_ASSERT_STRING_EQUAL(out.message_id, "");
	/* a vendor status libsmpp34 does not know still decodes */
	put32(buf + 8, 0x00000400);
	CU_ASSERT_EQUAL(smpp_pdu_decode(&out, buf, len, &nack), 0);
	CU_ASSERT_EQUAL(out.command_status, 0x400);

	in = (struct smpp_pdu){ .command_id = SMPP_ENQUIRE_LINK, .sequence_number = 5 };
	CU_ASSERT_EQUAL(smpp_pdu_encode(&in, buf, sizeof(buf), &len), 0);
	TEST_ASSERT_HEX(buf, len, "00000010 00000015 00000000 00000005");
	/* sequence numbers are 1..0x7FFFFFFF (§5.1.4) */
	in.sequence_number = 0;
	CU_ASSERT_EQUAL(smpp_pdu_encode(&in, buf, sizeof(buf), &len), -EINVAL);
	in.sequence_number = 0x80000000;
	CU_ASSERT_EQUAL(smpp_pdu_encode(&in, buf, sizeof(buf), &len), -EINVAL);
}

static void test_codec_refuses(void)
{
	static const struct {
		const char *what;
		const char *hex;
		int rc;
		uint32_t nack;
	} bad[] = {
		{ "shorter than a header", "0000000C 00000015 00000000", -EBADMSG, SMPP_RINVCMDLEN },
		{ "length field disagrees", "00000020 00000015 00000000 00000001", -EBADMSG, SMPP_RINVCMDLEN },
		{ "enquire_link with a body", "00000011 00000015 00000000 00000001 00", -EBADMSG, SMPP_RINVCMDLEN },
		{ "unknown command", "00000010 00001234 00000000 00000001", -ENOTSUP, SMPP_RINVCMDID },
		{ "query_sm is not supported", "00000012 00000003 00000000 00000001 0000", -ENOTSUP, SMPP_RINVCMDID },
		{ "bind: system_id without NUL", "00000014 00000009 00000000 00000001 41414141", -EBADMSG,
		  SMPP_RINVMSGLEN },
		{ "bind: system_id of 16 characters",
		  "00000027 00000009 00000000 00000001 4141414141414141414141414141414100 00 00 34 00 00 00", -EBADMSG,
		  SMPP_RINVMSGLEN },
		{ "bind: TLV not allowed", "0000001D 00000009 00000000 00000001 4100 00 00 34 00 00 00 0210000134",
		  -EBADMSG, SMPP_RINVOPTPARSTREAM },
		{ "submit_sm: short_message beyond the PDU",
		  "00000030 00000004 00000000 00000001 00 0101 3100 0101 3200 40 7F 00 00 00 00 00 F6 00 FF"
		  "0102030405060708 090A0B0C0D", -EBADMSG, SMPP_RINVMSGLEN },
		{ "submit_sm: TLV longer than the PDU",
		  "00000029 00000004 00000000 00000001 00 0101 3100 0101 3200 40 7F 00 00 00 00 00 F6 00 00"
		  "0424 0010 0102", -EBADMSG, SMPP_RINVPARLEN },
		{ "submit_sm: truncated TLV header",
		  "00000024 00000004 00000000 00000001 00 0101 3100 0101 3200 40 7F 00 00 00 00 00 F6 00 00"
		  "04", -EBADMSG, SMPP_RINVOPTPARSTREAM },
		{ "deliver_sm: schedule_delivery_time set",
		  "00000024 00000005 00000000 00000001 00 0101 3100 0101 3200 40 7F 00 3100 00 00 00 F6 00 00",
		  -EBADMSG, SMPP_RINVMSGLEN },
	};
	struct smpp_pdu out;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t len;
		uint8_t *b = test_hex(bad[i].hex, &len);
		uint32_t nack = 0;
		int rc = smpp_pdu_decode(&out, b, len, &nack);

		if (rc != bad[i].rc || nack != bad[i].nack)
			fprintf(stderr, "case '%s': rc %d nack 0x%x\n", bad[i].what, rc, nack);
		CU_ASSERT_EQUAL(rc, bad[i].rc);
		CU_ASSERT_EQUAL(nack, bad[i].nack);
	}
}

/* More TLVs than libsmpp34's field log can take are refused before it sees them. */
static void test_codec_many_tlvs(void)
{
	uint8_t *b = talloc_zero_size(g_test_ctx, 2048);
	static const char *mand = "00 0101 3100 0101 3200 40 7F 00 00 00 00 00 F6 00 00";
	struct smpp_pdu out;
	size_t mlen, len, i;
	uint8_t *m = test_hex(mand, &mlen);
	uint32_t nack;

	memcpy(b + 16, m, mlen);
	len = 16 + mlen;
	for (i = 0; i < 200; i++) {
		/* user_message_reference (§5.3.2.17), 2 octets */
		memcpy(b + len, "\x02\x04\x00\x02\x00\x01", 6);
		len += 6;
	}
	put32(b, len);
	put32(b + 4, SMPP_SUBMIT_SM);
	put32(b + 12, 1);
	CU_ASSERT_EQUAL(smpp_pdu_decode(&out, b, len, &nack), -EBADMSG);
	CU_ASSERT_EQUAL(nack, SMPP_RINVOPTPARSTREAM);
	/* within the bound they are accepted (and ignored) */
	len = 16 + mlen + 6 * SMPP_MAX_TLVS;
	put32(b, len);
	CU_ASSERT_EQUAL(smpp_pdu_decode(&out, b, len, &nack), 0);
}

/* Deterministic mutation fuzzing of the decoder: bit flips, truncations, length fixes and
 * inserted bytes on valid PDUs of every type we decode. Under ASan this watches libsmpp34 behind
 * our structural checks. */
static uint32_t g_rng = 0x12345678;

static uint32_t rnd(void)
{
	/* xorshift32: fixed sequence, same on every run */
	g_rng ^= g_rng << 13;
	g_rng ^= g_rng >> 17;
	g_rng ^= g_rng << 5;
	return g_rng;
}

static void test_codec_fuzz(void)
{
	struct smpp_pdu seeds[6] = {
		{ .command_id = SMPP_BIND_TRANSCEIVER, .sequence_number = 1, .system_id = "abc", .password = "pw",
		  .address_range = "49" },
		{ .command_id = SMPP_BIND_TRANSCEIVER | SMPP_RESP_BIT, .sequence_number = 1, .system_id = "smsc" },
		{ .command_id = SMPP_SUBMIT_SM, .sequence_number = 2, .destination_addr = "4917", .ud_len = 140 },
		{ .command_id = SMPP_SUBMIT_SM, .sequence_number = 2, .destination_addr = "4917", .ud_len = 600 },
		{ .command_id = SMPP_DELIVER_SM, .sequence_number = 3, .source_addr = "4917", .ud_len = 30,
		  .receipted_message_id = "ff01", .message_state = 2 },
		{ .command_id = SMPP_SUBMIT_SM | SMPP_RESP_BIT, .sequence_number = 2, .message_id = "12345" },
	};
	uint8_t *enc[6];
	size_t enc_len[6];
	uint8_t *buf = talloc_size(g_test_ctx, 4096);
	struct smpp_pdu *out = talloc(g_test_ctx, struct smpp_pdu);
	unsigned int i, ok = 0;

	for (i = 0; i < ARRAY_SIZE(seeds); i++) {
		enc[i] = talloc_size(g_test_ctx, 2048);
		memset(seeds[i].ud, 0x41, sizeof(seeds[i].ud));
		CU_ASSERT_EQUAL_FATAL(smpp_pdu_encode(&seeds[i], enc[i], 2048, &enc_len[i]), 0);
	}
	for (i = 0; i < 30000; i++) {
		unsigned int s = rnd() % ARRAY_SIZE(seeds);
		size_t len = enc_len[s];
		unsigned int n, k;
		uint32_t nack;

		memcpy(buf, enc[s], len);
		n = 1 + rnd() % 4;
		for (k = 0; k < n; k++) {
			switch (rnd() % 5) {
			case 0:		/* flip a bit */
				buf[rnd() % len] ^= 1 << (rnd() % 8);
				break;
			case 1:		/* truncate */
				len = 16 + rnd() % (len - 15);
				break;
			case 2:		/* a byte becomes 0x00 or 0xFF (NUL terminators, lengths) */
				buf[16 + rnd() % (len - 16 + (len == 16))] = rnd() % 2 ? 0xFF : 0x00;
				break;
			case 3:		/* append junk (more TLVs) */
				if (len < 4000) {
					unsigned int m = 1 + rnd() % 64, j;

					for (j = 0; j < m && len < 4000; j++)
						buf[len++] = rnd();
				}
				break;
			default:	/* keep command_length consistent so the body gets parsed */
				break;
			}
		}
		if (rnd() % 4)
			put32(buf, len);
		if (smpp_pdu_decode(out, buf, len, &nack) == 0) {
			ok++;
			/* whatever was accepted is within its bounds */
			CU_ASSERT_TRUE(out->ud_len <= SMPP_UD_MAX);
			CU_ASSERT_TRUE(strlen(out->source_addr) < sizeof(out->source_addr));
			CU_ASSERT_TRUE(strlen(out->message_id) < sizeof(out->message_id));
		} else {
			CU_ASSERT_NOT_EQUAL(nack, SMPP_ROK);
		}
	}
	/* the fuzzer reaches both outcomes */
	CU_ASSERT_TRUE(ok > 100);
	CU_ASSERT_TRUE(ok < 30000);
}

static void test_receipt_parse(void)
{
	static const char *r = "id:7f3a sub:001 dlvrd:001 submit date:2611241200 done date:2611241201 stat:DELIVRD "
			       "err:000 text:";
	char id[65], stat[8];
	unsigned int err = 99;

	CU_ASSERT_EQUAL(smpp_receipt_parse((const uint8_t *)r, strlen(r), id, stat, &err), 0);
	CU_ASSERT_STRING_EQUAL(id, "7f3a");
	CU_ASSERT_STRING_EQUAL(stat, "DELIVRD");
	CU_ASSERT_EQUAL(err, 0);
	r = "id:1 stat:UNDELIV err:034";
	CU_ASSERT_EQUAL(smpp_receipt_parse((const uint8_t *)r, strlen(r), id, stat, &err), 0);
	CU_ASSERT_STRING_EQUAL(stat, "UNDELIV");
	CU_ASSERT_EQUAL(err, 34);
	/* binary junk: no id, no crash */
	CU_ASSERT_EQUAL(smpp_receipt_parse((const uint8_t *)"\x00\xff\x01stat:", 8, id, stat, &err), -EINVAL);
	/* an overlong id is cut at 64 characters */
	{
		char longr[200];

		memset(longr, 'a', sizeof(longr));
		memcpy(longr, "id:", 3);
		CU_ASSERT_EQUAL(smpp_receipt_parse((const uint8_t *)longr, sizeof(longr), id, stat, &err), 0);
		CU_ASSERT_EQUAL(strlen(id), 64);
	}
}

static void test_names(void)
{
	CU_ASSERT_STRING_EQUAL(smpp_status_name(SMPP_RTHROTTLED), "ESME_RTHROTTLED");
	CU_ASSERT_STRING_EQUAL(smpp_status_name(SMPP_RMSGQFUL), "ESME_RMSGQFUL");
	CU_ASSERT_STRING_EQUAL(smpp_status_name(SMPP_RINVPASWD), "ESME_RINVPASWD");
	CU_ASSERT_STRING_EQUAL(smpp_command_name(SMPP_SUBMIT_SM | SMPP_RESP_BIT), "submit_sm_resp");
	CU_ASSERT_STRING_EQUAL(smpp_command_name(SMPP_GENERIC_NACK), "generic_nack");
}

/* ------------------------------------------------------------------ links: a server link and a raw client */

struct raw {
	struct conn *c;
	bool established;
	bool closed;
	uint8_t *rx;
	size_t rx_len;
	size_t rx_cap;
	size_t rx_off;		/*!< PDUs before this offset are consumed */
};

static void raw_established(struct conn *c)
{
	((struct raw *)conn_get_data(c))->established = true;
}

static int raw_data(struct conn *c, const uint8_t *buf, size_t len)
{
	struct raw *r = conn_get_data(c);

	if (r->rx_len + len > r->rx_cap) {
		r->rx_cap = (r->rx_len + len) * 2;
		r->rx = talloc_realloc_size(g_test_ctx, r->rx, r->rx_cap);
		OSMO_ASSERT(r->rx);
	}
	memcpy(r->rx + r->rx_len, buf, len);
	r->rx_len += len;
	return 0;
}

static void raw_closed(struct conn *c, enum conn_close_reason reason)
{
	struct raw *r = conn_get_data(c);

	r->closed = true;
	r->c = NULL;
}

static const struct conn_ops raw_ops = {
	.established = raw_established,
	.data = raw_data,
	.closed = raw_closed,
};

/* The next whole PDU the raw client received, or false. */
static bool raw_next(struct raw *r, uint32_t *id, uint32_t *status, uint32_t *seq, size_t *len)
{
	uint32_t l;

	if (r->rx_len - r->rx_off < 16)
		return false;
	l = get32(r->rx + r->rx_off);
	if (r->rx_len - r->rx_off < l)
		return false;
	*id = get32(r->rx + r->rx_off + 4);
	*status = get32(r->rx + r->rx_off + 8);
	*seq = get32(r->rx + r->rx_off + 12);
	if (len)
		*len = l;
	r->rx_off += l;
	return true;
}

static size_t raw_pending(const struct raw *r)
{
	return r->rx_len - r->rx_off;
}

static void raw_send(struct raw *r, const uint8_t *buf, size_t len)
{
	CU_ASSERT_EQUAL(conn_write(r->c, buf, len), 0);
}

static void raw_header(uint8_t *b, uint32_t len, uint32_t id, uint32_t status, uint32_t seq)
{
	put32(b, len);
	put32(b + 4, id);
	put32(b + 8, status);
	put32(b + 12, seq);
}

struct srv {
	struct conn_listener *l;
	struct smpp_link *link;
	bool closed;
	enum smpp_link_end why;
	unsigned int requests;
	struct smpp_pdu last;
	bool answer;		/*!< answer requests with ESME_ROK */
	bool free_in_request;	/*!< free the link inside the request callback */
	/* results of link requests */
	unsigned int results;
	int last_err;
	uint32_t last_status;
	char last_msgid[65];
};

static void srv_request(struct smpp_link *l, const struct smpp_pdu *pdu)
{
	struct srv *s = smpp_link_data(l);

	s->requests++;
	s->last = *pdu;
	if (s->free_in_request) {
		talloc_free(l);
		s->link = NULL;
		return;
	}
	if (s->answer) {
		struct smpp_pdu resp = {};

		snprintf(resp.message_id, sizeof(resp.message_id), "m%u", pdu->sequence_number);
		smpp_link_respond(l, pdu, SMPP_ROK, &resp);
	}
}

static void srv_closed(struct smpp_link *l, enum smpp_link_end why)
{
	struct srv *s = smpp_link_data(l);

	s->closed = true;
	s->why = why;
	s->link = NULL;
	talloc_free(l);
}

static const struct smpp_link_ops srv_ops = {
	.request = srv_request,
	.closed = srv_closed,
};

static int srv_accept(struct conn_listener *li, struct conn *c, void *data)
{
	struct srv *s = data;

	if (s->link)
		return -1;
	s->link = smpp_link_alloc(g_test_ctx, c, &srv_ops, s, "test server");
	return s->link ? 0 : -1;
}

static void srv_result(struct smpp_link *l, const struct smpp_pdu *resp, int err, void *data)
{
	struct srv *s = data;

	s->results++;
	s->last_err = err;
	s->last_status = resp ? resp->command_status : 0xFFFFFFFF;
	if (resp)
		osmo_strlcpy(s->last_msgid, resp->message_id, sizeof(s->last_msgid));
}

/* A server link with a raw client connected to it. */
static void setup_pair(struct srv *s, struct raw *r)
{
	memset(s, 0, sizeof(*s));
	memset(r, 0, sizeof(*r));
	s->l = conn_listen(g_test_ctx, "127.0.0.1", 0, NULL, srv_accept, s);
	OSMO_ASSERT(s->l);
	r->c = conn_connect(g_test_ctx, "127.0.0.1", conn_listener_port(s->l), NULL, &raw_ops, r);
	OSMO_ASSERT(r->c);
	RUN_UNTIL(r->established && s->link, 2000);
	CU_ASSERT_TRUE(r->established);
	CU_ASSERT_PTR_NOT_NULL(s->link);
}

static void teardown_pair(struct srv *s, struct raw *r)
{
	if (s->link)
		talloc_free(s->link);
	if (r->c)
		talloc_free(r->c);
	talloc_free(s->l);
}

/* A submit_sm from the raw client, with UD of \a ud_len octets. \returns its length. */
static size_t raw_submit(uint8_t *b, uint32_t seq, size_t ud_len)
{
	struct smpp_pdu p = {
		.command_id = SMPP_SUBMIT_SM,
		.sequence_number = seq,
		.destination_addr = "491700000001",
		.esm_class = SMPP_ESM_UDHI,
		.protocol_id = 0x7F,
		.data_coding = 0xF6,
	};
	size_t len = 0;

	memset(p.ud, 0xA5, ud_len);
	p.ud_len = ud_len;
	OSMO_ASSERT(smpp_pdu_encode(&p, b, 2048, &len) == 0);
	return len;
}

static void test_link_split_reads(void)
{
	struct srv s;
	struct raw r;
	uint8_t pdu[2048];
	size_t len = raw_submit(pdu, 42, 600), i;
	uint32_t id, st, seq;

	setup_pair(&s, &r);
	s.answer = true;
	/* one octet at a time, with the loop running in between */
	for (i = 0; i < len; i++) {
		raw_send(&r, pdu + i, 1);
		osmo_select_main_ctx(1);
	}
	RUN_UNTIL(s.requests == 1 && raw_pending(&r) > 0, 2000);
	CU_ASSERT_EQUAL(s.requests, 1);
	CU_ASSERT_EQUAL(s.last.sequence_number, 42);
	CU_ASSERT_EQUAL(s.last.ud_len, 600);
	CU_ASSERT_EQUAL(s.last.ud[599], 0xA5);
	RUN_UNTIL(raw_pending(&r) >= 16, 1000);
	CU_ASSERT_TRUE(raw_next(&r, &id, &st, &seq, NULL));
	CU_ASSERT_EQUAL(id, SMPP_SUBMIT_SM | SMPP_RESP_BIT);
	CU_ASSERT_EQUAL(st, SMPP_ROK);
	CU_ASSERT_EQUAL(seq, 42);
	CU_ASSERT_FALSE(s.closed);
	teardown_pair(&s, &r);
}

static void test_link_many_in_one_write(void)
{
	struct srv s;
	struct raw r;
	uint8_t *big = talloc_size(g_test_ctx, 100 * 2048);
	size_t off = 0;
	unsigned int i, n = 0;
	uint32_t id, st, seq;

	setup_pair(&s, &r);
	s.answer = true;
	for (i = 0; i < 100; i++) {
		if (i % 2) {
			raw_header(big + off, 16, SMPP_ENQUIRE_LINK, 0, 1000 + i);
			off += 16;
		} else {
			off += raw_submit(big + off, 1000 + i, i);
		}
	}
	raw_send(&r, big, off);
	RUN_UNTIL(raw_pending(&r) >= 100 * 16 + 50 * 3, 3000);
	while (raw_next(&r, &id, &st, &seq, NULL)) {
		CU_ASSERT_EQUAL(seq, 1000 + n);
		CU_ASSERT_EQUAL(id, (n % 2 ? SMPP_ENQUIRE_LINK : SMPP_SUBMIT_SM) | SMPP_RESP_BIT);
		CU_ASSERT_EQUAL(st, SMPP_ROK);
		n++;
	}
	CU_ASSERT_EQUAL(n, 100);
	CU_ASSERT_EQUAL(s.requests, 50);
	teardown_pair(&s, &r);
}

static void bad_length(uint32_t len)
{
	struct srv s;
	struct raw r;
	uint8_t b[16];
	uint32_t id, st, seq;

	setup_pair(&s, &r);
	raw_header(b, len, SMPP_SUBMIT_SM, 0, 5);
	raw_send(&r, b, sizeof(b));
	RUN_UNTIL(s.closed && r.closed, 3000);
	CU_ASSERT_TRUE(s.closed);
	CU_ASSERT_EQUAL(s.why, SMPP_END_PROTOCOL);
	CU_ASSERT_TRUE(r.closed);
	/* §4.3: generic_nack with ESME_RINVCMDLEN before the close */
	CU_ASSERT_TRUE(raw_next(&r, &id, &st, &seq, NULL));
	CU_ASSERT_EQUAL(id, SMPP_GENERIC_NACK);
	CU_ASSERT_EQUAL(st, SMPP_RINVCMDLEN);
	teardown_pair(&s, &r);
}

static void test_link_oversized_length(void)
{
	bad_length(SMPP_MAX_PDU_LEN + 1);
	bad_length(0xFFFFFFFF);
}

static void test_link_undersized_length(void)
{
	bad_length(15);
	bad_length(0);
}

static void test_link_garbage_gets_nack(void)
{
	struct srv s;
	struct raw r;
	uint8_t b[64];
	uint32_t id, st, seq;

	setup_pair(&s, &r);
	s.answer = true;
	/* unknown command id: generic_nack ESME_RINVCMDID, the link stays */
	raw_header(b, 16, 0x00001234, 0, 77);
	raw_send(&r, b, 16);
	/* a submit_sm whose strings run out of the PDU: generic_nack ESME_RINVMSGLEN */
	raw_header(b, 24, SMPP_SUBMIT_SM, 0, 78);
	memset(b + 16, 'x', 8);
	raw_send(&r, b, 24);
	/* a response nobody asked for: ignored */
	raw_header(b, 16, SMPP_ENQUIRE_LINK | SMPP_RESP_BIT, 0, 555);
	raw_send(&r, b, 16);
	/* still alive: enquire_link answered */
	raw_header(b, 16, SMPP_ENQUIRE_LINK, 0, 79);
	raw_send(&r, b, 16);
	RUN_UNTIL(raw_pending(&r) >= 48, 2000);
	CU_ASSERT_TRUE(raw_next(&r, &id, &st, &seq, NULL));
	CU_ASSERT_EQUAL(id, SMPP_GENERIC_NACK);
	CU_ASSERT_EQUAL(st, SMPP_RINVCMDID);
	CU_ASSERT_EQUAL(seq, 77);
	CU_ASSERT_TRUE(raw_next(&r, &id, &st, &seq, NULL));
	CU_ASSERT_EQUAL(id, SMPP_GENERIC_NACK);
	CU_ASSERT_EQUAL(st, SMPP_RINVMSGLEN);
	CU_ASSERT_EQUAL(seq, 78);
	CU_ASSERT_TRUE(raw_next(&r, &id, &st, &seq, NULL));
	CU_ASSERT_EQUAL(id, SMPP_ENQUIRE_LINK | SMPP_RESP_BIT);
	CU_ASSERT_EQUAL(seq, 79);
	CU_ASSERT_EQUAL(s.requests, 0);
	CU_ASSERT_FALSE(s.closed);
	teardown_pair(&s, &r);
}

static void test_link_window_and_timeout(void)
{
	struct srv s;
	struct raw r;
	struct smpp_pdu p = { .command_id = SMPP_DELIVER_SM, .source_addr = "1", .ud_len = 1 };
	uint32_t seqs[3], id, st, seq;
	uint8_t b[32];
	unsigned int i;

	setup_pair(&s, &r);
	osmo_tdef_set(smpp_tdefs, SMPP_T_RESP, 300, OSMO_TDEF_MS);
	smpp_link_set_window(s.link, 3);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(smpp_link_request(s.link, &p, srv_result, &s), 0);
		seqs[i] = p.sequence_number;
	}
	CU_ASSERT_EQUAL(seqs[0], 1);
	CU_ASSERT_EQUAL(seqs[1], 2);
	CU_ASSERT_EQUAL(seqs[2], 3);
	CU_ASSERT_EQUAL(smpp_link_outstanding(s.link), 3);
	CU_ASSERT_FALSE(smpp_link_window_open(s.link));
	CU_ASSERT_EQUAL(smpp_link_request(s.link, &p, srv_result, &s), -EBUSY);

	RUN_UNTIL(raw_pending(&r) >= 3 * 17, 2000);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_TRUE(raw_next(&r, &id, &st, &seq, NULL));
		CU_ASSERT_EQUAL(id, SMPP_DELIVER_SM);
		CU_ASSERT_EQUAL(seq, seqs[i]);
	}
	/* answer the second one (out of order is fine); with the wrong command it is ignored */
	raw_header(b, 16, SMPP_SUBMIT_SM | SMPP_RESP_BIT, 0, seqs[1]);
	raw_send(&r, b, 16);
	raw_header(b, 17, SMPP_DELIVER_SM | SMPP_RESP_BIT, 0, seqs[1]);
	b[16] = 0;
	raw_send(&r, b, 17);
	RUN_UNTIL(s.results == 1, 1000);
	CU_ASSERT_EQUAL(s.results, 1);
	CU_ASSERT_EQUAL(s.last_err, 0);
	CU_ASSERT_EQUAL(s.last_status, SMPP_ROK);
	CU_ASSERT_EQUAL(smpp_link_outstanding(s.link), 2);
	CU_ASSERT_TRUE(smpp_link_window_open(s.link));
	/* a generic_nack answers the first */
	raw_header(b, 16, SMPP_GENERIC_NACK, SMPP_RSYSERR, seqs[0]);
	raw_send(&r, b, 16);
	RUN_UNTIL(s.results == 2, 1000);
	CU_ASSERT_EQUAL(s.last_status, SMPP_RSYSERR);
	/* the third times out */
	RUN_UNTIL(s.results == 3, 2000);
	CU_ASSERT_EQUAL(s.results, 3);
	CU_ASSERT_EQUAL(s.last_err, -ETIMEDOUT);
	CU_ASSERT_EQUAL(smpp_link_outstanding(s.link), 0);
	CU_ASSERT_FALSE(s.closed);

	/* outstanding requests of a link that goes get -ENOTCONN, before closed() */
	CU_ASSERT_EQUAL(smpp_link_request(s.link, &p, srv_result, &s), 0);
	talloc_free(r.c);
	r.c = NULL;
	RUN_UNTIL(s.closed, 2000);
	CU_ASSERT_EQUAL(s.results, 4);
	CU_ASSERT_EQUAL(s.last_err, -ENOTCONN);
	CU_ASSERT_EQUAL(s.why, SMPP_END_PEER);
	osmo_tdef_set(smpp_tdefs, SMPP_T_RESP, 10000, OSMO_TDEF_MS);
	teardown_pair(&s, &r);
}

static void test_link_enquire_unanswered(void)
{
	struct srv s;
	struct raw r;
	uint32_t id, st, seq;

	setup_pair(&s, &r);
	osmo_tdef_set(smpp_tdefs, SMPP_T_ENQUIRE, 100, OSMO_TDEF_MS);
	osmo_tdef_set(smpp_tdefs, SMPP_T_RESP, 200, OSMO_TDEF_MS);
	smpp_link_keepalive(s.link, true);
	RUN_UNTIL(s.closed, 3000);
	CU_ASSERT_TRUE(s.closed);
	CU_ASSERT_EQUAL(s.why, SMPP_END_TIMEOUT);
	CU_ASSERT_TRUE(raw_next(&r, &id, &st, &seq, NULL));
	CU_ASSERT_EQUAL(id, SMPP_ENQUIRE_LINK);
	osmo_tdef_set(smpp_tdefs, SMPP_T_ENQUIRE, 30000, OSMO_TDEF_MS);
	osmo_tdef_set(smpp_tdefs, SMPP_T_RESP, 10000, OSMO_TDEF_MS);
	teardown_pair(&s, &r);
}

static void test_link_unbind_from_peer(void)
{
	struct srv s;
	struct raw r;
	uint8_t b[16];
	uint32_t id, st, seq;

	setup_pair(&s, &r);
	raw_header(b, 16, SMPP_UNBIND, 0, 9);
	raw_send(&r, b, 16);
	RUN_UNTIL(s.closed && r.closed, 3000);
	CU_ASSERT_EQUAL(s.why, SMPP_END_UNBIND);
	CU_ASSERT_TRUE(raw_next(&r, &id, &st, &seq, NULL));
	CU_ASSERT_EQUAL(id, SMPP_UNBIND | SMPP_RESP_BIT);
	CU_ASSERT_EQUAL(seq, 9);
	teardown_pair(&s, &r);
}

/* Two links: keepalive answered both ways keeps them up; unbind ends both cleanly. */
struct cli {
	struct smpp_link *link;
	bool up;
	bool closed;
	enum smpp_link_end why;
};

static void cli_established(struct smpp_link *l)
{
	((struct cli *)smpp_link_data(l))->up = true;
}

static void cli_closed(struct smpp_link *l, enum smpp_link_end why)
{
	struct cli *c = smpp_link_data(l);

	c->closed = true;
	c->why = why;
	c->link = NULL;
	talloc_free(l);
}

static const struct smpp_link_ops cli_ops = {
	.established = cli_established,
	.closed = cli_closed,
};

static void test_link_keepalive_and_unbind(void)
{
	struct srv s = {};
	struct cli c = {};

	s.l = conn_listen(g_test_ctx, "127.0.0.1", 0, NULL, srv_accept, &s);
	c.link = smpp_link_connect(g_test_ctx, "127.0.0.1", conn_listener_port(s.l), &cli_ops, &c, "test client");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.link);
	RUN_UNTIL(c.up && s.link, 2000);
	osmo_tdef_set(smpp_tdefs, SMPP_T_ENQUIRE, 50, OSMO_TDEF_MS);
	osmo_tdef_set(smpp_tdefs, SMPP_T_RESP, 200, OSMO_TDEF_MS);
	smpp_link_keepalive(c.link, true);
	smpp_link_keepalive(s.link, true);
	RUN_FOR(600);
	CU_ASSERT_FALSE(c.closed);
	CU_ASSERT_FALSE(s.closed);
	smpp_link_unbind(c.link);
	CU_ASSERT_EQUAL(smpp_link_request(c.link, &(struct smpp_pdu){ .command_id = SMPP_SUBMIT_SM }, srv_result,
					  &s), -ENOTCONN);
	RUN_UNTIL(c.closed && s.closed, 2000);
	CU_ASSERT_EQUAL(c.why, SMPP_END_UNBIND);
	CU_ASSERT_EQUAL(s.why, SMPP_END_UNBIND);
	osmo_tdef_set(smpp_tdefs, SMPP_T_ENQUIRE, 30000, OSMO_TDEF_MS);
	osmo_tdef_set(smpp_tdefs, SMPP_T_RESP, 10000, OSMO_TDEF_MS);
	talloc_free(s.l);
}

static void test_link_connect_refused(void)
{
	struct cli c = {};
	struct conn_listener *l = conn_listen(g_test_ctx, "127.0.0.1", 0, NULL, srv_accept, NULL);
	uint16_t port = conn_listener_port(l);

	talloc_free(l);
	c.link = smpp_link_connect(g_test_ctx, "127.0.0.1", port, &cli_ops, &c, "refused");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.link);
	RUN_UNTIL(c.closed, 2000);
	CU_ASSERT_TRUE(c.closed);
	CU_ASSERT_FALSE(c.up);
	CU_ASSERT_EQUAL(c.why, SMPP_END_ERROR);
}

/* The owner frees the link from inside its request callback, with more PDUs behind in the buffer:
 * nothing more is delivered and nothing touches freed memory (ASan). */
static void test_link_free_in_callback(void)
{
	struct srv s;
	struct raw r;
	uint8_t b[4096];
	size_t off = 0;
	int i;

	setup_pair(&s, &r);
	s.free_in_request = true;
	for (i = 0; i < 3; i++)
		off += raw_submit(b + off, 10 + i, 20);
	raw_send(&r, b, off);
	RUN_UNTIL(r.closed, 2000);
	CU_ASSERT_EQUAL(s.requests, 1);
	CU_ASSERT_PTR_NULL(s.link);
	CU_ASSERT_FALSE(s.closed);
	CU_ASSERT_TRUE(r.closed);
	teardown_pair(&s, &r);
}

static const struct test_case smpp_cases[] = {
	TEST_CASE(test_submit_sm_known_bytes),
	TEST_CASE(test_codec_round_trips),
	TEST_CASE(test_codec_header_only),
	TEST_CASE(test_codec_refuses),
	TEST_CASE(test_codec_many_tlvs),
	TEST_CASE(test_codec_fuzz),
	TEST_CASE(test_receipt_parse),
	TEST_CASE(test_names),
	TEST_CASE(test_link_split_reads),
	TEST_CASE(test_link_many_in_one_write),
	TEST_CASE(test_link_oversized_length),
	TEST_CASE(test_link_undersized_length),
	TEST_CASE(test_link_garbage_gets_nack),
	TEST_CASE(test_link_window_and_timeout),
	TEST_CASE(test_link_enquire_unanswered),
	TEST_CASE(test_link_unbind_from_peer),
	TEST_CASE(test_link_keepalive_and_unbind),
	TEST_CASE(test_link_connect_refused),
	TEST_CASE(test_link_free_in_callback),
	TEST_END
};

static int suite_init(void)
{
	g_root = talloc_named_const(NULL, 0, "smpp_test");
	osmo_init_logging2(g_root, &sgp02_log_info);
	log_set_print_category(osmo_stderr_target, 1);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	log_parse_category_mask(osmo_stderr_target, getenv("SMPP_TEST_DEBUG") ? "DSMPP,1:DHTTP,1" : "DSMPP,8:DHTTP,8");
	return 0;
}

static int suite_cleanup(void)
{
	talloc_free(g_root);
	return 0;
}

static const struct test_suite suites[] = {
	{ "smpp", suite_init, suite_cleanup, smpp_cases },
	{ NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
