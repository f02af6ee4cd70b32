/*! \file rapdu.h
 * Remote APDU scripts (ETSI TS 102 226 §5): the compact format (concatenated C-APDUs) and the expanded format
 * (Command / Response Scripting Templates, definite "AA L" or indefinite "AE 80 ... 00 00"), including Script
 * Chaining (TS 102 226 §5.2.1.1) and splitting of a long script into several chained scripts.
 *
 * Parsers never copy: the items of a parsed script point into the caller's buffer, which must outlive the
 * script. All functions return 0 (or a length) on success or a negative errno:
 *   -EBADMSG   malformed input (unknown tag, wrong length, missing 00 00 end-of-contents, trailing bytes)
 *   -EMSGSIZE  a declared length exceeds the buffer, or the output would be too large
 *   -EINVAL    invalid caller argument
 *   -ENOMEM    allocation failure
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TS 102 226 §5.2.1 / §5.2.2 tags (all single-byte). */
#define OTA_RAPDU_TAG_CMD_SCRIPT_DEF		0xAA	/*!< Command Scripting Template, definite length */
#define OTA_RAPDU_TAG_CMD_SCRIPT_INDEF		0xAE	/*!< Command Scripting Template, indefinite length */
#define OTA_RAPDU_TAG_RSP_SCRIPT_DEF		0xAB	/*!< Response Scripting Template, definite length */
#define OTA_RAPDU_TAG_RSP_SCRIPT_INDEF		0xAF	/*!< Response Scripting Template, indefinite length */
#define OTA_RAPDU_TAG_CAPDU			0x22	/*!< C-APDU TLV */
#define OTA_RAPDU_TAG_RAPDU			0x23	/*!< R-APDU TLV (response data ‖ SW1 SW2) */
#define OTA_RAPDU_TAG_IMMEDIATE_ACTION		0x81	/*!< Immediate Action (command) / its response */
#define OTA_RAPDU_TAG_ERROR_ACTION		0x82	/*!< Error Action */
#define OTA_RAPDU_TAG_SCRIPT_CHAINING		0x83	/*!< Script Chaining (command) / its response, 1 byte */
#define OTA_RAPDU_TAG_NUM_EXECUTED		0x80	/*!< Number of executed command TLVs, 1 byte value */
#define OTA_RAPDU_TAG_BAD_FORMAT		0x90	/*!< Bad format, 1 byte value */

/*! Largest length our BER length codec handles (long form 82 xx xx). */
#define OTA_RAPDU_MAX_LEN			0xFFFF

/*! Script layout. */
enum ota_rapdu_format {
	OTA_RAPDU_FMT_COMPACT = 0,	/*!< TS 102 226 §5.1: concatenated C-APDUs; response count|SW|data */
	OTA_RAPDU_FMT_DEFINITE,		/*!< expanded, "AA L ..." / "AB L ..." */
	OTA_RAPDU_FMT_INDEFINITE,	/*!< expanded, "AE 80 ... 00 00" / "AF 80 ... 00 00" */
};

/*! Script Chaining TLV value (TS 102 226 §5.2.1.1); OTA_RAPDU_CHAIN_NONE means no chaining TLV. */
enum ota_rapdu_chain {
	OTA_RAPDU_CHAIN_NONE = 0x00,
	OTA_RAPDU_CHAIN_FIRST = 0x01,		/*!< first script, chaining information deleted at reset */
	OTA_RAPDU_CHAIN_NEXT = 0x02,		/*!< subsequent script, more scripts follow */
	OTA_RAPDU_CHAIN_LAST = 0x03,		/*!< last script of the chain */
	OTA_RAPDU_CHAIN_FIRST_KEEP = 0x11,	/*!< first script, chaining information kept across reset */
};

/*! Bad-format TLV values (TS 102 226 §5.2.2). */
enum ota_rapdu_bad_format {
	OTA_RAPDU_BAD_FMT_UNKNOWN_TAG = 0x01,
	OTA_RAPDU_BAD_FMT_WRONG_LENGTH = 0x02,
	OTA_RAPDU_BAD_FMT_LENGTH_NOT_FOUND = 0x03,
};

/*! One C-APDU (CLA INS P1 P2 [Lc data] [Le]) given to a builder. */
struct ota_rapdu_apdu {
	const uint8_t *data;
	size_t len;
};

/*! A built script (talloc'd buffer, child of the array holding it). */
struct ota_rapdu_buf {
	uint8_t *data;
	size_t len;
};

/*! Kind of a command script item; the value is the TLV tag. */
enum ota_rapdu_cmd_item_type {
	OTA_RAPDU_CITEM_CAPDU = OTA_RAPDU_TAG_CAPDU,
	OTA_RAPDU_CITEM_IMMEDIATE_ACTION = OTA_RAPDU_TAG_IMMEDIATE_ACTION,
	OTA_RAPDU_CITEM_ERROR_ACTION = OTA_RAPDU_TAG_ERROR_ACTION,
};

