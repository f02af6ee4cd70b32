/*! \file smsr_smpp.h
 * The SM-SR's SMS bearer: configuration of the SMPP binds ("smpp" node), the ESME (esme.c) started with the
 * daemon, "show smpp" on the VTY. ES5 procedures submit through smsr_smpp_esme(); MO messages (PoRs and eUICC
 * notifications) are handed to smsr_smpp_set_mo_handler()'s callback. */
#pragma once

#include <stdint.h>

struct sgp02_app;
struct esme;
struct esme_mo;

/*! Install the "smpp" node and "show smpp". */
void smsr_smpp_vty_init(struct sgp02_app *app);
/*! Create the ESME with the configured binds and start binding (nothing if no bind is configured).
 *  \returns 0 or -errno. */
int smsr_smpp_start(struct sgp02_app *app);
void smsr_smpp_stop(void);
/*! The ESME, or NULL when SMS is not configured. */
struct esme *smsr_smpp_esme(void);

/*! Who gets MO messages (returns the SMPP status for deliver_sm_resp). Without one they are logged and
 *  acknowledged. */
typedef uint32_t (*smsr_smpp_mo_cb)(const struct esme_mo *mo, void *data);
void smsr_smpp_set_mo_handler(smsr_smpp_mo_cb cb, void *data);
