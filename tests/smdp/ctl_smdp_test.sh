#!/usr/bin/env bash
# sgp02-ctl smdp against PostgreSQL (issue #6, SM-DP profile preparation): import the four TS.48 templates,
# a personalisation batch, the inventory counts; a batch with a bad line is refused as a whole and the message
# names the line; a wrong-length KEK file is refused; no Ki in clear in the database; usage errors exit 2.
set -u
source "$SGP02_SRCDIR/scripts/lib.sh"
source "$SGP02_SRCDIR/tests/e2e/testlib.sh"

W=$(mktemp -d "${SGP02_TMP:-/tmp}/ctl_smdp_test.XXXXXX")
SCHEMA=t_ctl_smdp_$$
PID=
cleanup() {
	[ -n "$PID" ] && stop_pid "$PID" 5
	psql -X -q -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT

CTL=$SGP02_BUILDDIR/src/ctl/sgp02-ctl
P=$SGP02_SHARED/vectors/profiles
MNO=1.3.6.1.4.1.99999.1
S="--schema $SCHEMA"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$W/kek.hex"

# ICCID with its Luhn check digit appended (ISO/IEC 7812-1 Annex B)
luhn() {
	awk -v s="$1" 'BEGIN { n = length(s); sum = 0
		for (i = 0; i < n; i++) { d = substr(s, n - i, 1) + 0; if (i % 2 == 0) { d *= 2; if (d > 9) d -= 9 }
			sum += d }
		printf "%s%d\n", s, (10 - sum % 10) % 10 }'
}
# a batch of N rows starting at FIRST; Ki = 16 bytes made of the row number
batch() {
	local first=$1 n=$2 i iccid ki
	echo "# test batch"
	echo "iccid,imsi,ki,opc,pin1,puk1,kic,kid,kik,msisdn"
	for ((i = first; i < first + n; i++)); do
		iccid=$(luhn "$(printf '8988228000001%06d' "$i")")
		ki=$(printf 'A5%06d%08d%08d%06dC3' "$i" "$i" "$i" "$i")
		echo "$iccid,00101$(printf '%010d' "$i"),$ki,$ki,1234,12345678,$ki,$ki,$ki,+49170$(printf '%06d' "$i")"
	done
}

out=$("$CTL" smdp inventory $S 2>&1); rc=$?
check "a schema not yet created is refused (exit 1)" [ "$rc" = 1 ]
check "... naming --db-upgrade" grep -q -- "--db-upgrade" <<<"$out"

i=0
for f in "$P"/ts48v7-*.der; do
	out=$("$CTL" smdp import-template $S --db-upgrade --mno $MNO --type "ts48-$i" "$f" 2>&1); rc=$?
	check "import-template $(basename "$f")" [ "$rc" = 0 ]
	check "... reports SAIP 2.3" grep -q "SAIP 2.3" <<<"$out"
	i=$((i + 1))
done
"$CTL" smdp import-template $S --mno $MNO --type ts48-0 "$P/ts48v7-SAIP2.3_NoBERTLV.der" >/dev/null 2>&1
check "the same pair again is refused without --replace" [ $? = 1 ]
"$CTL" smdp import-template $S --mno $MNO --type ts48-0 --replace "$P/ts48v7-SAIP2.3_NoBERTLV.der" >/dev/null 2>&1
check "... and replaced with --replace" [ $? = 0 ]
head -c 5000 "$P/ts48v7-SAIP2.3_NoBERTLV.der" > "$W/cut.der"
out=$("$CTL" smdp import-template $S --mno $MNO --type cut "$W/cut.der" 2>&1); rc=$?
check "a truncated package is refused" [ "$rc" = 1 ]
check "... as not SAIP" grep -q "not a SAIP" <<<"$out"

batch 0 100 > "$W/b1.csv"
out=$("$CTL" smdp import-batch $S --mno $MNO --type ts48-0 --kek "$W/kek.hex" "$W/b1.csv" 2>&1); rc=$?
check "import-batch of 100 ICCIDs" [ "$rc" = 0 ]
check "... reports 100" grep -q "100 ICCIDs" <<<"$out"

batch 100 50 > "$W/b2.csv"
sed -i '30s/,1234,/,12,/' "$W/b2.csv"
out=$("$CTL" smdp import-batch $S --mno $MNO --type ts48-0 --kek "$W/kek.hex" "$W/b2.csv" 2>&1); rc=$?
check "a batch with a short PIN on line 30 is refused" [ "$rc" = 1 ]
check "... naming line 30" grep -q "line 30: pin1" <<<"$out"
batch 100 50 > "$W/b3.csv"
batch 5 1 | tail -n 1 >> "$W/b3.csv"
out=$("$CTL" smdp import-batch $S --mno $MNO --type ts48-0 --kek "$W/kek.hex" "$W/b3.csv" 2>&1); rc=$?
check "a batch with an ICCID already imported is refused" [ "$rc" = 1 ]
check "... naming line 53" grep -q "line 53: iccid .* already in the inventory" <<<"$out"
head -c 20 /dev/urandom > "$W/short.kek"
"$CTL" smdp import-batch $S --mno $MNO --type ts48-0 --kek "$W/short.kek" "$W/b2.csv" >/dev/null 2>&1
check "a KEK file of 20 bytes is refused" [ $? = 1 ]

out=$("$CTL" smdp inventory $S 2>&1); rc=$?
check "inventory" [ "$rc" = 0 ]
check "... 100 available for ts48-0, nothing of the refused batches" \
	grep -q -E "^$MNO +ts48-0 +100 +0 +0 +0 +0\$" <<<"$out"
