/* libFuzzer target: the ISD-P side SCP03t reader with a fixed key set.
 * The first input byte selects what the rest is:
 *   0: raw ES8 data to a fresh card (no channel)
 *   1: raw ES8 data to a card with an open channel (security level 33)
 *   2: plaintext segments: protected by the host and fed to the card, which must give them back unchanged
 *   3: a card answer to the host's response checker */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/gp/scp03.h>
#include <sgp02/gp/scp03t.h>

static const uint8_t g_aid[] = { 0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0x01 };

static void keys(struct gp_scp03_keys *k)
{
	unsigned int i;

	memset(k, 0, sizeof(*k));
	k->kvn = 0x30;
	k->key_len = 16;
	for (i = 0; i < 16; i++) {
		k->enc[i] = i;
		k->mac[i] = 0x10 + i;
		k->dek[i] = 0x20 + i;
	}
}

/* IU + EA between host session s and card c; aborts if our own handshake fails */
static void open_channel(struct gp_scp03_session *s, struct gp_scp03t_card *c, const struct gp_scp03_keys *k)
{
	uint8_t hc[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, cmd[32], *resp;
	size_t rl;
	int l;

	l = gp_scp03t_init_update(s, k->kvn, 0, hc, cmd, sizeof(cmd));
	if (l < 0 || gp_scp03t_card_process(c, cmd, l, &resp, &rl) < 0 || gp_scp03t_process_iu_resp(s, k, resp, rl) < 0)
		abort();
	l = gp_scp03t_ext_auth(s, 0x33, cmd, sizeof(cmd));
	if (l < 0 || gp_scp03t_card_process(c, cmd, l, &resp, &rl) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *ctx = talloc_named_const(NULL, 0, "fuzz");
	struct gp_scp03_keys k;
	struct gp_scp03_session s;
	struct gp_scp03t_card *c;
	uint8_t *resp, out[GP_SCP03T_SEG_MAX + 64];
	size_t rl;

	if (size < 1)
		goto done;
	keys(&k);
	c = gp_scp03t_card_alloc(ctx, &k, g_aid, sizeof(g_aid), 1);
	if (!c)
		abort();
	switch (data[0] & 3) {
	case 0:
		gp_scp03t_card_process(c, data + 1, size - 1, &resp, &rl);
		break;
	case 1:
		open_channel(&s, c, &k);
		gp_scp03t_card_process(c, data + 1, size - 1, &resp, &rl);
		break;
	case 2: {
		struct gp_scp03t_tlv *tlvs;
		size_t n, i, seg = size > 1 ? (data[1] % 64) + 1 : 1, plen;
		const uint8_t *prof;

		open_channel(&s, c, &k);
		if (size < 3)
			break;
		if (gp_scp03t_split(ctx, &s, data + 2, size - 2, seg, &tlvs, &n) < 0)
			abort();
		for (i = 0; i < n; i++)
			if (gp_scp03t_card_process(c, tlvs[i].data, tlvs[i].len, &resp, &rl) < 0)
				abort();
		prof = gp_scp03t_card_profile(c, &plen);
		if (plen != size - 2 || memcmp(prof, data + 2, plen) != 0)
			abort();
		break;
	}
	case 3:
		open_channel(&s, c, &k);
		gp_scp03t_unprotect_resp(&s, data + 1, size - 1, out, sizeof(out));
		gp_scp03t_error_tag(data + 1, size - 1);
		break;
	}
done:
	talloc_free(ctx);
	return 0;
}
