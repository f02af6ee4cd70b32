/*! \file eid.c
 * EID check digits (GSMA SGP.29 §2.2: ISO/IEC 7064 MOD 97-10 over the 32-digit decimal number)
 * and BCD conversion.
 */
#include <errno.h>
#include <string.h>

#include <sgp02/gp/eid.h>

static bool all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Remainder modulo 97 of a decimal string, digit by digit (the number has 32 digits, too large for
 * any integer type). */
static unsigned int mod97(const char *s, size_t n)
{
	unsigned int r = 0;
	size_t i;

	for (i = 0; i < n; i++)
		r = (r * 10 + (s[i] - '0')) % 97;
	return r;
}

int gp_eid_validate(const char *eid)
{
	if (!eid || strlen(eid) != GP_EID_DIGITS || !all_digits(eid, GP_EID_DIGITS))
		return -EINVAL;
	/* ISO/IEC 7064 MOD 97-10: the whole number, check digits included, is 1 modulo 97 */
	return mod97(eid, GP_EID_DIGITS) == 1 ? 0 : -EBADMSG;
}

int gp_eid_compute(const char *eid, char out[GP_EID_DIGITS + 1])
{
	size_t n;
	unsigned int check;

	if (!eid || !out)
		return -EINVAL;
	n = strlen(eid);
	if ((n != GP_EID_DIGITS - 2 && n != GP_EID_DIGITS) || !all_digits(eid, n))
		return -EINVAL;
	memmove(out, eid, GP_EID_DIGITS - 2);
	out[GP_EID_DIGITS - 2] = '0';
	out[GP_EID_DIGITS - 1] = '0';
	out[GP_EID_DIGITS] = '\0';
	/* SGP.29: check digits = 98 - (number with check digits 00) mod 97 */
	check = 98 - mod97(out, GP_EID_DIGITS);
	out[GP_EID_DIGITS - 2] = '0' + check / 10;
	out[GP_EID_DIGITS - 1] = '0' + check % 10;
	return 0;
}

int gp_eid_to_bytes(const char *eid, uint8_t out[GP_EID_BYTES])
{
	unsigned int i;

	if (!eid || !out || strlen(eid) != GP_EID_DIGITS || !all_digits(eid, GP_EID_DIGITS))
		return -EINVAL;
	for (i = 0; i < GP_EID_BYTES; i++)
		out[i] = ((eid[2 * i] - '0') << 4) | (eid[2 * i + 1] - '0');
	return 0;
}

int gp_eid_from_bytes(const uint8_t *in, size_t in_len, char out[GP_EID_DIGITS + 1])
{
	unsigned int i;

	if (!in || !out || in_len != GP_EID_BYTES)
		return -EINVAL;
	for (i = 0; i < GP_EID_BYTES; i++) {
		if ((in[i] >> 4) > 9 || (in[i] & 0xf) > 9)
			return -EBADMSG;
		out[2 * i] = '0' + (in[i] >> 4);
		out[2 * i + 1] = '0' + (in[i] & 0xf);
	}
	out[GP_EID_DIGITS] = '\0';
	return 0;
}
