-- SM-DP schema version 3: answered web-service requests, so that a duplicate WS-Addressing MessageID
-- from the same sender is answered again instead of executed twice (include/sgp02/ws/ws_store.h).

CREATE TABLE ws_message (
	sender		text NOT NULL,		-- TLS peer identity, else wsa:From address
	message_id	text NOT NULL,
	state		smallint NOT NULL CHECK (state IN (1, 2)),	-- 1 processing, 2 done
	http_status	integer,
	reply_to	text,
	answer		bytea,			-- the answer envelope (synchronous response or callback)
	saved_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (sender, message_id)
);
CREATE INDEX ws_message_saved_at ON ws_message (saved_at);
