-- DuckDB: search_terms.term and search_words.word are stored uncompressed. DuckDB 2 compresses strings as
-- DICT_FSST, and a filter on such a column decompresses the whole row group it reads: looking up one
-- organisation number in search_terms took 3.3-4.5 ms at 1,000,000 customers, and 1.2-2.2 ms with the column
-- stored plainly. The two tables take about twice the room (0.8 -> 1.5 GB at 1,000,000 customers). Both are
-- written again, sorted by their key, through a copy (DuckDB cannot rename a table whose indexes were dropped
-- in the same transaction); their indexes are made again afterwards.
CREATE TABLE search_terms_schema_6 AS SELECT * FROM search_terms;
DROP TABLE search_terms;
CREATE TABLE search_terms (
    entry_id    BIGINT NOT NULL DEFAULT nextval('search_terms_id_seq'),
    term        VARCHAR NOT NULL USING COMPRESSION uncompressed,
    customer_id INTEGER NOT NULL,
    contact_id  INTEGER,
    source      VARCHAR NOT NULL,
    shown       VARCHAR NOT NULL
);
INSERT INTO search_terms (entry_id, term, customer_id, contact_id, source, shown)
    SELECT entry_id, term, customer_id, contact_id, source, shown FROM search_terms_schema_6 ORDER BY term;
DROP TABLE search_terms_schema_6;
CREATE UNIQUE INDEX search_terms_entry ON search_terms (entry_id);
CREATE INDEX search_terms_customer ON search_terms (customer_id);

CREATE TABLE search_words_schema_6 AS SELECT * FROM search_words;
DROP TABLE search_words;
CREATE TABLE search_words (
    word     VARCHAR NOT NULL USING COMPRESSION uncompressed,
    entry_id BIGINT NOT NULL
);
INSERT INTO search_words (word, entry_id) SELECT word, entry_id FROM search_words_schema_6 ORDER BY word;
DROP TABLE search_words_schema_6;
CREATE INDEX search_words_entry ON search_words (entry_id);
