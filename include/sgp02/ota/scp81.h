/*! \file scp81.h
 * SCP81 pieces (GlobalPlatform Card Specification Amendment B, "Remote Application Management over HTTP", as
 * profiled by SGP.02 §2.4.4): the Administration Session Triggering Parameters sent by SMS to start a session,
 * the PSK-TLS identity of the ISD-R, the X-Admin-* HTTP headers and content types, and the interpretation of the
 * card's HTTP POST (response script).
 *
 * Errors (negative errno):
 *   -EBADMSG   malformed input: unknown or duplicate tag, wrong length, bad hex, bad header value, trailing bytes
 *   -EMSGSIZE  a declared length exceeds the buffer, or the output would not fit
 *   -ENOTSUP   well-formed but unsupported (other protocol / content-type version)
 *   -EINVAL    invalid caller argument
 *   -ENOMEM    allocation failure
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sgp02/ota/rapdu.h>

/* --- HTTP header names and fixed values (GP Amd B §3.x; SGP.02 §2.4.4) --- */
#define OTA_SCP81_HDR_PROTOCOL		"X-Admin-Protocol"
#define OTA_SCP81_HDR_FROM		"X-Admin-From"
#define OTA_SCP81_HDR_NEXT_URI		"X-Admin-Next-URI"
#define OTA_SCP81_HDR_TARGETED_APP	"X-Admin-Targeted-Application"
#define OTA_SCP81_HDR_SCRIPT_STATUS	"X-Admin-Script-Status"
#define OTA_SCP81_HDR_RESUME		"X-Admin-Resume"

#define OTA_SCP81_PROTOCOL		"globalplatform-remote-admin/1.0"
/*! Content-Type of the server's HTTP response carrying a command script */
#define OTA_SCP81_CT_COMMAND		"application/vnd.globalplatform.card-content-mgt;version=1.0"
/*! Content-Type of the card's HTTP POST carrying a response script */
#define OTA_SCP81_CT_RESPONSE		"application/vnd.globalplatform.card-content-mgt-response;version=1.0"

/*! X-Admin-Script-Status values. The first four are GP Amd B; the last three come from the GP device-side
 *  admin agent extension (multiple secure elements) and are accepted for completeness. */
enum ota_scp81_script_status {
	OTA_SCP81_ST_OK,
	OTA_SCP81_ST_UNKNOWN_APPLICATION,
	OTA_SCP81_ST_NOT_A_SECURITY_DOMAIN,
	OTA_SCP81_ST_SECURITY_ERROR,
	OTA_SCP81_ST_UNAVAILABLE_SE,
	OTA_SCP81_ST_TEMP_UNAVAILABLE_APP,
	OTA_SCP81_ST_SCRIPT_FORMAT_ERROR,
};

/*! Header value of a script status ("ok", "security-error", ...); NULL for an unknown value. */
const char *ota_scp81_script_status_name(enum ota_scp81_script_status st);

/*! Parse an X-Admin-Script-Status value (case-insensitive, surrounding blanks ignored).
 *  \returns the enum value; -EBADMSG for an unknown value; -EINVAL for NULL. */
int ota_scp81_script_status_parse(const char *value);

/*! Parse X-Admin-Resume: "true" / "false" (case-insensitive, blanks ignored); a missing header (NULL) is false.
 *  \returns 0; -EBADMSG for another value; -EINVAL if resume is NULL. */
int ota_scp81_resume_parse(const char *value, bool *resume);

/*! Check an X-Admin-Protocol value. \returns 0 for "globalplatform-remote-admin/1.0"; -ENOTSUP for another
 *  version of globalplatform-remote-admin; -EBADMSG otherwise; -EINVAL for NULL. */
int ota_scp81_protocol_check(const char *value);

/*! Check a Content-Type value: media type (case-insensitive) application/vnd.globalplatform.card-content-mgt
 *  (response == false) or ...-response (response == true), with a version parameter 1.0; blanks around ';' and
 *  '=' and a quoted version are accepted, other parameters are ignored.
 *  \returns 0; -ENOTSUP for another version; -EBADMSG for another media type or a missing version; -EINVAL. */
int ota_scp81_content_type_check(const char *value, bool response);

/*! Check an X-Admin-Next-URI value: non-empty, at most 1024 characters, printable ASCII without blanks (so it can
 *  never inject a header line). \returns 0; -EBADMSG; -EINVAL for NULL. */
int ota_scp81_next_uri_check(const char *value);

