#!/usr/bin/python3
# SPDX-License-Identifier: AGPL-3.0-or-later
"""Interoperability of our SOAP layer with an independent client: python3-zeep (Debian) loads the GSMA WSDL
(shared/spec/gsma-esim-messaging-3/ES4_SMSR.wsdl), is pointed at tests/ws/ws_testsrv, and completes
  - a synchronous exchange (ES4-GetEIS; the answer's RelatesTo is our MessageID),
  - an asynchronous exchange (ES4-EnableProfile with wsa:ReplyTo at a callback HTTP server run here: HTTP 202
    at once, then a callback with RelatesTo = our MessageID, the callback Action, and a Body that validates
    against the GSMA schema and that zeep decodes with the GSMA types),
plus: a FAILED FunctionExecutionStatus decoded (unknown EID), the Receiver Fault of an operation without a
handler raised as zeep.exceptions.Fault, our own WSDL fetched from GET /ES4?wsdl and used as is (its address
rewritten by the server), and the synchronous exchange again over mutual TLS (when the test PKI can be made).
Also every WSDL of ours in wsdl/ loads in zeep with the same operations as the GSMA one of the same name.

Usage: zeep_test.py WS_TESTSRV SRCDIR SHARED [CERTDIR]
Run with /usr/bin/python3 (Debian's python3-zeep). Prints "TESTRESULT zeep_test <passed> <failed>".
"""

import glob
import http.server
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import zeep
import zeep.exceptions
from lxml import etree
from zeep.plugins import HistoryPlugin, Plugin

RPS = 'http://namespaces.gsma.org/esim-messaging/3'
WSA = 'http://www.w3.org/2005/08/addressing'
SOAP12 = 'http://www.w3.org/2003/05/soap-envelope'
NS = {'rps': RPS, 'wsa': WSA, 'env': SOAP12}
EID = '89001012012341234012345678901224'
ICCID = '8933010000000000010'
OUR_FROM = 'http://127.0.0.1/zeep?EntityId=1.3.6.1.4.1.99999.1&EntityName=zeep'
WAIT_S = 20	# bound of every wait (server start, answer, callback); sanitizer builds on a busy machine are slow

passed = 0
failed = 0


def check(name, cond, detail=''):
	global passed, failed
	if cond:
		passed += 1
		print('PASS: %s' % name)
	else:
		failed += 1
		print('FAIL: %s %s' % (name, detail))
	sys.stdout.flush()
	return cond


class MessageIdRecorder(Plugin):
	"""Remembers the wsa:MessageID that zeep's WS-Addressing step (run before the plugins) put on the last
	request."""

	def __init__(self):
		self.message_id = None

	def egress(self, envelope, http_headers, operation, binding_options):
		ids = envelope.xpath('/env:Envelope/env:Header/wsa:MessageID/text()', namespaces=NS)
		self.message_id = ids[0] if ids else None
		return envelope, http_headers


def wsa_epr(name, address):
	"""A WS-Addressing endpoint reference header block (wsa:From, wsa:ReplyTo)."""
	e = etree.Element('{%s}%s' % (WSA, name), nsmap={'wsa': WSA})
	etree.SubElement(e, '{%s}Address' % WSA).text = address
	return e


class Callbacks:
	"""A callback receiver (the requester's ReplyTo endpoint): stores every POST, answers 202 Accepted."""

	def __init__(self):
		self.received = []
		self.cond = threading.Condition()
		owner = self

		class Handler(http.server.BaseHTTPRequestHandler):
			def do_POST(self):
				n = int(self.headers.get('Content-Length', '0'))
				body = self.rfile.read(n) if 0 < n <= 4 * 1024 * 1024 else b''
				with owner.cond:
					owner.received.append((self.path, self.headers.get('Content-Type', ''), body))
					owner.cond.notify_all()
				self.send_response(202)
				self.send_header('Content-Length', '0')
				self.end_headers()

			def log_message(self, *args):
				pass

		self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
		self.url = 'http://127.0.0.1:%d/ES4/callback' % self.httpd.server_address[1]
		self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
		self.thread.start()

	def wait(self, count, timeout=WAIT_S):
		deadline = time.monotonic() + timeout
		with self.cond:
			while len(self.received) < count and time.monotonic() < deadline:
				self.cond.wait(deadline - time.monotonic())
			return len(self.received) >= count

	def stop(self):
		self.httpd.shutdown()
		self.httpd.server_close()


