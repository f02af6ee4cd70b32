/*! \file scp03.c
 * GlobalPlatform SCP03 (GP Card Spec Amendment D): KDF, session keys, cryptograms, secure messaging
 * for both the host and the card side.  See scp03.h for the API and the error convention.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <sgp02/gp/scp03.h>

#include "scp03_int.h"

#define CLA_SM		0x04	/* GP Card Spec §11.1.4: b3 = GP proprietary secure messaging */
#define INS_INIT_UPDATE	0x50
#define INS_EXT_AUTH	0x82

/* ------------------------------------------------------------------------------------------------ */
/* OpenSSL algorithm objects, fetched once (fetching per call costs more than a CMAC of a short APDU). */

static pthread_once_t g_fetch_once = PTHREAD_ONCE_INIT;
static EVP_MAC *g_cmac;
static EVP_CIPHER *g_cbc[3];
/* CMAC contexts with the cipher already set (no key), one per AES key length; each call duplicates one,
 * which skips the cipher lookup that EVP_MAC_init() with a cipher name would do every time. */
static EVP_MAC_CTX *g_cmac_tmpl[3];

static void fetch_algs(void)
{
	static const char *names[3] = { "AES-128-CBC", "AES-192-CBC", "AES-256-CBC" };
	static const uint8_t zero_key[32];
	int i;

	g_cmac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	for (i = 0; i < 3; i++) {
		OSSL_PARAM params[2];

		g_cbc[i] = EVP_CIPHER_fetch(NULL, names[i], NULL);
		if (!g_cmac)
			continue;
		g_cmac_tmpl[i] = EVP_MAC_CTX_new(g_cmac);
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)names[i], 0);
		params[1] = OSSL_PARAM_construct_end();
		/* OpenSSL cannot duplicate a CMAC context that has no key yet: key it with zeros */
		if (g_cmac_tmpl[i] && EVP_MAC_init(g_cmac_tmpl[i], zero_key, 16 + 8 * i, params) != 1) {
			EVP_MAC_CTX_free(g_cmac_tmpl[i]);
			g_cmac_tmpl[i] = NULL;
		}
	}
}

static EVP_CIPHER *cbc_cipher(size_t key_len)
{
	pthread_once(&g_fetch_once, fetch_algs);
	switch (key_len) {
	case 16:
		return g_cbc[0];
	case 24:
		return g_cbc[1];
	case 32:
		return g_cbc[2];
	default:
		return NULL;
	}
}

int gp_scp03_cmac2(const uint8_t *key, size_t key_len, const uint8_t *a, size_t alen,
		   const uint8_t *b, size_t blen, uint8_t out[16])
{
	EVP_MAC_CTX *tmpl, *mctx;
	size_t outl = 0;
	int rc = -EIO;

	if (!key || !out || (alen && !a) || (blen && !b))
		return -EINVAL;
	pthread_once(&g_fetch_once, fetch_algs);
	switch (key_len) {
	case 16:
		tmpl = g_cmac_tmpl[0];
		break;
	case 24:
		tmpl = g_cmac_tmpl[1];
		break;
	case 32:
		tmpl = g_cmac_tmpl[2];
		break;
	default:
		return -EINVAL;
	}
	if (!tmpl)
		return -EIO;
	mctx = EVP_MAC_CTX_dup(tmpl);
	if (!mctx)
		return -ENOMEM;
	if (EVP_MAC_init(mctx, key, key_len, NULL) != 1)
		goto out;
	if (alen && EVP_MAC_update(mctx, a, alen) != 1)
		goto out;
	if (blen && EVP_MAC_update(mctx, b, blen) != 1)
		goto out;
	if (EVP_MAC_final(mctx, out, &outl, 16) != 1 || outl != 16)
		goto out;
	rc = 0;
out:
	EVP_MAC_CTX_free(mctx);
	return rc;
}

int gp_scp03_cmac(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t out[16])
{
	return gp_scp03_cmac2(key, key_len, data, len, NULL, 0, out);
}

