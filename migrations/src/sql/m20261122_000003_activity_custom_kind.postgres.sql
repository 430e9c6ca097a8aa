ALTER TABLE activities DROP CONSTRAINT activities_kind_check;
ALTER TABLE activities ADD CONSTRAINT activities_kind_check
    CHECK (kind IN ('page_view', 'feature', 'sign_in', 'admin_change', 'manual', 'custom'));
-- Retention purges by age across all users.
CREATE INDEX activities_at_idx ON activities (at);
