#!/usr/bin/python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Generate sgp02's WSDL/XSD set (wsdl/) from the message shapes of the GSMA esim-messaging-3 set.

The GSMA set (../shared/spec/gsma-esim-messaging-3) is the reference for what goes on the wire: element names,
types, order and cardinality, and the wsa:Action of every operation. This script reads those shapes and writes our
own files in our own layout, so that a client generated from the GSMA WSDL works against us unchanged:

  wsdl/xsd/sgp02-common.xsd      common types + BaseRequestType/BaseResponseType, namespaced (no chameleon include)
  wsdl/xsd/sgp02-ESn.xsd         the request/response/notification elements of one interface, grouped by function
  wsdl/xsd/sgp02-all.xsd         every interface: what the daemons validate a Body against
  wsdl/<name>.wsdl               one self-contained WSDL 1.1 per service (schemas inline, so that GET <path>?wsdl
                                 is all a client needs), SOAP 1.2 document/literal, address placeholder

Not generated (written by hand): wsdl/xsd/ws-addressing.xsd and wsdl/xsd/xmldsig-signature.xsd.
Left out on purpose: the RPSMessage envelope of euicc.root.xsd with its ESn groups and ESn-MessageType lists
(a non-SOAP binding, digest §6.6), and all annotations (comments here cite SGP.02 instead).

Usage: wsdl/gen-wsdl.py [--gsma DIR] [--out DIR] [--check]
  --check  generate into a temporary folder and fail (exit 1) if anything differs from --out.
