/*! \file eis.h
 * eUICC Information Set (EIS): the GSMA `EISType` (euicc.common.types.xsd, digest §3.1) as a C structure, with a
 * strict parser from a libxml2 element and a builder back into one.
 *
 * The structure follows the XSD one to one (element order, cardinality, optional elements), so that what ES1
 * RegisterEIS brought in can be stored (PostgreSQL) and given back by GetEIS without loss. Everything hangs off the
 * struct ws_eis talloc context; freeing it wipes the secret key components first.
 *
 * Secrets: the values of ISD-R/ECASD key components (`KeyComponents/@value`) are held in struct ws_eis_secret only,
 * so that callers can find them all (ws_eis_for_each_secret()) to encrypt them at rest, or drop them
 * (ws_eis_redact()) before the EIS leaves the SM-SR (digest §3.1: notifications carry the EIS without keys).
 * Never log a struct ws_eis_secret.
 *
 * The EumSignature (XML-DSig, see xmldsig.h) is kept as its serialised XML so that GetEIS can return it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#define WS_EIS_NS		"http://namespaces.gsma.org/esim-messaging/3"

/* Bounds: the XSD allows more than any real eUICC has; these keep a hostile request small. */
#define WS_EIS_MAX_PROFILES	256	/*!< ProfileInfo entries (XSD: unbounded) */
#define WS_EIS_MAX_KEYSETS	127	/*!< Keyset per security domain (XSD: 1..127) */
#define WS_EIS_MAX_KEYS		128	/*!< Key|Certificate per keyset (XSD: 0..128) */
#define WS_EIS_MAX_COMPONENTS	8	/*!< KeyComponents per key (XSD: 1..unbounded) */
#define WS_EIS_MAX_TARS		16	/*!< Tar per security domain (XSD: unbounded) */
#define WS_EIS_MAX_RULES	16	/*!< POL2 Rule per profile (XSD: unbounded; 3 actions exist) */
#define WS_EIS_MAX_AUDIT	1024	/*!< AuditTrail Record entries (XSD: unbounded) */
#define WS_EIS_MAX_PROPS	64	/*!< AdditionalProperties Property entries (XSD: 1..unbounded) */
#define WS_EIS_MAX_HEX		4096	/*!< bytes in any hexBinary value (certificates are the biggest) */
#define WS_EIS_MAX_STR		1024	/*!< characters in any free string value without an XSD bound */
#define WS_EIS_MAX_SIGNATURE	65536	/*!< bytes of the serialised EumSignature */

/*! A byte string. */
struct ws_eis_bytes {
	uint8_t *data;		/*!< talloc'd, NULL when len == 0 */
	size_t len;
};

/*! Secret bytes (a key component value). Wiped when the EIS is freed; never logged. */
struct ws_eis_secret {
	uint8_t *data;
	size_t len;
};

/*! KeyComponents: GP key type coding (GP Card Spec §11.1.8) and the (possibly transport-encrypted) value. */
struct ws_eis_key_component {
	uint8_t type;
	struct ws_eis_secret value;
};

/*! KeyType: a key of a keyset. */
struct ws_eis_key {
	uint8_t index;				/*!< Index, 0..127 */
	struct ws_eis_bytes kcv;		/*!< @kcv (key check value; not secret) */
	unsigned int num_components;		/*!< 1..WS_EIS_MAX_COMPONENTS */
	struct ws_eis_key_component *components;
};

/*! GPCertificateType: a GP-format certificate of a keyset (e.g. the ECASD certificate). */
struct ws_eis_gp_cert {
	uint8_t index;			/*!< Index, 0..127 */
	char *ca_id;			/*!< CaId (OID) */
	struct ws_eis_bytes value;	/*!< Value */
};

/*! KeysetUsageType; WS_EIS_KS_NONE when the optional Type element is absent. */
enum ws_eis_keyset_usage {
	WS_EIS_KS_NONE = 0,
	WS_EIS_KS_SCP03,
	WS_EIS_KS_SCP80,
	WS_EIS_KS_SCP81,
	WS_EIS_KS_TOKEN_GENERATION,
	WS_EIS_KS_RECEIPT_VERIFICATION,
	WS_EIS_KS_CA,
};

/*! One entry of the Key|Certificate choice of a keyset, in document order. */
struct ws_eis_keyset_item {
	bool is_cert;
	struct ws_eis_key key;		/*!< when !is_cert */
	struct ws_eis_gp_cert cert;	/*!< when is_cert */
};

/*! Keyset of a SecurityDomainType. */
struct ws_eis_keyset {
	uint8_t version;			/*!< Version, 1..127 */
	enum ws_eis_keyset_usage type;		/*!< Type, WS_EIS_KS_NONE if absent */
	bool has_cntr;
	uint64_t cntr;				/*!< Cntr (e.g. the SCP80 replay counter) */
	unsigned int num_items;
	struct ws_eis_keyset_item *items;
};

enum ws_eis_sd_role {
	WS_EIS_ROLE_ISD_R,
	WS_EIS_ROLE_ECASD,
};

