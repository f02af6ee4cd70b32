#!/usr/bin/env bash
# Equivalence of our WSDL/XSD set (wsdl/) with the GSMA esim-messaging-3 set: a client generated from the GSMA
# WSDL must work against us unchanged (issue #4). Checks, each counted as one pass or one failure:
#  - wsdl/gen-wsdl.py --check: the generated files are what the committed generator makes;
#  - every WSDL and XSD of ours is well-formed, every XSD compiles;
#  - every function element of the GSMA XSDs is declared in ours, and nothing more;
#  - every GSMA WSDL has a WSDL of ours with the same operations, message elements and wsa:Action URIs;
#  - every sample Body in tests/ws/data-wsdl (ok-*: must validate, bad-*: must not) gets the same verdict and the
#    same first error from our sgp02-all.xsd as from the GSMA all-requests.xsd; env-* are full SOAP envelopes whose
#    Body goes through the GSMA soap-body.xsl first (shared/README.md recipe).
# Prints "TESTRESULT wsdl_test.sh <passed> <failed>"; exit status 1 on any failure.
set -u

SRC=${SGP02_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SHARED=${SGP02_SHARED:-$SRC/../shared}
GSMA=$SHARED/spec/gsma-esim-messaging-3
OURS=$SRC/wsdl
DATA=$SRC/tests/ws/data-wsdl
TMP=$(mktemp -d /tmp/wsdl_test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

for tool in xmllint xsltproc; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL: $tool not installed (Debian: libxml2-utils, xsltproc)"
		echo "TESTRESULT wsdl_test.sh 0 1"
		exit 1
	fi
done
if [ ! -f "$GSMA/all-requests.xsd" ]; then
	echo "FAIL: GSMA set not found in $GSMA (set SGP02_SHARED)"
	echo "TESTRESULT wsdl_test.sh 0 1"
	exit 1
fi

# --- the generated files are up to date
if [ -x /usr/bin/python3 ]; then
	if SGP02_SHARED=$SHARED /usr/bin/python3 "$OURS/gen-wsdl.py" --gsma "$GSMA" --out "$OURS" --check; then
		ok
	else
		ko "wsdl/ differs from what wsdl/gen-wsdl.py generates (run it and commit)"
	fi
else
	echo "SKIP: /usr/bin/python3 missing, generator not checked"
fi

# --- well-formed, and XSDs compile (a schema that compiles rejects this stray document; one that does not says
# "failed to compile")
echo '<sgp02-no-such-element/>' >"$TMP/dummy.xml"
for f in "$OURS"/*.wsdl "$OURS"/xsd/*.xsd; do
	if xmllint --noout --nonet "$f" 2>"$TMP/err"; then ok; else ko "$f not well-formed: $(head -1 "$TMP/err")"; fi
done
for f in "$OURS"/xsd/*.xsd; do
	if xmllint --noout --nonet --schema "$f" "$TMP/dummy.xml" 2>&1 | grep -q 'failed to compile'; then
		ko "$f does not compile: $(xmllint --noout --nonet --schema "$f" "$TMP/dummy.xml" 2>&1 | head -1)"
	else
		ok
	fi
done

# --- the same function elements
top_elements() {	# the names of the top-level xs:element of the files given
	for f in "$@"; do
		xmllint --xpath '/*[local-name()="schema"]/*[local-name()="element"]/@name' "$f" 2>/dev/null
	done | tr ' ' '\n' | sed -n 's/^name="\(.*\)"$/\1/p' | sort
}
for i in ES1 ES2 ES3 ES4 ES7; do
	top_elements "$GSMA/xsd/euicc.request.$i.xsd" >"$TMP/g.$i"
	top_elements "$OURS/xsd/sgp02-$i.xsd" >"$TMP/o.$i"
	if [ ! -s "$TMP/g.$i" ]; then
		ko "$i: no elements found in the GSMA XSD"
	elif diff "$TMP/g.$i" "$TMP/o.$i" >"$TMP/diff"; then
		ok
	else
		ko "$i: function elements differ (< GSMA, > ours):"; cat "$TMP/diff"
	fi
done

# --- the same operations, elements and Actions in each WSDL. Known fix: ES7_SMSR_Provider.wsdl names an element
# the GSMA XSD does not declare (ES7-AuthenticateSMSRequest); ours uses the declared ES7-AuthenticateSMSRRequest.
for g in "$GSMA"/*.wsdl; do
	n=$(basename "$g")
	if [ ! -f "$OURS/$n" ]; then
		ko "no WSDL of ours for $n"
		continue
	fi
	xsltproc "$DATA/wsdl-ops.xsl" "$g" | sed 's/|ES7-AuthenticateSMSRequest|/|ES7-AuthenticateSMSRRequest|/' \
		| sort >"$TMP/g.ops"
	xsltproc "$DATA/wsdl-ops.xsl" "$OURS/$n" | sort >"$TMP/o.ops"
	if [ ! -s "$TMP/g.ops" ]; then
		ko "$n: no operations read"
	elif diff "$TMP/g.ops" "$TMP/o.ops" >"$TMP/diff"; then
		ok
	else
		ko "$n: operations differ (< GSMA, > ours):"; cat "$TMP/diff"
	fi
done
# our extra services: every operation's elements are declared
for n in ES2_MNO_Callback.wsdl ES4_MNO_Callback.wsdl; do
	i=${n:0:3}
	if [ ! -f "$OURS/$n" ]; then ko "$n missing"; continue; fi
	bad=$(xsltproc "$DATA/wsdl-ops.xsl" "$OURS/$n" | cut -d'|' -f2 | while read -r e; do
		grep -qx -- "$e" "$TMP/o.$i" || echo "$e"; done)
	if [ -z "$bad" ] && [ -n "$(xsltproc "$DATA/wsdl-ops.xsl" "$OURS/$n")" ]; then ok; else ko "$n: undeclared $bad"; fi
done

# --- sample messages: same verdict and same first error from both schemas (one xmllint run per schema)
files=()
for f in "$DATA"/ok-*.xml "$DATA"/bad-*.xml "$DATA"/env-*.xml; do
	[ -f "$f" ] || continue
	b=$(basename "$f")
	case "$b" in
	env-*)	# full envelopes: their Body through the GSMA soap-body.xsl first
		if xsltproc "$GSMA/soap-body.xsl" "$f" >"$TMP/$b"; then files+=("$TMP/$b"); else ko "$b: soap-body.xsl"; fi
		;;
	*)	files+=("$f") ;;
	esac
done
nsamples=${#files[@]}
xmllint --noout --nonet --schema "$GSMA/all-requests.xsd" "${files[@]}" >"$TMP/v.gsma" 2>&1
xmllint --noout --nonet --schema "$OURS/xsd/sgp02-all.xsd" "${files[@]}" >"$TMP/v.ours" 2>&1
verdict() {	# xmllint output, file -> "valid" or the file's first error without the file name
	if grep -qxF -- "$2 validates" "$1"; then
		echo valid
	else
		grep -F -- "$2:" "$1" | head -1 | sed 's/^[^:]*://'
	fi
}
for f in "${files[@]}"; do
	b=$(basename "$f")
	vg=$(verdict "$TMP/v.gsma" "$f")
	vo=$(verdict "$TMP/v.ours" "$f")
	if [ -z "$vg" ] || [ "$vg" != "$vo" ]; then
		ko "$b: GSMA says [$vg], ours [$vo]"
		continue
	fi
	case "$b" in
	ok-* | env-ok-*)
		if [ "$vo" = valid ]; then ok; else ko "$b should be valid: $vo"; fi ;;
	*)
		if [ "$vo" != valid ]; then ok; else ko "$b should be invalid"; fi ;;
	esac
done
[ "$nsamples" -ge 80 ] && ok || ko "only $nsamples sample messages found in $DATA"

echo "TESTRESULT wsdl_test.sh $pass $fail"
[ "$fail" -eq 0 ]
