-- A job's run is `queued` while its job waits for a worker, and `running` from the job's first
-- start (issue 18: it read `running` from the submission on). The CHECK gains the status (the
-- sqlite_schema edit of 0013), and runs of jobs that never started yet take it.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (status = ''running'' OR status = ''finished''',
  'CHECK (status = ''queued'' OR status = ''running'' OR status = ''finished''')
  WHERE type = 'table' AND name = 'runs';
PRAGMA writable_schema = RESET;
UPDATE runs SET status = 'queued'
  WHERE status = 'running' AND job_id IN (SELECT id FROM jobs WHERE state = 'queued' AND started_at IS NULL);
