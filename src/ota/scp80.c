/*! \file scp80.c
 * SCP80 secured packets for SMS-PP: ETSI TS 102 225 (generic structure, algorithms, counters) and
 * 3GPP TS 31.115 (SMS dialect: UDH `70 00` / `71 00`, response packet layout).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <osmocom/core/bit16gen.h>
#include <osmocom/core/utils.h>

#include <sgp02/ota/scp80.h>

/* Command packet offsets: CPL(2) CHL(1) SPI(2) KIc(1) KID(1) TAR(3) CNTR(5) PCNTR(1) */
#define CMD_OFF_CHL	2
#define CMD_OFF_SPI	3
#define CMD_OFF_KIC	5
#define CMD_OFF_KID	6
#define CMD_OFF_TAR	7
#define CMD_OFF_CNTR	10	/* start of the ciphered part */
#define CMD_OFF_PCNTR	15
#define CMD_OFF_SIG	16
/* TS 102 225 §5.1.1: CHL counts SPI..PCNTR (13 octets) plus the RC/CC/DS */
#define CMD_CHL_BASE	13

/* Response packet offsets, relative to RPL: RPL(2) RHL(1) TAR(3) CNTR(5) PCNTR(1) status(1) */
#define POR_OFF_RHL	2
#define POR_OFF_TAR	3
#define POR_OFF_CNTR	6	/* start of the ciphered part */
#define POR_OFF_PCNTR	11
#define POR_OFF_STATUS	12
#define POR_OFF_SIG	13
/* TS 31.115 §6: RHL counts TAR..status (10 octets) plus the RC/CC/DS */
#define POR_RHL_BASE	10

/* SMS user data header of a response packet: UDHL=2, IEI 71 (Response Packet Identifier), length 0 */
static const uint8_t por_udh[3] = { 0x02, 0x71, 0x00 };

const struct value_string ota_scp80_por_status_names[] = {
	{ OTA_SCP80_POR_OK,				"por_ok" },
	{ OTA_SCP80_POR_RC_CC_DS_FAILED,		"rc_cc_ds_failed" },
	{ OTA_SCP80_POR_CNTR_LOW,			"cntr_low" },
	{ OTA_SCP80_POR_CNTR_HIGH,			"cntr_high" },
	{ OTA_SCP80_POR_CNTR_BLOCKED,			"cntr_blocked" },
	{ OTA_SCP80_POR_CIPHERING_ERROR,		"ciphering_error" },
	{ OTA_SCP80_POR_UNIDENTIFIED_SECURITY_ERROR,	"unidentified_security_error" },
	{ OTA_SCP80_POR_INSUFFICIENT_MEMORY,		"insufficient_memory" },
	{ OTA_SCP80_POR_MORE_TIME,			"more_time_needed" },
	{ OTA_SCP80_POR_TAR_UNKNOWN,			"tar_unknown" },
	{ OTA_SCP80_POR_INSUFFICIENT_SECURITY_LEVEL,	"insufficient_security_level" },
	{ OTA_SCP80_POR_RESP_SMS_SUBMIT,		"actual_response_sms_submit" },
	{ OTA_SCP80_POR_RESP_USSD,			"actual_response_ussd" },
	{ 0, NULL }
};

const char *ota_scp80_por_status_name(uint8_t status)
{
	return get_value_string(ota_scp80_por_status_names, status);
}

void ota_scp80_spi_decode(const uint8_t spi[2], struct ota_scp80_spi *out)
{
	out->cntr = (spi[0] >> 3) & 3;
	out->ciphered = !!(spi[0] & 0x04);
	out->integ = spi[0] & 3;
	out->por_in_submit = !!(spi[1] & 0x20);
	out->por_ciphered = !!(spi[1] & 0x10);
	out->por_integ = (spi[1] >> 2) & 3;
	out->por = spi[1] & 3;
}

void ota_scp80_spi_encode(const struct ota_scp80_spi *spi, uint8_t out[2])
{
	out[0] = ((spi->cntr & 3) << 3) | (spi->ciphered ? 0x04 : 0) | (spi->integ & 3);
	out[1] = (spi->por_in_submit ? 0x20 : 0) | (spi->por_ciphered ? 0x10 : 0) | ((spi->por_integ & 3) << 2) |
		 (spi->por & 3);
}

