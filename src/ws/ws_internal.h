/* Internal helpers shared by the files of src/ws (not for other modules). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

/* Parse \a buf safely (see ws_xml.c). \returns the document, or NULL with a talloc'd (on \a ctx) reason. */
xmlDocPtr ws_xml_parse_safe(void *ctx, const uint8_t *buf, size_t len, unsigned int max_depth, char **err);
xmlNodePtr ws_xml_first_elem(xmlNodePtr n);
xmlNodePtr ws_xml_next_elem(xmlNodePtr n);
bool ws_xml_is(xmlNodePtr n, const char *ns, const char *name);
