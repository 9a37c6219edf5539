-- Projects and their members; content-addressed blobs and the files that point at them.
-- Every artifact (dataset version files, run artifacts, model version files, job outputs)
-- is a row in `files` owned by (owner_kind, owner_id); the bytes are a blob named by sha256,
-- stored once however many files point at it. Blobs no file points at are garbage.

CREATE TABLE projects (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  team_id     INTEGER REFERENCES teams(id),
  visibility  TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'internal')),
  tags        TEXT NOT NULL DEFAULT '[]',
  created_by  INTEGER REFERENCES users(id),
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  archived_at INTEGER
);
CREATE INDEX projects_team ON projects(team_id);

CREATE TABLE project_members (
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role       TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
  added_at   INTEGER NOT NULL,
  PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;
CREATE INDEX project_members_user ON project_members(user_id, project_id);

CREATE TABLE blobs (
  sha256     TEXT PRIMARY KEY,
  size       INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE files (
  id         INTEGER PRIMARY KEY,
  owner_kind TEXT NOT NULL CHECK (owner_kind IN ('dataset_version', 'run', 'model_version', 'job_output')),
  owner_id   INTEGER NOT NULL,
  path       TEXT NOT NULL,
  sha256     TEXT NOT NULL REFERENCES blobs(sha256),
  size       INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (owner_kind, owner_id, path)
);
CREATE INDEX files_sha256 ON files(sha256);
