-- customercard schema 8: customers.phone_digits goes. Nothing read it (the super search finds phone numbers
-- through search_terms), and keeping it written made every phone change update one more text column.

ALTER TABLE customers DROP COLUMN phone_digits;
