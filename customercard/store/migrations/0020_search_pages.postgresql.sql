-- PostgreSQL: the page columns stay empty (its indexes find prefixes); they are there so that copies between
-- the two kinds of database carry the same columns.
ALTER TABLE search_terms ADD COLUMN page INTEGER;
ALTER TABLE search_words ADD COLUMN page INTEGER;
