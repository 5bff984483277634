// SQL builders for warehouse models: type-1 and type-2 dimensions, and facts. Each builder returns
// the statements of one build, to run in ONE transaction in order (Warehouse.transaction). The SQL is
// the common subset of PostgreSQL 15 and Redshift: UPDATE ... FROM, DELETE ... USING, INSERT ...
// SELECT, temp tables, ROW_NUMBER/LAG/LEAD/MIN/MAX/SUM windows (aggregate windows always with an
// explicit frame, which Redshift requires), MD5, COALESCE, CAST. No MERGE, ON CONFLICT, DISTINCT ON,
// RETURNING, arrays, IS DISTINCT FROM, or aliases on UPDATE/DELETE targets.
//
// Input: a staging table of lake changes since the last build (source columns, `_danau_op` I/U/D,
// `_danau_change_seq` text ordering a source table's changes, `_danau_commit_ts` text
// 'yyyy-MM-dd HH:mm:ss.ffffff' UTC). Staged values are CAST to the spec's column types.
//
// Rules (see the spec types for more):
//   - Surrogate keys are CHAR(32) MD5 hex, the same on both engines: type 1 MD5(natural key);
//     type 2 MD5(natural key, the version's opening change_seq); an inferred member
//     MD5(natural key, NULL). Parts are encoded without ambiguity: each part is `n` for NULL or
//     `v<length>:<text>`, joined with `|` (dbt's `coalesce(x, '') || '|'` makes NULL equal '' and
//     lets a `|` inside a value shift the parts). row_hash uses the same encoding over the tracked
//     columns.
//   - change_seq values are compared as text: the warehouse must order text by bytes (PostgreSQL with
//     a C / C.UTF-8 collation, Redshift's default). Danau's sequences are fixed-width upper-case hex.
//   - A hard delete (type-1 'delete', facts) forgets the key's change_seq: a change OLDER than the
//     delete that arrives in a later batch re-creates the row. Use 'soft' where late changes matter.
import { createHash } from 'node:crypto';
import { quoteIdent, quoteQualified } from '../sql/identifiers';

export interface TableRef {
  schema: string;
  table: string;
}

/** A column and its warehouse type, e.g. {name: 'city', type: 'VARCHAR(64)'}. */
export interface ColumnDef {
  name: string;
  type: string;
}

/**
 * Type 1: one row per natural key, overwritten by the newest change.
 * Target columns: surrogateKey CHAR(32) = MD5(natural key), naturalKey, columns, is_deleted ('soft'
 * only), is_inferred, _danau_change_seq (of the change the row holds; NULL for an inferred member),
 * _danau_batch_id, updated_at (that change's commit time at the source; NULL for an inferred member).
 * An inferred member (inserted by a fact build) has the key's own surrogate key, so the real row
 * arriving later simply updates it in place: facts keep pointing at it.
 */
export interface Scd1Spec {
  kind: 'scd1';
  target: TableRef;
  staging: TableRef;
  naturalKey: ColumnDef[];
  /** Every attribute column (not the natural key). */
  columns: ColumnDef[];
  surrogateKey: string;
  /** 'delete' removes the row; 'soft' keeps it (values as they were) with is_deleted = true. */
  deletePolicy: 'delete' | 'soft';
}

/**
 * Type 2: one row per version. The builder keeps every change it has applied in a change log table
 * (`changeLog`, default `<target>_changes`), and rebuilds the versions of each key the batch touches
 * from that key's whole log, ordered by change_seq:
 *   - a version opens where the state changes: row_hash (MD5 over trackedColumns) differs from the
 *     change before, or the row is deleted / comes back;
 *   - valid_from is the opening change's commit time (if commit times ever run backwards against
 *     change_seq, the largest commit time so far, so no interval is negative); valid_to is the next
 *     version's valid_from, NULL while open; is_current marks the key's newest version;
 *   - a version carries the values of its LAST change: a change to otherColumns alone opens no
 *     version and overwrites those columns on the version it falls in (on the current version for an
 *     ordinary change; on an older version for a late one);
 *   - a late change lands at its place in change_seq order, splitting or moving the interval it falls
 *     in; it is current only if it is the key's newest change.
 * Keeping the log (not only the versions) is what makes late changes exact: a version hides the
 * changes inside it that did not alter row_hash, and a late change with another hash landing among
 * them must reopen the version at the first of them after it.
 * (dbt snapshots compare only with the current row, so a late change becomes current and overlaps:
 * dbt-labs/dbt-core#7138, #8760.)
 * Surrogate keys stay stable: a rebuilt version keeps the key of the existing version whose opening
 * change it contains; a new version gets MD5(natural key, opening change_seq). An inferred member
 * (valid_from 1900-01-01, inserted by a fact build) is taken over by the key's first real version,
 * which keeps the inferred member's surrogate key and valid_from: facts that point at it stay valid.
 * In general a key's first version never starts later than the key's first stored row did.
 * Target columns: surrogateKey, naturalKey, trackedColumns, otherColumns, valid_from, valid_to,
 * is_current, row_hash, is_deleted, is_inferred, _danau_change_seq (the version's opening change),
 * _danau_batch_id (the last build that changed the row).
 */
export interface Scd2Spec {
  kind: 'scd2';
  target: TableRef;
  staging: TableRef;
  /** Default: `<target.table>_changes` in the target's schema. */
  changeLog?: TableRef;
  naturalKey: ColumnDef[];
  /** A change to any of these opens a new version. */
  trackedColumns: ColumnDef[];
  /** Kept as of the version's last change; never open a version. */
  otherColumns: ColumnDef[];
  surrogateKey: string;
  /**
   * 'close': a delete ends the current version (valid_to = the delete's time); the key then has no
   * current row. 'deleted_version': it also adds a version with is_deleted = true (values: the
   * delete's row image), which is current until the key comes back.
   */
  deletePolicy: 'close' | 'deleted_version';
}

export type DimensionSpec = Scd1Spec | Scd2Spec;

export interface FactDimension {
  dimension: DimensionSpec;
  /** Which fact column holds each natural key column of the dimension. */
  keys: { factColumn: string; dimColumn: string }[];
  /** The fact column (CHAR(32)) that receives the dimension's surrogate key. */
  as: string;
}

