#!/bin/sh
# The SMPP our ESME and SMSC put on the wire, checked by an independent decoder: capture the loopback
# traffic of tests/fleet/smsc_esme_test with dumpcap (SMSC on a port chosen here), then let tshark's SMPP
# dissector decode it. Every PDU type the test exchanges must show up, and no packet may be malformed or
# carry an SMPP warning/error. Needs Debian's tshark (and the right to capture on lo); skips without them.
# Environment: SGP02_BUILDDIR (build tree).

BUILDDIR=${SGP02_BUILDDIR:-.}
CTEST="$BUILDDIR/tests/fleet/smsc_esme_test"
NAME=smpp_tshark_test.sh

passed=0
failed=0

ok() {
	passed=$((passed + 1))
	echo "ok   $1"
}

fail() {
	failed=$((failed + 1))
	echo "FAIL $1"
}

skip() {
	echo "SKIP: $1"
	echo "TESTRESULT $NAME 0 0"
	exit 77
}

command -v tshark >/dev/null 2>&1 || skip "tshark not installed (Debian package tshark)"
command -v dumpcap >/dev/null 2>&1 || skip "dumpcap not installed (Debian package tshark)"
command -v python3 >/dev/null 2>&1 || skip "python3 needed to pick a free port"
[ -x "$CTEST" ] || { echo "missing $CTEST"; echo "TESTRESULT $NAME 0 1"; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/smpp_tshark.XXXXXX") || exit 1
DUMPCAP_PID=
cleanup() {
	[ -n "$DUMPCAP_PID" ] && kill "$DUMPCAP_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# a port nobody uses right now (the tests' SMSC binds it with SO_REUSEADDR, also across its restart)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

dumpcap -q -i lo -f "tcp port $PORT" -w "$TMP/smpp.pcapng" 2>"$TMP/dumpcap.err" &
DUMPCAP_PID=$!
i=0
while ! grep -q Capturing "$TMP/dumpcap.err" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$DUMPCAP_PID" 2>/dev/null; then
		sed 's/^/     /' "$TMP/dumpcap.err"
		DUMPCAP_PID=
		skip "cannot capture on lo here"
	fi
	sleep 0.1
done

if SMPP_TEST_PORT=$PORT "$CTEST" >"$TMP/test.out" 2>&1; then
	ok "smsc_esme_test on port $PORT"
else
	fail "smsc_esme_test on port $PORT"
	tail -n 30 "$TMP/test.out" | sed 's/^/     /'
fi
# let the last segments reach the capture, then stop it cleanly
sleep 0.5
kill -INT "$DUMPCAP_PID"
wait "$DUMPCAP_PID"
DUMPCAP_PID=

TS="tshark -n -r $TMP/smpp.pcapng -d tcp.port==$PORT,smpp"
$TS -T fields -e smpp.command_id 2>/dev/null | tr ',' '\n' | grep . | sort | uniq -c >"$TMP/ids"
echo "     SMPP PDUs seen (count command_id):"
sed 's/^/      /' "$TMP/ids"
for id in 0x00000009 0x80000009 0x00000004 0x80000004 0x00000005 0x80000005 0x00000015 0x80000015 \
	0x00000006 0x80000006; do
	if grep -q " $id\$" "$TMP/ids"; then
		ok "tshark decodes command_id $id"
	else
		fail "tshark decodes command_id $id"
	fi
done

# malformed anywhere, or an SMPP packet with an expert warning/error (TCP resets of the tests' teardown are
# TCP's business, not SMPP's)
$TS -Y '_ws.malformed || (smpp && _ws.expert.severity >= 0x00600000)' 2>/dev/null >"$TMP/bad"
if [ -s "$TMP/bad" ]; then
	fail "no malformed SMPP and no SMPP expert warnings"
	head -n 20 "$TMP/bad" | sed 's/^/     /'
else
	ok "no malformed SMPP and no SMPP expert warnings"
fi

# the SMS-PP fields as tshark reads them (SGP.02 digest §7.1): PID 0x7F, DCS 0xF6, UDHI in esm_class, and
# the UDH of every submit_sm is a TS 31.115 command packet header (IEI 0x70)
good='smpp.command_id == 0x00000004 && smpp.protocol_id == 0x7f && smpp.data_coding == 0xf6'
good="$good && smpp.esm.submit.features == 1"
n_sm=$($TS -Y 'smpp.command_id == 0x00000004' 2>/dev/null | wc -l)
n_bad=$($TS -Y "smpp.command_id == 0x00000004 && !($good)" 2>/dev/null | wc -l)
n_udh=$($TS -Y 'smpp.command_id == 0x00000004 && gsm_sms.ie_identifier == 0x70' 2>/dev/null | wc -l)
if [ "$n_sm" -gt 0 ] && [ "$n_bad" -eq 0 ] && [ "$n_udh" -eq "$n_sm" ]; then
	ok "all $n_sm frames with submit_sm carry PID 0x7F, DCS 0xF6, UDHI and a command packet UDH"
else
	fail "submit_sm fields: $n_sm frames, $n_bad with other PID/DCS/esm_class, $n_udh with IEI 0x70"
fi

echo "TESTRESULT $NAME $passed $failed"
[ "$failed" -eq 0 ]
