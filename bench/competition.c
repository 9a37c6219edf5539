/*
 * competition.c: the competition scenarios' client and seeder (bench/scenarios/95-competition.sh).
 *
 *   competition setup ADDR_FILE ADMIN_TOKEN_FILE NAME OUT_TOKEN_FILE
 *     Over HTTP: an organiser (token into OUT_TOKEN_FILE), a project, a training and a test
 *     dataset (1,000 ids, binary labels), and competition NAME (accuracy, public half).
 *   competition seed DATA_DIR NAME TEAMS SUBS
 *     Into a stopped daemon's data dir, through the store API (what the handlers call):
 *     TEAMS teams of one user each and SUBS scored submissions spread over them, with
 *     pseudo-random public and private scores. Prints teams= subs= seconds=.
 *   competition deadline ADDR_FILE ADMIN_TOKEN_FILE TEAMS N
 *     The deadline rush: TEAMS teams (daily limit 4) join competition "rush"; its end is set
 *     1.5 s ahead; then N submissions (correct files, round-robin over the teams) are sent, at
 *     even steps over the last second before the end, on N connections at once (curl multi).
 *     Each answer is classified: 201 scored, 409 late (its message names the end), 429 over
 *     the daily limit (names the next time), anything else is an error. Then the organiser's
 *     list of every submission is checked against the answers: every 201 is there, scored,
 *     exactly once; nothing else was recorded as counted; none is left unscored.
 *     Prints sent= accepted= late= limited= other= recorded= lost= twice= unscored= span_ms=.
 */
#include "common.h"

#include "atrium/store.h"
#include "atrium/store_competitions.h"
#include "atrium/store_identity.h"
#include "atrium/util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sys/time.h>

#define PROG "competition"
#define IDS 1000

static char base[256], admin[256];

struct body {
	char *p;
	size_t n;
};

static size_t on_data(char *d, size_t sz, size_t nm, void *u)
{
	struct body *b = u;
	char *np = realloc(b->p, b->n + sz * nm + 1);
	if (!np)
		return 0;
	b->p = np;
	memcpy(b->p + b->n, d, sz * nm);
	b->n += sz * nm;
	b->p[b->n] = 0;
	return sz * nm;
}

static void read_line(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f || !fgets(out, (int)len, f))
		bench_die(PROG, "cannot read %s", path);
	fclose(f);
	out[strcspn(out, "\r\n")] = 0;
}

/* A request to be sent: an easy handle with the token, the body and a place for the answer. */
static CURL *request(const char *method, const char *path, const char *token, const char *data, struct body *out,
		     struct curl_slist **hs)
{
	CURL *c = curl_easy_init();
	char url[512], auth[300];

	snprintf(url, sizeof(url), "%s%s", base, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	*hs = curl_slist_append(NULL, auth);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (data) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(data));
	}
	return c;
}

/* One blocking call (set-up only); dies unless 2xx; returns the parsed answer (may be NULL). */
static json_t *call(const char *method, const char *path, const char *token, const char *data)
{
	struct body b = { 0 };
	struct curl_slist *hs;
	CURL *c = request(method, path, token, data, &b, &hs);
	long st = 0;
	json_t *j;

	if (curl_easy_perform(c) != CURLE_OK)
		bench_die(PROG, "%s %s: no answer", method, path);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	if (st < 200 || st > 299)
		bench_die(PROG, "%s %s: %ld %s", method, path, st, b.p ? b.p : "");
	j = b.p ? json_loads(b.p, 0, NULL) : NULL;
	free(b.p);
	curl_slist_free_all(hs);
	curl_easy_cleanup(c);
	return j;
}

static void user(const char *name, char *token, size_t len)
{
	char body[128];
	json_t *j;

	snprintf(body, sizeof(body), "{\"username\":\"%s\"}", name);
	j = call("POST", "/api/v1/users", admin, body);
	snprintf(token, len, "%s", json_string_value(json_object_get(j, "token")));
	json_decref(j);
}

