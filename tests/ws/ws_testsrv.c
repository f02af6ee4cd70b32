/* ws_testsrv: a small SOAP test endpoint on 127.0.0.1 built on src/ws, for the interoperability test with an
 * independent client (tests/ws/zeep_test.py) and the SOAP benchmark (bench/bench_soap.sh).
 *
 * It serves the SM-SR's ES4 (ES4SmSrService, SGP.02 §5.5) at /ES4:
 *   - ES4-GetEIS, synchronous: answers a fixed test EIS for the test EID, FAILED 8.1.1/3.9 for any other;
 *   - ES4-EnableProfile, asynchronous: HTTP 202 at once, then (after --delay-ms) the ES4-EnableProfileResponse
 *     POSTed to the request's wsa:ReplyTo with wsa:RelatesTo = its MessageID (digest §6.2/§6.3);
 *   - the other ES4 operations: the Receiver Fault "not implemented" of the ws core;
 *   - GET /ES4?wsdl: our wsdl/ES4_SMSR.wsdl, its address placeholder replaced by this server's URL by ws_http
 *     (ws_http_cfg.public_base_url, wsdl/README.md).
 * Requests are validated against the GSMA schema (shared/spec/gsma-esim-messaging-3/all-requests.xsd unless -s).
 *
 * Usage: ws_testsrv [options]          (no options at all: a self-test of both exchanges, then exit)
 *   -p PORT        listen port (0: a free one; printed on stdout and written to -P FILE)
 *   -P FILE        write the port number to FILE once listening
 *   -c CERT -k KEY serve HTTPS with this certificate (without: plain HTTP, loopback only)
 *   -C CA          with -c/-k: require client certificates verified against CA (mutual TLS)
 *   -s XSD         schema to validate requests against
 *   -w DIR         directory of our WSDL files (default: the source tree's wsdl/)
 *   -d MS          delay before the asynchronous answer is sent (default 20)
 *   -n             no duplicate store (every request runs its handler, e.g. for a benchmark)
 *   -q             log errors only
 * SIGTERM/SIGINT stop it cleanly (everything freed, so sanitizer builds report real leaks only).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <talloc.h>
#include <libxml/parser.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/timer.h>

#include <sgp02/common/conn.h>
#include <sgp02/common/http_client.h>
#include <sgp02/common/http_server.h>
#include <sgp02/common/logging.h>
#include <sgp02/ws/soap.h>
#include <sgp02/ws/ws_catalog.h>
#include <sgp02/ws/ws_http.h>
#include <sgp02/ws/ws_store.h>

#ifndef SGP02_SRCDIR
#define SGP02_SRCDIR "."
#endif

#define TESTSRV_ENTITY_ID	"1.3.6.1.4.1.99999.20"
#define TESTSRV_EID		"89001012012341234012345678901224"
#define SELFTEST_DEADLINE_MS	10000

/* The EIS GetEIS answers: a test eUICC (EISType, euicc.common.types.xsd; shapes as tests/ws/data-wsdl). No key
 * components: an EIS leaving the SM-SR carries no secrets (digest §3.1). */
