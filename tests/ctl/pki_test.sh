#!/bin/sh
# `sgp02-ctl pki init|show|verify`: the test PKI checked from outside with the openssl CLI (chains, names, key
# usage, key pairs, file modes), refusal to overwrite without --force, regeneration with --force, usage errors,
# and the GP-format chains through tests/ctl/pki_test (C, libgp) on the same folder.
# Environment: SGP02_BUILDDIR (build tree). Needs the openssl command.

BUILDDIR=${SGP02_BUILDDIR:-.}
CTL="$BUILDDIR/src/ctl/sgp02-ctl"
CTEST="$BUILDDIR/tests/ctl/pki_test"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pki_test.XXXXXX") || exit 1
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

# check DESCRIPTION COMMAND...: the command must succeed
check() {
	desc=$1
	shift
	if "$@" >"$TMP/check.out" 2>&1; then
		ok "$desc"
	else
		fail "$desc"
		sed 's/^/     /' "$TMP/check.out" | head -20
	fi
}

# status EXPECTED DESCRIPTION COMMAND...: the command must exit with EXPECTED and say why on stderr
status() {
	want=$1
	desc=$2
	shift 2
	"$@" >"$TMP/st.out" 2>"$TMP/st.err"
	rc=$?
	if [ $rc -eq "$want" ] && { [ "$want" -eq 0 ] || [ -s "$TMP/st.err" ]; }; then
		ok "$desc (exit $rc)"
	else
		fail "$desc: exit status $rc, expected $want$( [ -s "$TMP/st.err" ] || echo ', no message')"
		head -5 "$TMP/st.err" | sed 's/^/     /'
	fi
}

# the files of a PKI with their checksums and modification times, to show that nothing changed
snapshot() {
	(cd "$1" && find . -type f | LC_ALL=C sort | while read -r f; do
		printf '%s %s %s\n' "$f" "$(sha256sum <"$f" | cut -c1-64)" "$(stat -c '%Y %a' "$f")"
	done)
}

if ! command -v openssl >/dev/null 2>&1; then
	fail "the openssl command is needed for this test"
	echo "TESTRESULT pki_test.sh $passed $failed"
	exit 1
fi

# --- usage errors: exit 2 with a message ---
status 2 "no command" "$CTL" pki
status 2 "unknown command" "$CTL" pki frobnicate "$TMP/x"
status 2 "init without DIR" "$CTL" pki init
status 2 "init with two DIRs" "$CTL" pki init "$TMP/a" "$TMP/b"
status 2 "unknown option" "$CTL" pki init --bogus "$TMP/a"
status 2 "--days 0" "$CTL" pki init --days 0 "$TMP/a"
status 2 "--days not a number" "$CTL" pki init --days ten "$TMP/a"
status 2 "--days without value" "$CTL" pki init "$TMP/a" --days
status 2 "a DIR that needs shell quoting" "$CTL" pki init "$TMP/with space"
status 2 "--force is for init only" "$CTL" pki show --force "$TMP/a"
status 2 "--force with --if-missing" "$CTL" pki init --force --if-missing "$TMP/a"
status 2 "show of a folder without pki.env" "$CTL" pki show "$TMP"
status 2 "verify of a folder without pki.env" "$CTL" pki verify "$TMP"
: >"$TMP/plainfile"
status 2 "DIR is a file" "$CTL" pki init "$TMP/plainfile"
[ ! -e "$TMP/a" ] && ok "nothing created by the usage errors" || fail "usage errors created $TMP/a"

# --- init ---
PKI=$TMP/pki
"$CTL" pki init "$PKI" >"$TMP/init.out" 2>"$TMP/init.err"
rc=$?
if [ $rc -eq 0 ] && [ -s "$PKI/pki.env" ]; then
	ok "init into a new folder"
else
	fail "init: exit status $rc"
	cat "$TMP/init.err"
	echo "TESTRESULT pki_test.sh $passed $failed"
	exit 1
fi
if grep -q "PRIVATE KEY" "$TMP/init.out" "$TMP/init.err" "$PKI/pki.env"; then
	fail "init printed key material"
else
	ok "init prints no private key"
fi
if ls -a "$PKI" | grep -q '^\.pki-new'; then fail "work folder left behind"; else ok "no work folder left behind"; fi

