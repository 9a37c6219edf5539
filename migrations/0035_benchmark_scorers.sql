-- Custom metrics (issue 15): a benchmark's scoring command, run as a job on a worker with the
-- ground truth and an evaluation's predictions as inputs, which writes its metrics as a JSON
-- object to $ATRIUM_OUTPUT_DIR/metrics.json (src/api/evaluation_scorer.c).
ALTER TABLE benchmarks ADD COLUMN scorer TEXT; -- JSON {command, metrics [{name, direction}], resources}, NULL: none
ALTER TABLE evaluations ADD COLUMN scorer_state TEXT; -- NULL (no scorer) | pending | running | scored | failed
ALTER TABLE evaluations ADD COLUMN scorer_job_id INTEGER;
ALTER TABLE evaluations ADD COLUMN scorer_error TEXT;
