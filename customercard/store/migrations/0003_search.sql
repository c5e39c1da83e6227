-- customercard schema 3: the super search index, kept up to date in the same transaction as every write
-- of a customer or contact person. All keys are folded by the store (lower case, Nordic letters without
-- marks, digits only for numbers). Rebuilding writes every table sorted by its key, so range lookups
-- (prefixes) skip almost everything; the indexes serve equality lookups (and are dropped and made again
-- around a rebuild, which is much faster than keeping them up to date row by row). Words point at entries
-- by id so that lookups by word read two narrow columns.

CREATE SEQUENCE search_terms_id_seq START 1;
CREATE TABLE search_terms (
    entry_id    BIGINT NOT NULL DEFAULT nextval('search_terms_id_seq'),
    term        VARCHAR NOT NULL,
    customer_id INTEGER NOT NULL,
    contact_id  INTEGER,
    source      VARCHAR NOT NULL,
    shown       VARCHAR NOT NULL
);
CREATE UNIQUE INDEX search_terms_entry ON search_terms (entry_id);
CREATE INDEX search_terms_term ON search_terms (term);
CREATE INDEX search_terms_customer ON search_terms (customer_id);

CREATE TABLE search_words (
    word     VARCHAR NOT NULL,
    entry_id BIGINT NOT NULL
);
CREATE INDEX search_words_word ON search_words (word);
CREATE INDEX search_words_entry ON search_words (entry_id);

-- Every distinct word ever indexed, with what finds it: its suffixes (a word contains a text when one
-- of its suffixes starts with it) and its one-letter deletions (for one typo).
CREATE TABLE search_vocab (
    word VARCHAR NOT NULL
);
CREATE UNIQUE INDEX search_vocab_word ON search_vocab (word);
CREATE TABLE search_suffixes (
    suffix VARCHAR NOT NULL,
    word   VARCHAR NOT NULL
);
CREATE TABLE search_fuzzy (
    variant VARCHAR NOT NULL,
    word    VARCHAR NOT NULL
);
CREATE INDEX search_fuzzy_variant ON search_fuzzy (variant);
