/*! \file ctl_pki.c
 * `sgp02-ctl pki init|show|verify DIR`: a complete test PKI for demos and tests, made with the OpenSSL 3
 * EVP/X509 APIs (no openssl CLI).  Production points the configuration at real GSMA certificates instead.
 *
 *   sgp02-ctl pki init DIR [--force | --if-missing] [--days N]
 *                                                create the PKI (refuses to replace DIR/pki.env without --force;
 *                                                --if-missing: succeed without touching an existing one)
 *   sgp02-ctl pki show DIR                       subjects, issuers, validity and curve of every certificate
 *   sgp02-ctl pki verify DIR                     check every chain, key usage, key/certificate pair, file mode
 *
 * Layout (every path is also listed in DIR/pki.env as KEY=absolute path, one a line, sourceable by sh):
 *
 *   gp/p256/   and   gp/bp256/      two parallel SGP.02 hierarchies, NIST P-256 and brainpoolP256r1 (§2.3.3)
 *     ci.pem     ci.gpcert   ci.key      CI root: X.509 (self-signed) and GP 7F21 (self-signed), same key
 *     eum.pem    eum.gpcert  eum.key     EUM, signed by the CI (X.509 and GP form); its key signs the
 *                                        CERT.ECASD.ECKA of the simulated fleet's eUICCs
 *     smdp.gpcert            smdp.key    CERT.DP.ECDSA / SK.DP.ECDSA ('C8' = 01), signed by the CI
 *     smsr.gpcert            smsr.key    CERT.SR.ECDSA / SK.SR.ECDSA ('C8' = 02), signed by the CI
 *   tls/                                 X.509 for the ES web services (SGP.02 Annex B), ECDSA P-256
 *     ca.pem ca.key                      TLS CA "sgp02 test CI"; ca-bundle.pem is the trust file to configure
 *     smsr-server.pem/.key               SM-SR ES1/ES3/ES4/ES7 server (CN=localhost, DNS:localhost, IP:127.0.0.1)
 *     smdp-server.pem/.key               SM-DP ES2 server (same names)
 *     mno1.pem/.key  mno2.pem/.key       operators (CN=MNO1, CN=MNO2), client authentication
 *     eum1.pem/.key                      EUM (CN=EUM1): ES1 client, also the RegisterEIS XML-DSig signer
 *     smdp1.pem/.key                     SM-DP as ES3 client (CN=SMDP1)
 *     smsr1.pem/.key                     SM-SR as callback (ReplyTo) client (CN=SMSR1)
 *
 * *.gpcert files hold the raw GP Amd E TLV (7F21 ...) as sent to the card; *.pem certificates are X.509 PEM;
 * *.key files are unencrypted PKCS#8 PEM private keys, mode 0600.  Nothing here ever prints a private key.
 *
 * Identifiers (SGP.02 §2.3.2.2, digest §9.1): the CI and EUM certificates are X.509 in SGP.02; the SM-DP,
 * SM-SR and eUICC certificates are GP-format because the card has no X.509 parser, and name their issuer by
 * 'C9' (authority key identifier) = the issuer's X.509 SubjectKeyIdentifier.  We therefore use one
 * identifier per key everywhere: SHA-1 of the uncompressed public point (RFC 5280 §4.2.1.2 method 1, the value
 * OpenSSL puts in the X.509 SKI).  A GP certificate carries it as '5F20' (subject) and, for its issuer, as '42'
 * (CA identifier, always the CI's) and 'C9'.  The GP-format CI and EUM certificates exist because the GP code
 * (the simulated ECASD, gp_cert_verify_chain()) takes trust anchors in GP form; verifying a GP certificate
 * against the X.509 issuer instead (gp_cert_verify_with_key() with the SKI and key) gives the same answer.
 * The X.509 CI/EUM profile of SGP.14 (policies, name constraints) is not reproduced [INF].
 *
 * init builds everything in a private folder DIR/.pki-new.XXXXXX and moves the files into place at the end,
 * pki.env last; with --force the old pki.env is removed first, so an interrupted run never leaves a manifest
 * that names a mix of old and new files.  Files of other names in DIR are left alone.  Concurrent inits of one
 * DIR are serialised with flock() on DIR itself, so parallel test setups may all run `init --if-missing`.
 *
 * Exit status: 0 success; 1 refused (pki.env exists, no --force) or a verify check failed; 2 usage or input
 * error (including an I/O or OpenSSL failure).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <talloc.h>

#include <sgp02/gp/gpcert.h>

#include "ctl.h"

#define EXIT_CHECK	1	/* refused, or a verify check failed */
#define EXIT_USAGE	2	/* usage, input or I/O error */

#define PKI_MANIFEST	"pki.env"
#define PKI_DAYS_DEFAULT	3650
#define PKI_DAYS_MAX	36500
#define PKI_MANIFEST_MAX	(64 * 1024)
#define PKI_FILE_MAX	(64 * 1024)	/* no certificate or key of ours comes near this */
#define PKI_SKI_LEN	20		/* SHA-1 */
#define PKI_ORG		"sgp02 test PKI"

static const char usage_text[] =
"usage: sgp02-ctl pki init DIR [--force | --if-missing] [--days N]\n"
"       sgp02-ctl pki show DIR\n"
"       sgp02-ctl pki verify DIR\n"
"\n"
"init    create a test PKI in DIR (created if missing): SGP.02 CI -> EUM / SM-DP / SM-SR certificates in\n"
"        GlobalPlatform format (and X.509 for CI and EUM) on NIST P-256 (DIR/gp/p256) and brainpoolP256r1\n"
"        (DIR/gp/bp256), and X.509 TLS certificates for every ES endpoint (DIR/tls): the CA \"sgp02 test CI\",\n"
"        servers for SM-SR and SM-DP (CN=localhost), clients MNO1, MNO2, EUM1, SMDP1, SMSR1.  Every file is\n"
"        listed in DIR/pki.env (KEY=path lines, for sh).  Private keys are written with mode 0600.\n"
"        --force       replace an existing PKI (without it, an existing DIR/pki.env is never touched)\n"
"        --if-missing  do nothing (and succeed) when DIR/pki.env exists, e.g. for test setups\n"
"        --days N      validity in days (default 3650, at most 36500)\n"
"show    print subject, issuer, validity and curve of every certificate listed in DIR/pki.env\n"
"verify  check every certificate chain, key usage, key/certificate pair and private key file mode\n"
"\n"
"For tests and demos only.  Exit status: 0 success, 1 refused (PKI exists) or a check failed, 2 usage or\n"
"input error.\n";

/* ------------------------------------------------------------------------------------------------ */
/* What the PKI contains: two tables drive init, show and verify alike */

