/*! \file gp_apdu.h
 * GlobalPlatform command APDUs used by SGP.02 ES5 (SM-SR -> ISD-R) and ES8 (SM-DP -> ISD-P), and
 * parsers for their responses: INSTALL [for install and make selectable] of an ISD-P, STORE DATA with
 * the ISD-R DGIs (3A03 enable, 3A04 disable, 3A05 fall-back, 3A07 connectivity/addressing, 3A08
 * notification confirmation), DELETE, GET STATUS, GET DATA, the eUICC notification (tag E1).
 *
 * Builders write a complete short C-APDU (CLA 80, no secure messaging: ES5 is protected by SCP80/81)
 * into a caller-provided struct gp_capdu and return 0, -EINVAL for bad arguments, or -EMSGSIZE if the
 * data does not fit a short APDU (Lc <= 255).
 * Parsers return 0 (or a count), -EBADMSG for malformed/truncated TLVs, -EMSGSIZE for lengths past
 * the buffer, -ENOENT for a missing mandatory element, -EINVAL for bad arguments.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! Longest short C-APDU: header 4 + Lc 1 + 255 data + Le 1 */
#define GP_APDU_MAX 261
#define GP_AID_MAX 16

struct gp_capdu {
	uint8_t buf[GP_APDU_MAX];
	size_t len;
};

/* SGP.02 Annex H identifiers (RID A000000559) */
extern const uint8_t gp_aid_isd_r[16];		/*!< A0000005591010FFFFFFFF8900000100 */
extern const uint8_t gp_aid_ecasd[16];		/*!< A0000005591010FFFFFFFF8900000200 */
extern const uint8_t gp_aid_isdp_elf[16];	/*!< A0000005591010FFFFFFFF8900000D00 */
extern const uint8_t gp_aid_isdp_module[16];	/*!< A0000005591010FFFFFFFF8900000E00 */

/*! ISD-P instance AID A0000005591010FFFFFFFF89 || TAR(3) || 00. \returns 0 or -EINVAL (TAR > FFFFFF). */
int gp_isdp_aid(uint32_t tar, uint8_t out[16]);
/*! Implicit TAR of an SD: bytes 13..15 of its 16-byte AID. \returns 0 or -EINVAL. */
int gp_aid_tar(const uint8_t *aid, size_t aid_len, uint32_t *tar);

/*! ISD-P life-cycle state bytes (GET STATUS tag 9F70) */
enum gp_isdp_lcs {
	GP_LCS_SELECTABLE = 0x07,
	GP_LCS_PERSONALIZED = 0x0F,
	GP_LCS_DISABLED = 0x1F,
	GP_LCS_ENABLED = 0x3F,
};
/*! Name of a life-cycle byte ("SELECTABLE", ...) or "UNKNOWN". */
const char *gp_lcs_name(uint8_t lcs);

/*! Install parameters (GP Card Spec INSTALL parameter field, table 11-49): C9 application specific parameters
 *  (mandatory, may be empty), optional EF system specific parameters with C8 non-volatile and C7
 *  volatile memory quotas (2 bytes, or 4 if larger than FFFF) and CA toolkit parameters. */
struct gp_install_params {
	const uint8_t *app_params;	/*!< C9 value, may be NULL/0 */
	size_t app_params_len;
	bool has_nv_quota;
	uint32_t nv_quota;
	bool has_v_quota;
	uint32_t v_quota;
	const uint8_t *stk_params;	/*!< CA value, NULL if absent */
	size_t stk_params_len;
};
/*! Encode install parameters. \returns length written, -EMSGSIZE, -EINVAL. */
int gp_install_params_encode(const struct gp_install_params *p, uint8_t *out, size_t out_size);

/*! INSTALL [for install and make selectable] (80 E6 0C 00), with install token length 00 and Le 00.
 *  \param priv privileges (3 bytes for an SD: 80 C0 00 = SD, trusted path, authorized management).
 *  \param params complete install parameters field (e.g. C9 04 81 02 03 70). */
int gp_apdu_install(struct gp_capdu *c, const uint8_t *elf, size_t elf_len, const uint8_t *mod, size_t mod_len,
		    const uint8_t *inst, size_t inst_len, const uint8_t *priv, size_t priv_len,
		    const uint8_t *params, size_t params_len);
/*! ES5.CreateISDP (SGP.02 §4.1.1.1): INSTALL of the ISD-P with the Annex H ELF/module AIDs, privileges
 *  80C000 and, when params is NULL, install parameters C9 04 81 02 03 70 (SCP03, i=70). */
