-- What a project made from a template may read of the template's project (issue 20): the
-- datasets and models the template referenced when the project was made, recorded then
-- (template_refs at that moment). Reading only (viewer-level: metadata, versions, files),
-- for the new project's members and its jobs' tokens (a job: as a declared input). The grant
-- stays when the template is un-published or drops the reference later: projects already made
-- keep working; new copies get what the template references then. Deleting the dataset or
-- model ends it (ids are never reused: 0019).
CREATE TABLE template_grants (
  project_id        INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  kind              TEXT NOT NULL CHECK (kind IN ('dataset', 'model')),
  ref_id            INTEGER NOT NULL,
  origin_project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  created_at        INTEGER NOT NULL,
  PRIMARY KEY (project_id, kind, ref_id)
) WITHOUT ROWID;
CREATE INDEX template_grants_ref ON template_grants(kind, ref_id);
