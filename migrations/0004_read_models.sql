-- Read models: derived from `events` by the projections, rebuilt from it at will. Their names and columns are a
-- public interface (README, "Query it with SQL"). A rebuild fills copies of these tables in a shadow schema
-- (CREATE TABLE … (LIKE … INCLUDING ALL)) and swaps them in, so they carry no foreign keys between each other.

-- Each projection's version and state. The checkpoint is in subscription_checkpoints under the same name.
CREATE TABLE projections (
    name            text PRIMARY KEY,
    -- '<schema version>-<mapping version>': what the tables were built with.
    version         text        NOT NULL,
    mapping_version text        NOT NULL,
    schema_version  integer     NOT NULL,
    rebuilt_at      timestamptz,
    -- Events replayed by the last rebuild.
    rebuilt_events  bigint      NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Identity graph: every identity HubSignal has seen, and the contact it belongs to.
CREATE TABLE identities (
    kind          text COLLATE "C" NOT NULL CHECK (kind IN ('user_id', 'anonymous_id', 'email', 'hubspot_id', 'onesignal_id')),
    value         text COLLATE "C" NOT NULL,
    contact_id    text COLLATE "C" NOT NULL,
    -- The event that first showed it.
    first_position bigint     NOT NULL,
    first_seen_at timestamptz NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX identities_contact ON identities (contact_id);

-- One row per person. contact_id is derived from the log ('c_' + the position of the event that created it), so a
-- rebuild reproduces the same ids.
CREATE TABLE contacts (
    contact_id         text COLLATE "C" PRIMARY KEY,
    -- The latest Segment userId and email seen for the contact (all of them are in identities).
    user_id            text,
    email              text,
    -- Current traits: identify traits (and context.traits) merged in log order.
    traits             jsonb       NOT NULL DEFAULT '{}',
    -- The HubSpot contact properties the mapping derives from the traits (name → value; null clears).
    hubspot_properties jsonb       NOT NULL DEFAULT '{}',
    -- Property values HubSpot reported through webhooks (name → value).
    hubspot_values     jsonb       NOT NULL DEFAULT '{}',
    hubspot_contact_id text,
    onesignal_id       text,
    first_seen_at      timestamptz NOT NULL,
    last_seen_at       timestamptz NOT NULL,
    -- Log order of the creating event (transaction id, position): a merge keeps the contact created first.
    created_transaction_id xid8   NOT NULL,
    created_position   bigint      NOT NULL,
    updated_position   bigint      NOT NULL
);
CREATE INDEX contacts_email ON contacts (email);
CREATE INDEX contacts_hubspot_contact_id ON contacts (hubspot_contact_id);

-- Merges of two contacts into one (alias, or an identity seen on both).
CREATE TABLE contact_merges (
    merged_contact_id text COLLATE "C" PRIMARY KEY,
    into_contact_id   text COLLATE "C" NOT NULL,
    -- 'alias', 'user_id', 'email', 'anonymous_id', 'hubspot_id' or 'hubspot_merge': what linked them.
    reason            text        NOT NULL,
    position          bigint      NOT NULL,
    merged_at         timestamptz NOT NULL
);
CREATE INDEX contact_merges_into ON contact_merges (into_contact_id);

-- Companies from group calls (and HubSpot ids once synced).
CREATE TABLE companies (
    company_id         text COLLATE "C" PRIMARY KEY,
    group_id           text COLLATE "C",
    domain             text,
    name               text,
    traits             jsonb       NOT NULL DEFAULT '{}',
    hubspot_properties jsonb       NOT NULL DEFAULT '{}',
    hubspot_company_id text,
    first_seen_at      timestamptz NOT NULL,
    last_seen_at       timestamptz NOT NULL,
    created_position   bigint      NOT NULL,
    updated_position   bigint      NOT NULL
);
CREATE UNIQUE INDEX companies_group_id ON companies (group_id);
CREATE INDEX companies_domain ON companies (domain);

CREATE TABLE contact_companies (
    contact_id    text COLLATE "C" NOT NULL,
    company_id    text COLLATE "C" NOT NULL,
    first_seen_at timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    PRIMARY KEY (contact_id, company_id)
);
CREATE INDEX contact_companies_company ON contact_companies (company_id);

-- Audience membership per contact (Segment Engage or Adobe AEP style).
CREATE TABLE audience_memberships (
    contact_id  text COLLATE "C" NOT NULL,
    audience    text COLLATE "C" NOT NULL,
    is_member   boolean     NOT NULL,
    -- AEP status ('realized', 'existing', 'exited'); NULL for Engage.
    status      text,
    style       text        NOT NULL CHECK (style IN ('engage', 'aep')),
    entered_at  timestamptz,
    exited_at   timestamptz,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (contact_id, audience)
);
CREATE INDEX audience_memberships_audience ON audience_memberships (audience, is_member);

-- OneSignal users and subscriptions per contact, as OneSignal reported them (message events) or answered.
CREATE TABLE devices (
    app             text COLLATE "C" NOT NULL,
    -- The OneSignal subscription id when known, else 'user:' + the OneSignal user id or external id.
    device_key      text COLLATE "C" NOT NULL,
    contact_id      text COLLATE "C" NOT NULL,
    onesignal_id    text,
    external_id     text,
    subscription_id text,
    -- 'push', 'email', 'sms' or NULL when unknown.
    channel         text,
    -- Data tags as last pushed to OneSignal.
    tags            jsonb       NOT NULL DEFAULT '{}',
    last_event_at   timestamptz NOT NULL,
    PRIMARY KEY (app, device_key)
);
CREATE INDEX devices_contact ON devices (contact_id);

-- Notifications HubSignal was asked to send, and every OneSignal message event, per contact.
CREATE TABLE message_activity (
    -- The log position of the event this row comes from.
    position        bigint PRIMARY KEY,
    contact_id      text COLLATE "C",
    app             text,
    notification_id text,
    -- 'requested' (a HubSpot workflow asked), 'sent', 'delivered', 'clicked', 'failed', … (OneSignal's kind, last part).
    activity        text        NOT NULL,
    -- 'push', 'email', 'sms' or NULL.
    channel         text,
    -- OneSignal's event kind ('message.push.clicked') or the HubSpot action.
    kind            text        NOT NULL,
    occurred_at     timestamptz NOT NULL,
    details         jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX message_activity_contact ON message_activity (contact_id, occurred_at);
CREATE INDEX message_activity_notification ON message_activity (notification_id);
