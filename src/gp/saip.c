/*! \file saip.c
 * SAIP profile package walker and personaliser (TCA eUICC Profile Package Interoperable Format,
 * ASN.1 module PEDefinitions, AUTOMATIC TAGS, DER). The context tags used below follow from the
 * position of each component in its SEQUENCE/CHOICE (X.680 §25.3 automatic tagging); components
 * with an explicit tag in the module keep it (e.g. KeyObject keyData [6]).
 */
#include <errno.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/gp/saip.h>

/* ProfileElement CHOICE order of PEDefinitions (v2.3 .. v3.3) */
static const char *const pe_names[] = {
	[0] = "header", [1] = "genericFileManagement", [2] = "pinCodes", [3] = "pukCodes",
	[4] = "akaParameter", [5] = "cdmaParameter", [6] = "securityDomain", [7] = "rfm",
	[8] = "application", [9] = "nonStandard", [10] = "end", [11] = "rfu1", [12] = "rfu2",
	[13] = "rfu3", [14] = "rfu4", [15] = "rfu5", [16] = "mf", [17] = "cd", [18] = "telecom",
	[19] = "usim", [20] = "opt-usim", [21] = "isim", [22] = "opt-isim", [23] = "phonebook",
	[24] = "gsm-access", [25] = "csim", [26] = "opt-csim", [27] = "eap", [28] = "df-5gs",
	[29] = "df-saip", [30] = "df-snpn", [31] = "df-5gprose", [32] = "iot", [33] = "opt-iot",
};

/* ServicesList component order */
static const char *const service_names[] = {
	"contactless", "usim", "isim", "csim", "milenage", "tuak128", "cave", "gba-usim", "gba-isim", "mbms",
	"eap", "javacard", "multos", "multiple-usim", "multiple-isim", "multiple-csim", "tuak256",
	"usim-test-algorithm", "ber-tlv", "dfLink", "cat-tp", "get-identity", "profile-a-x25519",
	"profile-b-p256", "suciCalculatorApi", "dns-resolution", "scp11ac", "scp11c-authorization-mechanism",
	"s16mode", "eaka",
};

const char *gp_saip_pe_name(unsigned int type)
{
	if (type < sizeof(pe_names) / sizeof(pe_names[0]) && pe_names[type])
		return pe_names[type];
	return "unknown";
}

const char *gp_saip_service_name(unsigned int n)
{
	if (n < sizeof(service_names) / sizeof(service_names[0]))
		return service_names[n];
	return NULL;
}

/* Tag number of a context-specific tag (X.690 §8.1.2); -EBADMSG for forms we do not use here. */
static int tag_number(const struct gp_tlv *t)
{
	uint32_t num = 0;
	unsigned int i;

	if (t->tag_len == 1)
		return t->tlv[0] & 0x1f;
	for (i = 1; i < t->tag_len; i++)
		num = (num << 7) | (t->tlv[i] & 0x7f);
	if (num > 0xffff)
		return -EBADMSG;
	return num;
}

/* Non-negative INTEGER of at most 4 content bytes (DER: no redundant leading 00). */
static int der_uint(const struct gp_tlv *t, uint32_t *v)
{
	size_t i;

	if (t->constructed || t->len < 1 || t->len > 5 || (t->val[0] & 0x80))
		return -EBADMSG;
	if (t->len > 1 && t->val[0] == 0x00 && !(t->val[1] & 0x80))
		return -EBADMSG;
	if (t->len == 5 && t->val[0] != 0x00)
		return -EBADMSG;
	*v = 0;
	for (i = 0; i < t->len; i++)
		*v = (*v << 8) | t->val[i];
	return 0;
}

