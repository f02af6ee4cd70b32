/* Safe XML parsing and XSD validation for the SOAP layer (see soap.h).
 *
 * Parsing never touches the network or the file system: XML_PARSE_NONET, no DTD loading, no entity
 * substitution, and a DOCTYPE stops the parser as soon as it is seen (the SAX internalSubset event comes
 * before any markup declaration is read), so external entities, XXE and "billion laughs" never get a chance.
 * The element depth is bounded while parsing, the size by the caller.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <talloc.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlschemas.h>

#include <osmocom/core/logging.h>

#include <sgp02/common/logging.h>
#include <sgp02/ws/soap.h>
#include "ws_internal.h"

#if LIBXML_VERSION >= 21200
#define WS_XMLERR const xmlError *
#else
#define WS_XMLERR xmlErrorPtr
#endif

struct ws_schema {
	xmlSchemaPtr schema;
	char *path;
};

/* ------------------------------------------------------------------ safe parsing */

struct parse_state {
	unsigned int depth;
	unsigned int max_depth;
	bool doctype;
	bool too_deep;
};

static void sax_internal_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id, const xmlChar *sys_id)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = ctxt->_private;

	/* a SOAP message MUST NOT contain a DTD (SOAP 1.2 Part 1 §5) */
	st->doctype = true;
	xmlStopParser(ctxt);
}

static void sax_start_ns(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
			 int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
			 const xmlChar **attributes)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = ctxt->_private;

	if (++st->depth > st->max_depth) {
		st->too_deep = true;
		xmlStopParser(ctxt);
		return;
	}
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes, nb_defaulted,
			      attributes);
}

static void sax_end_ns(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = ctxt->_private;

	if (st->depth)
		st->depth--;
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

static void trim_nl(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
}

xmlDocPtr ws_xml_parse_safe(void *ctx, const uint8_t *buf, size_t len, unsigned int max_depth, char **err)
{
	struct parse_state st = { .max_depth = max_depth ? max_depth : WS_MAX_DEPTH_DEFAULT };
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc = NULL;

	*err = NULL;
	if (!buf || len == 0) {
		*err = talloc_strdup(ctx, "empty body");
		return NULL;
	}
	if (len > INT_MAX) {
		*err = talloc_strdup(ctx, "body too large");
		return NULL;
	}
	xmlInitParser();
	ctxt = xmlCreateMemoryParserCtxt((const char *)buf, (int)len);
	if (!ctxt) {
		*err = talloc_strdup(ctx, "cannot create XML parser");
		return NULL;
	}
	/* NONET: no network; no NOENT (entities are not substituted), no DTDLOAD/DTDATTR/DTDVALID, no HUGE (libxml2
	 * keeps its default text node and name length limits); errors go to lastError only */
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	ctxt->_private = &st;
	ctxt->sax->internalSubset = sax_internal_subset;
	ctxt->sax->externalSubset = NULL;
	ctxt->sax->startElementNs = sax_start_ns;
	ctxt->sax->endElementNs = sax_end_ns;

	xmlParseDocument(ctxt);

	if (st.doctype) {
		*err = talloc_strdup(ctx, "DOCTYPE/DTD is not allowed in a SOAP message");
	} else if (st.too_deep) {
		*err = talloc_asprintf(ctx, "element nesting deeper than %u", st.max_depth);
	} else if (!ctxt->wellFormed || !ctxt->myDoc) {
		WS_XMLERR e = xmlCtxtGetLastError(ctxt);

		if (e && e->message) {
			*err = talloc_asprintf(ctx, "malformed XML, line %d: %s", e->line, e->message);
			trim_nl(*err);
		} else {
			*err = talloc_strdup(ctx, "malformed XML");
		}
	} else {
		doc = ctxt->myDoc;
		ctxt->myDoc = NULL;
	}
	if (ctxt->myDoc) {
		xmlFreeDoc(ctxt->myDoc);
		ctxt->myDoc = NULL;
	}
	xmlFreeParserCtxt(ctxt);
	if (doc && !xmlDocGetRootElement(doc)) {
		xmlFreeDoc(doc);
		doc = NULL;
		*err = talloc_strdup(ctx, "no root element");
	}
	return doc;
}

/* ------------------------------------------------------------------ schema */

struct first_error {
	void *ctx;
	char *text;
};

static void collect_first_error(void *data, WS_XMLERR e)
{
	struct first_error *fe = data;

	if (fe->text || !e || e->level < XML_ERR_ERROR)
		return;
	fe->text = talloc_asprintf(fe->ctx, "line %d: %s", e->line, e->message ? e->message : "invalid");
	trim_nl(fe->text);
}

static int schema_free(struct ws_schema *s)
{
	if (s->schema)
		xmlSchemaFree(s->schema);
	return 0;
}

struct ws_schema *ws_schema_load(void *ctx, const char *xsd_path)
{
	struct ws_schema *s;
	xmlSchemaParserCtxtPtr pctxt;
	xmlExternalEntityLoader prev;
	struct first_error fe = { 0 };

	if (!xsd_path)
		return NULL;
	if (access(xsd_path, R_OK) < 0) {
		LOGP(DWS, LOGL_ERROR, "schema %s: %s\n", xsd_path, strerror(errno));
		return NULL;
	}
	xmlInitParser();
	s = talloc_zero(ctx, struct ws_schema);
	if (!s)
		return NULL;
	s->path = talloc_strdup(s, xsd_path);
	talloc_set_destructor(s, schema_free);
	fe.ctx = s;

	pctxt = xmlSchemaNewParserCtxt(xsd_path);
	if (!pctxt) {
		LOGP(DWS, LOGL_ERROR, "schema %s: cannot create parser\n", xsd_path);
		talloc_free(s);
		return NULL;
	}
	xmlSchemaSetParserStructuredErrors(pctxt, collect_first_error, &fe);
	/* includes and imports from local files only: the no-network loader refuses http/ftp URLs */
	prev = xmlGetExternalEntityLoader();
	xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader);
	s->schema = xmlSchemaParse(pctxt);
	xmlSetExternalEntityLoader(prev);
	xmlSchemaFreeParserCtxt(pctxt);
	if (!s->schema) {
		LOGP(DWS, LOGL_ERROR, "schema %s: %s\n", xsd_path, fe.text ? fe.text : "cannot compile");
		talloc_free(s);
		return NULL;
	}
	LOGP(DWS, LOGL_INFO, "schema %s compiled\n", xsd_path);
	return s;
}