struct ota_rapdu_cmd_item {
	enum ota_rapdu_cmd_item_type type;
	const uint8_t *data;	/*!< TLV value (for a C-APDU: the whole APDU) */
	size_t len;
};

/*! A command script (card side view of what the server sends). */
struct ota_rapdu_cmd_script {
	enum ota_rapdu_format format;
	enum ota_rapdu_chain chaining;	/*!< OTA_RAPDU_CHAIN_NONE if no Script Chaining TLV */
	unsigned int num_items;
	struct ota_rapdu_cmd_item *items;
};

/*! Script Chaining response values (TS 102 226 §5.2.2). */
enum ota_rapdu_chain_resp {
	OTA_RAPDU_CHAIN_RESP_NO_PREVIOUS = 0x01,	/*!< no previous script */
	OTA_RAPDU_CHAIN_RESP_NOT_SUPPORTED = 0x02,	/*!< script chaining not supported */
	OTA_RAPDU_CHAIN_RESP_UNABLE = 0x03,		/*!< unable to process script chaining */
};

/*! SW an R-APDU carries when the card had to truncate the response data; it also ends the script (TS 102 226
 *  §5.2.1.1). */
#define OTA_RAPDU_SW_TRUNCATED			0x62F1

/*! Kind of a response script item; the value is the TLV tag. */
enum ota_rapdu_resp_item_type {
	OTA_RAPDU_RITEM_RAPDU = OTA_RAPDU_TAG_RAPDU,
	OTA_RAPDU_RITEM_IMMEDIATE_ACTION = OTA_RAPDU_TAG_IMMEDIATE_ACTION,
	OTA_RAPDU_RITEM_SCRIPT_CHAINING = OTA_RAPDU_TAG_SCRIPT_CHAINING,
	OTA_RAPDU_RITEM_BAD_FORMAT = OTA_RAPDU_TAG_BAD_FORMAT,
};

struct ota_rapdu_resp_item {
	enum ota_rapdu_resp_item_type type;
	const uint8_t *data;	/*!< R-APDU: response data without SW; immediate action response: value; else NULL */
	size_t len;
	uint16_t sw;		/*!< R-APDU only: SW1 SW2 */
	uint8_t code;		/*!< bad format: enum ota_rapdu_bad_format; script chaining: enum ota_rapdu_chain_resp
				 *   (as received, not range-checked) */
};

/*! A response script (server side view of what the card answers). For the compact format there is exactly one
 *  R-APDU item: the SW (and data) of the last executed command. */
struct ota_rapdu_resp_script {
	enum ota_rapdu_format format;
	bool has_num_executed;	/*!< "80 01 nn" present: always for definite and compact, optional for indefinite */
	uint8_t num_executed;	/*!< number of executed commands; without "80" the number of R-APDU items */
	unsigned int num_items;
	struct ota_rapdu_resp_item *items;
};

/*! Size of the BER length field for a value of len bytes.
 *  \returns 1, 2 (81 xx) or 3 (82 xx xx); -EMSGSIZE if len > OTA_RAPDU_MAX_LEN. */
int ota_rapdu_len_size(size_t len);

/*! Write a BER length field (short form, 81 or 82 long form).
 *  \returns bytes written; -EMSGSIZE if len > OTA_RAPDU_MAX_LEN or out_size is too small. */
int ota_rapdu_len_encode(uint8_t *out, size_t out_size, size_t len);

/*! Read a definite BER length field (short, 81 xx or 82 xx xx; non-minimal long forms are accepted).
 *  Does not check the length against the remaining buffer.
 *  \returns bytes consumed; -EBADMSG if truncated, indefinite (80) or a form other than 81/82. */
int ota_rapdu_len_decode(const uint8_t *buf, size_t buf_len, size_t *len);

/*! Check the structure of one C-APDU: 4 bytes (case 1), 5 (case 2), 5+Lc (case 3), 6+Lc (case 4), or the extended
 *  length forms of ISO/IEC 7816-4 (00 Lc1 Lc2 ... [Le1 Le2]).
 *  \returns 0; -EBADMSG if the length is inconsistent. */
int ota_rapdu_apdu_check(const uint8_t *apdu, size_t len);

/*! Build a command script. Compact format: only C-APDU items, no chaining (else -EINVAL); the APDUs are
 *  concatenated. Expanded: template, optional Script Chaining TLV first, then the items in order.
 *  \param[in] ctx talloc context for *out
 *  \returns 0; -EINVAL (bad argument or malformed C-APDU), -EMSGSIZE (definite template content > 65535 bytes or
 *  an item > 65535 bytes), -ENOMEM. */
int ota_rapdu_cmd_build(void *ctx, const struct ota_rapdu_cmd_script *script, uint8_t **out, size_t *out_len);

/*! Convenience: build a command script from a list of C-APDUs. Same returns as ota_rapdu_cmd_build(). */
int ota_rapdu_cmd_build_apdus(void *ctx, const struct ota_rapdu_apdu *apdus, unsigned int num,
			      enum ota_rapdu_format format, enum ota_rapdu_chain chaining, uint8_t **out,
			      size_t *out_len);

