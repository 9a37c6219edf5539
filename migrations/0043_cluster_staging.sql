-- Garbage collection of what Slurm clusters stage into their shared directory (issue 19).
-- cluster_blobs: the input blobs a cluster holds in <shared_dir>/atrium/blobs (size, last use);
-- cluster_job_blobs: which blobs each attempt sent there reads (a blob referenced by an attempt
-- not done is never collected); cluster_jobs.dir_removed: the attempt's own folder
-- (<shared_dir>/atrium/jobs/<job>-<attempt>) was removed after the job ended. The staging
-- counters live on the cluster so that they survive a restart; staging_keep_s is how long an
-- unused blob stays (7 days unless the admin says otherwise).
ALTER TABLE clusters ADD COLUMN staging_keep_s INTEGER NOT NULL DEFAULT 604800;
ALTER TABLE clusters ADD COLUMN blobs_copied INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clusters ADD COLUMN blobs_reused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clusters ADD COLUMN blobs_collected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clusters ADD COLUMN bytes_collected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clusters ADD COLUMN job_dirs_collected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cluster_jobs ADD COLUMN dir_removed INTEGER NOT NULL DEFAULT 0;

CREATE TABLE cluster_blobs (
	cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
	sha256 TEXT NOT NULL,
	size INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL,
	PRIMARY KEY (cluster_id, sha256)
);
CREATE INDEX cluster_blobs_sha ON cluster_blobs(sha256);

CREATE TABLE cluster_job_blobs (
	job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	attempt INTEGER NOT NULL,
	sha256 TEXT NOT NULL,
	PRIMARY KEY (job_id, attempt, sha256)
);
CREATE INDEX cluster_job_blobs_sha ON cluster_job_blobs(sha256);
CREATE INDEX cluster_jobs_ended ON cluster_jobs(cluster_id) WHERE done = 1 AND dir_removed = 0;