int gp_saip_next(const uint8_t *pkg, size_t len, size_t *off, unsigned int index, struct gp_saip_pe *pe)
{
	struct gp_tlv t, hdr, f;
	size_t start;
	uint32_t id;
	int rc, num;

	if (!off || !pe || (!pkg && len))
		return -EINVAL;
	start = *off;
	rc = gp_tlv_next(pkg, len, off, &t);
	if (rc <= 0)
		return rc;
	/* each PE is a CHOICE alternative: [n] IMPLICIT SEQUENCE -> constructed, context-specific */
	if (t.cls != GP_TLV_CLASS_CONTEXT || !t.constructed) {
		*off = start;
		return -EBADMSG;
	}
	num = tag_number(&t);
	if (num < 0) {
		*off = start;
		return num;
	}
	memset(pe, 0, sizeof(*pe));
	pe->index = index;
	pe->type = num;
	pe->tag = t.tag;
	pe->name = gp_saip_pe_name(num);
	pe->offset = start;
	pe->total = t.total;
	pe->val = t.val;
	pe->len = t.len;
	pe->identification = -1;

	/* every PE but the header starts with PEHeader ::= SEQUENCE { mandated [0] NULL OPTIONAL,
	 * identification [1] UInt15 } as its first component [0] */
	if (num != GP_SAIP_PE_HEADER && gp_tlv_parse(t.val, t.len, &hdr) > 0 && hdr.tag == 0xA0) {
		pe->mandated = gp_tlv_find(hdr.val, hdr.len, 0x80, &f) == 0;
		if (gp_tlv_find(hdr.val, hdr.len, 0x81, &f) == 0 && der_uint(&f, &id) == 0 && id <= 0x7fff)
			pe->identification = id;
	}
	return 1;
}

int gp_saip_validate(const uint8_t *pkg, size_t len)
{
	struct gp_saip_pe pe;
	size_t off = 0;
	unsigned int n = 0, last = GP_SAIP_PE_HEADER;
	int rc;

	if (!pkg && len)
		return -EINVAL;
	if (len == 0)
		return -EBADMSG;
	while ((rc = gp_saip_next(pkg, len, &off, n, &pe)) > 0) {
		if (n == 0 && pe.type != GP_SAIP_PE_HEADER)
			return -EBADMSG;
		/* the PE's own length must be DER, and its contents recursively */
		if (pe.len >= 0x80 && pe.total - pe.len != (size_t)gp_tlv_tag_size(pe.tag) + gp_tlv_len_size(pe.len))
			return -EBADMSG;
		if (pe.len < 0x80 && pe.total - pe.len != (size_t)gp_tlv_tag_size(pe.tag) + 1)
			return -EBADMSG;
		rc = gp_tlv_validate(pe.val, pe.len, true, GP_TLV_MAX_DEPTH - 1);
		if (rc < 0)
			return rc;
		if (n == 0x7fffffff)
			return -EMSGSIZE;
		last = pe.type;
		n++;
	}
	if (rc < 0)
		return rc;
	/* the package is complete only with PE-End as its last element */
	if (last != GP_SAIP_PE_END)
		return -EBADMSG;
	return n;
}

int gp_saip_find_pe(const uint8_t *pkg, size_t len, unsigned int type, unsigned int n, struct gp_saip_pe *pe)
{
	struct gp_saip_pe p;
	size_t off = 0;
	unsigned int i = 0;
	int rc;

	while ((rc = gp_saip_next(pkg, len, &off, i++, &p)) > 0) {
		if (p.type != type)
			continue;
		if (n-- == 0) {
			if (pe)
				*pe = p;
			return 0;
		}
	}
	return rc < 0 ? rc : -ENOENT;
}

/* ---- BCD helpers ---- */

static int digit_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c == 'f' || c == 'F')
		return 0xf;
	return -1;
}

int gp_saip_iccid_encode(const char *iccid, bool swapped, uint8_t out[10])
{
	size_t n, i;
	uint8_t nib[20];

	if (!iccid || !out)
		return -EINVAL;
	n = strlen(iccid);
	if (n < 6 || n > 20)
		return -EINVAL;
	for (i = 0; i < 20; i++) {
		int d = i < n ? digit_val(iccid[i]) : 0xf;

		if (d < 0)
			return -EINVAL;
		/* padding only at the end */
		if (i < n && d == 0xf && i + 1 < n && digit_val(iccid[i + 1]) != 0xf)
			return -EINVAL;
		nib[i] = d;
	}
	for (i = 0; i < 10; i++) {
		/* TS 102 221 §13.2: EF.ICCID stores each digit pair with the first digit in the low nibble */
		if (swapped)
			out[i] = nib[2 * i] | (nib[2 * i + 1] << 4);
		else
			out[i] = (nib[2 * i] << 4) | nib[2 * i + 1];
	}
	return 0;
}

