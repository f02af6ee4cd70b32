/*! \file ctl_es.c
 * `sgp02-ctl es1 register` and `sgp02-ctl es4 get-eis`: the EUM's and the operator's side of ES1 RegisterEIS and
 * ES4 (or ES3) GetEIS (SGP.02 §5.1, §5.3, §5.4; SGP02.md §5 and §6), as SOAP 1.2 over HTTPS with mutual TLS.
 *
 * The envelope carries the WS-Addressing headers of SGP02.md §6.2 (To, From, MessageID, Action) and the
 * function element; the Content-Type names the action (SOAP 1.2 Part 2 §7.1.4). A command line tool may block:
 * each request is one libcurl easy transfer, bounded by --timeout. Answers are parsed with ws_eis_read_xml()
 * (no network, no DTD, no entities).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include <talloc.h>
#include <curl/curl.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include <sgp02/ws/eis.h>
#include <sgp02/ws/xmldsig.h>
#include "ctl.h"

#define ES_FILE_MAX	(1024 * 1024)	/* an EIS file or an answer: far more than any real one */
#define ES_NS_ENV	"http://www.w3.org/2003/05/soap-envelope"
#define ES_NS_WSA	"http://www.w3.org/2005/08/addressing"
#define ES_NS_RPS	WS_EIS_NS

struct es_opts {
	const char *url, *ca, *cert, *key;
	const char *sign_key, *sign_cert;
	const char *smsr_id;
	const char *from;		/*!< our entity OID for wsa:From */
	const char *eid;
	const char *iface;		/*!< "ES4" or "ES3" for get-eis */
	const char *sign_only;		/*!< write the signed EIS here instead of sending (one file) */
	bool no_sign;			/*!< send the EIS as it is (already signed) */
	long timeout;
	const char **files;
	unsigned int num_files;
	const char *dir;
};

static int read_file(void *ctx, const char *path, uint8_t **buf, size_t *len)
{
	struct stat st;
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -errno;
	if (fstat(fileno(f), &st) < 0 || st.st_size > ES_FILE_MAX) {
		fclose(f);
		return -EFBIG;
	}
	*buf = talloc_size(ctx, (size_t)st.st_size + 1);
	if (!*buf) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(*buf, 1, (size_t)st.st_size, f);
	fclose(f);
	if (n != (size_t)st.st_size)
		return -EIO;
	(*buf)[n] = 0;
	*len = n;
	return 0;
}

/* ---------------------------------------------------------------- SOAP over HTTPS */

struct sink {
	void *ctx;
	char *buf;
	size_t len;
	bool too_big;
};

static size_t sink_write(char *p, size_t size, size_t nmemb, void *data)
{
	struct sink *s = data;
	size_t n = size * nmemb;
	char *b;

	if (s->len + n > ES_FILE_MAX) {
		s->too_big = true;
		return 0;
	}
	b = talloc_realloc_size(s->ctx, s->buf, s->len + n + 1);
	if (!b)
		return 0;
	memcpy(b + s->len, p, n);
	s->buf = b;
	s->len += n;
	s->buf[s->len] = 0;
	return n;
}

static char *esc(void *ctx, const char *s)
{
	xmlChar *e = xmlEncodeSpecialChars(NULL, BAD_CAST s);
	char *r = talloc_strdup(ctx, e ? (const char *)e : "");

	xmlFree(e);
	return r;
}

/* An envelope around \a body (serialised function element XML, namespaces declared in it). Built as text: the
 * signed Eis must reach the SM-SR octet for octet as it was signed (a DOM copy into another document may move
 * namespace declarations, and exclusive c14n of EumSignedInfo would change with them). */
static char *envelope(void *ctx, const struct es_opts *o, const char *action, const char *body)
{
	char uuid[40] = "";
	FILE *f = fopen("/proc/sys/kernel/random/uuid", "r");

	if (f) {
		if (!fgets(uuid, sizeof(uuid), f))
			uuid[0] = 0;
		fclose(f);
		uuid[strcspn(uuid, "\n")] = 0;
	}
	return talloc_asprintf(ctx,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<env:Envelope xmlns:env=\"" ES_NS_ENV "\" xmlns:wsa=\"" ES_NS_WSA "\">\n<env:Header>\n"
		"<wsa:From><wsa:Address>https://sgp02-ctl.invalid/?EntityId=%s</wsa:Address></wsa:From>\n"
		"<wsa:To>%s</wsa:To>\n<wsa:MessageID>//%s/urn:uuid:%s</wsa:MessageID>\n<wsa:Action>%s</wsa:Action>\n"
		"</env:Header>\n<env:Body>%s</env:Body>\n</env:Envelope>\n",
		esc(ctx, o->from), esc(ctx, o->url), esc(ctx, o->from), uuid, action, body);
}

