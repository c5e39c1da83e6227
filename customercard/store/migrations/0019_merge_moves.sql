-- customercard schema 19: which rows a merge moved from one customer to another, and when.
--
-- A merge moves the other customer's records (contact persons, projects, invoices, comments, events, opportunities,
-- files, follow-ups, relations) to the survivor by changing their customer_id. The card as it was on a day before
-- the merge reads them at the customer that had them then: today's owner, unless a merge since moved them.

CREATE TABLE IF NOT EXISTS merge_moves (
    table_name    VARCHAR NOT NULL,
    record_id     BIGINT NOT NULL,
    from_customer INTEGER NOT NULL,
    to_customer   INTEGER NOT NULL,
    moved_at      TIMESTAMP NOT NULL
);
CREATE INDEX IF NOT EXISTS merge_moves_from ON merge_moves (from_customer);
CREATE INDEX IF NOT EXISTS merge_moves_to ON merge_moves (to_customer);
