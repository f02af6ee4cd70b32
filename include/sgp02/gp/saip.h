/*! \file saip.h
 * Walker and personaliser for SAIP profile packages (TCA "eUICC Profile Package: Interoperable Format
 * Technical Specification", ASN.1 module PEDefinitions, DER). A package is a concatenation of
 * ProfileElement values; ProfileElement is a CHOICE under AUTOMATIC TAGS, so each PE is a constructed
 * context-specific TLV whose tag number is the CHOICE index (header [0] = A0, mf [16] = B0,
 * df-snpn [30] = BE, df-5gprose [31] = BF1F, ...).
 *
 * Nothing here allocates except the functions that produce a modified package (they take a ctx).
 * Error convention: malformed DER -> -EBADMSG (-EMSGSIZE for a length past the end, -ENOTSUP for
 * indefinite lengths, -ELOOP for nesting beyond GP_TLV_MAX_DEPTH); a required element missing ->
 * -ENOENT; a package that does not start with a header PE -> -EBADMSG; bad caller argument -> -EINVAL.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sgp02/gp/bertlv.h>

/*! ProfileElement CHOICE indexes (= context tag numbers) */
enum gp_saip_pe_type {
	GP_SAIP_PE_HEADER = 0,
	GP_SAIP_PE_GFM = 1,		/*!< genericFileManagement */
	GP_SAIP_PE_PIN_CODES = 2,
	GP_SAIP_PE_PUK_CODES = 3,
	GP_SAIP_PE_AKA_PARAMETER = 4,
	GP_SAIP_PE_CDMA_PARAMETER = 5,
	GP_SAIP_PE_SECURITY_DOMAIN = 6,
	GP_SAIP_PE_RFM = 7,
	GP_SAIP_PE_APPLICATION = 8,
	GP_SAIP_PE_NON_STANDARD = 9,
	GP_SAIP_PE_END = 10,
	GP_SAIP_PE_MF = 16,
	GP_SAIP_PE_CD = 17,
	GP_SAIP_PE_TELECOM = 18,
	GP_SAIP_PE_USIM = 19,
	GP_SAIP_PE_OPT_USIM = 20,
	GP_SAIP_PE_ISIM = 21,
	GP_SAIP_PE_OPT_ISIM = 22,
	GP_SAIP_PE_PHONEBOOK = 23,
	GP_SAIP_PE_GSM_ACCESS = 24,
	GP_SAIP_PE_CSIM = 25,
	GP_SAIP_PE_OPT_CSIM = 26,
	GP_SAIP_PE_EAP = 27,
	GP_SAIP_PE_DF_5GS = 28,
	GP_SAIP_PE_DF_SAIP = 29,
	GP_SAIP_PE_DF_SNPN = 30,
	GP_SAIP_PE_DF_5GPROSE = 31,
	GP_SAIP_PE_IOT = 32,
	GP_SAIP_PE_OPT_IOT = 33,
};

/*! One top-level ProfileElement of a package. */
struct gp_saip_pe {
	unsigned int index;	/*!< position in the package, 0-based */
	unsigned int type;	/*!< CHOICE index = context tag number (enum gp_saip_pe_type) */
	uint32_t tag;		/*!< encoded tag, e.g. 0xA0, 0xB3, 0xBF20 */
	const char *name;	/*!< ASN.1 name ("header", "usim", ...) or "unknown" */
	size_t offset;		/*!< offset of the PE's first byte in the package */
	size_t total;		/*!< encoded length incl. tag and length bytes */
	const uint8_t *val;	/*!< value (the PE's SEQUENCE contents) */
	size_t len;		/*!< value length */
	int identification;	/*!< PEHeader.identification, or -1 (header PE, or absent) */
	bool mandated;		/*!< PEHeader.mandated present */
};

/*! ASN.1 name of a ProfileElement CHOICE index. \returns the name, or "unknown". */
const char *gp_saip_pe_name(unsigned int type);

/*! Parse the PE at pkg[*off] and advance *off.
 *  \param index value stored in pe->index (caller's counter).
 *  \returns 1 with *pe filled, 0 at the end of the package, -EBADMSG if the TLV is not a constructed
 *  context-specific element or is malformed, other parse errors as gp_tlv_parse(). */
