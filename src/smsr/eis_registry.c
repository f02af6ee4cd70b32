/*! \file eis_registry.c
 * The SM-SR's EIS registry: configuration, storage and views of the EIS (see eis_registry.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <libxml/tree.h>

#include <osmocom/core/linuxlist.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>

#include <sgp02/common/app.h>
#include <sgp02/common/db.h>
#include <sgp02/common/logging.h>
#include <sgp02/ws/eis.h>
#include <sgp02/ws/xmldsig.h>
#include "eis_registry.h"
#include "smsr.h"
#include <sgp02/common/kek.h>

/* one "eum|operator|smdp OID ..." line */
struct smsr_entity {
	struct llist_head list;
	enum smsr_role role;
	char *oid;
	char *cn;			/*!< TLS client identity, NULL if only certificates */
	char *cert_file;		/*!< EUM signing certificate file, NULL for a certificate-cn line */
};

/* the trusted certificates of one EUM */
struct eum_trust {
	struct llist_head list;
	const char *oid;
	struct ws_xmldsig_trust *trust;
};

static struct {
	void *ctx;
	char *kek_file;
	struct llist_head entities;
	/* loaded by smsr_registry_start() */
	struct kek *kek;
	void *run_ctx;			/*!< parent of the trust objects */
	struct llist_head trusts;
} g_reg;

static const char *const role_words[] = { "eum", "operator", "smdp" };

/* ---------------------------------------------------------------- configuration */

static struct cmd_node smsr_node = {
	SGP02_SMSR_NODE,
	"%s(config-smsr)# ",
	1,
};

DEFUN(cfg_smsr, cfg_smsr_cmd, "smsr", "Configure the SM-SR (EIS registry, trusted parties)\n")
{
	vty->node = SGP02_SMSR_NODE;
	return CMD_SUCCESS;
}

DEFUN(cfg_smsr_kek, cfg_kek_cmd, "key-encryption-key FILE",
      "Key-encryption key of the EIS key components at rest (AES-256-GCM)\n"
      "File with 32 bytes, raw or as 64 hex digits\n")
{
	osmo_talloc_replace_string(g_reg.ctx, &g_reg.kek_file, argv[0]);
	return CMD_SUCCESS;
}

static int role_of(const char *word)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(role_words); i++)
		if (!strcmp(word, role_words[i]))
			return (int)i;
	return -1;
}

static bool oid_ok(const char *s)
{
	/* ObjectIdentifier of the GSMA XSD: digits separated by dots */
	bool digit = false;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digit = true;
		else if (*s == '.' && digit)
			digit = false;
		else
			return false;
	}
	return digit;
}

static struct smsr_entity *entity_add(enum smsr_role role, const char *oid, const char *cn, const char *file)
{
	struct smsr_entity *e;

	llist_for_each_entry(e, &g_reg.entities, list) {
		if (e->role != role)
			continue;
		if (cn && e->cn && !strcmp(e->cn, cn))
			return e;	/* an identity maps to one entity: the last line wins */
		if (file && e->cert_file && !strcmp(e->oid, oid) && !strcmp(e->cert_file, file))
			return e;
	}
	e = talloc_zero(g_reg.ctx, struct smsr_entity);
	if (!e)
		return NULL;
	e->role = role;
	llist_add_tail(&e->list, &g_reg.entities);
	return e;
}

DEFUN(cfg_smsr_cn, cfg_smsr_cn_cmd, "(eum|operator|smdp) OID certificate-cn CN",
      "An EUM (ES1 caller)\n" "An operator (ES4 caller)\n" "An SM-DP (ES3 caller)\n"
      "Its GSMA entity identifier, e.g. 1.3.6.1.4.1.99999.1\n"
      "Map a TLS client certificate subject CN to this entity\n" "The CN\n")
{
	int role = role_of(argv[0]);
	struct smsr_entity *e;

	if (role < 0 || !oid_ok(argv[1])) {
		vty_out(vty, "%% not an OID: %s%s", argv[1], VTY_NEWLINE);
		return CMD_WARNING;
	}
	e = entity_add(role, argv[1], argv[2], NULL);
	if (!e)
		return CMD_WARNING;
	osmo_talloc_replace_string(e, &e->oid, argv[1]);
	osmo_talloc_replace_string(e, &e->cn, argv[2]);
	return CMD_SUCCESS;
}

DEFUN(cfg_smsr_eum_cert, cfg_smsr_eum_cert_cmd, "eum OID certificate FILE",
      "An EUM\n" "Its GSMA entity identifier\n"
      "Trusted EUM signing certificate(s) for the EumSignature of its EIS (X.509, PEM)\n" "PEM file\n")
{
	struct smsr_entity *e;

	if (!oid_ok(argv[0])) {
		vty_out(vty, "%% not an OID: %s%s", argv[0], VTY_NEWLINE);
		return CMD_WARNING;
	}
	e = entity_add(SMSR_ROLE_EUM, argv[0], NULL, argv[1]);
	if (!e)
		return CMD_WARNING;
	osmo_talloc_replace_string(e, &e->oid, argv[0]);
	osmo_talloc_replace_string(e, &e->cert_file, argv[1]);
	return CMD_SUCCESS;
}