int gp_scp03_aes_cbc(bool encrypt, const uint8_t *key, size_t key_len, const uint8_t *iv,
		     const uint8_t *in, size_t len, uint8_t *out)
{
	static const uint8_t zero_iv[16];
	EVP_CIPHER *cipher = cbc_cipher(key_len);
	EVP_CIPHER_CTX *cctx;
	int outl = 0, finl = 0, rc = -EIO;

	if (!key || !cipher || (len % 16) || (len && (!in || !out)) || len > INT32_MAX)
		return -EINVAL;
	if (len == 0)
		return 0;
	cctx = EVP_CIPHER_CTX_new();
	if (!cctx)
		return -ENOMEM;
	if (EVP_CipherInit_ex2(cctx, cipher, key, iv ? iv : zero_iv, encrypt ? 1 : 0, NULL) != 1)
		goto out;
	EVP_CIPHER_CTX_set_padding(cctx, 0);
	if (EVP_CipherUpdate(cctx, out, &outl, in, (int)len) != 1)
		goto out;
	if (EVP_CipherFinal_ex(cctx, out + outl, &finl) != 1 || (size_t)(outl + finl) != len)
		goto out;
	rc = 0;
out:
	EVP_CIPHER_CTX_free(cctx);
	return rc;
}

int gp_scp03_kdf(const uint8_t *key, size_t key_len, uint8_t constant, const uint8_t *context, size_t context_len,
		 unsigned int out_bits, uint8_t *out)
{
	/* GP Amd D §4.1.5: the fixed input is a 12-byte label (11 x '00' || constant), a '00' separator,
	 * L as 2 bytes, the 1-byte counter i, then the context.  This order differs from the generic
	 * SP 800-108 layout (counter first), so it is built by hand. */
	uint8_t fixed[16];
	unsigned int out_len = out_bits / 8, done = 0;
	uint8_t i = 1;
	int rc;

	if (!out || out_bits == 0 || (out_bits % 8) || out_bits > 0xffff || (context_len && !context))
		return -EINVAL;
	memset(fixed, 0, 11);
	fixed[11] = constant;
	fixed[12] = 0x00;
	fixed[13] = out_bits >> 8;
	fixed[14] = out_bits & 0xff;
	while (done < out_len) {
		uint8_t block[16];
		unsigned int n = out_len - done < 16 ? out_len - done : 16;

		if (i == 0)	/* 8-bit counter overflowed: more than 255 blocks requested */
			return -EINVAL;
		fixed[15] = i++;
		rc = gp_scp03_cmac2(key, key_len, fixed, sizeof(fixed), context, context_len, block);
		if (rc < 0)
			return rc;
		memcpy(out + done, block, n);
		OPENSSL_cleanse(block, sizeof(block));
		done += n;
	}
	return 0;
}

int gp_scp03_kcv(const uint8_t *key, size_t key_len, uint8_t kcv[3])
{
	uint8_t block[16];
	int rc;

	if (!kcv)
		return -EINVAL;
	memset(block, 0x01, sizeof(block));
	/* one block of CBC with a zero IV is ECB */
	rc = gp_scp03_aes_cbc(true, key, key_len, NULL, block, sizeof(block), block);
	if (rc < 0)
		return rc;
	memcpy(kcv, block, 3);
	return 0;
}

size_t gp_scp03_pad80(uint8_t *buf, size_t len)
{
	size_t padded = (len / 16 + 1) * 16;

	buf[len] = 0x80;
	memset(buf + len + 1, 0, padded - len - 1);
	return padded;
}

int gp_scp03_unpad80(const uint8_t *buf, size_t len)
{
	size_t i = len;

	if (len == 0 || len % 16 || len > INT32_MAX)
		return -EBADMSG;
	/* the padding is at most one block: '80' followed by 0..15 zero bytes */
	while (i > 0 && len - i < 16 && buf[i - 1] == 0x00)
		i--;
	if (i == 0 || buf[i - 1] != 0x80 || len - i >= 16)
		return -EBADMSG;
	return (int)(i - 1);
}

