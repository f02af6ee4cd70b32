/*! \file scp80.h
 * SCP80 secured packets for SMS-PP (ETSI TS 102 225, 3GPP TS 31.115): command packets (server builds,
 * card verifies) and response packets / PoR (card builds, server verifies).
 *
 * Layout of a command packet as handled here (the SMS UDH `02 70 00` is not part of it, see sms.h):
 *
 *     CPL(2) CHL(1) SPI(2) KIc(1) KID(1) TAR(3) | CNTR(5) PCNTR(1) RC/CC(0|2|4|8) data padding
 *                                                 `---------- ciphered when SPI1.b3 = 1 ----------'
 *
 * Layout of a response packet (always handled together with its UDH, because the response RC/CC covers it):
 *
 *     UDHL IEI=71 00 | RPL(2) RHL(1) TAR(3) | CNTR(5) PCNTR(1) status(1) RC/CC data padding
 *
 * No function here allocates, logs or aborts on input. All of them return a length or 0 on success and a
 * negative errno on failure:
 *   -EBADMSG       malformed or truncated packet (wrong CHL/RHL, bad padding, ciphertext not block aligned, ...)
 *   -EMSGSIZE      a declared length (CPL/RPL) exceeds the buffer, or the output buffer is too small
 *   -EKEYREJECTED  RC/CC mismatch
 *   -ERANGE        counter rule violated (card side: replay/sequence; server side: PoR CNTR is not the command's)
 *   -ENOTSUP       unsupported algorithm or option (DS, implicit algorithm, single DES when not allowed, ...)
 *   -ENOKEY        the packet names a KIc/KID (key version + algorithm) other than the keyset's
 *   -EINVAL        invalid caller argument (NULL pointer, wrong key length, counter out of range, ...)
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osmocom/core/utils.h>

/*! Largest RC/CC we produce or accept (CC of 8 octets). */
#define OTA_SCP80_MAX_SIG_LEN	8
/*! Largest key (AES-256). */
#define OTA_SCP80_MAX_KEY_LEN	32
/*! Largest counter value (CNTR is 5 octets). */
#define OTA_SCP80_CNTR_MAX	0xffffffffffULL
/*! Bytes a command packet adds to the secured data at most: CPL..PCNTR (16) + CC (8) + padding (15). */
#define OTA_SCP80_CMD_OVERHEAD	(16 + OTA_SCP80_MAX_SIG_LEN + 15)
/*! Bytes a response packet (with its 3-byte UDH) adds to the response data at most: 3 + 14 + 8 + 15. */
#define OTA_SCP80_POR_OVERHEAD	(3 + 14 + OTA_SCP80_MAX_SIG_LEN + 15)

/*! SPI1 b5b4: counter handling (TS 102 225 §5.1.1). */
enum ota_scp80_cntr_mode {
	OTA_SCP80_CNTR_NONE = 0,	/*!< no counter available */
	OTA_SCP80_CNTR_NO_CHECK = 1,	/*!< counter available, no replay or sequence checking */
	OTA_SCP80_CNTR_HIGHER = 2,	/*!< process only if counter is higher than the RE's */
	OTA_SCP80_CNTR_PLUS_ONE = 3,	/*!< process only if counter is exactly one higher than the RE's */
};

/*! SPI1 b2b1 / SPI2 b4b3: redundancy check, cryptographic checksum or digital signature. */
enum ota_scp80_integ {
	OTA_SCP80_INTEG_NONE = 0,
	OTA_SCP80_INTEG_RC = 1,		/*!< redundancy check (CRC-16 or CRC-32, chosen by the KID byte) */
	OTA_SCP80_INTEG_CC = 2,		/*!< cryptographic checksum (3DES CBC-MAC or AES-CMAC, 8 octets) */
	OTA_SCP80_INTEG_DS = 3,		/*!< digital signature: not supported (-ENOTSUP) */
};

/*! SPI2 b2b1: proof of receipt request. */
enum ota_scp80_por_req {
	OTA_SCP80_POR_NONE = 0,
	OTA_SCP80_POR_REQUIRED = 1,
	OTA_SCP80_POR_ON_ERROR = 2,
};

/*! Decoded Security Parameter Indicator (TS 102 225 §5.1.1, TS 31.115 §4.2). Reserved bits are dropped. */
struct ota_scp80_spi {
	enum ota_scp80_cntr_mode cntr;		/*!< SPI1 b5b4 */
	bool ciphered;				/*!< SPI1 b3 */
	enum ota_scp80_integ integ;		/*!< SPI1 b2b1 */
	bool por_in_submit;			/*!< SPI2 b6: PoR via SMS-SUBMIT (else SMS-DELIVER-REPORT) */
	bool por_ciphered;			/*!< SPI2 b5 */
	enum ota_scp80_integ por_integ;		/*!< SPI2 b4b3 */
	enum ota_scp80_por_req por;		/*!< SPI2 b2b1 */
};

