/* SOAP over HTTP: the ws core on the HTTP server, callbacks through the HTTP client (see ws_http.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <talloc.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/logging.h>

#include <sgp02/common/conn.h>
#include <sgp02/common/http_client.h>
#include <sgp02/common/http_server.h>
#include <sgp02/common/logging.h>
#include <sgp02/ws/soap.h>
#include <sgp02/ws/ws_http.h>

#define SOAP_CT		"application/soap+xml; charset=utf-8"
#define WSDL_MAX	(4 * 1024 * 1024)

struct ws_http_svc {
	struct llist_head list;
	struct ws_service *svc;
};

struct ws_http {
	struct llist_head services;
	struct llist_head pendings;	/* struct pending whose request still runs */
	struct llist_head posts;	/* struct cb_post in flight */
	unsigned int num_posts;
	char *wsdl_dir;
	char *public_base_url;
	struct http_client *client;
	unsigned int cb_max_retries;
	unsigned long cb_backoff_ms;
};

/* One callback POST in flight. Not a talloc child of the ws_http: the client calls back exactly once, possibly
 * after the ws_http is gone (then wh is NULL). */
struct cb_post {
	struct llist_head list;
	struct ws_http *wh;
	char *url;
	char *relates_to;
};

/* One POST being processed. */
struct pending {
	struct llist_head list;		/* in ws_http.pendings while the request runs */
	struct ws_http *wh;
	struct http_request *hreq;	/* NULL once answered or aborted */
	struct ws_request *wreq;	/* the dispatched request, while it runs */
	bool in_process;		/* inside ws_process() */
	bool done_called;
};

static int pending_free(struct pending *p)
{
	llist_del_init(&p->list);
	/* freed with its request (e.g. the service goes away first): the HTTP request must not call us back */
	if (p->hreq) {
		p->hreq->on_abort = NULL;
		p->hreq->handler_data = NULL;
	}
	return 0;
}

static int ws_http_free(struct ws_http *wh)
{
	struct cb_post *p, *tmp;

	struct pending *pd, *ptmp;

	llist_for_each_entry_safe(p, tmp, &wh->posts, list) {
		llist_del_init(&p->list);
		p->wh = NULL;
	}
	/* requests still running keep running, but must not call back into us */
	llist_for_each_entry_safe(pd, ptmp, &wh->pendings, list) {
		llist_del_init(&pd->list);
		if (pd->wreq)
			ws_request_detach(pd->wreq);
		if (pd->hreq) {
			pd->hreq->on_abort = NULL;
			pd->hreq->handler_data = NULL;
		}
	}
	return 0;
}

struct ws_http *ws_http_alloc(void *ctx, const struct ws_http_cfg *cfg)
{
	struct ws_http *wh = talloc_zero(ctx, struct ws_http);

	if (!wh)
		return NULL;
	INIT_LLIST_HEAD(&wh->services);
	INIT_LLIST_HEAD(&wh->posts);
	INIT_LLIST_HEAD(&wh->pendings);
	talloc_set_destructor(wh, ws_http_free);
	if (cfg) {
		wh->wsdl_dir = cfg->wsdl_dir ? talloc_strdup(wh, cfg->wsdl_dir) : NULL;
		wh->public_base_url = cfg->public_base_url ? talloc_strdup(wh, cfg->public_base_url) : NULL;
		wh->client = cfg->client;
		wh->cb_max_retries = cfg->cb_max_retries;
		wh->cb_backoff_ms = cfg->cb_backoff_ms;
	}
	return wh;
}

int ws_http_add_service(struct ws_http *wh, struct ws_service *svc)
{
	struct ws_http_svc *s;

	llist_for_each_entry(s, &wh->services, list)
		if (!strcmp(ws_service_cfg(s->svc)->path, ws_service_cfg(svc)->path))
			return -EEXIST;
	s = talloc_zero(wh, struct ws_http_svc);
	if (!s)
		return -ENOMEM;
	s->svc = svc;
	llist_add_tail(&s->list, &wh->services);
	return 0;
}

unsigned int ws_http_callbacks_pending(const struct ws_http *wh)
{
	return wh->num_posts;
}

static struct ws_service *find_service(struct ws_http *wh, const char *path)
{
	struct ws_http_svc *s;

	llist_for_each_entry(s, &wh->services, list)
		if (path && !strcmp(ws_service_cfg(s->svc)->path, path))
			return s->svc;
	return NULL;
}

