/*! \file sms.c
 * SMS-PP user data for OTA: UDH (TS 23.040 §9.2.3.24), concatenation (TS 23.040 §9.2.3.24.1/.8), the security
 * header IEs of TS 31.115 §4, address fields (TS 23.040 §9.1.2.5) and SMS-DELIVER / SMS-SUBMIT (§9.2.2).
 */
#include <errno.h>
#include <string.h>

#include <talloc.h>

#include <osmocom/core/linuxlist.h>
#include <osmocom/core/utils.h>

#include <sgp02/ota/sms.h>

/*
 * User data header
 */

int ota_sms_udh_parse(const uint8_t *ud, size_t ud_len, struct ota_sms_udh *udh)
{
	size_t hl, i;

	if (!ud || !udh)
		return -EINVAL;
	udh->num_ie = 0;
	udh->hdr_len = 0;
	if (ud_len < 1)
		return -EBADMSG;
	hl = 1 + (size_t)ud[0];
	if (hl > ud_len)
		return -EBADMSG;
	for (i = 1; i < hl;) {
		struct ota_sms_ie *ie;

		/* each IE: identifier, length, value; it must end inside the UDH */
		if (i + 2 > hl || i + 2 + ud[i + 1] > hl)
			return -EBADMSG;
		if (udh->num_ie >= OTA_SMS_UDH_MAX_IE)
			return -EBADMSG;
		ie = &udh->ie[udh->num_ie++];
		ie->iei = ud[i];
		ie->len = ud[i + 1];
		ie->val = ud + i + 2;
		i += 2 + ie->len;
	}
	udh->hdr_len = hl;
	return (int)hl;
}

const struct ota_sms_ie *ota_sms_udh_find(const struct ota_sms_udh *udh, uint8_t iei)
{
	unsigned int i;

	if (!udh)
		return NULL;
	for (i = 0; i < udh->num_ie; i++) {
		if (udh->ie[i].iei == iei)
			return &udh->ie[i];
	}
	return NULL;
}

int ota_sms_udh_build(const struct ota_sms_ie *ies, unsigned int num_ie, uint8_t *out, size_t out_size)
{
	size_t total = 1;
	unsigned int i;

	if (!out || (!ies && num_ie))
		return -EINVAL;
	for (i = 0; i < num_ie; i++) {
		if (!ies[i].val && ies[i].len)
			return -EINVAL;
		total += 2 + ies[i].len;
	}
	if (total - 1 > 255 || total > out_size)
		return -EMSGSIZE;
	out[0] = total - 1;
	total = 1;
	for (i = 0; i < num_ie; i++) {
		out[total++] = ies[i].iei;
		out[total++] = ies[i].len;
		if (ies[i].len)
			memcpy(out + total, ies[i].val, ies[i].len);
		total += ies[i].len;
	}
	return (int)total;
}

int ota_sms_udh_concat(const struct ota_sms_udh *udh, struct ota_sms_concat *c)
{
	const struct ota_sms_ie *ie;

	if (!udh || !c)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	ie = ota_sms_udh_find(udh, OTA_SMS_IEI_CONCAT8);
	if (ie) {
		if (ie->len != 3)
			return -EBADMSG;
		c->ref = ie->val[0];
		c->total = ie->val[1];
		c->seq = ie->val[2];
	} else {
		ie = ota_sms_udh_find(udh, OTA_SMS_IEI_CONCAT16);
		if (!ie)
			return 0;
		if (ie->len != 4)
			return -EBADMSG;
		c->ref = (ie->val[0] << 8) | ie->val[1];
		c->total = ie->val[2];
		c->seq = ie->val[3];
		c->ref16 = true;
	}
	/* TS 23.040 §9.2.3.24.1: total 0 and sequence numbers 0 or beyond the total are invalid */
	if (c->total == 0 || c->seq == 0 || c->seq > c->total)
		return -EBADMSG;
	return 1;
}

int ota_sms_split(void *ctx, uint8_t iei, const uint8_t *pkt, size_t len, uint16_t ref, bool ref16,
		  struct ota_sms_ud **parts)
{
	/* first part: UDHL, iei 00, concat IE (5 or 6 octets); following parts: UDHL, concat IE */
	const size_t concat_ie = ref16 ? 6 : 5;
	const size_t first = OTA_SMS_UD_MAX - (1 + 2 + concat_ie);
	const size_t next = OTA_SMS_UD_MAX - (1 + concat_ie);
	struct ota_sms_ud *p;
	size_t n, off, i;