/*! Decode the two SPI octets. Never fails. */
void ota_scp80_spi_decode(const uint8_t spi[2], struct ota_scp80_spi *out);
/*! Encode an SPI into two octets (reserved bits zero). Never fails. */
void ota_scp80_spi_encode(const struct ota_scp80_spi *spi, uint8_t out[2]);

/*! SGP.02 minimum security for ES5 over SMS (SGP02.md §7.1, spec-quoted): SPI1 with a CC, ciphering and a
 *  counter that must be higher (or exactly one higher, which is stricter), i.e. SPI1 = 16 (or 1E).
 *  A packet below it is discarded by the eUICC without a PoR.
 *  \returns true if \a spi meets it. */
bool ota_scp80_spi_meets_sgp02(const uint8_t spi[2]);

/*! One SCP80 key set. The KIc/KID bytes carry the key version in the high nibble and the algorithm in the low
 *  nibble (TS 102 225 §5.1.2, §5.1.3): x1 DES-CBC, x5 3DES 2 keys, x9 3DES 3 keys, x2 AES (CBC for KIc,
 *  CMAC for KID). With RC, the KID low nibble selects x1 CRC-16 or x5 CRC-32. */
struct ota_scp80_keyset {
	uint8_t kic;					/*!< KIc byte */
	uint8_t kid;					/*!< KID byte */
	uint8_t kic_key[OTA_SCP80_MAX_KEY_LEN];		/*!< ciphering key */
	size_t kic_key_len;				/*!< 8 (DES), 16 (3DES-2/AES-128), 24 (3DES-3/AES-192), 32 */
	uint8_t kid_key[OTA_SCP80_MAX_KEY_LEN];		/*!< checksum key (unused for RC) */
	size_t kid_key_len;
	bool allow_single_des;				/*!< single DES is refused (-ENOTSUP) unless set */
};

/*! Clear header of a packet and what was recovered from its secured part. */
struct ota_scp80_cmd {
	uint8_t spi[2];
	uint8_t kic;
	uint8_t kid;
	uint8_t tar[3];
	uint8_t cntr[5];
	uint8_t pcntr;			/*!< number of padding octets (already stripped from data) */
	const uint8_t *data;		/*!< secured data, padding stripped; points into the caller's buffer */
	size_t data_len;
	uint8_t status;			/*!< on failure: the PoR status code the card should answer (Table 5) */
};

/*! A decoded response packet. */
struct ota_scp80_por {
	uint8_t tar[3];
	uint8_t cntr[5];
	uint8_t pcntr;
	uint8_t status;			/*!< response status code, see ota_scp80_por_status_names */
	const uint8_t *data;		/*!< additional response data, padding stripped; in the caller's buffer */
	size_t data_len;
};

/*! Response status codes (TS 102 225 Table 5, TS 31.115 §7). */
enum ota_scp80_por_status {
	OTA_SCP80_POR_OK = 0x00,
	OTA_SCP80_POR_RC_CC_DS_FAILED = 0x01,
	OTA_SCP80_POR_CNTR_LOW = 0x02,
	OTA_SCP80_POR_CNTR_HIGH = 0x03,
	OTA_SCP80_POR_CNTR_BLOCKED = 0x04,
	OTA_SCP80_POR_CIPHERING_ERROR = 0x05,
	OTA_SCP80_POR_UNIDENTIFIED_SECURITY_ERROR = 0x06,
	OTA_SCP80_POR_INSUFFICIENT_MEMORY = 0x07,
	OTA_SCP80_POR_MORE_TIME = 0x08,
	OTA_SCP80_POR_TAR_UNKNOWN = 0x09,
	OTA_SCP80_POR_INSUFFICIENT_SECURITY_LEVEL = 0x0a,
	OTA_SCP80_POR_RESP_SMS_SUBMIT = 0x0b,
	OTA_SCP80_POR_RESP_USSD = 0x0c,
};

/*! Names of the response status codes (snake_case, e.g. "por_ok", "rc_cc_ds_failed"). */
extern const struct value_string ota_scp80_por_status_names[];
/*! \returns the name of a response status code, "unknown 0x.." style text from get_value_string otherwise. */
const char *ota_scp80_por_status_name(uint8_t status);

/*! Convert a 5-octet counter to a number. */
uint64_t ota_scp80_cntr_get(const uint8_t cntr[5]);
/*! Store a number (<= OTA_SCP80_CNTR_MAX; higher bits are dropped) as a 5-octet counter. */
void ota_scp80_cntr_put(uint8_t cntr[5], uint64_t val);
/*! Server side: take the next counter for a command. Increments \a stored and writes it to \a cntr.
 *  \returns 0, -ERANGE (the counter is at its maximum: the key set must be replaced), -EINVAL. */
int ota_scp80_cntr_next(uint64_t *stored, uint8_t cntr[5]);

