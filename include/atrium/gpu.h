#ifndef ATRIUM_GPU_H
#define ATRIUM_GPU_H
/*
 * gpu.h: what a worker host offers: its GPUs (from nvidia-smi, run asynchronously on the
 * loop) and its CPUs and memory (from the OS). Parsing is a pure function so that it can be
 * tested against the output of real machines (tests/fixtures/nvidia-smi/).
 *
 * Test aids: ATRIUM_FAKE_GPUS=N reports N fake GPUs (uuid GPU-fake-<i>, name "Fake GPU",
 * 16384 MiB, nothing used) instead of asking nvidia-smi; ATRIUM_NVIDIA_SMI=PATH runs PATH
 * instead of the nvidia-smi found on PATH.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATR_GPU_MAX 64 /* GPUs per host; indices must be below this */

struct atr_gpu {
	int index;		/* nvidia-smi's index: what CUDA_VISIBLE_DEVICES names */
	char uuid[80];		/* "" when unknown */
	char name[96];		/* "NVIDIA A100-SXM4-80GB" */
	int64_t memory_mb;	/* MiB; -1 when unknown */
	int64_t memory_used_mb; /* MiB; -1 when unknown */
	int utilization;	/* percent; -1 when unknown */
	bool busy;		/* used by something Atrium did not start: not offered */
};

/*
 * Parses `nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,utilization.gpu
 * --format=csv,noheader,nounits` output (len bytes, need not be NUL-terminated) into out
 * (at most max entries). "[N/A]" and other bracketed values mean unknown; surrounding
 * spaces and CRs are ignored; empty output is zero GPUs. Lines that do not parse (wrong
 * field count, no index, an index past ATR_GPU_MAX, a repeated index) are skipped and
 * counted in *bad (may be NULL). Returns the number of GPUs (>= 0).
 */
int atr_gpu_parse(const char *text, size_t len, struct atr_gpu *out, int max, int *bad);

/* n fake GPUs (ATRIUM_FAKE_GPUS). */
void atr_gpu_fake(struct atr_gpu *out, int n);

/* ATRIUM_FAKE_GPUS as a count (0..ATR_GPU_MAX), or -1 when unset or invalid. */
int atr_gpu_fake_count(void);

/*
 * Marks a GPU busy when its used memory exceeds busy_mb while Atrium runs nothing on it
 * (bit i of atrium_mask set: Atrium runs a job on index i). Unknown memory is not busy.
 */
void atr_gpu_mark_busy(struct atr_gpu *gpus, int n, int64_t busy_mb, uint64_t atrium_mask);

/* CPUs, memory and load of this host. */
struct atr_host_info {
	int cpus;
	int64_t memory_mb;
	int64_t memory_used_mb; /* MemTotal - MemAvailable */
	double load1;
};

/* Parses /proc/meminfo text: MemTotal and MemAvailable in kB. 0 or ATR_EINVAL. */
int atr_meminfo_parse(const char *text, int64_t *total_kb, int64_t *avail_kb);
/* Reads sysconf, /proc/meminfo and the load average. Fields it cannot read are 0. */
void atr_host_info_read(struct atr_host_info *out);

/*
 * Runs nvidia-smi as a child on the loop (pipes read on the loop, killed after timeout_ms)
 * and calls cb with the parsed GPUs: rc 0 with n >= 0, or rc < 0 (it failed, timed out or
 * printed nothing parseable while exiting non-zero). cb runs later, never from inside this
 * call. Returns ATR_ENOTFOUND when there is no nvidia-smi (the host has no NVIDIA GPUs),
 * another < 0 when it could not be started; cb is not called then.
 */
struct uv_loop_s;
struct atr_gpu_probe;
typedef void (*atr_gpu_probe_cb)(void *cls, int rc, const struct atr_gpu *gpus, int n);
int atr_gpu_probe_start(struct uv_loop_s *loop, uint64_t timeout_ms, atr_gpu_probe_cb cb, void *cls,
			struct atr_gpu_probe **out);
/* Kills the child and closes; cb is not called. The memory goes when the loop ran. */
void atr_gpu_probe_cancel(struct atr_gpu_probe *p);

#endif
