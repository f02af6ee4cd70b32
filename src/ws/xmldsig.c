/* XML-DSig of the EIS EumSignature with libxmlsec1/OpenSSL (see xmldsig.h; digest §3.1, §10.2). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/tree.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <talloc.h>

#include <xmlsec/xmlsec.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/keysmngr.h>
#include <xmlsec/templates.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/openssl/x509.h>

#include <osmocom/core/logging.h>

#include <sgp02/common/logging.h>
#include <sgp02/ws/ws_codes.h>
#include <sgp02/ws/xmldsig.h>

#define DSIG_NS		"http://www.w3.org/2000/09/xmldsig#"
#define MAX_PEM_FILE	(1024 * 1024)

struct trusted_der {
	uint8_t *der;
	size_t len;
};

struct ws_xmldsig_trust {
	xmlSecKeysMngrPtr mngr;		/*!< trusted certificates for chain verification by xmlsec */
	unsigned int count;
	struct trusted_der *ders;	/*!< the same certificates (DER), to recognise a trusted EUM leaf */
};

struct ws_xmldsig_signer {
	xmlSecKeyPtr key;
	bool rsa;
};

static unsigned int g_xmlsec_users;

/* xmlsec reports through this: keep it at debug level (verification failures are answered, not shouted) */
static void xmlsec_err_cb(const char *file, int line, const char *func, const char *obj, const char *subj,
			  int reason, const char *msg)
{
	(void)file;
	(void)line;
	LOGP(DWS, LOGL_DEBUG, "xmlsec: %s: %s%s%s reason=%d %s\n", func ? func : "?", obj ? obj : "",
	     subj ? " " : "", subj ? subj : "", reason, msg ? msg : "");
}

int ws_xmldsig_init(void)
{
	if (g_xmlsec_users++)
		return 0;
	if (xmlSecInit() < 0)
		goto fail;
	if (xmlSecCheckVersion() != 1) {
		xmlSecShutdown();
		goto fail;
	}
	if (xmlSecCryptoAppInit(NULL) < 0) {
		xmlSecShutdown();
		goto fail;
	}
	if (xmlSecCryptoInit() < 0) {
		xmlSecCryptoAppShutdown();
		xmlSecShutdown();
		goto fail;
	}
	/* no input callbacks at all: xmlsec cannot open a file or a URL for a Reference or a RetrievalMethod */
	xmlSecIOCleanupCallbacks();
	xmlSecErrorsSetCallback(xmlsec_err_cb);
	return 0;
fail:
	g_xmlsec_users = 0;
	LOGP(DWS, LOGL_ERROR, "xmlsec initialisation failed\n");
	return -EIO;
}

void ws_xmldsig_shutdown(void)
{
	if (!g_xmlsec_users || --g_xmlsec_users)
		return;
	xmlSecCryptoShutdown();
	xmlSecCryptoAppShutdown();
	xmlSecShutdown();
}

/* ---------------------------------------------------------------------------------------------------------------
 * trusted certificates
 */

static int trust_destructor(struct ws_xmldsig_trust *t)
{
	if (t->mngr)
		xmlSecKeysMngrDestroy(t->mngr);
	t->mngr = NULL;
	ws_xmldsig_shutdown();
	return 0;
}

struct ws_xmldsig_trust *ws_xmldsig_trust_alloc(void *ctx)
{
	struct ws_xmldsig_trust *t;

	if (ws_xmldsig_init())
		return NULL;
	t = talloc_zero(ctx, struct ws_xmldsig_trust);
	if (!t) {
		ws_xmldsig_shutdown();
		return NULL;
	}
	talloc_set_destructor(t, trust_destructor);
	t->mngr = xmlSecKeysMngrCreate();
	if (!t->mngr || xmlSecCryptoAppDefaultKeysMngrInit(t->mngr) < 0) {
		talloc_free(t);
		return NULL;
	}
	return t;
}