static int config_write_smsr(struct vty *vty)
{
	struct smsr_entity *e;

	vty_out(vty, "smsr%s", VTY_NEWLINE);
	if (g_reg.kek_file)
		vty_out(vty, " key-encryption-key %s%s", g_reg.kek_file, VTY_NEWLINE);
	llist_for_each_entry(e, &g_reg.entities, list) {
		if (e->cert_file)
			vty_out(vty, " eum %s certificate %s%s", e->oid, e->cert_file, VTY_NEWLINE);
		else
			vty_out(vty, " %s %s certificate-cn %s%s", role_words[e->role], e->oid, e->cn, VTY_NEWLINE);
	}
	return CMD_SUCCESS;
}

static int show_eis(struct vty *vty, const char *eid);

DEFUN(show_smsr_eis, show_smsr_eis_cmd, "show smsr eis EID",
      SHOW_STR "SM-SR\n" "One EIS: platform data, profiles, key sets (values never shown; their KCV is checked)\n"
      "EID (32 digits)\n")
{
	return show_eis(vty, argv[0]);
}

void smsr_registry_vty_init(struct sgp02_app *app)
{
	g_reg.ctx = app->ctx;
	INIT_LLIST_HEAD(&g_reg.entities);
	INIT_LLIST_HEAD(&g_reg.trusts);
	install_element(CONFIG_NODE, &cfg_smsr_cmd);
	install_node(&smsr_node, config_write_smsr);
	install_element(SGP02_SMSR_NODE, &cfg_kek_cmd);
	install_element(SGP02_SMSR_NODE, &cfg_smsr_cn_cmd);
	install_element(SGP02_SMSR_NODE, &cfg_smsr_eum_cert_cmd);
	install_element_ve(&show_smsr_eis_cmd);
}

const char *smsr_entity_oid(enum smsr_role role, const char *cn)
{
	struct smsr_entity *e;

	if (!cn || !g_reg.entities.next)
		return NULL;
	llist_for_each_entry(e, &g_reg.entities, list)
		if (e->role == role && e->cn && !strcmp(e->cn, cn))
			return e->oid;
	return NULL;
}

struct ws_xmldsig_trust *smsr_eum_trust(const char *eum_oid)
{
	struct eum_trust *t;

	if (!eum_oid || !g_reg.trusts.next)
		return NULL;
	llist_for_each_entry(t, &g_reg.trusts, list)
		if (!strcmp(t->oid, eum_oid))
			return t->trust;
	return NULL;
}

bool smsr_registry_has_kek(void)
{
	return g_reg.kek != NULL;
}

int smsr_registry_start(struct sgp02_app *app)
{
	struct smsr_entity *e;
	long n_eis, n_prof;
	int rc;

	g_reg.run_ctx = talloc_named_const(app->ctx, 0, "smsr_registry");
	if (!g_reg.run_ctx)
		return -ENOMEM;
	if (g_reg.kek_file) {
		rc = kek_load(g_reg.run_ctx, g_reg.kek_file, &g_reg.kek);
		if (rc < 0) {
			LOGP(DWS, LOGL_ERROR, "smsr: cannot load key-encryption-key %s: %s\n", g_reg.kek_file,
			     rc == -EINVAL ? "not 32 bytes (raw or hex)" : strerror(-rc));
			return rc;
		}
	} else {
		rc = db_smsr_counts(app, &n_eis, &n_prof);
		if (rc < 0)
			return rc;
		if (n_eis > 0) {
			LOGP(DWS, LOGL_ERROR, "smsr: %ld EIS are stored but no key-encryption-key is configured\n",
			     n_eis);
			return -EINVAL;
		}
		LOGP(DWS, LOGL_NOTICE, "smsr: no key-encryption-key configured: RegisterEIS will be refused\n");
	}
	llist_for_each_entry(e, &g_reg.entities, list) {
		struct eum_trust *t;

		if (!e->cert_file)
			continue;
		t = NULL;
		llist_for_each_entry(t, &g_reg.trusts, list)
			if (!strcmp(t->oid, e->oid))
				break;
		if (&t->list == &g_reg.trusts) {
			t = talloc_zero(g_reg.run_ctx, struct eum_trust);
			if (!t)
				return -ENOMEM;
			t->oid = talloc_strdup(t, e->oid);
			t->trust = ws_xmldsig_trust_alloc(t);
			if (!t->oid || !t->trust)
				return -ENOMEM;
			llist_add_tail(&t->list, &g_reg.trusts);
		}
		rc = ws_xmldsig_trust_add_file(t->trust, e->cert_file);
		if (rc < 0) {
			LOGP(DWS, LOGL_ERROR, "smsr: eum %s certificate %s: %s\n", e->oid, e->cert_file,
			     strerror(-rc));
			return rc;
		}
	}
	return 0;
}

