/* Tests of the simulated eUICC (src/fleet/euicc.c): command packets are built with the OTA library exactly as
 * an SM-SR builds them (SCP80 SPI 16 39, AES keys of the card's EIS, counter "higher"), fed to the card as SMS
 * user data, and the PoR is verified and decoded as the SM-SR would. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <osmocom/core/application.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/select.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/smpp.h>
#include <sgp02/fleet/device.h>
#include <sgp02/fleet/smsc.h>

#include <talloc.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include <sgp02/fleet/euicc.h>
#include <sgp02/gp/gp_apdu.h>
#include <sgp02/gp/eid.h>
#include <sgp02/ota/rapdu.h>
#include <sgp02/ota/scp80.h>
#include <sgp02/ota/sms.h>

#include "testlib.h"

/* ------------------------------------------------------------------------------------------------------------
 * an SM-SR in miniature: builds command packets with the card's keys and decodes what comes back
 */

struct ftc_card {
	struct fleet_euicc_perso perso;
	struct fleet_euicc *e;
	struct ota_scp80_keyset ks;	/* the SM-SR's copy of the ISD-R key set */
	uint8_t spi[2];
	uint64_t cntr;			/* last counter the SM-SR used */
	uint8_t cntr_bytes[5];		/* counter of the last command */
	uint8_t ref;
	struct fleet_mo *mo;		/* MO messages since the last ftc_run() */
	unsigned int num_mo;
	struct ota_sms_ud notif[64];	/* every notification MO seen */
	unsigned int num_notif;
	struct ota_scp80_por por;
	struct ota_rapdu_resp_script *resp;
	uint8_t por_buf[2048];
};

static struct ftc_card *ftc_card_new(void *ctx, uint32_t index)
{
	struct ftc_card *c = talloc_zero(ctx, struct ftc_card);
	struct fleet_eum_params p;

	fleet_eum_params_default(&p);
	CU_ASSERT_FATAL(fleet_euicc_perso_derive(&p, index, &c->perso) == 0);
	c->e = fleet_euicc_alloc(c, &c->perso, NULL);
	CU_ASSERT_FATAL(c->e != NULL);
	c->ks = c->perso.isdr_ks;
	/* SGP.02 minimum: SPI1 16 (CC, ciphered, counter higher), SPI2 39 (PoR by SMS-SUBMIT, ciphered, CC) */
	c->spi[0] = 0x16;
	c->spi[1] = 0x39;
	return c;
}

static const uint8_t *ftc_aid(uint32_t tar)
{
	uint8_t *aid = talloc_size(g_test_ctx, 16);

	gp_isdp_aid(tar, aid);
	return aid;
}

/* Build a command packet for \a n APDUs (next counter) and split it into SMS user data. */
static int ftc_build(struct ftc_card *c, const struct gp_capdu *a, unsigned int n, struct ota_sms_ud **parts)
{
	struct ota_rapdu_apdu ap[16];
	uint8_t *script, pkt[2048];
	size_t slen;
	unsigned int i;
	int len;

	for (i = 0; i < n; i++) {
		ap[i].data = a[i].buf;
		ap[i].len = a[i].len;
	}
	CU_ASSERT_FATAL(ota_rapdu_cmd_build_apdus(c, ap, n, OTA_RAPDU_FMT_DEFINITE, OTA_RAPDU_CHAIN_NONE, &script,
						  &slen) == 0);
	c->cntr++;
	ota_scp80_cntr_put(c->cntr_bytes, c->cntr);
	len = ota_scp80_cmd_build(&c->ks, c->spi, (const uint8_t *)"\x00\x00\x01", c->cntr_bytes, script, slen, pkt,
				  sizeof(pkt));
	talloc_free(script);
	CU_ASSERT_FATAL(len > 0);
	return ota_sms_split(c, OTA_SMS_IEI_CPI, pkt, len, c->ref++, false, parts);
}

static void ftc_collect(struct ftc_card *c, struct fleet_mo *mo, unsigned int n)
{
	unsigned int i;

	if (!n)
		return;
	c->mo = talloc_realloc(c, c->mo, struct fleet_mo, c->num_mo + n);
	for (i = 0; i < n; i++) {
		c->mo[c->num_mo++] = mo[i];
		if (mo[i].kind == FLEET_MO_NOTIF && c->num_notif < ARRAY_SIZE(c->notif))
			c->notif[c->num_notif++] = mo[i].ud;
	}
	talloc_free(mo);
}

static int ftc_feed_raw(struct ftc_card *c, const uint8_t *ud, size_t len, uint64_t now)
{
	struct fleet_mo *mo = NULL;
	unsigned int n = 0;
	int rc = fleet_euicc_rx(c->e, ud, len, now, c, &mo, &n);

	ftc_collect(c, mo, n);
	return rc;
}

static void ftc_tick(struct ftc_card *c, uint64_t now)
{
	struct fleet_mo *mo = NULL;
	unsigned int n = 0;

	CU_ASSERT_EQUAL(fleet_euicc_tick(c->e, now, c, &mo, &n), 0);
	ftc_collect(c, mo, n);
}

/* Reassemble the PoR parts among the MO messages and decode it as the SM-SR does.
 * \returns 0 for a PoR with status OK and a response script, -ENOENT otherwise (c->por.status tells). */
static int ftc_decode_por(struct ftc_card *c, unsigned int unused)
{
	struct ota_sms_reasm *r = ota_sms_reasm_alloc(c, NULL);
	uint8_t *full = NULL;
	size_t full_len = 0;
	unsigned int i;
	int rc = -ENOENT;

	(void)unused;
	c->por.status = 0xFF;
	talloc_free(c->resp);
	c->resp = NULL;
	for (i = 0; i < c->num_mo && rc == -ENOENT; i++) {
		if (c->mo[i].kind != FLEET_MO_POR)
			continue;
		if (ota_sms_reasm_feed(r, "card", c->mo[i].ud.data, c->mo[i].ud.len, 0, c, &full, &full_len) != 1)
			continue;
		CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&c->ks, c->spi, full, full_len, c->cntr_bytes, &c->por,
						     c->por_buf, sizeof(c->por_buf)), 0);
		if (c->por.status == OTA_SCP80_POR_OK) {
			CU_ASSERT_EQUAL(ota_rapdu_resp_parse(c, c->por.data, c->por.data_len, &c->resp), 0);
			rc = c->resp ? 0 : -EBADMSG;
		} else {
			rc = -EPROTO;
		}
	}
	talloc_free(r);
	return rc == -EPROTO ? -ENOENT : rc;
}

static int ftc_run(struct ftc_card *c, const struct gp_capdu *a, unsigned int n, uint64_t now)
{
	struct ota_sms_ud *parts = NULL;
	int np, i;

	talloc_free(c->mo);
	c->mo = NULL;
	c->num_mo = 0;
	np = ftc_build(c, a, n, &parts);
	CU_ASSERT_FATAL(np > 0);
	for (i = 0; i < np; i++)
		CU_ASSERT_EQUAL(ftc_feed_raw(c, parts[i].data, parts[i].len, now), 0);
	talloc_free(parts);
	return ftc_decode_por(c, 0);
}

/* SW (and data) of R-APDU \a i of the last response script; FFFF if there is none. */
static uint16_t ftc_sw(struct ftc_card *c, unsigned int i, const uint8_t **d, size_t *dl)
{
	if (!c->resp || i >= c->resp->num_items || c->resp->items[i].type != OTA_RAPDU_RITEM_RAPDU)
		return 0xFFFF;
	if (d)
		*d = c->resp->items[i].data;
	if (dl)
		*dl = c->resp->items[i].len;
	return c->resp->items[i].sw;
}

/* Decode notification \a i as the SM-SR does: command packet under the ISD-R keys, no counter check. */
static int ftc_notif(struct ftc_card *c, unsigned int i, struct gp_notification *n)
{
	struct ota_sms_udh udh;
	struct ota_scp80_cmd res;
	uint8_t buf[256];
	int hl, rc;

	if (i >= c->num_notif)
		return -ENOENT;
	hl = ota_sms_udh_parse(c->notif[i].data, c->notif[i].len, &udh);
	if (hl < 0 || !ota_sms_udh_find(&udh, OTA_SMS_IEI_CPI))
		return -EBADMSG;
	rc = ota_scp80_cmd_unwrap(&c->ks, c->notif[i].data + hl, c->notif[i].len - hl, NULL, &res, buf, sizeof(buf));
	if (rc < 0)
		return rc;
	/* SGP02.md §7.1: CNTR 0, SPI "no counter available" */
	if (ota_scp80_cntr_get(res.cntr) != 0 || (res.spi[0] & 0x18) != 0)
		return -EPROTO;
	return gp_parse_notification(res.data, res.data_len, n);
}

/* ------------------------------------------------------------------------------------------------------------
 * manufacturing data and EIS
 */