/*! Format X-Admin-From: "//se-id/eid/<EID>;//aa-id/aid/<RID>/<PIX>" (hex upper case; the aa-id part is left out
 *  when aid_len is 0). \returns 0; -EINVAL (aid_len 1..4 or > 16); -ENOMEM. */
int ota_scp81_admin_from_format(void *ctx, const uint8_t eid[16], const uint8_t *aid, size_t aid_len, char **out);

/*! Parse X-Admin-From (hex case-insensitive; the ";//aa-id/aid/<RID>/<PIX>" part is optional, *aid_len = 0
 *  without it). aid must have room for 16 bytes. \returns 0; -EBADMSG; -EINVAL. */
int ota_scp81_admin_from_parse(const char *value, uint8_t eid[16], uint8_t *aid, size_t *aid_len);

/*! Format X-Admin-Targeted-Application: "//aid/<RID>/<PIX>" (RID = first 5 bytes).
 *  \returns 0; -EINVAL (aid_len < 5 or > 16); -ENOMEM. */
int ota_scp81_targeted_app_format(void *ctx, const uint8_t *aid, size_t aid_len, char **out);

/*! Parse X-Admin-Targeted-Application; aid must have room for 16 bytes. \returns 0; -EBADMSG; -EINVAL. */
int ota_scp81_targeted_app_parse(const char *value, uint8_t *aid, size_t *aid_len);

/* --- PSK-TLS identity (SGP.02 §2.4.4.1 Table 4) --- */

#define OTA_SCP81_PSK_ID_TAG_FORMAT	0x80
#define OTA_SCP81_PSK_ID_TAG_EID	0x81
#define OTA_SCP81_PSK_ID_TAG_AID	0x4F
#define OTA_SCP81_PSK_ID_TAG_KEY_ID	0x82
#define OTA_SCP81_PSK_ID_TAG_KVN	0x83
#define OTA_SCP81_PSK_ID_FORMAT_FQ	0x02	/*!< fully qualified, random PSK */

struct ota_scp81_psk_id {
	uint8_t format;		/*!< OTA_SCP81_PSK_ID_FORMAT_FQ */
	uint8_t eid[16];
	uint8_t aid[16];	/*!< ISD-R AID */
	uint8_t aid_len;	/*!< 5..16 */
	uint8_t key_id;
	uint8_t kvn;		/*!< SCP81 key set version, 40..4F for the ISD-R (not enforced here) */
};

/*! Encode the identity TLVs "80 01 fmt | 81 10 EID | 4F L AID | 82 01 key id | 83 01 KVN" as binary.
 *  \returns bytes written; -EINVAL (aid_len not 5..16); -EMSGSIZE if out_size is too small. */
int ota_scp81_psk_id_encode_bin(uint8_t *out, size_t out_size, const struct ota_scp81_psk_id *id);

/*! Encode the identity as the hex string (upper case) that is sent as the TLS psk_identity.
 *  \returns 0; -EINVAL; -ENOMEM. */
int ota_scp81_psk_id_encode(void *ctx, const struct ota_scp81_psk_id *id, char **hex);

/*! Decode a psk_identity hex string of hex_len characters (not necessarily NUL-terminated, case-insensitive).
 *  All five TLVs are required, each once, in any order.
 *  \returns 0; -EBADMSG (bad hex, odd length, unknown/duplicate/missing tag, wrong value length); -EMSGSIZE. */
int ota_scp81_psk_id_decode(struct ota_scp81_psk_id *id, const char *hex, size_t hex_len);

/* --- Administration Session Triggering Parameters (GP Amd B Table 3-3, §3.8) --- */

#define OTA_SCP81_TAG_TRIGGER		0x81	/*!< Administration session triggering parameters */
#define OTA_SCP81_TAG_SESSION_PARAMS	0x83	/*!< Admin session parameters */
#define OTA_SCP81_TAG_CONN_PARAMS	0x84	/*!< RAS connection parameters (TS 102 223 OPEN CHANNEL TLVs) */
#define OTA_SCP81_TAG_SECURITY_PARAMS	0x85
#define OTA_SCP81_TAG_EXT_SECURITY	0xA5
#define OTA_SCP81_TAG_RETRY_POLICY	0x86
#define OTA_SCP81_TAG_HTTP_POST		0x89
#define OTA_SCP81_TAG_ADMIN_HOST	0x8A
#define OTA_SCP81_TAG_AGENT_ID		0x8B
#define OTA_SCP81_TAG_ADMIN_URI		0x8C
#define OTA_SCP81_TAG_DNS_PARAMS	0xB3
#define OTA_SCP81_TAG_RAS_FQDN		0xD6
#define OTA_SCP81_TAG_DNS_CONN		0xFA
#define OTA_SCP81_TAG_TIMER_VALUE	0xA5	/*!< TS 102 223 Timer value (inside the retry policy) */
#define OTA_SCP81_TAG_REPORT_FAILURE	0x87	/*!< retry failure report (inside the retry policy) */

