/* The SM-SR's SMPP ESME; see esme.h.
 *
 * Every bind is an osmo_fsm (esme_bind_fsm): DOWN -(backoff timer)-> CONNECTING -(TCP up, send
 * bind_transceiver)-> BINDING -(bind_transceiver_resp ESME_ROK)-> BOUND; the end of its link or a
 * refused bind sends it back to DOWN with the next backoff delay; esme_stop() leads every state to
 * STOPPED (unbind when bound). One pump hands queued messages
 * to bound binds, round robin, as far as each one's window and token bucket allow, and wakes
 * itself up when the next token or the next resubmission is due.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <talloc.h>
#include <osmocom/core/fsm.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/core/stats.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/smpp.h>
#include "esme.h"

struct osmo_tdef esme_tdefs[] = {
	{ .T = ESME_T_RECONNECT, .default_val = 1000, .val = 1000, .unit = OSMO_TDEF_MS,
	  .desc = "ESME: first delay before reconnecting a bind that went down or was refused; doubles "
		  "with every further failure" },
	{ .T = ESME_T_RECONNECT_MAX, .default_val = 60000, .val = 60000, .unit = OSMO_TDEF_MS,
	  .desc = "ESME: longest delay between reconnection attempts of one bind" },
	{ .T = ESME_T_RESUBMIT, .default_val = 1000, .val = 1000, .unit = OSMO_TDEF_MS,
	  .desc = "ESME: first delay before resubmitting a message the SMSC answered with ESME_RTHROTTLED "
		  "or ESME_RMSGQFUL; doubles with every further refusal" },
	{ .T = ESME_T_RESUBMIT_MAX, .default_val = 30000, .val = 30000, .unit = OSMO_TDEF_MS,
	  .desc = "ESME: longest resubmission delay of one message" },
	{}
};

enum esme_ctr {
	ESME_CTR_SUBMITTED,
	ESME_CTR_ACCEPTED,
	ESME_CTR_THROTTLED,
	ESME_CTR_QUEUE_FULL,
	ESME_CTR_RESUBMITTED,
	ESME_CTR_FAILED,
	ESME_CTR_RECEIVED,
	ESME_CTR_RECEIPTS,
	ESME_CTR_BINDS,
	ESME_CTR_BIND_FAILURES,
};

static const struct rate_ctr_desc esme_ctr_desc[] = {
	[ESME_CTR_SUBMITTED] = { "esme:submitted", "submit_sm sent, resubmissions included" },
	[ESME_CTR_ACCEPTED] = { "esme:accepted", "submit_sm answered ESME_ROK" },
	[ESME_CTR_THROTTLED] = { "esme:throttled", "submit_sm answered ESME_RTHROTTLED" },
	[ESME_CTR_QUEUE_FULL] = { "esme:queue_full", "submit_sm answered ESME_RMSGQFUL" },
	[ESME_CTR_RESUBMITTED] = { "esme:resubmitted", "Messages put back into the queue for another attempt" },
	[ESME_CTR_FAILED] = { "esme:failed", "Messages given up, reported to the caller as failed" },
	[ESME_CTR_RECEIVED] = { "esme:mo_received", "MO deliver_sm received" },
	[ESME_CTR_RECEIPTS] = { "esme:receipts", "Delivery receipts received" },
	[ESME_CTR_BINDS] = { "esme:binds", "Successful bind_transceiver" },
	[ESME_CTR_BIND_FAILURES] = { "esme:bind_failures", "Refused binds and failed connects" },
};

static const struct rate_ctr_group_desc esme_ctrg_desc = {
	.group_name_prefix = "esme",
	.group_description = "SMPP ESME of the SM-SR (ES5 over SMS)",
	.class_id = OSMO_STATS_CLASS_GLOBAL,
	.num_ctr = ARRAY_SIZE(esme_ctr_desc),
	.ctr_desc = esme_ctr_desc,
};

static unsigned int g_esme_idx;

/* The plain struct serves esme_get_stats(); the rate counters the VTY and the stats reporters. */
#define ESME_COUNT(e, field, idx) do { \
		(e)->stats.field++; \
		if ((e)->ctrs) \
			rate_ctr_inc2((e)->ctrs, idx); \
	} while (0)

#define LOGB(b, level, fmt, args...) LOGP(DSMPP, level, "esme bind %s: " fmt, (b)->name, ## args)

/* How far the pump looks past the queue head for a message whose resubmission time has come. */
#define ESME_SCAN_MAX	64

struct esme_bind {
	struct llist_head list;
	struct esme *e;
	char *name;
	char *host;
	uint16_t port;
	struct smpp_pdu bind_req;	/*!< system_id, password, ... as sent */
	unsigned int window;
	unsigned int rate;
	double burst;