static const char test_eis[] =
	"<rps:Eis xmlns:rps=\"" WS_NS_RPS "\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"
	"<rps:EumSignedInfo>"
	"<rps:Eid>" TESTSRV_EID "</rps:Eid>"
	"<rps:Eum-id>1.3.6.1.4.1.99999.30</rps:Eum-id>"
	"<rps:ProductionDate>2024-01-15T08:00:00Z</rps:ProductionDate>"
	"<rps:PlatformType>sgp02-test-platform</rps:PlatformType>"
	"<rps:PlatformVersion>1.0.0</rps:PlatformVersion>"
	"<rps:Isd-p-loadfile-aid>A0000005591010FFFFFFFF8900000D00</rps:Isd-p-loadfile-aid>"
	"<rps:Isd-p-module-aid>A0000005591010FFFFFFFF8900000E00</rps:Isd-p-module-aid>"
	"<rps:Ecasd><rps:Aid>A0000005591010FFFFFFFF8900000200</rps:Aid><rps:Sin>0001</rps:Sin><rps:Sdin>0002</rps:Sdin>"
	"<rps:Role>ECASD</rps:Role><rps:Keyset><rps:Version>115</rps:Version><rps:Type>CA</rps:Type></rps:Keyset>"
	"</rps:Ecasd>"
	"<rps:EuiccCapabilities><rps:CattpSupport>true</rps:CattpSupport><rps:HttpSupport>true</rps:HttpSupport>"
	"<rps:SecurePacketVersion>9.2.0</rps:SecurePacketVersion>"
	"<rps:RemoteProvisioningVersion>3.1.0</rps:RemoteProvisioningVersion></rps:EuiccCapabilities>"
	"</rps:EumSignedInfo>"
	"<rps:EumSignature><ds:SignedInfo>"
	"<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
	"<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256\"/>"
	"<ds:Reference URI=\"\"><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>"
	"<ds:DigestValue>q1Yx3nQdXZ0c5hV4gC0zR0m9mK7r0oYk3xQJ8gHk2Ow=</ds:DigestValue></ds:Reference>"
	"</ds:SignedInfo><ds:SignatureValue>c2dwMDItdGVzdC1zaWduYXR1cmU=</ds:SignatureValue></rps:EumSignature>"
	"<rps:RemainingMemory>250000</rps:RemainingMemory>"
	"<rps:AvailableMemoryForProfiles>200000</rps:AvailableMemoryForProfiles>"
	"<rps:Smsr-id>" TESTSRV_ENTITY_ID "</rps:Smsr-id>"
	"<rps:ProfileInfo><rps:Iccid>8933010000000000010</rps:Iccid>"
	"<rps:Isd-p-aid>A0000005591010FFFFFFFF8900001000</rps:Isd-p-aid><rps:Mno-id>1.3.6.1.4.1.99999.1</rps:Mno-id>"
	"<rps:FallbackAttribute>true</rps:FallbackAttribute>"
	"<rps:SubscriptionAddress><rps:Msisdn>33612345678</rps:Msisdn></rps:SubscriptionAddress>"
	"<rps:State>Enabled</rps:State><rps:AllocatedMemory>30000</rps:AllocatedMemory><rps:pol2/></rps:ProfileInfo>"
	"<rps:Isd-r><rps:Aid>A0000005591010FFFFFFFF8900000100</rps:Aid><rps:Tar>000001</rps:Tar>"
	"<rps:Sin>0003</rps:Sin><rps:Sdin>0004</rps:Sdin><rps:Role>ISD-R</rps:Role>"
	"<rps:Keyset><rps:Version>1</rps:Version><rps:Type>SCP80</rps:Type></rps:Keyset></rps:Isd-r>"
	"</rps:Eis>";

struct testsrv {
	struct http_server *srv;
	struct http_client *hc;		/* callbacks (asynchronous answers) */
	struct ws_http *wh;
	struct ws_service *es4;
	struct ws_schema *schema;
	struct ws_mem_store *store;
	xmlDocPtr eis_doc;
	char *base_url;			/* http(s)://127.0.0.1:port */
	unsigned long delay_ms;
	unsigned int pending;		/* asynchronous answers not sent yet */
	/* self-test: what the callback path received */
	unsigned int cb_count;
	char *cb_body;
};

/* An asynchronous request waiting for its answer. */
struct async_job {
	struct testsrv *ts;
	struct ws_request *req;
	struct osmo_timer_list timer;
};

static volatile sig_atomic_t g_quit;

static void on_signal(int sig)
{
	g_quit = 1;
}

/* ------------------------------------------------------------------ handlers */

static int h_get_eis(struct ws_request *req, void *data)
{
	struct testsrv *ts = data;
	const char *eid = ws_req_text(req, "Eid");
	struct ws_status ok = { .kind = WS_STATUS_SUCCESS };
	/* SGP.02 §5.1.6.2 subject 8.1.1 eUICC, reason 3.9 Unknown */
	struct ws_status unknown = { .kind = WS_STATUS_FAILED, .subject = "8.1.1", .reason = "3.9",
				     .subject_id = eid, .message = "Unknown EID" };
	xmlNodePtr resp, eis;

	/* the request is finished (and freed) by ws_request_finish*() whatever they return: the handler took it */
	if (!eid || strcasecmp(eid, TESTSRV_EID)) {
		ws_request_finish_status(req, &unknown);
		return 0;
	}
	resp = ws_resp_begin(req, &ok);
	if (!resp)
		return -ENOMEM;
	eis = xmlDocCopyNode(xmlDocGetRootElement(ts->eis_doc), req->resp_doc, 1);
	if (!eis || !xmlAddChild(resp, eis)) {
		xmlFreeNode(eis);
		return -ENOMEM;
	}
	ws_request_finish(req);
	return 0;
}

