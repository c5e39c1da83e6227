-- customercard schema 11: login sessions kept on the server, and the counters that slow down password guessing.
--
-- A session is the SHA-256 of a random token that only the browser holds (in a signed cookie); logging out,
-- a new password or a deactivated user end it (ended_at, ended_reason), and it lapses when idle too long or old.
-- login_throttle counts failed logins per account ('login:<login>') and per address ('address:<ip>').

CREATE SEQUENCE sessions_id_seq START 1;
CREATE TABLE sessions (
    id             BIGINT PRIMARY KEY DEFAULT nextval('sessions_id_seq'),
    token_hash     VARCHAR NOT NULL UNIQUE,
    login          VARCHAR NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    last_seen_at   TIMESTAMP NOT NULL,
    ended_at       TIMESTAMP,
    ended_reason   VARCHAR NOT NULL DEFAULT '',
    remote_address VARCHAR NOT NULL DEFAULT '',
    user_agent     VARCHAR NOT NULL DEFAULT ''
);
CREATE INDEX sessions_login ON sessions (login);

CREATE TABLE login_throttle (
    key             VARCHAR PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at TIMESTAMP NOT NULL,
    locked_until    TIMESTAMP
);