	if (!pkt || !len || !parts)
		return -EINVAL;
	*parts = NULL;
	if (len + 3 <= OTA_SMS_UD_MAX) {
		p = talloc_zero_array(ctx, struct ota_sms_ud, 1);
		if (!p)
			return -ENOMEM;
		p->data[0] = 2;
		p->data[1] = iei;
		p->data[2] = 0;
		memcpy(p->data + 3, pkt, len);
		p->len = 3 + len;
		*parts = p;
		return 1;
	}
	n = 1 + (len - first + next - 1) / next;
	if (n > 255)
		return -EMSGSIZE;
	p = talloc_zero_array(ctx, struct ota_sms_ud, n);
	if (!p)
		return -ENOMEM;
	for (i = 0, off = 0; i < n; i++) {
		uint8_t *d = p[i].data;
		size_t h = 0, chunk;

		d[h++] = 0;	/* UDHL, set below */
		if (i == 0) {
			/* TS 31.115 §4: the command/response packet identifier is in the first part only */
			d[h++] = iei;
			d[h++] = 0;
		}
		if (ref16) {
			d[h++] = OTA_SMS_IEI_CONCAT16;
			d[h++] = 4;
			d[h++] = ref >> 8;
			d[h++] = ref & 0xff;
		} else {
			d[h++] = OTA_SMS_IEI_CONCAT8;
			d[h++] = 3;
			d[h++] = ref & 0xff;
		}
		d[h++] = n;
		d[h++] = i + 1;
		d[0] = h - 1;
		chunk = len - off;
		if (chunk > OTA_SMS_UD_MAX - h)
			chunk = OTA_SMS_UD_MAX - h;
		memcpy(d + h, pkt + off, chunk);
		p[i].len = h + chunk;
		off += chunk;
	}
	*parts = p;
	return (int)n;
}

/*
 * Reassembly
 */

struct reasm_msg {
	struct llist_head list;		/* oldest first */
	char *sender;
	uint16_t ref;
	bool ref16;
	uint8_t total;
	unsigned int received;
	uint64_t first_ms;
	uint8_t *hdr;			/* first part's UDH without the concatenation IE */
	size_t hdr_len;
	uint8_t **part;			/* payload per sequence number - 1 */
	size_t *part_len;
};

struct ota_sms_reasm {
	struct ota_sms_reasm_cfg cfg;
	struct llist_head msgs;
	unsigned int num;
	struct ota_sms_reasm_stats stats;
};

struct ota_sms_reasm *ota_sms_reasm_alloc(void *ctx, const struct ota_sms_reasm_cfg *cfg)
{
	struct ota_sms_reasm *r = talloc_zero(ctx, struct ota_sms_reasm);

	if (!r)
		return NULL;
	if (cfg)
		r->cfg = *cfg;
	if (!r->cfg.max_pending)
		r->cfg.max_pending = 64;
	if (!r->cfg.max_parts)
		r->cfg.max_parts = 32;
	if (r->cfg.max_parts > 255)
		r->cfg.max_parts = 255;
	if (!r->cfg.timeout_ms)
		r->cfg.timeout_ms = 60000;
	INIT_LLIST_HEAD(&r->msgs);
	return r;
}

static void reasm_drop(struct ota_sms_reasm *r, struct reasm_msg *m)
{
	llist_del(&m->list);
	r->num--;
	talloc_free(m);
}

unsigned int ota_sms_reasm_expire(struct ota_sms_reasm *r, uint64_t now_ms)
{
	struct reasm_msg *m, *tmp;
	unsigned int n = 0;

	if (!r)
		return 0;
	llist_for_each_entry_safe(m, tmp, &r->msgs, list) {
		if (now_ms >= m->first_ms && now_ms - m->first_ms >= r->cfg.timeout_ms) {
			reasm_drop(r, m);
			r->stats.expired++;
			n++;
		}
	}
	return n;
}

unsigned int ota_sms_reasm_pending(const struct ota_sms_reasm *r)
{
	return r ? r->num : 0;
}

const struct ota_sms_reasm_stats *ota_sms_reasm_stats(const struct ota_sms_reasm *r)
{
	return r ? &r->stats : NULL;
}

/* Copy the UDH of \a ud without its concatenation IEs to \a out (room for 1 + UDHL). \returns length. */
static size_t udh_strip_concat(const struct ota_sms_udh *udh, uint8_t *out)
{
	size_t n = 1;
	unsigned int i;

	for (i = 0; i < udh->num_ie; i++) {
		const struct ota_sms_ie *ie = &udh->ie[i];

		if (ie->iei == OTA_SMS_IEI_CONCAT8 || ie->iei == OTA_SMS_IEI_CONCAT16)
			continue;
		out[n++] = ie->iei;
		out[n++] = ie->len;
		memcpy(out + n, ie->val, ie->len);
		n += ie->len;
	}
	out[0] = n - 1;
	return n;
}

