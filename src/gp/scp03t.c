/*! \file scp03t.c
 * SCP03t (SCP03 in TLV form) for the SGP.02 profile download, both the SM-DP and the ISD-P side.
 * See scp03t.h for the TLV layout, the MAC rules and what is uncertain.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include <talloc.h>

#include <sgp02/gp/scp03.h>
#include <sgp02/gp/scp03t.h>

#include "gp_util.h"
#include "scp03_int.h"

/* ------------------------------------------------------------------------------------------------ */
/* TLV helpers (single-byte tags except the '9Fxx' error answers) */

static int tlv_next(const uint8_t *buf, size_t len, struct gp_util_tlv *t)
{
	size_t i = 0;

	if (!buf || len < 2)
		return -EBADMSG;
	t->tag = buf[i++];
	if ((t->tag & 0x1F) == 0x1F) {
		/* only 2-byte tags here.  NJ expects '9F84' for a failed INITIALIZE UPDATE, which strict BER would
		 * read as the start of a 3-byte tag; take any '9Fxx' as a 2-byte error tag. */
		if ((buf[i] & 0x80) && t->tag != 0x9F)
			return -EBADMSG;
		t->tag = (t->tag << 8) | buf[i++];
	}
	return gp_util_tlv_finish(buf, len, i, t);
}

/* tag (1 byte) + BER length; returns the header size */
static size_t put_hdr(uint8_t *p, uint8_t tag, size_t len)
{
	p[0] = tag;
	if (len < 0x80) {
		p[1] = len;
		return 2;
	}
	if (len < 0x100) {
		p[1] = 0x81;
		p[2] = len;
		return 3;
	}
	p[1] = 0x82;
	p[2] = len >> 8;
	p[3] = len & 0xff;
	return 4;
}

static bool is_error_tag(uint16_t tag)
{
	return (tag >> 8) == 0x9F;
}

/* The card's answer: exactly one TLV. -EREMOTEIO for a '9Fxx' error answer, -EBADMSG if malformed. */
static int read_answer(const uint8_t *tlv, size_t len, struct gp_util_tlv *t)
{
	if (tlv_next(tlv, len, t) < 0)
		return -EBADMSG;
	if (is_error_tag(t->tag))
		return -EREMOTEIO;
	if (t->total != len)
		return -EBADMSG;
	return 0;
}

int gp_scp03t_error_tag(const uint8_t *tlv, size_t len)
{
	struct gp_util_tlv t;
	int rc = tlv_next(tlv, len, &t);

	if (rc < 0)
		return -EBADMSG;
	return is_error_tag(t.tag) ? (int)t.tag : -EBADMSG;
}

/* C-MAC / R-MAC over chaining value || tag || length (value incl. MAC) || data */
static int tlv_mac(const struct gp_scp03_session *s, bool response, uint8_t tag, const uint8_t *data, size_t len,
		   uint8_t mac[16])
{
	uint8_t hdr[4];
	size_t hl = put_hdr(hdr, tag, len + GP_SCP03_MAC_LEN);
	uint8_t pre[16 + 4];

	memcpy(pre, s->mac_chain, 16);
	memcpy(pre + 16, hdr, hl);
	return gp_scp03_cmac2(response ? s->s_rmac : s->s_mac, s->key_len, pre, 16 + hl, data, len, mac);
}

/* One '86' data TLV at out from len octets of in (in may overlap out): value padded and ciphered when enc, then the
 * 8-byte (R-)MAC. For a command (!response) the encryption counter advances and the MAC becomes the next chaining
 * value; a response uses the R-ENC ICV and R-MAC and changes neither. Returns the TLV length. */
static int seal_data(struct gp_scp03_session *s, bool response, bool enc, const uint8_t *in, size_t len,
		     uint8_t *out, size_t out_size)
{
	size_t enc_len = len, hl;
	uint8_t hdr[4], mac[16];
	int rc;

	if (enc && len)
		enc_len = (len / 16 + 1) * 16;
	hl = put_hdr(hdr, GP_SCP03T_TAG_DATA, enc_len + GP_SCP03_MAC_LEN);
	if (out_size < hl + enc_len + GP_SCP03_MAC_LEN)
		return -EMSGSIZE;
	if (!response) {
		if (s->enc_counter == UINT64_MAX)
			return -ERANGE;
		s->enc_counter++;
	}
	memcpy(out, hdr, hl);
	if (len)
		memmove(out + hl, in, len);
	if (enc && len) {
		uint8_t icv[16];

		gp_scp03_pad80(out + hl, len);
		rc = gp_scp03_icv(s, response, icv);
		if (rc == 0)
			rc = gp_scp03_aes_cbc(true, s->s_enc, s->key_len, icv, out + hl, enc_len, out + hl);
		if (rc < 0)
			return rc;
	}
	rc = tlv_mac(s, response, GP_SCP03T_TAG_DATA, out + hl, enc_len, mac);
	if (rc < 0)
		return rc;
	if (!response)
		memcpy(s->mac_chain, mac, 16);
	memcpy(out + hl + enc_len, mac, GP_SCP03_MAC_LEN);
	return (int)(hl + enc_len + GP_SCP03_MAC_LEN);
}