static void test_perso_deterministic(void)
{
	struct fleet_eum_params p;
	struct fleet_euicc_perso a, b, c;
	int k;

	fleet_eum_params_default(&p);
	p.key_seed = 42;
	CU_ASSERT_EQUAL(fleet_euicc_perso_derive(&p, 7, &a), 0);
	CU_ASSERT_EQUAL(fleet_euicc_perso_derive(&p, 7, &b), 0);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	CU_ASSERT_EQUAL(fleet_euicc_perso_derive(&p, 8, &c), 0);
	CU_ASSERT_NOT_EQUAL(strcmp(a.eid, c.eid), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a.isdr_ks.kic_key, c.isdr_ks.kic_key, 16), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a.isdr_ks.kic_key, a.isdr_ks.kid_key, 16), 0);
	/* EID with valid check digits; ICCIDs of 19 digits with a valid Luhn digit */
	CU_ASSERT_EQUAL(gp_eid_validate(a.eid), 0);
	CU_ASSERT_EQUAL(a.isdr_ks.kic, 0x12);
	CU_ASSERT_EQUAL(a.isdr_ks.kid, 0x12);
	for (k = 0; k < 2; k++) {
		unsigned int sum = 0, i;

		CU_ASSERT_EQUAL(strlen(a.prof[k].iccid), 19);
		CU_ASSERT_EQUAL(strncmp(a.prof[k].iccid, "89", 2), 0);
		for (i = 0; i < 19; i++) {
			unsigned int d = a.prof[k].iccid[18 - i] - '0';

			if (i % 2) {
				d *= 2;
				if (d > 9)
					d -= 9;
			}
			sum += d;
		}
		CU_ASSERT_EQUAL(sum % 10, 0);
	}
	CU_ASSERT_STRING_EQUAL(a.prof[0].msisdn, "491500000007");
	CU_ASSERT_STRING_EQUAL(a.prof[1].msisdn, "491510000007");
	CU_ASSERT_TRUE(a.prof[0].enabled && a.prof[0].fallback);
	CU_ASSERT_FALSE(a.prof[1].enabled || a.prof[1].fallback);
	/* another seed, other keys */
	p.key_seed = 43;
	CU_ASSERT_EQUAL(fleet_euicc_perso_derive(&p, 7, &c), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a.isdr_ks.kid_key, c.isdr_ks.kid_key, 16), 0);
	/* bad parameters */
	p.kvn = 0;
	CU_ASSERT_EQUAL(fleet_euicc_perso_derive(&p, 7, &c), -EINVAL);
	p.kvn = 1;
	p.msisdn_prefix = "49x";
	CU_ASSERT_EQUAL(fleet_euicc_perso_derive(&p, 7, &c), -EINVAL);
	p.msisdn_prefix = "4915";
	CU_ASSERT_EQUAL(fleet_euicc_perso_derive(&p, 10000000, &c), -EINVAL);
}

static void test_eis_xml(void)
{
	struct fleet_eum_params p;
	struct fleet_euicc_perso a;
	char *x, *y, kh[33];
	xmlDocPtr doc;
	unsigned int i;

	fleet_eum_params_default(&p);
	CU_ASSERT_EQUAL(fleet_euicc_perso_derive(&p, 3, &a), 0);
	x = fleet_euicc_eis_xml(g_test_ctx, &p, &a, "491500000003");
	y = fleet_euicc_eis_xml(g_test_ctx, &p, &a, "491500000003");
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_STRING_EQUAL(x, y);
	CU_ASSERT_PTR_NOT_NULL(strstr(x, a.eid));
	CU_ASSERT_PTR_NOT_NULL(strstr(x, a.prof[0].iccid));
	CU_ASSERT_PTR_NOT_NULL(strstr(x, a.prof[1].iccid));
	CU_ASSERT_PTR_NOT_NULL(strstr(x, "<Isd-p-aid>A0000005591010FFFFFFFF8900001000</Isd-p-aid>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(x, "<Aid>A0000005591010FFFFFFFF8900000100</Aid>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(x, "<Type>SCP80</Type>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(x, "<State>Enabled</State>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(x, "<State>Disabled</State>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(x, "key=\"device-msisdn\" value=\"491500000003\""));
	for (i = 0; i < 16; i++)
		snprintf(kh + 2 * i, 3, "%02X", a.isdr_ks.kid_key[i]);
	CU_ASSERT_PTR_NOT_NULL(strstr(x, kh));
	/* well-formed XML */
	doc = xmlReadMemory(x, strlen(x), "eis.xml", NULL, XML_PARSE_NONET);
	CU_ASSERT_PTR_NOT_NULL(doc);
	xmlFreeDoc(doc);
	/* valid EISType once the registering tool has put an EumSignature after EumSignedInfo */
	{
		static const char sig[] =
			"  <EumSignature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>"
			"<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
			"<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256\"/>"
			"<ds:Reference URI=\"\">"
			"<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>"
			"<ds:DigestValue>AA==</ds:DigestValue></ds:Reference></ds:SignedInfo>"
			"<ds:SignatureValue>AA==</ds:SignatureValue></EumSignature>\n";
		const char *cut = strstr(x, "</EumSignedInfo>\n");
		char *signed_xml, *xsd;
		xmlSchemaParserCtxtPtr pc;
		xmlSchemaPtr schema = NULL;
		xmlSchemaValidCtxtPtr vc;

		CU_ASSERT_PTR_NOT_NULL_FATAL(cut);
		cut += strlen("</EumSignedInfo>\n");
		signed_xml = talloc_asprintf(g_test_ctx, "%.*s%s%s", (int)(cut - x), x, sig, cut);
		xsd = talloc_asprintf(g_test_ctx,
			"<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
			"xmlns=\"http://namespaces.gsma.org/esim-messaging/3\" "
			"targetNamespace=\"http://namespaces.gsma.org/esim-messaging/3\" "
			"elementFormDefault=\"qualified\">"
			"<xs:include schemaLocation=\"%s/spec/gsma-esim-messaging-3/xsd/euicc.common.types.xsd\"/>"
			"<xs:element name=\"Eis\" type=\"EISType\"/></xs:schema>", test_shared_dir());
		pc = xmlSchemaNewMemParserCtxt(xsd, strlen(xsd));
		if (pc)
			schema = xmlSchemaParse(pc);
		xmlSchemaFreeParserCtxt(pc);
		CU_ASSERT_PTR_NOT_NULL_FATAL(schema);
		doc = xmlReadMemory(signed_xml, strlen(signed_xml), "eis.xml", NULL, XML_PARSE_NONET);
		CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
		vc = xmlSchemaNewValidCtxt(schema);
		CU_ASSERT_EQUAL(xmlSchemaValidateDoc(vc, doc), 0);
		xmlSchemaFreeValidCtxt(vc);
		xmlFreeDoc(doc);
		xmlSchemaFree(schema);
	}
}

/* ------------------------------------------------------------------------------------------------------------
 * ES5 commands
 */

static void test_get_status_and_data(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 1);
	struct gp_isdp_status st[4];
	struct gp_card_resources res;
	struct gp_capdu a[3];
	uint8_t eid[16];
	const uint8_t *d;
	size_t dl;
	int n;

	CU_ASSERT_EQUAL(gp_apdu_get_status(&a[0], NULL, 0, true, 0x02), 0);
	CU_ASSERT_EQUAL(gp_apdu_get_data(&a[1], 0xBF30, (const uint8_t *)"\x5C\x01\x66", 3), 0);
	CU_ASSERT_EQUAL(gp_apdu_get_data(&a[2], 0x005A, NULL, 0), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 3, 1000) == 0);
	CU_ASSERT_EQUAL_FATAL(c->resp->num_items, 3);
	CU_ASSERT_EQUAL(c->resp->num_executed, 3);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, &d, &dl), 0x9000);
	n = gp_parse_get_status(d, dl, st, 4);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(memcmp(st[0].aid, c->perso.prof[0].aid, 16), 0);
	CU_ASSERT_EQUAL(st[0].lcs, GP_LCS_ENABLED);
	CU_ASSERT_TRUE(st[0].fallback);
	CU_ASSERT_EQUAL(st[1].lcs, GP_LCS_DISABLED);
	CU_ASSERT_FALSE(st[1].fallback);
	CU_ASSERT_EQUAL(st[1].granted_nv, c->perso.prof[1].mem);
	CU_ASSERT_EQUAL(ftc_sw(c, 1, &d, &dl), 0x9000);
	CU_ASSERT_EQUAL(gp_parse_card_resources(d, dl, &res), 0);
	CU_ASSERT_TRUE(res.has_free_nv);
	CU_ASSERT_EQUAL(res.free_nv, c->perso.total_mem - c->perso.prof[0].mem - c->perso.prof[1].mem);
	CU_ASSERT_EQUAL(ftc_sw(c, 2, &d, &dl), 0x9000);
	CU_ASSERT_EQUAL(gp_parse_eid_response(d, dl, eid), 0);
	CU_ASSERT_EQUAL(memcmp(eid, c->perso.eid_bin, 16), 0);
	/* one ISD-P by AID, and an unknown one */
	CU_ASSERT_EQUAL(gp_apdu_get_status(&a[0], c->perso.prof[1].aid, 16, true, 0x02), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 2000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, &d, &dl), 0x9000);
	CU_ASSERT_EQUAL(gp_parse_get_status(d, dl, st, 4), 1);
	CU_ASSERT_EQUAL(st[0].lcs, GP_LCS_DISABLED);
	CU_ASSERT_EQUAL(gp_apdu_get_status(&a[0], ftc_aid(0x77), 16, true, 0x02), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 3000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x6A88);
	/* no notification for any of these */
	CU_ASSERT_EQUAL(c->num_notif, 0);
}

