-- PostgreSQL: prefix lookups (LIKE 'abc%') use these indexes whatever the database's collation.
CREATE INDEX search_terms_term_prefix ON search_terms (term text_pattern_ops);
CREATE INDEX search_words_word_prefix ON search_words (word text_pattern_ops);
CREATE INDEX search_suffixes_suffix ON search_suffixes (suffix text_pattern_ops);