	struct osmo_fsm_inst *fi;	/*!< esme_bind_fsm, talloc child of the bind */
	struct smpp_link *link;
	unsigned int failures;		/*!< consecutive failed attempts (backoff exponent) */
	bool refused;			/*!< this attempt's bind was refused (counted already) */

	double tokens;
	struct timespec refilled;
	struct timespec paused_until;	/*!< after ESME_RTHROTTLED */
	unsigned long sent;
	uint32_t last_refusal;
};

struct esme_sm {
	struct llist_head list;		/*!< in e->queue, or in flight (then unlinked) */
	struct esme *e;
	void *data;
	char dest_addr[21];
	uint8_t dest_ton;
	uint8_t dest_npi;
	bool udhi;
	uint8_t *ud;
	size_t ud_len;
	unsigned int retries;
	struct timespec not_before;
	struct esme_bind *bind;		/*!< the bind it is in flight on, NULL while queued */
};

struct esme {
	struct esme_cfg cfg;
	char *source_addr;
	const struct esme_ops *ops;
	void *data;
	struct llist_head binds;
	struct esme_bind *rr;		/*!< where the next pump round starts */
	struct llist_head queue;
	unsigned int queued;
	struct llist_head inflight;
	struct osmo_timer_list pump_timer;
	bool started;
	bool stopping;
	struct esme_stats stats;
	struct rate_ctr_group *ctrs;
};

static void esme_pump(struct esme *e);
static bool bind_is_bound(const struct esme_bind *b);

/* ------------------------------------------------------------------ time */

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