void gp_scp03_session_clear(struct gp_scp03_session *s)
{
	if (s)
		OPENSSL_cleanse(s, sizeof(*s));
}

static bool key_len_ok(size_t key_len)
{
	return key_len == 16 || key_len == 24 || key_len == 32;
}

int gp_scp03_derive_session(struct gp_scp03_session *s, const struct gp_scp03_keys *keys,
			    const uint8_t host_challenge[8], const uint8_t card_challenge[8])
{
	uint8_t context[16];
	unsigned int bits;
	int rc;

	if (!s || !keys || !host_challenge || !card_challenge || !key_len_ok(keys->key_len))
		return -EINVAL;
	bits = keys->key_len * 8;
	/* GP Amd D §6.2.1: context = host challenge || card challenge */
	memcpy(context, host_challenge, 8);
	memcpy(context + 8, card_challenge, 8);
	s->key_len = keys->key_len;
	s->kvn = keys->kvn;
	memcpy(s->host_challenge, host_challenge, 8);
	memcpy(s->card_challenge, card_challenge, 8);
	memcpy(s->dek, keys->dek, keys->key_len);
	rc = gp_scp03_kdf(keys->enc, keys->key_len, GP_SCP03_DC_S_ENC, context, 16, bits, s->s_enc);
	if (rc == 0)
		rc = gp_scp03_kdf(keys->mac, keys->key_len, GP_SCP03_DC_S_MAC, context, 16, bits, s->s_mac);
	if (rc == 0)
		rc = gp_scp03_kdf(keys->mac, keys->key_len, GP_SCP03_DC_S_RMAC, context, 16, bits, s->s_rmac);
	/* §6.2.2.2/§6.2.2.3: cryptograms are 64-bit KDF outputs under S-MAC */
	if (rc == 0)
		rc = gp_scp03_kdf(s->s_mac, s->key_len, GP_SCP03_DC_CARD_CRYPTOGRAM, context, 16, 64,
				  s->card_cryptogram);
	if (rc == 0)
		rc = gp_scp03_kdf(s->s_mac, s->key_len, GP_SCP03_DC_HOST_CRYPTOGRAM, context, 16, 64,
				  s->host_cryptogram);
	if (rc < 0) {
		gp_scp03_session_clear(s);
		return rc;
	}
	memset(s->mac_chain, 0, sizeof(s->mac_chain));
	s->enc_counter = 0;
	s->sec_level = 0;
	s->keys_derived = true;
	s->authenticated = false;
	return 0;
}

int gp_scp03_card_challenge(const struct gp_scp03_keys *keys, const uint8_t seq_counter[3],
			    const uint8_t *aid, size_t aid_len, uint8_t out[8])
{
	uint8_t context[3 + 16];

	if (!keys || !seq_counter || !out || aid_len > 16 || (aid_len && !aid))
		return -EINVAL;
	memcpy(context, seq_counter, 3);
	if (aid_len)
		memcpy(context + 3, aid, aid_len);
	return gp_scp03_kdf(keys->enc, keys->key_len, GP_SCP03_DC_CARD_CHALLENGE, context, 3 + aid_len, 64, out);
}

int gp_scp03_dek_encrypt(const struct gp_scp03_session *s, const uint8_t *in, size_t len, uint8_t *out)
{
	if (!s || !s->keys_derived)
		return -EINVAL;
	return gp_scp03_aes_cbc(true, s->dek, s->key_len, NULL, in, len, out);
}

/* GP Amd D §6.2.6/§6.2.7: ICV = AES(S-ENC, counter as a 16-byte big-endian block); for responses the
 * first byte of that block is replaced by '80'. */
