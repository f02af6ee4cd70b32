#!/usr/bin/env bash
# Installs the Debian packages sgp02 needs to build, test and run, only those missing.
# Idempotent; safe to call from every script. Needs root (or sudo) when something is missing.
set -euo pipefail

PKGS=(
	build-essential autoconf automake libtool pkg-config
	libosmocore-dev libtalloc-dev libsmpp34-dev
	libssl-dev openssl libpq-dev postgresql postgresql-client
	libxml2-dev libxml2-utils xsltproc libxmlsec1-dev libcurl4-openssl-dev libhttp-parser-dev
	libcunit1-dev
	clang libclang-rt-14-dev
	telnet netcat-openbsd procps iproute2 curl
	python3 python3-zeep tshark wrk
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "deps: installing ${missing[*]}" >&2
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists once per hour at most (a fresh machine has none).
stamp=/var/lib/apt/periodic/update-success-stamp
if [ ! -d /var/lib/apt/lists ] || [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ] \
	|| [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +60 2>/dev/null)" ]; then
	$SUDO apt-get update -q >&2 || true
fi
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
