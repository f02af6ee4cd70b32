/* libFuzzer target: GP Amd E certificate parser (and what a card does next with a parsed certificate:
 * public key decoding, signature check, validity, issuer match), plus the key establishment decoders that
 * read the same kind of data on the card: CRT A6, DGI 3A01 and the 3A02 || 7F49 || 5F37 message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <talloc.h>

#include <sgp02/gp/ecka.h>
#include <sgp02/gp/gpcert.h>

static EVP_PKEY *g_dp, *g_ecasd;
static struct gp_cert *g_ci;

/* A fixed CI certificate (self-signed with the "SM-DP" key; only its identifier and key matter here) */
static void make_ci(void)
{
	struct gp_cert_template t = { 0 };
	uint8_t *der;
	size_t len;

	t.serial = (const uint8_t *)"\x01";
	t.serial_len = 1;
	t.ca_id = t.subject_id = (const uint8_t *)"CI";
	t.ca_id_len = t.subject_id_len = 2;
	t.expiration = (struct gp_cert_date){ 2040, 1, 1 };
	t.entity_type = -1;
	if (gp_cert_build(NULL, &t, g_dp, g_dp, &der, &len) < 0 || gp_cert_parse(NULL, der, len, &g_ci) < 0)
		abort();
	talloc_free(der);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *ctx = talloc_named_const(NULL, 0, "fuzz");
	struct gp_cert *c = NULL;
	struct gp_ecka_crt crt;
	EVP_PKEY *pk = NULL;
	int rc;

	rc = gp_cert_parse(ctx, data, size, &c);
	if (rc == 0) {
		/* every pointer must lie inside raw */
		if (c->tbs < c->raw || c->tbs + c->tbs_len > c->raw + c->raw_len ||
		    c->point + c->point_len > c->raw + c->raw_len || c->sig + c->sig_len > c->raw + c->raw_len)
			abort();
		if (gp_cert_pubkey(c, &pk) == 0) {
			/* self-signed check: almost always a mismatch, must not crash */
			gp_cert_verify_sig(c, pk);
			EVP_PKEY_free(pk);
		}
		gp_cert_check_validity(c, 0);
		gp_cert_check_validity(c, (time_t)1782000000);
		gp_cert_issued_by(c, c);
		{
			struct gp_cert *chain[1] = { c };

			gp_cert_verify_chain(chain, 1, chain, 1, (time_t)1782000000);
		}
	} else if (c) {
		abort();	/* no output on failure */
	}
	if (!g_dp) {
		/* fixed keys for the whole run (never freed: they live as long as the process) */
		if (gp_ecka_keygen(GP_CURVE_NIST_P256, &g_dp) < 0 || gp_ecka_keygen(GP_CURVE_NIST_P256, &g_ecasd) < 0)
			abort();
		make_ci();
	}
	{
		static const uint8_t rc16[16] = { 1, 2, 3 }, dr[GP_ECKA_DR_LEN] = { 4, 5, 6 };
		struct gp_ecka_keys keys;
		struct gp_cert *dp = NULL;
		uint8_t out[128];

		gp_ecka_card_3a02(data, size, g_dp, rc16, sizeof(rc16), g_ecasd, dr, NULL, 0, &crt, &keys, out,
				  sizeof(out));
		gp_ecka_card_3a01(ctx, data, size, g_ci, (time_t)1782000000, -1, rc16, sizeof(rc16), &dp, out,
				  sizeof(out));
	}
	if (gp_ecka_crt_decode(data, size, &crt) == 0) {
		uint8_t buf[256];

		/* what decodes re-encodes to at most the same size */
		if (gp_ecka_crt_encode(&crt, buf, sizeof(buf)) < 0)
			abort();
	}
	talloc_free(ctx);
	return 0;
}