void smsr_registry_stop(void)
{
	INIT_LLIST_HEAD(&g_reg.trusts);
	g_reg.kek = NULL;
	talloc_free(g_reg.run_ctx);
	g_reg.run_ctx = NULL;
}

/* ---------------------------------------------------------------- storage helpers */

#define MAXP 32

/* parameters of one statement: text values and bytea in binary */
struct params {
	void *ctx;
	int n;
	const char *v[MAXP];
	int len[MAXP];
	int fmt[MAXP];
};

static void p_str(struct params *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

static void p_u64(struct params *p, uint64_t v)
{
	p_str(p, talloc_asprintf(p->ctx, "%" PRIu64, v));
}

static void p_bool(struct params *p, bool b)
{
	p_str(p, b ? "t" : "f");
}

static void p_bytes(struct params *p, const uint8_t *data, size_t len)
{
	static const char empty[1];

	p->v[p->n] = data ? (const char *)data : empty;
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->n++;
}

static int p_exec(struct sgp02_app *app, struct params *p, enum smsr_stmt stmt, PGresult **res)
{
	int rc;

	OSMO_ASSERT(p->n <= MAXP);
	rc = db_execb(app->db, stmt, p->n, p->v, p->len, p->fmt, res);
	return rc < 0 ? rc : 0;
}

static const char *sd_name(const struct ws_eis_sd *sd)
{
	return sd->role == WS_EIS_ROLE_ECASD ? "ECASD" : "ISD-R";
}

/* associated data of a key component: where it belongs */
static int key_ad(char *buf, size_t size, const char *eid, const char *sd, unsigned int version, unsigned int index,
		  unsigned int comp)
{
	int n = snprintf(buf, size, "%s/%s/%u/%u/%u", eid, sd, version, index, comp);

	return n < 0 || (size_t)n >= size ? -EINVAL : n;
}

static uint8_t *tars_concat(void *ctx, const struct ws_eis_sd *sd)
{
	uint8_t *b = talloc_size(ctx, sd->num_tars * 3 + 1);
	unsigned int i;

	if (b)
		for (i = 0; i < sd->num_tars; i++)
			memcpy(b + 3 * i, sd->tars[i], 3);
	return b;
}

static const struct ws_eis_bytes *first_cert(const struct ws_eis_sd *sd)
{
	unsigned int i, j;

	for (i = 0; i < sd->num_keysets; i++)
		for (j = 0; j < sd->keysets[i].num_items; j++)
			if (sd->keysets[i].items[j].is_cert)
				return &sd->keysets[i].items[j].cert.value;
	return NULL;
}

static char *pol2_text(void *ctx, const struct ws_eis_profile *p)
{
	static const char *const act[] = { "ENABLE", "DISABLE", "DELETE" };
	static const char *const qual[] = { "Not-Allowed", "Auto-Delete" };
	char *s = talloc_strdup(ctx, "");
	unsigned int i;

	for (i = 0; s && i < p->num_rules; i++)
		s = talloc_asprintf_append(s, "%s%s:%s", i ? "," : "", act[p->rules[i].action],
					   qual[p->rules[i].qualification]);
	return s;
}

static int pol2_parse(void *ctx, const char *s, struct ws_eis_profile *p)
{
	char *copy, *tok, *save = NULL;

	p->num_rules = 0;
	p->rules = NULL;
	if (!s || !*s)
		return 0;
	copy = talloc_strdup(ctx, s);
	p->rules = talloc_zero_array(ctx, struct ws_eis_pol2_rule, WS_EIS_MAX_RULES);
	if (!copy || !p->rules)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct ws_eis_pol2_rule *r;
		char *colon = strchr(tok, ':');

		if (!colon || p->num_rules >= WS_EIS_MAX_RULES)
			return -EINVAL;
		*colon++ = '\0';
		r = &p->rules[p->num_rules++];
		if (!strcmp(tok, "ENABLE"))
			r->action = WS_EIS_POL2_ENABLE;
		else if (!strcmp(tok, "DISABLE"))
			r->action = WS_EIS_POL2_DISABLE;
		else if (!strcmp(tok, "DELETE"))
			r->action = WS_EIS_POL2_DELETE;
		else
			return -EINVAL;
		if (!strcmp(colon, "Not-Allowed"))
			r->qualification = WS_EIS_POL2_NOT_ALLOWED;
		else if (!strcmp(colon, "Auto-Delete"))
			r->qualification = WS_EIS_POL2_AUTO_DELETE;
		else
			return -EINVAL;
	}
	return 0;
}

/* The EIS with every key component value removed, as XML text: a wrapper element in the GSMA namespace (so the
 * namespace is declared once) holding the Eis. */