bool ota_scp80_spi_meets_sgp02(const uint8_t spi[2])
{
	struct ota_scp80_spi s;

	ota_scp80_spi_decode(spi, &s);
	return s.integ == OTA_SCP80_INTEG_CC && s.ciphered &&
	       (s.cntr == OTA_SCP80_CNTR_HIGHER || s.cntr == OTA_SCP80_CNTR_PLUS_ONE);
}

uint64_t ota_scp80_cntr_get(const uint8_t cntr[5])
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 5; i++)
		v = (v << 8) | cntr[i];
	return v;
}

int ota_scp80_cntr_next(uint64_t *stored, uint8_t cntr[5])
{
	if (!stored || !cntr)
		return -EINVAL;
	/* TS 102 225 §5.1.1: the counter never wraps; at its maximum the key set is exhausted */
	if (*stored >= OTA_SCP80_CNTR_MAX)
		return -ERANGE;
	(*stored)++;
	ota_scp80_cntr_put(cntr, *stored);
	return 0;
}

void ota_scp80_cntr_put(uint8_t cntr[5], uint64_t val)
{
	int i;

	for (i = 4; i >= 0; i--) {
		cntr[i] = val & 0xff;
		val >>= 8;
	}
}

/*
 * Algorithms (TS 102 225 §5.1.2 / §5.1.3)
 */

struct cipher_sel {
	const EVP_CIPHER *cipher;
	uint8_t key[OTA_SCP80_MAX_KEY_LEN];
	unsigned int block;
};

/* Pick the block cipher named by the low nibble of a KIc or KID (CC) byte. Single DES is run as 3DES with
 * K1 = K2 = K3, which gives the same result and needs no legacy provider. */
static int cipher_select(uint8_t algo_byte, const uint8_t *key, size_t key_len, bool allow_des,
			 struct cipher_sel *sel)
{
	switch (algo_byte & 0x0f) {
	case 0x1:	/* DES, CBC mode */
		if (!allow_des)
			return -ENOTSUP;
		if (key_len != 8)
			return -EINVAL;
		memcpy(sel->key, key, 8);
		memcpy(sel->key + 8, key, 8);
		memcpy(sel->key + 16, key, 8);
		sel->cipher = EVP_des_ede3_cbc();
		sel->block = 8;
		return 0;
	case 0x5:	/* triple DES, outer CBC, 2 keys */
		if (key_len != 16)
			return -EINVAL;
		sel->cipher = EVP_des_ede_cbc();
		sel->block = 8;
		break;
	case 0x9:	/* triple DES, outer CBC, 3 keys */
		if (key_len != 24)
			return -EINVAL;
		sel->cipher = EVP_des_ede3_cbc();
		sel->block = 8;
		break;
	case 0x2:	/* AES (CBC for KIc, CMAC for KID); key length gives the variant */
		if (key_len == 16)
			sel->cipher = EVP_aes_128_cbc();
		else if (key_len == 24)
			sel->cipher = EVP_aes_192_cbc();
		else if (key_len == 32)
			sel->cipher = EVP_aes_256_cbc();
		else
			return -EINVAL;
		sel->block = 16;
		break;
	default:	/* implicit (0), DES-ECB (D), reserved, proprietary */
		return -ENOTSUP;
	}
	if (!sel->cipher)
		return -ENOTSUP;
	memcpy(sel->key, key, key_len);
	return 0;
}

/* CBC with a zero IV over a whole number of blocks, in place. */
static int cbc_crypt(const struct cipher_sel *sel, uint8_t *buf, size_t len, int enc)
{
	static const uint8_t iv[16];
	EVP_CIPHER_CTX *c;
	int outl = 0, fin = 0, rc = -EINVAL;

	if (len % sel->block || len > INT32_MAX)
		return -EBADMSG;
	c = EVP_CIPHER_CTX_new();
	if (!c)
		return -ENOMEM;
	if (EVP_CipherInit_ex2(c, sel->cipher, sel->key, iv, enc, NULL) != 1)
		goto out;
	EVP_CIPHER_CTX_set_padding(c, 0);
	if (EVP_CipherUpdate(c, buf, &outl, buf, (int)len) != 1)
		goto out;
	if (EVP_CipherFinal_ex(c, buf + outl, &fin) != 1)
		goto out;
	rc = (size_t)(outl + fin) == len ? 0 : -EINVAL;
out:
	EVP_CIPHER_CTX_free(c);
	return rc;
}