class Server:
	"""ws_testsrv started on a free port, stopped by its PID."""

	def __init__(self, binary, args, workdir, name):
		self.port_file = os.path.join(workdir, name + '.port')
		self.log = open(os.path.join(workdir, name + '.log'), 'w+')
		self.proc = subprocess.Popen([binary, '-p', '0', '-P', self.port_file] + args, stdout=self.log,
					     stderr=subprocess.STDOUT)
		deadline = time.monotonic() + WAIT_S
		self.port = None
		while time.monotonic() < deadline and self.proc.poll() is None:
			try:
				with open(self.port_file) as f:
					self.port = int(f.read().strip())
				break
			except (OSError, ValueError):
				time.sleep(0.05)

	def stop(self):
		"""SIGTERM by PID, bounded wait; returns the exit status (sanitizer findings make it non-zero)."""
		if self.proc.poll() is None:
			os.kill(self.proc.pid, signal.SIGTERM)
			try:
				self.proc.wait(WAIT_S)
			except subprocess.TimeoutExpired:
				os.kill(self.proc.pid, signal.SIGKILL)
				self.proc.wait()
				return -9
		return self.proc.returncode

	def output(self):
		self.log.seek(0)
		return self.log.read()


class RecordingTransport(zeep.Transport):
	"""Keeps the HTTP status of the last POST (zeep hides it for one-way operations)."""

	last_status = None

	def __init__(self, session=None):
		if session is None:
			import requests
			session = requests.Session()
		# the test talks to 127.0.0.1 only: no proxy or CA bundle from the environment
		session.trust_env = False
		super().__init__(session=session, timeout=WAIT_S, operation_timeout=WAIT_S)

	def post(self, address, message, headers):
		r = super().post(address, message, headers)
		self.last_status = r.status_code
		return r


def gsma_client(shared, history, recorder, transport=None):
	"""zeep applies its WsAddressingPlugin (Action, MessageID, To) by itself to every operation whose WSDL
	message has a wsam:Action, as the GSMA WSDLs have: adding it to the plugins would send each header twice
	(which our server rightly refuses, WS-Addressing SOAP Binding §5: InvalidCardinality)."""
	wsdl = os.path.join(shared, 'spec', 'gsma-esim-messaging-3', 'ES4_SMSR.wsdl')
	kw = {'transport': transport} if transport else {}
	return zeep.Client(wsdl, plugins=[recorder, history], **kw)


def body_of(result):
	"""zeep returns {body, header} when the output message binds headers, else the body."""
	if result is not None and hasattr(result, '__getitem__'):
		try:
			return result['body']
		except (KeyError, TypeError, AttributeError):
			pass
	return result


def hexval(v):
	"""xs:hexBinary as zeep gives it (str or bytes, depending on the version) -> upper-case hex text."""
	return (v.hex() if isinstance(v, (bytes, bytearray)) else str(v)).upper()


def relates_to(envelope):
	r = envelope.xpath('/env:Envelope/env:Header/wsa:RelatesTo/text()', namespaces=NS)
	return r[0] if r else None


def test_sync(svc, history, recorder, label):
	res = svc['ES4-GetEIS'](FunctionCallIdentifier='ZEEP-SYNC-1', Eid=EID,
				_soapheaders=[wsa_epr('From', OUR_FROM)])
	body = body_of(res)
	status = body['FunctionExecutionStatus']['Status'] if body is not None else None
	check('%s: ES4-GetEIS answered EXECUTED_SUCCESS' % label, status == 'EXECUTED_SUCCESS', repr(res)[:400])
	eis = body['Eis'] if body is not None else None
	check('%s: the EIS came back decoded (Eid, ISD-R role)' % label,
	      eis is not None and hexval(eis['EumSignedInfo']['Eid']) == EID and eis['Isd-r']['Role'] == 'ISD-R',
	      repr(eis)[:300])
	check('%s: response RelatesTo = our MessageID' % label,
	      recorder.message_id and relates_to(history.last_received['envelope']) == recorder.message_id,
	      '%s vs %s' % (recorder.message_id, relates_to(history.last_received['envelope'])))


