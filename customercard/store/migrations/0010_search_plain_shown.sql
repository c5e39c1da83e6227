-- customercard schema 10: how DuckDB stores the text a search hit shows (see the .duckdb file).
-- On PostgreSQL nothing changes.
SELECT 1;
