/*! \file cattp.h
 * CAT_TP PDU codec (ETSI TS 102 127 §5: Card Application Toolkit Transport Protocol over UDP).
 *
 * A pure codec: no sockets and no state machine. One UDP datagram carries exactly one PDU:
 *
 *   flags(1) | RFU(2) | header length(1) | src port(2) | dst port(2) | data length(2) |
 *   seq(2) | ack(2) | window(2) | checksum(2) | variable header | data
 *
 * all in network byte order. Flags byte: SYN 80, ACK 40, EAK 20, RST 10, NUL 08, SEG 04, version in b2b1 (must be
 * 00 up to TS 102 127 V15). Variable header: SYN = max PDU size(2) | max SDU size(2) | ident length(1) | ident;
 * EAK = n × out-of-sequence seq(2); RST = reason(1). The checksum is the Internet 16-bit one's complement of the
 * one's complement sum over header and data, without a pseudo-header (an odd length is padded with one zero byte
 * for the computation only).
 *
 * A decoded PDU does not own memory: data points into the decoded buffer. Errors:
 *   -EBADMSG   malformed PDU, including a bad checksum (this is a transmission error, not an authentication
 *              failure: no key is involved), an illegal flag combination, or bytes beyond the declared length
 *   -EMSGSIZE  the declared header/data length exceeds the buffer, or the encode output buffer is too small
 *   -ENOTSUP   the version bits are not 00 (the PDU is otherwise decoded so that a RST with reason
 *              OTA_CATTP_RST_VERSION can be sent back)
 *   -EINVAL    invalid caller argument
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TS 102 127 §5.2 flag bits of the first header byte */
#define OTA_CATTP_F_SYN		0x80
#define OTA_CATTP_F_ACK		0x40
#define OTA_CATTP_F_EAK		0x20
#define OTA_CATTP_F_RST		0x10
#define OTA_CATTP_F_NUL		0x08
#define OTA_CATTP_F_SEG		0x04
#define OTA_CATTP_F_MASK	0xFC
#define OTA_CATTP_VERSION_MASK	0x03

#define OTA_CATTP_HDR_LEN	18	/*!< fixed header length */
#define OTA_CATTP_SYN_HDR_MIN	23	/*!< SYN header without identification */
#define OTA_CATTP_RST_HDR_LEN	19
#define OTA_CATTP_MAX_HDR_LEN	255	/*!< header length is one byte */
#define OTA_CATTP_MAX_IDENT	(OTA_CATTP_MAX_HDR_LEN - OTA_CATTP_SYN_HDR_MIN)	/*!< 232 */
#define OTA_CATTP_MAX_EAK	((OTA_CATTP_MAX_HDR_LEN - OTA_CATTP_HDR_LEN) / 2)	/*!< 118 */

/*! PDU kinds, derived from the flags (TS 102 127 §5.2). */
enum ota_cattp_pdu_type {
	OTA_CATTP_PDU_SYN,	/*!< SYN: connection request */
	OTA_CATTP_PDU_SYN_ACK,	/*!< SYN + ACK: connection accept */
	OTA_CATTP_PDU_ACK,	/*!< ACK, with or without data (SEG may be set) */
	OTA_CATTP_PDU_EAK,	/*!< ACK + EAK: extended acknowledgement, may carry data */
	OTA_CATTP_PDU_NUL,	/*!< ACK + NUL: keep-alive, no data */
	OTA_CATTP_PDU_RST,	/*!< RST (ACK may be set): reset with reason */
};

/*! RST reason codes (TS 102 127 §5.2.x). */
enum ota_cattp_rst_reason {
	OTA_CATTP_RST_NORMAL = 0,		/*!< normal ending */
	OTA_CATTP_RST_ILLEGAL_PARAMS = 1,	/*!< connection set-up failed, illegal parameters */
	OTA_CATTP_RST_TEMP_UNABLE = 2,		/*!< temporarily unable to set up this connection */
	OTA_CATTP_RST_PORT_UNAVAIL = 3,		/*!< requested port not available */
	OTA_CATTP_RST_UNEXPECTED_PDU = 4,	/*!< unexpected PDU received */
	OTA_CATTP_RST_MAX_RETRIES = 5,		/*!< maximum retries exceeded */
	OTA_CATTP_RST_VERSION = 6,		/*!< version not supported */
};

/*! One CAT_TP PDU. Plain value type so a state machine can keep copies (e.g. in a retransmission queue):
 *  only data points outside the struct. */
struct ota_cattp_pdu {
	uint8_t flags;		/*!< OTA_CATTP_F_* bits */
	uint8_t version;	/*!< 0..3, 0 for all published TS 102 127 releases */
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t seq;
	uint16_t ack;
	uint16_t window;
	uint16_t checksum;	/*!< decode: as received; encode: ignored (computed) */

