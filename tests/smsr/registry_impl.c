/* The modules under test, compiled into the test program (src/smsr has no library of its own). */
#include "../../src/smsr/eis_registry.c"
#include "../../src/smsr/db_smsr.c"
