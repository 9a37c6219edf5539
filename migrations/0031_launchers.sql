-- Launchers, the launcher project role and project templates (issue 20).
--
-- The `launcher` role sits between viewer and editor: it may run a project's launchers and
-- read what they produce. SQLite cannot change a CHECK constraint in place: the members table
-- is rebuilt with the new role allowed (nothing references it).
CREATE TABLE project_members_new (
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role       TEXT NOT NULL CHECK (role IN ('owner', 'editor', 'launcher', 'viewer')),
  added_at   INTEGER NOT NULL,
  PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;
INSERT INTO project_members_new(project_id, user_id, role, added_at)
  SELECT project_id, user_id, role, added_at FROM project_members;
DROP TABLE project_members;
ALTER TABLE project_members_new RENAME TO project_members;
CREATE INDEX project_members_user ON project_members(user_id, project_id);

-- A launcher: a named job spec of a project with typed parameters. Editing it makes a new
-- version (launcher_versions, immutable); archived launchers keep their versions and jobs but
-- run no more.
CREATE TABLE launchers (
  id             INTEGER PRIMARY KEY,
  project_id     INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  latest_version INTEGER NOT NULL DEFAULT 1,
  created_by     INTEGER REFERENCES users(id),
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  archived_at    INTEGER,
  UNIQUE (project_id, name)
);
CREATE TABLE launcher_versions (
  id          INTEGER PRIMARY KEY,
  launcher_id INTEGER NOT NULL REFERENCES launchers(id) ON DELETE CASCADE,
  version     INTEGER NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  spec        TEXT NOT NULL,   -- the job spec (JSON object, the body of POST .../jobs)
  parameters  TEXT NOT NULL,   -- the typed parameters (JSON array)
  created_by  INTEGER REFERENCES users(id),
  created_at  INTEGER NOT NULL,
  UNIQUE (launcher_id, version)
);
-- Every job a launcher submitted: which version, with which values.
CREATE TABLE launcher_jobs (
  job_id       INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
  launcher_id  INTEGER NOT NULL REFERENCES launchers(id) ON DELETE CASCADE,
  version      INTEGER NOT NULL,
  param_values TEXT NOT NULL,  -- JSON object: every parameter's value (defaults filled in)
  created_by   INTEGER REFERENCES users(id),
  created_at   INTEGER NOT NULL
);
CREATE INDEX launcher_jobs_launcher ON launcher_jobs(launcher_id, job_id);

-- Project templates: an owner publishes a project (template_at), admins feature it
-- (featured_at); its README is Markdown. A project made from a template records its origin.
ALTER TABLE projects ADD COLUMN readme TEXT NOT NULL DEFAULT '';
ALTER TABLE projects ADD COLUMN template_at INTEGER;
ALTER TABLE projects ADD COLUMN featured_at INTEGER;
ALTER TABLE projects ADD COLUMN origin_project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL;
-- What a template shares: datasets and models of the template's project that projects made
-- from it may read (by reference, never copied).
CREATE TABLE template_refs (
  project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  kind       TEXT NOT NULL CHECK (kind IN ('dataset', 'model')),
  ref_id     INTEGER NOT NULL,
  PRIMARY KEY (project_id, kind, ref_id)
) WITHOUT ROWID;

-- Templates are found by the existing search (search_index, 0009_search.sql): one row of kind
-- 'template' per published template (rowid id*4, the slot the other kinds leave free), its
-- README searched with its description; the catalogue's ?q= and GET /search?kind=template read
-- it. Every signed-in user may find a template (publishing shares it).
CREATE TRIGGER search_templates_au AFTER UPDATE OF template_at, readme, name, description, tags ON projects BEGIN
  DELETE FROM search_index WHERE rowid = OLD.id * 4;
  INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
    SELECT NEW.id * 4, 'template', NEW.id, NEW.id, NEW.name, NEW.description || ' ' || NEW.readme,
           CASE WHEN json_valid(NEW.tags) THEN (SELECT group_concat(value, ' ') FROM json_each(NEW.tags)) ELSE NEW.tags END
    WHERE NEW.template_at IS NOT NULL;
END;
CREATE TRIGGER search_templates_ad AFTER DELETE ON projects BEGIN
  DELETE FROM search_index WHERE rowid = OLD.id * 4;
END;
