-- customercard schema 20: the pages of the super search's sorted tables. Every 2,048th key of search_terms and
-- search_words, as they were sorted when the index was last built, is kept here (about 11,000 and 19,000 keys at
-- 1,000,000 customers), and each row of the two tables carries the number of the page its key falls in
-- (search_pages.page: the last page whose first key is not greater than the row's key). A lookup of a prefix
-- then names the pages it can be on, and DuckDB reads the key column only there: without it, DuckDB read the
-- key column of the row group its zone maps left from the row group's start until the prefix (1.3-1.8 MB for a
-- term, 1.2 MB for a word at 1,000,000 customers, when not in memory). Rows written after the build have no page
-- (NULL) and are looked at by every lookup, as before. The stamp 'search_pages' moves on when the pages change
-- (a rebuild), so that a process holding them in memory reads them again. PostgreSQL finds prefixes through its
-- indexes and keeps no pages (see the .postgresql and .duckdb files).
CREATE TABLE IF NOT EXISTS search_pages (
    kind  VARCHAR NOT NULL,
    page  INTEGER NOT NULL,
    first VARCHAR NOT NULL
);
INSERT INTO change_stamps (area, stamp)
    SELECT 'search_pages', 0 WHERE NOT EXISTS (SELECT 1 FROM change_stamps WHERE area = 'search_pages');