static struct reasm_msg *reasm_find(struct ota_sms_reasm *r, const char *sender, const struct ota_sms_concat *c)
{
	struct reasm_msg *m;

	llist_for_each_entry(m, &r->msgs, list) {
		if (m->ref == c->ref && m->ref16 == c->ref16 && !strcmp(m->sender, sender))
			return m;
	}
	return NULL;
}

int ota_sms_reasm_feed(struct ota_sms_reasm *r, const char *sender, const uint8_t *ud, size_t ud_len,
		       uint64_t now_ms, void *out_ctx, uint8_t **out, size_t *out_len)
{
	struct ota_sms_udh udh;
	struct ota_sms_concat c;
	struct reasm_msg *m;
	uint8_t hdr[256];
	size_t hl, plen, total, i;
	uint8_t *buf;
	int rc;

	if (!r || !ud || !out || !out_len)
		return -EINVAL;
	if (!sender)
		sender = "";
	*out = NULL;
	*out_len = 0;
	if (ud_len > OTA_SMS_UD_MAX) {
		r->stats.rejected++;
		return -EMSGSIZE;
	}
	rc = ota_sms_udh_parse(ud, ud_len, &udh);
	if (rc < 0) {
		r->stats.rejected++;
		return rc;
	}
	hl = rc;
	rc = ota_sms_udh_concat(&udh, &c);
	if (rc < 0) {
		r->stats.rejected++;
		return rc;
	}
	if (rc == 0 || c.total == 1) {
		/* a single message: hand it over at once (without a concatenation IE) */
		size_t h = udh_strip_concat(&udh, hdr);

		buf = talloc_size(out_ctx, h + ud_len - hl + 1);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, hdr, h);
		memcpy(buf + h, ud + hl, ud_len - hl);
		*out = buf;
		*out_len = h + ud_len - hl;
		r->stats.completed++;
		return 1;
	}
	if (c.total > r->cfg.max_parts) {
		r->stats.rejected++;
		return -EMSGSIZE;
	}

	ota_sms_reasm_expire(r, now_ms);
	m = reasm_find(r, sender, &c);
	if (m && m->total != c.total) {
		/* parts of one message disagree: drop it all rather than guess */
		reasm_drop(r, m);
		r->stats.rejected++;
		return -EBADMSG;
	}
	if (!m) {
		if (r->num >= r->cfg.max_pending) {
			reasm_drop(r, llist_first_entry(&r->msgs, struct reasm_msg, list));
			r->stats.evicted++;
		}
		m = talloc_zero(r, struct reasm_msg);
		if (!m)
			return -ENOMEM;
		m->sender = talloc_strdup(m, sender);
		m->part = talloc_zero_array(m, uint8_t *, c.total);
		m->part_len = talloc_zero_array(m, size_t, c.total);
		if (!m->sender || !m->part || !m->part_len) {
			talloc_free(m);
			return -ENOMEM;
		}
		m->ref = c.ref;
		m->ref16 = c.ref16;
		m->total = c.total;
		m->first_ms = now_ms;
		llist_add_tail(&m->list, &r->msgs);
		r->num++;
	}
	if (m->part[c.seq - 1]) {
		r->stats.duplicates++;
		return 0;
	}
	plen = ud_len - hl;
	m->part[c.seq - 1] = talloc_size(m, plen + 1);	/* +1: never a zero-size allocation */
	if (!m->part[c.seq - 1])
		return -ENOMEM;
	memcpy(m->part[c.seq - 1], ud + hl, plen);
	m->part_len[c.seq - 1] = plen;
	if (c.seq == 1) {
		size_t h = udh_strip_concat(&udh, hdr);

		m->hdr = talloc_memdup(m, hdr, h);
		if (!m->hdr)
			return -ENOMEM;
		m->hdr_len = h;
	}
	m->received++;
	if (m->received < m->total)
		return 0;

	total = m->hdr_len;
	for (i = 0; i < m->total; i++)
		total += m->part_len[i];
	buf = talloc_size(out_ctx, total + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, m->hdr, m->hdr_len);
	total = m->hdr_len;
	for (i = 0; i < m->total; i++) {
		memcpy(buf + total, m->part[i], m->part_len[i]);
		total += m->part_len[i];
	}
	reasm_drop(r, m);
	r->stats.completed++;
	*out = buf;
	*out_len = total;
	return 1;
}

/*
 * Address field
 */

