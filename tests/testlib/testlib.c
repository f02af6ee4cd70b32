/* Shared test harness; see testlib.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include <talloc.h>
#include <CUnit/Basic.h>

#include "testlib.h"

void *g_test_ctx;
static void *g_root_ctx;

#ifndef SGP02_SHARED_DEFAULT
#define SGP02_SHARED_DEFAULT "../shared"
#endif

const char *test_shared_dir(void)
{
	const char *env = getenv("SGP02_SHARED");
	return env && *env ? env : SGP02_SHARED_DEFAULT;
}

uint8_t *test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = talloc_realloc_size(g_test_ctx, buf, cap + 1);
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

uint8_t *test_hex(const char *hex, size_t *len)
{
	size_t n = 0, i;
	uint8_t *out = talloc_size(g_test_ctx, strlen(hex) / 2 + 1);
	int hi = -1;

	for (i = 0; hex[i]; i++) {
		int c = (unsigned char)hex[i], v;
		if (isspace(c))
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else {
			CU_FAIL("bad hex digit in fixture");
			return NULL;
		}
		if (hi < 0)
			hi = v;
		else {
			out[n++] = (hi << 4) | v;
			hi = -1;
		}
	}
	if (hi >= 0)
		CU_FAIL("odd number of hex digits in fixture");
	if (len)
		*len = n;
	return out;
}

void test_assert_hex(const uint8_t *buf, size_t len, const char *hex, const char *file, int line)
{
	size_t elen = 0;
	uint8_t *exp = test_hex(hex, &elen);
	int ok = exp && buf && elen == len && memcmp(exp, buf, len) == 0;

	if (!ok) {
		size_t i;
		fprintf(stderr, "%s:%d: hex mismatch\n  expected: %s\n  got:      ", file, line, hex);
		for (i = 0; buf && i < len; i++)
			fprintf(stderr, "%02x", buf[i]);
		fprintf(stderr, "\n");
	}
	CU_assertImplementation(ok, line, "buffer equals expected hex", file, "", CU_FALSE);
}

/* --- a minimal JSON reader, enough for vectors.json (objects, arrays, strings, literals) --- */

static const char *g_json;

static const char *json_ws(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

/* Parse a JSON string at p (pointing at the opening quote); stores a talloc'd copy in *out
 * (if out != NULL) and returns the position after the closing quote, or NULL. */
static const char *json_str(const char *p, char **out)
{
	char *s = NULL;
	size_t n = 0;

	if (*p != '"')
		return NULL;
	p++;
	if (out)
		s = talloc_size(g_test_ctx, strlen(p) + 1);
	while (*p && *p != '"') {
		char c = *p++;
		if (c == '\\') {
			c = *p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u': /* vectors.json is ASCII; keep \uXXXX as '?' */
				if (strlen(p) < 4)
					return NULL;
				p += 4;
				c = '?';
				break;
			case '\0':
				return NULL;
			default:
				break;	/* \" \\ \/ */
			}
		}
		if (s)
			s[n++] = c;
	}
	if (*p != '"')
		return NULL;
	if (s) {
		s[n] = '\0';
		*out = s;
	}
	return p + 1;
}

static const char *json_skip(const char *p);

static const char *json_skip_container(const char *p, char open, char close)
{
	p = json_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (open == '{') {
			p = json_str(json_ws(p), NULL);
			if (!p)
				return NULL;
			p = json_ws(p);
			if (*p != ':')
				return NULL;
			p++;
		}
		p = json_skip(json_ws(p));
		if (!p)
			return NULL;
		p = json_ws(p);
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == close)
			return p + 1;
		return NULL;
	}
}