/* Validation never needs to load anything (the schema is compiled; xsi:schemaLocation hints in a message are
 * not followed when a schema is given); refuse any load attempt all the same. */
static xmlParserInputPtr deny_all_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	LOGP(DWS, LOGL_NOTICE, "refused to load '%.200s' during validation\n", url ? url : "?");
	return NULL;
}

int ws_schema_validate_elem(struct ws_schema *s, void *ctx, xmlNodePtr elem, char **err)
{
	xmlSchemaValidCtxtPtr vctxt;
	xmlExternalEntityLoader prev;
	struct first_error fe = { .ctx = ctx };
	int rc;

	if (err)
		*err = NULL;
	if (!s || !elem)
		return -EINVAL;
	vctxt = xmlSchemaNewValidCtxt(s->schema);
	if (!vctxt)
		return -ENOMEM;
	xmlSchemaSetValidStructuredErrors(vctxt, collect_first_error, &fe);
	prev = xmlGetExternalEntityLoader();
	xmlSetExternalEntityLoader(deny_all_loader);
	rc = xmlSchemaValidateOneElement(vctxt, elem);
	xmlSetExternalEntityLoader(prev);
	xmlSchemaFreeValidCtxt(vctxt);
	if (rc == 0)
		return 0;
	if (err)
		*err = fe.text ? fe.text : talloc_strdup(ctx, "schema validation failed");
	else
		talloc_free(fe.text);
	return -EBADMSG;
}

/*! First element child of \a n (NULL if none). */
xmlNodePtr ws_xml_first_elem(xmlNodePtr n)
{
	for (n = n ? n->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

/*! Next element sibling of \a n. */
xmlNodePtr ws_xml_next_elem(xmlNodePtr n)
{
	for (n = n ? n->next : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

bool ws_xml_is(xmlNodePtr n, const char *ns, const char *name)
{
	if (!n || n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, name))
		return false;
	if (!ns)
		return !n->ns;
	return n->ns && n->ns->href && !strcmp((const char *)n->ns->href, ns);
}

int ws_schema_validate_envelope(struct ws_schema *s, void *ctx, const uint8_t *xml, size_t len, char **err)
{
	char *perr = NULL;
	xmlDocPtr doc;
	xmlNodePtr env, n, body = NULL;
	int rc;

	if (err)
		*err = NULL;
	doc = ws_xml_parse_safe(ctx, xml, len, 0, &perr);
	if (!doc) {
		if (err)
			*err = perr;
		return -EBADMSG;
	}
	env = xmlDocGetRootElement(doc);
	if (ws_xml_is(env, WS_NS_SOAP12, "Envelope")) {
		for (n = ws_xml_first_elem(env); n; n = ws_xml_next_elem(n))
			if (ws_xml_is(n, WS_NS_SOAP12, "Body"))
				body = ws_xml_first_elem(n);
	}
	if (!body) {
		if (err)
			*err = talloc_strdup(ctx, "not a SOAP 1.2 envelope with a Body element");
		xmlFreeDoc(doc);
		return -EBADMSG;
	}
	rc = ws_schema_validate_elem(s, ctx, body, err);
	xmlFreeDoc(doc);
	return rc;
}
