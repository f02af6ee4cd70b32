/* Unit tests for the SAIP walker/personaliser (src/gp/saip.c) against the GSMA TS.48 v7.0 packages
 * in shared/vectors/profiles: the walker's view of each .der must agree with the ASN.1 value
 * notation (.txt) published next to it. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/gp/bertlv.h>
#include <sgp02/gp/saip.h>

#include "testlib.h"

static const char *const g_pkgs[] = {
	"ts48v7-SAIP2.3_BERTLV_SUCI",
	"ts48v7-SAIP2.3_BERTLV_SUCI_NoRAMRFM",
	"ts48v7-SAIP2.3_NoBERTLV",
	"ts48v7-SAIP2.3_NoBERTLV_NoRAMRFM",
};
#define N_PKGS (sizeof(g_pkgs) / sizeof(g_pkgs[0]))

/* ---- what we extract from the value notation ---- */

#define MAX_PES 64
#define MAX_CODES 32

struct code {
	unsigned int pe;	/* PE index */
	unsigned int ref;	/* keyReference number (or KVN << 8 | KID for keys) */
	char hex[80];
};

struct txt_profile {
	unsigned int n_pes;
	char pe_name[MAX_PES][32];
	int pe_id[MAX_PES];
	char profile_type[128];
	char services[32][40];		/* eUICC-Mandatory-services names */
	unsigned int n_services;
	unsigned int n_gfste;
	char iccid[32];
	char ef_iccid[32];
	char ef_imsi[32];
	unsigned int n_aka;
	char ki[4][80], opc[4][80];
	unsigned int n_pins, n_puks, n_keys;
	struct code pins[MAX_CODES], puks[MAX_CODES], keys[MAX_CODES];
};

/* ASN.1 names of PINKeyReferenceValue / PUKKeyReferenceValue -> numbers (PEDefinitions) */
static int key_ref_number(const char *name)
{
	static const struct {
		const char *prefix;
		int base;
	} map[] = {
		{ "secondPINAppl", 128 }, { "secondPUKAppl", 128 }, { "pinAppl", 0 }, { "pukAppl", 0 },
	};
	unsigned int i;
	int n;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t l = strlen(map[i].prefix);

		if (!strncmp(name, map[i].prefix, l))
			return map[i].base + atoi(name + l);
	}
	if (!strncmp(name, "adm", 3)) {
		n = atoi(name + 3);
		/* adm1..5 = 10..14, adm6..10 = 138..142 */
		return n <= 5 ? 9 + n : 132 + n;
	}
	return -1;
}

