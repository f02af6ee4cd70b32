/* The SM-SR's ESME (src/smsr/esme.c) against the fleet's SMSC (src/fleet/smsc.c) in one process
 * on 127.0.0.1: binds, MT with exactly the SMS-PP fields, receipts, MO, keepalive, the SMSC's rate
 * limit and queue-full answers with resubmission (nothing lost, nothing twice), the window, an
 * SMSC restart, and the per-bind rate limit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/smpp.h>
#include <sgp02/fleet/smsc.h>
#include "../../src/smsr/esme.h"

#include "testlib.h"

static void *g_root;

struct deadline {
	struct osmo_timer_list timer;
	bool expired;
};

static void deadline_cb(void *data)
{
	((struct deadline *)data)->expired = true;
}

#define RUN_UNTIL(cond, ms) do { \
		struct deadline _d = {}; \
		osmo_timer_setup(&_d.timer, deadline_cb, &_d); \
		osmo_timer_schedule(&_d.timer, (ms) / 1000, ((ms) % 1000) * 1000); \
		while (!(cond) && !_d.expired) \
			osmo_select_main_ctx(0); \
		osmo_timer_del(&_d.timer); \
	} while (0)

#define RUN_FOR(ms) RUN_UNTIL(false, ms)

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ the world */

#define MAX_MSGS 512

struct mt_rec {
	char dest[21];
	char msg_id[17];
	uint8_t esm_class, pid, dcs, reg;
	bool udhi;
	uint8_t ud[160];
	size_t ud_len;
};

struct world {
	struct smsc *smsc;
	struct esme *esme;
	uint16_t port;
	/* what the devices got */
	struct mt_rec mt[MAX_MSGS];
	unsigned int n_mt;
	unsigned int per_tag[MAX_MSGS];	/*!< deliveries per message tag (UD octet 3) */
	int mt_answer;			/*!< what the device layer answers */
	/* what the SM-SR got */
	unsigned int results;
	unsigned int result_ok;
	int last_err;
	uint32_t last_status;
	char last_msg_id[65];
	unsigned int order[MAX_MSGS];	/*!< tags in the order the device layer saw them */
	unsigned int receipts;
	unsigned int receipts_delivered;
	char last_receipt_id[65];
	unsigned int mo;
	char mo_src[21];
	uint8_t mo_ud[200];
	size_t mo_ud_len;
	uint8_t mo_pid, mo_dcs;
	bool mo_udhi;
	unsigned int mo_refuse;		/*!< answer this many MO with ESME_RX_T_APPN first */
};

static int dev_mt(struct smsc *s, const struct smsc_mt *mt, void *data)
{
	struct world *w = data;
	struct mt_rec *r;

	r = &w->mt[w->n_mt % MAX_MSGS];
	osmo_strlcpy(r->dest, mt->dest_addr, sizeof(r->dest));
	osmo_strlcpy(r->msg_id, mt->message_id, sizeof(r->msg_id));
	r->esm_class = mt->esm_class;
	r->pid = mt->protocol_id;
	r->dcs = mt->data_coding;
	r->reg = mt->registered_delivery;
	r->udhi = mt->udhi;
	r->ud_len = OSMO_MIN(mt->ud_len, sizeof(r->ud));
	memcpy(r->ud, mt->ud, r->ud_len);
	if (mt->ud_len >= 5) {
		unsigned int tag = mt->ud[4] | (mt->ud[3] << 8);

		if (tag < MAX_MSGS)
			w->per_tag[tag]++;
		w->order[w->n_mt % MAX_MSGS] = tag;
	}
	w->n_mt++;
	return w->mt_answer;
}

static const struct smsc_ops dev_ops = {
	.mt = dev_mt,
};

static void sr_result(struct esme *e, void *msg_data, int err, uint32_t status, const char *message_id)
{
	struct world *w = msg_data;

	w->results++;
	w->last_err = err;
	w->last_status = status;
	if (!err) {
		w->result_ok++;
		osmo_strlcpy(w->last_msg_id, message_id, sizeof(w->last_msg_id));
	}
}

