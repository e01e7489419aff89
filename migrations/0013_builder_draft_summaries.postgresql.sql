-- A draft's summary fields, taken from its state when it is saved (issue 15): a page of drafts
-- reads them instead of parsing every state. Existing drafts are filled from their states here
-- (a state that is not valid JSON, or not an object, has none: '' and NULL); a row written
-- later without them (outside the API) has initial_description NULL, and its state is parsed
-- when it is read; the helper that
-- parses a state without failing on bad JSON is dropped again.
ALTER TABLE builder_drafts ADD COLUMN initial_description TEXT;
ALTER TABLE builder_drafts ADD COLUMN phase TEXT;

CREATE FUNCTION boternity_state_or_null(stored VARCHAR) RETURNS jsonb LANGUAGE plpgsql AS '
BEGIN
    RETURN stored::jsonb;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
';

UPDATE builder_drafts SET
    initial_description = CASE
        WHEN jsonb_typeof(boternity_state_or_null(state) -> 'initial_description') = 'string'
        THEN boternity_state_or_null(state) ->> 'initial_description' ELSE '' END,
    phase = CASE
        WHEN jsonb_typeof(boternity_state_or_null(state) -> 'phase') = 'string'
        THEN boternity_state_or_null(state) ->> 'phase' END;

DROP FUNCTION boternity_state_or_null(VARCHAR);
