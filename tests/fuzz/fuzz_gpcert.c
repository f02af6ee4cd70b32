/* libFuzzer target: GP Amd E certificate parser (and what a card does next with a parsed certificate:
 * public key decoding, signature check, validity, issuer match), plus the key establishment CRT decoder. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <talloc.h>

#include <sgp02/gp/ecka.h>
#include <sgp02/gp/gpcert.h>

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
	if (gp_ecka_crt_decode(data, size, &crt) == 0) {
		uint8_t buf[256];

		/* what decodes re-encodes to at most the same size */
		if (gp_ecka_crt_encode(&crt, buf, sizeof(buf)) < 0)
			abort();
	}
	talloc_free(ctx);
	return 0;
}
