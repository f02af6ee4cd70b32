/* SMPP 3.4 codec and links on a conn; see smpp.h.
 *
 * Codec: libsmpp34 packs and unpacks the PDU bodies, but we never hand it bytes from the network
 * before our own walker (smpp_body_check()) has checked the structure: every C-octet string
 * terminated within its SMPP 3.4 §5.2 size, every TLV inside the body, and at most
 * SMPP_MAX_TLVS of them. The library trusts its input in two ways we must not: strings are read
 * with strlen() and every field is logged into a fixed 2 KiB buffer with unchecked arithmetic, so
 * an unbounded number of fields would write past it. Its allocator is redirected to talloc on a
 * scratch context that is freed after every call, so an error half-way through leaks nothing.
 *
 * Link: a two-state reader (4 bytes of command_length, then the rest of the PDU) with the bound
 * SMPP_MAX_PDU_LEN; requests get sequence numbers 1..0x7FFFFFFF (§5.1.4) and wait in a bounded
 * window with a response timer each; enquire_link and unbind are answered here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <talloc.h>
#include <osmocom/core/linuxlist.h>
#include <osmocom/core/tdef.h>
#include <osmocom/core/timer.h>
#include <osmocom/core/utils.h>

#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>
#include <smpp34_heap.h>

#include <sgp02/common/logging.h>
#include <sgp02/common/conn.h>
#include <sgp02/common/smpp.h>

struct osmo_tdef smpp_tdefs[] = {
	{ .T = SMPP_T_RESP, .default_val = 10000, .val = 10000, .unit = OSMO_TDEF_MS,
	  .desc = "SMPP: wait this long for the response to a request (submit_sm, deliver_sm, bind, "
		  "enquire_link) before giving up on it" },
	{ .T = SMPP_T_ENQUIRE, .default_val = 30000, .val = 30000, .unit = OSMO_TDEF_MS,
	  .desc = "SMPP: send enquire_link this often while bound (SMPP 3.4 §4.11), so that a dead peer "
		  "is noticed" },
	{ .T = SMPP_T_UNBIND, .default_val = 2000, .val = 2000, .unit = OSMO_TDEF_MS,
	  .desc = "SMPP: after sending unbind, close the connection if no unbind_resp came in this long" },
	{}
};

/* ------------------------------------------------------------------ names */

static const struct value_string smpp_status_names[] = {
	{ SMPP_ROK, "ESME_ROK" },
	{ SMPP_RINVMSGLEN, "ESME_RINVMSGLEN" },
	{ SMPP_RINVCMDLEN, "ESME_RINVCMDLEN" },
	{ SMPP_RINVCMDID, "ESME_RINVCMDID" },
	{ SMPP_RINVBNDSTS, "ESME_RINVBNDSTS" },
	{ SMPP_RALYBND, "ESME_RALYBND" },
	{ 0x06, "ESME_RINVPRTFLG" },
	{ 0x07, "ESME_RINVREGDLVFLG" },
	{ SMPP_RSYSERR, "ESME_RSYSERR" },
	{ 0x0A, "ESME_RINVSRCADR" },
	{ SMPP_RINVDSTADR, "ESME_RINVDSTADR" },
	{ 0x0C, "ESME_RINVMSGID" },
	{ SMPP_RBINDFAIL, "ESME_RBINDFAIL" },
	{ SMPP_RINVPASWD, "ESME_RINVPASWD" },
	{ SMPP_RINVSYSID, "ESME_RINVSYSID" },
	{ 0x11, "ESME_RCANCELFAIL" },
	{ 0x13, "ESME_RREPLACEFAIL" },
	{ SMPP_RMSGQFUL, "ESME_RMSGQFUL" },
	{ 0x15, "ESME_RINVSERTYP" },
	{ 0x33, "ESME_RINVNUMDESTS" },
	{ 0x34, "ESME_RINVDLNAME" },
	{ 0x40, "ESME_RINVDESTFLAG" },
	{ 0x42, "ESME_RINVSUBREP" },
	{ 0x43, "ESME_RINVESMCLASS" },
	{ 0x44, "ESME_RCNTSUBDL" },
	{ SMPP_RSUBMITFAIL, "ESME_RSUBMITFAIL" },
	{ 0x48, "ESME_RINVSRCTON" },
	{ 0x49, "ESME_RINVSRCNPI" },
	{ 0x50, "ESME_RINVDSTTON" },
	{ 0x51, "ESME_RINVDSTNPI" },
	{ 0x53, "ESME_RINVSYSTYP" },
	{ 0x54, "ESME_RINVREPFLAG" },
	{ 0x55, "ESME_RINVNUMMSGS" },
	{ SMPP_RTHROTTLED, "ESME_RTHROTTLED" },
	{ 0x61, "ESME_RINVSCHED" },
	{ 0x62, "ESME_RINVEXPIRY" },
	{ 0x63, "ESME_RINVDFTMSGID" },
	{ SMPP_RX_T_APPN, "ESME_RX_T_APPN" },
	{ 0x65, "ESME_RX_P_APPN" },
	{ 0x66, "ESME_RX_R_APPN" },
	{ 0x67, "ESME_RQUERYFAIL" },
	{ SMPP_RINVOPTPARSTREAM, "ESME_RINVOPTPARSTREAM" },
	{ 0xC1, "ESME_ROPTPARNOTALLWD" },
	{ SMPP_RINVPARLEN, "ESME_RINVPARLEN" },
	{ 0xC3, "ESME_RMISSINGOPTPARAM" },
	{ 0xC4, "ESME_RINVOPTPARAMVAL" },
	{ 0xFE, "ESME_RDELIVERYFAILURE" },
	{ SMPP_RUNKNOWNERR, "ESME_RUNKNOWNERR" },
	{}
};