static void async_job_fire(void *data)
{
	struct async_job *job = data;
	struct ws_status ok = { .kind = WS_STATUS_SUCCESS };
	xmlNodePtr resp;

	resp = ws_resp_begin(job->req, &ok);
	/* GP Card Spec: SW 9000 of the ISD-R's answer to the enable command */
	if (resp)
		ws_xml_add_text(resp, "EuiccResponseData", "9000");
	ws_request_finish(job->req);
	job->ts->pending--;
	talloc_free(job);
}

static int h_enable_profile(struct ws_request *req, void *data)
{
	struct testsrv *ts = data;
	struct async_job *job = talloc_zero(ts, struct async_job);

	if (!job)
		return -ENOMEM;
	job->ts = ts;
	job->req = req;
	ts->pending++;
	osmo_timer_setup(&job->timer, async_job_fire, job);
	osmo_timer_schedule(&job->timer, ts->delay_ms / 1000, (ts->delay_ms % 1000) * 1000);
	return 0;
}

/* ------------------------------------------------------------------ HTTP */

static void testsrv_handler(struct http_request *req, void *data)
{
	struct testsrv *ts = data;

	if (!strcmp(req->path, "/selftest/callback")) {
		talloc_free(ts->cb_body);
		ts->cb_body = talloc_strndup(ts, (const char *)req->body, req->body_len);
		ts->cb_count++;
		http_respond(req, 202, NULL, NULL, 0, NULL, 0);
		return;
	}
	ws_http_handler(req, ts->wh);
}

/* ------------------------------------------------------------------ set-up and teardown */

struct testsrv_cfg {
	uint16_t port;
	const char *cert, *key, *ca;
	const char *xsd;
	const char *wsdl_dir;
	unsigned long delay_ms;
	bool no_store;
};

static struct testsrv *testsrv_start(void *ctx, const struct testsrv_cfg *cfg)
{
	struct testsrv *ts = talloc_zero(ctx, struct testsrv);
	struct http_server_cfg scfg = { .addr = "127.0.0.1", .port = cfg->port, .max_conns = 2000 };
	struct http_client_cfg ccfg = { .timeout_ms = 5000, .connect_timeout_ms = 2000 };
	struct ws_http_cfg wcfg = { .cb_max_retries = 3, .cb_backoff_ms = 200 };
	struct ws_service_cfg es4 = {
		.name = "ES4SmSrService", .path = "/ES4", .entity_id = TESTSRV_ENTITY_ID,
		.own_address = "http://127.0.0.1/ES4?EntityId=" TESTSRV_ENTITY_ID "&EntityName=ws_testsrv",
		.wsdl_file = "ES4_SMSR.wsdl",
	};

