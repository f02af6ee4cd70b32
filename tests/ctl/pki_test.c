/* The test PKI of `sgp02-ctl pki init`, read back with the GP certificate code the daemons and the fleet use:
 * the manifest lists every file; on both curves the GP-format EUM, SM-DP and SM-SR certificates verify against
 * the CI, and also against the X.509 CI by its SubjectKeyIdentifier (SGP.02 §2.3.2.2); tampered, cross-curve
 * and expired certificates are refused; the private keys are the certificates' keys; an eUICC certificate signed
 * with the EUM key chains up to the CI; the SM-DP certificate and key carry a full Scenario #3 key establishment
 * with a simulated ECASD (digest §9.2); the TLS certificates carry mutual-TLS handshakes through our own conn layer
 * (SGP.02 Annex B), and certificates of the wrong kind or from another CA are refused there.
 *
 * The PKI comes from $SGP02_PKI_DIR when set (tests/ctl/pki_test.sh passes its own); otherwise this program runs
 * $SGP02_BUILDDIR/src/ctl/sgp02-ctl pki init into a temporary folder and removes it at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <talloc.h>

#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>

#include <sgp02/common/conn.h>
#include <sgp02/common/logging.h>
#include <sgp02/gp/ecka.h>
#include <sgp02/gp/gpcert.h>

#include "testlib.h"

static void *g_root;
static char *g_dir;		/* the PKI under test */
static char *g_tmp;		/* our own temporary folder, removed at the end (NULL with $SGP02_PKI_DIR) */
static char *g_manifest;	/* text of pki.env */

static const char *const g_curves[] = { "P256", "BP256" };
static const uint8_t g_curve_refs[] = { GP_CURVE_NIST_P256, GP_CURVE_BRAINPOOL_P256R1 };

/* ------------------------------------------------------------------------------------------------ */

/* Path of a manifest key, talloc'd on g_test_ctx; NULL if absent. */
static const char *path_of(const char *key)
{
	size_t klen = strlen(key);
	const char *p = g_manifest;

	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > klen && !strncmp(p, key, klen) && p[klen] == '=')
			return talloc_strndup(g_test_ctx, p + klen + 1, len - klen - 1);
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

static const char *gp_path(unsigned int curve, const char *who, const char *what)
{
	const char *p = path_of(talloc_asprintf(g_test_ctx, "PKI_GP_%s_%s_%s", g_curves[curve], who, what));

	CU_ASSERT_PTR_NOT_NULL(p);
	return p;
}

