/* Tests of the EIS XML-DSig (src/ws/xmldsig.c): sign then verify, tampering, unknown EUM, missing signature,
 * references to other data (wrapping), expired certificate. The test PKI (a CI, EUMs, a rogue CI and EUM, all EC
 * P-256) is made in the suite init with OpenSSL EVP/X509 calls. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/globals.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <talloc.h>

#include <sgp02/common/logging.h>
#include <sgp02/ws/eis.h>
#include <sgp02/ws/ws_codes.h>
#include <sgp02/ws/xmldsig.h>

#include "testlib.h"

#define DSIG_NS "http://www.w3.org/2000/09/xmldsig#"

struct pki {
	EVP_PKEY *key;
	X509 *cert;
	char *key_pem;
	size_t key_len;
	char *cert_pem;
	size_t cert_len;
};

static void *g_suite_ctx;
static xmlSchemaPtr g_schema;
static struct pki g_ci, g_eum1, g_eum2, g_self_eum, g_rogue_ci, g_rogue_eum, g_expired_eum;

/* -- test PKI --------------------------------------------------------------------------------------------------- */

static char *pem_of(int (*wr)(BIO *, void *), void *obj, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *s = NULL;
	long l;

	if (b && wr(b, obj)) {
		l = BIO_get_mem_data(b, &p);
		s = talloc_strndup(g_suite_ctx, p, (size_t)l);
		*len = (size_t)l;
	}
	BIO_free(b);
	return s;
}

static int wr_key(BIO *b, void *k)
{
	return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
}

static int wr_cert(BIO *b, void *x)
{
	return PEM_write_bio_X509(b, x);
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!e)
		return 0;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

/* an EC P-256 key and a certificate for it, signed by \a issuer (self-signed when NULL) */
static int mk(struct pki *out, const char *cn, const struct pki *issuer, bool ca, long from_s, long to_s)
{
	static long serial = 1;
	X509_NAME *name;
	X509 *x;

	out->key = EVP_EC_gen("P-256");
	x = X509_new();
	if (!out->key || !x)
		return -1;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from_s);
	X509_gmtime_adj(X509_getm_notAfter(x), to_s);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"sgp02 test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert) : name);
	X509_set_pubkey(x, out->key);
	if (!add_ext(x, issuer ? issuer->cert : x, NID_basic_constraints,
		     ca ? "critical,CA:TRUE" : "critical,CA:FALSE") ||
	    !add_ext(x, issuer ? issuer->cert : x, NID_key_usage,
		     ca ? "critical,keyCertSign,cRLSign,digitalSignature" : "critical,digitalSignature") ||
	    !add_ext(x, issuer ? issuer->cert : x, NID_subject_key_identifier, "hash"))
		return -1;
	if (issuer && !add_ext(x, issuer->cert, NID_authority_key_identifier, "keyid:always"))
		return -1;
	if (!X509_sign(x, issuer ? issuer->key : out->key, EVP_sha256()))
		return -1;
	out->cert = x;
	out->key_pem = pem_of(wr_key, out->key, &out->key_len);
	out->cert_pem = pem_of(wr_cert, out->cert, &out->cert_len);
	return out->key_pem && out->cert_pem ? 0 : -1;
}

static void pki_free(struct pki *p)
{
	EVP_PKEY_free(p->key);
	X509_free(p->cert);
	memset(p, 0, sizeof(*p));
}

/* -- helpers ---------------------------------------------------------------------------------------------------- */

static xmlNodePtr find(xmlNodePtr n, const char *name)
{
	xmlNodePtr c, r;

	for (; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrEqual(n->name, BAD_CAST name))
			return n;
		for (c = n->children; c; c = c->next) {
			r = find(c, name);
			if (r)
				return r;
		}
	}
	return NULL;
}