/* the serialised element \a n (namespaces declared on it or below, as the EIS files and our builders do) */
static char *dump(void *ctx, xmlDocPtr d, xmlNodePtr n)
{
	xmlBufferPtr b = xmlBufferCreate();
	char *r = NULL;

	if (b && xmlNodeDump(b, d, n, 0, 0) >= 0)
		r = talloc_strdup(ctx, (const char *)xmlBufferContent(b));
	xmlBufferFree(b);
	return r;
}

/* one easy handle for all requests of a run: its connection cache keeps the TLS connection open between EIS */
static CURL *g_curl;

/* POST; \returns the HTTP status (>0) with the body in *resp, or -1 with *err */
static long post(void *ctx, const struct es_opts *o, const char *action, const char *xml, char **resp,
		 const char **err)
{
	CURL *c = g_curl ? g_curl : (g_curl = curl_easy_init());
	struct curl_slist *h = NULL;
	struct sink s = { .ctx = ctx };
	long status = -1;
	CURLcode cc;

	*resp = NULL;
	if (!c) {
		*err = "curl init failed";
		return -1;
	}
	h = curl_slist_append(h, talloc_asprintf(ctx, "Content-Type: application/soap+xml; charset=utf-8; "
						 "action=\"%s\"", action));
	curl_easy_setopt(c, CURLOPT_URL, o->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, xml);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(xml));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->timeout);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (o->ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca);
	if (o->cert)
		curl_easy_setopt(c, CURLOPT_SSLCERT, o->cert);
	if (o->key)
		curl_easy_setopt(c, CURLOPT_SSLKEY, o->key);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		*err = s.too_big ? "answer too big" : curl_easy_strerror(cc);
	/* the header list and the sink live only for this transfer */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, NULL);
	curl_slist_free_all(h);
	*resp = s.buf;
	return status;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (n = n ? xmlFirstElementChild(n) : NULL; n; n = xmlNextElementSibling(n))
		if (!strcmp((const char *)n->name, name))
			return n;
	return NULL;
}

static char *text(void *ctx, xmlNodePtr n)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	char *s = talloc_strdup(ctx, t ? (const char *)t : "");

	xmlFree(t);
	return s;
}

/* The outcome of an answer as one line: "EXECUTED_SUCCESS" or "FAILED 8.1.1/3.3 message", or a Fault;
 * *fn gets the response function element (in *doc) when there is one. \returns true on EXECUTED_SUCCESS. */
static bool outcome(void *ctx, long status, const char *body, const char *err, char **line, xmlDocPtr *doc,
		    xmlNodePtr *fn)
{
	xmlNodePtr env, b, fes, scd;
	char *perr = NULL;
	bool ok;

	*doc = NULL;
	*fn = NULL;
	if (status < 0) {
		*line = talloc_asprintf(ctx, "ERROR transport: %s", err);
		return false;
	}
	*doc = body ? ws_eis_read_xml(ctx, (const uint8_t *)body, strlen(body), &perr) : NULL;
	env = *doc ? xmlDocGetRootElement(*doc) : NULL;
	b = child(env, "Body");
	if (!b || !xmlFirstElementChild(b)) {
		*line = talloc_asprintf(ctx, "ERROR HTTP %ld without a SOAP body", status);
		return false;
	}
	*fn = xmlFirstElementChild(b);
	if (!strcmp((const char *)(*fn)->name, "Fault")) {
		*line = talloc_asprintf(ctx, "FAULT HTTP %ld %s", status,
					text(ctx, child(child(*fn, "Reason"), "Text")));
		return false;
	}
	fes = child(*fn, "FunctionExecutionStatus");
	*line = text(ctx, child(fes, "Status"));
	ok = !strcmp(*line, "EXECUTED_SUCCESS");
	scd = child(fes, "StatusCodeData");
	if (scd)
		*line = talloc_asprintf(ctx, "%s %s/%s %s", *line, text(ctx, child(scd, "Subject")),
					text(ctx, child(scd, "Reason")), text(ctx, child(scd, "Message")));
	return ok;
}