int ws_xmldsig_trust_add_pem(struct ws_xmldsig_trust *t, const uint8_t *pem, size_t len)
{
	BIO *bio;
	X509 *x;
	unsigned int added = 0;
	int rc = 0;

	if (!t || !pem || len > MAX_PEM_FILE)
		return -EINVAL;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return -ENOMEM;
	/* split the bundle: xmlsec loads one DER certificate at a time */
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		unsigned char *der = NULL;
		int dl = i2d_X509(x, &der);

		if (dl <= 0 || xmlSecCryptoAppKeysMngrCertLoadMemory(t->mngr, der, (xmlSecSize)dl,
								     xmlSecKeyDataFormatDer,
								     xmlSecKeyDataTypeTrusted) < 0) {
			rc = -EINVAL;
		} else {
			struct trusted_der *n = talloc_realloc(t, t->ders, struct trusted_der, t->count + added + 1);

			if (n) {
				t->ders = n;
				n[t->count + added].der = talloc_memdup(t->ders, der, (size_t)dl);
				n[t->count + added].len = (size_t)dl;
			}
			if (!n || !n[t->count + added].der)
				rc = -ENOMEM;
			else
				added++;
		}
		OPENSSL_free(der);
		X509_free(x);
		if (rc)
			break;
	}
	ERR_clear_error();
	BIO_free(bio);
	/* the certificates before a bad one are in the keys manager already: count them */
	t->count += added;
	if (rc)
		return rc;
	return added ? 0 : -EINVAL;
}

int ws_xmldsig_trust_add_file(struct ws_xmldsig_trust *t, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
	struct stat st;
	uint8_t *buf;
	ssize_t n;
	size_t got = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > MAX_PEM_FILE) {
		close(fd);
		return -EINVAL;
	}
	buf = talloc_size(NULL, (size_t)st.st_size);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	rc = ws_xmldsig_trust_add_pem(t, buf, got);
	talloc_free(buf);
	return rc;
}

unsigned int ws_xmldsig_trust_count(const struct ws_xmldsig_trust *t)
{
	return t ? t->count : 0;
}

/* ---------------------------------------------------------------------------------------------------------------
 * structure checks
 */