int gp_apdu_create_isdp(struct gp_capdu *c, const uint8_t *isdp_aid, size_t aid_len, const uint8_t *params,
			size_t params_len);
/*! INSTALL [for personalization] (80 E6 20 00) of an application (ES8.EstablishISDPKeySet step 1). */
int gp_apdu_install_perso(struct gp_capdu *c, const uint8_t *aid, size_t aid_len);

/* STORE DATA P1 (GP Card Spec §11.11) */
#define GP_STORE_LAST		0x80	/*!< b8: last block */
#define GP_STORE_DGI		0x08	/*!< b5-b4 = 01: DGI format */
#define GP_STORE_RESP		0x01	/*!< b1: response data expected */

/*! DGI encoding: DGI(2) || L || value, L on 1 byte for 0..254, FF || 2 bytes from 255.
 *  \returns bytes written, -EMSGSIZE, -EINVAL. */
int gp_dgi_encode(uint8_t *out, size_t out_size, uint16_t dgi, const uint8_t *val, size_t len);
/*! STORE DATA 80 E2 P1 P2 Lc data [Le 00 if P1 b1 is set]. */
int gp_apdu_store_data(struct gp_capdu *c, uint8_t p1, uint8_t p2, const uint8_t *data, size_t len);
/*! STORE DATA of one DGI in a single last block. \param resp set P1 b1 and append Le. */
int gp_apdu_store_dgi(struct gp_capdu *c, uint16_t dgi, const uint8_t *val, size_t len, bool resp);

/*! ES5.EnableProfile: STORE DATA DGI 3A03 { 4F AID } (P1 88). */
int gp_apdu_enable_profile(struct gp_capdu *c, const uint8_t *aid, size_t aid_len);
/*! ES5.DisableProfile: STORE DATA DGI 3A04 { 4F AID } (P1 88). */
int gp_apdu_disable_profile(struct gp_capdu *c, const uint8_t *aid, size_t aid_len);
/*! ES5.SetFallBackAttribute: STORE DATA DGI 3A05 { 4F AID } (P1 88). */
int gp_apdu_set_fallback(struct gp_capdu *c, const uint8_t *aid, size_t aid_len);
/*! Connectivity / SM-SR addressing parameters: STORE DATA DGI 3A07 { params } (P1 88);
 *  params is the already-built content (e.g. A0 { 06 ... }). */
int gp_apdu_connectivity_params(struct gp_capdu *c, const uint8_t *params, size_t len);
/*! ES5.NotificationConfirmation: STORE DATA 80 E2 89 00 DGI 3A08 { 4E 02 seq } 00. */
int gp_apdu_notification_confirm(struct gp_capdu *c, uint16_t seq);

/* DELETE P2 (GP Card Spec §11.2) */
#define GP_DELETE_OBJECT	0x00
#define GP_DELETE_RELATED	0x80	/*!< delete object and related objects */
/*! DELETE 80 E4 00 P2 Lc 4F AID 00 (ES5.DeleteProfile). SGP.02 implementations were seen with P2 40;
 *  the caller chooses. */
int gp_apdu_delete(struct gp_capdu *c, const uint8_t *aid, size_t aid_len, uint8_t p2);
/*! ES5.MasterDelete: DELETE 80 E4 00 P2 Lc 4F AID B6 {token parameters} 9E {delete token} 00. */
int gp_apdu_master_delete(struct gp_capdu *c, const uint8_t *aid, size_t aid_len, uint8_t p2, const uint8_t *b6,
			  size_t b6_len, const uint8_t *token, size_t token_len);
/*! GET STATUS 80 F2 40 02 (ISD-Ps, TLV format) with search 4F AID (aid_len 0: all), optional tag list
 *  5C 03 4F 9F70, Le 00. \param p2 02 first/only call, 03 "next occurrence". */
int gp_apdu_get_status(struct gp_capdu *c, const uint8_t *aid, size_t aid_len, bool tag_list, uint8_t p2);
/*! GET DATA 80 CA tag(2) [Lc 5C tag_list] 00; e.g. tag 005A (EID, to the ECASD), FF21, BF30. */
int gp_apdu_get_data(struct gp_capdu *c, uint16_t tag, const uint8_t *tag_list, size_t tag_list_len);

