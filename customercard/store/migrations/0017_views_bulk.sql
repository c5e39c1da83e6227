-- customercard schema 17: saved views of Search customers, and bulk changes with what undoes them.
--
-- A saved view is a search (its URL query: filters, sort, columns) kept under a name by its owner, private or shared
-- with everyone; names are unique per owner (name_key: the name folded, so that "Big ones" and "big  ones" clash).
-- A bulk change is one batch: who, when, which field to which value; bulk_change_customers holds each customer it
-- changed with the version the change gave it and the value before, so that an undo (even after a reload) puts back
-- exactly those customers nobody changed since. This schema needs nothing of schema 16.

CREATE SEQUENCE IF NOT EXISTS saved_views_id_seq START 1;
CREATE TABLE IF NOT EXISTS saved_views (
    id         BIGINT PRIMARY KEY DEFAULT nextval('saved_views_id_seq'),
    owner      VARCHAR NOT NULL,
    name       VARCHAR NOT NULL,
    name_key   VARCHAR NOT NULL,
    shared     BOOLEAN NOT NULL DEFAULT FALSE,
    search     VARCHAR NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    created_by VARCHAR NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by VARCHAR NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS saved_views_owner ON saved_views (owner, name_key);

CREATE SEQUENCE IF NOT EXISTS bulk_changes_id_seq START 1;
CREATE TABLE IF NOT EXISTS bulk_changes (
    id          BIGINT PRIMARY KEY DEFAULT nextval('bulk_changes_id_seq'),
    created_at  TIMESTAMP NOT NULL,
    created_by  VARCHAR NOT NULL,
    field       VARCHAR NOT NULL,
    new_value   VARCHAR,
    customers   INTEGER NOT NULL DEFAULT 0,
    undone_at   TIMESTAMP,
    undone_by   VARCHAR NOT NULL DEFAULT '',
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS bulk_change_customers (
    batch_id      BIGINT NOT NULL,
    customer_id   BIGINT NOT NULL,
    version_after INTEGER NOT NULL,
    old_value     VARCHAR,
    comment_id    BIGINT,
    undone        BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (batch_id, customer_id)
);