int gp_scp03_icv(const struct gp_scp03_session *s, bool response, uint8_t icv[16])
{
	uint8_t block[16];
	uint64_t c = s->enc_counter;
	int i;

	if (!s || !icv)
		return -EINVAL;
	memset(block, 0, sizeof(block));
	for (i = 15; i >= 8; i--) {
		block[i] = c & 0xff;
		c >>= 8;
	}
	if (response)
		block[0] = 0x80;
	return gp_scp03_aes_cbc(true, s->s_enc, s->key_len, NULL, block, 16, icv);
}

static bool sw_is_success(uint16_t sw)
{
	/* GP Amd D §6.2.5: '9000' and warnings '62xx'/'63xx' are not errors */
	return sw == 0x9000 || (sw >> 8) == 0x62 || (sw >> 8) == 0x63;
}

/* Decomposed short command APDU */
struct capdu {
	uint8_t hdr[4];
	const uint8_t *data;
	size_t lc;
	bool has_le;
	uint8_t le;
};

/* The command header as the C-MAC covers it (§6.2.4): CLA with b3 set and the logical channel bits cleared,
 * INS P1 P2, and Lc counting the MAC */
static void mac_hdr(uint8_t out[5], const struct capdu *c, uint8_t lc)
{
	out[0] = (c->hdr[0] & 0xF0) | CLA_SM;
	memcpy(out + 1, c->hdr + 1, 3);
	out[4] = lc;
}

static int parse_capdu(const uint8_t *apdu, size_t len, struct capdu *c)
{
	if (!apdu || len < 4)
		return -EBADMSG;
	memcpy(c->hdr, apdu, 4);
	c->data = NULL;
	c->lc = 0;
	c->has_le = false;
	c->le = 0;
	if (len == 4)
		return 0;			/* case 1 */
	if (len == 5) {				/* case 2 */
		c->has_le = true;
		c->le = apdu[4];
		return 0;
	}
	c->lc = apdu[4];
	if (c->lc == 0)				/* extended length: not supported */
		return -EBADMSG;
	c->data = apdu + 5;
	if (len == 5 + c->lc)
		return 0;			/* case 3 */
	if (len == 6 + c->lc) {			/* case 4 */
		c->has_le = true;
		c->le = apdu[5 + c->lc];
		return 0;
	}
	return -EBADMSG;
}

bool gp_scp03_sec_level_ok(uint8_t sl)
{
	/* GP Amd D §5.1: C-MAC is always on; C-DEC and R-MAC optional; R-ENC needs C-DEC and R-MAC */
	if (sl & ~(GP_SCP03_SL_CMAC | GP_SCP03_SL_CDEC | GP_SCP03_SL_RMAC | GP_SCP03_SL_RENC))
		return false;
	if (!(sl & GP_SCP03_SL_CMAC))
		return false;
	if ((sl & GP_SCP03_SL_RENC) && (!(sl & GP_SCP03_SL_RMAC) || !(sl & GP_SCP03_SL_CDEC)))
		return false;
	return true;
}

/* ------------------------------------------------------------------------------------------------ */
/* Host side */

int gp_scp03_init_update_start(struct gp_scp03_session *s, uint8_t kvn, const uint8_t host_challenge[8],
				const uint8_t *out, size_t out_size, size_t need)
{
	if (!s || !host_challenge || !out)
		return -EINVAL;
	if (out_size < need)
		return -EMSGSIZE;
	gp_scp03_session_clear(s);
	s->kvn = kvn;
	memcpy(s->host_challenge, host_challenge, 8);
	return 0;
}

int gp_scp03_init_update_cmd(struct gp_scp03_session *s, uint8_t kvn, const uint8_t host_challenge[8],
			     uint8_t *out, size_t out_size)
{
	int rc = gp_scp03_init_update_start(s, kvn, host_challenge, out, out_size, 14);

	if (rc < 0)
		return rc;
	out[0] = 0x80;
	out[1] = INS_INIT_UPDATE;
	out[2] = kvn;
	out[3] = 0x00;	/* key identifier: SCP03 uses '00' */
	out[4] = 8;
	memcpy(out + 5, host_challenge, 8);
	out[13] = 0x00;
	return 14;
}