static struct gp_cert *load_gp(unsigned int curve, const char *who, uint8_t **raw, size_t *raw_len)
{
	const char *p = gp_path(curve, who, "CERT");
	struct gp_cert *c = NULL;
	uint8_t *buf;
	size_t len = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	buf = test_read_file(p, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_EQUAL_FATAL(gp_cert_parse(g_test_ctx, buf, len, &c), 0);
	if (raw) {
		*raw = buf;
		*raw_len = len;
	}
	return c;
}

static int pkey_destructor(EVP_PKEY **p)
{
	EVP_PKEY_free(*p);
	return 0;
}

static EVP_PKEY *owned(EVP_PKEY *k)
{
	EVP_PKEY **h;

	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	h = talloc(g_test_ctx, EVP_PKEY *);
	*h = k;
	talloc_set_destructor(h, pkey_destructor);
	return k;
}

static EVP_PKEY *load_key(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	EVP_PKEY *k;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	return owned(k);
}

static EVP_PKEY *cert_key(const struct gp_cert *c)
{
	EVP_PKEY *k = NULL;

	CU_ASSERT_EQUAL_FATAL(gp_cert_pubkey(c, &k), 0);
	return owned(k);
}

static int x509_destructor(X509 **p)
{
	X509_free(*p);
	return 0;
}

static X509 *load_x509(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	X509 *x, **h;

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	h = talloc(g_test_ctx, X509 *);
	*h = x;
	talloc_set_destructor(h, x509_destructor);
	return x;
}

/* ------------------------------------------------------------------------------------------------ */

/* Every manifest line names an existing file inside PKI_DIR; keys are mode 0600, nothing else is private. */
static void test_manifest(void)
{
	const char *p = g_manifest, *dir = path_of("PKI_DIR");
	unsigned int n = 0, keys = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	CU_ASSERT_PTR_NULL(strstr(g_manifest, "PRIVATE KEY"));
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char *line = talloc_strndup(g_test_ctx, p, len), *eq;
		struct stat st;

		p = eol ? eol + 1 : p + len;
		if (line[0] == '#' || !strncmp(line, "PKI_DIR=", 8))
			continue;
		eq = strchr(line, '=');
		CU_ASSERT_PTR_NOT_NULL_FATAL(eq);
		*eq = '\0';
		CU_ASSERT_EQUAL(strncmp(eq + 1, dir, strlen(dir)), 0);
		CU_ASSERT_EQUAL_FATAL(stat(eq + 1, &st), 0);
		CU_ASSERT(S_ISREG(st.st_mode) && st.st_size > 0);
		if (strlen(line) > 4 && !strcmp(line + strlen(line) - 4, "_KEY")) {
			CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
			keys++;
		} else {
			CU_ASSERT_EQUAL(st.st_mode & 0077, 0044);
		}
		n++;
	}
	/* 2 curves x (CI, EUM: cert + x509 + key; SM-DP, SM-SR: cert + key) + 8 TLS pairs + bundle */
	CU_ASSERT_EQUAL(n, 2 * (3 + 3 + 2 + 2) + 8 * 2 + 1);
	CU_ASSERT_EQUAL(keys, 2 * 4 + 8);
}

/* EUM, SM-DP and SM-SR chain to the CI on each curve; entity types, curve references, identifiers. */
static void test_gp_chains(void)
{
	static const char *const who[] = { "EUM", "SMDP", "SMSR" };
	static const int entity[] = { -1, GP_CERT_ENTITY_SMDP, GP_CERT_ENTITY_SMSR };
	time_t now = time(NULL);
	unsigned int c, i;

	for (c = 0; c < 2; c++) {
		struct gp_cert *ci = load_gp(c, "CI", NULL, NULL);

		CU_ASSERT_EQUAL(ci->curve_ref, g_curve_refs[c]);
		CU_ASSERT_EQUAL(ci->subject_id_len, 20);
		CU_ASSERT_EQUAL(gp_cert_verify_chain(&ci, 1, &ci, 1, now), 0);
		for (i = 0; i < 3; i++) {
			struct gp_cert *leaf = load_gp(c, who[i], NULL, NULL);
			struct gp_cert *chain2[2];

			CU_ASSERT_EQUAL(leaf->curve_ref, g_curve_refs[c]);
			CU_ASSERT_EQUAL(leaf->entity_type, entity[i]);
			CU_ASSERT(gp_cert_issued_by(leaf, ci));
			CU_ASSERT_PTR_NOT_NULL_FATAL(leaf->aki);
			CU_ASSERT(leaf->aki_len == ci->subject_id_len &&
				  !memcmp(leaf->aki, ci->subject_id, ci->subject_id_len));
			CU_ASSERT(leaf->ca_id_len == ci->subject_id_len &&
				  !memcmp(leaf->ca_id, ci->subject_id, ci->subject_id_len));
			CU_ASSERT_EQUAL(gp_cert_verify_chain(&leaf, 1, &ci, 1, now), 0);
			/* the chain given in full, the CI as the last element and as the anchor */
			chain2[0] = leaf;
			chain2[1] = ci;
			CU_ASSERT_EQUAL(gp_cert_verify_chain(chain2, 2, &ci, 1, now), 0);
		}
	}
}