static void sr_receipt(struct esme *e, const struct esme_receipt *r, void *data)
{
	struct world *w = data;

	w->receipts++;
	w->receipts_delivered += r->delivered;
	osmo_strlcpy(w->last_receipt_id, r->message_id, sizeof(w->last_receipt_id));
}

static uint32_t sr_mo(struct esme *e, const struct esme_mo *mo, void *data)
{
	struct world *w = data;

	w->mo++;
	if (w->mo_refuse > 0) {
		w->mo_refuse--;
		return SMPP_RX_T_APPN;
	}
	osmo_strlcpy(w->mo_src, mo->source_addr, sizeof(w->mo_src));
	w->mo_ud_len = OSMO_MIN(mo->ud_len, sizeof(w->mo_ud));
	memcpy(w->mo_ud, mo->ud, w->mo_ud_len);
	w->mo_pid = mo->protocol_id;
	w->mo_dcs = mo->data_coding;
	w->mo_udhi = mo->udhi;
	return SMPP_ROK;
}

static const struct esme_ops sr_ops = {
	.submit_result = sr_result,
	.receipt = sr_receipt,
	.mo = sr_mo,
};

static struct smsc *start_smsc(struct world *w, uint16_t port, unsigned int rate)
{
	const char *fixed = getenv("SMPP_TEST_PORT");
	struct smsc_cfg cfg = {
		.addr = "127.0.0.1",
		/* smpp_tshark_test.sh captures on a port it chose; otherwise any free port */
		.port = port ? port : (fixed ? atoi(fixed) : 0),
		.system_id = "smsr",
		.password = "pw123",
		.rate = rate,
	};

	w->smsc = smsc_alloc(g_test_ctx, &cfg, &dev_ops, w);
	OSMO_ASSERT(w->smsc);
	w->port = smsc_port(w->smsc);
	return w->smsc;
}

static struct esme *start_esme(struct world *w, const char *password, unsigned int nbinds, unsigned int window,
			       unsigned int rate, unsigned int max_retries)
{
	struct esme_cfg cfg;
	unsigned int i;

	esme_cfg_defaults(&cfg);
	cfg.source_addr = "882";
	cfg.max_retries = max_retries;
	w->esme = esme_alloc(g_test_ctx, &cfg, &sr_ops, w);
	OSMO_ASSERT(w->esme);
	for (i = 0; i < nbinds; i++) {
		char name[16];
		struct esme_bind_cfg bc = {
			.name = name,
			.host = "127.0.0.1",
			.port = w->port,
			.system_id = "smsr",
			.password = password,
			.system_type = "OTA",
			.window = window,
			.rate = rate,
			.burst = 1,
		};

		snprintf(name, sizeof(name), "b%u", i);
		CU_ASSERT_EQUAL(esme_add_bind(w->esme, &bc), 0);
	}
	esme_start(w->esme);
	return w->esme;
}

/* An SCP80-like UD: UDH (UDHL 2, IEI 0x70 with length 0, TS 31.115 §4.1) and a tag in octets 3..4 so
 * that every delivery can be counted. */
static int submit_tagged(struct world *w, unsigned int tag, const char *dest)
{
	uint8_t ud[40];
	struct esme_msg m = {
		.dest_addr = dest,
		.dest_ton = 1,
		.dest_npi = 1,
		.ud = ud,
		.ud_len = sizeof(ud),
		.udhi = true,
	};
	unsigned int i;

	ud[0] = 0x02;	/* UDHL */
	ud[1] = 0x70;	/* IEI: command packet (TS 31.115 §4.1) */
	ud[2] = 0x00;	/* IEL */
	ud[3] = tag >> 8;
	ud[4] = tag;
	for (i = 5; i < sizeof(ud); i++)
		ud[i] = i;
	return esme_submit(w->esme, &m, w);
}

