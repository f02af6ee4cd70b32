#!/usr/bin/env bash
# End to end: the SM-SR's EIS registry through its real SOAP interfaces with mutual TLS (SGP.02 §5.1, §5.3, §5.4;
# SGP02.md §10.2, §10.12): sgp02-fleet writes the EIS of its eUICCs, sgp02-ctl signs them as the EUM and registers
# them over ES1; duplicates, tampered and untrusted signatures and unknown requesters are refused; GetEIS over ES4
# shows each operator its own profiles and no key; key values are not in clear in PostgreSQL; the audit trail has
# one row per registration; after a restart GetEIS still answers.
set -u
source "$SGP02_SRCDIR/scripts/lib.sh"
source "$SGP02_SRCDIR/tests/e2e/testlib.sh"

W=$(mktemp -d "${SGP02_TMP:-/tmp}/eis_registry_test.XXXXXX")
SCHEMA=e2e_eis_$$
PID=
cleanup() {
	[ -n "$PID" ] && stop_pid "$PID" 5
	psql -X -q -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT

CTL=$SGP02_BUILDDIR/src/ctl/sgp02-ctl
"$CTL" pki init "$W/pki" >/dev/null || { echo "pki init failed"; exit 1; }
source "$W/pki/pki.env"
"$SGP02_BUILDDIR/src/fleet/sgp02-fleet" --write-eis "$W/eis" -n 7 2>/dev/null
mapfile -t EIDS < <(tail -n +2 "$W/eis/index.csv" | cut -d, -f2)
mapfile -t BOOT < <(tail -n +2 "$W/eis/index.csv" | cut -d, -f4)
mapfile -t OPER < <(tail -n +2 "$W/eis/index.csv" | cut -d, -f5)
check "fleet wrote 7 EIS" [ "${#EIDS[@]}" = 7 ]
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$W/kek.hex"

vty=$(free_port)
http=$(free_port)
TLS_CFG=" tls client-ca $PKI_TLS_CA_BUNDLE\n entity-id 1.3.6.1.4.1.99999.20"
sed -e "s/^ bind 127.0.0.1 .*/ bind 127.0.0.1 $vty/" -e "s/^ conninfo .*/ conninfo dbname=$PGDATABASE/" \
	-e "s/^ listen 127.0.0.1 .*/ listen 127.0.0.1 $http/" \
	-e "s|^ no tls| tls certificate $PKI_TLS_SMSR_SERVER_CERT key $PKI_TLS_SMSR_SERVER_KEY\n$TLS_CFG|" \
	-e "s|^ schema .*| schema $SGP02_SRCDIR/wsdl/xsd/sgp02-all.xsd|" \
	-e "s|^ wsdl-directory .*| wsdl-directory $SGP02_SRCDIR/wsdl|" \
	"$SGP02_SRCDIR/conf/sgp02-smsr.cfg" > "$W/smsr.cfg"
cat >> "$W/smsr.cfg" <<CFG
database
 schema $SCHEMA
smsr
 key-encryption-key $W/kek.hex
 eum 1.3.6.1.4.1.99999.30 certificate $PKI_TLS_EUM1_CERT
 eum 1.3.6.1.4.1.99999.30 certificate-cn EUM1
 operator 1.3.6.1.4.1.99999.1 certificate-cn MNO1
 operator 1.3.6.1.4.1.99999.2 certificate-cn MNO2
 smdp 1.3.6.1.4.1.99999.10 certificate-cn SMDP1
CFG

start_smsr() {
	"$SGP02_BUILDDIR/src/smsr/sgp02-smsr" -c "$W/smsr.cfg" --db-upgrade >>"$W/smsr.log" 2>&1 &
	PID=$!
	wait_port "$http" 30
}
URL=https://localhost:$http
tls() {	# tls NAME: client certificate options of a PKI entity (EUM1, MNO1, ...)
	local c=PKI_TLS_${1}_CERT k=PKI_TLS_${1}_KEY
	echo "--ca $PKI_TLS_CA_BUNDLE --cert ${!c} --key ${!k}"
}
register() {	# register TLS-ENTITY SIGN-ENTITY FILE... -> output in $W/out, status in $RC
	local who=$1 sk=PKI_TLS_${2}_KEY sc=PKI_TLS_${2}_CERT
	shift 2
	# shellcheck disable=SC2046
	"$CTL" es1 register --url "$URL/ES1" $(tls "$who") --sign-key "${!sk}" --sign-cert "${!sc}" --eis "$@" \
		> "$W/out" 2>&1
	RC=$?
}
get_eis() {	# get_eis ENTITY EID [--es3] -> response in $W/resp, status line in $W/line
	local who=$1 eid=$2 path=/ES4
	[ "${3:-}" = --es3 ] && path=/ES3
	# shellcheck disable=SC2046
	"$CTL" es4 get-eis --url "$URL$path" $(tls "$who") --eid "$eid" ${3:-} > "$W/resp" 2>&1
	RC=$?
	head -n 1 "$W/resp" > "$W/line"
	tail -n +2 "$W/resp" > "$W/body.xml"
}
f() { echo "$W/eis/${EIDS[$1]}.xml"; }
# the key component values of an EIS file (in clear in the fleet's files)
keys_of() { grep -o '<KeyComponents [^>]*value="[0-9A-Fa-f]*"' "$1" | sed 's/.*value="\([0-9A-Fa-f]*\)"/\1/'; }

check "sgp02-smsr listening (mutual TLS)" start_smsr

# --- ES1 RegisterEIS
register EUM1 EUM1 "$(f 0)" "$(f 1)" "$(f 2)" "$(f 3)" "$(f 4)"
check "5 EIS registered (exit $RC)" [ "$RC" = 0 ]
check "... 5 lines EXECUTED_SUCCESS" [ "$(grep -c ' EXECUTED_SUCCESS$' "$W/out")" = 5 ]
register EUM1 EUM1 "$(f 0)" "$(f 1)" "$(f 2)" "$(f 3)" "$(f 4)"
check "the same again refused (exit $RC)" [ "$RC" = 1 ]
check "... 5 times FAILED 8.1.1/3.3 (EID already in use)" [ "$(grep -c ' FAILED 8.1.1/3.3 ' "$W/out")" = 5 ]

# tampered: card 5 signed, then its EID replaced by card 6's (a valid EID) inside EumSignedInfo
"$CTL" es1 register --sign-only "$W/signed5.xml" --sign-key "$PKI_TLS_EUM1_KEY" --sign-cert "$PKI_TLS_EUM1_CERT" \
	--eis "$(f 5)" > /dev/null 2>&1
check "signed EIS written (--sign-only)" grep -q "SignatureValue" "$W/signed5.xml"
sed "s|<Eid>${EIDS[5]}</Eid>|<Eid>${EIDS[6]}</Eid>|" "$W/signed5.xml" > "$W/tampered.xml"
# shellcheck disable=SC2046
"$CTL" es1 register --url "$URL/ES1" $(tls EUM1) --no-sign --eis "$W/tampered.xml" > "$W/out" 2>&1
RC=$?
check "EID changed after signing refused (exit $RC)" [ "$RC" = 1 ]
check "... FAILED 8.6/6.1 bad signature" grep -q "^${EIDS[6]} FAILED 8.6/6.1 .*bad signature" "$W/out"
# shellcheck disable=SC2046
"$CTL" es1 register --url "$URL/ES1" $(tls EUM1) --no-sign --eis "$W/signed5.xml" > "$W/out" 2>&1
check "... while the untouched signed file is accepted" grep -q "^${EIDS[5]} EXECUTED_SUCCESS" "$W/out"

register EUM1 MNO2 "$(f 6)"
check "signed by a key that is not a trusted EUM refused (exit $RC)" [ "$RC" = 1 ]
check "... FAILED 8.6/6.1" grep -q "^${EIDS[6]} FAILED 8.6/6.1 " "$W/out"
register MNO1 EUM1 "$(f 6)"
check "RegisterEIS from an operator refused: FAILED 1.1/1.2" grep -q "^${EIDS[6]} FAILED 1.1/1.2 " "$W/out"
sed 's|<Smsr-id>[^<]*</Smsr-id>|<Smsr-id>1.3.6.1.4.1.99999.21</Smsr-id>|' "$(f 6)" > "$W/other-smsr.xml"
register EUM1 EUM1 "$W/other-smsr.xml"
check "EIS for another SM-SR refused: FAILED 8.7/3.4" grep -q "^${EIDS[6]} FAILED 8.7/3.4 " "$W/out"

# --- ES4 GetEIS
get_eis MNO1 "${EIDS[0]}"
check "GetEIS as MNO1 succeeds" grep -q "^${EIDS[0]} EXECUTED_SUCCESS" "$W/line"
check "... response validates against the GSMA schema" \
	xmllint --noout --schema "$SGP02_SRCDIR/wsdl/xsd/sgp02-all.xsd" "$W/body.xml" 2>/dev/null
check "... carries MNO1's profile" grep -q "<rps:Iccid>${OPER[0]}</rps:Iccid>\|<Iccid>${OPER[0]}</Iccid>" "$W/body.xml"
check "... and not the other operator's" bash -c "! grep -q '${BOOT[0]}' '$W/body.xml'"
check "... and the EumSignature" grep -q "SignatureValue" "$W/body.xml"
n=0; leaked=0
for k in $(keys_of "$(f 0)"); do
	n=$((n + 1))
	grep -qi "$k" "$W/body.xml" && leaked=$((leaked + 1))
done
check "... none of the $n key values of the EIS file appears" [ "$n" -gt 0 ] && [ "$leaked" = 0 ]
check "... no KeyComponents at all" bash -c "! grep -q 'KeyComponents' '$W/body.xml'"
# an auditor can verify the EumSignature of what GetEIS returns: sent back to ES1, it passes the signature check
# and is refused only as a duplicate; with a signed value changed, the signature check refuses it
xmllint --xpath '//*[local-name()="Eis"]' "$W/body.xml" 2>/dev/null |
	sed '1s|^<rps:Eis>|<rps:Eis xmlns:rps="http://namespaces.gsma.org/esim-messaging/3">|' > "$W/back.xml"
# shellcheck disable=SC2046
"$CTL" es1 register --url "$URL/ES1" $(tls EUM1) --no-sign --eis "$W/back.xml" > "$W/out" 2>&1
check "the EIS from GetEIS still carries a valid EumSignature (refused only as a duplicate)" \
	grep -q "^${EIDS[0]} FAILED 8.1.1/3.3" "$W/out"
sed 's|<PlatformVersion>\([0-9]*\)\.|<PlatformVersion>9\1.|' "$W/back.xml" > "$W/back2.xml"
# shellcheck disable=SC2046
"$CTL" es1 register --url "$URL/ES1" $(tls EUM1) --no-sign --eis "$W/back2.xml" > "$W/out" 2>&1
check "... which no longer verifies once a signed value is changed" grep -q "^${EIDS[0]} FAILED 8.6/6.1 " "$W/out"
get_eis MNO1 "${EIDS[6]}"
check "GetEIS of an unknown EID: FAILED 8.1.1/3.9" grep -q "^${EIDS[6]} FAILED 8.1.1/3.9" "$W/line"
get_eis MNO2 "${EIDS[1]}"
check "GetEIS as MNO2 succeeds" grep -q "^${EIDS[1]} EXECUTED_SUCCESS" "$W/line"
check "... with its own (bootstrap) profile" grep -q "${BOOT[1]}" "$W/body.xml"
check "... and none of MNO1's profiles" bash -c "! grep -q '${OPER[1]}' '$W/body.xml'"
get_eis EUM1 "${EIDS[1]}"
check "GetEIS from an unmapped requester: FAILED 1.1/1.2" grep -q "FAILED 1.1/1.2" "$W/line"
get_eis SMDP1 "${EIDS[1]}" --es3
check "ES3 GetEIS as the SM-DP succeeds" grep -q "^${EIDS[1]} EXECUTED_SUCCESS" "$W/line"
check "... without the profiles it does not manage, without keys" \
	bash -c "! grep -q -e '${OPER[1]}' -e '${BOOT[1]}' -e KeyComponents '$W/body.xml'"

# a profile downloaded by the SM-DP (Smdp-id) with a POL2 rule: card 6, registered now (ProfileInfo is not signed)
RULE="<Rule><Subject>PROFILE</Subject><Action>DISABLE</Action><Qualification>Not-Allowed</Qualification></Rule>"
sed -e "s|<State>Disabled</State>|&<Smdp-id>1.3.6.1.4.1.99999.10</Smdp-id>|" \
	-e "/<Iccid>${OPER[6]}<\/Iccid>/,/<\/ProfileInfo>/s|<pol2/>|<pol2>$RULE</pol2>|" \
	"$(f 6)" > "$W/smdp6.xml"
register EUM1 EUM1 "$W/smdp6.xml"
check "an EIS with an SM-DP's profile and a POL2 rule registered" grep -q "^${EIDS[6]} EXECUTED_SUCCESS" "$W/out"
get_eis SMDP1 "${EIDS[6]}" --es3
check "ES3 GetEIS: the SM-DP sees the profile it manages" grep -q "${OPER[6]}" "$W/body.xml"
tr -d ' \n' < "$W/body.xml" > "$W/flat.xml"
check "... with its POL2 rule as registered" \
	grep -q "<rps:Action>DISABLE</rps:Action><rps:Qualification>Not-Allowed</rps:Qualification>" "$W/flat.xml"
check "... not the other profile" bash -c "! grep -q '${BOOT[6]}' '$W/body.xml'"
check "... and the response validates" \
	xmllint --noout --schema "$SGP02_SRCDIR/wsdl/xsd/sgp02-all.xsd" "$W/body.xml" 2>/dev/null
get_eis MNO2 "${EIDS[6]}"
check "ES4 GetEIS as MNO2: not that profile" bash -c "! grep -q '${OPER[6]}' '$W/body.xml'"

# --- PostgreSQL: no key in clear, one audit row per registration
pg_dump -a -n "$SCHEMA" > "$W/dump.sql" 2>/dev/null
check "database dump taken" grep -q "keyset_key" "$W/dump.sql"
n=0; leaked=0
for i in 0 1 2 3 4 5 6; do
	for k in $(keys_of "$(f $i)"); do
		n=$((n + 1))
		grep -qi "$k" "$W/dump.sql" && leaked=$((leaked + 1))
	done
done
check "none of the $n registered key values is in clear in PostgreSQL" [ "$n" -gt 0 ] && [ "$leaked" = 0 ]
cnt=$(psql -X -At -c "SELECT count(*) FROM $SCHEMA.keyset_key WHERE octet_length(nonce) = 12")
check "... but stored encrypted ($cnt key components)" [ "$cnt" = "$n" ]
cnt=$(psql -X -At -c "SELECT count(*) FROM $SCHEMA.audit WHERE action = 'RegisterEIS'")
check "audit: one RegisterEIS row per registered EIS ($cnt)" [ "$cnt" = 7 ]
cnt=$(psql -X -At -c "SELECT count(DISTINCT eid) FROM $SCHEMA.audit WHERE actor = '1.3.6.1.4.1.99999.30'")
check "... by the EUM, each EID once" [ "$cnt" = 7 ]

# --- restart: the state is in PostgreSQL
stop_pid "$PID" 10
PID=
check "sgp02-smsr restarted" start_smsr
get_eis MNO1 "${EIDS[2]}"
check "GetEIS after the restart" grep -q "^${EIDS[2]} EXECUTED_SUCCESS" "$W/line"
check "... still MNO1's profile" grep -q "${OPER[2]}" "$W/body.xml"
register EUM1 EUM1 "$(f 2)"
check "... and a duplicate is still refused" grep -q "FAILED 8.1.1/3.3" "$W/out"

# the stored key components decrypt under the KEK to the very keys of the EIS file (their KCV matches)
vty_cmd "$vty" "show smsr eis ${EIDS[3]}" > "$W/show"
check "VTY: show smsr eis lists MNO1's profile" grep -q "profile ${OPER[3]} " "$W/show"
check "... both ISD-R keys decrypt with a matching KCV" [ "$(grep -c 'decrypted, KCV verified' "$W/show")" = 2 ]
n=0; leaked=0
for k in $(keys_of "$(f 3)"); do
	n=$((n + 1))
	grep -qi "$k" "$W/show" && leaked=$((leaked + 1))
done
check "... without showing any key value" [ "$n" -gt 0 ] && [ "$leaked" = 0 ]
# a ciphertext moved to another row (here: another eUICC's) does not authenticate there
psql -X -q -c "UPDATE $SCHEMA.keyset_key d SET nonce = s.nonce, ciphertext = s.ciphertext, tag = s.tag
	FROM $SCHEMA.keyset_key s WHERE d.eid = '${EIDS[4]}' AND s.eid = '${EIDS[3]}' AND d.sd = s.sd
	AND d.version = s.version AND d.key_index = s.key_index AND d.component = s.component" >/dev/null
vty_cmd "$vty" "show smsr eis ${EIDS[4]}" > "$W/show"
check "a key value copied from another EID's row is refused (GCM associated data)" \
	grep -q "cannot decrypt: authentication failed" "$W/show"

# another KEK: nothing decrypts
stop_pid "$PID" 10
PID=
cp "$W/smsr.cfg" "$W/smsr-good.cfg"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$W/kek2.hex"
sed -i "s|key-encryption-key .*|key-encryption-key $W/kek2.hex|" "$W/smsr.cfg"
start_smsr >/dev/null
vty_cmd "$vty" "show smsr eis ${EIDS[3]}" > "$W/show"
check "with a wrong key-encryption-key nothing decrypts" grep -q "cannot decrypt: authentication failed" "$W/show"
cp "$W/smsr-good.cfg" "$W/smsr.cfg"

# a KEK is required once EIS are stored
stop_pid "$PID" 10
PID=
grep -v "key-encryption-key" "$W/smsr.cfg" > "$W/nokek.cfg"
timeout 30 "$SGP02_BUILDDIR/src/smsr/sgp02-smsr" -c "$W/nokek.cfg" > "$W/nokek.log" 2>&1
check "start without key-encryption-key refused when EIS are stored" [ $? -ne 0 ]
check "... saying why" grep -q "no key-encryption-key" "$W/nokek.log"
check "no sanitizer report" bash -c "! grep -q -E 'Sanitizer|runtime error' '$W/smsr.log' '$W/nokek.log'"
check "every answer of the SM-SR validated against the schema" bash -c "! grep -q 'does not validate' '$W/smsr.log'"

t_done