/* ------------------------------------------------------------------------------------------------ */
/* SM-DP side */

int gp_scp03t_init_update(struct gp_scp03_session *s, uint8_t kvn, uint8_t kid, const uint8_t host_challenge[8],
			  uint8_t *out, size_t out_size)
{
	int rc = gp_scp03_init_update_start(s, kvn, host_challenge, out, out_size, 12);

	if (rc < 0)
		return rc;
	/* SGP.02 §4.1.3.3 (via NJ): KVN || KID || host challenge */
	out[0] = GP_SCP03T_TAG_IU;
	out[1] = 10;
	out[2] = kvn;
	out[3] = kid;
	memcpy(out + 4, host_challenge, 8);
	return 12;
}

int gp_scp03t_process_iu_resp(struct gp_scp03_session *s, const struct gp_scp03_keys *keys, const uint8_t *tlv,
			      size_t len)
{
	struct gp_util_tlv t;
	int rc;

	if (!s || !keys)
		return -EINVAL;
	rc = read_answer(tlv, len, &t);
	if (rc < 0)
		return rc;
	if (t.tag != GP_SCP03T_TAG_IU)
		return -EBADMSG;
	return gp_scp03_parse_init_update_resp(s, keys, t.val, t.len);
}

int gp_scp03t_ext_auth(struct gp_scp03_session *s, uint8_t sec_level, uint8_t *out, size_t out_size)
{
	uint8_t mac[16];
	int rc;

	rc = gp_scp03_ext_auth_ready(s, sec_level, out, out_size, 19);
	if (rc < 0)
		return rc;
	out[0] = GP_SCP03T_TAG_EA;
	out[1] = 17;
	out[2] = sec_level;
	memcpy(out + 3, s->host_cryptogram, 8);
	/* first chaining value: 16 x '00' (GP Amd D §6.2.3) */
	memset(s->mac_chain, 0, 16);
	rc = tlv_mac(s, false, GP_SCP03T_TAG_EA, out + 2, 9, mac);
	if (rc < 0)
		return rc;
	memcpy(out + 11, mac, 8);
	gp_scp03_session_open(s, sec_level, mac);
	return 19;
}

int gp_scp03t_protect(struct gp_scp03_session *s, const uint8_t *seg, size_t seg_len, uint8_t *out,
		      size_t out_size)
{
	if (!s || !out || !s->authenticated || (seg_len && !seg))
		return -EINVAL;
	if (seg_len > GP_SCP03T_SEG_MAX)
		return -EMSGSIZE;
	return seal_data(s, false, s->sec_level & GP_SCP03_SL_CDEC, seg, seg_len, out, out_size);
}

int gp_scp03t_split(void *ctx, struct gp_scp03_session *s, const uint8_t *pkg, size_t len, size_t seg_max,
		    struct gp_scp03t_tlv **tlvs, size_t *n)
{
	struct gp_scp03t_tlv *arr;
	size_t count, i, off = 0;

	if (!s || !tlvs || !n || (len && !pkg) || seg_max == 0 || len == 0)
		return -EINVAL;
	if (seg_max > GP_SCP03T_SEG_MAX)
		return -EMSGSIZE;
	count = (len + seg_max - 1) / seg_max;
	arr = talloc_zero_array(ctx, struct gp_scp03t_tlv, count);
	if (!arr)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		size_t sl = len - off < seg_max ? len - off : seg_max;
		size_t cap = 4 + sl + 16 + GP_SCP03_MAC_LEN;
		int rc;

		arr[i].data = talloc_size(arr, cap);
		if (!arr[i].data) {
			talloc_free(arr);
			return -ENOMEM;
		}
		rc = gp_scp03t_protect(s, pkg + off, sl, arr[i].data, cap);
		if (rc < 0) {
			talloc_free(arr);
			return rc;
		}
		arr[i].len = rc;
		off += sl;
	}
	*tlvs = arr;
	*n = count;
	return 0;
}