static struct world *world_new(void)
{
	struct world *w = talloc_zero(g_test_ctx, struct world);

	OSMO_ASSERT(w);
	return w;
}

static void world_free(struct world *w)
{
	/* the ESME first: its links would otherwise see the SMSC go */
	TALLOC_FREE(w->esme);
	TALLOC_FREE(w->smsc);
	/* let lingering sockets finish before the next test */
	RUN_FOR(5);
}

/* ------------------------------------------------------------------ tests */

static void test_bind_ok(void)
{
	struct world *w = world_new();

	start_smsc(w, 0, 0);
	start_esme(w, "pw123", 1, 10, 0, 5);
	RUN_UNTIL(esme_bound_count(w->esme) == 1, 2000);
	CU_ASSERT_EQUAL(esme_bound_count(w->esme), 1);
	CU_ASSERT_EQUAL(smsc_bound_count(w->smsc), 1);
	CU_ASSERT_EQUAL(esme_bind_last_refusal(w->esme, "b0"), 0);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->binds, 1);
	CU_ASSERT_EQUAL(smsc_get_stats(w->smsc)->binds, 1);
	world_free(w);
}

static void test_bind_bad_password_backs_off(void)
{
	struct world *w = world_new();

	start_smsc(w, 0, 0);
	start_esme(w, "wrong", 1, 10, 0, 5);
	/* reconnect delays 50, 100, 200, 400, 400 ms: about 4..5 attempts in 1.2 s, not dozens */
	RUN_FOR(1200);
	CU_ASSERT_EQUAL(esme_bound_count(w->esme), 0);
	CU_ASSERT_EQUAL(smsc_bound_count(w->smsc), 0);
	if (smsc_get_stats(w->smsc)->bind_refused < 2 || smsc_get_stats(w->smsc)->bind_refused > 7)
		fprintf(stderr, "%lu refused binds in 1.2 s\n", smsc_get_stats(w->smsc)->bind_refused);
	CU_ASSERT_TRUE(smsc_get_stats(w->smsc)->bind_refused >= 2);
	CU_ASSERT_TRUE(smsc_get_stats(w->smsc)->bind_refused <= 7);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->bind_failures, smsc_get_stats(w->smsc)->bind_refused);
	/* the ESME heard why: the bind_resp went out before the SMSC closed */
	CU_ASSERT_EQUAL(esme_bind_last_refusal(w->esme, "b0"), SMPP_RINVPASWD);
	world_free(w);
}

static void test_bind_wrong_system_id(void)
{
	struct world *w = world_new();
	struct esme_cfg cfg;
	struct esme_bind_cfg bc = {
		.host = "127.0.0.1",
		.system_id = "intruder",
		.password = "pw123",
	};

	start_smsc(w, 0, 0);
	esme_cfg_defaults(&cfg);
	w->esme = esme_alloc(g_test_ctx, &cfg, &sr_ops, w);
	bc.port = w->port;
	CU_ASSERT_EQUAL(esme_add_bind(w->esme, &bc), 0);
	/* a password longer than SMPP allows is refused up front */
	bc.password = "123456789";
	CU_ASSERT_EQUAL(esme_add_bind(w->esme, &bc), -EINVAL);
	esme_start(w->esme);
	RUN_UNTIL(esme_get_stats(w->esme)->bind_failures >= 1, 2000);
	CU_ASSERT_TRUE(smsc_get_stats(w->smsc)->bind_refused >= 1);
	CU_ASSERT_EQUAL(esme_bound_count(w->esme), 0);
	CU_ASSERT_TRUE(esme_get_stats(w->esme)->bind_failures >= 1);
	CU_ASSERT_EQUAL(esme_bind_last_refusal(w->esme, "intruder"), SMPP_RBINDFAIL);
	world_free(w);
}