	/* SYN and SYN-ACK only */
	uint16_t max_pdu_size;
	uint16_t max_sdu_size;
	uint8_t ident_len;
	uint8_t ident[OTA_CATTP_MAX_IDENT];

	/* EAK only: out-of-sequence PDUs received */
	uint8_t num_eak;
	uint16_t eak[OTA_CATTP_MAX_EAK];

	/* RST only */
	uint8_t rst_reason;

	/* data (ACK / EAK PDUs only) */
	const uint8_t *data;
	uint16_t data_len;
};

/*! Internet checksum (RFC 1071 style) over buf: one's complement of the one's complement sum of 16-bit big-endian
 *  words, odd length padded with a zero byte. Over a whole PDU including a correct checksum field it returns 0. */
uint16_t ota_cattp_checksum(const uint8_t *buf, size_t len);

/*! Classify flags (version bits ignored).
 *  \returns an enum ota_cattp_pdu_type value; -EBADMSG for an illegal combination (no SYN/ACK/RST, SYN with
 *  EAK/NUL/RST/SEG, RST with SYN/EAK/NUL/SEG, NUL with SEG). */
int ota_cattp_pdu_type(uint8_t flags);

/*! Length the encoded PDU will have (header + data).
 *  \returns the length; -EINVAL for an inconsistent PDU (see ota_cattp_encode()). */
int ota_cattp_encoded_len(const struct ota_cattp_pdu *pdu);

/*! Encode a PDU and compute its checksum. The header length follows from the PDU type (SYN: 23 + ident_len, EAK:
 *  18 + 2 × num_eak, RST: 19, else 18); RFU bytes are written as zero.
 *  \returns number of bytes written; -EINVAL (illegal flag combination, version > 3, data on SYN/RST/NUL,
 *  data_len without data, ident_len or num_eak too large); -EMSGSIZE if out_size is too small. */
int ota_cattp_encode(uint8_t *out, size_t out_size, const struct ota_cattp_pdu *pdu);

/*! Decode and verify one PDU (the whole UDP payload).
 *  Checks, in this order: length ≥ 18; header length ≥ 18 and header + data length = buffer length; checksum;
 *  flag combination; the variable header against the PDU type (SYN: 23 + ident length; EAK: even extension;
 *  RST: exactly 19 and no data; NUL and SYN: no data); version.
 *  \returns 0; -EBADMSG, -EMSGSIZE, -ENOTSUP (see file comment; pdu is filled in for -ENOTSUP), -EINVAL. */
int ota_cattp_decode(struct ota_cattp_pdu *pdu, const uint8_t *buf, size_t len);

/*! Fill in a SYN (ack == false) or SYN-ACK (ack == true, with ack_seq) PDU.
 *  \returns 0; -EINVAL if ident_len > OTA_CATTP_MAX_IDENT or ident is NULL with ident_len > 0. */
int ota_cattp_init_syn(struct ota_cattp_pdu *pdu, bool ack, uint16_t src_port, uint16_t dst_port, uint16_t seq,
		       uint16_t ack_seq, uint16_t window, uint16_t max_pdu_size, uint16_t max_sdu_size,
		       const uint8_t *ident, uint8_t ident_len);

/*! Fill in an ACK PDU, optionally with data (seg: more segments of the SDU follow).
 *  \returns 0; -EINVAL if data_len > 0 and data is NULL. */
int ota_cattp_init_ack(struct ota_cattp_pdu *pdu, uint16_t src_port, uint16_t dst_port, uint16_t seq,
		       uint16_t ack_seq, uint16_t window, const uint8_t *data, uint16_t data_len, bool seg);

/*! Fill in an EAK PDU (ACK + EAK) listing out-of-sequence received PDUs.
 *  \returns 0; -EINVAL if num_eak > OTA_CATTP_MAX_EAK or eak is NULL with num_eak > 0. */
int ota_cattp_init_eak(struct ota_cattp_pdu *pdu, uint16_t src_port, uint16_t dst_port, uint16_t seq,
		       uint16_t ack_seq, uint16_t window, const uint16_t *eak, unsigned int num_eak);

/*! Fill in a NUL (keep-alive) PDU: ACK + NUL, no data. \returns 0. */
int ota_cattp_init_nul(struct ota_cattp_pdu *pdu, uint16_t src_port, uint16_t dst_port, uint16_t seq,
		       uint16_t ack_seq, uint16_t window);

/*! Fill in a RST PDU with a reason; with_ack also sets ACK and ack_seq. \returns 0. */
int ota_cattp_init_rst(struct ota_cattp_pdu *pdu, uint16_t src_port, uint16_t dst_port, uint16_t seq,
		       bool with_ack, uint16_t ack_seq, uint8_t reason);

/*! Name of a RST reason code, e.g. "normal-ending"; "rfu" for other values. */
const char *ota_cattp_rst_reason_name(uint8_t reason);

/*! Name of a PDU type, e.g. "SYN-ACK"; "unknown" for other values. */
const char *ota_cattp_pdu_type_name(int type);
