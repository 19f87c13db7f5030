-- OneSignal message events bound for the HubSpot contact's timeline share the behavioral-event outbox: `kind` says
-- how each row is written (hubspot_timeline.mode in the mapping).
ALTER TABLE hubspot_event_outbox
    -- 'behavioral_event' (/events/v3/send), 'note' (a Note associated with the contact) or 'timeline_event'
    -- (/integrators/timeline/v3/events; event_name holds the template id).
    ADD COLUMN kind text NOT NULL DEFAULT 'behavioral_event'
        CHECK (kind IN ('behavioral_event', 'note', 'timeline_event'));
