-- The jobs_active partial index with its condition written as ORs. SQLite evaluates a
-- partial index's condition on every insert and update of a row, and codes an IN list of
-- more than two constants as a temporary b-tree built on each run of the statement: with
-- IN (...) here, each job transition built two of them (a tenth of a dispatched job's cost).
-- The queries that read the index use the same OR term (ATR_JOBS_ACTIVE in store_jobs.h).
DROP INDEX jobs_active;
CREATE INDEX jobs_active ON jobs(state)
  WHERE state = 'queued' OR state = 'dispatched' OR state = 'running' OR state = 'lost';