static const struct value_string smpp_command_names[] = {
	{ SMPP_GENERIC_NACK, "generic_nack" },
	{ SMPP_BIND_RECEIVER, "bind_receiver" },
	{ SMPP_BIND_RECEIVER | SMPP_RESP_BIT, "bind_receiver_resp" },
	{ SMPP_BIND_TRANSMITTER, "bind_transmitter" },
	{ SMPP_BIND_TRANSMITTER | SMPP_RESP_BIT, "bind_transmitter_resp" },
	{ 0x00000003, "query_sm" },
	{ 0x80000003, "query_sm_resp" },
	{ SMPP_SUBMIT_SM, "submit_sm" },
	{ SMPP_SUBMIT_SM | SMPP_RESP_BIT, "submit_sm_resp" },
	{ SMPP_DELIVER_SM, "deliver_sm" },
	{ SMPP_DELIVER_SM | SMPP_RESP_BIT, "deliver_sm_resp" },
	{ SMPP_UNBIND, "unbind" },
	{ SMPP_UNBIND | SMPP_RESP_BIT, "unbind_resp" },
	{ 0x00000007, "replace_sm" },
	{ 0x80000007, "replace_sm_resp" },
	{ 0x00000008, "cancel_sm" },
	{ 0x80000008, "cancel_sm_resp" },
	{ SMPP_BIND_TRANSCEIVER, "bind_transceiver" },
	{ SMPP_BIND_TRANSCEIVER | SMPP_RESP_BIT, "bind_transceiver_resp" },
	{ 0x0000000B, "outbind" },
	{ SMPP_ENQUIRE_LINK, "enquire_link" },
	{ SMPP_ENQUIRE_LINK | SMPP_RESP_BIT, "enquire_link_resp" },
	{ 0x00000021, "submit_multi" },
	{ 0x80000021, "submit_multi_resp" },
	{ 0x00000102, "alert_notification" },
	{ 0x00000103, "data_sm" },
	{ 0x80000103, "data_sm_resp" },
	{}
};

const char *smpp_status_name(uint32_t status)
{
	return get_value_string(smpp_status_names, status);
}

const char *smpp_command_name(uint32_t command_id)
{
	return get_value_string(smpp_command_names, command_id);
}

static const struct value_string smpp_end_names[] = {
	{ SMPP_END_PEER, "closed by peer" },
	{ SMPP_END_UNBIND, "unbound" },
	{ SMPP_END_ERROR, "connection error" },
	{ SMPP_END_TIMEOUT, "peer unresponsive" },
	{ SMPP_END_PROTOCOL, "protocol error" },
	{ SMPP_END_LOCAL, "closed locally" },
	{}
};

const char *smpp_link_end_name(enum smpp_link_end e)
{
	return get_value_string(smpp_end_names, e);
}

/* ------------------------------------------------------------------ libsmpp34 allocator */

/* All libsmpp34 allocations land on this scratch context, set around each call (one loop, one
 * thread: no concurrent use). */
static void *g_smpp34_scratch;

static void *smpp34_talloc_malloc(size_t sz)
{
	return talloc_size(g_smpp34_scratch, sz);
}

static void *smpp34_talloc_realloc(void *ptr, size_t sz)
{
	return talloc_realloc_size(g_smpp34_scratch, ptr, sz);
}

static void smpp34_talloc_free(void *ptr)
{
	talloc_free(ptr);
}

static const struct smpp34_memory_functions smpp34_talloc_fns = {
	.malloc_fun = smpp34_talloc_malloc,
	.realloc_fun = smpp34_talloc_realloc,
	.free_fun = smpp34_talloc_free,
};

static void smpp34_scratch_begin(void)
{
	static bool hooked;

	if (!hooked) {
		smpp34_set_memory_functions(&smpp34_talloc_fns);
		hooked = true;
	}
	g_smpp34_scratch = talloc_named_const(NULL, 0, "smpp34 scratch");
}

static void smpp34_scratch_end(void)
{
	talloc_free(g_smpp34_scratch);
	g_smpp34_scratch = NULL;
}

/* ------------------------------------------------------------------ structural check */

/* Field kinds of a PDU body layout: a C-octet string with its maximum size including the NUL,
 * an 8-bit integer, or sm_length + short_message. */
#define F_STR(n)	(n)
#define F_U8		(-1)
#define F_SM		(-2)
#define F_END		(0)

static const int layout_bind[] = { F_STR(16), F_STR(9), F_STR(13), F_U8, F_U8, F_U8, F_STR(41), F_END };
static const int layout_bind_resp[] = { F_STR(16), F_END };
static const int layout_submit_sm[] = {
	F_STR(6), F_U8, F_U8, F_STR(21), F_U8, F_U8, F_STR(21), F_U8, F_U8, F_U8, F_STR(17), F_STR(17),
	F_U8, F_U8, F_U8, F_U8, F_SM, F_END };
/* §4.6.1: schedule_delivery_time and validity_period are NULL in deliver_sm */
static const int layout_deliver_sm[] = {
	F_STR(6), F_U8, F_U8, F_STR(21), F_U8, F_U8, F_STR(21), F_U8, F_U8, F_U8, F_STR(1), F_STR(1),
	F_U8, F_U8, F_U8, F_U8, F_SM, F_END };
static const int layout_submit_sm_resp[] = { F_STR(65), F_END };
static const int layout_deliver_sm_resp[] = { F_STR(1), F_END };

/* Walk a body against its layout. \returns 0 or an SMPP status saying what is wrong. */
static uint32_t smpp_body_check(const uint8_t *p, size_t len, const int *layout, bool tlvs_allowed)
{
	size_t off = 0;
	unsigned int ntlv = 0;
	int i;

	for (i = 0; layout[i] != F_END; i++) {
		if (layout[i] > 0) {
			const uint8_t *nul = memchr(p + off, 0, OSMO_MIN(len - off, (size_t)layout[i]));

			if (!nul)
				return SMPP_RINVMSGLEN;
			off = nul - p + 1;
		} else if (layout[i] == F_U8) {
			if (off + 1 > len)
				return SMPP_RINVMSGLEN;
			off++;
		} else {
			size_t sm_len;

			if (off + 1 > len)
				return SMPP_RINVMSGLEN;
			sm_len = p[off++];
			if (sm_len > SMPP_SM_MAX + 1 || off + sm_len > len)
				return SMPP_RINVMSGLEN;
			off += sm_len;
		}
	}
	while (off < len) {
		size_t tlen;

		if (!tlvs_allowed || ++ntlv > SMPP_MAX_TLVS)
			return SMPP_RINVOPTPARSTREAM;
		if (off + 4 > len)
			return SMPP_RINVOPTPARSTREAM;
		tlen = (p[off + 2] << 8) | p[off + 3];
		off += 4;
		if (tlen > len - off || tlen > SMPP_UD_MAX)
			return SMPP_RINVPARLEN;
		off += tlen;
	}
	return 0;
}

