/* Unit tests for EID check digits and BCD conversion (src/gp/eid.c), vectors "eid_check_digits_sgp29". */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <sgp02/gp/eid.h>

#include "testlib.h"

/* test_vector() returns a JSON array as its raw text: take its n-th string element */
static bool array_item(const char *arr, unsigned int n, char *out, size_t out_size)
{
	const char *p = arr;
	unsigned int i;

	for (i = 0; p && (p = strchr(p, '"')); i++) {
		const char *e = strchr(p + 1, '"');

		if (!e)
			return false;
		if (i == n) {
			if ((size_t)(e - p - 1) >= out_size)
				return false;
			memcpy(out, p + 1, e - p - 1);
			out[e - p - 1] = '\0';
			return true;
		}
		p = e + 1;
	}
	return false;
}

static void test_valid_vectors(void)
{
	const char *valid = test_vector("eid_check_digits_sgp29", "valid", NULL);
	const char *invalid = test_vector("eid_check_digits_sgp29", "invalid", NULL);
	char eid[64];
	unsigned int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(valid);
	CU_ASSERT_PTR_NOT_NULL_FATAL(invalid);
	for (i = 0; array_item(valid, i, eid, sizeof(eid)); i++)
		CU_ASSERT_EQUAL(gp_eid_validate(eid), 0);
	CU_ASSERT_EQUAL(i, 3);
	for (i = 0; array_item(invalid, i, eid, sizeof(eid)); i++)
		CU_ASSERT_EQUAL(gp_eid_validate(eid), -EBADMSG);
	CU_ASSERT_EQUAL(i, 1);
}

static void test_compute_vectors(void)
{
	unsigned int i;
	const char *in;
	char out[GP_EID_DIGITS + 1];

	for (i = 0; (in = test_vector_key(i, "eid_check_digits_sgp29", "compute", NULL)); i++) {
		const char *exp = test_vector("eid_check_digits_sgp29", "compute", in, NULL);

		CU_ASSERT_PTR_NOT_NULL_FATAL(exp);
		CU_ASSERT_EQUAL(gp_eid_compute(in, out), 0);
		CU_ASSERT_STRING_EQUAL(out, exp);
		CU_ASSERT_EQUAL(gp_eid_validate(out), 0);
	}
	CU_ASSERT_EQUAL(i, 4);
}

static void test_errors(void)
{
	char out[GP_EID_DIGITS + 1];

	CU_ASSERT_EQUAL(gp_eid_validate(NULL), -EINVAL);
	CU_ASSERT_EQUAL(gp_eid_validate("8904903212345123451234567890123"), -EINVAL);	/* 31 digits */
	CU_ASSERT_EQUAL(gp_eid_validate("890490321234512345123456789012355"), -EINVAL);
	CU_ASSERT_EQUAL(gp_eid_validate("8904903212345123451234567890123A"), -EINVAL);
	CU_ASSERT_EQUAL(gp_eid_compute("8904903212345123451234567890", out), -EINVAL);
	CU_ASSERT_EQUAL(gp_eid_compute("89049032123451234512345678901x", out), -EINVAL);
	/* every single-digit change of a valid EID is detected (MOD 97-10 property) */
	{
		char e[] = "89049032123451234512345678901235";
		unsigned int pos, d;

		for (pos = 0; pos < GP_EID_DIGITS; pos++) {
			char orig = e[pos];

			for (d = 0; d < 10; d++) {
				e[pos] = '0' + d;
				if (e[pos] == orig)
					continue;
				CU_ASSERT_EQUAL(gp_eid_validate(e), -EBADMSG);
			}
			e[pos] = orig;
		}
	}
}

static void test_bytes(void)
{
	uint8_t b[GP_EID_BYTES];
	char s[GP_EID_DIGITS + 1];

	CU_ASSERT_EQUAL(gp_eid_to_bytes("89049032123451234512345678901235", b), 0);
	TEST_ASSERT_HEX(b, 16, "89049032123451234512345678901235");
	CU_ASSERT_EQUAL(gp_eid_from_bytes(b, 16, s), 0);
	CU_ASSERT_STRING_EQUAL(s, "89049032123451234512345678901235");
	CU_ASSERT_EQUAL(gp_eid_from_bytes(b, 15, s), -EINVAL);
	b[3] = 0x3A;
	CU_ASSERT_EQUAL(gp_eid_from_bytes(b, 16, s), -EBADMSG);
	b[3] = 0xA3;
	CU_ASSERT_EQUAL(gp_eid_from_bytes(b, 16, s), -EBADMSG);
	CU_ASSERT_EQUAL(gp_eid_to_bytes("8904903212345123451234567890123", b), -EINVAL);
}

static const struct test_case eid_cases[] = {
	TEST_CASE(test_valid_vectors),
	TEST_CASE(test_compute_vectors),
	TEST_CASE(test_errors),
	TEST_CASE(test_bytes),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "eid", NULL, NULL, eid_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
