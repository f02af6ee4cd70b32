#!/usr/bin/env bash
# End to end: both daemons against the PostgreSQL that scripts/check started (PG* in the
# environment): schema refusal and --db-upgrade, VTY answers, SIGTERM shutdown without leaks.
set -u
source "$SGP02_SRCDIR/scripts/lib.sh"
source "$SGP02_SRCDIR/tests/e2e/testlib.sh"

W=$(mktemp -d "${SGP02_TMP:-/tmp}/daemon_test.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do stop_pid "$p" 5; done
	rm -rf "$W"
}
trap cleanup EXIT

psql_q() { psql -X -q -tA -v ON_ERROR_STOP=1 -c "$1"; }

for d in smsr smdp; do
	bin=$SGP02_BUILDDIR/src/$d/sgp02-$d
	schema=e2e_${d}_$$
	port=$(free_port)
	cfg=$W/$d.cfg
	nmig=$(ls "$SGP02_SRCDIR"/sql/$d/[0-9]*.sql | wc -l)
	sed -e "s/^ bind 127.0.0.1 .*/ bind 127.0.0.1 $port/" -e "s/^ conninfo .*/ conninfo dbname=$PGDATABASE/" \
		-e "s/^ listen 127.0.0.1 .*/ listen 127.0.0.1 $(free_port)/" \
		-e "s|^ schema wsdl/| schema $SGP02_SRCDIR/wsdl/|" -e "s|^ wsdl-directory .*| wsdl-directory $SGP02_SRCDIR/wsdl|" \
		"$SGP02_SRCDIR/conf/sgp02-$d.cfg" > "$cfg"
	printf 'database\n schema %s\n' "$schema" >> "$cfg"

	# 1. an empty database is refused, with a message naming --db-upgrade
	"$bin" -c "$cfg" >"$W/out" 2>&1
	rc=$?
	check "$d: empty schema refused (exit $rc)" [ "$rc" -ne 0 ]
	check "$d: refusal names --db-upgrade" grep -q -- '--db-upgrade' "$W/out"

	# 2. --db-upgrade-only creates the schema at the version the binary needs, then exits
	"$bin" -c "$cfg" --db-upgrade-only >"$W/out" 2>&1
	check "$d: --db-upgrade-only exits 0" [ $? -eq 0 ]
	check "$d: schema at version $nmig" [ "$(psql_q "SELECT max(version) FROM $schema.schema_version")" = "$nmig" ]

	# 3. an older schema (as an older release left it) is refused; --db-upgrade brings it up to date
	psql_q "DROP SCHEMA $schema CASCADE"
	psql_q "CREATE SCHEMA $schema; CREATE TABLE $schema.schema_version (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
	first=$(ls "$SGP02_SRCDIR"/sql/$d/0001_*.sql)
	PGOPTIONS="-c search_path=$schema" psql -X -q -v ON_ERROR_STOP=1 -f "$first" >/dev/null
	psql_q "INSERT INTO $schema.schema_version VALUES (1, '$(basename "$first" .sql)')"
	"$bin" -c "$cfg" >"$W/out" 2>&1
	rc=$?
	check "$d: schema version 1 refused (exit $rc)" [ "$rc" -ne 0 ]
	check "$d: message names the versions and --db-upgrade" \
		grep -q "is at version 1, this program needs version $nmig: start it once with --db-upgrade" "$W/out"

	# 4. start with --db-upgrade: upgrades, serves the VTY
	"$bin" -c "$cfg" --db-upgrade >"$W/$d.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	check "$d: VTY listening on 127.0.0.1:$port" wait_port "$port" 30
	check "$d: schema upgraded to $nmig" [ "$(psql_q "SELECT max(version) FROM $schema.schema_version")" = "$nmig" ]
	vty_cmd "$port" "show version" "show database" "show timer" "show rate-counters" "show stats" > "$W/vty"
	check "$d: show version names the daemon" grep -q "^sgp02-$d 0\." "$W/vty"
	check "$d: show database shows the connection" grep -q "Connected to PostgreSQL" "$W/vty"
	check "$d: show database shows the schema version" grep -q "Schema: $schema, expected version $nmig, database version $nmig" "$W/vty"
	check "$d: show timer lists the daemon's timers" grep -q "$d: X1 = 5 s" "$W/vty"
	check "$d: db counters are shown" grep -q "db:queries" "$W/vty"
	check "$d: VTY bound to loopback only" bash -c "ss -Htln 'sport = :$port' | grep -q '127.0.0.1:$port'"

	# SIGUSR1: a talloc report of the daemon's memory on stderr, and it keeps running
	kill -USR1 "$pid"
	sleep 0.5
	check "$d: SIGUSR1 writes a talloc report" grep -q "full talloc report on 'sgp02-$d'" "$W/$d.log"
	check "$d: still running after SIGUSR1" kill -0 "$pid"

	# 5. SIGTERM: clean exit, nothing leaked (the binaries are ASan builds in scripts/check)
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	PIDS=()
	check "$d: SIGTERM exits 0 (exit $rc)" [ "$rc" -eq 0 ]
	check "$d: no sanitizer report" bash -c "! grep -q -E 'Sanitizer|runtime error' '$W/$d.log'"
	check "$d: logged its stop" grep -q "sgp02-$d stopped" "$W/$d.log"

	# 6. a schema newer than the binary is refused
	psql_q "INSERT INTO $schema.schema_version VALUES ($((nmig + 1)), 'future')"
	"$bin" -c "$cfg" --db-upgrade >"$W/out" 2>&1
	rc=$?
	check "$d: newer schema refused (exit $rc)" [ "$rc" -ne 0 ]
	check "$d: message says newer" grep -q "newer than the version $nmig" "$W/out"

	# 7. bad configuration and bad options are refused clearly
	printf 'database\n statement-timeout 0\n' > "$W/bad.cfg"
	"$bin" -c "$W/bad.cfg" >"$W/out" 2>&1
	check "$d: invalid config refused" [ $? -eq 1 ]
	check "$d: message names the config file" grep -q "cannot read config file '$W/bad.cfg'" "$W/out"
	"$bin" -c "$W/missing.cfg" >"$W/out" 2>&1
	check "$d: missing config refused" [ $? -eq 1 ]
	"$bin" --no-such-option >"$W/out" 2>&1
	check "$d: unknown option exits 2" [ $? -eq 2 ]
	psql_q "DROP SCHEMA $schema CASCADE"
done

t_done
