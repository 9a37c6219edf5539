/*
 * import_mlflow.c: `atrium import-mlflow`: options, experiments, runs (params, tags, metric
 * histories), and the summary. Both sides speak MLflow's REST API: the source is a running
 * MLflow tracking server, the destination Atrium's own MLflow API (so an imported run is an
 * ordinary Atrium run, made by the same code as the client's). Re-runnable: each imported run
 * carries the tag atrium.import.source_run (the source run id) and, once everything of it is
 * copied, atrium.import.complete; a run found complete is skipped, one left half-copied by an
 * interrupted import is deleted and copied again. Artifacts: import_artifacts.c; the
 * registry: import_models.c.
 */
#include "import.h"
#include "atrium/import_mlflow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 1000
#define BATCH_METRICS 1000
#define BATCH_PARAMS 100
#define HISTORY_PAGE 25000

static const char *usage =
	"usage: atrium import-mlflow --from URL [--token T | --username U --password P] --team TEAM\n"
	"                            [--experiment NAME]... [--dry-run] [--to URL] [--to-token T] [--ca-file F]\n"
	"\n"
	"Copies experiments, runs (params, tags, full metric histories, artifacts) and registered\n"
	"models (versions, stages, aliases, descriptions) from a running MLflow tracking server into\n"
	"Atrium. Running it again copies only what is not there yet.\n"
	"  --from URL        the MLflow tracking server (as MLFLOW_TRACKING_URI)\n"
	"  --token T         its bearer token; or --username/--password for Basic auth\n"
	"  --team TEAM       the Atrium team new experiments (projects) land in\n"
	"  --experiment NAME copy only this experiment (repeatable; default: all active ones)\n"
	"  --dry-run         list what would be copied, write nothing\n"
	"  --to URL          Atrium (default $ATRIUM_URL, else http://127.0.0.1:8080)\n"
	"  --to-token T      an Atrium token (default $ATRIUM_TOKEN, else ./data/admin.token)\n"
	"  --ca-file F       CA certificates for https:// on either side";

void imp_fail(struct imp *im, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "  FAILED: %s\n", msg);
	json_array_append_new(im->failures, json_string(msg));
}

