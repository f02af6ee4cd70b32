/*! \file cattp.c
 * CAT_TP PDU codec, ETSI TS 102 127 §5 (header layout and checksum also as read by Wireshark's CAT-TP dissector).
 */
#include <errno.h>
#include <string.h>

#include <osmocom/core/bit16gen.h>

#include <sgp02/ota/cattp.h>

/* Byte offsets in the fixed header */
#define OFF_FLAGS	0
#define OFF_HLEN	3
#define OFF_SRC		4
#define OFF_DST		6
#define OFF_DLEN	8
#define OFF_SEQ		10
#define OFF_ACK		12
#define OFF_WIN		14
#define OFF_CSUM	16

uint16_t ota_cattp_checksum(const uint8_t *buf, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += ((uint32_t)buf[i] << 8) | buf[i + 1];
	if (len & 1)
		sum += (uint32_t)buf[len - 1] << 8;	/* pad the odd byte with zero on the right */
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return ~sum & 0xFFFF;
}

int ota_cattp_pdu_type(uint8_t flags)
{
	flags &= OTA_CATTP_F_MASK;

	if (flags & OTA_CATTP_F_SYN) {
		/* a SYN carries no EAK, RST, NUL or SEG; ACK makes it the SYN-ACK */
		if (flags & (OTA_CATTP_F_EAK | OTA_CATTP_F_RST | OTA_CATTP_F_NUL | OTA_CATTP_F_SEG))
			return -EBADMSG;
		return (flags & OTA_CATTP_F_ACK) ? OTA_CATTP_PDU_SYN_ACK : OTA_CATTP_PDU_SYN;
	}
	if (flags & OTA_CATTP_F_RST) {
		/* a RST may acknowledge, nothing else */
		if (flags & (OTA_CATTP_F_EAK | OTA_CATTP_F_NUL | OTA_CATTP_F_SEG))
			return -EBADMSG;
		return OTA_CATTP_PDU_RST;
	}
	/* everything else acknowledges */
	if (!(flags & OTA_CATTP_F_ACK))
		return -EBADMSG;
	if (flags & OTA_CATTP_F_NUL) {
		/* a keep-alive carries no data, so no segment and no EAK list */
		if (flags & (OTA_CATTP_F_SEG | OTA_CATTP_F_EAK))
			return -EBADMSG;
		return OTA_CATTP_PDU_NUL;
	}
	if (flags & OTA_CATTP_F_EAK)
		return OTA_CATTP_PDU_EAK;
	return OTA_CATTP_PDU_ACK;
}

/* Header length for a PDU of a known type, or -EINVAL if the PDU is inconsistent. */
static int hdr_len(const struct ota_cattp_pdu *pdu, int type)
{
	switch (type) {
	case OTA_CATTP_PDU_SYN:
	case OTA_CATTP_PDU_SYN_ACK:
		if (pdu->ident_len > OTA_CATTP_MAX_IDENT)
			return -EINVAL;
		return OTA_CATTP_SYN_HDR_MIN + pdu->ident_len;
	case OTA_CATTP_PDU_EAK:
		if (pdu->num_eak > OTA_CATTP_MAX_EAK)
			return -EINVAL;
		return OTA_CATTP_HDR_LEN + 2 * pdu->num_eak;
	case OTA_CATTP_PDU_RST:
		return OTA_CATTP_RST_HDR_LEN;
	default:
		return OTA_CATTP_HDR_LEN;
	}
}

/* Only ACK and EAK PDUs carry data */
static bool type_has_data(int type)
{
	return type == OTA_CATTP_PDU_ACK || type == OTA_CATTP_PDU_EAK;
}

int ota_cattp_encoded_len(const struct ota_cattp_pdu *pdu)
{
	int type, hl;

	if (!pdu || pdu->version > OTA_CATTP_VERSION_MASK || (pdu->flags & ~OTA_CATTP_F_MASK))
		return -EINVAL;
	type = ota_cattp_pdu_type(pdu->flags);
	if (type < 0)
		return -EINVAL;
	hl = hdr_len(pdu, type);
	if (hl < 0)
		return hl;
	if (pdu->data_len) {
		if (!type_has_data(type) || !pdu->data)
			return -EINVAL;
	}
	return hl + pdu->data_len;
}

