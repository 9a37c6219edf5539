-- Model monitoring (issue 16): a deployment's reference (a dataset version and the feature
-- settings), the reference profiles (built once per dataset version and settings), and the
-- live counts: per deployment, profile and 5-minute window, one vector of counts over the
-- profile's bins (see include/atrium/profile.h for its layout), so a drift query reads
-- windows and never the captured requests.
CREATE TABLE monitor_profiles (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  dataset_version_id  INTEGER NOT NULL REFERENCES dataset_versions(id) ON DELETE CASCADE,
  settings            TEXT NOT NULL,            -- canonical JSON of what was asked (features, bins)
  profile             TEXT NOT NULL,            -- the profile's JSON
  created_at          INTEGER NOT NULL,
  UNIQUE (dataset_version_id, settings)
);

CREATE TABLE monitor_settings (
  deployment_id       INTEGER PRIMARY KEY REFERENCES deployments(id) ON DELETE CASCADE,
  dataset_version_id  INTEGER REFERENCES dataset_versions(id) ON DELETE SET NULL,
  reference_source    TEXT NOT NULL CHECK (reference_source IN ('lineage', 'explicit')),
  settings            TEXT NOT NULL,
  profile_id          INTEGER REFERENCES monitor_profiles(id) ON DELETE SET NULL,
  updated_at          INTEGER NOT NULL,
  updated_by          INTEGER
);

CREATE TABLE monitor_counts (
  deployment_id  INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  profile_id     INTEGER NOT NULL,
  window_start   INTEGER NOT NULL,   -- ms, a multiple of 300000
  counts         BLOB NOT NULL,      -- little-endian uint64 per slot
  PRIMARY KEY (deployment_id, profile_id, window_start)
) WITHOUT ROWID;
