-- Benchmarks, their evaluations and leaderboards, and the evaluation gate on a model's
-- `production` alias (issue 15).
--
-- A benchmark names a committed dataset version's file as its ground truth and the metrics it
-- scores (names from the scoring library, src/core/scoring.c). An evaluation is one scored
-- predictions file, kept as a file of owner kind 'evaluation' (so GC keeps its bytes), for a
-- model version or a run (its subject). benchmark_leaders holds each subject's best
-- evaluation by the primary metric: the leaderboard is a walk of its index, never a sort.

CREATE TABLE benchmarks (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id         INTEGER NOT NULL REFERENCES projects(id),
  name               TEXT NOT NULL,
  description        TEXT NOT NULL DEFAULT '',
  dataset_version_id INTEGER NOT NULL REFERENCES dataset_versions(id),
  truth_path         TEXT NOT NULL,
  format             TEXT NOT NULL CHECK (format = 'csv' OR format = 'jsonl'),
  id_column          TEXT NOT NULL,
  label_column       TEXT NOT NULL,
  prediction_column  TEXT NOT NULL,
  pos_label          TEXT NOT NULL,
  top_k              INTEGER NOT NULL,
  metrics            TEXT NOT NULL, -- JSON array of metric names, in the order they were given
  primary_metric     TEXT NOT NULL,
  created_by         INTEGER REFERENCES users(id),
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE evaluations (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  benchmark_id       INTEGER NOT NULL REFERENCES benchmarks(id) ON DELETE CASCADE,
  subject            TEXT NOT NULL, -- 'mv:<model version id>' or 'run:<run id>'
  model_version_id   INTEGER REFERENCES model_versions(id) ON DELETE SET NULL,
  run_id             INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  dataset_version_id INTEGER NOT NULL,
  format             TEXT NOT NULL,
  rows               INTEGER NOT NULL,
  metrics            TEXT NOT NULL, -- JSON {name: value | null}
  undefined          TEXT NOT NULL, -- JSON {name: why} for the values scikit-learn would not give
  confusion          TEXT,          -- JSON {labels, matrix} (classification)
  primary_value      REAL,          -- NULL when undefined: not on the leaderboard
  created_by         INTEGER REFERENCES users(id),
  actor              TEXT NOT NULL,
  created_at         INTEGER NOT NULL
);
CREATE INDEX evaluations_benchmark ON evaluations(benchmark_id, id);
CREATE INDEX evaluations_model_version ON evaluations(model_version_id, benchmark_id);

CREATE TABLE benchmark_leaders (
  benchmark_id  INTEGER NOT NULL REFERENCES benchmarks(id) ON DELETE CASCADE,
  subject       TEXT NOT NULL,
  evaluation_id INTEGER NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
  sort_key      REAL NOT NULL, -- the primary value, negated when higher is better: ascending is best first
  PRIMARY KEY (benchmark_id, subject)
) WITHOUT ROWID;
CREATE INDEX benchmark_leaders_rank ON benchmark_leaders(benchmark_id, sort_key, evaluation_id);

CREATE TABLE model_gates (
  model_id     INTEGER PRIMARY KEY REFERENCES models(id) ON DELETE CASCADE,
  alias        TEXT NOT NULL DEFAULT 'production',
  benchmark_id INTEGER NOT NULL REFERENCES benchmarks(id),
  metric       TEXT NOT NULL,
  threshold    REAL NOT NULL,
  updated_by   TEXT NOT NULL,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX model_gates_benchmark ON model_gates(benchmark_id);

-- files may belong to an evaluation (its predictions file): the CHECK of 0013 with one more kind
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, 'OR owner_kind = ''job_output'')',
  'OR owner_kind = ''job_output'' OR owner_kind = ''evaluation'')')
  WHERE type = 'table' AND name = 'files';
PRAGMA writable_schema = RESET;
