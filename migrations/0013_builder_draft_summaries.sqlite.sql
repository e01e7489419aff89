-- A draft's summary fields, taken from its state when it is saved (issue 15): a page of drafts
-- reads them instead of parsing every state. Existing drafts are filled from their states here
-- (a state that is not valid JSON, or not an object, has none: '' and NULL); a row written
-- later without them (outside the API) has initial_description NULL, and its state is parsed
-- when it is read.
ALTER TABLE builder_drafts ADD COLUMN initial_description TEXT;
ALTER TABLE builder_drafts ADD COLUMN phase TEXT;

UPDATE builder_drafts SET
    initial_description = CASE
        WHEN json_valid(state) AND json_type(state, '$.initial_description') = 'text'
        THEN json_extract(state, '$.initial_description') ELSE '' END,
    phase = CASE
        WHEN json_valid(state) AND json_type(state, '$.phase') = 'text'
        THEN json_extract(state, '$.phase') END;