enum pki_tls_kind {
	PKI_TLS_CA,
	PKI_TLS_SERVER,
	PKI_TLS_CLIENT,
};

struct pki_tls_entity {
	const char *file;	/* tls/<file>.pem, tls/<file>.key */
	const char *env;	/* <env>_CERT, <env>_KEY in pki.env */
	const char *cn;
	enum pki_tls_kind kind;
};

/* The CA comes first: the others are signed by it. */
static const struct pki_tls_entity g_tls[] = {
	{ "ca", "PKI_TLS_CA", "sgp02 test CI", PKI_TLS_CA },
	{ "smsr-server", "PKI_TLS_SMSR_SERVER", "localhost", PKI_TLS_SERVER },
	{ "smdp-server", "PKI_TLS_SMDP_SERVER", "localhost", PKI_TLS_SERVER },
	{ "mno1", "PKI_TLS_MNO1", "MNO1", PKI_TLS_CLIENT },
	{ "mno2", "PKI_TLS_MNO2", "MNO2", PKI_TLS_CLIENT },
	{ "eum1", "PKI_TLS_EUM1", "EUM1", PKI_TLS_CLIENT },
	{ "smdp1", "PKI_TLS_SMDP1", "SMDP1", PKI_TLS_CLIENT },
	{ "smsr1", "PKI_TLS_SMSR1", "SMSR1", PKI_TLS_CLIENT },
};
#define PKI_N_TLS	(sizeof(g_tls) / sizeof(g_tls[0]))

struct pki_curve {
	const char *dir;	/* gp/<dir> */
	const char *env;	/* PKI_GP_<env>_... */
	const char *group;	/* OpenSSL group name */
	const char *label;
	uint8_t ref;		/* GP key parameter reference */
};

static const struct pki_curve g_curves[] = {
	{ "p256", "P256", "P-256", "NIST P-256", GP_CURVE_NIST_P256 },
	{ "bp256", "BP256", "brainpoolP256r1", "brainpoolP256r1", GP_CURVE_BRAINPOOL_P256R1 },
};
#define PKI_N_CURVES	(sizeof(g_curves) / sizeof(g_curves[0]))

enum pki_gp_role {
	PKI_GP_CI,
	PKI_GP_EUM,
	PKI_GP_SMDP,
	PKI_GP_SMSR,
	PKI_GP_N
};

struct pki_gp_entity {
	const char *file;	/* gp/<curve>/<file>.gpcert, .key, [.pem] */
	const char *env;	/* PKI_GP_<curve>_<env>_CERT, _KEY, [_X509] */
	const char *cn;		/* X.509 common name (CI and EUM only), completed with the curve label */
	int entity_type;	/* '73'/'C8', -1 for none */
	bool x509;		/* also an X.509 certificate (SGP.02 uses X.509 for CI and EUM) */
};

static const struct pki_gp_entity g_gp[PKI_GP_N] = {
	[PKI_GP_CI] = { "ci", "CI", "sgp02 test GSMA CI", -1, true },
	[PKI_GP_EUM] = { "eum", "EUM", "EUM1", -1, true },
	[PKI_GP_SMDP] = { "smdp", "SMDP", NULL, GP_CERT_ENTITY_SMDP, false },
	[PKI_GP_SMSR] = { "smsr", "SMSR", NULL, GP_CERT_ENTITY_SMSR, false },
};

/* ------------------------------------------------------------------------------------------------ */
/* Small helpers */

static void print_ssl_errors(const char *what)
{
	unsigned long e;
	char buf[256];

	fprintf(stderr, "pki: %s failed", what);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		fprintf(stderr, "; %s", buf);
	}
	fprintf(stderr, "\n");
}

/* The manifest is sourced by sh: refuse paths that would need quoting there rather than quote them. */
static bool path_is_plain(const char *p)
{
	for (; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
			continue;
		if (!strchr("/._-+,@:%", *p))
			return false;
	}
	return true;
}

/* Absolute, normalised-enough path of DIR (not resolved: DIR may not exist yet). */
static char *abs_path(void *ctx, const char *dir)
{
	char cwd[PATH_MAX];
	char *p;
	size_t n;

	if (dir[0] == '/')
		p = talloc_strdup(ctx, dir);
	else if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	else
		p = talloc_asprintf(ctx, "%s/%s", strcmp(cwd, "/") ? cwd : "", dir);
	if (!p)
		return NULL;
	/* drop trailing slashes (but keep "/") and a trailing "/." */
	for (;;) {
		n = strlen(p);
		if (n > 1 && p[n - 1] == '/')
			p[n - 1] = '\0';
		else if (n > 2 && !strcmp(p + n - 2, "/."))
			p[n - 2] = '\0';
		else
			break;
	}
	return p;
}

/* mkdir -p with the given mode for the folders it creates.  \returns 0 or -errno. */
static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		if (stat(buf, &st) < 0)
			return -errno;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		buf[i] = i < n ? '/' : '\0';
	}
	return 0;
}

/* Write a new file (it must not exist) with exactly `mode`.  \returns 0 or -errno. */
static int write_new_file(const char *path, const void *data, size_t len, mode_t mode)
{
	const uint8_t *p = data;
	int fd, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0)	/* the umask may have taken bits away, or we want fewer than it leaves */
		rc = -errno;
	while (rc == 0 && len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			break;
		}
		p += w;
		len -= (size_t)w;
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0)
		unlink(path);
	return rc;
}

