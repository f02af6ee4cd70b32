/*! \file eid.h
 * eUICC identifier (EID): 32 decimal digits whose last two are check digits computed with
 * ISO/IEC 7064 MOD 97-10 (GSMA SGP.29 §2.2), carried on the wire as 16 bytes of plain BCD
 * (GET DATA tag 5A from the ECASD, notification tag 4C, web-service EIDType hexBinary).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GP_EID_DIGITS	32
#define GP_EID_BYTES	16

/*! Check an EID given as 32 decimal digits.
 *  \returns 0 if the check digits are right; -EBADMSG if they are wrong; -EINVAL if the string is
 *  not exactly 32 decimal digits. */
int gp_eid_validate(const char *eid);

/*! Compute the check digits. \param eid 30 digits, or 32 digits whose last two are replaced.
 *  \param[out] out 33 bytes: the complete EID, NUL-terminated.
 *  \returns 0 or -EINVAL. */
int gp_eid_compute(const char *eid, char out[GP_EID_DIGITS + 1]);

/*! EID digits -> 16 BCD bytes (first digit in the high nibble). \returns 0 or -EINVAL. */
int gp_eid_to_bytes(const char *eid, uint8_t out[GP_EID_BYTES]);

/*! 16 BCD bytes -> 32 digits + NUL. \returns 0, -EBADMSG if a nibble is not decimal, -EINVAL. */
int gp_eid_from_bytes(const uint8_t *in, size_t in_len, char out[GP_EID_DIGITS + 1]);
