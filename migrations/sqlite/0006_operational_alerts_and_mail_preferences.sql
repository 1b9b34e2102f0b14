-- Operational alerts: one row per change of an endpoint's health (failing,
-- disabled, recovered) or per delivery that failed for good, written in the
-- same transaction as the change. The unique key makes each change told
-- once, however many processes see it: `episode` is what identifies the
-- change (when the endpoint started failing, when it was disabled, when the
-- delivery failed). Rows outlive their endpoint: they are history.
CREATE TABLE alerts (
    id               TEXT PRIMARY KEY,
    merchant_id      TEXT NOT NULL REFERENCES merchants (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL CHECK (kind IN ('failing', 'disabled', 'recovered', 'delivery_failed')),
    subject_id       TEXT NOT NULL,
    episode          BIGINT NOT NULL,
    endpoint_id      TEXT NOT NULL,
    url              TEXT NOT NULL,
    -- Who made the change: `herald`, `operator` or `merchant` (a merchant
    -- is not mailed about what it did itself).
    actor            TEXT NOT NULL,
    -- disabled: the reason shown on the endpoint; recovered: how
    -- (`delivered`, `enabled`).
    reason           TEXT,
    how              TEXT,
    -- failing: since when, and when it will be disabled; recovered: since when it had failed.
    since_at         BIGINT,
    until_at         BIGINT,
    -- delivery_failed: the event, its attempts and the last answer.
    about_event_id   TEXT,
    about_event_type TEXT,
    attempts         BIGINT,
    last_status_code BIGINT,
    created_at       BIGINT NOT NULL,
    -- Set once the alert is an event (`event_id`); `mailed` once its mail went.
    told_at          BIGINT,
    event_id         TEXT,
    mailed           BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX alerts_change_key ON alerts (subject_id, kind, episode);
CREATE INDEX alerts_merchant_idx ON alerts (merchant_id, created_at);
CREATE INDEX alerts_untold_idx ON alerts (created_at) WHERE told_at IS NULL;

-- Which alerts the merchant wants by e-mail: comma-separated kinds; NULL is
-- the default (every endpoint change, no per-delivery mail).
ALTER TABLE merchants ADD COLUMN mail_alerts TEXT;

-- An operational event is never delivered to the endpoint it is about.
ALTER TABLE events ADD COLUMN about_endpoint_id TEXT;