/*! Split a list of C-APDUs into expanded command scripts of at most budget bytes each (template included).
 *  If everything fits in one script, one script without Script Chaining TLV is produced. Otherwise each script
 *  carries a chaining TLV: FIRST (or FIRST_KEEP when keep_on_reset), NEXT..., LAST (TS 102 226 §5.2.1.1;
 *  SGP.02 §2.4.1: the SM-SR splits the script and adds the chaining TLVs).
 *  \param[out] scripts talloc'd array (on ctx) of *num_scripts built scripts
 *  \returns 0; -EINVAL (num == 0, compact format, malformed C-APDU); -EMSGSIZE if one C-APDU does not fit in a
 *  chained script of the given budget; -ENOMEM. */
int ota_rapdu_cmd_split(void *ctx, const struct ota_rapdu_apdu *apdus, unsigned int num, enum ota_rapdu_format format,
			size_t budget, bool keep_on_reset, struct ota_rapdu_buf **scripts, unsigned int *num_scripts);

/*! Parse an expanded command script ("AA L ..." or "AE 80 ... 00 00"). The Script Chaining TLV must be the first
 *  TLV and appear at most once; each C-APDU is checked with ota_rapdu_apdu_check().
 *  \param[out] out talloc'd on ctx; items point into buf
 *  \returns 0; -EBADMSG (not a command template, unknown tag, bad chaining value, malformed C-APDU, missing 00 00,
 *  trailing bytes, bad length form); -EMSGSIZE (a declared length exceeds the buffer); -ENOMEM. */
int ota_rapdu_cmd_parse(void *ctx, const uint8_t *buf, size_t len, struct ota_rapdu_cmd_script **out);

/*! Parse a compact command script: concatenated C-APDUs "CLA INS P1 P2 P3 [data]". P3 is Lc (P3 data bytes
 *  follow), except for the case 2 instructions GET RESPONSE (C0), GET DATA (CA), READ BINARY (B0), READ RECORD (B2)
 *  where P3 is Le and no data follows (our rule: the format itself does not mark the command case).
 *  \returns 0; -EBADMSG (empty, or fewer than 5 bytes left for an APDU header); -EMSGSIZE (P3 exceeds the buffer);
 *  -ENOMEM. */
int ota_rapdu_cmd_parse_compact(void *ctx, const uint8_t *buf, size_t len, struct ota_rapdu_cmd_script **out);

/*! Build a response script. Expanded: template, "80 01 num_executed" (for the indefinite form only when
 *  has_num_executed), then the items. Compact: num_executed, SW and data of the single R-APDU item (exactly one
 *  R-APDU item required, else -EINVAL).
 *  \returns 0; -EINVAL; -EMSGSIZE; -ENOMEM. */
int ota_rapdu_resp_build(void *ctx, const struct ota_rapdu_resp_script *script, uint8_t **out, size_t *out_len);

/*! Parse an expanded response script ("AB L ..." or "AF 80 ... 00 00"). The number of executed commands
 *  "80 01 nn" is the first TLV; it is mandatory in the definite form and optional in the indefinite form (public
 *  readings of TS 102 226 Table 5.10a differ: some cards send it, some do not). Then R-APDU (23, at least SW1
 *  SW2), immediate action response (81), script chaining response (83, 1 byte) and bad format (90, 1 byte) TLVs.
 *  \returns 0; -EBADMSG (not a response template, unknown tag, wrong length, 80 missing in AB or not first,
 *  missing 00 00, trailing bytes); -EMSGSIZE (a declared length exceeds the buffer); -ENOMEM. */
int ota_rapdu_resp_parse(void *ctx, const uint8_t *buf, size_t len, struct ota_rapdu_resp_script **out);

/*! Parse a compact response: number of commands executed (1) ‖ SW of the last command (2) ‖ its response data.
 *  \returns 0; -EBADMSG if shorter than 3 bytes; -ENOMEM. */
int ota_rapdu_resp_parse_compact(void *ctx, const uint8_t *buf, size_t len, struct ota_rapdu_resp_script **out);

/*! SW of the last R-APDU item of a response script.
 *  \returns 0 and *sw; -ENOENT if the script has no R-APDU item; -EINVAL if script is NULL. */
int ota_rapdu_resp_last_sw(const struct ota_rapdu_resp_script *script, uint16_t *sw);

/*! Name of a Script Chaining value, e.g. "first", or "unknown". */
const char *ota_rapdu_chain_name(enum ota_rapdu_chain chain);

/*! Name of a bad-format value, e.g. "unknown-tag", or "unknown". */
const char *ota_rapdu_bad_format_name(uint8_t value);

/*! Name of a script chaining response value, e.g. "no-previous-script", or "unknown". */
const char *ota_rapdu_chain_resp_name(uint8_t value);