static void test_enable_notify_confirm(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 2);
	const struct fleet_euicc_stats *s = fleet_euicc_stats(c->e);
	struct gp_notification n;
	struct gp_capdu a;
	const uint8_t *d;
	size_t dl;
	uint64_t at;
	uint16_t seq;

	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a, c->perso.prof[1].aid, 16), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 1000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_EQUAL(fleet_euicc_profile_by_aid(c->e, c->perso.prof[1].aid)->lcs, GP_LCS_ENABLED);
	CU_ASSERT_EQUAL(fleet_euicc_profile_by_aid(c->e, c->perso.prof[0].aid)->lcs, GP_LCS_DISABLED);
	/* the notification follows the PoR at once (refresh_ms 0): E1 type 02 naming the new profile, CNTR 0 */
	CU_ASSERT_EQUAL_FATAL(c->num_notif, 1);
	CU_ASSERT_EQUAL_FATAL(ftc_notif(c, 0, &n), 0);
	CU_ASSERT_EQUAL(n.type, GP_NOTIF_PROFILE_CHANGE_OK);
	CU_ASSERT_TRUE(n.has_aid);
	CU_ASSERT_EQUAL(memcmp(n.aid, c->perso.prof[1].aid, 16), 0);
	CU_ASSERT_EQUAL(memcmp(n.eid, c->perso.eid_bin, 16), 0);
	CU_ASSERT_TRUE(fleet_euicc_notif_pending(c->e, &seq));
	CU_ASSERT_EQUAL(seq, n.seq);
	/* unconfirmed: re-sent after notif_retry_ms */
	CU_ASSERT_TRUE(fleet_euicc_next_timeout(c->e, &at));
	CU_ASSERT_EQUAL(at, 1000 + 30000);
	ftc_tick(c, 30999);
	CU_ASSERT_EQUAL(c->num_notif, 1);
	ftc_tick(c, 31000);
	CU_ASSERT_EQUAL(c->num_notif, 2);
	CU_ASSERT_EQUAL(ftc_notif(c, 1, &n), 0);
	CU_ASSERT_EQUAL(n.seq, seq);
	/* confirmation (3A08) stops the re-sends */
	CU_ASSERT_EQUAL(gp_apdu_notification_confirm(&a, seq), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 32000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, &d, &dl), 0x9000);
	CU_ASSERT_EQUAL(dl, 0);
	CU_ASSERT_FALSE(fleet_euicc_notif_pending(c->e, NULL));
	CU_ASSERT_FALSE(fleet_euicc_next_timeout(c->e, NULL));
	ftc_tick(c, 200000);
	CU_ASSERT_EQUAL(c->num_notif, 2);
	CU_ASSERT_EQUAL(s->notif_confirmed, 1);
	/* a repeated confirmation (its PoR lost) is accepted and changes nothing; an unknown one is refused */
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 33000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_EQUAL(gp_apdu_notification_confirm(&a, seq + 5), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 34000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x6A88);
	/* enabling the enabled profile again: not in the Disabled state */
	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a, c->perso.prof[1].aid, 16), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 35000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x6985);
	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a, ftc_aid(0x99), 16), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 36000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x6A88);
	CU_ASSERT_EQUAL(c->num_notif, 2);
}

static void test_notif_rollback(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 3);
	struct gp_notification n;
	struct gp_capdu a;
	uint64_t t = 1000;
	unsigned int i;

	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a, c->perso.prof[1].aid, 16), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, t) == 0);
	CU_ASSERT_EQUAL(c->num_notif, 1);
	/* 10 sends in all, then one more interval for the confirmation, then the roll-back (type 03) */
	for (i = 1; i < 10; i++)
		ftc_tick(c, t + i * 30000);
	CU_ASSERT_EQUAL(c->num_notif, 10);
	CU_ASSERT_EQUAL(fleet_euicc_profile_by_aid(c->e, c->perso.prof[1].aid)->lcs, GP_LCS_ENABLED);
	ftc_tick(c, t + 10 * 30000);
	CU_ASSERT_EQUAL_FATAL(c->num_notif, 11);
	CU_ASSERT_EQUAL(ftc_notif(c, 10, &n), 0);
	CU_ASSERT_EQUAL(n.type, GP_NOTIF_PROFILE_CHANGE_ROLLBACK);
	CU_ASSERT_EQUAL(memcmp(n.aid, c->perso.prof[0].aid, 16), 0);
	CU_ASSERT_EQUAL(fleet_euicc_profile_by_aid(c->e, c->perso.prof[1].aid)->lcs, GP_LCS_DISABLED);
	CU_ASSERT_EQUAL(fleet_euicc_profile_by_aid(c->e, c->perso.prof[0].aid)->lcs, GP_LCS_ENABLED);
	CU_ASSERT_EQUAL(fleet_euicc_stats(c->e)->rollbacks, 1);
	CU_ASSERT_TRUE(fleet_euicc_notif_pending(c->e, NULL));
	/* the roll-back notification is confirmed */
	CU_ASSERT_EQUAL(gp_apdu_notification_confirm(&a, n.seq), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, t + 10 * 30000 + 10) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_FALSE(fleet_euicc_notif_pending(c->e, NULL));
}

static void test_disable_and_delete(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 4);
	uint32_t free0 = fleet_euicc_free_mem(c->e);
	struct gp_notification n;
	struct gp_capdu a[2];
	uint16_t seq;

	/* delete the enabled profile (which also holds the fall-back attribute): refused */
	CU_ASSERT_EQUAL(gp_apdu_delete(&a[0], c->perso.prof[0].aid, 16, 0x40), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 1000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x6985);
	/* disable the fall-back holder: refused */
	CU_ASSERT_EQUAL(gp_apdu_disable_profile(&a[0], c->perso.prof[0].aid, 16), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 2000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x6985);
	/* enable the operational one, confirm, then disable it: the fall-back profile comes back */
	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a[0], c->perso.prof[1].aid, 16), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 3000) == 0);
	CU_ASSERT_TRUE(fleet_euicc_notif_pending(c->e, &seq));
	CU_ASSERT_EQUAL(gp_apdu_notification_confirm(&a[0], seq), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 4000) == 0);
	/* the enabled operational profile cannot be deleted */
	CU_ASSERT_EQUAL(gp_apdu_delete(&a[0], c->perso.prof[1].aid, 16, 0x40), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 4500) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x6985);
	CU_ASSERT_EQUAL(gp_apdu_disable_profile(&a[0], c->perso.prof[1].aid, 16), 0);
	c->num_notif = 0;
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 5000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_EQUAL_FATAL(c->num_notif, 1);
	CU_ASSERT_EQUAL(ftc_notif(c, 0, &n), 0);
	CU_ASSERT_EQUAL(n.type, GP_NOTIF_PROFILE_CHANGE_OK);
	CU_ASSERT_EQUAL(memcmp(n.aid, c->perso.prof[0].aid, 16), 0);
	CU_ASSERT_EQUAL(fleet_euicc_profile_by_aid(c->e, c->perso.prof[0].aid)->lcs, GP_LCS_ENABLED);
	/* confirm and delete the now disabled operational profile; its memory comes back */
	CU_ASSERT_EQUAL(gp_apdu_notification_confirm(&a[0], n.seq), 0);
	CU_ASSERT_EQUAL(gp_apdu_delete(&a[1], c->perso.prof[1].aid, 16, 0x40), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 2, 6000) == 0);
	CU_ASSERT_EQUAL(c->resp->num_executed, 2);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_EQUAL(ftc_sw(c, 1, NULL, NULL), 0x9000);
	CU_ASSERT_PTR_NULL(fleet_euicc_profile_by_aid(c->e, c->perso.prof[1].aid));
	CU_ASSERT_EQUAL(fleet_euicc_free_mem(c->e), free0 + c->perso.prof[1].mem);
	/* deleting it again: not found */
	CU_ASSERT_FATAL(ftc_run(c, &a[1], 1, 7000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x6A88);
}

static void test_pol1(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 5);
	struct gp_capdu a;
	uint16_t seq;

	CU_ASSERT_EQUAL(fleet_euicc_set_pol1(c->e, c->perso.prof[1].aid,
					     FLEET_POL1_DISABLE_NOT_ALLOWED | FLEET_POL1_DELETE_NOT_ALLOWED), 0);
	/* deleting the disabled operational profile: its POL1 forbids it */
	CU_ASSERT_EQUAL(gp_apdu_delete(&a, c->perso.prof[1].aid, 16, 0x40), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 1000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x69E1);
	CU_ASSERT_PTR_NOT_NULL(fleet_euicc_profile_by_aid(c->e, c->perso.prof[1].aid));
	/* enabling it is fine (the bootstrap's POL1 is empty) */
	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a, c->perso.prof[1].aid, 16), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 2000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_TRUE(fleet_euicc_notif_pending(c->e, &seq));
	CU_ASSERT_EQUAL(gp_apdu_notification_confirm(&a, seq), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 3000) == 0);
	/* now its "disable not allowed" blocks both disabling it and enabling the other one */
	CU_ASSERT_EQUAL(gp_apdu_disable_profile(&a, c->perso.prof[1].aid, 16), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 4000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x69E1);
	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a, c->perso.prof[0].aid, 16), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 5000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x69E1);
	/* and moving the fall-back attribute away from it */
	CU_ASSERT_EQUAL(gp_apdu_set_fallback(&a, c->perso.prof[0].aid, 16), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 6000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x69E1);
	CU_ASSERT_EQUAL(fleet_euicc_profile_by_aid(c->e, c->perso.prof[1].aid)->lcs, GP_LCS_ENABLED);
	CU_ASSERT_FALSE(fleet_euicc_notif_pending(c->e, NULL));
}

