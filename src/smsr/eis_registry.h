/*! \file eis_registry.h
 * The SM-SR's EIS registry (issue #5 "EIS registry"; SGP.02 §5.1, EISType in digest §3.1): configuration of the
 * parties we know (EUMs with their signing certificates, operators and SM-DPs by TLS client identity), the
 * key-encryption key, and the EIS in PostgreSQL (schema sql/smsr/0004_eis_registry.sql).
 *
 * Storage: the mutable parts of the EIS (memory, last audit date, profiles, key set counters) are columns and rows
 * of their own; the EIS as registered with every key component value removed is kept as XML for the parts that
 * never change (EumSignedInfo exactly as signed, EumSignature, ECASD key sets, AdditionalProperties). Key component
 * values are AES-256-GCM encrypted under the KEK (include/sgp02/common/kek.h) in table keyset_key.
 *
 * Config ("smsr" node):
 *   key-encryption-key FILE              32 bytes, raw or hex (required as soon as an EIS is stored)
 *   eum OID certificate FILE             trusted EUM signing certificate(s), PEM (several lines allowed)
 *   eum OID certificate-cn CN            the EUM's TLS client identity (ES1 caller)
 *   operator OID certificate-cn CN       an operator's TLS client identity (ES4 caller)
 *   smdp OID certificate-cn CN           an SM-DP's TLS client identity (ES3 caller)
 * The identity map applies at once when changed on the VTY; the KEK and the EUM certificates are loaded at start.
 */
#pragma once

#include <stdbool.h>

struct sgp02_app;
struct ws_eis;
struct ws_xmldsig_trust;

enum smsr_role {
	SMSR_ROLE_EUM,
	SMSR_ROLE_OPERATOR,
	SMSR_ROLE_SMDP,
};

/*! Install the "smsr" config node. Call from the daemon's vty_init hook. */
void smsr_registry_vty_init(struct sgp02_app *app);

/*! Load the KEK and the EUM certificates named in the config; refuse (-EINVAL, logged) to start without a KEK when
 *  the database holds EIS already. \returns 0 or -errno. */
int smsr_registry_start(struct sgp02_app *app);

/*! Free what smsr_registry_start() loaded (the configuration stays). */
void smsr_registry_stop(void);

/*! The entity OID that TLS client identity \a cn has in \a role, or NULL (unknown: refuse the request). */
const char *smsr_entity_oid(enum smsr_role role, const char *cn);

/*! The trusted certificates of EUM \a eum_oid, or NULL when that EUM is not configured. */
struct ws_xmldsig_trust *smsr_eum_trust(const char *eum_oid);

/*! Is a key-encryption key loaded? */
bool smsr_registry_has_kek(void);

/*! Store a newly registered EIS (parsed and verified by the caller) in one transaction with its audit row
 *  (actor \a actor_oid, action \a action). Key component values are encrypted; \a eis is not changed.
 *  \returns 0; -EEXIST (EID already registered, or a profile's ICCID in use: *what says which: "eid"/"iccid");
 *  -EINVAL (a value the database refuses); -ENOKEY (no KEK); other -errno (database). */
int smsr_eis_store(struct sgp02_app *app, const struct ws_eis *eis, const char *actor_oid, const char *action,
		   const char **what);

/*! Load the EIS of \a eid as it stands now, key component values NOT included (they stay encrypted in the
 *  database). \param[out] out talloc'd on \a ctx. \returns 0, -ENOENT (unknown EID), -EIO/-errno. */
int smsr_eis_load(struct sgp02_app *app, void *ctx, const char *eid, struct ws_eis **out);

/*! Decrypt the stored key component values of \a eis (loaded with smsr_eis_load()) into it, for the operation
 *  engine (SCP80/SCP81 keys). Never send the result to anyone. \returns 0, -ENOKEY, -EBADMSG (a value does not
 *  authenticate: wrong KEK or tampered row), -errno. */
int smsr_eis_load_secrets(struct sgp02_app *app, struct ws_eis *eis);

/*! Reduce \a eis to what \a role \a oid may see (GetEIS; digest §3.1 and §10.12): see eis_registry.c. */
void smsr_eis_view(struct ws_eis *eis, enum smsr_role role, const char *oid);
