-- customercard schema 15: personal API tokens.
--
-- A token is the SHA-256 of a random secret that only its user holds (shown once when made); hint keeps its first
-- characters so that the user can tell tokens apart. A token acts as its user, with the user's role at the time of
-- each request, reduced to reading when read_only. Revoking sets revoked_at (the row stays for the record).
-- last_used_at is written at most once a minute.

CREATE SEQUENCE IF NOT EXISTS api_tokens_id_seq START 1;
CREATE TABLE IF NOT EXISTS api_tokens (
    id           BIGINT PRIMARY KEY DEFAULT nextval('api_tokens_id_seq'),
    token_hash   VARCHAR NOT NULL UNIQUE,
    login        VARCHAR NOT NULL,
    name         VARCHAR NOT NULL,
    hint         VARCHAR NOT NULL DEFAULT '',
    read_only    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMP NOT NULL,
    created_by   VARCHAR NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP,
    revoked_by   VARCHAR NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS api_tokens_login ON api_tokens (login);