static void test_pol1_delete_on_disable(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 6);
	uint8_t deleted[2][GP_AID_MAX];
	size_t dlen[2];
	struct gp_capdu a;
	const uint8_t *d;
	size_t dl;
	uint16_t seq;

	CU_ASSERT_EQUAL(fleet_euicc_set_pol1(c->e, c->perso.prof[1].aid, FLEET_POL1_DELETE_ON_DISABLE), 0);
	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a, c->perso.prof[1].aid, 16), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 1000) == 0);
	CU_ASSERT_TRUE(fleet_euicc_notif_pending(c->e, &seq));
	CU_ASSERT_EQUAL(gp_apdu_notification_confirm(&a, seq), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 2000) == 0);
	CU_ASSERT_EQUAL(gp_apdu_disable_profile(&a, c->perso.prof[1].aid, 16), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 3000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_TRUE(fleet_euicc_notif_pending(c->e, &seq));
	/* the confirmation answer lists the ISD-P deleted as a follow-up */
	CU_ASSERT_EQUAL(gp_apdu_notification_confirm(&a, seq), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 4000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, &d, &dl), 0x9000);
	CU_ASSERT_EQUAL_FATAL(gp_parse_notification_confirm(d, dl, deleted, dlen, 2), 1);
	CU_ASSERT_EQUAL(dlen[0], 16);
	CU_ASSERT_EQUAL(memcmp(deleted[0], c->perso.prof[1].aid, 16), 0);
	CU_ASSERT_PTR_NULL(fleet_euicc_profile_by_aid(c->e, c->perso.prof[1].aid));
}

static void test_create_isdp(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 7);
	struct fleet_eum_params p;
	struct gp_isdp_status st[4];
	struct gp_install_params ip = { .has_nv_quota = true, .nv_quota = 100000 };
	uint8_t params[32];
	struct gp_capdu a[2];
	uint32_t free0 = fleet_euicc_free_mem(c->e);
	const uint8_t *d;
	size_t dl;
	int pl;

	fleet_eum_params_default(&p);
	CU_ASSERT_EQUAL(gp_apdu_create_isdp(&a[0], ftc_aid(0x12), 16, NULL, 0), 0);
	CU_ASSERT_EQUAL(gp_apdu_get_status(&a[1], ftc_aid(0x12), 16, true, 0x02), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 2, 1000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_EQUAL(ftc_sw(c, 1, &d, &dl), 0x9000);
	CU_ASSERT_EQUAL_FATAL(gp_parse_get_status(d, dl, st, 4), 1);
	CU_ASSERT_EQUAL(st[0].lcs, GP_LCS_SELECTABLE);
	CU_ASSERT_EQUAL(fleet_euicc_free_mem(c->e), free0 - 32768);
	/* the same AID again */
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 2000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x6985);
	/* a TAR outside the ISD-P range */
	CU_ASSERT_EQUAL(gp_apdu_create_isdp(&a[0], ftc_aid(0x01), 16, NULL, 0), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 3000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x6A80);
	/* a quota larger than the free memory */
	ip.nv_quota = free0;
	pl = gp_install_params_encode(&ip, params, sizeof(params));
	CU_ASSERT_FATAL(pl > 0);
	CU_ASSERT_EQUAL(gp_apdu_create_isdp(&a[0], ftc_aid(0x13), 16, params, pl), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 4000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x6A84);
	/* a quota that fits is taken as the allocation */
	ip.nv_quota = 1000;
	pl = gp_install_params_encode(&ip, params, sizeof(params));
	CU_ASSERT_EQUAL(gp_apdu_create_isdp(&a[0], ftc_aid(0x13), 16, params, pl), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 5000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_EQUAL(fleet_euicc_free_mem(c->e), free0 - 32768 - 1000);
	/* a SELECTABLE ISD-P cannot be enabled, but can be deleted */
	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a[0], ftc_aid(0x12), 16), 0);
	CU_ASSERT_EQUAL(gp_apdu_delete(&a[1], ftc_aid(0x12), 16, 0x40), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 6000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x6985);
	CU_ASSERT_FATAL(ftc_run(c, &a[1], 1, 7000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_EQUAL(fleet_euicc_free_mem(c->e), free0 - 1000);
}

static void test_script_stops_at_error(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 8);
	struct gp_capdu a[3];

	CU_ASSERT_EQUAL(gp_apdu_get_data(&a[0], 0xFF21, NULL, 0), 0);
	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a[1], ftc_aid(0x55), 16), 0);
	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a[2], c->perso.prof[1].aid, 16), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 3, 1000) == 0);
	CU_ASSERT_EQUAL(c->resp->num_executed, 2);
	CU_ASSERT_EQUAL_FATAL(c->resp->num_items, 2);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_EQUAL(ftc_sw(c, 1, NULL, NULL), 0x6A88);
	/* the third command never ran */
	CU_ASSERT_EQUAL(fleet_euicc_profile_by_aid(c->e, c->perso.prof[1].aid)->lcs, GP_LCS_DISABLED);
	CU_ASSERT_EQUAL(c->num_notif, 0);
	/* an unknown instruction and a wrong class */
	memcpy(a[0].buf, "\x80\x10\x00\x00\x00", 5);
	a[0].len = 5;
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 2000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x6D00);
	memcpy(a[0].buf, "\x00\xCA\x00\x5A\x00", 5);
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 3000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x6E00);
}

/* ------------------------------------------------------------------------------------------------------------
 * security: keys, SPI, counters
 */

static void test_wrong_key_silent(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 9);
	const struct fleet_euicc_stats *s = fleet_euicc_stats(c->e);
	struct gp_capdu a;

	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a, c->perso.prof[1].aid, 16), 0);
	/* another card's KID key: the CC does not verify -> no PoR, nothing executed */
	c->ks.kid_key[0] ^= 0x01;
	CU_ASSERT_EQUAL(ftc_run(c, &a, 1, 1000), -ENOENT);
	CU_ASSERT_EQUAL(c->num_mo, 0);
	CU_ASSERT_EQUAL(s->discarded, 1);
	c->ks.kid_key[0] ^= 0x01;
	/* the right key with another key version in KIc/KID */
	c->ks.kic = c->ks.kid = 0x22;
	CU_ASSERT_EQUAL(ftc_run(c, &a, 1, 2000), -ENOENT);
	CU_ASSERT_EQUAL(s->discarded, 2);
	c->ks.kic = c->ks.kid = 0x12;
	/* below the SGP.02 minimum: no ciphering (SPI1 12) */
	c->spi[0] = 0x12;
	CU_ASSERT_EQUAL(ftc_run(c, &a, 1, 3000), -ENOENT);
	CU_ASSERT_EQUAL(s->discarded, 3);
	/* no counter check (SPI1 06) */
	c->spi[0] = 0x06;
	CU_ASSERT_EQUAL(ftc_run(c, &a, 1, 4000), -ENOENT);
	CU_ASSERT_EQUAL(s->discarded, 4);
	c->spi[0] = 0x16;
	CU_ASSERT_EQUAL(fleet_euicc_profile_by_aid(c->e, c->perso.prof[1].aid)->lcs, GP_LCS_DISABLED);
	/* the counter was not consumed by any of them */
	CU_ASSERT_EQUAL(fleet_euicc_cntr(c->e), 0);
	/* a plain text SMS and a non-OTA UDH */
	CU_ASSERT_EQUAL(ftc_feed_raw(c, (const uint8_t *)"\x00\x41\x42", 3, 5000), 0);
	CU_ASSERT_EQUAL(c->num_mo, 0);
	CU_ASSERT_EQUAL(s->not_ota, 1);
	/* and now the right packet executes */
	CU_ASSERT_EQUAL(ftc_run(c, &a, 1, 6000), 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_EQUAL(fleet_euicc_cntr(c->e), c->cntr);
}

