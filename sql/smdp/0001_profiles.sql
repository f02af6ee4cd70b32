-- SM-DP schema version 1: profile types and the ICCID inventory.
-- Later migrations add templates, personalisation data and downloads; never edit a released file.

CREATE TABLE profile_type (
	mno_id		text NOT NULL,
	profile_type	text NOT NULL,
	description	text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (mno_id, profile_type)
);

CREATE TABLE inventory (
	iccid		text PRIMARY KEY CHECK (iccid ~ '^[0-9]{18,20}F?$'),
	mno_id		text NOT NULL,
	profile_type	text NOT NULL,
	state		text NOT NULL DEFAULT 'available'
			CHECK (state IN ('available', 'reserved', 'installed', 'released', 'unusable')),
	eid		char(32) CHECK (eid ~ '^[0-9A-F]{32}$'),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	FOREIGN KEY (mno_id, profile_type) REFERENCES profile_type (mno_id, profile_type)
);
CREATE INDEX inventory_available ON inventory (mno_id, profile_type) WHERE state = 'available';
