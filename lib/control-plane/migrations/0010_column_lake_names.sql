-- Lake names (issue 12): each recorded column gains `lakeName`, the name it has in the lake (Hudi,
-- Glue) and the warehouse, beside `name`, the source's (and the raw files'). Onboarding derives lake
-- names from source names (lib/tables/lake-names.ts); every table recorded before this change already
-- has a Hudi table whose columns carry the source names, so its lake names are its source names.
UPDATE tables t
   SET columns = (
         SELECT jsonb_agg(CASE WHEN c ? 'lakeName' THEN c ELSE c || jsonb_build_object('lakeName', c ->> 'name') END ORDER BY i)
           FROM jsonb_array_elements(t.columns) WITH ORDINALITY AS e (c, i)
       )
 WHERE jsonb_typeof(t.columns) = 'array'
   AND EXISTS (SELECT 1 FROM jsonb_array_elements(t.columns) AS e (c) WHERE NOT c ? 'lakeName');