static void test_replay_not_executed(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 10);
	const struct fleet_euicc_stats *s = fleet_euicc_stats(c->e);
	struct ota_scp80_por por;
	struct gp_capdu a;
	struct ota_sms_ud *parts;
	uint8_t buf[256];
	int n, i;

	/* one CreateISDP packet, delivered twice (a duplicated SMS) */
	CU_ASSERT_EQUAL(gp_apdu_create_isdp(&a, ftc_aid(0x20), 16, NULL, 0), 0);
	n = ftc_build(c, &a, 1, &parts);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	for (i = 0; i < 2; i++)
		CU_ASSERT_EQUAL(ftc_feed_raw(c, parts[0].data, parts[0].len, 1000 + i), 0);
	CU_ASSERT_EQUAL(s->scripts, 1);
	CU_ASSERT_EQUAL(s->replayed, 1);
	/* first PoR OK, second PoR "counter low", both for the same counter */
	CU_ASSERT_EQUAL_FATAL(c->num_mo, 2);
	CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&c->ks, c->spi, c->mo[0].ud.data, c->mo[0].ud.len, c->cntr_bytes, &por,
					     buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(por.status, OTA_SCP80_POR_OK);
	CU_ASSERT_EQUAL(ota_scp80_por_unwrap(&c->ks, c->spi, c->mo[1].ud.data, c->mo[1].ud.len, c->cntr_bytes, &por,
					     buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(por.status, OTA_SCP80_POR_CNTR_LOW);
	CU_ASSERT_EQUAL(por.data_len, 0);
	/* one ISD-P only, and the memory was taken once */
	CU_ASSERT_PTR_NOT_NULL(fleet_euicc_profile_by_aid(c->e, ftc_aid(0x20)));
	CU_ASSERT_EQUAL(fleet_euicc_free_mem(c->e), c->perso.total_mem - c->perso.prof[0].mem -
			c->perso.prof[1].mem - 32768);
	/* a lower counter after a higher one is refused too; the SM-SR's next counter works */
	c->cntr = 10;
	CU_ASSERT_EQUAL(gp_apdu_get_data(&a, 0xFF21, NULL, 0), 0);
	CU_ASSERT_EQUAL(ftc_run(c, &a, 1, 2000), 0);
	CU_ASSERT_EQUAL(fleet_euicc_cntr(c->e), 11);
	c->cntr = 5;
	CU_ASSERT_EQUAL(ftc_run(c, &a, 1, 3000), -ENOENT);
	CU_ASSERT_EQUAL(c->por.status, OTA_SCP80_POR_CNTR_LOW);
	CU_ASSERT_EQUAL(s->replayed, 2);
	c->cntr = 11;
	CU_ASSERT_EQUAL(ftc_run(c, &a, 1, 4000), 0);
	CU_ASSERT_EQUAL(c->por.status, OTA_SCP80_POR_OK);
}

static void test_concatenated_three_parts(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 11);
	const struct fleet_euicc_stats *s = fleet_euicc_stats(c->e);
	struct gp_capdu a[4];
	struct ota_sms_ud *parts;
	uint8_t params[62];
	int n, i;

	/* four 3A07 STORE DATAs of 62 bytes make a packet of three short messages */
	params[0] = 0x80;
	params[1] = 60;
	memset(params + 2, 0x11, 60);
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(gp_apdu_connectivity_params(&a[i], params, sizeof(params)), 0);
	n = ftc_build(c, a, 4, &parts);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	/* delivered out of order: nothing happens until the last part */
	CU_ASSERT_EQUAL(ftc_feed_raw(c, parts[2].data, parts[2].len, 1000), 0);
	CU_ASSERT_EQUAL(ftc_feed_raw(c, parts[0].data, parts[0].len, 1001), 0);
	CU_ASSERT_EQUAL(c->num_mo, 0);
	CU_ASSERT_EQUAL(s->concat_parts, 2);
	CU_ASSERT_EQUAL(ftc_feed_raw(c, parts[1].data, parts[1].len, 1002), 0);
	CU_ASSERT_EQUAL_FATAL(c->num_mo, 1);
	CU_ASSERT_EQUAL_FATAL(ftc_decode_por(c, 0), 0);
	CU_ASSERT_EQUAL(c->resp->num_executed, 4);
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(ftc_sw(c, i, NULL, NULL), 0x9000);
	/* a part delivered again afterwards starts a new message that never completes */
	CU_ASSERT_EQUAL(ftc_feed_raw(c, parts[1].data, parts[1].len, 1003), 0);
	CU_ASSERT_EQUAL(c->num_mo, 1);
	CU_ASSERT_EQUAL(s->scripts, 1);
}

static void test_long_por_is_concatenated(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 12);
	struct gp_capdu a[8];
	int i;

	/* six ISD-Ps more, then GET STATUS of all 8: 264 bytes, more than one R-APDU and more than one SMS */
	for (i = 0; i < 6; i++)
		CU_ASSERT_EQUAL(gp_apdu_create_isdp(&a[i], ftc_aid(0x30 + i), 16, NULL, 0), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 6, 1000) == 0);
	CU_ASSERT_EQUAL(c->resp->num_executed, 6);
	CU_ASSERT_EQUAL(gp_apdu_get_status(&a[0], NULL, 0, true, 0x02), 0);
	CU_ASSERT_EQUAL(gp_apdu_get_status(&a[1], NULL, 0, true, 0x03), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 2, 2000) == 0);
	CU_ASSERT_TRUE(c->num_mo > 1);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x6310);
	CU_ASSERT_EQUAL(ftc_sw(c, 1, NULL, NULL), 0x9000);
	{
		struct gp_isdp_status st[8];
		const uint8_t *d;
		size_t dl;
		int n0, n1;

		ftc_sw(c, 0, &d, &dl);
		n0 = gp_parse_get_status(d, dl, st, 8);
		ftc_sw(c, 1, &d, &dl);
		n1 = gp_parse_get_status(d, dl, st, 8);
		CU_ASSERT_EQUAL(n0 + n1, 8);
		CU_ASSERT_TRUE(n0 > 0 && n1 > 0);
	}
}


static void test_indefinite_script_and_fallback(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 13);
	struct ota_rapdu_apdu ap[2];
	struct ota_sms_ud *parts = NULL;
	struct gp_capdu a[2];
	uint8_t *script, pkt[512];
	size_t slen;
	int len, np, i;

	/* SetFallBackAttribute on the operational profile, then GET STATUS, in an AE 80 ... 00 00 script */
	CU_ASSERT_EQUAL(gp_apdu_set_fallback(&a[0], c->perso.prof[1].aid, 16), 0);
	CU_ASSERT_EQUAL(gp_apdu_get_status(&a[1], NULL, 0, true, 0x02), 0);
	for (i = 0; i < 2; i++) {
		ap[i].data = a[i].buf;
		ap[i].len = a[i].len;
	}
	CU_ASSERT_FATAL(ota_rapdu_cmd_build_apdus(c, ap, 2, OTA_RAPDU_FMT_INDEFINITE, OTA_RAPDU_CHAIN_NONE, &script,
						  &slen) == 0);
	CU_ASSERT_EQUAL(script[0], 0xAE);
	c->cntr++;
	ota_scp80_cntr_put(c->cntr_bytes, c->cntr);
	len = ota_scp80_cmd_build(&c->ks, c->spi, (const uint8_t *)"\x00\x00\x01", c->cntr_bytes, script, slen, pkt,
				  sizeof(pkt));
	CU_ASSERT_FATAL(len > 0);
	np = ota_sms_split(c, OTA_SMS_IEI_CPI, pkt, len, 0, false, &parts);
	CU_ASSERT_FATAL(np > 0);
	for (i = 0; i < np; i++)
		CU_ASSERT_EQUAL(ftc_feed_raw(c, parts[i].data, parts[i].len, 1000), 0);
	CU_ASSERT_EQUAL_FATAL(ftc_decode_por(c, 0), 0);
	/* the answer uses the same (indefinite) form */
	CU_ASSERT_EQUAL(c->resp->format, OTA_RAPDU_FMT_INDEFINITE);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_EQUAL(ftc_sw(c, 1, NULL, NULL), 0x9000);
	CU_ASSERT_TRUE(fleet_euicc_profile_by_aid(c->e, c->perso.prof[1].aid)->fallback);
	CU_ASSERT_FALSE(fleet_euicc_profile_by_aid(c->e, c->perso.prof[0].aid)->fallback);
	/* now the bootstrap profile (enabled, no longer fall-back) can be disabled: the operational one comes up */
	CU_ASSERT_EQUAL(gp_apdu_disable_profile(&a[0], c->perso.prof[0].aid, 16), 0);
	CU_ASSERT_FATAL(ftc_run(c, a, 1, 2000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_EQUAL(fleet_euicc_enabled(c->e)->aid[14], 0x11);
	talloc_free(parts);
	talloc_free(script);
}

static void test_other_tar(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 14);
	struct ota_rapdu_apdu ap;
	struct ota_sms_ud *parts = NULL;
	struct gp_capdu a;
	uint8_t *script, pkt[256];
	size_t slen;
	int len;

	/* an authentic packet for the ISD-P TAR 000010: the fleet does not run ES8 (SCP03t), PoR "TAR unknown" */
	CU_ASSERT_EQUAL(gp_apdu_get_data(&a, 0xFF21, NULL, 0), 0);
	ap.data = a.buf;
	ap.len = a.len;
	CU_ASSERT_FATAL(ota_rapdu_cmd_build_apdus(c, &ap, 1, OTA_RAPDU_FMT_DEFINITE, OTA_RAPDU_CHAIN_NONE, &script,
						  &slen) == 0);
	c->cntr++;
	ota_scp80_cntr_put(c->cntr_bytes, c->cntr);
	len = ota_scp80_cmd_build(&c->ks, c->spi, (const uint8_t *)"\x00\x00\x10", c->cntr_bytes, script, slen, pkt,
				  sizeof(pkt));
	CU_ASSERT_FATAL(len > 0);
	CU_ASSERT_EQUAL_FATAL(ota_sms_split(c, OTA_SMS_IEI_CPI, pkt, len, 0, false, &parts), 1);
	CU_ASSERT_EQUAL(ftc_feed_raw(c, parts[0].data, parts[0].len, 1000), 0);
	CU_ASSERT_EQUAL_FATAL(c->num_mo, 1);
	CU_ASSERT_EQUAL(ftc_decode_por(c, 0), -ENOENT);
	CU_ASSERT_EQUAL(c->por.status, OTA_SCP80_POR_TAR_UNKNOWN);
	CU_ASSERT_EQUAL(fleet_euicc_stats(c->e)->tar_unknown, 1);
	talloc_free(parts);
	talloc_free(script);
}

/* Garbage, truncations and bit flips of a valid packet: never a crash, never an execution, never a PoR
 * (except a flip that leaves the packet authentic, which cannot happen with a CC). */