int gp_saip_iccid_decode(const uint8_t *in, size_t in_len, bool swapped, char *out, size_t out_size)
{
	size_t i, n = 0;

	if (!in || !out || out_size < 2 * in_len + 1)
		return -EINVAL;
	for (i = 0; i < 2 * in_len; i++) {
		uint8_t b = in[i / 2];
		uint8_t d = ((i & 1) ^ swapped) ? (b & 0xf) : (b >> 4);

		if (d == 0xf)
			break;
		if (d > 9)
			return -EBADMSG;
		out[n++] = '0' + d;
	}
	/* after the first F only F may follow */
	for (; i < 2 * in_len; i++) {
		uint8_t b = in[i / 2];
		uint8_t d = ((i & 1) ^ swapped) ? (b & 0xf) : (b >> 4);

		if (d != 0xf)
			return -EBADMSG;
	}
	out[n] = '\0';
	return n;
}

int gp_saip_imsi_encode(const char *imsi, uint8_t out[9])
{
	uint8_t nib[16];
	size_t n, i;

	if (!imsi || !out)
		return -EINVAL;
	n = strlen(imsi);
	if (n < 6 || n > 15)
		return -EINVAL;
	/* TS 31.102 §4.2.2 / TS 24.008 §10.5.1.4: first nibble = parity (b4: odd number of digits)
	 * and identity type 001 (IMSI), then the digits, low nibble first */
	nib[0] = (n & 1) ? 0x9 : 0x1;
	for (i = 0; i < 15; i++) {
		if (i < n) {
			if (imsi[i] < '0' || imsi[i] > '9')
				return -EINVAL;
			nib[i + 1] = imsi[i] - '0';
		} else {
			nib[i + 1] = 0xf;
		}
	}
	out[0] = (n + 2) / 2;	/* bytes used after the length byte */
	for (i = 0; i < 8; i++)
		out[1 + i] = nib[2 * i] | (nib[2 * i + 1] << 4);
	return 0;
}

int gp_saip_imsi_decode(const uint8_t *in, size_t in_len, char *out, size_t out_size)
{
	size_t used, i, n = 0;
	bool odd;

	if (!in || !out || out_size < 16)
		return -EINVAL;
	if (in_len < 2 || in[0] < 1 || in[0] > 8 || (size_t)in[0] + 1 > in_len)
		return -EBADMSG;
	used = in[0];
	if ((in[1] & 0x07) != 0x01)
		return -EBADMSG;
	odd = !!(in[1] & 0x08);
	for (i = 1; i < 2 * used; i++) {
		uint8_t b = in[1 + i / 2];
		uint8_t d = (i & 1) ? (b >> 4) : (b & 0xf);

		if (d == 0xf && i == 2 * used - 1 && !odd)
			break;
		if (d > 9)
			return -EBADMSG;
		out[n++] = '0' + d;
	}
	if (((n & 1) != 0) != odd)
		return -EBADMSG;
	out[n] = '\0';
	return n;
}

int gp_saip_pin_encode(const char *digits, uint8_t out[8])
{
	size_t n, i;

	if (!digits || !out)
		return -EINVAL;
	n = strlen(digits);
	if (n < 1 || n > 8)
		return -EINVAL;
	for (i = 0; i < 8; i++) {
		if (i < n && (digits[i] < '0' || digits[i] > '9'))
			return -EINVAL;
		out[i] = i < n ? (uint8_t)digits[i] : 0xff;
	}
	return 0;
}

/* ---- header ---- */

