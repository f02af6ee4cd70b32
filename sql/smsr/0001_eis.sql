-- SM-SR schema version 1: the EIS registry core (SGP.02 §5.1, EISType in euicc.common.types.xsd).
-- Later migrations add key sets, OTA counters, operations and the rest; never edit a released file.

CREATE TABLE eis (
	eid		char(32) PRIMARY KEY CHECK (eid ~ '^[0-9A-F]{32}$'),
	eum_id		text NOT NULL,
	platform_type	text,
	platform_version text,
	remaining_memory integer CHECK (remaining_memory >= 0),
	available_memory_for_profiles integer CHECK (available_memory_for_profiles >= 0),
	sms_address	text,		-- MSISDN the SM-SR sends SMS-PP to
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);

-- One row per ISD-P on an eUICC (ProfileInfo in the EIS).
CREATE TABLE profile (
	eid		char(32) NOT NULL REFERENCES eis(eid) ON DELETE CASCADE,
	isdp_aid	bytea NOT NULL CHECK (octet_length(isdp_aid) BETWEEN 5 AND 16),
	iccid		text CHECK (iccid ~ '^[0-9]{18,20}F?$'),
	mno_id		text,
	state		text NOT NULL CHECK (state IN ('Created', 'Disabled', 'Enabled', 'Deleted')),
	fallback	boolean NOT NULL DEFAULT false,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (eid, isdp_aid)
);
CREATE UNIQUE INDEX profile_iccid ON profile (iccid) WHERE iccid IS NOT NULL AND state <> 'Deleted';
-- at most one enabled profile per eUICC (SGP.02 §2.2)
CREATE UNIQUE INDEX profile_one_enabled ON profile (eid) WHERE state = 'Enabled';