static EVP_MAC *g_cmac;
static pthread_once_t g_cmac_once = PTHREAD_ONCE_INIT;

static void cmac_fetch(void)
{
	g_cmac = EVP_MAC_fetch(NULL, "CMAC", NULL);
}

enum sig_kind {
	SIG_NONE,
	SIG_CRC16,
	SIG_CRC32,
	SIG_CBC_MAC,
	SIG_CMAC,
};

/* Running RC/CC computation, so that the input need not be contiguous. */
struct sig_ctx {
	enum sig_kind kind;
	size_t len;		/* octets of RC/CC */
	uint32_t crc;
	EVP_CIPHER_CTX *cctx;
	EVP_MAC_CTX *mctx;
	size_t fed;		/* CBC-MAC: octets fed so far */
	uint8_t last[8];	/* CBC-MAC: last ciphertext block */
};

/* Octets of RC/CC for an integrity setting and KID byte; 0 for none. */
static int sig_len_for(enum ota_scp80_integ integ, uint8_t kid)
{
	switch (integ) {
	case OTA_SCP80_INTEG_NONE:
		return 0;
	case OTA_SCP80_INTEG_RC:
		/* TS 102 225 §5.1.3.2: KID b4..b1 0001 CRC-16, 0101 CRC-32 */
		if ((kid & 0x0f) == 0x1)
			return 2;
		if ((kid & 0x0f) == 0x5)
			return 4;
		return -ENOTSUP;
	case OTA_SCP80_INTEG_CC:
		/* TS 102 225 §5.1.3.1: 8 octets for DES/3DES CBC-MAC; AES-CMAC truncated to 8 octets */
		return OTA_SCP80_MAX_SIG_LEN;
	default:
		return -ENOTSUP;
	}
}

static void sig_free(struct sig_ctx *s)
{
	EVP_CIPHER_CTX_free(s->cctx);
	EVP_MAC_CTX_free(s->mctx);
	s->cctx = NULL;
	s->mctx = NULL;
}

static int sig_init(struct sig_ctx *s, const struct ota_scp80_keyset *ks, enum ota_scp80_integ integ)
{
	static const uint8_t iv[8];
	struct cipher_sel sel;
	OSSL_PARAM params[2];
	const char *name;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = sig_len_for(integ, ks->kid);
	if (rc < 0)
		return rc;
	s->len = rc;
	switch (integ) {
	case OTA_SCP80_INTEG_NONE:
		s->kind = SIG_NONE;
		return 0;
	case OTA_SCP80_INTEG_RC:
		s->kind = s->len == 2 ? SIG_CRC16 : SIG_CRC32;
		s->crc = s->len == 2 ? 0xffff : 0xffffffff;
		return 0;
	default:
		break;
	}

	rc = cipher_select(ks->kid, ks->kid_key, ks->kid_key_len, ks->allow_single_des, &sel);
	if (rc < 0)
		return rc;
	if ((ks->kid & 0x0f) == 0x2) {
		pthread_once(&g_cmac_once, cmac_fetch);
		if (!g_cmac)
			return -ENOTSUP;
		name = ks->kid_key_len == 16 ? "AES-128-CBC" : ks->kid_key_len == 24 ? "AES-192-CBC" : "AES-256-CBC";
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)name, 0);
		params[1] = OSSL_PARAM_construct_end();
		s->kind = SIG_CMAC;
		s->mctx = EVP_MAC_CTX_new(g_cmac);
		if (!s->mctx)
			return -ENOMEM;
		if (EVP_MAC_init(s->mctx, sel.key, ks->kid_key_len, params) != 1) {
			sig_free(s);
			return -EINVAL;
		}
		OPENSSL_cleanse(&sel, sizeof(sel));
		return 0;
	}
	s->kind = SIG_CBC_MAC;
	s->cctx = EVP_CIPHER_CTX_new();
	if (!s->cctx)
		return -ENOMEM;
	rc = EVP_EncryptInit_ex2(s->cctx, sel.cipher, sel.key, iv, NULL);
	OPENSSL_cleanse(&sel, sizeof(sel));
	if (rc != 1) {
		sig_free(s);
		return -EINVAL;
	}
	EVP_CIPHER_CTX_set_padding(s->cctx, 0);
	return 0;
}

