-- A benchmark scorer's job (issue 15) is shown to its project's editors only: the job loader
-- and the job lists ask whether a job scores an evaluation (src/api/access.c, jobs.c).
CREATE INDEX evaluations_scorer_job ON evaluations(scorer_job_id) WHERE scorer_job_id IS NOT NULL;
