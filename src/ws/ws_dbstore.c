/* PostgreSQL-backed ws_store; see ws_dbstore.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>
#include <libpq-fe.h>

#include <sgp02/common/db.h>
#include <sgp02/ws/ws_dbstore.h>

struct ws_dbstore {
	struct db *db;
	unsigned long retention_s;
};

struct ws_dbstore *ws_dbstore_alloc(void *ctx, struct db *db, unsigned long retention_s)
{
	struct ws_dbstore *st = talloc_zero(ctx, struct ws_dbstore);

	st->db = db;
	st->retention_s = retention_s;
	return st;
}

static int dbstore_lookup(void *store, void *ctx, const char *sender, const char *message_id,
			  struct ws_store_entry *out)
{
	struct ws_dbstore *st = store;
	const char *p[3];
	char ret[32];
	PGresult *res;
	int rc;

	snprintf(ret, sizeof(ret), "%lu", st->retention_s);
	p[0] = sender;
	p[1] = message_id;
	p[2] = ret;
	/* the answer comes back in binary so that the envelope bytes are returned unchanged */
	rc = db_exec_params(st->db, "SELECT state, http_status, reply_to, answer FROM ws_message "
			    "WHERE sender = $1 AND message_id = $2 "
			    "AND saved_at > now() - make_interval(secs => $3::integer)", 3, p, NULL, NULL, &res);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		PQclear(res);
		return -ENOENT;
	}
	memset(out, 0, sizeof(*out));
	out->state = atoi(PQgetvalue(res, 0, 0));
	out->http_status = PQgetisnull(res, 0, 1) ? 0 : atoi(PQgetvalue(res, 0, 1));
	if (!PQgetisnull(res, 0, 2))
		out->reply_to = talloc_strdup(ctx, PQgetvalue(res, 0, 2));
	if (!PQgetisnull(res, 0, 3)) {
		size_t n = 0;
		unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 3), &n);
		if (!raw) {
			PQclear(res);
			return -ENOMEM;
		}
		out->xml = talloc_memdup(ctx, raw, n ? n : 1);
		out->xml_len = n;
		PQfreemem(raw);
	}
	PQclear(res);
	return 0;
}

static int dbstore_save(void *store, const char *sender, const char *message_id, const struct ws_store_entry *e)
{
	struct ws_dbstore *st = store;
	char state[8], status[16];
	const char *p[6];
	int len[6] = { 0 }, fmt[6] = { 0 };

	snprintf(state, sizeof(state), "%d", e->state);
	snprintf(status, sizeof(status), "%d", e->http_status);
	p[0] = sender;
	p[1] = message_id;
	p[2] = state;
	p[3] = e->http_status ? status : NULL;
	p[4] = e->reply_to;
	p[5] = (const char *)e->xml;
	len[5] = (int)e->xml_len;
	fmt[5] = 1;	/* binary: bytea as is */
	return db_exec_params(st->db, "INSERT INTO ws_message (sender, message_id, state, http_status, reply_to, answer) "
			      "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sender, message_id) DO UPDATE SET "
			      "state = EXCLUDED.state, http_status = EXCLUDED.http_status, "
			      "reply_to = EXCLUDED.reply_to, answer = EXCLUDED.answer, saved_at = now()",
			      6, p, len, fmt, NULL) < 0 ? -EIO : 0;
}

int ws_dbstore_expire(struct ws_dbstore *st)
{
	char ret[32];
	const char *p[1] = { ret };

	snprintf(ret, sizeof(ret), "%lu", st->retention_s);
	return db_exec_params(st->db, "DELETE FROM ws_message WHERE saved_at < now() - make_interval(secs => $1::integer)",
			      1, p, NULL, NULL, NULL);
}

const struct ws_store_ops ws_dbstore_ops = {
	.lookup = dbstore_lookup,
	.save = dbstore_save,
};
