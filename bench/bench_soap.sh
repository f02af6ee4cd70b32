#!/usr/bin/env bash
# SOAP benchmark: requests per second and latency percentiles of a small synchronous SOAP call (ES4-GetEIS,
# answered with a test EIS) over TLS keep-alive, with 1, 16 and 256 connections. Server: tests/ws/ws_testsrv
# (src/ws on the common HTTP server, one event loop, Body validated against the GSMA schema, in-memory
# duplicate store). Load: Debian's wrk with a Lua script that POSTs the envelope with a new wsa:MessageID each
# time (a repeated MessageID would be answered from the duplicate store instead of the handler).
# Everything on 127.0.0.1, BENCH_SECONDS (default 10) per run, the server stopped by its PID.
# Figures only: a benchmark never passes or fails on time. Run by scripts/bench, or:
#   SGP02_BUILDDIR=build SGP02_SRCDIR=. bash bench/bench_soap.sh
set -euo pipefail

SRC=${SGP02_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${SGP02_BUILDDIR:-$SRC/build}
SHARED=${SGP02_SHARED:-$SRC/../shared}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-"1 16 256"}
SRV=$BUILD/tests/ws/ws_testsrv

if ! command -v wrk >/dev/null; then
	echo "wrk is not installed (Debian: apt-get install wrk); SOAP benchmark not run"
	exit 0
fi
if [ ! -x "$SRV" ]; then
	make -s -C "$BUILD/tests" ws/ws_testsrv >/dev/null
fi
if grep -q -- '--enable-sanitize' "$BUILD/config.log" 2>/dev/null; then
	echo "note: $BUILD is a sanitizer build; figures are not representative"
fi