int imp_call(struct imp *im, struct mlf_ep *ep, const char *method, const char *path, json_t *body, json_t **out,
	     const char *what)
{
	json_t *doc = NULL;
	int st = mlf_json(ep, method, path, body, &doc);

	if (st < 200 || st > 299) {
		imp_fail(im, "%s: %s", what, ep->error);
		return -1;
	}
	if (out)
		*out = doc;
	else
		json_decref(doc);
	return 0;
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

/* log-batch of `items` (params or metrics) in chunks of `chunk`. */
static int log_batch(struct imp *im, const char *dst_run, const char *kind, json_t *items, size_t chunk)
{
	size_t n = json_array_size(items);

	for (size_t at = 0; at < n; at += chunk) {
		json_t *part = json_array(), *body;
		for (size_t i = at; i < n && i < at + chunk; i++)
			json_array_append(part, json_array_get(items, i));
		body = json_pack("{s:s, s:o}", "run_id", dst_run, kind, part);
		int rc = imp_call(im, &im->dst, "POST", "/api/2.0/mlflow/runs/log-batch", body, NULL, "log-batch");
		json_decref(body);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* One metric's whole history, page by page (get-history) into log-batch chunks. */
static int copy_history(struct imp *im, const char *src_run, const char *dst_run, const char *key)
{
	char *ekey = mlf_escape(key, 0), *token = NULL, path[2048];
	int rc = 0;

	do {
		json_t *doc = NULL, *pts;
		char *etok = token ? mlf_escape(token, 0) : NULL;
		snprintf(path, sizeof path,
			 "/api/2.0/mlflow/metrics/get-history?run_id=%s&metric_key=%s&max_results=%d%s%s", src_run,
			 ekey, HISTORY_PAGE, etok ? "&page_token=" : "", etok ? etok : "");
		free(etok);
		free(token);
		token = NULL;
		if (imp_call(im, &im->src, "GET", path, NULL, &doc, "metric history") < 0)
			rc = -1;
		pts = doc ? json_object_get(doc, "metrics") : NULL;
		if (rc == 0 && (rc = log_batch(im, dst_run, "metrics", pts ? pts : json_array(), BATCH_METRICS)) == 0)
			im->points += (long)json_array_size(pts);
		if (rc == 0 && *str(doc, "next_page_token"))
			token = strdup(str(doc, "next_page_token"));
		json_decref(doc);
	} while (token);
	free(ekey);
	return rc;
}

/* The run's tags for runs/create: the source's, and the import's own. */
static json_t *create_body(const json_t *run, const char *dst_exp)
{
	const json_t *info = json_object_get(run, "info"),
		     *tags = json_object_get(json_object_get(run, "data"), "tags");
	json_t *out = json_array(), *t;
	size_t i;

	json_array_foreach(tags, i, t)
	{
		if (strncmp(str(t, "key"), "atrium.import.", 14) != 0)
			json_array_append(out, t);
	}
	json_array_append_new(out, json_pack("{s:s, s:s}", "key", IMP_SOURCE_RUN_TAG, "value", str(info, "run_id")));
	json_t *body =
		json_pack("{s:s, s:s, s:o}", "experiment_id", dst_exp, "run_name", str(info, "run_name"), "tags", out);
	if (json_object_get(info, "start_time"))
		json_object_set(body, "start_time", json_object_get(info, "start_time"));
	return body;
}

/* Params, metric histories, artifacts, then the run's end: what follows runs/create. */
static int fill_run(struct imp *im, const json_t *run, const char *dst_exp, const char *dst_run)
{
	const json_t *info = json_object_get(run, "info"), *data = json_object_get(run, "data"), *m;
	const char *src_run = str(info, "run_id");
	json_t *params = json_object_get(data, "params"), *body;
	size_t i;
	int rc;

	if (params && log_batch(im, dst_run, "params", params, BATCH_PARAMS) < 0)
		return -1;
	im->params += (long)json_array_size(params);
	im->tags += (long)json_array_size(json_object_get(data, "tags"));
	json_array_foreach(json_object_get(data, "metrics"), i, m)
	{
		if (copy_history(im, src_run, dst_run, str(m, "key")) < 0)
			return -1;
	}
	if (imp_artifacts(im, run, dst_exp, dst_run) < 0)
		return -1;
	body = json_pack("{s:s, s:s}", "run_id", dst_run, "status",
			 *str(info, "status") ? str(info, "status") : "FINISHED");
	if (json_object_get(info, "end_time"))
		json_object_set(body, "end_time", json_object_get(info, "end_time"));
	rc = imp_call(im, &im->dst, "POST", "/api/2.0/mlflow/runs/update", body, NULL, "run status");
	json_decref(body);
	if (rc < 0)
		return -1;
	body = json_pack("{s:s, s:s, s:s}", "run_id", dst_run, "key", IMP_COMPLETE_TAG, "value", "true");
	rc = imp_call(im, &im->dst, "POST", "/api/2.0/mlflow/runs/set-tag", body, NULL, "completion tag");
	json_decref(body);
	return rc;
}

/* One source run: skipped when already complete in Atrium, re-copied when half done. */
static void import_run(struct imp *im, const json_t *run, const char *dst_exp, json_t *seen)
{
	const json_t *info = json_object_get(run, "info");
	const char *src_run = str(info, "run_id");
	json_t *had = json_object_get(seen, src_run), *body, *doc = NULL;
	char dst_run[64];

	if (had && json_is_true(json_object_get(had, "complete"))) {
		im->runs_seen++;
		json_object_set_new(im->run_map, src_run, json_string(str(had, "id")));
		json_object_set_new(im->run_exp, src_run, json_string(dst_exp));
		return;
	}
	printf("  run %s (%s)%s\n", src_run, str(info, "run_name"),
	       im->dry_run ? ": would copy"
	       : had	   ? ": interrupted before, copying again"
			   : "");
	if (im->dry_run) {
		im->runs_new++;
		return;
	}
	if (had) {
		body = json_pack("{s:s}", "run_id", str(had, "id"));
		imp_call(im, &im->dst, "POST", "/api/2.0/mlflow/runs/delete", body, NULL, "delete half-copied run");
		json_decref(body);
	}
	body = create_body(run, dst_exp);
	int rc = imp_call(im, &im->dst, "POST", "/api/2.0/mlflow/runs/create", body, &doc, "runs/create");
	json_decref(body);
	if (rc < 0)
		return;
	snprintf(dst_run, sizeof dst_run, "%s", str(json_object_get(json_object_get(doc, "run"), "info"), "run_id"));
	json_decref(doc);
	json_object_set_new(im->run_map, src_run, json_string(dst_run));
	json_object_set_new(im->run_exp, src_run, json_string(dst_exp));
	if (fill_run(im, run, dst_exp, dst_run) < 0)
		imp_fail(im, "run %s (%s) is incomplete in Atrium; run the import again", src_run,
			 str(info, "run_name"));
	else
		im->runs_new++;
}

/* Walks runs/search of one experiment on `ep`, calling fn on each page's runs. */
static int each_run_page(struct imp *im, struct mlf_ep *ep, const char *exp,
			 void (*fn)(struct imp *, json_t *runs, void *), void *ud)
{
	char *token = NULL;

	do {
		json_t *body = json_pack("{s:[s], s:i, s:s}", "experiment_ids", exp, "max_results", PAGE,
					 "run_view_type", "ACTIVE_ONLY"),
		       *doc = NULL;
		if (token)
			json_object_set_new(body, "page_token", json_string(token));
		free(token);
		token = NULL;
		int rc = imp_call(im, ep, "POST", "/api/2.0/mlflow/runs/search", body, &doc, "runs/search");
		json_decref(body);
		if (rc < 0)
			return -1;
		fn(im, json_object_get(doc, "runs"), ud);
		if (*str(doc, "next_page_token"))
			token = strdup(str(doc, "next_page_token"));
		json_decref(doc);
	} while (token);
	return 0;
}

/* Atrium's runs that an earlier import made: source run id -> {id, complete}. */
static void note_imported(struct imp *im, json_t *runs, void *ud)
{
	json_t *r, *t;
	size_t i, j;

	(void)im;
	json_array_foreach(runs, i, r)
	{
		const char *src = NULL;
		bool complete = false;
		json_array_foreach(json_object_get(json_object_get(r, "data"), "tags"), j, t)
		{
			if (!strcmp(str(t, "key"), IMP_SOURCE_RUN_TAG))
				src = str(t, "value");
			else if (!strcmp(str(t, "key"), IMP_COMPLETE_TAG))
				complete = true;
		}
		if (src)
			json_object_set_new(ud, src,
					    json_pack("{s:s, s:b}", "id", str(json_object_get(r, "info"), "run_id"),
						      "complete", complete));
	}
}

struct run_walk {
	const char *dst_exp;
	json_t *seen;
};

static void import_page(struct imp *im, json_t *runs, void *ud)
{
	struct run_walk *w = ud;
	json_t *r;
	size_t i;

	json_array_foreach(runs, i, r) import_run(im, r, w->dst_exp, w->seen);
}

/* The Atrium experiment of a source experiment: found by name, else made in --team. Writes
 * its id to dst (empty in a dry run when it would be made). */
static int dst_experiment(struct imp *im, const json_t *e, char *dst, size_t cap)
{
	char *ename = mlf_escape(str(e, "name"), 0), path[1200];
	json_t *doc = NULL, *body, *tags = json_array(), *t;
	size_t i;
	int st;

	snprintf(path, sizeof path, "/api/2.0/mlflow/experiments/get-by-name?experiment_name=%s", ename);
	free(ename);
	st = mlf_json(&im->dst, "GET", path, NULL, &doc);
	if (st == 200) {
		snprintf(dst, cap, "%s", str(json_object_get(doc, "experiment"), "experiment_id"));
		printf("experiment '%s': already in Atrium (experiment %s)\n", str(e, "name"), dst);
		im->exp_seen++;
		json_decref(doc);
		json_decref(tags);
		return 0;
	}
	if (st != 404) {
		imp_fail(im, "experiment '%s': %s", str(e, "name"), im->dst.error);
		json_decref(tags);
		return -1;
	}
	printf("experiment '%s': %s team '%s'\n", str(e, "name"), im->dry_run ? "would be made in" : "made in",
	       im->team);
	im->exp_new++;
	*dst = 0;
	if (im->dry_run) {
		json_decref(tags);
		return 0;
	}
	json_array_foreach(json_object_get(e, "tags"), i, t)
	{
		if (strcmp(str(t, "key"), "atrium.team") != 0)
			json_array_append(tags, t);
	}
	json_array_append_new(tags, json_pack("{s:s, s:s}", "key", "atrium.team", "value", im->team));
	body = json_pack("{s:s, s:o}", "name", str(e, "name"), "tags", tags);
	st = imp_call(im, &im->dst, "POST", "/api/2.0/mlflow/experiments/create", body, &doc, "experiments/create");
	json_decref(body);
	if (st == 0)
		snprintf(dst, cap, "%s", str(doc, "experiment_id"));
	json_decref(doc);
	return st;
}

static void import_experiment(struct imp *im, const json_t *e)
{
	char dst[64];
	struct run_walk w = { dst, json_object() };

	if (dst_experiment(im, e, dst, sizeof dst) < 0) {
		json_decref(w.seen);
		return;
	}
	if (*dst && each_run_page(im, &im->dst, dst, note_imported, w.seen) < 0) {
		json_decref(w.seen);
		return;
	}
	each_run_page(im, &im->src, str(e, "experiment_id"), import_page, &w);
	json_decref(w.seen);
}

static bool selected(const struct imp *im, const char *name)
{
	if (im->n_experiments == 0)
		return true;
	for (int i = 0; i < im->n_experiments; i++)
		if (!strcmp(im->experiments[i], name))
			return true;
	return false;
}

/* Every (selected) active experiment of the source, page by page. */
static int import_experiments(struct imp *im)
{
	char *token = NULL;

	do {
		json_t *body = json_pack("{s:i, s:s}", "max_results", PAGE, "view_type", "ACTIVE_ONLY"), *doc = NULL,
		       *e;
		size_t i;
		if (token)
			json_object_set_new(body, "page_token", json_string(token));
		free(token);
		token = NULL;
		int rc = imp_call(im, &im->src, "POST", "/api/2.0/mlflow/experiments/search", body, &doc,
				  "experiments/search on the MLflow server");
		json_decref(body);
		if (rc < 0)
			return -1;
		json_array_foreach(json_object_get(doc, "experiments"), i, e)
		{
			if (selected(im, str(e, "name")))
				import_experiment(im, e);
		}
		if (*str(doc, "next_page_token"))
			token = strdup(str(doc, "next_page_token"));
		json_decref(doc);
	} while (token);
	return 0;
}

static void summary(const struct imp *im)
{
	const char *w = im->dry_run ? "would copy" : "copied";
	json_t *f;
	size_t i;

	printf("\nsummary%s:\n", im->dry_run ? " (dry run: nothing was written)" : "");
	printf("  experiments: %ld new, %ld already there\n", im->exp_new, im->exp_seen);
	printf("  runs: %s %ld, %ld already there\n", w, im->runs_new, im->runs_seen);
	if (!im->dry_run)
		printf("  params: %ld, tags: %ld, metric points: %ld, artifacts: %ld files (%lld bytes)\n", im->params,
		       im->tags, im->points, im->files, im->bytes);
	printf("  registered models: %s %ld, %ld already there\n", w, im->models_new, im->models_seen);
	printf("  model versions: %s %ld, %ld already there; aliases set: %ld\n", w, im->versions_new,
	       im->versions_seen, im->aliases);
	printf("  could not copy: %zu\n", json_array_size(im->failures));
	json_array_foreach(im->failures, i, f) printf("    - %s\n", json_string_value(f));
}

/* The next argument of an option, or NULL (with a message). */
static const char *optarg_of(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "atrium import-mlflow: %s needs a value\n\n%s\n", argv[*i], usage);
		return NULL;
	}
	return argv[++*i];
}

/* Parses argv into im; 1: --help shown, -1: bad arguments (said). */
static int parse_args(struct imp *im, int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], **slot = NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			puts(usage);
			return 1;
		} else if (!strcmp(a, "--dry-run")) {
			im->dry_run = true;
			continue;
		}
		slot = !strcmp(a, "--from")	    ? &im->src.base
		       : !strcmp(a, "--token")	    ? &im->src.token
		       : !strcmp(a, "--username")   ? &im->src.user
		       : !strcmp(a, "--password")   ? &im->src.pass
		       : !strcmp(a, "--team")	    ? &im->team
		       : !strcmp(a, "--to")	    ? &im->dst.base
		       : !strcmp(a, "--to-token")   ? &im->dst.token
		       : !strcmp(a, "--ca-file")    ? &im->src.ca_file
		       : !strcmp(a, "--experiment") ? &im->experiments[im->n_experiments++]
						    : NULL;
		if (!slot) {
			fprintf(stderr, "atrium import-mlflow: unknown option '%s'\n\n%s\n", a, usage);
			return -1;
		}
		if (!(*slot = optarg_of(argc, argv, &i)))
			return -1;
	}
	if (!im->src.base || !im->team) {
		fprintf(stderr, "atrium import-mlflow: --from and --team are required\n\n%s\n", usage);
		return -1;
	}
	return 0;
}

