/*! \file gpcert.c
 * GP Amendment E format certificates (SGP.02 CERT.DP.ECDSA / CERT.SR.ECDSA / CERT.ECASD.ECKA): parse,
 * build + sign, verify, chain validation.  See gpcert.h.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <talloc.h>

#include <sgp02/gp/gpcert.h>

#include "gp_util.h"

/* ------------------------------------------------------------------------------------------------ */
/* ------------------------------------------------------------------------------------------------ */
/* EC helpers */

const char *gp_curve_name(uint8_t curve_ref)
{
	switch (curve_ref) {
	case GP_CURVE_NIST_P256:
		return "prime256v1";
	case GP_CURVE_BRAINPOOL_P256R1:
		return "brainpoolP256r1";
	default:
		return NULL;
	}
}

int gp_curve_of_key(EVP_PKEY *pkey)
{
	char name[64];
	size_t len = 0;

	if (!pkey || !EVP_PKEY_is_a(pkey, "EC"))
		return -ENOTSUP;
	if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name), &len) != 1)
		return -ENOTSUP;
	if (!strcasecmp(name, "prime256v1") || !strcasecmp(name, "P-256") || !strcasecmp(name, "secp256r1"))
		return GP_CURVE_NIST_P256;
	if (!strcasecmp(name, "brainpoolP256r1"))
		return GP_CURVE_BRAINPOOL_P256R1;
	return -ENOTSUP;
}

int gp_ec_pubkey_from_point(uint8_t curve_ref, const uint8_t *point, size_t len, EVP_PKEY **out)
{
	const char *group = gp_curve_name(curve_ref);
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *pctx;
	EVP_PKEY *pkey = NULL;
	int rc = -EBADMSG;

	if (!out || (len && !point))
		return -EINVAL;
	*out = NULL;
	if (!group)
		return -ENOTSUP;
	/* only uncompressed 256-bit points: that is what the GP format carries in 'B0' */
	if (len != GP_CERT_POINT_LEN || point[0] != 0x04)
		return -EBADMSG;
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!pctx)
		return -ENOMEM;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, len);
	params[2] = OSSL_PARAM_construct_end();
	/* decoding the point checks that it lies on the curve */
	if (EVP_PKEY_fromdata_init(pctx) == 1 && EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1) {
		*out = pkey;
		rc = 0;
	}
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

int gp_ec_point_of_key(EVP_PKEY *pkey, uint8_t *out, size_t out_size)
{
	size_t len = 0;

	if (!pkey || !out)
		return -EINVAL;
	if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0, &len) != 1)
		return -EINVAL;
	if (len > out_size)
		return -EMSGSIZE;
	if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, out_size, &len) != 1)
		return -EINVAL;
	if (len != GP_CERT_POINT_LEN || out[0] != 0x04)
		return -EINVAL;
	return (int)len;
}

int gp_ecdsa_sign_raw(EVP_PKEY *priv, const uint8_t *data, size_t len, uint8_t sig[GP_CERT_SIG_LEN])
{
	EVP_MD_CTX *mctx;
	unsigned char der[80];
	const unsigned char *p = der;
	size_t der_len = sizeof(der);
	ECDSA_SIG *es = NULL;
	const BIGNUM *r, *s;
	int rc = -EIO;

	if (!priv || !sig || (len && !data))
		return -EINVAL;
	mctx = EVP_MD_CTX_new();
	if (!mctx)
		return -ENOMEM;
	if (EVP_DigestSignInit_ex(mctx, NULL, "SHA256", NULL, NULL, priv, NULL) != 1)
		goto out;
	if (EVP_DigestSign(mctx, der, &der_len, data, len) != 1)
		goto out;
	/* OpenSSL produces the DER ECDSA-Sig-Value; GP wants the two integers side by side */
	es = d2i_ECDSA_SIG(NULL, &p, der_len);
	if (!es)
		goto out;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32)
		goto out;
	rc = 0;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(mctx);
	return rc;
}