/* ---------------------------------------------------------------- es1 register */

static int register_one(void *ctx, const struct es_opts *o, struct ws_xmldsig_signer *signer, const char *path)
{
	uint8_t *buf;
	size_t len;
	char *err = NULL, *xml, *resp = NULL, *line;
	const char *perr = NULL;
	const char *action = "http://gsma.com/ES1/eUICCManagement/ES1-RegisterEISRequest";
	xmlDocPtr d, rd = NULL;
	xmlNodePtr eis, eid, fn;
	long status;
	bool ok;
	int rc;

	rc = read_file(ctx, path, &buf, &len);
	if (rc < 0) {
		printf("%s ERROR cannot read: %s\n", path, strerror(-rc));
		return 1;
	}
	d = ws_eis_read_xml(ctx, buf, len, &err);
	eis = d ? xmlDocGetRootElement(d) : NULL;
	if (!eis || strcmp((const char *)eis->name, "Eis")) {
		printf("%s ERROR not an Eis document%s%s\n", path, err ? ": " : "", err ? err : "");
		xmlFreeDoc(d);
		return 1;
	}
	eid = child(child(eis, "EumSignedInfo"), "Eid");
	if (o->smsr_id && child(eis, "Smsr-id"))
		xmlNodeSetContent(child(eis, "Smsr-id"), BAD_CAST o->smsr_id);
	if (!o->no_sign && ws_xmldsig_sign_eis(signer, eis) < 0) {
		printf("%s ERROR signing failed\n", path);
		xmlFreeDoc(d);
		return 1;
	}
	if (o->sign_only) {
		rc = xmlSaveFormatFileEnc(o->sign_only, d, "UTF-8", 0) < 0 ? 1 : 0;
		if (rc)
			printf("%s ERROR cannot write %s\n", path, o->sign_only);
		xmlFreeDoc(d);
		return rc;
	}

	/* ES1-RegisterEISRequest: FunctionCallIdentifier, Eis (BaseRequestType, euicc.common.request.xsd); the
	 * Eis element declares its namespace itself (fleet files: default namespace on Eis) */
	if (!eis->nsDef || !eis->ns || strcmp((const char *)eis->ns->href, ES_NS_RPS)) {
		printf("%s ERROR Eis must be in namespace %s, declared on the Eis element\n", path, ES_NS_RPS);
		xmlFreeDoc(d);
		return 1;
	}
	xml = dump(ctx, d, eis);
	xml = xml ? envelope(ctx, o, action, talloc_asprintf(ctx,
		"<rps:ES1-RegisterEISRequest xmlns:rps=\"" ES_NS_RPS "\">"
		"<rps:FunctionCallIdentifier>sgp02-ctl-register</rps:FunctionCallIdentifier>%s"
		"</rps:ES1-RegisterEISRequest>", xml)) : NULL;
	line = text(ctx, eid);
	xmlFreeDoc(d);
	if (!xml) {
		printf("%s ERROR out of memory\n", line);
		return 1;
	}
	status = post(ctx, o, action, xml, &resp, &perr);
	ok = outcome(ctx, status, resp, perr, &err, &rd, &fn);
	printf("%s %s\n", line, err);
	xmlFreeDoc(rd);
	return ok ? 0 : 1;
}

