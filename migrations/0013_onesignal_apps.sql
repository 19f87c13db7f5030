-- Several OneSignal apps (one per brand or platform): the OneSignal delivery state is per contact *and app*.

ALTER TABLE sync_status
    -- The OneSignal app (its configured name; 'default' for the single-app variables); '' for HubSpot.
    ADD COLUMN app text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE sync_status DROP CONSTRAINT sync_status_pkey;
ALTER TABLE sync_status ADD PRIMARY KEY (contact_id, destination, app);

ALTER TABLE contacts
    -- onesignal_acknowledged now holds app name → the tags that app last acknowledged.
    -- Why each app last refused the contact's tags: app name → reason (hubsignal.onesignal.delivery_failed).
    ADD COLUMN onesignal_failures jsonb NOT NULL DEFAULT '{}',
    -- The id of the write key that last sent a Segment call for the contact (`onesignal.apps: { by_write_key: … }`).
    ADD COLUMN write_key_id text,
    DROP COLUMN onesignal_failure;
COMMENT ON COLUMN contacts.onesignal_acknowledged IS
    'OneSignal app name → the tags that app last acknowledged (hubsignal.onesignal.user_synced); NULL: never synced.';