static char *redacted_xml(void *ctx, const struct ws_eis *eis)
{
	struct ws_eis *copy = NULL;
	xmlDocPtr d;
	xmlNodePtr root;
	xmlNsPtr ns;
	xmlChar *mem = NULL;
	int len = 0, rc;
	char *out = NULL, *err = NULL;

	/* work on a copy: build, parse back (a deep copy), redact, build again */
	d = xmlNewDoc(BAD_CAST "1.0");
	if (!d)
		return NULL;
	root = xmlNewDocNode(d, NULL, BAD_CAST "EisStore", NULL);
	xmlDocSetRootElement(d, root);
	ns = xmlNewNs(root, BAD_CAST WS_EIS_NS, NULL);
	xmlSetNs(root, ns);
	rc = ws_eis_build(eis, root, "Eis", ns, NULL);
	if (rc == 0)
		rc = ws_eis_parse(ctx, xmlFirstElementChild(root), &copy, &err);
	xmlFreeDoc(d);
	talloc_free(err);
	if (rc < 0)
		return NULL;
	ws_eis_redact(copy);

	d = xmlNewDoc(BAD_CAST "1.0");
	root = d ? xmlNewDocNode(d, NULL, BAD_CAST "EisStore", NULL) : NULL;
	if (root) {
		xmlDocSetRootElement(d, root);
		ns = xmlNewNs(root, BAD_CAST WS_EIS_NS, NULL);
		xmlSetNs(root, ns);
		if (ws_eis_build(copy, root, "Eis", ns, NULL) == 0)
			xmlDocDumpMemoryEnc(d, &mem, &len, "UTF-8");
	}
	if (mem)
		out = talloc_strndup(ctx, (const char *)mem, (size_t)len);
	xmlFree(mem);
	xmlFreeDoc(d);
	talloc_free(copy);
	return out;
}

static const char *prop(const struct ws_eis *eis, const char *key)
{
	unsigned int i;

	for (i = 0; i < eis->num_props; i++)
		if (!strcmp(eis->props[i].key, key))
			return eis->props[i].value;
	return NULL;
}

static int store_keysets(struct sgp02_app *app, void *ctx, const char *eid, const struct ws_eis_sd *sd)
{
	unsigned int i, j, c;
	int rc;

	for (i = 0; i < sd->num_keysets; i++) {
		const struct ws_eis_keyset *ks = &sd->keysets[i];
		struct params p = { .ctx = ctx };

		p_str(&p, eid);
		p_str(&p, sd_name(sd));
		p_u64(&p, ks->version);
		p_str(&p, ks->type == WS_EIS_KS_NONE ? NULL : ws_eis_keyset_usage_name(ks->type));
		p_str(&p, ks->has_cntr ? talloc_asprintf(ctx, "%" PRIu64, ks->cntr) : NULL);
		rc = p_exec(app, &p, SMSR_STMT_KEYSET_INSERT, NULL);
		if (rc < 0)
			return rc;
		for (j = 0; j < ks->num_items; j++) {
			const struct ws_eis_key *k = &ks->items[j].key;

			if (ks->items[j].is_cert)
				continue;
			for (c = 0; c < k->num_components; c++) {
				const struct ws_eis_secret *s = &k->components[c].value;
				uint8_t nonce[KEK_NONCE_LEN], tag[KEK_TAG_LEN];
				uint8_t *ct = talloc_size(ctx, s->len + 1);
				char ad[128];
				int ad_len = key_ad(ad, sizeof(ad), eid, sd_name(sd), ks->version, k->index, c);

				if (!ct)
					return -ENOMEM;
				if (ad_len < 0)
					return ad_len;
				rc = kek_encrypt(g_reg.kek, s->data, s->len, (const uint8_t *)ad, (size_t)ad_len,
						      nonce, ct, tag);
				if (rc < 0)
					return rc;
				p = (struct params){ .ctx = ctx };
				p_str(&p, eid);
				p_str(&p, sd_name(sd));
				p_u64(&p, ks->version);
				p_u64(&p, k->index);
				p_u64(&p, c);
				p_u64(&p, k->components[c].type);
				p_bytes(&p, k->kcv.data, k->kcv.len);
				p_bytes(&p, nonce, sizeof(nonce));
				p_bytes(&p, ct, s->len);
				p_bytes(&p, tag, sizeof(tag));
				rc = p_exec(app, &p, SMSR_STMT_KEY_INSERT, NULL);
				if (rc < 0)
					return rc;
			}
		}
	}
	return 0;
}

