/* The simulated fleet's SMSC; see smsc.h.
 *
 * One session per accepted connection; a session becomes usable with a successful
 * bind_transceiver. MO messages and delivery receipts wait in one queue and are handed to bound
 * sessions round robin within each session's window; a refused or unanswered deliver_sm goes back
 * to the queue after SMSC_T_MO_RETRY, up to max_attempts.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <talloc.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/conn.h>
#include <sgp02/common/smpp.h>
#include <sgp02/fleet/smsc.h>

struct osmo_tdef smsc_tdefs[] = {
	{ .T = SMSC_T_MO_RETRY, .default_val = 1000, .val = 1000, .unit = OSMO_TDEF_MS,
	  .desc = "SMSC: wait this long before offering a refused or unanswered deliver_sm (MO or receipt) "
		  "to an ESME again" },
	{}
};

enum smsc_ctr {
	SMSC_CTR_BINDS,
	SMSC_CTR_BIND_REFUSED,
	SMSC_CTR_MT_RECEIVED,
	SMSC_CTR_MT_ACCEPTED,
	SMSC_CTR_THROTTLED,
	SMSC_CTR_QUEUE_FULL,
	SMSC_CTR_RECEIPTS,
	SMSC_CTR_MO_QUEUED,
	SMSC_CTR_DELIVERED,
	SMSC_CTR_DELIVER_RETRIES,
	SMSC_CTR_DROPPED,
};

static const struct rate_ctr_desc smsc_ctr_desc[] = {
	[SMSC_CTR_BINDS] = { "smsc:binds", "Successful binds" },
	[SMSC_CTR_BIND_REFUSED] = { "smsc:bind_refused", "Binds refused (system_id, password, already bound)" },
	[SMSC_CTR_MT_RECEIVED] = { "smsc:mt_received", "submit_sm received" },
	[SMSC_CTR_MT_ACCEPTED] = { "smsc:mt_accepted", "submit_sm accepted (ESME_ROK)" },
	[SMSC_CTR_THROTTLED] = { "smsc:throttled", "submit_sm answered ESME_RTHROTTLED (rate limit)" },
	[SMSC_CTR_QUEUE_FULL] = { "smsc:queue_full", "submit_sm answered ESME_RMSGQFUL (fault injection)" },
	[SMSC_CTR_RECEIPTS] = { "smsc:receipts", "Delivery receipts queued" },
	[SMSC_CTR_MO_QUEUED] = { "smsc:mo_queued", "MO messages queued for the ESMEs" },
	[SMSC_CTR_DELIVERED] = { "smsc:delivered", "deliver_sm answered ESME_ROK (MO and receipts)" },
	[SMSC_CTR_DELIVER_RETRIES] = { "smsc:deliver_retries", "deliver_sm offered again after refusal/no answer" },
	[SMSC_CTR_DROPPED] = { "smsc:dropped", "deliver_sm given up after all attempts" },
};

static const struct rate_ctr_group_desc smsc_ctrg_desc = {
	.group_name_prefix = "smsc",
	.group_description = "Simulated SMSC (SMPP server) of the fleet",
	.class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_ctr = ARRAY_SIZE(smsc_ctr_desc),
	.ctr_desc = smsc_ctr_desc,
};

static unsigned int g_smsc_idx;

/* The plain struct serves smsc_get_stats(); the rate counters the VTY and the stats reporters. */
#define SMSC_COUNT(s, field, idx) do { \
		(s)->stats.field++; \
		if ((s)->ctrs) \
			rate_ctr_inc2((s)->ctrs, idx); \
	} while (0)