/**
 * A fact table: one row per fact key, replaced by the key's newest change; a delete removes it.
 * Target columns: factKey, columns, one `as` column per dimension, _danau_change_seq,
 * _danau_batch_id, updated_at (the change's commit time).
 * Dimension keys are looked up once, when the fact is written: the version valid at the event time
 * (valid_from <= t < valid_to, or open); failing that, the latest version that started before t,
 * or the earliest one (an event before the key's first version). A natural key the dimension lacks
 * gets an inferred member first (is_inferred, values NULL). A NULL natural key leaves the key NULL.
 * Facts are not re-pointed when a dimension's history changes later (a late version): they keep a
 * key that resolves, of the version that was valid when they were written. A fact build writes
 * inferred members into its dimensions, so it must not run concurrently with their builds.
 */
export interface FactSpec {
  kind: 'fact';
  target: TableRef;
  staging: TableRef;
  factKey: ColumnDef[];
  /** Measures and other columns, including the dimensions' natural key columns and the event time. */
  columns: ColumnDef[];
  eventTimeColumn: string;
  dimensions: FactDimension[];
}

export type ModelSpec = Scd1Spec | Scd2Spec | FactSpec;

/** valid_from of an inferred type-2 member: before any real version. */
export const INFERRED_VALID_FROM = '1900-01-01 00:00:00';

const KEY_TYPE = 'CHAR(32)';
const SEQ_TYPE = 'VARCHAR(128)';
const BATCH_TYPE = 'VARCHAR(128)';
/** The longest VARCHAR Redshift has; values are rendered as text through it for hashing. */
const TEXT_TYPE = 'VARCHAR(65535)';
const UP_TO_HERE = 'ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW';

/** Staging's bookkeeping columns. */
const STAGED_META = ['_danau_op', '_danau_change_seq', '_danau_commit_ts'];
const RESERVED = new Set([
  ...STAGED_META,
  '_danau_batch_id',
  'updated_at',
  'valid_from',
  'valid_to',
  'is_current',
  'row_hash',
  'is_deleted',
  'is_inferred',
]);

// --- small SQL helpers ---------------------------------------------------------------------------

const q = quoteIdent;
const qualified = (t: TableRef): string => quoteQualified(t.schema, t.table);
const names = (defs: ColumnDef[]): string[] => defs.map((d) => d.name);
/** `a."x", a."y"`, or `"x", "y"` without an alias. */
const list = (names: string[], alias?: string): string => names.map((n) => (alias ? `${alias}.${q(n)}` : q(n))).join(', ');
/** `a."x" = b."x" AND ...` */
const matches = (a: string, b: string, names: string[]): string => names.map((n) => `${a}.${q(n)} = ${b}.${q(n)}`).join(' AND ');
/** NULL-safe equality (Redshift has no IS NOT DISTINCT FROM). */
const same = (a: string, b: string): string => `(${a} = ${b} OR (${a} IS NULL AND ${b} IS NULL))`;

const SQL_TYPE = /^[A-Za-z][A-Za-z0-9_]*( [A-Za-z][A-Za-z0-9_]*)*( ?\( *\d+ *(, *\d+ *)?\))?$/;

function checkType(def: ColumnDef): string {
  if (!SQL_TYPE.test(def.type)) throw new Error(`column ${def.name}: not a column type this builder accepts: ${JSON.stringify(def.type)}`);
  return def.type;
}

const BATCH_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The batch id as a literal. Restricted to a plain token, so no escaping rules of either engine matter. */
function batchLiteral(batchId: string): string {
  if (!BATCH_ID.test(batchId)) throw new Error(`batch id must be 1-128 letters, digits, _ . : or -: ${JSON.stringify(batchId)}`);
  return `'${batchId}'`;
}

/** A typed value as text for hashing. Redshift cannot CAST a boolean to text, so booleans are spelled out. */
function asText(expr: string, type: string): string {
  if (/^bool(ean)?$/i.test(type.trim())) return `CASE WHEN ${expr} THEN 'true' WHEN NOT ${expr} THEN 'false' END`;
  return `CAST(${expr} AS ${TEXT_TYPE})`;
}

/** MD5 over text parts (null: a part that is always NULL), encoded as described at the top. */
function md5Of(parts: (string | null)[]): string {
  const encoded = parts.map((p) => (p === null ? `'n'` : `COALESCE('v' || CAST(LENGTH(${p}) AS VARCHAR(12)) || ':' || ${p}, 'n')`));
  return `MD5(${encoded.join(` || '|' || `)})`;
}

/** The staged changes with typed values and commit time: `(SELECT ... FROM staging s)`. */
function typedStaging(staging: TableRef, defs: ColumnDef[]): string {
  const values = defs.map((d) => `CAST(s.${q(d.name)} AS ${checkType(d)}) AS ${q(d.name)}`);
  return `(SELECT ${values.join(', ')}, s._danau_op, s._danau_change_seq, CAST(s._danau_commit_ts AS TIMESTAMP) AS _danau_commit_ts
  FROM ${qualified(staging)} s)`;
}

/** Each key's newest staged change, as `c`, with the target row `t` it would replace (LEFT JOIN). */
function newestStagedChanges(staging: TableRef, defs: ColumnDef[], key: string[], target: TableRef): string {
  return `FROM (
  SELECT c.*, ROW_NUMBER() OVER (PARTITION BY ${list(key, 'c')} ORDER BY c._danau_change_seq DESC) AS _danau_newest_first
  FROM ${typedStaging(staging, defs)} c
) c
LEFT JOIN ${qualified(target)} t ON ${matches('t', 'c', key)}
WHERE c._danau_newest_first = 1
  -- Older than what the row holds: a late change, or this batch run again. NULL: no row, or an inferred one.
  AND (t._danau_change_seq IS NULL OR c._danau_change_seq > t._danau_change_seq)`;
}

