-- customercard schema 3: the super search index, kept up to date in the same transaction as every write
-- of a customer or contact person. Terms are folded (lower case, Nordic letters without marks, digits only
-- for phone numbers) by the store; a merge pointer on archived customers already exists (merged_into).

CREATE TABLE search_terms (
    customer_id INTEGER NOT NULL,
    contact_id  INTEGER,
    source      VARCHAR NOT NULL,
    term        VARCHAR NOT NULL,
    shown       VARCHAR NOT NULL
);
CREATE INDEX search_terms_customer ON search_terms (customer_id);

CREATE TABLE search_words (
    word        VARCHAR NOT NULL,
    customer_id INTEGER NOT NULL,
    contact_id  INTEGER,
    source      VARCHAR NOT NULL,
    shown       VARCHAR NOT NULL
);
CREATE INDEX search_words_customer ON search_words (customer_id);
