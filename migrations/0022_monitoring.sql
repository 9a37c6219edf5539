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

-- Ground truth: the gateway's answer carries its prediction id (X-Request-Id); captures keep
-- it, feedback names it, and each labelled prediction is folded into its window's quality sums.
ALTER TABLE deployment_predictions ADD COLUMN request_id TEXT;
CREATE INDEX deployment_predictions_req ON deployment_predictions(deployment_id, request_id)
  WHERE request_id IS NOT NULL;

CREATE TABLE monitor_feedback (
  deployment_id  INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  prediction_id  TEXT NOT NULL,
  label          TEXT NOT NULL,      -- JSON
  created_at     INTEGER NOT NULL,
  PRIMARY KEY (deployment_id, prediction_id)
) WITHOUT ROWID;

CREATE TABLE monitor_quality (
  deployment_id  INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  window_start   INTEGER NOT NULL,   -- ms, the window of the prediction (not of the label)
  labelled       INTEGER NOT NULL,   -- labels matched to a captured prediction
  correct        INTEGER NOT NULL,   -- label equal to the prediction
  numeric        INTEGER NOT NULL,   -- pairs where both are numbers
  sum_abs        REAL NOT NULL,      -- over the numeric pairs: |y - p|, (y - p)^2, y, y^2
  sum_sq         REAL NOT NULL,
  sum_y          REAL NOT NULL,
  sum_y2         REAL NOT NULL,
  PRIMARY KEY (deployment_id, window_start)
) WITHOUT ROWID;
