/*! \file smdp.h
 * sgp02-smdp internals shared between its files. */
#pragma once

#include <osmocom/core/tdef.h>

struct sgp02_app;

/*! Prepared statements of the SM-DP (SQL in db_smdp.c). */
enum smdp_stmt {
	SMDP_STMT_INVENTORY_COUNT,
	SMDP_STMT_AUDIT_ADD,
	_NUM_SMDP_STMT
};

extern const struct db_stmt smdp_stmts[_NUM_SMDP_STMT];
extern struct osmo_tdef g_smdp_tdefs[];

/*! Count ICCIDs in the inventory: all, and still available. \returns 0 or -errno */
int db_smdp_inventory_counts(struct sgp02_app *app, long *total, long *available);
