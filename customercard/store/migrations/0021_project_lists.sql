-- customercard schema 21: what store.sql gives a user without projects access (through an API token) instead of
-- the two tables that hold a project's description: every project but its description, and every record's history
-- with the text of a project's description left out (the rows stay: that it changed, when and by whom). The text is
-- left out of the columns, not filtered out by a condition: a query's own condition could be evaluated first and
-- tell a value in its error message (an ordinary PostgreSQL view is no security barrier).
CREATE OR REPLACE VIEW project_list AS
    SELECT id, customer_id, number, name, status, manager, start_date, end_date FROM projects;
CREATE OR REPLACE VIEW record_change_list AS
    SELECT id, table_name, record_id, customer_id, changed_at, changed_by, kind, field,
           CASE WHEN table_name = 'projects' AND field = 'description' THEN NULL ELSE old_value END AS old_value,
           CASE WHEN table_name = 'projects' AND field = 'description' THEN NULL ELSE new_value END AS new_value,
           version
    FROM record_changes;
