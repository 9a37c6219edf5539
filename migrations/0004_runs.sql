-- Tracked runs (experiments): parameters, tags, status and times, the dataset versions they
-- read (run_inputs: the lineage link). Metric storage is added by the metrics work.

CREATE TABLE runs (
  id         INTEGER PRIMARY KEY,
  project_id INTEGER NOT NULL REFERENCES projects(id),
  name       TEXT NOT NULL DEFAULT '',
  status     TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished', 'failed', 'killed')),
  params     TEXT NOT NULL DEFAULT '{}',
  tags       TEXT NOT NULL DEFAULT '{}',
  job_id     INTEGER,
  created_by INTEGER REFERENCES users(id),
  started_at INTEGER NOT NULL,
  ended_at   INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX runs_project ON runs(project_id, id);

-- One row per parameter, for filtering runs by parameter value.
CREATE TABLE run_params (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX run_params_kv ON run_params(key, value, run_id);

CREATE TABLE run_inputs (
  run_id             INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions(id),
  PRIMARY KEY (run_id, dataset_version_id)
) WITHOUT ROWID;
CREATE INDEX run_inputs_dsv ON run_inputs(dataset_version_id);
