ALTER TABLE profile_fields DROP CONSTRAINT profile_fields_kind_check;
ALTER TABLE profile_fields ADD CONSTRAINT profile_fields_kind_check
    CHECK (kind IN ('text', 'number', 'date', 'bool', 'choice', 'multi_choice'));
CREATE INDEX profile_fields_position_idx ON profile_fields (position, id);