/* One flipped byte anywhere in the signed part or the signature of the SM-DP / EUM certificate is refused. */
static void test_gp_tampered(void)
{
	static const char *const who[] = { "SMDP", "EUM" };
	time_t now = time(NULL);
	unsigned int c, w;

	for (c = 0; c < 2; c++) {
		struct gp_cert *ci = load_gp(c, "CI", NULL, NULL);

		for (w = 0; w < 2; w++) {
			uint8_t *raw, *copy;
			size_t len, off;
			struct gp_cert *orig = load_gp(c, who[w], &raw, &len);
			unsigned int refused = 0, tried = 0;

			copy = talloc_memdup(g_test_ctx, raw, len);
			/* every byte from the serial (after 7F21 L) to the end of the signature */
			for (off = (size_t)(orig->tbs - orig->raw); off < len; off++) {
				struct gp_cert *t = NULL;
				int rc;

				memcpy(copy, raw, len);
				copy[off] ^= 0x01;
				tried++;
				rc = gp_cert_parse(g_test_ctx, copy, len, &t);
				if (rc == 0)
					rc = gp_cert_verify_chain(&t, 1, &ci, 1, now);
				if (rc != 0)
					refused++;
				else
					fprintf(stderr, "%s/%s: flipped byte %zu accepted\n", g_curves[c], who[w], off);
				talloc_free(t);
			}
			CU_ASSERT_EQUAL(refused, tried);
			/* a flipped signature bit in particular is a signature failure, not a parse error */
			{
				struct gp_cert *t = NULL;

				memcpy(copy, raw, len);
				copy[len - 1] ^= 0x80;
				CU_ASSERT_EQUAL_FATAL(gp_cert_parse(g_test_ctx, copy, len, &t), 0);
				CU_ASSERT_EQUAL(gp_cert_verify_chain(&t, 1, &ci, 1, now), -EKEYREJECTED);
			}
		}
	}
}

/* The other curve's CI is another CI; a certificate after its expiration date is refused. */
static void test_gp_wrong_ci_and_dates(void)
{
	struct gp_cert *ci_p = load_gp(0, "CI", NULL, NULL), *ci_b = load_gp(1, "CI", NULL, NULL);
	struct gp_cert *dp_p = load_gp(0, "SMDP", NULL, NULL), *dp_b = load_gp(1, "SMDP", NULL, NULL);
	struct gp_cert *both[2] = { ci_p, ci_b };
	time_t now = time(NULL);

	CU_ASSERT_EQUAL(gp_cert_verify_chain(&dp_p, 1, &ci_b, 1, now), -ENOKEY);
	CU_ASSERT_EQUAL(gp_cert_verify_chain(&dp_b, 1, &ci_p, 1, now), -ENOKEY);
	/* both CIs trusted: each finds its own */
	CU_ASSERT_EQUAL(gp_cert_verify_chain(&dp_p, 1, both, 2, now), 0);
	CU_ASSERT_EQUAL(gp_cert_verify_chain(&dp_b, 1, both, 2, now), 0);
	/* default validity is 3650 days from today */
	CU_ASSERT_EQUAL(gp_cert_verify_chain(&dp_p, 1, &ci_p, 1, now + (time_t)3652 * 86400), -EKEYEXPIRED);
	CU_ASSERT_EQUAL(gp_cert_verify_chain(&dp_p, 1, &ci_p, 1, now + (time_t)3640 * 86400), 0);
	CU_ASSERT_EQUAL(gp_cert_verify_chain(&dp_p, 1, &ci_p, 1, now - 2 * 86400), -EKEYEXPIRED);
}

/* SGP.02 §2.3.2.2: 'C9' is the issuer's X.509 SubjectKeyIdentifier, so a party holding only the X.509 CI (and
 * X.509 EUM) can check GP-format certificates with its key identifier and key. */
