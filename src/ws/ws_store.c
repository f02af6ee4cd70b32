/* Bounded in-memory store of answered requests (LRU + TTL), see ws_store.h.
 *
 * A hash of (sender, MessageID) into buckets for the look-up, and one list in recency order for eviction: the
 * head is the most recently used entry, the tail the next to go when the store is full.
 */
#include <errno.h>
#include <string.h>

#include <talloc.h>
#include <osmocom/core/linuxlist.h>

#include <sgp02/ws/ws_store.h>

#define WS_MEM_BUCKETS	1024

struct mem_entry {
	struct llist_head bucket;	/* in ws_mem_store.buckets[] */
	struct llist_head lru;		/* in ws_mem_store.lru */
	char *sender;
	char *message_id;
	time_t saved;
	enum ws_store_state state;
	int http_status;
	char *reply_to;
	uint8_t *xml;
	size_t xml_len;
};

struct ws_mem_store {
	struct llist_head buckets[WS_MEM_BUCKETS];
	struct llist_head lru;
	unsigned int count;
	unsigned int max_entries;
	unsigned long ttl_s;
	time_t (*now)(void *data);
	void *now_data;
};

static time_t store_now(const struct ws_mem_store *st)
{
	return st->now ? st->now(st->now_data) : time(NULL);
}

static unsigned int hash2(const char *a, const char *b)
{
	/* FNV-1a over both strings with a separator; no attacker-controlled seed matters here since the bucket
	 * lists are bounded by max_entries anyway */
	uint32_t h = 2166136261u;

	for (; *a; a++)
		h = (h ^ (uint8_t)*a) * 16777619u;
	h = (h ^ 0xff) * 16777619u;
	for (; *b; b++)
		h = (h ^ (uint8_t)*b) * 16777619u;
	return h % WS_MEM_BUCKETS;
}

static void entry_del(struct ws_mem_store *st, struct mem_entry *e)
{
	llist_del(&e->bucket);
	llist_del(&e->lru);
	st->count--;
	talloc_free(e);
}

static struct mem_entry *entry_find(struct ws_mem_store *st, const char *sender, const char *message_id)
{
	struct mem_entry *e, *tmp;
	time_t now = store_now(st);

	llist_for_each_entry_safe(e, tmp, &st->buckets[hash2(sender, message_id)], bucket) {
		if (strcmp(e->sender, sender) || strcmp(e->message_id, message_id))
			continue;
		if (st->ttl_s && now - e->saved >= (time_t)st->ttl_s) {
			entry_del(st, e);
			return NULL;
		}
		return e;
	}
	return NULL;
}

struct ws_mem_store *ws_mem_store_alloc(void *ctx, unsigned int max_entries, unsigned long ttl_s,
					time_t (*now)(void *data), void *now_data)
{
	struct ws_mem_store *st = talloc_zero(ctx, struct ws_mem_store);
	unsigned int i;

	if (!st)
		return NULL;
	for (i = 0; i < WS_MEM_BUCKETS; i++)
		INIT_LLIST_HEAD(&st->buckets[i]);
	INIT_LLIST_HEAD(&st->lru);
	st->max_entries = max_entries ? max_entries : 1;
	st->ttl_s = ttl_s;
	st->now = now;
	st->now_data = now_data;
	return st;
}

unsigned int ws_mem_store_count(const struct ws_mem_store *st)
{
	return st->count;
}

static int mem_lookup(void *store, void *ctx, const char *sender, const char *message_id, struct ws_store_entry *out)
{
	struct ws_mem_store *st = store;
	struct mem_entry *e = entry_find(st, sender, message_id);

	if (!e)
		return -ENOENT;
	llist_del(&e->lru);
	llist_add(&e->lru, &st->lru);
	memset(out, 0, sizeof(*out));
	out->state = e->state;
	out->http_status = e->http_status;
	if (e->reply_to && !(out->reply_to = talloc_strdup(ctx, e->reply_to)))
		return -ENOMEM;
	if (e->xml) {
		out->xml = talloc_memdup(ctx, e->xml, e->xml_len);
		if (!out->xml)
			return -ENOMEM;
		out->xml_len = e->xml_len;
	}
	return 0;
}

static int mem_save(void *store, const char *sender, const char *message_id, const struct ws_store_entry *in)
{
	struct ws_mem_store *st = store;
	struct mem_entry *e = entry_find(st, sender, message_id);

	if (e)
		entry_del(st, e);
	/* LRU eviction: forget the least recently used answer when full */
	while (st->count >= st->max_entries && !llist_empty(&st->lru))
		entry_del(st, llist_last_entry(&st->lru, struct mem_entry, lru));
	e = talloc_zero(st, struct mem_entry);
	if (!e)
		return -ENOMEM;
	e->sender = talloc_strdup(e, sender);
	e->message_id = talloc_strdup(e, message_id);
	e->reply_to = in->reply_to ? talloc_strdup(e, in->reply_to) : NULL;
	e->xml = in->xml ? talloc_memdup(e, in->xml, in->xml_len) : NULL;
	if (!e->sender || !e->message_id || (in->reply_to && !e->reply_to) || (in->xml && !e->xml)) {
		talloc_free(e);
		return -ENOMEM;
	}
	e->xml_len = in->xml ? in->xml_len : 0;
	e->state = in->state;
	e->http_status = in->http_status;
	e->saved = store_now(st);
	llist_add(&e->bucket, &st->buckets[hash2(sender, message_id)]);
	llist_add(&e->lru, &st->lru);
	st->count++;
	return 0;
}

const struct ws_store_ops ws_mem_store_ops = {
	.lookup = mem_lookup,
	.save = mem_save,
};