/* Read a small file into a talloc buffer (NUL-terminated, not counted in *len).  \returns 0 or -errno. */
static int read_small_file(void *ctx, const char *path, size_t max, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t n = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	else if ((size_t)st.st_size > max)
		rc = -EFBIG;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	buf = talloc_size(ctx, max + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (n < max) {
		ssize_t r = read(fd, buf + n, max - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (rc < 0) {
		talloc_free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static void hex_print(FILE *f, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		fprintf(f, "%02x", b[i]);
}

/* Key identifier of an EC public key: SHA-1 of the uncompressed point, i.e. the X.509 SubjectKeyIdentifier of
 * RFC 5280 §4.2.1.2 method 1 (the BIT STRING content of an EC subjectPublicKey is the point itself).
 * \returns 0 or -EINVAL / -EIO. */
static int key_id(EVP_PKEY *pkey, uint8_t out[PKI_SKI_LEN])
{
	uint8_t point[GP_CERT_POINT_LEN];
	unsigned int len = PKI_SKI_LEN;
	int n;

	n = gp_ec_point_of_key(pkey, point, sizeof(point));
	if (n < 0)
		return n;
	if (EVP_Digest(point, (size_t)n, out, &len, EVP_sha1(), NULL) != 1 || len != PKI_SKI_LEN)
		return -EIO;
	return 0;
}

static int talloc_pkey_destructor(EVP_PKEY **p)
{
	EVP_PKEY_free(*p);
	return 0;
}

static int talloc_x509_destructor(X509 **p)
{
	X509_free(*p);
	return 0;
}

/* Tie an EVP_PKEY / X509 to a talloc context so that every error path frees it. */
static EVP_PKEY *own_pkey(void *ctx, EVP_PKEY *k)
{
	EVP_PKEY **h;

	if (!k)
		return NULL;
	h = talloc(ctx, EVP_PKEY *);
	if (!h) {
		EVP_PKEY_free(k);
		return NULL;
	}
	*h = k;
	talloc_set_destructor(h, talloc_pkey_destructor);
	return k;
}

static X509 *own_x509(void *ctx, X509 *x)
{
	X509 **h;

	if (!x)
		return NULL;
	h = talloc(ctx, X509 *);
	if (!h) {
		X509_free(x);
		return NULL;
	}
	*h = x;
	talloc_set_destructor(h, talloc_x509_destructor);
	return x;
}

/* ------------------------------------------------------------------------------------------------ */
/* init */

struct pki_file {
	char *key;		/* manifest key */
	char *rel;		/* path relative to DIR */
};

struct pki_gen {
	void *ctx;
	const char *dir;	/* absolute */
	char *stage;		/* DIR/.pki-new.XXXXXX */
	unsigned int days;
	time_t now;
	struct pki_file *files;
	unsigned int n_files;
};

static int pki_add_file(struct pki_gen *g, const char *key, const char *rel)
{
	struct pki_file *f;

	f = talloc_realloc(g->ctx, g->files, struct pki_file, g->n_files + 1);
	if (!f)
		return -ENOMEM;
	g->files = f;
	f = &g->files[g->n_files];
	f->key = talloc_strdup(g->files, key);
	f->rel = talloc_strdup(g->files, rel);
	if (!f->key || !f->rel)
		return -ENOMEM;
	g->n_files++;
	return 0;
}

/* Write DIR-relative `rel` into the staging folder and list it in the manifest under `key`. */
static int pki_stage_file(struct pki_gen *g, const char *key, const char *rel, const void *data, size_t len,
			  mode_t mode)
{
	char *path = talloc_asprintf(g->ctx, "%s/%s", g->stage, rel);
	int rc;

	if (!path)
		return -ENOMEM;
	rc = write_new_file(path, data, len, mode);
	if (rc < 0)
		fprintf(stderr, "pki: cannot write %s: %s\n", path, strerror(-rc));
	talloc_free(path);
	if (rc < 0)
		return rc;
	return key ? pki_add_file(g, key, rel) : 0;
}

/* Write the contents of a memory BIO, wiping the buffer afterwards (it may hold a private key). */
static int pki_stage_bio(struct pki_gen *g, const char *key, const char *rel, BIO *b, mode_t mode)
{
	char *data = NULL;
	long len = BIO_get_mem_data(b, &data);
	int rc;

	if (len <= 0 || !data)
		return -EIO;
	rc = pki_stage_file(g, key, rel, data, (size_t)len, mode);
	OPENSSL_cleanse(data, (size_t)len);
	return rc;
}

static int pki_stage_key(struct pki_gen *g, const char *key, const char *rel, EVP_PKEY *pkey)
{
	BIO *b = BIO_new(BIO_s_mem());
	int rc;

	if (!b)
		return -ENOMEM;
	/* PKCS#8, unencrypted: the test PKI is used unattended by daemons and scripts */
	if (PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		print_ssl_errors("PEM_write_bio_PrivateKey");
		BIO_free(b);
		return -EIO;
	}
	rc = pki_stage_bio(g, key, rel, b, 0600);
	BIO_free(b);
	return rc;
}

static int pki_stage_x509(struct pki_gen *g, const char *key, const char *rel, X509 *const *certs, size_t n)
{
	BIO *b = BIO_new(BIO_s_mem());
	size_t i;
	int rc;

	if (!b)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (PEM_write_bio_X509(b, certs[i]) != 1) {
			print_ssl_errors("PEM_write_bio_X509");
			BIO_free(b);
			return -EIO;
		}
	}
	rc = pki_stage_bio(g, key, rel, b, 0644);
	BIO_free(b);
	return rc;
}

static EVP_PKEY *pki_keygen(void *ctx, const char *group)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);

	if (!k)
		print_ssl_errors("EC key generation");
	return own_pkey(ctx, k);
}

/* 63 random bits, non-zero: a positive serial number of 8 octets at most (RFC 5280 §4.1.2.2). */
static int random_serial(uint8_t out[8])
{
	if (RAND_bytes(out, 8) != 1)
		return -EIO;
	out[0] &= 0x7f;
	if (out[0] == 0)
		out[0] = 0x01;
	return 0;
}

static int x509_add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, v3, nid, value);
	int ok;

	if (!ext) {
		print_ssl_errors(OBJ_nid2sn(nid));
		return -EIO;
	}
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -EIO;
}

struct x509_spec {
	const char *cn;
	const char *basic;	/* basicConstraints */
	const char *ku;		/* keyUsage */
	const char *eku;	/* extendedKeyUsage, NULL for none */
	const char *san;	/* subjectAltName, NULL for none */
};

/* An X.509 v3 certificate for subj_key, signed (ECDSA-SHA256) by issuer_key; issuer NULL = self-signed. */
static X509 *x509_make(struct pki_gen *g, EVP_PKEY *subj_key, const struct x509_spec *s, X509 *issuer,
		       EVP_PKEY *issuer_key)
{
	X509 *x = own_x509(g->ctx, X509_new());
	X509_NAME *name = NULL;
	uint8_t serial[8];
	BIGNUM *bn = NULL;
	X509V3_CTX v3;
	bool ok = false;

	if (!x || random_serial(serial) < 0)
		return NULL;
	name = X509_NAME_new();
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!name || !bn)
		goto out;
	if (X509_set_version(x, X509_VERSION_3) != 1 || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
		goto out;
	/* an hour back, so that a peer whose clock is a little behind accepts a PKI made a moment ago */
	if (!X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, &g->now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), (int)g->days, 0, &g->now))
		goto out;
	if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)PKI_ORG, -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)s->cn, -1, -1, 0) != 1)
		goto out;
	if (X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) != 1 ||
	    X509_set_pubkey(x, subj_key) != 1)
		goto out;
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	if (x509_add_ext(x, &v3, NID_basic_constraints, s->basic) < 0 ||
	    x509_add_ext(x, &v3, NID_key_usage, s->ku) < 0 ||
	    (s->eku && x509_add_ext(x, &v3, NID_ext_key_usage, s->eku) < 0) ||
	    (s->san && x509_add_ext(x, &v3, NID_subject_alt_name, s->san) < 0) ||
	    x509_add_ext(x, &v3, NID_subject_key_identifier, "hash") < 0 ||
	    x509_add_ext(x, &v3, NID_authority_key_identifier, "keyid:always") < 0)
		goto out;
	if (X509_sign(x, issuer_key, EVP_sha256()) <= 0) {
		print_ssl_errors("X509_sign");
		goto out;
	}
	ok = true;
