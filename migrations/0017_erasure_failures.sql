-- Dead letters of the privacy-deletions subscription: a contact.privacyDeletion webhook whose erasure failed for a
-- reason a retry does not fix (a missing privilege, work about the person that did not settle). The subscription
-- records it here and goes on with the next events instead of retrying the batch forever; `hubsignal status` shows
-- the count and the last reason, and `hubsignal erase --hubspot-id <id>` erases the person once the cause is fixed
-- (the row is deleted then).
CREATE TABLE erasure_failures (
    -- The webhook event's position in events.
    position          bigint      PRIMARY KEY,
    -- The HubSpot contact the webhook named (HubSpot's record id).
    hubspot_object_id text        NOT NULL,
    -- Why the erasure failed (HubSignal's own text, no personal data).
    reason            text        NOT NULL,
    failed_at         timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON erasure_failures FROM PUBLIC;