def main():
	if len(sys.argv) < 4:
		print(__doc__)
		return 2
	binary, srcdir, shared = sys.argv[1:4]
	certdir = sys.argv[4] if len(sys.argv) > 4 else None
	gsma = os.path.join(shared, 'spec', 'gsma-esim-messaging-3')
	xsd = os.path.join(gsma, 'all-requests.xsd')
	work = tempfile.mkdtemp(prefix='zeep_test.')
	schema = etree.XMLSchema(etree.parse(xsd))
	servers = []
	cbs = Callbacks()
	try:
		srv = Server(binary, ['-s', xsd, '-w', os.path.join(srcdir, 'wsdl'), '-d', '50'], work, 'plain')
		servers.append(srv)
		if not check('ws_testsrv started', srv.port is not None, srv.output()):
			return 1
		url = 'http://127.0.0.1:%d/ES4' % srv.port
		history, recorder = HistoryPlugin(), MessageIdRecorder()
		transport = RecordingTransport()
		client = gsma_client(shared, history, recorder, transport)
		svc = client.create_service('{%s}ES4SmSrServiceBinding' % RPS, url)

		# (a) synchronous
		try:
			test_sync(svc, history, recorder, 'GSMA WSDL, plain HTTP')
		except Exception:
			check('GSMA WSDL, plain HTTP: synchronous exchange', False, traceback.format_exc())

		# (b) asynchronous: 202 now, the response POSTed to ReplyTo later
		try:
			res = svc['ES4-EnableProfile'](FunctionCallIdentifier='ZEEP-ASYNC-1', ValidityPeriod=600, Eid=EID,
						       Iccid=ICCID, _soapheaders=[wsa_epr('From', OUR_FROM),
										  wsa_epr('ReplyTo', cbs.url)])
			mid = recorder.message_id
			check('ES4-EnableProfile accepted (HTTP 202, no SOAP answer)',
			      res is None and transport.last_status == 202, '%s %r' % (transport.last_status, res))
			check('callback arrived at ReplyTo', cbs.wait(1))
			path, ctype, raw = cbs.received[0] if cbs.received else ('', '', b'')
			check('callback is SOAP 1.2 (application/soap+xml)', ctype.startswith('application/soap+xml'), ctype)
			env = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
			check('callback RelatesTo = our MessageID', mid and relates_to(env) == mid,
			      '%s vs %s' % (mid, relates_to(env)))
			act = env.xpath('/env:Envelope/env:Header/wsa:Action/text()', namespaces=NS)
			check('callback Action', act == ['http://gsma.com/ES4/PlatformManagementCallBack/ES4-EnableProfile'],
			      repr(act))
			resp = env.xpath('/env:Envelope/env:Body/rps:ES4-EnableProfileResponse', namespaces=NS)
			ok = bool(resp) and schema.validate(resp[0])
			check('callback Body validates against the GSMA schema', ok,
			      str(schema.error_log.last_error) if resp else raw[:300])
			if resp:
				el = client.get_element('{%s}ES4-EnableProfileResponse' % RPS)
				val = el.parse(resp[0], client.wsdl.types)
				check('zeep decodes the callback Body: EXECUTED_SUCCESS, EuiccResponseData 9000',
				      val.FunctionExecutionStatus.Status == 'EXECUTED_SUCCESS'
				      and hexval(val.EuiccResponseData) == '9000', repr(val)[:300])
		except Exception:
			check('asynchronous exchange', False, traceback.format_exc())

		# a FAILED status is an answer, not a Fault (SGP.02 §5.1.6: subject 8.1.1, reason 3.9)
		try:
			res = body_of(svc['ES4-GetEIS'](FunctionCallIdentifier='ZEEP-SYNC-2',
							Eid='89049032123451234512345678901235',
							_soapheaders=[wsa_epr('From', OUR_FROM)]))
			fes = res['FunctionExecutionStatus']
			check('unknown EID: FAILED 8.1.1 / 3.9', fes['Status'] == 'FAILED'
			      and fes['StatusCodeData']['Subject'] == '8.1.1' and fes['StatusCodeData']['Reason'] == '3.9',
			      repr(fes))
		except Exception:
			check('unknown EID answer', False, traceback.format_exc())

		# an operation without a handler: a SOAP Fault, which zeep raises
		try:
			svc['ES4-AuditEIS'](FunctionCallIdentifier='ZEEP-FAULT-1', Eid=EID,
					    _soapheaders=[wsa_epr('From', OUR_FROM), wsa_epr('ReplyTo', cbs.url)])
			check('operation without handler raises a Fault', False, 'no Fault')
		except zeep.exceptions.Fault as f:
			check('operation without handler raises a Fault', 'not implemented' in (f.message or '').lower(),
			      repr(f.message))
		except Exception:
			check('operation without handler raises a Fault', False, traceback.format_exc())

		# our WSDL from GET /ES4?wsdl, used as served (address rewritten to this server)
		try:
			h2, r2 = HistoryPlugin(), MessageIdRecorder()
			ours = zeep.Client(url + '?wsdl', plugins=[r2, h2], transport=RecordingTransport())
			test_sync(ours.service, h2, r2, 'our WSDL from ?wsdl')
		except Exception:
			check('our WSDL from ?wsdl', False, traceback.format_exc())

		# mutual TLS with the test PKI (tests/common/mkcerts.sh)
		if certdir and os.path.exists(os.path.join(certdir, 'ca.pem')):
			c = lambda n: os.path.join(certdir, n)
			tsrv = Server(binary, ['-s', xsd, '-c', c('server.pem'), '-k', c('server.key'), '-C', c('ca.pem')],
				      work, 'tls')
			servers.append(tsrv)
			if check('ws_testsrv with mutual TLS started', tsrv.port is not None, tsrv.output()):
				try:
					import requests
					sess = requests.Session()
					sess.verify = c('ca.pem')
					sess.cert = (c('client.pem'), c('client.key'))
					h3, r3 = HistoryPlugin(), MessageIdRecorder()
					tc = gsma_client(shared, h3, r3, RecordingTransport(sess))
					tsvc = tc.create_service('{%s}ES4SmSrServiceBinding' % RPS,
								 'https://127.0.0.1:%d/ES4' % tsrv.port)
					test_sync(tsvc, h3, r3, 'GSMA WSDL, mutual TLS')
					sess.close()
				except Exception:
					check('GSMA WSDL, mutual TLS', False, traceback.format_exc())
		else:
			print('SKIP: no test PKI, mutual TLS not tried')

		# every WSDL of ours loads in zeep, with the operations of the GSMA WSDL of the same name
		for g in sorted(glob.glob(os.path.join(gsma, '*.wsdl'))):
			n = os.path.basename(g)
			try:
				ours = zeep.Client(os.path.join(srcdir, 'wsdl', n)).wsdl
				theirs = zeep.Client(g).wsdl
				ops = lambda w: sorted(o for b in w.bindings.values() for o in b._operations)
				want = ops(theirs)
				if n == 'ES7_SMSR_Provider.wsdl':
					# zeep drops the GSMA AuthenticateSMSR: its input element is not in the XSD (ours uses
					# the declared ES7-AuthenticateSMSRRequest, ws_catalog.h)
					want = sorted(want + ['ES7-AuthenticateSMSR'])
				check('zeep loads our %s with the GSMA operations' % n, ops(ours) == want,
				      '%s vs %s' % (ops(ours), want))
			except Exception:
				check('zeep loads our %s' % n, False, traceback.format_exc())
		# our operator-side callback services have no GSMA counterpart: they load, with one operation per
		# callback and notification
		for n, count in (('ES2_MNO_Callback.wsdl', 8), ('ES4_MNO_Callback.wsdl', 10)):
			try:
				w = zeep.Client(os.path.join(srcdir, 'wsdl', n)).wsdl
				got = sum(len(b._operations) for b in w.bindings.values())
				check('zeep loads our %s (%d operations)' % (n, count), got == count, str(got))
			except Exception:
				check('zeep loads our %s' % n, False, traceback.format_exc())
	finally:
		cbs.stop()
		for s in servers:
			rc = s.stop()
			check('ws_testsrv (%s) stopped cleanly' % os.path.basename(s.port_file), rc == 0,
			      'exit %s\n%s' % (rc, s.output()[-3000:]))
		for f in glob.glob(os.path.join(work, '*')):
			os.unlink(f)
		os.rmdir(work)
	print('TESTRESULT zeep_test %d %d' % (passed, failed))
	return 1 if failed else 0


if __name__ == '__main__':
	import warnings
	warnings.simplefilter('ignore')	# zeep warns about the GSMA WSDLs' own flaws (digest §6.3)
	# a SIGTERM (zeep_test.sh's overall timeout) unwinds through main()'s finally: our servers are stopped
	signal.signal(signal.SIGTERM, lambda sig, frame: sys.exit(1))
	sys.exit(main())