int gp_scp03_parse_init_update_resp(struct gp_scp03_session *s, const struct gp_scp03_keys *keys,
				    const uint8_t *resp, size_t len)
{
	uint8_t host_challenge[8];
	int rc;

	if (!s || !keys || (len && !resp))
		return -EINVAL;
	/* GP Amd D §7.1.1.6 Table 7-3; S16 mode (45/48 bytes) is not supported */
	if (len == 45 || len == 48)
		return -ENOTSUP;
	if (len != 29 && len != 32)
		return -EBADMSG;
	if (resp[11] != 0x03)
		return -ENOTSUP;
	if (resp[10] != keys->kvn || (s->kvn && s->kvn != resp[10]))
		return -EBADMSG;
	memcpy(host_challenge, s->host_challenge, 8);
	rc = gp_scp03_derive_session(s, keys, host_challenge, resp + 13);
	if (rc < 0)
		return rc;
	s->i_param = resp[12];
	if (len == 32)
		memcpy(s->seq_counter, resp + 29, 3);
	if (CRYPTO_memcmp(s->card_cryptogram, resp + 21, 8) != 0) {
		gp_scp03_session_clear(s);
		return -EKEYREJECTED;
	}
	return 0;
}

int gp_scp03_ext_auth_ready(const struct gp_scp03_session *s, uint8_t sec_level, const uint8_t *out,
			    size_t out_size, size_t need)
{
	if (!s || !out || !s->keys_derived || s->authenticated)
		return -EINVAL;
	if (!gp_scp03_sec_level_ok(sec_level))
		return -ENOTSUP;
	if (out_size < need)
		return -EMSGSIZE;
	return 0;
}

void gp_scp03_session_open(struct gp_scp03_session *s, uint8_t sec_level, const uint8_t mac[16])
{
	memcpy(s->mac_chain, mac, 16);
	s->sec_level = sec_level;
	s->enc_counter = 0;
	s->authenticated = true;
}

int gp_scp03_ext_auth_cmd(struct gp_scp03_session *s, uint8_t sec_level, uint8_t *out, size_t out_size)
{
	uint8_t mac[16];
	int rc;

	rc = gp_scp03_ext_auth_ready(s, sec_level, out, out_size, 21);
	if (rc < 0)
		return rc;
	out[0] = 0x80 | CLA_SM;
	out[1] = INS_EXT_AUTH;
	out[2] = sec_level;
	out[3] = 0x00;
	out[4] = 16;
	memcpy(out + 5, s->host_cryptogram, 8);
	/* GP Amd D §6.2.3: the first chaining value is 16 x '00'; EXTERNAL AUTHENTICATE is MACed, never
	 * encrypted */
	memset(s->mac_chain, 0, 16);
	rc = gp_scp03_cmac2(s->s_mac, s->key_len, s->mac_chain, 16, out, 13, mac);
	if (rc < 0)
		return rc;
	memcpy(out + 13, mac, 8);
	gp_scp03_session_open(s, sec_level, mac);
	return 21;
}