	if (!ts)
		return NULL;
	ts->delay_ms = cfg->delay_ms;
	ts->eis_doc = xmlReadMemory(test_eis, sizeof(test_eis) - 1, "eis.xml", NULL, XML_PARSE_NONET);
	if (!ts->eis_doc)
		goto fail;
	ts->schema = ws_schema_load(ts, cfg->xsd);
	if (!ts->schema) {
		fprintf(stderr, "ws_testsrv: cannot load schema %s\n", cfg->xsd);
		goto fail;
	}
	if (cfg->cert) {
		scfg.tls = tls_server_ctx_new(ts, cfg->cert, cfg->key, cfg->ca);
		if (!scfg.tls)
			goto fail;
	}
	/* callbacks go to test receivers: no server verification (tests only, http_client.h) */
	ts->hc = http_client_alloc(ts, &ccfg);
	if (!ts->hc)
		goto fail;
	/* listen first: the port (0 = a free one) makes the public base URL that ?wsdl puts in soap:address; no
	 * request is read before the loop runs, by when ws_http exists */
	ts->srv = http_server_start(ts, &scfg, testsrv_handler, ts);
	if (!ts->srv)
		goto fail;
	ts->base_url = talloc_asprintf(ts, "%s://127.0.0.1:%u", cfg->cert ? "https" : "http",
				       http_server_port(ts->srv));
	wcfg.client = ts->hc;
	wcfg.wsdl_dir = cfg->wsdl_dir;
	wcfg.public_base_url = ts->base_url;
	ts->wh = ws_http_alloc(ts, &wcfg);
	ts->es4 = ws_service_alloc(ts, &es4, ts->schema, ws_ops_ES4SmSrService);
	if (!ts->wh || !ts->es4 || ws_http_add_service(ts->wh, ts->es4))
		goto fail;
	if (!cfg->no_store) {
		ts->store = ws_mem_store_alloc(ts, 10000, 600, NULL, NULL);
		if (!ts->store)
			goto fail;
		ws_service_set_store(ts->es4, &ws_mem_store_ops, ts->store);
	}
	ws_service_set_handler(ts->es4, "ES4-GetEIS", h_get_eis, ts);
	ws_service_set_handler(ts->es4, "ES4-EnableProfile", h_enable_profile, ts);
	return ts;
fail:
	if (ts->srv)
		http_server_stop(ts->srv);
	if (ts->eis_doc)
		xmlFreeDoc(ts->eis_doc);
	if (ts->hc)
		http_client_free(ts->hc);
	talloc_free(ts);
	return NULL;
}

static void run_for(unsigned long ms, bool (*done)(struct testsrv *), struct testsrv *ts);

static bool no_pending(struct testsrv *ts)
{
	return !ts->pending && !ws_http_callbacks_pending(ts->wh);
}

/* Stop in the order ws_http.h asks for: the server, the asynchronous answers still due (sent at once, bounded
 * wait for their callbacks), the client, then the rest. */
static void testsrv_stop(struct testsrv *ts)
{
	http_server_stop(ts->srv);
	ts->srv = NULL;
	ts->delay_ms = 0;
	run_for(2000, no_pending, ts);
	http_client_free(ts->hc);
	xmlFreeDoc(ts->eis_doc);
	talloc_free(ts);
}

/* ------------------------------------------------------------------ loop helpers */

static bool g_deadline_hit;

static void deadline_cb(void *data)
{
	g_deadline_hit = true;
}

/* Run the loop until done(ts) or \a ms passed (or a signal asked us to quit). */
static void run_for(unsigned long ms, bool (*done)(struct testsrv *), struct testsrv *ts)
{
	struct osmo_timer_list deadline = {};	/* osmo_timer_setup() leaves the rest as it finds it */

	g_deadline_hit = false;
	osmo_timer_setup(&deadline, deadline_cb, NULL);
	osmo_timer_schedule(&deadline, ms / 1000, (ms % 1000) * 1000);
	while (!g_deadline_hit && !(done && done(ts)))
		osmo_select_main_ctx(0);
	osmo_timer_del(&deadline);
}

/* ------------------------------------------------------------------ self-test (no arguments) */

struct answer {
	unsigned int count;
	int status;
	char *body;
};

static void answer_cb(int status, const char *content_type, const uint8_t *body, size_t len, void *data)
{
	struct answer *a = data;

	a->status = status;
	a->body = body ? talloc_strndup(NULL, (const char *)body, len) : NULL;
	a->count++;
}

static struct answer *g_answer;

static bool answered(struct testsrv *ts)
{
	return g_answer->count > 0;
}

static bool callback_arrived(struct testsrv *ts)
{
	return ts->cb_count > 0;
}

static char *envelope(void *ctx, struct testsrv *ts, const char *action, const char *message_id,
		      const char *reply_to, const char *body)
{
	return talloc_asprintf(ctx,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		"<env:Envelope xmlns:env=\"" WS_NS_SOAP12 "\" xmlns:wsa=\"" WS_NS_WSA "\" xmlns:rps=\"" WS_NS_RPS "\">"
		"<env:Header>"
		"<wsa:From><wsa:Address>http://127.0.0.1/selftest?EntityId=1.3.6.1.4.1.99999.1</wsa:Address></wsa:From>"
		"<wsa:To>%s/ES4</wsa:To><wsa:MessageID>%s</wsa:MessageID><wsa:Action>%s</wsa:Action>"
		"%s%s%s</env:Header><env:Body>%s</env:Body></env:Envelope>",
		ts->base_url, message_id, action, reply_to ? "<wsa:ReplyTo><wsa:Address>" : "",
		reply_to ? reply_to : "", reply_to ? "</wsa:Address></wsa:ReplyTo>" : "", body);
}