function checkColumns(what: string, groups: ColumnDef[][], extra: string[] = []): void {
  const seen = new Set<string>();
  for (const name of [...groups.flat().map((d) => d.name), ...extra]) {
    q(name); // throws on a name that is not a plain identifier
    if (RESERVED.has(name) || name.startsWith('_danau_')) throw new Error(`${what}: column ${name} is reserved for the builder's bookkeeping`);
    if (seen.has(name)) throw new Error(`${what}: column ${name} appears twice`);
    seen.add(name);
  }
  for (const d of groups.flat()) checkType(d);
}

function checkSpec(spec: ModelSpec): void {
  const what = `${spec.target.schema}.${spec.target.table}`;
  qualified(spec.target);
  qualified(spec.staging);
  switch (spec.kind) {
    case 'scd1':
      if (spec.naturalKey.length === 0) throw new Error(`${what}: no natural key`);
      checkColumns(what, [spec.naturalKey, spec.columns], [spec.surrogateKey]);
      return;
    case 'scd2':
      if (spec.naturalKey.length === 0) throw new Error(`${what}: no natural key`);
      if (spec.trackedColumns.length === 0) throw new Error(`${what}: no tracked columns`);
      checkColumns(what, [spec.naturalKey, spec.trackedColumns, spec.otherColumns], [spec.surrogateKey]);
      qualified(changeLogOf(spec));
      return;
    case 'fact': {
      if (spec.factKey.length === 0) throw new Error(`${what}: no fact key`);
      checkColumns(what, [spec.factKey, spec.columns], spec.dimensions.map((d) => d.as));
      const columns = new Set(names([...spec.factKey, ...spec.columns]));
      if (!columns.has(spec.eventTimeColumn)) throw new Error(`${what}: event time column ${spec.eventTimeColumn} is not a fact column`);
      for (const d of spec.dimensions) {
        checkSpec(d.dimension);
        const dimKey = names(d.dimension.naturalKey);
        const mapped = d.keys.map((k) => k.dimColumn);
        if (mapped.length !== dimKey.length || !dimKey.every((k) => mapped.includes(k))) {
          throw new Error(`${what}: dimension ${d.dimension.target.table}: keys must map each natural key column (${dimKey.join(', ')}) once`);
        }
        for (const k of d.keys) if (!columns.has(k.factColumn)) throw new Error(`${what}: ${k.factColumn} is not a fact column`);
      }
      return;
    }
  }
}

export function changeLogOf(spec: Scd2Spec): TableRef {
  return spec.changeLog ?? { schema: spec.target.schema, table: `${spec.target.table}_changes` };
}

// --- type 1 --------------------------------------------------------------------------------------

const SCD1_CHANGES = 'danau_scd1_changes';

export function buildScd1(spec: Scd1Spec, batchId: string): string[] {
  checkSpec(spec);
  const batch = batchLiteral(batchId);
  const target = qualified(spec.target);
  const key = names(spec.naturalKey);
  const attrs = names(spec.columns);
  const soft = spec.deletePolicy === 'soft';
  const keyOfChange = md5Of(spec.naturalKey.map((d) => asText(`c.${q(d.name)}`, d.type)));
  return [
    `CREATE TEMP TABLE ${SCD1_CHANGES} AS
SELECT ${list([...key, ...attrs], 'c')}, c._danau_op, c._danau_change_seq, c._danau_commit_ts
${newestStagedChanges(spec.staging, [...spec.naturalKey, ...spec.columns], key, spec.target)}`,

    // In place: the surrogate key never changes. This also completes an inferred member.
    `UPDATE ${target} SET
  ${attrs.map((a) => `${q(a)} = c.${q(a)}, `).join('')}${soft ? 'is_deleted = FALSE, ' : ''}is_inferred = FALSE,
  _danau_change_seq = c._danau_change_seq, _danau_batch_id = ${batch}, updated_at = c._danau_commit_ts
FROM ${SCD1_CHANGES} c
WHERE ${matches(target, 'c', key)} AND c._danau_op <> 'D'`,

    soft
      ? // The row keeps its values (a delete's row image may hold only the key) and remembers the delete's change_seq.
        `UPDATE ${target} SET is_deleted = TRUE,
  _danau_change_seq = c._danau_change_seq, _danau_batch_id = ${batch}, updated_at = c._danau_commit_ts
FROM ${SCD1_CHANGES} c
WHERE ${matches(target, 'c', key)} AND c._danau_op = 'D'`
      : `DELETE FROM ${target}
USING ${SCD1_CHANGES} c
WHERE ${matches(target, 'c', key)} AND c._danau_op = 'D'`,

    // New keys. 'soft' also records a delete of a key it never saw, so the delete's change_seq guards against older changes.
    `INSERT INTO ${target} (${list([spec.surrogateKey, ...key, ...attrs])}, ${soft ? 'is_deleted, ' : ''}is_inferred, _danau_change_seq, _danau_batch_id, updated_at)
SELECT ${keyOfChange}, ${list([...key, ...attrs], 'c')}, ${soft ? `CASE WHEN c._danau_op = 'D' THEN TRUE ELSE FALSE END, ` : ''}FALSE,
  c._danau_change_seq, ${batch}, c._danau_commit_ts
FROM ${SCD1_CHANGES} c
LEFT JOIN ${target} t ON ${matches('t', 'c', key)}
WHERE t.${q(spec.surrogateKey)} IS NULL${soft ? '' : ` AND c._danau_op <> 'D'`}`,

    `DROP TABLE ${SCD1_CHANGES}`,
  ];
}

// --- type 2 --------------------------------------------------------------------------------------

const SCD2_VERSIONS = 'danau_scd2_versions';

