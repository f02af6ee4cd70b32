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

# --- the operation tables of src/ws (ws_catalog.c) agree with our WSDLs: each operation with its elements and
# Actions; an asynchronous operation's callback (response element + callback Action) is received by one of our
# callback services (ES2/ES4 operator side, ES3 SM-DP side, ES7 requester)
if [ -x /usr/bin/python3 ] && [ -f "$SRC/src/ws/ws_catalog.c" ]; then
	if /usr/bin/python3 - "$SRC/src/ws/ws_catalog.c" "$OURS" <<'PY'
import glob, os, re, sys
import xml.etree.ElementTree as ET
W = '{http://schemas.xmlsoap.org/wsdl/}'
AM = '{http://www.w3.org/2007/05/addressing/metadata}Action'
src = open(sys.argv[1]).read()
wsdls = {}
for f in glob.glob(os.path.join(sys.argv[2], '*.wsdl')):
	root = ET.parse(f).getroot()
	msgs = {m.get('name'): m.find(W + 'part').get('element').split(':')[1]
		for m in root.findall(W + 'message') if m.get('name') != 'SoapHeader'}
	ops = {}
	for op in root.iter(W + 'operation'):
		i, o = op.find(W + 'input'), op.find(W + 'output')
		if i is None or i.get('message') is None:
			continue	# binding operations
		ops[op.get('name')] = (msgs[i.get('message').split(':')[1]], i.get(AM),
				       msgs[o.get('message').split(':')[1]] if o is not None else None,
				       o.get(AM) if o is not None else None)
	wsdls[root.find(W + 'service').get('name')] = (os.path.basename(f), ops)
callbacks = {(v[0], v[1]) for n, (f, ops) in wsdls.items() for v in ops.values() if v[2] is None}
bad = 0
tables = re.findall(r'ws_ops_(\w+)\[\]\s*=\s*\{(.*?)\n\};', src, re.S)
if not tables:
	print('FAIL: no operation tables found in ws_catalog.c'); sys.exit(1)
entry = re.compile(r'\{\s*"([^"]+)",\s*"([^"]+)",\s*"([^"]+)",\s*(WS_MEP_\w+),\s*(NULL|"[^"]*"),\s*(NULL|"[^"]*")\s*\}', re.S)
for svc, body in tables:
	if svc not in wsdls:
		print('FAIL: ws_catalog %s: no WSDL of ours has this service' % svc); bad += 1; continue
	f, ops = wsdls[svc]
	for name, req, act, mep, resp, ract in entry.findall(body):
		resp, ract = resp.strip('"') if resp != 'NULL' else None, ract.strip('"') if ract != 'NULL' else None
		w = ops.get(name)
		if w is None:
			print('FAIL: %s %s not in %s' % (svc, name, f)); bad += 1; continue
		if (w[0], w[1]) != (req, act):
			print('FAIL: %s %s input %s %s, %s has %s %s' % (svc, name, req, act, f, w[0], w[1])); bad += 1
		if mep == 'WS_MEP_SYNC' and (w[2], w[3]) != (resp, ract):
			print('FAIL: %s %s output %s %s, %s has %s %s' % (svc, name, resp, ract, f, w[2], w[3])); bad += 1
		if mep != 'WS_MEP_SYNC' and w[2] is not None:
			print('FAIL: %s %s is %s, %s gives it an output' % (svc, name, mep, f)); bad += 1
		if mep == 'WS_MEP_ASYNC' and (resp, ract) not in callbacks:
			print('FAIL: %s %s: no callback service of ours receives %s with Action %s' % (svc, name, resp, ract))
			bad += 1
sys.exit(1 if bad else 0)
PY
	then ok; else ko "src/ws/ws_catalog.c and our WSDLs disagree (see above)"; fi
fi

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