int gp_saip_read_header(const uint8_t *pkg, size_t len, struct gp_saip_header *hdr)
{
	struct gp_saip_pe pe;
	struct gp_tlv t, s;
	size_t off = 0;
	uint32_t v;
	int rc;

	if (!hdr || (!pkg && len))
		return -EINVAL;
	memset(hdr, 0, sizeof(*hdr));
	rc = gp_saip_next(pkg, len, &off, 0, &pe);
	if (rc == 0)
		return -EBADMSG;
	if (rc < 0)
		return rc;
	if (pe.type != GP_SAIP_PE_HEADER)
		return -EBADMSG;

	/* ProfileHeader: major-version [0], minor-version [1], profileType [2], iccid [3], pol [4],
	 * eUICC-Mandatory-services [5], eUICC-Mandatory-GFSTEList [6], ... */
	rc = gp_tlv_find(pe.val, pe.len, 0x80, &t);
	if (rc < 0)
		return rc;
	if (der_uint(&t, &v) < 0 || v > 255)
		return -EBADMSG;
	hdr->major = v;
	rc = gp_tlv_find(pe.val, pe.len, 0x81, &t);
	if (rc < 0)
		return rc;
	if (der_uint(&t, &v) < 0 || v > 255)
		return -EBADMSG;
	hdr->minor = v;

	rc = gp_tlv_find(pe.val, pe.len, 0x82, &t);
	if (rc == 0) {
		if (t.len < 1 || t.len > 100 || memchr(t.val, 0, t.len))
			return -EBADMSG;
		memcpy(hdr->profile_type, t.val, t.len);
		hdr->profile_type[t.len] = '\0';
	} else if (rc != -ENOENT) {
		return rc;
	}

	rc = gp_tlv_find(pe.val, pe.len, 0x83, &t);
	if (rc < 0)
		return rc;
	if (t.len != 10)
		return -EBADMSG;
	memcpy(hdr->iccid_raw, t.val, 10);
	rc = gp_saip_iccid_decode(t.val, t.len, false, hdr->iccid, sizeof(hdr->iccid));
	if (rc < 0)
		return rc;

	rc = gp_tlv_find(pe.val, pe.len, 0xA5, &t);
	if (rc < 0)
		return rc;
	off = 0;
	while ((rc = gp_tlv_next(t.val, t.len, &off, &s)) > 0) {
		int n;

		if (s.cls != GP_TLV_CLASS_CONTEXT || s.constructed || s.len != 0)
			return -EBADMSG;
		n = tag_number(&s);
		if (n < 0)
			return n;
		if (n < 32)
			hdr->services |= 1u << n;
	}
	if (rc < 0)
		return rc;

	rc = gp_tlv_find(pe.val, pe.len, 0xA6, &t);
	if (rc < 0)
		return rc;
	off = 0;
	while ((rc = gp_tlv_next(t.val, t.len, &off, &s)) > 0) {
		if (s.tag != 0x06)
			return -EBADMSG;
		hdr->n_gfste++;
	}
	if (rc < 0)
		return rc;
	return 0;
}

/* ---- field location ---- */

struct finder {
	const uint8_t *pkg;
	enum gp_saip_field field;
	unsigned int want;
	unsigned int seen;
	struct gp_saip_item *item;
};

/* Record one occurrence; returns 1 when it is the wanted one. */
static int hit(struct finder *f, const struct gp_saip_pe *pe, const struct gp_tlv *const *chain, unsigned int n,
	       unsigned int key_ref)
{
	struct gp_saip_item *it = f->item;
	unsigned int i;

	if (f->seen++ != f->want)
		return 0;
	memset(it, 0, sizeof(*it));
	it->field = f->field;
	it->pe_index = pe->index;
	it->key_ref = key_ref;
	it->offs[0] = pe->offset;
	for (i = 0; i < n; i++)
		it->offs[1 + i] = chain[i]->tlv - f->pkg;
	it->depth = 1 + n;
	it->val = chain[n - 1]->val;
	it->len = chain[n - 1]->len;
	return 1;
}

/* Find a constructed child by tag; -ENOENT passes through, a primitive match is malformed. */
static int child(const uint8_t *val, size_t len, uint32_t tag, unsigned int nth, struct gp_tlv *t, bool constructed)
{
	int rc = gp_tlv_find_nth(val, len, tag, nth, t);

	if (rc < 0)
		return rc;
	if (t->constructed != constructed)
		return -EBADMSG;
	return 0;
}

/* A File (SEQUENCE OF CHOICE) component: its first fillFileContent [3] */
static int file_content(struct finder *f, const struct gp_saip_pe *pe, uint32_t file_tag)
{
	struct gp_tlv file, content;
	const struct gp_tlv *chain[2] = { &file, &content };
	int rc;

	rc = child(pe->val, pe->len, file_tag, 0, &file, true);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	rc = child(file.val, file.len, 0x83, 0, &content, false);
	if (rc < 0)
		return rc == -ENOENT ? 0 : rc;
	return hit(f, pe, chain, 2, 0);
}

/* PIN and PUK codes: chain[depth - 1] is a SEQUENCE OF { keyReference [0] INTEGER, value [1], ... } (PE-PINCodes
 * pinconfig, PE-PUKCodes pukCodes); report the value of each entry, with its keyReference. */
