-- Sweeps (issue 20): a launcher version run over a search space, trial by trial, with early
-- stopping by asynchronous successive halving (src/sweeps/, src/core/asha.c).
CREATE TABLE sweeps (
  id               INTEGER PRIMARY KEY,
  project_id       INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  launcher_id      INTEGER NOT NULL,
  launcher_version INTEGER NOT NULL,
  name             TEXT NOT NULL,
  method           TEXT NOT NULL CHECK (method IN ('grid', 'random')),
  search_space     TEXT NOT NULL,  -- JSON object: parameter -> {type, ...} (atrium/sweep.h)
  fixed_values     TEXT NOT NULL DEFAULT '{}', -- JSON object: launcher values every trial gets
  max_trials       INTEGER NOT NULL,
  parallelism      INTEGER NOT NULL,
  metric           TEXT NOT NULL,
  direction        TEXT NOT NULL CHECK (direction IN ('minimize', 'maximize')),
  asha             TEXT,           -- JSON {min_resource, eta, rungs}, NULL: no early stopping
  seed             INTEGER NOT NULL,
  -- ORs, not IN (...): SQLite builds a b-tree for an IN list of more than two constants each
  -- time a CHECK runs (docs/benchmarks.md, migration 0013)
  state            TEXT NOT NULL CHECK (state = 'running' OR state = 'paused' OR state = 'cancelled'
                                        OR state = 'completed'),
  created_by       INTEGER REFERENCES users(id),
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);
CREATE INDEX sweeps_project ON sweeps(project_id, id);
CREATE INDEX sweeps_active ON sweeps(state) WHERE state = 'running' OR state = 'paused';

-- One trial: a job with its run, the values it got, what ASHA decided about it.
CREATE TABLE sweep_trials (
  id          INTEGER PRIMARY KEY,
  sweep_id    INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  idx         INTEGER NOT NULL,   -- the search space's point number
  job_id      INTEGER,
  run_id      INTEGER,
  params      TEXT NOT NULL,      -- JSON object: the search space's values of this trial
  state       TEXT NOT NULL CHECK (state = 'running' OR state = 'stopped' OR state = 'succeeded'
                                   OR state = 'failed' OR state = 'cancelled'),
  next_rung   INTEGER NOT NULL DEFAULT 0,
  rung_values TEXT NOT NULL DEFAULT '[]', -- JSON array: the value recorded at rungs 0..next_rung-1
  last_value  REAL,
  last_step   INTEGER,
  stopped_step INTEGER,           -- the step at which ASHA stopped it
  created_at  INTEGER NOT NULL,
  ended_at    INTEGER,
  UNIQUE (sweep_id, idx)
);
CREATE INDEX sweep_trials_job ON sweep_trials(job_id);