static int store_txn(struct sgp02_app *app, void *ctx, const struct ws_eis *eis, const char *actor,
		     const char *action, const char **what)
{
	const struct ws_eis_bytes *cert = first_cert(&eis->ecasd);
	struct params p = { .ctx = ctx };
	char *xml = redacted_xml(ctx, eis);
	unsigned int i;
	int rc;

	if (!xml)
		return -EINVAL;
	p_str(&p, eis->eid);
	p_str(&p, eis->eum_id);
	p_str(&p, eis->platform_type);
	p_str(&p, eis->platform_version);
	p_u64(&p, eis->remaining_memory);
	p_u64(&p, eis->available_memory);
	p_str(&p, prop(eis, "device-msisdn"));
	p_str(&p, eis->smsr_id);
	p_str(&p, eis->production_date);
	p_bytes(&p, eis->isd_p_loadfile_aid.data, eis->isd_p_loadfile_aid.len);
	p_bytes(&p, eis->isd_p_module_aid.data, eis->isd_p_module_aid.len);
	p_str(&p, eis->eum_signed_info_xml);
	p_str(&p, eis->eum_signature_xml);
	p_str(&p, eis->last_audit_date);
	p_bytes(&p, eis->ecasd.aid.data, eis->ecasd.aid.len);
	p_bytes(&p, eis->ecasd.sin.data, eis->ecasd.sin.len);
	p_bytes(&p, eis->ecasd.sdin.data, eis->ecasd.sdin.len);
	p_bytes(&p, tars_concat(ctx, &eis->ecasd), eis->ecasd.num_tars * 3);
	if (cert)
		p_bytes(&p, cert->data, cert->len);
	else
		p_str(&p, NULL);
	p_bool(&p, eis->caps.cattp_support);
	p_str(&p, eis->caps.cattp_version);
	p_bool(&p, eis->caps.http_support);
	p_str(&p, eis->caps.http_version);
	p_str(&p, eis->caps.secure_packet_version);
	p_str(&p, eis->caps.remote_provisioning_version);
	p_bytes(&p, eis->isd_r.aid.data, eis->isd_r.aid.len);
	p_bytes(&p, eis->isd_r.sin.data, eis->isd_r.sin.len);
	p_bytes(&p, eis->isd_r.sdin.data, eis->isd_r.sdin.len);
	p_bytes(&p, tars_concat(ctx, &eis->isd_r), eis->isd_r.num_tars * 3);
	p_str(&p, xml);
	p_str(&p, actor);
	*what = "eid";
	rc = p_exec(app, &p, SMSR_STMT_EIS_INSERT, NULL);
	if (rc < 0)
		return rc;

	*what = "iccid";
	for (i = 0; i < eis->num_profiles; i++) {
		const struct ws_eis_profile *pr = &eis->profiles[i];

		p = (struct params){ .ctx = ctx };
		p_str(&p, eis->eid);
		p_bytes(&p, pr->isd_p_aid.data, pr->isd_p_aid.len);
		p_str(&p, pr->iccid);
		p_str(&p, pr->mno_id);
		p_str(&p, ws_eis_profile_state_name(pr->state));
		p_bool(&p, pr->fallback);
		p_str(&p, pr->imsi);
		p_str(&p, pr->msisdn);
		p_str(&p, pr->smdp_id);
		p_str(&p, pr->profile_type);
		p_u64(&p, pr->allocated_memory);
		p_str(&p, pr->has_free_memory ? talloc_asprintf(ctx, "%" PRIu64, pr->free_memory) : NULL);
		p_str(&p, pol2_text(ctx, pr));
		p_u64(&p, i);
		rc = p_exec(app, &p, SMSR_STMT_PROFILE_INSERT, NULL);
		if (rc < 0)
			return rc;
	}
	*what = NULL;
	rc = store_keysets(app, ctx, eis->eid, &eis->isd_r);
	if (rc == 0)
		rc = store_keysets(app, ctx, eis->eid, &eis->ecasd);
	if (rc < 0)
		return rc;

	p = (struct params){ .ctx = ctx };
	p_str(&p, eis->eid);
	p_str(&p, NULL);
	p_str(&p, actor);
	p_str(&p, action);
	p_str(&p, talloc_asprintf(ctx, "EUM %s, %u profile(s)", eis->eum_id, eis->num_profiles));
	return p_exec(app, &p, SMSR_STMT_AUDIT_ADD, NULL);
}

int smsr_eis_store(struct sgp02_app *app, const struct ws_eis *eis, const char *actor_oid, const char *action,
		   const char **what)
{
	void *tmp;
	const char *w = NULL;
	int rc;

	if (!g_reg.kek)
		return -ENOKEY;
	tmp = talloc_named_const(NULL, 0, "smsr_eis_store");
	if (!tmp)
		return -ENOMEM;
	rc = db_begin(app->db);
	if (rc == 0) {
		rc = store_txn(app, tmp, eis, actor_oid, action, &w);
		if (rc == 0)
			rc = db_commit(app->db);
		else
			db_rollback(app->db);
	}
	talloc_free(tmp);
	if (what)
		*what = w;
	return rc < 0 ? rc : 0;
}

/* ---------------------------------------------------------------- loading */

static const char *col(PGresult *res, int row, int c)
{
	return PQgetisnull(res, row, c) ? NULL : PQgetvalue(res, row, c);
}

static int hex_bytes(void *ctx, const char *hex, struct ws_eis_bytes *b)
{
	size_t n = hex ? strlen(hex) / 2 : 0;
	size_t i;

	b->data = NULL;
	b->len = 0;
	if (!n)
		return 0;
	b->data = talloc_size(ctx, n);
	if (!b->data)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		b->data[i] = (uint8_t)v;
	}
	b->len = n;
	return 0;
}

static char *dup_col(void *ctx, PGresult *res, int row, int c)
{
	const char *s = col(res, row, c);

	return s ? talloc_strdup(ctx, s) : NULL;
}