static void test_submit_fields_and_receipt(void)
{
	struct world *w = world_new();
	const struct mt_rec *r;

	start_smsc(w, 0, 0);
	start_esme(w, "pw123", 1, 10, 0, 5);
	RUN_UNTIL(esme_bound_count(w->esme) == 1, 2000);
	CU_ASSERT_EQUAL(submit_tagged(w, 7, "491700000007"), 0);
	RUN_UNTIL(w->results == 1 && w->receipts == 1, 2000);
	CU_ASSERT_EQUAL(w->n_mt, 1);
	r = &w->mt[0];
	/* SGP.02 digest §7.1: SMS-PP data download */
	CU_ASSERT_STRING_EQUAL(r->dest, "491700000007");
	CU_ASSERT_EQUAL(r->pid, 0x7F);
	CU_ASSERT_EQUAL(r->dcs, 0xF6);
	CU_ASSERT_TRUE(r->udhi);
	CU_ASSERT_EQUAL(r->esm_class, SMPP_ESM_UDHI);
	CU_ASSERT_EQUAL(r->reg, 1);
	CU_ASSERT_EQUAL(r->ud_len, 40);
	TEST_ASSERT_HEX(r->ud, 8, "02 70 00 00 07 05 06 07");
	CU_ASSERT_EQUAL(r->ud[39], 39);
	/* the result carries the SMSC's message_id, and so does the receipt */
	CU_ASSERT_EQUAL(w->result_ok, 1);
	CU_ASSERT_STRING_EQUAL(w->last_msg_id, r->msg_id);
	CU_ASSERT_EQUAL(w->receipts_delivered, 1);
	CU_ASSERT_STRING_EQUAL(w->last_receipt_id, r->msg_id);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->submitted, 1);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->accepted, 1);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->receipts, 1);

	/* an unreachable device: accepted, then an UNDELIV receipt */
	w->mt_answer = SMSC_MT_UNDELIVERABLE;
	CU_ASSERT_EQUAL(submit_tagged(w, 8, "491700000008"), 0);
	RUN_UNTIL(w->results == 2 && w->receipts == 2, 2000);
	CU_ASSERT_EQUAL(w->result_ok, 2);
	CU_ASSERT_EQUAL(w->receipts_delivered, 1);
	/* the device layer refuses: the caller hears the SMPP status */
	w->mt_answer = SMPP_RINVDSTADR;
	CU_ASSERT_EQUAL(submit_tagged(w, 9, "491700000009"), 0);
	RUN_UNTIL(w->results == 3, 2000);
	CU_ASSERT_EQUAL(w->last_err, -EPROTO);
	CU_ASSERT_EQUAL(w->last_status, SMPP_RINVDSTADR);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->failed, 1);
	/* bad input never gets queued */
	{
		struct esme_msg m = { .dest_addr = "123456789012345678901", .ud = (uint8_t *)"x", .ud_len = 1 };

		CU_ASSERT_EQUAL(esme_submit(w->esme, &m, w), -EINVAL);
		m.dest_addr = "1";
		m.ud_len = SMPP_UD_MAX + 1;
		CU_ASSERT_EQUAL(esme_submit(w->esme, &m, w), -EMSGSIZE);
	}
	world_free(w);
}