int gp_scp03t_batch(void *ctx, const struct gp_scp03t_tlv *tlvs, size_t n, size_t max_len,
		    struct gp_scp03t_tlv **batches, size_t *n_batches)
{
	struct gp_scp03t_tlv *arr;
	size_t i, nb = 0, cur = 0;

	if (!tlvs || !batches || !n_batches || n == 0 || max_len == 0)
		return -EINVAL;
	/* first pass: count */
	for (i = 0; i < n; i++) {
		if (!tlvs[i].data || tlvs[i].len == 0)
			return -EINVAL;
		if (tlvs[i].len > max_len)
			return -EMSGSIZE;
		if (cur == 0 || cur + tlvs[i].len > max_len) {
			nb++;
			cur = 0;
		}
		cur += tlvs[i].len;
	}
	arr = talloc_zero_array(ctx, struct gp_scp03t_tlv, nb);
	if (!arr)
		return -ENOMEM;
	nb = 0;
	cur = 0;
	for (i = 0; i < n; i++) {
		if (i == 0 || arr[nb - 1].len + tlvs[i].len > max_len) {
			arr[nb].data = talloc_size(arr, max_len);
			if (!arr[nb].data) {
				talloc_free(arr);
				return -ENOMEM;
			}
			nb++;
		}
		memcpy(arr[nb - 1].data + arr[nb - 1].len, tlvs[i].data, tlvs[i].len);
		arr[nb - 1].len += tlvs[i].len;
	}
	*batches = arr;
	*n_batches = nb;
	return 0;
}

int gp_scp03t_unprotect_resp(struct gp_scp03_session *s, const uint8_t *tlv, size_t len, uint8_t *out,
			     size_t out_size)
{
	uint8_t mac[16];
	struct gp_util_tlv t;
	size_t dlen;
	int rc;

	if (!s || !s->authenticated)
		return -EINVAL;
	rc = read_answer(tlv, len, &t);
	if (rc < 0)
		return rc;
	if (t.tag != GP_SCP03T_TAG_DATA && t.tag != GP_SCP03T_TAG_EA)
		return -EBADMSG;
	if (t.len == 0)
		return 0;	/* plain acknowledgement ('86 00'), nothing to protect [INF] */
	if (!(s->sec_level & GP_SCP03_SL_RMAC)) {
		if (!out || out_size < t.len)
			return -EMSGSIZE;
		memcpy(out, t.val, t.len);
		return (int)t.len;
	}
	if (t.len < GP_SCP03_MAC_LEN)
		return -EBADMSG;
	dlen = t.len - GP_SCP03_MAC_LEN;
	rc = tlv_mac(s, true, t.tag, t.val, dlen, mac);
	if (rc < 0)
		return rc;
	if (CRYPTO_memcmp(mac, t.val + dlen, GP_SCP03_MAC_LEN) != 0)
		return -EKEYREJECTED;
	if (dlen == 0)
		return 0;
	if (s->sec_level & GP_SCP03_SL_RENC) {
		uint8_t icv[16], *tmp;

		if (dlen % 16)
			return -EBADMSG;
		tmp = talloc_size(NULL, dlen);
		if (!tmp)
			return -ENOMEM;
		rc = gp_scp03_icv(s, true, icv);
		if (rc == 0)
			rc = gp_scp03_aes_cbc(false, s->s_enc, s->key_len, icv, t.val, dlen, tmp);
		if (rc == 0)
			rc = gp_scp03_unpad80(tmp, dlen);
		if (rc >= 0 && (!out || out_size < (size_t)rc))
			rc = -EMSGSIZE;
		if (rc > 0)
			memcpy(out, tmp, rc);
		OPENSSL_cleanse(tmp, dlen);
		talloc_free(tmp);
		return rc;
	}
	if (!out || out_size < dlen)
		return -EMSGSIZE;
	memcpy(out, t.val, dlen);
	return (int)dlen;
}

/* ------------------------------------------------------------------------------------------------ */
/* Card side */

struct gp_scp03t_card {
	struct gp_scp03_keys keys;
	struct gp_scp03_session s;
	uint8_t aid[16];
	size_t aid_len;
	uint32_t seq_counter;
	uint8_t *profile;
	size_t profile_len;
	size_t profile_cap;
	uint8_t *resp;
	size_t resp_len;
	size_t resp_cap;
};

static int card_destructor(struct gp_scp03t_card *c)
{
	OPENSSL_cleanse(&c->keys, sizeof(c->keys));
	gp_scp03_session_clear(&c->s);
	return 0;
}

