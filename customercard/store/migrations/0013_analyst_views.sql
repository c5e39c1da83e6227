-- customercard schema 13: what analysts read instead of the tables that keep secrets. store.sql never reads
-- users (password hashes), sessions, login_throttle or settings (which keeps shared secrets such as the cookie
-- secret of several server processes); these views give the people and the firm's settings without them.
CREATE OR REPLACE VIEW user_directory AS SELECT id, login, name, email, role, projects_access, active FROM users;
CREATE OR REPLACE VIEW firm_settings AS SELECT key, value FROM settings WHERE left(key, 1) <> '_';