/* ------------------------------------------------------------------ callbacks (asynchronous responses) */

static void cb_post_result(int status, const char *content_type, const uint8_t *body, size_t len, void *data)
{
	struct cb_post *p = data;

	if (status >= 200 && status < 300)
		LOGP(DWS, LOGL_INFO, "callback for %s delivered to %s (%d)\n", p->relates_to, p->url, status);
	else
		LOGP(DWS, LOGL_ERROR, "callback for %s to %s failed (%d); the answer stays stored for a retry of "
		     "the request\n", p->relates_to, p->url, status);
	if (p->wh) {
		llist_del(&p->list);
		p->wh->num_posts--;
	}
	talloc_free(p);
}

int ws_http_send_callback(struct ws_http *wh, const char *url, const char *action, const char *relates_to,
			  const uint8_t *xml, size_t len)
{
	struct http_client_req_opts opts = {
		/* the callback is the only way the requester learns the outcome: retry with backoff */
		.flags = HTTP_CLIENT_RETRY,
		.max_retries = wh->cb_max_retries,
		.backoff_ms = wh->cb_backoff_ms,
	};
	struct cb_post *p;
	char *ct;
	int rc;

	if (!wh->client || !url || !xml) {
		LOGP(DWS, LOGL_ERROR, "callback for %s cannot be sent: %s\n", relates_to ? relates_to : "?",
		     !wh->client ? "no HTTP client configured" : "no ReplyTo address or no envelope");
		return wh->client ? -EINVAL : -ENOTCONN;
	}
	p = talloc_zero(NULL, struct cb_post);
	if (!p)
		return -ENOMEM;
	p->wh = wh;
	p->url = talloc_strdup(p, url);
	p->relates_to = talloc_strdup(p, relates_to ? relates_to : "?");
	/* SOAP 1.2 Part 2 §7.1.4 / RFC 3902: the action parameter carries wsa:Action */
	ct = action ? talloc_asprintf(p, SOAP_CT "; action=\"%s\"", action) : talloc_strdup(p, SOAP_CT);
	llist_add_tail(&p->list, &wh->posts);
	wh->num_posts++;
	rc = http_client_post(wh->client, url, ct, NULL, 0, xml, len, &opts, cb_post_result, p);
	if (rc < 0) {
		LOGP(DWS, LOGL_ERROR, "callback for %s to %s: %s\n", p->relates_to, url, strerror(-rc));
		llist_del(&p->list);
		wh->num_posts--;
		talloc_free(p);
		return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ requests */

static void respond(struct http_request *hreq, int status, const uint8_t *xml, size_t len)
{
	if (http_respond(hreq, status, xml && len ? SOAP_CT : NULL, NULL, 0, xml, xml ? len : 0) < 0)
		LOGP(DWS, LOGL_NOTICE, "answer %d to %s could not be sent\n", status, conn_peer_name(hreq->conn));
}

static void on_done(struct ws_request *wreq, int status, const uint8_t *xml, size_t len, void *data)
{
	struct pending *p = data;

	p->done_called = true;
	p->wreq = NULL;
	switch (wreq->op->mep) {
	case WS_MEP_SYNC:
		if (p->hreq) {
			p->hreq->on_abort = NULL;
			p->hreq->handler_data = NULL;
			respond(p->hreq, status, xml, len);
			p->hreq = NULL;
		}
		break;
	case WS_MEP_ASYNC:
		if (xml)
			ws_http_send_callback(p->wh, wreq->reply_to, status == 202 ? wreq->op->resp_action : NULL,
				      wreq->message_id, xml, len);
		break;
	case WS_MEP_ONEWAY:
		break;
	}
	if (!p->in_process)
		talloc_free(p);
}

static void on_abort(struct http_request *hreq)
{
	struct pending *p = hreq->handler_data;

	if (!p)
		return;
	/* the requester is gone: the request runs on, its answer is stored for a retry (soap.h) */
	p->hreq = NULL;
	if (p->wreq)
		ws_request_detach(p->wreq);
	talloc_free(p);
}

static void serve_wsdl(struct ws_http *wh, struct ws_service *svc, struct http_request *hreq)
{
	const char *f = ws_service_cfg(svc)->wsdl_file;
	/* not on hreq: http_respond() frees the request */
	void *tmp = talloc_new(wh);
	char *path = NULL;
	uint8_t *buf = NULL;
	FILE *fp = NULL;
	size_t n;

	if (f) {
		path = (f[0] == '/' || !wh->wsdl_dir) ? talloc_strdup(tmp, f)
						      : talloc_asprintf(tmp, "%s/%s", wh->wsdl_dir, f);
		fp = path ? fopen(path, "rb") : NULL;
		if (!fp)
			LOGP(DWS, LOGL_ERROR, "%s: WSDL %s: %s\n", ws_service_cfg(svc)->name, path ? path : f,
			     strerror(errno));
		buf = fp ? talloc_size(tmp, WSDL_MAX) : NULL;
	}
	if (!buf) {
		if (fp)
			fclose(fp);
		http_respond(hreq, 404, "text/plain", NULL, 0, (const uint8_t *)"no WSDL\n", 8);
		talloc_free(tmp);
		return;
	}
	n = fread(buf, 1, WSDL_MAX, fp);
	fclose(fp);
	if (wh->public_base_url) {
		/* soap:address of the served WSDL: where this daemon is reachable (wsdl/ header comment) */
		char *in = talloc_strndup(tmp, (const char *)buf, n), *out = talloc_strdup(tmp, ""), *p, *q = in;

		while (in && out && (p = strstr(q, WS_WSDL_ADDRESS_PLACEHOLDER))) {
			out = talloc_strndup_append_buffer(out, q, p - q);
			out = talloc_strdup_append_buffer(out, wh->public_base_url);
			q = p + strlen(WS_WSDL_ADDRESS_PLACEHOLDER);
		}
		if (in && out)
			out = talloc_strdup_append_buffer(out, q);
		if (!in || !out) {
			http_respond(hreq, 503, NULL, NULL, 0, NULL, 0);
			talloc_free(tmp);
			return;
		}
		buf = (uint8_t *)out;
		n = strlen(out);
	}
	http_respond(hreq, 200, "text/xml; charset=utf-8", NULL, 0, buf, n);
	talloc_free(tmp);
}

void ws_http_handler(struct http_request *hreq, void *data)
{
	struct ws_http *wh = data;
	struct ws_service *svc = find_service(wh, hreq->path);
	struct ws_result res;
	struct ws_input in;
	struct pending *p;
	void *tmp;

	if (!svc) {
		http_respond(hreq, 404, "text/plain", NULL, 0, (const uint8_t *)"no such service\n", 16);
		return;
	}
	if (!strcmp(hreq->method, "GET") && hreq->query && !strcasecmp(hreq->query, "wsdl")) {
		serve_wsdl(wh, svc, hreq);
		return;
	}
	if (strcmp(hreq->method, "POST")) {
		static const struct http_header allow = { "Allow", "POST" };

		http_respond(hreq, 405, "text/plain", &allow, 1, (const uint8_t *)"POST only\n", 10);
		return;
	}

	p = talloc_zero(wh, struct pending);
	tmp = talloc_new(wh);
	if (!p || !tmp) {
		talloc_free(p);
		talloc_free(tmp);
		http_respond(hreq, 503, NULL, NULL, 0, NULL, 0);
		return;
	}
	INIT_LLIST_HEAD(&p->list);
	talloc_set_destructor(p, pending_free);
	p->wh = wh;
	p->hreq = hreq;
	p->in_process = true;
	in = (struct ws_input) {
		.body = hreq->body,
		.len = hreq->body_len,
		.content_type = http_req_header(hreq, "Content-Type"),
		.peer_identity = conn_peer_identity(hreq->conn),
		.done = on_done,
		.done_data = p,
	};
	ws_process(svc, tmp, &in, &res);
	p->in_process = false;

	if (res.req && !p->done_called) {
		/* still running: p lives as long as the request (freed with it), and is listed for our destructor */
		p->wreq = res.req;
		talloc_steal(res.req, p);
		llist_add_tail(&p->list, &wh->pendings);
		if (res.req->op->mep == WS_MEP_SYNC) {
			/* answered by on_done later */
			hreq->handler_data = p;
			hreq->on_abort = on_abort;
		} else {
			p->hreq = NULL;
		}
	} else {
		/* finished, a Fault or a replay: answered here */
		p->hreq = NULL;
		talloc_free(p);
	}
	if (res.http_status)
		respond(hreq, res.http_status, res.xml, res.len);
	if (res.resend_xml)
		ws_http_send_callback(wh, res.resend_url, NULL, "(replayed)", res.resend_xml, res.resend_len);
	talloc_free(tmp);
}
