-- customercard schema 21: what store.sql gives a user without projects access (through an API token) instead of
-- the two tables that hold a project's description: every project but its description, and every record's history
-- but the changes of a project's description (the card lists projects so; the project page shows the rest).
CREATE OR REPLACE VIEW project_list AS
    SELECT id, customer_id, number, name, status, manager, start_date, end_date FROM projects;
CREATE OR REPLACE VIEW record_change_list AS
    SELECT * FROM record_changes WHERE NOT (table_name = 'projects' AND field = 'description');
