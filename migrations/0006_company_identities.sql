-- Company identity: a company is known by its Segment group ids, its domain and its HubSpot company id; group calls
-- naming a known domain under a new group id, or two companies found to share a domain, become one company.

CREATE TABLE company_identities (
    kind           text COLLATE "C" NOT NULL CHECK (kind IN ('group_id', 'domain', 'hubspot_id')),
    value          text COLLATE "C" NOT NULL,
    company_id     text COLLATE "C" NOT NULL,
    first_position bigint      NOT NULL,
    first_seen_at  timestamptz NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX company_identities_company ON company_identities (company_id);

CREATE TABLE company_merges (
    merged_company_id text COLLATE "C" PRIMARY KEY,
    into_company_id   text COLLATE "C" NOT NULL,
    -- 'domain', 'group_id' or 'hubspot_id': what linked them.
    reason            text        NOT NULL,
    position          bigint      NOT NULL,
    merged_at         timestamptz NOT NULL
);
CREATE INDEX company_merges_into ON company_merges (into_company_id);

-- companies.group_id is now the first group id seen for the company (all of them are in company_identities).
DROP INDEX companies_group_id;
CREATE INDEX companies_group_id ON companies (group_id);
COMMENT ON COLUMN companies.group_id IS 'The first Segment group id seen for the company; every one is in company_identities.';
