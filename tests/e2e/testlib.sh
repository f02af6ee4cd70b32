# Shell test helpers: source it after scripts/lib.sh. Counts checks and prints the TESTRESULT line.
T_PASS=0
T_FAIL=0
T_NAME=$(basename "$0")

check() {	# check "description" command...
	local what=$1; shift
	if "$@"; then
		T_PASS=$((T_PASS + 1)); echo "ok: $what"
	else
		T_FAIL=$((T_FAIL + 1)); echo "FAILED: $what"
	fi
}

t_done() {
	echo "TESTRESULT $T_NAME $T_PASS $T_FAIL"
	echo "$T_NAME: $T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}
