/* Web-service endpoints of a daemon: config node, HTTPS server, services; see ws_daemon.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/rate_ctr.h>
#include <osmocom/vty/vty.h>
#include <osmocom/vty/command.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/app.h>
#include <sgp02/common/conn.h>
#include <sgp02/common/http_server.h>
#include <sgp02/common/http_client.h>
#include <sgp02/ws/soap.h>
#include <sgp02/ws/ws_http.h>
#include <sgp02/ws/ws_dbstore.h>
#include <sgp02/ws/ws_daemon.h>

/* Configuration, filled by the VTY. Strings are talloc'd on the app context. */
struct ws_daemon_cfg {
	char *listen_addr;
	uint16_t listen_port;
	bool tls;
	char *cert, *key, *client_ca;
	char *out_ca, *out_cert, *out_key;
	char *schema;
	char *wsdl_dir;
	char *entity_id;
	char *public_url;
	unsigned long max_body;
	unsigned long retention_s;
	unsigned int max_conns;
	/* "service NAME path PATH" overrides of the default endpoint paths */
	struct {
		char *name;
		char *path;
	} paths[16];
	unsigned int num_paths;
};

struct ws_daemon {
	struct ws_schema *schema;
	struct ws_http *wh;
	struct http_server *srv;
	struct http_client *hc;
	struct ws_dbstore *store;
	struct osmo_timer_list expire_timer;
	struct {
		const struct ws_daemon_service *def;
		struct ws_service *svc;
	} *svcs;
	unsigned int num_svcs;
	void *ctx;
};

static struct ws_daemon_cfg g_cfg;
static struct ws_daemon *g_wd;
static struct sgp02_app *g_wd_app;

#define WS_NODE _SGP02_LAST_NODE

static struct cmd_node ws_node = {
	WS_NODE,
	"%s(config-web-service)# ",
	1,
};

static void set_str(char **dst, const char *val)
{
	talloc_free(*dst);
	*dst = val ? talloc_strdup(g_wd_app->ctx, val) : NULL;
}

DEFUN(cfg_ws, cfg_ws_cmd, "web-service",
      "Configure the SOAP web-service endpoints (ES interfaces)\n")
{
	vty->node = WS_NODE;
	return CMD_SUCCESS;
}

DEFUN(cfg_ws_listen, cfg_ws_listen_cmd, "listen A.B.C.D <0-65535>",
      "Address and port of the HTTPS server\n" "IPv4 address\n" "TCP port (0: any free port)\n")
{
	set_str(&g_cfg.listen_addr, argv[0]);
	g_cfg.listen_port = atoi(argv[1]);
	return CMD_SUCCESS;
}

DEFUN(cfg_ws_tls, cfg_ws_tls_cmd, "tls certificate FILE key FILE",
      "TLS of the server\n" "Server certificate chain (PEM)\n" "File\n" "Its private key (PEM)\n" "File\n")
{
	set_str(&g_cfg.cert, argv[0]);
	set_str(&g_cfg.key, argv[1]);
	g_cfg.tls = true;
	return CMD_SUCCESS;
}