/*! Security parameters (tag 85): len | PSK identity | 02 | KVN | KID [| SHA type]. */
struct ota_scp81_security_params {
	const uint8_t *psk_id;
	size_t psk_id_len;	/*!< 0..255 */
	uint8_t kvn;
	uint8_t kid;
	bool has_sha_type;
	uint8_t sha_type;
};

/*! Retry policy (tag 86): retry counter(2) | A5 03 <timer value, 3 bytes as in TS 102 223 §8.38> | [87 00]. */
struct ota_scp81_retry_policy {
	uint16_t counter;
	uint8_t delay[3];	/*!< timer value bytes, passed through unchanged */
	bool report_failure;
};

/*! Triggering parameters. For building, pointers are the caller's; after parsing, everything is talloc'd under
 *  the returned struct. Byte blobs (connection parameters, extended security, FQDN, DNS connection) are opaque. */
struct ota_scp81_trigger {
	bool use_defaults;	/*!< "81 00": use the parameters stored in the card; all else absent */

	bool has_conn_params;
	const uint8_t *conn_params;
	size_t conn_params_len;

	bool has_security;
	struct ota_scp81_security_params security;

	bool has_ext_security;
	const uint8_t *ext_security;
	size_t ext_security_len;

	bool has_retry;
	struct ota_scp81_retry_policy retry;

	bool has_http_post;
	const char *admin_host;	/*!< 8A, NULL if absent */
	const char *agent_id;	/*!< 8B, NULL if absent */
	const char *admin_uri;	/*!< 8C, NULL if absent */

	bool has_dns;
	const uint8_t *ras_fqdn;	/*!< D6, NULL if absent */
	size_t ras_fqdn_len;
	const uint8_t *dns_conn;	/*!< FA, NULL if absent */
	size_t dns_conn_len;
};

/*! Build "81 L [83 L 84.. 85.. A5.. 86.. 89..] [B3 L D6.. FA..]"; with use_defaults or nothing present: "81 00".
 *  \returns 0; -EINVAL (NULL pointer with non-zero length, PSK identity > 255 bytes); -EMSGSIZE (a TLV > 65535
 *  bytes); -ENOMEM. */
int ota_scp81_trigger_build(void *ctx, const struct ota_scp81_trigger *trig, uint8_t **out, size_t *out_len);

/*! Parse triggering parameters (the whole buffer must be one "81" TLV). Tags may come in any order within their
 *  parent; each at most once. Strings must not contain NUL bytes.
 *  \returns 0; -EBADMSG (wrong outer tag, unknown/duplicate tag, malformed 85/86, trailing bytes); -EMSGSIZE;
 *  -ENOMEM. */
int ota_scp81_trigger_parse(void *ctx, const uint8_t *buf, size_t len, struct ota_scp81_trigger **out);

/* --- The card's HTTP POST --- */

/*! What the card reported in one HTTP POST. */
struct ota_scp81_post {
	bool has_status;	/*!< X-Admin-Script-Status present (not in the first POST) */
	enum ota_scp81_script_status status;
	bool resume;		/*!< X-Admin-Resume: true */
	struct ota_rapdu_resp_script *resp;	/*!< response script, NULL if the POST has no body */
};

/*! Interpret the card's POST from its header values (NULL = header absent) and body. Rules: a body requires the
 *  response Content-Type and a script status; a body is refused with a status that forbids one (unknown-application,
 *  not-a-security-domain, security-error, unavailable-se); the body must be an expanded response script (AB/AF).
 *  \param[out] out talloc'd on ctx; out->resp points into body, which must outlive it
 *  \returns 0; -EBADMSG; -ENOTSUP (content-type version); -EMSGSIZE; -ENOMEM; -EINVAL. */
int ota_scp81_post_parse(void *ctx, const char *content_type, const char *script_status, const char *resume,
			 const uint8_t *body, size_t body_len, struct ota_scp81_post **out);