int gp_saip_next(const uint8_t *pkg, size_t len, size_t *off, unsigned int index, struct gp_saip_pe *pe);

/*! Check that pkg is a complete SAIP package: a sequence of PEs, the first one the header, the last one
 *  PE-End, every PE strictly DER-encoded to GP_TLV_MAX_DEPTH levels.
 *  \returns number of PEs (> 0) or a negative errno (see file comment). */
int gp_saip_validate(const uint8_t *pkg, size_t len);

/*! Find the n-th PE (0-based) of a given type. \returns 0, -ENOENT, or parse errors. */
int gp_saip_find_pe(const uint8_t *pkg, size_t len, unsigned int type, unsigned int n, struct gp_saip_pe *pe);

/*! ProfileHeader contents. */
struct gp_saip_header {
	unsigned int major;		/*!< major-version */
	unsigned int minor;		/*!< minor-version */
	char profile_type[101];		/*!< profileType (UTF8String, SIZE 1..100), "" if absent */
	char iccid[21];			/*!< ICCID digits, trailing F padding removed */
	uint8_t iccid_raw[10];		/*!< header iccid OCTET STRING (BCD, not nibble-swapped) */
	uint32_t services;		/*!< eUICC-Mandatory-services: bit n set = ServicesList component n */
	unsigned int n_gfste;		/*!< number of OIDs in eUICC-Mandatory-GFSTEList */
};

/*! Name of ServicesList component n (e.g. 1 "usim", 17 "usim-test-algorithm"), or NULL. */
const char *gp_saip_service_name(unsigned int n);

/*! Read the header PE (must be the first PE).
 *  \returns 0; -EBADMSG if the first PE is not a header or a field is malformed (iccid not 10 bytes,
 *  version not a small INTEGER, profileType longer than 100 bytes); -ENOENT for a missing mandatory field. */
int gp_saip_read_header(const uint8_t *pkg, size_t len, struct gp_saip_header *hdr);

/*! Personalisation fields the walker can locate and replace. */
enum gp_saip_field {
	GP_SAIP_F_HDR_ICCID,	/*!< header iccid (10 bytes, BCD in natural order) */
	GP_SAIP_F_EF_ICCID,	/*!< mf (or iot) PE, ef-iccid fillFileContent (TS 102 221 §13.2: swapped BCD) */
	GP_SAIP_F_EF_IMSI,	/*!< usim (or iot) PE, ef-imsi fillFileContent (TS 31.102 §4.2.2) */
	GP_SAIP_F_KI,		/*!< akaParameter algoParameter key */
	GP_SAIP_F_OPC,		/*!< akaParameter algoParameter opc */
	GP_SAIP_F_PIN,		/*!< pinCodes pinconfig pinValue (key_ref = keyReference) */
	GP_SAIP_F_PUK,		/*!< pukCodes pukValue (key_ref = keyReference) */
	GP_SAIP_F_SD_KEY,	/*!< securityDomain keyList keyData (key_ref = KVN << 8 | key identifier) */
};

#define GP_SAIP_MAX_CHAIN 8

/*! A located field: the chain of TLVs from the PE down to the TLV that holds the value. */
struct gp_saip_item {
	enum gp_saip_field field;
	unsigned int pe_index;		/*!< index of the PE that holds it */
	unsigned int key_ref;		/*!< see enum gp_saip_field; algorithmID for KI/OPC; 0 otherwise */
	size_t offs[GP_SAIP_MAX_CHAIN];	/*!< offsets in the package, PE first, value TLV last */
	unsigned int depth;		/*!< number of valid offs */
	const uint8_t *val;		/*!< the current value (points into the package) */
	size_t len;			/*!< its length */
};

/*! Locate the n-th occurrence (0-based, in package order) of a field.
 *  \returns 0; -ENOENT if there are fewer occurrences; -EBADMSG etc. on malformed PEs. */
