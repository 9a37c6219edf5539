-- CHECK constraints of the tables written on every job, run, token and file, with their
-- IN lists written as ORs. SQLite codes an IN list of more than two constants as a temporary
-- b-tree built each time a statement runs, and a CHECK runs on every insert and on every
-- update of its column: six of them per dispatched job. The constraints mean the same, so the
-- stored rows stay valid; this is the edit of sqlite_schema that SQLite's documentation gives
-- for changing a CHECK constraint (https://sqlite.org/lang_altertable.html, "Making Other
-- Kinds Of Table Schema Changes"), followed by a reload of the schema.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (kind IN (''user'', ''session'', ''job'', ''worker'', ''invoke'', ''join''))',
  'CHECK (kind = ''user'' OR kind = ''session'' OR kind = ''job'' OR kind = ''worker'' OR kind = ''invoke'' OR kind = ''join'')')
  WHERE type = 'table' AND name = 'api_tokens';
UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (owner_kind IN (''dataset_version'', ''run'', ''model_version'', ''job_output''))',
  'CHECK (owner_kind = ''dataset_version'' OR owner_kind = ''run'' OR owner_kind = ''model_version'' OR owner_kind = ''job_output'')')
  WHERE type = 'table' AND name = 'files';
UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (status IN (''running'', ''finished'', ''failed'', ''killed''))',
  'CHECK (status = ''running'' OR status = ''finished'' OR status = ''failed'' OR status = ''killed'')')
  WHERE type = 'table' AND name = 'runs';
UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (kind IN (''training'', ''batch_inference'', ''service''))',
  'CHECK (kind = ''training'' OR kind = ''batch_inference'' OR kind = ''service'')')
  WHERE type = 'table' AND name = 'jobs';
UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (state IN (''queued'', ''dispatched'', ''running'', ''succeeded'', ''failed'',' || char(10) || '                                                  ''cancelled'', ''lost''))',
  'CHECK (state = ''queued'' OR state = ''dispatched'' OR state = ''running'' OR state = ''succeeded'' OR state = ''failed'' OR state = ''cancelled'' OR state = ''lost'')')
  WHERE type = 'table' AND name = 'jobs';
PRAGMA writable_schema = RESET;