static void test_mo_to_esme(void)
{
	struct world *w = world_new();
	static const uint8_t por[] = { 0x02, 0x71, 0x00, 0x00, 0x0B, 0x0A, 0xB2, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
				       0x00, 0x01, 0x00, 0x00 };
	struct smsc_mo mo = {
		.source_addr = "491700000042",
		.source_ton = 1,
		.source_npi = 1,
		.dest_addr = "882",
		.protocol_id = 0x7F,
		.data_coding = 0xF6,
		.udhi = true,
		.ud = por,
		.ud_len = sizeof(por),
	};

	start_smsc(w, 0, 0);
	/* MO before any ESME is bound waits in the SMSC */
	CU_ASSERT_EQUAL(smsc_deliver_mo(w->smsc, &mo), 0);
	RUN_FOR(50);
	CU_ASSERT_EQUAL(smsc_pending(w->smsc), 1);
	start_esme(w, "pw123", 1, 10, 0, 5);
	RUN_UNTIL(w->mo == 1 && smsc_pending(w->smsc) == 0, 2000);
	CU_ASSERT_EQUAL(w->mo, 1);
	CU_ASSERT_STRING_EQUAL(w->mo_src, "491700000042");
	CU_ASSERT_EQUAL(w->mo_ud_len, sizeof(por));
	CU_ASSERT_EQUAL(memcmp(w->mo_ud, por, sizeof(por)), 0);
	CU_ASSERT_EQUAL(w->mo_pid, 0x7F);
	CU_ASSERT_EQUAL(w->mo_dcs, 0xF6);
	CU_ASSERT_TRUE(w->mo_udhi);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->received, 1);
	CU_ASSERT_EQUAL(smsc_get_stats(w->smsc)->delivered, 1);
	CU_ASSERT_EQUAL(smsc_pending(w->smsc), 0);
	world_free(w);
}

static void test_enquire_link_keeps_bind(void)
{
	struct world *w = world_new();

	osmo_tdef_set(smpp_tdefs, SMPP_T_ENQUIRE, 40, OSMO_TDEF_MS);
	osmo_tdef_set(smpp_tdefs, SMPP_T_RESP, 300, OSMO_TDEF_MS);
	start_smsc(w, 0, 0);
	start_esme(w, "pw123", 1, 10, 0, 5);
	RUN_UNTIL(esme_bound_count(w->esme) == 1, 2000);
	RUN_FOR(500);
	CU_ASSERT_EQUAL(esme_bound_count(w->esme), 1);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->binds, 1);
	CU_ASSERT_EQUAL(smsc_get_stats(w->smsc)->binds, 1);
	osmo_tdef_set(smpp_tdefs, SMPP_T_ENQUIRE, 30000, OSMO_TDEF_MS);
	osmo_tdef_set(smpp_tdefs, SMPP_T_RESP, 10000, OSMO_TDEF_MS);
	world_free(w);
}

static void assert_each_once(struct world *w, unsigned int n)
{
	unsigned int i, bad = 0;

	for (i = 0; i < n; i++)
		bad += w->per_tag[i] != 1;
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(w->n_mt, n);
}

static void test_throttled_resubmitted(void)
{
	struct world *w = world_new();
	const unsigned int n = 60;
	unsigned int i;

	/* 100 SMS/s with a burst of 10 at the SMSC, an ESME that does not limit itself */
	start_smsc(w, 0, 100);
	start_esme(w, "pw123", 1, 10, 0, 30);
	RUN_UNTIL(esme_bound_count(w->esme) == 1, 2000);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(submit_tagged(w, i, "491700000001"), 0);
	RUN_UNTIL(w->results == n, 10000);
	CU_ASSERT_EQUAL(w->results, n);
	CU_ASSERT_EQUAL(w->result_ok, n);
	assert_each_once(w, n);
	CU_ASSERT_TRUE(smsc_get_stats(w->smsc)->throttled > 0);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->throttled, smsc_get_stats(w->smsc)->throttled);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->failed, 0);
	CU_ASSERT_EQUAL(esme_queue_len(w->esme), 0);
	world_free(w);
}

static void test_queue_full_resubmitted(void)
{
	struct world *w = world_new();
	const unsigned int n = 10;
	unsigned int i;

	start_smsc(w, 0, 0);
	smsc_inject_queue_full(w->smsc, 7);
	start_esme(w, "pw123", 1, 10, 0, 10);
	RUN_UNTIL(esme_bound_count(w->esme) == 1, 2000);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(submit_tagged(w, i, "491700000001"), 0);
	RUN_UNTIL(w->results == n, 5000);
	CU_ASSERT_EQUAL(w->result_ok, n);
	assert_each_once(w, n);
	CU_ASSERT_EQUAL(smsc_get_stats(w->smsc)->queue_full, 7);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->queue_full, 7);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->resubmitted, 7);
	world_free(w);
}

