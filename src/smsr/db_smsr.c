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
	/* EIS registry (eis_registry.c, sql/smsr/0004_eis_registry.sql) */
	[SMSR_STMT_EIS_INSERT] = { "eis_insert",
		"INSERT INTO eis (eid, eum_id, platform_type, platform_version, remaining_memory, "
		"available_memory_for_profiles, sms_address, smsr_id, production_date, isd_p_loadfile_aid, "
		"isd_p_module_aid, eum_signed_info_xml, eum_signature_xml, last_audit_date, ecasd_aid, ecasd_sin, "
		"ecasd_sdin, ecasd_tars, ecasd_certificate, cattp_support, cattp_version, http_support, http_version, "
		"secure_packet_version, remote_provisioning_version, isdr_aid, isdr_sin, isdr_sdin, isdr_tars, eis_xml, "
		"registered_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, "
		"$18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31)" },
	[SMSR_STMT_PROFILE_INSERT] = { "profile_insert",
		"INSERT INTO profile (eid, isdp_aid, iccid, mno_id, state, fallback, imsi, msisdn, smdp_id, "
		"profile_type, allocated_memory, free_memory, pol2, seq) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)" },
	[SMSR_STMT_KEYSET_INSERT] = { "keyset_insert",
		"INSERT INTO keyset (eid, sd, version, type, cntr) VALUES ($1, $2, $3, $4, $5)" },
	[SMSR_STMT_KEY_INSERT] = { "key_insert",
		"INSERT INTO keyset_key (eid, sd, version, key_index, component, key_type, kcv, nonce, ciphertext, tag) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)" },
	[SMSR_STMT_EIS_GET] = { "eis_get",
		"SELECT eis_xml, eum_signed_info_xml, eum_signature_xml, remaining_memory, "
		"available_memory_for_profiles, last_audit_date, smsr_id FROM eis WHERE eid = $1" },
	[SMSR_STMT_PROFILES_GET] = { "profiles_get",
		"SELECT iccid, encode(isdp_aid, 'hex'), mno_id, state, fallback, imsi, msisdn, smdp_id, profile_type, "
		"allocated_memory, free_memory, pol2 FROM profile WHERE eid = $1 AND state <> 'Deleted' "
		"ORDER BY seq, isdp_aid" },
	[SMSR_STMT_KEYSETS_GET] = { "keysets_get", "SELECT sd, version, cntr FROM keyset WHERE eid = $1" },
	[SMSR_STMT_KEYS_GET] = { "keys_get",
		"SELECT sd, version, key_index, component, encode(nonce, 'hex'), encode(ciphertext, 'hex'), "
		"encode(tag, 'hex') FROM keyset_key WHERE eid = $1" },
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
