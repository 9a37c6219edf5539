-- Evaluations of a model version run as a batch-inference job (issue 15): the evaluation is
-- recorded at once, 'pending' while its job waits, 'running' while it runs, then 'scored'
-- (its metrics filled from the job's output predictions file) or 'failed' with the reason.
-- An uploaded predictions file is scored before its row is written: 'scored' from the start.
ALTER TABLE evaluations ADD COLUMN state TEXT NOT NULL DEFAULT 'scored'
  CHECK (state IN ('pending', 'running', 'scored', 'failed'));
ALTER TABLE evaluations ADD COLUMN job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL;
ALTER TABLE evaluations ADD COLUMN error TEXT;
CREATE INDEX evaluations_active ON evaluations(state) WHERE state IN ('pending', 'running');
CREATE INDEX evaluations_job ON evaluations(job_id) WHERE job_id IS NOT NULL;