export function buildScd2(spec: Scd2Spec, batchId: string): string[] {
  checkSpec(spec);
  const batch = batchLiteral(batchId);
  const target = qualified(spec.target);
  const log = qualified(changeLogOf(spec));
  const key = names(spec.naturalKey);
  const attrDefs = [...spec.trackedColumns, ...spec.otherColumns];
  const attrs = names(attrDefs);
  const sk = q(spec.surrogateKey);
  const keepsDeletes = spec.deletePolicy === 'deleted_version';
  const byKey = (alias: string) => `PARTITION BY ${list(key, alias)}`;
  const byVersion = (alias: string) => `PARTITION BY ${list(key, alias)}, ${alias}._danau_version_no`;
  const rowHash = md5Of(spec.trackedColumns.map((d) => asText(`c.${q(d.name)}`, d.type)));
  const newVersionKey = md5Of([...spec.naturalKey.map((d) => asText(`k.${q(d.name)}`, d.type)), 'k._danau_opening_seq']);
  // Everything a version row holds but its batch id: a rebuilt row equal to the stored one keeps the stored batch id.
  const compared = [...key, ...attrs].map((n) => q(n)).concat(['valid_from', 'valid_to', 'is_current', 'row_hash', 'is_deleted', 'is_inferred', '_danau_change_seq']);
  const versionColumnNames = [sk, ...[...key, ...attrs].map((n) => q(n)), 'valid_from', 'valid_to', 'is_current', 'row_hash', 'is_deleted', 'is_inferred', '_danau_change_seq', '_danau_batch_id'];
  const versionColumns = versionColumnNames.join(', ');

  return [
    // The log holds every change applied so far; (key, change_seq) already there means this batch ran before.
    `INSERT INTO ${log} (${list([...key, ...attrs])}, _danau_op, _danau_change_seq, _danau_commit_ts, row_hash, _danau_batch_id)
SELECT ${list([...key, ...attrs], 'c')}, c._danau_op, c._danau_change_seq, c._danau_commit_ts, ${rowHash}, ${batch}
FROM ${typedStaging(spec.staging, [...spec.naturalKey, ...attrDefs])} c
LEFT JOIN ${log} l ON ${matches('l', 'c', key)} AND l._danau_change_seq = c._danau_change_seq
WHERE l._danau_change_seq IS NULL`,

    `CREATE TEMP TABLE ${SCD2_VERSIONS} AS
WITH affected AS (
  SELECT DISTINCT ${spec.naturalKey.map((d) => `CAST(s.${q(d.name)} AS ${d.type}) AS ${q(d.name)}`).join(', ')}
  FROM ${qualified(spec.staging)} s
),
-- The whole log of each key the batch touches: a late change may reshape any part of its history.
changes AS (
  SELECT l.*,
    CASE WHEN l._danau_op = 'D' THEN 'deleted' ELSE 'live ' || l.row_hash END AS _danau_state,
    -- Normally the commit time; never earlier than an earlier change's, so no interval runs backwards.
    MAX(l._danau_commit_ts) OVER (${byKey('l')} ORDER BY l._danau_change_seq ${UP_TO_HERE}) AS _danau_starts_at
  FROM ${log} l
  JOIN affected a ON ${matches('l', 'a', key)}
),
opens AS (
  SELECT c.*, CASE WHEN LAG(c._danau_state) OVER (${byKey('c')} ORDER BY c._danau_change_seq) = c._danau_state THEN 0 ELSE 1 END AS _danau_opens
  FROM changes c
),
numbered AS (
  SELECT o.*, SUM(o._danau_opens) OVER (${byKey('o')} ORDER BY o._danau_change_seq ${UP_TO_HERE}) AS _danau_version_no
  FROM opens o
),
-- A version starts with its first change and holds the values of its last.
versions AS (
  SELECT n.*,
    MIN(n._danau_change_seq) OVER (${byVersion('n')}) AS _danau_opening_seq,
    MIN(n._danau_starts_at) OVER (${byVersion('n')}) AS _danau_version_from,
    ROW_NUMBER() OVER (${byVersion('n')} ORDER BY n._danau_change_seq DESC) AS _danau_newest_first
  FROM numbered n
),
timeline AS (
  SELECT v.*,
    LEAD(v._danau_version_from) OVER (${byKey('v')} ORDER BY v._danau_version_no) AS _danau_version_to,
    ROW_NUMBER() OVER (${byKey('v')} ORDER BY v._danau_version_no DESC) AS _danau_newest_version
  FROM versions v
  WHERE v._danau_newest_first = 1
),
kept AS (
  SELECT t.*, ROW_NUMBER() OVER (${byKey('t')} ORDER BY t._danau_version_no) AS _danau_kept_no
  FROM timeline t
  ${keepsDeletes ? '' : `-- 'close': a delete keeps no row; it only ended the version before it.\n  WHERE t._danau_op <> 'D'`}
),
existing AS (
  SELECT d.*
  FROM ${target} d
  JOIN affected a ON ${matches('d', 'a', key)}
),
-- A stored version's key goes to the rebuilt version that now holds its opening change.
existing_keys AS (
  SELECT ${list(key, 'n')}, n._danau_version_no, MIN(e.${sk}) AS _danau_sk
  FROM existing e
  JOIN numbered n ON ${matches('n', 'e', key)} AND n._danau_change_seq = e._danau_change_seq
  GROUP BY ${list(key, 'n')}, n._danau_version_no
),
-- What carries over from the stored rows: an inferred member's surrogate key, taken over by the first
-- real version, and the earliest valid_from: the first version never starts later than the key's
-- first row did (so a taken-over inferred member keeps its early start in every later rebuild).
stored AS (
  SELECT ${list(key, 'e')}, MIN(CASE WHEN e.is_inferred THEN e.${sk} END) AS _danau_inferred_sk, MIN(e.valid_from) AS _danau_first_from
  FROM existing e
  GROUP BY ${list(key, 'e')}
),
rebuilt AS (
  SELECT
    COALESCE(x._danau_sk, CASE WHEN k._danau_kept_no = 1 THEN s._danau_inferred_sk END, ${newVersionKey}) AS ${sk},
    ${list([...key, ...attrs], 'k')},
    CASE WHEN k._danau_kept_no = 1 AND s._danau_first_from < k._danau_version_from THEN s._danau_first_from ELSE k._danau_version_from END AS valid_from,
    k._danau_version_to AS valid_to,
    CASE WHEN k._danau_newest_version = 1${keepsDeletes ? '' : ` AND k._danau_op <> 'D'`} THEN TRUE ELSE FALSE END AS is_current,
    k.row_hash,
    CASE WHEN k._danau_op = 'D' THEN TRUE ELSE FALSE END AS is_deleted,
    FALSE AS is_inferred,
    k._danau_opening_seq AS _danau_change_seq
  FROM kept k
  LEFT JOIN existing_keys x ON ${matches('x', 'k', key)} AND x._danau_version_no = k._danau_version_no
  LEFT JOIN stored s ON ${matches('s', 'k', key)}
),
-- Stored versions of the rebuilt keys that no rebuilt version holds any more (a late change merged two,
-- an inferred member was taken over). Keys whose every change is a 'close'd delete are not rebuilt and
-- keep their rows (an inferred member, say).
gone AS (
  SELECT e.*
  FROM existing e
  JOIN (SELECT DISTINCT ${list(key, 'r')} FROM rebuilt r) k ON ${matches('e', 'k', key)}
  LEFT JOIN rebuilt r ON r.${sk} = e.${sk}
  WHERE r.${sk} IS NULL
)
-- What each version asks of the stored rows: nothing (equal to its stored row, which keeps its batch
-- id), an update of its stored row, an insert, or (a gone one) a delete. Decided here, from the
-- batch's keys, so that no statement below looks past the rows it writes.
SELECT r.*, ${batch} AS _danau_batch_id,
  CASE
    WHEN e.${sk} IS NULL THEN 'insert'
    WHEN ${compared.map((c) => same(`r.${c}`, `e.${c}`)).join('\n      AND ')} THEN 'keep'
    ELSE 'update'
  END AS _danau_write
FROM rebuilt r
LEFT JOIN existing e ON e.${sk} = r.${sk}
UNION ALL
SELECT ${versionColumnNames.map((c) => `g.${c}`).join(', ')}, 'delete'
FROM gone g`,

    `DELETE FROM ${target}
USING ${SCD2_VERSIONS} v
WHERE ${target}.${sk} = v.${sk} AND v._danau_write = 'delete'`,

    // Only the rows that changed are written. Closing a version changes no indexed column (valid_to,
    // is_current), which PostgreSQL updates in place without touching the indexes (a HOT update, with
    // the room the table's fill factor leaves), so a batch's cost barely grows with the table.
    `UPDATE ${target}
SET ${versionColumnNames.filter((c) => c !== sk).map((c) => `${c} = v.${c}`).join(', ')}
FROM ${SCD2_VERSIONS} v
WHERE ${target}.${sk} = v.${sk} AND v._danau_write = 'update'`,

    `INSERT INTO ${target} (${versionColumns})
SELECT ${versionColumns}
FROM ${SCD2_VERSIONS}
WHERE _danau_write = 'insert'`,

    `DROP TABLE ${SCD2_VERSIONS}`,
  ];
}

