/*! \file sms.h
 * SMS-PP user data for OTA (3GPP TS 23.040, TS 31.115): user data header (UDH) information elements,
 * splitting a secured packet into concatenated short messages, reassembling concatenated MO messages,
 * the TP address field, and decoding SMS-DELIVER / SMS-SUBMIT TPDUs.
 *
 * Functions return 0 (or a length / count) on success and a negative errno on failure:
 *   -EBADMSG   malformed or truncated input
 *   -EMSGSIZE  a declared length exceeds the buffer, or the output does not fit
 *   -ENOTSUP   an option we do not implement
 *   -EINVAL    invalid caller argument
 *   -ENOMEM    allocation failed
 * Nothing here logs, keeps a clock, or aborts on input.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! Octets of TP-User-Data in one 8-bit short message (TS 23.040 §9.2.3.24). */
#define OTA_SMS_UD_MAX		140

/* UDH information element identifiers (TS 23.040 §9.2.3.24, TS 31.115 §4) */
#define OTA_SMS_IEI_CONCAT8	0x00	/*!< concatenated short messages, 8-bit reference */
#define OTA_SMS_IEI_CONCAT16	0x08	/*!< concatenated short messages, 16-bit reference */
#define OTA_SMS_IEI_CPI		0x70	/*!< (U)SIM toolkit security header: command packet identifier */
#define OTA_SMS_IEI_RPI		0x71	/*!< (U)SIM toolkit security header: response packet identifier */

/*! Most information elements one UDH may hold (UDHL <= 255, at least 2 octets per IE). */
#define OTA_SMS_UDH_MAX_IE	128

/*! One information element; val points into the parsed buffer. */
struct ota_sms_ie {
	uint8_t iei;
	uint8_t len;
	const uint8_t *val;
};

/*! A parsed user data header. */
struct ota_sms_udh {
	size_t hdr_len;				/*!< octets of UDHL plus the header (1 + UDHL) */
	unsigned int num_ie;
	struct ota_sms_ie ie[OTA_SMS_UDH_MAX_IE];
};

/*! Parse the UDH at the start of user data (TP-UDHI = 1).
 *  \returns the UDH length (1 + UDHL; the data after it is the rest of \a ud), -EBADMSG if the UDHL or an IE
 *           length runs past the end, -EINVAL. */
int ota_sms_udh_parse(const uint8_t *ud, size_t ud_len, struct ota_sms_udh *udh);

/*! \returns the first IE with identifier \a iei, or NULL. */
const struct ota_sms_ie *ota_sms_udh_find(const struct ota_sms_udh *udh, uint8_t iei);

/*! Write a UDH (UDHL followed by the IEs).
 *  \returns the length written, -EMSGSIZE (does not fit \a out_size, or UDHL would exceed 255), -EINVAL. */
int ota_sms_udh_build(const struct ota_sms_ie *ies, unsigned int num_ie, uint8_t *out, size_t out_size);

/*! Concatenation information (IEI 00 or 08). */
struct ota_sms_concat {
	uint16_t ref;		/*!< reference number */
	uint8_t total;		/*!< number of parts (1..255) */
	uint8_t seq;		/*!< this part's number (1..total) */
	bool ref16;		/*!< 16-bit reference (IEI 08) */
};

/*! Find the concatenation IE of a parsed UDH.
 *  \returns 1 if present (\a c filled), 0 if absent, -EBADMSG if its length is wrong, total is 0, or seq is 0 or
 *           greater than total. */
int ota_sms_udh_concat(const struct ota_sms_udh *udh, struct ota_sms_concat *c);

/*! One short message's user data. */
struct ota_sms_ud {
	uint8_t data[OTA_SMS_UD_MAX];
	size_t len;
};

/*! Split a secured packet (command packet CPL.., or response packet RPL..) into SMS user data.
 *  One SMS: UDH `02 <iei> 00` and the packet (at most 137 octets). Several: the first part carries `<iei> 00`
 *  and the concatenation IE (UDH `07 70 00 00 03 ref n 1`, 132 octets of payload, or with a 16-bit reference
 *  `08 70 00 08 04 rr rr n 1`, 131 octets); each following part carries only the concatenation IE
 *  (`05 00 03 ref n i`, 134 octets, or `06 08 04 rr rr n i`, 133 octets) [TS 31.115 §4; SGP02.md §7.1].
 *  \param[in] iei OTA_SMS_IEI_CPI (command) or OTA_SMS_IEI_RPI (response)
 *  \param[in] ref concatenation reference (only the low 8 bits unless \a ref16)
 *  \param[out] parts talloc'd array (child of \a ctx) of the parts, in order
 *  \returns the number of parts, -EMSGSIZE (more than 255 parts needed), -EINVAL (empty packet, NULL), -ENOMEM. */
