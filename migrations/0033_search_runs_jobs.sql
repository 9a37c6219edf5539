-- Runs and jobs are found by the search too (issue 18): GET /search?kind=run|job. The four
-- rowid slots of 0009_search.sql (id*4+0..3) are all taken, so runs and jobs use negative
-- rowids: a run -(id*4+1), a job -(id*4+2). Visibility is decided at query time through
-- project_id, as for the other kinds.
--
-- A run: its name, and its tags' values (not MLflow's own `mlflow.*` tags) as tags; a run
-- deleted through MLflow (deleted_at) leaves the index. A job: its name (a job without one
-- is not indexed: what a user types is a name, not a command line).
CREATE TRIGGER search_runs_ai AFTER INSERT ON runs WHEN NEW.deleted_at IS NULL BEGIN
  INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
  VALUES (-(NEW.id * 4 + 1), 'run', NEW.id, NEW.project_id, NEW.name, '',
          CASE WHEN json_valid(NEW.tags) THEN (SELECT coalesce(group_concat(value, ' '), '') FROM json_each(NEW.tags)
                                               WHERE key NOT LIKE 'mlflow.%' AND type = 'text') ELSE '' END);
END;
CREATE TRIGGER search_runs_au AFTER UPDATE OF name, tags, deleted_at, project_id ON runs BEGIN
  DELETE FROM search_index WHERE rowid = -(OLD.id * 4 + 1);
  INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
    SELECT -(NEW.id * 4 + 1), 'run', NEW.id, NEW.project_id, NEW.name, '',
           CASE WHEN json_valid(NEW.tags) THEN (SELECT coalesce(group_concat(value, ' '), '') FROM json_each(NEW.tags)
                                                WHERE key NOT LIKE 'mlflow.%' AND type = 'text') ELSE '' END
    WHERE NEW.deleted_at IS NULL;
END;
CREATE TRIGGER search_runs_ad AFTER DELETE ON runs BEGIN
  DELETE FROM search_index WHERE rowid = -(OLD.id * 4 + 1);
END;

CREATE TRIGGER search_jobs_ai AFTER INSERT ON jobs WHEN NEW.name <> '' BEGIN
  INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
  VALUES (-(NEW.id * 4 + 2), 'job', NEW.id, NEW.project_id, NEW.name, '', '');
END;
CREATE TRIGGER search_jobs_au AFTER UPDATE OF name, project_id ON jobs BEGIN
  DELETE FROM search_index WHERE rowid = -(OLD.id * 4 + 2);
  INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
    SELECT -(NEW.id * 4 + 2), 'job', NEW.id, NEW.project_id, NEW.name, '', '' WHERE NEW.name <> '';
END;
CREATE TRIGGER search_jobs_ad AFTER DELETE ON jobs BEGIN
  DELETE FROM search_index WHERE rowid = -(OLD.id * 4 + 2);
END;

-- What existed before this migration.
INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
  SELECT -(id * 4 + 1), 'run', id, project_id, name, '',
         CASE WHEN json_valid(tags) THEN (SELECT coalesce(group_concat(value, ' '), '') FROM json_each(runs.tags)
                                          WHERE key NOT LIKE 'mlflow.%' AND type = 'text') ELSE '' END
  FROM runs WHERE deleted_at IS NULL;
INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
  SELECT -(id * 4 + 2), 'job', id, project_id, name, '', '' FROM jobs WHERE name <> '';
