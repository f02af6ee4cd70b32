/*! \file ws_codes.h
 * SGP.02 subject and reason codes of StatusCodeData (§5.1; digest §4.2, §4.3). SGP.02 has no complete public
 * table: the values are those of SGP.22 (which inherits the SGP.02 scheme) plus those seen in SGP.02
 * implementations; entries marked INF in the digest are marked so here.
 */
#pragma once

/* Subject codes (what failed), digest §4.2 */
#define WS_SUBJ_GENERIC			"1"
#define WS_SUBJ_FUNCTION_REQUESTER	"1.1"
#define WS_SUBJ_FUNCTION_PROVIDER	"1.2"
#define WS_SUBJ_FUNCTION		"1.6"
#define WS_SUBJ_EUICC			"8.1"
#define WS_SUBJ_EID			"8.1.1"
#define WS_SUBJ_PROFILE			"8.2"
#define WS_SUBJ_ICCID			"8.2.1"
#define WS_SUBJ_POL1			"8.2.2"
#define WS_SUBJ_POL2			"8.2.3"
#define WS_SUBJ_PROFILE_TYPE		"8.2.5"
#define WS_SUBJ_SUBSCRIPTION_ADDRESS	"8.2.6"
#define WS_SUBJ_ISDR			"8.4"
#define WS_SUBJ_ECASD_CERT		"8.5.2"
#define WS_SUBJ_SMSR_CERT		"8.5.3"
#define WS_SUBJ_EIS			"8.6"
#define WS_SUBJ_SMSR			"8.7"

/* Reason codes (why it failed), digest §4.3 */
#define WS_REASON_ACCESS_ERROR		"1"
#define WS_REASON_UNKNOWN_IDENT		"1.1"
#define WS_REASON_NOT_ALLOWED		"1.2"
#define WS_REASON_FORMAT_ERROR		"2"
#define WS_REASON_INVALID		"2.1"
#define WS_REASON_MANDATORY_MISSING	"2.2"
#define WS_REASON_CONDITIONAL_MISSING	"2.3"
#define WS_REASON_CONDITIONS_OF_USE	"3"
#define WS_REASON_UNSUPPORTED		"3.1"
#define WS_REASON_ALREADY_IN_USE	"3.3"
#define WS_REASON_INVALID_DESTINATION	"3.4"
#define WS_REASON_UNAVAILABLE		"3.7"
#define WS_REASON_REFUSED		"3.8"
#define WS_REASON_UNKNOWN		"3.9"
#define WS_REASON_PROCESSING_ERROR	"4"
#define WS_REASON_EXECUTION_ERROR	"4.2"
#define WS_REASON_STOPPED_ON_WARNING	"4.3"
#define WS_REASON_INSUFFICIENT_MEMORY	"4.8"
#define WS_REASON_TTL_EXPIRED		"4.10"
#define WS_REASON_TRANSPORT_ERROR	"5"
#define WS_REASON_INACCESSIBLE		"5.1"
#define WS_REASON_SECURITY_ERROR	"6"
#define WS_REASON_VERIFICATION_FAILED	"6.1"
#define WS_REASON_EXPIRED		"6.3"
#define WS_REASON_MAX_ATTEMPTS		"6.4"

/*! A code and its name. */
struct ws_code {
	const char *code;
	const char *name;
};

/*! Subject codes with names, terminated by {NULL, NULL}. */
extern const struct ws_code ws_subject_codes[];
/*! Reason codes with names, terminated by {NULL, NULL}. */
extern const struct ws_code ws_reason_codes[];

/*! Name of a subject / reason code, or NULL if not in the table. */
const char *ws_subject_name(const char *code);
const char *ws_reason_name(const char *code);
