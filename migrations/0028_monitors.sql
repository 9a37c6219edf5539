-- Monitors, alerts and actions (issue 16): a monitor watches one figure of a deployment
-- (drift, data quality, live quality, error rate, p99 latency) against two thresholds; the
-- evaluator (src/deploy/monitors.c) keeps its state and writes each change to its history
-- (an alert is a change into warning or alerting: its history row's id). Notification
-- channels are an admin's (webhooks, e-mail); every message sent is one delivery row,
-- retried with backoff until delivered or given up.
CREATE TABLE monitors (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id  INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  name           TEXT NOT NULL,
  spec           TEXT NOT NULL,            -- JSON: watch, statistic, thresholds, window, channels, action
  interval_ms    INTEGER NOT NULL,
  state          TEXT NOT NULL DEFAULT 'no_data'
                   CHECK (state IN ('ok', 'warning', 'alerting', 'no_data')),
  value          REAL,
  samples        INTEGER NOT NULL DEFAULT 0,
  checked_at     INTEGER,
  next_check_at  INTEGER NOT NULL,
  changed_at     INTEGER,
  created_at     INTEGER NOT NULL,
  created_by     INTEGER,
  UNIQUE (deployment_id, name)
);
CREATE INDEX monitors_due ON monitors(next_check_at);

CREATE TABLE monitor_history (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  monitor_id  INTEGER NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
  from_state  TEXT NOT NULL,
  to_state    TEXT NOT NULL,
  value       REAL,
  samples     INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  job_id      INTEGER,                     -- the retraining job the change started
  action_error TEXT                        -- why the action could not start
);
CREATE INDEX monitor_history_monitor ON monitor_history(monitor_id, id);

CREATE TABLE notification_channels (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL UNIQUE,
  kind        TEXT NOT NULL CHECK (kind IN ('webhook', 'smtp')),
  config      TEXT NOT NULL,               -- JSON, without the secret
  secret      TEXT,                        -- webhook HMAC key / SMTP password: never answered
  created_at  INTEGER NOT NULL,
  created_by  INTEGER
);

CREATE TABLE notification_deliveries (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  channel_id    INTEGER NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
  monitor_id    INTEGER,
  alert_id      INTEGER,                   -- monitor_history.id
  status        TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
  attempts      INTEGER NOT NULL DEFAULT 0,
  next_at       INTEGER NOT NULL,
  http_status   INTEGER,
  error         TEXT,
  payload       TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX notification_deliveries_due ON notification_deliveries(status, next_at);
CREATE INDEX notification_deliveries_channel ON notification_deliveries(channel_id, id);