ki=$(sed -n 3p "$W/b1.csv" | cut -d, -f3)
n=$(psql -X -A -t -c "SELECT count(*) FROM $SCHEMA.profile_data p WHERE upper(p::text) LIKE '%$ki%'")
check "the Ki is not in clear in profile_data" [ "$n" = 0 ]
n=$(psql -X -A -t -c "SELECT count(*) FROM $SCHEMA.audit WHERE action LIKE 'import-%'")
check "audit trail: 5 templates and 1 batch" [ "$n" = 6 ]

# a download's life from the command line: reserve, personalise, release
EID=89049032123451234512345678901235
iccid=$("$CTL" smdp reserve $S --mno $MNO --type ts48-0 --eid $EID 2>&1)
check "reserve hands out the first ICCID of the batch" [ "$iccid" = "$(sed -n 3p "$W/b1.csv" | cut -d, -f1)" ]
"$CTL" smdp personalise $S --iccid "$iccid" --kek "$W/kek.hex" --out "$W/p.der" >/dev/null 2>&1
check "personalise writes the package" [ -s "$W/p.der" ]
check "... readable by its owner only" [ "$(stat -c %a "$W/p.der")" = 600 ]
out=$("$CTL" saip list "$W/p.der" 2>&1)
check "... which parses as SAIP with the reserved ICCID" grep -q "$iccid" <<<"$out"
check "... and carries the row's Ki" grep -q -i "$ki" <(od -An -tx1 -v "$W/p.der" | tr -d ' \n')
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$W/other.kek"
out=$("$CTL" smdp personalise $S --iccid "$iccid" --kek "$W/other.kek" --out "$W/q.der" 2>&1)
check "personalise with another KEK is refused" [ $? = 1 ]
check "... and writes no file" [ ! -e "$W/q.der" ]
check "... saying the secrets do not decrypt" grep -q "do not decrypt" <<<"$out"
out=$("$CTL" smdp reserve $S --iccid "$iccid" --eid $EID 2>&1)
check "a reserved ICCID cannot be reserved again" [ $? = 1 ]
"$CTL" smdp release $S --iccid "$iccid" --unusable >/dev/null 2>&1
check "release --unusable" [ $? = 0 ]
out=$("$CTL" smdp inventory $S 2>&1)
check "... counted as unusable" grep -q -E "^$MNO +ts48-0 +99 +0 +0 +0 +1\$" <<<"$out"
"$CTL" smdp personalise $S --iccid "$iccid" --kek "$W/kek.hex" --out "$W/q.der" >/dev/null 2>&1
check "an ICCID not reserved is not personalised" [ $? = 1 ]

"$CTL" smdp import-batch $S --mno $MNO --type ts48-0 "$W/b2.csv" >/dev/null 2>&1
check "import-batch without --kek: usage error (exit 2)" [ $? = 2 ]
"$CTL" smdp import-template $S --mno notanoid --type x "$W/cut.der" >/dev/null 2>&1
check "a bad --mno: usage error (exit 2)" [ $? = 2 ]
"$CTL" smdp frobnicate >/dev/null 2>&1
check "unknown command: exit 2" [ $? = 2 ]

# the daemon: smdp node (key-encryption-key, failed-download-iccid), show commands over the VTY
vty=$(free_port)
http=$(free_port)
sed -e "s/^ bind 127.0.0.1 .*/ bind 127.0.0.1 $vty/" -e "s/^ conninfo .*/ conninfo dbname=$PGDATABASE/" \
	-e "s/^ listen 127.0.0.1 .*/ listen 127.0.0.1 $http/" \
	-e "s|^ schema wsdl.*| schema $SGP02_SRCDIR/wsdl/xsd/sgp02-all.xsd|" \
	-e "s|^ wsdl-directory .*| wsdl-directory $SGP02_SRCDIR/wsdl|" \
	"$SGP02_SRCDIR/conf/sgp02-smdp.cfg" > "$W/smdp.cfg"
cat >> "$W/smdp.cfg" <<CFG
database
 schema $SCHEMA
smdp
 key-encryption-key $W/kek.hex
 failed-download-iccid unusable
CFG
"$SGP02_BUILDDIR/src/smdp/sgp02-smdp" -c "$W/smdp.cfg" >>"$W/smdp.log" 2>&1 &
PID=$!
wait_port "$vty" 30
out=$(vty_cmd "$vty" "show smdp inventory detail")
check "VTY: show smdp inventory detail" grep -q "$MNO 'ts48-0': available 99 reserved 0" <<<"$out"
out=$(vty_cmd "$vty" "show smdp templates")
check "VTY: show smdp templates lists the 4" [ "$(grep -c "SAIP 2.3" <<<"$out")" = 4 ]
out=$(vty_cmd "$vty" "enable" "show running-config")
check "VTY: the smdp node is saved" grep -q "failed-download-iccid unusable" <<<"$out"
check "... with the key file name" grep -q "key-encryption-key $W/kek.hex" <<<"$out"
stop_pid "$PID" 10
PID=
sed "s|key-encryption-key .*|key-encryption-key $W/short.kek|" "$W/smdp.cfg" > "$W/badkek.cfg"
timeout 30 "$SGP02_BUILDDIR/src/smdp/sgp02-smdp" -c "$W/badkek.cfg" > "$W/badkek.log" 2>&1
check "the daemon refuses to start with a bad key file" [ $? != 0 ]
check "... saying why" grep -q "not 32 bytes" "$W/badkek.log"
check "no secret in the logs" bash -c "! grep -q -i -f <(cut -c1-16 '$W/kek.hex') '$W/smdp.log' '$W/badkek.log'"
check "no sanitizer report" bash -c "! grep -q -E 'Sanitizer|runtime error' '$W/smdp.log' '$W/badkek.log'"

t_done
