-- The HubSpot portal HubSignal's app is installed in through OAuth, and its tokens, encrypted.
--
-- One deployment serves one portal: the table holds at most one row (`singleton`), and the first install binds the
-- portal. A later install from the same portal replaces the tokens; one from another portal is refused (the upsert's
-- WHERE leaves the row alone and returns nothing).
--
-- `refresh_token` and `access_token` are AES-GCM sealed boxes (nonce ‖ ciphertext ‖ tag) made with the key in
-- HUBSIGNAL_TOKEN_KEY, bound to the portal id; the clear tokens are never stored, logged or put in the event log.
-- Refreshing takes the row with SELECT … FOR UPDATE, so processes sharing the database refresh one at a time and
-- share the new access token through this row. `hubsignal hubspot oauth erase` deletes the row.
CREATE TABLE hubspot_installations (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    portal_id text NOT NULL,
    app_id text,
    scopes text[] NOT NULL,
    refresh_token bytea NOT NULL,
    access_token bytea NOT NULL,
    access_token_expires_at timestamptz NOT NULL,
    -- When processes start refreshing the access token: a fifth of its lifetime (at most 5 minutes) before it expires.
    access_token_refresh_at timestamptz NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now(),
    refreshed_at timestamptz,
    refreshes bigint NOT NULL DEFAULT 0
);