static xmlDocPtr load_fixture(void)
{
	const char *path = talloc_asprintf(g_test_ctx, "%s/tests/ws/data-eis/eis_full.xml", SGP02_SRCDIR);
	size_t len;
	uint8_t *buf = test_read_file(path, &len);
	xmlDocPtr d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	d = ws_eis_read_xml(g_test_ctx, buf, len, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	return d;
}

static xmlNodePtr eis_of(xmlDocPtr d)
{
	xmlNodePtr e = find(xmlDocGetRootElement(d), "Eis");

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	return e;
}

static struct ws_xmldsig_signer *signer_of(const struct pki *p)
{
	struct ws_xmldsig_signer *s = ws_xmldsig_signer_alloc(g_test_ctx, (const uint8_t *)p->key_pem, p->key_len,
							      (const uint8_t *)p->cert_pem, p->cert_len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

static struct ws_xmldsig_trust *trust_of(const struct pki *p1, const struct pki *p2)
{
	struct ws_xmldsig_trust *t = ws_xmldsig_trust_alloc(g_test_ctx);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	if (p1)
		CU_ASSERT_EQUAL(ws_xmldsig_trust_add_pem(t, (const uint8_t *)p1->cert_pem, p1->cert_len), 0);
	if (p2)
		CU_ASSERT_EQUAL(ws_xmldsig_trust_add_pem(t, (const uint8_t *)p2->cert_pem, p2->cert_len), 0);
	return t;
}

/* the fixture signed by \a p */
static xmlDocPtr signed_fixture(const struct pki *p)
{
	xmlDocPtr d = load_fixture();

	CU_ASSERT_EQUAL_FATAL(ws_xmldsig_sign_eis(signer_of(p), eis_of(d)), 0);
	return d;
}

static int verify(struct ws_xmldsig_trust *t, xmlDocPtr d, char **err)
{
	char *signer = NULL;
	int rc = ws_xmldsig_verify_eis(t, eis_of(d), g_test_ctx, &signer, err);

	if (rc)
		CU_ASSERT_PTR_NULL(signer);
	return rc;
}

static int validate(xmlDocPtr d)
{
	xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(g_schema);
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	rc = xmlSchemaValidateDoc(v, d);
	xmlSchemaFreeValidCtxt(v);
	return rc;
}

/* serialise and parse again, as a receiver would see the document */
static xmlDocPtr reparse(xmlDocPtr d)
{
	xmlChar *mem = NULL;
	int len = 0;
	xmlDocPtr r;

	xmlDocDumpMemory(d, &mem, &len);
	r = ws_eis_read_xml(g_test_ctx, mem, (size_t)len, NULL);
	xmlFree(mem);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	return r;
}

/* -- cases ------------------------------------------------------------------------------------------------------ */

static void test_sign_verify_ok(void)
{
	struct ws_xmldsig_trust *t = trust_of(&g_ci, NULL);
	xmlDocPtr d = signed_fixture(&g_eum1), r;
	char *signer = NULL, *err = NULL;
	struct ws_eis *eis = NULL;

	CU_ASSERT_EQUAL(ws_xmldsig_trust_count(t), 1);
	/* the signed request is still valid against the GSMA XSD */
	CU_ASSERT_EQUAL(validate(d), 0);
	CU_ASSERT_EQUAL(ws_xmldsig_verify_eis(t, eis_of(d), g_test_ctx, &signer, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(signer && strstr(signer, "CN=EUM1"));
	/* xmldsig_interop.sh checks this file with an independent implementation */
	if (getenv("XMLDSIG_TEST_OUT")) {
		FILE *f = fopen(getenv("XMLDSIG_TEST_OUT"), "w");

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		xmlDocDump(f, d);
		fclose(f);
	}
	/* and after a trip over the wire */
	r = reparse(d);
	CU_ASSERT_EQUAL(verify(t, r, NULL), 0);
	/* the signed EIS parses */
	CU_ASSERT_EQUAL(ws_eis_parse(g_test_ctx, eis_of(r), &eis, NULL), 0);
	/* signing again replaces the signature (one Signature, still valid) */
	CU_ASSERT_EQUAL(ws_xmldsig_sign_eis(signer_of(&g_eum2), eis_of(d)), 0);
	CU_ASSERT_EQUAL(ws_xmldsig_verify_eis(t, eis_of(d), g_test_ctx, &signer, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(signer && strstr(signer, "CN=EUM2"));
	CU_ASSERT_EQUAL(validate(d), 0);
	xmlFreeDoc(r);
	xmlFreeDoc(d);
}

/* trust given as the EUM's own self-signed certificate instead of a CI */
static void test_trusted_self_signed_eum(void)
{
	struct ws_xmldsig_trust *t = trust_of(&g_self_eum, NULL);
	xmlDocPtr d = signed_fixture(&g_self_eum);

	CU_ASSERT_EQUAL(verify(t, d, NULL), 0);
	xmlFreeDoc(d);
}

/* trust given as the EUM certificate itself (issued by a CI that is not in the set) */
static void test_trusted_eum_leaf(void)
{
	struct ws_xmldsig_trust *t = trust_of(&g_eum1, NULL);
	xmlDocPtr d = signed_fixture(&g_eum1), o = signed_fixture(&g_eum2);
	char *signer = NULL;

	CU_ASSERT_EQUAL(ws_xmldsig_verify_eis(t, eis_of(d), g_test_ctx, &signer, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(signer && strstr(signer, "CN=EUM1"));
	/* a sibling EUM of the same CI is not trusted by that */
	CU_ASSERT_EQUAL(verify(t, o, NULL), -EKEYREJECTED);
	/* content changed: still a bad signature on this path */
	xmlNodeSetContent(find(eis_of(d), "Eid"), BAD_CAST "89049032000000000000000000009960");
	CU_ASSERT_EQUAL(verify(t, d, NULL), -EBADMSG);
	xmlFreeDoc(d);
	xmlFreeDoc(o);

	/* an expired EUM certificate, even when trusted as such */
	t = trust_of(&g_expired_eum, NULL);
	d = signed_fixture(&g_expired_eum);
	CU_ASSERT_EQUAL(verify(t, d, NULL), -EKEYREJECTED);
	xmlFreeDoc(d);
}

/* a signature added to an EIS built from the struct (no blank text) survives parse + build: GetEIS returns an
 * EIS whose signature still verifies */
static void test_signature_survives_rebuild(void)
{
	struct ws_xmldsig_trust *t = trust_of(&g_ci, NULL);
	xmlDocPtr d = load_fixture(), b1, b2;
	struct ws_eis *eis = NULL, *eis2 = NULL;
	xmlNodePtr root;
	xmlNsPtr ns;

	CU_ASSERT_EQUAL_FATAL(ws_eis_parse(g_test_ctx, eis_of(d), &eis, NULL), 0);
	b1 = xmlNewDoc(BAD_CAST "1.0");
	root = xmlNewDocNode(b1, NULL, BAD_CAST "ES1-RegisterEISRequest", NULL);
	ns = xmlNewNs(root, BAD_CAST WS_EIS_NS, BAD_CAST "rps");
	xmlSetNs(root, ns);
	xmlDocSetRootElement(b1, root);
	xmlNewChild(root, ns, BAD_CAST "FunctionCallIdentifier", BAD_CAST "x");
	CU_ASSERT_EQUAL_FATAL(ws_eis_build(eis, root, "Eis", ns, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(ws_xmldsig_sign_eis(signer_of(&g_eum1), eis_of(b1)), 0);
	CU_ASSERT_EQUAL_FATAL(ws_eis_parse(g_test_ctx, eis_of(b1), &eis2, NULL), 0);

	b2 = xmlNewDoc(BAD_CAST "1.0");
	root = xmlNewDocNode(b2, NULL, BAD_CAST "ES2-GetEISResponse", NULL);
	ns = xmlNewNs(root, BAD_CAST WS_EIS_NS, BAD_CAST "x");
	xmlSetNs(root, ns);
	xmlDocSetRootElement(b2, root);
	CU_ASSERT_EQUAL_FATAL(ws_eis_build(eis2, root, "Eis", ns, NULL), 0);
	CU_ASSERT_EQUAL(verify(t, b2, NULL), 0);
	xmlFreeDoc(b2);
	xmlFreeDoc(b1);
	xmlFreeDoc(d);
}

static void test_tampered_eid(void)
{
	struct ws_xmldsig_trust *t = trust_of(&g_ci, NULL);
	xmlDocPtr d = signed_fixture(&g_eum1);
	char *err = NULL;

	/* another valid EID: only the signature can tell */
	xmlNodeSetContent(find(eis_of(d), "Eid"), BAD_CAST "89049032000000000000000000009960");
	CU_ASSERT_EQUAL(verify(t, d, &err), -EBADMSG);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "bad signature"));
	xmlFreeDoc(d);

	/* a changed capability, an added comment is fine (c14n without comments), added whitespace is not */
	d = signed_fixture(&g_eum1);
	xmlNodeSetContent(find(eis_of(d), "HttpSupport"), BAD_CAST "false");
	CU_ASSERT_EQUAL(verify(t, d, NULL), -EBADMSG);
	xmlFreeDoc(d);

	d = signed_fixture(&g_eum1);
	xmlAddChild(find(eis_of(d), "EumSignedInfo"), xmlNewDocComment(d, BAD_CAST "hello"));
	CU_ASSERT_EQUAL(verify(t, d, NULL), 0);
	xmlAddChild(find(eis_of(d), "EumSignedInfo"), xmlNewDocText(d, BAD_CAST " "));
	CU_ASSERT_EQUAL(verify(t, d, NULL), -EBADMSG);
	xmlFreeDoc(d);

	/* a changed signature value */
	d = signed_fixture(&g_eum1);
	{
		xmlNodePtr sv = find(eis_of(d), "SignatureValue");
		xmlChar *v = xmlNodeGetContent(sv);
		char *s = talloc_strdup(g_test_ctx, (char *)v);

		xmlFree(v);
		s[5] = s[5] == 'A' ? 'B' : 'A';
		xmlNodeSetContent(sv, BAD_CAST s);
	}
	CU_ASSERT_EQUAL(verify(t, d, NULL), -EBADMSG);
	xmlFreeDoc(d);
}

/* the SM-SR keeps the rest of the EIS up to date: only EumSignedInfo is signed */
static void test_outside_signed_info_not_covered(void)
{
	struct ws_xmldsig_trust *t = trust_of(&g_ci, NULL);
	xmlDocPtr d = signed_fixture(&g_eum1);

	xmlNodeSetContent(find(eis_of(d), "RemainingMemory"), BAD_CAST "1");
	CU_ASSERT_EQUAL(verify(t, d, NULL), 0);
	xmlFreeDoc(d);
}

static void test_unknown_eum(void)
{
	struct ws_xmldsig_trust *t = trust_of(&g_ci, NULL), *empty;
	xmlDocPtr d = signed_fixture(&g_rogue_eum);
	char *err = NULL;

	CU_ASSERT_EQUAL(verify(t, d, &err), -EKEYREJECTED);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "unknown EUM"));
	/* trusting the rogue CI helps */
	CU_ASSERT_EQUAL(ws_xmldsig_trust_add_pem(t, (const uint8_t *)g_rogue_ci.cert_pem, g_rogue_ci.cert_len), 0);
	CU_ASSERT_EQUAL(verify(t, d, NULL), 0);
	xmlFreeDoc(d);

	/* nothing trusted at all */
	empty = trust_of(NULL, NULL);
	d = signed_fixture(&g_eum1);
	CU_ASSERT_EQUAL(verify(empty, d, NULL), -EKEYREJECTED);
	xmlFreeDoc(d);

	/* a self-signed certificate that is not in the trusted set */
	d = signed_fixture(&g_self_eum);
	CU_ASSERT_EQUAL(verify(t, d, NULL), -EKEYREJECTED);
	xmlFreeDoc(d);
}

/* rogue key, but the KeyInfo names a trusted EUM's certificate: the key is the trusted one, the value is wrong */
static void test_borrowed_certificate(void)
{
	struct ws_xmldsig_trust *t = trust_of(&g_ci, NULL);
	xmlDocPtr good = signed_fixture(&g_eum1), d = signed_fixture(&g_rogue_eum);
	xmlNodePtr ki = find(eis_of(d), "KeyInfo"), good_ki = find(eis_of(good), "KeyInfo");

	xmlReplaceNode(ki, xmlDocCopyNode(good_ki, d, 1));
	xmlFreeNode(ki);
	CU_ASSERT_EQUAL(verify(t, d, NULL), -EBADMSG);
	xmlFreeDoc(d);
	xmlFreeDoc(good);
}

static void test_no_key_info(void)
{
	struct ws_xmldsig_trust *t = trust_of(&g_ci, NULL);
	xmlDocPtr d = signed_fixture(&g_eum1);
	xmlNodePtr ki = find(eis_of(d), "KeyInfo");

	xmlUnlinkNode(ki);
	xmlFreeNode(ki);
	CU_ASSERT_EQUAL(verify(t, d, NULL), -EKEYREJECTED);
	xmlFreeDoc(d);
}

/* a key given as KeyValue (the signer's choice) is never used */
static void test_key_value_ignored(void)
{
	struct ws_xmldsig_trust *t = trust_of(&g_ci, NULL);
	xmlDocPtr d = signed_fixture(&g_rogue_eum);
	xmlNodePtr ki = find(eis_of(d), "KeyInfo"), x5 = find(ki, "X509Data"), kv;

	xmlUnlinkNode(x5);
	xmlFreeNode(x5);
	kv = xmlNewChild(ki, ki->ns, BAD_CAST "KeyValue", NULL);
	xmlNewChild(kv, ki->ns, BAD_CAST "ECKeyValue", NULL);
	CU_ASSERT_EQUAL(verify(t, d, NULL), -EKEYREJECTED);
	xmlFreeDoc(d);
}

static void test_expired_eum(void)
{
	struct ws_xmldsig_trust *t = trust_of(&g_ci, NULL);
	xmlDocPtr d = signed_fixture(&g_expired_eum);

	CU_ASSERT_EQUAL(verify(t, d, NULL), -EKEYREJECTED);
	xmlFreeDoc(d);
}

static void test_no_signature(void)
{
	struct ws_xmldsig_trust *t = trust_of(&g_ci, NULL);
	xmlDocPtr d = load_fixture();
	xmlNodePtr s = find(eis_of(d), "EumSignature"), c;
	char *err = NULL;

	/* empty EumSignature */
	while ((c = s->children)) {
		xmlUnlinkNode(c);
		xmlFreeNode(c);
	}
	CU_ASSERT_EQUAL(verify(t, d, &err), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "no EumSignature"));
	/* no EumSignature at all */
	xmlUnlinkNode(s);
	xmlFreeNode(s);
	CU_ASSERT_EQUAL(verify(t, d, NULL), -ENOENT);
	xmlFreeDoc(d);

	/* the fixture's dummy (never computed) signature */
	d = load_fixture();
	CU_ASSERT_NOT_EQUAL(verify(t, d, NULL), 0);
	xmlFreeDoc(d);

	/* not an Eis at all */
	d = load_fixture();
	CU_ASSERT_EQUAL(ws_xmldsig_verify_eis(t, xmlDocGetRootElement(d), g_test_ctx, NULL, NULL), -EPROTO);
	xmlFreeDoc(d);
}

static xmlNodePtr reference_of(xmlDocPtr d)
{
	xmlNodePtr r = find(eis_of(d), "Reference");

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	return r;
}

static void test_wrong_reference(void)
{
	struct ws_xmldsig_trust *t = trust_of(&g_ci, NULL);
	xmlDocPtr d;
	xmlNodePtr r, obj, tr;
	char *err = NULL;

	/* a URI to another element */
	d = signed_fixture(&g_eum1);
	xmlSetProp(reference_of(d), BAD_CAST "URI", BAD_CAST "#other");
	CU_ASSERT_EQUAL(verify(t, d, &err), -EPROTO);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, "does not cover"));
	xmlFreeDoc(d);

	/* a URI outside (never fetched) */
	d = signed_fixture(&g_eum1);
	xmlSetProp(reference_of(d), BAD_CAST "URI", BAD_CAST "http://127.0.0.1:9/eis.xml");
	CU_ASSERT_EQUAL(verify(t, d, NULL), -EPROTO);
	xmlFreeDoc(d);

	/* wrapping: the signed EumSignedInfo hidden in a ds:Object, an attacker's EumSignedInfo in its place */
	d = signed_fixture(&g_eum1);
	{
		xmlNodePtr si = find(eis_of(d), "EumSignedInfo"), sig = find(eis_of(d), "EumSignature"), fake;

		fake = xmlDocCopyNode(si, d, 1);
		obj = xmlNewChild(sig, xmlSearchNsByHref(d, sig->children, BAD_CAST DSIG_NS) ?: sig->ns,
				  BAD_CAST "Object", NULL);
		xmlSetNs(obj, xmlSearchNsByHref(d, find(sig, "SignedInfo"), BAD_CAST DSIG_NS));
		xmlUnlinkNode(si);
		xmlAddChild(obj, si);
		xmlAddPrevSibling(sig, fake);
		xmlNodeSetContent(find(fake, "Eid"), BAD_CAST "89049032000000000000000000009960");
	}
	CU_ASSERT_EQUAL(verify(t, d, NULL), -EPROTO);
	xmlFreeDoc(d);

	/* two references */
	d = signed_fixture(&g_eum1);
	r = reference_of(d);
	xmlAddNextSibling(r, xmlDocCopyNode(r, d, 1));
	CU_ASSERT_EQUAL(verify(t, d, NULL), -EPROTO);
	xmlFreeDoc(d);

	/* an XPath transform (could select anything) */
	d = signed_fixture(&g_eum1);
	tr = find(reference_of(d), "Transform");
	xmlSetProp(tr, BAD_CAST "Algorithm", BAD_CAST "http://www.w3.org/TR/1999/REC-xpath-19991116");
	CU_ASSERT_EQUAL(verify(t, d, NULL), -EPROTO);
	xmlFreeDoc(d);

	/* a signature taken from another EIS (another EID) */
	{
		xmlDocPtr a = signed_fixture(&g_eum1), b = load_fixture();
		xmlNodePtr bs = find(eis_of(b), "EumSignature");

		xmlNodeSetContent(find(eis_of(b), "Eid"), BAD_CAST "89049032000000000000000000009960");
		xmlReplaceNode(bs, xmlDocCopyNode(find(eis_of(a), "EumSignature"), b, 1));
		xmlFreeNode(bs);
		CU_ASSERT_EQUAL(verify(t, b, NULL), -EBADMSG);
		xmlFreeDoc(a);
		xmlFreeDoc(b);
	}
}

/* every element of the signature removed in turn: always refused with one of the documented errors, never a crash */
static void test_each_element_removed(void)
{
	struct ws_xmldsig_trust *t = trust_of(&g_ci, NULL);
	unsigned int i, n = 0;

	for (i = 0; i < 64; i++) {
		xmlDocPtr d = signed_fixture(&g_eum1);
		xmlNodePtr sig = find(eis_of(d), "EumSignature"), cur = sig, victim = NULL;
		unsigned int k = 0;
		int rc;

		/* the i-th element below EumSignature in document order */
		while (cur && !victim) {
			if (cur->children && cur->children->type != XML_TEXT_NODE)
				cur = cur->children;
			else if (cur->children && cur->children->next)
				cur = cur->children->next;
			else {
				while (cur != sig && !cur->next)
					cur = cur->parent;
				cur = cur == sig ? NULL : cur->next;
			}
			if (cur && cur->type == XML_ELEMENT_NODE && k++ == i)
				victim = cur;
		}
		if (!victim) {
			xmlFreeDoc(d);
			break;
		}
		n++;
		xmlUnlinkNode(victim);
		xmlFreeNode(victim);
		rc = verify(t, d, NULL);
		CU_ASSERT(rc == -ENOENT || rc == -EKEYREJECTED || rc == -EBADMSG || rc == -EPROTO);
		xmlFreeDoc(d);
	}
	/* SignedInfo, its 3 children, 2 transforms, DigestMethod/Value, SignatureValue, KeyInfo, X509Data, cert */
	CU_ASSERT(n >= 12);
}

static void test_bad_inputs(void)
{
	struct ws_xmldsig_trust *t = trust_of(NULL, NULL);
	const char *junk = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

	CU_ASSERT_EQUAL(ws_xmldsig_trust_add_pem(t, (const uint8_t *)"hello", 5), -EINVAL);
	CU_ASSERT_EQUAL(ws_xmldsig_trust_add_pem(t, (const uint8_t *)junk, strlen(junk)), -EINVAL);
	CU_ASSERT_EQUAL(ws_xmldsig_trust_count(t), 0);
	CU_ASSERT_EQUAL(ws_xmldsig_trust_add_file(t, "/nonexistent/ci.pem"), -ENOENT);
	/* key and certificate that do not match, or garbage */
	CU_ASSERT_PTR_NULL(ws_xmldsig_signer_alloc(g_test_ctx, (const uint8_t *)"x", 1,
						   (const uint8_t *)g_eum1.cert_pem, g_eum1.cert_len));
	/* signing something that is no Eis */
	{
		xmlDocPtr d = load_fixture();

		CU_ASSERT_EQUAL(ws_xmldsig_sign_eis(signer_of(&g_eum1), xmlDocGetRootElement(d)), -EPROTO);
		xmlFreeDoc(d);
	}
}

/* a bundle file with two certificates */
static void test_trust_file(void)
{
	const char *path = talloc_asprintf(g_test_ctx, "%s/tests/ws/xmldsig_test.bundle.pem", SGP02_BUILDDIR);
	FILE *f = fopen(path, "w");
	struct ws_xmldsig_trust *t = trust_of(NULL, NULL);
	xmlDocPtr d = signed_fixture(&g_rogue_eum);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(g_ci.cert_pem, f);
	fputs(g_rogue_ci.cert_pem, f);
	fclose(f);
	CU_ASSERT_EQUAL(ws_xmldsig_trust_add_file(t, path), 0);
	CU_ASSERT_EQUAL(ws_xmldsig_trust_count(t), 2);
	CU_ASSERT_EQUAL(verify(t, d, NULL), 0);
	unlink(path);
	xmlFreeDoc(d);
}

/* the last object freed shuts xmlsec down; the next one starts it again */
static void test_full_restart(void)
{
	unsigned int round;

	/* drop the suite's own reference for the time of this test */
	ws_xmldsig_shutdown();
	for (round = 0; round < 2; round++) {
		void *ctx = talloc_new(g_test_ctx);
		struct ws_xmldsig_trust *t = ws_xmldsig_trust_alloc(ctx);
		struct ws_xmldsig_signer *sg = ws_xmldsig_signer_alloc(ctx, (const uint8_t *)g_eum1.key_pem,
								      g_eum1.key_len, (const uint8_t *)g_eum1.cert_pem,
								      g_eum1.cert_len);
		xmlDocPtr d = load_fixture();

		CU_ASSERT_PTR_NOT_NULL_FATAL(t);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sg);
		CU_ASSERT_EQUAL(ws_xmldsig_trust_add_pem(t, (const uint8_t *)g_ci.cert_pem, g_ci.cert_len), 0);
		CU_ASSERT_EQUAL(ws_xmldsig_sign_eis(sg, eis_of(d)), 0);
		CU_ASSERT_EQUAL(ws_xmldsig_verify_eis(t, eis_of(d), ctx, NULL, NULL), 0);
		xmlFreeDoc(d);
		talloc_free(ctx);
	}
	CU_ASSERT_EQUAL(ws_xmldsig_init(), 0);
}

/* xmldsig_interop.sh: an EIS signed by another implementation (XMLDSIG_TEST_IN), trusted certificate file
 * (XMLDSIG_TEST_TRUST); nothing to do without them */
static void test_external_signature(void)
{
	const char *in = getenv("XMLDSIG_TEST_IN"), *trust = getenv("XMLDSIG_TEST_TRUST");
	struct ws_xmldsig_trust *t;
	size_t len;
	uint8_t *buf;
	xmlDocPtr d;
	char *err = NULL;

	if (!in || !trust)
		return;
	t = trust_of(NULL, NULL);
	CU_ASSERT_EQUAL_FATAL(ws_xmldsig_trust_add_file(t, trust), 0);
	buf = test_read_file(in, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	d = ws_eis_read_xml(g_test_ctx, buf, len, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(verify(t, d, &err), 0);
	if (err)
		printf("\nexternal signature: %s\n", err);
	xmlNodeSetContent(find(eis_of(d), "Eid"), BAD_CAST "89049032000000000000000000009960");
	CU_ASSERT_EQUAL(verify(t, d, NULL), -EBADMSG);
	xmlFreeDoc(d);
}

static void test_status_codes(void)
{
	const char *s, *r;

	ws_xmldsig_status(-ENOENT, &s, &r);
	CU_ASSERT_STRING_EQUAL(s, WS_SUBJ_EIS);
	CU_ASSERT_STRING_EQUAL(r, WS_REASON_MANDATORY_MISSING);
	ws_xmldsig_status(-EKEYREJECTED, &s, &r);
	CU_ASSERT_STRING_EQUAL(r, WS_REASON_VERIFICATION_FAILED);
	ws_xmldsig_status(-EBADMSG, &s, &r);
	CU_ASSERT_STRING_EQUAL(r, WS_REASON_VERIFICATION_FAILED);
	ws_xmldsig_status(-ENOMEM, &s, &r);
	CU_ASSERT_STRING_EQUAL(s, WS_SUBJ_FUNCTION_PROVIDER);
	ws_eis_parse_status(-ENOENT, &s, &r);
	CU_ASSERT_STRING_EQUAL(s, WS_SUBJ_EIS);
	CU_ASSERT_STRING_EQUAL(r, WS_REASON_MANDATORY_MISSING);
	ws_eis_parse_status(-EBADMSG, &s, &r);
	CU_ASSERT_STRING_EQUAL(r, WS_REASON_INVALID);
}

/* xmlsec can be shut down and started again; OpenSSL keeps working for the rest of the process */
static void test_init_refcount(void)
{
	EVP_MD_CTX *m;
	uint8_t md[32];
	unsigned int l;

	CU_ASSERT_EQUAL(ws_xmldsig_init(), 0);
	/* xmlsec must not switch libxml2 to entity substitution or external DTD loading for everyone */
	CU_ASSERT_EQUAL(xmlSubstituteEntitiesDefaultValue, 0);
	CU_ASSERT_EQUAL(xmlLoadExtDtdDefaultValue, 0);
	ws_xmldsig_shutdown();
	m = EVP_MD_CTX_new();
	CU_ASSERT_EQUAL(EVP_DigestInit_ex(m, EVP_sha256(), NULL), 1);
	CU_ASSERT_EQUAL(EVP_DigestFinal_ex(m, md, &l), 1);
	EVP_MD_CTX_free(m);
}

/* -------------------------------------------------------------------------------------------------------------- */

static int suite_init(void)
{
	char *xsd;
	xmlSchemaParserCtxtPtr pc;

	g_suite_ctx = talloc_named_const(NULL, 0, "xmldsig_test");
	osmo_init_logging2(g_suite_ctx, &sgp02_log_info);
	log_set_print_category(osmo_stderr_target, 1);
	if (ws_xmldsig_init())
		return -1;
	if (mk(&g_ci, "Test CI", NULL, true, -3600, 86400) || mk(&g_eum1, "EUM1", &g_ci, false, -3600, 86400) ||
	    mk(&g_eum2, "EUM2", &g_ci, false, -3600, 86400) || mk(&g_self_eum, "EUM self", NULL, false, -3600, 86400) ||
	    mk(&g_rogue_ci, "Rogue CI", NULL, true, -3600, 86400) ||
	    mk(&g_rogue_eum, "Rogue EUM", &g_rogue_ci, false, -3600, 86400) ||
	    mk(&g_expired_eum, "EUM expired", &g_ci, false, -7200, -3600))
		return -1;
	xsd = talloc_asprintf(g_suite_ctx, "%s/spec/gsma-esim-messaging-3/all-requests.xsd", test_shared_dir());
	pc = xmlSchemaNewParserCtxt(xsd);
	if (!pc)
		return -1;
	g_schema = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	return g_schema ? 0 : -1;
}

static int suite_cleanup(void)
{
	pki_free(&g_ci);
	pki_free(&g_eum1);
	pki_free(&g_eum2);
	pki_free(&g_self_eum);
	pki_free(&g_rogue_ci);
	pki_free(&g_rogue_eum);
	pki_free(&g_expired_eum);
	xmlSchemaFree(g_schema);
	g_schema = NULL;
	ws_xmldsig_shutdown();
	log_fini();
	talloc_free(g_suite_ctx);
	return 0;
}

static const struct test_case dsig_cases[] = {
	TEST_CASE(test_sign_verify_ok),
	TEST_CASE(test_trusted_self_signed_eum),
	TEST_CASE(test_trusted_eum_leaf),
	TEST_CASE(test_signature_survives_rebuild),
	TEST_CASE(test_tampered_eid),
	TEST_CASE(test_outside_signed_info_not_covered),
	TEST_CASE(test_unknown_eum),
	TEST_CASE(test_borrowed_certificate),
	TEST_CASE(test_no_key_info),
	TEST_CASE(test_key_value_ignored),
	TEST_CASE(test_expired_eum),
	TEST_CASE(test_no_signature),
	TEST_CASE(test_wrong_reference),
	TEST_CASE(test_each_element_removed),
	TEST_CASE(test_bad_inputs),
	TEST_CASE(test_trust_file),
	TEST_CASE(test_full_restart),
	TEST_CASE(test_external_signature),
	TEST_CASE(test_status_codes),
	TEST_CASE(test_init_refcount),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "xmldsig", suite_init, suite_cleanup, dsig_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