static void test_x509_link(void)
{
	time_t now = time(NULL);
	unsigned int c;

	for (c = 0; c < 2; c++) {
		X509 *ci_x = load_x509(gp_path(c, "CI", "X509"));
		X509 *eum_x = load_x509(gp_path(c, "EUM", "X509"));
		struct gp_cert *ci = load_gp(c, "CI", NULL, NULL), *dp = load_gp(c, "SMDP", NULL, NULL);
		struct gp_cert *sr = load_gp(c, "SMSR", NULL, NULL), *eum = load_gp(c, "EUM", NULL, NULL);
		const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ci_x);
		const ASN1_OCTET_STRING *eum_ski = X509_get0_subject_key_id(eum_x);
		EVP_PKEY *ci_pub = X509_get0_pubkey(ci_x);

		CU_ASSERT_PTR_NOT_NULL_FATAL(ski);
		CU_ASSERT_PTR_NOT_NULL_FATAL(eum_ski);
		CU_ASSERT_EQUAL_FATAL((size_t)ASN1_STRING_length(ski), ci->subject_id_len);
		CU_ASSERT(!memcmp(ASN1_STRING_get0_data(ski), ci->subject_id, ci->subject_id_len));
		CU_ASSERT_EQUAL_FATAL((size_t)ASN1_STRING_length(eum_ski), eum->subject_id_len);
		CU_ASSERT(!memcmp(ASN1_STRING_get0_data(eum_ski), eum->subject_id, eum->subject_id_len));
		CU_ASSERT_EQUAL(EVP_PKEY_eq(ci_pub, cert_key(ci)), 1);
		CU_ASSERT_EQUAL(EVP_PKEY_eq(X509_get0_pubkey(eum_x), cert_key(eum)), 1);
		CU_ASSERT_EQUAL(gp_cert_verify_with_key(dp, ASN1_STRING_get0_data(ski), ASN1_STRING_length(ski), ci_pub,
							now), 0);
		CU_ASSERT_EQUAL(gp_cert_verify_with_key(sr, ASN1_STRING_get0_data(ski), ASN1_STRING_length(ski), ci_pub,
							now), 0);
		CU_ASSERT_EQUAL(gp_cert_verify_with_key(eum, ASN1_STRING_get0_data(ski), ASN1_STRING_length(ski),
							ci_pub, now), 0);
		/* the EUM's identifier is not the SM-DP's issuer; the EUM's key does not verify it either */
		CU_ASSERT_EQUAL(gp_cert_verify_with_key(dp, ASN1_STRING_get0_data(eum_ski), ASN1_STRING_length(eum_ski),
							ci_pub, now), -ENOKEY);
		CU_ASSERT_EQUAL(gp_cert_verify_with_key(dp, ASN1_STRING_get0_data(ski), ASN1_STRING_length(ski),
							X509_get0_pubkey(eum_x), now), -EKEYREJECTED);
		/* X.509 side: EUM issued and signed by the CI, CI self-signed */
		CU_ASSERT_EQUAL(X509_check_issued(ci_x, eum_x), X509_V_OK);
		CU_ASSERT_EQUAL(X509_verify(eum_x, ci_pub), 1);
		CU_ASSERT_EQUAL(X509_verify(ci_x, ci_pub), 1);
		CU_ASSERT(X509_check_ca(ci_x) != 0);
		CU_ASSERT(X509_check_ca(eum_x) != 0);
	}
}

/* Each private key file holds the key of its certificate (GP and TLS). */
static void test_keys_match(void)
{
	static const char *const who[] = { "CI", "EUM", "SMDP", "SMSR" };
	static const char *const tls[] = { "CA", "SMSR_SERVER", "SMDP_SERVER", "MNO1", "MNO2", "EUM1", "SMDP1",
					   "SMSR1" };
	unsigned int c, i;

	for (c = 0; c < 2; c++) {
		for (i = 0; i < 4; i++) {
			struct gp_cert *cert = load_gp(c, who[i], NULL, NULL);
			EVP_PKEY *priv = load_key(gp_path(c, who[i], "KEY"));

			CU_ASSERT_EQUAL(EVP_PKEY_eq(priv, cert_key(cert)), 1);
			CU_ASSERT_EQUAL(gp_curve_of_key(priv), g_curve_refs[c]);
		}
	}
	for (i = 0; i < sizeof(tls) / sizeof(tls[0]); i++) {
		const char *pc = path_of(talloc_asprintf(g_test_ctx, "PKI_TLS_%s_CERT", tls[i]));
		const char *pk = path_of(talloc_asprintf(g_test_ctx, "PKI_TLS_%s_KEY", tls[i]));

		CU_ASSERT_PTR_NOT_NULL_FATAL(pc);
		CU_ASSERT_PTR_NOT_NULL_FATAL(pk);
		CU_ASSERT_EQUAL(X509_check_private_key(load_x509(pc), load_key(pk)), 1);
		CU_ASSERT_EQUAL(gp_curve_of_key(load_key(pk)), GP_CURVE_NIST_P256);
	}
	/* cross-check: a key is not some other certificate's */
	CU_ASSERT_EQUAL(EVP_PKEY_eq(load_key(gp_path(0, "SMDP", "KEY")), cert_key(load_gp(0, "SMSR", NULL, NULL))),
			0);
}

