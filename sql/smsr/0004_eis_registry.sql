-- SM-SR schema version 4: the whole EIS as ES1 RegisterEIS brings it (SGP.02 §5.1; EISType, digest §3.1).
-- Mutable data (memory, audit date, profiles, key set counters) lives in columns and tables of its own, which the
-- operation engine updates; what never changes after registration (the EumSignedInfo as signed, the EumSignature,
-- the ECASD) is kept as received so that GetEIS can give it back unchanged and an auditor can verify it again.
-- Key components never appear in clear: they are in keyset_key, AES-256-GCM encrypted (src/smsr/smsr_kek.c).

ALTER TABLE eis
	ADD COLUMN smsr_id		text,
	ADD COLUMN production_date	text,		-- xs:dateTime as signed
	ADD COLUMN isd_p_loadfile_aid	bytea,
	ADD COLUMN isd_p_module_aid	bytea,
	-- the signed part exactly as received (exclusive c14n of EumSignedInfo) and the EumSignature element
	ADD COLUMN eum_signed_info_xml	text,
	ADD COLUMN eum_signature_xml	text,
	ADD COLUMN last_audit_date	text,		-- xs:dateTime, NULL if never audited
	-- ECASD (SecurityDomainType): AID, SIN, SDIN, TARs (3 bytes each, concatenated), the GP certificate
	ADD COLUMN ecasd_aid		bytea,
	ADD COLUMN ecasd_sin		bytea,
	ADD COLUMN ecasd_sdin		bytea,
	ADD COLUMN ecasd_tars		bytea,
	ADD COLUMN ecasd_certificate	bytea,
	-- EuiccCapabilities
	ADD COLUMN cattp_support	boolean,
	ADD COLUMN cattp_version	text,
	ADD COLUMN http_support		boolean,
	ADD COLUMN http_version		text,
	ADD COLUMN secure_packet_version text,
	ADD COLUMN remote_provisioning_version text,
	-- ISD-R: AID, SIN, SDIN, TARs (concatenated)
	ADD COLUMN isdr_aid		bytea,
	ADD COLUMN isdr_sin		bytea,
	ADD COLUMN isdr_sdin		bytea,
	ADD COLUMN isdr_tars		bytea,
	-- the EIS as registered with every key component value removed (ws_eis_redact()): the source of the parts
	-- that have no column (ECASD key sets, AdditionalProperties, the EUM's AuditTrail)
	ADD COLUMN eis_xml		text,
	ADD COLUMN registered_by	text;		-- entity OID of the EUM that registered it
ALTER TABLE eis ALTER COLUMN remaining_memory TYPE bigint, ALTER COLUMN available_memory_for_profiles TYPE bigint;
ALTER TABLE eis ADD CONSTRAINT eis_tars_len
	CHECK (octet_length(isdr_tars) % 3 = 0 AND octet_length(ecasd_tars) % 3 = 0);

-- ProfileInfo (digest §3.1) beyond 0001
ALTER TABLE profile
	ADD COLUMN imsi			text,
	ADD COLUMN msisdn		text,
	ADD COLUMN smdp_id		text,		-- NULL: pre-loaded by the EUM
	ADD COLUMN profile_type		text,
	ADD COLUMN allocated_memory	bigint NOT NULL DEFAULT 0 CHECK (allocated_memory >= 0),
	ADD COLUMN free_memory		bigint CHECK (free_memory >= 0),
	-- POL2 rules "Action:Qualification" (XSD spelling, e.g. DISABLE:Not-Allowed) separated by ','
	ADD COLUMN pol2			text NOT NULL DEFAULT '',
	ADD COLUMN seq			integer NOT NULL DEFAULT 0;	-- order of ProfileInfo in the EIS
CREATE INDEX profile_eid ON profile (eid, seq);
CREATE INDEX profile_mno ON profile (mno_id, eid);
CREATE INDEX profile_iccid_any ON profile (iccid);

-- Key sets of the ISD-R (SCP80, SCP81, ...) and of the ECASD: version, usage, counter
CREATE TABLE keyset (
	eid		char(32) NOT NULL REFERENCES eis(eid) ON DELETE CASCADE,
	sd		text NOT NULL CHECK (sd IN ('ISD-R', 'ECASD')),
	version		smallint NOT NULL CHECK (version BETWEEN 1 AND 127),
	type		text,				-- KeysetUsageType, NULL if absent
	cntr		numeric(20) CHECK (cntr >= 0),	-- e.g. the SCP80 replay counter
	updated_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (eid, sd, version)
);

-- One key component of a key of a key set. The value is AES-256-GCM encrypted under the configured key-encryption
-- key with a random 12-byte nonce per value; the associated data binds it to its place
-- ("<EID>/<sd>/<version>/<key index>/<component no>"), so that a value copied to another row does not decrypt.
CREATE TABLE keyset_key (
	eid		char(32) NOT NULL,
	sd		text NOT NULL,
	version		smallint NOT NULL,
	key_index	smallint NOT NULL CHECK (key_index BETWEEN 0 AND 127),
	component	smallint NOT NULL CHECK (component >= 0),
	key_type	smallint NOT NULL CHECK (key_type BETWEEN 0 AND 255),	-- GP key type coding
	kcv		bytea,
	nonce		bytea NOT NULL CHECK (octet_length(nonce) = 12),
	ciphertext	bytea NOT NULL,
	tag		bytea NOT NULL CHECK (octet_length(tag) = 16),
	PRIMARY KEY (eid, sd, version, key_index, component),
	FOREIGN KEY (eid, sd, version) REFERENCES keyset (eid, sd, version) ON DELETE CASCADE
);
