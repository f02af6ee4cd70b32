/*! \file xmldsig.h
 * XML-DSig of the EIS (ES1 RegisterEIS, digest §3.1 and §10.2) with libxmlsec1 (OpenSSL backend).
 *
 * Where the signature sits: EISType has `EumSignedInfo` (what the EUM vouches for: EID, EUM id, production data,
 * ECASD, capabilities) followed by `EumSignature` of type ds:SignatureType. The signature covers EumSignedInfo
 * only (the rest of the EIS, e.g. RemainingMemory or ProfileInfo, is maintained by the SM-SR and changes).
 * EumSignedInfo has no Id attribute in the XSD, so the single ds:Reference has no URI: the application (we) knows
 * the data object (XML-DSig §4.3.3.1), as other implementations do [digest §3.1, NJ ES1SignatureVerifyHandler].
 *
 * Profile we produce and accept:
 *  - one ds:Reference, no URI (or URI=""), transforms: enveloped-signature and/or exclusive c14n (or c14n 1.0),
 *    digest SHA-256/384/512; the digested octets are the canonical form of EumSignedInfo alone (the signature
 *    processing runs on a private document whose root is a copy of EumSignedInfo with the signature enveloped
 *    in it; an enveloped-signature transform is applied whether or not the Reference lists it, so a signer that
 *    wrote only exclusive c14n is understood too);
 *  - CanonicalizationMethod exclusive c14n (or c14n 1.0); SignatureMethod ECDSA or RSA with SHA-256/384/512;
 *  - ds:KeyInfo/ds:X509Data/ds:X509Certificate with the EUM certificate, which must be one of the trusted
 *    certificates or be issued by one (chain checked by xmlsec/OpenSSL, at the current time). KeyValue, KeyName,
 *    RetrievalMethod and any URI other than the empty one are ignored or refused: nothing is ever fetched.
 *  - no ds:Object (nothing else can hide inside the signature).
 * Because the digest is recomputed from the very EumSignedInfo element that the EIS parser reads, a signature
 * over some other element cannot be made to vouch for this EIS (no wrapping).
 *
 * xmlsec is initialised on first use (refcounted, see ws_xmldsig_init()); its I/O callbacks are removed so it
 * cannot open any file or URL.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

struct ws_xmldsig_trust;
struct ws_xmldsig_signer;

/*! Initialise libxmlsec1 + its OpenSSL backend once per process (refcounted; the alloc functions below call it
 *  themselves). \returns 0 or -EIO. */
int ws_xmldsig_init(void);

/*! Drop one reference taken by ws_xmldsig_init(); the last one shuts xmlsec down. Every trust/signer object must
 *  be freed before. Does not clean up libxml2 or OpenSSL (others use them). */
void ws_xmldsig_shutdown(void);

/*! A set of trusted EUM certificates (or their issuing CI certificates), held in an xmlsec keys manager.
 *  talloc object; its destructor releases the keys manager and the xmlsec reference.
 *  \returns NULL on error. */
struct ws_xmldsig_trust *ws_xmldsig_trust_alloc(void *ctx);

/*! Add one or more PEM certificates (a bundle). \returns 0; -EINVAL if no certificate could be read or one was
 *  refused (those before it stay added); -ENOMEM. */
int ws_xmldsig_trust_add_pem(struct ws_xmldsig_trust *t, const uint8_t *pem, size_t len);

/*! Add the PEM certificates of a file (read with bounded size). \returns 0, -errno from reading, or as above. */
int ws_xmldsig_trust_add_file(struct ws_xmldsig_trust *t, const char *path);

/*! Number of certificates added. */
unsigned int ws_xmldsig_trust_count(const struct ws_xmldsig_trust *t);

/*! Verify the EumSignature of an `Eis` element (EISType) against the trusted set.
 *  \param ctx talloc parent of *signer and *err.
 *  \param[out] signer if not NULL, on success the subject (RFC 2253) of the EUM certificate that signed.
 *  \param[out] err if not NULL, on failure a short message (no secret, bounded).
 *  \returns 0 if the signature is valid and covers this EIS's EumSignedInfo;
 *  -ENOENT no signature (EumSignature missing or empty);
 *  -EKEYREJECTED signed by a key whose certificate is not trusted (unknown EUM), or no usable certificate;
 *  -EBADMSG bad signature (content changed after signing, or wrong signature value);
 *  -EPROTO wrong reference (URI pointing elsewhere, several references, ds:Object, a disallowed transform or
 *          algorithm) or a malformed signature / EIS structure;
 *  -ENOMEM, -EIO (xmlsec could not be set up). */
int ws_xmldsig_verify_eis(struct ws_xmldsig_trust *t, xmlNodePtr eis, void *ctx, char **signer, char **err);

/*! SGP.02 StatusCodeData for a ws_xmldsig_verify_eis() failure (digest §4.2/§4.3): no signature is EIS (8.6) /
 *  Mandatory Element Missing (2.2); unknown EUM, bad signature and wrong reference are EIS (8.6) / Verification
 *  Failed (6.1) (the message tells them apart); anything else (out of memory) Function Provider (1.2) /
 *  Execution Error (4.2). */
void ws_xmldsig_status(int rc, const char **subject, const char **reason);

/*! A signing key (EC P-256 or RSA) with its X.509 certificate, both PEM. talloc object.
 *  \returns NULL if either does not load or they do not match. */
struct ws_xmldsig_signer *ws_xmldsig_signer_alloc(void *ctx, const uint8_t *key_pem, size_t key_len,
						  const uint8_t *cert_pem, size_t cert_len);

/*! Sign an `Eis` element: (re)writes the content of its EumSignature (created right after EumSignedInfo if
 *  missing) with ECDSA-SHA256 (RSA-SHA256 for an RSA key), exclusive c14n, enveloped-signature transform, SHA-256
 *  digest of EumSignedInfo and the certificate in KeyInfo/X509Data.
 *  \returns 0; -EPROTO if \a eis has no EumSignedInfo as first element; -ENOMEM; -EIO if signing failed. */
int ws_xmldsig_sign_eis(struct ws_xmldsig_signer *s, xmlNodePtr eis);
