-- Test-only later migration that fails at its second statement: nothing of it may stay.

CREATE TABLE half_done (id INTEGER PRIMARY KEY);

ALTER TABLE no_such_table ADD COLUMN x TEXT;
