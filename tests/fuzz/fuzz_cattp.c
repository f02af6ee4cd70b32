/* libFuzzer target: CAT_TP PDU decoder (ETSI TS 102 127). A decoded PDU must encode back to the same bytes,
 * apart from the RFU bytes (written as zero) and the checksum's two representations of zero. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sgp02/ota/cattp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ota_cattp_pdu pdu, pdu2;
	uint8_t out[65536 + 255];
	int rc, n;

	rc = ota_cattp_decode(&pdu, data, size);
	if (rc == -ENOTSUP)
		return 0;
	if (rc < 0)
		return 0;
	ota_cattp_pdu_type_name(ota_cattp_pdu_type(pdu.flags));
	ota_cattp_rst_reason_name(pdu.rst_reason);

	n = ota_cattp_encode(out, sizeof(out), &pdu);
	if (n < 0 || (size_t)n != size)
		abort();
	if (out[0] != data[0] || memcmp(out + 3, data + 3, 13) || memcmp(out + 18, data + 18, size - 18))
		abort();
	if (ota_cattp_decode(&pdu2, out, n) != 0)
		abort();
	pdu2.checksum = pdu.checksum;
	pdu2.data = pdu.data;
	if (memcmp(&pdu, &pdu2, sizeof(pdu)))
		abort();
	return 0;
}
