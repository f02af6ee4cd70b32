-- SM-DP schema version 4: profile preparation (issue #6). Profile templates per operator and profile type,
-- personalisation batches, and the personalisation data of every ICCID of the inventory.
-- Secrets (Ki, OPc, PINs, PUKs, ADM1, OTA keys) are stored only sealed with AES-256-GCM under the
-- key-encryption key of the configuration (src/smdp/smdp_kek.h): nonce (12) || ciphertext || tag (16), the
-- associated data naming the ICCID and the column, so a value copied to another row or column does not open.

-- One SAIP profile package (TCA eUICC Profile Package, DER) per operator (Mno-id OID) and profile type
-- (String100, SGP.02 §5.2), with the data of its header PE for inspection.
CREATE TABLE profile_template (
	mno_id		text NOT NULL,
	profile_type	text NOT NULL,
	package		bytea NOT NULL,
	package_sha256	bytea NOT NULL,
	pe_count	integer NOT NULL CHECK (pe_count > 1),
	saip_major	integer NOT NULL,
	saip_minor	integer NOT NULL,
	header_type	text NOT NULL,		-- ProfileHeader.profileType ('' if absent)
	header_iccid	text NOT NULL,		-- ProfileHeader.iccid of the template (digits)
	services	bigint NOT NULL,	-- eUICC-Mandatory-services bit set (bit n = ServicesList component n)
	imported_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (mno_id, profile_type),
	FOREIGN KEY (mno_id, profile_type) REFERENCES profile_type (mno_id, profile_type)
);

-- One imported personalisation file; its rows are imported all or nothing.
CREATE TABLE prep_batch (
	id		bigserial PRIMARY KEY,
	mno_id		text NOT NULL,
	profile_type	text NOT NULL,
	source		text,			-- file name given at import
	row_count	integer NOT NULL,
	imported_at	timestamptz NOT NULL DEFAULT now(),
	FOREIGN KEY (mno_id, profile_type) REFERENCES profile_type (mno_id, profile_type)
);

-- The personalisation data of one ICCID of the inventory. NULL = not given (the template's value stays).
CREATE TABLE profile_data (
	iccid		text PRIMARY KEY REFERENCES inventory (iccid),
	batch_id	bigint NOT NULL REFERENCES prep_batch (id),
	imsi		text NOT NULL CHECK (imsi ~ '^[0-9]{6,15}$'),
	msisdn		text CHECK (msisdn ~ '^[0-9]{1,15}$'),
	ki		bytea NOT NULL,
	opc		bytea NOT NULL,
	pin1		bytea NOT NULL,
	puk1		bytea NOT NULL,
	pin2		bytea,
	puk2		bytea,
	adm1		bytea,
	kic		bytea NOT NULL,
	kid		bytea NOT NULL,
	kik		bytea NOT NULL
);
CREATE INDEX profile_data_batch ON profile_data (batch_id);