static void test_retries_exhausted(void)
{
	struct world *w = world_new();

	start_smsc(w, 0, 0);
	smsc_inject_queue_full(w->smsc, 100);
	start_esme(w, "pw123", 1, 10, 0, 2);
	RUN_UNTIL(esme_bound_count(w->esme) == 1, 2000);
	CU_ASSERT_EQUAL(submit_tagged(w, 1, "491700000001"), 0);
	RUN_UNTIL(w->results == 1, 5000);
	CU_ASSERT_EQUAL(w->last_err, -EAGAIN);
	CU_ASSERT_EQUAL(w->last_status, SMPP_RMSGQFUL);
	/* first attempt + 2 retries */
	CU_ASSERT_EQUAL(smsc_get_stats(w->smsc)->queue_full, 3);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->failed, 1);
	CU_ASSERT_EQUAL(w->n_mt, 0);
	world_free(w);
}

static void test_window_keeps_order(void)
{
	struct world *w = world_new();
	const unsigned int n = 50;
	unsigned int i, misordered = 0;

	start_smsc(w, 0, 0);
	start_esme(w, "pw123", 1, 1, 0, 5);
	RUN_UNTIL(esme_bound_count(w->esme) == 1, 2000);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(submit_tagged(w, i, "491700000001"), 0);
	/* window 1: one submit_sm on the wire, the rest wait in the ESME's queue */
	CU_ASSERT_EQUAL(esme_queue_len(w->esme), n - 1);
	RUN_UNTIL(w->results == n, 5000);
	CU_ASSERT_EQUAL(w->result_ok, n);
	assert_each_once(w, n);
	for (i = 0; i < n; i++)
		misordered += w->order[i] != i;
	CU_ASSERT_EQUAL(misordered, 0);
	world_free(w);
}

static void test_smsc_restart(void)
{
	struct world *w = world_new();
	const unsigned int n = 5;
	uint16_t port;
	unsigned int i;

	start_smsc(w, 0, 0);
	port = w->port;
	start_esme(w, "pw123", 1, 10, 0, 5);
	RUN_UNTIL(esme_bound_count(w->esme) == 1, 2000);
	/* the SMSC goes away: the ESME notices and keeps trying, with growing delays */
	TALLOC_FREE(w->smsc);
	RUN_UNTIL(esme_bound_count(w->esme) == 0, 2000);
	CU_ASSERT_EQUAL(esme_bound_count(w->esme), 0);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(submit_tagged(w, i, "491700000001"), 0);
	RUN_FOR(300);
	CU_ASSERT_EQUAL(w->results, 0);
	CU_ASSERT_EQUAL(esme_queue_len(w->esme), n);
	/* back on the same port: rebind, and the queued messages go out */
	start_smsc(w, port, 0);
	CU_ASSERT_EQUAL(w->port, port);
	RUN_UNTIL(w->results == n, 3000);
	CU_ASSERT_EQUAL(w->result_ok, n);
	assert_each_once(w, n);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->binds, 2);
	world_free(w);
}

static void test_bind_rate_limit(void)
{
	struct world *w = world_new();
	const unsigned int n = 40;
	unsigned long sent;
	double t0, t;
	unsigned int i;

	start_smsc(w, 0, 0);
	/* 50 SMS/s, burst 1 */
	start_esme(w, "pw123", 1, 10, 50, 5);
	RUN_UNTIL(esme_bound_count(w->esme) == 1, 2000);
	t0 = now_ms();
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(submit_tagged(w, i, "491700000001"), 0);
	RUN_FOR(300);
	t = now_ms() - t0;
	sent = esme_bind_sent(w->esme, "b0");
	/* about 1 + t * 50/1000; loose bounds, measured clock */
	CU_ASSERT_TRUE(sent >= 5);
	CU_ASSERT_TRUE(sent <= 2 + (unsigned long)(t * 50 / 1000) + 2);
	if (sent < 5 || sent > 4 + (unsigned long)(t * 50 / 1000))
		fprintf(stderr, "sent %lu in %.0f ms\n", sent, t);
	RUN_UNTIL(w->results == n, 3000);
	CU_ASSERT_EQUAL(w->result_ok, n);
	assert_each_once(w, n);
	world_free(w);
}