/* ISO/IEC 13239 CRCs, LSB first (reflected): poly is the reversed generator polynomial, 0x8408 for CRC-16
 * (x^16 + x^12 + x^5 + 1), 0xedb88320 for CRC-32 (the polynomial of ISO 3309 / IEEE 802.3) */
#define CRC16_POLY_REV	0x8408
#define CRC32_POLY_REV	0xedb88320

static void crc_update(uint32_t *crc, uint32_t poly, const uint8_t *p, size_t n)
{
	uint32_t c = *crc;
	size_t i;
	int b;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (b = 0; b < 8; b++)
			c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
	}
	*crc = c;
}

static int cbcmac_update(struct sig_ctx *s, const uint8_t *p, size_t n)
{
	uint8_t tmp[256 + 8];
	int outl;

	while (n) {
		size_t chunk = n > 256 ? 256 : n;

		if (EVP_EncryptUpdate(s->cctx, tmp, &outl, p, (int)chunk) != 1)
			return -EINVAL;
		if (outl >= 8)
			memcpy(s->last, tmp + outl - 8, 8);
		s->fed += chunk;
		p += chunk;
		n -= chunk;
	}
	return 0;
}

static int sig_update(struct sig_ctx *s, const uint8_t *p, size_t n)
{
	switch (s->kind) {
	case SIG_NONE:
		return 0;
	case SIG_CRC16:
		crc_update(&s->crc, CRC16_POLY_REV, p, n);
		return 0;
	case SIG_CRC32:
		crc_update(&s->crc, CRC32_POLY_REV, p, n);
		return 0;
	case SIG_CBC_MAC:
		return cbcmac_update(s, p, n);
	case SIG_CMAC:
		return EVP_MAC_update(s->mctx, p, n) == 1 ? 0 : -EINVAL;
	}
	return -EINVAL;
}

/* Finish and write s->len octets to out. */
static int sig_final(struct sig_ctx *s, uint8_t *out)
{
	static const uint8_t zeros[8];
	uint8_t mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;
	int rc;

	switch (s->kind) {
	case SIG_NONE:
		return 0;
	case SIG_CRC16:
		/* TS 102 225 §5.1.3.2; sent most significant octet first, like CRC-32 in pySim [INF for CRC-16] */
		s->crc ^= 0xffff;
		out[0] = s->crc >> 8;
		out[1] = s->crc & 0xff;
		return 0;
	case SIG_CRC32:
		s->crc ^= 0xffffffff;
		out[0] = s->crc >> 24;
		out[1] = s->crc >> 16;
		out[2] = s->crc >> 8;
		out[3] = s->crc & 0xff;
		return 0;
	case SIG_CBC_MAC:
		/* TS 102 225 §5.1.3.1: zero padding up to the block size; the CC is the last block */
		if (s->fed % 8) {
			rc = cbcmac_update(s, zeros, 8 - s->fed % 8);
			if (rc < 0)
				return rc;
		}
		memcpy(out, s->last, 8);
		return 0;
	case SIG_CMAC:
		if (EVP_MAC_final(s->mctx, mac, &maclen, sizeof(mac)) != 1 || maclen < 8)
			return -EINVAL;
		/* AES-CMAC truncated to its first 8 octets */
		memcpy(out, mac, 8);
		OPENSSL_cleanse(mac, sizeof(mac));
		return 0;
	}
	return -EINVAL;
}

/* Compute the RC/CC over two pieces of input (the part before the RC/CC field and the part after it). */
static int sig_compute(const struct ota_scp80_keyset *ks, enum ota_scp80_integ integ, const uint8_t *a, size_t alen,
		       const uint8_t *b, size_t blen, uint8_t *out)
{
	struct sig_ctx s;
	int rc;

	rc = sig_init(&s, ks, integ);
	if (rc < 0)
		return rc;
	rc = sig_update(&s, a, alen);
	if (rc == 0)
		rc = sig_update(&s, b, blen);
	if (rc == 0)
		rc = sig_final(&s, out);
	sig_free(&s);
	return rc;
}

