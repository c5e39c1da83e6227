-- customercard schema 6: the word and term lookups of the super search. On PostgreSQL nothing changes (its
-- pattern indexes from schema 3 serve them). DuckDB drops its two indexes on them (see the .duckdb file).
SELECT 1;