static void test_two_binds_share(void)
{
	struct world *w = world_new();
	const unsigned int n = 40;
	unsigned int i;

	start_smsc(w, 0, 0);
	start_esme(w, "pw123", 2, 2, 0, 5);
	RUN_UNTIL(esme_bound_count(w->esme) == 2, 2000);
	CU_ASSERT_EQUAL(smsc_bound_count(w->smsc), 2);
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(submit_tagged(w, i, "491700000001"), 0);
	RUN_UNTIL(w->results == n, 3000);
	CU_ASSERT_EQUAL(w->result_ok, n);
	assert_each_once(w, n);
	CU_ASSERT_TRUE(esme_bind_sent(w->esme, "b0") >= n / 4);
	CU_ASSERT_TRUE(esme_bind_sent(w->esme, "b1") >= n / 4);
	/* receipts are spread over both binds as well and all arrive */
	RUN_UNTIL(w->receipts == n, 3000);
	CU_ASSERT_EQUAL(w->receipts, n);
	world_free(w);
}

static void test_mo_refused_is_retried(void)
{
	struct world *w = world_new();
	static const uint8_t ud[] = { 0x02, 0x71, 0x00, 0x01, 0x02 };
	struct smsc_mo mo = {
		.source_addr = "491700000043",
		.udhi = true,
		.protocol_id = 0x7F,
		.data_coding = 0xF6,
		.ud = ud,
		.ud_len = sizeof(ud),
	};

	start_smsc(w, 0, 0);
	start_esme(w, "pw123", 1, 10, 0, 5);
	RUN_UNTIL(esme_bound_count(w->esme) == 1, 2000);
	w->mo_refuse = 2;
	CU_ASSERT_EQUAL(smsc_deliver_mo(w->smsc, &mo), 0);
	RUN_UNTIL(smsc_get_stats(w->smsc)->delivered == 1, 2000);
	CU_ASSERT_EQUAL(w->mo, 3);
	CU_ASSERT_EQUAL(smsc_get_stats(w->smsc)->deliver_retries, 2);
	CU_ASSERT_EQUAL(smsc_get_stats(w->smsc)->dropped, 0);
	CU_ASSERT_EQUAL(smsc_pending(w->smsc), 0);
	CU_ASSERT_STRING_EQUAL(w->mo_src, "491700000043");
	/* bad MO input is refused up front */
	mo.ud_len = SMPP_UD_MAX + 1;
	CU_ASSERT_EQUAL(smsc_deliver_mo(w->smsc, &mo), -EMSGSIZE);
	mo.ud_len = 1;
	mo.source_addr = "123456789012345678901";
	CU_ASSERT_EQUAL(smsc_deliver_mo(w->smsc, &mo), -EINVAL);
	world_free(w);
}

static void test_stop_unbinds(void)
{
	struct world *w = world_new();

	start_smsc(w, 0, 0);
	start_esme(w, "pw123", 2, 10, 0, 5);
	RUN_UNTIL(esme_bound_count(w->esme) == 2, 2000);
	esme_stop(w->esme);
	RUN_UNTIL(esme_link_count(w->esme) == 0 && smsc_bound_count(w->smsc) == 0, 2000);
	CU_ASSERT_EQUAL(esme_link_count(w->esme), 0);
	CU_ASSERT_EQUAL(smsc_bound_count(w->smsc), 0);
	/* and it stays down: no reconnection, nothing sent */
	CU_ASSERT_EQUAL(submit_tagged(w, 1, "491700000001"), 0);
	RUN_FOR(300);
	CU_ASSERT_EQUAL(esme_link_count(w->esme), 0);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->binds, 2);
	CU_ASSERT_EQUAL(esme_get_stats(w->esme)->submitted, 0);
	CU_ASSERT_EQUAL(smsc_get_stats(w->smsc)->binds, 2);
	world_free(w);
}

