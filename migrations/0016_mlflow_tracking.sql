-- MLflow tracking (src/api/mlflow_experiments.c, mlflow_runs.c): what its runs bring that
-- Atrium's own did not have.

-- MLflow's runs may log NaN. The point itself is kept in its chunk; a series whose last
-- value is NaN has a NULL `last` (no search matches it; it orders as missing), and min / max
-- leave NaN out (NULL while a series holds nothing else). Removing a NOT NULL constraint is
-- one of the schema edits SQLite's documentation allows through sqlite_schema
-- (https://sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes"); the
-- stored rows are unchanged and stay valid.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(replace(replace(sql,
    'last       REAL NOT NULL,', 'last       REAL,'),
    'min        REAL NOT NULL,', 'min        REAL,'),
    'max        REAL NOT NULL,', 'max        REAL,')
  WHERE type = 'table' AND name = 'run_metrics';
PRAGMA writable_schema = RESET;

-- Run search leaves out runs deleted through MLflow (runs.deleted_at). The indexes its plans
-- walk (src/store/run_search.c: by id, start time, name) carry deleted_at too, so that the
-- walks still read nothing but the index: a run's row is looked up only when a clause needs it.
DROP INDEX runs_project;
CREATE INDEX runs_project ON runs(project_id, id, deleted_at);
DROP INDEX runs_project_started;
CREATE INDEX runs_project_started ON runs(project_id, started_at, id, deleted_at);
DROP INDEX runs_project_name;
CREATE INDEX runs_project_name ON runs(project_id, name, id, deleted_at);
