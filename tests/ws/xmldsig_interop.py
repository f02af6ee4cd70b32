#!/usr/bin/python3
# Checks an EIS EumSignature made by src/ws/xmldsig.c with an independent implementation (lxml's c14n and the
# python cryptography package): the DigestValue must be SHA-256 over the exclusive canonical form (no comments) of
# EumSignedInfo alone, and the ECDSA-SHA256 SignatureValue (r||s) must verify over the exclusive canonical form of
# ds:SignedInfo with the key of the KeyInfo certificate (XML-DSig 1.0 §4.3.3, §6.4.3; RFC 4051 §3.3).
# Usage: xmldsig_interop.py FILE. Exit 0 if all holds, 1 if not, 77 if a module is missing.
# Also the other way round: xmldsig_interop.py sign IN OUT KEY.pem CERT.pem [enveloped] writes IN with its
# EumSignature made here (Reference without URI, exclusive c14n, ECDSA-SHA256; the enveloped-signature transform
# listed only if asked), for tests/ws/xmldsig_test to verify.
import base64
import hashlib
import sys

try:
    from lxml import etree
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, utils
except ImportError as e:
    print("skip: %s" % e)
    sys.exit(77)

NS = {"rps": "http://namespaces.gsma.org/esim-messaging/3", "ds": "http://www.w3.org/2000/09/xmldsig#"}
C14N_EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"


def c14n(node):
    return etree.tostring(node, method="c14n", exclusive=True, with_comments=False)


def main(path):
    doc = etree.parse(path, etree.XMLParser(resolve_entities=False, no_network=True))
    si = doc.find(".//rps:Eis/rps:EumSignedInfo", NS)
    sig = doc.find(".//rps:Eis/rps:EumSignature", NS)
    ok = True
    ref = sig.find("ds:SignedInfo/ds:Reference", NS)
    if ref.get("URI"):
        print("FAIL reference has a URI")
        ok = False
    if sig.find("ds:SignedInfo/ds:CanonicalizationMethod", NS).get("Algorithm") != C14N_EXC:
        print("FAIL canonicalization is not exclusive c14n")
        ok = False
    digest = hashlib.sha256(c14n(si)).digest()
    if digest != base64.b64decode(ref.find("ds:DigestValue", NS).text):
        print("FAIL DigestValue is not SHA-256(exc-c14n(EumSignedInfo))")
        ok = False
    der = base64.b64decode(sig.find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS).text)
    key = x509.load_der_x509_certificate(der).public_key()
    raw = base64.b64decode(sig.find("ds:SignatureValue", NS).text)
    half = len(raw) // 2
    r, s = int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
    try:
        key.verify(utils.encode_dss_signature(r, s), c14n(sig.find("ds:SignedInfo", NS)), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        print("FAIL SignatureValue does not verify")
        ok = False
    return ok


def sub(parent, name, **attrs):
    e = etree.SubElement(parent, "{%s}%s" % (NS["ds"], name), nsmap={"ds": NS["ds"]})
    for k, v in attrs.items():
        e.set(k, v)
    return e


def sign(path_in, path_out, key_path, cert_path, enveloped):
    doc = etree.parse(path_in, etree.XMLParser(resolve_entities=False, no_network=True))
    si = doc.find(".//rps:Eis/rps:EumSignedInfo", NS)
    sig = doc.find(".//rps:Eis/rps:EumSignature", NS)
    for c in list(sig):
        sig.remove(c)
    sig.text = None
    key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
    cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
    sinfo = sub(sig, "SignedInfo")
    sub(sinfo, "CanonicalizationMethod", Algorithm=C14N_EXC)
    sub(sinfo, "SignatureMethod", Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256")
    ref = sub(sinfo, "Reference")
    tr = sub(ref, "Transforms")
    if enveloped:
        sub(tr, "Transform", Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature")
    sub(tr, "Transform", Algorithm=C14N_EXC)
    sub(ref, "DigestMethod", Algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
    sub(ref, "DigestValue").text = base64.b64encode(hashlib.sha256(c14n(si)).digest()).decode()
    der = key.sign(c14n(sinfo), ec.ECDSA(hashes.SHA256()))
    r, s = utils.decode_dss_signature(der)
    sub(sig, "SignatureValue").text = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
    xd = sub(sub(sig, "KeyInfo"), "X509Data")
    sub(xd, "X509Certificate").text = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    doc.write(path_out, xml_declaration=True, encoding="UTF-8")
    return True


if __name__ == "__main__":
    if sys.argv[1] == "sign":
        ok = sign(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], len(sys.argv) > 6)
        sys.exit(0 if ok and main(sys.argv[3]) else 1)
    sys.exit(0 if main(sys.argv[1]) else 1)
