#!/bin/sh
# Shell test of `sgp02-ctl ota` against the SCP80 vectors (../shared/vectors/vectors.json) and round trips.
# Needs the built binary: $SGP02_BUILDDIR/src/ctl/sgp02-ctl (or $SGP02_CTL).
# Prints "TESTRESULT ctl_ota_test.sh <passed> <failed>" and exits non-zero when a check failed.

CTL=${SGP02_CTL:-${SGP02_BUILDDIR:-.}/src/ctl/sgp02-ctl}
SHARED=${SGP02_SHARED:-$(dirname "$0")/../../../shared}
VECTORS=$SHARED/vectors/vectors.json
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; }

# check NAME EXPECTED_EXIT EXPECTED_STDOUT_SUBSTRING command...
check() {
	name=$1; want_rc=$2; want_out=$3; shift 3
	out=$("$@" 2>/tmp/ctl_ota_test.$$.err)
	rc=$?
	if [ "$rc" != "$want_rc" ]; then
		fail "$name: exit $rc, expected $want_rc"
		sed 's/^/    stderr: /' /tmp/ctl_ota_test.$$.err
		return
	fi
	case "$out" in
	*"$want_out"*) ;;
	*) fail "$name: output '$out' lacks '$want_out'"; return ;;
	esac
	# keys are never printed, on stdout or stderr
	for k in $KEYS; do
		if printf '%s' "$out" | grep -qi "$k" || grep -qi "$k" /tmp/ctl_ota_test.$$.err; then
			fail "$name: a key was printed"
			return
		fi
	done
	ok "$name"
}

# a vector used below must be present, verbatim, in vectors.json
need_vector() {
	if grep -q "$1" "$VECTORS"; then ok "vector present: $1"; else fail "vector missing from $VECTORS: $1"; fi
}

if [ ! -x "$CTL" ]; then
	echo "sgp02-ctl not found at $CTL"
	echo "TESTRESULT ctl_ota_test.sh 0 1"
	exit 1
fi

# The 3DES (2 keys, key version 3) card of "scp80_3des_card_8988211000000467285"
KIC_KEY=c21dd66acac13cb3bc8b331b24afb57b
KID_KEY=12110c78e678c25408233076aa033615
AES_KIC=000102030405060708090a0b0c0d0e0f
AES_KID=101112131415161718191a1b1c1d1e1f
KEYS="$KIC_KEY $KID_KEY $AES_KIC $AES_KID"
K3="--kic 35 --kid 35 --kic-key $KIC_KEY --kid-key $KID_KEY"
KA="--kic 12 --kid 12 --kic-key $AES_KIC --kid-key $AES_KID"

CMD_CIPH=00180d04193535b00000e3ec80a849b554421276af3883927c20
CMD_CC_RAW=1502193535b00000000000000000072ea17bdb72060e00a40000023f00
CMD_NONE_RAW=0d00193535b0000000000000000000a40000023f00
POR_CIPH_CC=027100001c12b000119660ebdb81be189b5e4389e9e7ab2bc0954f963ad869ed7c
POR_CC=027100001612b000110000000000000055f47118381175fb01612f
POR_CC_BAD=027100001612b000110000000000000055f47118381175fb02612f
POR_NONE=027100000e0ab000110000000000000001612f
for v in $KIC_KEY $KID_KEY $CMD_CIPH $CMD_CC_RAW $CMD_NONE_RAW $POR_CIPH_CC $POR_CC $POR_CC_BAD $POR_NONE; do
	need_vector "$v"
done

# Commands: the SMS user data is UDH 02 70 00 + the packet (the raw pySim forms lack CPL: 001d / 0015)
check "encode 3DES ciphered, no CC (SPI 0419)" 0 "027000$CMD_CIPH" \
	"$CTL" ota encode-cmd --spi 0419 $K3 --tar b00000 --cntr 0000000000 --data 00a40000023f00
check "encode 3DES CC (SPI 0219)" 0 "027000001d$CMD_CC_RAW" \
	"$CTL" ota encode-cmd --spi 0219 $K3 --tar b00000 --cntr 0000000000 --data 00a40000023f00
check "encode no security (SPI 0019)" 0 "0270000015$CMD_NONE_RAW" \
	"$CTL" ota encode-cmd --spi 0019 $K3 --tar b00000 --cntr 0000000000 --data 00a40000023f00
check "decode-cmd 3DES ciphered" 0 '"data":"00a40000023f00"' \
	"$CTL" ota decode-cmd $K3 --ud "027000$CMD_CIPH"
check "decode-cmd 3DES CC" 0 '"tar":"b00000"' \
	"$CTL" ota decode-cmd $K3 --spi 0219 --ud "027000001d$CMD_CC_RAW"
check "decode-cmd 3DES CC, wrong KID key" 1 "" \
	"$CTL" ota decode-cmd --kic 35 --kid 35 --kic-key $KIC_KEY --kid-key $KIC_KEY --ud "027000001d$CMD_CC_RAW"