/* What the simulated fleet does with the EUM key: sign CERT.ECASD.ECKA for an eUICC; it chains ECASD -> EUM -> CI.
 * Then the SM-DP's certificate and key run a Scenario #3 key establishment with that ECASD (digest §9.2). */
static void test_ecasd_and_key_establishment(void)
{
	static const uint8_t eid[16] = { 0x89, 0x04, 0x90, 0x32, 0x12, 0x34, 0x51, 0x23, 0x45, 0x12, 0x34, 0x56,
					 0x78, 0x90, 0x12, 0x35 };
	time_t now = time(NULL);
	unsigned int c, i;

	for (c = 0; c < 2; c++) {
		struct gp_cert *ci = load_gp(c, "CI", NULL, NULL), *eum = load_gp(c, "EUM", NULL, NULL);
		struct gp_cert *sr = load_gp(c, "SMSR", NULL, NULL), *ecasd_c = NULL, *dp_seen = NULL;
		struct gp_cert *chain[2];
		EVP_PKEY *eum_key = load_key(gp_path(c, "EUM", "KEY"));
		EVP_PKEY *dp_key = load_key(gp_path(c, "SMDP", "KEY"));
		EVP_PKEY *ecasd = NULL, *esk = NULL, *dp_pub;
		struct gp_cert_template t;
		uint8_t *der, *dp_raw, *m2;
		size_t der_len, dp_len, m2_len;
		uint8_t m1[512], ans1[64], ans2[64], rc[16], dr[16];
		struct gp_ecka_crt crt, card_crt;
		struct gp_ecka_keys host_keys, card_keys;
		int m1_len, a1, a2;

		load_gp(c, "SMDP", &dp_raw, &dp_len);
		CU_ASSERT_EQUAL_FATAL(gp_ecka_keygen(g_curve_refs[c], &ecasd), 0);
		owned(ecasd);
		memset(&t, 0, sizeof(t));
		t.serial = (const uint8_t *)"\x01";
		t.serial_len = 1;
		t.ca_id = ci->subject_id;
		t.ca_id_len = ci->subject_id_len;
		t.subject_id = eid;
		t.subject_id_len = sizeof(eid);
		t.key_usage = (const uint8_t *)"\x00\x80";	/* key agreement */
		t.key_usage_len = 2;
		t.has_effective = true;
		t.effective = eum->effective;
		t.expiration = eum->expiration;
		t.entity_type = -1;
		t.aki = eum->subject_id;
		t.aki_len = eum->subject_id_len;
		t.with_curve_ref = true;
		CU_ASSERT_EQUAL_FATAL(gp_cert_build(g_test_ctx, &t, ecasd, eum_key, &der, &der_len), 0);
		CU_ASSERT_EQUAL_FATAL(gp_cert_parse(g_test_ctx, der, der_len, &ecasd_c), 0);
		chain[0] = ecasd_c;
		chain[1] = eum;
		CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 2, &ci, 1, now), 0);
		/* without the EUM the ECASD certificate has no issuer among the anchors */
		CU_ASSERT_EQUAL(gp_cert_verify_chain(chain, 1, &ci, 1, now), -ENOKEY);

		/* step 1: the card checks CERT.DP.ECDSA against its CI and answers a random challenge */
		for (i = 0; i < 16; i++) {
			rc[i] = 0x30 + i;
			dr[i] = 0xA0 + i;
		}
		m1_len = gp_ecka_build_3a01(dp_raw, dp_len, m1, sizeof(m1));
		CU_ASSERT_FATAL(m1_len > 0);
		a1 = gp_ecka_card_3a01(g_test_ctx, m1, m1_len, ci, now, GP_CERT_ENTITY_SMDP, rc, 16, &dp_seen, ans1,
				       sizeof(ans1));
		CU_ASSERT_EQUAL_FATAL(a1, 18);
		/* the SM-SR certificate is refused where an SM-DP is expected */
		{
			uint8_t m1b[512], ansb[64];
			struct gp_cert *seen = NULL;
			int n = gp_ecka_build_3a01(sr->raw, sr->raw_len, m1b, sizeof(m1b));

			CU_ASSERT_FATAL(n > 0);
			CU_ASSERT_EQUAL(gp_ecka_card_3a01(g_test_ctx, m1b, n, ci, now, GP_CERT_ENTITY_SMDP, rc, 16,
							  &seen, ansb, sizeof(ansb)), -EACCES);
		}
		/* step 2: the SM-DP signs with SK.DP.ECDSA from the PKI */
		memset(&crt, 0, sizeof(crt));
		crt.scenario_param = GP_ECKA_SCEN_DR | GP_ECKA_SCEN_CERT_FIRST;
		crt.key_usage = GP_ECKA_KU_THREE_KEYS;
		crt.key_type = GP_ECKA_KEYTYPE_AES;
		crt.key_len = 16;
		crt.kid = 0x01;
		crt.kvn = 0x30;
		CU_ASSERT_EQUAL_FATAL(gp_ecka_keygen(g_curve_refs[c], &esk), 0);
		owned(esk);
		CU_ASSERT_EQUAL_FATAL(gp_ecka_build_3a02(g_test_ctx, &crt, esk, ans1 + 2, 16, dp_key, &m2, &m2_len), 0);
		dp_pub = cert_key(dp_seen);
		a2 = gp_ecka_card_3a02(m2, m2_len, dp_pub, rc, 16, ecasd, dr, NULL, 0, &card_crt, &card_keys, ans2,
				       sizeof(ans2));
		CU_ASSERT_FATAL(a2 > 0);
		/* step 3: the receipt matches and both sides hold the same keys */
		CU_ASSERT_EQUAL_FATAL(gp_ecka_host_finish(&crt, esk, ecasd, ans2, a2, NULL, 0, &host_keys), 0);
		CU_ASSERT(memcmp(&host_keys, &card_keys, sizeof(host_keys)) == 0);
		/* a signature made with the SM-SR key is refused by a card that checked the SM-DP certificate */
		{
			EVP_PKEY *sr_key = load_key(gp_path(c, "SMSR", "KEY"));
			uint8_t *m2b;
			size_t m2b_len;

			CU_ASSERT_EQUAL_FATAL(gp_ecka_build_3a02(g_test_ctx, &crt, esk, ans1 + 2, 16, sr_key, &m2b,
								 &m2b_len), 0);
			CU_ASSERT_EQUAL(gp_ecka_card_3a02(m2b, m2b_len, dp_pub, rc, 16, ecasd, dr, NULL, 0, &card_crt,
							  &card_keys, ans2, sizeof(ans2)), -EKEYREJECTED);
		}
	}
}