/*! Split an R-APDU into data and status word. \returns 0 or -EBADMSG (shorter than 2 bytes). */
int gp_rapdu_split(const uint8_t *rapdu, size_t len, const uint8_t **data, size_t *data_len, uint16_t *sw);
/*! Name of a status word per SGP.02 usage (e.g. 6A88 "referenced data not found"); "unknown status". */
const char *gp_sw_name(uint16_t sw);
/*! Map a status word to an errno: 0 for 9000, 6310 (more data), 61xx, 9Fxx; -ENOENT 6A88/6A82; -EPERM 6985;
 *  -EACCES 69E1 (POL1); -EINVAL 6A80; -ENOSPC 6A84; -EIO 6581; -ENOTSUP 9484; -EKEYREJECTED 9485;
 *  -EPROTO otherwise. */
int gp_sw_to_errno(uint16_t sw);

/*! One ISD-P entry of a GET STATUS response (E3 template, SGP.02 §4.1.1.5). */
struct gp_isdp_status {
	uint8_t aid[GP_AID_MAX];
	size_t aid_len;
	bool has_lcs;
	uint8_t lcs;		/*!< 9F70 first byte */
	bool has_props;
	uint8_t props;		/*!< 53 profile properties */
	bool fallback;		/*!< 53 b1: Fall-back Attribute */
	bool has_granted_nv;
	uint32_t granted_nv;	/*!< 8F cumulative granted non-volatile memory */
	bool has_remaining_nv;
	uint32_t remaining_nv;	/*!< 91 cumulative remaining non-volatile memory */
};
/*! Parse GET STATUS response data (a sequence of E3 templates; other top-level tags are an error).
 *  \returns number of entries (may exceed max; only max are stored), or negative errno. Each E3 must
 *  hold a 4F AID of 5..16 bytes. */
int gp_parse_get_status(const uint8_t *data, size_t len, struct gp_isdp_status *out, size_t max);

/*! Parse a GET DATA 5A response: 5A 10 <EID>. \returns 0 or negative errno. */
int gp_parse_eid_response(const uint8_t *data, size_t len, uint8_t eid[16]);

/*! Extended Card Resources Information (ETSI TS 102 226 §8.2.1.7.2), tag FF21, possibly inside BF30. */
struct gp_card_resources {
	bool has_apps;
	uint32_t apps;		/*!< 81 number of installed applications */
	bool has_free_nv;
	uint32_t free_nv;	/*!< 82 free non-volatile memory */
	bool has_free_v;
	uint32_t free_v;	/*!< 83 free volatile memory */
};
/*! \returns 0, -ENOENT if no FF21 template, other negative errno. */
int gp_parse_card_resources(const uint8_t *data, size_t len, struct gp_card_resources *res);

/*! Notification types (tag 4D) */
enum gp_notif_type {
	GP_NOTIF_EUICC_DECLARATION = 1,
	GP_NOTIF_PROFILE_CHANGE_OK = 2,
	GP_NOTIF_PROFILE_CHANGE_ROLLBACK = 3,
	GP_NOTIF_VOID = 4,
	GP_NOTIF_PROFILE_CHANGE_FALLBACK = 5,
};
/*! eUICC notification (SGP.02 §4.1.1.11, tag E1). */
struct gp_notification {
	uint8_t eid[16];	/*!< 4C */
	uint8_t type;		/*!< 4D */
	bool has_aid;
	uint8_t aid[GP_AID_MAX];	/*!< 2F / AF: ISD-P of the enabled Profile */
	size_t aid_len;
	bool has_imei;
	uint8_t imei[16];	/*!< 14 / 94 as received */
	size_t imei_len;
	bool has_meid;
	uint8_t meid[16];	/*!< 6D / ED as received */
	size_t meid_len;
	uint16_t seq;		/*!< 4E sequence number */
};
/*! Parse an E1 notification. \returns 0; -ENOENT if 4C, 4D or 4E is missing; -EBADMSG for wrong sizes
 *  or a top-level tag other than E1. */
int gp_parse_notification(const uint8_t *data, size_t len, struct gp_notification *n);
/*! Name of a notification type or "unknown". */
const char *gp_notif_type_name(uint8_t type);

/*! Parse the NotificationConfirmation response data: empty, or 80 L { 4F AID ... } listing ISD-Ps
 *  deleted as a follow-up. \returns number of AIDs (only max are stored) or negative errno. */
int gp_parse_notification_confirm(const uint8_t *data, size_t len, uint8_t (*aids)[GP_AID_MAX], size_t *aid_lens,
				  size_t max);