Run it with /usr/bin/python3; it needs the standard library only.
"""

import argparse
import filecmp
import os
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET

NS_XS = 'http://www.w3.org/2001/XMLSchema'
NS_DS = 'http://www.w3.org/2000/09/xmldsig#'
NS_RPS = 'http://namespaces.gsma.org/esim-messaging/3'
NS_WSA = 'http://www.w3.org/2005/08/addressing'
NS_WSAM = 'http://www.w3.org/2007/05/addressing/metadata'
NS_WSDL = 'http://schemas.xmlsoap.org/wsdl/'
NS_SOAP12 = 'http://schemas.xmlsoap.org/wsdl/soap12/'
OUR_PREFIX = {NS_XS: 'xs', NS_DS: 'ds', NS_RPS: 'rps', NS_WSA: 'wsa'}

# Placeholder of the service addresses: the daemons replace it with their public base URL when they serve
# GET <path>?wsdl (wsdl/README.md). .invalid (RFC 2606) never resolves, so a forgotten rewrite fails loudly.
ADDRESS_BASE = 'https://sgp02-endpoint.invalid'

INTERFACES = ['ES1', 'ES2', 'ES3', 'ES4', 'ES7']

# Attributes we know how to carry over, in the order we write them; any other one stops the generator so that a
# construct we did not think about is never dropped silently.
ATTR_ORDER = ['name', 'ref', 'type', 'base', 'minOccurs', 'maxOccurs', 'use', 'default', 'value', 'memberTypes',
	      'mixed']
QNAME_ATTRS = {'ref', 'type', 'base', 'memberTypes'}

# Our services: (file, GSMA WSDL with the same operations or None, service name, where it is served, path, what)
SERVICES = [
	('ES1_SMSR.wsdl', 'ES1_SMSR.wsdl', 'SM-SR', '/ES1',
	 'ES1 provider on the SM-SR: the EUM registers an EIS (SGP.02 §5.2). Synchronous.'),
	('ES2_SMDP.wsdl', 'ES2_SMDP.wsdl', 'SM-DP', '/ES2',
	 'ES2 provider on the SM-DP (SGP.02 §5.3): DownloadProfile, Enable/Disable/DeleteProfile asynchronous '
	 '(HTTP 202, response POSTed to wsa:ReplyTo); GetEIS, UpdatePolicyRules, UpdateSubscriptionAddress '
	 'synchronous.'),
	('ES2_MNO.wsdl', 'ES2_MNO.wsdl', 'none (reference)', '/ES2',
	 'The synchronous flavour of ES2 that the GSMA set names ES2MnoService (every function as request/response). '
	 'Kept for comparison with tools built on it; our SM-DP serves ES2_SMDP.wsdl.'),
	('ES2_MNO_Callback.wsdl', None, 'operator', '/ES2/callback',
	 'ES2 receiver on the operator side: the callbacks of the asynchronous ES2 functions and the ES2 '
	 'notifications (SGP.02 §5.3). One-way: answered with HTTP 202.'),
	('ES3_SMSR.wsdl', 'ES3_SMSR.wsdl', 'SM-SR', '/ES3',
	 'ES3 provider on the SM-SR (SGP.02 §5.4), called by the SM-DP.'),
	('ES3_SMDP.wsdl', 'ES3_SMDP.wsdl', 'SM-DP', '/ES3/callback',
	 'ES3 receiver on the SM-DP: callbacks of asynchronous ES3 calls and the ES3 notifications (SGP.02 §5.4). '
	 'One-way: answered with HTTP 202.'),
	('ES4_SMSR.wsdl', 'ES4_SMSR.wsdl', 'SM-SR', '/ES4',
	 'ES4 provider on the SM-SR (SGP.02 §5.5): GetEIS, UpdatePolicyRules, UpdateSubscriptionAddress '
	 'synchronous; AuditEIS, Enable/Disable/DeleteProfile, PrepareSMSRChange, SMSRChange asynchronous.'),
	('ES4_MNO.wsdl', 'ES4_MNO.wsdl', 'none (reference)', '/ES4',
	 'The synchronous flavour of ES4 that the GSMA set names ES4MnoService. Kept for comparison with tools built '
	 'on it; our SM-SR serves ES4_SMSR.wsdl.'),
	('ES4_MNO_Callback.wsdl', None, 'operator', '/ES4/callback',
	 'ES4 receiver on the operator side: the callbacks of the asynchronous ES4 functions and the ES4 '
	 'notifications (SGP.02 §5.5). One-way: answered with HTTP 202.'),
	('ES7_SMSR.wsdl', 'ES7_SMSR.wsdl', 'SM-SR', '/ES7',
	 'ES7 provider on the SM-SR, synchronous flavour, and HandleSMSRChangeNotification (SGP.02 §5.6).'),
	('ES7_SMSR_Provider.wsdl', 'ES7_SMSR_Provider.wsdl', 'SM-SR', '/ES7/async',
	 'ES7 provider on the SM-SR, asynchronous flavour: HTTP 202, response POSTed to wsa:ReplyTo.'),
	('ES7_SMSR_Requester.wsdl', 'ES7_SMSR_Requester.wsdl', 'SM-SR', '/ES7/callback',
	 'ES7 requester side on the SM-SR: the callbacks of the asynchronous ES7 functions.'),
]

# Element names in GSMA WSDLs that their XSD does not define: corrected (ES7_SMSR_Provider.wsdl).
ELEMENT_FIXES = {'ES7-AuthenticateSMSRequest': 'ES7-AuthenticateSMSRRequest'}

HDR_REQ = [('From', True), ('To', True), ('MessageID', True), ('Action', True)]
HDR_ASYNC = HDR_REQ + [('ReplyTo', False)]
HDR_REPLY = HDR_REQ + [('RelatesTo', True)]


def die(msg):
	sys.stderr.write('gen-wsdl: %s\n' % msg)
	sys.exit(2)


def q(ns, local):
	return '{%s}%s' % (ns, local)


def local(tag):
	return tag.split('}', 1)[1] if tag.startswith('{') else tag


def esc(v):
	return v.replace('&', '&amp;').replace('<', '&lt;').replace('"', '&quot;')


class Schema:
	"""One parsed GSMA XSD file: its root and the prefix -> namespace map of its QName values."""

	def __init__(self, path):
		self.path = path
		self.prefixes = {}
		for ev, (pfx, uri) in ET.iterparse(path, events=['start-ns']):
			self.prefixes.setdefault(pfx, uri)
		self.root = ET.parse(path).getroot()
		# chameleon files have no targetNamespace: their unprefixed names take the includer's (ours: rps)
		self.default_ns = self.prefixes.get('', NS_RPS)

	def our_qname(self, value):
		if ':' in value:
			pfx, name = value.split(':', 1)
			ns = self.prefixes.get(pfx)
		else:
			ns, name = self.default_ns, value
		if ns == NS_XS or ns == NS_DS or ns == NS_RPS:
			return '%s:%s' % (OUR_PREFIX[ns], name)
		die('%s: QName %s in an unexpected namespace %s' % (self.path, value, ns))


def emit(schema, node, depth, out):
	"""Write one XSD node (no annotations) with our prefixes and tab indentation."""
	name = local(node.tag)
	if node.tag == q(NS_XS, 'annotation'):
		return
	if not node.tag.startswith('{%s}' % NS_XS):
		die('%s: unexpected element %s' % (schema.path, node.tag))
	attrs = []
	for key in node.attrib:
		if key not in ATTR_ORDER:
			die('%s: unexpected attribute %s on xs:%s' % (schema.path, key, name))
	for key in ATTR_ORDER:
		if key not in node.attrib:
			continue
		val = node.attrib[key].strip()
		if key in QNAME_ATTRS:
			val = ' '.join(schema.our_qname(v) for v in val.split())
		attrs.append(' %s="%s"' % (key, esc(val)))
	kids = [k for k in node if k.tag != q(NS_XS, 'annotation')]
	pad = '\t' * depth
	if kids:
		out.append('%s<xs:%s%s>' % (pad, name, ''.join(attrs)))
		for k in kids:
			emit(schema, k, depth + 1, out)
		out.append('%s</xs:%s>' % (pad, name))
	else:
		out.append('%s<xs:%s%s/>' % (pad, name, ''.join(attrs)))


def top_defs(schema):
	"""Top-level named definitions of a file, without includes/imports/annotations."""
	skip = {q(NS_XS, 'include'), q(NS_XS, 'import'), q(NS_XS, 'annotation')}
	return [n for n in schema.root if n.tag not in skip]


def function_of(elem_name):
	for suffix in ('Request', 'Response'):
		if elem_name.endswith(suffix):
			return elem_name[:-len(suffix)]
	return elem_name


class Gsma:
	def __init__(self, gsma_dir):
		self.dir = gsma_dir
		x = os.path.join(gsma_dir, 'xsd')
		self.types = Schema(os.path.join(x, 'euicc.common.types.xsd'))
		self.base = Schema(os.path.join(x, 'euicc.common.request.xsd'))
		self.es = {i: Schema(os.path.join(x, 'euicc.request.%s.xsd' % i)) for i in INTERFACES}

	def common_lines(self, depth):
		"""Common types, alphabetically, each preceded by a blank line."""
		defs = [(n.get('name'), s, n) for s in (self.types, self.base) for n in top_defs(s)]
		out = []
		for name, s, n in sorted(defs, key=lambda d: d[0].lower()):
			out.append('')
			emit(s, n, depth, out)
		return out

	def interface_elements(self, iface):
		s = self.es[iface]
		return [n for n in top_defs(s) if n.tag == q(NS_XS, 'element')]

	def interface_lines(self, iface, depth):
		"""The elements of one interface grouped by function (request, response), functions alphabetically.
		The ESn group and ESn-MessageType list belong to the RPSMessage envelope and are left out."""
		s = self.es[iface]
		funcs = {}
		for n in self.interface_elements(iface):
			funcs.setdefault(function_of(n.get('name')), []).append(n)
		out = []
		for fn in sorted(funcs):
			kinds = ', '.join(('request' if n.get('name').endswith('Request') else
					   'response' if n.get('name').endswith('Response') else 'notification')
					  for n in funcs[fn])
			out.append('')
			out.append('%s<!-- %s: %s -->' % ('\t' * depth, fn.replace('-', '.', 1), kinds))
			for n in funcs[fn]:
				emit(s, n, depth, out)
		return out

	def element_names(self, iface):
		return [n.get('name') for n in self.interface_elements(iface)]


def xml_head(comment_lines):
	out = ['<?xml version="1.0" encoding="UTF-8"?>', '<!--']
	out += ['  ' + c if c else '' for c in comment_lines]
	out.append('-->')
	return out


GEN_NOTE = 'Generated by wsdl/gen-wsdl.py from the message shapes of the GSMA esim-messaging-3 set; do not edit.'


def write_xsds(g, outdir):
	x = os.path.join(outdir, 'xsd')
	os.makedirs(x, exist_ok=True)
	files = {}
	head = ('<xs:schema xmlns:xs="%s" xmlns:ds="%s"\n\txmlns:rps="%s" targetNamespace="%s"\n'
		'\telementFormDefault="qualified" attributeFormDefault="unqualified" version="1.0.0">'
		% (NS_XS, NS_DS, NS_RPS, NS_RPS))
	out = xml_head(['sgp02: types shared by the ES1..ES7 messages (EIS, profile information, security domains,',
			'FunctionExecutionStatus) and the base types of every request and response (SGP.02 §5.1:',
			'FunctionCallIdentifier, ValidityPeriod; ProcessingStart/End, FunctionExecutionStatus).',
			GEN_NOTE])
	out.append(head)
	out.append('\t<xs:import namespace="%s" schemaLocation="xmldsig-signature.xsd"/>' % NS_DS)
	out += g.common_lines(1)
	out.append('</xs:schema>')
	files['sgp02-common.xsd'] = out
	for i in INTERFACES:
		out = xml_head(['sgp02: the %s function elements (SGP.02 §5), namespace %s.' % (i, NS_RPS), GEN_NOTE])
		out.append(head)
		out.append('\t<xs:include schemaLocation="sgp02-common.xsd"/>')
		out += g.interface_lines(i, 1)
		out.append('</xs:schema>')
		files['sgp02-%s.xsd' % i] = out
	out = xml_head(['sgp02: every ES1..ES7 function element; the schema a SOAP Body is validated against.',
			GEN_NOTE])
	out.append('<xs:schema xmlns:xs="%s" targetNamespace="%s" elementFormDefault="qualified" version="1.0.0">'
		   % (NS_XS, NS_RPS))
	for i in INTERFACES:
		out.append('\t<xs:include schemaLocation="sgp02-%s.xsd"/>' % i)
	out.append('</xs:schema>')
	files['sgp02-all.xsd'] = out
	for name, lines in files.items():
		with open(os.path.join(x, name), 'w') as f:
			f.write('\n'.join(lines) + '\n')


def inline_schema(path, depth):
	"""A hand-written schema file as lines to put into wsdl:types (XML declaration and head comment dropped)."""
	with open(path) as f:
		text = f.read()
	start = text.index('<xs:schema')
	return [('\t' * depth + line) if line else '' for line in text[start:].rstrip('\n').split('\n')]


class Op:
	def __init__(self, name, in_elem, in_action, in_hdrs, out_elem=None, out_action=None, out_hdrs=None):
		self.name = name
		self.in_elem, self.in_action, self.in_hdrs = in_elem, in_action, in_hdrs
		self.out_elem, self.out_action, self.out_hdrs = out_elem, out_action, out_hdrs


def read_gsma_wsdl(path):
	"""Operations of a GSMA WSDL: elements, Actions and the header parts each direction binds."""
	W = lambda n: q(NS_WSDL, n)
	root = ET.parse(path).getroot()
	msgs = {}
	for m in root.findall(W('message')):
		parts = m.findall(W('part'))
		if m.get('name') != 'SoapHeader':
			if len(parts) != 1:
				die('%s: message %s has %d parts' % (path, m.get('name'), len(parts)))
			el = parts[0].get('element').split(':', 1)[1]
			msgs[m.get('name')] = ELEMENT_FIXES.get(el, el)
	hdrs = {}
	for b in root.findall(W('binding')):
		for op in b.findall(W('operation')):
			for io in ('input', 'output'):
				e = op.find(W(io))
				if e is None:
					continue
				hdrs[(op.get('name'), io)] = [
					(h.get('part'), h.get(q(NS_WSDL, 'required')) == 'true')
					for h in e.findall(q(NS_SOAP12, 'header'))]
	ops = []
	for pt in root.findall(W('portType')):
		for op in pt.findall(W('operation')):
			n = op.get('name')
			args = []
			for io in ('input', 'output'):
				e = op.find(W(io))
				if e is None:
					continue
				action = e.get(q(NS_WSAM, 'Action')) or e.get(q(NS_WSA, 'Action'))
				args += [msgs[e.get('message').split(':', 1)[1]], action, hdrs.get((n, io), HDR_REQ)]
			ops.append(Op(n, *args))
	svc = root.find(W('service'))
	port = svc.find(W('port'))
	names = {'portType': root.find(W('portType')).get('name'), 'binding': root.find(W('binding')).get('name'),
		 'service': svc.get('name'), 'port': port.get('name')}
	return names, ops


def callback_service(g, iface, provider_wsdl):
	"""Operator-side receiver of ESn (n = 2, 4): a callback per asynchronous function of the provider, and the
	ESn notifications. Callback Actions: the request's category suffixed CallBack, as ES3_SMDP.wsdl and
	ES7_SMSR_Requester.wsdl do for ES3 and ES7 (digest §6.3; the GSMA set has no such service for ES2/ES4 [INF]).
	Notification Actions: category PlatformManagement as ES3's notifications, eUICCManagement for ES4's SM-SR
	change (digest §6.3 table) [INF]."""
	names, pops = read_gsma_wsdl(provider_wsdl)
	ops = []
	for p in pops:
		if p.out_elem is not None:
			continue
		base, fn = p.in_action.rsplit('/', 1)
		ops.append(Op(p.name + 'Callback', p.name + 'Response', base + 'CallBack/' + fn, HDR_REPLY))
	for el in g.element_names(iface):
		if el.endswith('Notification'):
			cat = 'eUICCManagement' if (iface == 'ES4' and 'SMSRChange' in el) else 'PlatformManagement'
			ops.append(Op(el, el, 'http://gsma.com/%s/%s/%s' % (iface, cat, el), HDR_REQ))
	p = {'ES2': 'ES2MnoCallback', 'ES4': 'ES4MnoCallback'}[iface]
	names = {'portType': p, 'binding': p + 'ServiceBinding', 'service': p + 'Service', 'port': 'Mno%sCallbackPort'
		 % iface}
	return names, ops


def write_wsdl(g, outdir, fname, gsma_file, served_by, path, what):
	iface = fname[:3]
	if gsma_file:
		names, ops = read_gsma_wsdl(os.path.join(g.dir, gsma_file))
	else:
		prov = {'ES2': 'ES2_SMDP.wsdl', 'ES4': 'ES4_SMSR.wsdl'}[iface]
		names, ops = callback_service(g, iface, os.path.join(g.dir, prov))
	known = set(g.element_names(iface))
	for o in ops:
		for el in (o.in_elem, o.out_elem):
			if el is not None and el not in known:
				die('%s: operation %s uses %s, which no XSD defines' % (fname, o.name, el))
	here = os.path.dirname(os.path.abspath(__file__))
	out = xml_head(['sgp02: %s' % what,
			'Served by: %s at %s (GET %s?wsdl).' % (served_by, path, path),
			'Same operations, message elements and wsa:Action URIs as the GSMA esim-messaging-3 set%s;'
			% ('' if gsma_file else ' conventions'),
			'SOAP 1.2, document/literal; WS-Addressing 1.0 headers as in SGP.02 Annex B (digest §6.2).',
			'Address: %s is replaced by the daemon with its public base URL.' % ADDRESS_BASE,
			GEN_NOTE])
	out.append('<wsdl:definitions name="%s" targetNamespace="%s"' % (names['service'], NS_RPS))
	out.append('\txmlns:wsdl="%s" xmlns:wsoap12="%s"' % (NS_WSDL, NS_SOAP12))
	out.append('\txmlns:xs="%s" xmlns:rps="%s"' % (NS_XS, NS_RPS))
	out.append('\txmlns:wsa="%s" xmlns:wsam="%s">' % (NS_WSA, NS_WSAM))
	out.append('\t<wsdl:documentation>%s</wsdl:documentation>' % esc(what))
	out.append('')
	out.append('\t<wsdl:types>')
	out += inline_schema(os.path.join(here, 'xsd', 'ws-addressing.xsd'), 2)
	out += inline_schema(os.path.join(here, 'xsd', 'xmldsig-signature.xsd'), 2)
	out.append('\t\t<xs:schema targetNamespace="%s" xmlns:ds="%s"' % (NS_RPS, NS_DS))
	out.append('\t\t\telementFormDefault="qualified" attributeFormDefault="unqualified" version="1.0.0">')
	out.append('\t\t\t<xs:import namespace="%s"/>' % NS_DS)
	out += g.common_lines(3)
	out += g.interface_lines(iface, 3)
	out.append('\t\t</xs:schema>')
	out.append('\t</wsdl:types>')
	out.append('')
	out.append('\t<!-- WS-Addressing header blocks, bound per operation below -->')
	out.append('\t<wsdl:message name="SoapHeader">')
	for part in ('From', 'To', 'Action', 'MessageID', 'RelatesTo', 'ReplyTo'):
		out.append('\t\t<wsdl:part name="%s" element="wsa:%s"/>' % (part, part))
	out.append('\t</wsdl:message>')
	seen = set()
	for o in ops:
		for el in (o.in_elem, o.out_elem):
			if el is None or el in seen:
				continue
			seen.add(el)
			out.append('\t<wsdl:message name="%sMessage">' % el)
			out.append('\t\t<wsdl:part name="parameters" element="rps:%s"/>' % el)
			out.append('\t</wsdl:message>')
	out.append('')
	out.append('\t<wsdl:portType name="%s">' % names['portType'])
	for o in ops:
		out.append('\t\t<wsdl:operation name="%s">' % o.name)
		for io, el, act in (('input', o.in_elem, o.in_action), ('output', o.out_elem, o.out_action)):
			if el is None:
				continue
			out.append('\t\t\t<wsdl:%s message="rps:%sMessage"' % (io, el))
			out.append('\t\t\t\twsam:Action="%s" wsa:Action="%s"/>' % (act, act))
		out.append('\t\t</wsdl:operation>')
	out.append('\t</wsdl:portType>')
	out.append('')
	out.append('\t<wsdl:binding name="%s" type="rps:%s">' % (names['binding'], names['portType']))
	out.append('\t\t<wsoap12:binding style="document" transport="http://www.w3.org/2003/05/soap/bindings/HTTP/"/>')
	for o in ops:
		out.append('\t\t<wsdl:operation name="%s">' % o.name)
		out.append('\t\t\t<wsoap12:operation style="document"/>')
		for io, el, hdrs in (('input', o.in_elem, o.in_hdrs), ('output', o.out_elem, o.out_hdrs)):
			if el is None:
				continue
			out.append('\t\t\t<wsdl:%s>' % io)
			for part, req in hdrs:
				out.append('\t\t\t\t<wsoap12:header message="rps:SoapHeader" part="%s" use="literal"%s/>'
					   % (part, ' wsdl:required="true"' if req else ''))
			out.append('\t\t\t\t<wsoap12:body use="literal"/>')
			out.append('\t\t\t</wsdl:%s>' % io)
		out.append('\t\t</wsdl:operation>')
	out.append('\t</wsdl:binding>')
	out.append('')
	out.append('\t<wsdl:service name="%s">' % names['service'])
	out.append('\t\t<wsdl:port name="%s" binding="rps:%s">' % (names['port'], names['binding']))
	out.append('\t\t\t<wsoap12:address location="%s%s"/>' % (ADDRESS_BASE, path))
	out.append('\t\t</wsdl:port>')
	out.append('\t</wsdl:service>')
	out.append('</wsdl:definitions>')
	with open(os.path.join(outdir, fname), 'w') as f:
		f.write('\n'.join(out) + '\n')


def generate(gsma_dir, outdir):
	g = Gsma(gsma_dir)
	write_xsds(g, outdir)
	for s in SERVICES:
		write_wsdl(g, outdir, *s)


def generated_names():
	return (['xsd/sgp02-common.xsd', 'xsd/sgp02-all.xsd'] + ['xsd/sgp02-%s.xsd' % i for i in INTERFACES]
		+ [s[0] for s in SERVICES])


def main():
	here = os.path.dirname(os.path.abspath(__file__))
	shared = os.environ.get('SGP02_SHARED', os.path.join(here, '..', '..', 'shared'))
	ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
	ap.add_argument('--gsma', default=os.path.join(shared, 'spec', 'gsma-esim-messaging-3'))
	ap.add_argument('--out', default=here)
	ap.add_argument('--check', action='store_true')
	a = ap.parse_args()
	if not a.check:
		generate(a.gsma, a.out)
		return 0
	tmp = tempfile.mkdtemp(prefix='gen-wsdl.')
	try:
		os.makedirs(os.path.join(tmp, 'xsd'))
		for hand in ('ws-addressing.xsd', 'xmldsig-signature.xsd'):
			shutil.copy(os.path.join(here, 'xsd', hand), os.path.join(tmp, 'xsd', hand))
		generate(a.gsma, tmp)
		bad = [n for n in generated_names()
		       if not os.path.exists(os.path.join(a.out, n))
		       or not filecmp.cmp(os.path.join(tmp, n), os.path.join(a.out, n), shallow=False)]
	finally:
		shutil.rmtree(tmp)
	for n in bad:
		sys.stderr.write('gen-wsdl --check: %s is not what the generator makes\n' % n)
	return 1 if bad else 0


if __name__ == '__main__':
	sys.exit(main())