/* ------------------------------------------------------------------ codec */

static uint32_t get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Copy a NUL-terminated string into a fixed field; refuse rather than truncate. */
static int str_in(void *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size);

	if (n >= size)
		return -EINVAL;
	memcpy(dst, src, n + 1);
	return 0;
}

static void str_out(char *dst, size_t size, const void *src, size_t src_size)
{
	size_t n = strnlen(src, OSMO_MIN(size - 1, src_size));

	memcpy(dst, src, n);
	dst[n] = '\0';
}

union smpp34_any {
	bind_transceiver_t bind;
	bind_transceiver_resp_t bind_resp;
	submit_sm_t submit;
	submit_sm_resp_t submit_resp;
	deliver_sm_t deliver;
	deliver_sm_resp_t deliver_resp;
};

static bool is_bind(uint32_t id)
{
	return id == SMPP_BIND_TRANSCEIVER || id == SMPP_BIND_TRANSMITTER || id == SMPP_BIND_RECEIVER;
}

static bool header_only(uint32_t id)
{
	return id == SMPP_GENERIC_NACK || id == SMPP_ENQUIRE_LINK || id == (SMPP_ENQUIRE_LINK | SMPP_RESP_BIT) ||
	       id == SMPP_UNBIND || id == (SMPP_UNBIND | SMPP_RESP_BIT);
}

/* Fill the common part of submit_sm / deliver_sm (the two structs share these field names). */
#define SM_FIELDS_IN(t, pdu, rc) do { \
		rc |= str_in((t)->service_type, sizeof((t)->service_type), (pdu)->service_type); \
		(t)->source_addr_ton = (pdu)->source_addr_ton; \
		(t)->source_addr_npi = (pdu)->source_addr_npi; \
		rc |= str_in((t)->source_addr, sizeof((t)->source_addr), (pdu)->source_addr); \
		(t)->dest_addr_ton = (pdu)->dest_addr_ton; \
		(t)->dest_addr_npi = (pdu)->dest_addr_npi; \
		rc |= str_in((t)->destination_addr, sizeof((t)->destination_addr), (pdu)->destination_addr); \
		(t)->esm_class = (pdu)->esm_class; \
		(t)->protocol_id = (pdu)->protocol_id; \
		(t)->priority_flag = (pdu)->priority_flag; \
		(t)->registered_delivery = (pdu)->registered_delivery; \
		(t)->data_coding = (pdu)->data_coding; \
	} while (0)

#define SM_FIELDS_OUT(t, pdu) do { \
		str_out((pdu)->service_type, sizeof((pdu)->service_type), (t)->service_type, \
			sizeof((t)->service_type)); \
		(pdu)->source_addr_ton = (t)->source_addr_ton; \
		(pdu)->source_addr_npi = (t)->source_addr_npi; \
		str_out((pdu)->source_addr, sizeof((pdu)->source_addr), (t)->source_addr, sizeof((t)->source_addr)); \
		(pdu)->dest_addr_ton = (t)->dest_addr_ton; \
		(pdu)->dest_addr_npi = (t)->dest_addr_npi; \
		str_out((pdu)->destination_addr, sizeof((pdu)->destination_addr), (t)->destination_addr, \
			sizeof((t)->destination_addr)); \
		(pdu)->esm_class = (t)->esm_class; \
		(pdu)->protocol_id = (t)->protocol_id; \
		(pdu)->priority_flag = (t)->priority_flag; \
		(pdu)->registered_delivery = (t)->registered_delivery; \
		(pdu)->data_coding = (t)->data_coding; \
		(pdu)->ud_len = (t)->sm_length; \
		memcpy((pdu)->ud, (t)->short_message, (t)->sm_length); \
	} while (0)

