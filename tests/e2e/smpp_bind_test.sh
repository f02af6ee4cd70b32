#!/usr/bin/env bash
# End to end: sgp02-smsr binds to the SMSC of sgp02-fleet with the 'smpp' config node, shows the bind on
# the VTY, rebinds after the SMSC restarts, and reports a refused password.
set -u
source "$SGP02_SRCDIR/scripts/lib.sh"
source "$SGP02_SRCDIR/tests/e2e/testlib.sh"

W=$(mktemp -d "${SGP02_TMP:-/tmp}/smpp_bind_test.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do stop_pid "$p" 5; done
	rm -rf "$W"
}
trap cleanup EXIT

smsc=$(free_port)
vty=$(free_port)
schema=e2e_smpp_$$
start_fleet() {
	"$SGP02_BUILDDIR/src/fleet/sgp02-fleet" -n 10 -p "$smsc" --vty-port 0 --summary 0 >>"$W/fleet.log" 2>&1 &
	FLEET=$!
	PIDS+=("$FLEET")
	wait_port "$smsc" 30
}
mkcfg() {	# mkcfg PASSWORD
	sed -e "s/^ bind 127.0.0.1 .*/ bind 127.0.0.1 $vty/" -e "s/^ conninfo .*/ conninfo dbname=$PGDATABASE/" \
		-e "s/^ listen 127.0.0.1 .*/ listen 127.0.0.1 $(free_port)/" \
		-e "s|^ schema wsdl/| schema $SGP02_SRCDIR/wsdl/|" -e "s|^ wsdl-directory .*| wsdl-directory $SGP02_SRCDIR/wsdl|" \
		"$SGP02_SRCDIR/conf/sgp02-smsr.cfg" > "$W/smsr.cfg"
	printf 'database\n schema %s\nsmpp\n bind smsc1 127.0.0.1 %s system-id sgp02smsr password %s rate 100 window 10\n' \
		"$schema" "$smsc" "$1" >> "$W/smsr.cfg"
}
bound() {	# bound N: the VTY says N binds are up (within 15 s)
	local i
	for i in $(seq 1 30); do
		vty_cmd "$vty" "show smpp" > "$W/vty"
		grep -q "SMPP: $1 of 1 binds up" "$W/vty" && return 0
		sleep 0.5
	done
	return 1
}

start_fleet
mkcfg fleetpw
"$SGP02_BUILDDIR/src/smsr/sgp02-smsr" -c "$W/smsr.cfg" --db-upgrade >>"$W/smsr.log" 2>&1 &
SMSR=$!
PIDS+=("$SMSR")
check "VTY up" wait_port "$vty" 30
check "the SM-SR binds to the fleet's SMSC" bound 1
check "show smpp names the bind" grep -q "smsc1 127.0.0.1:$smsc system-id sgp02smsr" "$W/vty"
check "the password is not shown" bash -c "! grep -q fleetpw '$W/vty'"
check "the password is not logged" bash -c "! grep -q fleetpw '$W/smsr.log'"

stop_pid "$FLEET" 10
check "bind down while the SMSC is away" bound 0
start_fleet
check "rebinds after the SMSC restarts" bound 1

stop_pid "$SMSR" 10
mkcfg wrongpw
"$SGP02_BUILDDIR/src/smsr/sgp02-smsr" -c "$W/smsr.cfg" >>"$W/smsr.log" 2>&1 &
SMSR=$!
PIDS+=("$SMSR")
wait_port "$vty" 30
sleep 2
vty_cmd "$vty" "show smpp" > "$W/vty"
check "wrong password: no bind" grep -q "SMPP: 0 of 1 binds up" "$W/vty"
check "wrong password: the refusal is shown" grep -q "last refusal" "$W/vty"
stop_pid "$SMSR" 10
check "no sanitizer report" bash -c "! grep -q -E 'Sanitizer|runtime error' '$W/smsr.log' '$W/fleet.log'"
psql -X -q -c "DROP SCHEMA $schema CASCADE" 2>/dev/null

t_done
