-- Deployments: model versions served by replicas (jobs of kind 'service') behind the
-- inference gateway. The controller (src/deploy/) keeps each deployment's live state in
-- memory and writes here whatever must survive a restart: the desired traffic split, the
-- stable version, the current rollout, each replica job's generation, the history.
-- Version ids are model_versions row ids; numbers are kept beside them for history rows
-- that must still read well after a version is deleted.

CREATE TABLE deployments (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: invoke keys and jobs point at it
  project_id          INTEGER NOT NULL REFERENCES projects(id),
  name                TEXT NOT NULL UNIQUE,             -- the endpoint's name, unique on the server
  model_id            INTEGER NOT NULL REFERENCES models(id),
  follow_alias        TEXT,                             -- "production": rolls out when it moves; NULL: pinned
  version_id          INTEGER,                          -- the stable version (what serves without a rollout)
  version             INTEGER,
  previous_version_id INTEGER,                          -- what a rollback goes back to
  previous_version    INTEGER,
  replicas            INTEGER NOT NULL,
  command             TEXT NOT NULL,                    -- JSON: array of strings or a string for /bin/sh -c
  env                 TEXT NOT NULL DEFAULT '{}',
  resources           TEXT NOT NULL DEFAULT '{}',       -- {gpus, gpu_type, cpus, memory_mb}
  labels              TEXT NOT NULL DEFAULT '{}',
  health_path         TEXT NOT NULL,
  predict_path        TEXT NOT NULL,
  timeout_ms          INTEGER NOT NULL,                 -- per inference request
  rollout_timeout_s   INTEGER NOT NULL,
  sample_rate         REAL NOT NULL DEFAULT 0,          -- prediction capture
  capture_max_bytes   INTEGER NOT NULL,
  capture_max_rows    INTEGER NOT NULL,
  capture_max_age_s   INTEGER NOT NULL,
  generation          INTEGER NOT NULL DEFAULT 0,       -- last track generation handed out
  traffic             TEXT NOT NULL DEFAULT '[]',       -- [{version_id, version, generation, weight, replicas, surge}]
  state               TEXT NOT NULL CHECK (state IN ('deploying', 'ready', 'degraded', 'failed')),
  message             TEXT NOT NULL DEFAULT '',
  rollout_id          INTEGER,                          -- the latest rollout
  created_by          INTEGER REFERENCES users(id),
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL
);
CREATE INDEX deployments_project ON deployments(project_id, id);
CREATE INDEX deployments_model ON deployments(model_id);

CREATE TABLE deployment_rollouts (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id    INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  kind             TEXT NOT NULL CHECK (kind IN ('initial', 'rolling', 'canary')),
  trigger          TEXT NOT NULL CHECK (trigger IN ('create', 'patch', 'alias', 'rollback', 'config')),
  from_version_id  INTEGER,
  from_version     INTEGER,
  to_version_id    INTEGER NOT NULL,
  to_version       INTEGER NOT NULL,
  generation       INTEGER NOT NULL,                  -- the track it brings up
  state            TEXT NOT NULL CHECK (state IN ('in_progress', 'succeeded', 'failed', 'cancelled',
                                                  'promoted', 'rolled_back')),
  reason           TEXT NOT NULL DEFAULT '',
  actor            TEXT,
  deadline_at      INTEGER NOT NULL,
  started_at       INTEGER NOT NULL,
  ended_at         INTEGER
);
CREATE INDEX deployment_rollouts_dep ON deployment_rollouts(deployment_id, id);

-- What happened to a deployment, newest last: created, rollouts, promotions, rollbacks,
-- scaling, settings, replicas replaced, state changes.
CREATE TABLE deployment_events (
  id            INTEGER PRIMARY KEY,
  deployment_id INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  created_at    INTEGER NOT NULL,
  kind          TEXT NOT NULL,
  rollout_id    INTEGER,
  from_version  INTEGER,
  to_version    INTEGER,
  actor         TEXT,
  message       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deployment_events_dep ON deployment_events(deployment_id, id);

-- Which generation (track) each replica job was started for: the engine's jobs table knows
-- the deployment, replica index and model version, not the generation.
CREATE TABLE deployment_replicas (
  job_id        INTEGER PRIMARY KEY,
  deployment_id INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  generation    INTEGER NOT NULL
);
CREATE INDEX deployment_replicas_dep ON deployment_replicas(deployment_id);

-- Captured inference requests and responses (sampled, size-capped, pruned to a retention).
CREATE TABLE deployment_predictions (
  id              INTEGER PRIMARY KEY,
  deployment_id   INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  version_id      INTEGER,
  version         INTEGER,
  created_at      INTEGER NOT NULL,
  latency_us      INTEGER NOT NULL,
  status          INTEGER NOT NULL,
  content_type    TEXT,
  request         BLOB,
  request_size    INTEGER NOT NULL,                   -- the whole body's size; more than length(request) when cut
  response        BLOB,
  response_size   INTEGER NOT NULL
);
CREATE INDEX deployment_predictions_dep ON deployment_predictions(deployment_id, id);
CREATE INDEX deployment_predictions_age ON deployment_predictions(created_at);