static int find_code(struct finder *f, const struct gp_saip_pe *pe, const struct gp_tlv **chain, unsigned int depth)
{
	const struct gp_tlv *seq = chain[depth - 1];
	struct gp_tlv entry, ref, value;
	unsigned int i;
	uint32_t v;
	int rc;

	for (i = 0; ; i++) {
		rc = child(seq->val, seq->len, 0x30, i, &entry, true);
		if (rc == -ENOENT)
			return 0;
		if (rc < 0)
			return rc;
		rc = child(entry.val, entry.len, 0x80, 0, &ref, false);
		if (rc < 0 || der_uint(&ref, &v) < 0)
			return -EBADMSG;
		rc = child(entry.val, entry.len, 0x81, 0, &value, false);
		if (rc < 0)
			return -EBADMSG;
		chain[depth] = &entry;
		chain[depth + 1] = &value;
		if (hit(f, pe, chain, depth + 2, v))
			return 1;
	}
}

static int find_in_pe(struct finder *f, const struct gp_saip_pe *pe)
{
	struct gp_tlv a, b, c, d, g, h;
	const struct gp_tlv *chain[6];
	uint32_t v, kid, kvn;
	unsigned int i, j;
	int rc;

	switch (f->field) {
	case GP_SAIP_F_HDR_ICCID:
		if (pe->type != GP_SAIP_PE_HEADER)
			return 0;
		rc = child(pe->val, pe->len, 0x83, 0, &a, false);
		if (rc < 0)
			return rc == -ENOENT ? 0 : rc;
		chain[0] = &a;
		return hit(f, pe, chain, 1, 0);
	case GP_SAIP_F_EF_ICCID:
		/* PE-MF: mf-header [0], templateID [1], mf [2], ef-pl [3], ef-iccid [4]; PE-IoT (SAIP 3.3)
		 * has the same first components */
		if (pe->type != GP_SAIP_PE_MF && pe->type != GP_SAIP_PE_IOT)
			return 0;
		return file_content(f, pe, 0xA4);
	case GP_SAIP_F_EF_IMSI:
		/* PE-USIM: usim-header [0], templateID [1], adf-usim [2], ef-imsi [3];
		 * PE-IoT: ..., ef-umpc [7], adf-usim [8], ef-imsi [9] */
		if (pe->type == GP_SAIP_PE_USIM)
			return file_content(f, pe, 0xA3);
		if (pe->type == GP_SAIP_PE_IOT)
			return file_content(f, pe, 0xA9);
		return 0;
	case GP_SAIP_F_KI:
	case GP_SAIP_F_OPC:
		/* PE-AKAParameter: aka-header [0], algoConfiguration [1] CHOICE { mappingParameter [0],
		 * algoParameter [1] { algorithmID [0], algorithmOptions [1], key [2], opc [3], ... } } */
		if (pe->type != GP_SAIP_PE_AKA_PARAMETER)
			return 0;
		rc = child(pe->val, pe->len, 0xA1, 0, &a, true);
		if (rc < 0)
			return rc == -ENOENT ? 0 : rc;
		rc = child(a.val, a.len, 0xA1, 0, &b, true);
		if (rc < 0)
			return rc == -ENOENT ? 0 : rc;
		v = 0;
		if (gp_tlv_find(b.val, b.len, 0x80, &d) == 0 && der_uint(&d, &v) < 0)
			return -EBADMSG;
		rc = child(b.val, b.len, f->field == GP_SAIP_F_KI ? 0x82 : 0x83, 0, &c, false);
		if (rc < 0)
			return rc == -ENOENT ? 0 : rc;
		chain[0] = &a;
		chain[1] = &b;
		chain[2] = &c;
		return hit(f, pe, chain, 3, v);
	case GP_SAIP_F_PIN:
		/* PE-PINCodes: pin-Header [0], pinCodes [1] CHOICE { pinconfig [0] SEQUENCE OF
		 * PINConfiguration { keyReference [0], pinValue [1], ... }, filePath [1] } */
		if (pe->type != GP_SAIP_PE_PIN_CODES)
			return 0;
		rc = child(pe->val, pe->len, 0xA1, 0, &a, true);
		if (rc < 0)
			return rc == -ENOENT ? 0 : rc;
		rc = child(a.val, a.len, 0xA0, 0, &b, true);
		if (rc < 0)
			return rc == -ENOENT ? 0 : rc;
		chain[0] = &a;
		chain[1] = &b;
		return find_code(f, pe, chain, 2);
	case GP_SAIP_F_PUK:
		/* PE-PUKCodes: puk-Header [0], pukCodes [1] SEQUENCE OF PUKConfiguration
		 * { keyReference [0], pukValue [1], maxNumOfAttemps-retryNumLeft [2] } */
		if (pe->type != GP_SAIP_PE_PUK_CODES)
			return 0;
		rc = child(pe->val, pe->len, 0xA1, 0, &a, true);
		if (rc < 0)
			return rc == -ENOENT ? 0 : rc;
		chain[0] = &a;
		return find_code(f, pe, chain, 1);
	case GP_SAIP_F_SD_KEY:
		/* PE-SecurityDomain: sd-Header [0], instance [1], keyList [2] SEQUENCE OF KeyObject
		 * { keyUsageQualifier [21], keyAccess [22], keyIdentifier [2], keyVersionNumber [3],
		 * keyCounterValue [5], keyComponents SEQUENCE OF SEQUENCE { keyType [0], keyData [6], ... } } */
		if (pe->type != GP_SAIP_PE_SECURITY_DOMAIN)
			return 0;
		rc = child(pe->val, pe->len, 0xA2, 0, &a, true);
		if (rc < 0)
			return rc == -ENOENT ? 0 : rc;
		for (i = 0; ; i++) {
			rc = child(a.val, a.len, 0x30, i, &b, true);
			if (rc == -ENOENT)
				return 0;
			if (rc < 0)
				return rc;
			if (child(b.val, b.len, 0x82, 0, &d, false) < 0 || d.len != 1)
				return -EBADMSG;
			kid = d.val[0];
			if (child(b.val, b.len, 0x83, 0, &d, false) < 0 || d.len != 1)
				return -EBADMSG;
			kvn = d.val[0];
			if (child(b.val, b.len, 0x30, 0, &c, true) < 0)
				return -EBADMSG;
			for (j = 0; ; j++) {
				rc = child(c.val, c.len, 0x30, j, &g, true);
				if (rc == -ENOENT)
					break;
				if (rc < 0)
					return rc;
				if (child(g.val, g.len, 0x86, 0, &h, false) < 0)
					return -EBADMSG;
				chain[0] = &a;
				chain[1] = &b;
				chain[2] = &c;
				chain[3] = &g;
				chain[4] = &h;
				if (hit(f, pe, chain, 5, (kvn << 8) | kid))
					return 1;
			}
		}
	}
	return -EINVAL;
}