static int add_dir(void *ctx, struct es_opts *o)
{
	struct dirent **names;
	int i, n = scandir(o->dir, &names, NULL, alphasort);

	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		size_t l = strlen(names[i]->d_name);

		if (l > 4 && !strcmp(names[i]->d_name + l - 4, ".xml")) {
			o->files = talloc_realloc(ctx, o->files, const char *, o->num_files + 1);
			o->files[o->num_files++] = talloc_asprintf(ctx, "%s/%s", o->dir, names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

/* ---------------------------------------------------------------- options */

static void usage(FILE *f)
{
	fprintf(f, "usage: sgp02-ctl es1 register --url URL [--ca FILE --cert FILE --key FILE]\n"
		   "                --sign-key FILE --sign-cert FILE (--eis FILE [FILE...] | --eis-dir DIR)\n"
		   "                [--smsr-id OID] [--from OID] [--no-sign] [--sign-only OUT] [--timeout S]\n"
		   "       sgp02-ctl es4 get-eis --url URL [--ca FILE --cert FILE --key FILE] --eid EID\n"
		   "                [--es3] [--from OID] [--summary] [--timeout S]\n"
		   "  register: signs each EIS with the EUM key (XML-DSig over EumSignedInfo), sends ES1 RegisterEIS\n"
		   "            and prints \"EID STATUS [subject/reason message]\" per EIS; exit 1 if any failed\n"
		   "  get-eis:  sends ES4 (or ES3 with --es3) GetEIS and prints the response function element\n");
}

enum { O_URL = 256, O_CA, O_CERT, O_KEY, O_SKEY, O_SCERT, O_EIS, O_DIR, O_SMSR, O_FROM, O_EID, O_ES3, O_NOSIGN,
       O_SIGNONLY, O_TIMEOUT, O_SUMMARY, O_HELP };

static int parse_opts(void *ctx, int argc, char **argv, struct es_opts *o, bool *summary)
{
	static const struct option lo[] = {
		{ "url", 1, NULL, O_URL }, { "ca", 1, NULL, O_CA }, { "cert", 1, NULL, O_CERT },
		{ "key", 1, NULL, O_KEY }, { "sign-key", 1, NULL, O_SKEY }, { "sign-cert", 1, NULL, O_SCERT },
		{ "eis", 1, NULL, O_EIS }, { "eis-dir", 1, NULL, O_DIR }, { "smsr-id", 1, NULL, O_SMSR },
		{ "from", 1, NULL, O_FROM }, { "eid", 1, NULL, O_EID }, { "es3", 0, NULL, O_ES3 },
		{ "no-sign", 0, NULL, O_NOSIGN }, { "sign-only", 1, NULL, O_SIGNONLY },
		{ "timeout", 1, NULL, O_TIMEOUT }, { "summary", 0, NULL, O_SUMMARY }, { "help", 0, NULL, O_HELP },
		{}
	};
	bool from_set = false;
	int c;

	o->timeout = 30;
	o->iface = "ES4";
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_URL: o->url = optarg; break;
		case O_CA: o->ca = optarg; break;
		case O_CERT: o->cert = optarg; break;
		case O_KEY: o->key = optarg; break;
		case O_SKEY: o->sign_key = optarg; break;
		case O_SCERT: o->sign_cert = optarg; break;
		case O_EIS:
			o->files = talloc_realloc(ctx, o->files, const char *, o->num_files + 1);
			o->files[o->num_files++] = optarg;
			/* --eis FILE [FILE...]: the following non-option words are files too */
			while (optind < argc && argv[optind][0] != '-') {
				o->files = talloc_realloc(ctx, o->files, const char *, o->num_files + 1);
				o->files[o->num_files++] = argv[optind++];
			}
			break;
		case O_DIR: o->dir = optarg; break;
		case O_SMSR: o->smsr_id = optarg; break;
		case O_FROM:
			o->from = optarg;
			from_set = true;
			break;
		case O_EID: o->eid = optarg; break;
		case O_ES3:
			o->iface = "ES3";
			if (!from_set)
				o->from = "1.3.6.1.4.1.99999.10";	/* the test PKI's SM-DP */
			break;
		case O_NOSIGN: o->no_sign = true; break;
		case O_SIGNONLY: o->sign_only = optarg; break;
		case O_TIMEOUT:
			o->timeout = atol(optarg);
			if (o->timeout < 1 || o->timeout > 3600)
				return -EINVAL;
			break;
		case O_SUMMARY: *summary = true; break;
		case O_HELP: usage(stdout); return 1;
		default: return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

static int es1_register(void *ctx, struct es_opts *o)
{
	struct ws_xmldsig_signer *signer = NULL;
	uint8_t *k = NULL, *c = NULL;
	size_t kl = 0, cl = 0;
	unsigned int i;
	int failed = 0;

	if (o->dir && add_dir(ctx, o) < 0) {
		fprintf(stderr, "cannot read directory %s\n", o->dir);
		return 2;
	}
	if (!o->num_files || (!o->url && !o->sign_only) || (o->sign_only && o->num_files != 1)) {
		usage(stderr);
		return 2;
	}
	if (!o->no_sign) {
		if (!o->sign_key || !o->sign_cert || read_file(ctx, o->sign_key, &k, &kl) < 0 ||
		    read_file(ctx, o->sign_cert, &c, &cl) < 0 ||
		    !(signer = ws_xmldsig_signer_alloc(ctx, k, kl, c, cl))) {
			fprintf(stderr, "cannot load the signing key and certificate (--sign-key, --sign-cert)\n");
			return 2;
		}
	}
	for (i = 0; i < o->num_files; i++)
		failed |= register_one(ctx, o, signer, o->files[i]);
	talloc_free(signer);
	return failed ? 1 : 0;
}

static int es4_get_eis(void *ctx, const struct es_opts *o, bool summary)
{
	const char *action = !strcmp(o->iface, "ES3") ? "http://gsma.com/ES3/ProfileManagement/ES3-GetEISRequest" :
			     "http://gsma.com/ES4/ProfileManagement/ES4-GetEISRequest";
	char *xml, *resp = NULL, *line = NULL;
	const char *err = NULL;
	xmlDocPtr rd = NULL;
	xmlNodePtr fn;
	long status;
	bool ok;

	if (!o->url || !o->eid) {
		usage(stderr);
		return 2;
	}
	xml = envelope(ctx, o, action, talloc_asprintf(ctx,
		"<rps:%s-GetEISRequest xmlns:rps=\"" ES_NS_RPS "\">"
		"<rps:FunctionCallIdentifier>sgp02-ctl-get-eis</rps:FunctionCallIdentifier><rps:Eid>%s</rps:Eid>"
		"</rps:%s-GetEISRequest>", o->iface, esc(ctx, o->eid), o->iface));
	if (!xml)
		return 2;
	status = post(ctx, o, action, xml, &resp, &err);
	ok = outcome(ctx, status, resp, err, &line, &rd, &fn);
	printf("%s %s\n", o->eid, line);
	if (fn && !summary) {
		xmlBufferPtr b = xmlBufferCreate();

		if (b && xmlNodeDump(b, rd, fn, 0, 1) >= 0)
			printf("%s\n", (const char *)xmlBufferContent(b));
		xmlBufferFree(b);
	} else if (fn && ok) {
		xmlNodePtr e = child(fn, "Eis"), p;

		for (p = e ? xmlFirstElementChild(e) : NULL; p; p = xmlNextElementSibling(p))
			if (!strcmp((const char *)p->name, "ProfileInfo"))
				printf("profile %s %s %s\n", text(ctx, child(p, "Iccid")),
				       text(ctx, child(p, "Mno-id")), text(ctx, child(p, "State")));
	}
	xmlFreeDoc(rd);
	return ok ? 0 : 1;
}

static int es_main(int argc, char **argv, bool es1)
{
	void *ctx = talloc_named_const(NULL, 0, "ctl_es");
	struct es_opts o = {};
	bool summary = false;
	int rc;

	if (argc < 2 || (es1 && strcmp(argv[1], "register")) || (!es1 && strcmp(argv[1], "get-eis"))) {
		usage(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
		talloc_free(ctx);
		return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	/* wsa:From EntityId defaults: the test PKI's EUM (99999.30) or operator MNO1 (99999.1), see src/fleet */
	o.from = es1 ? "1.3.6.1.4.1.99999.30" : "1.3.6.1.4.1.99999.1";
	rc = parse_opts(ctx, argc - 1, argv + 1, &o, &summary);
	if (rc) {
		if (rc < 0)
			usage(stderr);
		talloc_free(ctx);
		return rc < 0 ? 2 : 0;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = es1 ? es1_register(ctx, &o) : es4_get_eis(ctx, &o, summary);
	if (g_curl)
		curl_easy_cleanup(g_curl);
	g_curl = NULL;
	curl_global_cleanup();
	talloc_free(ctx);	/* the signer's destructor drops its xmlsec reference */
	return rc;
}

int ctl_es1_main(int argc, char **argv)
{
	return es_main(argc, argv, true);
}

int ctl_es4_main(int argc, char **argv)
{
	return es_main(argc, argv, false);
}