/* "id,label" (truth) or "id,prediction" (a correct submission) for ids 1..IDS. */
static char *csv(const char *second)
{
	size_t cap = IDS * 16 + 32, n;
	char *b = malloc(cap);

	if (!b)
		bench_die(PROG, "out of memory");
	n = (size_t)snprintf(b, cap, "id,%s\n", second);
	for (int i = 1; i <= IDS; i++)
		n += (size_t)snprintf(b + n, cap - n, "%d,%d\n", i, i % 3 == 0);
	return b;
}

static void time_text(int64_t ms, char *out, size_t len)
{
	atr_time_format(ms, out, len);
}

/* The organiser, the project, the datasets and the competition (ending in a year). */
static void setup(const char *name, char *org, size_t len)
{
	char *truth = csv("label"), body[2048], path[256], ends[40];
	const char *ds[2] = { "train", "test" };

	snprintf(path, sizeof(path), "org-%s", name);
	user(path, org, len);
	snprintf(body, sizeof(body), "{\"name\":\"p-%s\"}", name);
	json_decref(call("POST", "/api/v1/projects", org, body));
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/api/v1/projects/p-%s/datasets", name);
		snprintf(body, sizeof(body), "{\"name\":\"%s\"}", ds[i]);
		json_decref(call("POST", path, org, body));
		snprintf(path, sizeof(path), "/api/v1/projects/p-%s/datasets/%s/versions", name, ds[i]);
		json_decref(call("POST", path, org, "{}"));
		snprintf(path, sizeof(path), "/api/v1/projects/p-%s/datasets/%s/versions/1/files/%s.csv", name, ds[i],
			 ds[i]);
		json_decref(call("PUT", path, org, i ? truth : "id,x\n1,2\n"));
		snprintf(path, sizeof(path), "/api/v1/projects/p-%s/datasets/%s/versions/1/commit", name, ds[i]);
		json_decref(call("POST", path, org, "{}"));
	}
	free(truth);
	time_text(atr_now_ms() + 365LL * 86400000, ends, sizeof(ends));
	snprintf(body, sizeof(body),
		 "{\"name\":\"%s\",\"title\":\"bench\",\"starts_at\":\"2020-01-01T00:00:00Z\",\"ends_at\":\"%s\","
		 "\"training\":{\"dataset\":\"train\",\"version\":1},\"test\":{\"dataset\":\"test\",\"version\":1,"
		 "\"path\":\"test.csv\"},\"metric\":\"accuracy\",\"daily_limit\":4,\"max_team_size\":1,"
		 "\"public_fraction\":0.5,\"precision\":4}",
		 name, ends);
	snprintf(path, sizeof(path), "/api/v1/projects/p-%s/competitions", name);
	json_decref(call("POST", path, org, body));
}

static int cmd_setup(char **argv)
{
	char org[256];
	FILE *f;

	read_line(argv[2], base + 7, sizeof(base) - 7);
	memcpy(base, "http://", 7);
	read_line(argv[3], admin, sizeof(admin));
	setup(argv[4], org, sizeof(org));
	if (!(f = fopen(argv[5], "w")) || fprintf(f, "%s\n", org) < 0 || fclose(f) != 0)
		bench_die(PROG, "cannot write %s", argv[5]);
	return 0;
}

/* ---- seed: teams and scored submissions through the store API ---- */

