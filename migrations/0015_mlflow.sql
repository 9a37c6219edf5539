-- What the MLflow REST API (src/api/mlflow_*.c) needs beside Atrium's own columns. Everything
-- written through it is ordinary Atrium data; these hold only what MLflow has and Atrium had
-- no place for.

-- Every run has a stable MLflow run id (32 hex characters), native runs included.
ALTER TABLE runs ADD COLUMN uuid TEXT;
UPDATE runs SET uuid = lower(hex(randomblob(16))) WHERE uuid IS NULL;
CREATE UNIQUE INDEX runs_uuid ON runs(uuid);
-- MLflow deletes runs softly (restore brings them back); deleted runs leave searches.
ALTER TABLE runs ADD COLUMN deleted_at INTEGER;
-- MLflow's run inputs (log-inputs): [{dataset: {name, digest, source_type, source, schema,
-- profile}, tags: [{key, value}]}]; Atrium dataset versions a run read stay in run_inputs.
ALTER TABLE runs ADD COLUMN dataset_inputs TEXT NOT NULL DEFAULT '[]';

-- An experiment is a project: its MLflow name (free text; the project's name is a slug made
-- from it), its tags, and whose "Default" experiment (id 0) it is.
ALTER TABLE projects ADD COLUMN experiment_name TEXT;
ALTER TABLE projects ADD COLUMN experiment_tags TEXT NOT NULL DEFAULT '{}';
ALTER TABLE projects ADD COLUMN default_of INTEGER REFERENCES users(id);
CREATE INDEX projects_experiment_name ON projects(experiment_name);
CREATE UNIQUE INDEX projects_default_of ON projects(default_of) WHERE default_of IS NOT NULL;

-- MLflow's key/value tags of registered models and model versions (Atrium's own tags are a
-- list of labels), and a model version's MLflow source URI.
ALTER TABLE models ADD COLUMN kv_tags TEXT NOT NULL DEFAULT '{}';
ALTER TABLE model_versions ADD COLUMN kv_tags TEXT NOT NULL DEFAULT '{}';
ALTER TABLE model_versions ADD COLUMN source_uri TEXT NOT NULL DEFAULT '';
