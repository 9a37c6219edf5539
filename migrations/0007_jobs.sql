-- Jobs: training and batch-inference work placed on workers (and, later, serving replicas).
-- State machine (src/sched/jobstate.c): queued -> dispatched -> running -> succeeded |
-- failed | cancelled; a job on a worker that vanished is lost, then queued again while
-- attempts remain, else failed. Every transition is one row in job_events.

CREATE TABLE jobs (
  id               INTEGER PRIMARY KEY,
  project_id       INTEGER NOT NULL REFERENCES projects(id),
  team_id          INTEGER REFERENCES teams(id),   -- the project's team at submit (quota, fair share)
  name             TEXT NOT NULL DEFAULT '',
  kind             TEXT NOT NULL CHECK (kind IN ('training', 'batch_inference', 'service')),
  state            TEXT NOT NULL CHECK (state IN ('queued', 'dispatched', 'running', 'succeeded', 'failed',
                                                  'cancelled', 'lost')),
  command          TEXT NOT NULL,                  -- JSON: array of strings, or one string for /bin/sh -c
  env              TEXT NOT NULL DEFAULT '{}',
  gpus             INTEGER NOT NULL DEFAULT 0,
  gpu_type         TEXT,
  cpus             INTEGER NOT NULL DEFAULT 0,
  memory_mb        INTEGER NOT NULL DEFAULT 0,
  labels           TEXT NOT NULL DEFAULT '{}',     -- the worker must have these labels
  priority         INTEGER NOT NULL DEFAULT 0,
  max_attempts     INTEGER NOT NULL DEFAULT 3,
  attempts         INTEGER NOT NULL DEFAULT 0,     -- times it was started on a worker
  timeout_s        INTEGER NOT NULL DEFAULT 0,
  inputs           TEXT NOT NULL DEFAULT '[]',     -- [{dataset, version, as, dataset_version_id}]
  outputs          TEXT NOT NULL DEFAULT '{}',     -- {"model": name} / {"dataset": name}
  run_id           INTEGER REFERENCES runs(id),
  worker_id        INTEGER,
  assigned_gpus    TEXT NOT NULL DEFAULT '[]',
  exit_code        INTEGER,
  message          TEXT NOT NULL DEFAULT '',
  pending_reason   TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  output_model_version_id   INTEGER,
  output_dataset_version_id INTEGER,
  model_version_id INTEGER,                         -- batch inference / serving: the model it uses
  deployment_id    INTEGER,
  replica          INTEGER,
  port             INTEGER,
  created_by       INTEGER REFERENCES users(id),
  created_at       INTEGER NOT NULL,
  queued_at        INTEGER NOT NULL,
  dispatched_at    INTEGER,
  started_at       INTEGER,
  ended_at         INTEGER,
  updated_at       INTEGER NOT NULL
);
CREATE INDEX jobs_active ON jobs(state) WHERE state IN ('queued', 'dispatched', 'running', 'lost');
CREATE INDEX jobs_project ON jobs(project_id, id);
CREATE INDEX jobs_ended ON jobs(ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX jobs_user ON jobs(created_by, id);
CREATE INDEX jobs_created ON jobs(created_at);
CREATE INDEX jobs_worker ON jobs(worker_id, state);

CREATE TABLE job_events (
  id         INTEGER PRIMARY KEY,
  job_id     INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  from_state TEXT,
  to_state   TEXT NOT NULL,
  attempt    INTEGER NOT NULL DEFAULT 0,
  worker_id  INTEGER,
  message    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX job_events_job ON job_events(job_id, id);
