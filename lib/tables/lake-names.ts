// Lake names: what a source column is called in the lake (Hudi/Avro, Glue) and the warehouse.
// Raw files keep the source's own names, as DMS writes them; the lake job renames each column to its
// lake name when it reads them, and everything downstream (Hudi keys, models, warehouse SQL) uses the
// lake name only. A source may name a column `Dispensed By` or `Order` (issue 12); Avro field names
// are [A-Za-z_][A-Za-z0-9_]*, Glue lower-cases every name, and PostgreSQL truncates at 63 bytes, so:
//   - a name that already is lower-case letters, digits and _ (starting with a letter or _) and at
//     most LAKE_NAME_MAX long keeps it (so every table onboarded before lake names keeps its lake);
//   - otherwise: lower-cased, accents dropped, each run of other characters becomes one _, a leading
//     digit gets a _ before it, and a name still too long is cut and given an 8-hex hash of the
//     source name, so two long names that share a prefix stay apart;
//   - SQL reserved words (`order`, `group`) stay as they are: every SQL Danau writes quotes them,
//     and SQL a person writes against the lake or warehouse must quote them too;
//   - a lake name Danau's own columns use (the partition `dt`, `_danau_…`, `_hoodie_…`) gets `_src`.
// Two columns whose lake names collide (names that differ only in case, or `a b` beside `a_b`) are
// refused at onboarding, naming both: Glue, Athena, Spark and the warehouse would not tell them apart.
// Pure (no Node modules): the check runs in activities and its result travels through workflows.

/** PostgreSQL's identifier limit (Glue allows 255, Redshift 127): the smallest of the places a lake name goes. */
export const LAKE_NAME_MAX = 63;

const LAKE_NAME = /^[a-z_][a-z0-9_]*$/;

// The DMS header columns of every raw file: a source column of the same name (in any case: Spark
// reads Parquet case-insensitively) could not be told apart from them in the raw file itself.
const RAW_HEADER_NAMES = new Set(['op', 'dms_commit_ts', 'dms_change_seq']);

// Names the lake job adds to every Hudi table or uses while it works (scripts/spark/lake_job.py).
const PLATFORM_NAMES = new Set(['dt']);
const PLATFORM_PREFIXES = ['_danau_', '_hoodie_', '_old_', '_cl_'];

/** FNV-1a, 32 bits, as 8 hex digits: short, stable across runtimes, no dependency. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

function isPlatformName(name: string): boolean {
  return PLATFORM_NAMES.has(name) || PLATFORM_PREFIXES.some((p) => name.startsWith(p));
}

/** The lake name of a source column name: deterministic, and the same on every run. */
export function lakeColumnName(sourceName: string): string {
  let name = sourceName;
  if (!LAKE_NAME.test(name) || name.length > LAKE_NAME_MAX) {
    const words = name
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .split(/[^a-z0-9_]+/)
      .filter(Boolean);
    name = words.join('_');
    if (name === '' || /^_+$/.test(name)) name = `c_${shortHash(sourceName)}`;
    else if (/^[0-9]/.test(name)) name = `_${name}`;
  }
  if (isPlatformName(name)) name = `${name}_src`;
  if (name.length > LAKE_NAME_MAX) name = `${name.slice(0, LAKE_NAME_MAX - 9).replace(/_+$/, '')}_${shortHash(sourceName)}`;
  return name;
}

/** Why a source column cannot be captured at all, or null. */
export function unusableSourceName(sourceName: string): string | null {
  if (sourceName.includes('\u0000')) return 'the name holds a NUL character';
  if (RAW_HEADER_NAMES.has(sourceName.toLowerCase())) return `the raw files' DMS header already has a column ${sourceName.toLowerCase() === 'op' ? 'Op' : sourceName.toLowerCase()}; rename the column at the source`;
  return null;
}

/**
 * Lake names for a table's columns, keeping any already recorded (a lake name, once in a Hudi table,
 * never changes by re-onboarding), and the problems that stop onboarding: two columns on one lake name.
 */
export function assignLakeNames(sourceNames: string[], recorded: ReadonlyMap<string, string> = new Map()): { lakeNames: Map<string, string>; problems: string[] } {
  const lakeNames = new Map(sourceNames.map((n) => [n, recorded.get(n) ?? lakeColumnName(n)]));
  const bySimilar = new Map<string, string[]>();
  for (const [source, lake] of lakeNames) {
    // Glue and Athena lower-case names; Spark compares them without case: fold before comparing.
    const folded = lake.toLowerCase();
    bySimilar.set(folded, [...(bySimilar.get(folded) ?? []), source]);
  }
  const problems: string[] = [];
  for (const [lake, sources] of bySimilar) {
    if (sources.length < 2) continue;
    problems.push(
      `columns ${sources.map((s) => JSON.stringify(s)).join(' and ')} would share the lake name ${lake} (the lake, Glue and the warehouse do not tell names apart by case or punctuation); rename one at the source`,
    );
  }
  return { lakeNames, problems };
}

/** A column's lake name, by its source name; unknown columns are a bug in the caller, so they throw. */
export function lakeNameOf(columns: readonly { name: string; lakeName: string }[], sourceName: string): string {
  const c = columns.find((col) => col.name === sourceName);
  if (!c) throw new Error(`column ${sourceName} is not among the table's recorded columns`);
  return c.lakeName;
}