out:
	X509_NAME_free(name);
	BN_free(bn);
	if (!ok) {
		fprintf(stderr, "pki: cannot build the certificate for %s\n", s->cn);
		return NULL;
	}
	return x;
}

static const struct x509_spec *tls_spec(const struct pki_tls_entity *e, struct x509_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->cn = e->cn;
	switch (e->kind) {
	case PKI_TLS_CA:
		s->basic = "critical,CA:TRUE";
		s->ku = "critical,keyCertSign,cRLSign";
		break;
	case PKI_TLS_SERVER:
		s->basic = "critical,CA:FALSE";
		s->ku = "critical,digitalSignature";
		s->eku = "serverAuth";
		s->san = "DNS:localhost,IP:127.0.0.1";
		break;
	case PKI_TLS_CLIENT:
		s->basic = "critical,CA:FALSE";
		/* digitalSignature covers both the TLS handshake and EUM1's XML-DSig over RegisterEIS */
		s->ku = "critical,digitalSignature";
		s->eku = "clientAuth";
		break;
	}
	return s;
}

/* X.509 TLS certificates for every ES endpoint (SGP.02 Annex B: mutual TLS), ECDSA P-256. */
static int pki_gen_tls(struct pki_gen *g)
{
	X509 *ca = NULL;
	EVP_PKEY *ca_key = NULL;
	struct x509_spec spec;
	unsigned int i;
	int rc;

	for (i = 0; i < PKI_N_TLS; i++) {
		const struct pki_tls_entity *e = &g_tls[i];
		EVP_PKEY *k = pki_keygen(g->ctx, "P-256");
		char key[64], rel[64], relk[64];
		X509 *x;

		if (!k)
			return -EIO;
		x = x509_make(g, k, tls_spec(e, &spec), ca, ca ? ca_key : k);
		if (!x)
			return -EIO;
		if (e->kind == PKI_TLS_CA) {
			ca = x;
			ca_key = k;
		}
		snprintf(rel, sizeof(rel), "tls/%s.pem", e->file);
		snprintf(relk, sizeof(relk), "tls/%s.key", e->file);
		snprintf(key, sizeof(key), "%s_CERT", e->env);
		rc = pki_stage_x509(g, key, rel, &x, 1);
		if (rc < 0)
			return rc;
		snprintf(key, sizeof(key), "%s_KEY", e->env);
		rc = pki_stage_key(g, key, relk, k);
		if (rc < 0)
			return rc;
	}
	/* the trust file to configure (servers: client CA; clients: server CA); only our CA for now, and a place
	 * to append others (e.g. a partner's CA) without touching ca.pem */
	return pki_stage_x509(g, "PKI_TLS_CA_BUNDLE", "tls/ca-bundle.pem", &ca, 1);
}

static int date_of(time_t t, struct gp_cert_date *d)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	d->year = (uint16_t)(tm.tm_year + 1900);
	d->month = (uint8_t)(tm.tm_mon + 1);
	d->day = (uint8_t)tm.tm_mday;
	return 0;
}

