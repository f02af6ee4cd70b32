/*! \file smsr_es.h
 * Handlers of the SM-SR's web-service functions, one file per feature. */
#pragma once

struct sgp02_app;

/*! ES1 RegisterEIS (es1.c). Call after ws_daemon_start(). \returns 0 or -errno. */
int smsr_es1_init(struct sgp02_app *app);

/*! ES3 and ES4 GetEIS (geteis.c). Call after ws_daemon_start(). \returns 0 or -errno. */
int smsr_geteis_init(struct sgp02_app *app);