static bool post_and_wait(struct testsrv *ts, void *ctx, const char *xml, struct answer *a)
{
	char *url = talloc_asprintf(ctx, "%s/ES4", ts->base_url);

	memset(a, 0, sizeof(*a));
	g_answer = a;
	if (http_client_post(ts->hc, url, "application/soap+xml; charset=utf-8", NULL, 0, (const uint8_t *)xml,
			     strlen(xml), NULL, answer_cb, a))
		return false;
	run_for(SELFTEST_DEADLINE_MS, answered, ts);
	return a->count > 0;
}

static int self_test(void *ctx)
{
	struct testsrv_cfg cfg = { .delay_ms = 20 };
	struct testsrv *ts;
	struct answer a;
	void *tmp = talloc_new(ctx);
	char *xsd, *xml, *err = NULL;
	const char *shared = getenv("SGP02_SHARED");
	unsigned int pass = 0, fail = 0;

#ifdef SGP02_SHARED_DEFAULT
	if (!shared)
		shared = SGP02_SHARED_DEFAULT;
#endif
	if (!shared)
		shared = SGP02_SRCDIR "/../shared";
	xsd = talloc_asprintf(tmp, "%s/spec/gsma-esim-messaging-3/all-requests.xsd", shared);
	cfg.xsd = xsd;
	cfg.wsdl_dir = SGP02_SRCDIR "/wsdl";
	ts = testsrv_start(tmp, &cfg);
	if (!ts) {
		printf("FAIL: server did not start\nTESTRESULT ws_testsrv 0 1\n");
		talloc_free(tmp);
		return 1;
	}

	/* synchronous: ES4-GetEIS answers 200 with the EIS, valid against the GSMA schema */
	xml = envelope(tmp, ts, "http://gsma.com/ES4/ProfileManagement/ES4-GetEISRequest",
		       "//1.3.6.1.4.1.99999.1/urn:uuid:00000000-0000-4000-8000-000000000001", NULL,
		       "<rps:ES4-GetEISRequest><rps:FunctionCallIdentifier>ST-1</rps:FunctionCallIdentifier>"
		       "<rps:Eid>" TESTSRV_EID "</rps:Eid></rps:ES4-GetEISRequest>");
	if (post_and_wait(ts, tmp, xml, &a) && a.status == 200 && a.body && strstr(a.body, "EXECUTED_SUCCESS") &&
	    strstr(a.body, TESTSRV_EID) &&
	    !ws_schema_validate_envelope(ts->schema, tmp, (const uint8_t *)a.body, strlen(a.body), &err)) {
		printf("PASS: synchronous ES4-GetEIS\n");
		pass++;
	} else {
		printf("FAIL: synchronous ES4-GetEIS: status %d, %s\n%s\n", a.status, err ? err : "-",
		       a.body ? a.body : "(no body)");
		fail++;
	}
	talloc_free(a.body);

	/* asynchronous: ES4-EnableProfile answers 202, then the response comes to ReplyTo with RelatesTo */
	xml = envelope(tmp, ts, "http://gsma.com/ES4/PlatformManagement/ES4-EnableProfile",
		       "//1.3.6.1.4.1.99999.1/urn:uuid:00000000-0000-4000-8000-000000000002",
		       talloc_asprintf(tmp, "%s/selftest/callback", ts->base_url),
		       "<rps:ES4-EnableProfileRequest><rps:FunctionCallIdentifier>ST-2</rps:FunctionCallIdentifier>"
		       "<rps:Eid>" TESTSRV_EID "</rps:Eid><rps:Iccid>8933010000000000010</rps:Iccid>"
		       "</rps:ES4-EnableProfileRequest>");
	err = NULL;
	if (post_and_wait(ts, tmp, xml, &a) && a.status == 202) {
		run_for(SELFTEST_DEADLINE_MS, callback_arrived, ts);
		if (ts->cb_body && strstr(ts->cb_body, "urn:uuid:00000000-0000-4000-8000-000000000002</wsa:RelatesTo>") &&
		    strstr(ts->cb_body, "ES4-EnableProfileResponse") &&
		    !ws_schema_validate_envelope(ts->schema, tmp, (const uint8_t *)ts->cb_body, strlen(ts->cb_body),
						 &err)) {
			printf("PASS: asynchronous ES4-EnableProfile with callback\n");
			pass++;
		} else {
			printf("FAIL: asynchronous ES4-EnableProfile: callback %s (%s)\n",
			       ts->cb_body ? ts->cb_body : "(none)", err ? err : "-");
			fail++;
		}
	} else {
		printf("FAIL: asynchronous ES4-EnableProfile: status %d\n", a.status);
		fail++;
	}
	talloc_free(a.body);

	testsrv_stop(ts);
	talloc_free(tmp);
	printf("TESTRESULT ws_testsrv %u %u\n", pass, fail);
	return fail ? 1 : 0;
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
	fprintf(stderr, "usage: ws_testsrv [-p PORT] [-P PORTFILE] [-c CERT -k KEY [-C CA]] [-s XSD] [-w WSDLDIR]\n"
			"                  [-d DELAY_MS] [-n] [-q]\n"
			"       ws_testsrv        (no arguments: self-test)\n");
}

