-- What the last finished push made the destination hold (the object's acknowledged values), kept with the ledger row
-- in the transaction that appends the result event. The read models learn the same values from that event, a moment
-- later; a push claimed in between must compute its difference against these, not against the read model's older
-- copy (A → B → A within that moment would otherwise leave B in HubSpot).
ALTER TABLE deliveries ADD COLUMN acknowledged jsonb;
