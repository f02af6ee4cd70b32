/* libFuzzer target: a SOAP request body from the network through the whole ws_process() pipeline (safe parse,
 * envelope and WS-Addressing checks, dispatch, schema validation against wsdl/xsd/sgp02-all.xsd, duplicate store,
 * a handler that answers at once), with the input as body and, split at the first NUL, as Content-Type.
 * fuzz-sources: src/ws/soap.c src/ws/ws_xml.c src/ws/ws_store.c src/ws/ws_codes.c src/ws/ws_catalog.c src/common/logging.c
 * fuzz-pkgs: libxml-2.0
 * fuzz-seeds: tests/ws/data/*.xml tests/ws/data-wsdl/env-*.xml
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include <talloc.h>
#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/utils.h>

#include <sgp02/common/logging.h>
#include <sgp02/ws/soap.h>
#include <sgp02/ws/ws_catalog.h>
#include <sgp02/ws/ws_store.h>

#ifndef SGP02_SRCDIR
#define SGP02_SRCDIR "."
#endif

static void *g_ctx;
static struct ws_service *g_svc;

static int handler(struct ws_request *req, void *data)
{
	static const struct ws_status ok = { .kind = WS_STATUS_SUCCESS };

	return ws_request_finish_status(req, &ok);
}

static void done(struct ws_request *req, int http_status, const uint8_t *xml, size_t len, void *data)
{
}

static time_t fixed_now(void *data)
{
	return 1700000000;
}

static void setup(void)
{
	static const struct ws_service_cfg cfg = {
		.name = "fuzz", .path = "/ES4", .own_address = "https://smsr.test/ES4", .entity_id = "1.2.3",
	};
	struct ws_schema *schema;
	struct ws_mem_store *st;
	const struct ws_op *op;

	g_ctx = talloc_named_const(NULL, 0, "fuzz_soap");
	osmo_init_logging2(g_ctx, &sgp02_log_info);
	log_set_log_level(osmo_stderr_target, LOGL_FATAL);
	schema = ws_schema_load(g_ctx, SGP02_SRCDIR "/wsdl/xsd/sgp02-all.xsd");
	OSMO_ASSERT(schema);
	g_svc = ws_service_alloc(g_ctx, &cfg, schema, ws_ops_ES4SmSrService);
	OSMO_ASSERT(g_svc);
	for (op = ws_ops_ES4SmSrService; op->name; op++)
		ws_service_set_handler(g_svc, op->name, handler, NULL);
	st = ws_mem_store_alloc(g_ctx, 64, 3600, fixed_now, NULL);
	ws_service_set_store(g_svc, &ws_mem_store_ops, st);
	ws_service_set_clock(g_svc, fixed_now, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_input in = { 0 };
	struct ws_result res = { 0 };
	const uint8_t *nul = memchr(data, 0, size);
	char *ctype = NULL;
	void *tmp;

	if (!g_svc)
		setup();
	tmp = talloc_new(g_ctx);
	in.content_type = "application/soap+xml; charset=utf-8";
	if (nul && nul - data < 200) {
		ctype = talloc_strndup(tmp, (const char *)data, nul - data);
		in.content_type = ctype;
		size -= nul - data + 1;
		data = nul + 1;
	}
	in.body = data;
	in.len = size;
	in.peer_identity = "MNO1";
	in.done = done;
	ws_process(g_svc, tmp, &in, &res);
	talloc_free(tmp);
	return 0;
}