static int cmd_seed(char **argv)
{
	int teams = (int)bench_num(PROG, "TEAMS", argv[4]), subs = (int)bench_num(PROG, "SUBS", argv[5]);
	struct atr_store *s;
	struct atr_competition c;
	uint64_t t0 = bench_now_ns(), x = 88172645463325252ULL;
	int64_t *entries = calloc((size_t)teams, sizeof(int64_t)), uid, sid, now = atr_now_ms() - 3600000;
	char name[64], why[160];

	if (!entries || atr_store_open(argv[2], 0, &s) < 0 || atr_store_competition_find(s, argv[3], &c) < 0)
		bench_die(PROG, "cannot open %s or find competition %s", argv[2], argv[3]);
	atr_store_begin(s);
	for (int i = 0; i < teams; i++) {
		snprintf(name, sizeof(name), "seed-%d", i);
		if (atr_store_user_create(s, name, name, false, NULL, &uid) < 0 ||
		    atr_store_competition_join(s, c.id, name, 0, uid, 1, why, sizeof(why), &entries[i]) < 0)
			bench_die(PROG, "cannot seed team %d", i);
	}
	for (int i = 0; i < subs; i++) {
		struct atr_comp_submission sub = {
			.comp_id = c.id,
			.entry_id = entries[i % teams],
			.format = "csv",
			.sha256 = "0000000000000000000000000000000000000000000000000000000000000000",
			.size = 1,
			.arrived_at = now + i
		};
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (atr_store_comp_submission_add(s, &sub, INT64_MAX, &sid) < 0 ||
		    atr_store_comp_submission_scored(s, sid, true, (double)(x % 10000) / 10000, true,
						     (double)((x >> 20) % 10000) / 10000) < 0)
			bench_die(PROG, "cannot seed submission %d", i);
	}
	if (atr_store_commit(s) < 0 || atr_store_flush(s) < 0)
		bench_die(PROG, "cannot commit the seed");
	atr_store_close(s);
	free(entries);
	printf("teams=%d subs=%d seconds=%.2f\n", teams, subs, (double)(bench_now_ns() - t0) / 1e9);
	return 0;
}

/* ---- deadline: the rush of the last second ---- */

struct shot {
	CURL *c;
	struct curl_slist *hs;
	struct body b;
	uint64_t at_ns; /* when to send */
	long status;
	int64_t id;
};

struct tally {
	int accepted, late, limited, other;
};

static void classify(struct shot *x, struct tally *t)
{
	json_t *j = x->b.p ? json_loads(x->b.p, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(json_object_get(j, "error"), "message"));

	curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->status == 201 && json_is_integer(json_object_get(j, "id")))
		t->accepted++, x->id = json_integer_value(json_object_get(j, "id"));
	else if (x->status == 409 && msg && strstr(msg, "ended at"))
		t->late++;
	else if (x->status == 429 && msg && strstr(msg, "the next is allowed at"))
		t->limited++;
	else
		t->other++, fprintf(stderr, "%s: unexpected answer %ld %s\n", PROG, x->status, x->b.p ? x->b.p : "");
	json_decref(j);
}

/* Sends every shot at its time on its own connection; classifies the answers. */
static void rush(struct shot *shots, int n, struct tally *t)
{
	CURLM *m = curl_multi_init();
	int next = 0, running = 1;

	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)n);
	while (next < n || running) {
		CURLMsg *msg;
		int left;
		for (; next < n && bench_now_ns() >= shots[next].at_ns; next++)
			curl_multi_add_handle(m, shots[next].c);
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)))
			if (msg->msg == CURLMSG_DONE)
				for (int i = 0; i < n; i++)
					if (shots[i].c == msg->easy_handle)
						classify(&shots[i], t);
		curl_multi_poll(m, NULL, 0, 1, NULL);
	}
	for (int i = 0; i < n; i++) {
		curl_multi_remove_handle(m, shots[i].c);
		curl_easy_cleanup(shots[i].c);
		curl_slist_free_all(shots[i].hs);
		free(shots[i].b.p);
	}
	curl_multi_cleanup(m);
}