/* ------------------------------------------------------------------------------------------------ */
/* Mutual TLS with the PKI's files through conn.h, on 127.0.0.1 */

struct tls_end {
	bool established, closed;
	enum conn_close_reason reason;
	char *identity;		/* the server's view of the client (CN of the verified certificate) */
	struct conn *c;
};

static bool g_expired;
static bool g_srv_closed;			/* how the server end of the last handshake() ended */
static enum conn_close_reason g_srv_reason;

static void deadline_cb(void *data)
{
	g_expired = true;
}

/* Run the loop until the handshake is judged (both ends established, or the server end closed and the client
 * end closed too), at most 5 s. */
static void run_handshake(const struct tls_end *se, const struct tls_end *ce)
{
	struct osmo_timer_list t;

	g_expired = false;
	osmo_timer_setup(&t, deadline_cb, NULL);
	osmo_timer_schedule(&t, 5, 0);
	while (!(ce->established && se->established) && !(se->closed && ce->closed) && !g_expired)
		osmo_select_main_ctx(0);
	osmo_timer_del(&t);
}

static void end_established(struct conn *c)
{
	struct tls_end *e = conn_get_data(c);
	const char *id = conn_peer_identity(c);

	e->established = true;
	if (id)
		e->identity = talloc_strdup(g_test_ctx, id);
}

