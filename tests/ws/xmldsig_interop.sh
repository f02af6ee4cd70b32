#!/bin/sh
# The EumSignature our signer makes (tests/ws/xmldsig_test, XMLDSIG_TEST_OUT) checked by an independent XML-DSig
# reading (xmldsig_interop.py: lxml + python3-cryptography, Debian packages). Skipped (77) without them.
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
echo "TESTRESULT xmldsig_interop.sh $passed $failed"
[ $failed -eq 0 ]
