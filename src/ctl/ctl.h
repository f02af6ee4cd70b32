/*! \file ctl.h
 * Subcommand groups of sgp02-ctl. Each returns the process exit status:
 * 0 success, 1 a check failed (e.g. a MAC did not verify), 2 usage or input error. */
#pragma once

/*! `sgp02-ctl ota encode-cmd|decode-por|decode-cmd ...`; argv[0] is "ota". */
int ctl_ota_main(int argc, char **argv);
/*! `sgp02-ctl saip list FILE ...`; argv[0] is "saip". */
int ctl_saip_main(int argc, char **argv);
int ctl_pki_main(int argc, char **argv);
/*! `sgp02-ctl smdp import-template|import-batch|inventory ...` (ctl_smdp.c); argv[0] is "smdp". */
int ctl_smdp_main(int argc, char **argv);
/*! `sgp02-ctl es1 register ...` / `sgp02-ctl es4 get-eis ...` (ctl_es.c); argv[0] is "es1" / "es4". */
int ctl_es1_main(int argc, char **argv);
int ctl_es4_main(int argc, char **argv);