struct gp_scp03t_card *gp_scp03t_card_alloc(void *ctx, const struct gp_scp03_keys *keys, const uint8_t *aid,
					    size_t aid_len, uint32_t seq_counter)
{
	struct gp_scp03t_card *c;

	if (!keys || aid_len > 16 || (aid_len && !aid) || seq_counter > 0xFFFFFF ||
	    (keys->key_len != 16 && keys->key_len != 24 && keys->key_len != 32))
		return NULL;
	c = talloc_zero(ctx, struct gp_scp03t_card);
	if (!c)
		return NULL;
	talloc_set_destructor(c, card_destructor);
	c->keys = *keys;
	if (aid_len)
		memcpy(c->aid, aid, aid_len);
	c->aid_len = aid_len;
	c->seq_counter = seq_counter;
	return c;
}

static int grow(void *owner, uint8_t **buf, size_t *cap, size_t need, size_t limit)
{
	size_t ncap;
	uint8_t *nb;

	if (need <= *cap)
		return 0;
	if (need > limit)
		return -EMSGSIZE;
	ncap = *cap ? *cap : 4096;
	while (ncap < need)
		ncap *= 2;
	if (ncap > limit)
		ncap = limit;
	nb = talloc_realloc_size(owner, *buf, ncap);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = ncap;
	return 0;
}

static int resp_add(struct gp_scp03t_card *c, const uint8_t *d, size_t len)
{
	int rc = grow(c, &c->resp, &c->resp_cap, c->resp_len + len, GP_SCP03T_PROFILE_MAX);

	if (rc < 0)
		return rc;
	memcpy(c->resp + c->resp_len, d, len);
	c->resp_len += len;
	return 0;
}

static int card_iu(struct gp_scp03t_card *c, const struct gp_util_tlv *t)
{
	uint8_t apdu[14], out[2 + GP_SCP03_IU_RESP_LEN], ctr[3], cc[8];
	int rc;

	if (t->len != 10)
		return -EBADMSG;
	if (c->seq_counter > 0xFFFFFF)
		return -ERANGE;	/* GP Amd D: the sequence counter must not wrap */
	ctr[0] = c->seq_counter >> 16;
	ctr[1] = c->seq_counter >> 8;
	ctr[2] = c->seq_counter;
	rc = gp_scp03_card_challenge(&c->keys, ctr, c->aid, c->aid_len, cc);
	if (rc < 0)
		return rc;
	/* reuse the APDU-form card logic with the equivalent INITIALIZE UPDATE */
	apdu[0] = 0x80;
	apdu[1] = 0x50;
	apdu[2] = t->val[0];
	apdu[3] = t->val[1];
	apdu[4] = 8;
	memcpy(apdu + 5, t->val + 2, 8);
	apdu[13] = 0x00;
	rc = gp_scp03_card_init_update(&c->s, &c->keys, apdu, sizeof(apdu), NULL, cc, ctr, out + 2,
				       sizeof(out) - 2);
	if (rc == -EINVAL)
		return -EBADMSG;	/* a KVN we do not have */
	if (rc < 0)
		return rc;
	c->seq_counter++;
	out[0] = GP_SCP03T_TAG_IU;
	out[1] = GP_SCP03_IU_RESP_LEN;
	return resp_add(c, out, sizeof(out));
}

static int card_ea(struct gp_scp03t_card *c, const struct gp_util_tlv *t)
{
	struct gp_scp03_session *s = &c->s;
	uint8_t mac[16], out[2 + GP_SCP03_MAC_LEN];
	int rc;

	if (!s->keys_derived || s->authenticated || t->len != 17)
		return -EBADMSG;
	if (!gp_scp03_sec_level_ok(t->val[0]))
		return -ENOTSUP;
	if (CRYPTO_memcmp(t->val + 1, s->host_cryptogram, 8) != 0)
		return -EKEYREJECTED;
	memset(s->mac_chain, 0, 16);
	rc = tlv_mac(s, false, GP_SCP03T_TAG_EA, t->val, 9, mac);
	if (rc < 0)
		return rc;
	if (CRYPTO_memcmp(mac, t->val + 9, GP_SCP03_MAC_LEN) != 0)
		return -EKEYREJECTED;
	gp_scp03_session_open(s, t->val[0], mac);
	out[0] = GP_SCP03T_TAG_EA;
	if (!(s->sec_level & GP_SCP03_SL_RMAC)) {
		out[1] = 0;
		return resp_add(c, out, 2);
	}
	/* an R-MAC over no data proves that the card accepted the channel [INF] */
	rc = tlv_mac(s, true, GP_SCP03T_TAG_EA, NULL, 0, mac);
	if (rc < 0)
		return rc;
	out[1] = GP_SCP03_MAC_LEN;
	memcpy(out + 2, mac, GP_SCP03_MAC_LEN);
	return resp_add(c, out, sizeof(out));
}

