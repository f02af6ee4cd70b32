/*! \file euicc.c
 * The simulated eUICC (see euicc.h): ISD-R with SCP80 (ETSI TS 102 225 / TS 31.115 as profiled by SGP.02
 * §2.4.3, SGP02.md §7.1), expanded remote command scripts (TS 102 226 §5.2, SGP02.md §7.2) and the ES5
 * commands on the ISD-R (SGP.02 §4.1.1, SGP02.md §8), notifications and their confirmation (SGP02.md §8.9).
 *
 * EIS export format (fleet_euicc_eis_xml()): one XML element `<Eis>` in the GSMA namespace
 * http://namespaces.gsma.org/esim-messaging/3 with the children of EISType (euicc.common.types.xsd) in schema
 * order, i.e. exactly what the `Eis` parameter of ES1.RegisterEIS carries, except:
 *  - EumSignature is not written: the registering tool signs EumSignedInfo with the EUM key of its PKI
 *    (XML-DSig, SGP02.md §3.1) and inserts the signature after EumSignedInfo;
 *  - the ISD-R SCP80 keys (Keyset Version = KVN, Type SCP80, Cntr 0; Key Index 1 = KIc, 2 = KID, key type 88 =
 *    AES, kcv = first 3 bytes of AES(key, 16 x 01)) are written in clear; ES1 wants them protected with the
 *    EUM/SM-SR transport key (SGP02.md §3.1), which is the registering tool's job;
 *  - AdditionalProperties carries Property key="device-msisdn" (the device's SMS address) and
 *    key="fleet-index" (the card's index in the fleet).
 * The ECASD is a placeholder (AID, TAR 000002, SIN/SDIN, one key set version 115 without keys or certificate):
 * the fleet does not simulate ES8 key establishment.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <talloc.h>
#include <openssl/evp.h>

#include <sgp02/fleet/euicc.h>
#include <sgp02/gp/bertlv.h>
#include <sgp02/gp/gp_apdu.h>
#include <sgp02/ota/rapdu.h>

/* ISD-R TAR (SGP02.md §2.1, implicit TAR = AID bytes 13..15) */
#define ISDR_TAR		0x000001
/* SGP02.md §2.1: ISD-P TARs 000010..00FFFF (Annex H) */
#define ISDP_TAR_MIN		0x000010
#define ISDP_TAR_MAX		0x00FFFF
/* a short R-APDU carries at most 256 data bytes */
#define RAPDU_DATA_MAX		256

/* status words (SGP02.md §8.12; ISO/IEC 7816-4 for the generic ones) */
#define SW_OK			0x9000
#define SW_MORE_DATA		0x6310	/* GET STATUS: more data available (GP Card Spec §11.4.3) */
#define SW_WRONG_LENGTH		0x6700
#define SW_COND_NOT_SATISFIED	0x6985
#define SW_POL1			0x69E1
#define SW_WRONG_DATA		0x6A80
#define SW_NOT_ENOUGH_MEMORY	0x6A84
#define SW_WRONG_P1P2		0x6A86
#define SW_NOT_FOUND		0x6A88
#define SW_INS_NOT_SUPPORTED	0x6D00
#define SW_CLA_NOT_SUPPORTED	0x6E00

/* GP INS codes */
#define INS_INSTALL		0xE6
#define INS_STORE_DATA		0xE2
#define INS_DELETE		0xE4
#define INS_GET_STATUS		0xF2
#define INS_GET_DATA		0xCA

/* ISD-R DGIs (SGP02.md §8.2-§8.9) */
#define DGI_ENABLE		0x3A03
#define DGI_DISABLE		0x3A04
#define DGI_FALLBACK		0x3A05
#define DGI_ADDR_PARAMS		0x3A07
#define DGI_NOTIF_CONFIRM	0x3A08

struct euicc_notif {
	bool pending;
	uint8_t type;
	uint16_t seq;
	int slot;		/* profile enabled by the switch (named in the notification) */
	int prev;		/* profile enabled before it, -1 if none / no roll-back */
	unsigned int tries;
	uint64_t due_ms;
};

struct fleet_euicc {
	struct fleet_euicc_cfg cfg;
	char eid[GP_EID_DIGITS + 1];
	uint8_t eid_bin[GP_EID_BYTES];
	struct ota_scp80_keyset ks;
	uint64_t cntr;			/* RE counter of the ISD-R key set */
	struct fleet_euicc_profile prof[FLEET_EUICC_MAX_PROFILES];
	uint32_t total_mem;
	uint16_t seq;			/* last notification sequence number used */
	uint16_t last_confirmed;
	bool any_confirmed;
	struct euicc_notif notif;
	uint8_t mo_ref;
	struct ota_sms_reasm *reasm;	/* allocated with the first concatenated part */
	uint8_t addr_params[FLEET_EUICC_MAX_ADDR_PARAMS];
	size_t addr_params_len;
	unsigned int status_next;	/* GET STATUS "next occurrence" position */
	struct fleet_euicc_stats stats;
};

/* MO messages produced by one call */
struct mo_out {
	void *ctx;
	struct fleet_mo *mo;
	unsigned int num;
	int err;
};

/* ------------------------------------------------------------------------------------------------------------
 * manufacturing data
 */

void fleet_eum_params_default(struct fleet_eum_params *p)
{
	memset(p, 0, sizeof(*p));
	p->key_seed = 1;
	/* test OIDs under one private arc, as in scripts/demo and the sample configs: 99999.1 the operator (MNO1, the
	 * ES4 caller of the demo), 99999.10 the SM-DP, 99999.20 the SM-SR; ours: 99999.2 the operator of the
	 * bootstrap profiles, 99999.30 the EUM */
	p->eum_id = "1.3.6.1.4.1.99999.30";
	p->smsr_id = "1.3.6.1.4.1.99999.20";
	p->mno_boot_id = "1.3.6.1.4.1.99999.2";
	p->mno_op_id = "1.3.6.1.4.1.99999.1";
	p->msisdn_prefix = "4915";
	p->production_date = "2026-01-01T00:00:00Z";
	p->kvn = 1;
	p->op_pol1 = 0;
	p->total_mem = 512 * 1024;
	p->boot_mem = 64 * 1024;
	p->op_mem = 64 * 1024;
}

/* SHA-256("sgp02-fleet/" label ‖ seed (8, BE) ‖ index (4, BE)): the source of every per-card secret */
static int derive(const char *label, uint64_t seed, uint32_t index, uint8_t out[32])
{
	uint8_t in[64];
	size_t n = 0, l = strlen(label);
	unsigned int olen = 0;
	int i;

	if (l > 32)
		return -EINVAL;
	memcpy(in, "sgp02-fleet/", 12);
	n = 12;
	memcpy(in + n, label, l);
	n += l;
	for (i = 7; i >= 0; i--)
		in[n++] = seed >> (8 * i);
	for (i = 3; i >= 0; i--)
		in[n++] = index >> (8 * i);
	if (EVP_Digest(in, n, out, &olen, EVP_sha256(), NULL) != 1 || olen != 32)
		return -EIO;
	return 0;
}

/* Luhn check digit of a digit string (ITU-T E.118 ICCID) */
static char luhn_digit(const char *digits)
{
	size_t n = strlen(digits), i;
	unsigned int sum = 0;
	bool dbl = true;

	for (i = n; i > 0; i--) {
		unsigned int d = digits[i - 1] - '0';

		if (dbl) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
		dbl = !dbl;
	}
	return '0' + (10 - sum % 10) % 10;
}