/* Checks and choices shared by the command and the response packet builders: keyset, SPI, length of the RC/CC/DS,
 * cipher and padding. n_ciph is the number of ciphered header octets before the RC/CC/DS: CNTR + PCNTR (6) for a
 * command (TS 102 225 §5.1.1), CNTR + PCNTR + status (7) for a response (§5.1.2). Returns the RC/CC/DS length. */
static int build_prepare(const struct ota_scp80_keyset *ks, const uint8_t *spi, const uint8_t *tar, const uint8_t *cntr,
			 const uint8_t *data, size_t data_len, const uint8_t *out, bool por, size_t n_ciph,
			 struct ota_scp80_spi *s, struct cipher_sel *sel, size_t *pad)
{
	int sig_len, rc;

	if (!ks || !spi || !tar || !cntr || !out || (!data && data_len))
		return -EINVAL;
	if (ks->kic_key_len > OTA_SCP80_MAX_KEY_LEN || ks->kid_key_len > OTA_SCP80_MAX_KEY_LEN)
		return -EINVAL;
	ota_scp80_spi_decode(spi, s);
	sig_len = sig_len_for(por ? s->por_integ : s->integ, ks->kid);
	if (sig_len < 0)
		return sig_len;
	if (data_len > 0xffff)
		return -EMSGSIZE;
	*pad = 0;
	if (por ? s->por_ciphered : s->ciphered) {
		rc = cipher_select(ks->kic, ks->kic_key, ks->kic_key_len, ks->allow_single_des, sel);
		if (rc < 0)
			return rc;
		/* the ciphered part is padded to a whole number of cipher blocks; PCNTR counts the padding */
		*pad = (sel->block - (n_ciph + sig_len + data_len) % sel->block) % sel->block;
	}
	return sig_len;
}

/* Last step of both builders: the RC/CC/DS at sig_off over pkt[0..sig_off) and the body_len octets after it, then
 * ciphering from CNTR (cntr_off) to the end (total). Wipes the cipher key. Returns total or a negative errno. */
static int build_finish(const struct ota_scp80_keyset *ks, enum ota_scp80_integ integ, bool ciphered,
			struct cipher_sel *sel, uint8_t *pkt, size_t sig_off, int sig_len, size_t body_len,
			size_t cntr_off, size_t total)
{
	int rc = 0;

	if (sig_len)
		rc = sig_compute(ks, integ, pkt, sig_off, pkt + sig_off + sig_len, body_len, pkt + sig_off);
	if (rc == 0 && ciphered)
		rc = cbc_crypt(sel, pkt + cntr_off, total - cntr_off, 1);
	if (ciphered)
		OPENSSL_cleanse(sel, sizeof(*sel));
	return rc < 0 ? rc : (int)total;
}

/* Decipher len octets at p in place with the KIc key of ks; *block is the cipher block size. */
static int decipher(const struct ota_scp80_keyset *ks, uint8_t *p, size_t len, unsigned int *block)
{
	struct cipher_sel sel;
	int rc;

	rc = cipher_select(ks->kic, ks->kic_key, ks->kic_key_len, ks->allow_single_des, &sel);
	if (rc < 0)
		return rc;
	*block = sel.block;
	rc = cbc_crypt(&sel, p, len, 0);
	OPENSSL_cleanse(&sel, sizeof(sel));
	return rc;
}

/* Check the RC/CC/DS at pkt[sig_off] (over pkt[0..sig_off) and the body_len octets after it): 0, -EKEYREJECTED on
 * a mismatch, or another negative errno. */
static int sig_check(const struct ota_scp80_keyset *ks, enum ota_scp80_integ integ, const uint8_t *pkt,
		     size_t sig_off, int sig_len, size_t body_len)
{
	uint8_t sig[OTA_SCP80_MAX_SIG_LEN];
	int rc;

	rc = sig_compute(ks, integ, pkt, sig_off, pkt + sig_off + sig_len, body_len, sig);
	if (rc < 0)
		return rc;
	if (CRYPTO_memcmp(sig, pkt + sig_off, sig_len) != 0)
		return -EKEYREJECTED;
	return 0;
}

/*
 * Command packets
 */