int gp_scp03_wrap_cmd(struct gp_scp03_session *s, const uint8_t *apdu, size_t len, uint8_t *out, size_t out_size)
{
	struct capdu c;
	uint8_t mac[16];
	size_t dlen, olen;
	int rc;

	if (!s || !out || !s->authenticated)
		return -EINVAL;
	rc = parse_capdu(apdu, len, &c);
	if (rc < 0)
		return rc;
	dlen = c.lc;
	if ((s->sec_level & GP_SCP03_SL_CDEC) && c.lc)
		dlen = (c.lc / 16 + 1) * 16;
	if (dlen + GP_SCP03_MAC_LEN > 255)
		return -EMSGSIZE;
	olen = 5 + dlen + GP_SCP03_MAC_LEN + (c.has_le ? 1 : 0);
	if (out_size < olen)
		return -EMSGSIZE;
	if (s->enc_counter == UINT64_MAX)
		return -ERANGE;
	/* §6.2.6: the counter advances for every command, also when there is no data to encrypt */
	s->enc_counter++;
	/* apdu and out may alias: move the data first */
	if (c.lc)
		memmove(out + 5, c.data, c.lc);
	if ((s->sec_level & GP_SCP03_SL_CDEC) && c.lc) {
		uint8_t icv[16];

		gp_scp03_pad80(out + 5, c.lc);
		rc = gp_scp03_icv(s, false, icv);
		if (rc == 0)
			rc = gp_scp03_aes_cbc(true, s->s_enc, s->key_len, icv, out + 5, dlen, out + 5);
		if (rc < 0)
			return rc;
	}
	/* §6.2.4: MAC over chaining value || CLA' INS P1 P2 Lc' || data', with CLA' = b3 set and the logical
	 * channel bits cleared; Lc' counts the MAC */
	mac_hdr(out, &c, dlen + GP_SCP03_MAC_LEN);
	rc = gp_scp03_cmac2(s->s_mac, s->key_len, s->mac_chain, 16, out, 5 + dlen, mac);
	if (rc < 0)
		return rc;
	memcpy(s->mac_chain, mac, 16);
	memcpy(out + 5 + dlen, mac, GP_SCP03_MAC_LEN);
	/* the transmitted CLA keeps its logical channel */
	out[0] = c.hdr[0] | CLA_SM;
	/* the response grows by the R-MAC/padding: ask for everything ('00'), as Le is only a maximum */
	if (c.has_le)
		out[olen - 1] = 0x00;
	return (int)olen;
}

/* A response passed on as it is: len octets of data to out (they may overlap). Returns len. */
static int copy_out(uint8_t *out, size_t out_size, const uint8_t *data, size_t len)
{
	if (out_size < len)
		return -EMSGSIZE;
	if (len)
		memmove(out, data, len);
	return (int)len;
}

/* §6.2.5: R-MAC over the chaining value (= the C-MAC of the command) || response data || SW1 SW2. buf holds the
 * dlen octets of response data and has room for the SW after them. */
static int resp_mac(const struct gp_scp03_session *s, uint8_t *buf, size_t dlen, uint16_t sw, uint8_t mac[16])
{
	buf[dlen] = sw >> 8;
	buf[dlen + 1] = sw & 0xff;
	return gp_scp03_cmac2(s->s_rmac, s->key_len, s->mac_chain, 16, buf, dlen + 2, mac);
}

int gp_scp03_unwrap_resp(struct gp_scp03_session *s, uint16_t sw, const uint8_t *data, size_t len,
			 uint8_t *out, size_t out_size)
{
	uint8_t mac[16];
	size_t dlen;
	int rc;

	if (!s || !s->authenticated || (len && (!data || !out)))
		return -EINVAL;
	if (!(s->sec_level & GP_SCP03_SL_RMAC) || !sw_is_success(sw))
		return copy_out(out, out_size, data, len);	/* no protection on this response */
	if (len < GP_SCP03_MAC_LEN)
		return -EBADMSG;
	dlen = len - GP_SCP03_MAC_LEN;
	{
		uint8_t buf[GP_SCP03_MAX_APDU + 2];

		if (dlen > GP_SCP03_MAX_APDU)
			return -EMSGSIZE;
		if (dlen)
			memcpy(buf, data, dlen);
		rc = resp_mac(s, buf, dlen, sw, mac);
		if (rc < 0)
			return rc;
	}
	if (CRYPTO_memcmp(mac, data + dlen, GP_SCP03_MAC_LEN) != 0)
		return -EKEYREJECTED;
	if ((s->sec_level & GP_SCP03_SL_RENC) && dlen) {
		uint8_t icv[16], plain[GP_SCP03_MAX_APDU];

		if (dlen % 16)
			return -EBADMSG;
		rc = gp_scp03_icv(s, true, icv);
		if (rc == 0)
			rc = gp_scp03_aes_cbc(false, s->s_enc, s->key_len, icv, data, dlen, plain);
		if (rc < 0)
			return rc;
		rc = gp_scp03_unpad80(plain, dlen);
		if (rc < 0)
			return rc;
		if (out_size < (size_t)rc)
			return -EMSGSIZE;
		memcpy(out, plain, rc);
		OPENSSL_cleanse(plain, sizeof(plain));
		return rc;
	}
	return copy_out(out, out_size, data, dlen);
}

