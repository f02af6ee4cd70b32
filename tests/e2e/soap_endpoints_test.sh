#!/usr/bin/env bash
# End to end: the daemons serve their SOAP endpoints (a function not implemented yet stands for any) (plain HTTP on loopback and mutual TLS): schema
# validation, WS-Addressing checks, Faults for functions not implemented yet, ?wsdl with our address,
# duplicates answered from the database.
set -u
source "$SGP02_SRCDIR/scripts/lib.sh"
source "$SGP02_SRCDIR/tests/e2e/testlib.sh"

W=$(mktemp -d "${SGP02_TMP:-/tmp}/soap_test.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do stop_pid "$p" 5; done
	rm -rf "$W"
}
trap cleanup EXIT

DATA=$SGP02_SRCDIR/tests/ws/data-wsdl
sh "$SGP02_SRCDIR/tests/common/mkcerts.sh" "$W/pki"

# envelope FILE ACTION TO [MESSAGEID]: wrap a Body element file in a SOAP 1.2 envelope with WS-Addressing
envelope() {
	local mid=${4:-//1.3.6.1.4.1.99999.1/urn:uuid:$(cat /proc/sys/kernel/random/uuid)}
	cat <<XML
<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing">
<env:Header>
<wsa:From><wsa:Address>https://mno.test/ES4?EntityId=1.3.6.1.4.1.99999.1</wsa:Address></wsa:From>
<wsa:To>$3</wsa:To>
<wsa:MessageID>$mid</wsa:MessageID>
<wsa:Action>$2</wsa:Action>
<wsa:ReplyTo><wsa:Address>https://mno.test/ES4/callback</wsa:Address></wsa:ReplyTo>
</env:Header>
<env:Body>
$(sed '1{/^<?xml/d}' "$1")
</env:Body>
</env:Envelope>
XML
}

# post URL FILE [curl options...]: prints the HTTP status, body in $W/resp; Content-Type from $CT
CT='application/soap+xml; charset=utf-8'
post() {
	local url=$1 file=$2; shift 2
	curl -s -o "$W/resp" -w '%{http_code}' -X POST -H "Content-Type: $CT" --data-binary @"$file" "$@" "$url"
}

start_daemon() {	# start_daemon smsr|smdp CFG -> sets PID
	"$SGP02_BUILDDIR/src/$1/sgp02-$1" -c "$2" --db-upgrade >>"$W/$1.log" 2>&1 &
	PID=$!
	PIDS+=("$PID")
}

for d in smsr smdp; do
	vty=$(free_port)
	http=$(free_port)
	cfg=$W/$d.cfg
	sed -e "s/^ bind 127.0.0.1 .*/ bind 127.0.0.1 $vty/" -e "s/^ conninfo .*/ conninfo dbname=$PGDATABASE/" \
		-e "s/^ listen 127.0.0.1 .*/ listen 127.0.0.1 $http/" \
		-e "s|^ schema .*| schema $SGP02_SRCDIR/wsdl/xsd/sgp02-all.xsd|" \
		-e "s|^ wsdl-directory .*| wsdl-directory $SGP02_SRCDIR/wsdl|" \
		"$SGP02_SRCDIR/conf/sgp02-$d.cfg" > "$cfg"
	printf 'database\n schema e2e_soap_%s_%s\n' "$d" "$$" >> "$cfg"
	start_daemon $d "$cfg"
	check "$d: HTTP endpoint listening" wait_port "$http" 30
	if [ $d = smsr ]; then
		# SM-SR change (ES4-PrepareSMSRChange) is among the functions not built yet
		path=/ES4; fn=ES4-PrepareSMSRChange; body=$DATA/ok-ES4-PrepareSMSRChangeRequest.xml
		bad=$DATA/bad-ES4-PrepareSMSRChangeRequest-no-fcid.xml
		action=http://gsma.com/ES4/eUICCManagement/ES4-PrepareSMSRChange
	else
		path=/ES2; fn=ES2-GetEIS; body=$DATA/ok-ES2-GetEISRequest.xml; bad=$DATA/bad-ES2-GetEISRequest-oid.xml
		action=http://gsma.com/ES2/DataPreparation/ES2-GetEISRequest
	fi
	url=http://127.0.0.1:$http$path

	envelope "$body" "$action" "$url" > "$W/ok.xml"
	st=$(post "$url" "$W/ok.xml")
	check "$d: $fn without a handler -> 500 (got $st)" [ "$st" = 500 ]
	check "$d: Receiver Fault saying not implemented" grep -q "env:Receiver.*$fn is not implemented" "$W/resp"

	envelope "$bad" "$action" "$url" > "$W/bad.xml"
	st=$(post "$url" "$W/bad.xml")
	check "$d: schema-invalid body -> 400 (got $st)" [ "$st" = 400 ]
	check "$d: Sender Fault names the violation" grep -q "env:Sender.*line [0-9]*:" "$W/resp"

	st=$(CT=text/xml post "$url" "$W/ok.xml")
	check "$d: wrong Content-Type -> 415 (got $st)" [ "$st" = 415 ]

	sed 's|<wsa:MessageID>.*</wsa:MessageID>||' "$W/ok.xml" > "$W/nomid.xml"
	st=$(post "$url" "$W/nomid.xml")
	check "$d: missing MessageID -> 400 (got $st)" [ "$st" = 400 ]
	check "$d: ... with wsa:MessageAddressingHeaderRequired" grep -q "MessageAddressingHeaderRequired" "$W/resp"

	sed "s|<wsa:Action>.*</wsa:Action>|<wsa:Action>http://gsma.com/ES9/Nothing/ES9-Nope</wsa:Action>|" "$W/ok.xml" > "$W/act.xml"
	st=$(post "$url" "$W/act.xml")
	check "$d: unknown Action -> 400 ActionNotSupported" grep -q "ActionNotSupported" "$W/resp"

	printf '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>' > "$W/xxe.xml"
	st=$(post "$url" "$W/xxe.xml")
	check "$d: external entity refused -> 400 (got $st)" [ "$st" = 400 ]
	check "$d: nothing of /etc/passwd comes back" bash -c "! grep -q 'root:' '$W/resp'"

	code=$(curl -s -o "$W/wsdl" -w '%{http_code}' "$url?wsdl")
	check "$d: ?wsdl served (got $code)" [ "$code" = 200 ]
	check "$d: ?wsdl carries our address" grep -q "location=\"http://127.0.0.1:$http$path\"" "$W/wsdl"
	check "$d: ?wsdl is well-formed XML" xmllint --noout "$W/wsdl"
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http/nowhere")
	check "$d: unknown path -> 404 (got $code)" [ "$code" = 404 ]

	stop_pid "$PID" 10
	PIDS=()
	check "$d: no sanitizer report" bash -c "! grep -q -E 'Sanitizer|runtime error' '$W/$d.log'"

	# endpoint paths are configurable; a typo in a service name stops the start
	svcname=$([ $d = smsr ] && echo ES4SmSrService || echo ES2SmDpService)
	printf 'web-service\n service %s path /site1%s\n' "$svcname" "$path" > "$W/paths.cfg"
	cat "$cfg" "$W/paths.cfg" > "$W/moved.cfg"
	"$SGP02_BUILDDIR/src/$d/sgp02-$d" -c "$W/moved.cfg" >>"$W/$d.log" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	wait_port "$http" 30
	st=$(post "http://127.0.0.1:$http/site1$path" "$W/ok.xml")
	check "$d: service moved to /site1$path answers there (got $st)" [ "$st" = 500 ]
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$http$path")
	check "$d: ... and no longer at $path (got $code)" [ "$code" = 404 ]
	stop_pid "$PID" 10
	PIDS=()
	printf 'web-service\n service NoSuchService path /x\n' > "$W/paths.cfg"
	cat "$cfg" "$W/paths.cfg" > "$W/moved.cfg"
	"$SGP02_BUILDDIR/src/$d/sgp02-$d" -c "$W/moved.cfg" > "$W/out" 2>&1
	check "$d: unknown service name in 'service ... path' refused at start" grep -q "no such service here" "$W/out"

	# mutual TLS with the test PKI
	sed -i "s|^ no tls| tls certificate $W/pki/server.pem key $W/pki/server.key\n tls client-ca $W/pki/ca.pem|" "$cfg"
	start_daemon $d "$cfg"
	check "$d: HTTPS endpoint listening" wait_port "$http" 30
	surl=https://localhost:$http$path
	envelope "$body" "$action" "$surl" > "$W/ok.xml"
	st=$(post "$surl" "$W/ok.xml" --cacert "$W/pki/ca.pem" --cert "$W/pki/client.pem" --key "$W/pki/client.key")
	check "$d: mutual TLS with the operator's certificate reaches the service (got $st)" [ "$st" = 500 ]
	check "$d: ... and its Fault" grep -q "$fn is not implemented" "$W/resp"
	st=$(post "$surl" "$W/ok.xml" --cacert "$W/pki/ca.pem")
	check "$d: no client certificate refused (got $st)" [ "$st" = 000 ]
	st=$(post "$surl" "$W/ok.xml" --cacert "$W/pki/ca.pem" --cert "$W/pki/rogue.pem" --key "$W/pki/rogue.key")
	check "$d: client certificate of another CA refused (got $st)" [ "$st" = 000 ]
	st=$(post "http://127.0.0.1:$http$path" "$W/ok.xml")
	check "$d: plain HTTP on the TLS port refused (got $st)" [ "$st" != 200 ] && [ "$st" != 500 ]
	stop_pid "$PID" 10
	PIDS=()
	check "$d: no sanitizer report (TLS)" bash -c "! grep -q -E 'Sanitizer|runtime error' '$W/$d.log'"

	# plain HTTP is refused on a non-loopback address
	sed -e "s|^ tls certificate .*| no tls|" -e "/^ tls client-ca/d" -e "s/^ listen 127.0.0.1 / listen 0.0.0.0 /" \
		"$cfg" > "$W/public.cfg"
	"$SGP02_BUILDDIR/src/$d/sgp02-$d" -c "$W/public.cfg" > "$W/out" 2>&1
	check "$d: plain HTTP on 0.0.0.0 refused at start" [ $? -ne 0 ]
	check "$d: ... with a message saying why" grep -q "plain HTTP is only allowed on a loopback address" "$W/out"
	psql -X -q -c "DROP SCHEMA e2e_soap_${d}_$$ CASCADE" 2>/dev/null
done

t_done
