-- customercard schema 14: each user's language, and the firm's language instead of its locale.
--
-- users.language is the language the user chose on their profile ('' until they choose: their browser's
-- Accept-Language decides, else the firm's language). Money, numbers and dates are now written as each reader's
-- language writes them, so the firm's locale setting becomes the firm's language: da_DK → da, en_* → en, anything
-- else (sv_SE, the old default, among them) → sv.
ALTER TABLE users ADD COLUMN IF NOT EXISTS language VARCHAR DEFAULT '';
UPDATE users SET language = '' WHERE language IS NULL;
INSERT INTO settings (key, value)
    SELECT 'language', CASE substr(value, 1, 3) WHEN '"da' THEN '"da"' WHEN '"en' THEN '"en"' ELSE '"sv"' END
    FROM settings WHERE key = 'locale' AND NOT EXISTS (SELECT 1 FROM settings WHERE key = 'language');
DELETE FROM settings WHERE key = 'locale';
CREATE OR REPLACE VIEW user_directory AS
    SELECT id, login, name, email, role, projects_access, active, language FROM users;