int ota_cattp_encode(uint8_t *out, size_t out_size, const struct ota_cattp_pdu *pdu)
{
	int total, type, hl;
	unsigned int i;
	uint8_t *p;

	total = ota_cattp_encoded_len(pdu);
	if (total < 0)
		return total;
	if (!out || out_size < (size_t)total)
		return -EMSGSIZE;
	type = ota_cattp_pdu_type(pdu->flags);
	hl = hdr_len(pdu, type);

	memset(out, 0, OTA_CATTP_HDR_LEN);
	out[OFF_FLAGS] = (pdu->flags & OTA_CATTP_F_MASK) | (pdu->version & OTA_CATTP_VERSION_MASK);
	out[OFF_HLEN] = hl;
	osmo_store16be(pdu->src_port, out + OFF_SRC);
	osmo_store16be(pdu->dst_port, out + OFF_DST);
	osmo_store16be(pdu->data_len, out + OFF_DLEN);
	osmo_store16be(pdu->seq, out + OFF_SEQ);
	osmo_store16be(pdu->ack, out + OFF_ACK);
	osmo_store16be(pdu->window, out + OFF_WIN);

	p = out + OTA_CATTP_HDR_LEN;
	switch (type) {
	case OTA_CATTP_PDU_SYN:
	case OTA_CATTP_PDU_SYN_ACK:
		osmo_store16be(pdu->max_pdu_size, p);
		osmo_store16be(pdu->max_sdu_size, p + 2);
		p[4] = pdu->ident_len;
		if (pdu->ident_len)
			memcpy(p + 5, pdu->ident, pdu->ident_len);
		break;
	case OTA_CATTP_PDU_EAK:
		for (i = 0; i < pdu->num_eak; i++)
			osmo_store16be(pdu->eak[i], p + 2 * i);
		break;
	case OTA_CATTP_PDU_RST:
		p[0] = pdu->rst_reason;
		break;
	default:
		break;
	}
	if (pdu->data_len)
		memcpy(out + hl, pdu->data, pdu->data_len);

	/* TS 102 127: checksum over header and data with the checksum field set to zero, no pseudo-header */
	osmo_store16be(ota_cattp_checksum(out, total), out + OFF_CSUM);
	return total;
}

int ota_cattp_decode(struct ota_cattp_pdu *pdu, const uint8_t *buf, size_t len)
{
	size_t hl, dl;
	int type;
	unsigned int i;
	const uint8_t *p;

	if (!pdu)
		return -EINVAL;
	memset(pdu, 0, sizeof(*pdu));
	if (!buf || len < OTA_CATTP_HDR_LEN)
		return -EBADMSG;

	hl = buf[OFF_HLEN];
	dl = osmo_load16be(buf + OFF_DLEN);
	if (hl < OTA_CATTP_HDR_LEN)
		return -EBADMSG;
	if (hl + dl > len)
		return -EMSGSIZE;
	if (hl + dl < len)
		return -EBADMSG;	/* one PDU per datagram: nothing may follow */

	/* Summing a correct PDU including its checksum field gives 0xFFFF, so the complement is 0. */
	if (ota_cattp_checksum(buf, len) != 0)
		return -EBADMSG;

	pdu->flags = buf[OFF_FLAGS] & OTA_CATTP_F_MASK;
	pdu->version = buf[OFF_FLAGS] & OTA_CATTP_VERSION_MASK;
	pdu->src_port = osmo_load16be(buf + OFF_SRC);
	pdu->dst_port = osmo_load16be(buf + OFF_DST);
	pdu->seq = osmo_load16be(buf + OFF_SEQ);
	pdu->ack = osmo_load16be(buf + OFF_ACK);
	pdu->window = osmo_load16be(buf + OFF_WIN);
	pdu->checksum = osmo_load16be(buf + OFF_CSUM);
	pdu->data_len = dl;
	pdu->data = dl ? buf + hl : NULL;

	type = ota_cattp_pdu_type(pdu->flags);
	if (type < 0)
		return -EBADMSG;
	if (dl && !type_has_data(type))
		return -EBADMSG;

	p = buf + OTA_CATTP_HDR_LEN;
	switch (type) {
	case OTA_CATTP_PDU_SYN:
	case OTA_CATTP_PDU_SYN_ACK:
		if (hl < OTA_CATTP_SYN_HDR_MIN || hl != OTA_CATTP_SYN_HDR_MIN + (size_t)p[4])
			return -EBADMSG;
		pdu->max_pdu_size = osmo_load16be(p);
		pdu->max_sdu_size = osmo_load16be(p + 2);
		pdu->ident_len = p[4];
		memcpy(pdu->ident, p + 5, pdu->ident_len);
		break;
	case OTA_CATTP_PDU_EAK:
		if ((hl - OTA_CATTP_HDR_LEN) & 1)
			return -EBADMSG;
		pdu->num_eak = (hl - OTA_CATTP_HDR_LEN) / 2;
		for (i = 0; i < pdu->num_eak; i++)
			pdu->eak[i] = osmo_load16be(p + 2 * i);
		break;
	case OTA_CATTP_PDU_RST:
		if (hl != OTA_CATTP_RST_HDR_LEN)
			return -EBADMSG;
		pdu->rst_reason = p[0];
		break;
	default:
		/* ACK and NUL PDUs have no variable header */
		if (hl != OTA_CATTP_HDR_LEN)
			return -EBADMSG;
		break;
	}

	/* TS 102 127 up to V15: version bits shall be 0. Reported last so the caller can answer with a RST. */
	if (pdu->version != 0)
		return -ENOTSUP;
	return 0;
}