/* Skip one JSON value; returns the position after it. */
static const char *json_skip(const char *p)
{
	p = json_ws(p);
	switch (*p) {
	case '"':
		return json_str(p, NULL);
	case '{':
		return json_skip_container(p, '{', '}');
	case '[':
		return json_skip_container(p, '[', ']');
	default:
		while (*p && (isalnum((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.'))
			p++;
		return p;
	}
}

/* Find member `key` of the object at p (or the n-th key if key == NULL and keyout != NULL). */
static const char *json_member(const char *p, const char *key, unsigned int nth, char **keyout)
{
	unsigned int i = 0;

	p = json_ws(p);
	if (*p != '{')
		return NULL;
	p = json_ws(p + 1);
	if (*p == '}')
		return NULL;
	for (;;) {
		char *k;
		p = json_str(json_ws(p), &k);
		if (!p)
			return NULL;
		p = json_ws(p);
		if (*p != ':')
			return NULL;
		p = json_ws(p + 1);
		if (key ? strcmp(k, key) == 0 : i == nth) {
			if (keyout)
				*keyout = k;
			return p;
		}
		talloc_free(k);
		i++;
		p = json_ws(json_skip(p));
		if (!p || *p != ',')
			return NULL;
		p++;
	}
}

static int json_load(void)
{
	char path[1024];

	if (g_json)
		return 0;
	snprintf(path, sizeof(path), "%s/vectors/vectors.json", test_shared_dir());
	g_json = (const char *)test_read_file(path, NULL);
	if (!g_json) {
		fprintf(stderr, "cannot read %s: %s (set SGP02_SHARED)\n", path, strerror(errno));
		return -ENOENT;
	}
	/* keep it across test cases */
	talloc_steal(g_root_ctx, g_json);
	return 0;
}

static const char *json_walk(const char *key, va_list ap)
{
	const char *p;

	if (json_load() < 0)
		return NULL;
	p = g_json;
	while (key) {
		p = json_member(p, key, 0, NULL);
		if (!p)
			return NULL;
		key = va_arg(ap, const char *);
	}
	return p;
}

const char *test_vector(const char *key, ...)
{
	va_list ap;
	const char *p, *end;
	char *out;

	va_start(ap, key);
	p = json_walk(key, ap);
	va_end(ap);
	if (!p)
		return NULL;
	p = json_ws(p);
	if (*p == '"') {
		if (!json_str(p, &out))
			return NULL;
		return out;
	}
	end = json_skip(p);
	if (!end)
		return NULL;
	return talloc_strndup(g_test_ctx, p, end - p);
}

const char *test_vector_key(unsigned int n, const char *key, ...)
{
	va_list ap;
	const char *p;
	char *k = NULL;

	va_start(ap, key);
	p = json_walk(key, ap);
	va_end(ap);
	if (!p)
		return NULL;
	if (!json_member(p, NULL, n, &k))
		return NULL;
	return k;
}

/* --- CUnit glue --- */

struct case_wrap {
	void (*fn)(void);
};

/* CUnit calls test functions without arguments; the harness wraps each so that every test case
 * gets a fresh talloc context (freed after it). */
static const struct test_case *g_cur_cases;

static void run_one(const struct test_case *tc)
{
	g_test_ctx = talloc_named_const(g_root_ctx, 0, tc->name);
	tc->fn();
	talloc_free(g_test_ctx);
	g_test_ctx = NULL;
}

/* CUnit has no per-test user pointer: use a small trampoline table. */
#define MAX_CASES 1024
static const struct test_case *g_tramp_case[MAX_CASES];
static unsigned int g_tramp_n;

#define TRAMP(i) static void tramp_##i(void) { run_one(g_tramp_case[i - 100]); }
#define T10(a) TRAMP(a##0) TRAMP(a##1) TRAMP(a##2) TRAMP(a##3) TRAMP(a##4) \
	TRAMP(a##5) TRAMP(a##6) TRAMP(a##7) TRAMP(a##8) TRAMP(a##9)
#define T100(b) T10(b##0) T10(b##1) T10(b##2) T10(b##3) T10(b##4) T10(b##5) T10(b##6) T10(b##7) \
	T10(b##8) T10(b##9)
T100(1) T100(2) T100(3) T100(4) T100(5) T100(6) T100(7) T100(8) T100(9) T100(10) T10(110) \
	TRAMP(1110) TRAMP(1111) TRAMP(1112) TRAMP(1113)

#define R10(a) tramp_##a##0, tramp_##a##1, tramp_##a##2, tramp_##a##3, tramp_##a##4, \
	tramp_##a##5, tramp_##a##6, tramp_##a##7, tramp_##a##8, tramp_##a##9,
#define R100(b) R10(b##0) R10(b##1) R10(b##2) R10(b##3) R10(b##4) R10(b##5) R10(b##6) R10(b##7) \
	R10(b##8) R10(b##9)
static void (*const g_tramp[])(void) = {
	R100(1) R100(2) R100(3) R100(4) R100(5) R100(6) R100(7) R100(8) R100(9) R100(10) R10(110)
	tramp_1110, tramp_1111, tramp_1112, tramp_1113,
};

int test_main(int argc, char **argv, const struct test_suite *suites)
{
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *only = argc > 1 ? argv[1] : NULL;
	unsigned int passed, failed, run;
	const struct test_suite *s;

	(void)g_cur_cases;
	g_root_ctx = talloc_named_const(NULL, 0, "test_root");

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (s = suites; s->name; s++) {
		const struct test_case *tc;
		CU_pSuite cs;

		if (only && strcmp(only, s->name))
			continue;
		cs = CU_add_suite(s->name, s->init, s->cleanup);
		if (!cs)
			return 2;
		for (tc = s->cases; tc->name; tc++) {
			if (g_tramp_n >= sizeof(g_tramp) / sizeof(g_tramp[0])) {
				fprintf(stderr, "too many test cases in one program\n");
				return 2;
			}
			g_tramp_case[g_tramp_n] = tc;
			if (!CU_add_test(cs, tc->name, g_tramp[g_tramp_n]))
				return 2;
			g_tramp_n++;
		}
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	run = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed();
	passed = run >= CU_get_number_of_tests_failed() ? run - CU_get_number_of_tests_failed() : 0;
	CU_cleanup_registry();

	talloc_free(g_root_ctx);
	g_json = NULL;
	printf("\nTESTRESULT %s %u %u\n", prog, passed, failed);
	printf("%s: %u passed, %u failed\n", prog, passed, failed);
	fflush(stdout);
	return failed ? 1 : 0;
}