int gp_saip_find(const uint8_t *pkg, size_t len, enum gp_saip_field field, unsigned int n,
		 struct gp_saip_item *item)
{
	struct finder f = { .pkg = pkg, .field = field, .want = n, .item = item };
	struct gp_saip_pe pe;
	size_t off = 0;
	unsigned int i = 0;
	int rc;

	if (!item || (!pkg && len) || field > GP_SAIP_F_SD_KEY)
		return -EINVAL;
	while ((rc = gp_saip_next(pkg, len, &off, i++, &pe)) > 0) {
		rc = find_in_pe(&f, &pe);
		if (rc < 0)
			return rc;
		if (rc > 0)
			return 0;
	}
	return rc < 0 ? rc : -ENOENT;
}

int gp_saip_replace(void *ctx, const uint8_t *pkg, size_t len, const struct gp_saip_item *item,
		    const uint8_t *val, size_t val_len, uint8_t **out, size_t *out_len)
{
	if (!item || item->depth == 0 || item->depth > GP_SAIP_MAX_CHAIN)
		return -EINVAL;
	return gp_tlv_splice(ctx, pkg, len, item->offs, item->depth, val, val_len, out, out_len);
}

/* Replace, into a fresh buffer, the value of every occurrence of field (optionally only those with
 * key_ref == ref). Returns the number replaced. */
static int replace_all(void *ctx, const uint8_t *pkg, size_t len, enum gp_saip_field field, bool match_ref,
		       unsigned int ref, const uint8_t *val, size_t val_len, uint8_t **out, size_t *out_len)
{
	struct gp_saip_item it;
	uint8_t *cur = NULL, *next;
	size_t cur_len = len, next_len;
	unsigned int n = 0, count = 0;
	int rc;

	for (;;) {
		rc = gp_saip_find(cur ? cur : pkg, cur_len, field, n, &it);
		if (rc == -ENOENT)
			break;
		if (rc < 0)
			goto fail;
		n++;
		if (match_ref && it.key_ref != ref)
			continue;
		rc = gp_saip_replace(ctx, cur ? cur : pkg, cur_len, &it, val, val_len, &next, &next_len);
		if (rc < 0)
			goto fail;
		talloc_free(cur);
		cur = next;
		cur_len = next_len;
		count++;
	}
	if (count == 0)
		return -ENOENT;
	*out = cur;
	*out_len = cur_len;
	return count;
fail:
	talloc_free(cur);
	return rc;
}

