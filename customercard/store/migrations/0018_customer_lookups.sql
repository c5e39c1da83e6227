-- customercard schema 18: a customer's segments and yearly invoiced totals found by the customer alone. On
-- PostgreSQL nothing changes (the primary keys' B-trees, customer first, serve it). DuckDB gets an index on the
-- customer of each (see the .duckdb file).
SELECT 1;