static bool all_digits(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int fleet_euicc_perso_derive(const struct fleet_eum_params *p, uint32_t index, struct fleet_euicc_perso *out)
{
	char digits[GP_EID_DIGITS + 1];
	uint8_t h[32];
	int rc, k;

	if (!p || !out || index > 9999999 || p->kvn < 1 || p->kvn > 15 || !all_digits(p->msisdn_prefix) ||
	    strlen(p->msisdn_prefix) > 7)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->index = index;
	out->kvn = p->kvn;

	/* EID (SGP.29 §2.2): 89 (telecom) 049 (country) 032 (issuer) 01 (version) ‖ 10 digits of the seed ‖
	 * 10 digits of the index ‖ 2 check digits (ISO/IEC 7064 MOD 97-10, computed by eid.c) */
	snprintf(digits, sizeof(digits), "8904903201%010" PRIu64 "%010" PRIu32,
		 (uint64_t)(p->key_seed % 10000000000ULL), index);
	rc = gp_eid_compute(digits, out->eid);
	if (rc < 0)
		return rc;
	rc = gp_eid_to_bytes(out->eid, out->eid_bin);
	if (rc < 0)
		return rc;

	/* ISD-R SCP80 key set: AES-128 for ciphering (KIc = KVN ‖ 2, AES-CBC) and checksum (KID = KVN ‖ 2,
	 * AES-CMAC), SGP02.md §7.1 */
	out->isdr_ks.kic = (p->kvn << 4) | 0x02;
	out->isdr_ks.kid = (p->kvn << 4) | 0x02;
	if ((rc = derive("kic", p->key_seed, index, h)) < 0)
		return rc;
	memcpy(out->isdr_ks.kic_key, h, 16);
	out->isdr_ks.kic_key_len = 16;
	if ((rc = derive("kid", p->key_seed, index, h)) < 0)
		return rc;
	memcpy(out->isdr_ks.kid_key, h, 16);
	out->isdr_ks.kid_key_len = 16;
	if ((rc = derive("sin", p->key_seed, index, h)) < 0)
		return rc;
	memcpy(out->sin, h, sizeof(out->sin));
	OPENSSL_cleanse(h, sizeof(h));

	out->total_mem = p->total_mem;
	for (k = 0; k < 2; k++) {
		struct fleet_perso_profile *pp = &out->prof[k];
		char iccid[32];

		/* ICCID: 89 49 ‖ kind ‖ 6 digits of the seed ‖ 7 digits of the index ‖ Luhn = 19 digits */
		snprintf(iccid, sizeof(iccid), "8949%d%06" PRIu64 "%07" PRIu32, k, p->key_seed % 1000000, index);
		iccid[18] = luhn_digit(iccid);
		iccid[19] = '\0';
		memcpy(pp->iccid, iccid, sizeof(pp->iccid));
		snprintf(pp->msisdn, sizeof(pp->msisdn), "%s%d%07" PRIu32, p->msisdn_prefix, k, index);
		pp->tar = ISDP_TAR_MIN + k;
		gp_isdp_aid(pp->tar, pp->aid);
		pp->mem = k == 0 ? p->boot_mem : p->op_mem;
		pp->enabled = k == 0;
		pp->fallback = k == 0;
		pp->pol1 = k == 0 ? 0 : p->op_pol1;
		pp->mno_id = k == 0 ? p->mno_boot_id : p->mno_op_id;
	}
	if (out->prof[0].mem + out->prof[1].mem > out->total_mem)
		return -EINVAL;
	return 0;
}

/* ------------------------------------------------------------------------------------------------------------
 * EIS export
 */

static void hex_upper(char *out, const uint8_t *in, size_t len)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

/* GP key check value of an AES key: the first 3 bytes of AES-ECB(key, 16 x 01) (GP Card Spec Amd D §4.1) */
static int aes_kcv(const uint8_t *key, size_t key_len, uint8_t kcv[3])
{
	static const uint8_t ones[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t out[32];
	int outl = 0, rc = -EIO;

	if (!c)
		return -ENOMEM;
	if (key_len == 16 && EVP_EncryptInit_ex2(c, EVP_aes_128_ecb(), key, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_set_padding(c, 0) == 1 && EVP_EncryptUpdate(c, out, &outl, ones, 16) == 1 && outl == 16) {
		memcpy(kcv, out, 3);
		rc = 0;
	}
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(out, sizeof(out));
	return rc;
}

static char *append_key(char *s, unsigned int index, const uint8_t *key, size_t key_len)
{
	char kh[2 * OTA_SCP80_MAX_KEY_LEN + 1], kcvh[7];
	uint8_t kcv[3];

	if (!s || aes_kcv(key, key_len, kcv) < 0)
		return NULL;
	hex_upper(kh, key, key_len);
	hex_upper(kcvh, kcv, 3);
	s = talloc_asprintf_append(s, "      <Key kcv=\"%s\"><Index>%u</Index>"
				   "<KeyComponents type=\"88\" value=\"%s\"/></Key>\n", kcvh, index, kh);
	OPENSSL_cleanse(kh, sizeof(kh));
	return s;
}

char *fleet_euicc_eis_xml(void *ctx, const struct fleet_eum_params *p, const struct fleet_euicc_perso *perso,
			  const char *device_msisdn)
{
	char aid[33], aid2[33], sin[33];
	uint32_t used = 0;
	char *s;
	int k;

	if (!p || !perso)
		return NULL;
	for (k = 0; k < 2; k++)
		used += perso->prof[k].mem;
	hex_upper(sin, perso->sin, 16);
	hex_upper(aid, gp_aid_isdp_elf, 16);
	hex_upper(aid2, gp_aid_isdp_module, 16);
	s = talloc_asprintf(ctx,
		"<Eis xmlns=\"http://namespaces.gsma.org/esim-messaging/3\">\n"
		"  <EumSignedInfo>\n"
		"    <Eid>%s</Eid>\n"
		"    <Eum-id>%s</Eum-id>\n"
		"    <ProductionDate>%s</ProductionDate>\n"
		"    <PlatformType>sgp02-fleet simulated eUICC</PlatformType>\n"
		"    <PlatformVersion>1.0.0</PlatformVersion>\n"
		"    <Isd-p-loadfile-aid>%s</Isd-p-loadfile-aid>\n"
		"    <Isd-p-module-aid>%s</Isd-p-module-aid>\n",
		perso->eid, p->eum_id, p->production_date, aid, aid2);
	hex_upper(aid, gp_aid_ecasd, 16);
	if (s)
		s = talloc_asprintf_append(s,
			"    <Ecasd>\n"
			"      <Aid>%s</Aid>\n"
			"      <Tar>000002</Tar>\n"
			"      <Sin>%s</Sin>\n"
			"      <Sdin>%s</Sdin>\n"
			"      <Role>ECASD</Role>\n"
			"      <Keyset><Version>115</Version></Keyset>\n"
			"    </Ecasd>\n"
			"    <EuiccCapabilities>\n"
			"      <CattpSupport>false</CattpSupport>\n"
			"      <HttpSupport>false</HttpSupport>\n"
			"      <SecurePacketVersion>9.2.0</SecurePacketVersion>\n"
			"      <RemoteProvisioningVersion>3.2.0</RemoteProvisioningVersion>\n"
			"    </EuiccCapabilities>\n"
			"  </EumSignedInfo>\n"
			"  <RemainingMemory>%u</RemainingMemory>\n"
			"  <AvailableMemoryForProfiles>%u</AvailableMemoryForProfiles>\n"
			"  <Smsr-id>%s</Smsr-id>\n",
			aid, sin, sin, perso->total_mem - used, perso->total_mem, p->smsr_id);
	for (k = 0; k < 2 && s; k++) {
		const struct fleet_perso_profile *pp = &perso->prof[k];

		hex_upper(aid, pp->aid, 16);
		s = talloc_asprintf_append(s,
			"  <ProfileInfo>\n"
			"    <Iccid>%s</Iccid>\n"
			"    <Isd-p-aid>%s</Isd-p-aid>\n"
			"    <Mno-id>%s</Mno-id>\n"
			"    <FallbackAttribute>%s</FallbackAttribute>\n"
			"    <SubscriptionAddress><Msisdn>%s</Msisdn></SubscriptionAddress>\n"
			"    <State>%s</State>\n"
			"    <ProfileType>%s</ProfileType>\n"
			"    <AllocatedMemory>%u</AllocatedMemory>\n"
			"    <pol2/>\n"
			"  </ProfileInfo>\n",
			pp->iccid, aid, pp->mno_id, pp->fallback ? "true" : "false", pp->msisdn,
			pp->enabled ? "Enabled" : "Disabled", k == 0 ? "bootstrap" : "operational", pp->mem);
	}
	hex_upper(aid, gp_aid_isd_r, 16);
	if (s)
		s = talloc_asprintf_append(s,
			"  <Isd-r>\n"
			"    <Aid>%s</Aid>\n"
			"    <Tar>000001</Tar>\n"
			"    <Sin>%s</Sin>\n"
			"    <Sdin>%s</Sdin>\n"
			"    <Role>ISD-R</Role>\n"
			"    <Keyset>\n"
			"      <Version>%u</Version>\n"
			"      <Type>SCP80</Type>\n"
			"      <Cntr>0</Cntr>\n",
			aid, sin, sin, perso->kvn);
	s = append_key(s, 1, perso->isdr_ks.kic_key, perso->isdr_ks.kic_key_len);
	s = append_key(s, 2, perso->isdr_ks.kid_key, perso->isdr_ks.kid_key_len);
	if (s)
		s = talloc_asprintf_append(s,
			"    </Keyset>\n"
			"  </Isd-r>\n"
			"  <AdditionalProperties>\n"
			"    <Property key=\"device-msisdn\" value=\"%s\"/>\n"
			"    <Property key=\"fleet-index\" value=\"%" PRIu32 "\"/>\n"
			"  </AdditionalProperties>\n"
			"</Eis>\n",
			device_msisdn ? device_msisdn : perso->prof[0].msisdn, perso->index);
	return s;
}

/* ------------------------------------------------------------------------------------------------------------
 * card life
 */

struct fleet_euicc *fleet_euicc_alloc(void *ctx, const struct fleet_euicc_perso *perso,
				      const struct fleet_euicc_cfg *cfg)
{
	struct fleet_euicc *e;
	int k;

	if (!perso)
		return NULL;
	e = talloc_zero(ctx, struct fleet_euicc);
	if (!e)
		return NULL;
	if (cfg)
		e->cfg = *cfg;
	if (!e->cfg.notif_retry_ms)
		e->cfg.notif_retry_ms = 30000;
	if (!e->cfg.notif_max_tries)
		e->cfg.notif_max_tries = 10;
	if (!e->cfg.default_isdp_mem)
		e->cfg.default_isdp_mem = 32768;
	if (!e->cfg.reasm_timeout_ms)
		e->cfg.reasm_timeout_ms = 60000;
	memcpy(e->eid, perso->eid, sizeof(e->eid));
	memcpy(e->eid_bin, perso->eid_bin, sizeof(e->eid_bin));
	e->ks = perso->isdr_ks;
	e->total_mem = perso->total_mem;
	for (k = 0; k < 2; k++) {
		const struct fleet_perso_profile *pp = &perso->prof[k];

		e->prof[k].used = true;
		memcpy(e->prof[k].aid, pp->aid, 16);
		e->prof[k].lcs = pp->enabled ? GP_LCS_ENABLED : GP_LCS_DISABLED;
		e->prof[k].fallback = pp->fallback;
		e->prof[k].pol1 = pp->pol1;
		e->prof[k].mem = pp->mem;
	}
	e->notif.slot = e->notif.prev = -1;
	return e;
}

const char *fleet_euicc_eid(const struct fleet_euicc *e)
{
	return e->eid;
}

uint64_t fleet_euicc_cntr(const struct fleet_euicc *e)
{
	return e->cntr;
}

const struct fleet_euicc_stats *fleet_euicc_stats(const struct fleet_euicc *e)
{
	return &e->stats;
}

const struct fleet_euicc_profile *fleet_euicc_profile(const struct fleet_euicc *e, unsigned int i)
{
	return i < FLEET_EUICC_MAX_PROFILES ? &e->prof[i] : NULL;
}

static int slot_by_aid(const struct fleet_euicc *e, const uint8_t *aid, size_t aid_len)
{
	int i;

	if (aid_len != 16)
		return -1;
	for (i = 0; i < FLEET_EUICC_MAX_PROFILES; i++)
		if (e->prof[i].used && !memcmp(e->prof[i].aid, aid, 16))
			return i;
	return -1;
}

static int enabled_slot(const struct fleet_euicc *e)
{
	int i;

	for (i = 0; i < FLEET_EUICC_MAX_PROFILES; i++)
		if (e->prof[i].used && e->prof[i].lcs == GP_LCS_ENABLED)
			return i;
	return -1;
}

static int fallback_slot(const struct fleet_euicc *e)
{
	int i;

	for (i = 0; i < FLEET_EUICC_MAX_PROFILES; i++)
		if (e->prof[i].used && e->prof[i].fallback)
			return i;
	return -1;
}

const struct fleet_euicc_profile *fleet_euicc_profile_by_aid(const struct fleet_euicc *e, const uint8_t aid[16])
{
	int i = slot_by_aid(e, aid, 16);

	return i < 0 ? NULL : &e->prof[i];
}

const struct fleet_euicc_profile *fleet_euicc_enabled(const struct fleet_euicc *e)
{
	int i = enabled_slot(e);

	return i < 0 ? NULL : &e->prof[i];
}

int fleet_euicc_set_pol1(struct fleet_euicc *e, const uint8_t aid[16], uint8_t pol1)
{
	int i = slot_by_aid(e, aid, 16);

	if (i < 0)
		return -ENOENT;
	e->prof[i].pol1 = pol1;
	return 0;
}

uint32_t fleet_euicc_free_mem(const struct fleet_euicc *e)
{
	uint32_t used = 0;
	int i;

	for (i = 0; i < FLEET_EUICC_MAX_PROFILES; i++)
		if (e->prof[i].used)
			used += e->prof[i].mem;
	return used >= e->total_mem ? 0 : e->total_mem - used;
}

bool fleet_euicc_notif_pending(const struct fleet_euicc *e, uint16_t *seq)
{
	if (e->notif.pending && seq)
		*seq = e->notif.seq;
	return e->notif.pending;
}

bool fleet_euicc_next_timeout(const struct fleet_euicc *e, uint64_t *at_ms)
{
	if (!e->notif.pending)
		return false;
	if (at_ms)
		*at_ms = e->notif.due_ms;
	return true;
}

/* ------------------------------------------------------------------------------------------------------------
 * MO output
 */

/* Append the SMS parts of one secured packet (CPL.. or RPL.., without UDH) to the output. */
static void out_packet(struct fleet_euicc *e, struct mo_out *o, enum fleet_mo_kind kind, uint8_t iei,
		       const uint8_t *pkt, size_t len)
{
	struct ota_sms_ud *parts = NULL;
	struct fleet_mo *mo;
	int n, i;

	if (o->err)
		return;
	n = ota_sms_split(o->ctx, iei, pkt, len, e->mo_ref, false, &parts);
	if (n < 0) {
		o->err = n;
		return;
	}
	if (n > 1)
		e->mo_ref++;
	mo = talloc_realloc(o->ctx, o->mo, struct fleet_mo, o->num + n);
	if (!mo) {
		talloc_free(parts);
		o->err = -ENOMEM;
		return;
	}
	o->mo = mo;
	for (i = 0; i < n; i++) {
		o->mo[o->num].kind = kind;
		o->mo[o->num].ud = parts[i];
		o->num++;
	}
	talloc_free(parts);
}

/* Build and queue a PoR (response packet) for the command \a cmd. */
static void out_por(struct fleet_euicc *e, struct mo_out *o, const struct ota_scp80_cmd *cmd, uint8_t status,
		    const uint8_t *data, size_t data_len)
{
	struct ota_scp80_spi spi;
	uint8_t *buf;
	size_t size = data_len + OTA_SCP80_POR_OVERHEAD;
	int len;

	ota_scp80_spi_decode(cmd->spi, &spi);
	/* TS 102 225 §5.1.1: the PoR goes by SMS-SUBMIT only when SPI2 b6 says so; a PoR in the SMS-DELIVER-REPORT
	 * cannot reach the SM-SR through an SMSC, so the simulated device has nothing to send then */
	if (!spi.por_in_submit || o->err)
		return;
	buf = talloc_size(o->ctx, size);
	if (!buf) {
		o->err = -ENOMEM;
		return;
	}
	len = ota_scp80_por_build(&e->ks, cmd->spi, cmd->tar, cmd->cntr, status, data, data_len, buf, size);
	if (len < 3) {
		o->err = len < 0 ? len : -EBADMSG;
	} else {
		/* por_build wrote UDH 02 71 00 + RPL..; split re-adds the same UDH (or the concatenated form) */
		out_packet(e, o, FLEET_MO_POR, OTA_SMS_IEI_RPI, buf + 3, len - 3);
		e->stats.por_tx++;
	}
	talloc_free(buf);
}

/* Send (or re-send) the pending notification: an E1 TLV (SGP02.md §8.9) in a command packet under the ISD-R
 * keys with CNTR 0 and SPI "no counter available", ciphered with a CC, no PoR (SGP02.md §7.1, §10.7). */
static void out_notif(struct fleet_euicc *e, struct mo_out *o)
{
	static const uint8_t spi[2] = { 0x06, 0x00 };	/* SPI1: no counter, ciphered, CC; SPI2: no PoR */
	static const uint8_t tar[3] = { 0x00, 0x00, 0x01 };
	static const uint8_t cntr[5] = { 0 };
	uint8_t e1[64], pkt[64 + OTA_SCP80_CMD_OVERHEAD];
	size_t n = 0;
	int len;

	e1[n++] = 0xE1;
	n++;	/* length, below */
	e1[n++] = 0x4C;
	e1[n++] = 16;
	memcpy(e1 + n, e->eid_bin, 16);
	n += 16;
	e1[n++] = 0x4D;
	e1[n++] = 1;
	e1[n++] = e->notif.type;
	if (e->notif.slot >= 0) {
		e1[n++] = 0x2F;
		e1[n++] = 16;
		memcpy(e1 + n, e->prof[e->notif.slot].aid, 16);
		n += 16;
	}
	e1[n++] = 0x4E;
	e1[n++] = 2;
	e1[n++] = e->notif.seq >> 8;
	e1[n++] = e->notif.seq & 0xff;
	e1[1] = n - 2;
	len = ota_scp80_cmd_build(&e->ks, spi, tar, cntr, e1, n, pkt, sizeof(pkt));
	if (len < 0) {
		o->err = len;
		return;
	}
	out_packet(e, o, FLEET_MO_NOTIF, OTA_SMS_IEI_CPI, pkt, len);
	e->stats.notif_tx++;
}

/* A profile switch happened: queue notification \a type naming \a slot (the now-enabled profile). */
static void notif_queue(struct fleet_euicc *e, uint8_t type, int slot, int prev, uint64_t now_ms)
{
	e->seq++;
	if (e->seq == 0)
		e->seq = 1;
	e->notif.pending = true;
	e->notif.type = type;
	e->notif.seq = e->seq;
	e->notif.slot = slot;
	e->notif.prev = prev;
	e->notif.tries = 0;
	e->notif.due_ms = now_ms + e->cfg.refresh_ms;
}

static void do_tick(struct fleet_euicc *e, uint64_t now_ms, struct mo_out *o)
{
	struct euicc_notif *n = &e->notif;

	if (!n->pending || now_ms < n->due_ms)
		return;
	if (n->tries < e->cfg.notif_max_tries) {
		out_notif(e, o);
		n->tries++;
		n->due_ms = now_ms + e->cfg.notif_retry_ms;
		return;
	}
	/* SGP02.md §7.1/§10.3 connectivity failure: no confirmation after all retries. A switch (type 02) is rolled
	 * back to the profile enabled before, which is reported with type 03; other types are given up. */
	e->stats.notif_given_up++;
	n->pending = false;
	if (n->type == GP_NOTIF_PROFILE_CHANGE_OK && n->prev >= 0 && n->slot >= 0 && e->prof[n->prev].used &&
	    e->prof[n->prev].lcs == GP_LCS_DISABLED && e->prof[n->slot].lcs == GP_LCS_ENABLED) {
		int back = n->prev;

		e->prof[n->slot].lcs = GP_LCS_DISABLED;
		e->prof[back].lcs = GP_LCS_ENABLED;
		e->stats.rollbacks++;
		notif_queue(e, GP_NOTIF_PROFILE_CHANGE_ROLLBACK, back, -1, now_ms);
		do_tick(e, now_ms, o);
	}
}

/* ------------------------------------------------------------------------------------------------------------
 * ES5 commands on the ISD-R
 */

struct rapdu {
	uint8_t data[RAPDU_DATA_MAX];
	size_t len;
	uint16_t sw;
};

struct capdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc;
	bool has_le;
};

/* Split a short C-APDU (the script parser already checked its structure). \returns 0 or SW_WRONG_LENGTH. */
static uint16_t capdu_parse(const uint8_t *a, size_t len, struct capdu *c)
{
	memset(c, 0, sizeof(*c));
	if (len < 4)
		return SW_WRONG_LENGTH;
	c->cla = a[0];
	c->ins = a[1];
	c->p1 = a[2];
	c->p2 = a[3];
	if (len == 4)
		return 0;
	if (len == 5) {
		c->has_le = true;
		return 0;
	}
	/* extended length (00 Lc1 Lc2) is not used by ES5 over SMS */
	if (a[4] == 0)
		return SW_WRONG_LENGTH;
	c->lc = a[4];
	if (len != 5 + c->lc && len != 6 + c->lc)
		return SW_WRONG_LENGTH;
	c->data = a + 5;
	c->has_le = len == 6 + c->lc;
	return 0;
}

/* "4F 10 <AID>" as the whole value (DGI 3A03/3A04/3A05; some SM-SRs append a 00 Le byte, WH for 3A05).
 * \returns the slot, -1 with *sw set. */
static int value_aid_slot(struct fleet_euicc *e, const uint8_t *val, size_t len, uint16_t *sw)
{
	struct gp_tlv t;
	int rc, slot;

	rc = gp_tlv_parse(val, len, &t);
	if (rc < 0 || t.tag != 0x4F || t.len != 16 || (t.total != len && !(t.total + 1 == len && val[len - 1] == 0))) {
		*sw = SW_WRONG_DATA;
		return -1;
	}
	slot = slot_by_aid(e, t.val, t.len);
	if (slot < 0)
		*sw = SW_NOT_FOUND;
	return slot;
}

/* ES5.EnableProfile, STORE DATA DGI 3A03 (SGP02.md §8.2, §10.3) */
static uint16_t cmd_enable(struct fleet_euicc *e, const uint8_t *val, size_t len, uint64_t now_ms)
{
	uint16_t sw = SW_OK;
	int t = value_aid_slot(e, val, len, &sw), cur;

	if (t < 0)
		return sw;
	if (e->prof[t].lcs != GP_LCS_DISABLED)
		return SW_COND_NOT_SATISFIED;
	cur = enabled_slot(e);
	/* the POL1 of the currently enabled profile decides (SGP02.md §8.2) */
	if (cur >= 0 && (e->prof[cur].pol1 & FLEET_POL1_DISABLE_NOT_ALLOWED))
		return SW_POL1;
	if (cur >= 0)
		e->prof[cur].lcs = GP_LCS_DISABLED;
	e->prof[t].lcs = GP_LCS_ENABLED;
	/* the switch completes with a REFRESH after the PoR; the new profile then notifies (type 02) */
	notif_queue(e, GP_NOTIF_PROFILE_CHANGE_OK, t, cur, now_ms);
	return SW_OK;
}

/* ES5.DisableProfile, STORE DATA DGI 3A04 (SGP02.md §8.3, §10.4): the fall-back profile gets enabled */
static uint16_t cmd_disable(struct fleet_euicc *e, const uint8_t *val, size_t len, uint64_t now_ms)
{
	uint16_t sw = SW_OK;
	int t = value_aid_slot(e, val, len, &sw), fb;

	if (t < 0)
		return sw;
	if (e->prof[t].lcs != GP_LCS_ENABLED || e->prof[t].fallback)
		return SW_COND_NOT_SATISFIED;
	if (e->prof[t].pol1 & FLEET_POL1_DISABLE_NOT_ALLOWED)
		return SW_POL1;
	fb = fallback_slot(e);
	if (fb < 0 || fb == t || e->prof[fb].lcs != GP_LCS_DISABLED)
		return SW_COND_NOT_SATISFIED;
	e->prof[t].lcs = GP_LCS_DISABLED;
	e->prof[fb].lcs = GP_LCS_ENABLED;
	notif_queue(e, GP_NOTIF_PROFILE_CHANGE_OK, fb, t, now_ms);
	return SW_OK;
}

/* ES5.SetFallBackAttribute, STORE DATA DGI 3A05 (SGP02.md §8.5, §10.8) */
static uint16_t cmd_fallback(struct fleet_euicc *e, const uint8_t *val, size_t len)
{
	uint16_t sw = SW_OK;
	int t = value_aid_slot(e, val, len, &sw), cur, i;

	if (t < 0)
		return sw;
	if (e->prof[t].lcs != GP_LCS_DISABLED && e->prof[t].lcs != GP_LCS_ENABLED)
		return SW_COND_NOT_SATISFIED;
	/* ART-08: with "disable not allowed" on the enabled profile, fall-back may only return to it */
	cur = enabled_slot(e);
	if (cur >= 0 && cur != t && (e->prof[cur].pol1 & FLEET_POL1_DISABLE_NOT_ALLOWED))
		return SW_POL1;
	for (i = 0; i < FLEET_EUICC_MAX_PROFILES; i++)
		e->prof[i].fallback = false;
	e->prof[t].fallback = true;
	return SW_OK;
}

/* ES5.NotificationConfirmation, STORE DATA DGI 3A08 { 4E 02 seq } (SGP02.md §8.9). The response lists the
 * ISD-Ps deleted as a follow-up: 80 L { 4F 10 AID } for a previous profile whose POL1 asks for deletion when
 * disabled (not for the fall-back holder, not after a roll-back or fall-back). */
static uint16_t cmd_notif_confirm(struct fleet_euicc *e, const uint8_t *val, size_t len, struct rapdu *r)
{
	struct euicc_notif *n = &e->notif;
	struct gp_tlv t;
	uint16_t seq;
	int rc;

	rc = gp_tlv_parse(val, len, &t);
	if (rc < 0 || t.tag != 0x4E || t.len != 2 || t.total != len)
		return SW_WRONG_DATA;
	seq = (t.val[0] << 8) | t.val[1];
	if (n->pending && seq == n->seq) {
		int prev = n->prev;

		n->pending = false;
		e->stats.notif_confirmed++;
		e->last_confirmed = seq;
		e->any_confirmed = true;
		if (n->type == GP_NOTIF_PROFILE_CHANGE_OK && prev >= 0 && e->prof[prev].used &&
		    e->prof[prev].lcs == GP_LCS_DISABLED && !e->prof[prev].fallback &&
		    (e->prof[prev].pol1 & FLEET_POL1_DELETE_ON_DISABLE)) {
			r->data[0] = 0x80;
			r->data[1] = 18;
			r->data[2] = 0x4F;
			r->data[3] = 16;
			memcpy(r->data + 4, e->prof[prev].aid, 16);
			r->len = 20;
			memset(&e->prof[prev], 0, sizeof(e->prof[prev]));
		}
		return SW_OK;
	}
	/* a repeated confirmation of what was already confirmed (its PoR may have been lost): accept, do nothing */
	if (e->any_confirmed && (uint16_t)(e->seq - seq) < 0x8000)
		return SW_OK;
	return SW_NOT_FOUND;
}

static uint16_t cmd_store_data(struct fleet_euicc *e, const struct capdu *c, struct rapdu *r, uint64_t now_ms)
{
	uint16_t dgi;
	size_t l, hl;

	/* GP Card Spec §11.11.2: P1 b5-b4 = 01 DGI format; one block (b8 last block) carries one whole DGI */
	if ((c->p1 & 0x18) != GP_STORE_DGI || !(c->p1 & GP_STORE_LAST) || c->p2 != 0)
		return SW_WRONG_P1P2;
	if (c->lc < 3)
		return SW_WRONG_DATA;
	dgi = (c->data[0] << 8) | c->data[1];
	/* DGI length: 1 byte for 0..254, FF + 2 bytes from 255 (GP Card Spec) */
	if (c->data[2] == 0xFF) {
		if (c->lc < 5)
			return SW_WRONG_DATA;
		l = (c->data[3] << 8) | c->data[4];
		hl = 5;
	} else {
		l = c->data[2];
		hl = 3;
	}
	if (hl + l != c->lc)
		return SW_WRONG_DATA;
	switch (dgi) {
	case DGI_ENABLE:
		return cmd_enable(e, c->data + hl, l, now_ms);
	case DGI_DISABLE:
		return cmd_disable(e, c->data + hl, l, now_ms);
	case DGI_FALLBACK:
		return cmd_fallback(e, c->data + hl, l);
	case DGI_ADDR_PARAMS:
		/* ES5.UpdateSMSRAddressingParameters (SGP02.md §8.6): kept, not interpreted */
		if (l > sizeof(e->addr_params) || gp_tlv_validate(c->data + hl, l, false, 4) < 0)
			return SW_WRONG_DATA;
		memcpy(e->addr_params, c->data + hl, l);
		e->addr_params_len = l;
		return SW_OK;
	case DGI_NOTIF_CONFIRM:
		return cmd_notif_confirm(e, c->data + hl, l, r);
	default:
		return SW_NOT_FOUND;
	}
}

/* ES5.CreateISDP, INSTALL [for install and make selectable] (SGP02.md §8.1) */
static uint16_t cmd_install(struct fleet_euicc *e, const struct capdu *c, struct rapdu *r)
{
	const uint8_t *f[6];
	size_t fl[6], off = 0;
	uint32_t tar, need;
	int i, free_slot = -1;

	if (c->p1 != 0x0C || c->p2 != 0)
		return SW_WRONG_P1P2;
	/* ELF AID, module AID, instance AID, privileges, install parameters, token: each one length byte */
	for (i = 0; i < 6; i++) {
		if (off >= c->lc || off + 1 + c->data[off] > c->lc)
			return SW_WRONG_DATA;
		fl[i] = c->data[off];
		f[i] = c->data + off + 1;
		off += 1 + fl[i];
	}
	if (off != c->lc)
		return SW_WRONG_DATA;
	if (fl[0] != 16 || memcmp(f[0], gp_aid_isdp_elf, 16) || fl[1] != 16 || memcmp(f[1], gp_aid_isdp_module, 16))
		return SW_NOT_FOUND;
	/* instance AID A0000005591010FFFFFFFF89 ‖ TAR ‖ 00 with an ISD-P TAR (SGP02.md §2.1) */
	if (fl[2] != 16 || memcmp(f[2], gp_aid_isd_r, 12) || f[2][15] != 0x00 || gp_aid_tar(f[2], 16, &tar) < 0 ||
	    tar < ISDP_TAR_MIN || tar > ISDP_TAR_MAX)
		return SW_WRONG_DATA;
	if (fl[3] != 3)
		return SW_WRONG_DATA;
	if (slot_by_aid(e, f[2], 16) >= 0)
		return SW_COND_NOT_SATISFIED;
	/* memory: the EF system parameters' C8 quota (GP) or 83 (seen in NJ), else our default */
	need = e->cfg.default_isdp_mem;
	{
		struct gp_tlv ef, q;

		if (fl[4] && gp_tlv_validate(f[4], fl[4], false, 4) < 0)
			return SW_WRONG_DATA;
		if (fl[4] && gp_tlv_find(f[4], fl[4], 0xEF, &ef) == 0 &&
		    (gp_tlv_find(ef.val, ef.len, 0xC8, &q) == 0 || gp_tlv_find(ef.val, ef.len, 0x83, &q) == 0)) {
			if (q.len < 1 || q.len > 4)
				return SW_WRONG_DATA;
			need = 0;
			for (i = 0; i < (int)q.len; i++)
				need = (need << 8) | q.val[i];
		}
	}
	for (i = 0; i < FLEET_EUICC_MAX_PROFILES; i++)
		if (!e->prof[i].used) {
			free_slot = i;
			break;
		}
	if (free_slot < 0 || need > fleet_euicc_free_mem(e))
		return SW_NOT_ENOUGH_MEMORY;
	e->prof[free_slot].used = true;
	memcpy(e->prof[free_slot].aid, f[2], 16);
	e->prof[free_slot].lcs = GP_LCS_SELECTABLE;
	e->prof[free_slot].fallback = false;
	e->prof[free_slot].pol1 = 0;
	e->prof[free_slot].mem = need;
	/* GP Card Spec §11.5.3: no receipt requested -> a single 00 byte */
	r->data[0] = 0x00;
	r->len = 1;
	return SW_OK;
}

/* ES5.DeleteProfile, DELETE 4F AID (SGP02.md §8.4) */
static uint16_t cmd_delete(struct fleet_euicc *e, const struct capdu *c)
{
	struct gp_tlv t, aid = { 0 };
	size_t off = 0;
	bool have_aid = false, token = false;
	int rc, s;

	if (c->p1 != 0x00 || !c->lc)
		return SW_WRONG_P1P2;
	while ((rc = gp_tlv_next(c->data, c->lc, &off, &t)) > 0) {
		if (t.tag == 0x4F && !have_aid) {
			aid = t;
			have_aid = true;
		} else if (t.tag == 0xB6 || t.tag == 0x9E) {
			token = true;
		} else {
			return SW_WRONG_DATA;
		}
	}
	if (rc < 0 || !have_aid)
		return SW_WRONG_DATA;
	/* ES5.MasterDelete needs the token key of the ISD-P, which the fleet does not simulate */
	if (token)
		return SW_WRONG_DATA;
	if (aid.len == 16 && (!memcmp(aid.val, gp_aid_isd_r, 16) || !memcmp(aid.val, gp_aid_ecasd, 16)))
		return SW_COND_NOT_SATISFIED;
	s = slot_by_aid(e, aid.val, aid.len);
	if (s < 0)
		return SW_NOT_FOUND;
	if (e->prof[s].lcs == GP_LCS_ENABLED || e->prof[s].fallback)
		return SW_COND_NOT_SATISFIED;
	if (e->prof[s].pol1 & FLEET_POL1_DELETE_NOT_ALLOWED)
		return SW_POL1;
	memset(&e->prof[s], 0, sizeof(e->prof[s]));
	if (e->notif.prev == s)
		e->notif.prev = -1;
	return SW_OK;
}

/* One E3 entry of a GET STATUS answer (SGP02.md §8.8). \returns its length or 0 if it does not fit. */
static size_t status_entry(const struct fleet_euicc_profile *p, uint8_t *out, size_t room)
{
	size_t n = 0;

	if (room < 35)
		return 0;
	out[n++] = 0xE3;
	out[n++] = 0;
	out[n++] = 0x4F;
	out[n++] = 16;
	memcpy(out + n, p->aid, 16);
	n += 16;
	out[n++] = 0x9F;
	out[n++] = 0x70;
	out[n++] = 1;
	out[n++] = p->lcs;
	out[n++] = 0x53;	/* profile properties, b1 = Fall-back Attribute */
	out[n++] = 1;
	out[n++] = p->fallback ? 0x01 : 0x00;
	out[n++] = 0x8F;	/* granted non-volatile memory */
	out[n++] = 4;
	out[n++] = p->mem >> 24;
	out[n++] = p->mem >> 16;
	out[n++] = p->mem >> 8;
	out[n++] = p->mem;
	out[1] = n - 2;
	return n;
}

/* GET STATUS 80 F2 40 02|03 4F L [AID] [5C tags] (SGP02.md §8.8) */
static uint16_t cmd_get_status(struct fleet_euicc *e, const struct capdu *c, struct rapdu *r)
{
	struct gp_tlv t, aid = { 0 };
	size_t off = 0;
	bool have_aid = false;
	unsigned int i;
	int rc;

	if (c->p1 != 0x40 || (c->p2 != 0x02 && c->p2 != 0x03))
		return SW_WRONG_P1P2;
	while ((rc = gp_tlv_next(c->data, c->lc, &off, &t)) > 0) {
		if (t.tag == 0x4F && !have_aid) {
			aid = t;
			have_aid = true;
		} else if (t.tag != 0x5C) {
			return SW_WRONG_DATA;
		}
	}
	if (rc < 0 || !have_aid)
		return SW_WRONG_DATA;
	if (aid.len) {
		int s = slot_by_aid(e, aid.val, aid.len);

		if (s < 0)
			return SW_NOT_FOUND;
		r->len = status_entry(&e->prof[s], r->data, sizeof(r->data));
		return SW_OK;
	}
	if (c->p2 == 0x02)
		e->status_next = 0;
	for (i = e->status_next; i < FLEET_EUICC_MAX_PROFILES; i++) {
		size_t n;

		if (!e->prof[i].used)
			continue;
		n = status_entry(&e->prof[i], r->data + r->len, sizeof(r->data) - r->len);
		if (!n) {
			e->status_next = i;
			return SW_MORE_DATA;
		}
		r->len += n;
	}
	e->status_next = FLEET_EUICC_MAX_PROFILES;
	return r->len ? SW_OK : SW_NOT_FOUND;
}

/* FF21 Extended Card Resources Information (TS 102 226 §8.2.1.7.2) */
static size_t card_resources(const struct fleet_euicc *e, uint8_t *out)
{
	uint32_t fm = fleet_euicc_free_mem(e);
	size_t n = 0;
	int i, apps = 0;

	for (i = 0; i < FLEET_EUICC_MAX_PROFILES; i++)
		apps += e->prof[i].used;
	out[n++] = 0xFF;
	out[n++] = 0x21;
	out[n++] = 0;
	out[n++] = 0x81;
	out[n++] = 1;
	out[n++] = apps;
	out[n++] = 0x82;
	out[n++] = 4;
	out[n++] = fm >> 24;
	out[n++] = fm >> 16;
	out[n++] = fm >> 8;
	out[n++] = fm;
	out[n++] = 0x83;
	out[n++] = 2;
	out[n++] = 0x10;	/* 4 KiB of RAM, a plausible constant */
	out[n++] = 0x00;
	out[2] = n - 3;
	return n;
}

/* GET DATA (SGP02.md §8.8): 005A EID, FF21 card resources, BF30 { FF21 } for the capability audit */
static uint16_t cmd_get_data(struct fleet_euicc *e, const struct capdu *c, struct rapdu *r)
{
	uint16_t tag = (c->p1 << 8) | c->p2;

	if (c->lc && gp_tlv_validate(c->data, c->lc, false, 2) < 0)
		return SW_WRONG_DATA;
	switch (tag) {
	case 0x005A:
		r->data[0] = 0x5A;
		r->data[1] = 16;
		memcpy(r->data + 2, e->eid_bin, 16);
		r->len = 18;
		return SW_OK;
	case 0xFF21:
		r->len = card_resources(e, r->data);
		return SW_OK;
	case 0xBF30:
		r->data[0] = 0xBF;
		r->data[1] = 0x30;
		r->len = 3 + card_resources(e, r->data + 3);
		r->data[2] = r->len - 3;
		return SW_OK;
	default:
		return SW_NOT_FOUND;
	}
}

static void exec_apdu(struct fleet_euicc *e, const uint8_t *a, size_t len, struct rapdu *r, uint64_t now_ms)
{
	struct capdu c;

	r->len = 0;
	r->sw = capdu_parse(a, len, &c);
	if (r->sw)
		return;
	/* ES5 commands use CLA 80 (SGP02.md §8.0); logical channel bits are tolerated */
	if ((c.cla & 0xFC) != 0x80) {
		r->sw = SW_CLA_NOT_SUPPORTED;
		return;
	}
	switch (c.ins) {
	case INS_INSTALL:
		r->sw = cmd_install(e, &c, r);
		break;
	case INS_STORE_DATA:
		r->sw = cmd_store_data(e, &c, r, now_ms);
		break;
	case INS_DELETE:
		r->sw = cmd_delete(e, &c);
		break;
	case INS_GET_STATUS:
		r->sw = cmd_get_status(e, &c, r);
		break;
	case INS_GET_DATA:
		r->sw = cmd_get_data(e, &c, r);
		break;
	default:
		r->sw = SW_INS_NOT_SUPPORTED;
		break;
	}
	if (r->sw != SW_OK && r->sw != SW_MORE_DATA)
		r->len = 0;
}

/* TS 102 226 §5.2: execution stops at the first C-APDU whose status is an error; warnings (62xx, 63xx) and
 * 61xx go on. */
static bool sw_continues(uint16_t sw)
{
	uint8_t sw1 = sw >> 8;

	return sw == SW_OK || sw1 == 0x61 || sw1 == 0x62 || sw1 == 0x63;
}

/* Execute a command script; *resp (talloc'd on ctx) is the response script. \returns 0 or -errno. */
static int exec_script(struct fleet_euicc *e, void *ctx, const uint8_t *data, size_t len, uint64_t now_ms,
		       uint8_t **resp, size_t *resp_len)
{
	struct ota_rapdu_cmd_script *cs = NULL;
	struct ota_rapdu_resp_script rs = { 0 };
	struct ota_rapdu_resp_item *items;
	unsigned int i, n = 0;
	int rc;

	if (len && (data[0] == OTA_RAPDU_TAG_CMD_SCRIPT_DEF || data[0] == OTA_RAPDU_TAG_CMD_SCRIPT_INDEF))
		rc = ota_rapdu_cmd_parse(ctx, data, len, &cs);
	else
		rc = ota_rapdu_cmd_parse_compact(ctx, data, len, &cs);
	if (rc < 0) {
		/* TS 102 226 §5.2.2: answer a malformed expanded script with a bad format TLV */
		struct ota_rapdu_resp_item bad = {
			.type = OTA_RAPDU_RITEM_BAD_FORMAT,
			.code = rc == -EMSGSIZE ? OTA_RAPDU_BAD_FMT_WRONG_LENGTH : OTA_RAPDU_BAD_FMT_UNKNOWN_TAG,
		};

		if (len && data[0] != OTA_RAPDU_TAG_CMD_SCRIPT_DEF && data[0] != OTA_RAPDU_TAG_CMD_SCRIPT_INDEF)
			return -EBADMSG;
		rs.format = data[0] == OTA_RAPDU_TAG_CMD_SCRIPT_INDEF ? OTA_RAPDU_FMT_INDEFINITE
								       : OTA_RAPDU_FMT_DEFINITE;
		rs.has_num_executed = true;
		rs.num_items = 1;
		rs.items = &bad;
		return ota_rapdu_resp_build(ctx, &rs, resp, resp_len);
	}
	e->stats.scripts++;
	items = talloc_zero_array(ctx, struct ota_rapdu_resp_item, cs->num_items ? cs->num_items : 1);
	if (!items)
		return -ENOMEM;
	for (i = 0; i < cs->num_items; i++) {
		struct rapdu *r;

		if (cs->items[i].type != OTA_RAPDU_CITEM_CAPDU)
			continue;	/* immediate / error actions: nothing to do for the ISD-R */
		r = talloc_zero(items, struct rapdu);
		if (!r)
			return -ENOMEM;
		exec_apdu(e, cs->items[i].data, cs->items[i].len, r, now_ms);
		e->stats.apdus++;
		items[n].type = OTA_RAPDU_RITEM_RAPDU;
		items[n].data = r->data;
		items[n].len = r->len;
		items[n].sw = r->sw;
		n++;
		if (!sw_continues(r->sw)) {
			e->stats.apdu_errors++;
			break;
		}
	}
	rs.format = cs->format;
	rs.has_num_executed = true;
	rs.num_executed = n;
	rs.items = items;
	rs.num_items = n;
	if (cs->format == OTA_RAPDU_FMT_COMPACT) {
		/* compact response: count, SW and data of the last command only */
		if (!n)
			return -EBADMSG;
		rs.items = &items[n - 1];
		rs.num_items = 1;
	}
	return ota_rapdu_resp_build(ctx, &rs, resp, resp_len);
}

/* ------------------------------------------------------------------------------------------------------------
 * SMS in
 */

static void handle_packet(struct fleet_euicc *e, void *tmp, const uint8_t *pkt, size_t len, uint64_t now_ms,
			  struct mo_out *o)
{
	struct ota_scp80_cmd hdr, res;
	struct ota_scp80_spi spi;
	uint8_t *buf, *resp = NULL;
	size_t resp_len = 0;
	uint32_t tar;
	int rc;

	if (ota_scp80_cmd_peek(pkt, len, &hdr) < 0) {
		e->stats.discarded++;
		return;
	}
	/* SGP02.md §7.1: below the SGP.02 minimum security -> no PoR, silently discarded */
	if (!ota_scp80_spi_meets_sgp02(hdr.spi)) {
		e->stats.discarded++;
		return;
	}
	buf = talloc_size(tmp, len);
	if (!buf) {
		o->err = -ENOMEM;
		return;
	}
	/* the ISD-R key set is the only SCP80 key set on the card: ISD-P TARs are checked with it too */
	rc = ota_scp80_cmd_unwrap(&e->ks, pkt, len, &e->cntr, &res, buf, len);
	ota_scp80_spi_decode(hdr.spi, &spi);
	if (rc == -ERANGE) {
		/* authentic (the CC was checked before the counter) but replayed or out of sequence: never executed;
		 * TS 102 225 §5.1.1 lets the card tell the sender its counter is low */
		e->stats.replayed++;
		if (spi.por != OTA_SCP80_POR_NONE)
			out_por(e, o, &res, res.status, NULL, 0);
		return;
	}
	if (rc < 0) {
		/* wrong keys, CC mismatch, bad padding or structure: the SM-SR cannot be authenticated */
		e->stats.discarded++;
		return;
	}
	tar = (res.tar[0] << 16) | (res.tar[1] << 8) | res.tar[2];
	if (tar != ISDR_TAR) {
		e->stats.tar_unknown++;
		if (spi.por != OTA_SCP80_POR_NONE)
			out_por(e, o, &res, OTA_SCP80_POR_TAR_UNKNOWN, NULL, 0);
		return;
	}
	rc = exec_script(e, tmp, res.data, res.data_len, now_ms, &resp, &resp_len);
	if (rc == -ENOMEM) {
		o->err = rc;
		return;
	}
	if (rc < 0) {
		/* not even a script: TS 102 225 has no status for that, answer "unidentified security error"
		 * rather than nothing so the SM-SR sees the counter consumed */
		if (spi.por != OTA_SCP80_POR_NONE)
			out_por(e, o, &res, OTA_SCP80_POR_UNIDENTIFIED_SECURITY_ERROR, NULL, 0);
		return;
	}
	if (spi.por == OTA_SCP80_POR_REQUIRED)
		out_por(e, o, &res, OTA_SCP80_POR_OK, resp, resp_len);
}

static int finish(struct mo_out *o, struct fleet_mo **mo, unsigned int *num_mo)
{
	if (o->err) {
		talloc_free(o->mo);
		*mo = NULL;
		*num_mo = 0;
		return o->err;
	}
	*mo = o->mo;
	*num_mo = o->num;
	return 0;
}

int fleet_euicc_rx(struct fleet_euicc *e, const uint8_t *ud, size_t ud_len, uint64_t now_ms, void *out_ctx,
		   struct fleet_mo **mo, unsigned int *num_mo)
{
	struct mo_out o = { .ctx = out_ctx };
	struct ota_sms_udh *udh;
	struct ota_sms_concat cc;
	const uint8_t *msg = ud;
	size_t msg_len = ud_len;
	void *tmp;
	int rc, hl;

	if (!e || (!ud && ud_len) || !mo || !num_mo)
		return -EINVAL;
	*mo = NULL;
	*num_mo = 0;
	e->stats.mt_rx++;
	tmp = talloc_new(e);
	udh = tmp ? talloc_zero(tmp, struct ota_sms_udh) : NULL;
	if (!udh) {
		talloc_free(tmp);
		return -ENOMEM;
	}
	if (ud_len > OTA_SMS_UD_MAX || (hl = ota_sms_udh_parse(ud, ud_len, udh)) < 0) {
		e->stats.not_ota++;
		goto out;
	}
	rc = ota_sms_udh_concat(udh, &cc);
	if (rc < 0) {
		e->stats.discarded++;
		goto out;
	}
	if (rc == 1 && cc.total > 1) {
		uint8_t *full = NULL;
		size_t full_len = 0;

		if (!e->reasm) {
			struct ota_sms_reasm_cfg rcfg = {
				.max_pending = 2, .max_parts = 32, .timeout_ms = e->cfg.reasm_timeout_ms,
			};

			e->reasm = ota_sms_reasm_alloc(e, &rcfg);
			if (!e->reasm) {
				o.err = -ENOMEM;
				goto out;
			}
		}
		/* all MT parts come from the SM-SR through the SMSC: one reassembly key */
		rc = ota_sms_reasm_feed(e->reasm, "mt", ud, ud_len, now_ms, tmp, &full, &full_len);
		if (rc == 0) {
			e->stats.concat_parts++;
			goto out;
		}
		if (rc < 0) {
			if (rc == -ENOMEM)
				o.err = rc;
			else
				e->stats.discarded++;
			goto out;
		}
		msg = full;
		msg_len = full_len;
		hl = ota_sms_udh_parse(msg, msg_len, udh);
		if (hl < 0) {
			e->stats.discarded++;
			goto out;
		}
	}
	if (!ota_sms_udh_find(udh, OTA_SMS_IEI_CPI)) {
		e->stats.not_ota++;
		goto out;
	}
	handle_packet(e, tmp, msg + hl, msg_len - hl, now_ms, &o);
	do_tick(e, now_ms, &o);
out:
	talloc_free(tmp);
	return finish(&o, mo, num_mo);
}

int fleet_euicc_fallback(struct fleet_euicc *e, uint64_t now_ms, void *out_ctx, struct fleet_mo **mo,
			 unsigned int *num_mo)
{
	struct mo_out o = { .ctx = out_ctx };
	int cur, fb;

	if (!e || !mo || !num_mo)
		return -EINVAL;
	*mo = NULL;
	*num_mo = 0;
	fb = fallback_slot(e);
	if (fb < 0)
		return -ENOENT;
	cur = enabled_slot(e);
	if (cur == fb)
		return -EALREADY;
	/* ART-08: the mechanism ignores the POL1 of the profile it disables, and POL1 "delete when disabled" is not
	 * applied during fall-back (prev = -1: nothing deleted at the confirmation, nothing rolled back) */
	if (cur >= 0)
		e->prof[cur].lcs = GP_LCS_DISABLED;
	e->prof[fb].lcs = GP_LCS_ENABLED;
	notif_queue(e, GP_NOTIF_PROFILE_CHANGE_FALLBACK, fb, -1, now_ms);
	do_tick(e, now_ms, &o);
	return finish(&o, mo, num_mo);
}

int fleet_euicc_tick(struct fleet_euicc *e, uint64_t now_ms, void *out_ctx, struct fleet_mo **mo,
		     unsigned int *num_mo)
{
	struct mo_out o = { .ctx = out_ctx };

	if (!e || !mo || !num_mo)
		return -EINVAL;
	if (e->reasm)
		ota_sms_reasm_expire(e->reasm, now_ms);
	do_tick(e, now_ms, &o);
	return finish(&o, mo, num_mo);
}
