#!/bin/sh
# Test PKI for the TLS tests (conn, HTTP server/client), made with the openssl CLI, ECDSA P-256:
#   ca.pem                        test CA (its key ca.key stays next to it)
#   server.pem, server.key        CN=localhost, SAN IP:127.0.0.1 + DNS:localhost, signed by ca.pem
#   client.pem, client.key        CN=operator1 (client authentication), signed by ca.pem
#   rogue-ca.pem                  an unrelated CA
#   rogue.pem, rogue.key          CN=rogue (client authentication), signed by rogue-ca.pem
# Usage: mkcerts.sh DIR. Idempotent (does nothing if all files exist) and quiet unless it fails.
# Other tests rely on these file names: keep them stable.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
files="ca.pem server.pem server.key client.pem client.key rogue-ca.pem rogue.pem rogue.key"

complete() {
	for f in $files; do
		[ -s "$dir/$f" ] || return 1
	done
	return 0
}
complete && exit 0

mkdir -p "$dir"
# Two tests may ask for the same folder at once: one makes the PKI, the other waits and then
# finds it complete (a mix of two PKIs would not verify).
if command -v flock >/dev/null 2>&1; then
	exec 9>"$dir/.mkcerts.lock"
	flock 9
	complete && exit 0
fi
# build in a private folder and move the files in at the end, so that a reader never sees half a PKI
work=$(mktemp -d "$dir/.mkcerts.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
umask 077

log=$work/openssl.log
run() {
	if ! "$@" >>"$log" 2>&1; then
		echo "mkcerts.sh: failed: $*" >&2
		cat "$log" >&2
		exit 1
	fi
}

# ca NAME CN: a self-signed CA
ca() {
	run openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
		-subj "/O=sgp02 tests/CN=$2" -keyout "$work/$1.key" -out "$work/$1.pem" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		-addext "subjectKeyIdentifier=hash"
}

# leaf NAME CN CA EXTENSIONS: a key and a certificate signed by CA
leaf() {
	run openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
		-subj "/O=sgp02 tests/CN=$2" -keyout "$work/$1.key" -out "$work/$1.csr"
	printf '%s\n' "$4" > "$work/$1.ext"
	run openssl x509 -req -sha256 -days 3650 -in "$work/$1.csr" -CA "$work/$3.pem" -CAkey "$work/$3.key" \
		-set_serial "0x$(openssl rand -hex 8)" -extfile "$work/$1.ext" -out "$work/$1.pem"
}

client_ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid"

ca ca "sgp02 test CA"
leaf server localhost ca "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid"
leaf client operator1 ca "$client_ext"
ca rogue-ca "sgp02 rogue CA"
leaf rogue rogue rogue-ca "$client_ext"

chmod 644 "$work"/*.pem
for f in $files ca.key rogue-ca.key; do
	mv -f "$work/$f" "$dir/$f"
done