// --- facts ---------------------------------------------------------------------------------------

const FACT_CHANGES = 'danau_fact_changes';
const FACT_ROWS = 'danau_fact_rows';

/** SQL for a dimension's surrogate key of an inferred member, from its natural key columns in `alias`. */
function inferredKey(dim: DimensionSpec, alias: string): string {
  const parts = dim.naturalKey.map((d) => asText(`${alias}.${q(d.name)}`, d.type));
  // Type 1: the key's only row, so the real row updates it in place. Type 2: a NULL change_seq part, no real version's key.
  return md5Of(dim.kind === 'scd1' ? parts : [...parts, null]);
}

/** Adds an inferred member for each natural key the changed facts name and the dimension lacks. */
function insertInferredMembers(d: FactDimension, batch: string): string {
  const dim = d.dimension;
  const dimTable = qualified(dim.target);
  const key = names(dim.naturalKey);
  const factColumnOf = (dimColumn: string) => d.keys.find((k) => k.dimColumn === dimColumn)!.factColumn;
  const wanted = dim.naturalKey.map((c) => `CAST(c.${q(factColumnOf(c.name))} AS ${c.type}) AS ${q(c.name)}`);
  const notNull = key.map((k) => `c.${q(factColumnOf(k))} IS NOT NULL`).join(' AND ');
  const scd2 = dim.kind === 'scd2';
  return `INSERT INTO ${dimTable} (${list([dim.surrogateKey, ...key])}, ${scd2 ? 'valid_from, valid_to, is_current, ' : ''}is_inferred, _danau_batch_id)
SELECT ${inferredKey(dim, 'm')}, ${list(key, 'm')}, ${scd2 ? `CAST('${INFERRED_VALID_FROM}' AS TIMESTAMP), NULL, TRUE, ` : ''}TRUE, ${batch}
FROM (
  SELECT DISTINCT ${wanted.join(', ')}
  FROM ${FACT_CHANGES} c
  WHERE c._danau_op <> 'D' AND ${notNull}
) m
LEFT JOIN ${dimTable} d ON ${matches('d', 'm', key)}
WHERE d.${q(dim.surrogateKey)} IS NULL`;
}

/**
 * The order in which a fact picks among the rows of its dimension key (alias `dim`), first = chosen:
 * for type 2 the version valid at the event `t`; else the latest that began before it; else the earliest.
 */
function versionPick(dim: DimensionSpec, t: string): string {
  return dim.kind === 'scd2'
    ? `CASE WHEN dim.valid_from <= ${t} AND (dim.valid_to IS NULL OR ${t} < dim.valid_to) THEN 0 WHEN dim.valid_from <= ${t} THEN 1 ELSE 2 END,
        CASE WHEN dim.valid_from <= ${t} THEN dim.valid_from END DESC NULLS LAST, dim.valid_from, dim.${q(dim.surrogateKey)}`
    : `dim.${q(dim.surrogateKey)}`;
}

/** `LEFT JOIN (...) lk<i>`: the dimension key each changed fact points at. */
function lookupJoin(d: FactDimension, i: number, factKey: string[], eventTime: string): string {
  const dim = d.dimension;
  const on = d.keys.map((k) => {
    const type = dim.naturalKey.find((c) => c.name === k.dimColumn)!.type;
    return `dim.${q(k.dimColumn)} = CAST(c.${q(k.factColumn)} AS ${type})`;
  });
  const order = versionPick(dim, `c.${q(eventTime)}`);
  const lk = `lk${i}`;
  return `LEFT JOIN (
  SELECT ${list(factKey, 'c')}, dim.${q(dim.surrogateKey)} AS _danau_sk,
    ROW_NUMBER() OVER (PARTITION BY ${list(factKey, 'c')} ORDER BY ${order}) AS _danau_pick
  FROM ${FACT_CHANGES} c
  JOIN ${qualified(dim.target)} dim ON ${on.join(' AND ')}
) ${lk} ON ${matches(lk, 'c', factKey)} AND ${lk}._danau_pick = 1`;
}

