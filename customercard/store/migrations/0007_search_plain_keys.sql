-- customercard schema 7: how DuckDB stores the two key columns the super search filters (see the .duckdb file).
-- On PostgreSQL nothing changes.
SELECT 1;
