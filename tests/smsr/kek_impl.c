/* The module under test, compiled into the test program (src/smsr has no library of its own). */
#include "../../src/smsr/smsr_kek.c"
