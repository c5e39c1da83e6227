-- customercard schema 16: follow-ups, their daily reminder e-mail, and what the home page remembers per user.
--
-- A follow-up is something to do at a customer by a day, owned by a user, optionally about one of its contact
-- persons or opportunities; done or not (who and when). Versioned like events; its history is in record_changes.
-- follow_up_mail_sent keeps the day each user's reminder e-mail went out (one row per user and day: the claim that
-- keeps it to once a day, across restarts and server processes). home_seen is when a user last looked at the home
-- page; card_views the cards a user opened last (the newest ~20 kept).

CREATE SEQUENCE IF NOT EXISTS follow_ups_id_seq START 1;
CREATE TABLE IF NOT EXISTS follow_ups (
    id             INTEGER PRIMARY KEY DEFAULT nextval('follow_ups_id_seq'),
    customer_id    INTEGER NOT NULL,
    what           VARCHAR NOT NULL,
    due_on         DATE NOT NULL,
    owner          VARCHAR NOT NULL,
    contact_id     INTEGER,
    opportunity_id INTEGER,
    done           BOOLEAN NOT NULL DEFAULT FALSE,
    done_by        VARCHAR NOT NULL DEFAULT '',
    done_at        TIMESTAMP,
    created_at     TIMESTAMP NOT NULL,
    created_by     VARCHAR NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    updated_by     VARCHAR NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS follow_ups_customer ON follow_ups (customer_id);
CREATE INDEX IF NOT EXISTS follow_ups_owner ON follow_ups (owner, done, due_on);

CREATE TABLE IF NOT EXISTS follow_up_mail_sent (
    login   VARCHAR NOT NULL,
    sent_on DATE NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    PRIMARY KEY (login, sent_on)
);

CREATE TABLE IF NOT EXISTS home_seen (
    login   VARCHAR PRIMARY KEY,
    seen_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS card_views (
    login       VARCHAR NOT NULL,
    customer_id INTEGER NOT NULL,
    viewed_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (login, customer_id)
);
CREATE INDEX IF NOT EXISTS card_views_login ON card_views (login, viewed_at);
