-- DuckDB: the pages of both tables made from their keys in order, and both tables written again, sorted by their
-- key, each row with its page (through a copy, as in schema 10; their indexes made again afterwards). The
-- rebuild of the index (SearchStore.rebuild_search_index) makes them the same way.
DELETE FROM search_pages;
INSERT INTO search_pages (kind, page, first)
    SELECT 'terms', row_number() OVER (ORDER BY first) - 1, first FROM (
        SELECT DISTINCT term AS first FROM (SELECT term, row_number() OVER (ORDER BY term) AS n FROM search_terms)
        AS numbered WHERE n % 2048 = 1) AS firsts;
INSERT INTO search_pages (kind, page, first)
    SELECT 'words', row_number() OVER (ORDER BY first) - 1, first FROM (
        SELECT DISTINCT word AS first FROM (SELECT word, row_number() OVER (ORDER BY word) AS n FROM search_words)
        AS numbered WHERE n % 2048 = 1) AS firsts;

CREATE TABLE search_terms_schema_19 AS SELECT * FROM search_terms;
DROP TABLE search_terms;
CREATE TABLE search_terms (
    entry_id    BIGINT NOT NULL DEFAULT nextval('search_terms_id_seq'),
    term        VARCHAR NOT NULL USING COMPRESSION uncompressed,
    customer_id INTEGER NOT NULL,
    contact_id  INTEGER,
    source      VARCHAR NOT NULL,
    shown       VARCHAR NOT NULL USING COMPRESSION uncompressed,
    page        INTEGER
);
INSERT INTO search_terms (entry_id, term, customer_id, contact_id, source, shown, page)
    SELECT t.entry_id, t.term, t.customer_id, t.contact_id, t.source, t.shown, p.page
    FROM search_terms_schema_19 AS t
    ASOF LEFT JOIN (SELECT page, first FROM search_pages WHERE kind = 'terms') AS p ON t.term >= p.first
    ORDER BY t.term;
DROP TABLE search_terms_schema_19;
CREATE UNIQUE INDEX search_terms_entry ON search_terms (entry_id);
CREATE INDEX search_terms_customer ON search_terms (customer_id);

CREATE TABLE search_words_schema_19 AS SELECT * FROM search_words;
DROP TABLE search_words;
CREATE TABLE search_words (
    word     VARCHAR NOT NULL USING COMPRESSION uncompressed,
    entry_id BIGINT NOT NULL,
    page     INTEGER
);
INSERT INTO search_words (word, entry_id, page)
    SELECT w.word, w.entry_id, p.page
    FROM search_words_schema_19 AS w
    ASOF LEFT JOIN (SELECT page, first FROM search_pages WHERE kind = 'words') AS p ON w.word >= p.first
    ORDER BY w.word;
DROP TABLE search_words_schema_19;
CREATE INDEX search_words_entry ON search_words (entry_id);