/* One SGP.02 hierarchy on one curve: CI (X.509 + GP, self-signed), EUM (X.509 + GP), SM-DP and SM-SR (GP). */
static int pki_gen_gp(struct pki_gen *g, const struct pki_curve *c)
{
	EVP_PKEY *keys[PKI_GP_N];
	uint8_t ids[PKI_GP_N][PKI_SKI_LEN];
	X509 *ci_x509 = NULL;
	struct gp_cert_template t;
	struct x509_spec spec;
	uint8_t serial[8];
	unsigned int i;
	int rc;

	for (i = 0; i < PKI_GP_N; i++) {
		keys[i] = pki_keygen(g->ctx, c->group);
		if (!keys[i])
			return -EIO;
		rc = key_id(keys[i], ids[i]);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < PKI_GP_N; i++) {
		const struct pki_gp_entity *e = &g_gp[i];
		const int issuer = PKI_GP_CI;	/* everything here is signed by the CI (SGP.02 §2.3) */
		char key[64], rel[64];
		uint8_t *der = NULL;
		size_t der_len = 0;

		rc = random_serial(serial);
		if (rc < 0)
			return rc;
		memset(&t, 0, sizeof(t));
		t.serial = serial;
		t.serial_len = sizeof(serial);
		t.ca_id = ids[PKI_GP_CI];	/* '42': the CI that is the root of this certificate */
		t.ca_id_len = PKI_SKI_LEN;
		t.subject_id = ids[i];
		t.subject_id_len = PKI_SKI_LEN;
		t.has_effective = true;
		if (date_of(g->now, &t.effective) < 0 ||
		    date_of(g->now + (time_t)g->days * 86400, &t.expiration) < 0)
			return -EINVAL;
		t.entity_type = e->entity_type;
		if (i != PKI_GP_CI) {
			/* 'C9' = the issuer's SubjectKeyIdentifier (SGP.02 §2.3.2.2) */
			t.aki = ids[issuer];
			t.aki_len = PKI_SKI_LEN;
		}
		t.with_curve_ref = true;
		rc = gp_cert_build(g->ctx, &t, keys[i], keys[issuer], &der, &der_len);
		if (rc < 0) {
			fprintf(stderr, "pki: cannot build the GP certificate %s/%s: %s\n", c->dir, e->file,
				strerror(-rc));
			return rc;
		}
		snprintf(rel, sizeof(rel), "gp/%s/%s.gpcert", c->dir, e->file);
		snprintf(key, sizeof(key), "PKI_GP_%s_%s_CERT", c->env, e->env);
		rc = pki_stage_file(g, key, rel, der, der_len, 0644);
		talloc_free(der);
		if (rc < 0)
			return rc;
		snprintf(rel, sizeof(rel), "gp/%s/%s.key", c->dir, e->file);
		snprintf(key, sizeof(key), "PKI_GP_%s_%s_KEY", c->env, e->env);
		rc = pki_stage_key(g, key, rel, keys[i]);
		if (rc < 0)
			return rc;
		if (e->x509) {
			X509 *x;

			memset(&spec, 0, sizeof(spec));
			spec.cn = talloc_asprintf(g->ctx, "%s (%s)", e->cn, c->label);
			if (!spec.cn)
				return -ENOMEM;
			spec.ku = "critical,keyCertSign,cRLSign";
			/* the EUM signs eUICC (ECASD) certificates only: no CA below it */
			spec.basic = i == PKI_GP_CI ? "critical,CA:TRUE" : "critical,CA:TRUE,pathlen:0";
			x = x509_make(g, keys[i], &spec, ci_x509, keys[issuer]);
			if (!x)
				return -EIO;
			if (i == PKI_GP_CI)
				ci_x509 = x;
			snprintf(rel, sizeof(rel), "gp/%s/%s.pem", c->dir, e->file);
			snprintf(key, sizeof(key), "PKI_GP_%s_%s_X509", c->env, e->env);
			rc = pki_stage_x509(g, key, rel, &x, 1);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int pki_stage_manifest(struct pki_gen *g)
{
	char stamp[32];
	struct tm tm;
	char *text;
	unsigned int i;
	int rc;

	gmtime_r(&g->now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	text = talloc_asprintf(g->ctx,
			       "# sgp02 test PKI, made by `sgp02-ctl pki init` at %s; valid %u days.\n"
			       "# For tests and demos only. KEY=absolute path, one a line; source it from sh.\n"
			       "# *_KEY: private keys (mode 0600); *.gpcert: GlobalPlatform (7F21); *.pem: X.509.\n"
			       "PKI_DIR=%s\n", stamp, g->days, g->dir);
	for (i = 0; text && i < g->n_files; i++)
		text = talloc_asprintf_append(text, "%s=%s/%s\n", g->files[i].key, g->dir, g->files[i].rel);
	if (!text)
		return -ENOMEM;
	rc = pki_stage_file(g, NULL, PKI_MANIFEST, text, strlen(text), 0644);
	talloc_free(text);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Move the staged files into DIR, the manifest last. */
static int pki_commit(struct pki_gen *g)
{
	static const char *const subdirs[] = { "tls", "gp/p256", "gp/bp256" };
	char *from, *to;
	unsigned int i;
	int rc;

	/* with --force: no manifest while files of two generations are mixed */
	to = talloc_asprintf(g->ctx, "%s/%s", g->dir, PKI_MANIFEST);
	if (!to)
		return -ENOMEM;
	if (unlink(to) < 0 && errno != ENOENT) {
		rc = -errno;
		fprintf(stderr, "pki: cannot remove the old %s: %s\n", to, strerror(-rc));
		return rc;
	}
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		char *d = talloc_asprintf(g->ctx, "%s/%s", g->dir, subdirs[i]);

		rc = d ? mkdir_p(d, 0755) : -ENOMEM;
		if (rc < 0) {
			fprintf(stderr, "pki: cannot create %s: %s\n", d ? d : subdirs[i], strerror(-rc));
			return rc;
		}
	}
	for (i = 0; i <= g->n_files; i++) {
		const char *rel = i < g->n_files ? g->files[i].rel : PKI_MANIFEST;

		from = talloc_asprintf(g->ctx, "%s/%s", g->stage, rel);
		to = talloc_asprintf(g->ctx, "%s/%s", g->dir, rel);
		if (!from || !to)
			return -ENOMEM;
		if (rename(from, to) < 0) {
			rc = -errno;
			fprintf(stderr, "pki: cannot move %s to %s: %s\n", from, to, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Build everything in the staging folder, then move it into DIR.  \returns 0 or -errno (reported). */
static int pki_generate(struct pki_gen *g)
{
	static const char *const subdirs[] = { "tls", "gp/p256", "gp/bp256" };
	unsigned int i;
	int rc = 0;

	g->stage = talloc_asprintf(g->ctx, "%s/.pki-new.XXXXXX", g->dir);
	if (!g->stage || !mkdtemp(g->stage)) {
		rc = -errno;
		fprintf(stderr, "pki: cannot create a work folder in %s: %s\n", g->dir, strerror(errno));
		return rc;
	}
	g->now = time(NULL);
	for (i = 0; rc == 0 && i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		char *d = talloc_asprintf(g->ctx, "%s/%s", g->stage, subdirs[i]);

		rc = d ? mkdir_p(d, 0700) : -ENOMEM;
	}
	for (i = 0; rc == 0 && i < PKI_N_CURVES; i++)
		rc = pki_gen_gp(g, &g_curves[i]);
	if (rc == 0)
		rc = pki_gen_tls(g);
	if (rc == 0)
		rc = pki_stage_manifest(g);
	if (rc == 0)
		rc = pki_commit(g);
	/* whatever happened, the work folder goes (after a commit it holds only empty folders) */
	nftw(g->stage, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}

static int pki_init(void *ctx, const char *dir_arg, bool force, bool if_missing, unsigned int days)
{
	struct pki_gen g = { .ctx = ctx, .days = days };
	struct stat st;
	char *manifest;
	int rc, dfd;

	g.dir = abs_path(ctx, dir_arg);
	if (!g.dir) {
		fprintf(stderr, "pki: cannot resolve %s: %s\n", dir_arg, strerror(errno));
		return EXIT_USAGE;
	}
	if (!path_is_plain(g.dir)) {
		fprintf(stderr, "pki: %s: use a path of letters, digits and /._-+,@:%% only (it goes into a shell "
				"manifest unquoted)\n", g.dir);
		return EXIT_USAGE;
	}
	if (strlen(g.dir) > PATH_MAX - 64) {
		fprintf(stderr, "pki: %s: path too long\n", g.dir);
		return EXIT_USAGE;
	}
	rc = mkdir_p(g.dir, 0755);
	if (rc < 0) {
		fprintf(stderr, "pki: cannot create %s: %s\n", g.dir, strerror(-rc));
		return EXIT_USAGE;
	}
	/* one init at a time per DIR (parallel test setups): a second one waits, then finds the manifest */
	dfd = open(g.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || flock(dfd, LOCK_EX) < 0) {
		fprintf(stderr, "pki: cannot lock %s: %s\n", g.dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return EXIT_USAGE;
	}
	manifest = talloc_asprintf(ctx, "%s/%s", g.dir, PKI_MANIFEST);
	if (!manifest) {
		rc = EXIT_USAGE;
	} else if (lstat(manifest, &st) == 0 && if_missing) {
		printf("pki: %s exists: PKI kept as it is\n", manifest);
		rc = 0;
	} else if (lstat(manifest, &st) == 0 && !force) {
		fprintf(stderr, "pki: %s exists: refusing to replace the PKI in %s (use --force to regenerate it)\n",
			manifest, g.dir);
		rc = EXIT_CHECK;
	} else {
		rc = pki_generate(&g);
		if (rc < 0)
			fprintf(stderr, "pki: no complete PKI written to %s (%s)\n", g.dir, strerror(-rc));
		else
			printf("pki: test PKI written to %s (%u files, valid %u days); manifest %s\n", g.dir,
			       g.n_files, days, manifest);
		rc = rc < 0 ? EXIT_USAGE : 0;
	}
	close(dfd);	/* releases the lock */
	return rc;
}

/* ------------------------------------------------------------------------------------------------ */
/* Reading a PKI back: show, verify */

struct pki_manifest {
	char *text;
	char **keys;
	char **values;
	unsigned int n;
};

static int manifest_load(void *ctx, const char *dir, struct pki_manifest *m)
{
	char *path = talloc_asprintf(ctx, "%s/%s", dir, PKI_MANIFEST);
	char *line, *save = NULL;
	size_t len;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!path)
		return -ENOMEM;
	rc = read_small_file(ctx, path, PKI_MANIFEST_MAX, (uint8_t **)&m->text, &len);
	if (rc < 0) {
		fprintf(stderr, "pki: cannot read %s: %s\n", path, strerror(-rc));
		return rc;
	}
	if (strlen(m->text) != len) {
		fprintf(stderr, "pki: %s: not a text file\n", path);
		return -EBADMSG;
	}
	for (line = strtok_r(m->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (!eq || eq == line) {
			fprintf(stderr, "pki: %s: line \"%.40s\" is not KEY=path\n", path, line);
			return -EBADMSG;
		}
		*eq = '\0';
		m->keys = talloc_realloc(ctx, m->keys, char *, m->n + 1);
		m->values = talloc_realloc(ctx, m->values, char *, m->n + 1);
		if (!m->keys || !m->values)
			return -ENOMEM;
		m->keys[m->n] = line;
		m->values[m->n] = eq + 1;
		m->n++;
	}
	return 0;
}

static const char *manifest_get(const struct pki_manifest *m, const char *key)
{
	unsigned int i;

	for (i = 0; i < m->n; i++) {
		if (!strcmp(m->keys[i], key))
			return m->values[i];
	}
	return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static X509 *load_x509(void *ctx, const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	X509 *x;

	if (!b)
		return NULL;
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	return own_x509(ctx, x);
}

static EVP_PKEY *load_key(void *ctx, const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	EVP_PKEY *k;

	if (!b)
		return NULL;
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	return own_pkey(ctx, k);
}

static struct gp_cert *load_gp(void *ctx, const char *path)
{
	struct gp_cert *c = NULL;
	uint8_t *buf;
	size_t len;

	if (read_small_file(ctx, path, PKI_FILE_MAX, &buf, &len) < 0)
		return NULL;
	if (gp_cert_parse(ctx, buf, len, &c) < 0)
		c = NULL;
	talloc_free(buf);
	return c;
}

static const char *key_curve(EVP_PKEY *k, char *buf, size_t size)
{
	size_t len = 0;

	if (!k || !EVP_PKEY_is_a(k, "EC") ||
	    EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, buf, size, &len) != 1)
		return "?";
	return buf;
}

static void print_name(const char *label, const X509_NAME *n)
{
	BIO *b = BIO_new_fp(stdout, BIO_NOCLOSE);

	printf("    %s: ", label);
	if (b) {
		X509_NAME_print_ex(b, n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
		BIO_free(b);
	}
	printf("\n");
}

static void print_time(const char *label, const ASN1_TIME *t)
{
	BIO *b = BIO_new_fp(stdout, BIO_NOCLOSE);

	printf("    %s: ", label);
	if (b) {
		ASN1_TIME_print(b, t);
		BIO_free(b);
	}
	printf("\n");
}

static void show_x509(void *ctx, const char *key, const char *path)
{
	X509 *x = load_x509(ctx, path);
	const ASN1_OCTET_STRING *ski;
	char curve[64];
	uint32_t xku;

	printf("%s  %s\n", key, path);
	if (!x) {
		printf("    (cannot read an X.509 PEM certificate)\n");
		return;
	}
	print_name("subject", X509_get_subject_name(x));
	print_name("issuer ", X509_get_issuer_name(x));
	print_time("not before", X509_get0_notBefore(x));
	print_time("not after ", X509_get0_notAfter(x));
	printf("    key: EC %s\n", key_curve(X509_get0_pubkey(x), curve, sizeof(curve)));
	/* without the extension OpenSSL reports every purpose: show only what the certificate says */
	xku = X509_get_ext_by_NID(x, NID_ext_key_usage, -1) >= 0 ? X509_get_extended_key_usage(x) : 0;
	printf("    ca: %s%s%s\n", X509_check_ca(x) ? "yes" : "no", xku & XKU_SSL_SERVER ? ", serverAuth" : "",
	       xku & XKU_SSL_CLIENT ? ", clientAuth" : "");
	ski = X509_get0_subject_key_id(x);
	if (ski) {
		printf("    subject key id: ");
		hex_print(stdout, ASN1_STRING_get0_data(ski), (size_t)ASN1_STRING_length(ski));
		printf("\n");
	}
}

static void show_gp(void *ctx, const char *key, const char *path)
{
	struct gp_cert *c = load_gp(ctx, path);
	const char *curve;

	printf("%s  %s\n", key, path);
	if (!c) {
		printf("    (cannot read a GP-format certificate)\n");
		return;
	}
	curve = gp_curve_name(c->curve_ref);
	printf("    GP 7F21, %zu bytes, serial ", c->raw_len);
	hex_print(stdout, c->serial, c->serial_len);
	printf("\n    subject id (5F20): ");
	hex_print(stdout, c->subject_id, c->subject_id_len);
	printf("\n    CA id (42):        ");
	hex_print(stdout, c->ca_id, c->ca_id_len);
	if (c->aki) {
		printf("\n    issuer key id (C9): ");
		hex_print(stdout, c->aki, c->aki_len);
	}
	printf("\n    entity type (C8): ");
	if (c->entity_type == GP_CERT_ENTITY_SMDP)
		printf("01 SM-DP");
	else if (c->entity_type == GP_CERT_ENTITY_SMSR)
		printf("02 SM-SR");
	else if (c->entity_type >= 0)
		printf("%02x", c->entity_type);
	else
		printf("none");
	printf("\n    key usage (95): ");
	hex_print(stdout, c->key_usage, c->key_usage_len);
	printf("\n    valid: ");
	if (c->has_effective)
		printf("%04u-%02u-%02u", c->effective.year, c->effective.month, c->effective.day);
	else
		printf("(no effective date)");
	printf(" .. %04u-%02u-%02u\n", c->expiration.year, c->expiration.month, c->expiration.day);
	printf("    curve: %s (F0 = %02x)\n", curve ? curve : "unknown", c->curve_ref);
	talloc_free(c);
}

static int pki_show(void *ctx, const char *dir)
{
	struct pki_manifest m;
	unsigned int i;

	if (manifest_load(ctx, dir, &m) < 0)
		return EXIT_USAGE;
	for (i = 0; i < m.n; i++) {
		const char *k = m.keys[i], *v = m.values[i];

		if (ends_with(v, ".gpcert"))
			show_gp(ctx, k, v);
		else if (ends_with(k, "_KEY")) {
			struct stat st;

			if (stat(v, &st) == 0)
				printf("%s  %s  (private key, mode %04o)\n", k, v, (unsigned int)(st.st_mode & 07777));
			else
				printf("%s  %s  (missing: %s)\n", k, v, strerror(errno));
		} else if (ends_with(v, ".pem"))
			show_x509(ctx, k, v);
		else
			printf("%s  %s\n", k, v);
	}
	return 0;
}

struct pki_check {
	unsigned int ok;
	unsigned int failed;
};

static void check(struct pki_check *c, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void check(struct pki_check *c, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		c->ok++;
	else
		c->failed++;
	printf("%s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static const char *need(struct pki_check *c, const struct pki_manifest *m, const char *key)
{
	const char *v = manifest_get(m, key);

	if (!v)
		check(c, false, "%s listed in %s", key, PKI_MANIFEST);
	return v;
}

/* A private key file: mode 0600 (no group/other bits), readable, and the pair of the certificate's key. */
static void verify_key(void *ctx, struct pki_check *c, const char *key, const char *path, EVP_PKEY *pub)
{
	EVP_PKEY *priv;
	struct stat st;

	if (stat(path, &st) < 0) {
		check(c, false, "%s: %s: %s", key, path, strerror(errno));
		return;
	}
	check(c, (st.st_mode & 0777) == 0600, "%s: mode %04o (0600 expected)", key, (unsigned int)(st.st_mode & 0777));
	priv = load_key(ctx, path);
	check(c, priv && pub && EVP_PKEY_eq(priv, pub) == 1, "%s: private key matches the certificate", key);
}

static int verify_x509_with(X509_STORE *store, X509 *x, int purpose, const char **err)
{
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	int ok = 0;

	*err = "out of memory";
	if (!sc)
		return 0;
	if (X509_STORE_CTX_init(sc, store, x, NULL) == 1) {
		if (purpose > 0)
			X509_STORE_CTX_set_purpose(sc, purpose);
		ok = X509_verify_cert(sc) == 1;
		*err = X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc));
	}
	X509_STORE_CTX_free(sc);
	ERR_clear_error();
	return ok;
}

static void verify_tls(void *ctx, struct pki_check *c, const struct pki_manifest *m)
{
	X509_STORE *store = X509_STORE_new();
	const char *bundle = need(c, m, "PKI_TLS_CA_BUNDLE");
	unsigned int i;

	if (!store)
		return;
	if (bundle) {
		bool loaded = X509_STORE_load_file(store, bundle) == 1;

		ERR_clear_error();
		check(c, loaded, "PKI_TLS_CA_BUNDLE: %s loads as a trust store", bundle);
	}
	for (i = 0; i < PKI_N_TLS; i++) {
		const struct pki_tls_entity *e = &g_tls[i];
		char kc[64], kk[64];
		const char *pc, *pk, *err = "";
		X509 *x;
		int purpose;
		bool ok;

		snprintf(kc, sizeof(kc), "%s_CERT", e->env);
		snprintf(kk, sizeof(kk), "%s_KEY", e->env);
		pc = need(c, m, kc);
		pk = need(c, m, kk);
		if (!pc || !pk)
			continue;
		x = load_x509(ctx, pc);
		check(c, x != NULL, "%s: %s is an X.509 PEM certificate", kc, pc);
		if (!x)
			continue;
		purpose = e->kind == PKI_TLS_SERVER ? X509_PURPOSE_SSL_SERVER :
			  e->kind == PKI_TLS_CLIENT ? X509_PURPOSE_SSL_CLIENT : 0;
		ok = verify_x509_with(store, x, purpose, &err);
		check(c, ok, "%s: CN=%s verifies against the CA bundle%s%s%s", kc, e->cn,
		      e->kind == PKI_TLS_SERVER ? " for serverAuth" :
		      e->kind == PKI_TLS_CLIENT ? " for clientAuth" : "", ok ? "" : ": ", ok ? "" : err);
		if (e->kind == PKI_TLS_SERVER) {
			ok = X509_check_host(x, "localhost", 0, 0, NULL) == 1 &&
			     X509_check_ip_asc(x, "127.0.0.1", 0) == 1;
			check(c, ok, "%s: names localhost and 127.0.0.1", kc);
		}
		if (e->kind == PKI_TLS_CA)
			check(c, X509_check_ca(x) != 0, "%s: is a CA certificate", kc);
		else
			check(c, X509_check_ca(x) == 0, "%s: is not a CA certificate", kc);
		verify_key(ctx, c, kk, pk, X509_get0_pubkey(x));
	}
	X509_STORE_free(store);
}

static void verify_gp_curve(void *ctx, struct pki_check *c, const struct pki_manifest *m, const struct pki_curve *cv,
			    time_t now)
{
	struct gp_cert *certs[PKI_GP_N] = { NULL };
	X509 *x509[PKI_GP_N] = { NULL };
	unsigned int i;
	int rc;

	for (i = 0; i < PKI_GP_N; i++) {
		const struct pki_gp_entity *e = &g_gp[i];
		char key[64];
		const char *p;
		EVP_PKEY *pub = NULL;
		uint8_t id[PKI_SKI_LEN];

		snprintf(key, sizeof(key), "PKI_GP_%s_%s_CERT", cv->env, e->env);
		p = need(c, m, key);
		if (p) {
			certs[i] = load_gp(ctx, p);
			check(c, certs[i] != NULL, "%s: %s is a GP-format (7F21) certificate", key, p);
		}
		if (certs[i]) {
			rc = gp_cert_pubkey(certs[i], &pub);
			pub = rc == 0 ? own_pkey(ctx, pub) : NULL;
			check(c, certs[i]->curve_ref == cv->ref && pub && gp_curve_of_key(pub) == cv->ref,
			      "%s: key on %s", key, cv->label);
			check(c, certs[i]->entity_type == e->entity_type, "%s: entity type %d", key, e->entity_type);
			check(c, pub && key_id(pub, id) == 0 && certs[i]->subject_id_len == PKI_SKI_LEN &&
			      !memcmp(certs[i]->subject_id, id, PKI_SKI_LEN), "%s: subject id = SHA-1 of the key", key);
		}
		snprintf(key, sizeof(key), "PKI_GP_%s_%s_KEY", cv->env, e->env);
		p = need(c, m, key);
		if (p)
			verify_key(ctx, c, key, p, pub);
		if (!e->x509)
			continue;
		snprintf(key, sizeof(key), "PKI_GP_%s_%s_X509", cv->env, e->env);
		p = need(c, m, key);
		if (!p)
			continue;
		x509[i] = load_x509(ctx, p);
		check(c, x509[i] != NULL, "%s: %s is an X.509 PEM certificate", key, p);
		if (x509[i] && certs[i]) {
			const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x509[i]);

			check(c, ski && (size_t)ASN1_STRING_length(ski) == certs[i]->subject_id_len &&
			      !memcmp(ASN1_STRING_get0_data(ski), certs[i]->subject_id, certs[i]->subject_id_len),
			      "%s: SubjectKeyIdentifier = the GP subject id", key);
			check(c, pub && EVP_PKEY_eq(X509_get0_pubkey(x509[i]), pub) == 1,
			      "%s: same key as the GP certificate", key);
		}
	}
	if (x509[PKI_GP_CI] && x509[PKI_GP_EUM]) {
		rc = X509_verify(x509[PKI_GP_EUM], X509_get0_pubkey(x509[PKI_GP_CI]));
		ERR_clear_error();
		check(c, rc == 1 && X509_check_issued(x509[PKI_GP_CI], x509[PKI_GP_EUM]) == X509_V_OK,
		      "PKI_GP_%s: X.509 EUM issued by the X.509 CI", cv->env);
	}
	if (!certs[PKI_GP_CI])
		return;
	rc = gp_cert_verify_chain(&certs[PKI_GP_CI], 1, &certs[PKI_GP_CI], 1, now);
	check(c, rc == 0, "PKI_GP_%s: CI is self-signed%s%s", cv->env, rc ? ": " : "", rc ? strerror(-rc) : "");
	for (i = PKI_GP_EUM; i < PKI_GP_N; i++) {
		if (!certs[i])
			continue;
		rc = gp_cert_verify_chain(&certs[i], 1, &certs[PKI_GP_CI], 1, now);
		check(c, rc == 0, "PKI_GP_%s: %s -> CI chain verifies%s%s", cv->env, g_gp[i].env, rc ? ": " : "",
		      rc ? strerror(-rc) : "");
		if (x509[PKI_GP_CI]) {
			/* the way an SGP.02 entity that holds the CI as X.509 checks it: SKI + key */
			const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x509[PKI_GP_CI]);

			rc = ski ? gp_cert_verify_with_key(certs[i], ASN1_STRING_get0_data(ski),
							   (size_t)ASN1_STRING_length(ski),
							   X509_get0_pubkey(x509[PKI_GP_CI]), now) : -ENOKEY;
			check(c, rc == 0, "PKI_GP_%s: %s verifies with the X.509 CI's key id and key%s%s", cv->env,
			      g_gp[i].env, rc ? ": " : "", rc ? strerror(-rc) : "");
		}
	}
}

static int pki_verify(void *ctx, const char *dir)
{
	struct pki_check c = { 0 };
	struct pki_manifest m;
	unsigned int i;

	if (manifest_load(ctx, dir, &m) < 0)
		return EXIT_USAGE;
	verify_tls(ctx, &c, &m);
	for (i = 0; i < PKI_N_CURVES; i++)
		verify_gp_curve(ctx, &c, &m, &g_curves[i], time(NULL));
	printf("pki verify: %u checks passed, %u failed\n", c.ok, c.failed);
	return c.failed ? EXIT_CHECK : 0;
}

/* ------------------------------------------------------------------------------------------------ */

int ctl_pki_main(int argc, char **argv)
{
	const char *cmd, *dir = NULL;
	unsigned long days = PKI_DAYS_DEFAULT;
	bool force = false, if_missing = false;
	void *ctx;
	int i, rc;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	cmd = argv[1];
	if (strcmp(cmd, "init") && strcmp(cmd, "show") && strcmp(cmd, "verify")) {
		fprintf(stderr, "pki: unknown command '%s'\n\n%s", cmd, usage_text);
		return EXIT_USAGE;
	}
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			return 0;
		} else if (!strcmp(cmd, "init") && !strcmp(a, "--force")) {
			force = true;
		} else if (!strcmp(cmd, "init") && !strcmp(a, "--if-missing")) {
			if_missing = true;
		} else if (!strcmp(cmd, "init") && !strcmp(a, "--days")) {
			char *end;

			if (i + 1 >= argc) {
				fprintf(stderr, "pki: --days needs a number\n");
				return EXIT_USAGE;
			}
			errno = 0;
			days = strtoul(argv[++i], &end, 10);
			if (errno || *end || end == argv[i] || days < 1 || days > PKI_DAYS_MAX ||
			    argv[i][0] == '-') {
				fprintf(stderr, "pki: --days: 1..%u expected, not '%s'\n", PKI_DAYS_MAX, argv[i]);
				return EXIT_USAGE;
			}
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "pki: %s: unknown option '%s'\n\n%s", cmd, a, usage_text);
			return EXIT_USAGE;
		} else if (!dir) {
			dir = a;
		} else {
			fprintf(stderr, "pki: %s: one DIR expected, got '%s' and '%s'\n", cmd, dir, a);
			return EXIT_USAGE;
		}
	}
	if (force && if_missing) {
		fprintf(stderr, "pki: init: --force and --if-missing contradict each other\n");
		return EXIT_USAGE;
	}
	if (!dir || !dir[0]) {
		fprintf(stderr, "pki: %s: DIR missing\n\n%s", cmd, usage_text);
		return EXIT_USAGE;
	}
	ctx = talloc_named_const(NULL, 0, "ctl_pki");
	if (!ctx)
		return EXIT_USAGE;
	if (!strcmp(cmd, "init"))
		rc = pki_init(ctx, dir, force, if_missing, (unsigned int)days);
	else if (!strcmp(cmd, "show"))
		rc = pki_show(ctx, dir);
	else
		rc = pki_verify(ctx, dir);
	talloc_free(ctx);
	return rc;
}
