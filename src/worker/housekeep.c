/*
 * housekeep.c: keeps a worker's disk in bounds. Soon after the start and then every
 * --housekeeping seconds, a pass:
 *   1. scans WORK_DIR on libuv's thread pool: job folders (jobs/<id>, the jobs/<id>.before-*
 *      folders of earlier runs) whose log was last written more than --keep-jobs seconds ago,
 *      folders already in jobs/.trash-*, temp files of interrupted downloads (cache/.part-*)
 *      older than an hour, and the cache's contents with their size, last use and link count;
 *      when the cache holds more than --cache-max-mb, the least recently used contents that no
 *      job folder links to any more go, oldest first, down to 90 % of the limit;
 *   2. back on the loop, where jobs are started, each old folder of a job this worker no
 *      longer holds is renamed into jobs/.trash-<name> (a job arriving later with that id
 *      makes a fresh folder, and nothing deletes a folder a job uses);
 *   3. the trash is deleted on the thread pool.
 * A fetch that finds a content gone between its check and its link downloads it again
 * (fetch.c), so evicting never fails a job. A cache hit refreshes the content's mtime: the
 * cache's "last used".
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "agent.h"
#include "stage.h"
#include "atrium/log.h"
#include "atrium/util.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FIRST_PASS_MS 2000
#define PART_MAX_AGE_S 3600
#define TRASH_PREFIX ".trash-"

struct hk_pass {
	uv_work_t work;
	struct agent *a;
	char work_dir[1024];
	int64_t now_s, keep_s;
	uint64_t cache_max;
	bool deleting; /* second stage: the trash */
	/* results of the scan */
	char **old; /* names under jobs/ to move to the trash */
	size_t nold, capold;
	uint64_t parts_removed, evicted_files, evicted_bytes, cache_bytes;
	/* results of the delete */
	uint64_t trash_dirs, trash_bytes, remove_failed;
};

size_t hk_pick_evictions(struct hk_entry *e, size_t n, uint64_t max_bytes, uint64_t *total)
{
	uint64_t sum = 0, target = max_bytes / 10 * 9;
	size_t picked = 0;

	for (size_t i = 0; i < n; i++) {
		sum += e[i].size;
		e[i].evict = false;
	}
	*total = sum;
	if (max_bytes == 0 || sum <= max_bytes)
		return 0;
	/* oldest first; equal ages: the biggest first, then by name so a pass is repeatable */
	for (size_t i = 1; i < n; i++) {
		struct hk_entry k = e[i];
		size_t j = i;
		while (j > 0 &&
		       (e[j - 1].mtime > k.mtime ||
			(e[j - 1].mtime == k.mtime &&
			 (e[j - 1].size < k.size || (e[j - 1].size == k.size && strcmp(e[j - 1].name, k.name) > 0))))) {
			e[j] = e[j - 1];
			j--;
		}
		e[j] = k;
	}
	for (size_t i = 0; i < n && sum > target; i++) {
		if (e[i].linked)
			continue; /* a job folder still links it: removing it would free nothing */
		e[i].evict = true;
		sum -= e[i].size;
		picked++;
	}
	*total = sum;
	return picked;
}

static bool push_old(struct hk_pass *p, const char *name)
{
	char *copy;
	if (p->nold == p->capold) {
		size_t ncap = p->capold ? p->capold * 2 : 16;
		char **n = realloc(p->old, ncap * sizeof(*n));
		if (!n)
			return false;
		p->old = n;
		p->capold = ncap;
	}
	if (!(copy = strdup(name)))
		return false;
	p->old[p->nold++] = copy;
	return true;
}

/* jobs/<id> or jobs/<id>.before-<ms>: the id, or 0 for anything else. */
static long long job_folder_id(const char *name)
{
	char *end;
	long long id;

	if (name[0] < '1' || name[0] > '9')
		return 0;
	errno = 0;
	id = strtoll(name, &end, 10);
	if (errno || id <= 0 || (*end && strncmp(end, ".before-", 8) != 0))
		return 0;
	return id;
}

