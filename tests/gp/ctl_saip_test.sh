#!/bin/sh
# `sgp02-ctl saip list` on the four TS.48 v7 packages: the PE sequence printed must match the ASN.1 value
# notation (.txt) next to each package; a file that is not a SAIP package must give exit status 2.
# Environment: SGP02_BUILDDIR (build tree), SGP02_SHARED (shared data; default ../shared of the sources).

BUILDDIR=${SGP02_BUILDDIR:-.}
SRCDIR=${SGP02_SRCDIR:-$(dirname "$0")/../..}
SHARED=${SGP02_SHARED:-$SRCDIR/../shared}
CTL="$BUILDDIR/src/ctl/sgp02-ctl"
PROFILES="$SHARED/vectors/profiles"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ctl_saip_test.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

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

for name in ts48v7-SAIP2.3_BERTLV_SUCI ts48v7-SAIP2.3_BERTLV_SUCI_NoRAMRFM \
	    ts48v7-SAIP2.3_NoBERTLV ts48v7-SAIP2.3_NoBERTLV_NoRAMRFM; do
	der="$PROFILES/$name.der"
	txt="$PROFILES/$name.txt"
	if [ ! -r "$der" ] || [ ! -r "$txt" ]; then
		fail "$name: package or value notation missing under $PROFILES"
		continue
	fi
	"$CTL" saip list "$der" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "$name: exit status $rc: $(cat "$TMP/err")"
		continue
	fi
	# the value notation uses CRLF line ends
	tr -d '\r' <"$txt" >"$TMP/txt"
	# PE names in order, from the value notation and from our listing
	sed -n 's/^value[0-9]* ProfileElement ::= \([A-Za-z0-9-]*\) : {.*/\1/p' "$TMP/txt" >"$TMP/expected"
	awk '$1 ~ /^[0-9]+$/ && $3 ~ /^tag=/ { print $2 }' "$TMP/out" >"$TMP/got"
	if [ -s "$TMP/expected" ] && cmp -s "$TMP/expected" "$TMP/got"; then
		ok "$name: $(wc -l <"$TMP/got") PEs in the order of the value notation"
	else
		fail "$name: PE sequence differs from $name.txt"
		diff "$TMP/expected" "$TMP/got" | head -20
	fi
	# header line carries the ICCID and profile type of the value notation
	iccid=$(sed -n "s/^  iccid '\([0-9A-Fa-f]*\)'H,*$/\1/p" "$TMP/txt" | head -1 | tr -d 'Ff')
	ptype=$(sed -n 's/^  profileType "\(.*\)",*$/\1/p' "$TMP/txt" | head -1)
	if grep -q "^  0 header .*iccid=$iccid profileType=\"$ptype\"" "$TMP/out"; then
		ok "$name: header ICCID $iccid and profile type"
	else
		fail "$name: header line lacks iccid=$iccid / profileType=\"$ptype\""
	fi
	# mandatory services, in ServicesList order as in the value notation
	services=$(sed -n '/eUICC-Mandatory-services {/,/}/s/^ *\([a-z0-9-]*\) NULL,*$/\1/p' "$TMP/txt" | paste -sd, -)
	if [ -n "$services" ] && grep -q "^  0 header .* services=$services\$" "$TMP/out"; then
		ok "$name: mandatory services $services"
	else
		fail "$name: header line lacks services=$services"
	fi
done

# not a SAIP package: text, binary junk, empty file, missing file, a package that does not start with a header,
# a truncated one
printf 'this is not a profile package\n' >"$TMP/garbage.txt"
printf '\240\003\200\001\377\060\202\377\377' >"$TMP/random.bin"
: >"$TMP/empty.der"
der="$PROFILES/ts48v7-SAIP2.3_NoBERTLV.der"
if [ -r "$der" ]; then
	tail -c +200 "$der" >"$TMP/noheader.der"
	head -c 5000 "$der" >"$TMP/truncated.der"
fi
for f in "$TMP/garbage.txt" "$TMP/random.bin" "$TMP/empty.der" "$TMP/missing.der" "$TMP/noheader.der" \
	 "$TMP/truncated.der"; do
	"$CTL" saip list "$f" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc -eq 2 ] && [ -s "$TMP/err" ]; then
		ok "$(basename "$f"): rejected with exit status 2"
	else
		fail "$(basename "$f"): exit status $rc (expected 2 and a message)"
	fi
done

# usage errors
"$CTL" saip >/dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "no subcommand: exit status 2"; else fail "no subcommand: exit status $rc"; fi
"$CTL" saip frobnicate x >/dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "unknown subcommand: exit status 2"; else fail "unknown subcommand: exit status $rc"; fi

echo "TESTRESULT ctl_saip_test.sh $passed $failed"
[ $failed -eq 0 ]
