/* libFuzzer target: SCP81 parsers (GP Amd B triggering parameters, PSK identity, X-Admin-* headers, card POST).
 * The first byte selects the parser. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <talloc.h>

#include <sgp02/ota/scp81.h>

static void trigger(void *ctx, const uint8_t *d, size_t n)
{
	struct ota_scp81_trigger *t, *t2;
	uint8_t *out;
	size_t len;

	if (ota_scp81_trigger_parse(ctx, d, n, &t) < 0)
		return;
	/* anything parsed must rebuild, and the rebuilt form must parse to the same shape */
	if (ota_scp81_trigger_build(ctx, t, &out, &len) < 0)
		abort();
	if (ota_scp81_trigger_parse(ctx, out, len, &t2) < 0)
		abort();
	if (t2->has_security != t->has_security || t2->has_retry != t->has_retry ||
	    t2->conn_params_len != t->conn_params_len || t2->security.psk_id_len != t->security.psk_id_len ||
	    (t->admin_uri && (!t2->admin_uri || strcmp(t->admin_uri, t2->admin_uri))))
		abort();
}

static void psk_id(void *ctx, const uint8_t *d, size_t n)
{
	struct ota_scp81_psk_id id, id2;
	char *hex;

	if (ota_scp81_psk_id_decode(&id, (const char *)d, n) < 0)
		return;
	if (ota_scp81_psk_id_encode(ctx, &id, &hex) < 0)
		abort();
	if (ota_scp81_psk_id_decode(&id2, hex, strlen(hex)) < 0 || memcmp(&id, &id2, sizeof(id)))
		abort();
}

static void headers(void *ctx, const uint8_t *d, size_t n)
{
	char *s = talloc_strndup(ctx, (const char *)d, n);
	uint8_t eid[16], aid[16];
	size_t aid_len;
	bool b;

	if (!s)
		return;
	ota_scp81_script_status_parse(s);
	ota_scp81_resume_parse(s, &b);
	ota_scp81_protocol_check(s);
	ota_scp81_content_type_check(s, false);
	ota_scp81_content_type_check(s, true);
	ota_scp81_next_uri_check(s);
	if (ota_scp81_admin_from_parse(s, eid, aid, &aid_len) == 0 && aid_len > 16)
		abort();
	if (ota_scp81_targeted_app_parse(s, aid, &aid_len) == 0 && (aid_len < 5 || aid_len > 16))
		abort();
}

/* Input: three NUL-separated header values (content type, script status, resume), then the body. */
static void post(void *ctx, const uint8_t *d, size_t n)
{
	const char *f[3] = { NULL, NULL, NULL };
	struct ota_scp81_post *p;
	size_t off = 0;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		const uint8_t *z = memchr(d + off, 0, n - off);

		if (!z)
			return;
		if (z != d + off)
			f[i] = (const char *)d + off;	/* empty means absent */
		off = z - d + 1;
	}
	ota_scp81_post_parse(ctx, f[0], f[1], f[2], n > off ? d + off : NULL, n - off, &p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *ctx = talloc_named_const(NULL, 0, "fuzz_scp81");

	if (size >= 1) {
		switch (data[0] & 3) {
		case 0:
			trigger(ctx, data + 1, size - 1);
			break;
		case 1:
			psk_id(ctx, data + 1, size - 1);
			break;
		case 2:
			headers(ctx, data + 1, size - 1);
			break;
		case 3:
			post(ctx, data + 1, size - 1);
			break;
		}
	}
	talloc_free(ctx);
	return 0;
}