int gp_ecdsa_verify_raw(EVP_PKEY *pub, const uint8_t *data, size_t len, const uint8_t *sig, size_t sig_len)
{
	EVP_MD_CTX *mctx = NULL;
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	unsigned char *der = NULL;
	int der_len, rc = -EKEYREJECTED;

	if (!pub || !sig || (len && !data))
		return -EINVAL;
	if (sig_len != GP_CERT_SIG_LEN)
		return -EKEYREJECTED;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, 32, NULL);
	s = BN_bin2bn(sig + 32, 32, NULL);
	if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return -ENOMEM;
	}
	der_len = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (der_len <= 0)
		return -ENOMEM;
	mctx = EVP_MD_CTX_new();
	if (!mctx)
		goto out;
	if (EVP_DigestVerifyInit_ex(mctx, NULL, "SHA256", NULL, NULL, pub, NULL) != 1) {
		rc = -EINVAL;
		goto out;
	}
	if (EVP_DigestVerify(mctx, der, der_len, data, len) == 1)
		rc = 0;
out:
	EVP_MD_CTX_free(mctx);
	OPENSSL_free(der);
	return rc;
}

/* ------------------------------------------------------------------------------------------------ */
/* Dates */

static int bcd2(uint8_t b)
{
	if ((b >> 4) > 9 || (b & 0x0F) > 9)
		return -1;
	return (b >> 4) * 10 + (b & 0x0F);
}

static int date_decode(const uint8_t *v, size_t len, struct gp_cert_date *d)
{
	int c, y, m, dd;

	if (len != 4)
		return -EBADMSG;
	c = bcd2(v[0]);
	y = bcd2(v[1]);
	m = bcd2(v[2]);
	dd = bcd2(v[3]);
	if (c < 0 || y < 0 || m < 1 || m > 12 || dd < 1 || dd > 31)
		return -EBADMSG;
	d->year = c * 100 + y;
	d->month = m;
	d->day = dd;
	return 0;
}

