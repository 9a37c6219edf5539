-- Competitions (hackathons): a hidden test set (a committed dataset version holding the ground
-- truth) scored against the teams' prediction files. The version named by test_version_id is
-- hidden by the access layer (src/api/access.c) from everyone but the organisers (owners of the
-- competition's project, admins). `seed` is the secret of the public/private split of the
-- test ids: it never leaves the database.
CREATE TABLE competitions (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id       INTEGER NOT NULL REFERENCES projects(id),
  name             TEXT NOT NULL UNIQUE,
  title            TEXT NOT NULL,
  description      TEXT NOT NULL DEFAULT '',
  rules            TEXT NOT NULL DEFAULT '',
  starts_at        INTEGER NOT NULL,
  ends_at          INTEGER NOT NULL,
  train_version_id INTEGER REFERENCES dataset_versions(id),
  test_version_id  INTEGER NOT NULL REFERENCES dataset_versions(id),
  test_path        TEXT NOT NULL,
  id_column        TEXT NOT NULL,
  label_column     TEXT NOT NULL,
  metric           TEXT NOT NULL,
  pos_label        TEXT,
  max_bytes        INTEGER NOT NULL,
  daily_limit      INTEGER NOT NULL,
  max_team_size    INTEGER NOT NULL,
  public_fraction  REAL NOT NULL,
  score_precision  INTEGER NOT NULL,
  seed             TEXT NOT NULL,
  board_version    INTEGER NOT NULL DEFAULT 0, -- bumped when a score or a selection changes: the boards' cache key
  created_by       INTEGER REFERENCES users(id),
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);
CREATE INDEX competitions_test ON competitions(test_version_id);

-- A participating team: an Atrium team (team_id) or an ad-hoc one (team_id NULL).
CREATE TABLE competition_teams (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  competition_id INTEGER NOT NULL REFERENCES competitions(id),
  name           TEXT NOT NULL,
  team_id        INTEGER REFERENCES teams(id),
  created_at     INTEGER NOT NULL,
  UNIQUE (competition_id, name)
);

-- Who plays for which team: one team per user and competition.
CREATE TABLE competition_members (
  competition_id INTEGER NOT NULL REFERENCES competitions(id),
  user_id        INTEGER NOT NULL REFERENCES users(id),
  entry_id       INTEGER NOT NULL REFERENCES competition_teams(id),
  joined_at      INTEGER NOT NULL,
  PRIMARY KEY (competition_id, user_id)
);
CREATE INDEX competition_members_entry ON competition_members(entry_id);

-- Submissions: 'scoring' (accepted, on the thread pool), 'scored', 'invalid' (422: counts
-- against no limit). `day` is the UTC day (days since the epoch) of the request head's arrival.
CREATE TABLE competition_submissions (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  competition_id INTEGER NOT NULL REFERENCES competitions(id),
  entry_id       INTEGER NOT NULL REFERENCES competition_teams(id),
  user_id        INTEGER REFERENCES users(id),
  format         TEXT NOT NULL,
  sha256         TEXT NOT NULL,
  size           INTEGER NOT NULL,
  day            INTEGER NOT NULL,
  state          TEXT NOT NULL CHECK (state = 'scoring' OR state = 'scored' OR state = 'invalid'),
  public_score   REAL,
  private_score  REAL,
  selected       INTEGER NOT NULL DEFAULT 0,
  error          TEXT,
  arrived_at     INTEGER NOT NULL,
  scored_at      INTEGER
);
CREATE INDEX competition_submissions_entry ON competition_submissions(entry_id, day, state);
CREATE INDEX competition_submissions_board ON competition_submissions(competition_id, state, entry_id);

-- A submission's bytes are a file (owner kind 'competition_submission') so the blob is kept by GC.
-- (An insertion at the front of the check, so it composes with other migrations that append.)
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (owner_kind = ''dataset_version''',
  'CHECK (owner_kind = ''competition_submission'' OR owner_kind = ''dataset_version''')
  WHERE type = 'table' AND name = 'files';
PRAGMA writable_schema = RESET;