# the manifest is valid sh and names every file with an absolute path
(
	. "$PKI/pki.env" || exit 1
	[ "$PKI_DIR" = "$PKI" ] || exit 1
	for v in "$PKI_TLS_CA_CERT" "$PKI_TLS_CA_BUNDLE" "$PKI_TLS_MNO1_CERT" "$PKI_TLS_MNO1_KEY" \
		 "$PKI_GP_P256_SMDP_CERT" "$PKI_GP_BP256_EUM_KEY" "$PKI_GP_BP256_CI_X509"; do
		[ -f "$v" ] || exit 1
	done
) && ok "pki.env sources in sh; PKI_DIR and the files exist" || fail "pki.env does not source or names missing files"
nlisted=$(grep -c '^PKI_[A-Z0-9_]*=/' "$PKI/pki.env")
nfiles=$(find "$PKI" -type f ! -name pki.env | wc -l)
if [ "$nlisted" -eq $((nfiles + 1)) ]; then
	ok "pki.env lists all $nfiles files (+ PKI_DIR)"
else
	fail "pki.env lists $nlisted entries for $nfiles files"
fi
. "$PKI/pki.env"

# --- X.509 TLS certificates ---
tls_text() { openssl x509 -noout -text -in "$1" 2>/dev/null; }
for f in "$PKI"/tls/*.pem; do
	check "openssl verify -CAfile ca.pem $(basename "$f")" openssl verify -CAfile "$PKI_TLS_CA_CERT" "$f"
done
check "the CA bundle verifies a client" openssl verify -CAfile "$PKI_TLS_CA_BUNDLE" "$PKI_TLS_MNO2_CERT"
for f in "$PKI_TLS_SMSR_SERVER_CERT" "$PKI_TLS_SMDP_SERVER_CERT"; do
	n=$(basename "$f")
	check "$n verifies for sslserver" openssl verify -purpose sslserver -CAfile "$PKI_TLS_CA_CERT" "$f"
	tls_text "$f" >"$TMP/t"
	if grep -q "Subject: .*CN *= *localhost" "$TMP/t" && grep -q "DNS:localhost, IP Address:127.0.0.1" "$TMP/t" \
	   && grep -q "TLS Web Server Authentication" "$TMP/t" && ! grep -q "TLS Web Client Authentication" "$TMP/t" \
	   && grep -q "CA:FALSE" "$TMP/t" && grep -q "Digital Signature" "$TMP/t" && grep -q "prime256v1" "$TMP/t"; then
		ok "$n: CN=localhost, SAN DNS:localhost + IP:127.0.0.1, serverAuth, P-256"
	else
		fail "$n: names or key usage wrong"
		grep -E "Subject:|DNS|Authentication|CA:" "$TMP/t" | sed 's/^/     /'
	fi
	if openssl verify -purpose sslclient -CAfile "$PKI_TLS_CA_CERT" "$f" >/dev/null 2>&1; then
		fail "$n is accepted for clientAuth"
	else
		ok "$n is refused for clientAuth"
	fi
done
for pair in mno1:MNO1 mno2:MNO2 eum1:EUM1 smdp1:SMDP1 smsr1:SMSR1; do
	file=${pair%%:*}
	cn=${pair#*:}
	f=$PKI/tls/$file.pem
	check "$file.pem verifies for sslclient" openssl verify -purpose sslclient -CAfile "$PKI_TLS_CA_CERT" "$f"
	tls_text "$f" >"$TMP/t"
	if grep -q "Subject: .*CN *= *$cn\$" "$TMP/t" && grep -q "TLS Web Client Authentication" "$TMP/t" \
	   && ! grep -q "TLS Web Server Authentication" "$TMP/t" && grep -q "CA:FALSE" "$TMP/t" \
	   && grep -q "Issuer: .*CN *= *sgp02 test CI" "$TMP/t" && grep -q "prime256v1" "$TMP/t"; then
		ok "$file.pem: CN=$cn, clientAuth, issued by sgp02 test CI"
	else
		fail "$file.pem: names or key usage wrong"
		grep -E "Subject:|Issuer:|Authentication|CA:" "$TMP/t" | sed 's/^/     /'
	fi
done
tls_text "$PKI_TLS_CA_CERT" >"$TMP/t"
if grep -q "Subject: .*CN *= *sgp02 test CI" "$TMP/t" && grep -q "CA:TRUE" "$TMP/t" && \
   grep -q "Certificate Sign" "$TMP/t"; then
	ok "ca.pem: CN=sgp02 test CI, CA:TRUE, keyCertSign"
else
	fail "ca.pem: not a CA named sgp02 test CI"
fi
if cmp -s "$PKI_TLS_CA_CERT" "$PKI_TLS_CA_BUNDLE"; then ok "bundle holds the CA"; else fail "bundle differs"; fi

# every private key: mode 0600, PKCS#8 PEM, and the pair of its certificate
for key in $(sed -n 's/^PKI_[A-Z0-9_]*_KEY=//p' "$PKI/pki.env"); do
	n=${key#"$PKI"/}
	mode=$(stat -c %a "$key")
	[ "$mode" = 600 ] && ok "$n: mode 600" || fail "$n: mode $mode"
	case $key in
	*/tls/*) cert=${key%.key}.pem
		 a=$(openssl pkey -in "$key" -pubout 2>/dev/null)
		 b=$(openssl x509 -in "$cert" -noout -pubkey 2>/dev/null)
		 if [ -n "$a" ] && [ "$a" = "$b" ]; then
			 ok "$n matches $(basename "$cert")"
		 else
			 fail "$n does not match $cert"
		 fi ;;
	*)	 openssl pkey -in "$key" -noout 2>/dev/null && ok "$n: a readable key" || fail "$n unreadable" ;;
	esac
done
for f in $(sed -n 's/^PKI_[A-Z0-9_]*_\(CERT\|X509\|BUNDLE\)=//p' "$PKI/pki.env"); do
	mode=$(stat -c %a "$f")
	[ "$mode" = 644 ] || fail "${f#"$PKI"/}: mode $mode (644 expected)"
done

# --- the SGP.02 hierarchies: X.509 CI and EUM per curve, GP-format files start with 7F21 ---
for c in p256:prime256v1 bp256:brainpoolP256r1; do
	d=$PKI/gp/${c%%:*}
	curve=${c#*:}
	check "gp/${c%%:*}: openssl verify -CAfile ci.pem eum.pem" openssl verify -CAfile "$d/ci.pem" "$d/eum.pem"
	if tls_text "$d/ci.pem" | grep -q "ASN1 OID: $curve" && tls_text "$d/eum.pem" | grep -q "ASN1 OID: $curve"; then
		ok "gp/${c%%:*}: CI and EUM keys on $curve"
	else
		fail "gp/${c%%:*}: CI/EUM not on $curve"
	fi
	for g in ci eum smdp smsr; do
		hdr=$(od -An -tx1 -N2 "$d/$g.gpcert" | tr -d ' ')
		[ "$hdr" = 7f21 ] && ok "gp/${c%%:*}/$g.gpcert starts with 7F21" || fail "gp/${c%%:*}/$g.gpcert: $hdr"
	done
	if openssl verify -CAfile "$PKI/gp/p256/ci.pem" "$PKI/gp/bp256/eum.pem" >/dev/null 2>&1; then
		fail "the P-256 CI accepts the brainpool EUM"
	fi
done

# --- sgp02-ctl pki verify / show, and the C test on this folder ---
status 0 "pki verify" "$CTL" pki verify "$PKI"
"$CTL" pki show "$PKI" >"$TMP/show" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q "CN = MNO1" "$TMP/show" && grep -q "02 SM-SR" "$TMP/show" && \
   grep -q "curve: brainpoolP256r1" "$TMP/show" && ! grep -q "PRIVATE KEY" "$TMP/show"; then
	ok "pki show: subjects, entity types, curves, no key material"
else
	fail "pki show (exit $rc)"
fi
if [ -x "$CTEST" ]; then
	SGP02_PKI_DIR=$PKI "$CTEST" >"$TMP/ctest" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "pki_test (GP chains, tampering, key establishment) on this PKI"
	else
		fail "pki_test on this PKI: exit $rc"
		tail -20 "$TMP/ctest"
	fi
else
	fail "$CTEST not built"
fi

# --- no overwrite without --force; --force regenerates ---
snapshot "$PKI" >"$TMP/before"
status 1 "second init without --force is refused" "$CTL" pki init "$PKI"
grep -q -- "--force" "$TMP/st.err" && ok "the refusal mentions --force" || fail "refusal message lacks --force"
snapshot "$PKI" >"$TMP/after"
if cmp -s "$TMP/before" "$TMP/after"; then
	ok "refused init left every file untouched"
else
	fail "refused init changed files"
	diff "$TMP/before" "$TMP/after" | head
fi
status 0 "init --if-missing on an existing PKI" "$CTL" pki init --if-missing "$PKI"
snapshot "$PKI" >"$TMP/after"
if cmp -s "$TMP/before" "$TMP/after"; then
	ok "init --if-missing left every file untouched"
else
	fail "init --if-missing changed files"
fi
cp "$PKI_TLS_CA_CERT" "$TMP/old-ca.pem"
cp "$PKI_GP_P256_SMDP_CERT" "$TMP/old-smdp.gpcert"
status 0 "init --force" "$CTL" pki init --force "$PKI"
if ! cmp -s "$TMP/old-ca.pem" "$PKI_TLS_CA_CERT" && ! cmp -s "$TMP/old-smdp.gpcert" "$PKI_GP_P256_SMDP_CERT"; then
	ok "--force made new certificates"
else
	fail "--force left the old certificates"
fi
if openssl verify -CAfile "$PKI_TLS_CA_CERT" "$TMP/old-ca.pem" >/dev/null 2>&1; then
	fail "the old CA is still trusted by the new one"
else
	ok "the old CA is not the new one"
fi
status 0 "pki verify after --force" "$CTL" pki verify "$PKI"
if ls -a "$PKI" | grep -q '^\.pki-new'; then fail "work folder left behind"; else ok "no work folder after --force"; fi

# --- --days, relative DIR ---
(cd "$TMP" && "$CTL" pki init --days 30 rel >/dev/null 2>&1)
if [ -s "$TMP/rel/pki.env" ] && grep -q "^PKI_DIR=$TMP/rel\$" "$TMP/rel/pki.env"; then
	ok "relative DIR: absolute paths in pki.env"
else
	fail "relative DIR"
fi
if openssl x509 -in "$TMP/rel/tls/mno1.pem" -noout -checkend $((29 * 86400)) >/dev/null && \
   ! openssl x509 -in "$TMP/rel/tls/mno1.pem" -noout -checkend $((31 * 86400)) >/dev/null; then
	ok "--days 30: expires in 30 days"
else
	fail "--days 30: wrong validity"
fi

# --- parallel inits of one folder: one makes the PKI, the others wait and keep it ---
pids=
for i in 1 2 3 4; do
	"$CTL" pki init --if-missing "$TMP/par" >"$TMP/par.$i.out" 2>&1 &
	pids="$pids $!"
done
prc=0
for p in $pids; do
	wait "$p" || prc=1
done
nmade=$(grep -l "test PKI written" "$TMP"/par.*.out 2>/dev/null | wc -l)
if [ $prc -eq 0 ] && [ "$nmade" -eq 1 ] && "$CTL" pki verify "$TMP/par" >/dev/null 2>&1; then
	ok "4 parallel init --if-missing: one PKI made, all succeed, it verifies"
else
	fail "parallel init --if-missing: status $prc, $nmade made"
	cat "$TMP"/par.*.out | head
fi

# --- verify catches damage ---
printf '\001' | dd of="$PKI_GP_P256_SMDP_CERT" bs=1 seek=100 conv=notrunc 2>/dev/null
chmod 644 "$PKI_TLS_MNO2_KEY"
"$CTL" pki verify "$PKI" >"$TMP/v" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "FAIL.*PKI_TLS_MNO2_KEY: mode" "$TMP/v" && grep -q "FAIL.*SMDP" "$TMP/v"; then
	ok "pki verify reports a damaged GP certificate and a readable key (exit 1)"
else
	fail "pki verify on a damaged PKI: exit $rc"
	grep FAIL "$TMP/v" | head
fi

echo "TESTRESULT pki_test.sh $passed $failed"
[ $failed -eq 0 ]