int main(int argc, char **argv)
{
	void *ctx = talloc_named_const(NULL, 0, "ws_testsrv");
	struct testsrv_cfg cfg = { .delay_ms = 20, .wsdl_dir = SGP02_SRCDIR "/wsdl" };
	const char *port_file = NULL;
	bool quiet = false;
	struct testsrv *ts;
	int opt, rc = 0;
	long v;

	osmo_init_logging2(ctx, &sgp02_log_info);
	log_set_print_filename2(osmo_stderr_target, LOG_FILENAME_NONE);
	xmlInitParser();
	if (argc == 1) {
		rc = self_test(ctx);
		goto out;
	}
	while ((opt = getopt(argc, argv, "p:P:c:k:C:s:w:d:nqh")) != -1) {
		switch (opt) {
		case 'p':
			v = strtol(optarg, NULL, 10);
			if (v < 0 || v > 65535) {
				usage();
				rc = 2;
				goto out;
			}
			cfg.port = v;
			break;
		case 'P': port_file = optarg; break;
		case 'c': cfg.cert = optarg; break;
		case 'k': cfg.key = optarg; break;
		case 'C': cfg.ca = optarg; break;
		case 's': cfg.xsd = optarg; break;
		case 'w': cfg.wsdl_dir = optarg; break;
		case 'd': cfg.delay_ms = strtoul(optarg, NULL, 10); break;
		case 'n': cfg.no_store = true; break;
		case 'q': quiet = true; break;
		default:
			usage();
			rc = 2;
			goto out;
		}
	}
	if (optind != argc || !cfg.cert != !cfg.key || (cfg.ca && !cfg.cert)) {
		usage();
		rc = 2;
		goto out;
	}
	if (!cfg.xsd) {
		const char *shared = getenv("SGP02_SHARED");
		char *p;

#ifdef SGP02_SHARED_DEFAULT
		if (!shared)
			shared = SGP02_SHARED_DEFAULT;
#endif
		if (!shared)
			shared = SGP02_SRCDIR "/../shared";
		p = talloc_asprintf(ctx, "%s/spec/gsma-esim-messaging-3/all-requests.xsd", shared);
		cfg.xsd = p;
	}
	if (quiet)
		log_set_log_level(osmo_stderr_target, LOGL_ERROR);

	ts = testsrv_start(ctx, &cfg);
	if (!ts) {
		rc = 1;
		goto out;
	}
	printf("ws_testsrv listening on %s (ES4 at /ES4, WSDL at /ES4?wsdl)\n", ts->base_url);
	fflush(stdout);
	if (port_file) {
		FILE *fp = fopen(port_file, "w");

		if (!fp || fprintf(fp, "%u\n", http_server_port(ts->srv)) < 0 || fclose(fp)) {
			fprintf(stderr, "ws_testsrv: cannot write %s\n", port_file);
			testsrv_stop(ts);
			rc = 1;
			goto out;
		}
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	while (!g_quit)
		osmo_select_main_ctx(0);
	testsrv_stop(ts);
out:
	xmlCleanupParser();
	log_fini();
	talloc_free(ctx);
	return rc;
}
