#!/usr/bin/env bash
# Interoperability with an independent SOAP client: Debian's python3-zeep, run with /usr/bin/python3, loads the
# GSMA WSDL and completes a synchronous and an asynchronous (wsa:ReplyTo) exchange against tests/ws/ws_testsrv
# (details in zeep_test.py). Prints "TESTRESULT zeep_test <passed> <failed>".
set -u
SRC=${SGP02_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${SGP02_BUILDDIR:-$SRC}
SHARED=${SGP02_SHARED:-$SRC/../shared}
PY=/usr/bin/python3
SRV=$BUILD/tests/ws/ws_testsrv

if [ ! -x "$PY" ] || ! "$PY" -c 'import zeep' 2>/dev/null; then
	echo "FAIL: python3-zeep is not installed for /usr/bin/python3 (apt-get install python3-zeep)"
	echo "TESTRESULT zeep_test 0 1"
	exit 1
fi
if [ ! -x "$SRV" ]; then
	echo "FAIL: $SRV not built (make -C tests ws/ws_testsrv)"
	echo "TESTRESULT zeep_test 0 1"
	exit 1
fi
# the test PKI shared with the other TLS tests (idempotent); without it the mutual-TLS case is skipped
CERTS=$BUILD/tests/ws/certs
sh "$SRC/tests/common/mkcerts.sh" "$CERTS" || echo "warning: no test PKI, mutual TLS not tried"
# bounded as a whole too (each wait inside is bounded already); SIGTERM lets the script stop its servers
exec timeout -s TERM 300 "$PY" "$SRC/tests/ws/zeep_test.py" "$SRV" "$SRC" "$SHARED" "$CERTS"