static void test_garbage_input(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 15);
	const struct fleet_euicc_stats *s = fleet_euicc_stats(c->e);
	struct ota_sms_ud *parts = NULL, good;
	struct gp_capdu a;
	uint8_t buf[160];
	uint64_t x = 12345;
	unsigned int i, j;

	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a, c->perso.prof[1].aid, 16), 0);
	CU_ASSERT_EQUAL_FATAL(ftc_build(c, &a, 1, &parts), 1);
	good = parts[0];
	talloc_free(parts);
	for (i = 0; i < good.len; i++) {
		/* truncated */
		CU_ASSERT_EQUAL(ftc_feed_raw(c, good.data, i, 1000), 0);
		/* one bit flipped after the UDH */
		if (i >= 3) {
			memcpy(buf, good.data, good.len);
			buf[i] ^= 1 << (i % 8);
			CU_ASSERT_EQUAL(ftc_feed_raw(c, buf, good.len, 1000), 0);
		}
	}
	for (i = 0; i < 2000; i++) {
		size_t len;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		len = x % 141;
		for (j = 0; j < len; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[j] = x;
		}
		/* half of them look like OTA: UDH 02 70 00 */
		if (i % 2 && len >= 3)
			memcpy(buf, "\x02\x70\x00", 3);
		CU_ASSERT_EQUAL(ftc_feed_raw(c, buf, len, 1000 + i), 0);
	}
	/* too long for an SMS */
	CU_ASSERT_EQUAL(ftc_feed_raw(c, buf, 141, 5000), 0);
	CU_ASSERT_EQUAL(s->scripts, 0);
	CU_ASSERT_EQUAL(c->num_mo, 0);
	CU_ASSERT_EQUAL(fleet_euicc_cntr(c->e), 0);
	/* and the good packet still works afterwards */
	CU_ASSERT_EQUAL(ftc_feed_raw(c, good.data, good.len, 6000), 0);
	CU_ASSERT_EQUAL(ftc_decode_por(c, 0), 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
}

static void test_fallback_mechanism(void)
{
	struct ftc_card *c = ftc_card_new(g_test_ctx, 16);
	struct gp_notification n;
	struct fleet_mo *mo = NULL;
	struct gp_capdu a;
	unsigned int nmo = 0;
	uint16_t seq;

	/* on the fall-back profile already */
	CU_ASSERT_EQUAL(fleet_euicc_fallback(c->e, 500, c, &mo, &nmo), -EALREADY);
	/* the operational profile, with POL1 "disable not allowed" and "delete when disabled", is enabled ... */
	CU_ASSERT_EQUAL(fleet_euicc_set_pol1(c->e, c->perso.prof[1].aid,
					     FLEET_POL1_DISABLE_NOT_ALLOWED | FLEET_POL1_DELETE_ON_DISABLE), 0);
	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a, c->perso.prof[1].aid, 16), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 1000) == 0);
	CU_ASSERT_TRUE(fleet_euicc_notif_pending(c->e, &seq));
	CU_ASSERT_EQUAL(gp_apdu_notification_confirm(&a, seq), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 2000) == 0);
	/* ... and loses its network: fall-back ignores its POL1, notification type 05 naming the bootstrap */
	CU_ASSERT_EQUAL(fleet_euicc_fallback(c->e, 3000, c, &mo, &nmo), 0);
	ftc_collect(c, mo, nmo);
	CU_ASSERT_EQUAL_FATAL(c->num_notif, 2);
	CU_ASSERT_EQUAL(ftc_notif(c, 1, &n), 0);
	CU_ASSERT_EQUAL(n.type, GP_NOTIF_PROFILE_CHANGE_FALLBACK);
	CU_ASSERT_EQUAL(memcmp(n.aid, c->perso.prof[0].aid, 16), 0);
	CU_ASSERT_EQUAL(fleet_euicc_enabled(c->e)->aid[14], 0x10);
	/* confirmed: POL1 "delete when disabled" is not applied after a fall-back */
	CU_ASSERT_EQUAL(gp_apdu_notification_confirm(&a, n.seq), 0);
	CU_ASSERT_FATAL(ftc_run(c, &a, 1, 4000) == 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_EQUAL(c->resp->items[0].len, 0);
	CU_ASSERT_PTR_NOT_NULL(fleet_euicc_profile_by_aid(c->e, c->perso.prof[1].aid));
	CU_ASSERT_FALSE(fleet_euicc_notif_pending(c->e, NULL));
}

static const struct test_case euicc_cases[] = {
	TEST_CASE(test_perso_deterministic),
	TEST_CASE(test_eis_xml),
	TEST_CASE(test_get_status_and_data),
	TEST_CASE(test_enable_notify_confirm),
	TEST_CASE(test_notif_rollback),
	TEST_CASE(test_disable_and_delete),
	TEST_CASE(test_pol1),
	TEST_CASE(test_pol1_delete_on_disable),
	TEST_CASE(test_create_isdp),
	TEST_CASE(test_script_stops_at_error),
	TEST_CASE(test_wrong_key_silent),
	TEST_CASE(test_replay_not_executed),
	TEST_CASE(test_concatenated_three_parts),
	TEST_CASE(test_long_por_is_concatenated),
	TEST_CASE(test_indefinite_script_and_fallback),
	TEST_CASE(test_other_tar),
	TEST_CASE(test_garbage_input),
	TEST_CASE(test_fallback_mechanism),
	TEST_END
};


/* ------------------------------------------------------------------------------------------------------------
 * devices (device.c) with a fake SMSC sink and a fake clock
 */

struct sink_msg {
	char src[24];
	char dst[24];
	struct ota_sms_ud ud;
};

struct fake_sink {
	struct sink_msg *msg;
	unsigned int num;
	uint64_t hash;		/* FNV-1a over everything submitted, in order */
};

static int sink_submit(void *priv, const char *src, const char *dst, const uint8_t *ud, size_t len)
{
	struct fake_sink *fs = priv;
	struct sink_msg *m;
	size_t i;

	fs->msg = talloc_realloc(g_test_ctx, fs->msg, struct sink_msg, fs->num + 1);
	m = &fs->msg[fs->num++];
	memset(m, 0, sizeof(*m));
	osmo_strlcpy(m->src, src, sizeof(m->src));
	osmo_strlcpy(m->dst, dst, sizeof(m->dst));
	memcpy(m->ud.data, ud, len);
	m->ud.len = len;
	for (i = 0; i < strlen(src); i++)
		fs->hash = (fs->hash ^ (uint8_t)src[i]) * 0x100000001B3ULL;
	for (i = 0; i < len; i++)
		fs->hash = (fs->hash ^ ud[i]) * 0x100000001B3ULL;
	return 0;
}

static void *g_log_ctx;

static int devices_init(void)
{
	g_log_ctx = talloc_named_const(NULL, 0, "fleet test logging");
	osmo_init_logging2(g_log_ctx, &sgp02_log_info);
	log_set_print_category(osmo_stderr_target, 1);
	log_set_category_filter(osmo_stderr_target, DFLEET, 1, LOGL_ERROR);
	osmo_gettimeofday_override_time.tv_sec = 1000000;
	osmo_gettimeofday_override_time.tv_usec = 0;
	osmo_gettimeofday_override = true;
	return 0;
}

static int devices_cleanup(void)
{
	osmo_gettimeofday_override = false;
	return 0;
}

/* advance the fake clock in 10 ms steps, firing the timers */
static void clock_advance(uint64_t ms)
{
	while (ms) {
		uint64_t step = ms > 10 ? 10 : ms;

		osmo_gettimeofday_override_add(0, step * 1000);
		osmo_timers_prepare();
		osmo_timers_update();
		ms -= step;
	}
}

/* an SM-SR's view of device \a index of a fleet with manufacturing parameters \a p (no card of its own) */
static struct ftc_card *smsr_view(const struct fleet_eum_params *p, uint32_t index)
{
	struct ftc_card *c = talloc_zero(g_test_ctx, struct ftc_card);

	CU_ASSERT_FATAL(fleet_euicc_perso_derive(p, index, &c->perso) == 0);
	c->ks = c->perso.isdr_ks;
	c->spi[0] = 0x16;
	c->spi[1] = 0x39;
	return c;
}

static int send_cmd(struct fleet_devices *f, struct ftc_card *c, const struct gp_capdu *a, unsigned int n,
		    const char *msisdn)
{
	struct ota_sms_ud *parts = NULL;
	int np, i, rc = 0;

	np = ftc_build(c, a, n, &parts);
	CU_ASSERT_FATAL(np > 0);
	for (i = 0; i < np && rc == 0; i++)
		rc = fleet_devices_mt(f, "882", msisdn, parts[i].data, parts[i].len);
	talloc_free(parts);
	return rc;
}

