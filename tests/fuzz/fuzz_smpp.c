/* libFuzzer target: SMPP PDU decoding (the SMSC's and the ESME's input from the network), the delivery
 * receipt text parser, and encode(decode(x)) == decode again.
 * fuzz-sources: src/common/smpp.c src/common/conn.c src/common/tls.c src/common/logging.c
 * fuzz-pkgs: libsmpp34 libssl
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include <osmocom/core/utils.h>
#include <osmocom/core/tdef.h>
#include <sgp02/common/smpp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smpp_pdu pdu, again;
	uint32_t nack = 0;
	uint8_t buf[4096];
	size_t len = 0;
	char id[65], stat[8];
	unsigned int err;

	smpp_receipt_parse(data, size, id, stat, &err);
	memset(&pdu, 0, sizeof(pdu));
	if (smpp_pdu_decode(&pdu, data, size, &nack) < 0)
		return 0;
	/* what we decoded we can encode, and it decodes to the same fields */
	if (smpp_pdu_encode(&pdu, buf, sizeof(buf), &len) == 0) {
		memset(&again, 0, sizeof(again));
		OSMO_ASSERT(smpp_pdu_decode(&again, buf, len, &nack) == 0);
		OSMO_ASSERT(again.command_id == pdu.command_id);
		OSMO_ASSERT(again.sequence_number == pdu.sequence_number);
	}
	return 0;
}
