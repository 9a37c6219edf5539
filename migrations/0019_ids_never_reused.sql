-- Ids are never reused. Without AUTOINCREMENT, SQLite gives a new row max(id) + 1, so deleting
-- the newest run or model version freed its id for the next one, in any project: audit entries
-- and stored Idempotency-Key answers then named another project's object. AUTOINCREMENT keeps
-- the highest id ever given in sqlite_sequence. Adding the keyword changes nothing stored (the
-- id is the rowid either way), so it is the edit of sqlite_schema that SQLite's documentation
-- gives for such changes (https://sqlite.org/lang_altertable.html), as 0013 did, and each table
-- starts its sequence at its highest id now (sqlite_sequence exists since 0006).
-- Also: api_tokens takes kind 'scrape' (tokens that read /metrics only).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, 'INTEGER PRIMARY KEY,', 'INTEGER PRIMARY KEY AUTOINCREMENT,')
  WHERE type = 'table' AND name IN ('users', 'teams', 'api_tokens', 'projects', 'datasets', 'dataset_versions',
                                    'runs', 'models', 'model_versions', 'model_promotions', 'jobs')
    AND sql NOT LIKE '%AUTOINCREMENT%';
UPDATE sqlite_schema SET sql = replace(sql, 'OR kind = ''join'')', 'OR kind = ''join'' OR kind = ''scrape'')')
  WHERE type = 'table' AND name = 'api_tokens';
PRAGMA writable_schema = RESET;
INSERT INTO sqlite_sequence(name, seq) SELECT 'users', coalesce(max(id), 0) FROM users;
INSERT INTO sqlite_sequence(name, seq) SELECT 'teams', coalesce(max(id), 0) FROM teams;
INSERT INTO sqlite_sequence(name, seq) SELECT 'api_tokens', coalesce(max(id), 0) FROM api_tokens;
INSERT INTO sqlite_sequence(name, seq) SELECT 'projects', coalesce(max(id), 0) FROM projects;
INSERT INTO sqlite_sequence(name, seq) SELECT 'datasets', coalesce(max(id), 0) FROM datasets;
INSERT INTO sqlite_sequence(name, seq) SELECT 'dataset_versions', coalesce(max(id), 0) FROM dataset_versions;
INSERT INTO sqlite_sequence(name, seq) SELECT 'runs', coalesce(max(id), 0) FROM runs;
INSERT INTO sqlite_sequence(name, seq) SELECT 'models', coalesce(max(id), 0) FROM models;
INSERT INTO sqlite_sequence(name, seq) SELECT 'model_versions', coalesce(max(id), 0) FROM model_versions;
INSERT INTO sqlite_sequence(name, seq) SELECT 'model_promotions', coalesce(max(id), 0) FROM model_promotions;
INSERT INTO sqlite_sequence(name, seq) SELECT 'jobs', coalesce(max(id), 0) FROM jobs;