static void test_devices_roundtrip(void)
{
	struct fleet_devices_cfg cfg;
	struct fake_sink fs = { 0 };
	struct fleet_mo_sink sink = { sink_submit, &fs };
	struct fleet_devices *f;
	struct ftc_card *c;
	struct gp_capdu a;
	struct gp_notification n;
	char msisdn[24];
	uint16_t seq;

	fleet_devices_cfg_default(&cfg);
	cfg.num = 10;
	f = fleet_devices_alloc(g_test_ctx, &cfg, &sink);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fleet_devices_stats(f)->cards, 0);
	CU_ASSERT_STRING_EQUAL(fleet_devices_msisdn(f, 3, msisdn, sizeof(msisdn)), "491500000003");
	CU_ASSERT_EQUAL(fleet_devices_lookup(f, "491500000003"), 3);
	CU_ASSERT_EQUAL(fleet_devices_lookup(f, "+491510000009"), 9);
	CU_ASSERT_EQUAL(fleet_devices_lookup(f, "491500000010"), -ENOENT);
	CU_ASSERT_EQUAL(fleet_devices_lookup(f, "491520000001"), -ENOENT);
	CU_ASSERT_EQUAL(fleet_devices_lookup(f, "4915000000031"), -ENOENT);

	/* enable the operational profile of device 3 */
	c = smsr_view(&cfg.eum, 3);
	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a, c->perso.prof[1].aid, 16), 0);
	CU_ASSERT_EQUAL(send_cmd(f, c, &a, 1, msisdn), 0);
	CU_ASSERT_EQUAL(fleet_devices_stats(f)->cards, 1);
	/* PoR from the bootstrap MSISDN to the sender, then the notification from the operational MSISDN */
	CU_ASSERT_EQUAL_FATAL(fs.num, 2);
	CU_ASSERT_STRING_EQUAL(fs.msg[0].src, "491500000003");
	CU_ASSERT_STRING_EQUAL(fs.msg[0].dst, "882");
	c->mo = talloc_zero(c, struct fleet_mo);
	c->mo[0].kind = FLEET_MO_POR;
	c->mo[0].ud = fs.msg[0].ud;
	c->num_mo = 1;
	CU_ASSERT_EQUAL(ftc_decode_por(c, 0), 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_STRING_EQUAL(fs.msg[1].src, "491510000003");
	CU_ASSERT_STRING_EQUAL(fs.msg[1].dst, "882");
	c->notif[0] = fs.msg[1].ud;
	c->num_notif = 1;
	CU_ASSERT_EQUAL(ftc_notif(c, 0, &n), 0);
	CU_ASSERT_EQUAL(n.type, GP_NOTIF_PROFILE_CHANGE_OK);
	CU_ASSERT_EQUAL(fleet_devices_notif_pending(f), 1);
	/* unconfirmed: the device re-sends it from its timer */
	clock_advance(30000);
	CU_ASSERT_EQUAL(fs.num, 3);
	CU_ASSERT_EQUAL(fleet_devices_stats(f)->notif_tx, 2);
	/* confirmation to the operational MSISDN stops it */
	seq = n.seq;
	CU_ASSERT_EQUAL(gp_apdu_notification_confirm(&a, seq), 0);
	CU_ASSERT_EQUAL(send_cmd(f, c, &a, 1, "491510000003"), 0);
	CU_ASSERT_EQUAL_FATAL(fs.num, 4);
	CU_ASSERT_STRING_EQUAL(fs.msg[3].src, "491510000003");
	CU_ASSERT_EQUAL(fleet_devices_notif_pending(f), 0);
	clock_advance(60000);
	CU_ASSERT_EQUAL(fs.num, 4);
	/* unknown numbers and offline devices */
	CU_ASSERT_EQUAL(fleet_devices_mt(f, "882", "491500000099", (const uint8_t *)"\x00", 1), -ENOENT);
	CU_ASSERT_EQUAL(fleet_devices_set_offline(f, 4, 1000), 0);
	CU_ASSERT_EQUAL(fleet_devices_mt(f, "882", "491500000004", (const uint8_t *)"\x00", 1), -EAGAIN);
	clock_advance(1000);
	CU_ASSERT_EQUAL(fleet_devices_mt(f, "882", "491500000004", (const uint8_t *)"\x00", 1), 0);
	CU_ASSERT_EQUAL(fleet_devices_stats(f)->mt_offline, 1);
	CU_ASSERT_EQUAL(fleet_devices_stats(f)->mt_unknown, 1);
	/* device 3 loses the operational network: notification type 05 from the bootstrap MSISDN */
	CU_ASSERT_EQUAL(fleet_devices_fallback(f, 3), 0);
	CU_ASSERT_EQUAL_FATAL(fs.num, 5);
	CU_ASSERT_STRING_EQUAL(fs.msg[4].src, "491500000003");
	c->notif[1] = fs.msg[4].ud;
	c->num_notif = 2;
	CU_ASSERT_EQUAL(ftc_notif(c, 1, &n), 0);
	CU_ASSERT_EQUAL(n.type, GP_NOTIF_PROFILE_CHANGE_FALLBACK);
	CU_ASSERT_EQUAL(fleet_devices_fallback(f, 3), -EALREADY);
	CU_ASSERT_EQUAL(fleet_devices_fallback(f, 10), -ENOENT);
	talloc_free(f);
}

static void test_devices_strict_msisdn(void)
{
	struct fleet_devices_cfg cfg;
	struct fake_sink fs = { 0 };
	struct fleet_mo_sink sink = { sink_submit, &fs };
	struct fleet_devices *f;

	fleet_devices_cfg_default(&cfg);
	cfg.num = 2;
	cfg.strict_msisdn = true;
	f = fleet_devices_alloc(g_test_ctx, &cfg, &sink);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	/* the operational profile is not enabled: its number reaches nobody */
	CU_ASSERT_EQUAL(fleet_devices_mt(f, "882", "491510000001", (const uint8_t *)"\x00", 1), -ENOENT);
	CU_ASSERT_EQUAL(fleet_devices_mt(f, "882", "491500000001", (const uint8_t *)"\x00", 1), 0);
	talloc_free(f);
}

struct fault_run {
	struct fleet_devices_stats st;
	struct fleet_euicc_stats cs;
	uint64_t hash;
	unsigned int sent, mo;
};

/* 10 devices, 300 commands (GET DATA, each executed at most once), all faults on */
static void fault_run(uint64_t seed, struct fault_run *out)
{
	struct fleet_devices_cfg cfg;
	struct fake_sink fs = { 0 };
	struct fleet_mo_sink sink = { sink_submit, &fs };
	struct fleet_devices *f;
	struct ftc_card *c[10];
	struct gp_capdu a;
	unsigned int i;

	fleet_devices_cfg_default(&cfg);
	cfg.num = 10;
	cfg.fault_seed = seed;
	cfg.faults.drop_mt = 0.1;
	cfg.faults.drop_mo = 0.1;
	cfg.faults.dup_mt = 0.2;
	cfg.faults.dup_mo = 0.1;
	cfg.faults.delay = 0.2;
	cfg.faults.reorder = 0.1;
	cfg.faults.offline = 0.02;
	cfg.faults.offline_ms = 500;
	f = fleet_devices_alloc(g_test_ctx, &cfg, &sink);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (i = 0; i < 10; i++)
		c[i] = smsr_view(&cfg.eum, i);
	CU_ASSERT_EQUAL(gp_apdu_get_data(&a, 0xFF21, NULL, 0), 0);
	memset(out, 0, sizeof(*out));
	for (i = 0; i < 300; i++) {
		char msisdn[24];

		fleet_devices_msisdn(f, i % 10, msisdn, sizeof(msisdn));
		send_cmd(f, c[i % 10], &a, 1, msisdn);
		out->sent++;
		clock_advance(50);
	}
	clock_advance(10000);
	CU_ASSERT_EQUAL(fleet_devices_in_flight(f), 0);
	out->st = *fleet_devices_stats(f);
	fleet_devices_card_stats(f, &out->cs);
	out->hash = fs.hash;
	out->mo = fs.num;
	talloc_free(f);
	talloc_free(fs.msg);
	for (i = 0; i < 10; i++)
		talloc_free(c[i]);
}

static void test_faults_deterministic(void)
{
	struct fault_run r1, r2, r3;

	fault_run(7, &r1);
	fault_run(7, &r2);
	fault_run(8, &r3);
	/* same seed, same everything */
	CU_ASSERT_EQUAL(memcmp(&r1.st, &r2.st, sizeof(r1.st)), 0);
	CU_ASSERT_EQUAL(memcmp(&r1.cs, &r2.cs, sizeof(r1.cs)), 0);
	CU_ASSERT_EQUAL(r1.hash, r2.hash);
	CU_ASSERT_EQUAL(r1.mo, r2.mo);
	/* another seed, other faults */
	CU_ASSERT_NOT_EQUAL(r1.hash, r3.hash);
	/* every fault happened and was counted */
	CU_ASSERT_TRUE(r1.st.mt_dropped > 0);
	CU_ASSERT_TRUE(r1.st.mt_duplicated > 0);
	CU_ASSERT_TRUE(r1.st.mt_delayed > 0);
	CU_ASSERT_TRUE(r1.st.mt_reordered > 0);
	CU_ASSERT_TRUE(r1.st.mo_dropped > 0);
	CU_ASSERT_TRUE(r1.st.mo_duplicated > 0);
	CU_ASSERT_TRUE(r1.st.mt_offline > 0);
	CU_ASSERT_TRUE(r1.st.offline_periods > 0);
	/* a command was executed at most once however often it arrived: duplicates hit the counter rule */
	CU_ASSERT_TRUE(r1.cs.scripts <= r1.sent);
	CU_ASSERT_TRUE(r1.cs.replayed > 0);
	CU_ASSERT_EQUAL(r1.cs.scripts + r1.cs.replayed, r1.st.mt_to_card);
	CU_ASSERT_EQUAL(r1.cs.discarded, 0);
}

static const struct test_case device_cases[] = {
	TEST_CASE(test_devices_roundtrip),
	TEST_CASE(test_devices_strict_msisdn),
	TEST_CASE(test_faults_deterministic),
	TEST_END
};

/* ------------------------------------------------------------------------------------------------------------
 * the wire: an ESME (smpp.h link) -> the fleet's SMSC -> devices -> cards -> deliver_sm back
 */