/* Semi-octet values of TS 23.040 §9.1.2.3 (Table 10/GSM 04.08 BCD with the extra characters) */
static const char bcd_chars[] = "0123456789*#abc";

/* GSM 7-bit default alphabet (TS 23.038 §6.2.1) to ASCII where the characters coincide, '?' otherwise. */
static char gsm7_to_ascii(uint8_t s)
{
	if ((s >= 0x20 && s <= 0x23) || (s >= 0x25 && s <= 0x3f) || (s >= 0x41 && s <= 0x5a) ||
	    (s >= 0x61 && s <= 0x7a))
		return (char)s;
	switch (s) {
	case 0x00:
		return '@';
	case 0x02:
		return '$';
	case 0x0a:
		return '\n';
	case 0x0d:
		return '\r';
	case 0x11:
		return '_';
	default:
		return '?';
	}
}

int ota_sms_addr_decode(const uint8_t *buf, size_t len, struct ota_sms_addr *a)
{
	size_t ndig, octets, i;

	if (!buf || !a)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	if (len < 2)
		return -EBADMSG;
	ndig = buf[0];
	if (ndig > 20)
		return -EBADMSG;
	octets = (ndig + 1) / 2;
	if (len < 2 + octets)
		return -EBADMSG;
	a->ton = (buf[1] >> 4) & 7;
	a->npi = buf[1] & 0x0f;

	if (a->ton == OTA_SMS_TON_ALPHANUMERIC) {
		/* TS 23.040 §9.1.2.5: GSM 7-bit characters packed into the semi-octets; length in semi-octets */
		size_t nchar = octets * 8 / 7;

		for (i = 0; i < nchar && i < sizeof(a->digits) - 1; i++) {
			size_t bit = i * 7, byte = bit / 8, shift = bit % 8;
			unsigned int v = buf[2 + byte] >> shift;

			if (shift > 1 && byte + 1 < octets)
				v |= buf[2 + byte + 1] << (8 - shift);
			a->digits[i] = gsm7_to_ascii(v & 0x7f);
		}
		a->digits[i] = '\0';
		return (int)(2 + octets);
	}

	for (i = 0; i < ndig; i++) {
		uint8_t nib = (buf[2 + i / 2] >> ((i & 1) ? 4 : 0)) & 0x0f;

		if (nib == 0x0f)	/* filler only after the last digit */
			return -EBADMSG;
		a->digits[i] = bcd_chars[nib];
	}
	a->digits[ndig] = '\0';
	return (int)(2 + octets);
}

int ota_sms_addr_encode(const struct ota_sms_addr *a, uint8_t *out, size_t out_size)
{
	size_t ndig, octets, i;

	if (!a || !out)
		return -EINVAL;
	if (a->ton > 7 || a->npi > 15 || a->ton == OTA_SMS_TON_ALPHANUMERIC)
		return -EINVAL;
	ndig = strnlen(a->digits, sizeof(a->digits));
	if (ndig > 20)
		return -EINVAL;
	octets = (ndig + 1) / 2;
	if (out_size < 2 + octets)
		return -EMSGSIZE;
	out[0] = ndig;
	out[1] = 0x80 | (a->ton << 4) | a->npi;
	memset(out + 2, 0xff, octets);
	for (i = 0; i < ndig; i++) {
		const char *p = a->digits[i] ? strchr(bcd_chars, a->digits[i]) : NULL;
		uint8_t nib;

		if (!p)
			return -EINVAL;
		nib = p - bcd_chars;
		if (i & 1)
			out[2 + i / 2] = (out[2 + i / 2] & 0x0f) | (nib << 4);
		else
			out[2 + i / 2] = 0xf0 | nib;
	}
	return (int)(2 + octets);
}

/*
 * TPDUs
 */

/* TS 23.040 §9.2.3.12: relative VP is one octet, enhanced and absolute seven */
static uint8_t vp_len_for(uint8_t vpf)
{
	return vpf == OTA_SMS_VPF_NONE ? 0 : vpf == OTA_SMS_VPF_RELATIVE ? 1 : 7;
}

bool ota_sms_dcs_is_7bit(uint8_t dcs)
{
	/* TS 23.038 §4 */
	switch (dcs >> 4) {
	case 0x0: case 0x1: case 0x2: case 0x3:		/* general data coding */
	case 0x4: case 0x5: case 0x6: case 0x7:		/* automatic deletion group */
		if (dcs & 0x20)				/* compressed: octets */
			return false;
		return ((dcs >> 2) & 3) == 0 || ((dcs >> 2) & 3) == 3;	/* GSM 7-bit (reserved treated alike) */
	case 0xc: case 0xd:				/* message waiting, GSM 7-bit */
		return true;
	case 0xe:					/* message waiting, UCS2 */
		return false;
	case 0xf:					/* data coding / message class */
		return !(dcs & 0x04);
	default:					/* reserved groups: assume GSM 7-bit */
		return true;
	}
}