DEFUN(cfg_ws_client_ca, cfg_ws_client_ca_cmd, "tls client-ca FILE",
      "TLS of the server\n"
      "Require client certificates verified against these CAs (mutual TLS; the GSMA CI in production)\n"
      "CA bundle (PEM)\n")
{
	set_str(&g_cfg.client_ca, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_ws_no_tls, cfg_ws_no_tls_cmd, "no tls",
      NO_STR "Plain HTTP without TLS: refused on anything but a loopback address (development only)\n")
{
	g_cfg.tls = false;
	set_str(&g_cfg.cert, NULL);
	set_str(&g_cfg.key, NULL);
	set_str(&g_cfg.client_ca, NULL);
	return CMD_SUCCESS;
}

DEFUN(cfg_ws_client, cfg_ws_client_cmd, "client ca FILE certificate FILE key FILE",
      "TLS of the calls and callbacks we send\n" "CA bundle to verify servers\n" "File\n"
      "Our client certificate (PEM)\n" "File\n" "Its private key (PEM)\n" "File\n")
{
	set_str(&g_cfg.out_ca, argv[0]);
	set_str(&g_cfg.out_cert, argv[1]);
	set_str(&g_cfg.out_key, argv[2]);
	return CMD_SUCCESS;
}

DEFUN(cfg_ws_schema, cfg_ws_schema_cmd, "schema FILE",
      "XSD every request body is validated against (compiled once at start)\n" "File\n")
{
	set_str(&g_cfg.schema, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_ws_wsdl_dir, cfg_ws_wsdl_dir_cmd, "wsdl-directory DIR",
      "Directory of the WSDL files served at <endpoint>?wsdl\n" "Directory\n")
{
	set_str(&g_cfg.wsdl_dir, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_ws_entity, cfg_ws_entity_cmd, "entity-id OID",
      "Our GSMA entity identifier (OID), used in wsa:From and MessageIDs\n" "e.g. 1.3.6.1.4.1.99999.20\n")
{
	set_str(&g_cfg.entity_id, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_ws_public_url, cfg_ws_public_url_cmd, "public-url URL",
      "Base URL under which requesters reach us (soap:address in the WSDLs we serve)\n"
      "e.g. https://smsr.example.net:8443\n")
{
	set_str(&g_cfg.public_url, argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_ws_max_body, cfg_ws_max_body_cmd, "max-body <1024-16777216>",
      "Largest request body accepted\n" "Bytes\n")
{
	g_cfg.max_body = atol(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_ws_max_conns, cfg_ws_max_conns_cmd, "max-connections <1-100000>",
      "Most HTTPS connections open at once (more are answered 503)\n" "Connections\n")
{
	g_cfg.max_conns = atoi(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_ws_retention, cfg_ws_retention_cmd, "duplicate-retention <60-31536000>",
      "How long answered requests are kept to answer a duplicate MessageID the same way\n" "Seconds\n")
{
	g_cfg.retention_s = atol(argv[0]);
	return CMD_SUCCESS;
}

DEFUN(cfg_ws_service_path, cfg_ws_service_path_cmd, "service NAME path PATH",
      "A SOAP service of this daemon (show web-service lists them)\n" "Service name, e.g. ES4SmSrService\n"
      "Serve it at another endpoint path\n" "Path, e.g. /smsr/ES4\n")
{
	unsigned int i;

	if (argv[1][0] != '/' || strpbrk(argv[1], "?# \t")) {
		vty_out(vty, "%% a path starts with / and has no query, fragment or blanks%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	for (i = 0; i < g_cfg.num_paths; i++) {
		if (!strcmp(g_cfg.paths[i].name, argv[0]))
			break;
	}
	if (i == ARRAY_SIZE(g_cfg.paths)) {
		vty_out(vty, "%% too many path overrides%s", VTY_NEWLINE);
		return CMD_WARNING;
	}
	if (i == g_cfg.num_paths) {
		g_cfg.paths[i].name = NULL;
		g_cfg.paths[i].path = NULL;
		g_cfg.num_paths++;
	}
	set_str(&g_cfg.paths[i].name, argv[0]);
	set_str(&g_cfg.paths[i].path, argv[1]);
	return CMD_SUCCESS;
}

/* The configured path of a service, else its default. */
static const char *service_path(const struct ws_daemon_service *def)
{
	unsigned int i;

	for (i = 0; i < g_cfg.num_paths; i++) {
		if (!strcmp(g_cfg.paths[i].name, def->name))
			return g_cfg.paths[i].path;
	}
	return def->path;
}

static int config_write_ws(struct vty *vty)
{
	unsigned int i;

	vty_out(vty, "web-service%s", VTY_NEWLINE);
	vty_out(vty, " listen %s %u%s", g_cfg.listen_addr, g_cfg.listen_port, VTY_NEWLINE);
	if (g_cfg.tls) {
		vty_out(vty, " tls certificate %s key %s%s", g_cfg.cert, g_cfg.key, VTY_NEWLINE);
		if (g_cfg.client_ca)
			vty_out(vty, " tls client-ca %s%s", g_cfg.client_ca, VTY_NEWLINE);
	} else {
		vty_out(vty, " no tls%s", VTY_NEWLINE);
	}
	if (g_cfg.out_ca)
		vty_out(vty, " client ca %s certificate %s key %s%s", g_cfg.out_ca, g_cfg.out_cert, g_cfg.out_key,
			VTY_NEWLINE);
	if (g_cfg.schema)
		vty_out(vty, " schema %s%s", g_cfg.schema, VTY_NEWLINE);
	if (g_cfg.wsdl_dir)
		vty_out(vty, " wsdl-directory %s%s", g_cfg.wsdl_dir, VTY_NEWLINE);
	if (g_cfg.entity_id)
		vty_out(vty, " entity-id %s%s", g_cfg.entity_id, VTY_NEWLINE);
	if (g_cfg.public_url)
		vty_out(vty, " public-url %s%s", g_cfg.public_url, VTY_NEWLINE);
	vty_out(vty, " max-body %lu%s", g_cfg.max_body, VTY_NEWLINE);
	vty_out(vty, " max-connections %u%s", g_cfg.max_conns, VTY_NEWLINE);
	vty_out(vty, " duplicate-retention %lu%s", g_cfg.retention_s, VTY_NEWLINE);
	for (i = 0; i < g_cfg.num_paths; i++)
		vty_out(vty, " service %s path %s%s", g_cfg.paths[i].name, g_cfg.paths[i].path, VTY_NEWLINE);
	return CMD_SUCCESS;
}

static const char *base_url(void *ctx)
{
	if (g_cfg.public_url)
		return g_cfg.public_url;
	return talloc_asprintf(ctx, "%s://%s:%u", g_cfg.tls ? "https" : "http", g_cfg.listen_addr,
			       ws_daemon_port());
}

DEFUN(show_ws, show_ws_cmd, "show web-service",
      SHOW_STR "Web-service endpoints and their counters\n")
{
	unsigned int i;
	void *tmp;

	if (!g_wd) {
		vty_out(vty, "Web services: not started%s", VTY_NEWLINE);
		return CMD_SUCCESS;
	}
	tmp = talloc_new(NULL);
	vty_out(vty, "Web services on %s (%s), schema %s%s", base_url(tmp),
		g_cfg.tls ? (g_cfg.client_ca ? "mutual TLS" : "TLS, no client certificates") : "plain HTTP",
		g_cfg.schema ? g_cfg.schema : "(none: no validation)", VTY_NEWLINE);
	for (i = 0; i < g_wd->num_svcs; i++) {
		struct rate_ctr_group *cg = ws_service_ctrg(g_wd->svcs[i].svc);
		vty_out(vty, " %-28s %s%s  requests %" PRIu64 ", faults %" PRIu64 "/%" PRIu64 ", duplicates %" PRIu64
			"%s", g_wd->svcs[i].def->name, base_url(tmp), service_path(g_wd->svcs[i].def),
			rate_ctr_group_get_ctr(cg, WS_CTR_REQUESTS)->current,
			rate_ctr_group_get_ctr(cg, WS_CTR_FAULT_SENDER)->current,
			rate_ctr_group_get_ctr(cg, WS_CTR_FAULT_RECEIVER)->current,
			rate_ctr_group_get_ctr(cg, WS_CTR_DUPLICATES)->current, VTY_NEWLINE);
	}
	vty_out(vty, " callbacks in flight: %u%s", ws_http_callbacks_pending(g_wd->wh), VTY_NEWLINE);
	talloc_free(tmp);
	return CMD_SUCCESS;
}

void ws_daemon_vty_init(struct sgp02_app *app, uint16_t default_port)
{
	g_wd_app = app;
	g_cfg.listen_addr = talloc_strdup(app->ctx, "127.0.0.1");
	g_cfg.listen_port = default_port;
	g_cfg.max_body = WS_MAX_BODY_DEFAULT;
	g_cfg.retention_s = 7 * 24 * 3600;
	g_cfg.max_conns = 1000;

	install_element(CONFIG_NODE, &cfg_ws_cmd);
	install_node(&ws_node, config_write_ws);
	install_element(WS_NODE, &cfg_ws_listen_cmd);
	install_element(WS_NODE, &cfg_ws_tls_cmd);
	install_element(WS_NODE, &cfg_ws_client_ca_cmd);
	install_element(WS_NODE, &cfg_ws_no_tls_cmd);
	install_element(WS_NODE, &cfg_ws_client_cmd);
	install_element(WS_NODE, &cfg_ws_schema_cmd);
	install_element(WS_NODE, &cfg_ws_wsdl_dir_cmd);
	install_element(WS_NODE, &cfg_ws_entity_cmd);
	install_element(WS_NODE, &cfg_ws_public_url_cmd);
	install_element(WS_NODE, &cfg_ws_max_body_cmd);
	install_element(WS_NODE, &cfg_ws_max_conns_cmd);
	install_element(WS_NODE, &cfg_ws_retention_cmd);
	install_element(WS_NODE, &cfg_ws_service_path_cmd);
	install_element_ve(&show_ws_cmd);
}

/* Forget answered requests past their retention, once an hour. */
static void expire_cb(void *data)
{
	int rc = ws_dbstore_expire(g_wd->store);

	if (rc > 0)
		LOGP(DWS, LOGL_INFO, "forgot %d answered requests past their retention\n", rc);
	osmo_timer_schedule(&g_wd->expire_timer, 3600, 0);
}

static bool is_loopback(const char *addr)
{
	return !strncmp(addr, "127.", 4);
}

int ws_daemon_start(struct sgp02_app *app, const struct ws_daemon_service *svcs, unsigned int n)
{
	struct http_server_cfg scfg = { 0 };
	struct http_client_cfg ccfg = { 0 };
	struct ws_http_cfg wcfg = { 0 };
	struct tls_ctx *tls = NULL;
	const char *own_base;
	unsigned int i;

	if (!g_cfg.tls && !is_loopback(g_cfg.listen_addr)) {
		LOGP(DWS, LOGL_FATAL, "web-service: plain HTTP is only allowed on a loopback address, not %s: "
		     "configure 'tls certificate ... key ...'\n", g_cfg.listen_addr);
		return -EINVAL;
	}
	if (g_cfg.tls && !g_cfg.client_ca)
		LOGP(DWS, LOGL_NOTICE, "web-service: no 'tls client-ca': requesters are not authenticated by "
		     "certificate\n");

	for (i = 0; i < g_cfg.num_paths; i++) {
		unsigned int j;
		for (j = 0; j < n && strcmp(svcs[j].name, g_cfg.paths[i].name); j++)
			;
		if (j == n) {
			LOGP(DWS, LOGL_FATAL, "web-service: 'service %s path ...': no such service here\n",
			     g_cfg.paths[i].name);
			return -EINVAL;
		}
	}

	g_wd = talloc_zero(app->ctx, struct ws_daemon);
	g_wd->ctx = g_wd;
	if (g_cfg.schema) {
		g_wd->schema = ws_schema_load(g_wd, g_cfg.schema);
		if (!g_wd->schema) {
			LOGP(DWS, LOGL_FATAL, "web-service: cannot load the schema %s\n", g_cfg.schema);
			goto fail;
		}
	} else {
		LOGP(DWS, LOGL_ERROR, "web-service: no 'schema' configured: request bodies are NOT validated\n");
	}
	if (g_cfg.tls) {
		tls = tls_server_ctx_new(g_wd, g_cfg.cert, g_cfg.key, g_cfg.client_ca);
		if (!tls)
			goto fail;
	}
	ccfg.ca_file = g_cfg.out_ca;
	ccfg.cert_file = g_cfg.out_cert;
	ccfg.key_file = g_cfg.out_key;
	g_wd->hc = http_client_alloc(g_wd, &ccfg);
	if (!g_wd->hc)
		goto fail;
	g_wd->store = ws_dbstore_alloc(g_wd, app->db, g_cfg.retention_s);

	wcfg.wsdl_dir = g_cfg.wsdl_dir;
	wcfg.client = g_wd->hc;
	/* soap:address of the WSDLs we serve: the public URL, else what 'listen' says (unknown before the
	 * server starts when the port is 0: then the WSDLs keep their placeholder) */
	if (g_cfg.public_url || g_cfg.listen_port)
		wcfg.public_base_url = base_url(g_wd);
	g_wd->wh = ws_http_alloc(g_wd, &wcfg);
	if (!g_wd->wh)
		goto fail;

	scfg.addr = g_cfg.listen_addr;
	scfg.port = g_cfg.listen_port;
	scfg.tls = tls;
	scfg.max_body_bytes = g_cfg.max_body;
	scfg.max_conns = g_cfg.max_conns;
	g_wd->srv = http_server_start(g_wd, &scfg, ws_http_handler, g_wd->wh);
	if (!g_wd->srv) {
		LOGP(DWS, LOGL_FATAL, "web-service: cannot listen on %s:%u\n", g_cfg.listen_addr, g_cfg.listen_port);
		goto fail;
	}

	own_base = base_url(g_wd);
	g_wd->svcs = talloc_zero_array(g_wd, typeof(*g_wd->svcs), n);
	for (i = 0; i < n; i++) {
		const char *path = service_path(&svcs[i]);
		struct ws_service_cfg c = {
			.name = svcs[i].name,
			.path = path,
			.entity_id = g_cfg.entity_id ? g_cfg.entity_id : "0",
			.max_body = g_cfg.max_body,
			.wsdl_file = svcs[i].wsdl_file,
		};
		c.own_address = g_cfg.entity_id ?
			talloc_asprintf(g_wd, "%s%s?EntityId=%s", own_base, path, g_cfg.entity_id) :
			talloc_asprintf(g_wd, "%s%s", own_base, path);
		g_wd->svcs[i].def = &svcs[i];
		g_wd->svcs[i].svc = ws_service_alloc(g_wd, &c, g_wd->schema, svcs[i].ops);
		if (!g_wd->svcs[i].svc || ws_http_add_service(g_wd->wh, g_wd->svcs[i].svc) < 0) {
			LOGP(DWS, LOGL_FATAL, "web-service: cannot set up %s\n", svcs[i].name);
			goto fail;
		}
		ws_service_set_store(g_wd->svcs[i].svc, &ws_dbstore_ops, g_wd->store);
		g_wd->num_svcs++;
		LOGP(DWS, LOGL_NOTICE, "%s at %s%s\n", svcs[i].name, own_base, path);
	}
	osmo_timer_setup(&g_wd->expire_timer, expire_cb, NULL);
	osmo_timer_schedule(&g_wd->expire_timer, 60, 0);
	return 0;
fail:
	ws_daemon_stop();
	return -EINVAL;
}

struct ws_service *ws_daemon_service(const char *name)
{
	unsigned int i;

	for (i = 0; g_wd && i < g_wd->num_svcs; i++) {
		if (!strcmp(g_wd->svcs[i].def->name, name))
			return g_wd->svcs[i].svc;
	}
	return NULL;
}

struct http_client *ws_daemon_client(void)
{
	return g_wd ? g_wd->hc : NULL;
}

uint16_t ws_daemon_port(void)
{
	return g_wd && g_wd->srv ? http_server_port(g_wd->srv) : g_cfg.listen_port;
}

void ws_daemon_stop(void)
{
	if (!g_wd)
		return;
	osmo_timer_del(&g_wd->expire_timer);
	/* order of ws_http.h: the server first, then the ws_http, then the services */
	if (g_wd->srv)
		http_server_stop(g_wd->srv);
	g_wd->srv = NULL;
	TALLOC_FREE(g_wd->wh);
	/* pending callbacks hold on to their service: cancel them before the services go */
	if (g_wd->hc)
		http_client_free(g_wd->hc);
	g_wd->hc = NULL;
	TALLOC_FREE(g_wd->svcs);
	TALLOC_FREE(g_wd);
}
