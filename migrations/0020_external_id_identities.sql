-- A OneSignal external id held by a HubSpot contact property (the mapping's onesignal.external_id_property) is an
-- identity of a person: OneSignal's message events and HubSignal's own pushes name the contact by it.
ALTER TABLE identities DROP CONSTRAINT identities_kind_check;
ALTER TABLE identities ADD CONSTRAINT identities_kind_check
    CHECK (kind IN ('user_id', 'anonymous_id', 'email', 'hubspot_id', 'onesignal_id', 'external_id'));