/* Many messages through two binds at the SMSC's limit: all delivered once, in bounded time (a figure
 * for the log, not a benchmark). The tags wrap, so count per tag modulo MAX_MSGS. */
static void test_many_messages(void)
{
	struct world *w = world_new();
	const unsigned int n = 3000;
	unsigned int i, bad = 0;
	double t0;

	start_smsc(w, 0, 2000);
	start_esme(w, "pw123", 2, 20, 0, 50);
	RUN_UNTIL(esme_bound_count(w->esme) == 2, 2000);
	t0 = now_ms();
	w->n_mt = 0;
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(submit_tagged(w, i % MAX_MSGS, "491700000001"), 0);
	RUN_UNTIL(w->results == n, 20000);
	fprintf(stderr, "%u messages in %.0f ms (%lu throttled)\n", n, now_ms() - t0,
		esme_get_stats(w->esme)->throttled);
	CU_ASSERT_EQUAL(w->result_ok, n);
	for (i = 0; i < MAX_MSGS; i++)
		bad += w->per_tag[i] != n / MAX_MSGS + (i < n % MAX_MSGS);
	CU_ASSERT_EQUAL(bad, 0);
	world_free(w);
}

static const struct test_case cases[] = {
	TEST_CASE(test_bind_ok),
	TEST_CASE(test_bind_bad_password_backs_off),
	TEST_CASE(test_bind_wrong_system_id),
	TEST_CASE(test_submit_fields_and_receipt),
	TEST_CASE(test_mo_to_esme),
	TEST_CASE(test_enquire_link_keeps_bind),
	TEST_CASE(test_throttled_resubmitted),
	TEST_CASE(test_queue_full_resubmitted),
	TEST_CASE(test_retries_exhausted),
	TEST_CASE(test_window_keeps_order),
	TEST_CASE(test_smsc_restart),
	TEST_CASE(test_bind_rate_limit),
	TEST_CASE(test_two_binds_share),
	TEST_CASE(test_mo_refused_is_retried),
	TEST_CASE(test_stop_unbinds),
	TEST_CASE(test_many_messages),
	TEST_END
};

static int suite_init(void)
{
	g_root = talloc_named_const(NULL, 0, "smsc_esme_test");
	osmo_init_logging2(g_root, &sgp02_log_info);
	log_set_print_category(osmo_stderr_target, 1);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	log_set_print_extended_timestamp(osmo_stderr_target, !!getenv("SMPP_TEST_DEBUG"));
	log_parse_category_mask(osmo_stderr_target, getenv("SMPP_TEST_DEBUG") ? "DSMPP,1:DFLEET,1:DHTTP,1" :
				"DSMPP,8:DFLEET,8:DHTTP,8");
	/* short timers so that backoff and resubmission happen within a test */
	osmo_tdef_set(esme_tdefs, ESME_T_RECONNECT, 50, OSMO_TDEF_MS);
	osmo_tdef_set(esme_tdefs, ESME_T_RECONNECT_MAX, 400, OSMO_TDEF_MS);
	osmo_tdef_set(esme_tdefs, ESME_T_RESUBMIT, 20, OSMO_TDEF_MS);
	osmo_tdef_set(esme_tdefs, ESME_T_RESUBMIT_MAX, 100, OSMO_TDEF_MS);
	osmo_tdef_set(smsc_tdefs, SMSC_T_MO_RETRY, 50, OSMO_TDEF_MS);
	return 0;
}

static int suite_cleanup(void)
{
	talloc_free(g_root);
	return 0;
}

static const struct test_suite suites[] = {
	{ "smsc_esme", suite_init, suite_cleanup, cases },
	{ NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
