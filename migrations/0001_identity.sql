-- Users, teams, API tokens, the audit log and idempotency keys.
-- Times are INTEGER milliseconds since the epoch (UTC).

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  username      TEXT NOT NULL UNIQUE,
  display_name  TEXT NOT NULL DEFAULT '',
  role          TEXT NOT NULL CHECK (role IN ('admin', 'member')),
  disabled      INTEGER NOT NULL DEFAULT 0,
  password_hash TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

CREATE TABLE teams (
  id                  INTEGER PRIMARY KEY,
  name                TEXT NOT NULL UNIQUE,
  description         TEXT NOT NULL DEFAULT '',
  max_gpus            INTEGER,          -- NULL: unlimited
  max_concurrent_jobs INTEGER,          -- NULL: unlimited
  created_at          INTEGER NOT NULL
);

CREATE TABLE team_members (
  team_id  INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role     TEXT NOT NULL CHECK (role IN ('maintainer', 'member')),
  added_at INTEGER NOT NULL,
  PRIMARY KEY (team_id, user_id)
) WITHOUT ROWID;
CREATE INDEX team_members_user ON team_members(user_id);

-- Every credential: users' tokens, dashboard sessions, job tokens, worker secrets,
-- deployment invoke keys and worker join tokens. Only the sha256 is kept.
CREATE TABLE api_tokens (
  id           INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL CHECK (kind IN ('user', 'session', 'job', 'worker', 'invoke', 'join')),
  user_id      INTEGER REFERENCES users(id) ON DELETE CASCADE,
  name         TEXT NOT NULL DEFAULT '',
  token_hash   TEXT NOT NULL UNIQUE,
  prefix       TEXT NOT NULL,
  project_id   INTEGER,
  scope_id     INTEGER,
  created_at   INTEGER NOT NULL,
  last_used_at INTEGER,
  expires_at   INTEGER,
  revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens(user_id, kind);
CREATE INDEX api_tokens_scope ON api_tokens(kind, scope_id);

CREATE TABLE audit_log (
  id         INTEGER PRIMARY KEY,
  created_at INTEGER NOT NULL,
  actor      TEXT,
  actor_id   INTEGER,
  action     TEXT NOT NULL,
  object     TEXT,
  status     INTEGER NOT NULL,
  client     TEXT,
  request_id TEXT
);
CREATE INDEX audit_log_created ON audit_log(created_at);
CREATE INDEX audit_log_actor ON audit_log(actor, id);
CREATE INDEX audit_log_action ON audit_log(action, id);

CREATE TABLE idempotency_keys (
  user_id    INTEGER NOT NULL,
  key        TEXT NOT NULL,
  route      TEXT NOT NULL,
  status     INTEGER NOT NULL,
  body       TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
