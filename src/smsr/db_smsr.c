/* All SQL of the SM-SR: one prepared statement per row, indexed by enum smsr_stmt. */
#include <errno.h>
#include <stdlib.h>

#include <sgp02/common/db.h>
#include <sgp02/common/app.h>
#include "smsr.h"

const struct db_stmt smsr_stmts[_NUM_SMSR_STMT] = {
	[SMSR_STMT_EIS_COUNT] = { "eis_count", "SELECT count(*) FROM eis" },
	[SMSR_STMT_PROFILE_COUNT] = { "profile_count", "SELECT count(*) FROM profile WHERE state <> 'Deleted'" },
	[SMSR_STMT_AUDIT_ADD] = { "audit_add",
		"INSERT INTO audit (eid, iccid, actor, action, detail) VALUES ($1, $2, $3, $4, $5)" },
};

static int db_count(struct sgp02_app *app, enum smsr_stmt stmt, long *n)
{
	PGresult *res;
	int rc = db_exec(app->db, stmt, 0, NULL, &res);

	if (rc < 0)
		return rc;
	*n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int db_smsr_counts(struct sgp02_app *app, long *n_eis, long *n_profiles)
{
	int rc = db_count(app, SMSR_STMT_EIS_COUNT, n_eis);

	if (rc < 0)
		return rc;
	return db_count(app, SMSR_STMT_PROFILE_COUNT, n_profiles);
}
