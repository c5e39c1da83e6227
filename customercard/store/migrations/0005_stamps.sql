-- customercard schema 5: a counter bumped by every change to settings, lists, criteria and users, so that
-- every server process (several, with PostgreSQL) notices and drops what it had cached.

CREATE TABLE change_stamps (
    area  VARCHAR PRIMARY KEY,
    stamp BIGINT NOT NULL
);
INSERT INTO change_stamps (area, stamp) VALUES ('admin', 0);
