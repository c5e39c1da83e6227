-- customercard schema 1: users, settings, admin lists, customers with field-level history,
-- comments, contacts, projects, invoices with a per-customer-year aggregate, segmentation, preferences.
-- Portable SQL only (DuckDB and PostgreSQL); one statement per ';'.

CREATE SEQUENCE users_id_seq START 1;
CREATE TABLE users (
    id            INTEGER PRIMARY KEY DEFAULT nextval('users_id_seq'),
    login         VARCHAR NOT NULL UNIQUE,
    name          VARCHAR NOT NULL,
    email         VARCHAR NOT NULL DEFAULT '',
    role          VARCHAR NOT NULL,
    projects_access BOOLEAN NOT NULL DEFAULT FALSE,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    password_hash VARCHAR NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    created_by    VARCHAR NOT NULL
);

CREATE TABLE settings (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

CREATE SEQUENCE list_values_id_seq START 1;
CREATE TABLE list_values (
    id        INTEGER PRIMARY KEY DEFAULT nextval('list_values_id_seq'),
    list_name VARCHAR NOT NULL,
    label     VARCHAR NOT NULL,
    inverse_label VARCHAR NOT NULL DEFAULT '',
    position  INTEGER NOT NULL,
    active    BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (list_name, label)
);

CREATE SEQUENCE customers_id_seq START 1;
CREATE SEQUENCE customer_number_seq START 10001;
CREATE TABLE customers (
    id                  INTEGER PRIMARY KEY DEFAULT nextval('customers_id_seq'),
    number              INTEGER NOT NULL UNIQUE,
    name                VARCHAR NOT NULL,
    nickname            VARCHAR NOT NULL DEFAULT '',
    account_manager     VARCHAR,
    industry_id         INTEGER,
    status_id           INTEGER,
    archived            BOOLEAN NOT NULL DEFAULT FALSE,
    merged_into         INTEGER,
    visit_line1         VARCHAR NOT NULL DEFAULT '',
    visit_line2         VARCHAR NOT NULL DEFAULT '',
    visit_postal_code   VARCHAR NOT NULL DEFAULT '',
    visit_city          VARCHAR NOT NULL DEFAULT '',
    visit_country       VARCHAR NOT NULL DEFAULT '',
    phone               VARCHAR NOT NULL DEFAULT '',
    phone_digits        VARCHAR NOT NULL DEFAULT '',
    email               VARCHAR NOT NULL DEFAULT '',
    website             VARCHAR NOT NULL DEFAULT '',
    vat_number          VARCHAR NOT NULL DEFAULT '',
    org_number          VARCHAR NOT NULL DEFAULT '',
    gln                 VARCHAR NOT NULL DEFAULT '',
    use_invoice_address BOOLEAN NOT NULL DEFAULT FALSE,
    invoice_line1       VARCHAR NOT NULL DEFAULT '',
    invoice_line2       VARCHAR NOT NULL DEFAULT '',
    invoice_postal_code VARCHAR NOT NULL DEFAULT '',
    invoice_city        VARCHAR NOT NULL DEFAULT '',
    invoice_country     VARCHAR NOT NULL DEFAULT '',
    expenses_billable   BOOLEAN NOT NULL DEFAULT TRUE,
    mileage_billable    BOOLEAN NOT NULL DEFAULT TRUE,
    default_distance_km DOUBLE PRECISION NOT NULL DEFAULT 0,
    max_distance_km     DOUBLE PRECISION,
    invoice_template_id INTEGER,
    payment_term_id     INTEGER,
    currency_id         INTEGER,
    calculate_vat       BOOLEAN NOT NULL DEFAULT TRUE,
    vat_rate            DOUBLE PRECISION NOT NULL DEFAULT 25,
    discount_pct        DOUBLE PRECISION NOT NULL DEFAULT 0,
    invoice_language_id INTEGER,
    our_reference       VARCHAR NOT NULL DEFAULT '',
    their_reference     VARCHAR NOT NULL DEFAULT '',
    erp_system          VARCHAR NOT NULL DEFAULT '',
    erp_customer_id     VARCHAR NOT NULL DEFAULT '',
    erp_synced_at       TIMESTAMP,
    created_at          TIMESTAMP NOT NULL,
    created_by          VARCHAR NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    updated_by          VARCHAR NOT NULL,
    version             INTEGER NOT NULL DEFAULT 1
);

CREATE SEQUENCE customer_changes_id_seq START 1;
CREATE TABLE customer_changes (
    id          BIGINT PRIMARY KEY DEFAULT nextval('customer_changes_id_seq'),
    customer_id INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    changed_at  TIMESTAMP NOT NULL,
    changed_by  VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,
    field       VARCHAR NOT NULL,
    old_value   VARCHAR,
    new_value   VARCHAR
);
CREATE INDEX customer_changes_customer ON customer_changes (customer_id);

CREATE SEQUENCE criteria_id_seq START 1;
CREATE TABLE criteria (
    id       INTEGER PRIMARY KEY DEFAULT nextval('criteria_id_seq'),
    name     VARCHAR NOT NULL UNIQUE,
    multiple BOOLEAN NOT NULL DEFAULT FALSE,
    position INTEGER NOT NULL,
    active   BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE SEQUENCE criterion_values_id_seq START 1;
CREATE TABLE criterion_values (
    id           INTEGER PRIMARY KEY DEFAULT nextval('criterion_values_id_seq'),
    criterion_id INTEGER NOT NULL,
    label        VARCHAR NOT NULL,
    position     INTEGER NOT NULL,
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (criterion_id, label)
);
CREATE TABLE customer_segments (
    customer_id INTEGER NOT NULL,
    value_id    INTEGER NOT NULL,
    PRIMARY KEY (customer_id, value_id)
);

CREATE SEQUENCE comments_id_seq START 1;
CREATE TABLE comments (
    id          INTEGER PRIMARY KEY DEFAULT nextval('comments_id_seq'),
    customer_id INTEGER NOT NULL,
    written_on  DATE NOT NULL,
    author      VARCHAR NOT NULL,
    body        VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL DEFAULT 'comment',
    recipients  VARCHAR NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    created_by  VARCHAR NOT NULL,
    edited_at   TIMESTAMP,
    edited_by   VARCHAR NOT NULL DEFAULT ''
);
CREATE INDEX comments_customer ON comments (customer_id);

CREATE SEQUENCE contacts_id_seq START 1;
CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY DEFAULT nextval('contacts_id_seq'),
    customer_id INTEGER NOT NULL,
    first_name  VARCHAR NOT NULL DEFAULT '',
    last_name   VARCHAR NOT NULL DEFAULT '',
    title       VARCHAR NOT NULL DEFAULT '',
    email       VARCHAR NOT NULL DEFAULT '',
    phone       VARCHAR NOT NULL DEFAULT '',
    mobile      VARCHAR NOT NULL DEFAULT '',
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    notes       VARCHAR NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    created_by  VARCHAR NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    updated_by  VARCHAR NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX contacts_customer ON contacts (customer_id);

CREATE SEQUENCE projects_id_seq START 1;
CREATE TABLE projects (
    id          INTEGER PRIMARY KEY DEFAULT nextval('projects_id_seq'),
    customer_id INTEGER NOT NULL,
    number      VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    status      VARCHAR NOT NULL DEFAULT 'active',
    manager     VARCHAR NOT NULL DEFAULT '',
    start_date  DATE,
    end_date    DATE,
    description VARCHAR NOT NULL DEFAULT ''
);
CREATE INDEX projects_customer ON projects (customer_id);

CREATE SEQUENCE invoices_id_seq START 1;
CREATE TABLE invoices (
    id           BIGINT PRIMARY KEY DEFAULT nextval('invoices_id_seq'),
    customer_id  INTEGER NOT NULL,
    project_id   INTEGER,
    number       VARCHAR NOT NULL,
    invoice_date DATE NOT NULL,
    amount       DECIMAL(18, 2) NOT NULL,
    currency     VARCHAR NOT NULL,
    amount_base  DECIMAL(18, 2) NOT NULL
);

-- Kept up to date in the same transaction as every invoice write: one customer's yearly totals
-- never scan the invoices table.
CREATE TABLE invoiced_yearly (
    customer_id INTEGER NOT NULL,
    year        INTEGER NOT NULL,
    amount      DECIMAL(18, 2) NOT NULL,
    invoices    INTEGER NOT NULL,
    PRIMARY KEY (customer_id, year)
);

CREATE TABLE ui_prefs (
    login VARCHAR NOT NULL,
    key   VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    PRIMARY KEY (login, key)
);

CREATE SEQUENCE admin_log_id_seq START 1;
CREATE TABLE admin_log (
    id         BIGINT PRIMARY KEY DEFAULT nextval('admin_log_id_seq'),
    changed_at TIMESTAMP NOT NULL,
    changed_by VARCHAR NOT NULL,
    area       VARCHAR NOT NULL,
    item       VARCHAR NOT NULL,
    old_value  VARCHAR,
    new_value  VARCHAR
);

-- Field-level history of contacts, comments and (later) CRM records, as customer_changes is for customers.
CREATE SEQUENCE record_changes_id_seq START 1;
CREATE TABLE record_changes (
    id          BIGINT PRIMARY KEY DEFAULT nextval('record_changes_id_seq'),
    table_name  VARCHAR NOT NULL,
    record_id   INTEGER NOT NULL,
    customer_id INTEGER,
    changed_at  TIMESTAMP NOT NULL,
    changed_by  VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL,
    field       VARCHAR NOT NULL,
    old_value   VARCHAR,
    new_value   VARCHAR
);
CREATE INDEX record_changes_record ON record_changes (table_name, record_id);