export function buildFact(spec: FactSpec, batchId: string): string[] {
  checkSpec(spec);
  const batch = batchLiteral(batchId);
  const target = qualified(spec.target);
  const factKey = names(spec.factKey);
  const values = names(spec.columns);
  const dimKeys = spec.dimensions.map((d) => d.as);
  const rowColumns = `${list([...factKey, ...values, ...dimKeys])}, _danau_change_seq, _danau_batch_id, updated_at`;
  return [
    `CREATE TEMP TABLE ${FACT_CHANGES} AS
SELECT ${list([...factKey, ...values], 'c')}, c._danau_op, c._danau_change_seq, c._danau_commit_ts
${newestStagedChanges(spec.staging, [...spec.factKey, ...spec.columns], factKey, spec.target)}`,

    // Before the lookup, so that every non-NULL natural key finds a row.
    ...spec.dimensions.map((d) => insertInferredMembers(d, batch)),

    `CREATE TEMP TABLE ${FACT_ROWS} AS
SELECT ${list([...factKey, ...values], 'c')},
  ${spec.dimensions.map((d, i) => `lk${i}._danau_sk AS ${q(d.as)}, `).join('')}c._danau_change_seq, ${batch} AS _danau_batch_id, c._danau_commit_ts AS updated_at
FROM ${FACT_CHANGES} c
${spec.dimensions.map((d, i) => lookupJoin(d, i, factKey, spec.eventTimeColumn)).join('\n')}
WHERE c._danau_op <> 'D'`,

    // Upsert as delete + insert; a deleted fact is only deleted.
    `DELETE FROM ${target}
USING ${FACT_CHANGES} c
WHERE ${matches(target, 'c', factKey)}`,

    `INSERT INTO ${target} (${rowColumns})
SELECT ${rowColumns}
FROM ${FACT_ROWS}`,

    `DROP TABLE ${FACT_ROWS}`,
    `DROP TABLE ${FACT_CHANGES}`,
  ];
}

/**
 * After a type-2 dimension's build: the facts of the keys the build rebuilt, pointed again at the
 * version valid at their event time. A late change that splits an interval, or the versions that
 * complete an inferred member, change which version that is; the facts follow in the same
 * transaction. Only facts of the batch's keys are read (the dimension build's staging table), and
 * only those whose version changed are written.
 */
export function repointFacts(dim: Scd2Spec, fact: FactSpec): string[] {
  checkSpec(dim);
  checkSpec(fact);
  const target = qualified(fact.target);
  const factKey = names(fact.factKey);
  const sameTable = (t: TableRef) => t.schema === dim.target.schema && t.table === dim.target.table;
  return fact.dimensions
    .filter((d) => sameTable(d.dimension.target))
    .map((d) => {
      const typeOf = (dimColumn: string) => dim.naturalKey.find((c) => c.name === dimColumn)!.type;
      const factColumn = (k: { factColumn: string; dimColumn: string }) => `CAST(f.${q(k.factColumn)} AS ${typeOf(k.dimColumn)})`;
      return `UPDATE ${target} SET ${q(d.as)} = p._danau_sk
FROM (
  SELECT ${list(factKey, 'f')}, dim.${q(dim.surrogateKey)} AS _danau_sk,
    ROW_NUMBER() OVER (PARTITION BY ${list(factKey, 'f')} ORDER BY ${versionPick(dim, `f.${q(fact.eventTimeColumn)}`)}) AS _danau_pick
  FROM ${target} f
  JOIN ${stagedKeys(dim.staging, dim.naturalKey, 'b')} ON ${d.keys.map((k) => `${factColumn(k)} = b.${q(k.dimColumn)}`).join(' AND ')}
  JOIN ${qualified(dim.target)} dim ON ${d.keys.map((k) => `dim.${q(k.dimColumn)} = ${factColumn(k)}`).join(' AND ')}
) p
WHERE ${matches(target, 'p', factKey)} AND p._danau_pick = 1 AND NOT ${same(`${target}.${q(d.as)}`, 'p._danau_sk')}`;
    });
}

// --- DDL -----------------------------------------------------------------------------------------

const columnLines = (defs: ColumnDef[], notNull = false): string[] => defs.map((d) => `${q(d.name)} ${checkType(d)}${notNull ? ' NOT NULL' : ''}`);

export type WarehouseDialect = 'postgres' | 'redshift';

/**
 * How a table is laid out for the builds' access paths, which all go by natural key (a batch's keys
 * joined to the dimension, its change log and the facts that name them) and, for facts, by event time.
 * Redshift: the rows of one key on one slice (DISTKEY), blocks sorted so a batch's keys and a date
 * range skip the rest (SORTKEY). PostgreSQL: an index for the same lookups.
 */
interface TableLayout {
  distKey: string;
  sortKey: string[];
  /** PostgreSQL: secondary indexes (the primary key has its own). */
  indexes: string[][];
  /**
   * PostgreSQL: the share of each page filled on insert. A dimension's rows are updated in place
   * (a version closed, a type-1 row overwritten); the room left lets PostgreSQL keep the new row on
   * its page without touching the indexes (a HOT update).
   */
  fillFactor?: number;
}

/** Dimensions leave a tenth of each page for their updates (TableLayout.fillFactor). */
const DIMENSION_FILL_FACTOR = 90;

