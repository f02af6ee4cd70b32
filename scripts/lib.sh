# Shell functions shared by scripts/demo, scripts/check and the end-to-end tests. Source it.
# Conventions: everything a script starts it records and stops by PID; nothing binds beyond 127.0.0.1.

SGP02_TOP=${SGP02_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Install missing Debian packages (idempotent).
sgp02_deps() {
	bash "$SGP02_TOP/scripts/deps.sh" || die "installing Debian packages failed (see above)"
}

# sgp02_build BUILDDIR [configure options...]: autogen (if needed), configure (if the options
# changed), make. Out of tree, so a sanitizer build and a plain build live side by side.
sgp02_build() {
	local dir=$1; shift
	local opts="$*"
	if [ ! -x "$SGP02_TOP/configure" ] || [ "$SGP02_TOP/configure.ac" -nt "$SGP02_TOP/configure" ]; then
		say "autogen"
		(cd "$SGP02_TOP" && ./autogen.sh >/dev/null 2>&1) || (cd "$SGP02_TOP" && ./autogen.sh) || die "autogen failed"
	fi
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ] || [ "$(cat "$dir/.configure-opts" 2>/dev/null)" != "$opts" ]; then
		say "configure $opts"
		(cd "$dir" && "$SGP02_TOP/configure" $opts >configure.out 2>&1) || { tail -20 "$dir/configure.out"; die "configure failed"; }
		echo "$opts" > "$dir/.configure-opts"
	fi
	say "make ($dir)"
	make -C "$dir" -j"$(nproc)" >"$dir/make.out" 2>&1 || { grep -E 'error|Error|No rule' "$dir/make.out" | grep -v 'Error [12]$' | head -40; die "build failed (full log: $dir/make.out)"; }
}

# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$(( (RANDOM % 30000) + 20000 ))
		if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	die "no free TCP port found"
}

# The PostgreSQL server binaries (Debian keeps them off PATH).
pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -x "$d/initdb" ] || die "PostgreSQL server not installed (Debian package postgresql)"
	echo "$d"
}

# Run a command as the unprivileged owner of the cluster (PostgreSQL refuses to run as root).
pg_as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_start DIR: a private cluster in DIR (initdb on first use), unix socket in DIR only, no TCP,
# no system service. Exports PGHOST PGPORT PGUSER and PG_PID. As root the cluster runs as the
# postgres user (PostgreSQL refuses root), so DIR's parents must be traversable by it.
pg_start() {
	local dir=$1 bin port
	bin=$(pg_bindir)
	mkdir -p "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir"
		runuser -u postgres -- test -w "$dir" \
			|| die "the postgres user cannot reach $dir: put the cluster in a folder it can traverse"
	fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		pg_as_owner "$bin/initdb" -D "$dir/data" -U sgp02 --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
			|| { cat "$dir/initdb.log" >&2; die "initdb failed"; }
	fi
	port=$(free_port)
	pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
		-o "-k $dir -p $port -c listen_addresses='' -c fsync=off -c full_page_writes=off -c max_connections=200" \
		start >/dev/null || { tail -20 "$dir/postgres.log" >&2; die "PostgreSQL did not start"; }
	export PGHOST=$dir PGPORT=$port PGUSER=sgp02
	PG_PID=$(head -n 1 "$dir/data/postmaster.pid")
	export PG_PID
}

# pg_stop DIR: stop the cluster started by pg_start (by its PID file), fast.
pg_stop() {
	local dir=$1
	[ -f "$dir/data/postmaster.pid" ] || return 0
	pg_as_owner "$(pg_bindir)/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || {
		local pid
		pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
		[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	}
}

# vty_cmd PORT COMMAND...: run VTY commands on 127.0.0.1:PORT, print the answer (telnet option
# bytes and prompts stripped).
vty_cmd() {
	local port=$1; shift
	local c out
	exec 9<>"/dev/tcp/127.0.0.1/$port" || return 1
	# the VTY discards what arrives before it has sent its greeting: pace the commands
	{
		sleep 0.3
		for c in "$@"; do printf '%s\r\n' "$c"; sleep 0.2; done
		printf 'exit\r\n'
	} >&9
	out=$(timeout 10 cat <&9 | tr -d '\r' | tr -cd '\11\12\40-\176')
	exec 9<&- 9>&-
	printf '%s\n' "$out"
}

# wait_port PORT [SECONDS]: wait until something listens on 127.0.0.1:PORT.
wait_port() {
	local port=$1 t=${2:-20} i
	for i in $(seq 1 $((t * 10))); do
		if ss -Htln "sport = :$port" 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# stop_pid PID [SECONDS]: SIGTERM, wait, then SIGKILL. Always returns 0.
stop_pid() {
	local pid=$1 t=${2:-10} i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 $((t * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "warning: PID $pid did not stop in ${t}s, killing it" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null || true
}