struct esme_test {
	struct smpp_link *link;
	bool bound;
	bool closed;
	unsigned int submitted;
	unsigned int submit_ok;
	struct sink_msg rx[16];		/* deliver_sm received (source, destination, user data) */
	unsigned int num_rx;
	unsigned int receipts;
};

static void esme_bind_resp(struct smpp_link *l, const struct smpp_pdu *resp, int err, void *data)
{
	struct esme_test *t = data;

	t->bound = !err && resp && resp->command_status == SMPP_ROK;
}

static void esme_submit_resp(struct smpp_link *l, const struct smpp_pdu *resp, int err, void *data)
{
	struct esme_test *t = data;

	if (!err && resp && resp->command_status == SMPP_ROK)
		t->submit_ok++;
}

static void esme_established(struct smpp_link *l)
{
	struct esme_test *t = smpp_link_data(l);
	struct smpp_pdu *b = talloc_zero(g_test_ctx, struct smpp_pdu);

	b->command_id = SMPP_BIND_TRANSCEIVER;
	osmo_strlcpy(b->system_id, "smsr", sizeof(b->system_id));
	osmo_strlcpy(b->password, "pw", sizeof(b->password));
	b->interface_version = 0x34;
	CU_ASSERT_EQUAL(smpp_link_request(l, b, esme_bind_resp, t), 0);
	talloc_free(b);
}

static void esme_request(struct smpp_link *l, const struct smpp_pdu *pdu)
{
	struct esme_test *t = smpp_link_data(l);

	if (pdu->command_id == SMPP_DELIVER_SM) {
		if (pdu->esm_class & SMPP_ESM_RECEIPT_MASK) {
			t->receipts++;
		} else if (t->num_rx < ARRAY_SIZE(t->rx)) {
			struct sink_msg *m = &t->rx[t->num_rx++];

			osmo_strlcpy(m->src, pdu->source_addr, sizeof(m->src));
			osmo_strlcpy(m->dst, pdu->destination_addr, sizeof(m->dst));
			CU_ASSERT(pdu->ud_len <= sizeof(m->ud.data));
			memcpy(m->ud.data, pdu->ud, OSMO_MIN(pdu->ud_len, sizeof(m->ud.data)));
			m->ud.len = OSMO_MIN(pdu->ud_len, sizeof(m->ud.data));
			CU_ASSERT(pdu->esm_class & SMPP_ESM_UDHI);
			CU_ASSERT_EQUAL(pdu->protocol_id, 0x7F);
			CU_ASSERT_EQUAL(pdu->data_coding, 0xF6);
		}
	}
	smpp_link_respond(l, pdu, SMPP_ROK, NULL);
}

static void esme_closed(struct smpp_link *l, enum smpp_link_end why)
{
	struct esme_test *t = smpp_link_data(l);

	t->closed = true;
}

static const struct smpp_link_ops esme_ops = {
	.established = esme_established,
	.request = esme_request,
	.closed = esme_closed,
};

static void esme_submit(struct esme_test *t, const char *dst, const struct ota_sms_ud *ud)
{
	struct smpp_pdu *p = talloc_zero(g_test_ctx, struct smpp_pdu);

	p->command_id = SMPP_SUBMIT_SM;
	osmo_strlcpy(p->source_addr, "882", sizeof(p->source_addr));
	p->source_addr_ton = 1;
	p->source_addr_npi = 1;
	osmo_strlcpy(p->destination_addr, dst, sizeof(p->destination_addr));
	p->dest_addr_ton = 1;
	p->dest_addr_npi = 1;
	p->esm_class = SMPP_ESM_UDHI;
	p->protocol_id = 0x7F;
	p->data_coding = 0xF6;
	memcpy(p->ud, ud->data, ud->len);
	p->ud_len = ud->len;
	CU_ASSERT_EQUAL(smpp_link_request(t->link, p, esme_submit_resp, t), 0);
	t->submitted++;
	talloc_free(p);
}

static void wake_cb(void *data)
{
	osmo_timer_schedule(data, 0, 20000);
}

/* run the loop until cond or 5 s */
#define RUN_UNTIL(cond) do { \
		struct osmo_timer_list wake = { 0 }; \
		struct timespec t0, t1; \
		osmo_timer_setup(&wake, wake_cb, &wake); \
		osmo_timer_schedule(&wake, 0, 20000); \
		clock_gettime(CLOCK_MONOTONIC, &t0); \
		do { \
			osmo_select_main_ctx(0); \
			clock_gettime(CLOCK_MONOTONIC, &t1); \
		} while (!(cond) && t1.tv_sec - t0.tv_sec < 5); \
		osmo_timer_del(&wake); \
	} while (0)

static int smpp_init(void)
{
	if (!g_log_ctx) {
		g_log_ctx = talloc_named_const(NULL, 0, "fleet test logging");
		osmo_init_logging2(g_log_ctx, &sgp02_log_info);
	}
	log_set_category_filter(osmo_stderr_target, DFLEET, 1, LOGL_ERROR);
	log_set_category_filter(osmo_stderr_target, DSMPP, 1, LOGL_ERROR);
	osmo_gettimeofday_override = false;
	return 0;
}

static void test_smpp_end_to_end(void)
{
	struct fleet_devices_cfg cfg;
	struct fleet_mo_sink sink = { fleet_devices_smsc_mo, NULL };
	struct smsc_ops sops = { .mt = fleet_devices_smsc_mt };
	struct smsc_cfg scfg = { .addr = "127.0.0.1", .port = 0, .system_id = "smsr", .password = "pw" };
	struct esme_test *t = talloc_zero(g_test_ctx, struct esme_test);
	struct fleet_devices *f;
	struct smsc *smsc;
	struct ftc_card *c;
	struct ota_sms_ud *parts = NULL;
	struct gp_notification n;
	struct gp_capdu a;
	int np;

	fleet_devices_cfg_default(&cfg);
	cfg.num = 5;
	f = fleet_devices_alloc(g_test_ctx, &cfg, &sink);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	smsc = smsc_alloc(g_test_ctx, &scfg, &sops, f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(smsc);
	sink.priv = smsc;
	CU_ASSERT_EQUAL(fleet_devices_set_sink(f, &sink), 0);
	t->link = smpp_link_connect(t, "127.0.0.1", smsc_port(smsc), &esme_ops, t, "test-esme");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t->link);
	RUN_UNTIL(t->bound || t->closed);
	CU_ASSERT_FATAL(t->bound);

	/* EnableProfile of device 2 over SMPP: PoR and notification come back as deliver_sm */
	c = smsr_view(&cfg.eum, 2);
	CU_ASSERT_EQUAL(gp_apdu_enable_profile(&a, c->perso.prof[1].aid, 16), 0);
	np = ftc_build(c, &a, 1, &parts);
	CU_ASSERT_EQUAL_FATAL(np, 1);
	esme_submit(t, "491500000002", &parts[0]);
	RUN_UNTIL(t->num_rx >= 2 || t->closed);
	CU_ASSERT_EQUAL(t->submit_ok, 1);
	CU_ASSERT_EQUAL_FATAL(t->num_rx, 2);
	CU_ASSERT_STRING_EQUAL(t->rx[0].src, "491500000002");
	CU_ASSERT_STRING_EQUAL(t->rx[0].dst, "882");
	c->mo = talloc_zero(c, struct fleet_mo);
	c->mo[0].kind = FLEET_MO_POR;
	c->mo[0].ud = t->rx[0].ud;
	c->num_mo = 1;
	CU_ASSERT_EQUAL(ftc_decode_por(c, 0), 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_STRING_EQUAL(t->rx[1].src, "491510000002");
	c->notif[0] = t->rx[1].ud;
	c->num_notif = 1;
	CU_ASSERT_EQUAL_FATAL(ftc_notif(c, 0, &n), 0);
	CU_ASSERT_EQUAL(n.type, GP_NOTIF_PROFILE_CHANGE_OK);
	/* the confirmation goes to the operational MSISDN */
	CU_ASSERT_EQUAL(gp_apdu_notification_confirm(&a, n.seq), 0);
	talloc_free(parts);
	np = ftc_build(c, &a, 1, &parts);
	esme_submit(t, "491510000002", &parts[0]);
	RUN_UNTIL(t->num_rx >= 3 || t->closed);
	CU_ASSERT_EQUAL_FATAL(t->num_rx, 3);
	c->mo[0].ud = t->rx[2].ud;
	CU_ASSERT_EQUAL(ftc_decode_por(c, 0), 0);
	CU_ASSERT_EQUAL(ftc_sw(c, 0, NULL, NULL), 0x9000);
	CU_ASSERT_EQUAL(fleet_devices_notif_pending(f), 0);
	/* an unknown number is refused at submit time */
	esme_submit(t, "491500000099", &parts[0]);
	RUN_UNTIL(t->submitted == 3 && smpp_link_outstanding(t->link) == 0);
	CU_ASSERT_EQUAL(t->submit_ok, 2);
	CU_ASSERT_EQUAL(fleet_devices_stats(f)->mt_unknown, 1);
	talloc_free(parts);

	talloc_free(t);
	talloc_free(smsc);
	talloc_free(f);
}

static const struct test_case smpp_cases[] = {
	TEST_CASE(test_smpp_end_to_end),
	TEST_END
};

static const struct test_suite suites[] = {
	{ "euicc", NULL, NULL, euicc_cases },
	{ "devices", devices_init, devices_cleanup, device_cases },
	{ "smpp", smpp_init, NULL, smpp_cases },
	{ NULL }
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, suites);
}