static void scan_jobs(struct hk_pass *p)
{
	char dir[1100], path[1400];
	struct dirent *de;
	struct stat st;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/jobs", p->work_dir);
	if (!(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		int64_t last;
		if (!strncmp(de->d_name, TRASH_PREFIX, strlen(TRASH_PREFIX))) {
			push_old(p, de->d_name); /* left by a pass that was cut short */
			continue;
		}
		if (!job_folder_id(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		last = st.st_mtime;
		snprintf(path, sizeof(path), "%s/%s/log", dir, de->d_name);
		if (lstat(path, &st) == 0 && st.st_mtime > last)
			last = st.st_mtime;
		if (p->now_s - last >= p->keep_s)
			push_old(p, de->d_name);
	}
	closedir(d);
}

static bool is_sha_name(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
}

static void scan_cache(struct hk_pass *p)
{
	char dir[1100], path[1400];
	struct hk_entry *e = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	struct stat st;
	uint64_t total;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/cache", p->work_dir);
	if (!(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!strncmp(de->d_name, ".part-", 6)) {
			if (lstat(path, &st) == 0 && p->now_s - st.st_mtime >= PART_MAX_AGE_S && unlink(path) == 0)
				p->parts_removed++;
			continue;
		}
		if (!is_sha_name(de->d_name) || lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct hk_entry *ne = realloc(e, ncap * sizeof(*ne));
			if (!ne)
				break;
			e = ne;
			cap = ncap;
		}
		atr_copy(e[n].name, sizeof(e[n].name), de->d_name);
		e[n].size = (uint64_t)st.st_size;
		e[n].mtime = st.st_mtime;
		e[n].linked = st.st_nlink > 1;
		n++;
	}
	closedir(d);
	hk_pick_evictions(e, n, p->cache_max, &total);
	p->cache_bytes = total;
	for (size_t i = 0; i < n; i++) {
		if (!e[i].evict)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e[i].name);
		if (unlink(path) == 0) {
			p->evicted_files++;
			p->evicted_bytes += e[i].size;
		} else {
			p->cache_bytes += e[i].size;
		}
	}
	free(e);
}

/* nftw has no user pointer; the counts are per thread (and one pass is in flight at a time).
 * Nothing here logs: the log is the loop thread's. */
static _Thread_local uint64_t trash_bytes_tls, remove_failed_tls;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_F || flag == FTW_SL || flag == FTW_SLN)
		trash_bytes_tls += st->st_nlink <= 1 ? (uint64_t)st->st_size : 0;
	if (remove(path) < 0 && errno != ENOENT)
		remove_failed_tls++;
	return 0; /* go on with the rest */
}

static void delete_trash(struct hk_pass *p)
{
	char path[1400];

	trash_bytes_tls = remove_failed_tls = 0;
	for (size_t i = 0; i < p->nold; i++) {
		snprintf(path, sizeof(path), "%s/jobs/%s", p->work_dir, p->old[i]);
		if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0)
			p->trash_dirs++;
	}
	p->trash_bytes = trash_bytes_tls;
	p->remove_failed = remove_failed_tls;
}

static void pass_work(uv_work_t *w)
{
	struct hk_pass *p = w->data;

	if (p->deleting) {
		delete_trash(p);
		return;
	}
	scan_jobs(p);
	scan_cache(p);
}

static void pass_free(struct hk_pass *p)
{
	for (size_t i = 0; i < p->nold; i++)
		free(p->old[i]);
	free(p->old);
	free(p);
}

static void pass_done(uv_work_t *w, int status);

