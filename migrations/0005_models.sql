-- The model registry: registered models (named per project), their versions (numbered 1, 2,
-- 3 ... never reused; a draft until committed, then frozen), aliases (a name such as
-- `staging` or `production` that points at one committed version), promotion requests
-- (an editor asks, an owner approves or rejects) and each model's history of events.
-- Version files are rows in `files` with owner kind 'model_version'.

CREATE TABLE models (
  id           INTEGER PRIMARY KEY,
  project_id   INTEGER NOT NULL REFERENCES projects(id),
  name         TEXT NOT NULL,
  description  TEXT NOT NULL DEFAULT '',
  tags         TEXT NOT NULL DEFAULT '[]',
  last_version INTEGER NOT NULL DEFAULT 0,   -- numbers are never reused after a delete
  created_by   INTEGER REFERENCES users(id),
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE model_versions (
  id            INTEGER PRIMARY KEY,
  model_id      INTEGER NOT NULL REFERENCES models(id),
  version       INTEGER NOT NULL,
  description   TEXT NOT NULL DEFAULT '',
  framework     TEXT NOT NULL DEFAULT '',
  signature     TEXT,                                     -- JSON
  source_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  source_job_id INTEGER,                                  -- the job that produced it
  state         TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'committed')),
  created_by    INTEGER REFERENCES users(id),
  created_at    INTEGER NOT NULL,
  committed_at  INTEGER,
  UNIQUE (model_id, version)
);
CREATE INDEX model_versions_run ON model_versions(source_run_id);
CREATE INDEX model_versions_job ON model_versions(source_job_id);

-- Only committed versions are aliased; a version an alias points at cannot be deleted.
CREATE TABLE model_aliases (
  model_id   INTEGER NOT NULL REFERENCES models(id),
  alias      TEXT NOT NULL,
  version_id INTEGER NOT NULL REFERENCES model_versions(id),
  updated_by TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (model_id, alias)
) WITHOUT ROWID;
CREATE INDEX model_aliases_version ON model_aliases(version_id);

-- A request to point an alias at a version. Deleting the version cancels pending requests
-- (version_id becomes NULL, the number stays for the record).
CREATE TABLE model_promotions (
  id               INTEGER PRIMARY KEY,
  model_id         INTEGER NOT NULL REFERENCES models(id),
  version_id       INTEGER REFERENCES model_versions(id) ON DELETE SET NULL,
  version          INTEGER NOT NULL,
  alias            TEXT NOT NULL,
  state            TEXT NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'approved', 'rejected', 'cancelled')),
  comment          TEXT NOT NULL DEFAULT '',
  requested_by     INTEGER REFERENCES users(id),
  requested_at     INTEGER NOT NULL,
  decided_by       INTEGER REFERENCES users(id),
  decided_at       INTEGER,
  decision_comment TEXT
);
CREATE INDEX model_promotions_model ON model_promotions(model_id, id);
CREATE INDEX model_promotions_state ON model_promotions(state, id);
CREATE INDEX model_promotions_version ON model_promotions(version_id);

-- What happened to a model, newest last. Version numbers are copied, not referenced, so
-- the history outlives deleted versions.
CREATE TABLE model_events (
  id           INTEGER PRIMARY KEY,
  model_id     INTEGER NOT NULL REFERENCES models(id),
  kind         TEXT NOT NULL CHECK (kind IN ('model_created', 'version_created', 'version_committed',
                 'version_deleted', 'alias_moved', 'alias_deleted', 'promotion_requested',
                 'promotion_rejected')),
  version      INTEGER,           -- the version concerned; for alias moves, the new target
  alias        TEXT,
  from_version INTEGER,           -- alias moves and deletes: where it pointed before
  promotion_id INTEGER,
  actor        TEXT,              -- user name, or job:ID
  comment      TEXT,
  created_at   INTEGER NOT NULL
);
CREATE INDEX model_events_model ON model_events(model_id, id);