/** `CREATE TABLE IF NOT EXISTS` with its layout: Redshift's DISTKEY and SORTKEY, or PostgreSQL's indexes. */
function createTable(t: TableRef, lines: string[], layout: TableLayout, dialect: WarehouseDialect): string[] {
  const create = `CREATE TABLE IF NOT EXISTS ${qualified(t)} (\n  ${lines.join(',\n  ')}\n)`;
  if (dialect === 'redshift') return [`${create}\nDISTSTYLE KEY DISTKEY (${q(layout.distKey)}) COMPOUND SORTKEY (${list(layout.sortKey)})`];
  const storage = layout.fillFactor ? `\nWITH (fillfactor = ${layout.fillFactor})` : '';
  const indexName = (cols: string[]) => createHash('md5').update(`${t.schema}.${t.table}(${cols.join(',')})`).digest('hex').slice(0, 12);
  return [`${create}${storage}`, ...layout.indexes.map((cols) => `CREATE INDEX IF NOT EXISTS ${q(`${t.table.slice(0, 40)}_${indexName(cols)}_idx`)} ON ${qualified(t)} (${list(cols)})`)];
}

/**
 * `CREATE TABLE IF NOT EXISTS` for the model's tables: the target, and for type 2 its change log
 * first, each laid out for the builds' lookups (TableLayout). Primary keys are enforced by
 * PostgreSQL, informational on Redshift (hence the checks below).
 */
export function createTargetTable(spec: ModelSpec, dialect: WarehouseDialect = 'postgres'): string[] {
  checkSpec(spec);
  switch (spec.kind) {
    case 'scd1': {
      const key = names(spec.naturalKey);
      return createTable(
        spec.target,
        [
          `${q(spec.surrogateKey)} ${KEY_TYPE} NOT NULL`,
          ...columnLines(spec.naturalKey, true),
          ...columnLines(spec.columns),
          ...(spec.deletePolicy === 'soft' ? ['is_deleted BOOLEAN NOT NULL DEFAULT FALSE'] : []),
          'is_inferred BOOLEAN NOT NULL DEFAULT FALSE',
          `_danau_change_seq ${SEQ_TYPE}`,
          `_danau_batch_id ${BATCH_TYPE} NOT NULL`,
          'updated_at TIMESTAMP',
          `PRIMARY KEY (${q(spec.surrogateKey)})`,
        ],
        { distKey: key[0]!, sortKey: key, indexes: [key], fillFactor: DIMENSION_FILL_FACTOR },
        dialect,
      );
    }
    case 'scd2': {
      const attrs = [...spec.trackedColumns, ...spec.otherColumns];
      const key = names(spec.naturalKey);
      return [
        ...createTable(
          changeLogOf(spec),
          [
          ...columnLines(spec.naturalKey, true),
          ...columnLines(attrs),
          '_danau_op CHAR(1) NOT NULL',
          `_danau_change_seq ${SEQ_TYPE} NOT NULL`,
          '_danau_commit_ts TIMESTAMP NOT NULL',
          `row_hash ${KEY_TYPE} NOT NULL`,
          `_danau_batch_id ${BATCH_TYPE} NOT NULL`,
          `PRIMARY KEY (${list([...names(spec.naturalKey), '_danau_change_seq'])})`,
          ],
          // The primary key (key, change_seq) is PostgreSQL's index already.
          { distKey: key[0]!, sortKey: [...key, '_danau_change_seq'], indexes: [] },
          dialect,
        ),
        ...createTable(
          spec.target,
          [
          `${q(spec.surrogateKey)} ${KEY_TYPE} NOT NULL`,
          ...columnLines(spec.naturalKey, true),
          ...columnLines(attrs),
          'valid_from TIMESTAMP NOT NULL',
          'valid_to TIMESTAMP',
          'is_current BOOLEAN NOT NULL',
          `row_hash ${KEY_TYPE}`,
          'is_deleted BOOLEAN NOT NULL DEFAULT FALSE',
          'is_inferred BOOLEAN NOT NULL DEFAULT FALSE',
          `_danau_change_seq ${SEQ_TYPE}`,
          `_danau_batch_id ${BATCH_TYPE} NOT NULL`,
          `PRIMARY KEY (${q(spec.surrogateKey)})`,
          ],
          { distKey: key[0]!, sortKey: [...key, 'valid_from'], indexes: [[...key, 'valid_from']], fillFactor: DIMENSION_FILL_FACTOR },
          dialect,
        ),
      ];
    }
    case 'fact': {
      // Facts sit on the slice of their first dimension's key, beside that dimension's rows (the
      // lookup and the re-pointing join them on it), sorted by event time for date-range reports.
      const lookups = spec.dimensions.map((d) => d.keys.map((k) => k.factColumn));
      return [
        // The dimensions' tables too: a fact writes inferred members into them, and on a first run its
        // table's pipeline can reach its models before the dimension's has (tables run in parallel).
        // The dimension's own build completes those members later.
        ...spec.dimensions.flatMap((d) => createTargetTable(d.dimension, dialect)),
        ...createTable(
          spec.target,
          [
          ...columnLines(spec.factKey, true),
          ...columnLines(spec.columns),
          ...spec.dimensions.map((d) => `${q(d.as)} ${KEY_TYPE}`),
          `_danau_change_seq ${SEQ_TYPE} NOT NULL`,
          `_danau_batch_id ${BATCH_TYPE} NOT NULL`,
          'updated_at TIMESTAMP',
          `PRIMARY KEY (${list(names(spec.factKey))})`,
          ],
          { distKey: lookups[0]?.[0] ?? spec.factKey[0]!.name, sortKey: [spec.eventTimeColumn], indexes: lookups },
          dialect,
        ),
      ];
    }
  }
}

// --- invariant checks ----------------------------------------------------------------------------

export type InvariantCheckKind = 'one_row_per_key' | 'one_current_version' | 'no_overlapping_versions' | 'scd2_versions' | 'fact_keys_resolve';

export interface InvariantCheck {
  kind: InvariantCheckKind;
  /** e.g. `one_current_version dw.dim_patient`, `fact_keys_resolve dw.fact_visit.patient_key`. */
  name: string;
  description: string;
  /** Returns one row per offence (the natural or fact key); no rows when the invariant holds. */
  sql: string;
  /**
   * When one query checks several invariants (one read of the rows instead of one per invariant):
   * the column of its rows that names the invariant each offending key breaks, e.g.
   * `one_current_version dw.dim_patient`.
   */
  failedCheckColumn?: string;
}

/** The column of a combined check's rows that names the invariant broken (InvariantCheck.failedCheckColumn). */
export const FAILED_CHECK_COLUMN = '_danau_failed_check';