static int load_profiles(struct sgp02_app *app, struct ws_eis *eis)
{
	const char *params[1] = { eis->eid };
	PGresult *res;
	int rc, i, n;

	rc = db_exec(app->db, SMSR_STMT_PROFILES_GET, 1, params, &res);
	if (rc < 0)
		return rc;
	n = PQntuples(res);
	if (n > WS_EIS_MAX_PROFILES) {
		PQclear(res);
		return -E2BIG;
	}
	eis->profiles = talloc_zero_array(eis, struct ws_eis_profile, n ? n : 1);
	eis->num_profiles = 0;
	rc = eis->profiles ? 0 : -ENOMEM;
	for (i = 0; rc == 0 && i < n; i++) {
		struct ws_eis_profile *p = &eis->profiles[i];
		const char *st = col(res, i, 3);

		p->iccid = dup_col(eis, res, i, 0);
		rc = hex_bytes(eis, col(res, i, 1), &p->isd_p_aid);
		p->mno_id = dup_col(eis, res, i, 2);
		p->state = !strcmp(st, "Enabled") ? WS_EIS_PROFILE_ENABLED :
			   !strcmp(st, "Disabled") ? WS_EIS_PROFILE_DISABLED : WS_EIS_PROFILE_CREATED;
		p->fallback = !strcmp(col(res, i, 4), "t");
		p->imsi = dup_col(eis, res, i, 5);
		p->msisdn = dup_col(eis, res, i, 6);
		p->smdp_id = dup_col(eis, res, i, 7);
		p->profile_type = dup_col(eis, res, i, 8);
		p->allocated_memory = strtoull(col(res, i, 9), NULL, 10);
		p->has_free_memory = col(res, i, 10) != NULL;
		if (p->has_free_memory)
			p->free_memory = strtoull(col(res, i, 10), NULL, 10);
		if (rc == 0)
			rc = pol2_parse(eis, col(res, i, 11), p);
		eis->num_profiles++;
	}
	PQclear(res);
	return rc;
}

static struct ws_eis_keyset *find_keyset(struct ws_eis *eis, const char *sd, unsigned int version)
{
	struct ws_eis_sd *s = !strcmp(sd, "ECASD") ? &eis->ecasd : &eis->isd_r;
	unsigned int i;

	for (i = 0; i < s->num_keysets; i++)
		if (s->keysets[i].version == version)
			return &s->keysets[i];
	return NULL;
}

static int load_counters(struct sgp02_app *app, struct ws_eis *eis)
{
	const char *params[1] = { eis->eid };
	PGresult *res;
	int rc, i;

	rc = db_exec(app->db, SMSR_STMT_KEYSETS_GET, 1, params, &res);
	if (rc < 0)
		return rc;
	for (i = 0; i < PQntuples(res); i++) {
		struct ws_eis_keyset *ks = find_keyset(eis, col(res, i, 0), (unsigned int)atoi(col(res, i, 1)));

		if (!ks)
			continue;
		ks->has_cntr = col(res, i, 2) != NULL;
		ks->cntr = ks->has_cntr ? strtoull(col(res, i, 2), NULL, 10) : 0;
	}
	PQclear(res);
	return 0;
}

int smsr_eis_load(struct sgp02_app *app, void *ctx, const char *eid, struct ws_eis **out)
{
	const char *params[1] = { eid };
	struct ws_eis *eis = NULL;
	PGresult *res;
	xmlDocPtr d;
	xmlNodePtr root;
	char *err = NULL;
	const char *xml;
	int rc;

	rc = db_exec(app->db, SMSR_STMT_EIS_GET, 1, params, &res);
	if (rc < 0)
		return rc;
	if (PQntuples(res) != 1 || !(xml = col(res, 0, 0))) {
		PQclear(res);
		return -ENOENT;
	}
	d = ws_eis_read_xml(ctx, (const uint8_t *)xml, strlen(xml), NULL);
	root = d ? xmlDocGetRootElement(d) : NULL;
	rc = root && xmlFirstElementChild(root) ? ws_eis_parse(ctx, xmlFirstElementChild(root), &eis, &err) : -EIO;
	xmlFreeDoc(d);
	if (rc < 0) {
		LOGP(DWS, LOGL_ERROR, "smsr: stored EIS %s does not parse: %s\n", eid, err ? err : strerror(-rc));
		talloc_free(err);
		PQclear(res);
		return -EIO;
	}
	/* the columns are the current state */
	talloc_free(eis->eum_signed_info_xml);
	eis->eum_signed_info_xml = dup_col(eis, res, 0, 1);
	talloc_free(eis->eum_signature_xml);
	eis->eum_signature_xml = dup_col(eis, res, 0, 2);
	eis->remaining_memory = col(res, 0, 3) ? strtoull(col(res, 0, 3), NULL, 10) : 0;
	eis->available_memory = col(res, 0, 4) ? strtoull(col(res, 0, 4), NULL, 10) : 0;
	talloc_free(eis->last_audit_date);
	eis->last_audit_date = dup_col(eis, res, 0, 5);
	talloc_free(eis->smsr_id);
	eis->smsr_id = dup_col(eis, res, 0, 6);
	PQclear(res);

	rc = load_profiles(app, eis);
	if (rc == 0)
		rc = load_counters(app, eis);
	if (rc < 0) {
		talloc_free(eis);
		return rc;
	}
	*out = eis;
	return 0;
}

