-- An operator's disable sticks: only an operator may enable such an endpoint
-- again. Endpoints an operator disabled before this column existed are found
-- by the reason text they were given (DisableReason::ByOperator).
ALTER TABLE endpoints ADD COLUMN disabled_by_operator BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE endpoints SET disabled_by_operator = TRUE
WHERE disabled_at IS NOT NULL AND disabled_reason LIKE 'Disabled by an operator:%';

-- Sessions now live in `herald_sessions` keyed by a SHA-256 of the session
-- id (the cookie keeps the id itself). The old table held live ids as they
-- are, so a copy of it was a set of logged-in sessions: it goes, and everyone
-- logs in once more.
DROP TABLE IF EXISTS tower_sessions;