# PoRs of the card
check "decode-por ciphered+CC (SPI xx19)" 0 '"tar":"b00011","cntr":"0000000000","pcntr":6,"status":0' \
	"$CTL" ota decode-por --spi 0019 $K3 --ud $POR_CIPH_CC
check "decode-por ciphered+CC data" 0 '"data":"01612f"' \
	"$CTL" ota decode-por --spi 0019 $K3 --ud $POR_CIPH_CC --cntr 0000000000
check "decode-por CC (SPI xx09)" 0 '"status_name":"por_ok","data":"01612f"' \
	"$CTL" ota decode-por --spi 0009 $K3 --ud $POR_CC
check "decode-por CC corrupted -> exit 1" 1 "" \
	"$CTL" ota decode-por --spi 0009 $K3 --ud $POR_CC_BAD
check "decode-por none (SPI xx01)" 0 '"data":"01612f"' \
	"$CTL" ota decode-por --spi 0001 $K3 --ud $POR_NONE
check "decode-por wrong counter -> exit 1" 1 "" \
	"$CTL" ota decode-por --spi 0009 $K3 --ud $POR_CC --cntr 0000000001

# AES-128 known answer (computed independently, see tests/ota/scp80_test.c test_aes_kat)
AES_POR=027100002412000001564b1bf49f4f7111539a45f338422b3ce538b095d69957245298c6855b8a78bb
check "encode AES-128 (SPI 1639)" 0 \
	"02700000281516391212000001167506429d557b50ca707417e23830b9318c313a572aab102ec4d3d6e6381ae5" \
	"$CTL" ota encode-cmd --spi 1639 $KA --tar 000001 --cntr 0000000001 --data aa0a220880f28000024f00
check "decode-por AES-128" 0 '"data":"ab07800101230200009000"' \
	"$CTL" ota decode-por --spi 1639 $KA --cntr 0000000001 --ud $AES_POR

# Round trip of a long command over concatenated SMS, parts given in reverse order
DATA=$(i=0; while [ $i -lt 100 ]; do printf '0123456789'; i=$((i + 1)); done)
UD=$("$CTL" ota encode-cmd --spi 1639 $KA --tar 000000 --cntr 0000000007 --data "$DATA" --ref 42)
n=$(printf '%s\n' "$UD" | wc -l)
if [ "$n" -eq 5 ]; then ok "500 octets need 5 SMS"; else fail "500 octets gave $n SMS"; fi
long=0
for l in $UD; do [ ${#l} -le 280 ] || long=1; done
if [ $long -eq 0 ]; then ok "every SMS <= 140 octets"; else fail "an SMS is longer than 140 octets"; fi
UDARGS=$(printf '%s\n' "$UD" | sed '1!G;h;$!d' | sed 's/^/--ud /' | tr '\n' ' ')
check "decode-cmd concatenated, reverse order" 0 "\"cntr\":\"0000000007\",\"pcntr\":" \
	"$CTL" ota decode-cmd $KA --spi 1639 --stored-cntr 0000000006 $UDARGS
check "decode-cmd concatenated data" 0 "\"data\":\"$DATA\"" \
	"$CTL" ota decode-cmd $KA $UDARGS
check "decode-cmd replayed counter -> exit 1" 1 "" \
	"$CTL" ota decode-cmd $KA --stored-cntr 0000000007 $UDARGS
check "decode-cmd other SPI expected -> exit 1" 1 "" \
	"$CTL" ota decode-cmd $KA --spi 1239 $UDARGS

# Usage and input errors
check "-h" 0 "usage: sgp02-ctl ota" "$CTL" ota -h
check "no command" 2 "" "$CTL" ota
check "unknown command" 2 "" "$CTL" ota frobnicate
check "missing --spi" 2 "" "$CTL" ota encode-cmd $K3 --tar b00000 --cntr 0000000000 --data 00
check "bad hex" 2 "" "$CTL" ota encode-cmd --spi 04zz $K3 --tar b00000 --cntr 0000000000 --data 00
check "short TAR" 2 "" "$CTL" ota encode-cmd --spi 0419 $K3 --tar b000 --cntr 0000000000 --data 00
check "single DES without --allow-des" 2 "" \
	"$CTL" ota encode-cmd --spi 0619 --kic 11 --kid 11 --kic-key 0102030405060708 --kid-key 0102030405060708 \
	--tar b00000 --cntr 0000000000 --data 00
check "single DES with --allow-des" 0 "027000" \
	"$CTL" ota encode-cmd --spi 0619 --kic 11 --kid 11 --kic-key 0102030405060708 --kid-key 0102030405060708 \
	--tar b00000 --cntr 0000000000 --data 00 --allow-des
check "malformed PoR" 2 "" "$CTL" ota decode-por --spi 0009 $K3 --ud 027100
check "no --ud" 2 "" "$CTL" ota decode-por --spi 0009 $K3

rm -f /tmp/ctl_ota_test.$$.err
echo "TESTRESULT ctl_ota_test.sh $passed $failed"
[ "$failed" -eq 0 ]