/*! Build a complete command packet (CPL..end), TS 102 225 §5.1, TS 31.115 §4.
 *  The CC/RC covers CPL..PCNTR and the data including padding; then CNTR..padding is ciphered (IV zero).
 *  \param[in] ks key set; its KIc/KID bytes are written into the header
 *  \param[in] spi the two SPI octets
 *  \param[in] tar Toolkit Application Reference
 *  \param[in] cntr counter to send
 *  \param[in] data secured data (e.g. a command script); may be NULL when data_len is 0
 *  \param[out] out output buffer; data_len + OTA_SCP80_CMD_OVERHEAD octets are always enough
 *  \returns the packet length, -EMSGSIZE (output too small, or packet longer than 65535),
 *           -ENOTSUP (DS, implicit or unknown algorithm, single DES not allowed), -EINVAL (bad argument or
 *           key length). */
int ota_scp80_cmd_build(const struct ota_scp80_keyset *ks, const uint8_t spi[2], const uint8_t tar[3],
			const uint8_t cntr[5], const uint8_t *data, size_t data_len, uint8_t *out, size_t out_size);

/*! Read the clear header of a command packet (CPL..TAR) without any key, e.g. to find the key set by
 *  KIc/KID/TAR. Fills spi, kic, kid, tar of \a hdr; the other fields are zeroed.
 *  \returns 0, -EBADMSG (shorter than CPL..TAR or CHL too small), -EMSGSIZE (CPL exceeds the buffer),
 *           -EINVAL. */
int ota_scp80_cmd_peek(const uint8_t *pkt, size_t len, struct ota_scp80_cmd *hdr);

/*! Verify and open a command packet on the card side (TS 102 225 §5.1).
 *  Order: structure checks, deciphering, RC/CC check, counter check, padding check.
 *  \param[in] ks key set the packet is expected to use
 *  \param[in] pkt packet, CPL..end (without the SMS UDH)
 *  \param[in,out] re_cntr the counter stored in the receiving entity, or NULL to skip counter checks. With SPI
 *                 counter mode "higher" / "exactly +1" it is checked and, on success only, set to the packet's
 *                 counter. A stored value of OTA_SCP80_CNTR_MAX means "blocked".
 *  \param[out] res header fields, counter and data. On failure res->status holds the PoR status code to answer
 *              with, and the fields read so far stay set (spi, kic, kid, tar; cntr once deciphered) so that the
 *              card can build its PoR; data is NULL then.
 *  \param[out] buf working buffer of at least \a len octets (may be \a pkt itself); res->data points into it
 *  \returns 0, -EBADMSG (malformed, wrong CHL, ciphertext not block aligned, PCNTR beyond the data or not
 *           shorter than a cipher block, or than 16 octets without ciphering), -EMSGSIZE (CPL beyond
 *           the buffer, or \a buf too small), -EKEYREJECTED (RC/CC mismatch), -ERANGE (counter too low, too
 *           high or blocked), -ENOKEY (KIc/KID byte differs from the keyset's), -ENOTSUP, -EINVAL. */
int ota_scp80_cmd_unwrap(const struct ota_scp80_keyset *ks, const uint8_t *pkt, size_t len, uint64_t *re_cntr,
			 struct ota_scp80_cmd *res, uint8_t *buf, size_t buf_size);

/*! Build a response packet (PoR) on the card side, as SMS user data with the UDH `02 71 00`.
 *  SPI2 of the command tells whether the PoR is ciphered and carries an RC or CC; the RC/CC covers the UDH,
 *  RPL..status and the response data including padding (TS 31.115 §6, as in pySim's decoder).
 *  \param[in] spi the SPI of the command being answered
 *  \param[in] cntr the command's counter (echoed)
 *  \param[in] status response status code
 *  \param[out] out output buffer; data_len + OTA_SCP80_POR_OVERHEAD octets are always enough
 *  \returns the user data length, -EMSGSIZE, -ENOTSUP, -EINVAL. */
int ota_scp80_por_build(const struct ota_scp80_keyset *ks, const uint8_t spi[2], const uint8_t tar[3],
			const uint8_t cntr[5], uint8_t status, const uint8_t *data, size_t data_len,
			uint8_t *out, size_t out_size);

/*! Verify and decode a PoR on the server side.
 *  \param[in] ks key set of the command
 *  \param[in] spi the SPI of the command this PoR answers (SPI2 tells what protection to expect)
 *  \param[in] ud SMS user data: UDH (which must contain IEI 71) followed by the response packet. The whole UDH
 *             is part of the RC/CC input.
 *  \param[in] expect_cntr the command's counter; the PoR must echo it (-ERANGE otherwise). NULL: not checked.
 *  \param[out] res decoded fields; res->data points into \a buf
 *  \param[out] buf working buffer of at least \a ud_len octets (may be \a ud itself)
 *  \returns 0, -EBADMSG (malformed, no IEI 71, wrong RHL, bad PCNTR as for commands), -EMSGSIZE (RPL beyond the buffer or
 *           \a buf too small), -EKEYREJECTED (RC/CC mismatch), -ERANGE (CNTR is not the expected one),
 *           -ENOTSUP, -EINVAL. */
int ota_scp80_por_unwrap(const struct ota_scp80_keyset *ks, const uint8_t spi[2], const uint8_t *ud,
			 size_t ud_len, const uint8_t *expect_cntr, struct ota_scp80_por *res,
			 uint8_t *buf, size_t buf_size);