int ota_scp80_cmd_build(const struct ota_scp80_keyset *ks, const uint8_t spi[2], const uint8_t tar[3],
			const uint8_t cntr[5], const uint8_t *data, size_t data_len, uint8_t *out, size_t out_size)
{
	struct ota_scp80_spi s;
	struct cipher_sel sel;
	size_t pad = 0, total;
	int sig_len, rc;

	/* TS 102 225 §5.1.1: CNTR..data is padded to a whole number of cipher blocks; PCNTR counts it */
	sig_len = build_prepare(ks, spi, tar, cntr, data, data_len, out, false, 6, &s, &sel, &pad);
	if (sig_len < 0)
		return sig_len;
	total = CMD_OFF_SIG + sig_len + data_len + pad;
	if (total - 2 > 0xffff) {
		rc = -EMSGSIZE;
		goto out;
	}
	if (total > out_size) {
		rc = -EMSGSIZE;
		goto out;
	}

	osmo_store16be(total - 2, out);
	out[CMD_OFF_CHL] = CMD_CHL_BASE + sig_len;
	out[CMD_OFF_SPI] = spi[0];
	out[CMD_OFF_SPI + 1] = spi[1];
	out[CMD_OFF_KIC] = ks->kic;
	out[CMD_OFF_KID] = ks->kid;
	memcpy(out + CMD_OFF_TAR, tar, 3);
	memcpy(out + CMD_OFF_CNTR, cntr, 5);
	out[CMD_OFF_PCNTR] = pad;
	if (data_len)
		memmove(out + CMD_OFF_SIG + sig_len, data, data_len);
	memset(out + CMD_OFF_SIG + sig_len + data_len, 0, pad);

	/* TS 102 225 §5.1.1 / TS 31.115 §4: RC/CC over CPL..PCNTR and the data with padding (not the UDH) */
	return build_finish(ks, s.integ, s.ciphered, &sel, out, CMD_OFF_SIG, sig_len, data_len + pad, CMD_OFF_CNTR,
			    total);
out:
	if (s.ciphered)
		OPENSSL_cleanse(&sel, sizeof(sel));
	return rc;
}

int ota_scp80_cmd_peek(const uint8_t *pkt, size_t len, struct ota_scp80_cmd *hdr)
{
	size_t cpl;

	if (!pkt || !hdr)
		return -EINVAL;
	memset(hdr, 0, sizeof(*hdr));
	if (len < 2)
		return -EBADMSG;
	cpl = osmo_load16be(pkt);
	if (cpl > len - 2)
		return -EMSGSIZE;
	if (cpl < len - 2 || len < CMD_OFF_CNTR)
		return -EBADMSG;
	if (pkt[CMD_OFF_CHL] < CMD_CHL_BASE || (size_t)pkt[CMD_OFF_CHL] + 1 > cpl)
		return -EBADMSG;
	memcpy(hdr->spi, pkt + CMD_OFF_SPI, 2);
	hdr->kic = pkt[CMD_OFF_KIC];
	hdr->kid = pkt[CMD_OFF_KID];
	memcpy(hdr->tar, pkt + CMD_OFF_TAR, 3);
	return 0;
}

/* TS 102 225 §5.1.1 counter rules, checked against the RE's stored counter. */
static int cntr_check(enum ota_scp80_cntr_mode mode, uint64_t rx, const uint64_t *re, uint8_t *status)
{
	if (!re || mode == OTA_SCP80_CNTR_NONE || mode == OTA_SCP80_CNTR_NO_CHECK)
		return 0;
	if (*re >= OTA_SCP80_CNTR_MAX) {
		*status = OTA_SCP80_POR_CNTR_BLOCKED;
		return -ERANGE;
	}
	if (rx <= *re) {
		*status = OTA_SCP80_POR_CNTR_LOW;
		return -ERANGE;
	}
	if (mode == OTA_SCP80_CNTR_PLUS_ONE && rx != *re + 1) {
		*status = OTA_SCP80_POR_CNTR_HIGH;
		return -ERANGE;
	}
	return 0;
}

int ota_scp80_cmd_unwrap(const struct ota_scp80_keyset *ks, const uint8_t *pkt, size_t len, uint64_t *re_cntr,
			 struct ota_scp80_cmd *res, uint8_t *buf, size_t buf_size)
{
	struct ota_scp80_spi s;
	unsigned int block = 0;
	size_t data_len;
	int sig_len, rc;
	uint64_t rx;

