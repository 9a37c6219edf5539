-- What MLflow's model registry (src/api/mlflow_registry*.c) needs beside Atrium's own columns.
-- Registered models and versions are Atrium's models and versions; MLflow's stages Staging and
-- Production are the aliases `staging` and `production`. These hold only what MLflow has and
-- Atrium had no place for.

-- A version's last change (description, tags, aliases, stage): MLflow's last_updated_timestamp
-- (NULL: never changed since it was committed or created).
ALTER TABLE model_versions ADD COLUMN updated_at INTEGER;
-- MLflow's "Archived" stage: set when a version is transitioned to it (or archived by the
-- transition of another), cleared by any other transition.
ALTER TABLE model_versions ADD COLUMN archived_at INTEGER;
-- The link to the run that made the version, as MLflow's client sends it (run_link).
ALTER TABLE model_versions ADD COLUMN run_link TEXT NOT NULL DEFAULT '';

-- MLflow's model names are global: a plain name is looked up across the caller's projects.
CREATE INDEX models_name ON models(name);
-- A registered model created with a plain name goes to the project of the caller's latest run.
CREATE INDEX runs_created_by ON runs(created_by, id);

-- A rename (MLflow's registered-models/rename) is part of the model's history. The edit of
-- sqlite_schema that SQLite's documentation gives for changing a CHECK constraint (as in
-- 0013_check_or.sql): the stored rows stay valid, the list of kinds gains one.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, '''promotion_rejected''))', '''promotion_rejected'', ''model_renamed''))')
  WHERE type = 'table' AND name = 'model_events';
PRAGMA writable_schema = RESET;
