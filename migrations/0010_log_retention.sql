-- Job log retention (serve --job-log-retention-days): the logs of jobs that ended long ago are
-- deleted a few jobs at a time; the job remembers when, so its log answers 410, not "empty".
ALTER TABLE jobs ADD COLUMN logs_pruned_at INTEGER;
CREATE INDEX jobs_logs_kept ON jobs(ended_at) WHERE ended_at IS NOT NULL AND logs_pruned_at IS NULL;
