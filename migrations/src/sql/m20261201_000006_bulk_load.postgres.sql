-- Nothing to change: PostgreSQL's search document and status totals stay with their
-- triggers (backend::bulk_load is a no-op there).
SELECT 1;
