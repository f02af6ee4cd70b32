/* All SQL of the SM-DP: one prepared statement per row, indexed by enum smdp_stmt. */
#include <errno.h>
#include <stdlib.h>

#include <sgp02/common/db.h>
#include <sgp02/common/app.h>
#include "smdp.h"

const struct db_stmt smdp_stmts[_NUM_SMDP_STMT] = {
	[SMDP_STMT_INVENTORY_COUNT] = { "inventory_count",
		"SELECT count(*), count(*) FILTER (WHERE state = 'available') FROM inventory" },
	[SMDP_STMT_AUDIT_ADD] = { "audit_add",
		"INSERT INTO audit (eid, iccid, actor, action, detail) VALUES ($1, $2, $3, $4, $5)" },
};

int db_smdp_inventory_counts(struct sgp02_app *app, long *total, long *available)
{
	PGresult *res;
	int rc = db_exec(app->db, SMDP_STMT_INVENTORY_COUNT, 0, NULL, &res);

	if (rc < 0)
		return rc;
	*total = atol(PQgetvalue(res, 0, 0));
	*available = atol(PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}
