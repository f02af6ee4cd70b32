/*! \file device.c
 * Simulated devices: MSISDN routing, the SMS bearer between the SMSC and each eUICC, fault injection.
 * See device.h. Everything runs on the process's one libosmocore event loop. The clock is the one the osmo_timers
 * of this libosmocore use, osmo_gettimeofday(), so tests can override it and drive everything deterministically.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include <talloc.h>
#include <openssl/crypto.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/timer_compat.h>
#include <osmocom/core/utils.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/smpp.h>
#include <sgp02/fleet/device.h>
#include <sgp02/fleet/smsc.h>

struct fleet_msg;

struct fleet_device {
	struct fleet_devices *fleet;
	uint32_t index;
	struct fleet_euicc *card;
	struct osmo_timer_list card_timer;	/* notification re-sends of the card */
	uint64_t offline_until_ms;
	struct fleet_msg *held_mt;		/* a message held back to be reordered */
	struct fleet_msg *held_mo;
};

/* A message waiting in a delay or reorder timer. */
struct fleet_msg {
	struct llist_head list;
	struct fleet_devices *fleet;
	uint32_t index;
	bool mt;
	bool held;			/* reorder slot of its device */
	char src[24];
	char dst[24];
	uint8_t ud[OTA_SMS_UD_MAX];
	size_t len;
	struct osmo_timer_list timer;
};

struct fleet_devices {
	struct fleet_devices_cfg cfg;
	struct fleet_mo_sink sink;
	struct fleet_device **dev;	/* cfg.num pointers, devices created lazily */
	uint64_t prng;
	char last_mt_src[24];
	struct llist_head in_flight;
	unsigned int num_in_flight;
	struct fleet_devices_stats stats;
};

static void deliver_mt(struct fleet_devices *f, struct fleet_device *d, const char *src, const uint8_t *ud,
		       size_t len);
static void mo_to_sink(struct fleet_devices *f, struct fleet_device *d, const char *src, const char *dst,
		       const uint8_t *ud, size_t len);