int smpp_pdu_encode(const struct smpp_pdu *pdu, uint8_t *buf, size_t size, size_t *len)
{
	union smpp34_any u;
	tlv_t tlv[3];
	tlv_t **tail = NULL;
	uint32_t id = pdu->command_id;
	int plen = 0;
	int rc = 0;

	if (pdu->sequence_number == 0 || pdu->sequence_number > 0x7FFFFFFF)
		return -EINVAL;
	/* §4.1.2, §4.4.2, §4.6.2: an error response has no body */
	if (header_only(id) || ((id & SMPP_RESP_BIT) && pdu->command_status != SMPP_ROK)) {
		if (size < 16)
			return -ENOBUFS;
		put_u32(buf, 16);
		put_u32(buf + 4, id);
		put_u32(buf + 8, pdu->command_status);
		put_u32(buf + 12, pdu->sequence_number);
		*len = 16;
		return 0;
	}
	if (size > SMPP_MAX_PDU_LEN)
		size = SMPP_MAX_PDU_LEN;

	memset(&u, 0, sizeof(u));
	memset(tlv, 0, sizeof(tlv));
	/* the header fields sit at the same place in every libsmpp34 PDU struct */
	u.bind.command_id = id;
	u.bind.command_status = pdu->command_status;
	u.bind.sequence_number = pdu->sequence_number;

	if (is_bind(id)) {
		rc |= str_in(u.bind.system_id, sizeof(u.bind.system_id), pdu->system_id);
		rc |= str_in(u.bind.password, sizeof(u.bind.password), pdu->password);
		rc |= str_in(u.bind.system_type, sizeof(u.bind.system_type), pdu->system_type);
		u.bind.interface_version = pdu->interface_version ? pdu->interface_version : SMPP_VERSION;
		u.bind.addr_ton = pdu->addr_ton;
		u.bind.addr_npi = pdu->addr_npi;
		rc |= str_in(u.bind.address_range, sizeof(u.bind.address_range), pdu->address_range);
	} else if ((id & ~SMPP_RESP_BIT) && is_bind(id & ~SMPP_RESP_BIT)) {
		rc |= str_in(u.bind_resp.system_id, sizeof(u.bind_resp.system_id), pdu->system_id);
	} else if (id == SMPP_SUBMIT_SM || id == SMPP_DELIVER_SM) {
		if (pdu->ud_len > SMPP_UD_MAX)
			return -EINVAL;
		if (id == SMPP_SUBMIT_SM) {
			SM_FIELDS_IN(&u.submit, pdu, rc);
			tail = &u.submit.tlv;
		} else {
			SM_FIELDS_IN(&u.deliver, pdu, rc);
			tail = &u.deliver.tlv;
		}
		if (pdu->ud_len <= SMPP_SM_MAX) {
			if (id == SMPP_SUBMIT_SM) {
				u.submit.sm_length = pdu->ud_len;
				memcpy(u.submit.short_message, pdu->ud, pdu->ud_len);
			} else {
				u.deliver.sm_length = pdu->ud_len;
				memcpy(u.deliver.short_message, pdu->ud, pdu->ud_len);
			}
		} else {
			/* §5.3.2.32: message_payload replaces short_message (sm_length 0) */
			tlv[0].tag = TLVID_message_payload;
			tlv[0].length = pdu->ud_len;
			memcpy(tlv[0].value.octet, pdu->ud, pdu->ud_len);
			*tail = &tlv[0];
			tail = &tlv[0].next;
		}
		if (id == SMPP_DELIVER_SM && pdu->receipted_message_id[0]) {
			size_t n = strnlen(pdu->receipted_message_id, sizeof(pdu->receipted_message_id) - 1);

			tlv[1].tag = TLVID_receipted_message_id;
			tlv[1].length = n + 1;
			memcpy(tlv[1].value.octet, pdu->receipted_message_id, n + 1);
			*tail = &tlv[1];
			tail = &tlv[1].next;
		}
		if (id == SMPP_DELIVER_SM && pdu->message_state) {
			tlv[2].tag = TLVID_message_state;
			tlv[2].length = 1;
			tlv[2].value.val08 = pdu->message_state;
			*tail = &tlv[2];
		}
	} else if (id == (SMPP_SUBMIT_SM | SMPP_RESP_BIT)) {
		rc |= str_in(u.submit_resp.message_id, sizeof(u.submit_resp.message_id), pdu->message_id);
	} else if (id == (SMPP_DELIVER_SM | SMPP_RESP_BIT)) {
		/* §4.6.2: message_id unused, NULL */
	} else {
		return -EINVAL;
	}
	if (rc)
		return -EINVAL;

	smpp34_scratch_begin();
	/* libsmpp34 wants one spare octet beyond the PDU */
	rc = smpp34_pack2(buf, (int)size, &plen, &u);
	smpp34_scratch_end();
	if (rc != 0)
		return -ENOBUFS;	/* every field was checked above: what is left is room */
	if (plen < 16)
		return -EINVAL;
	*len = plen;
	return 0;
}

int smpp_pdu_decode(struct smpp_pdu *pdu, const uint8_t *buf, size_t len, uint32_t *nack_status)
{
	union smpp34_any u;
	const int *layout;
	bool tlvs = true;
	const tlv_t *t = NULL;
	uint8_t *copy;
	uint32_t id, st;
	int rc;

	*nack_status = SMPP_ROK;
	memset(pdu, 0, sizeof(*pdu));
	if (len < 16 || len > SMPP_MAX_PDU_LEN || get_u32(buf) != len) {
		*nack_status = SMPP_RINVCMDLEN;
		return -EBADMSG;
	}
	id = get_u32(buf + 4);
	pdu->command_id = id;
	pdu->command_status = get_u32(buf + 8);
	pdu->sequence_number = get_u32(buf + 12);

	if (header_only(id)) {
		if (len != 16) {
			*nack_status = SMPP_RINVCMDLEN;
			return -EBADMSG;
		}
		return 0;
	}
	/* error responses carry no body (and libsmpp34 refuses status values it does not know) */
	if ((id & SMPP_RESP_BIT) && (pdu->command_status != SMPP_ROK || len == 16))
		return 0;

	if (is_bind(id)) {
		layout = layout_bind;
		tlvs = false;
	} else if ((id & SMPP_RESP_BIT) && is_bind(id & ~SMPP_RESP_BIT)) {
		layout = layout_bind_resp;
	} else if (id == SMPP_SUBMIT_SM) {
		layout = layout_submit_sm;
	} else if (id == SMPP_DELIVER_SM) {
		layout = layout_deliver_sm;
	} else if (id == (SMPP_SUBMIT_SM | SMPP_RESP_BIT)) {
		layout = layout_submit_sm_resp;
		tlvs = false;
	} else if (id == (SMPP_DELIVER_SM | SMPP_RESP_BIT)) {
		layout = layout_deliver_sm_resp;
		tlvs = false;
	} else {
		*nack_status = SMPP_RINVCMDID;
		return -ENOTSUP;
	}
	st = smpp_body_check(buf + 16, len - 16, layout, tlvs);
	if (st) {
		*nack_status = st;
		return -EBADMSG;
	}

	memset(&u, 0, sizeof(u));
	smpp34_scratch_begin();
	/* a private copy with the status zeroed: for requests it must be NULL (§3.2) and libsmpp34
	 * refuses values missing from its table */
	copy = talloc_size(g_smpp34_scratch, len + 1);
	if (!copy) {
		smpp34_scratch_end();
		*nack_status = SMPP_RSYSERR;
		return -EBADMSG;
	}
	memcpy(copy, buf, len);
	copy[len] = 0;	/* bounds any string scan, whatever the checks above missed */
	memset(copy + 8, 0, 4);
	rc = smpp34_unpack2(&u, copy, (int)len);
	if (rc != 0) {
		LOGP(DSMPP, LOGL_INFO, "%s: body refused by the codec\n", smpp_command_name(id));
		smpp34_scratch_end();
		*nack_status = SMPP_RINVMSGLEN;
		return -EBADMSG;
	}

	if (is_bind(id)) {
		str_out(pdu->system_id, sizeof(pdu->system_id), u.bind.system_id, sizeof(u.bind.system_id));
		str_out(pdu->password, sizeof(pdu->password), u.bind.password, sizeof(u.bind.password));
		str_out(pdu->system_type, sizeof(pdu->system_type), u.bind.system_type, sizeof(u.bind.system_type));
		pdu->interface_version = u.bind.interface_version;
		pdu->addr_ton = u.bind.addr_ton;
		pdu->addr_npi = u.bind.addr_npi;
		str_out(pdu->address_range, sizeof(pdu->address_range), u.bind.address_range,
			sizeof(u.bind.address_range));
	} else if (layout == layout_bind_resp) {
		str_out(pdu->system_id, sizeof(pdu->system_id), u.bind_resp.system_id, sizeof(u.bind_resp.system_id));
	} else if (id == SMPP_SUBMIT_SM) {
		SM_FIELDS_OUT(&u.submit, pdu);
		t = u.submit.tlv;
	} else if (id == SMPP_DELIVER_SM) {
		SM_FIELDS_OUT(&u.deliver, pdu);
		t = u.deliver.tlv;
	} else if (id == (SMPP_SUBMIT_SM | SMPP_RESP_BIT)) {
		str_out(pdu->message_id, sizeof(pdu->message_id), u.submit_resp.message_id,
			sizeof(u.submit_resp.message_id));
	}
	for (; t; t = t->next) {
		switch (t->tag) {
		case TLVID_message_payload:
			/* §5.3.2.32: not allowed together with a non-empty short_message */
			if (pdu->ud_len || t->length > SMPP_UD_MAX) {
				smpp34_scratch_end();
				*nack_status = SMPP_RINVOPTPARSTREAM;
				return -EBADMSG;
			}
			memcpy(pdu->ud, t->value.octet, t->length);
			pdu->ud_len = t->length;
			break;
		case TLVID_receipted_message_id:
			str_out(pdu->receipted_message_id, sizeof(pdu->receipted_message_id), t->value.octet,
				OSMO_MIN((size_t)t->length, sizeof(t->value.octet)));
			break;
		case TLVID_message_state:
			pdu->message_state = t->value.val08;
			break;
		default:
			break;
		}
	}
	pdu->command_status = get_u32(buf + 8);
	smpp34_scratch_end();
	return 0;
}