static xmlNodePtr first_elem(xmlNodePtr n)
{
	for (; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

static xmlNodePtr next_elem(xmlNodePtr n)
{
	return n ? first_elem(n->next) : NULL;
}

static bool is_elem(xmlNodePtr n, const char *ns, const char *name)
{
	const xmlChar *href = n && n->ns ? n->ns->href : NULL;

	if (!n || n->type != XML_ELEMENT_NODE || !xmlStrEqual(n->name, BAD_CAST name))
		return false;
	if (!ns || !href)
		return !ns && !href;
	return xmlStrEqual(href, BAD_CAST ns);
}

/* the two first children of the Eis: EumSignedInfo then EumSignature, in the Eis's namespace */
static int find_parts(xmlNodePtr eis, xmlNodePtr *si, xmlNodePtr *sig)
{
	const char *ns = eis && eis->ns ? (const char *)eis->ns->href : NULL;

	if (!eis || eis->type != XML_ELEMENT_NODE)
		return -EPROTO;
	*si = first_elem(eis->children);
	if (!is_elem(*si, ns, "EumSignedInfo"))
		return -EPROTO;
	*sig = next_elem(*si);
	if (!is_elem(*sig, ns, "EumSignature"))
		*sig = NULL;
	return 0;
}

static const char *const allowed_ref_transforms[] = {
	"http://www.w3.org/2000/09/xmldsig#enveloped-signature",
	"http://www.w3.org/2001/10/xml-exc-c14n#",
	"http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
	NULL
};

static bool in_list(const xmlChar *s, const char *const *list)
{
	for (; s && *list; list++)
		if (xmlStrEqual(s, BAD_CAST *list))
			return true;
	return false;
}

/* The signature must be ours to understand: SignedInfo, SignatureValue, optional KeyInfo, nothing else; exactly
 * one Reference with no URI (or URI="") and only the allowed transforms. Anything else would sign some other data
 * than this EumSignedInfo (XML-DSig §4.3.3: an empty/absent URI is the only one we resolve ourselves). */
static int check_signature_shape(xmlNodePtr sig, const char **why)
{
	xmlNodePtr si = first_elem(sig->children), n, ref, t;
	xmlChar *uri;
	unsigned int refs = 0;

	if (!is_elem(si, DSIG_NS, "SignedInfo")) {
		*why = "EumSignature has no ds:SignedInfo";
		return -EPROTO;
	}
	n = next_elem(si);
	if (!is_elem(n, DSIG_NS, "SignatureValue")) {
		*why = "EumSignature has no ds:SignatureValue";
		return -EPROTO;
	}
	n = next_elem(n);
	if (n && is_elem(n, DSIG_NS, "KeyInfo"))
		n = next_elem(n);
	if (n) {
		*why = "EumSignature carries ds:Object or unknown elements";
		return -EPROTO;
	}
	for (ref = first_elem(si->children); ref; ref = next_elem(ref)) {
		if (!is_elem(ref, DSIG_NS, "Reference"))
			continue;
		refs++;
		uri = xmlGetNoNsProp(ref, BAD_CAST "URI");
		if (uri && *uri) {
			xmlFree(uri);
			*why = "reference does not cover the EIS (URI points elsewhere)";
			return -EPROTO;
		}
		xmlFree(uri);
		n = first_elem(ref->children);
		if (is_elem(n, DSIG_NS, "Transforms")) {
			for (t = first_elem(n->children); t; t = next_elem(t)) {
				xmlChar *alg = xmlGetNoNsProp(t, BAD_CAST "Algorithm");
				bool ok = is_elem(t, DSIG_NS, "Transform") && in_list(alg, allowed_ref_transforms) &&
					  !first_elem(t->children);

				xmlFree(alg);
				if (!ok) {
					*why = "reference transform not allowed";
					return -EPROTO;
				}
			}
		}
	}
	if (refs != 1) {
		*why = "signature must have exactly one reference";
		return -EPROTO;
	}
	return 0;
}

/* copy \a c as the last child of \a parent (another document). xmlDocCopyNode() declares the namespaces the copy
 * uses on the copy itself, with the same prefixes: canonical forms, hence signatures, depend on the prefixes. */
static int clone_child(xmlNodePtr c, xmlNodePtr parent)
{
	xmlNodePtr cp = xmlDocCopyNode(c, parent->doc, 1);

	if (!cp)
		return -ENOMEM;
	if (!xmlAddChild(parent, cp)) {
		xmlFreeNode(cp);
		return -ENOMEM;
	}
	return 0;
}

/* Private document: root = copy of EumSignedInfo, with a ds:Signature holding copies of the EumSignature
 * children appended to it, so that "no URI + enveloped-signature" digests exactly EumSignedInfo.
 * \returns the ds:Signature node of the new document, or NULL. */
static xmlNodePtr make_work_doc(xmlNodePtr si, xmlNodePtr sig_children, xmlDocPtr *out)
{
	xmlDocPtr d = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root, s, c;
	xmlNsPtr ns;

	if (!d)
		return NULL;
	root = xmlDocCopyNode(si, d, 1);
	if (!root)
		goto fail;
	xmlDocSetRootElement(d, root);
	s = xmlNewDocNode(d, NULL, BAD_CAST "Signature", NULL);
	if (!s)
		goto fail;
	xmlAddChild(root, s);
	ns = xmlNewNs(s, BAD_CAST DSIG_NS, BAD_CAST "ds");
	if (!ns)
		goto fail;
	xmlSetNs(s, ns);
	for (c = sig_children; c; c = c->next)
		if (clone_child(c, s))
			goto fail;
	*out = d;
	return s;
fail:
	xmlFreeDoc(d);
	return NULL;
}

/* Called by xmlsec once the Reference's transform chain is built, before it runs. The digested data must be
 * EumSignedInfo without the signature whether or not the signer listed the enveloped-signature transform (a
 * reference with no URI and only exclusive c14n is what other EUM tools produce): put one in front. Applying it
 * twice changes nothing. Its "here" node is any node of the signature (the chain's DigestMethod, for one). */
static int prepend_enveloped(xmlSecTransformCtxPtr tc)
{
	xmlSecTransformPtr t, env;
	xmlNodePtr here = NULL;

	for (t = tc->first; t && !here; t = t->next)
		here = t->hereNode;
	if (!here)
		return -1;
	env = xmlSecTransformCtxCreateAndPrepend(tc, xmlSecTransformEnvelopedId);
	if (!env)
		return -1;
	env->hereNode = here;
	return 0;
}

static int restrict_ctx(xmlSecDSigCtxPtr dc)
{
	/* only the empty/absent Reference URI (our EumSignedInfo); no same-document ids, files or URLs */
	dc->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
	dc->referencePreExecuteCallback = prepend_enveloped;
	/* the key can only come from an X.509 certificate that chains to a trusted one: no KeyValue (a key the
	 * attacker chose), no KeyName lookup, no RetrievalMethod */
	if (xmlSecPtrListAdd(&dc->keyInfoReadCtx.enabledKeyData, (const xmlSecPtr)xmlSecKeyDataX509Id) < 0)
		return -ENOMEM;
	dc->keyInfoReadCtx.maxRetrievalMethodLevel = 0;
	dc->keyInfoReadCtx.maxEncryptedKeyLevel = 0;
	if (xmlSecDSigCtxEnableReferenceTransform(dc, xmlSecTransformEnvelopedId) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(dc, xmlSecTransformExclC14NId) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(dc, xmlSecTransformInclC14NId) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(dc, xmlSecTransformSha256Id) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(dc, xmlSecTransformSha384Id) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(dc, xmlSecTransformSha512Id) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(dc, xmlSecTransformExclC14NId) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(dc, xmlSecTransformInclC14NId) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(dc, xmlSecTransformEcdsaSha256Id) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(dc, xmlSecTransformEcdsaSha384Id) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(dc, xmlSecTransformEcdsaSha512Id) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(dc, xmlSecTransformRsaSha256Id) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(dc, xmlSecTransformRsaSha384Id) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(dc, xmlSecTransformRsaSha512Id) < 0)
		return -ENOMEM;
	return 0;
}

/* base64 (with line breaks) -> DER; \returns length or -1 */
static int b64_decode(const xmlChar *in, uint8_t *out, int out_max)
{
	EVP_ENCODE_CTX *c = EVP_ENCODE_CTX_new();
	int len = xmlStrlen(in), n = 0, m = 0;

	if (!c || len <= 0 || len / 4 * 3 + 3 > out_max) {
		EVP_ENCODE_CTX_free(c);
		return -1;
	}
	EVP_DecodeInit(c);
	if (EVP_DecodeUpdate(c, out, &n, in, len) < 0 || EVP_DecodeFinal(c, out + n, &m) < 0)
		n = -1;
	else
		n += m;
	EVP_ENCODE_CTX_free(c);
	return n;
}

/* A trusted set may hold the EUM certificate itself, issued by a CI that is not in the set; OpenSSL's chain check
 * (as xmlsec runs it) wants a trusted root, so such a leaf is recognised here, byte for byte, from the
 * KeyInfo/X509Data/X509Certificate entries. \returns the trusted entry or NULL. */
static const struct trusted_der *find_trusted_leaf(struct ws_xmldsig_trust *t, xmlNodePtr sig)
{
	xmlNodePtr ki = NULL, xd, xc;
	uint8_t *buf;
	unsigned int i;
	const struct trusted_der *found = NULL;

	for (xc = first_elem(sig->children); xc; xc = next_elem(xc))
		if (is_elem(xc, DSIG_NS, "KeyInfo"))
			ki = xc;
	if (!ki || !t->count)
		return NULL;
	buf = talloc_size(NULL, 16384);
	if (!buf)
		return NULL;
	for (xd = first_elem(ki->children); xd && !found; xd = next_elem(xd)) {
		if (!is_elem(xd, DSIG_NS, "X509Data"))
			continue;
		for (xc = first_elem(xd->children); xc && !found; xc = next_elem(xc)) {
			xmlChar *b64;
			int n;

			if (!is_elem(xc, DSIG_NS, "X509Certificate"))
				continue;
			b64 = xmlNodeGetContent(xc);
			n = b64 ? b64_decode(b64, buf, 16384) : -1;
			xmlFree(b64);
			for (i = 0; n > 0 && i < t->count; i++)
				if (t->ders[i].len == (size_t)n && !memcmp(t->ders[i].der, buf, (size_t)n))
					found = &t->ders[i];
		}
	}
	talloc_free(buf);
	return found;
}

/* the key of a trusted leaf certificate, if the certificate is valid now */
static int leaf_key(const struct trusted_der *td, xmlSecKeyPtr *key)
{
	const unsigned char *p = td->der;
	X509 *x = d2i_X509(NULL, &p, (long)td->len);
	bool valid;

	if (!x)
		return -EKEYREJECTED;
	valid = X509_cmp_current_time(X509_get0_notBefore(x)) < 0 && X509_cmp_current_time(X509_get0_notAfter(x)) > 0;
	X509_free(x);
	if (!valid)
		return -EKEYREJECTED;
	*key = xmlSecCryptoAppKeyLoadMemory(td->der, (xmlSecSize)td->len, xmlSecKeyDataFormatCertDer, NULL, NULL,
					    NULL);
	return *key ? 0 : -EKEYREJECTED;
}

/* RFC 2253 subject of the signing certificate: the trusted leaf, else the one xmlsec verified */
static char *signer_subject(void *ctx, xmlSecKeyPtr key, const struct trusted_der *leaf)
{
	xmlSecKeyDataPtr xd = key ? xmlSecKeyGetData(key, xmlSecKeyDataX509Id) : NULL;
	X509 *x = xd ? xmlSecOpenSSLKeyDataX509GetKeyCert(xd) : NULL, *own = NULL;
	BIO *b;
	char *s = NULL, *p;
	long l;

	if (leaf) {
		const unsigned char *d = leaf->der;

		x = own = d2i_X509(NULL, &d, (long)leaf->len);
	}
	if (!x)
		return talloc_strdup(ctx, "");
	b = BIO_new(BIO_s_mem());
	if (!b) {
		X509_free(own);
		return NULL;
	}
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0) {
		l = BIO_get_mem_data(b, &p);
		s = talloc_strndup(ctx, p, l > 0 ? (size_t)l : 0);
	}
	BIO_free(b);
	X509_free(own);
	return s;
}

int ws_xmldsig_verify_eis(struct ws_xmldsig_trust *t, xmlNodePtr eis, void *ctx, char **signer, char **err)
{
	xmlNodePtr si = NULL, sig = NULL, wsig;
	xmlDocPtr wd = NULL;
	xmlSecDSigCtxPtr dc = NULL;
	const struct trusted_der *leaf;
	const char *why = NULL;
	int rc, r;

	if (signer)
		*signer = NULL;
	if (err)
		*err = NULL;
	if (!t || !t->mngr)
		return -EINVAL;
	rc = find_parts(eis, &si, &sig);
	if (rc) {
		why = "Eis has no EumSignedInfo";
		goto out;
	}
	if (!sig || !first_elem(sig->children)) {
		rc = -ENOENT;
		why = "no EumSignature";
		goto out;
	}
	rc = check_signature_shape(sig, &why);
	if (rc)
		goto out;
	wsig = make_work_doc(si, sig->children, &wd);
	if (!wsig) {
		rc = -ENOMEM;
		goto out;
	}
	dc = xmlSecDSigCtxCreate(t->mngr);
	if (!dc) {
		rc = -ENOMEM;
		goto out;
	}
	rc = restrict_ctx(dc);
	if (rc)
		goto out;
	leaf = find_trusted_leaf(t, sig);
	if (leaf) {
		/* xmlsec then uses this key and skips its own KeyInfo lookup */
		rc = leaf_key(leaf, &dc->signKey);
		if (rc) {
			why = "trusted EUM certificate expired or not yet valid";
			goto out;
		}
	}
	r = xmlSecDSigCtxVerify(dc, wsig);
	if (r < 0) {
		if (!dc->signKey) {
			/* KeyInfo gave no certificate chaining to a trusted EUM/CI certificate */
			rc = -EKEYREJECTED;
			why = "signature by an unknown EUM (certificate not trusted)";
		} else {
			rc = -EPROTO;
			why = "signature could not be processed (unsupported algorithm or malformed)";
		}
		goto out;
	}
	if (dc->status != xmlSecDSigStatusSucceeded) {
		rc = -EBADMSG;
		why = "bad signature (EumSignedInfo changed after signing, or wrong signature value)";
		goto out;
	}
	if (xmlSecPtrListGetSize(&dc->signedInfoReferences) != 1) {
		rc = -EPROTO;
		why = "signature must have exactly one reference";
		goto out;
	}
	if (signer) {
		*signer = signer_subject(ctx, dc->signKey, leaf);
		if (!*signer) {
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = 0;
out:
	if (rc && err && why)
		*err = talloc_strdup(ctx, why);
	if (rc) {
		/* the EID is not authenticated here, but it tells the operator which registration failed */
		xmlChar *eid = NULL;
		xmlNodePtr en = si ? first_elem(si->children) : NULL;

		if (en && xmlStrEqual(en->name, BAD_CAST "Eid"))
			eid = xmlNodeGetContent(en);
		/* echo it only if it looks like one (no control characters into the log) */
		if (eid && (xmlStrlen(eid) > 32 ||
			    strspn((char *)eid, "0123456789ABCDEFabcdef") != (size_t)xmlStrlen(eid))) {
			xmlFree(eid);
			eid = NULL;
		}
		LOGP(DWS, LOGL_INFO, "EID %.32s: EIS signature refused: %s\n", eid ? (const char *)eid : "?",
		     why ? why : strerror(-rc));
		xmlFree(eid);
	}
	if (dc)
		xmlSecDSigCtxDestroy(dc);
	if (wd)
		xmlFreeDoc(wd);
	return rc;
}

void ws_xmldsig_status(int rc, const char **subject, const char **reason)
{
	switch (rc) {
	case -ENOENT:
		*subject = WS_SUBJ_EIS;
		*reason = WS_REASON_MANDATORY_MISSING;
		break;
	case -EKEYREJECTED:
	case -EBADMSG:
	case -EPROTO:
		*subject = WS_SUBJ_EIS;
		*reason = WS_REASON_VERIFICATION_FAILED;
		break;
	default:
		*subject = WS_SUBJ_FUNCTION_PROVIDER;
		*reason = WS_REASON_EXECUTION_ERROR;
	}
}

/* ---------------------------------------------------------------------------------------------------------------
 * signing
 */

static int signer_destructor(struct ws_xmldsig_signer *s)
{
	if (s->key)
		xmlSecKeyDestroy(s->key);
	s->key = NULL;
	ws_xmldsig_shutdown();
	return 0;
}

struct ws_xmldsig_signer *ws_xmldsig_signer_alloc(void *ctx, const uint8_t *key_pem, size_t key_len,
						  const uint8_t *cert_pem, size_t cert_len)
{
	struct ws_xmldsig_signer *s;
	xmlSecKeyDataPtr kv;

	if (!key_pem || !cert_pem || key_len > MAX_PEM_FILE || cert_len > MAX_PEM_FILE)
		return NULL;
	if (ws_xmldsig_init())
		return NULL;
	s = talloc_zero(ctx, struct ws_xmldsig_signer);
	if (!s) {
		ws_xmldsig_shutdown();
		return NULL;
	}
	talloc_set_destructor(s, signer_destructor);
	s->key = xmlSecCryptoAppKeyLoadMemory(key_pem, (xmlSecSize)key_len, xmlSecKeyDataFormatPem, NULL, NULL, NULL);
	if (!s->key)
		goto fail;
	if (xmlSecCryptoAppKeyCertLoadMemory(s->key, cert_pem, (xmlSecSize)cert_len, xmlSecKeyDataFormatPem) < 0)
		goto fail;
	kv = xmlSecKeyGetValue(s->key);
	if (kv && xmlSecKeyDataCheckId(kv, xmlSecKeyDataRsaId))
		s->rsa = true;
	else if (!kv || !xmlSecKeyDataCheckId(kv, xmlSecKeyDataEcdsaId))
		goto fail;
	return s;
fail:
	LOGP(DWS, LOGL_ERROR, "EIS signing key or certificate does not load\n");
	talloc_free(s);
	return NULL;
}

int ws_xmldsig_sign_eis(struct ws_xmldsig_signer *s, xmlNodePtr eis)
{
	xmlNodePtr si, sig, tsig, ref, ki, x5, c;
	xmlDocPtr wd = NULL;
	xmlSecDSigCtxPtr dc = NULL;
	int rc;

	if (!s || !s->key)
		return -EINVAL;
	rc = find_parts(eis, &si, &sig);
	if (rc)
		return rc;
	if (!sig) {
		sig = xmlNewDocNode(eis->doc, eis->ns, BAD_CAST "EumSignature", NULL);
		if (!sig)
			return -ENOMEM;
		xmlAddNextSibling(si, sig);
	}
	/* start from an empty EumSignature */
	while (sig->children) {
		c = sig->children;
		xmlUnlinkNode(c);
		xmlFreeNode(c);
	}
	/* the work document, with the template enveloped in the copy of EumSignedInfo */
	tsig = make_work_doc(si, NULL, &wd);
	if (!tsig)
		return -ENOMEM;
	rc = -ENOMEM;
	{
		xmlNodePtr tmpl = xmlSecTmplSignatureCreateNsPref(wd, xmlSecTransformExclC14NId,
								  s->rsa ? xmlSecTransformRsaSha256Id :
									   xmlSecTransformEcdsaSha256Id, NULL,
								  BAD_CAST "ds");

		if (!tmpl)
			goto out;
		xmlReplaceNode(tsig, tmpl);
		xmlFreeNode(tsig);
		tsig = tmpl;
	}
	ref = xmlSecTmplSignatureAddReference(tsig, xmlSecTransformSha256Id, NULL, NULL, NULL);
	if (!ref || !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformEnvelopedId) ||
	    !xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId))
		goto out;
	ki = xmlSecTmplSignatureEnsureKeyInfo(tsig, NULL);
	x5 = ki ? xmlSecTmplKeyInfoAddX509Data(ki) : NULL;
	if (!x5 || !xmlSecTmplX509DataAddCertificate(x5))
		goto out;
	dc = xmlSecDSigCtxCreate(NULL);
	if (!dc)
		goto out;
	dc->signKey = xmlSecKeyDuplicate(s->key);
	if (!dc->signKey)
		goto out;
	dc->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
	if (xmlSecDSigCtxSign(dc, tsig) < 0) {
		rc = -EIO;
		goto out;
	}
	/* move the result into the EumSignature of the EIS (ds prefix declared there) */
	for (c = tsig->children; c; c = c->next)
		if (clone_child(c, sig))
			goto out;
	rc = 0;
out:
	if (rc)
		LOGP(DWS, LOGL_ERROR, "EIS signing failed (%d)\n", rc);
	if (dc)
		xmlSecDSigCtxDestroy(dc);
	xmlFreeDoc(wd);
	return rc;
}