WORK=$(mktemp -d /tmp/bench_soap.XXXXXX)
SRV_PID=
cleanup() {
	if [ -n "$SRV_PID" ] && kill -0 "$SRV_PID" 2>/dev/null; then
		kill "$SRV_PID"
		for _ in $(seq 50); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$SRV_PID" 2>/dev/null && kill -9 "$SRV_PID"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

sh "$SRC/tests/common/mkcerts.sh" "$WORK/certs"

# The server: HTTPS without a client-certificate requirement, because wrk cannot present one (the ES
# interfaces use mutual TLS in production; the handshake cost is the same once per keep-alive connection).
"$SRV" -q -p 0 -P "$WORK/port" -c "$WORK/certs/server.pem" -k "$WORK/certs/server.key" \
	-s "$SHARED/spec/gsma-esim-messaging-3/all-requests.xsd" -w "$SRC/wsdl" >"$WORK/srv.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
if [ ! -s "$WORK/port" ]; then
	echo "ws_testsrv did not start:"
	cat "$WORK/srv.log"
	exit 1
fi
PORT=$(cat "$WORK/port")
URL=https://127.0.0.1:$PORT/ES4

# ES4-GetEIS (SGP.02 §5.5), synchronous: the envelope around a MessageID that changes per request
PRE='<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing"'
PRE+=' xmlns:rps="http://namespaces.gsma.org/esim-messaging/3"><env:Header><wsa:From><wsa:Address>'
PRE+='https://operator.test/ES4/callback?EntityId=1.3.6.1.4.1.99999.1&amp;EntityName=bench</wsa:Address></wsa:From>'
PRE+='<wsa:To>https://127.0.0.1/ES4</wsa:To><wsa:MessageID>//1.3.6.1.4.1.99999.1/urn:uuid:'
POST='</wsa:MessageID><wsa:Action>http://gsma.com/ES4/ProfileManagement/ES4-GetEISRequest</wsa:Action></env:Header>'
POST+='<env:Body><rps:ES4-GetEISRequest><rps:FunctionCallIdentifier>BENCH</rps:FunctionCallIdentifier>'
POST+='<rps:Eid>89001012012341234012345678901224</rps:Eid></rps:ES4-GetEISRequest></env:Body></env:Envelope>'

{
	echo '-- a new wsa:MessageID per request, unique across the threads of wrk'
	printf 'local pre = [[%s]]\n' "$PRE"
	printf 'local post = [[%s]]\n' "$POST"
	cat <<'LUA'
local headers = { ["Content-Type"] = "application/soap+xml; charset=utf-8" }
local n_threads = 0
local counter = 0

function setup(thread)
	n_threads = n_threads + 1
	thread:set("tid", n_threads)
end

function request()
	counter = counter + 1
	local id = string.format("5e0a%04x-0000-4000-8000-%012x", tid or 0, counter)
	return wrk.format("POST", nil, headers, pre .. id .. post)
end

function response(status, hdrs, body)
	if status ~= 200 and not reported then
		reported = true
		io.stderr:write("unexpected HTTP status " .. status .. "\n")
	end
end
LUA
} >"$WORK/getEIS.lua"

# One request by hand first: the answer must be a 200 with the EIS (not a Fault), or the figures mean nothing.
body="${PRE}00000000-0000-4000-8000-000000000000${POST}"
answer_bytes='?'
if command -v curl >/dev/null; then
	code=$(printf '%s' "$body" | curl -sk -o "$WORK/answer.xml" -w '%{http_code}' \
		-H 'Content-Type: application/soap+xml; charset=utf-8' --data-binary @- "$URL" || true)
	if [ "$code" != 200 ] || ! grep -q EXECUTED_SUCCESS "$WORK/answer.xml"; then
		echo "sanity request failed (HTTP $code):"
		head -c 1000 "$WORK/answer.xml"
		exit 1
	fi
	answer_bytes=$(wc -c <"$WORK/answer.xml")
fi

ncpu=$(nproc)
echo "SOAP 1.2 ES4-GetEIS over TLS 1.2+/keep-alive on 127.0.0.1, ${SECONDS_PER_RUN} s per run, $ncpu cores shared by"
echo "server (one event loop) and wrk; request $(printf %s "$body" | wc -c) bytes, answer $answer_bytes bytes;"
echo "no client certificate (wrk cannot present one); every request validated against the GSMA schema."
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
printf '%-6s %-8s %12s %10s %10s %10s %10s %8s\n' conns threads 'req/s' p50 p90 p99 max errors
for c in $CONNS; do
	t=$(( c < ncpu ? c : ncpu ))
	kill -0 "$SRV_PID" 2>/dev/null || { echo "server died"; cat "$WORK/srv.log"; exit 1; }
	wrk -t "$t" -c "$c" -d "${SECONDS_PER_RUN}s" --timeout 10s --latency -s "$WORK/getEIS.lua" "$URL" \
		>"$WORK/wrk.$c" 2>&1 || true
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk.$c")
	p50=$(awk '/Latency Distribution/ {f=1} f && $1 == "50%" {print $2; exit}' "$WORK/wrk.$c")
	p90=$(awk '/Latency Distribution/ {f=1} f && $1 == "90%" {print $2; exit}' "$WORK/wrk.$c")
	p99=$(awk '/Latency Distribution/ {f=1} f && $1 == "99%" {print $2; exit}' "$WORK/wrk.$c")
	max=$(awk '$1 == "Latency" && NF >= 4 {print $4; exit}' "$WORK/wrk.$c")
	non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$WORK/wrk.$c")
	sock=$(awk '/Socket errors:/ {gsub(",", ""); print $4 + $6 + $8 + $10}' "$WORK/wrk.$c")
	errors=$(( ${non2xx:-0} + ${sock:-0} ))
	printf '%-6s %-8s %12s %10s %10s %10s %10s %8s\n' "$c" "$t" "${rps:-?}" "${p50:-?}" "${p90:-?}" "${p99:-?}" \
		"${max:-?}" "$errors"
	if [ -z "$rps" ]; then
		sed 's/^/    wrk: /' "$WORK/wrk.$c"
	fi
done
