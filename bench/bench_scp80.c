/* Benchmark: SCP80 AES-128 (SPI 16 39: CC + ciphering, counter "higher") wrap + unwrap of a command that fits
 * one SMS, next to a raw EVP loop doing the same cryptographic work over the same byte counts (AES-128-CBC
 * encrypt and decrypt, AES-CMAC twice). Prints both rates and the ratio; never fails on time.
 * Usage: bench_scp80 [seconds per measurement, default 1] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <sgp02/ota/scp80.h>

/* 96 octets of secured data: CNTR..data = 110, padded to 112, packet 122 octets (+ UDH 3 = 125 <= 140) */
#define DATA_LEN	96

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct ota_scp80_keyset g_ks = { .kic = 0x12, .kid = 0x12, .kic_key_len = 16, .kid_key_len = 16 };
static const uint8_t g_spi[2] = { 0x16, 0x39 }, g_tar[3] = { 0, 0, 0 };
static uint8_t g_data[DATA_LEN];

/* one SCP80 wrap + unwrap; returns 0 on success */
static int scp80_once(uint64_t i, size_t *pkt_len)
{
	uint8_t cntr[5], pkt[DATA_LEN + OTA_SCP80_CMD_OVERHEAD], buf[sizeof(pkt)];
	struct ota_scp80_cmd cmd;
	uint64_t re = i;
	int len;

	ota_scp80_cntr_put(cntr, i + 1);
	len = ota_scp80_cmd_build(&g_ks, g_spi, g_tar, cntr, g_data, DATA_LEN, pkt, sizeof(pkt));
	if (len < 0)
		return -1;
	*pkt_len = len;
	if (ota_scp80_cmd_unwrap(&g_ks, pkt, len, &re, &cmd, buf, sizeof(buf)) != 0 || cmd.data_len != DATA_LEN)
		return -1;
	return 0;
}

struct raw_ctx {
	EVP_CIPHER_CTX *c;
	EVP_MAC *mac;
	EVP_MAC_CTX *m;
	OSSL_PARAM params[2];
};

static int raw_cmac(struct raw_ctx *r, const uint8_t *in, size_t n, uint8_t *out)
{
	uint8_t full[16];
	size_t outl;

	if (EVP_MAC_init(r->m, g_ks.kid_key, 16, r->params) != 1 || EVP_MAC_update(r->m, in, n) != 1 ||
	    EVP_MAC_final(r->m, full, &outl, sizeof(full)) != 1)
		return -1;
	memcpy(out, full, 8);
	return 0;
}

static int raw_cbc(struct raw_ctx *r, uint8_t *buf, size_t n, int enc)
{
	static const uint8_t iv[16];
	int outl, fin;

	if (EVP_CipherInit_ex2(r->c, EVP_aes_128_cbc(), g_ks.kic_key, iv, enc, NULL) != 1)
		return -1;
	EVP_CIPHER_CTX_set_padding(r->c, 0);
	if (EVP_CipherUpdate(r->c, buf, &outl, buf, (int)n) != 1 || EVP_CipherFinal_ex(r->c, buf + outl, &fin) != 1)
		return -1;
	return 0;
}

/* the same cryptographic work as scp80_once, on the same lengths, without any packet handling */
static int raw_once(struct raw_ctx *r, size_t pkt_len)
{
	uint8_t buf[DATA_LEN + OTA_SCP80_CMD_OVERHEAD], cc[8];
	size_t mac_len = pkt_len - 8, ciph_len = pkt_len - 10;

	memset(buf, 0x5a, pkt_len);
	if (raw_cmac(r, buf, mac_len, cc) || raw_cbc(r, buf + 10, ciph_len, 1) || raw_cbc(r, buf + 10, ciph_len, 0) ||
	    raw_cmac(r, buf, mac_len, cc))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0, t0, t_scp80, t_raw;
	uint64_t n_scp80 = 0, n_raw = 0, i;
	struct raw_ctx r;
	size_t pkt_len = 0;

	if (secs <= 0)
		secs = 1.0;
	for (i = 0; i < 16; i++) {
		g_ks.kic_key[i] = i;
		g_ks.kid_key[i] = 0x10 + i;
	}
	for (i = 0; i < DATA_LEN; i++)
		g_data[i] = i;

	if (scp80_once(0, &pkt_len) != 0) {
		fprintf(stderr, "bench_scp80: SCP80 round trip failed\n");
		return 1;
	}
	r.c = EVP_CIPHER_CTX_new();
	r.mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	r.m = r.mac ? EVP_MAC_CTX_new(r.mac) : NULL;
	r.params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, "AES-128-CBC", 0);
	r.params[1] = OSSL_PARAM_construct_end();
	if (!r.c || !r.m || raw_once(&r, pkt_len) != 0) {
		fprintf(stderr, "bench_scp80: raw EVP setup failed\n");
		return 1;
	}

	/* SCP80 */
	t0 = now_s();
	do {
		for (i = 0; i < 1000; i++) {
			if (scp80_once(n_scp80 + i, &pkt_len) != 0)
				return 1;
		}
		n_scp80 += 1000;
		t_scp80 = now_s() - t0;
	} while (t_scp80 < secs);

	/* raw EVP baseline in the same run */
	t0 = now_s();
	do {
		for (i = 0; i < 1000; i++) {
			if (raw_once(&r, pkt_len) != 0)
				return 1;
		}
		n_raw += 1000;
		t_raw = now_s() - t0;
	} while (t_raw < secs);

	printf("bench_scp80: AES-128 SPI 1639, %d octets of data, packet %zu octets (one SMS)\n", DATA_LEN, pkt_len);
	printf("scp80 wrap+unwrap:            %10.0f packets/s\n", n_scp80 / t_scp80);
	printf("raw EVP CBC enc+dec, 2x CMAC: %10.0f rounds/s\n", n_raw / t_raw);
	printf("ratio scp80/raw:              %10.3f\n", (n_scp80 / t_scp80) / (n_raw / t_raw));

	EVP_MAC_CTX_free(r.m);
	EVP_MAC_free(r.mac);
	EVP_CIPHER_CTX_free(r.c);
	return 0;
}
