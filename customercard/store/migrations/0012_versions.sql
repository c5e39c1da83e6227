-- Every in-place edit carries the version it was made from (issue: nothing lost). Comments, admin list values,
-- users and segmentation criteria get a version; a record's history rows say which version they made, so that a
-- stale save can name the fields changed since.
ALTER TABLE comments ADD COLUMN IF NOT EXISTS version INTEGER DEFAULT 1;
ALTER TABLE list_values ADD COLUMN IF NOT EXISTS version INTEGER DEFAULT 1;
ALTER TABLE users ADD COLUMN IF NOT EXISTS version INTEGER DEFAULT 1;
ALTER TABLE criteria ADD COLUMN IF NOT EXISTS version INTEGER DEFAULT 1;
ALTER TABLE record_changes ADD COLUMN IF NOT EXISTS version INTEGER;
