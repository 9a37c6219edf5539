-- Datasets and their versions. A version is a draft until committed, then immutable; a
-- version made from a parent starts with the parent's files (no bytes copied).

CREATE TABLE datasets (
  id          INTEGER PRIMARY KEY,
  project_id  INTEGER NOT NULL REFERENCES projects(id),
  name        TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  tags        TEXT NOT NULL DEFAULT '[]',
  last_version INTEGER NOT NULL DEFAULT 0, -- numbers are never reused, even after a draft is deleted
  created_by  INTEGER REFERENCES users(id),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  UNIQUE (project_id, name)
);

CREATE TABLE dataset_versions (
  id             INTEGER PRIMARY KEY,
  dataset_id     INTEGER NOT NULL REFERENCES datasets(id),
  version        INTEGER NOT NULL,
  message        TEXT NOT NULL DEFAULT '',
  parent_version INTEGER,
  state          TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'committed')),
  rows           INTEGER,
  schema         TEXT,
  metadata       TEXT,
  source_job_id  INTEGER,
  created_by     INTEGER REFERENCES users(id),
  created_at     INTEGER NOT NULL,
  committed_at   INTEGER,
  UNIQUE (dataset_id, version)
);