/* copy the 'xx'H string of a line into out (upper case), "" if none */
static void hstring(const char *line, char *out, size_t out_size)
{
	const char *a = strchr(line, '\''), *b;
	size_t n;

	out[0] = '\0';
	if (!a)
		return;
	b = strchr(a + 1, '\'');
	if (!b || b[1] != 'H')
		return;
	n = b - a - 1;
	if (n >= out_size)
		n = out_size - 1;
	memcpy(out, a + 1, n);
	out[n] = '\0';
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static bool starts(const char *s, const char *word)
{
	size_t l = strlen(word);

	return !strncmp(s, word, l) && (s[l] == ' ' || s[l] == ',' || s[l] == '\0');
}

static void parse_txt(const char *text, struct txt_profile *p)
{
	char line[512], comp[64] = "", last_ref_name[64] = "";
	bool in_services = false, in_gfste = false;
	unsigned int kid = 0, kvn = 0;
	const char *s = text;

	memset(p, 0, sizeof(*p));
	while (*s) {
		const char *e = strchr(s, '\n');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		const char *t;
		int cur = (int)p->n_pes - 1;

		if (l >= sizeof(line))
			l = sizeof(line) - 1;
		memcpy(line, s, l);
		line[l] = '\0';
		s = e ? e + 1 : s + l;
		t = skip_ws(line);

		if (!strncmp(line, "value", 5) && strstr(line, "ProfileElement ::= ")) {
			const char *n = strstr(line, "::= ") + 4;
			size_t nl = strcspn(n, " ");

			CU_ASSERT_FATAL(p->n_pes < MAX_PES);
			memcpy(p->pe_name[p->n_pes], n, nl);
			p->pe_name[p->n_pes][nl] = '\0';
			p->pe_id[p->n_pes] = -1;
			p->n_pes++;
			comp[0] = '\0';
			continue;
		}
		if (cur < 0)
			continue;
		/* a component of the PE at indentation 2: "  ef-iccid {" */
		if (line[0] == ' ' && line[1] == ' ' && line[2] != ' ' && strchr(line, '{')) {
			size_t nl = strcspn(line + 2, " ");

			if (nl >= sizeof(comp))
				nl = sizeof(comp) - 1;
			memcpy(comp, line + 2, nl);
			comp[nl] = '\0';
		}
		if (starts(t, "identification") && p->pe_id[cur] < 0)
			p->pe_id[cur] = atoi(t + strlen("identification"));
		if (!strcmp(p->pe_name[cur], "header")) {
			if (starts(t, "profileType")) {
				const char *a = strchr(t, '"'), *b = a ? strchr(a + 1, '"') : NULL;

				if (a && b && (size_t)(b - a - 1) < sizeof(p->profile_type)) {
					memcpy(p->profile_type, a + 1, b - a - 1);
					p->profile_type[b - a - 1] = '\0';
				}
			}
			if (starts(t, "iccid"))
				hstring(t, p->iccid, sizeof(p->iccid));
			if (in_services && *t == '}')
				in_services = false;
			if (in_services && strstr(t, " NULL") && p->n_services < 32) {
				size_t nl = strcspn(t, " ");

				memcpy(p->services[p->n_services], t, nl < 39 ? nl : 39);
				p->services[p->n_services][nl < 39 ? nl : 39] = '\0';
				p->n_services++;
			}
			if (starts(t, "eUICC-Mandatory-services"))
				in_services = true;
			if (in_gfste && *t == '}')
				in_gfste = false;
			if (in_gfste && *t == '{')
				p->n_gfste++;
			if (starts(t, "eUICC-Mandatory-GFSTEList"))
				in_gfste = true;
		}
		if (starts(t, "fillFileContent") && !strcmp(p->pe_name[cur], "mf") && !strcmp(comp, "ef-iccid") &&
		    !p->ef_iccid[0])
			hstring(t, p->ef_iccid, sizeof(p->ef_iccid));
		if (starts(t, "fillFileContent") && !strcmp(p->pe_name[cur], "usim") && !strcmp(comp, "ef-imsi") &&
		    !p->ef_imsi[0])
			hstring(t, p->ef_imsi, sizeof(p->ef_imsi));
		if (!strcmp(p->pe_name[cur], "akaParameter") && p->n_aka < 4) {
			if (starts(t, "key"))
				hstring(t, p->ki[p->n_aka], sizeof(p->ki[0]));
			if (starts(t, "opc")) {
				hstring(t, p->opc[p->n_aka], sizeof(p->opc[0]));
				p->n_aka++;
			}
		}
		if (starts(t, "keyReference")) {
			size_t nl;

			t = skip_ws(t + strlen("keyReference"));
			nl = strcspn(t, ", ");
			if (nl >= sizeof(last_ref_name))
				nl = sizeof(last_ref_name) - 1;
			memcpy(last_ref_name, t, nl);
			last_ref_name[nl] = '\0';
		}
		if (starts(t, "pinValue") && p->n_pins < MAX_CODES) {
			p->pins[p->n_pins].pe = cur;
			p->pins[p->n_pins].ref = key_ref_number(last_ref_name);
			hstring(t, p->pins[p->n_pins].hex, sizeof(p->pins[0].hex));
			p->n_pins++;
		}
		if (starts(t, "pukValue") && p->n_puks < MAX_CODES) {
			p->puks[p->n_puks].pe = cur;
			p->puks[p->n_puks].ref = key_ref_number(last_ref_name);
			hstring(t, p->puks[p->n_puks].hex, sizeof(p->puks[0].hex));
			p->n_puks++;
		}
		if (starts(t, "keyIdentifier")) {
			char h[8];

			hstring(t, h, sizeof(h));
			kid = strtoul(h, NULL, 16);
		}
		if (starts(t, "keyVersionNumber")) {
			char h[8];

			hstring(t, h, sizeof(h));
			kvn = strtoul(h, NULL, 16);
		}
		if (starts(t, "keyData") && !strcmp(p->pe_name[cur], "securityDomain") && p->n_keys < MAX_CODES) {
			p->keys[p->n_keys].pe = cur;
			p->keys[p->n_keys].ref = (kvn << 8) | kid;
			hstring(t, p->keys[p->n_keys].hex, sizeof(p->keys[0].hex));
			p->n_keys++;
		}
	}
}

static char *hexstr(const uint8_t *b, size_t n)
{
	char *s = talloc_size(g_test_ctx, 2 * n + 1);
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02X", b[i]);
	s[2 * n] = '\0';
	return s;
}

static uint8_t *load(const char *name, const char *ext, size_t *len)
{
	char *path = talloc_asprintf(g_test_ctx, "%s/vectors/profiles/%s.%s", test_shared_dir(), name, ext);
	uint8_t *b = test_read_file(path, len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	return b;
}

/* ---- the walker agrees with the value notation ---- */

static void check_package(const char *name)
{
	struct txt_profile *tp = talloc_zero(g_test_ctx, struct txt_profile);
	struct gp_saip_header hdr;
	struct gp_saip_item it;
	struct gp_saip_pe pe;
	size_t len, tlen, off = 0;
	uint8_t *pkg = load(name, "der", &len);
	char *txt = (char *)load(name, "txt", &tlen);
	char digits[32];
	unsigned int i = 0;
	int rc;

	parse_txt(txt, tp);
	CU_ASSERT(tp->n_pes >= 20);
	CU_ASSERT_EQUAL(gp_saip_validate(pkg, len), (int)tp->n_pes);

	/* PE order, types and identification numbers */
	while ((rc = gp_saip_next(pkg, len, &off, i, &pe)) > 0) {
		CU_ASSERT_FATAL(i < tp->n_pes);
		CU_ASSERT_STRING_EQUAL(pe.name, tp->pe_name[i]);
		CU_ASSERT_EQUAL(pe.identification, tp->pe_id[i]);
		i++;
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(i, tp->n_pes);
	CU_ASSERT_STRING_EQUAL(tp->pe_name[tp->n_pes - 1], "end");

	/* header */
	CU_ASSERT_EQUAL(gp_saip_read_header(pkg, len, &hdr), 0);
	CU_ASSERT_EQUAL(hdr.major, 2);
	CU_ASSERT_EQUAL(hdr.minor, 3);
	CU_ASSERT_STRING_EQUAL(hdr.profile_type, tp->profile_type);
	CU_ASSERT_STRING_EQUAL(hexstr(hdr.iccid_raw, 10), tp->iccid);
	CU_ASSERT_STRING_EQUAL(hdr.iccid, "89000123456789012341");
	CU_ASSERT(hdr.services & (1u << 1));	/* usim */
	CU_ASSERT(hdr.services & (1u << 17));	/* usim-test-algorithm */
	CU_ASSERT_EQUAL(hdr.n_gfste, tp->n_gfste);
	CU_ASSERT_EQUAL(hdr.n_gfste, 11);
	/* the services bitmask names exactly the services of the value notation, in order */
	{
		unsigned int b, k = 0;

		for (b = 0; b < 32; b++) {
			if (!(hdr.services & (1u << b)))
				continue;
			CU_ASSERT_FATAL(k < tp->n_services);
			CU_ASSERT_STRING_EQUAL(gp_saip_service_name(b), tp->services[k]);
			k++;
		}
		CU_ASSERT_EQUAL(k, tp->n_services);
		CU_ASSERT(k >= 7);
	}

	/* ICCID in EF.ICCID agrees with the header once un-swapped */
	CU_ASSERT_EQUAL(gp_saip_find(pkg, len, GP_SAIP_F_EF_ICCID, 0, &it), 0);
	CU_ASSERT_STRING_EQUAL(hexstr(it.val, it.len), tp->ef_iccid);
	CU_ASSERT_EQUAL(gp_saip_iccid_decode(it.val, it.len, true, digits, sizeof(digits)), 20);
	CU_ASSERT_STRING_EQUAL(digits, hdr.iccid);
	CU_ASSERT_EQUAL(gp_saip_find(pkg, len, GP_SAIP_F_EF_ICCID, 1, &it), -ENOENT);

	/* IMSI */
	CU_ASSERT_EQUAL(gp_saip_find(pkg, len, GP_SAIP_F_EF_IMSI, 0, &it), 0);
	CU_ASSERT_STRING_EQUAL(hexstr(it.val, it.len), tp->ef_imsi);
	CU_ASSERT_STRING_EQUAL(tp->pe_name[it.pe_index], "usim");
	CU_ASSERT_EQUAL(gp_saip_imsi_decode(it.val, it.len, digits, sizeof(digits)), 15);
	CU_ASSERT_STRING_EQUAL(digits, "001010123456789");

	/* Ki / OPc of every akaParameter PE */
	CU_ASSERT_EQUAL(tp->n_aka, 2);
	for (i = 0; i < tp->n_aka; i++) {
		CU_ASSERT_EQUAL(gp_saip_find(pkg, len, GP_SAIP_F_KI, i, &it), 0);
		CU_ASSERT_STRING_EQUAL(hexstr(it.val, it.len), tp->ki[i]);
		CU_ASSERT_EQUAL(it.key_ref, 3);	/* usim-test-algorithm */
		CU_ASSERT_EQUAL(gp_saip_find(pkg, len, GP_SAIP_F_OPC, i, &it), 0);
		CU_ASSERT_STRING_EQUAL(hexstr(it.val, it.len), tp->opc[i]);
	}
	CU_ASSERT_EQUAL(gp_saip_find(pkg, len, GP_SAIP_F_KI, i, &it), -ENOENT);

	/* PINs, PUKs, SD keys: same values, same key references, same PEs, same order */
	CU_ASSERT(tp->n_pins >= 4);
	for (i = 0; i < tp->n_pins; i++) {
		CU_ASSERT_EQUAL_FATAL(gp_saip_find(pkg, len, GP_SAIP_F_PIN, i, &it), 0);
		CU_ASSERT_STRING_EQUAL(hexstr(it.val, it.len), tp->pins[i].hex);
		CU_ASSERT_EQUAL(it.key_ref, tp->pins[i].ref);
		CU_ASSERT_EQUAL(it.pe_index, tp->pins[i].pe);
	}
	CU_ASSERT_EQUAL(gp_saip_find(pkg, len, GP_SAIP_F_PIN, i, &it), -ENOENT);
	CU_ASSERT_EQUAL(tp->n_puks, 2);
	for (i = 0; i < tp->n_puks; i++) {
		CU_ASSERT_EQUAL_FATAL(gp_saip_find(pkg, len, GP_SAIP_F_PUK, i, &it), 0);
		CU_ASSERT_STRING_EQUAL(hexstr(it.val, it.len), tp->puks[i].hex);
		CU_ASSERT_EQUAL(it.key_ref, tp->puks[i].ref);
		CU_ASSERT_EQUAL(it.pe_index, tp->puks[i].pe);
	}
	CU_ASSERT_EQUAL(gp_saip_find(pkg, len, GP_SAIP_F_PUK, i, &it), -ENOENT);
	CU_ASSERT(tp->n_keys >= 3);
	for (i = 0; i < tp->n_keys; i++) {
		CU_ASSERT_EQUAL_FATAL(gp_saip_find(pkg, len, GP_SAIP_F_SD_KEY, i, &it), 0);
		CU_ASSERT_STRING_EQUAL(hexstr(it.val, it.len), tp->keys[i].hex);
		CU_ASSERT_EQUAL(it.key_ref, tp->keys[i].ref);
		CU_ASSERT_EQUAL(it.pe_index, tp->keys[i].pe);
	}
	CU_ASSERT_EQUAL(gp_saip_find(pkg, len, GP_SAIP_F_SD_KEY, i, &it), -ENOENT);
}

static void test_pkg_bertlv_suci(void)
{
	check_package(g_pkgs[0]);
}

static void test_pkg_bertlv_suci_noramrfm(void)
{
	check_package(g_pkgs[1]);
}

static void test_pkg_nobertlv(void)
{
	check_package(g_pkgs[2]);
}

static void test_pkg_nobertlv_noramrfm(void)
{
	check_package(g_pkgs[3]);
}

/* the .txt parser itself sees what we expect in the first package */
static void test_txt_parser(void)
{
	struct txt_profile *tp = talloc_zero(g_test_ctx, struct txt_profile);
	size_t tlen;
	char *txt = (char *)load(g_pkgs[0], "txt", &tlen);

	parse_txt(txt, tp);
	CU_ASSERT_EQUAL(tp->n_pes, 30);
	CU_ASSERT_STRING_EQUAL(tp->pe_name[0], "header");
	CU_ASSERT_STRING_EQUAL(tp->pe_name[1], "mf");
	CU_ASSERT_STRING_EQUAL(tp->pe_name[10], "akaParameter");
	CU_ASSERT_STRING_EQUAL(tp->pe_name[25], "rfm");
	CU_ASSERT_STRING_EQUAL(tp->profile_type, "GSMA Generic eUICC Test Profile");
	CU_ASSERT_STRING_EQUAL(tp->iccid, "89000123456789012341");
	CU_ASSERT_STRING_EQUAL(tp->ef_iccid, "98001032547698103214");
	CU_ASSERT_STRING_EQUAL(tp->ef_imsi, "080910101032547698");
	CU_ASSERT_STRING_EQUAL(tp->ki[0], "000102030405060708090A0B0C0D0E0F");
	CU_ASSERT_EQUAL(tp->n_pins, 7);
	CU_ASSERT_EQUAL(tp->pins[0].ref, 1);
	CU_ASSERT_STRING_EQUAL(tp->pins[0].hex, "30303030FFFFFFFF");
	CU_ASSERT_EQUAL(tp->pins[1].ref, 10);
	CU_ASSERT_EQUAL(tp->pins[3].ref, 0x81);
	CU_ASSERT_EQUAL(tp->puks[1].ref, 0x81);
	CU_ASSERT_EQUAL(tp->keys[3].ref, 0x0201);
	CU_ASSERT_EQUAL(tp->pe_id[29], 31);
}

/* ---- BCD codecs ---- */

static void test_codecs(void)
{
	uint8_t b[10], imsi[9];
	char d[32];

	CU_ASSERT_EQUAL(gp_saip_iccid_encode("89000123456789012341", false, b), 0);
	TEST_ASSERT_HEX(b, 10, "89000123456789012341");
	CU_ASSERT_EQUAL(gp_saip_iccid_encode("89000123456789012341", true, b), 0);
	TEST_ASSERT_HEX(b, 10, "98001032547698103214");
	CU_ASSERT_EQUAL(gp_saip_iccid_encode("8944110000000000123", true, b), 0);
	TEST_ASSERT_HEX(b, 10, "984411000000000021F3");
	CU_ASSERT_EQUAL(gp_saip_iccid_decode(b, 10, true, d, sizeof(d)), 19);
	CU_ASSERT_STRING_EQUAL(d, "8944110000000000123");
	CU_ASSERT_EQUAL(gp_saip_iccid_encode("8944110000000000123F", false, b), 0);
	TEST_ASSERT_HEX(b, 10, "8944110000000000123F");
	CU_ASSERT_EQUAL(gp_saip_iccid_encode("89441A", false, b), -EINVAL);
	CU_ASSERT_EQUAL(gp_saip_iccid_encode("894F11", false, b), -EINVAL);
	CU_ASSERT_EQUAL(gp_saip_iccid_encode("123", false, b), -EINVAL);
	CU_ASSERT_EQUAL(gp_saip_iccid_encode("891234567890123456789", false, b), -EINVAL);
	memcpy(b, "\x89\x4F\x11\x00\x00\x00\x00\x00\x00\x00", 10);
	CU_ASSERT_EQUAL(gp_saip_iccid_decode(b, 10, false, d, sizeof(d)), -EBADMSG);
	memcpy(b, "\x89\x4A\x11\x00\x00\x00\x00\x00\x00\x00", 10);
	CU_ASSERT_EQUAL(gp_saip_iccid_decode(b, 10, false, d, sizeof(d)), -EBADMSG);
	CU_ASSERT_EQUAL(gp_saip_iccid_decode(b, 10, false, d, 20), -EINVAL);

	/* TS 31.102 §4.2.2 */
	CU_ASSERT_EQUAL(gp_saip_imsi_encode("001010123456789", imsi), 0);
	TEST_ASSERT_HEX(imsi, 9, "080910101032547698");
	CU_ASSERT_EQUAL(gp_saip_imsi_encode("26201123456789", imsi), 0);	/* even: 14 digits */
	TEST_ASSERT_HEX(imsi, 9, "0821261021436587F9");
	CU_ASSERT_EQUAL(gp_saip_imsi_decode(imsi, 9, d, sizeof(d)), 14);
	CU_ASSERT_EQUAL_FATAL(strcmp(d, "26201123456789"), 0);
	CU_ASSERT_EQUAL(gp_saip_imsi_encode("001010", imsi), 0);
	TEST_ASSERT_HEX(imsi, 9, "04011010F0FFFFFFFF");
	CU_ASSERT_EQUAL(gp_saip_imsi_decode(imsi, 9, d, sizeof(d)), 6);
	CU_ASSERT_STRING_EQUAL(d, "001010");
	CU_ASSERT_EQUAL(gp_saip_imsi_encode("0010101234567890", imsi), -EINVAL);
	CU_ASSERT_EQUAL(gp_saip_imsi_encode("00101x", imsi), -EINVAL);
	memcpy(imsi, "\x09\x09\x10\x10\x10\x32\x54\x76\x98", 9);	/* length byte too large */
	CU_ASSERT_EQUAL(gp_saip_imsi_decode(imsi, 9, d, sizeof(d)), -EBADMSG);
	memcpy(imsi, "\x08\x0A\x10\x10\x10\x32\x54\x76\x98", 9);	/* identity type not IMSI */
	CU_ASSERT_EQUAL(gp_saip_imsi_decode(imsi, 9, d, sizeof(d)), -EBADMSG);
	memcpy(imsi, "\x08\x01\x10\x10\x10\x32\x54\x76\x98", 9);	/* parity says even, 15 digits */
	CU_ASSERT_EQUAL(gp_saip_imsi_decode(imsi, 9, d, sizeof(d)), -EBADMSG);

	CU_ASSERT_EQUAL(gp_saip_pin_encode("1234", b), 0);
	TEST_ASSERT_HEX(b, 8, "31323334FFFFFFFF");
	CU_ASSERT_EQUAL(gp_saip_pin_encode("12345678", b), 0);
	TEST_ASSERT_HEX(b, 8, "3132333435363738");
	CU_ASSERT_EQUAL(gp_saip_pin_encode("123456789", b), -EINVAL);
	CU_ASSERT_EQUAL(gp_saip_pin_encode("", b), -EINVAL);
	CU_ASSERT_EQUAL(gp_saip_pin_encode("12a4", b), -EINVAL);

	CU_ASSERT_STRING_EQUAL(gp_saip_pe_name(0), "header");
	CU_ASSERT_STRING_EQUAL(gp_saip_pe_name(19), "usim");
	CU_ASSERT_STRING_EQUAL(gp_saip_pe_name(31), "df-5gprose");
	CU_ASSERT_STRING_EQUAL(gp_saip_pe_name(99), "unknown");
	CU_ASSERT_STRING_EQUAL(gp_saip_service_name(18), "ber-tlv");
	CU_ASSERT_PTR_NULL(gp_saip_service_name(99));
}

/* ---- personalisation ---- */

/* Bytes that differ between two buffers of the same length must all lie in [start, start+n). */
static void assert_diff_only(const uint8_t *a, const uint8_t *b, size_t len, const size_t *starts,
			     const size_t *lens, unsigned int nr)
{
	size_t i;
	unsigned int r;

	for (i = 0; i < len; i++) {
		bool allowed = false;

		if (a[i] == b[i])
			continue;
		for (r = 0; r < nr; r++)
			if (i >= starts[r] && i < starts[r] + lens[r])
				allowed = true;
		CU_ASSERT(allowed);
		if (!allowed)
			return;
	}
}

static void test_set_same_length(void)
{
	size_t len, olen;
	uint8_t *pkg = load(g_pkgs[0], "der", &len), *out, *out2;
	struct gp_saip_item hi, ei, it;
	struct gp_saip_header hdr;
	size_t st[8], ln[8];
	char d[32];
	uint8_t key[16], pin[8];
	unsigned int i;

	/* ICCID: header (natural BCD) + EF.ICCID (swapped) and nothing else */
	CU_ASSERT_EQUAL_FATAL(gp_saip_find(pkg, len, GP_SAIP_F_HDR_ICCID, 0, &hi), 0);
	CU_ASSERT_EQUAL_FATAL(gp_saip_find(pkg, len, GP_SAIP_F_EF_ICCID, 0, &ei), 0);
	CU_ASSERT_EQUAL_FATAL(gp_saip_set_iccid(g_test_ctx, pkg, len, "8944110000000000123", &out, &olen), 0);
	CU_ASSERT_EQUAL_FATAL(olen, len);
	st[0] = hi.val - pkg;
	ln[0] = 10;
	st[1] = ei.val - pkg;
	ln[1] = 10;
	assert_diff_only(pkg, out, len, st, ln, 2);
	CU_ASSERT_EQUAL(gp_saip_read_header(out, olen, &hdr), 0);
	CU_ASSERT_STRING_EQUAL(hdr.iccid, "8944110000000000123");
	CU_ASSERT_EQUAL(gp_saip_find(out, olen, GP_SAIP_F_EF_ICCID, 0, &it), 0);
	TEST_ASSERT_HEX(it.val, it.len, "984411000000000021F3");
	CU_ASSERT_EQUAL(gp_saip_validate(out, olen), 30);

	/* IMSI */
	CU_ASSERT_EQUAL_FATAL(gp_saip_find(pkg, len, GP_SAIP_F_EF_IMSI, 0, &ei), 0);
	CU_ASSERT_EQUAL(gp_saip_set_imsi(g_test_ctx, pkg, len, "262011234567890", &out, &olen), 1);
	CU_ASSERT_EQUAL_FATAL(olen, len);
	st[0] = ei.val - pkg;
	ln[0] = 9;
	assert_diff_only(pkg, out, len, st, ln, 1);
	CU_ASSERT_EQUAL(gp_saip_find(out, olen, GP_SAIP_F_EF_IMSI, 0, &it), 0);
	CU_ASSERT_EQUAL(gp_saip_imsi_decode(it.val, it.len, d, sizeof(d)), 15);
	CU_ASSERT_STRING_EQUAL(d, "262011234567890");

	/* Ki and OPc of the first akaParameter only */
	for (i = 0; i < 16; i++)
		key[i] = 0xA0 + i;
	CU_ASSERT_EQUAL_FATAL(gp_saip_find(pkg, len, GP_SAIP_F_KI, 0, &hi), 0);
	CU_ASSERT_EQUAL_FATAL(gp_saip_find(pkg, len, GP_SAIP_F_OPC, 0, &ei), 0);
	CU_ASSERT_EQUAL_FATAL(gp_saip_set_aka(g_test_ctx, pkg, len, 0, key, 16, key, 16, &out, &olen), 0);
	CU_ASSERT_EQUAL_FATAL(olen, len);
	st[0] = hi.val - pkg;
	ln[0] = 16;
	st[1] = ei.val - pkg;
	ln[1] = 16;
	assert_diff_only(pkg, out, len, st, ln, 2);
	CU_ASSERT_EQUAL(gp_saip_find(out, olen, GP_SAIP_F_KI, 0, &it), 0);
	CU_ASSERT_EQUAL(memcmp(it.val, key, 16), 0);
	CU_ASSERT_EQUAL(gp_saip_find(out, olen, GP_SAIP_F_KI, 1, &it), 0);
	TEST_ASSERT_HEX(it.val, it.len, "000102030405060708090A0B0C0D0E0F");

	/* PIN1 (keyReference 1) */
	CU_ASSERT_EQUAL_FATAL(gp_saip_find(pkg, len, GP_SAIP_F_PIN, 0, &hi), 0);
	CU_ASSERT_EQUAL(gp_saip_pin_encode("4321", pin), 0);
	CU_ASSERT_EQUAL(gp_saip_set_code(g_test_ctx, pkg, len, GP_SAIP_F_PIN, 1, pin, 8, &out, &olen), 1);
	st[0] = hi.val - pkg;
	ln[0] = 8;
	assert_diff_only(pkg, out, len, st, ln, 1);
	CU_ASSERT_EQUAL(gp_saip_find(out, olen, GP_SAIP_F_PIN, 0, &it), 0);
	TEST_ASSERT_HEX(it.val, it.len, "34333231FFFFFFFF");
	/* the second PIN of the application (0x81) is defined in four PEs: all are set */
	CU_ASSERT_EQUAL(gp_saip_set_code(g_test_ctx, pkg, len, GP_SAIP_F_PIN, 0x81, pin, 8, &out, &olen), 4);
	CU_ASSERT_EQUAL(gp_saip_set_code(g_test_ctx, pkg, len, GP_SAIP_F_PUK, 0x81, pin, 8, &out, &olen), 1);
	CU_ASSERT_EQUAL(gp_saip_set_code(g_test_ctx, pkg, len, GP_SAIP_F_PUK, 7, pin, 8, &out, &olen), -ENOENT);
	CU_ASSERT_EQUAL(gp_saip_set_code(g_test_ctx, pkg, len, GP_SAIP_F_KI, 1, pin, 8, &out, &olen), -EINVAL);

	/* an OTA key of the ISD-P's MNO-SD: KVN 01 KID 02 only */
	CU_ASSERT_EQUAL_FATAL(gp_saip_find(pkg, len, GP_SAIP_F_SD_KEY, 1, &hi), 0);
	CU_ASSERT_EQUAL(hi.key_ref, 0x0102);
	CU_ASSERT_EQUAL(gp_saip_set_sd_key(g_test_ctx, pkg, len, 0x01, 0x02, key, 16, &out, &olen), 1);
	st[0] = hi.val - pkg;
	ln[0] = 16;
	assert_diff_only(pkg, out, len, st, ln, 1);
	CU_ASSERT_EQUAL(gp_saip_find(out, olen, GP_SAIP_F_SD_KEY, 1, &it), 0);
	CU_ASSERT_EQUAL(memcmp(it.val, key, 16), 0);
	CU_ASSERT_EQUAL(gp_saip_set_sd_key(g_test_ctx, pkg, len, 0x30, 0x01, key, 16, &out, &olen), -ENOENT);

	/* chaining: setting it back gives the original package */
	CU_ASSERT_EQUAL(gp_saip_set_sd_key(g_test_ctx, out, olen, 0x01, 0x02, (const uint8_t *)
					   "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", 16,
					   &out2, &olen), 1);
	CU_ASSERT_EQUAL(olen, len);
	CU_ASSERT_EQUAL(memcmp(out2, pkg, len), 0);
}

static void test_set_other_length(void)
{
	size_t len, olen, olen2;
	uint8_t *pkg = load(g_pkgs[0], "der", &len), *out, *out2;
	struct gp_saip_item it;
	struct gp_saip_pe pe_old, pe_new;
	struct gp_saip_header hdr;
	uint8_t key32[32], big[300];
	unsigned int i;

	/* AES-256 key in place of an AES-128 one: the keyList, KeyObject, keyComponents and PE grow */
	for (i = 0; i < 32; i++)
		key32[i] = i;
	CU_ASSERT_EQUAL_FATAL(gp_saip_set_sd_key(g_test_ctx, pkg, len, 0x02, 0x01, key32, 32, &out, &olen), 1);
	CU_ASSERT_EQUAL(olen, len + 16);
	CU_ASSERT_EQUAL(gp_saip_validate(out, olen), 30);
	CU_ASSERT_EQUAL(gp_saip_find(out, olen, GP_SAIP_F_SD_KEY, 3, &it), 0);
	CU_ASSERT_EQUAL(it.key_ref, 0x0201);
	CU_ASSERT_EQUAL(it.len, 32);
	CU_ASSERT_EQUAL(memcmp(it.val, key32, 32), 0);
	CU_ASSERT_EQUAL(gp_saip_find_pe(pkg, len, GP_SAIP_PE_SECURITY_DOMAIN, 0, &pe_old), 0);
	CU_ASSERT_EQUAL(gp_saip_find_pe(out, olen, GP_SAIP_PE_SECURITY_DOMAIN, 0, &pe_new), 0);
	CU_ASSERT_EQUAL(pe_new.len, pe_old.len + 16);
	/* everything before the SD PE is untouched, everything after is shifted by 16 */
	CU_ASSERT_EQUAL(memcmp(out, pkg, pe_old.offset), 0);
	CU_ASSERT_EQUAL(memcmp(out + pe_old.offset + pe_old.total + 16, pkg + pe_old.offset + pe_old.total,
			       len - pe_old.offset - pe_old.total), 0);
	/* other keys still read the same */
	CU_ASSERT_EQUAL(gp_saip_find(out, olen, GP_SAIP_F_SD_KEY, 4, &it), 0);
	TEST_ASSERT_HEX(it.val, it.len, "000102030405060708090A0B0C0D0E0F");

	/* 300-byte value: the akaParameter PE length goes from short to long form (35 -> 82 xx xx) */
	memset(big, 0x77, sizeof(big));
	CU_ASSERT_EQUAL_FATAL(gp_saip_set_aka(g_test_ctx, pkg, len, 1, NULL, 0, big, sizeof(big), &out2, &olen2), 0);
	CU_ASSERT_EQUAL(gp_saip_validate(out2, olen2), 30);
	CU_ASSERT_EQUAL(gp_saip_find(out2, olen2, GP_SAIP_F_OPC, 1, &it), 0);
	CU_ASSERT_EQUAL(it.len, 300);
	CU_ASSERT_EQUAL(gp_saip_find_pe(out2, olen2, GP_SAIP_PE_AKA_PARAMETER, 1, &pe_new), 0);
	CU_ASSERT_EQUAL(pe_new.total - pe_new.len, 1 + 3);
	CU_ASSERT_EQUAL(gp_saip_read_header(out2, olen2, &hdr), 0);
	CU_ASSERT_STRING_EQUAL(hdr.iccid, "89000123456789012341");
	/* and back to 16 bytes: the original bytes come back exactly */
	CU_ASSERT_EQUAL(gp_saip_set_aka(g_test_ctx, out2, olen2, 1, NULL, 0, (const uint8_t *)
					"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16, &out, &olen), 0);
	CU_ASSERT_EQUAL_FATAL(olen, len);
	CU_ASSERT_EQUAL(memcmp(out, pkg, len), 0);
}

/* ---- malformed packages ---- */

static void test_truncated_package(void)
{
	size_t len, cut, off = 0;
	uint8_t *pkg = load(g_pkgs[3], "der", &len);
	size_t bounds[MAX_PES];
	unsigned int nb = 0, i = 0;
	struct gp_saip_pe pe;
	struct gp_saip_header hdr;

	while (gp_saip_next(pkg, len, &off, i++, &pe) > 0)
		bounds[nb++] = off;
	CU_ASSERT_EQUAL_FATAL(nb, 26);

	for (cut = 0; cut < len; cut++) {
		uint8_t *p = talloc_memdup(g_test_ctx, pkg, cut ? cut : 1);
		int rc = gp_saip_validate(p, cut);
		unsigned int complete = 0;

		for (i = 0; i < nb; i++)
			if (bounds[i] == cut)
				complete = i + 1;
		if (cut == 0) {
			CU_ASSERT_EQUAL(rc, -EBADMSG);
		} else if (complete) {
			/* well-formed PEs but no PE-End: incomplete package */
			CU_ASSERT_EQUAL(rc, -EBADMSG);
		} else {
			CU_ASSERT(rc == -EBADMSG || rc == -EMSGSIZE);
		}
		/* header readers and finders never read past the cut either */
		if (cut < bounds[0]) {
			CU_ASSERT(gp_saip_read_header(p, cut, &hdr) < 0);
		} else {
			CU_ASSERT_EQUAL(gp_saip_read_header(p, cut, &hdr), 0);
		}
		{
			struct gp_saip_item it;
			int r2 = gp_saip_find(p, cut, GP_SAIP_F_SD_KEY, 5, &it);

			CU_ASSERT(r2 == 0 || r2 == -ENOENT || r2 == -EBADMSG || r2 == -EMSGSIZE);
		}
		talloc_free(p);
	}
}

static void test_corrupt_package(void)
{
	size_t len, n;
	uint8_t *pkg = load(g_pkgs[3], "der", &len), *b;
	struct gp_saip_header hdr;
	struct gp_saip_pe pe;
	size_t off = 0, h;
	unsigned int i;

	CU_ASSERT_EQUAL_FATAL(gp_saip_next(pkg, len, &off, 0, &pe), 1);
	h = pe.total;

	/* not a package */
	b = test_hex("3003020101", &n);
	CU_ASSERT_EQUAL(gp_saip_validate(b, n), -EBADMSG);
	b = test_hex("48656C6C6F20776F726C640A", &n);
	CU_ASSERT_EQUAL(gp_saip_validate(b, n), -EMSGSIZE);
	/* starts with something other than the header */
	CU_ASSERT_EQUAL(gp_saip_validate(pkg + h, len - h), -EBADMSG);
	CU_ASSERT_EQUAL(gp_saip_read_header(pkg + h, len - h, &hdr), -EBADMSG);
	/* primitive context tag at top level */
	b = talloc_memdup(g_test_ctx, pkg, len);
	b[0] = 0x80;
	off = 0;
	CU_ASSERT_EQUAL(gp_saip_next(b, len, &off, 0, &pe), -EBADMSG);
	CU_ASSERT_EQUAL(off, 0);
	/* non-minimal PE length */
	b = test_hex("A0 81 03 80 01 02", &n);
	CU_ASSERT_EQUAL(gp_saip_validate(b, n), -EBADMSG);
	/* header iccid of the wrong size */
	b = test_hex("A0 0C 80 01 02 81 01 03 83 04 89000123", &n);
	CU_ASSERT_EQUAL(gp_saip_read_header(b, n, &hdr), -EBADMSG);
	/* header missing eUICC-Mandatory-services */
	b = test_hex("A0 12 80 01 02 81 01 03 83 0A 89000123456789012341", &n);
	CU_ASSERT_EQUAL(gp_saip_read_header(b, n, &hdr), -ENOENT);
	/* a PIN configuration without pinValue */
	b = test_hex("A0 12 80 01 02 81 01 03 83 0A 89000123456789012341 A2 0E A0 03 81 01 01 A1 07 A0 05 30 03"
		     "80 01 01", &n);
	{
		struct gp_saip_item it;

		CU_ASSERT_EQUAL(gp_saip_find(b, n, GP_SAIP_F_PIN, 0, &it), -EBADMSG);
		CU_ASSERT_EQUAL(gp_saip_find(b, n, GP_SAIP_F_PUK, 0, &it), -ENOENT);
	}

	/* flip every bit of the first 200 bytes (header PE and the start of the mf PE): never a crash,
	 * only defined results */
	for (i = 0; i < 200 * 8; i++) {
		int rc;

		b = talloc_memdup(g_test_ctx, pkg, len);
		b[i / 8] ^= 1 << (i % 8);
		rc = gp_saip_validate(b, len);
		CU_ASSERT(rc > 0 || rc == -EBADMSG || rc == -EMSGSIZE || rc == -ENOTSUP || rc == -ELOOP);
		rc = gp_saip_read_header(b, len, &hdr);
		CU_ASSERT(rc == 0 || rc == -EBADMSG || rc == -EMSGSIZE || rc == -ENOTSUP || rc == -ENOENT);
		talloc_free(b);
	}
}

static void test_deep_package(void)
{
	/* a header PE followed by a PE nested 40 levels deep */
	uint8_t *b = talloc_size(g_test_ctx, 256);
	size_t n, hl, i;
	uint8_t *h = test_hex("A0 16 80 01 02 81 01 03 83 0A 89000123456789012341 A5 00 A6 00", &hl);

	memcpy(b, h, hl);
	n = hl;
	for (i = 0; i < 40; i++) {
		b[n++] = 0xA1;
		b[n++] = 2 * (39 - i);
	}
	memcpy(b + n, "\xAA\x07\xA0\x05\x80\x00\x81\x01\x1F", 9);
	CU_ASSERT_EQUAL(gp_saip_validate(b, n + 9), -ELOOP);
	/* header + end alone is a (minimal) package */
	memcpy(b + hl, "\xAA\x07\xA0\x05\x80\x00\x81\x01\x1F", 9);
	CU_ASSERT_EQUAL(gp_saip_validate(b, hl + 9), 2);
	CU_ASSERT_EQUAL(gp_saip_validate(b, hl), -EBADMSG);
}

/* PE-IoT (SAIP 3.3, CHOICE index 32 -> tag BF20) carries its own EF.ICCID [4] and EF.IMSI [9] */
static void test_iot_pe(void)
{
	struct gp_tlv_builder b;
	struct gp_saip_item it;
	struct gp_saip_pe pe;
	uint8_t *h, ef_iccid[10], ef_imsi[9], *out;
	size_t hl, off = 0, olen;
	char d[32];
	int len;

	h = test_hex("A0 16 80 01 03 81 01 03 83 0A 89000123456789012341 A5 00 A6 00", &hl);
	CU_ASSERT_EQUAL(gp_saip_iccid_encode("89000123456789012341", true, ef_iccid), 0);
	CU_ASSERT_EQUAL(gp_saip_imsi_encode("001010123456789", ef_imsi), 0);
	CU_ASSERT_EQUAL_FATAL(gp_tlv_builder_init(&b, g_test_ctx), 0);
	gp_tlv_put_raw(&b, h, hl);
	gp_tlv_open(&b, 0xBF20);
	gp_tlv_open(&b, 0xA0);
	gp_tlv_put_uint(&b, 0x81, 2);
	gp_tlv_close(&b);
	gp_tlv_put(&b, 0x81, (const uint8_t *)"\x67\x81\x0f\x01\x02\x01", 6);
	gp_tlv_open(&b, 0xA4);
	gp_tlv_put(&b, 0x83, ef_iccid, 10);
	gp_tlv_close(&b);
	gp_tlv_open(&b, 0xA9);
	gp_tlv_put(&b, 0x83, ef_imsi, 9);
	gp_tlv_close(&b);
	gp_tlv_close(&b);
	gp_tlv_put_raw(&b, (const uint8_t *)"\xAA\x07\xA0\x05\x80\x00\x81\x01\x1F", 9);
	len = gp_tlv_builder_finish(&b);
	CU_ASSERT_FATAL(len > 0);

	CU_ASSERT_EQUAL(gp_saip_validate(b.data, len), 3);
	CU_ASSERT_EQUAL(gp_saip_next(b.data, len, &off, 0, &pe), 1);
	CU_ASSERT_EQUAL(gp_saip_next(b.data, len, &off, 1, &pe), 1);
	CU_ASSERT_EQUAL(pe.type, GP_SAIP_PE_IOT);
	CU_ASSERT_EQUAL(pe.tag, 0xBF20);
	CU_ASSERT_STRING_EQUAL(pe.name, "iot");
	CU_ASSERT_EQUAL(pe.identification, 2);
	CU_ASSERT_EQUAL(gp_saip_find(b.data, len, GP_SAIP_F_EF_ICCID, 0, &it), 0);
	CU_ASSERT_EQUAL(it.pe_index, 1);
	TEST_ASSERT_HEX(it.val, it.len, "98001032547698103214");
	CU_ASSERT_EQUAL(gp_saip_find(b.data, len, GP_SAIP_F_EF_IMSI, 0, &it), 0);
	TEST_ASSERT_HEX(it.val, it.len, "080910101032547698");
	CU_ASSERT_EQUAL(gp_saip_set_imsi(g_test_ctx, b.data, len, "99999123456", &out, &olen), 1);
	CU_ASSERT_EQUAL(olen, (size_t)len);
	CU_ASSERT_EQUAL(gp_saip_find(out, olen, GP_SAIP_F_EF_IMSI, 0, &it), 0);
	CU_ASSERT_EQUAL(gp_saip_imsi_decode(it.val, it.len, d, sizeof(d)), 11);
	CU_ASSERT_STRING_EQUAL(d, "99999123456");
	CU_ASSERT_EQUAL(gp_saip_set_iccid(g_test_ctx, out, olen, "8949000000000000001", &out, &olen), 0);
	CU_ASSERT_EQUAL(gp_saip_find(out, olen, GP_SAIP_F_EF_ICCID, 0, &it), 0);
	TEST_ASSERT_HEX(it.val, it.len, "989400000000000000F1");
	CU_ASSERT_EQUAL(gp_saip_validate(out, olen), 3);
	/* no akaParameter, no SD in this package */
	CU_ASSERT_EQUAL(gp_saip_find(out, olen, GP_SAIP_F_KI, 0, &it), -ENOENT);
	CU_ASSERT_EQUAL(gp_saip_set_sd_key(g_test_ctx, out, olen, 1, 1, ef_iccid, 10, &out, &olen), -ENOENT);
}

static const struct test_case saip_cases[] = {
	TEST_CASE(test_txt_parser),
	TEST_CASE(test_pkg_bertlv_suci),
	TEST_CASE(test_pkg_bertlv_suci_noramrfm),
	TEST_CASE(test_pkg_nobertlv),
	TEST_CASE(test_pkg_nobertlv_noramrfm),
	TEST_CASE(test_codecs),
	TEST_CASE(test_set_same_length),
	TEST_CASE(test_set_other_length),
	TEST_CASE(test_truncated_package),
	TEST_CASE(test_corrupt_package),
	TEST_CASE(test_deep_package),
	TEST_CASE(test_iot_pe),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "saip", NULL, NULL, saip_cases },
	{ NULL, NULL, NULL, NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