int gp_saip_find(const uint8_t *pkg, size_t len, enum gp_saip_field field, unsigned int n,
		 struct gp_saip_item *item);

/*! Replace the value of a located item; enclosing lengths are re-encoded (minimal form) where they change.
 *  A value of the same length changes no other byte. \param[out] out talloc'd on ctx.
 *  \returns 0 or a negative errno (-EINVAL, -ENOMEM, parse errors). */
int gp_saip_replace(void *ctx, const uint8_t *pkg, size_t len, const struct gp_saip_item *item,
		    const uint8_t *val, size_t val_len, uint8_t **out, size_t *out_len);

/*! Encode ICCID digits (6..20 digits, 'f'/'F' accepted as padding) as 10 BCD bytes in natural order,
 *  padded with F. \param swapped produce the EF.ICCID nibble-swapped form instead.
 *  \returns 0 or -EINVAL. */
int gp_saip_iccid_encode(const char *iccid, bool swapped, uint8_t out[10]);
/*! Decode 10 ICCID bytes (natural or swapped) to digits, stopping at the first F nibble.
 *  \returns number of digits, -EBADMSG for a non-decimal nibble before the padding, -EINVAL. */
int gp_saip_iccid_decode(const uint8_t *in, size_t in_len, bool swapped, char *out, size_t out_size);
/*! Encode an IMSI (6..15 digits) as the 9-byte EF.IMSI (TS 31.102 §4.2.2: length byte, then digit 1
 *  with the parity/type nibble 1 (even) or 9 (odd), remaining digits nibble-swapped, F-padded).
 *  \returns 0 or -EINVAL. */
int gp_saip_imsi_encode(const char *imsi, uint8_t out[9]);
/*! Decode EF.IMSI contents. \returns number of digits, -EBADMSG if malformed, -EINVAL. */
int gp_saip_imsi_decode(const uint8_t *in, size_t in_len, char *out, size_t out_size);
/*! Encode a PIN/PUK (1..8 ASCII digits) as the 8-byte value padded with FF (TS 102 221 PIN coding,
 *  as in the TS.48 packages: 30303030FFFFFFFF).
 *  \returns 0 or -EINVAL. */
int gp_saip_pin_encode(const char *digits, uint8_t out[8]);

/*! Set the ICCID in the header and in EF.ICCID of the mf PE (if present).
 *  \returns 0 or negative errno. *out is a new talloc'd package on ctx. */
int gp_saip_set_iccid(void *ctx, const uint8_t *pkg, size_t len, const char *iccid, uint8_t **out, size_t *out_len);
/*! Set the IMSI in every EF.IMSI of usim (and iot) PEs. \returns number replaced (> 0), -ENOENT or negative errno. */
int gp_saip_set_imsi(void *ctx, const uint8_t *pkg, size_t len, const char *imsi, uint8_t **out, size_t *out_len);
/*! Set Ki and/or OPc (either may be NULL) of the n-th akaParameter PE that has an algoParameter.
 *  \returns 0, -ENOENT or negative errno. */
int gp_saip_set_aka(void *ctx, const uint8_t *pkg, size_t len, unsigned int n, const uint8_t *ki, size_t ki_len,
		    const uint8_t *opc, size_t opc_len, uint8_t **out, size_t *out_len);
/*! Set the value of every PIN (field GP_SAIP_F_PIN) or PUK (GP_SAIP_F_PUK) with keyReference key_ref.
 *  \returns number replaced (> 0), -ENOENT if none, -EINVAL for another field, or negative errno. */
int gp_saip_set_code(void *ctx, const uint8_t *pkg, size_t len, enum gp_saip_field field, unsigned int key_ref,
		     const uint8_t *val, size_t val_len, uint8_t **out, size_t *out_len);
/*! Set keyData of every key component of the securityDomain keys with this KVN and key identifier, in
 *  every securityDomain PE. \returns number replaced (> 0), -ENOENT or negative errno. */
int gp_saip_set_sd_key(void *ctx, const uint8_t *pkg, size_t len, uint8_t kvn, uint8_t kid, const uint8_t *key,
		       size_t key_len, uint8_t **out, size_t *out_len);