static int card_data(struct gp_scp03t_card *c, const struct gp_util_tlv *t)
{
	struct gp_scp03_session *s = &c->s;
	static const uint8_t ack[2] = { GP_SCP03T_TAG_DATA, 0x00 };
	uint8_t mac[16];
	size_t dlen, plen;
	int rc;

	if (!s->authenticated || t->len < GP_SCP03_MAC_LEN)
		return -EBADMSG;
	dlen = t->len - GP_SCP03_MAC_LEN;
	if (dlen > GP_SCP03T_SEG_MAX + 16)
		return -EMSGSIZE;
	if ((s->sec_level & GP_SCP03_SL_CDEC) && (dlen % 16))
		return -EBADMSG;
	if (s->enc_counter == UINT64_MAX)
		return -ERANGE;
	rc = tlv_mac(s, false, GP_SCP03T_TAG_DATA, t->val, dlen, mac);
	if (rc < 0)
		return rc;
	if (CRYPTO_memcmp(mac, t->val + dlen, GP_SCP03_MAC_LEN) != 0)
		return -EKEYREJECTED;
	rc = grow(c, &c->profile, &c->profile_cap, c->profile_len + dlen, GP_SCP03T_PROFILE_MAX);
	if (rc < 0)
		return rc;
	s->enc_counter++;
	memcpy(c->profile + c->profile_len, t->val, dlen);
	plen = dlen;
	if ((s->sec_level & GP_SCP03_SL_CDEC) && dlen) {
		uint8_t icv[16];
		uint8_t *p = c->profile + c->profile_len;

		rc = gp_scp03_icv(s, false, icv);
		if (rc == 0)
			rc = gp_scp03_aes_cbc(false, s->s_enc, s->key_len, icv, p, dlen, p);
		if (rc == 0)
			rc = gp_scp03_unpad80(p, dlen);
		if (rc < 0) {
			OPENSSL_cleanse(p, dlen);
			return rc;
		}
		plen = rc;
	}
	c->profile_len += plen;
	memcpy(s->mac_chain, mac, 16);
	return resp_add(c, ack, sizeof(ack));
}

int gp_scp03t_card_process(struct gp_scp03t_card *c, const uint8_t *in, size_t len, uint8_t **resp,
			   size_t *resp_len)
{
	struct gp_util_tlv t;
	int rc = 0;

	if (!c || !resp || !resp_len || (len && !in))
		return -EINVAL;
	c->resp_len = 0;
	while (len) {
		rc = tlv_next(in, len, &t);
		if (rc < 0) {
			rc = -EBADMSG;
			break;
		}
		switch (t.tag) {
		case GP_SCP03T_TAG_IU:
			rc = card_iu(c, &t);
			break;
		case GP_SCP03T_TAG_EA:
			rc = card_ea(c, &t);
			break;
		case GP_SCP03T_TAG_DATA:
			rc = card_data(c, &t);
			break;
		default:
			rc = -EBADMSG;
			break;
		}
		if (rc < 0)
			break;
		in += t.total;
		len -= t.total;
	}
	if (rc < 0) {
		/* close the secure channel, as the card does after any security error */
		gp_scp03_session_clear(&c->s);
	}
	*resp = c->resp;
	*resp_len = c->resp_len;
	return rc;
}

int gp_scp03t_card_wrap_resp(struct gp_scp03t_card *c, const uint8_t *data, size_t len, uint8_t *out,
			     size_t out_size)
{
	struct gp_scp03_session *s;

	if (!c || !out || (len && !data))
		return -EINVAL;
	s = &c->s;
	if (!s->authenticated || !(s->sec_level & GP_SCP03_SL_RMAC))
		return -EINVAL;
	if (len > GP_SCP03T_SEG_MAX)
		return -EMSGSIZE;
	return seal_data(s, true, s->sec_level & GP_SCP03_SL_RENC, data, len, out, out_size);
}

const uint8_t *gp_scp03t_card_profile(const struct gp_scp03t_card *c, size_t *len)
{
	if (!c) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = c->profile_len;
	return c->profile;
}

bool gp_scp03t_card_authenticated(const struct gp_scp03t_card *c)
{
	return c && c->s.authenticated;
}
