#!/bin/sh
# The EumSignature our signer makes (tests/ws/xmldsig_test, XMLDSIG_TEST_OUT) checked by an independent XML-DSig
# reading (xmldsig_interop.py: lxml + python3-cryptography, Debian packages), and signatures made by that script
# verified by ours (XMLDSIG_TEST_IN / XMLDSIG_TEST_TRUST). Skipped (77) without them; needs the openssl command.
# Environment: SGP02_BUILDDIR (build tree), SGP02_SRCDIR (source tree).

BUILDDIR=${SGP02_BUILDDIR:-.}
SRCDIR=${SGP02_SRCDIR:-$(dirname "$0")/../..}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/xmldsig_interop.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

if ! /usr/bin/python3 -c "import lxml.etree, cryptography" 2>/dev/null; then
	echo "skip: /usr/bin/python3 with lxml and cryptography needed"
	exit 77
fi
passed=0
failed=0
for round in 1 2 3; do
	if ! XMLDSIG_TEST_OUT="$TMP/signed.xml" "$BUILDDIR/tests/ws/xmldsig_test" xmldsig >"$TMP/run.log" 2>&1 ||
	   [ ! -s "$TMP/signed.xml" ]; then
		echo "FAIL xmldsig_test did not produce a signed EIS"
		tail -20 "$TMP/run.log"
		failed=$((failed + 1))
		continue
	fi
	if /usr/bin/python3 "$SRCDIR/tests/ws/xmldsig_interop.py" "$TMP/signed.xml"; then
		echo "ok   round $round: digest and ECDSA signature verified independently"
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
	rm -f "$TMP/signed.xml"
done
# the other way round: signed outside (with and without the enveloped-signature transform), verified by us
if ! openssl ecparam -name prime256v1 -genkey -noout -out "$TMP/eum.key" 2>"$TMP/openssl.log" ||
   ! openssl req -new -x509 -key "$TMP/eum.key" -subj "/CN=EUM interop" -days 1 -out "$TMP/eum.pem" \
	2>>"$TMP/openssl.log"; then
	echo "FAIL openssl could not make a test key"
	cat "$TMP/openssl.log"
	failed=$((failed + 1))
else
	for mode in "" enveloped; do
		if ! /usr/bin/python3 "$SRCDIR/tests/ws/xmldsig_interop.py" sign \
			"$SRCDIR/tests/ws/data-eis/eis_full.xml" "$TMP/ext.xml" \
			"$TMP/eum.key" "$TMP/eum.pem" $mode; then
			echo "FAIL python could not sign (${mode:-plain})"
			failed=$((failed + 1))
			continue
		fi
		if XMLDSIG_TEST_IN="$TMP/ext.xml" XMLDSIG_TEST_TRUST="$TMP/eum.pem" \
		   "$BUILDDIR/tests/ws/xmldsig_test" xmldsig >"$TMP/run.log" 2>&1; then
			echo "ok   signed outside (${mode:-exc-c14n only}) verified by ws_xmldsig_verify_eis"
			passed=$((passed + 1))
		else
			echo "FAIL signed outside (${mode:-exc-c14n only}) not verified"
			grep -B2 -A4 FAIL "$TMP/run.log" | head -20
			failed=$((failed + 1))
		fi
	done
fi
echo "TESTRESULT xmldsig_interop.sh $passed $failed"
[ $failed -eq 0 ]
