/*
 * gwbench.c: what the inference gateway adds to a request's latency. It sends the same
 * request alternately straight to a replica and through the gateway, one at a time over
 * kept-alive connections, and prints the percentiles of both and their difference:
 *
 *   gwbench DIRECT_URL GATEWAY_URL TOKEN [N] [BODY]
 *   gwbench http://127.0.0.1:41234/predict http://127.0.0.1:8080/api/v1/deployments/web/predict atr_... 5000
 *
 * Alternating cancels out drift (other load on the machine, CPU frequency); the first 5 %
 * of each series are a warm-up and not counted. See docs/deployments.md.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double q)
{
	int i = (int)(q * (n - 1) + 0.5);
	return v[i];
}

/* One request; its latency in microseconds, or -1 on failure. */
static double one(CURL *c, const char *url, struct curl_slist *h, const char *body)
{
	long status = 0;
	double t0 = now_us();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	if (curl_easy_perform(c) != CURLE_OK)
		return -1;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	return status == 200 ? now_us() - t0 : -1;
}

int main(int argc, char **argv)
{
	const char *direct, *gw, *token, *body = "{\"x\":[1,1]}";
	int n = 2000, warm, m;
	char auth[300];
	struct curl_slist *h = NULL;
	CURL *a, *b;
	double *da, *db;

	if (argc < 4) {
		fprintf(stderr, "usage: gwbench DIRECT_URL GATEWAY_URL TOKEN [N] [BODY]\n");
		return 2;
	}
	direct = argv[1];
	gw = argv[2];
	token = argv[3];
	if (argc > 4)
		n = atoi(argv[4]);
	if (argc > 5)
		body = argv[5];
	if (n < 20)
		n = 20;
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	a = curl_easy_init();
	b = curl_easy_init();
	da = calloc((size_t)n, sizeof(*da));
	db = calloc((size_t)n, sizeof(*db));
	if (!a || !b || !da || !db)
		return 1;
	for (int i = 0; i < n; i++) {
		da[i] = one(a, direct, h, body);
		db[i] = one(b, gw, h, body);
		if (da[i] < 0 || db[i] < 0) {
			fprintf(stderr, "request %d failed (%s)\n", i, da[i] < 0 ? direct : gw);
			return 1;
		}
	}
	warm = n / 20;
	m = n - warm;
	qsort(da + warm, (size_t)m, sizeof(*da), cmp);
	qsort(db + warm, (size_t)m, sizeof(*db), cmp);
	printf("requests: %d each (after %d warm-up)\n", m, warm);
	printf("direct:  p50 %.3f ms  p90 %.3f ms  p99 %.3f ms\n", pct(da + warm, m, 0.5) / 1e3,
	       pct(da + warm, m, 0.9) / 1e3, pct(da + warm, m, 0.99) / 1e3);
	printf("gateway: p50 %.3f ms  p90 %.3f ms  p99 %.3f ms\n", pct(db + warm, m, 0.5) / 1e3,
	       pct(db + warm, m, 0.9) / 1e3, pct(db + warm, m, 0.99) / 1e3);
	printf("added:   p50 %.3f ms  p90 %.3f ms\n", (pct(db + warm, m, 0.5) - pct(da + warm, m, 0.5)) / 1e3,
	       (pct(db + warm, m, 0.9) - pct(da + warm, m, 0.9)) / 1e3);
	curl_easy_cleanup(a);
	curl_easy_cleanup(b);
	curl_slist_free_all(h);
	free(da);
	free(db);
	curl_global_cleanup();
	return 0;
}
