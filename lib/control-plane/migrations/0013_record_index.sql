-- A table may use Hudi's record-level index (RECORD_INDEX): a global index kept in the table's
-- metadata table, through which each batch's ordering guard reads only the file groups of its keys.
ALTER TABLE tables DROP CONSTRAINT IF EXISTS tables_hudi_index_type_check;
ALTER TABLE tables ADD CONSTRAINT tables_hudi_index_type_check CHECK (hudi_index_type IN ('BLOOM', 'GLOBAL_BLOOM', 'RECORD_INDEX'));