int ota_sms_tpdu_decode(const uint8_t *tpdu, size_t len, struct ota_sms_tpdu *t)
{
	size_t off = 1, need;
	uint8_t fo;
	int rc;

	if (!tpdu || !t)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	if (len < 1)
		return -EBADMSG;
	fo = tpdu[0];
	t->mti = fo & 3;
	t->udhi = !!(fo & 0x40);
	t->rp = !!(fo & 0x80);
	switch (t->mti) {
	case 0:	/* SMS-DELIVER: fo OA PID DCS SCTS UDL UD */
		t->mms = !!(fo & 0x04);
		t->lp = !!(fo & 0x08);
		t->sri = !!(fo & 0x20);
		rc = ota_sms_addr_decode(tpdu + off, len - off, &t->addr);
		if (rc < 0)
			return rc;
		off += rc;
		if (len < off + 2 + 7 + 1)
			return -EBADMSG;
		t->pid = tpdu[off++];
		t->dcs = tpdu[off++];
		memcpy(t->scts, tpdu + off, 7);
		off += 7;
		break;
	case 1:	/* SMS-SUBMIT: fo MR DA PID DCS VP UDL UD */
		t->rd = !!(fo & 0x04);
		t->vpf = (fo >> 3) & 3;
		t->srr = !!(fo & 0x20);
		if (len < 2)
			return -EBADMSG;
		t->mr = tpdu[off++];
		rc = ota_sms_addr_decode(tpdu + off, len - off, &t->addr);
		if (rc < 0)
			return rc;
		off += rc;
		t->vp_len = vp_len_for(t->vpf);
		if (len < off + 2 + t->vp_len + 1)
			return -EBADMSG;
		t->pid = tpdu[off++];
		t->dcs = tpdu[off++];
		memcpy(t->vp, tpdu + off, t->vp_len);
		off += t->vp_len;
		break;
	default:
		return -ENOTSUP;
	}
	t->udl = tpdu[off++];
	if (ota_sms_dcs_is_7bit(t->dcs)) {
		if (t->udl > 160)
			return -EBADMSG;
		need = ((size_t)t->udl * 7 + 7) / 8;
	} else {
		if (t->udl > OTA_SMS_UD_MAX)
			return -EBADMSG;
		need = t->udl;
	}
	if (len - off != need)
		return -EBADMSG;
	t->ud = tpdu + off;
	t->ud_len = need;
	return 0;
}

int ota_sms_tpdu_encode(const struct ota_sms_tpdu *t, uint8_t *out, size_t out_size)
{
	size_t off = 0;
	uint8_t fo;
	int rc;

	if (!t || !out || (!t->ud && t->ud_len))
		return -EINVAL;
	if (ota_sms_dcs_is_7bit(t->dcs) || t->ud_len > OTA_SMS_UD_MAX)
		return -EINVAL;
	if (out_size < 2)
		return -EMSGSIZE;
	fo = t->mti | (t->udhi ? 0x40 : 0) | (t->rp ? 0x80 : 0);
	switch (t->mti) {
	case 0:
		fo |= (t->mms ? 0x04 : 0) | (t->lp ? 0x08 : 0) | (t->sri ? 0x20 : 0);
		out[off++] = fo;
		break;
	case 1:
		if (t->vpf > 3 || t->vp_len != vp_len_for(t->vpf))
			return -EINVAL;
		fo |= (t->rd ? 0x04 : 0) | (t->vpf << 3) | (t->srr ? 0x20 : 0);
		out[off++] = fo;
		out[off++] = t->mr;
		break;
	default:
		return -EINVAL;
	}
	rc = ota_sms_addr_encode(&t->addr, out + off, out_size - off);
	if (rc < 0)
		return rc;
	off += rc;
	if (out_size - off < 2 + (t->mti == 0 ? 7 : t->vp_len) + 1 + t->ud_len)
		return -EMSGSIZE;
	out[off++] = t->pid;
	out[off++] = t->dcs;
	if (t->mti == 0) {
		memcpy(out + off, t->scts, 7);
		off += 7;
	} else {
		memcpy(out + off, t->vp, t->vp_len);
		off += t->vp_len;
	}
	out[off++] = t->ud_len;
	if (t->ud_len)
		memcpy(out + off, t->ud, t->ud_len);
	off += t->ud_len;
	return (int)off;
}