static struct timespec ts_add_ms(struct timespec t, unsigned long ms)
{
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* base * 2^n, capped */
static unsigned long backoff_ms(int t_base, int t_max, unsigned int n)
{
	unsigned long base = osmo_tdef_get(esme_tdefs, t_base, OSMO_TDEF_MS, -1);
	unsigned long max = osmo_tdef_get(esme_tdefs, t_max, OSMO_TDEF_MS, -1);
	unsigned long d = base;

	while (n-- > 0 && d < max)
		d *= 2;
	return OSMO_MIN(d, max);
}

/* ------------------------------------------------------------------ message results */

static void sm_finish(struct esme_sm *sm, int err, uint32_t status, const char *message_id)
{
	struct esme *e = sm->e;

	llist_del(&sm->list);
	if (err)
		ESME_COUNT(e, failed, ESME_CTR_FAILED);
	if (e->ops && e->ops->submit_result)
		e->ops->submit_result(e, sm->data, err, status, message_id);
	talloc_free(sm);
}

/* Back into the queue (at the head: it was the oldest), not before \a delay_ms. */
static void sm_requeue(struct esme_sm *sm, unsigned long delay_ms)
{
	struct esme *e = sm->e;

	llist_del(&sm->list);
	sm->bind = NULL;
	sm->not_before = ts_add_ms(now_ts(), delay_ms);
	llist_add(&sm->list, &e->queue);
	e->queued++;
	ESME_COUNT(e, resubmitted, ESME_CTR_RESUBMITTED);
}

static void submit_resp_cb(struct smpp_link *l, const struct smpp_pdu *resp, int err, void *data)
{
	struct esme_sm *sm = data;
	struct esme_bind *b = sm->bind;
	struct esme *e = sm->e;
	uint32_t st;

	if (err == -ENOTCONN || err == -ETIMEDOUT) {
		/* the SMSC may or may not have it: send again (at least once), but not forever */
		if (++sm->retries > e->cfg.max_retries) {
			LOGB(b, LOGL_NOTICE, "submit_sm to %s: %s, giving up after %u attempts\n", sm->dest_addr,
			     err == -ENOTCONN ? "link lost" : "no answer", sm->retries);
			sm_finish(sm, -ETIMEDOUT, 0, NULL);
		} else {
			sm_requeue(sm, 0);
		}
		goto out;
	}
	if (err < 0) {
		LOGB(b, LOGL_NOTICE, "submit_sm to %s: undecodable answer\n", sm->dest_addr);
		sm_finish(sm, -EPROTO, SMPP_RSYSERR, NULL);
		goto out;
	}
	st = resp->command_status;
	if (st == SMPP_ROK && resp->command_id == (SMPP_SUBMIT_SM | SMPP_RESP_BIT)) {
		ESME_COUNT(e, accepted, ESME_CTR_ACCEPTED);
		LOGB(b, LOGL_DEBUG, "submit_sm to %s accepted, message_id %s\n", sm->dest_addr, resp->message_id);
		sm_finish(sm, 0, 0, resp->message_id);
		goto out;
	}
	if (st == SMPP_RTHROTTLED || st == SMPP_RMSGQFUL) {
		unsigned long d;

		if (st == SMPP_RTHROTTLED)
			ESME_COUNT(e, throttled, ESME_CTR_THROTTLED);
		else
			ESME_COUNT(e, queue_full, ESME_CTR_QUEUE_FULL);
		if (sm->retries >= e->cfg.max_retries) {
			LOGB(b, LOGL_NOTICE, "submit_sm to %s: %s after %u retries, giving up\n", sm->dest_addr,
			     smpp_status_name(st), sm->retries);
			sm_finish(sm, -EAGAIN, st, NULL);
			goto out;
		}
		d = backoff_ms(ESME_T_RESUBMIT, ESME_T_RESUBMIT_MAX, sm->retries);
		sm->retries++;
		LOGB(b, LOGL_INFO, "submit_sm to %s: %s, resubmitting in %lu ms (retry %u)\n", sm->dest_addr,
		     smpp_status_name(st), d, sm->retries);
		/* SMPP 3.4 §5.1.3 ESME_RTHROTTLED: the bind itself has to slow down, not just this message */
		if (st == SMPP_RTHROTTLED && b) {
			b->paused_until = ts_add_ms(now_ts(), osmo_tdef_get(esme_tdefs, ESME_T_RESUBMIT,
									 OSMO_TDEF_MS, -1));
			b->tokens = 0;
		}
		sm_requeue(sm, d);
		goto out;
	}
	LOGB(b, LOGL_NOTICE, "submit_sm to %s refused: %s\n", sm->dest_addr, smpp_status_name(st));
	sm_finish(sm, -EPROTO, st ? st : SMPP_RUNKNOWNERR, NULL);
out:
	esme_pump(e);
}

/* ------------------------------------------------------------------ the pump */

static void bucket_refill(struct esme_bind *b, const struct timespec *now)
{
	double ms;

	if (!b->rate)
		return;
	ms = ts_diff_ms(now, &b->refilled);
	if (ms > 0) {
		b->tokens = OSMO_MIN(b->burst, b->tokens + ms * b->rate / 1000.0);
		b->refilled = *now;
	}
}

/* ms until this bind may send again (0: now). */
static double bind_wait_ms(struct esme_bind *b, const struct timespec *now)
{
	double w = 0;
	double p = ts_diff_ms(&b->paused_until, now);

	if (p > 0)
		w = p;
	if (b->rate && b->tokens < 1.0)
		w = OSMO_MAX(w, (1.0 - b->tokens) * 1000.0 / b->rate);
	return w;
}

static int bind_send(struct esme_bind *b, struct esme_sm *sm)
{
	struct esme *e = b->e;
	struct smpp_pdu *pdu;
	int rc;

	pdu = talloc_zero(b, struct smpp_pdu);
	if (!pdu)
		return -ENOMEM;
	pdu->command_id = SMPP_SUBMIT_SM;
	pdu->source_addr_ton = e->cfg.source_ton;
	pdu->source_addr_npi = e->cfg.source_npi;
	osmo_strlcpy(pdu->source_addr, e->source_addr, sizeof(pdu->source_addr));
	pdu->dest_addr_ton = sm->dest_ton;
	pdu->dest_addr_npi = sm->dest_npi;
	osmo_strlcpy(pdu->destination_addr, sm->dest_addr, sizeof(pdu->destination_addr));
	/* SGP.02 digest §7.1: SMS-PP data download = UDHI set, PID 0x7F, DCS 0xF6 */
	pdu->esm_class = sm->udhi ? SMPP_ESM_UDHI : 0;
	pdu->protocol_id = e->cfg.protocol_id;
	pdu->data_coding = e->cfg.data_coding;
	pdu->registered_delivery = e->cfg.registered_delivery ? 1 : 0;
	memcpy(pdu->ud, sm->ud, sm->ud_len);
	pdu->ud_len = sm->ud_len;
	rc = smpp_link_request(b->link, pdu, submit_resp_cb, sm);
	talloc_free(pdu);
	return rc;
}

static void esme_pump(struct esme *e)
{
	struct timespec now = now_ts();
	double wake = -1;
	struct esme_bind *b;
	unsigned int nbinds = 0, i;

	osmo_timer_del(&e->pump_timer);
	if (!e->started || e->stopping || llist_empty(&e->queue) || llist_empty(&e->binds))
		return;
	llist_for_each_entry(b, &e->binds, list)
		nbinds++;
	if (!e->rr)
		e->rr = llist_first_entry(&e->binds, struct esme_bind, list);
	b = e->rr;
	/* round robin: one message per bind and turn, until nobody can send any more */
	for (;;) {
		bool progress = false;

		for (i = 0; i < nbinds && !llist_empty(&e->queue); i++) {
			struct esme_sm *sm, *pick = NULL;
			unsigned int scanned = 0;
			double w;

			if (bind_is_bound(b) && smpp_link_window_open(b->link)) {
				bucket_refill(b, &now);
				w = bind_wait_ms(b, &now);
				if (w > 0) {
					wake = wake < 0 ? w : OSMO_MIN(wake, w);
				} else {
					llist_for_each_entry(sm, &e->queue, list) {
						double nb = ts_diff_ms(&sm->not_before, &now);

						if (nb <= 0) {
							pick = sm;
							break;
						}
						wake = wake < 0 ? nb : OSMO_MIN(wake, nb);
						if (++scanned >= ESME_SCAN_MAX)
							break;
					}
				}
			}
			if (pick) {
				int rc;

				llist_del(&pick->list);
				e->queued--;
				llist_add_tail(&pick->list, &e->inflight);
				pick->bind = b;
				rc = bind_send(b, pick);
				if (rc == 0) {
					ESME_COUNT(e, submitted, ESME_CTR_SUBMITTED);
					b->sent++;
					if (b->rate)
						b->tokens -= 1.0;
					progress = true;
				} else if (rc == -EINVAL) {
					/* unreachable after the checks of esme_alloc() and esme_submit() */
					LOGB(b, LOGL_ERROR, "cannot encode submit_sm to %s\n", pick->dest_addr);
					sm_finish(pick, -EINVAL, 0, NULL);
				} else {
					/* link just went: back to the head, the link's end will rebind */
					llist_del(&pick->list);
					pick->bind = NULL;
					llist_add(&pick->list, &e->queue);
					e->queued++;
				}
			}
			b = llist_entry(b->list.next == &e->binds ? e->binds.next : b->list.next, struct esme_bind,
					list);
		}
		e->rr = b;
		if (!progress || llist_empty(&e->queue))
			break;
	}
	if (!llist_empty(&e->queue) && wake >= 0) {
		unsigned long ms = (unsigned long)wake + 1;

		osmo_timer_schedule(&e->pump_timer, ms / 1000, (ms % 1000) * 1000);
	}
}

static void pump_timer_cb(void *data)
{
	esme_pump(data);
}

/* ------------------------------------------------------------------ binds: one osmo_fsm each */

enum esme_bind_state {
	ESME_BIND_ST_DOWN,		/*!< waiting to (re)connect: the state timer is the backoff delay */
	ESME_BIND_ST_CONNECTING,	/*!< TCP connect in progress */
	ESME_BIND_ST_BINDING,		/*!< bind_transceiver sent */
	ESME_BIND_ST_BOUND,		/*!< submit_sm may flow */
	ESME_BIND_ST_STOPPED,		/*!< esme_stop(): unbinding or gone, never reconnects */
};

enum esme_bind_event {
	ESME_BIND_EV_START,		/*!< connect now */
	ESME_BIND_EV_CONNECTED,		/*!< TCP established */
	ESME_BIND_EV_BIND_OK,		/*!< bind_transceiver_resp ESME_ROK */
	ESME_BIND_EV_BIND_REFUSED,	/*!< any other answer, or none */
	ESME_BIND_EV_LINK_DOWN,		/*!< the link ended (and is freed) */
	ESME_BIND_EV_STOP,		/*!< esme_stop() */
};

static const struct value_string esme_bind_event_names[] = {
	OSMO_VALUE_STRING(ESME_BIND_EV_START),
	OSMO_VALUE_STRING(ESME_BIND_EV_CONNECTED),
	OSMO_VALUE_STRING(ESME_BIND_EV_BIND_OK),
	OSMO_VALUE_STRING(ESME_BIND_EV_BIND_REFUSED),
	OSMO_VALUE_STRING(ESME_BIND_EV_LINK_DOWN),
	OSMO_VALUE_STRING(ESME_BIND_EV_STOP),
	{}
};

#define S(x) (1 << (x))

static void bind_connect(struct esme_bind *b);

static bool bind_is_bound(const struct esme_bind *b)
{
	return b->fi && b->fi->state == ESME_BIND_ST_BOUND;
}

/* Wait before the next attempt: ESME_T_RECONNECT doubled per consecutive failure, capped. */
static void bind_go_down(struct esme_bind *b)
{
	unsigned long ms = backoff_ms(ESME_T_RECONNECT, ESME_T_RECONNECT_MAX, b->failures);

	b->failures++;
	LOGPFSML(b->fi, LOGL_INFO, "reconnecting in %lu ms\n", ms);
	/* Not osmo_fsm_inst_state_chg_ms(): libosmocore 1.7.0 (Debian 12) schedules its timeout_ms as
	 * microseconds. Change state without a timeout, then arm the instance's own timer, which ends in
	 * bind_fsm_timer_cb() all the same. */
	osmo_fsm_inst_state_chg(b->fi, ESME_BIND_ST_DOWN, 0, ESME_T_RECONNECT);
	osmo_timer_schedule(&b->fi->timer, ms / 1000, (ms % 1000) * 1000);
}

static void bind_resp_cb(struct smpp_link *l, const struct smpp_pdu *resp, int err, void *data)
{
	struct esme_bind *b = data;

	if (err < 0 || resp->command_status != SMPP_ROK || resp->command_id == SMPP_GENERIC_NACK) {
		if (err == 0)
			b->last_refusal = resp->command_status ? resp->command_status : SMPP_RBINDFAIL;
		LOGPFSML(b->fi, LOGL_ERROR, "bind_transceiver as '%s' refused: %s\n", b->bind_req.system_id,
			 err < 0 ? strerror(-err) : smpp_status_name(resp->command_status));
		osmo_fsm_inst_dispatch(b->fi, ESME_BIND_EV_BIND_REFUSED, NULL);
		return;
	}
	LOGPFSML(b->fi, LOGL_NOTICE, "bound to '%s' as '%s'\n", resp->system_id, b->bind_req.system_id);
	osmo_fsm_inst_dispatch(b->fi, ESME_BIND_EV_BIND_OK, NULL);
}

static void bind_link_established(struct smpp_link *l)
{
	struct esme_bind *b = smpp_link_data(l);

	osmo_fsm_inst_dispatch(b->fi, ESME_BIND_EV_CONNECTED, NULL);
}

static void bind_deliver(struct esme_bind *b, const struct smpp_pdu *pdu)
{
	struct esme *e = b->e;
	uint32_t status = SMPP_ROK;

	/* SMPP 3.4 §5.2.12: esm_class bits 5..2 = 0001 mark an SMSC delivery receipt */
	if ((pdu->esm_class & SMPP_ESM_RECEIPT_MASK) == SMPP_ESM_DELIVERY_RECEIPT) {
		char id[65] = "", stat[8] = "";
		unsigned int errc = 0;
		struct esme_receipt r;

		smpp_receipt_parse(pdu->ud, pdu->ud_len, id, stat, &errc);
		if (pdu->receipted_message_id[0])
			osmo_strlcpy(id, pdu->receipted_message_id, sizeof(id));
		/* §5.3.2.35 message_state 2 = DELIVERED */
		if (!stat[0] && pdu->message_state)
			osmo_strlcpy(stat, pdu->message_state == 2 ? "DELIVRD" : "UNDELIV", sizeof(stat));
		ESME_COUNT(e, receipts, ESME_CTR_RECEIPTS);
		LOGB(b, LOGL_DEBUG, "receipt for %s from %s: %s\n", id, pdu->source_addr, stat);
		r = (struct esme_receipt){
			.message_id = id,
			.stat = stat,
			.delivered = !strcmp(stat, "DELIVRD"),
			.err = errc,
			.source_addr = pdu->source_addr,
		};
		if (e->ops && e->ops->receipt)
			e->ops->receipt(e, &r, e->data);
	} else {
		struct esme_mo mo = {
			.bind = b->name,
			.source_addr = pdu->source_addr,
			.source_ton = pdu->source_addr_ton,
			.source_npi = pdu->source_addr_npi,
			.dest_addr = pdu->destination_addr,
			.esm_class = pdu->esm_class,
			.protocol_id = pdu->protocol_id,
			.data_coding = pdu->data_coding,
			.udhi = !!(pdu->esm_class & SMPP_ESM_UDHI),
			.ud = pdu->ud,
			.ud_len = pdu->ud_len,
		};

		ESME_COUNT(e, received, ESME_CTR_RECEIVED);
		LOGB(b, LOGL_DEBUG, "MO from %s, %zu octets\n", pdu->source_addr, pdu->ud_len);
		status = (e->ops && e->ops->mo) ? e->ops->mo(e, &mo, e->data) : SMPP_RX_T_APPN;
	}
	smpp_link_respond(b->link, pdu, status, NULL);
}

static void bind_link_request(struct smpp_link *l, const struct smpp_pdu *pdu)
{
	struct esme_bind *b = smpp_link_data(l);

	if (pdu->command_id != SMPP_DELIVER_SM) {
		smpp_link_respond(l, pdu, SMPP_RINVCMDID, NULL);
		return;
	}
	/* §2.2: deliver_sm only to a bound receiver/transceiver */
	if (!bind_is_bound(b)) {
		smpp_link_respond(l, pdu, SMPP_RINVBNDSTS, NULL);
		return;
	}
	bind_deliver(b, pdu);
}

static void bind_link_closed(struct smpp_link *l, enum smpp_link_end why)
{
	struct esme_bind *b = smpp_link_data(l);

	LOGPFSML(b->fi, bind_is_bound(b) ? LOGL_NOTICE : LOGL_INFO, "link down (%s)\n", smpp_link_end_name(why));
	b->link = NULL;
	talloc_free(l);
	osmo_fsm_inst_dispatch(b->fi, ESME_BIND_EV_LINK_DOWN, NULL);
}

static const struct smpp_link_ops bind_link_ops = {
	.established = bind_link_established,
	.request = bind_link_request,
	.closed = bind_link_closed,
};

static void bind_connect(struct esme_bind *b)
{
	char *name = talloc_asprintf(b, "esme %s -> %s:%u", b->name, b->host, b->port);

	b->refused = false;
	osmo_fsm_inst_state_chg(b->fi, ESME_BIND_ST_CONNECTING, 0, 0);
	b->link = smpp_link_connect(b, b->host, b->port, &bind_link_ops, b, name);
	talloc_free(name);
	if (!b->link) {
		ESME_COUNT(b->e, bind_failures, ESME_CTR_BIND_FAILURES);
		bind_go_down(b);
		return;
	}
	smpp_link_set_window(b->link, b->window);
}

static void bind_st_down(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct esme_bind *b = fi->priv;

	switch (event) {
	case ESME_BIND_EV_START:
		bind_connect(b);
		break;
	default:
		break;
	}
}

static void bind_st_connecting(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct esme_bind *b = fi->priv;
	struct smpp_pdu *req;

	switch (event) {
	case ESME_BIND_EV_CONNECTED:
		req = talloc_zero(b, struct smpp_pdu);
		if (!req) {
			smpp_link_close(b->link);
			return;
		}
		*req = b->bind_req;
		req->command_id = SMPP_BIND_TRANSCEIVER;
		osmo_fsm_inst_state_chg(fi, ESME_BIND_ST_BINDING, 0, 0);
		/* the bind answer times out with the link's response timer (SMPP_T_RESP) */
		if (smpp_link_request(b->link, req, bind_resp_cb, b) < 0)
			smpp_link_close(b->link);
		talloc_free(req);
		break;
	case ESME_BIND_EV_LINK_DOWN:
		ESME_COUNT(b->e, bind_failures, ESME_CTR_BIND_FAILURES);
		bind_go_down(b);
		break;
	default:
		break;
	}
}

static void bind_st_binding(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct esme_bind *b = fi->priv;

	switch (event) {
	case ESME_BIND_EV_BIND_OK:
		osmo_fsm_inst_state_chg(fi, ESME_BIND_ST_BOUND, 0, 0);
		break;
	case ESME_BIND_EV_BIND_REFUSED:
		ESME_COUNT(b->e, bind_failures, ESME_CTR_BIND_FAILURES);
		b->refused = true;
		/* LINK_DOWN follows */
		smpp_link_close(b->link);
		break;
	case ESME_BIND_EV_LINK_DOWN:
		if (!b->refused)
			ESME_COUNT(b->e, bind_failures, ESME_CTR_BIND_FAILURES);
		bind_go_down(b);
		break;
	default:
		break;
	}
}

static void bind_st_bound_onenter(struct osmo_fsm_inst *fi, uint32_t prev_state)
{
	struct esme_bind *b = fi->priv;

	b->failures = 0;
	b->last_refusal = 0;
	b->tokens = OSMO_MIN(b->burst, 1.0);
	b->refilled = now_ts();
	ESME_COUNT(b->e, binds, ESME_CTR_BINDS);
	smpp_link_keepalive(b->link, true);
	esme_pump(b->e);
}

static void bind_st_bound(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct esme_bind *b = fi->priv;

	switch (event) {
	case ESME_BIND_EV_LINK_DOWN:
		bind_go_down(b);
		/* its in-flight messages are back in the queue: another bind may take them */
		esme_pump(b->e);
		break;
	default:
		break;
	}
}

static void bind_st_stopped(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	/* LINK_DOWN: the unbind (or close) finished; nothing more to do */
}

static void bind_allstate(struct osmo_fsm_inst *fi, uint32_t event, void *data)
{
	struct esme_bind *b = fi->priv;

	if (event != ESME_BIND_EV_STOP || fi->state == ESME_BIND_ST_STOPPED)
		return;
	if (b->link) {
		if (fi->state == ESME_BIND_ST_BOUND) {
			/* SMPP 3.4 §4.2 */
			LOGPFSML(fi, LOGL_NOTICE, "unbinding\n");
			smpp_link_unbind(b->link);
		} else {
			smpp_link_close(b->link);
		}
	}
	osmo_fsm_inst_state_chg(fi, ESME_BIND_ST_STOPPED, 0, 0);
}

static int bind_fsm_timer_cb(struct osmo_fsm_inst *fi)
{
	struct esme_bind *b = fi->priv;

	/* only DOWN has a timer: the backoff is over */
	if (fi->state == ESME_BIND_ST_DOWN)
		bind_connect(b);
	return 0;
}

static const struct osmo_fsm_state esme_bind_states[] = {
	[ESME_BIND_ST_DOWN] = {
		.name = "DOWN",
		.in_event_mask = S(ESME_BIND_EV_START),
		.out_state_mask = S(ESME_BIND_ST_CONNECTING) | S(ESME_BIND_ST_DOWN) | S(ESME_BIND_ST_STOPPED),
		.action = bind_st_down,
	},
	[ESME_BIND_ST_CONNECTING] = {
		.name = "CONNECTING",
		.in_event_mask = S(ESME_BIND_EV_CONNECTED) | S(ESME_BIND_EV_LINK_DOWN),
		.out_state_mask = S(ESME_BIND_ST_BINDING) | S(ESME_BIND_ST_DOWN) | S(ESME_BIND_ST_STOPPED),
		.action = bind_st_connecting,
	},
	[ESME_BIND_ST_BINDING] = {
		.name = "BINDING",
		.in_event_mask = S(ESME_BIND_EV_BIND_OK) | S(ESME_BIND_EV_BIND_REFUSED) | S(ESME_BIND_EV_LINK_DOWN),
		.out_state_mask = S(ESME_BIND_ST_BOUND) | S(ESME_BIND_ST_DOWN) | S(ESME_BIND_ST_STOPPED),
		.action = bind_st_binding,
	},
	[ESME_BIND_ST_BOUND] = {
		.name = "BOUND",
		.in_event_mask = S(ESME_BIND_EV_LINK_DOWN),
		.out_state_mask = S(ESME_BIND_ST_DOWN) | S(ESME_BIND_ST_STOPPED),
		.onenter = bind_st_bound_onenter,
		.action = bind_st_bound,
	},
	[ESME_BIND_ST_STOPPED] = {
		.name = "STOPPED",
		.in_event_mask = S(ESME_BIND_EV_LINK_DOWN) | S(ESME_BIND_EV_BIND_OK) | S(ESME_BIND_EV_BIND_REFUSED) |
				 S(ESME_BIND_EV_CONNECTED),
		.action = bind_st_stopped,
	},
};

static struct osmo_fsm esme_bind_fsm = {
	.name = "esme_bind",
	.states = esme_bind_states,
	.num_states = ARRAY_SIZE(esme_bind_states),
	.allstate_event_mask = S(ESME_BIND_EV_STOP),
	.allstate_action = bind_allstate,
	.timer_cb = bind_fsm_timer_cb,
	.log_subsys = DSMPP,
	.event_names = esme_bind_event_names,
};

static __attribute__((constructor)) void esme_fsm_register(void)
{
	OSMO_ASSERT(osmo_fsm_register(&esme_bind_fsm) == 0);
}

static int bind_destructor(struct esme_bind *b)
{
	/* the link first: no callback may reach a freed FSM instance */
	TALLOC_FREE(b->link);
	if (b->fi) {
		osmo_fsm_inst_free(b->fi);
		b->fi = NULL;
	}
	return 0;
}

/* ------------------------------------------------------------------ API */

void esme_cfg_defaults(struct esme_cfg *cfg)
{
	*cfg = (struct esme_cfg){
		.source_addr = "",
		.protocol_id = 0x7F,
		.data_coding = 0xF6,
		.registered_delivery = true,
		.max_retries = 5,
		.max_queue = 100000,
	};
}

static int esme_destructor(struct esme *e)
{
	struct esme_bind *b;

	osmo_timer_del(&e->pump_timer);
	if (e->ctrs) {
		rate_ctr_group_free(e->ctrs);
		e->ctrs = NULL;
	}
	/* no callbacks from here on: the links and FSMs go before the messages they point at */
	llist_for_each_entry(b, &e->binds, list)
		bind_destructor(b);
	return 0;
}

struct esme *esme_alloc(void *ctx, const struct esme_cfg *cfg, const struct esme_ops *ops, void *data)
{
	struct esme *e;