/*! SecurityDomainType (Ecasd, Isd-r). */
struct ws_eis_sd {
	struct ws_eis_bytes aid;		/*!< Aid, 5..16 bytes */
	unsigned int num_tars;
	uint8_t (*tars)[3];			/*!< Tar, 3 bytes each */
	struct ws_eis_bytes sin;		/*!< Sin, <= 16 bytes */
	struct ws_eis_bytes sdin;		/*!< Sdin, <= 16 bytes */
	enum ws_eis_sd_role role;
	unsigned int num_keysets;		/*!< 1..127 */
	struct ws_eis_keyset *keysets;
};

/*! EumSignedInfo/EuiccCapabilities. Versions are ThreeDigitVersion strings ("x.y.z"), NULL when absent. */
struct ws_eis_caps {
	bool cattp_support;
	char *cattp_version;
	bool http_support;
	char *http_version;
	char *secure_packet_version;
	char *remote_provisioning_version;
};

enum ws_eis_profile_state {
	WS_EIS_PROFILE_CREATED,
	WS_EIS_PROFILE_DISABLED,
	WS_EIS_PROFILE_ENABLED,
};

enum ws_eis_pol2_action {
	WS_EIS_POL2_ENABLE,
	WS_EIS_POL2_DISABLE,
	WS_EIS_POL2_DELETE,
};

enum ws_eis_pol2_qual {
	WS_EIS_POL2_NOT_ALLOWED,
	WS_EIS_POL2_AUTO_DELETE,
};

/*! POL2RuleType; the only Subject the XSD knows is "PROFILE". */
struct ws_eis_pol2_rule {
	enum ws_eis_pol2_action action;
	enum ws_eis_pol2_qual qualification;
};

/*! ProfileInfo. Strings are NULL when the optional element is absent. */
struct ws_eis_profile {
	char *iccid;				/*!< Iccid: "89" + 4..18 digits or F */
	struct ws_eis_bytes isd_p_aid;		/*!< Isd-p-aid */
	char *mno_id;				/*!< Mno-id (OID) */
	bool fallback;				/*!< FallbackAttribute */
	char *imsi;				/*!< SubscriptionAddress/Imsi */
	char *msisdn;				/*!< SubscriptionAddress/Msisdn */
	enum ws_eis_profile_state state;
	char *smdp_id;				/*!< Smdp-id (absent: pre-loaded by the EUM) */
	char *profile_type;			/*!< ProfileType (String100) */
	uint64_t allocated_memory;
	bool has_free_memory;
	uint64_t free_memory;
	unsigned int num_rules;			/*!< pol2 (may be empty: no restriction) */
	struct ws_eis_pol2_rule *rules;
};

enum ws_eis_exec_status {
	WS_EIS_EXEC_SUCCESS,		/*!< EXECUTED_SUCCESS */
	WS_EIS_EXEC_WITHWARNING,	/*!< EXECUTED_WITHWARNING */
	WS_EIS_EXEC_FAILED,		/*!< FAILED */
	WS_EIS_EXEC_EXPIRED,		/*!< EXPIRED */
};

/*! AuditTrailRecordType. Optional strings NULL / byte strings empty when absent. */
struct ws_eis_audit {
	char *eid;
	char *smsr_id;
	char *operation_date;			/*!< xs:dateTime as received */
	uint16_t operation_type;		/*!< OperationType, 2 bytes (digest §3.1 codes) */
	char *requester_id;
	bool has_status;
	enum ws_eis_exec_status status;		/*!< OperationExecutionStatus/Status */
	bool has_status_code;			/*!< StatusCodeData present */
	char *subject;
	char *reason;
	char *subject_identifier;		/*!< may be NULL */
	char *message;				/*!< may be NULL */
	struct ws_eis_bytes isd_p_aid;
	char *iccid;
	struct ws_eis_bytes imei;
	struct ws_eis_bytes meid;
};

struct ws_eis_property {
	char *key;	/*!< non-empty */
	char *value;	/*!< may be empty */
};

/*! The whole EIS (EISType). Dates are xs:dateTime strings as received (validated lexically). */
struct ws_eis {
	/* EumSignedInfo: what the EUM signs */
	char eid[33];				/*!< Eid: 32 decimal digits, valid check digits */
	char *eum_id;				/*!< Eum-id (OID) */
	char *production_date;
	char *platform_type;			/*!< String100 */
	char *platform_version;			/*!< ThreeDigitVersion */
	struct ws_eis_bytes isd_p_loadfile_aid;
	struct ws_eis_bytes isd_p_module_aid;
	struct ws_eis_sd ecasd;
	struct ws_eis_caps caps;

	/*! EumSignedInfo exactly as received (exclusive c14n, without comments), NULL when building from the fields.
	 *  The signature covers these octets, prefixes included: ws_eis_build() writes them back verbatim when set, so
	 *  that GetEIS returns an EIS whose EumSignature still verifies whatever prefix the new document uses. The
	 *  fields above are then informative; clear this to build EumSignedInfo from them (e.g. before signing). */
	char *eum_signed_info_xml;
	/*! EumSignature element serialised (the ds:SignatureType content with its own element), NULL if none */
	char *eum_signature_xml;

