#!/usr/bin/env bash
# sgp02-fleet as a program: the EIS export is deterministic for a seed and well formed, bad options are
# refused, the running fleet answers on its loopback VTY and exits cleanly (status 0) on SIGTERM.
set -u
source "$SGP02_SRCDIR/scripts/lib.sh"
source "$SGP02_SRCDIR/tests/e2e/testlib.sh"

FLEET=$SGP02_BUILDDIR/src/fleet/sgp02-fleet
W=$(mktemp -d "${SGP02_TMP:-/tmp}/fleet_cli_test.XXXXXX")
PID=
cleanup() {
	[ -n "$PID" ] && stop_pid "$PID" 5
	rm -rf "$W"
}
trap cleanup EXIT

check "--help" "$FLEET" --help
check "bad fault rate refused" bash -c "! '$FLEET' --drop-mt 1.5 --write-eis '$W/x' 2>/dev/null"
check "bad OID refused" bash -c "! '$FLEET' --eum-id 1..2 --write-eis '$W/x' 2>/dev/null"
check "unknown argument refused" bash -c "! '$FLEET' extra 2>/dev/null"

check "EIS export" "$FLEET" -n 20 -k 5 --write-eis "$W/a"
check "EIS export again" "$FLEET" -n 20 -k 5 --write-eis "$W/b"
check "EIS export, other key seed" "$FLEET" -n 20 -k 6 --write-eis "$W/c"
check "20 EIS files and an index" test "$(ls "$W/a"/*.xml | wc -l)" = 20 -a "$(wc -l < "$W/a/index.csv")" = 21
check "same seed, same EIS" diff -r "$W/a" "$W/b"
check "other seed, other EIS" bash -c "! diff -q -r '$W/a' '$W/c' >/dev/null"
if command -v xmllint >/dev/null; then
	check "EIS well formed" xmllint --noout "$W"/a/*.xml
fi

VTY=$(free_port)
"$FLEET" -n 50 -p 0 -t "$VTY" --summary 0 >"$W/fleet.log" 2>&1 &
PID=$!
check "VTY listens" wait_port "$VTY" 10
OUT=$(vty_cmd "$VTY" "show fleet" "show fleet device 3" "enable" "fleet device 3 lose-network" \
	"fleet device 4 offline 1000" "fleet device 99 offline 1")
check "show fleet" grep -q "Fleet: 50 devices" <<<"$OUT"
check "show fleet device" grep -q "ISD-P a0000005591010ffffffff8900001000 ENABLED fall-back" <<<"$OUT"
check "lose-network on the fall-back profile" grep -q "device 3 is on its fall-back profile already" <<<"$OUT"
check "offline of an unknown device" grep -q "no device 99" <<<"$OUT"
kill -TERM "$PID"
RC=0
for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
wait "$PID" || RC=$?
PID=
check "SIGTERM: exit status 0" test "$RC" = 0
check "SIGTERM: shut down" grep -q "shutting down" "$W/fleet.log"

t_done
