-- A project's or team's default Slurm cluster (issue 19): a job that names no cluster goes to
-- its project's default cluster, else its team's, else Atrium's own workers. Deleting the
-- cluster clears the defaults.
ALTER TABLE projects ADD COLUMN default_cluster_id INTEGER REFERENCES clusters(id) ON DELETE SET NULL;
ALTER TABLE teams ADD COLUMN default_cluster_id INTEGER REFERENCES clusters(id) ON DELETE SET NULL;