/* ------------------------------------------------------------------------------------------------ */
/* Card side */

int gp_scp03_card_init_update(struct gp_scp03_session *s, const struct gp_scp03_keys *keys,
			      const uint8_t *apdu, size_t len, const uint8_t div_data[10],
			      const uint8_t card_challenge[8], const uint8_t seq_counter[3],
			      uint8_t *out, size_t out_size)
{
	struct capdu c;
	int rc;

	if (!s || !keys || !card_challenge || !seq_counter || !out)
		return -EINVAL;
	rc = parse_capdu(apdu, len, &c);
	if (rc < 0)
		return rc;
	if ((c.hdr[0] & 0xF0 & ~CLA_SM) != 0x80 || c.hdr[1] != INS_INIT_UPDATE || c.lc != 8)
		return -EBADMSG;
	/* P1 = KVN ('00' = first available key set) */
	if (c.hdr[2] != 0x00 && c.hdr[2] != keys->kvn)
		return -EINVAL;
	if (out_size < GP_SCP03_IU_RESP_LEN)
		return -EMSGSIZE;
	rc = gp_scp03_derive_session(s, keys, c.data, card_challenge);
	if (rc < 0)
		return rc;
	s->i_param = 0x70;
	memcpy(s->seq_counter, seq_counter, 3);
	if (div_data)
		memcpy(out, div_data, 10);
	else
		memset(out, 0, 10);
	out[10] = keys->kvn;
	out[11] = 0x03;
	out[12] = 0x70;	/* SGP.02: pseudo-random card challenge, R-MAC/R-ENC supported */
	memcpy(out + 13, card_challenge, 8);
	memcpy(out + 21, s->card_cryptogram, 8);
	memcpy(out + 29, seq_counter, 3);
	return GP_SCP03_IU_RESP_LEN;
}

int gp_scp03_card_ext_auth(struct gp_scp03_session *s, const uint8_t *apdu, size_t len)
{
	struct capdu c;
	uint8_t mac[16], hdr[5];
	int rc;

	if (!s || !s->keys_derived || s->authenticated)
		return -EINVAL;
	rc = parse_capdu(apdu, len, &c);
	if (rc < 0)
		return rc;
	if ((c.hdr[0] & ~0x03) != (0x80 | CLA_SM) || c.hdr[1] != INS_EXT_AUTH || c.hdr[3] != 0x00 || c.lc != 16)
		return -EBADMSG;
	if (!gp_scp03_sec_level_ok(c.hdr[2]))
		return -ENOTSUP;
	if (CRYPTO_memcmp(c.data, s->host_cryptogram, 8) != 0)
		return -EKEYREJECTED;
	mac_hdr(hdr, &c, 16);
	memset(s->mac_chain, 0, 16);
	{
		uint8_t buf[13];

		memcpy(buf, hdr, 5);
		memcpy(buf + 5, c.data, 8);
		rc = gp_scp03_cmac2(s->s_mac, s->key_len, s->mac_chain, 16, buf, sizeof(buf), mac);
	}
	if (rc < 0)
		return rc;
	if (CRYPTO_memcmp(mac, c.data + 8, 8) != 0)
		return -EKEYREJECTED;
	gp_scp03_session_open(s, c.hdr[2], mac);
	return 0;
}

