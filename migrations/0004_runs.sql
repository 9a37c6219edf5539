-- Tracked runs (experiments): parameters, tags, status and times, the dataset versions they
-- read (run_inputs: the lineage link), and their metrics.

CREATE TABLE runs (
  id         INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  name       TEXT NOT NULL DEFAULT '',
  status     TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished', 'failed', 'killed')),
  params     TEXT NOT NULL DEFAULT '{}', -- copy of run_params as a JSON object, for answers
  tags       TEXT NOT NULL DEFAULT '{}', -- copy of run_tags as a JSON object, for answers
  job_id     INTEGER,
  created_by INTEGER REFERENCES users(id),
  started_at INTEGER NOT NULL,
  ended_at   INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
-- Run search walks these in order (newest first, by start time, by name) within a project.
CREATE INDEX runs_project ON runs(project_id, id);
CREATE INDEX runs_created ON runs(created_at);
CREATE INDEX runs_project_started ON runs(project_id, started_at, id);
CREATE INDEX runs_project_name ON runs(project_id, name, id);

-- One row per parameter, for filtering and ordering runs by parameter value. Parameters are
-- immutable once logged (new keys may be added).
CREATE TABLE run_params (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX run_params_kv ON run_params(key, value, run_id);

-- One row per tag (tags change: set, replace, remove).
CREATE TABLE run_tags (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX run_tags_kv ON run_tags(key, value, run_id);

CREATE TABLE run_inputs (
  run_id             INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions(id),
  PRIMARY KEY (run_id, dataset_version_id)
) WITHOUT ROWID;
CREATE INDEX run_inputs_dsv ON run_inputs(dataset_version_id);

-- Metrics. A series is (run, key); its row is the summary that run lists show and sort by
-- (last = the value at the greatest step; on equal steps the one logged later), kept up to
-- date in the transaction that appends points. The points themselves live in chunks.
CREATE TABLE run_metrics (
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  project_id INTEGER NOT NULL, -- the run's, so that ordering runs by a metric walks one index
  key        TEXT NOT NULL,
  last       REAL NOT NULL,
  last_step  INTEGER NOT NULL, -- the greatest step logged
  last_ts    INTEGER NOT NULL,
  min        REAL NOT NULL,
  max        REAL NOT NULL,
  count      INTEGER NOT NULL,
  sorted     INTEGER NOT NULL, -- 1 while points arrived in step order (reads then skip a sort)
  tail_id    INTEGER NOT NULL, -- the chunk being filled
  tail_n     INTEGER NOT NULL, -- points in it
  updated_at INTEGER NOT NULL,
  UNIQUE (run_id, key)
);
CREATE INDEX run_metrics_order ON run_metrics(project_id, key, last, run_id);

-- Points of a series in arrival order, packed: fixed 24-byte little-endian records
-- (step int64, value float64, timestamp ms int64; src/core/metric_codec.c). A chunk is
-- allocated with room to grow and filled in place with incremental blob writes; every chunk
-- but a series' tail is full.
CREATE TABLE metric_chunks (
  id        INTEGER PRIMARY KEY,
  series_id INTEGER NOT NULL REFERENCES run_metrics(id) ON DELETE CASCADE,
  data      BLOB NOT NULL
);
CREATE INDEX metric_chunks_series ON metric_chunks(series_id);
