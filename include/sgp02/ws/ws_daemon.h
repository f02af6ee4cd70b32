/*! \file ws_daemon.h
 * The web-service endpoints of a daemon: configuration ("web-service" node of the config file), the HTTPS
 * server (mutual TLS against a CA by default), the SOAP services with their schema, the duplicate store in
 * PostgreSQL, the HTTP client for callbacks, and "show web-service" on the VTY.
 *
 * A daemon lists its services (sgp02-smsr: ES1, ES3, ES4, ES7; sgp02-smdp: ES2 and its ES3 callback
 * receiver), calls ws_daemon_start() once the database is open, then registers handlers with
 * ws_service_set_handler(ws_daemon_service("ES4SmSrService"), ...). An operation without a handler answers a
 * SOAP Receiver Fault saying it is not implemented.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct sgp02_app;
struct ws_op;
struct ws_service;
struct http_client;

/*! One service a daemon serves. */
struct ws_daemon_service {
	const char *name;		/*!< e.g. "ES4SmSrService" (ws_daemon_service() looks it up) */
	const char *path;		/*!< endpoint path, e.g. "/ES4" */
	const struct ws_op *ops;	/*!< ws_catalog.h table */
	const char *wsdl_file;		/*!< relative to the configured WSDL directory, e.g. "ES4_SMSR.wsdl" */
};

/*! Install the "web-service" config node and "show web-service". Call from the daemon's vty_init hook.
 *  \a default_port: the listen port when the config names none. */
void ws_daemon_vty_init(struct sgp02_app *app, uint16_t default_port);

/*! Start the HTTPS server with \a svcs (\a n entries). \returns 0 or -errno (logged: what is missing). */
int ws_daemon_start(struct sgp02_app *app, const struct ws_daemon_service *svcs, unsigned int n);

/*! A service started by ws_daemon_start(), by name. \returns NULL if unknown. */
struct ws_service *ws_daemon_service(const char *name);

/*! The HTTP client for outgoing calls and callbacks (configured client certificate). */
struct http_client *ws_daemon_client(void);

/*! The port the server listens on (after start). */
uint16_t ws_daemon_port(void);

/*! Stop the server and free everything ws_daemon_start() created. */
void ws_daemon_stop(void);