int ota_sms_split(void *ctx, uint8_t iei, const uint8_t *pkt, size_t len, uint16_t ref, bool ref16,
		  struct ota_sms_ud **parts);

/*
 * Reassembly of concatenated MO messages
 */

/*! Limits of a reassembly buffer. Zero fields take the defaults shown. */
struct ota_sms_reasm_cfg {
	unsigned int max_pending;	/*!< messages waiting for parts at once (default 64) */
	unsigned int max_parts;		/*!< parts per message (default 32) */
	uint64_t timeout_ms;		/*!< a message whose first part is older than this is dropped (default 60000) */
};

struct ota_sms_reasm;

/*! Counters of a reassembly buffer. */
struct ota_sms_reasm_stats {
	unsigned long completed;
	unsigned long duplicates;	/*!< parts received twice (the second copy is ignored) */
	unsigned long expired;		/*!< messages dropped after the timeout */
	unsigned long evicted;		/*!< messages dropped because max_pending was reached */
	unsigned long rejected;		/*!< parts refused as malformed or inconsistent */
};

/*! Allocate a reassembly buffer (freed with talloc_free()). \returns NULL on allocation failure. */
struct ota_sms_reasm *ota_sms_reasm_alloc(void *ctx, const struct ota_sms_reasm_cfg *cfg);

/*! Feed one MO user data (with UDH) from \a sender.
 *  Messages are keyed by (sender, reference, reference size). A complete message is returned as one user data
 *  whose UDH is the first part's UDH without the concatenation IE, followed by all payloads in order; e.g. the
 *  parts of a response packet come out as `02 71 00 RPL ...`. User data without a concatenation IE (or with
 *  total = 1) is returned at once.
 *  Duplicates are ignored. Pending messages older than the timeout are dropped first; when max_pending is still
 *  reached, the oldest pending message is dropped to make room.
 *  \param[in] now_ms the caller's clock in milliseconds (monotonic); no hidden clock is read
 *  \param[out] out on completion: talloc'd (child of \a out_ctx) user data
 *  \returns 1 when a message completed (\a out, \a out_len set), 0 when the part was stored or was a duplicate,
 *           -EBADMSG (malformed UDH or concatenation IE, or a part disagreeing with earlier parts on the
 *           number of parts: the pending message is dropped), -EMSGSIZE (more parts than max_parts, or
 *           \a ud_len > OTA_SMS_UD_MAX), -EINVAL, -ENOMEM. */
int ota_sms_reasm_feed(struct ota_sms_reasm *r, const char *sender, const uint8_t *ud, size_t ud_len,
		       uint64_t now_ms, void *out_ctx, uint8_t **out, size_t *out_len);

/*! Drop pending messages whose first part arrived timeout_ms or more before \a now_ms.
 *  \returns the number dropped. */
unsigned int ota_sms_reasm_expire(struct ota_sms_reasm *r, uint64_t now_ms);

/*! \returns the number of messages waiting for parts. */
unsigned int ota_sms_reasm_pending(const struct ota_sms_reasm *r);

/*! \returns the counters of \a r. */
const struct ota_sms_reasm_stats *ota_sms_reasm_stats(const struct ota_sms_reasm *r);

/*
 * TP address (TS 23.040 §9.1.2.5)
 */

/*! Type of number (TON) values. */
enum ota_sms_ton {
	OTA_SMS_TON_UNKNOWN = 0,
	OTA_SMS_TON_INTERNATIONAL = 1,
	OTA_SMS_TON_NATIONAL = 2,
	OTA_SMS_TON_NETWORK = 3,
	OTA_SMS_TON_SUBSCRIBER = 4,
	OTA_SMS_TON_ALPHANUMERIC = 5,
	OTA_SMS_TON_ABBREVIATED = 6,
};

/*! Numbering plan identification (NPI) values used here. */
enum ota_sms_npi {
	OTA_SMS_NPI_UNKNOWN = 0,
	OTA_SMS_NPI_ISDN_E164 = 1,
	OTA_SMS_NPI_DATA_X121 = 3,
	OTA_SMS_NPI_TELEX = 4,
	OTA_SMS_NPI_NATIONAL = 8,
	OTA_SMS_NPI_PRIVATE = 9,
	OTA_SMS_NPI_ERMES = 10,
};

