/*! \file smdp.h
 * sgp02-smdp internals shared between its files. */
#pragma once

#include <osmocom/core/tdef.h>

#include "smdp_prep.h"

struct sgp02_app;

/*! Prepared statements of the SM-DP (SQL in db_smdp.c). */
enum smdp_stmt {
	SMDP_STMT_INVENTORY_COUNT,
	SMDP_STMT_AUDIT_ADD,
	_NUM_SMDP_STMT
};

extern const struct db_stmt smdp_stmts[_NUM_SMDP_STMT];
extern struct osmo_tdef g_smdp_tdefs[];

/* smdp_prep_vty.c: the smdp config node and the VTY of profile preparation (smdp_prep.h) */
struct kek;
/*! Install the smdp node (key-encryption-key, failed-download-iccid) and show commands. */
void smdp_prep_vty_init(struct sgp02_app *app);
/*! Load the configured key-encryption key. \returns 0, or -errno if it is configured but unusable. */
int smdp_prep_start(struct sgp02_app *app);
void smdp_prep_stop(struct sgp02_app *app);
/*! The loaded key-encryption key, or NULL if none is configured. */
const struct kek *smdp_prep_kek(void);
/*! What a failed download does with its ICCID (failed-download-iccid). */
enum smdp_fail_policy smdp_prep_fail_policy(void);

/*! Count ICCIDs in the inventory: all, and still available. \returns 0 or -errno */
int db_smdp_inventory_counts(struct sgp02_app *app, long *total, long *available);