int gp_saip_set_iccid(void *ctx, const uint8_t *pkg, size_t len, const char *iccid, uint8_t **out, size_t *out_len)
{
	uint8_t hdr_val[10], ef_val[10], *tmp, *res;
	size_t tmp_len, res_len;
	int rc;

	if (!out || !out_len)
		return -EINVAL;
	if (gp_saip_iccid_encode(iccid, false, hdr_val) < 0 || gp_saip_iccid_encode(iccid, true, ef_val) < 0)
		return -EINVAL;
	rc = replace_all(ctx, pkg, len, GP_SAIP_F_HDR_ICCID, false, 0, hdr_val, 10, &tmp, &tmp_len);
	if (rc < 0)
		return rc;
	rc = replace_all(ctx, tmp, tmp_len, GP_SAIP_F_EF_ICCID, false, 0, ef_val, 10, &res, &res_len);
	if (rc == -ENOENT) {
		*out = tmp;
		*out_len = tmp_len;
		return 0;
	}
	talloc_free(tmp);
	if (rc < 0)
		return rc;
	*out = res;
	*out_len = res_len;
	return 0;
}

int gp_saip_set_imsi(void *ctx, const uint8_t *pkg, size_t len, const char *imsi, uint8_t **out, size_t *out_len)
{
	uint8_t ef[9];

	if (!out || !out_len || gp_saip_imsi_encode(imsi, ef) < 0)
		return -EINVAL;
	return replace_all(ctx, pkg, len, GP_SAIP_F_EF_IMSI, false, 0, ef, sizeof(ef), out, out_len);
}

int gp_saip_set_aka(void *ctx, const uint8_t *pkg, size_t len, unsigned int n, const uint8_t *ki, size_t ki_len,
		    const uint8_t *opc, size_t opc_len, uint8_t **out, size_t *out_len)
{
	struct gp_saip_item it;
	uint8_t *tmp = NULL, *res;
	size_t tmp_len = len, res_len;
	int rc;

	if (!out || !out_len || (!ki && !opc) || (ki && !ki_len) || (opc && !opc_len))
		return -EINVAL;
	if (ki) {
		rc = gp_saip_find(pkg, len, GP_SAIP_F_KI, n, &it);
		if (rc < 0)
			return rc;
		rc = gp_saip_replace(ctx, pkg, len, &it, ki, ki_len, &tmp, &tmp_len);
		if (rc < 0)
			return rc;
	}
	if (opc) {
		rc = gp_saip_find(tmp ? tmp : pkg, tmp_len, GP_SAIP_F_OPC, n, &it);
		if (rc == 0)
			rc = gp_saip_replace(ctx, tmp ? tmp : pkg, tmp_len, &it, opc, opc_len, &res, &res_len);
		talloc_free(tmp);
		if (rc < 0)
			return rc;
		tmp = res;
		tmp_len = res_len;
	}
	*out = tmp;
	*out_len = tmp_len;
	return 0;
}

int gp_saip_set_code(void *ctx, const uint8_t *pkg, size_t len, enum gp_saip_field field, unsigned int key_ref,
		     const uint8_t *val, size_t val_len, uint8_t **out, size_t *out_len)
{
	if (!out || !out_len || (field != GP_SAIP_F_PIN && field != GP_SAIP_F_PUK) || !val || !val_len)
		return -EINVAL;
	return replace_all(ctx, pkg, len, field, true, key_ref, val, val_len, out, out_len);
}

int gp_saip_set_sd_key(void *ctx, const uint8_t *pkg, size_t len, uint8_t kvn, uint8_t kid, const uint8_t *key,
		       size_t key_len, uint8_t **out, size_t *out_len)
{
	if (!out || !out_len || !key || !key_len)
		return -EINVAL;
	return replace_all(ctx, pkg, len, GP_SAIP_F_SD_KEY, true, ((unsigned int)kvn << 8) | kid, key, key_len,
			   out, out_len);
}