/*! A TP address. For numbers, digits holds '0'..'9', '*', '#', 'a', 'b', 'c'; for TON alphanumeric it holds the
 *  text decoded from the GSM 7-bit default alphabet (characters outside ASCII become '?'). */
struct ota_sms_addr {
	uint8_t ton;
	uint8_t npi;
	char digits[21];
};

/*! Decode an address field. \returns octets consumed (2 + number of address octets), -EBADMSG (truncated,
 *  more than 20 digits, or a filler in the middle), -EINVAL. */
int ota_sms_addr_decode(const uint8_t *buf, size_t len, struct ota_sms_addr *a);

/*! Encode an address field (numbers only, not alphanumeric).
 *  \returns octets written, -EINVAL (bad digit, more than 20 digits, TON/NPI out of range, alphanumeric),
 *           -EMSGSIZE. */
int ota_sms_addr_encode(const struct ota_sms_addr *a, uint8_t *out, size_t out_size);

/*
 * TPDUs (TS 23.040 §9.2.2)
 */

/*! Validity period formats (TP-VPF, TS 23.040 §9.2.3.3) as carried in bits 4..3 of the first octet. */
enum ota_sms_vpf {
	OTA_SMS_VPF_NONE = 0,
	OTA_SMS_VPF_ENHANCED = 1,
	OTA_SMS_VPF_RELATIVE = 2,
	OTA_SMS_VPF_ABSOLUTE = 3,
};

/*! Fields of an SMS-DELIVER (MTI 0) or SMS-SUBMIT (MTI 1). */
struct ota_sms_tpdu {
	uint8_t mti;		/*!< 0 SMS-DELIVER, 1 SMS-SUBMIT */
	bool mms;		/*!< DELIVER: TP-More-Messages-to-Send bit as coded (1 = no more messages) */
	bool lp;		/*!< DELIVER: TP-Loop-Prevention */
	bool sri;		/*!< DELIVER: TP-Status-Report-Indication */
	bool rd;		/*!< SUBMIT: TP-Reject-Duplicates */
	uint8_t vpf;		/*!< SUBMIT: enum ota_sms_vpf */
	bool srr;		/*!< SUBMIT: TP-Status-Report-Request */
	bool udhi;		/*!< TP-User-Data-Header-Indicator */
	bool rp;		/*!< TP-Reply-Path */
	uint8_t mr;		/*!< SUBMIT: TP-Message-Reference */
	struct ota_sms_addr addr;	/*!< DELIVER: originating address; SUBMIT: destination address */
	uint8_t pid;
	uint8_t dcs;
	uint8_t scts[7];	/*!< DELIVER: service centre time stamp, as coded */
	uint8_t vp[7];		/*!< SUBMIT: validity period, as coded */
	uint8_t vp_len;		/*!< 0, 1 or 7 */
	uint8_t udl;		/*!< TP-UDL as coded (septets for the 7-bit alphabet, else octets) */
	const uint8_t *ud;	/*!< user data (into the decoded buffer) */
	size_t ud_len;		/*!< octets of user data */
};

/*! \returns true if the data coding scheme means the GSM 7-bit default alphabet (TS 23.038 §4). */
bool ota_sms_dcs_is_7bit(uint8_t dcs);

/*! Decode an SMS-DELIVER or SMS-SUBMIT TPDU (the MTI decides).
 *  \returns 0, -EBADMSG (truncated, UD shorter or longer than TP-UDL says, UDL > 140 octets / 160 septets),
 *           -ENOTSUP (other MTI), -EINVAL. */
int ota_sms_tpdu_decode(const uint8_t *tpdu, size_t len, struct ota_sms_tpdu *t);

/*! Encode an SMS-DELIVER (t->mti 0) or SMS-SUBMIT (t->mti 1) with 8-bit user data (t->ud, t->ud_len octets;
 *  t->udl is ignored and set from ud_len, so only 8-bit / UCS2 DCS values are accepted).
 *  \returns octets written, -EINVAL (7-bit DCS, ud_len > 140, bad address), -EMSGSIZE. */
int ota_sms_tpdu_encode(const struct ota_sms_tpdu *t, uint8_t *out, size_t out_size);