	if (!ks || !res || !buf || !pkt)
		return -EINVAL;
	if (ks->kic_key_len > OTA_SCP80_MAX_KEY_LEN || ks->kid_key_len > OTA_SCP80_MAX_KEY_LEN)
		return -EINVAL;
	rc = ota_scp80_cmd_peek(pkt, len, res);
	res->status = OTA_SCP80_POR_UNIDENTIFIED_SECURITY_ERROR;
	if (rc < 0)
		return rc;
	ota_scp80_spi_decode(res->spi, &s);

	/* The packet must name the keyset's keys for whatever it uses */
	if ((s.ciphered && res->kic != ks->kic) || (s.integ != OTA_SCP80_INTEG_NONE && res->kid != ks->kid))
		return -ENOKEY;
	sig_len = sig_len_for(s.integ, res->kid);
	if (sig_len < 0)
		return sig_len;
	if (pkt[CMD_OFF_CHL] != CMD_CHL_BASE + sig_len || len < (size_t)CMD_OFF_SIG + sig_len)
		return -EBADMSG;
	if (buf_size < len)
		return -EMSGSIZE;
	memmove(buf, pkt, len);

	if (s.ciphered) {
		rc = decipher(ks, buf + CMD_OFF_CNTR, len - CMD_OFF_CNTR, &block);
		if (rc < 0) {
			if (rc == -EBADMSG)
				res->status = OTA_SCP80_POR_CIPHERING_ERROR;
			return rc;
		}
	}
	memcpy(res->cntr, buf + CMD_OFF_CNTR, 5);
	res->pcntr = buf[CMD_OFF_PCNTR];

	if (sig_len) {
		rc = sig_check(ks, s.integ, buf, CMD_OFF_SIG, sig_len, len - CMD_OFF_SIG - sig_len);
		if (rc == -EKEYREJECTED)
			res->status = OTA_SCP80_POR_RC_CC_DS_FAILED;
		if (rc < 0)
			return rc;
	}

	rx = ota_scp80_cntr_get(res->cntr);
	rc = cntr_check(s.cntr, rx, re_cntr, &res->status);
	if (rc < 0)
		return rc;

	/* PCNTR: ciphered packets pad to less than one block. Some servers pad also without ciphering (to
	 * 16 octets, for the CC) [impl: Njiwa]; the RC/CC covers it, so accept less than 16 octets there. */
	data_len = len - CMD_OFF_SIG - sig_len;
	if (res->pcntr > data_len || res->pcntr >= (s.ciphered ? block : 16)) {
		res->status = s.ciphered ? OTA_SCP80_POR_CIPHERING_ERROR : OTA_SCP80_POR_UNIDENTIFIED_SECURITY_ERROR;
		return -EBADMSG;
	}
	res->data = buf + CMD_OFF_SIG + sig_len;
	res->data_len = data_len - res->pcntr;
	res->status = OTA_SCP80_POR_OK;
	if (re_cntr && (s.cntr == OTA_SCP80_CNTR_HIGHER || s.cntr == OTA_SCP80_CNTR_PLUS_ONE))
		*re_cntr = rx;
	return 0;
}

/*
 * Response packets
 */

int ota_scp80_por_build(const struct ota_scp80_keyset *ks, const uint8_t spi[2], const uint8_t tar[3],
			const uint8_t cntr[5], uint8_t status, const uint8_t *data, size_t data_len,
			uint8_t *out, size_t out_size)
{
	const size_t h = sizeof(por_udh);
	struct ota_scp80_spi s;
	struct cipher_sel sel;
	size_t pad = 0, total;
	int sig_len, rc;

	/* CNTR(5) PCNTR(1) status(1) RC/CC data are ciphered */
	sig_len = build_prepare(ks, spi, tar, cntr, data, data_len, out, true, 7, &s, &sel, &pad);
	if (sig_len < 0)
		return sig_len;
	total = h + POR_OFF_SIG + sig_len + data_len + pad;
	if (total - h - 2 > 0xffff || total > out_size) {
		rc = -EMSGSIZE;
		goto out;
	}

	memcpy(out, por_udh, h);
	osmo_store16be(total - h - 2, out + h);
	out[h + POR_OFF_RHL] = POR_RHL_BASE + sig_len;
	memcpy(out + h + POR_OFF_TAR, tar, 3);
	memcpy(out + h + POR_OFF_CNTR, cntr, 5);
	out[h + POR_OFF_PCNTR] = pad;
	out[h + POR_OFF_STATUS] = status;
	if (data_len)
		memmove(out + h + POR_OFF_SIG + sig_len, data, data_len);
	memset(out + h + POR_OFF_SIG + sig_len + data_len, 0, pad);

	/* TS 31.115 §6: the response RC/CC covers UDHL, IEI 71 and its length too */
	return build_finish(ks, s.por_integ, s.por_ciphered, &sel, out, h + POR_OFF_SIG, sig_len, data_len + pad,
			    h + POR_OFF_CNTR, total);
out:
	if (s.por_ciphered)
		OPENSSL_cleanse(&sel, sizeof(sel));
	return rc;
}

