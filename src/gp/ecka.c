/*! \file ecka.c
 * Scenario #3 key establishment (GP Amd E ECKA-EG) for the ISD-P / ISD-R key sets of SGP.02.  See ecka.h.
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <talloc.h>

#include <sgp02/gp/ecka.h>
#include <sgp02/gp/gp_apdu.h>
#include <sgp02/gp/scp03.h>

#include "gp_util.h"

/* ------------------------------------------------------------------------------------------------ */
/* Small BER-TLV helpers: gp_util.h, and the DGI format of STORE DATA */

/* The ECKA functions answer -EBADMSG for every malformed TLV, also for a value running past the buffer. */
static int tlv_next(const uint8_t *buf, size_t len, struct gp_util_tlv *t)
{
	int rc = gp_util_tlv_next(buf, len, t);

	return rc == -EMSGSIZE ? -EBADMSG : rc;
}

/* GP Card Spec §11.11 (STORE DATA, DGI format): a DGI is a 2-byte tag and a length of 1 byte ('00'..'FE') or
 * 'FF' followed by 2 bytes. Encoding: gp_dgi_encode() of gp_apdu.h. */
static int dgi_next(const uint8_t *buf, size_t len, uint16_t *dgi, const uint8_t **val, size_t *vlen, size_t *total)
{
	size_t i = 3, l;

	if (!buf || len < 3)
		return -EBADMSG;
	*dgi = (buf[0] << 8) | buf[1];
	l = buf[2];
	if (l == 0xFF) {
		if (len < 5)
			return -EBADMSG;
		l = (buf[3] << 8) | buf[4];
		i = 5;
	}
	if (l > len - i)
		return -EBADMSG;
	*val = buf + i;
	*vlen = l;
	*total = i + l;
	return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* CRT A6 */

int gp_ecka_crt_encode(const struct gp_ecka_crt *crt, uint8_t *out, size_t out_size)
{
	uint8_t body[128], *p = body;
	bool ids;

	if (!crt || !out || crt->counter_len > sizeof(crt->counter) || crt->sdin_len > GP_ECKA_MAX_ID_LEN ||
	    crt->host_id_len > GP_ECKA_MAX_ID_LEN)
		return -EINVAL;
	ids = crt->scenario_param & GP_ECKA_SCEN_HOSTID;
	/* digest §9.2 step 3: 90 02 03 <param>, 95, [96], 80, 81, 82, 83, 91, [45, 84] */
	*p++ = 0x90;
	*p++ = 0x02;
	*p++ = 0x03;
	*p++ = crt->scenario_param;
	p = gp_util_put_tlv(p, 0x95, &crt->key_usage, 1);
	if (crt->has_key_access)
		p = gp_util_put_tlv(p, 0x96, &crt->key_access, 1);
	p = gp_util_put_tlv(p, 0x80, &crt->key_type, 1);
	p = gp_util_put_tlv(p, 0x81, &crt->key_len, 1);
	p = gp_util_put_tlv(p, 0x82, &crt->kid, 1);
	p = gp_util_put_tlv(p, 0x83, &crt->kvn, 1);
	p = gp_util_put_tlv(p, 0x91, crt->counter, crt->counter_len);
	if (ids) {
		p = gp_util_put_tlv(p, 0x45, crt->sdin, crt->sdin_len);
		p = gp_util_put_tlv(p, 0x84, crt->host_id, crt->host_id_len);
	}
	if (out_size < gp_util_hdr_size(0xA6, p - body) + (size_t)(p - body))
		return -EMSGSIZE;
	return gp_util_put_tlv(out, 0xA6, body, p - body) - out;
}

int gp_ecka_crt_decode(const uint8_t *buf, size_t len, struct gp_ecka_crt *crt)
{
	struct gp_util_tlv outer, t;
	const uint8_t *p;
	size_t rem;
	unsigned int seen = 0;
	int rc;

	if (!crt || (len && !buf))
		return -EINVAL;
	memset(crt, 0, sizeof(*crt));
	rc = tlv_next(buf, len, &outer);
	if (rc < 0)
		return rc;
	if (outer.tag != 0xA6 || outer.total != len)
		return -EBADMSG;
	p = outer.val;
	rem = outer.len;
	while (rem) {
		unsigned int bit;

		rc = tlv_next(p, rem, &t);
		if (rc < 0)
			return rc;
		switch (t.tag) {
		case 0x90:
			bit = 1;
			if (t.len != 2)
				return -EBADMSG;
			if (t.val[0] != 0x03)
				return -ENOTSUP;	/* only scenario #3 */
			crt->scenario_param = t.val[1];
			break;
		case 0x95:
			bit = 2;
			if (t.len != 1)
				return -EBADMSG;
			crt->key_usage = t.val[0];
			break;
		case 0x96:
			bit = 4;
			if (t.len != 1)
				return -EBADMSG;
			crt->has_key_access = true;
			crt->key_access = t.val[0];
			break;
		case 0x80:
			bit = 8;
			if (t.len != 1)
				return -EBADMSG;
			crt->key_type = t.val[0];
			break;
		case 0x81:
			bit = 16;
			if (t.len != 1)
				return -EBADMSG;
			crt->key_len = t.val[0];
			break;
		case 0x82:
			bit = 32;
			if (t.len != 1)
				return -EBADMSG;
			crt->kid = t.val[0];
			break;
		case 0x83:
			bit = 64;
			if (t.len != 1)
				return -EBADMSG;
			crt->kvn = t.val[0];
			break;
		case 0x91:
			bit = 128;
			if (t.len > sizeof(crt->counter))
				return -EBADMSG;
			crt->counter_len = t.len;
			if (t.len)
				memcpy(crt->counter, t.val, t.len);
			break;
		case 0x45:
			bit = 256;
			if (t.len > GP_ECKA_MAX_ID_LEN)
				return -EBADMSG;
			crt->sdin_len = t.len;
			if (t.len)
				memcpy(crt->sdin, t.val, t.len);
			break;
		case 0x84:
			bit = 512;
			if (t.len > GP_ECKA_MAX_ID_LEN)
				return -EBADMSG;
			crt->host_id_len = t.len;
			if (t.len)
				memcpy(crt->host_id, t.val, t.len);
			break;
		default:
			return -EBADMSG;
		}
		if (seen & bit)
			return -EBADMSG;
		seen |= bit;
		p += t.total;
		rem -= t.total;
	}
	/* mandatory: 90, 95, 80, 81, 82, 83 */
	if ((seen & (1 | 2 | 8 | 16 | 32 | 64)) != (1 | 2 | 8 | 16 | 32 | 64))
		return -EBADMSG;
	return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Crypto */

int gp_ecka_keygen(uint8_t curve_ref, EVP_PKEY **out)
{
	const char *name = gp_curve_name(curve_ref);

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!name)
		return -ENOTSUP;
	*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", name);
	return *out ? 0 : -EIO;
}

int gp_ecka_shared_secret(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t *out, size_t out_size)
{
	EVP_PKEY_CTX *pctx;
	size_t len = 0;
	int c1, c2, rc = -EIO;

	if (!priv || !peer || !out)
		return -EINVAL;
	c1 = gp_curve_of_key(priv);
	c2 = gp_curve_of_key(peer);
	if (c1 < 0 || c2 < 0 || c1 != c2)
		return -ENOTSUP;
	pctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
	if (!pctx)
		return -ENOMEM;
	/* plain ECDH (cofactor 1 on both curves): the output is the x-coordinate, BSI TR-03111 ECKA */
	if (EVP_PKEY_derive_init(pctx) != 1 || EVP_PKEY_derive_set_peer(pctx, peer) != 1)
		goto out;
	if (EVP_PKEY_derive(pctx, NULL, &len) != 1)
		goto out;
	if (len > out_size) {
		rc = -EMSGSIZE;
		goto out;
	}
	if (EVP_PKEY_derive(pctx, out, &len) != 1)
		goto out;
	rc = (int)len;
out:
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

int gp_ecka_x963_kdf(const uint8_t *z, size_t z_len, const uint8_t *info, size_t info_len, uint8_t *out,
		     size_t out_len)
{
	EVP_MD_CTX *mctx;
	uint32_t counter = 1;
	size_t done = 0;
	int rc = -EIO;

	if (!z || !out || (info_len && !info) || out_len > 255 * 32)
		return -EINVAL;
	mctx = EVP_MD_CTX_new();
	if (!mctx)
		return -ENOMEM;
	while (done < out_len) {
		uint8_t ctr[4] = { counter >> 24, counter >> 16, counter >> 8, counter };
		uint8_t md[32];
		unsigned int mdlen = 0;
		size_t n = out_len - done < 32 ? out_len - done : 32;

		if (EVP_DigestInit_ex2(mctx, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(mctx, z, z_len) != 1 ||
		    EVP_DigestUpdate(mctx, ctr, 4) != 1 || (info_len && EVP_DigestUpdate(mctx, info, info_len) != 1) ||
		    EVP_DigestFinal_ex(mctx, md, &mdlen) != 1 || mdlen != 32)
			goto out;
		memcpy(out + done, md, n);
		OPENSSL_cleanse(md, sizeof(md));
		done += n;
		counter++;
	}
	rc = 0;
out:
	EVP_MD_CTX_free(mctx);
	return rc;
}

int gp_ecka_shared_info(const struct gp_ecka_crt *crt, const uint8_t *dr, size_t dr_len, const uint8_t *sin,
			size_t sin_len, uint8_t *out, size_t out_size)
{
	size_t need, n = 0;
	bool ids;

	if (!crt || !out || (dr_len && !dr) || (sin_len && !sin) || dr_len > 64 || sin_len > 127)
		return -EINVAL;
	ids = crt->scenario_param & GP_ECKA_SCEN_HOSTID;
	need = 3 + dr_len;
	if (ids && crt->host_id_len)
		need += 1 + crt->host_id_len;
	if (ids && crt->sdin_len && sin_len)
		need += 2 + sin_len + crt->sdin_len;
	if (out_size < need)
		return -EMSGSIZE;
	out[n++] = crt->key_usage;
	out[n++] = crt->key_type;
	out[n++] = crt->key_len;
	if (dr_len) {
		memcpy(out + n, dr, dr_len);
		n += dr_len;
	}
	if (ids && crt->host_id_len) {
		out[n++] = crt->host_id_len;
		memcpy(out + n, crt->host_id, crt->host_id_len);
		n += crt->host_id_len;
	}
	/* [INF] SIN/SDIN only when both are known; NJ adds them under the same condition */
	if (ids && crt->sdin_len && sin_len) {
		out[n++] = sin_len;
		memcpy(out + n, sin, sin_len);
		n += sin_len;
		out[n++] = crt->sdin_len;
		memcpy(out + n, crt->sdin, crt->sdin_len);
		n += crt->sdin_len;
	}
	return (int)n;
}

int gp_ecka_derive(const struct gp_ecka_crt *crt, const uint8_t *shs, size_t shs_len, const uint8_t *dr,
		   size_t dr_len, const uint8_t *sin, size_t sin_len, struct gp_ecka_keys *keys)
{
	uint8_t info[3 + 64 + 1 + GP_ECKA_MAX_ID_LEN + 1 + 127 + 1 + GP_ECKA_MAX_ID_LEN];
	uint8_t kd[4 * GP_ECKA_MAX_KEY_LEN];
	unsigned int n_keys, i;
	int info_len, rc;

	if (!crt || !shs || !keys)
		return -EINVAL;
	if (crt->key_usage == GP_ECKA_KU_ONE_KEY)
		n_keys = 1;
	else if (crt->key_usage == GP_ECKA_KU_THREE_KEYS)
		n_keys = 3;
	else
		return -ENOTSUP;
	if (crt->key_len != 16 && crt->key_len != 24 && crt->key_len != 32)
		return -ENOTSUP;
	info_len = gp_ecka_shared_info(crt, dr, dr_len, sin, sin_len, info, sizeof(info));
	if (info_len < 0)
		return info_len;
	/* KeyData = receipt key || keys (digest §9.2 step 6): 256 bits for one key, 512 for three (AES-128) */
	rc = gp_ecka_x963_kdf(shs, shs_len, info, info_len, kd, (n_keys + 1) * crt->key_len);
	if (rc < 0)
		return rc;
	memset(keys, 0, sizeof(*keys));
	keys->key_len = crt->key_len;
	keys->n_keys = n_keys;
	memcpy(keys->receipt_key, kd, crt->key_len);
	for (i = 0; i < n_keys; i++)
		memcpy(keys->key[i], kd + (i + 1) * crt->key_len, crt->key_len);
	OPENSSL_cleanse(kd, sizeof(kd));
	return 0;
}

int gp_ecka_receipt(const struct gp_ecka_keys *keys, const uint8_t *a6, size_t a6_len, const uint8_t *dr,
		    size_t dr_len, uint8_t out[GP_ECKA_RECEIPT_LEN])
{
	uint8_t drtlv[2 + 64];

	if (!keys || !a6 || !out || dr_len > 64 || (dr_len && !dr))
		return -EINVAL;
	if (!dr_len)
		return gp_scp03_cmac(keys->receipt_key, keys->key_len, a6, a6_len, out);
	drtlv[0] = 0x85;
	drtlv[1] = dr_len;
	memcpy(drtlv + 2, dr, dr_len);
	return gp_scp03_cmac2(keys->receipt_key, keys->key_len, a6, a6_len, drtlv, 2 + dr_len, out);
}

int gp_ecka_keys_to_scp03(const struct gp_ecka_keys *keys, uint8_t kvn, struct gp_scp03_keys *out)
{
	if (!keys || !out || keys->n_keys != 3 || keys->key_len > GP_SCP03_MAX_KEY_LEN)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->kvn = kvn;
	out->key_len = keys->key_len;
	memcpy(out->enc, keys->key[0], keys->key_len);
	memcpy(out->mac, keys->key[1], keys->key_len);
	memcpy(out->dek, keys->key[2], keys->key_len);
	return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* STORE DATA contents */

int gp_ecka_build_3a01(const uint8_t *cert, size_t cert_len, uint8_t *out, size_t out_size)
{
	if (!cert)
		return -EINVAL;
	return gp_dgi_encode(out, out_size, 0x3A01, cert, cert_len);
}

/* 7F49 { B0 <point> F0 01 <ref> } for an ephemeral key [INF: encoding as in the certificate, like NJ] */
static int epk_encode(EVP_PKEY *epk, uint8_t *out, size_t out_size)
{
	uint8_t point[GP_CERT_POINT_LEN], ref, *p;
	int curve, rc;

	curve = gp_curve_of_key(epk);
	if (curve < 0)
		return curve;
	ref = curve;
	rc = gp_ec_point_of_key(epk, point, sizeof(point));
	if (rc < 0)
		return rc;
	if (out_size < 3 + 2 + sizeof(point) + 3)
		return -EMSGSIZE;
	p = gp_util_put_hdr(out, 0x7F49, 2 + sizeof(point) + 3);
	p = gp_util_put_tlv(p, 0xB0, point, sizeof(point));
	p = gp_util_put_tlv(p, 0xF0, &ref, 1);
	return (int)(p - out);
}

/* Signed data of step 2 (digest §8.11): DGI 3A02 || 7F49 TLV || '00 85' L RC */
static int sign_data(const uint8_t *dgi, size_t dgi_len, const uint8_t *epk, size_t epk_len, const uint8_t *rc,
		     size_t rc_len, uint8_t *out, size_t out_size)
{
	size_t n = dgi_len + epk_len + 3 + rc_len;

	if (rc_len > 127)
		return -EINVAL;
	if (n > out_size)
		return -EMSGSIZE;
	memcpy(out, dgi, dgi_len);
	memcpy(out + dgi_len, epk, epk_len);
	out[dgi_len + epk_len] = 0x00;
	out[dgi_len + epk_len + 1] = 0x85;
	out[dgi_len + epk_len + 2] = rc_len;
	memcpy(out + dgi_len + epk_len + 3, rc, rc_len);
	return (int)n;
}

int gp_ecka_build_3a02(void *ctx, const struct gp_ecka_crt *crt, EVP_PKEY *epk, const uint8_t *rc, size_t rc_len,
		       EVP_PKEY *sk_dp, uint8_t **out, size_t *out_len)
{
	uint8_t a6[160], dgi[170], ek[80], sd[170 + 80 + 3 + 127], sig[GP_CERT_SIG_LEN], *buf;
	int a6_len, ek_len, sd_len, res;
	size_t dgi_len, total;

	if (!crt || !epk || !rc || !sk_dp || !out || !out_len || rc_len == 0 || rc_len > 127)
		return -EINVAL;
	a6_len = gp_ecka_crt_encode(crt, a6, sizeof(a6));
	if (a6_len < 0)
		return a6_len;
	res = gp_dgi_encode(dgi, sizeof(dgi), 0x3A02, a6, a6_len);
	if (res < 0)
		return res;
	dgi_len = res;
	ek_len = epk_encode(epk, ek, sizeof(ek));
	if (ek_len < 0)
		return ek_len;
	sd_len = sign_data(dgi, dgi_len, ek, ek_len, rc, rc_len, sd, sizeof(sd));
	if (sd_len < 0)
		return sd_len;
	res = gp_ecdsa_sign_raw(sk_dp, sd, sd_len, sig);
	if (res < 0)
		return res;
	total = dgi_len + ek_len + 3 + sizeof(sig);
	buf = talloc_size(ctx, total);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, dgi, dgi_len);
	memcpy(buf + dgi_len, ek, ek_len);
	gp_util_put_tlv(buf + dgi_len + ek_len, 0x5F37, sig, sizeof(sig));
	*out = buf;
	*out_len = total;
	return 0;
}

/* Parse "[85 L DR] 86 L receipt" */
static int parse_answer(const uint8_t *resp, size_t len, const uint8_t **dr, size_t *dr_len, const uint8_t **rcpt)
{
	struct gp_util_tlv t;
	int rc;

	*dr = NULL;
	*dr_len = 0;
	*rcpt = NULL;
	while (len) {
		rc = tlv_next(resp, len, &t);
		if (rc < 0)
			return rc;
		if (t.tag == 0x85 && !*dr && !*rcpt) {
			if (t.len == 0 || t.len > 64)
				return -EBADMSG;
			*dr = t.val;
			*dr_len = t.len;
		} else if (t.tag == 0x86 && !*rcpt) {
			if (t.len != GP_ECKA_RECEIPT_LEN)
				return -EBADMSG;
			*rcpt = t.val;
		} else {
			return -EBADMSG;
		}
		resp += t.total;
		len -= t.total;
	}
	return *rcpt ? 0 : -EBADMSG;
}

int gp_ecka_host_finish(const struct gp_ecka_crt *crt, EVP_PKEY *esk, EVP_PKEY *pk_ecasd, const uint8_t *resp,
			size_t resp_len, const uint8_t *sin, size_t sin_len, struct gp_ecka_keys *keys)
{
	const uint8_t *dr, *rcpt;
	uint8_t shs[66], a6[160], mine[GP_ECKA_RECEIPT_LEN];
	size_t dr_len;
	int shs_len, a6_len, rc;

	if (!crt || !esk || !pk_ecasd || !keys || (resp_len && !resp))
		return -EINVAL;
	rc = parse_answer(resp, resp_len, &dr, &dr_len, &rcpt);
	if (rc < 0)
		return rc;
	if ((crt->scenario_param & GP_ECKA_SCEN_DR) && !dr)
		return -EBADMSG;
	if (!(crt->scenario_param & GP_ECKA_SCEN_DR) && dr)
		return -EBADMSG;
	shs_len = gp_ecka_shared_secret(esk, pk_ecasd, shs, sizeof(shs));
	if (shs_len < 0)
		return shs_len;
	rc = gp_ecka_derive(crt, shs, shs_len, dr, dr_len, sin, sin_len, keys);
	OPENSSL_cleanse(shs, sizeof(shs));
	if (rc < 0)
		return rc;
	a6_len = gp_ecka_crt_encode(crt, a6, sizeof(a6));
	if (a6_len < 0)
		return a6_len;
	rc = gp_ecka_receipt(keys, a6, a6_len, dr, dr_len, mine);
	if (rc < 0)
		return rc;
	if (CRYPTO_memcmp(mine, rcpt, GP_ECKA_RECEIPT_LEN) != 0) {
		OPENSSL_cleanse(keys, sizeof(*keys));
		return -EKEYREJECTED;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* Card side */

int gp_ecka_card_3a01(void *ctx, const uint8_t *data, size_t len, struct gp_cert *ci, time_t now,
		      int expected_entity, const uint8_t *rc, size_t rc_len, struct gp_cert **cert,
		      uint8_t *out, size_t out_size)
{
	struct gp_cert *c = NULL;
	const uint8_t *val;
	size_t vlen, total;
	uint16_t dgi;
	int res;

	if (!ci || !rc || !cert || !out || rc_len < 16 || rc_len > 32)
		return -EINVAL;
	*cert = NULL;
	res = dgi_next(data, len, &dgi, &val, &vlen, &total);
	if (res < 0)
		return res;
	if (dgi != 0x3A01 || total != len)
		return -EBADMSG;
	res = gp_cert_parse(ctx, val, vlen, &c);
	if (res < 0)
		return res == -EMSGSIZE ? -EBADMSG : res;
	res = gp_cert_verify_chain(&c, 1, &ci, 1, now);
	if (res < 0)
		goto err;
	/* SGP.02 §4.1.3.1: the discretionary data says which kind of off-card entity this is */
	if (expected_entity >= 0 && c->entity_type != expected_entity) {
		res = -EACCES;
		goto err;
	}
	if (out_size < 2 + rc_len) {
		res = -EMSGSIZE;
		goto err;
	}
	out[0] = 0x85;
	out[1] = rc_len;
	memcpy(out + 2, rc, rc_len);
	*cert = c;
	return (int)(2 + rc_len);
err:
	talloc_free(c);
	return res;
}

int gp_ecka_card_3a02(const uint8_t *data, size_t len, EVP_PKEY *pk_entity, const uint8_t *rc, size_t rc_len,
		      EVP_PKEY *sk_ecasd, const uint8_t *dr, const uint8_t *sin, size_t sin_len,
		      struct gp_ecka_crt *crt, struct gp_ecka_keys *keys, uint8_t *out, size_t out_size)
{
	uint8_t sd[300 + 80 + 3 + 127], shs[66], rcpt[GP_ECKA_RECEIPT_LEN];
	const uint8_t *val, *p, *point = NULL, *sig, *a6;
	size_t vlen, a6_len, dgi_total, rem, point_len = 0, sig_len, need, n;
	struct gp_util_tlv ek, st, t;
	EVP_PKEY *epk = NULL;
	uint16_t dgi;
	int res, curve, shs_len, sd_len;
	bool have_ref = false;
	uint8_t ref = 0;

	if (!pk_entity || !rc || !sk_ecasd || !crt || !keys || !out || rc_len == 0 || rc_len > 127)
		return -EINVAL;
	res = dgi_next(data, len, &dgi, &val, &vlen, &dgi_total);
	if (res < 0)
		return res;
	if (dgi != 0x3A02)
		return -EBADMSG;
	res = gp_ecka_crt_decode(val, vlen, crt);
	if (res < 0)
		return res;
	a6 = val;
	a6_len = vlen;
	p = data + dgi_total;
	rem = len - dgi_total;
	res = tlv_next(p, rem, &ek);
	if (res < 0)
		return res;
	if (ek.tag != 0x7F49)
		return -EBADMSG;
	res = tlv_next(p + ek.total, rem - ek.total, &st);
	if (res < 0)
		return res;
	if (st.tag != 0x5F37 || ek.total + st.total != rem)
		return -EBADMSG;
	sig = st.val;
	sig_len = st.len;
	/* the signature first: nothing else is looked at before the sender is known to be genuine */
	if (dgi_total + ek.total > 300)
		return -EBADMSG;
	sd_len = sign_data(data, dgi_total, p, ek.total, rc, rc_len, sd, sizeof(sd));
	if (sd_len < 0)
		return sd_len;
	res = gp_ecdsa_verify_raw(pk_entity, sd, sd_len, sig, sig_len);
	if (res < 0)
		return res;
	/* ePK: B0 point [F0 ref] */
	val = ek.val;
	vlen = ek.len;
	while (vlen) {
		res = tlv_next(val, vlen, &t);
		if (res < 0)
			return res;
		if (t.tag == 0xB0 && !point) {
			point = t.val;
			point_len = t.len;
		} else if (t.tag == 0xF0 && !have_ref && t.len == 1) {
			have_ref = true;
			ref = t.val[0];
		} else {
			return -EBADMSG;
		}
		val += t.total;
		vlen -= t.total;
	}
	if (!point)
		return -EBADMSG;
	curve = gp_curve_of_key(sk_ecasd);
	if (curve < 0)
		return curve;
	if (have_ref && ref != curve)
		return -ENOTSUP;	/* SGP.02: the ephemeral key is on the ECASD's curve */
	res = gp_ec_pubkey_from_point(curve, point, point_len, &epk);
	if (res < 0)
		return res;
	if ((crt->scenario_param & GP_ECKA_SCEN_DR) && !dr) {
		EVP_PKEY_free(epk);
		return -EINVAL;
	}
	need = ((crt->scenario_param & GP_ECKA_SCEN_DR) ? 2 + GP_ECKA_DR_LEN : 0) + 2 + GP_ECKA_RECEIPT_LEN;
	if (out_size < need) {
		EVP_PKEY_free(epk);
		return -EMSGSIZE;
	}
	shs_len = gp_ecka_shared_secret(sk_ecasd, epk, shs, sizeof(shs));
	EVP_PKEY_free(epk);
	if (shs_len < 0)
		return shs_len;
	if (!(crt->scenario_param & GP_ECKA_SCEN_DR))
		dr = NULL;
	res = gp_ecka_derive(crt, shs, shs_len, dr, dr ? GP_ECKA_DR_LEN : 0, sin, sin_len, keys);
	OPENSSL_cleanse(shs, sizeof(shs));
	if (res < 0)
		return res;
	/* receipt over the A6 TLV exactly as received (inside DGI 3A02) */
	res = gp_ecka_receipt(keys, a6, a6_len, dr, dr ? GP_ECKA_DR_LEN : 0, rcpt);
	if (res < 0)
		return res;
	n = 0;
	if (dr) {
		out[n++] = 0x85;
		out[n++] = GP_ECKA_DR_LEN;
		memcpy(out + n, dr, GP_ECKA_DR_LEN);
		n += GP_ECKA_DR_LEN;
	}
	out[n++] = 0x86;
	out[n++] = GP_ECKA_RECEIPT_LEN;
	memcpy(out + n, rcpt, GP_ECKA_RECEIPT_LEN);
	n += GP_ECKA_RECEIPT_LEN;
	return (int)n;
}