/* The Atrium side's defaults: $ATRIUM_URL / $ATRIUM_TOKEN, then the local daemon and its
 * admin token file. *owned: a token read from the file (to free). */
static int atrium_defaults(struct imp *im, char **owned)
{
	char buf[512];
	FILE *f;

	*owned = NULL;
	if (!im->dst.base)
		im->dst.base =
			getenv("ATRIUM_URL") && *getenv("ATRIUM_URL") ? getenv("ATRIUM_URL") : "http://127.0.0.1:8080";
	if (!im->dst.token && getenv("ATRIUM_TOKEN") && *getenv("ATRIUM_TOKEN"))
		im->dst.token = getenv("ATRIUM_TOKEN");
	if (im->dst.token)
		return 0;
	if (!(f = fopen("data/admin.token", "r")) || !fgets(buf, sizeof buf, f)) {
		fprintf(stderr, "atrium import-mlflow: no Atrium token: give --to-token or ATRIUM_TOKEN\n");
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = 0;
	im->dst.token = *owned = strdup(buf);
	return 0;
}

static void trim_base(const char **base)
{
	static char a[2][1024];
	static int n;
	char *b = a[n++ % 2];

	snprintf(b, sizeof a[0], "%s", *base);
	while (*b && b[strlen(b) - 1] == '/')
		b[strlen(b) - 1] = 0;
	*base = b;
}

int atr_import_mlflow_main(int argc, char **argv)
{
	struct imp im = { 0 };
	char *owned = NULL;
	int rc;

	im.experiments = calloc((size_t)argc, sizeof *im.experiments);
	rc = im.experiments ? parse_args(&im, argc, argv) : -1;
	if (rc == 0)
		rc = atrium_defaults(&im, &owned);
	if (rc != 0 || mlf_open(&im.src) < 0 || mlf_open(&im.dst) < 0) {
		mlf_close(&im.src);
		free(im.experiments);
		return rc > 0 ? 0 : 2;
	}
	trim_base(&im.src.base);
	trim_base(&im.dst.base);
	im.dst.ca_file = im.src.ca_file;
	im.run_map = json_object();
	im.run_exp = json_object();
	im.failures = json_array();
	printf("importing from MLflow at %s into Atrium at %s%s\n", im.src.base, im.dst.base,
	       im.dry_run ? " (dry run)" : "");
	rc = import_experiments(&im) < 0 ? 2 : 0;
	if (rc == 0 && imp_models(&im) < 0)
		rc = 2;
	summary(&im);
	if (rc == 0 && json_array_size(im.failures))
		rc = 1;
	json_decref(im.run_map);
	json_decref(im.run_exp);
	json_decref(im.failures);
	mlf_close(&im.src);
	mlf_close(&im.dst);
	free(im.experiments);
	free(owned);
	return rc;
}
