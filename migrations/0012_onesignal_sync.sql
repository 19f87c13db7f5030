-- The OneSignal sync: tags set by HubSpot workflows, what the tag limit left out, and workflow-sent notifications.

ALTER TABLE contacts
    -- OneSignal tags set by events other than identify: track properties (onesignal.track_properties in the mapping)
    -- and HubSpot workflows ("Edit OneSignal tags"); tag → value (null removes). A later identify whose traits give
    -- the same tag takes it back. Part of the people projection.
    ADD COLUMN onesignal_event_tags jsonb NOT NULL DEFAULT '{}',
    -- HubSpot contact properties from OneSignal message events (hubspot_timeline.properties): the last time of each
    -- written kind per channel (onesignal_last_push_clicked_at) and the channel's subscription as the last event
    -- showed it (onesignal_push_subscription). Also merged into hubspot_properties.
    ADD COLUMN onesignal_activity      jsonb NOT NULL DEFAULT '{}';

ALTER TABLE sync_status
    -- What the mapping leaves out at the destination, source key → reason (OneSignal: nested values, email and phone,
    -- over the plan's tag limit, …). Source keys: a trait key, 'hubspot:<property>', 'workflow:<tag>' or
    -- 'audience:<audience>'.
    ADD COLUMN dropped jsonb NOT NULL DEFAULT '{}';

-- Notifications HubSpot workflows asked for ("Send OneSignal notification"), written by the `onesignal-actions`
-- subscription in the transaction of its checkpoint, so each action is queued exactly once; removed once sent and
-- the workflow action completed. The delivery ledger (deliveries, destination 'onesignal', object_kind
-- 'notification', object_key = callback_id) holds leases, retries and dead letters; the log holds the audit trail
-- (hubsignal.onesignal.notification_requested / notification_sent / notification_failed,
-- hubsignal.hubspot.action_completed).
CREATE TABLE onesignal_outbox (
    -- HubSpot's callbackId: the action's idempotency key, and (as a UUID derived from it) OneSignal's.
    callback_id       text COLLATE "C" PRIMARY KEY,
    -- The hubspot.action.send_notification event's position in `events`.
    position          bigint      NOT NULL,
    -- The OneSignal app (its configured name).
    app               text        NOT NULL,
    -- The HubSpot contact the workflow ran for (object.objectId).
    hubspot_object_id text        NOT NULL,
    -- The recipient when the workflow gave it (inputs external_id / email); else found from the contact.
    external_id       text,
    email             text,
    -- template_id, heading, content, url as the workflow gave them.
    request           jsonb       NOT NULL,
    received_at       timestamptz NOT NULL,
    -- OneSignal's answer once the notification went out (the workflow action is completed with it next).
    result            jsonb,
    created_at        timestamptz NOT NULL DEFAULT now()
);