static int end_data(struct conn *c, const uint8_t *buf, size_t len)
{
	return 0;
}

static void end_closed(struct conn *c, enum conn_close_reason reason)
{
	struct tls_end *e = conn_get_data(c);

	e->closed = true;
	e->reason = reason;
	e->c = NULL;
}

static const struct conn_ops end_ops = {
	.established = end_established,
	.data = end_data,
	.closed = end_closed,
};

static int server_accept(struct conn_listener *l, struct conn *c, void *data)
{
	struct tls_end *e = data;

	e->c = c;
	conn_set_ops(c, &end_ops);
	conn_set_data(c, e);
	return 0;
}

/* One handshake of client certificate `cli` (manifest key stem, NULL for none) against server `srv`.
 * \returns true if both ends completed it; *identity gets the server's view of the client. */
static bool handshake(const char *srv, const char *cli_cert, const char *cli_key, const char **identity)
{
	const char *bundle = path_of("PKI_TLS_CA_BUNDLE");
	struct tls_ctx *st, *ct;
	struct conn_listener *l;
	struct tls_end *se = talloc_zero(g_test_ctx, struct tls_end);
	struct tls_end *ce = talloc_zero(g_test_ctx, struct tls_end);
	bool ok;

	st = tls_server_ctx_new(g_test_ctx, path_of(talloc_asprintf(g_test_ctx, "PKI_TLS_%s_CERT", srv)),
				path_of(talloc_asprintf(g_test_ctx, "PKI_TLS_%s_KEY", srv)), bundle);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st);
	ct = tls_client_ctx_new(g_test_ctx, bundle, cli_cert, cli_key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ct);
	l = conn_listen(g_test_ctx, "127.0.0.1", 0, st, server_accept, se);
	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	ce->c = conn_connect(g_test_ctx, "127.0.0.1", conn_listener_port(l), ct, &end_ops, ce);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ce->c);
	/* with TLS 1.3 the client may see established() before the server refuses its certificate: the server's
	 * view decides */
	run_handshake(se, ce);
	ok = ce->established && se->established && !se->closed;
	g_srv_closed = se->closed;
	g_srv_reason = se->reason;
	CU_ASSERT(!g_expired);
	*identity = se->identity;
	if (ce->c)
		talloc_free(ce->c);
	talloc_free(l);
	return ok;
}

static void test_tls_mutual(void)
{
	static const char *const servers[] = { "SMSR_SERVER", "SMDP_SERVER" };
	static const char *const clients[][2] = { { "MNO1", "MNO1" }, { "MNO2", "MNO2" }, { "EUM1", "EUM1" },
						  { "SMDP1", "SMDP1" }, { "SMSR1", "SMSR1" } };
	unsigned int s, c;

	for (s = 0; s < 2; s++) {
		for (c = 0; c < 5; c++) {
			const char *id = NULL;
			bool ok = handshake(servers[s],
					    path_of(talloc_asprintf(g_test_ctx, "PKI_TLS_%s_CERT", clients[c][0])),
					    path_of(talloc_asprintf(g_test_ctx, "PKI_TLS_%s_KEY", clients[c][0])), &id);

			CU_ASSERT(ok);
			if (!ok || !id || strcmp(id, clients[c][1]))
				fprintf(stderr, "%s <- %s: %s, identity %s\n", servers[s], clients[c][0],
					ok ? "ok" : "refused", id ? id : "(none)");
			CU_ASSERT_PTR_NOT_NULL(id);
			if (id)
				CU_ASSERT_STRING_EQUAL(id, clients[c][1]);
		}
	}
}

