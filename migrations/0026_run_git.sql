-- The code version a run came from (issue 18): the git commit and whether the working tree had
-- changes, given at creation (POST /runs: git_commit, git_dirty) or, for a job's run, read from
-- ATRIUM_GIT_COMMIT / ATRIUM_GIT_DIRTY in the job's env. NULL: not known.
ALTER TABLE runs ADD COLUMN git_commit TEXT;
ALTER TABLE runs ADD COLUMN git_dirty INTEGER;