/* Length of the UDH (UDHL + 1) if it is well formed and holds IEI 71, else a negative errno. */
static int por_udh_len(const uint8_t *ud, size_t ud_len)
{
	size_t hl, i;
	bool rpi = false;

	if (ud_len < 1)
		return -EBADMSG;
	hl = 1 + ud[0];
	if (hl > ud_len)
		return -EBADMSG;
	for (i = 1; i < hl;) {
		if (i + 2 > hl || i + 2 + ud[i + 1] > hl)
			return -EBADMSG;
		if (ud[i] == 0x71)
			rpi = true;
		i += 2 + ud[i + 1];
	}
	return rpi ? (int)hl : -EBADMSG;
}

int ota_scp80_por_unwrap(const struct ota_scp80_keyset *ks, const uint8_t spi[2], const uint8_t *ud,
			 size_t ud_len, const uint8_t *expect_cntr, struct ota_scp80_por *res,
			 uint8_t *buf, size_t buf_size)
{
	struct ota_scp80_spi s;
	unsigned int block = 0;
	const uint8_t *p;
	size_t n, rpl, data_len;
	int hl, sig_len, rc;

	if (!ks || !spi || !ud || !res || !buf)
		return -EINVAL;
	if (ks->kic_key_len > OTA_SCP80_MAX_KEY_LEN || ks->kid_key_len > OTA_SCP80_MAX_KEY_LEN)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	hl = por_udh_len(ud, ud_len);
	if (hl < 0)
		return hl;
	p = ud + hl;
	n = ud_len - hl;
	if (n < 2)
		return -EBADMSG;
	rpl = osmo_load16be(p);
	if (rpl > n - 2)
		return -EMSGSIZE;
	if (rpl < n - 2 || n < POR_OFF_CNTR)
		return -EBADMSG;

	ota_scp80_spi_decode(spi, &s);
	sig_len = sig_len_for(s.por_integ, ks->kid);
	if (sig_len < 0)
		return sig_len;
	if (p[POR_OFF_RHL] != POR_RHL_BASE + sig_len || n < (size_t)POR_OFF_SIG + sig_len)
		return -EBADMSG;
	memcpy(res->tar, p + POR_OFF_TAR, 3);
	if (buf_size < ud_len)
		return -EMSGSIZE;
	memmove(buf, ud, ud_len);

	if (s.por_ciphered) {
		rc = decipher(ks, buf + hl + POR_OFF_CNTR, n - POR_OFF_CNTR, &block);
		if (rc < 0)
			return rc;
	}
	if (sig_len) {
		rc = sig_check(ks, s.por_integ, buf, hl + POR_OFF_SIG, sig_len, n - POR_OFF_SIG - sig_len);
		if (rc < 0)
			return rc;
	}
	memcpy(res->cntr, buf + hl + POR_OFF_CNTR, 5);
	res->pcntr = buf[hl + POR_OFF_PCNTR];
	res->status = buf[hl + POR_OFF_STATUS];

	data_len = n - POR_OFF_SIG - sig_len;
	/* as for commands: less than a block when ciphered, less than 16 octets otherwise */
	if (res->pcntr > data_len || res->pcntr >= (s.por_ciphered ? block : 16))
		return -EBADMSG;
	/* The PoR must echo the command's counter, otherwise it answers another (or a replayed) command */
	if (expect_cntr && CRYPTO_memcmp(res->cntr, expect_cntr, 5) != 0)
		return -ERANGE;
	res->data = buf + hl + POR_OFF_SIG + sig_len;
	res->data_len = data_len - res->pcntr;
	return 0;
}
