-- The delivery ledger: one row per destination object HubSignal has pushed or is pushing (a HubSpot contact, …).
-- Work itself is derived from the read models (sync_status: desired differs from acknowledged); this table only holds
-- what the workers need to share it and to back off: a lease (several `serve` processes never push one object at the
-- same time), attempts and the next attempt time (retries with backoff), the last error, and dead letters.
-- Operational state, not a read model: a rebuild keeps it, and losing it loses nothing (the next push is an upsert).

CREATE TABLE deliveries (
    destination     text COLLATE "C" NOT NULL CHECK (destination IN ('hubspot', 'onesignal')),
    -- 'contact' (the contact_id), …
    object_kind     text COLLATE "C" NOT NULL,
    object_key      text COLLATE "C" NOT NULL,
    -- 'queued': to push (again) at next_attempt_at; 'done': the desired values with hash desired_hash were pushed
    -- (the projection records HubSpot's acknowledgement from the result event); 'dead': refused for good with
    -- last_error, until the desired values change (another hash) or `hubsignal retry`.
    state           text        NOT NULL CHECK (state IN ('queued', 'done', 'dead')),
    -- md5 of the desired values (jsonb text) of the last finished attempt.
    desired_hash    text,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A worker holds the row until then; an expired lease (the worker died) makes the row claimable again.
    leased_until    timestamptz,
    lease_owner     text,
    last_error      text,
    last_attempt_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (destination, object_kind, object_key)
);
CREATE INDEX deliveries_state ON deliveries (destination, state);

-- Rate-limit budget and pause state as each worker last saw it, for `hubsignal status` (one row per destination
-- account and process).
CREATE TABLE delivery_workers (
    destination   text        NOT NULL,
    worker        text        NOT NULL,
    budget        jsonb       NOT NULL DEFAULT '{}',
    last_error    text,
    last_error_at timestamptz,
    heartbeat_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (destination, worker)
);

-- HubSpot acknowledgement of companies and associations (read models, rebuilt from the result events).
ALTER TABLE companies
    -- Company property values HubSpot last acknowledged (hubsignal.hubspot.company_synced); NULL: never synced.
    ADD COLUMN hubspot_acknowledged jsonb,
    -- Why HubSpot last refused the company (hubsignal.hubspot.delivery_failed with a groupId), until it changes.
    ADD COLUMN hubspot_failure      text,
    -- Whether hubspot_properties holds values HubSpot has not acknowledged.
    ADD COLUMN hubspot_pending      boolean NOT NULL DEFAULT false;
CREATE INDEX companies_hubspot_pending ON companies (company_id) WHERE hubspot_pending;

ALTER TABLE contact_companies
    -- Whether HubSpot holds the contact → company association (hubsignal.hubspot.association_synced).
    ADD COLUMN hubspot_associated boolean NOT NULL DEFAULT false;
CREATE INDEX contact_companies_unassociated ON contact_companies (contact_id) WHERE NOT hubspot_associated;