export function describeInvariantCheck(kind: InvariantCheckKind): string {
  switch (kind) {
    case 'one_row_per_key':
      return 'A type-1 dimension has one row per natural key. Returns each natural key with more than one row (row_count).';
    case 'one_current_version':
      return 'A type-2 dimension has at most one current version per natural key. Returns each natural key with more (current_rows).';
    case 'no_overlapping_versions':
      return "A type-2 dimension's versions of one natural key do not overlap in time ([valid_from, valid_to), NULL valid_to open). Returns each natural key with an overlap.";
    case 'scd2_versions':
      return `one_current_version and no_overlapping_versions in one read of the rows. Returns each natural key that breaks either, naming which in ${FAILED_CHECK_COLUMN}.`;
    case 'fact_keys_resolve':
      return 'Every fact whose natural key for a dimension is set holds a surrogate key that exists in that dimension. Returns the fact key and the key it holds.';
  }
}

/**
 * Where the checks look. `batch`: only the keys the build's staging table holds (the keys the build
 * rewrote), run in the build's transaction, so a check costs what the batch costs, not what the
 * table holds. `full`: every row (`danau models check --full`, the nightly schedule).
 */
export type InvariantCheckScope = 'batch' | 'full';

/** The distinct keys of a staging table, in their model types: `(SELECT DISTINCT …) AS <alias>`. */
function stagedKeys(staging: TableRef, keyDefs: ColumnDef[], alias: string): string {
  return `(SELECT DISTINCT ${keyDefs.map((d) => `CAST(s.${q(d.name)} AS ${d.type}) AS ${q(d.name)}`).join(', ')} FROM ${qualified(staging)} s) ${alias}`;
}

export function buildInvariantChecks(spec: ModelSpec, scope: InvariantCheckScope): InvariantCheck[] {
  checkSpec(spec);
  const label = `${spec.target.schema}.${spec.target.table}`;
  const check = (kind: InvariantCheckKind, sql: string, subject = label): InvariantCheck => ({ kind, name: `${kind} ${subject}`, description: describeInvariantCheck(kind), sql });
  // The target as `alias`, joined to the batch's keys when the scope is the batch.
  const rowsOf = (keyDefs: ColumnDef[], alias = 't') =>
    scope === 'full' ? `${qualified(spec.target)} ${alias}` : `${qualified(spec.target)} ${alias}\n  JOIN ${stagedKeys(spec.staging, keyDefs, 'b')} ON ${matches(alias, 'b', names(keyDefs))}`;
  switch (spec.kind) {
    case 'scd1': {
      const key = list(names(spec.naturalKey), 't');
      return [check('one_row_per_key', `SELECT ${key}, COUNT(*) AS row_count FROM ${rowsOf(spec.naturalKey)} GROUP BY ${key} HAVING COUNT(*) > 1 ORDER BY ${key}`)];
    }
    case 'scd2': {
      const key = list(names(spec.naturalKey));
      const tKey = list(names(spec.naturalKey), 't');
      // Sorted by start (an empty interval before a longer one with the same start), two versions
      // overlap iff some version starts before the one just before it ends.
      const byStart = `OVER (PARTITION BY ${tKey} ORDER BY t.valid_from, t.valid_to NULLS LAST)`;
      if (scope === 'batch') {
        // In a build both invariants are checked in one read of the batch's keys' versions: the
        // lookups of the keys are most of a check's cost.
        const named = (kind: InvariantCheckKind) => `'${`${kind} ${label}`.replace(/'/g, "''")}'`;
        return [
          {
            ...check(
              'scd2_versions',
              `SELECT ${key}, CASE WHEN current_rows > 1 THEN ${named('one_current_version')} ELSE ${named('no_overlapping_versions')} END AS ${FAILED_CHECK_COLUMN}
FROM (
  SELECT ${key},
    SUM(CASE WHEN is_current THEN 1 ELSE 0 END) AS current_rows,
    SUM(CASE WHEN n > 1 AND (previous_to IS NULL OR previous_to > valid_from) THEN 1 ELSE 0 END) AS overlap_rows
  FROM (
    SELECT ${tKey}, t.is_current, t.valid_from, LAG(t.valid_to) ${byStart} AS previous_to, ROW_NUMBER() ${byStart} AS n
    FROM ${rowsOf(spec.naturalKey)}
  ) v
  GROUP BY ${key}
) k
WHERE current_rows > 1 OR overlap_rows > 0
ORDER BY ${key}`,
            ),
            failedCheckColumn: FAILED_CHECK_COLUMN,
          },
        ];
      }
      return [
        check('one_current_version', `SELECT ${tKey}, COUNT(*) AS current_rows FROM ${rowsOf(spec.naturalKey)} WHERE t.is_current GROUP BY ${tKey} HAVING COUNT(*) > 1 ORDER BY ${tKey}`),
        check(
          'no_overlapping_versions',
          `SELECT DISTINCT ${key}
FROM (
  SELECT ${tKey}, t.valid_from, LAG(t.valid_to) ${byStart} AS previous_to, ROW_NUMBER() ${byStart} AS n
  FROM ${rowsOf(spec.naturalKey)}
) v
WHERE n > 1 AND (previous_to IS NULL OR previous_to > valid_from)
ORDER BY ${key}`,
        ),
      ];
    }
    case 'fact': {
      const factKey = names(spec.factKey);
      return spec.dimensions.map((d) => {
        const held = `f.${q(d.as)}`;
        const named = d.keys.map((k) => `f.${q(k.factColumn)} IS NOT NULL`).join(' AND ');
        return check(
          'fact_keys_resolve',
          `SELECT ${list(factKey, 'f')}, ${held}
FROM ${rowsOf(spec.factKey, 'f')}
LEFT JOIN ${qualified(d.dimension.target)} d ON d.${q(d.dimension.surrogateKey)} = ${held}
WHERE d.${q(d.dimension.surrogateKey)} IS NULL AND (${held} IS NOT NULL OR (${named}))
ORDER BY ${list(factKey, 'f')}`,
          `${label}.${d.as}`,
        );
      });
    }
  }
}
