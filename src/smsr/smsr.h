/*! \file smsr.h
 * sgp02-smsr internals shared between its files. */
#pragma once

#include <osmocom/core/tdef.h>

struct sgp02_app;

/*! Prepared statements of the SM-SR (SQL in db_smsr.c). */
enum smsr_stmt {
	SMSR_STMT_EIS_COUNT,
	SMSR_STMT_PROFILE_COUNT,
	SMSR_STMT_AUDIT_ADD,
	SMSR_STMT_EIS_INSERT,
	SMSR_STMT_PROFILE_INSERT,
	SMSR_STMT_KEYSET_INSERT,
	SMSR_STMT_KEY_INSERT,
	SMSR_STMT_EIS_GET,
	SMSR_STMT_PROFILES_GET,
	SMSR_STMT_KEYSETS_GET,
	SMSR_STMT_KEYS_GET,
	_NUM_SMSR_STMT
};

extern const struct db_stmt smsr_stmts[_NUM_SMSR_STMT];
extern struct osmo_tdef g_smsr_tdefs[];

/*! Count the eUICCs and profiles in the EIS. \returns 0 or -errno */
int db_smsr_counts(struct sgp02_app *app, long *n_eis, long *n_profiles);
