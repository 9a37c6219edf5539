-- Competitions ranked by a custom metric (issue 15): the organisers' scorer, the same shape as
-- a benchmark's ({command, metrics [{name, direction}], resources, timeout_s}), run as two
-- one-attempt jobs per submission, one over the secret public part of the test ids and one over
-- the private rest (src/api/competition_scorer.c). NULL: a built-in metric.
ALTER TABLE competitions ADD COLUMN scorer TEXT;
-- The dataset "competition-<id>-scoring" of the competition's project that holds the subsets
-- handed to the scorer: hidden like the test set from all but the organisers.
ALTER TABLE competitions ADD COLUMN scorer_dataset_id INTEGER REFERENCES datasets(id);
CREATE INDEX competitions_scorer_dataset ON competitions(scorer_dataset_id);
-- One scorer job of a submission: its subset, the dataset version staged for it (the subset of
-- the ground truth and of the predictions), its job, its state (pending | running | scored |
-- failed), the metric's value and, for the organisers only, the real reason of a failure.
CREATE TABLE competition_scorer_runs (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  submission_id      INTEGER NOT NULL REFERENCES competition_submissions(id),
  competition_id     INTEGER NOT NULL REFERENCES competitions(id),
  subset             TEXT NOT NULL CHECK (subset = 'public' OR subset = 'private'),
  dataset_version_id INTEGER REFERENCES dataset_versions(id),
  job_id             INTEGER REFERENCES jobs(id),
  state              TEXT NOT NULL CHECK (state IN ('pending', 'running', 'scored', 'failed')),
  value              REAL,
  error              TEXT,
  UNIQUE (submission_id, subset)
);
CREATE INDEX competition_scorer_runs_job ON competition_scorer_runs(job_id);
CREATE INDEX competition_scorer_runs_dsv ON competition_scorer_runs(dataset_version_id);
CREATE INDEX competition_scorer_runs_active ON competition_scorer_runs(state) WHERE state IN ('pending', 'running');
