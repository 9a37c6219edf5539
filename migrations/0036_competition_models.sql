-- Competitions whose submission is a model version (issue 15): Atrium runs the model as a
-- batch_inference job over an inputs-only copy of the hidden ground truth, in the
-- competition's project, and scores what it writes (src/api/competition_models.c).
-- submission_kind: 'predictions' (a file is uploaded) | 'model_version'.
ALTER TABLE competitions ADD COLUMN submission_kind TEXT NOT NULL DEFAULT 'predictions';
-- The inputs-only copy (the ground truth without its label column), made at the first model
-- submission: hidden like the test set from all but the organisers (and the jobs reading it).
ALTER TABLE competitions ADD COLUMN inputs_version_id INTEGER REFERENCES dataset_versions(id);
-- A model submission: the model version evaluated and the job that runs it (never shown to
-- the participant). Its states: pending (job queued), running, scoring, scored, failed (the
-- model's fault: counts against the daily limit), invalid (not the participant's fault: counts
-- against none).
ALTER TABLE competition_submissions ADD COLUMN model_version_id INTEGER REFERENCES model_versions(id);
ALTER TABLE competition_submissions ADD COLUMN job_id INTEGER REFERENCES jobs(id);
CREATE INDEX competition_submissions_job ON competition_submissions(job_id);
CREATE INDEX competitions_inputs ON competitions(inputs_version_id);
-- (An insertion at the front of the state check, so it composes with other migrations.)
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (state = ''scoring''',
  'CHECK (state = ''pending'' OR state = ''running'' OR state = ''failed'' OR state = ''scoring''')
  WHERE type = 'table' AND name = 'competition_submissions';
PRAGMA writable_schema = RESET;
