/* SGP.02 subject and reason codes with their names (see ws_codes.h; digest §4.2, §4.3). */
#include <stddef.h>
#include <string.h>

#include <sgp02/ws/ws_codes.h>

const struct ws_code ws_subject_codes[] = {
	{ WS_SUBJ_GENERIC, "Generic" },
	{ WS_SUBJ_FUNCTION_REQUESTER, "Function Requester" },
	{ WS_SUBJ_FUNCTION_PROVIDER, "Function Provider" },
	{ WS_SUBJ_FUNCTION, "Function" },
	{ WS_SUBJ_EUICC, "eUICC" },
	{ WS_SUBJ_EID, "EID" },
	{ WS_SUBJ_PROFILE, "Profile" },
	{ WS_SUBJ_ICCID, "Profile ICCID" },
	{ WS_SUBJ_POL1, "POL1" },
	{ WS_SUBJ_POL2, "POL2" },
	{ WS_SUBJ_PROFILE_TYPE, "Profile Type" },
	{ WS_SUBJ_SUBSCRIPTION_ADDRESS, "Subscription Address" },
	{ WS_SUBJ_ISDR, "ISD-R" },
	{ WS_SUBJ_ECASD_CERT, "ECASD Certificate" },
	{ WS_SUBJ_SMSR_CERT, "SM-SR Certificate" },
	{ WS_SUBJ_EIS, "EIS" },
	{ WS_SUBJ_SMSR, "SM-SR" },
	{ NULL, NULL }
};

const struct ws_code ws_reason_codes[] = {
	{ WS_REASON_ACCESS_ERROR, "Access Error" },
	{ WS_REASON_UNKNOWN_IDENT, "Unknown (Identification or Authentication)" },
	{ WS_REASON_NOT_ALLOWED, "Not Allowed (Authorisation)" },
	{ WS_REASON_FORMAT_ERROR, "Format Error" },
	{ WS_REASON_INVALID, "Invalid" },
	{ WS_REASON_MANDATORY_MISSING, "Mandatory Element Missing" },
	{ WS_REASON_CONDITIONAL_MISSING, "Conditional Element Missing" },
	{ WS_REASON_CONDITIONS_OF_USE, "Conditions of Use Not Satisfied" },
	{ WS_REASON_UNSUPPORTED, "Unsupported" },
	{ WS_REASON_ALREADY_IN_USE, "Already in Use" },
	{ WS_REASON_INVALID_DESTINATION, "Invalid Destination" },
	{ WS_REASON_UNAVAILABLE, "Unavailable" },
	{ WS_REASON_REFUSED, "Refused" },
	{ WS_REASON_UNKNOWN, "Unknown" },
	{ WS_REASON_PROCESSING_ERROR, "Processing Error" },
	{ WS_REASON_EXECUTION_ERROR, "Execution Error" },
	{ WS_REASON_STOPPED_ON_WARNING, "Stopped on Warning" },
	{ WS_REASON_INSUFFICIENT_MEMORY, "Insufficient Memory" },
	{ WS_REASON_TTL_EXPIRED, "Time to Live Expired" },
	{ WS_REASON_TRANSPORT_ERROR, "Transport Error" },
	{ WS_REASON_INACCESSIBLE, "Inaccessible" },
	{ WS_REASON_SECURITY_ERROR, "Security Error" },
	{ WS_REASON_VERIFICATION_FAILED, "Verification Failed" },
	{ WS_REASON_EXPIRED, "Expired" },
	{ WS_REASON_MAX_ATTEMPTS, "Maximum Number of Attempts Exceeded" },
	{ NULL, NULL }
};

static const char *lookup(const struct ws_code *t, const char *code)
{
	if (!code)
		return NULL;
	for (; t->code; t++)
		if (!strcmp(t->code, code))
			return t->name;
	return NULL;
}

const char *ws_subject_name(const char *code)
{
	return lookup(ws_subject_codes, code);
}

const char *ws_reason_name(const char *code)
{
	return lookup(ws_reason_codes, code);
}