static void init_common(struct ota_cattp_pdu *pdu, uint8_t flags, uint16_t src_port, uint16_t dst_port,
			uint16_t seq, uint16_t ack_seq, uint16_t window)
{
	memset(pdu, 0, sizeof(*pdu));
	pdu->flags = flags;
	pdu->src_port = src_port;
	pdu->dst_port = dst_port;
	pdu->seq = seq;
	pdu->ack = ack_seq;
	pdu->window = window;
}

int ota_cattp_init_syn(struct ota_cattp_pdu *pdu, bool ack, uint16_t src_port, uint16_t dst_port, uint16_t seq,
		       uint16_t ack_seq, uint16_t window, uint16_t max_pdu_size, uint16_t max_sdu_size,
		       const uint8_t *ident, uint8_t ident_len)
{
	if (!pdu || ident_len > OTA_CATTP_MAX_IDENT || (ident_len && !ident))
		return -EINVAL;
	init_common(pdu, OTA_CATTP_F_SYN | (ack ? OTA_CATTP_F_ACK : 0), src_port, dst_port, seq,
		    ack ? ack_seq : 0, window);
	pdu->max_pdu_size = max_pdu_size;
	pdu->max_sdu_size = max_sdu_size;
	pdu->ident_len = ident_len;
	if (ident_len)
		memcpy(pdu->ident, ident, ident_len);
	return 0;
}

int ota_cattp_init_ack(struct ota_cattp_pdu *pdu, uint16_t src_port, uint16_t dst_port, uint16_t seq,
		       uint16_t ack_seq, uint16_t window, const uint8_t *data, uint16_t data_len, bool seg)
{
	if (!pdu || (data_len && !data))
		return -EINVAL;
	init_common(pdu, OTA_CATTP_F_ACK | (seg ? OTA_CATTP_F_SEG : 0), src_port, dst_port, seq, ack_seq, window);
	pdu->data = data_len ? data : NULL;
	pdu->data_len = data_len;
	return 0;
}

int ota_cattp_init_eak(struct ota_cattp_pdu *pdu, uint16_t src_port, uint16_t dst_port, uint16_t seq,
		       uint16_t ack_seq, uint16_t window, const uint16_t *eak, unsigned int num_eak)
{
	if (!pdu || num_eak > OTA_CATTP_MAX_EAK || (num_eak && !eak))
		return -EINVAL;
	init_common(pdu, OTA_CATTP_F_ACK | OTA_CATTP_F_EAK, src_port, dst_port, seq, ack_seq, window);
	pdu->num_eak = num_eak;
	if (num_eak)
		memcpy(pdu->eak, eak, num_eak * sizeof(eak[0]));
	return 0;
}

int ota_cattp_init_nul(struct ota_cattp_pdu *pdu, uint16_t src_port, uint16_t dst_port, uint16_t seq,
		       uint16_t ack_seq, uint16_t window)
{
	if (!pdu)
		return -EINVAL;
	init_common(pdu, OTA_CATTP_F_ACK | OTA_CATTP_F_NUL, src_port, dst_port, seq, ack_seq, window);
	return 0;
}

int ota_cattp_init_rst(struct ota_cattp_pdu *pdu, uint16_t src_port, uint16_t dst_port, uint16_t seq,
		       bool with_ack, uint16_t ack_seq, uint8_t reason)
{
	if (!pdu)
		return -EINVAL;
	init_common(pdu, OTA_CATTP_F_RST | (with_ack ? OTA_CATTP_F_ACK : 0), src_port, dst_port, seq,
		    with_ack ? ack_seq : 0, 0);
	pdu->rst_reason = reason;
	return 0;
}

const char *ota_cattp_rst_reason_name(uint8_t reason)
{
	switch (reason) {
	case OTA_CATTP_RST_NORMAL:
		return "normal-ending";
	case OTA_CATTP_RST_ILLEGAL_PARAMS:
		return "illegal-parameters";
	case OTA_CATTP_RST_TEMP_UNABLE:
		return "temporarily-unable";
	case OTA_CATTP_RST_PORT_UNAVAIL:
		return "port-not-available";
	case OTA_CATTP_RST_UNEXPECTED_PDU:
		return "unexpected-pdu";
	case OTA_CATTP_RST_MAX_RETRIES:
		return "max-retries-exceeded";
	case OTA_CATTP_RST_VERSION:
		return "version-not-supported";
	}
	return "rfu";
}

const char *ota_cattp_pdu_type_name(int type)
{
	switch (type) {
	case OTA_CATTP_PDU_SYN:
		return "SYN";
	case OTA_CATTP_PDU_SYN_ACK:
		return "SYN-ACK";
	case OTA_CATTP_PDU_ACK:
		return "ACK";
	case OTA_CATTP_PDU_EAK:
		return "EAK";
	case OTA_CATTP_PDU_NUL:
		return "NUL";
	case OTA_CATTP_PDU_RST:
		return "RST";
	}
	return "unknown";
}