static struct ws_eis_key *find_key(struct ws_eis_keyset *ks, unsigned int index)
{
	unsigned int i;

	for (i = 0; i < ks->num_items; i++)
		if (!ks->items[i].is_cert && ks->items[i].key.index == index)
			return &ks->items[i].key;
	return NULL;
}

int smsr_eis_load_secrets(struct sgp02_app *app, struct ws_eis *eis)
{
	const char *params[1] = { eis->eid };
	PGresult *res;
	int rc, i;

	if (!g_reg.kek)
		return -ENOKEY;
	rc = db_exec(app->db, SMSR_STMT_KEYS_GET, 1, params, &res);
	if (rc < 0)
		return rc;
	rc = 0;
	for (i = 0; rc == 0 && i < PQntuples(res); i++) {
		const char *sd = col(res, i, 0);
		unsigned int version = (unsigned int)atoi(col(res, i, 1));
		unsigned int index = (unsigned int)atoi(col(res, i, 2));
		unsigned int comp = (unsigned int)atoi(col(res, i, 3));
		struct ws_eis_keyset *ks = find_keyset(eis, sd, version);
		struct ws_eis_key *k = ks ? find_key(ks, index) : NULL;
		struct ws_eis_bytes nonce, ct, tag;
		struct ws_eis_secret *s;
		char ad[128];
		int ad_len;

		if (!k || comp >= k->num_components) {
			rc = -EIO;
			break;
		}
		s = &k->components[comp].value;
		ad_len = key_ad(ad, sizeof(ad), eis->eid, sd, version, index, comp);
		if (hex_bytes(eis, col(res, i, 4), &nonce) || hex_bytes(eis, col(res, i, 5), &ct) ||
		    hex_bytes(eis, col(res, i, 6), &tag) || ad_len < 0 || nonce.len != KEK_NONCE_LEN ||
		    tag.len != KEK_TAG_LEN) {
			rc = -EIO;
			break;
		}
		if (s->data)
			OPENSSL_cleanse(s->data, s->len);
		talloc_free(s->data);
		s->data = talloc_size(eis, ct.len + 1);
		s->len = 0;
		if (!s->data) {
			rc = -ENOMEM;
			break;
		}
		rc = kek_decrypt(g_reg.kek, nonce.data, ct.data, ct.len, tag.data, (const uint8_t *)ad,
				      (size_t)ad_len, s->data);
		if (rc == 0)
			s->len = ct.len;
		talloc_free(nonce.data);
		talloc_free(ct.data);
		talloc_free(tag.data);
	}
	PQclear(res);
	return rc;
}

/* ---------------------------------------------------------------- views */

/* drop every Key (not the Certificates) from the key sets of a security domain: the XSD allows 0 keys per set */
static void drop_keys(struct ws_eis_sd *sd)
{
	unsigned int i, j, n;

	for (i = 0; i < sd->num_keysets; i++) {
		struct ws_eis_keyset *ks = &sd->keysets[i];

		for (j = 0, n = 0; j < ks->num_items; j++)
			if (ks->items[j].is_cert)
				ks->items[n++] = ks->items[j];
		ks->num_items = n;
	}
}

/*! GetEIS views (SGP02.md §10.12, §3.1 notes, §5.3/§5.4):
 *  - operator: the platform data and the signed part as registered, only the ProfileInfo whose Mno-id is the
 *    operator's (ws_eis_keep_mno(): audit records about other MNOs' profiles go too);
 *  - SM-DP: the platform data, the signed part (it needs the ECASD certificate for key establishment, §9.2), the
 *    ProfileInfo of the profiles it manages (Smdp-id is its OID) and, for eligibility, the memory figures which
 *    are platform data anyway; the audit trail is left out (it is about other parties' profiles too);
 *  - both: no key at all (ISD-R and ECASD keys are removed; certificates, key set versions and types stay). */
void smsr_eis_view(struct ws_eis *eis, enum smsr_role role, const char *oid)
{
	unsigned int i, n;

	if (role == SMSR_ROLE_SMDP) {
		for (i = 0, n = 0; i < eis->num_profiles; i++)
			if (oid && eis->profiles[i].smdp_id && !strcmp(eis->profiles[i].smdp_id, oid))
				eis->profiles[n++] = eis->profiles[i];
		eis->num_profiles = n;
		eis->num_audit = 0;
		eis->has_audit_trail = false;
		ws_eis_redact(eis);
	} else {
		ws_eis_keep_mno(eis, oid);
	}
	drop_keys(&eis->isd_r);
	drop_keys(&eis->ecasd);
}

/* ---------------------------------------------------------------- VTY: show smsr eis */

/* Key check value of an AES key (GP Card Spec Amd D §6.2.2.3 / the fleet's EIS: the first 3 bytes of the key
 * encrypting 16 bytes of 01). \returns 0, -EINVAL (not an AES key length), -EIO. */
