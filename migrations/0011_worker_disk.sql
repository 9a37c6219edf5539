-- Free and total space of each worker's --work-dir file system, from its heartbeats (MiB;
-- NULL until reported): a full disk fails jobs, so the admin sees it coming.
ALTER TABLE workers ADD COLUMN disk_total_mb INTEGER;
ALTER TABLE workers ADD COLUMN disk_free_mb INTEGER;