	/* SMPP 3.4 §5.2.8: source_addr is at most 20 characters */
	if (cfg->source_addr && strlen(cfg->source_addr) > 20)
		return NULL;
	e = talloc_zero(ctx, struct esme);
	if (!e)
		return NULL;
	e->cfg = *cfg;
	e->source_addr = talloc_strdup(e, cfg->source_addr ? cfg->source_addr : "");
	e->cfg.source_addr = e->source_addr;
	e->ops = ops;
	e->data = data;
	INIT_LLIST_HEAD(&e->binds);
	INIT_LLIST_HEAD(&e->queue);
	INIT_LLIST_HEAD(&e->inflight);
	osmo_timer_setup(&e->pump_timer, pump_timer_cb, e);
	/* counters are a convenience: the ESME works without them */
	e->ctrs = rate_ctr_group_alloc(e, &esme_ctrg_desc, g_esme_idx++);
	talloc_set_destructor(e, esme_destructor);
	return e;
}

int esme_add_bind(struct esme *e, const struct esme_bind_cfg *bc)
{
	struct esme_bind *b;
	struct smpp_pdu *r;

	if (!bc->host || !bc->system_id || strlen(bc->system_id) > 15 || (bc->password && strlen(bc->password) > 8) ||
	    (bc->system_type && strlen(bc->system_type) > 12) ||
	    (bc->address_range && strlen(bc->address_range) > 40))
		return -EINVAL;
	b = talloc_zero(e, struct esme_bind);
	if (!b)
		return -ENOMEM;
	b->e = e;
	b->name = talloc_strdup(b, bc->name ? bc->name : bc->system_id);
	b->host = talloc_strdup(b, bc->host);
	b->port = bc->port;
	b->window = bc->window ? bc->window : 10;
	b->rate = bc->rate;
	b->burst = bc->burst ? bc->burst : OSMO_MAX(1u, bc->rate / 10);
	r = &b->bind_req;
	osmo_strlcpy(r->system_id, bc->system_id, sizeof(r->system_id));
	osmo_strlcpy(r->password, bc->password ? bc->password : "", sizeof(r->password));
	osmo_strlcpy(r->system_type, bc->system_type ? bc->system_type : "", sizeof(r->system_type));
	r->interface_version = 0x34;
	r->addr_ton = bc->addr_ton;
	r->addr_npi = bc->addr_npi;
	osmo_strlcpy(r->address_range, bc->address_range ? bc->address_range : "", sizeof(r->address_range));
	b->fi = osmo_fsm_inst_alloc(&esme_bind_fsm, b, b, LOGL_DEBUG, NULL);
	if (!b->fi) {
		talloc_free(b);
		return -ENOMEM;
	}
	osmo_fsm_inst_update_id_f_sanitize(b->fi, '-', "%s", b->name);
	talloc_set_destructor(b, bind_destructor);
	llist_add_tail(&b->list, &e->binds);
	if (e->started)
		osmo_fsm_inst_dispatch(b->fi, e->stopping ? ESME_BIND_EV_STOP : ESME_BIND_EV_START, NULL);
	return 0;
}

void esme_start(struct esme *e)
{
	struct esme_bind *b;

	if (e->started)
		return;
	e->started = true;
	llist_for_each_entry(b, &e->binds, list)
		osmo_fsm_inst_dispatch(b->fi, ESME_BIND_EV_START, NULL);
}

void esme_stop(struct esme *e)
{
	struct esme_bind *b;

	e->stopping = true;
	osmo_timer_del(&e->pump_timer);
	llist_for_each_entry(b, &e->binds, list)
		osmo_fsm_inst_dispatch(b->fi, ESME_BIND_EV_STOP, NULL);
}

unsigned int esme_link_count(const struct esme *e)
{
	const struct esme_bind *b;
	unsigned int n = 0;

	llist_for_each_entry(b, &e->binds, list)
		n += b->link != NULL;
	return n;
}

int esme_submit(struct esme *e, const struct esme_msg *msg, void *msg_data)
{
	struct esme_sm *sm;

	if (!msg->dest_addr || strlen(msg->dest_addr) > 20 || (!msg->ud && msg->ud_len))
		return -EINVAL;
	if (msg->ud_len > SMPP_UD_MAX)
		return -EMSGSIZE;
	if (e->queued >= e->cfg.max_queue)
		return -ENOSPC;
	sm = talloc_zero(e, struct esme_sm);
	if (!sm)
		return -ENOMEM;
	sm->e = e;
	sm->data = msg_data;
	osmo_strlcpy(sm->dest_addr, msg->dest_addr, sizeof(sm->dest_addr));
	sm->dest_ton = msg->dest_ton;
	sm->dest_npi = msg->dest_npi;
	sm->udhi = msg->udhi;
	sm->ud = talloc_memdup(sm, msg->ud ? msg->ud : (const uint8_t *)"", msg->ud_len ? msg->ud_len : 1);
	sm->ud_len = msg->ud_len;
	sm->not_before = now_ts();
	llist_add_tail(&sm->list, &e->queue);
	e->queued++;
	esme_pump(e);
	return 0;
}

unsigned int esme_bound_count(const struct esme *e)
{
	const struct esme_bind *b;
	unsigned int n = 0;

	llist_for_each_entry(b, &e->binds, list)
		n += bind_is_bound(b);
	return n;
}

unsigned int esme_queue_len(const struct esme *e)
{
	return e->queued;
}

const struct esme_stats *esme_get_stats(const struct esme *e)
{
	return &e->stats;
}

unsigned long esme_bind_sent(const struct esme *e, const char *name)
{
	const struct esme_bind *b;

	llist_for_each_entry(b, &e->binds, list) {
		if (!strcmp(b->name, name))
			return b->sent;
	}
	return 0;
}

uint32_t esme_bind_last_refusal(const struct esme *e, const char *name)
{
	const struct esme_bind *b;

	llist_for_each_entry(b, &e->binds, list) {
		if (!strcmp(b->name, name))
			return b->last_refusal;
	}
	return 0;
}