	uint64_t remaining_memory;
	uint64_t available_memory;		/*!< AvailableMemoryForProfiles */
	char *last_audit_date;			/*!< NULL if absent */
	char *smsr_id;				/*!< Smsr-id (OID) */
	unsigned int num_profiles;
	struct ws_eis_profile *profiles;
	struct ws_eis_sd isd_r;
	bool has_audit_trail;			/*!< AuditTrail present (possibly with no Record) */
	unsigned int num_audit;
	struct ws_eis_audit *audit;
	unsigned int num_props;			/*!< AdditionalProperties (absent when 0) */
	struct ws_eis_property *props;
};

/*! Parse an `Eis` element (EISType) strictly: every required element present, in XSD order, no unknown element,
 *  values checked (EID check digits via gp_eid_validate(), ICCID, AID/TAR/hex lengths, OIDs, versions, dates,
 *  enumerations, integer ranges) and bounded by the WS_EIS_MAX_* limits. Children must be in the namespace of
 *  \a eis_node (the GSMA schemas are chameleon). The EumSignature is copied, not verified: call
 *  ws_xmldsig_verify_eis() on the same element too (xmldsig.h), e.g. after parsing, with the trusted set of the
 *  EUM that Eum-id names, so that one EUM cannot register eUICCs in another EUM's name.
 *  \param ctx talloc parent of the result.
 *  \param[out] out the EIS on success (free with talloc_free()).
 *  \param[out] err if not NULL, a talloc'd message on \a ctx naming the element and the problem, on failure.
 *  \returns 0; -ENOENT if a required element is missing; -EPROTO for an unexpected or misplaced element;
 *  -EBADMSG for an invalid value; -E2BIG when a WS_EIS_MAX_* bound is exceeded; -ENOMEM. */
int ws_eis_parse(void *ctx, xmlNodePtr eis_node, struct ws_eis **out, char **err);

/*! Build an EISType element named \a name in namespace \a ns (may be NULL) as the last child of \a parent.
 *  EumSignedInfo is copied from eum_signed_info_xml when set (see there), else built from the fields.
 *  The output validates against the GSMA XSD when \a eis holds valid values and a signature
 *  (eum_signature_xml); without one, an empty EumSignature placeholder is written for ws_xmldsig_sign_eis().
 *  \param[out] out if not NULL, the new element.
 *  \returns 0; -EINVAL if \a eis has a value the XSD cannot carry (e.g. a missing required string) or the stored
 *  signature is not well-formed XML; -ENOMEM. */
int ws_eis_build(const struct ws_eis *eis, xmlNodePtr parent, const char *name, xmlNsPtr ns, xmlNodePtr *out);

/*! Parse a standalone XML document safely (no network, no DTD at all, no entity substitution) and give back the
 *  document. For EIS files read by sgp02-ctl/fleet; SOAP input goes through the ws layer's parser.
 *  \returns the document (free with xmlFreeDoc()), NULL on error with *err set when \a err is not NULL. */
xmlDocPtr ws_eis_read_xml(void *ctx, const uint8_t *buf, size_t len, char **err);

/*! Call \a cb for every secret (every key component value, ECASD and ISD-R). \returns the first non-zero value
 *  returned by \a cb, or 0. */
int ws_eis_for_each_secret(struct ws_eis *eis, int (*cb)(struct ws_eis_secret *s, void *data), void *data);

/*! Remove every secret: key component values are wiped and emptied (the XSD still requires @value, so a built
 *  EIS then carries empty values). */
void ws_eis_redact(struct ws_eis *eis);

/*! The ProfileInfo with this ICCID (exact string match; case-insensitive for the F padding), or NULL. */
struct ws_eis_profile *ws_eis_find_profile(struct ws_eis *eis, const char *iccid);

/*! Reduce an EIS to what one MNO may see (GetEIS by an operator, HandleSMSRChangeNotification: digest §3.1 "the
 *  relevant part ... linked with the MNO owning the Profile"): ProfileInfo entries of other MNOs and audit records
 *  about their profiles are removed, and every secret is redacted. \param mno_id the MNO's OID. */
void ws_eis_keep_mno(struct ws_eis *eis, const char *mno_id);

/*! SGP.02 StatusCodeData for a ws_eis_parse() failure, for the RegisterEIS answer (digest §4.2/§4.3): a missing
 *  element is EIS (8.6) / Mandatory Element Missing (2.2), anything else EIS (8.6) / Invalid (2.1); the message
 *  from ws_eis_parse() says which element. (A duplicate EID is the handler's: EID 8.1.1 / Already in Use 3.3.) */
void ws_eis_parse_status(int rc, const char **subject, const char **reason);

/*! Strings for the enumerations (XSD spelling). */
const char *ws_eis_profile_state_name(enum ws_eis_profile_state st);
const char *ws_eis_keyset_usage_name(enum ws_eis_keyset_usage u);