#define LOGS(sess, level, fmt, args...) \
	LOGP(DFLEET, level, "smsc %s: " fmt, smpp_link_name((sess)->link), ## args)

struct smsc_sess {
	struct llist_head list;
	struct smsc *s;
	struct smpp_link *link;
	bool bound;
	char system_id[16];
};

struct smsc_out {
	struct llist_head list;		/*!< in s->queue, or in s->inflight */
	struct smsc *s;
	struct smpp_pdu pdu;
	unsigned int attempts;
	struct timespec not_before;
};

struct smsc {
	struct smsc_cfg cfg;
	char *system_id;
	char *password;
	const struct smsc_ops *ops;
	void *data;
	struct conn_listener *listener;
	struct llist_head sessions;
	struct smsc_sess *rr;
	struct llist_head queue;
	struct llist_head inflight;
	unsigned int pending;
	struct osmo_timer_list pump_timer;
	double tokens;
	struct timespec refilled;
	unsigned int inject_qfull;
	uint64_t next_msg_id;
	struct smsc_stats stats;
	struct rate_ctr_group *ctrs;
};

static void smsc_pump(struct smsc *s);

static struct timespec now_ts(void)
{
	struct timespec ts;

	osmo_clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

static double ts_diff_ms(const struct timespec *a, const struct timespec *b)
{
	return (a->tv_sec - b->tv_sec) * 1000.0 + (a->tv_nsec - b->tv_nsec) / 1e6;
}

/* ------------------------------------------------------------------ deliver_sm towards the ESME */

static void out_done(struct smsc_out *o)
{
	llist_del(&o->list);
	o->s->pending--;
	talloc_free(o);
}

static void deliver_resp_cb(struct smpp_link *l, const struct smpp_pdu *resp, int err, void *data)
{
	struct smsc_out *o = data;
	struct smsc *s = o->s;

	if (!err && resp->command_status == SMPP_ROK && resp->command_id != SMPP_GENERIC_NACK) {
		SMSC_COUNT(s, delivered, SMSC_CTR_DELIVERED);
		out_done(o);
	} else if (++o->attempts >= s->cfg.max_attempts) {
		LOGP(DFLEET, LOGL_NOTICE, "smsc: deliver_sm from %s given up after %u attempts (%s)\n",
		     o->pdu.source_addr, o->attempts, err ? strerror(-err) : smpp_status_name(resp->command_status));
		SMSC_COUNT(s, dropped, SMSC_CTR_DROPPED);
		out_done(o);
	} else {
		unsigned long ms = osmo_tdef_get(smsc_tdefs, SMSC_T_MO_RETRY, OSMO_TDEF_MS, -1);

		SMSC_COUNT(s, deliver_retries, SMSC_CTR_DELIVER_RETRIES);
		o->not_before = now_ts();
		o->not_before.tv_sec += ms / 1000;
		o->not_before.tv_nsec += (ms % 1000) * 1000000L;
		if (o->not_before.tv_nsec >= 1000000000L) {
			o->not_before.tv_sec++;
			o->not_before.tv_nsec -= 1000000000L;
		}
		llist_del(&o->list);
		llist_add(&o->list, &s->queue);
	}
	smsc_pump(s);
}

static struct smsc_sess *next_ready_session(struct smsc *s)
{
	struct smsc_sess *start, *sess;

	if (llist_empty(&s->sessions))
		return NULL;
	start = s->rr ? s->rr : llist_first_entry(&s->sessions, struct smsc_sess, list);
	sess = start;
	do {
		struct smsc_sess *next = llist_entry(sess->list.next == &s->sessions ? s->sessions.next :
						     sess->list.next, struct smsc_sess, list);

		if (sess->bound && smpp_link_window_open(sess->link)) {
			s->rr = next;
			return sess;
		}
		sess = next;
	} while (sess != start);
	return NULL;
}

static void smsc_pump(struct smsc *s)
{
	struct timespec now = now_ts();
	double wake = -1;
	struct smsc_out *o, *tmp;

	osmo_timer_del(&s->pump_timer);
	llist_for_each_entry_safe(o, tmp, &s->queue, list) {
		struct smsc_sess *sess;
		double nb = ts_diff_ms(&o->not_before, &now);

		if (nb > 0) {
			wake = wake < 0 ? nb : OSMO_MIN(wake, nb);
			continue;
		}
		sess = next_ready_session(s);
		if (!sess)
			break;
		llist_del(&o->list);
		llist_add_tail(&o->list, &s->inflight);
		if (smpp_link_request(sess->link, &o->pdu, deliver_resp_cb, o) < 0) {
			llist_del(&o->list);
			llist_add(&o->list, &s->queue);
			break;
		}
	}
	if (wake >= 0) {
		unsigned long ms = (unsigned long)wake + 1;

		osmo_timer_schedule(&s->pump_timer, ms / 1000, (ms % 1000) * 1000);
	}
}

static void pump_timer_cb(void *data)
{
	smsc_pump(data);
}

static int queue_out(struct smsc *s, const struct smpp_pdu *pdu)
{
	struct smsc_out *o;

	if (s->pending >= s->cfg.max_queue)
		return -ENOSPC;
	o = talloc_zero(s, struct smsc_out);
	if (!o)
		return -ENOMEM;
	o->s = s;
	o->pdu = *pdu;
	o->pdu.command_id = SMPP_DELIVER_SM;
	o->not_before = now_ts();
	llist_add_tail(&o->list, &s->queue);
	s->pending++;
	smsc_pump(s);
	return 0;
}

/* SMPP 3.4 Appendix B receipt, sent back from the device's address to the ESME's. */
static void queue_receipt(struct smsc *s, const struct smpp_pdu *sub, const char *message_id, bool delivered)
{
	struct smpp_pdu *r = talloc_zero(s, struct smpp_pdu);
	char date[32];	/* 10 digits; room for what gcc cannot prove about tm fields */
	time_t t = time(NULL);
	struct tm tm;
	int n;

	if (!r)
		return;
	gmtime_r(&t, &tm);
	/* Appendix B: YYMMDDhhmm */
	snprintf(date, sizeof(date), "%02d%02d%02d%02d%02d", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min);
	r->source_addr_ton = sub->dest_addr_ton;
	r->source_addr_npi = sub->dest_addr_npi;
	osmo_strlcpy(r->source_addr, sub->destination_addr, sizeof(r->source_addr));
	r->dest_addr_ton = sub->source_addr_ton;
	r->dest_addr_npi = sub->source_addr_npi;
	osmo_strlcpy(r->destination_addr, sub->source_addr, sizeof(r->destination_addr));
	r->esm_class = SMPP_ESM_DELIVERY_RECEIPT;
	n = snprintf((char *)r->ud, sizeof(r->ud), "id:%s sub:001 dlvrd:%s submit date:%s done date:%s stat:%s err:%s "
		     "text:", message_id, delivered ? "001" : "000", date, date, delivered ? "DELIVRD" : "UNDELIV",
		     delivered ? "000" : "001");
	r->ud_len = OSMO_MIN((size_t)n, sizeof(r->ud));
	osmo_strlcpy(r->receipted_message_id, message_id, sizeof(r->receipted_message_id));
	/* §5.3.2.35: 2 DELIVERED, 5 UNDELIVERABLE */
	r->message_state = delivered ? 2 : 5;
	if (queue_out(s, r) == 0)
		SMSC_COUNT(s, receipts, SMSC_CTR_RECEIPTS);
	talloc_free(r);
}

/* ------------------------------------------------------------------ requests from the ESME */

static bool rate_allows(struct smsc *s)
{
	struct timespec now = now_ts();
	double ms;

	if (!s->cfg.rate)
		return true;
	ms = ts_diff_ms(&now, &s->refilled);
	if (ms > 0) {
		s->tokens = OSMO_MIN((double)s->cfg.burst, s->tokens + ms * s->cfg.rate / 1000.0);
		s->refilled = now;
	}
	if (s->tokens < 1.0)
		return false;
	s->tokens -= 1.0;
	return true;
}

static void handle_bind(struct smsc_sess *sess, const struct smpp_pdu *pdu)
{
	struct smsc *s = sess->s;
	struct smpp_pdu resp = {};
	uint32_t st = SMPP_ROK;

	if (pdu->command_id != SMPP_BIND_TRANSCEIVER)
		st = SMPP_RBINDFAIL;		/* the SM-SR binds as transceiver (SGP.02 digest §7.1) */
	else if (sess->bound)
		st = SMPP_RALYBND;
	else if (strcmp(pdu->system_id, s->system_id))
		st = SMPP_RBINDFAIL;
	else if (strcmp(pdu->password, s->password))
		st = SMPP_RINVPASWD;
	if (st != SMPP_ROK) {
		SMSC_COUNT(s, bind_refused, SMSC_CTR_BIND_REFUSED);
		LOGS(sess, LOGL_NOTICE, "bind as '%s' refused: %s\n", pdu->system_id, smpp_status_name(st));
		smpp_link_respond(sess->link, pdu, st, NULL);
		if (st != SMPP_RALYBND)
			smpp_link_close(sess->link);
		return;
	}
	osmo_strlcpy(resp.system_id, "sgp02-smsc", sizeof(resp.system_id));
	smpp_link_respond(sess->link, pdu, SMPP_ROK, &resp);
	sess->bound = true;
	osmo_strlcpy(sess->system_id, pdu->system_id, sizeof(sess->system_id));
	SMSC_COUNT(s, binds, SMSC_CTR_BINDS);
	LOGS(sess, LOGL_INFO, "bound as '%s'\n", sess->system_id);
	smsc_pump(s);
}

static void handle_submit(struct smsc_sess *sess, const struct smpp_pdu *pdu)
{
	struct smsc *s = sess->s;
	struct smpp_pdu resp = {};
	struct smsc_mt mt;
	char id[17];
	int rc;

	SMSC_COUNT(s, mt_received, SMSC_CTR_MT_RECEIVED);
	if (!sess->bound) {
		smpp_link_respond(sess->link, pdu, SMPP_RINVBNDSTS, NULL);
		return;
	}
	if (s->inject_qfull > 0) {
		s->inject_qfull--;
		SMSC_COUNT(s, queue_full, SMSC_CTR_QUEUE_FULL);
		smpp_link_respond(sess->link, pdu, SMPP_RMSGQFUL, NULL);
		return;
	}
	if (!rate_allows(s)) {
		SMSC_COUNT(s, throttled, SMSC_CTR_THROTTLED);
		smpp_link_respond(sess->link, pdu, SMPP_RTHROTTLED, NULL);
		return;
	}
	if (!pdu->destination_addr[0]) {
		smpp_link_respond(sess->link, pdu, SMPP_RINVDSTADR, NULL);
		return;
	}
	snprintf(id, sizeof(id), "%llx", (unsigned long long)++s->next_msg_id);
	mt = (struct smsc_mt){
		.system_id = sess->system_id,
		.message_id = id,
		.source_addr = pdu->source_addr,
		.source_ton = pdu->source_addr_ton,
		.source_npi = pdu->source_addr_npi,
		.dest_addr = pdu->destination_addr,
		.dest_ton = pdu->dest_addr_ton,
		.dest_npi = pdu->dest_addr_npi,
		.esm_class = pdu->esm_class,
		.udhi = !!(pdu->esm_class & SMPP_ESM_UDHI),
		.protocol_id = pdu->protocol_id,
		.data_coding = pdu->data_coding,
		.registered_delivery = pdu->registered_delivery,
		.ud = pdu->ud,
		.ud_len = pdu->ud_len,
	};
	rc = s->ops && s->ops->mt ? s->ops->mt(s, &mt, s->data) : SMSC_MT_DELIVERED;
	if (rc > 0) {
		smpp_link_respond(sess->link, pdu, (uint32_t)rc, NULL);
		return;
	}
	SMSC_COUNT(s, mt_accepted, SMSC_CTR_MT_ACCEPTED);
	osmo_strlcpy(resp.message_id, id, sizeof(resp.message_id));
	smpp_link_respond(sess->link, pdu, SMPP_ROK, &resp);
	/* §5.2.17: bits 1..0 = 01 receipt on success and failure, 10 on failure only */
	if ((pdu->registered_delivery & 3) == 1 || ((pdu->registered_delivery & 3) == 2 && rc != SMSC_MT_DELIVERED))
		queue_receipt(s, pdu, id, rc == SMSC_MT_DELIVERED);
}

static void sess_request(struct smpp_link *l, const struct smpp_pdu *pdu)
{
	struct smsc_sess *sess = smpp_link_data(l);

	switch (pdu->command_id) {
	case SMPP_BIND_TRANSCEIVER:
	case SMPP_BIND_TRANSMITTER:
	case SMPP_BIND_RECEIVER:
		handle_bind(sess, pdu);
		break;
	case SMPP_SUBMIT_SM:
		handle_submit(sess, pdu);
		break;
	default:
		smpp_link_respond(l, pdu, SMPP_RINVCMDID, NULL);
		break;
	}
}

static int sess_destructor(struct smsc_sess *sess)
{
	struct smsc *s = sess->s;

	if (s->rr == sess)
		s->rr = NULL;
	llist_del(&sess->list);
	return 0;
}

static void sess_closed(struct smpp_link *l, enum smpp_link_end why)
{
	struct smsc_sess *sess = smpp_link_data(l);
	struct smsc *s = sess->s;

	LOGS(sess, sess->bound ? LOGL_NOTICE : LOGL_INFO, "session ended: %s\n", smpp_link_end_name(why));
	/* the link is a child of the session */
	talloc_free(sess);
	smsc_pump(s);
}

static const struct smpp_link_ops sess_ops = {
	.request = sess_request,
	.closed = sess_closed,
};

static int smsc_accept(struct conn_listener *li, struct conn *c, void *data)
{
	struct smsc *s = data;
	struct smsc_sess *sess = talloc_zero(s, struct smsc_sess);
	char *name;

	if (!sess)
		return -ENOMEM;
	sess->s = s;
	name = talloc_asprintf(sess, "%s", conn_peer_name(c));
	sess->link = smpp_link_alloc(sess, c, &sess_ops, sess, name);
	talloc_free(name);
	if (!sess->link) {
		talloc_free(sess);
		return -ENOMEM;
	}
	smpp_link_set_window(sess->link, s->cfg.window);
	llist_add_tail(&sess->list, &s->sessions);
	talloc_set_destructor(sess, sess_destructor);
	return 0;
}

/* ------------------------------------------------------------------ API */

static int smsc_destructor(struct smsc *s)
{
	struct smsc_sess *sess, *tmp;

	osmo_timer_del(&s->pump_timer);
	/* sessions (and their links) before the messages their requests point at */
	llist_for_each_entry_safe(sess, tmp, &s->sessions, list)
		talloc_free(sess);
	TALLOC_FREE(s->listener);
	if (s->ctrs) {
		rate_ctr_group_free(s->ctrs);
		s->ctrs = NULL;
	}
	return 0;
}

struct smsc *smsc_alloc(void *ctx, const struct smsc_cfg *cfg, const struct smsc_ops *ops, void *data)
{
	struct smsc *s;

	if (!cfg->system_id || strlen(cfg->system_id) > 15 || (cfg->password && strlen(cfg->password) > 8))
		return NULL;
	s = talloc_zero(ctx, struct smsc);
	if (!s)
		return NULL;
	s->cfg = *cfg;
	s->system_id = talloc_strdup(s, cfg->system_id);
	s->password = talloc_strdup(s, cfg->password ? cfg->password : "");
	s->cfg.system_id = s->system_id;
	s->cfg.password = s->password;
	s->cfg.addr = NULL;
	if (!s->cfg.window)
		s->cfg.window = 10;
	if (!s->cfg.max_queue)
		s->cfg.max_queue = 100000;
	if (!s->cfg.max_attempts)
		s->cfg.max_attempts = 10;
	s->ops = ops;
	s->data = data;
	INIT_LLIST_HEAD(&s->sessions);
	INIT_LLIST_HEAD(&s->queue);
	INIT_LLIST_HEAD(&s->inflight);
	osmo_timer_setup(&s->pump_timer, pump_timer_cb, s);
	smsc_set_rate(s, cfg->rate, cfg->burst);
	s->ctrs = rate_ctr_group_alloc(s, &smsc_ctrg_desc, g_smsc_idx++);
	talloc_set_destructor(s, smsc_destructor);
	s->listener = conn_listen(s, cfg->addr ? cfg->addr : "127.0.0.1", cfg->port, NULL, smsc_accept, s);
	if (!s->listener) {
		talloc_free(s);
		return NULL;
	}
	LOGP(DFLEET, LOGL_NOTICE, "smsc: SMPP on port %u, %u submit_sm/s\n", conn_listener_port(s->listener),
	     s->cfg.rate);
	return s;
}

uint16_t smsc_port(const struct smsc *s)
{
	return conn_listener_port(s->listener);
}

void smsc_set_rate(struct smsc *s, unsigned int rate, unsigned int burst)
{
	s->cfg.rate = rate;
	s->cfg.burst = burst ? burst : OSMO_MAX(1u, rate / 10);
	s->tokens = s->cfg.burst;
	s->refilled = now_ts();
}

void smsc_inject_queue_full(struct smsc *s, unsigned int n)
{
	s->inject_qfull = n;
}

int smsc_deliver_mo(struct smsc *s, const struct smsc_mo *mo)
{
	struct smpp_pdu *p;
	int rc;

	if (!mo->source_addr || strlen(mo->source_addr) > 20 || (mo->dest_addr && strlen(mo->dest_addr) > 20) ||
	    (!mo->ud && mo->ud_len))
		return -EINVAL;
	if (mo->ud_len > SMPP_UD_MAX)
		return -EMSGSIZE;
	p = talloc_zero(s, struct smpp_pdu);
	if (!p)
		return -ENOMEM;
	p->source_addr_ton = mo->source_ton;
	p->source_addr_npi = mo->source_npi;
	osmo_strlcpy(p->source_addr, mo->source_addr, sizeof(p->source_addr));
	osmo_strlcpy(p->destination_addr, mo->dest_addr ? mo->dest_addr : "", sizeof(p->destination_addr));
	p->esm_class = mo->udhi ? SMPP_ESM_UDHI : 0;
	p->protocol_id = mo->protocol_id;
	p->data_coding = mo->data_coding;
	if (mo->ud_len)
		memcpy(p->ud, mo->ud, mo->ud_len);
	p->ud_len = mo->ud_len;
	rc = queue_out(s, p);
	talloc_free(p);
	if (rc == 0)
		SMSC_COUNT(s, mo_queued, SMSC_CTR_MO_QUEUED);
	return rc;
}

unsigned int smsc_bound_count(const struct smsc *s)
{
	const struct smsc_sess *sess;
	unsigned int n = 0;

	llist_for_each_entry(sess, &s->sessions, list)
		n += sess->bound;
	return n;
}

unsigned int smsc_pending(const struct smsc *s)
{
	return s->pending;
}

const struct smsc_stats *smsc_get_stats(const struct smsc *s)
{
	return &s->stats;
}
