/* Benchmark: SCP03t protect (SM-DP) + unprotect (ISD-P reader) of a 12 KB profile package, next to a raw
 * EVP AES-128-CBC + AES-CMAC loop over the same bytes and the same segmentation, in the same run.
 * Prints figures only; never passes or fails on time.
 *
 * usage: bench_scp03t [iterations]   (default 2000) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <talloc.h>

#include <sgp02/gp/scp03.h>
#include <sgp02/gp/scp03t.h>

#define PROFILE_LEN	(12 * 1024)
#define SEG		GP_SCP03T_SEG_DEFAULT

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void keys_init(struct gp_scp03_keys *k)
{
	unsigned int i;

	memset(k, 0, sizeof(*k));
	k->kvn = 0x30;
	k->key_len = 16;
	for (i = 0; i < 16; i++) {
		k->enc[i] = i;
		k->mac[i] = 0x10 + i;
		k->dek[i] = 0x20 + i;
	}
}

static int open_channel(struct gp_scp03_session *s, struct gp_scp03t_card *c, const struct gp_scp03_keys *k)
{
	uint8_t hc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, cmd[32], *resp;
	size_t rl;
	int l;

	l = gp_scp03t_init_update(s, k->kvn, 0, hc, cmd, sizeof(cmd));
	if (l < 0 || gp_scp03t_card_process(c, cmd, l, &resp, &rl) < 0 || gp_scp03t_process_iu_resp(s, k, resp, rl) < 0)
		return -1;
	l = gp_scp03t_ext_auth(s, 0x33, cmd, sizeof(cmd));
	if (l < 0 || gp_scp03t_card_process(c, cmd, l, &resp, &rl) < 0)
		return -1;
	return 0;
}

/* One pass of our SCP03t: split+protect every segment, then the card verifies, decrypts and reassembles. */
static int run_scp03t(void *ctx, const struct gp_scp03_keys *k, const uint8_t *prof)
{
	struct gp_scp03_session s;
	struct gp_scp03t_card *c = gp_scp03t_card_alloc(ctx, k, (const uint8_t *)"\xA0\x00\x00\x05\x59", 5, 1);
	struct gp_scp03t_tlv *tlvs;
	size_t n, i, rl, plen;
	uint8_t *resp;
	int rc = -1;

	if (!c || open_channel(&s, c, k) < 0)
		goto out;
	if (gp_scp03t_split(c, &s, prof, PROFILE_LEN, SEG, &tlvs, &n) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (gp_scp03t_card_process(c, tlvs[i].data, tlvs[i].len, &resp, &rl) < 0)
			goto out;
	gp_scp03t_card_profile(c, &plen);
	rc = plen == PROFILE_LEN ? 0 : -1;
out:
	talloc_free(c);
	return rc;
}

/* The raw baseline: for each segment, pad + AES-128-CBC encrypt + CMAC, then CMAC + decrypt, with contexts
 * reused (the cheapest way to do the same cryptographic work with EVP). */
static int run_raw(EVP_CIPHER_CTX *enc, EVP_CIPHER_CTX *dec, EVP_MAC_CTX *mac, const uint8_t *key,
		   const uint8_t *prof, uint8_t *buf, uint8_t *plain)
{
	static const uint8_t iv[16];
	uint8_t tag[16], tag2[16];
	size_t off, tl;
	int ol;

	for (off = 0; off < PROFILE_LEN; off += SEG) {
		size_t sl = PROFILE_LEN - off < SEG ? PROFILE_LEN - off : SEG, pl = (sl / 16 + 1) * 16;

		memcpy(plain, prof + off, sl);
		plain[sl] = 0x80;
		memset(plain + sl + 1, 0, pl - sl - 1);
		if (EVP_EncryptInit_ex2(enc, NULL, key, iv, NULL) != 1 ||
		    EVP_EncryptUpdate(enc, buf, &ol, plain, pl) != 1)
			return -1;
		if (EVP_MAC_init(mac, NULL, 0, NULL) != 1 || EVP_MAC_update(mac, buf, pl) != 1 ||
		    EVP_MAC_final(mac, tag, &tl, sizeof(tag)) != 1)
			return -1;
		if (EVP_MAC_init(mac, NULL, 0, NULL) != 1 || EVP_MAC_update(mac, buf, pl) != 1 ||
		    EVP_MAC_final(mac, tag2, &tl, sizeof(tag2)) != 1 || memcmp(tag, tag2, 16) != 0)
			return -1;
		if (EVP_DecryptInit_ex2(dec, NULL, key, iv, NULL) != 1 ||
		    EVP_DecryptUpdate(dec, plain, &ol, buf, pl) != 1)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 0) : 2000, i;
	void *ctx = talloc_named_const(NULL, 0, "bench");
	struct gp_scp03_keys k;
	uint8_t *prof = talloc_size(ctx, PROFILE_LEN), *buf = talloc_size(ctx, SEG + 32);
	uint8_t *plain = talloc_size(ctx, SEG + 32);
	EVP_CIPHER *aes = EVP_CIPHER_fetch(NULL, "AES-128-CBC", NULL);
	EVP_MAC *cmac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	EVP_CIPHER_CTX *enc = EVP_CIPHER_CTX_new(), *dec = EVP_CIPHER_CTX_new();
	EVP_MAC_CTX *mctx;
	OSSL_PARAM params[2];
	double t0, t_ours, t_raw, mb;

	if (iters == 0 || !aes || !cmac || !enc || !dec) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	keys_init(&k);
	for (i = 0; i < PROFILE_LEN; i++)
		prof[i] = (uint8_t)(i * 2654435761u >> 13);
	mctx = EVP_MAC_CTX_new(cmac);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, "AES-128-CBC", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!mctx || EVP_MAC_init(mctx, k.mac, 16, params) != 1 ||
	    EVP_EncryptInit_ex2(enc, aes, k.enc, NULL, NULL) != 1 ||
	    EVP_DecryptInit_ex2(dec, aes, k.enc, NULL, NULL) != 1) {
		fprintf(stderr, "EVP setup failed\n");
		return 1;
	}
	EVP_CIPHER_CTX_set_padding(enc, 0);
	EVP_CIPHER_CTX_set_padding(dec, 0);

	/* warm-up */
	if (run_scp03t(ctx, &k, prof) < 0 || run_raw(enc, dec, mctx, k.enc, prof, buf, plain) < 0) {
		fprintf(stderr, "warm-up failed\n");
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < iters; i++)
		if (run_scp03t(ctx, &k, prof) < 0)
			return 1;
	t_ours = now_s() - t0;
	t0 = now_s();
	for (i = 0; i < iters; i++)
		if (run_raw(enc, dec, mctx, k.enc, prof, buf, plain) < 0)
			return 1;
	t_raw = now_s() - t0;

	mb = (double)PROFILE_LEN * iters / 1e6;
	printf("bench_scp03t: %u-byte profile, %u-byte segments, %lu iterations (protect + unprotect)\n",
	       PROFILE_LEN, SEG, iters);
	printf("  scp03t (incl. IU/EA handshake per profile): %8.2f MB/s  (%.1f us/profile)\n", mb / t_ours,
	       t_ours * 1e6 / iters);
	printf("  raw EVP AES-128-CBC + CMAC (ctx reused):     %8.2f MB/s  (%.1f us/profile)\n", mb / t_raw,
	       t_raw * 1e6 / iters);
	printf("  ratio scp03t / raw throughput: %.2f\n", t_raw / t_ours);

	EVP_MAC_CTX_free(mctx);
	EVP_MAC_free(cmac);
	EVP_CIPHER_free(aes);
	EVP_CIPHER_CTX_free(enc);
	EVP_CIPHER_CTX_free(dec);
	talloc_free(ctx);
	return 0;
}
