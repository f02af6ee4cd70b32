/*! \file logging.h
 * Log categories shared by all sgp02 programs. Every line carries a category; lines about one
 * eUICC/profile/transaction also carry its identity (EID, ICCID, transaction id). Never log secrets. */
#pragma once

#include <osmocom/core/logging.h>

enum sgp02_log_cat {
	DMAIN,		/*!< program start-up, shutdown, configuration */
	DDB,		/*!< PostgreSQL access and schema management */
	DSMSR,		/*!< SM-SR procedures */
	DSMDP,		/*!< SM-DP procedures */
	DWS,		/*!< SOAP web services (ES1/ES2/ES3/ES4/ES7) */
	DHTTP,		/*!< HTTP/TLS transport */
	DSMPP,		/*!< SMPP client/server */
	DOTA,		/*!< OTA: SCP80, SCP81, CAT_TP */
	DFLEET,		/*!< simulated fleet */
	_NUM_DSGP02
};

extern const struct log_info sgp02_log_info;
