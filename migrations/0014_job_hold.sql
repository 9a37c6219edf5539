-- A requeued attempt of a job whose worker was lost is held back until its previous attempt
-- cannot still be running: the lost worker's agent stops its jobs by itself once it has been
-- out of contact for the heartbeat timeout (docs/workers.md). NULL: no hold.
ALTER TABLE jobs ADD COLUMN not_before INTEGER;