static uint64_t now_ms(void)
{
	struct timeval tv;

	osmo_gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ------------------------------------------------------------------------------------------------------------
 * PRNG: xorshift64* (Vigna), seeded through splitmix64 so that seed 0 works too
 */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

static uint64_t prng_next(struct fleet_devices *f)
{
	uint64_t x = f->prng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	f->prng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* true with probability p; draws a number only when 0 < p, so a fault that is off does not shift the others */
static bool chance(struct fleet_devices *f, double p)
{
	if (p <= 0.0)
		return false;
	if (p >= 1.0)
		return true;
	return (prng_next(f) >> 11) * (1.0 / 9007199254740992.0) < p;
}

static uint32_t uniform(struct fleet_devices *f, uint32_t lo, uint32_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + prng_next(f) % ((uint64_t)hi - lo + 1);
}

/* ------------------------------------------------------------------------------------------------------------
 * configuration and lookup
 */

void fleet_devices_cfg_default(struct fleet_devices_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->num = 100;
	cfg->fault_seed = 1;
	fleet_eum_params_default(&cfg->eum);
}

static char *dup_or_null(void *ctx, const char *s)
{
	return s ? talloc_strdup(ctx, s) : NULL;
}

static int msg_destructor(struct fleet_msg *m)
{
	osmo_timer_del(&m->timer);
	llist_del(&m->list);
	m->fleet->num_in_flight--;
	return 0;
}

static int dev_destructor(struct fleet_device *d)
{
	osmo_timer_del(&d->card_timer);
	return 0;
}

static int fleet_destructor(struct fleet_devices *f)
{
	struct fleet_msg *m, *tmp;

	/* the messages are children of the fleet; free them first so that no timer outlives it */
	llist_for_each_entry_safe(m, tmp, &f->in_flight, list)
		talloc_free(m);
	return 0;
}

struct fleet_devices *fleet_devices_alloc(void *ctx, const struct fleet_devices_cfg *cfg,
					  const struct fleet_mo_sink *sink)
{
	struct fleet_devices *f;
	struct fleet_euicc_perso probe;

	if (!cfg || !sink || !sink->submit || cfg->num > FLEET_MAX_DEVICES)
		return NULL;
	/* the manufacturing parameters must work for the highest index */
	if (fleet_euicc_perso_derive(&cfg->eum, cfg->num ? cfg->num - 1 : 0, &probe) < 0)
		return NULL;
	f = talloc_zero(ctx, struct fleet_devices);
	if (!f)
		return NULL;
	INIT_LLIST_HEAD(&f->in_flight);
	talloc_set_destructor(f, fleet_destructor);
	f->cfg = *cfg;
	if (!f->cfg.num)
		f->cfg.num = 100;
	f->cfg.eum.eum_id = dup_or_null(f, cfg->eum.eum_id);
	f->cfg.eum.smsr_id = dup_or_null(f, cfg->eum.smsr_id);
	f->cfg.eum.mno_boot_id = dup_or_null(f, cfg->eum.mno_boot_id);
	f->cfg.eum.mno_op_id = dup_or_null(f, cfg->eum.mno_op_id);
	f->cfg.eum.msisdn_prefix = dup_or_null(f, cfg->eum.msisdn_prefix);
	f->cfg.eum.production_date = dup_or_null(f, cfg->eum.production_date);
	f->cfg.smsr_addr = dup_or_null(f, cfg->smsr_addr);
	if (!f->cfg.faults.delay_min_ms)
		f->cfg.faults.delay_min_ms = 100;
	if (!f->cfg.faults.delay_max_ms)
		f->cfg.faults.delay_max_ms = 2000;
	if (f->cfg.faults.delay_max_ms < f->cfg.faults.delay_min_ms)
		f->cfg.faults.delay_max_ms = f->cfg.faults.delay_min_ms;
	if (!f->cfg.faults.reorder_hold_ms)
		f->cfg.faults.reorder_hold_ms = 5000;
	if (!f->cfg.faults.offline_ms)
		f->cfg.faults.offline_ms = 60000;
	f->sink = *sink;
	f->prng = splitmix64(cfg->fault_seed);
	if (!f->prng)
		f->prng = 1;
	f->dev = talloc_zero_array(f, struct fleet_device *, f->cfg.num);
	if (!f->dev) {
		talloc_free(f);
		return NULL;
	}
	return f;
}

int fleet_devices_set_sink(struct fleet_devices *f, const struct fleet_mo_sink *sink)
{
	if (!f || !sink || !sink->submit)
		return -EINVAL;
	f->sink = *sink;
	return 0;
}

unsigned int fleet_devices_num(const struct fleet_devices *f)
{
	return f->cfg.num;
}

const struct fleet_devices_cfg *fleet_devices_cfg(const struct fleet_devices *f)
{
	return &f->cfg;
}

const struct fleet_devices_stats *fleet_devices_stats(const struct fleet_devices *f)
{
	return &f->stats;
}

unsigned int fleet_devices_in_flight(const struct fleet_devices *f)
{
	return f->num_in_flight;
}

/* MSISDN of profile kind \a k (0 bootstrap, 1 operational) of device \a index: prefix ‖ k ‖ 7-digit index,
 * the same rule as fleet_euicc_perso_derive() */
static void msisdn_of(const struct fleet_devices *f, unsigned int index, int k, char *buf, size_t size)
{
	snprintf(buf, size, "%s%d%07u", f->cfg.eum.msisdn_prefix, k, index);
}

const char *fleet_devices_msisdn(struct fleet_devices *f, unsigned int index, char *buf, size_t size)
{
	if (index >= f->cfg.num)
		return NULL;
	msisdn_of(f, index, 0, buf, size);
	return buf;
}

/* \returns the device index and in *kind the profile kind the number belongs to, or -ENOENT */
static int parse_msisdn(struct fleet_devices *f, const char *msisdn, int *kind)
{
	size_t pl = strlen(f->cfg.eum.msisdn_prefix);
	unsigned int idx = 0;
	const char *p;

	if (!msisdn)
		return -ENOENT;
	/* tolerate a leading '+' of an international number */
	if (*msisdn == '+')
		msisdn++;
	if (strlen(msisdn) != pl + 8 || strncmp(msisdn, f->cfg.eum.msisdn_prefix, pl))
		return -ENOENT;
	p = msisdn + pl;
	if (*p != '0' && *p != '1')
		return -ENOENT;
	*kind = *p - '0';
	for (p++; *p; p++) {
		if (*p < '0' || *p > '9')
			return -ENOENT;
		idx = idx * 10 + (*p - '0');
	}
	if (idx >= f->cfg.num)
		return -ENOENT;
	return idx;
}

static struct fleet_device *dev_get(struct fleet_devices *f, unsigned int index)
{
	struct fleet_device *d;
	struct fleet_euicc_perso perso;

	if (index >= f->cfg.num)
		return NULL;
	if (f->dev[index])
		return f->dev[index];
	if (fleet_euicc_perso_derive(&f->cfg.eum, index, &perso) < 0)
		return NULL;
	d = talloc_zero(f->dev, struct fleet_device);
	if (!d)
		return NULL;
	d->fleet = f;
	d->index = index;
	d->card = fleet_euicc_alloc(d, &perso, &f->cfg.card);
	OPENSSL_cleanse(&perso, sizeof(perso));
	if (!d->card) {
		talloc_free(d);
		return NULL;
	}
	talloc_set_destructor(d, dev_destructor);
	f->dev[index] = d;
	f->stats.cards++;
	return d;
}

/* kind (0 bootstrap / 1 operational) of the enabled pre-loaded profile; 0 if another one is enabled */
static int enabled_kind(struct fleet_device *d)
{
	const struct fleet_euicc_profile *p;

	if (!d || !d->card)
		return 0;
	p = fleet_euicc_enabled(d->card);
	if (!p)
		return 0;
	/* the operational profile has TAR 000011 (fleet_euicc_perso_derive()) */
	return p->aid[12] == 0x00 && p->aid[13] == 0x00 && p->aid[14] == 0x11 ? 1 : 0;
}

int fleet_devices_lookup(struct fleet_devices *f, const char *msisdn)
{
	int kind;

	return parse_msisdn(f, msisdn, &kind);
}

struct fleet_euicc *fleet_devices_card(struct fleet_devices *f, unsigned int index)
{
	struct fleet_device *d = dev_get(f, index);

	return d ? d->card : NULL;
}

int fleet_devices_set_offline(struct fleet_devices *f, unsigned int index, uint32_t ms)
{
	struct fleet_device *d = dev_get(f, index);

	if (!d)
		return -ENOENT;
	d->offline_until_ms = ms ? now_ms() + ms : 0;
	if (ms)
		f->stats.offline_periods++;
	return 0;
}

static bool dev_offline(struct fleet_device *d)
{
	return d->offline_until_ms && now_ms() < d->offline_until_ms;
}

void fleet_devices_card_stats(const struct fleet_devices *f, struct fleet_euicc_stats *sum)
{
	unsigned int i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < f->cfg.num; i++) {
		const struct fleet_euicc_stats *s;

		if (!f->dev[i])
			continue;
		s = fleet_euicc_stats(f->dev[i]->card);
		sum->mt_rx += s->mt_rx;
		sum->not_ota += s->not_ota;
		sum->concat_parts += s->concat_parts;
		sum->discarded += s->discarded;
		sum->replayed += s->replayed;
		sum->tar_unknown += s->tar_unknown;
		sum->scripts += s->scripts;
		sum->apdus += s->apdus;
		sum->apdu_errors += s->apdu_errors;
		sum->por_tx += s->por_tx;
		sum->notif_tx += s->notif_tx;
		sum->notif_confirmed += s->notif_confirmed;
		sum->notif_given_up += s->notif_given_up;
		sum->rollbacks += s->rollbacks;
	}
}

unsigned int fleet_devices_notif_pending(const struct fleet_devices *f)
{
	unsigned int i, n = 0;

	for (i = 0; i < f->cfg.num; i++)
		if (f->dev[i] && fleet_euicc_notif_pending(f->dev[i]->card, NULL))
			n++;
	return n;
}

/* ------------------------------------------------------------------------------------------------------------
 * messages in delay / reorder timers
 */

static void msg_fire(void *data)
{
	struct fleet_msg *m = data;
	struct fleet_devices *f = m->fleet;
	struct fleet_device *d = dev_get(f, m->index);

	if (d && m->held) {
		if (m->mt && d->held_mt == m)
			d->held_mt = NULL;
		if (!m->mt && d->held_mo == m)
			d->held_mo = NULL;
	}
	if (d) {
		if (m->mt)
			deliver_mt(f, d, m->src, m->ud, m->len);
		else
			mo_to_sink(f, d, m->src, m->dst, m->ud, m->len);
	}
	talloc_free(m);
}

static struct fleet_msg *msg_new(struct fleet_devices *f, struct fleet_device *d, bool mt, const char *src,
				 const char *dst, const uint8_t *ud, size_t len)
{
	struct fleet_msg *m;

	if (len > sizeof(m->ud))
		return NULL;
	m = talloc_zero(f, struct fleet_msg);
	if (!m)
		return NULL;
	m->fleet = f;
	m->index = d->index;
	m->mt = mt;
	osmo_strlcpy(m->src, src ? src : "", sizeof(m->src));
	osmo_strlcpy(m->dst, dst ? dst : "", sizeof(m->dst));
	memcpy(m->ud, ud, len);
	m->len = len;
	osmo_timer_setup(&m->timer, msg_fire, m);
	llist_add_tail(&m->list, &f->in_flight);
	f->num_in_flight++;
	talloc_set_destructor(m, msg_destructor);
	return m;
}

static void msg_schedule(struct fleet_msg *m, uint32_t ms)
{
	osmo_timer_schedule(&m->timer, ms / 1000, (ms % 1000) * 1000);
}

/* Release a held message right now (after the message that overtakes it). */
static void release_held(struct fleet_msg **slot)
{
	struct fleet_msg *m = *slot;

	if (!m)
		return;
	*slot = NULL;
	osmo_timer_del(&m->timer);
	m->held = false;
	msg_fire(m);
}

/* ------------------------------------------------------------------------------------------------------------
 * the card's side of the bearer
 */

static void card_timer_cb(void *data);
static void send_mo(struct fleet_devices *f, struct fleet_device *d, const char *src, const char *dst,
		    const uint8_t *ud, size_t len);

static void card_reschedule(struct fleet_device *d)
{
	uint64_t at, now = now_ms();

	osmo_timer_del(&d->card_timer);
	if (!fleet_euicc_next_timeout(d->card, &at))
		return;
	at = at > now ? at - now : 0;
	osmo_timer_setup(&d->card_timer, card_timer_cb, d);
	osmo_timer_schedule(&d->card_timer, at / 1000, (at % 1000) * 1000);
}

/* \a kind_before: the profile (kind) enabled when the command arrived; the PoR leaves through it, before the
 * REFRESH of a profile switch, and the notification through the profile enabled afterwards */
static void card_output(struct fleet_devices *f, struct fleet_device *d, const char *reply_to, int kind_before,
			struct fleet_mo *mo, unsigned int num)
{
	char src_before[24], src_now[24];
	unsigned int i;

	msisdn_of(f, d->index, kind_before, src_before, sizeof(src_before));
	msisdn_of(f, d->index, enabled_kind(d), src_now, sizeof(src_now));
	for (i = 0; i < num; i++) {
		const char *dst, *src = src_now;

		if (mo[i].kind == FLEET_MO_POR) {
			f->stats.por_tx++;
			dst = reply_to;
			src = src_before;
		} else {
			f->stats.notif_tx++;
			/* SGP02.md §10.7: notifications go to the SM-SR's SMS address (ISD-R addressing
			 * parameters); the fleet is told it, or uses the last MT sender */
			dst = f->cfg.smsr_addr ? f->cfg.smsr_addr : f->last_mt_src;
		}
		if (!dst || !*dst) {
			LOGP(DFLEET, LOGL_NOTICE, "device %u: no SM-SR address known, MO lost\n", d->index);
			f->stats.mo_dropped++;
			continue;
		}
		send_mo(f, d, src, dst, mo[i].ud.data, mo[i].ud.len);
	}
}

static void card_timer_cb(void *data)
{
	struct fleet_device *d = data;
	struct fleet_devices *f = d->fleet;
	struct fleet_mo *mo = NULL;
	unsigned int n = 0;
	int rc;

	rc = fleet_euicc_tick(d->card, now_ms(), f, &mo, &n);
	if (rc < 0)
		LOGP(DFLEET, LOGL_ERROR, "EID %s: card tick failed: %s\n", fleet_euicc_eid(d->card), strerror(-rc));
	card_output(f, d, NULL, enabled_kind(d), mo, n);
	talloc_free(mo);
	card_reschedule(d);
}

/* MT reaches the card (after the faults). */
static void deliver_mt(struct fleet_devices *f, struct fleet_device *d, const char *src, const uint8_t *ud,
		       size_t len)
{
	struct fleet_mo *mo = NULL;
	unsigned int n = 0;
	int rc, kind = enabled_kind(d);

	f->stats.mt_to_card++;
	rc = fleet_euicc_rx(d->card, ud, len, now_ms(), f, &mo, &n);
	if (rc < 0)
		LOGP(DFLEET, LOGL_ERROR, "EID %s: MT processing failed: %s\n", fleet_euicc_eid(d->card),
		     strerror(-rc));
	card_output(f, d, src, kind, mo, n);
	talloc_free(mo);
	card_reschedule(d);
}

int fleet_devices_fallback(struct fleet_devices *f, unsigned int index)
{
	struct fleet_device *d = dev_get(f, index);
	struct fleet_mo *mo = NULL;
	unsigned int n = 0;
	int rc;

	if (!d)
		return -ENOENT;
	rc = fleet_euicc_fallback(d->card, now_ms(), f, &mo, &n);
	if (rc < 0)
		return rc;
	LOGP(DFLEET, LOGL_INFO, "EID %s: lost the network, fall-back\n", fleet_euicc_eid(d->card));
	card_output(f, d, NULL, enabled_kind(d), mo, n);
	talloc_free(mo);
	card_reschedule(d);
	return 0;
}

/* MO leaves the device (faults first, then the sink). */
static void mo_to_sink(struct fleet_devices *f, struct fleet_device *d, const char *src, const char *dst,
		       const uint8_t *ud, size_t len)
{
	int rc;

	f->stats.mo_tx++;
	rc = f->sink.submit(f->sink.priv, src, dst, ud, len);
	if (rc < 0) {
		f->stats.mo_refused++;
		LOGP(DFLEET, LOGL_INFO, "EID %s: MO to %s refused: %s\n", fleet_euicc_eid(d->card), dst,
		     strerror(-rc));
	}
}

static void send_mo(struct fleet_devices *f, struct fleet_device *d, const char *src, const char *dst,
		    const uint8_t *ud, size_t len)
{
	const struct fleet_faults *ft = &f->cfg.faults;
	struct fleet_msg *m;
	int copies = 1, i;

	if (dev_offline(d)) {
		f->stats.mo_offline++;
		return;
	}
	if (chance(f, ft->drop_mo)) {
		f->stats.mo_dropped++;
		return;
	}
	if (chance(f, ft->dup_mo)) {
		f->stats.mo_duplicated++;
		copies = 2;
	}
	for (i = 0; i < copies; i++) {
		if (chance(f, ft->reorder) && !d->held_mo && (m = msg_new(f, d, false, src, dst, ud, len))) {
			f->stats.mo_reordered++;
			m->held = true;
			d->held_mo = m;
			msg_schedule(m, ft->reorder_hold_ms);
			continue;
		}
		if (chance(f, ft->delay) && (m = msg_new(f, d, false, src, dst, ud, len))) {
			f->stats.mo_delayed++;
			msg_schedule(m, uniform(f, ft->delay_min_ms, ft->delay_max_ms));
			continue;
		}
		mo_to_sink(f, d, src, dst, ud, len);
		release_held(&d->held_mo);
	}
}

int fleet_devices_mt(struct fleet_devices *f, const char *src, const char *dst, const uint8_t *ud, size_t len)
{
	const struct fleet_faults *ft;
	struct fleet_device *d;
	struct fleet_msg *m;
	int idx, kind, copies = 1, i;

	if (!f || (!ud && len) || len > OTA_SMS_UD_MAX)
		return -EINVAL;
	ft = &f->cfg.faults;
	f->stats.mt_rx++;
	idx = parse_msisdn(f, dst, &kind);
	if (idx < 0) {
		f->stats.mt_unknown++;
		return -ENOENT;
	}
	d = dev_get(f, idx);
	if (!d)
		return -ENOMEM;
	if (f->cfg.strict_msisdn && kind != enabled_kind(d)) {
		/* that profile is not attached to any network now */
		f->stats.mt_unknown++;
		return -ENOENT;
	}
	if (src && *src)
		osmo_strlcpy(f->last_mt_src, src, sizeof(f->last_mt_src));
	if (dev_offline(d)) {
		f->stats.mt_offline++;
		return -EAGAIN;
	}
	if (chance(f, ft->offline)) {
		d->offline_until_ms = now_ms() + ft->offline_ms;
		f->stats.offline_periods++;
		f->stats.mt_offline++;
		LOGP(DFLEET, LOGL_INFO, "device %u goes offline for %u ms\n", d->index, ft->offline_ms);
		return -EAGAIN;
	}
	if (chance(f, ft->drop_mt)) {
		f->stats.mt_dropped++;
		return 0;
	}
	if (chance(f, ft->dup_mt)) {
		f->stats.mt_duplicated++;
		copies = 2;
	}
	for (i = 0; i < copies; i++) {
		if (chance(f, ft->reorder) && !d->held_mt && (m = msg_new(f, d, true, src, dst, ud, len))) {
			f->stats.mt_reordered++;
			m->held = true;
			d->held_mt = m;
			msg_schedule(m, ft->reorder_hold_ms);
			continue;
		}
		if (chance(f, ft->delay) && (m = msg_new(f, d, true, src, dst, ud, len))) {
			f->stats.mt_delayed++;
			msg_schedule(m, uniform(f, ft->delay_min_ms, ft->delay_max_ms));
			continue;
		}
		deliver_mt(f, d, src, ud, len);
		release_held(&d->held_mt);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------------------------
 * SMSC glue
 */

int fleet_devices_smsc_mt(struct smsc *s, const struct smsc_mt *mt, void *data)
{
	struct fleet_devices *f = data;
	int rc;

	if (!mt->udhi) {
		/* SGP02.md §7.1: command packets always come with UDHI; this one is for the device's user */
		f->stats.mt_text++;
		return fleet_devices_lookup(f, mt->dest_addr) < 0 ? SMPP_RINVDSTADR : SMSC_MT_DELIVERED;
	}
	rc = fleet_devices_mt(f, mt->source_addr, mt->dest_addr, mt->ud, mt->ud_len);
	switch (rc) {
	case 0:
		return SMSC_MT_DELIVERED;
	case -ENOENT:
		return SMPP_RINVDSTADR;
	case -EAGAIN:
		return SMSC_MT_UNDELIVERABLE;
	case -EINVAL:
		return SMPP_RINVMSGLEN;
	default:
		return SMPP_RSYSERR;
	}
}

int fleet_devices_smsc_mo(void *priv, const char *src, const char *dst, const uint8_t *ud, size_t len)
{
	struct smsc_mo mo = {
		.source_addr = src,
		.source_ton = 1,	/* international */
		.source_npi = 1,	/* E.164 */
		.dest_addr = dst,
		.protocol_id = 0x7F,	/* (U)SIM data download, as the command came (SGP02.md §7.1) */
		.data_coding = 0xF6,	/* 8-bit data, class 2 */
		.udhi = true,
		.ud = ud,
		.ud_len = len,
	};

	return smsc_deliver_mo(priv, &mo);
}
