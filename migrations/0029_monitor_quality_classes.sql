-- Live quality by the task a model declares (issue 16): per deployment, window and class, the
-- counts from which precision, recall and F1 follow (binary for a positive class, macro for
-- many), beside the sums of monitor_quality. They add across windows like those sums.
CREATE TABLE monitor_quality_classes (
  deployment_id  INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  window_start   INTEGER NOT NULL,   -- ms, the window of the prediction
  class          TEXT NOT NULL,      -- the label's or prediction's text
  tp             INTEGER NOT NULL,   -- label and prediction both this class
  fp             INTEGER NOT NULL,   -- the prediction only
  fn             INTEGER NOT NULL,   -- the label only
  PRIMARY KEY (deployment_id, window_start, class)
) WITHOUT ROWID;

-- pairs whose class found no room (more than 100 classes in a window, or too long a name)
ALTER TABLE monitor_quality ADD COLUMN class_overflow INTEGER NOT NULL DEFAULT 0;