/* Checks the organiser's list of every submission against the answers. */
static void verify(const char *org, const struct shot *shots, int n, int *recorded, int *lost, int *twice,
		   int *unscored)
{
	json_t *j = call("GET", "/api/v1/competitions/rush/submissions?all=true&limit=1000", org, NULL), *it;
	size_t i;

	*recorded = *lost = *twice = *unscored = 0;
	json_array_foreach(json_object_get(j, "items"), i, it)
	{
		int64_t id = json_integer_value(json_object_get(it, "id"));
		int answered = 0;
		if (strcmp(json_string_value(json_object_get(it, "state")), "scored") != 0)
			(*unscored)++;
		for (int k = 0; k < n; k++)
			answered += shots[k].id == id;
		if (answered == 0)
			(*lost)++; /* recorded, but its client was not told 201 */
		(*recorded)++;
	}
	for (int k = 0; k < n; k++) {
		int seen = 0;
		if (!shots[k].id)
			continue;
		json_array_foreach(json_object_get(j, "items"), i, it) seen +=
			json_integer_value(json_object_get(it, "id")) == shots[k].id;
		if (seen == 0)
			(*lost)++; /* told 201, not recorded */
		if (seen > 1)
			(*twice)++;
	}
	json_decref(j);
}

static int cmd_deadline(char **argv)
{
	int teams = (int)bench_num(PROG, "TEAMS", argv[4]), n = (int)bench_num(PROG, "N", argv[5]);
	char org[256], (*tok)[256] = calloc((size_t)teams, 256), body[256], ends[40], *preds = csv("prediction");
	struct shot *shots = calloc((size_t)n, sizeof(*shots));
	struct tally t = { 0 };
	int recorded, lost, twice, unscored;
	int64_t end_ms;
	uint64_t end_ns, first, last;

	if (!tok || !shots)
		bench_die(PROG, "out of memory");
	read_line(argv[2], base + 7, sizeof(base) - 7);
	memcpy(base, "http://", 7);
	read_line(argv[3], admin, sizeof(admin));
	setup("rush", org, sizeof(org));
	for (int i = 0; i < teams; i++) {
		snprintf(body, sizeof(body), "r%d", i);
		user(body, tok[i], sizeof(tok[i]));
		snprintf(body, sizeof(body), "{\"name\":\"team-%d\"}", i);
		json_decref(call("POST", "/api/v1/competitions/rush/join", tok[i], body));
	}
	/* the end, 1.5 s ahead by the daemon's clock (the same machine's wall clock) */
	end_ms = atr_now_ms() + 1500;
	end_ns = bench_now_ns() + 1500000000ULL;
	time_text(end_ms, ends, sizeof(ends));
	snprintf(body, sizeof(body), "{\"ends_at\":\"%s\"}", ends);
	json_decref(call("PATCH", "/api/v1/competitions/rush", org, body));
	for (int i = 0; i < n; i++) {
		shots[i].c = request("POST", "/api/v1/competitions/rush/submissions", tok[i % teams], preds,
				     &shots[i].b, &shots[i].hs);
		shots[i].at_ns = end_ns - 1000000000ULL + (uint64_t)i * (1000000000ULL / (uint64_t)n);
	}
	first = bench_now_ns();
	rush(shots, n, &t);
	last = bench_now_ns();
	verify(org, shots, n, &recorded, &lost, &twice, &unscored);
	printf("sent=%d accepted=%d late=%d limited=%d other=%d recorded=%d lost=%d twice=%d unscored=%d "
	       "span_ms=%.0f\n",
	       n, t.accepted, t.late, t.limited, t.other, recorded, lost, twice, unscored,
	       (double)(last - first) / 1e6);
	free(preds);
	free(shots);
	free(tok);
	return t.other || lost || twice || unscored || t.accepted + t.late + t.limited != n;
}

int main(int argc, char **argv)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (argc == 6 && !strcmp(argv[1], "setup"))
		return cmd_setup(argv);
	if (argc == 6 && !strcmp(argv[1], "seed"))
		return cmd_seed(argv);
	if (argc == 6 && !strcmp(argv[1], "deadline"))
		return cmd_deadline(argv);
	fprintf(stderr,
		"usage: %s setup ADDR_FILE ADMIN_TOKEN_FILE NAME OUT_TOKEN_FILE\n"
		"       %s seed DATA_DIR NAME TEAMS SUBS\n"
		"       %s deadline ADDR_FILE ADMIN_TOKEN_FILE TEAMS N\n",
		PROG, PROG, PROG);
	return 2;
}
