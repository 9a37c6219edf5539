-- Full-text search over project, dataset and model names, descriptions and tags (FTS5).
-- One row per object; its rowid encodes the kind so triggers can find it again:
-- projects id*4+1, datasets id*4+2, models id*4+3. The triggers keep it in step with the
-- tables; visibility is decided at query time through project_id.

CREATE VIRTUAL TABLE search_index USING fts5(
  kind UNINDEXED,        -- 'project', 'dataset', 'model'
  ref_id UNINDEXED,      -- the object's id
  project_id UNINDEXED,
  name,
  description,
  tags,                  -- the tags, space-separated
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER search_projects_ai AFTER INSERT ON projects BEGIN
  INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
  VALUES (NEW.id * 4 + 1, 'project', NEW.id, NEW.id, NEW.name, NEW.description,
          CASE WHEN json_valid(NEW.tags) THEN (SELECT group_concat(value, ' ') FROM json_each(NEW.tags)) ELSE NEW.tags END);
END;
CREATE TRIGGER search_projects_au AFTER UPDATE OF name, description, tags ON projects BEGIN
  DELETE FROM search_index WHERE rowid = OLD.id * 4 + 1;
  INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
  VALUES (NEW.id * 4 + 1, 'project', NEW.id, NEW.id, NEW.name, NEW.description,
          CASE WHEN json_valid(NEW.tags) THEN (SELECT group_concat(value, ' ') FROM json_each(NEW.tags)) ELSE NEW.tags END);
END;
CREATE TRIGGER search_projects_ad AFTER DELETE ON projects BEGIN
  DELETE FROM search_index WHERE rowid = OLD.id * 4 + 1;
END;

CREATE TRIGGER search_datasets_ai AFTER INSERT ON datasets BEGIN
  INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
  VALUES (NEW.id * 4 + 2, 'dataset', NEW.id, NEW.project_id, NEW.name, NEW.description,
          CASE WHEN json_valid(NEW.tags) THEN (SELECT group_concat(value, ' ') FROM json_each(NEW.tags)) ELSE NEW.tags END);
END;
CREATE TRIGGER search_datasets_au AFTER UPDATE OF name, description, tags, project_id ON datasets BEGIN
  DELETE FROM search_index WHERE rowid = OLD.id * 4 + 2;
  INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
  VALUES (NEW.id * 4 + 2, 'dataset', NEW.id, NEW.project_id, NEW.name, NEW.description,
          CASE WHEN json_valid(NEW.tags) THEN (SELECT group_concat(value, ' ') FROM json_each(NEW.tags)) ELSE NEW.tags END);
END;
CREATE TRIGGER search_datasets_ad AFTER DELETE ON datasets BEGIN
  DELETE FROM search_index WHERE rowid = OLD.id * 4 + 2;
END;

CREATE TRIGGER search_models_ai AFTER INSERT ON models BEGIN
  INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
  VALUES (NEW.id * 4 + 3, 'model', NEW.id, NEW.project_id, NEW.name, NEW.description,
          CASE WHEN json_valid(NEW.tags) THEN (SELECT group_concat(value, ' ') FROM json_each(NEW.tags)) ELSE NEW.tags END);
END;
CREATE TRIGGER search_models_au AFTER UPDATE OF name, description, tags, project_id ON models BEGIN
  DELETE FROM search_index WHERE rowid = OLD.id * 4 + 3;
  INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
  VALUES (NEW.id * 4 + 3, 'model', NEW.id, NEW.project_id, NEW.name, NEW.description,
          CASE WHEN json_valid(NEW.tags) THEN (SELECT group_concat(value, ' ') FROM json_each(NEW.tags)) ELSE NEW.tags END);
END;
CREATE TRIGGER search_models_ad AFTER DELETE ON models BEGIN
  DELETE FROM search_index WHERE rowid = OLD.id * 4 + 3;
END;

-- What existed before this migration.
INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
  SELECT id * 4 + 1, 'project', id, id, name, description,
         CASE WHEN json_valid(tags) THEN (SELECT group_concat(value, ' ') FROM json_each(tags)) ELSE tags END
  FROM projects;
INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
  SELECT id * 4 + 2, 'dataset', id, project_id, name, description,
         CASE WHEN json_valid(tags) THEN (SELECT group_concat(value, ' ') FROM json_each(tags)) ELSE tags END
  FROM datasets;
INSERT INTO search_index(rowid, kind, ref_id, project_id, name, description, tags)
  SELECT id * 4 + 3, 'model', id, project_id, name, description,
         CASE WHEN json_valid(tags) THEN (SELECT group_concat(value, ' ') FROM json_each(tags)) ELSE tags END
  FROM models;
