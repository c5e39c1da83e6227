-- customercard schema 2: the CRM module (relations, events, opportunities).

CREATE SEQUENCE relations_id_seq START 1;
CREATE TABLE relations (
    id                INTEGER PRIMARY KEY DEFAULT nextval('relations_id_seq'),
    customer_id       INTEGER NOT NULL,
    relation_type_id  INTEGER NOT NULL,
    other_customer_id INTEGER,
    other_contact_id  INTEGER,
    note              VARCHAR NOT NULL DEFAULT '',
    created_at        TIMESTAMP NOT NULL,
    created_by        VARCHAR NOT NULL
);
CREATE INDEX relations_customer ON relations (customer_id);
CREATE INDEX relations_other ON relations (other_customer_id);

CREATE SEQUENCE events_id_seq START 1;
CREATE TABLE events (
    id                INTEGER PRIMARY KEY DEFAULT nextval('events_id_seq'),
    customer_id       INTEGER NOT NULL,
    title             VARCHAR NOT NULL,
    event_type_id     INTEGER,
    starts_at         TIMESTAMP NOT NULL,
    ends_at           TIMESTAMP,
    owner             VARCHAR NOT NULL DEFAULT '',
    participants      VARCHAR NOT NULL DEFAULT '[]',
    contact_ids       VARCHAR NOT NULL DEFAULT '[]',
    description       VARCHAR NOT NULL DEFAULT '',
    status            VARCHAR NOT NULL DEFAULT 'planned',
    status_changed_by VARCHAR NOT NULL DEFAULT '',
    status_changed_at TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    created_by        VARCHAR NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    updated_by        VARCHAR NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX events_customer ON events (customer_id);

CREATE SEQUENCE opportunities_id_seq START 1;
CREATE TABLE opportunities (
    id                INTEGER PRIMARY KEY DEFAULT nextval('opportunities_id_seq'),
    customer_id       INTEGER NOT NULL,
    title             VARCHAR NOT NULL,
    amount            DECIMAL(18, 2) NOT NULL DEFAULT 0,
    currency          VARCHAR NOT NULL,
    probability       DOUBLE PRECISION NOT NULL DEFAULT 50,
    stage_id          INTEGER,
    expected_close    DATE,
    owner             VARCHAR NOT NULL DEFAULT '',
    status            VARCHAR NOT NULL DEFAULT 'pipeline',
    lost_reason       VARCHAR NOT NULL DEFAULT '',
    status_changed_by VARCHAR NOT NULL DEFAULT '',
    status_changed_at TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    created_by        VARCHAR NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    updated_by        VARCHAR NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX opportunities_customer ON opportunities (customer_id);