/* Appendix B: the receipt text is a series of "name:value" words; "submit date" and
 * "done date" contain a space, which does not matter for the fields we pick. */
static void receipt_field(const char *txt, const char *name, char *out, size_t out_size)
{
	const char *p = txt;
	size_t nl = strlen(name);

	out[0] = '\0';
	while ((p = strstr(p, name))) {
		if (p == txt || p[-1] == ' ') {
			size_t n = 0;

			p += nl;
			while (p[n] && p[n] != ' ' && n < out_size - 1)
				n++;
			memcpy(out, p, n);
			out[n] = '\0';
			return;
		}
		p += nl;
	}
}

int smpp_receipt_parse(const uint8_t *text, size_t len, char *id, char *stat, unsigned int *err)
{
	char txt[256];
	char errs[8];
	size_t n = OSMO_MIN(len, sizeof(txt) - 1);
	size_t i;

	/* the text is not NUL-terminated and may hold anything: work on a printable copy */
	for (i = 0; i < n; i++)
		txt[i] = (text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : ' ';
	txt[n] = '\0';
	receipt_field(txt, "id:", id, 65);
	receipt_field(txt, "stat:", stat, 8);
	receipt_field(txt, "err:", errs, sizeof(errs));
	if (err)
		*err = (unsigned int)strtoul(errs, NULL, 10);
	return id[0] ? 0 : -EINVAL;
}

/* ------------------------------------------------------------------ links */

#define LOGL(l, level, fmt, args...) LOGP(DSMPP, level, "%s: " fmt, (l)->name, ## args)

#define SMPP_DEFAULT_WINDOW	10

struct smpp_out {
	struct llist_head list;
	struct smpp_link *l;
	uint32_t seq;
	uint32_t cmd;
	bool windowed;		/*!< counts towards the window */
	smpp_resp_cb cb;	/*!< NULL for the link's own enquire_link / unbind */
	void *cb_data;
	struct osmo_timer_list timer;
};

struct smpp_link {
	struct conn *conn;
	const struct smpp_link_ops *ops;
	void *data;
	char *name;

	/* two-state reader: hdr[] until 4 bytes, then pdu[] of command_length bytes */
	uint8_t hdr[4];
	size_t hdr_got;
	uint8_t *pdu;
	size_t pdu_len;
	size_t pdu_got;

	uint32_t next_seq;
	struct llist_head outstanding;
	unsigned int n_windowed;
	unsigned int window;

	bool keepalive;
	bool enquire_pending;
	struct osmo_timer_list enquire_timer;
	bool unbinding;
	struct osmo_timer_list unbind_timer;

	bool up;		/*!< TCP established and not ended */
	bool dead;
	enum smpp_link_end why;
	struct osmo_timer_list end_timer;

	unsigned int cb_depth;
	bool free_pending;
};

static void link_end(struct smpp_link *l, enum smpp_link_end why, bool flush);

/* The conn of an ended link: keep flushing, tell nobody. */
static int orphan_data(struct conn *c, const uint8_t *buf, size_t len)
{
	return 0;
}

static void orphan_closed(struct conn *c, enum conn_close_reason reason)
{
}

static const struct conn_ops orphan_ops = {
	.data = orphan_data,
	.closed = orphan_closed,
};

/* The conn of an ended link that still flushes its last PDUs. */
static void draining_closed(struct conn *c, enum conn_close_reason reason)
{
	struct smpp_link *l = conn_get_data(c);

	/* the conn frees itself after this returns */
	l->conn = NULL;
	osmo_timer_schedule(&l->end_timer, 0, 0);
}

static const struct conn_ops draining_ops = {
	.data = orphan_data,
	.closed = draining_closed,
};

static void link_release_resources(struct smpp_link *l)
{
	struct smpp_out *o, *tmp;

	osmo_timer_del(&l->enquire_timer);
	osmo_timer_del(&l->unbind_timer);
	osmo_timer_del(&l->end_timer);
	llist_for_each_entry_safe(o, tmp, &l->outstanding, list) {
		osmo_timer_del(&o->timer);
		llist_del(&o->list);
		talloc_free(o);
	}
	l->n_windowed = 0;
	if (l->conn) {
		conn_set_ops(l->conn, &orphan_ops);
		conn_set_data(l->conn, NULL);
		talloc_free(l->conn);
		l->conn = NULL;
	}
	l->up = false;
	l->dead = true;
}

static int link_destructor(struct smpp_link *l)
{
	link_release_resources(l);
	if (l->cb_depth > 0) {
		/* freed from inside one of our own callbacks: the memory goes when it returns */
		l->free_pending = true;
		return -1;
	}
	return 0;
}

static void link_hold(struct smpp_link *l)
{
	l->cb_depth++;
}

/* \returns false if the link was freed meanwhile (and now is gone). */
static bool link_release(struct smpp_link *l)
{
	if (--l->cb_depth > 0)
		return !l->free_pending;
	if (l->free_pending) {
		talloc_set_destructor(l, NULL);
		talloc_free(l);
		return false;
	}
	return true;
}

static int link_write(struct smpp_link *l, const struct smpp_pdu *pdu)
{
	uint8_t buf[SMPP_UD_MAX + 512];
	size_t len = 0;
	int rc;

	if (!l->conn || l->dead)
		return -ENOTCONN;
	rc = smpp_pdu_encode(pdu, buf, sizeof(buf), &len);
	if (rc < 0) {
		LOGL(l, LOGL_ERROR, "cannot encode %s: %s\n", smpp_command_name(pdu->command_id), strerror(-rc));
		return rc;
	}
	LOGL(l, LOGL_DEBUG, "tx %s seq=%u status=%s\n", smpp_command_name(pdu->command_id), pdu->sequence_number,
	     smpp_status_name(pdu->command_status));
	rc = conn_write(l->conn, buf, len);
	return rc < 0 ? -ENOTCONN : 0;
}

static void send_generic_nack(struct smpp_link *l, uint32_t seq, uint32_t status)
{
	struct smpp_pdu nack = {
		.command_id = SMPP_GENERIC_NACK,
		.command_status = status,
		/* §4.3: the sequence number of the offending PDU; when unknown we still need a valid one */
		.sequence_number = seq && seq <= 0x7FFFFFFF ? seq : 1,
	};

	LOGL(l, LOGL_NOTICE, "generic_nack seq=%u: %s\n", seq, smpp_status_name(status));
	link_write(l, &nack);
}

static void link_end_cb(void *data)
{
	struct smpp_link *l = data;
	struct smpp_out *o;

	link_hold(l);
	/* fail the outstanding requests first, one at a time: a callback may free the link */
	while (!l->free_pending && !llist_empty(&l->outstanding)) {
		o = llist_first_entry(&l->outstanding, struct smpp_out, list);
		llist_del(&o->list);
		osmo_timer_del(&o->timer);
		if (o->windowed)
			l->n_windowed--;
		if (o->cb)
			o->cb(l, NULL, -ENOTCONN, o->cb_data);
		talloc_free(o);
	}
	if (!l->free_pending && l->ops && l->ops->closed)
		l->ops->closed(l, l->why);
	link_release(l);
}

/* End the link: stop everything, let the conn flush (or go at once), tell the owner from the loop. */
static void link_end(struct smpp_link *l, enum smpp_link_end why, bool flush)
{
	if (l->dead)
		return;
	l->dead = true;
	l->up = false;
	l->why = why;
	osmo_timer_del(&l->enquire_timer);
	osmo_timer_del(&l->unbind_timer);
	TALLOC_FREE(l->pdu);
	LOGL(l, why == SMPP_END_LOCAL || why == SMPP_END_UNBIND ? LOGL_INFO : LOGL_NOTICE, "link ended: %s\n",
	     smpp_link_end_name(why));
	if (l->conn && flush) {
		/* the last answers (unbind_resp, a refused bind_resp, generic_nack) go out first; the
		 * owner hears of the end once the conn is closed (draining_closed) */
		conn_set_ops(l->conn, &draining_ops);
		conn_close(l->conn);
		return;
	}
	if (l->conn) {
		struct conn *c = l->conn;

		l->conn = NULL;
		conn_set_ops(c, &orphan_ops);
		conn_set_data(c, NULL);
		talloc_free(c);
	}
	osmo_timer_schedule(&l->end_timer, 0, 0);
}

static void out_timeout_cb(void *data)
{
	struct smpp_out *o = data;
	struct smpp_link *l = o->l;
	uint32_t cmd = o->cmd;

	llist_del(&o->list);
	if (o->windowed)
		l->n_windowed--;
	LOGL(l, LOGL_NOTICE, "no answer to %s seq=%u\n", smpp_command_name(o->cmd), o->seq);
	if (!o->cb) {
		/* our own enquire_link or unbind */
		talloc_free(o);
		link_end(l, cmd == SMPP_UNBIND ? SMPP_END_UNBIND : SMPP_END_TIMEOUT, false);
		return;
	}
	link_hold(l);
	o->cb(l, NULL, -ETIMEDOUT, o->cb_data);
	talloc_free(o);
	link_release(l);
}

static int link_send_request(struct smpp_link *l, struct smpp_pdu *pdu, bool windowed, smpp_resp_cb cb,
			     void *cb_data)
{
	struct smpp_out *o;
	unsigned long ms;
	int rc;

	if (!l->up || l->dead)
		return -ENOTCONN;
	if (windowed && l->n_windowed >= l->window)
		return -EBUSY;
	pdu->sequence_number = l->next_seq;
	pdu->command_status = 0;
	l->next_seq = l->next_seq >= 0x7FFFFFFF ? 1 : l->next_seq + 1;
	o = talloc_zero(l, struct smpp_out);
	if (!o)
		return -ENOMEM;
	o->l = l;
	o->seq = pdu->sequence_number;
	o->cmd = pdu->command_id;
	o->windowed = windowed;
	o->cb = cb;
	o->cb_data = cb_data;
	rc = link_write(l, pdu);
	if (rc < 0) {
		talloc_free(o);
		return rc;
	}
	osmo_timer_setup(&o->timer, out_timeout_cb, o);
	ms = osmo_tdef_get(smpp_tdefs, o->cmd == SMPP_UNBIND ? SMPP_T_UNBIND : SMPP_T_RESP, OSMO_TDEF_MS, -1);
	osmo_timer_schedule(&o->timer, ms / 1000, (ms % 1000) * 1000);
	llist_add_tail(&o->list, &l->outstanding);
	if (windowed)
		l->n_windowed++;
	return 0;
}

static void handle_response(struct smpp_link *l, const uint8_t *buf, size_t len)
{
	struct smpp_pdu *pdu;
	struct smpp_out *o, *found = NULL;
	uint32_t seq = get_u32(buf + 12);
	uint32_t id = get_u32(buf + 4);
	uint32_t nack;
	int rc;

	llist_for_each_entry(o, &l->outstanding, list) {
		if (o->seq == seq) {
			found = o;
			break;
		}
	}
	if (!found) {
		LOGL(l, LOGL_NOTICE, "%s seq=%u answers nothing we sent; ignored\n", smpp_command_name(id), seq);
		return;
	}
	if (id != SMPP_GENERIC_NACK && id != (found->cmd | SMPP_RESP_BIT)) {
		LOGL(l, LOGL_NOTICE, "%s seq=%u does not answer %s; ignored\n", smpp_command_name(id), seq,
		     smpp_command_name(found->cmd));
		return;
	}
	llist_del(&found->list);
	osmo_timer_del(&found->timer);
	if (found->windowed)
		l->n_windowed--;

	pdu = talloc(l, struct smpp_pdu);
	rc = pdu ? smpp_pdu_decode(pdu, buf, len, &nack) : -ENOMEM;
	if (rc < 0)
		LOGL(l, LOGL_NOTICE, "undecodable %s seq=%u\n", smpp_command_name(id), seq);
	else
		LOGL(l, LOGL_DEBUG, "rx %s seq=%u status=%s\n", smpp_command_name(id), seq,
		     smpp_status_name(pdu->command_status));

	if (!found->cb) {
		if (found->cmd == SMPP_ENQUIRE_LINK) {
			l->enquire_pending = false;
		} else if (found->cmd == SMPP_UNBIND) {
			talloc_free(found);
			talloc_free(pdu);
			link_end(l, SMPP_END_UNBIND, true);
			return;
		}
		talloc_free(found);
		talloc_free(pdu);
		return;
	}
	link_hold(l);
	found->cb(l, rc < 0 ? NULL : pdu, rc < 0 ? -EBADMSG : 0, found->cb_data);
	talloc_free(found);
	talloc_free(pdu);
	link_release(l);
}

static void handle_request(struct smpp_link *l, const uint8_t *buf, size_t len)
{
	struct smpp_pdu *pdu;
	uint32_t seq = get_u32(buf + 12);
	uint32_t id = get_u32(buf + 4);
	uint32_t nack;
	int rc;

	pdu = talloc(l, struct smpp_pdu);
	if (!pdu) {
		send_generic_nack(l, seq, SMPP_RSYSERR);
		return;
	}
	rc = smpp_pdu_decode(pdu, buf, len, &nack);
	if (rc < 0) {
		LOGL(l, LOGL_NOTICE, "cannot decode %s (0x%08x) seq=%u\n", smpp_command_name(id), id, seq);
		send_generic_nack(l, seq, nack);
		talloc_free(pdu);
		return;
	}
	LOGL(l, LOGL_DEBUG, "rx %s seq=%u\n", smpp_command_name(id), seq);
	switch (id) {
	case SMPP_ENQUIRE_LINK:
		smpp_link_respond(l, pdu, SMPP_ROK, NULL);
		break;
	case SMPP_UNBIND:
		/* §4.2: answer, then the connection goes */
		smpp_link_respond(l, pdu, SMPP_ROK, NULL);
		link_end(l, SMPP_END_UNBIND, true);
		break;
	default:
		if (!l->ops || !l->ops->request) {
			send_generic_nack(l, seq, SMPP_RINVCMDID);
			break;
		}
		link_hold(l);
		l->ops->request(l, pdu);
		if (!link_release(l))
			return;	/* pdu went with the link */
		break;
	}
	talloc_free(pdu);
}

/* One complete PDU (command_length bytes, plus a NUL guard after them). */
static void handle_pdu(struct smpp_link *l, const uint8_t *buf, size_t len)
{
	uint32_t id = get_u32(buf + 4);

	if (id & SMPP_RESP_BIT)
		handle_response(l, buf, len);
	else
		handle_request(l, buf, len);
}

static int link_conn_data(struct conn *c, const uint8_t *buf, size_t len)
{
	struct smpp_link *l = conn_get_data(c);
	bool ended;

	link_hold(l);
	while (len > 0 && !l->dead) {
		size_t n;

		if (!l->pdu) {
			uint32_t cmd_len;

			n = OSMO_MIN(len, sizeof(l->hdr) - l->hdr_got);
			memcpy(l->hdr + l->hdr_got, buf, n);
			l->hdr_got += n;
			buf += n;
			len -= n;
			if (l->hdr_got < sizeof(l->hdr))
				break;
			l->hdr_got = 0;
			cmd_len = get_u32(l->hdr);
			if (cmd_len < 16 || cmd_len > SMPP_MAX_PDU_LEN) {
				/* §4.3: generic_nack, then give up on a stream we can no longer frame */
				LOGL(l, LOGL_NOTICE, "command_length %u out of bounds\n", cmd_len);
				send_generic_nack(l, 0, SMPP_RINVCMDLEN);
				link_end(l, SMPP_END_PROTOCOL, true);
				break;
			}
			/* one more octet: a NUL after the PDU bounds every string scan */
			l->pdu = talloc_size(l, cmd_len + 1);
			if (!l->pdu) {
				link_end(l, SMPP_END_ERROR, false);
				break;
			}
			memcpy(l->pdu, l->hdr, 4);
			l->pdu_len = cmd_len;
			l->pdu_got = 4;
		}
		n = OSMO_MIN(len, l->pdu_len - l->pdu_got);
		memcpy(l->pdu + l->pdu_got, buf, n);
		l->pdu_got += n;
		buf += n;
		len -= n;
		if (l->pdu_got == l->pdu_len) {
			uint8_t *pdu = l->pdu;

			pdu[l->pdu_len] = 0;
			l->pdu = NULL;
			handle_pdu(l, pdu, l->pdu_len);
			talloc_free(pdu);
			if (l->free_pending)
				break;
		}
	}
	ended = l->dead;
	if (!link_release(l))
		return -1;
	return ended ? -1 : 0;
}

static void link_conn_established(struct conn *c)
{
	struct smpp_link *l = conn_get_data(c);

	l->up = true;
	LOGL(l, LOGL_INFO, "connected\n");
	if (l->ops && l->ops->established) {
		link_hold(l);
		l->ops->established(l);
		link_release(l);
	}
}

static void link_conn_closed(struct conn *c, enum conn_close_reason reason)
{
	struct smpp_link *l = conn_get_data(c);

	if (!l)
		return;
	/* the conn frees itself after this returns */
	l->conn = NULL;
	link_end(l, reason == CONN_CLOSE_PEER ? SMPP_END_PEER : reason == CONN_CLOSE_LOCAL ? SMPP_END_LOCAL :
		 reason == CONN_CLOSE_TIMEOUT ? SMPP_END_TIMEOUT : SMPP_END_ERROR, false);
}

static const struct conn_ops link_conn_ops = {
	.established = link_conn_established,
	.data = link_conn_data,
	.closed = link_conn_closed,
};

static void enquire_timer_cb(void *data)
{
	struct smpp_link *l = data;
	unsigned long ms = osmo_tdef_get(smpp_tdefs, SMPP_T_ENQUIRE, OSMO_TDEF_MS, -1);

	if (!l->keepalive || l->dead)
		return;
	if (!l->enquire_pending) {
		struct smpp_pdu pdu = { .command_id = SMPP_ENQUIRE_LINK };

		if (link_send_request(l, &pdu, false, NULL, NULL) == 0)
			l->enquire_pending = true;
	}
	if (!l->dead)
		osmo_timer_schedule(&l->enquire_timer, ms / 1000, (ms % 1000) * 1000);
}

static struct smpp_link *link_new(void *ctx, const struct smpp_link_ops *ops, void *data, const char *name)
{
	struct smpp_link *l = talloc_zero(ctx, struct smpp_link);

	if (!l)
		return NULL;
	l->ops = ops;
	l->data = data;
	l->name = talloc_strdup(l, name ? name : "smpp");
	l->next_seq = 1;
	l->window = SMPP_DEFAULT_WINDOW;
	INIT_LLIST_HEAD(&l->outstanding);
	osmo_timer_setup(&l->enquire_timer, enquire_timer_cb, l);
	osmo_timer_setup(&l->end_timer, link_end_cb, l);
	talloc_set_destructor(l, link_destructor);
	return l;
}

struct smpp_link *smpp_link_alloc(void *ctx, struct conn *c, const struct smpp_link_ops *ops, void *data,
				  const char *name)
{
	struct smpp_link *l = link_new(ctx, ops, data, name);

	if (!l)
		return NULL;
	l->conn = c;
	/* the link owns its conn: freeing the link closes it, whoever created the conn */
	talloc_steal(l, c);
	conn_set_ops(c, &link_conn_ops);
	conn_set_data(c, l);
	l->up = true;
	return l;
}

struct smpp_link *smpp_link_connect(void *ctx, const char *host, uint16_t port, const struct smpp_link_ops *ops,
				    void *data, const char *name)
{
	struct smpp_link *l = link_new(ctx, ops, data, name);

	if (!l)
		return NULL;
	l->conn = conn_connect(l, host, port, NULL, &link_conn_ops, l);
	if (!l->conn) {
		talloc_free(l);
		return NULL;
	}
	return l;
}

void *smpp_link_data(const struct smpp_link *l)
{
	return l->data;
}

const char *smpp_link_name(const struct smpp_link *l)
{
	return l->name;
}

void smpp_link_set_window(struct smpp_link *l, unsigned int n)
{
	l->window = n ? n : 1;
}

unsigned int smpp_link_outstanding(const struct smpp_link *l)
{
	return l->n_windowed;
}

bool smpp_link_window_open(const struct smpp_link *l)
{
	return l->up && !l->dead && !l->unbinding && l->n_windowed < l->window;
}

bool smpp_link_is_up(const struct smpp_link *l)
{
	return l->up && !l->dead;
}

int smpp_link_request(struct smpp_link *l, struct smpp_pdu *pdu, smpp_resp_cb cb, void *cb_data)
{
	if (!cb || header_only(pdu->command_id) || (pdu->command_id & SMPP_RESP_BIT))
		return -EINVAL;
	if (l->unbinding)
		return -ENOTCONN;
	return link_send_request(l, pdu, true, cb, cb_data);
}

int smpp_link_respond(struct smpp_link *l, const struct smpp_pdu *req, uint32_t status, const struct smpp_pdu *resp)
{
	struct smpp_pdu *r;
	int rc;

	if (l->dead || !l->conn)
		return -ENOTCONN;
	r = talloc_zero(l, struct smpp_pdu);
	if (!r)
		return -ENOMEM;
	if (resp)
		*r = *resp;
	r->command_id = req->command_id | SMPP_RESP_BIT;
	r->command_status = status;
	r->sequence_number = req->sequence_number;
	rc = link_write(l, r);
	talloc_free(r);
	return rc;
}

void smpp_link_keepalive(struct smpp_link *l, bool on)
{
	l->keepalive = on;
	if (!on) {
		osmo_timer_del(&l->enquire_timer);
	} else if (!osmo_timer_pending(&l->enquire_timer) && !l->dead) {
		unsigned long ms = osmo_tdef_get(smpp_tdefs, SMPP_T_ENQUIRE, OSMO_TDEF_MS, -1);

		osmo_timer_schedule(&l->enquire_timer, ms / 1000, (ms % 1000) * 1000);
	}
}

void smpp_link_unbind(struct smpp_link *l)
{
	struct smpp_pdu pdu = { .command_id = SMPP_UNBIND };

	if (l->dead || l->unbinding)
		return;
	l->unbinding = true;
	smpp_link_keepalive(l, false);
	if (link_send_request(l, &pdu, false, NULL, NULL) < 0)
		link_end(l, SMPP_END_UNBIND, false);
}

void smpp_link_close(struct smpp_link *l)
{
	link_end(l, SMPP_END_LOCAL, true);
}

int smpp_link_write_raw(struct smpp_link *l, const void *buf, size_t len)
{
	if (!l->conn || l->dead)
		return -ENOTCONN;
	return conn_write(l->conn, buf, len) < 0 ? -ENOTCONN : 0;
}