/* On the loop: the old folders of jobs this worker no longer holds go to the trash. */
static size_t to_trash(struct hk_pass *p)
{
	char from[1400], to[1400];
	size_t kept = 0;

	for (size_t i = 0; i < p->nold; i++) {
		char *name = p->old[i];
		long long id = job_folder_id(name);
		bool plain = id && !strchr(name, '.');

		if (!strncmp(name, TRASH_PREFIX, strlen(TRASH_PREFIX))) {
			p->old[kept++] = name;
			continue;
		}
		if (plain && agent_job_find(p->a, id)) {
			free(name); /* still this worker's: its report is not in yet */
			continue;
		}
		snprintf(from, sizeof(from), "%s/jobs/%s", p->work_dir, name);
		snprintf(to, sizeof(to), "%s/jobs/" TRASH_PREFIX "%s", p->work_dir, name);
		free(name);
		if (rename(from, to) < 0) {
			if (errno != ENOENT)
				atr_warn("housekeeping: cannot move '%s' aside: %s", from, strerror(errno));
			continue;
		}
		p->old[kept++] = strdup(to + strlen(p->work_dir) + strlen("/jobs/"));
		if (!p->old[kept - 1])
			kept--;
	}
	p->nold = kept;
	return kept;
}

static void pass_end(struct hk_pass *p)
{
	struct agent *a = p->a;
	char ev[32], cache[32], freed[32];

	a->hk_running = false;
	if (p->remove_failed)
		atr_warn("housekeeping: %llu entr%s under '%s/jobs/" TRASH_PREFIX "*' could not be removed",
			 (unsigned long long)p->remove_failed, p->remove_failed == 1 ? "y" : "ies", p->work_dir);
	if (p->trash_dirs || p->evicted_files || p->parts_removed) {
		stage_size_text(p->evicted_bytes, ev, sizeof(ev));
		stage_size_text(p->cache_bytes, cache, sizeof(cache));
		stage_size_text(p->trash_bytes, freed, sizeof(freed));
		atr_info("housekeeping: removed %llu old job folder%s (%s), %llu stale download%s; evicted %llu cached "
			 "file%s (%s); the cache holds %s",
			 (unsigned long long)p->trash_dirs, p->trash_dirs == 1 ? "" : "s", freed,
			 (unsigned long long)p->parts_removed, p->parts_removed == 1 ? "" : "s",
			 (unsigned long long)p->evicted_files, p->evicted_files == 1 ? "" : "s", ev, cache);
	}
	pass_free(p);
}

static void pass_done(uv_work_t *w, int status)
{
	struct hk_pass *p = w->data;

	if (status < 0 || p->a->closing) {
		p->a->hk_running = false;
		pass_free(p);
		return;
	}
	if (p->deleting || to_trash(p) == 0) {
		pass_end(p);
		return;
	}
	p->deleting = true;
	if (uv_queue_work(p->a->loop, &p->work, pass_work, pass_done) < 0)
		pass_end(p);
}

static void on_hk_timer(uv_timer_t *t)
{
	struct agent *a = t->data;
	struct hk_pass *p;

	if (a->hk_running || a->closing || a->stopping)
		return;
	if (!(p = calloc(1, sizeof(*p))))
		return;
	p->a = a;
	p->work.data = p;
	atr_copy(p->work_dir, sizeof(p->work_dir), a->work_dir);
	p->now_s = (int64_t)time(NULL);
	p->keep_s = a->cfg->keep_jobs_s;
	p->cache_max = (uint64_t)a->cfg->cache_max_mb << 20;
	a->hk_running = true;
	if (uv_queue_work(a->loop, &p->work, pass_work, pass_done) < 0) {
		a->hk_running = false;
		pass_free(p);
	}
}

void agent_housekeeping_start(struct agent *a)
{
	uint64_t every = (uint64_t)a->cfg->housekeeping_s * 1000;

	if (!every)
		return;
	uv_timer_start(&a->hk_timer, on_hk_timer, FIRST_PASS_MS < every ? FIRST_PASS_MS : every, every);
	uv_unref((uv_handle_t *)&a->hk_timer);
}