int gp_scp03_card_unwrap_cmd(struct gp_scp03_session *s, const uint8_t *apdu, size_t len,
			     uint8_t *out, size_t out_size)
{
	struct capdu c;
	uint8_t mac[16], buf[5 + 255];
	size_t dlen, plen, olen;
	int rc;

	if (!s || !out || !s->authenticated)
		return -EINVAL;
	rc = parse_capdu(apdu, len, &c);
	if (rc < 0)
		return rc;
	if (!(c.hdr[0] & CLA_SM) || c.lc < GP_SCP03_MAC_LEN)
		return -EBADMSG;
	dlen = c.lc - GP_SCP03_MAC_LEN;
	if ((s->sec_level & GP_SCP03_SL_CDEC) && (dlen % 16))
		return -EBADMSG;
	if (s->enc_counter == UINT64_MAX)
		return -ERANGE;
	mac_hdr(buf, &c, c.lc);
	memcpy(buf + 5, c.data, dlen);
	rc = gp_scp03_cmac2(s->s_mac, s->key_len, s->mac_chain, 16, buf, 5 + dlen, mac);
	if (rc < 0)
		return rc;
	if (CRYPTO_memcmp(mac, c.data + dlen, GP_SCP03_MAC_LEN) != 0)
		return -EKEYREJECTED;
	plen = dlen;
	if ((s->sec_level & GP_SCP03_SL_CDEC) && dlen) {
		uint8_t icv[16];

		s->enc_counter++;
		rc = gp_scp03_icv(s, false, icv);
		if (rc == 0)
			rc = gp_scp03_aes_cbc(false, s->s_enc, s->key_len, icv, buf + 5, dlen, buf + 5);
		if (rc < 0) {
			s->enc_counter--;
			return rc;
		}
		rc = gp_scp03_unpad80(buf + 5, dlen);
		if (rc < 0) {
			s->enc_counter--;
			return rc;
		}
		plen = rc;
	} else {
		s->enc_counter++;
	}
	olen = 4 + (plen ? 1 + plen : 0) + (c.has_le ? 1 : 0);
	if (out_size < olen) {
		s->enc_counter--;
		return -EMSGSIZE;
	}
	memcpy(s->mac_chain, mac, 16);
	out[0] = c.hdr[0] & ~CLA_SM;
	memcpy(out + 1, c.hdr + 1, 3);
	if (plen) {
		out[4] = plen;
		memcpy(out + 5, buf + 5, plen);
	}
	if (c.has_le)
		out[olen - 1] = c.le;
	OPENSSL_cleanse(buf, sizeof(buf));
	return (int)olen;
}

int gp_scp03_card_wrap_resp(struct gp_scp03_session *s, const uint8_t *data, size_t len, uint16_t sw,
			    uint8_t *out, size_t out_size)
{
	uint8_t mac[16], buf[GP_SCP03_MAX_APDU + 16 + 2];
	size_t dlen = len;
	int rc;

	if (!s || !out || !s->authenticated || (len && !data))
		return -EINVAL;
	if (!(s->sec_level & GP_SCP03_SL_RMAC) || !sw_is_success(sw))
		return copy_out(out, out_size, data, len);
	if (len > 256)
		return -EMSGSIZE;
	if (len)
		memcpy(buf, data, len);
	if ((s->sec_level & GP_SCP03_SL_RENC) && len) {
		uint8_t icv[16];

		dlen = gp_scp03_pad80(buf, len);
		rc = gp_scp03_icv(s, true, icv);
		if (rc == 0)
			rc = gp_scp03_aes_cbc(true, s->s_enc, s->key_len, icv, buf, dlen, buf);
		if (rc < 0)
			return rc;
	}
	if (out_size < dlen + GP_SCP03_MAC_LEN)
		return -EMSGSIZE;
	rc = resp_mac(s, buf, dlen, sw, mac);
	if (rc < 0)
		return rc;
	memcpy(out, buf, dlen);
	memcpy(out + dlen, mac, GP_SCP03_MAC_LEN);
	return (int)(dlen + GP_SCP03_MAC_LEN);
}
