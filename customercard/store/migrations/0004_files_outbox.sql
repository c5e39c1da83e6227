-- customercard schema 4: the customer's files (contents in a file store, by content hash) and the outbox of
-- changes for the economy system (written in the same transaction as the change, delivered by a worker).

CREATE SEQUENCE files_id_seq START 1;
CREATE TABLE files (
    id           INTEGER PRIMARY KEY DEFAULT nextval('files_id_seq'),
    customer_id  INTEGER NOT NULL,
    name         VARCHAR NOT NULL,
    size         BIGINT NOT NULL,
    content_hash VARCHAR NOT NULL,
    content_type VARCHAR NOT NULL,
    storage      VARCHAR NOT NULL DEFAULT 'local',
    uploaded_at  TIMESTAMP NOT NULL,
    uploaded_by  VARCHAR NOT NULL,
    deleted_at   TIMESTAMP,
    deleted_by   VARCHAR NOT NULL DEFAULT ''
);
CREATE INDEX files_customer ON files (customer_id);

CREATE SEQUENCE outbox_id_seq START 1;
CREATE TABLE outbox (
    id              BIGINT PRIMARY KEY DEFAULT nextval('outbox_id_seq'),
    customer_id     INTEGER NOT NULL,
    idempotency_key VARCHAR NOT NULL UNIQUE,
    created_at      TIMESTAMP NOT NULL,
    created_by      VARCHAR NOT NULL,
    payload         VARCHAR NOT NULL,
    status          VARCHAR NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      VARCHAR NOT NULL DEFAULT '',
    delivered_at    TIMESTAMP
);
CREATE INDEX outbox_customer ON outbox (customer_id);
