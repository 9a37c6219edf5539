-- Slurm clusters as a dispatch backend (issue 19). A cluster is registered by an admin; it
-- is also a worker row (name 'cluster:<name>', url 'slurm:<name>', label atrium.cluster=<name>)
-- so that the engine places, reconciles and requeues its jobs like any worker's. The secret
-- (a JWT file, or the HS256 key Atrium mints JWTs from) stays in a file: only its path is kept.
CREATE TABLE clusters (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL DEFAULT 'slurm' CHECK (kind = 'slurm'),
	url TEXT NOT NULL,
	auth TEXT NOT NULL CHECK (auth = 'token_file' OR auth = 'jwt_key'),
	secret_path TEXT NOT NULL,
	user_name TEXT NOT NULL,
	partitions TEXT NOT NULL DEFAULT '[]',
	account TEXT NOT NULL DEFAULT '',
	qos TEXT NOT NULL DEFAULT '',
	gres_name TEXT NOT NULL DEFAULT 'gpu',
	shared_dir TEXT NOT NULL,
	max_jobs INTEGER NOT NULL DEFAULT 100,
	worker_id INTEGER NOT NULL REFERENCES workers(id),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

-- One Slurm batch job per attempt of an Atrium job. slurm_job_id NULL: submitted, answer not
-- seen yet (a retry looks the unique name up first). done = 1: its end was reported.
CREATE TABLE cluster_jobs (
	job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
	attempt INTEGER NOT NULL,
	cluster_id INTEGER NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
	slurm_name TEXT NOT NULL,
	slurm_job_id INTEGER,
	log_offset INTEGER NOT NULL DEFAULT 0,
	done INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (job_id, attempt)
);
CREATE INDEX cluster_jobs_active ON cluster_jobs(cluster_id) WHERE done = 0;