static int aes_kcv(const struct ws_eis_secret *k, uint8_t kcv[3])
{
	static const uint8_t ones[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	const EVP_CIPHER *c = k->len == 16 ? EVP_aes_128_ecb() : k->len == 24 ? EVP_aes_192_ecb() :
			      k->len == 32 ? EVP_aes_256_ecb() : NULL;
	EVP_CIPHER_CTX *x;
	uint8_t out[32];
	int n, rc = -EIO;

	if (!c)
		return -EINVAL;
	x = EVP_CIPHER_CTX_new();
	if (x && EVP_EncryptInit_ex2(x, c, k->data, NULL, NULL) == 1 && EVP_CIPHER_CTX_set_padding(x, 0) == 1 &&
	    EVP_EncryptUpdate(x, out, &n, ones, sizeof(ones)) == 1 && n == 16) {
		memcpy(kcv, out, 3);
		rc = 0;
	}
	OPENSSL_cleanse(out, sizeof(out));
	EVP_CIPHER_CTX_free(x);
	return rc;
}

static void show_keys(struct vty *vty, const struct ws_eis_sd *sd, bool decrypted)
{
	unsigned int i, j, c;

	for (i = 0; i < sd->num_keysets; i++) {
		const struct ws_eis_keyset *ks = &sd->keysets[i];

		vty_out(vty, " keyset %s version %u type %s counter %s%" PRIu64 "%s", sd_name(sd), ks->version,
			ks->type == WS_EIS_KS_NONE ? "-" : ws_eis_keyset_usage_name(ks->type),
			ks->has_cntr ? "" : "(absent) ", ks->cntr, VTY_NEWLINE);
		for (j = 0; j < ks->num_items; j++) {
			const struct ws_eis_key *k = &ks->items[j].key;

			if (ks->items[j].is_cert) {
				vty_out(vty, "  certificate index %u CA %s, %zu bytes%s", ks->items[j].cert.index,
					ks->items[j].cert.ca_id, ks->items[j].cert.value.len, VTY_NEWLINE);
				continue;
			}
			for (c = 0; c < k->num_components; c++) {
				const struct ws_eis_key_component *kc = &k->components[c];
				uint8_t kcv[3];
				const char *check = "not decrypted";

				if (decrypted) {
					if (kc->type != 0x88 || aes_kcv(&kc->value, kcv) < 0)
						check = "decrypted (no AES KCV to compare)";
					else if (k->kcv.len >= 3 && !memcmp(kcv, k->kcv.data, 3))
						check = "decrypted, KCV verified";
					else
						check = "decrypted, KCV MISMATCH";
				}
				vty_out(vty, "  key index %u component %u type %02X, %zu bytes: %s%s", k->index, c,
					kc->type, kc->value.len, check, VTY_NEWLINE);
			}
		}
	}
}

static int show_eis(struct vty *vty, const char *eid)
{
	void *tmp = talloc_named_const(g_reg.ctx, 0, "show_eis");
	struct ws_eis *eis = NULL;
	unsigned int i;
	int rc, krc;

	rc = smsr_eis_load(g_app, tmp, eid, &eis);
	if (rc < 0) {
		vty_out(vty, "%% %s%s", rc == -ENOENT ? "EID not registered" : strerror(-rc), VTY_NEWLINE);
		talloc_free(tmp);
		return CMD_WARNING;
	}
	krc = smsr_eis_load_secrets(g_app, eis);
	vty_out(vty, "EID %s, EUM %s, SM-SR %s, platform %s %s%s", eis->eid, eis->eum_id, eis->smsr_id,
		eis->platform_type, eis->platform_version, VTY_NEWLINE);
	vty_out(vty, " memory: remaining %" PRIu64 ", available for profiles %" PRIu64 ", last audit %s%s",
		eis->remaining_memory, eis->available_memory, eis->last_audit_date ? eis->last_audit_date : "never",
		VTY_NEWLINE);
	for (i = 0; i < eis->num_profiles; i++) {
		const struct ws_eis_profile *p = &eis->profiles[i];

		vty_out(vty, " profile %s %s MNO %s%s%s%s", p->iccid, ws_eis_profile_state_name(p->state), p->mno_id,
			p->fallback ? " fallback" : "", p->smdp_id ? " SM-DP " : "", p->smdp_id ? p->smdp_id : "");
		vty_out(vty, "%s", VTY_NEWLINE);
	}
	if (krc < 0)
		vty_out(vty, " key components: cannot decrypt: %s%s",
			krc == -EBADMSG ? "authentication failed (wrong key-encryption-key or altered row)" :
			krc == -ENOKEY ? "no key-encryption-key" : strerror(-krc), VTY_NEWLINE);
	show_keys(vty, &eis->isd_r, krc == 0);
	show_keys(vty, &eis->ecasd, krc == 0);
	talloc_free(tmp);	/* the EIS destructor wipes the decrypted values */
	return CMD_SUCCESS;
}
