-- The search document adds the values of searchable, active text and choice fields.
-- A generated column cannot read profile_fields, so a trigger keeps it instead.
-- Changing which fields are searchable re-writes the affected users' attributes, which
-- fires the trigger (see backend::fields).
ALTER TABLE users DROP COLUMN search_doc;
ALTER TABLE users ADD COLUMN search_doc TEXT NOT NULL DEFAULT '';
CREATE FUNCTION users_search_doc() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_doc := lower(
        NEW.first_name || ' ' || NEW.last_name || ' ' || NEW.email || ' ' || coalesce(NEW.username, '') || ' '
        || coalesce(NEW.phone, '') || ' ' || NEW.company || ' ' || NEW.job_title
        || coalesce((SELECT ' ' || string_agg(j.value, ' ') FROM jsonb_each_text(NEW.attributes) AS j
                     JOIN profile_fields AS pf ON pf.key = j.key
                     WHERE pf.searchable AND NOT pf.archived AND pf.kind IN ('text', 'choice', 'multi_choice')), ''));
    RETURN NEW;
END
$$;
CREATE TRIGGER users_search_doc BEFORE INSERT OR UPDATE OF first_name, last_name, email, username, phone, company, job_title, attributes
    ON users FOR EACH ROW EXECUTE FUNCTION users_search_doc();
UPDATE users SET attributes = attributes;
CREATE INDEX users_search_idx ON users USING gin (search_doc gin_trgm_ops);
