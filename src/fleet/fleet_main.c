/*! \file fleet_main.c
 * sgp02-fleet: the simulated world (an SMSC and N devices with eUICCs). Placeholder so that the build links;
 * the real program follows. */
#include <stdio.h>

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "sgp02-fleet: not implemented yet\n");
	return 1;
}
