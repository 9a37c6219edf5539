-- Workers (GPU hosts running `atrium worker`), the log chunks they ship, and the final
-- reports of the jobs they ran. Times are INTEGER milliseconds since the epoch (UTC).
--
-- job_logs and worker_job_reports key on job_id WITHOUT a foreign key: the jobs table does
-- not exist yet. The jobs phase adds the reference (and checks that the reporting worker
-- is the one the job was dispatched to).

CREATE TABLE workers (
  id                INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: ids outlive rows in logs
  name              TEXT NOT NULL UNIQUE,
  url               TEXT NOT NULL,              -- the worker's own API base URL
  state             TEXT NOT NULL CHECK (state IN ('online', 'offline')),
  cordoned          INTEGER NOT NULL DEFAULT 0, -- no new jobs
  draining          INTEGER NOT NULL DEFAULT 0, -- no new jobs; the worker is told to drain
  labels            TEXT NOT NULL DEFAULT '{}', -- JSON object of strings
  gpus              TEXT NOT NULL DEFAULT '[]', -- JSON array, as the worker last reported
  cpus              INTEGER NOT NULL DEFAULT 0,
  memory_mb         INTEGER NOT NULL DEFAULT 0,
  memory_used_mb    INTEGER,
  load              REAL,
  running           TEXT NOT NULL DEFAULT '[]', -- job ids the worker last said it runs
  version           TEXT NOT NULL DEFAULT '',
  secret_nonce      INTEGER NOT NULL DEFAULT 0, -- random, new at each registration: the secret derives from it
  join_token_id     INTEGER,                    -- the join token it last registered with
  registered_at     INTEGER NOT NULL,
  last_heartbeat_at INTEGER,
  state_changed_at  INTEGER NOT NULL,
  deregistered_at   INTEGER                     -- set by a clean stop, cleared by registering
);
CREATE INDEX workers_state ON workers(state, last_heartbeat_at);

CREATE TABLE job_logs (
  job_id      INTEGER NOT NULL,
  attempt     INTEGER NOT NULL,
  byte_offset INTEGER NOT NULL,  -- of data[0] in the job's log
  data        BLOB NOT NULL,
  worker_id   INTEGER,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (job_id, attempt, byte_offset)
) WITHOUT ROWID;

CREATE TABLE worker_job_reports (
  job_id      INTEGER NOT NULL,
  attempt     INTEGER NOT NULL,
  worker_id   INTEGER NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('succeeded', 'failed', 'cancelled', 'timeout')),
  exit_code   INTEGER,
  signal      INTEGER,
  message     TEXT NOT NULL DEFAULT '',
  log_bytes   INTEGER NOT NULL DEFAULT 0,
  started_at  INTEGER,
  finished_at INTEGER,
  reported_at INTEGER NOT NULL,
  PRIMARY KEY (job_id, attempt)
) WITHOUT ROWID;
