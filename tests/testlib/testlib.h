/*! \file testlib.h
 * Small shared test harness: runs CUnit suites, prints a machine-readable summary line,
 * and offers helpers for hex fixtures and the shared test vectors (../shared/vectors).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <CUnit/CUnit.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

struct test_suite {
	const char *name;
	int (*init)(void);	/*!< may be NULL; non-zero return skips the suite as a failure */
	int (*cleanup)(void);	/*!< may be NULL */
	const struct test_case *cases;	/*!< terminated by an entry with name == NULL */
};

#define TEST_CASE(fn) { #fn, fn }
#define TEST_END { NULL, NULL }

/*! Run all suites (array terminated by name == NULL). Prints CUnit's summary and a final line
 *  "TESTRESULT <prog> <passed> <failed>" that scripts/check adds up.
 *  With argv[1] given, runs only the suite of that name.
 *  \returns process exit status: 0 when every test passed. */
int test_main(int argc, char **argv, const struct test_suite *suites);

/*! Talloc context for test allocations, freed and leak-checked after each test case. */
extern void *g_test_ctx;

/*! Parse a hex string (spaces allowed) into a talloc'd buffer on g_test_ctx.
 *  Fails the current test (CU_FAIL) on bad hex. */
uint8_t *test_hex(const char *hex, size_t *len);

/*! Compare a buffer to a hex string; CU_ASSERT style, prints both on mismatch. */
#define TEST_ASSERT_HEX(buf, len, hex) test_assert_hex(buf, len, hex, __FILE__, __LINE__)
void test_assert_hex(const uint8_t *buf, size_t len, const char *hex, const char *file, int line);

/*! Directory of the shared data (vectors, profiles): $SGP02_SHARED, else ../shared relative to
 *  the source tree as configured. */
const char *test_shared_dir(void);

/*! Look up a string value in ../shared/vectors/vectors.json by a path of object keys, e.g.
 *  test_vector("scp03", "SCP03_Test_AES128_03", "card_challenge", NULL).
 *  Numbers, true/false are returned as their literal text. \returns talloc'd string on
 *  g_test_ctx, or NULL if absent. */
const char *test_vector(const char *key, ...);

/*! Iterate the keys of an object in vectors.json: returns the n-th key (0-based) of the object
 *  at the given path, or NULL past the end. Path ends with NULL, like test_vector(). */
const char *test_vector_key(unsigned int n, const char *key, ...);

/*! Read a whole file into a talloc'd buffer on g_test_ctx. \returns NULL on error. */
uint8_t *test_read_file(const char *path, size_t *len);