int gp_cert_date_encode(const struct gp_cert_date *d, uint8_t out[4])
{
	if (!d || !out || d->year > 9999 || d->month < 1 || d->month > 12 || d->day < 1 || d->day > 31)
		return -EINVAL;
	out[0] = ((d->year / 1000) << 4) | ((d->year / 100) % 10);
	out[1] = (((d->year / 10) % 10) << 4) | (d->year % 10);
	out[2] = ((d->month / 10) << 4) | (d->month % 10);
	out[3] = ((d->day / 10) << 4) | (d->day % 10);
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no time zone involved, unlike mktime()). */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int gp_cert_check_validity(const struct gp_cert *cert, time_t now)
{
	int64_t t = (int64_t)now, start, end;

	if (!cert)
		return -EINVAL;
	if (cert->has_effective) {
		start = days_from_civil(cert->effective.year, cert->effective.month, cert->effective.day) * 86400;
		if (t < start)
			return -EKEYEXPIRED;
	}
	end = days_from_civil(cert->expiration.year, cert->expiration.month, cert->expiration.day) * 86400 + 86399;
	if (t > end)
		return -EKEYEXPIRED;
	return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Parse */

static int parse_pubkey(struct gp_cert *c, const uint8_t *v, size_t len)
{
	bool have_point = false, have_ref = false;
	struct gp_util_tlv t;
	int rc;

	while (len) {
		rc = gp_util_tlv_next(v, len, &t);
		if (rc < 0)
			return rc;
		switch (t.tag) {
		case 0xB0:
			if (have_point)
				return -EBADMSG;
			have_point = true;
			c->point = t.val;
			c->point_len = t.len;
			break;
		case 0xF0:
			if (have_ref || t.len != 1)
				return -EBADMSG;
			have_ref = true;
			c->curve_ref = t.val[0];
			break;
		default:
			return -EBADMSG;
		}
		v += t.total;
		len -= t.total;
	}
	if (!have_point)
		return -EBADMSG;
	if (c->point_len != GP_CERT_POINT_LEN || c->point[0] != 0x04)
		return -ENOTSUP;
	return 0;
}

static int parse_discretionary(struct gp_cert *c, const uint8_t *v, size_t len)
{
	struct gp_util_tlv t;
	int rc;

	c->discretionary = v;
	c->discretionary_len = len;
	while (len) {
		rc = gp_util_tlv_next(v, len, &t);
		if (rc < 0)
			return rc;
		if (t.tag == 0xC8) {
			if (t.len != 1 || c->entity_type >= 0)
				return -EBADMSG;
			c->entity_type = t.val[0];
		} else if (t.tag == 0xC9) {
			if (c->aki)
				return -EBADMSG;
			c->aki = t.val;
			c->aki_len = t.len;
		}
		v += t.total;
		len -= t.total;
	}
	return 0;
}

enum { F_93 = 1, F_42 = 2, F_5F20 = 4, F_95 = 8, F_5F25 = 16, F_5F24 = 32, F_73 = 64, F_7F49 = 128, F_5F37 = 256 };

int gp_cert_parse(void *ctx, const uint8_t *buf, size_t len, struct gp_cert **out)
{
	struct gp_cert *c;
	struct gp_util_tlv outer, t;
	const uint8_t *p;
	size_t rem;
	unsigned int seen = 0;
	int rc;

	if (!out || (len && !buf))
		return -EINVAL;
	*out = NULL;
	rc = gp_util_tlv_next(buf, len, &outer);
	if (rc < 0)
		return rc;
	if (outer.tag != 0x7F21 || outer.total != len)
		return -EBADMSG;
	c = talloc_zero(ctx, struct gp_cert);
	if (!c)
		return -ENOMEM;
	c->raw = talloc_memdup(c, buf, len);
	if (!c->raw) {
		talloc_free(c);
		return -ENOMEM;
	}
	c->raw_len = len;
	c->entity_type = -1;
	c->curve_ref = GP_CURVE_NIST_P256;
	p = c->raw + (outer.val - buf);
	rem = outer.len;
	c->tbs = p;
	while (rem) {
		unsigned int flag = 0;

		rc = gp_util_tlv_next(p, rem, &t);
		if (rc < 0)
			goto err;
		if (seen & F_5F37) {	/* the signature must be the last element */
			rc = -EBADMSG;
			goto err;
		}
		switch (t.tag) {
		case 0x93:
			flag = F_93;
			c->serial = t.val;
			c->serial_len = t.len;
			break;
		case 0x42:
			flag = F_42;
			c->ca_id = t.val;
			c->ca_id_len = t.len;
			break;
		case 0x5F20:
			flag = F_5F20;
			c->subject_id = t.val;
			c->subject_id_len = t.len;
			break;
		case 0x95:
			flag = F_95;
			if (t.len < 1 || t.len > 2) {
				rc = -EBADMSG;
				goto err;
			}
			c->key_usage = t.val;
			c->key_usage_len = t.len;
			break;
		case 0x5F25:
			flag = F_5F25;
			rc = date_decode(t.val, t.len, &c->effective);
			if (rc < 0)
				goto err;
			c->has_effective = true;
			break;
		case 0x5F24:
			flag = F_5F24;
			rc = date_decode(t.val, t.len, &c->expiration);
			if (rc < 0)
				goto err;
			break;
		case 0x73:
			flag = F_73;
			rc = parse_discretionary(c, t.val, t.len);
			if (rc < 0)
				goto err;
			break;
		case 0x7F49:
			flag = F_7F49;
			rc = parse_pubkey(c, t.val, t.len);
			if (rc < 0)
				goto err;
			break;
		case 0x5F37:
			flag = F_5F37;
			c->tbs_len = p - c->tbs;
			c->sig = t.val;
			c->sig_len = t.len;
			if (t.len != GP_CERT_SIG_LEN) {
				rc = -ENOTSUP;
				goto err;
			}
			break;
		default:
			/* unknown elements are tolerated: the signature covers them anyway */
			break;
		}
		if (seen & flag) {
			rc = -EBADMSG;	/* duplicate element */
			goto err;
		}
		seen |= flag;
		p += t.total;
		rem -= t.total;
	}
	if ((seen & (F_93 | F_42 | F_5F20 | F_95 | F_5F24 | F_7F49 | F_5F37)) !=
	    (F_93 | F_42 | F_5F20 | F_95 | F_5F24 | F_7F49 | F_5F37)) {
		rc = -EBADMSG;
		goto err;
	}
	*out = c;
	return 0;
err:
	talloc_free(c);
	return rc;
}

/* ------------------------------------------------------------------------------------------------ */
/* Build */

int gp_cert_build(void *ctx, const struct gp_cert_template *t, EVP_PKEY *subject_pub, EVP_PKEY *issuer_priv,
		  uint8_t **out, size_t *out_len)
{
	static const uint8_t default_ku = 0x88;
	uint8_t point[GP_CERT_POINT_LEN], eff[4], exp[4], sig[GP_CERT_SIG_LEN], ref;
	const uint8_t *ku;
	size_t ku_len, disc_len = 0, pk_len, tbs_len, body_len;
	uint8_t *buf, *p, *tbs;
	int rc, curve;

	if (!t || !subject_pub || !issuer_priv || !out || !out_len || !t->serial || !t->ca_id || !t->subject_id)
		return -EINVAL;
	if (t->entity_type > 255 || (t->extra_discretionary_len && !t->extra_discretionary) ||
	    (t->key_usage && (t->key_usage_len < 1 || t->key_usage_len > 2)))
		return -EINVAL;
	curve = gp_curve_of_key(subject_pub);
	if (curve < 0)
		return curve;
	ref = curve;
	rc = gp_ec_point_of_key(subject_pub, point, sizeof(point));
	if (rc < 0)
		return rc;
	if (gp_cert_date_encode(&t->expiration, exp) < 0)
		return -EINVAL;
	if (t->has_effective && gp_cert_date_encode(&t->effective, eff) < 0)
		return -EINVAL;
	ku = t->key_usage ? t->key_usage : &default_ku;
	ku_len = t->key_usage ? t->key_usage_len : 1;

	if (t->entity_type >= 0)
		disc_len += 3;
	if (t->aki)
		disc_len += gp_util_tlv_size(0xC9, t->aki_len);
	disc_len += t->extra_discretionary_len;
	pk_len = gp_util_tlv_size(0xB0, sizeof(point)) + (t->with_curve_ref ? 3 : 0);

	tbs_len = gp_util_tlv_size(0x93, t->serial_len) + gp_util_tlv_size(0x42, t->ca_id_len) +
		  gp_util_tlv_size(0x5F20, t->subject_id_len) + gp_util_tlv_size(0x95, ku_len) +
		  (t->has_effective ? gp_util_tlv_size(0x5F25, 4) : 0) + gp_util_tlv_size(0x5F24, 4) +
		  (disc_len ? gp_util_tlv_size(0x73, disc_len) : 0) + gp_util_tlv_size(0x7F49, pk_len);
	body_len = tbs_len + gp_util_tlv_size(0x5F37, GP_CERT_SIG_LEN);

	buf = talloc_size(ctx, gp_util_tlv_size(0x7F21, body_len));
	if (!buf)
		return -ENOMEM;
	tbs = gp_util_put_hdr(buf, 0x7F21, body_len);
	p = gp_util_put_tlv(tbs, 0x93, t->serial, t->serial_len);
	p = gp_util_put_tlv(p, 0x42, t->ca_id, t->ca_id_len);
	p = gp_util_put_tlv(p, 0x5F20, t->subject_id, t->subject_id_len);
	p = gp_util_put_tlv(p, 0x95, ku, ku_len);
	if (t->has_effective)
		p = gp_util_put_tlv(p, 0x5F25, eff, 4);
	p = gp_util_put_tlv(p, 0x5F24, exp, 4);
	if (disc_len) {
		p = gp_util_put_hdr(p, 0x73, disc_len);
		if (t->entity_type >= 0) {
			uint8_t et = t->entity_type;

			p = gp_util_put_tlv(p, 0xC8, &et, 1);
		}
		if (t->aki)
			p = gp_util_put_tlv(p, 0xC9, t->aki, t->aki_len);
		if (t->extra_discretionary_len) {
			memcpy(p, t->extra_discretionary, t->extra_discretionary_len);
			p += t->extra_discretionary_len;
		}
	}
	p = gp_util_put_hdr(p, 0x7F49, pk_len);
	p = gp_util_put_tlv(p, 0xB0, point, sizeof(point));
	if (t->with_curve_ref)
		p = gp_util_put_tlv(p, 0xF0, &ref, 1);
	if ((size_t)(p - tbs) != tbs_len) {
		talloc_free(buf);
		return -EINVAL;	/* cannot happen: sizes computed above disagree with what was written */
	}
	rc = gp_ecdsa_sign_raw(issuer_priv, tbs, tbs_len, sig);
	if (rc < 0) {
		talloc_free(buf);
		return rc;
	}
	p = gp_util_put_tlv(p, 0x5F37, sig, sizeof(sig));
	*out = buf;
	*out_len = p - buf;
	return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Verify */

int gp_cert_pubkey(const struct gp_cert *cert, EVP_PKEY **out)
{
	if (!cert || !out)
		return -EINVAL;
	return gp_ec_pubkey_from_point(cert->curve_ref, cert->point, cert->point_len, out);
}

int gp_cert_verify_sig(const struct gp_cert *cert, EVP_PKEY *issuer_pub)
{
	if (!cert || !issuer_pub)
		return -EINVAL;
	return gp_ecdsa_verify_raw(issuer_pub, cert->tbs, cert->tbs_len, cert->sig, cert->sig_len);
}

static bool issuer_id_matches(const struct gp_cert *cert, const uint8_t *issuer_id, size_t issuer_id_len)
{
	const uint8_t *id;
	size_t id_len;

	if (cert->aki) {
		id = cert->aki;
		id_len = cert->aki_len;
	} else {
		id = cert->ca_id;
		id_len = cert->ca_id_len;
	}
	return id_len == issuer_id_len && (id_len == 0 || memcmp(id, issuer_id, id_len) == 0);
}

bool gp_cert_issued_by(const struct gp_cert *cert, const struct gp_cert *issuer)
{
	if (!cert || !issuer)
		return false;
	return issuer_id_matches(cert, issuer->subject_id, issuer->subject_id_len);
}

int gp_cert_verify_with_key(const struct gp_cert *cert, const uint8_t *issuer_id, size_t issuer_id_len,
			    EVP_PKEY *issuer_pub, time_t now)
{
	int rc;

	if (!cert || !issuer_pub || (issuer_id_len && !issuer_id))
		return -EINVAL;
	if (!issuer_id_matches(cert, issuer_id, issuer_id_len))
		return -ENOKEY;
	rc = gp_cert_verify_sig(cert, issuer_pub);
	if (rc < 0)
		return rc;
	return gp_cert_check_validity(cert, now);
}

static int verify_link(const struct gp_cert *cert, const struct gp_cert *issuer)
{
	EVP_PKEY *pub = NULL;
	int rc;

	rc = gp_cert_pubkey(issuer, &pub);
	if (rc < 0)
		return rc == -EBADMSG ? -EKEYREJECTED : rc;
	rc = gp_cert_verify_sig(cert, pub);
	EVP_PKEY_free(pub);
	return rc;
}

int gp_cert_verify_chain(struct gp_cert *const *chain, size_t n, struct gp_cert *const *anchors, size_t n_anchors,
			 time_t now)
{
	const struct gp_cert *anchor = NULL;
	size_t i;
	int rc;

	if (!chain || n == 0 || (n_anchors && !anchors))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!chain[i])
			return -EINVAL;
		if (i + 1 < n) {
			if (!gp_cert_issued_by(chain[i], chain[i + 1]))
				return -ENOKEY;
			rc = verify_link(chain[i], chain[i + 1]);
			if (rc < 0)
				return rc;
		}
	}
	for (i = 0; i < n_anchors; i++) {
		if (anchors[i] && gp_cert_issued_by(chain[n - 1], anchors[i])) {
			anchor = anchors[i];
			break;
		}
	}
	if (!anchor)
		return -ENOKEY;
	rc = verify_link(chain[n - 1], anchor);
	if (rc < 0)
		return rc;
	/* dates last, so that a forged certificate is reported as such and not as expired */
	for (i = 0; i < n; i++) {
		rc = gp_cert_check_validity(chain[i], now);
		if (rc < 0)
			return rc;
	}
	return gp_cert_check_validity(anchor, now);
}