/* A client with a server-only certificate, a certificate of another CA (the GP hierarchy's X.509 EUM), or none. */
static void test_tls_refused(void)
{
	const char *id = NULL;

	CU_ASSERT_FALSE(handshake("SMSR_SERVER", path_of("PKI_TLS_SMDP_SERVER_CERT"),
				  path_of("PKI_TLS_SMDP_SERVER_KEY"), &id));
	CU_ASSERT(g_srv_closed && g_srv_reason == CONN_CLOSE_TLS);
	CU_ASSERT_PTR_NULL(id);
	CU_ASSERT_FALSE(handshake("SMSR_SERVER", path_of("PKI_GP_P256_EUM_X509"), path_of("PKI_GP_P256_EUM_KEY"), &id));
	CU_ASSERT(g_srv_closed && g_srv_reason == CONN_CLOSE_TLS);
	CU_ASSERT_FALSE(handshake("SMDP_SERVER", NULL, NULL, &id));
	CU_ASSERT(g_srv_closed && g_srv_reason == CONN_CLOSE_TLS);
}

/* ------------------------------------------------------------------------------------------------ */

static int suite_init(void)
{
	const char *env = getenv("SGP02_PKI_DIR");
	const char *tmp = getenv("TMPDIR");
	const char *build = getenv("SGP02_BUILDDIR");
	char *path, *cmd;
	size_t len;
	FILE *f;
	int rc;

	g_root = talloc_named_const(NULL, 0, "pki_test");
	osmo_init_logging2(g_root, &sgp02_log_info);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	log_parse_category_mask(osmo_stderr_target, getenv("PKI_TEST_DEBUG") ? "DHTTP,1" : "DHTTP,8");
	if (env && *env) {
		g_dir = talloc_strdup(g_root, env);
	} else {
		g_tmp = talloc_asprintf(g_root, "%s/pki_test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(g_tmp)) {
			g_tmp = NULL;
			return -1;
		}
		g_dir = talloc_asprintf(g_root, "%s/pki", g_tmp);
		cmd = talloc_asprintf(g_root, "'%s/src/ctl/sgp02-ctl' pki init '%s' >/dev/null",
				      build && *build ? build : SGP02_BUILDDIR, g_dir);
		rc = system(cmd);
		if (rc != 0) {
			fprintf(stderr, "pki_test: %s failed (%d)\n", cmd, rc);
			return -1;
		}
	}
	path = talloc_asprintf(g_root, "%s/pki.env", g_dir);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "pki_test: cannot open %s\n", path);
		return -1;
	}
	g_manifest = talloc_zero_size(g_root, 65537);
	len = fread(g_manifest, 1, 65536, f);
	fclose(f);
	return len > 0 ? 0 : -1;
}

static int suite_cleanup(void)
{
	if (g_tmp) {
		char *cmd = talloc_asprintf(g_root, "rm -rf '%s'", g_tmp);

		if (system(cmd) != 0)
			fprintf(stderr, "pki_test: could not remove %s\n", g_tmp);
	}
	talloc_free(g_root);
	g_root = NULL;
	return 0;
}

static const struct test_case pki_cases[] = {
	TEST_CASE(test_manifest),
	TEST_CASE(test_gp_chains),
	TEST_CASE(test_gp_tampered),
	TEST_CASE(test_gp_wrong_ci_and_dates),
	TEST_CASE(test_x509_link),
	TEST_CASE(test_keys_match),
	TEST_CASE(test_ecasd_and_key_establishment),
	TEST_CASE(test_tls_mutual),
	TEST_CASE(test_tls_refused),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "pki", suite_init, suite_cleanup, pki_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
