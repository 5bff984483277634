// A table definition is what a data engineer writes to onboard a table (flags, or a YAML/JSON file of
// one or many). Parsing and the check against the live source are pure, so they are unit-tested and
// the same rules apply from the CLI, a file, or a `temporal workflow start`.
import { z } from 'zod';
import { HUDI_INDEX_TYPES } from '../lake/job-contract';
import { isValidIdentifier } from '../sql/identifiers';
import type { SourceEngine, SourceTableDescription } from '../sources/types';
import { assignLakeNames, unusableSourceName } from './lake-names';
import { mysqlLakeType, postgresLakeType } from './lake-types';

const identifier = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
  .refine(isValidIdentifier, { message: 'must be a SQL identifier (letters, digits, _; at most 63 characters)' });

// A column as the source spells it (spaces, mixed case, a backtick: issue 12): any non-empty name.
const columnName = z.string({ error: 'is required' }).min(1, 'must name a column').max(255, 'is longer than any source allows');

// Five-field cron: minute hour day-of-month month day-of-week.
const cron = z.string().regex(/^\s*(\S+\s+){4}\S+\s*$/, 'must be a five-field cron expression such as */5 * * * *');

export const tableDefinitionSchema = z.strictObject({
  source: identifier,
  schema: identifier,
  table: identifier,
  /** Defaults to the source table's primary key; if given, it must equal it. */
  primaryKey: z.array(columnName).min(1, 'must name at least one column').optional(),
  /** Source column names, as the source spells them (each column's lake name is derived at onboarding). */
  precombineField: columnName,
  partitionField: columnName,
  hudiTableType: z.enum(['COPY_ON_WRITE', 'MERGE_ON_READ'], { error: 'must be COPY_ON_WRITE or MERGE_ON_READ' }).default('COPY_ON_WRITE'),
  cleanerCommitsRetained: z.number().int().positive().default(15),
  /**
   * BLOOM (non-global: a key is looked up in its own day only), GLOBAL_BLOOM (a key may move between partitions), or
   * RECORD_INDEX (Hudi's record-level index in the metadata table: global, and each batch's ordering
   * guard reads only the file groups of the batch's keys; for large tables).
   */
  hudiIndexType: z.enum(HUDI_INDEX_TYPES, { error: `must be one of ${HUDI_INDEX_TYPES.join(', ')}` }).default('BLOOM'),
  /** MERGE_ON_READ only: compact after this many delta commits. */
  compactionDeltaCommits: z.number().int().positive().default(5),
  archiveLevel: z.enum(['day', 'month'], { error: 'must be day or month' }).default('day'),
  archiveAfterDays: z.number().int().positive().default(30),
  freshnessSlaMinutes: z.number().int().positive().default(15),
  schedule: cron.default('*/5 * * * *'),
  enabled: z.boolean().default(true),
});

export type TableDefinitionInput = z.input<typeof tableDefinitionSchema>;
export type TableDefinition = z.output<typeof tableDefinitionSchema>;

const secretReference = z
  .string()
  .regex(/^[A-Za-z0-9/_+=.@:-]{1,2048}$/, 'must name an environment variable (DANAU_SOURCE_CLINIC_URL) or a Secrets Manager secret (danau/sources/clinic, or its ARN)');

export const sourceDefinitionSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lower-case letters, digits and _'),
    engine: z.enum(['mysql', 'postgres'], { error: 'must be mysql or postgres' }),
    database: identifier,
    /** What holds the connection string, resolved by the worker's secret provider (DANAU_SECRETS). */
    connectionSecret: secretReference.optional(),
    /** The name this field had before secrets could live in Secrets Manager; still read from files. */
    connectionEnv: secretReference.optional(),
    description: z.string().default(''),
  })
  .superRefine(({ connectionSecret, connectionEnv }, ctx) => {
    if (!connectionSecret === !connectionEnv) {
      ctx.addIssue({ code: 'custom', path: ['connectionSecret'], message: connectionSecret ? 'give connectionSecret or connectionEnv, not both' : 'is required' });
    }
  })
  .transform(({ connectionEnv, connectionSecret, ...rest }) => ({ ...rest, connectionSecret: (connectionSecret ?? connectionEnv)! }));
export type SourceDefinition = z.output<typeof sourceDefinitionSchema>;

/** A definition that failed validation, with one message per problem, each naming the table and field. */
export class TableDefinitionError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'TableDefinitionError';
  }
}

export function tableRef(d: { source?: unknown; schema?: unknown; table?: unknown }): string {
  const part = (v: unknown) => (typeof v === 'string' && v ? v : '?');
  return `${part(d.source)}.${part(d.schema)}.${part(d.table)}`;
}

function describeIssues(where: string, issues: z.core.$ZodIssue[]): string[] {
  return issues.map((i) => {
    const field = i.path.length ? i.path.join('.') : '(definition)';
    const message = i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')}` : i.message;
    return `${where}: ${field}: ${message}`;
  });
}

export function parseTableDefinition(input: unknown): TableDefinition {
  const result = tableDefinitionSchema.safeParse(input);
  if (result.success) return result.data;
  const where = typeof input === 'object' && input !== null ? `table ${tableRef(input)}` : 'table definition';
  throw new TableDefinitionError(describeIssues(where, result.error.issues));
}

export interface OnboardingFile {
  sources: SourceDefinition[];
  tables: TableDefinition[];
}

/**
 * Reads an onboarding document: `{ sources?: [...], tables: [...] }`, a list of tables, or one table.
 * Every table is checked and every problem reported at once, so a file is fixed in one pass.
 */
export function parseOnboardingDocument(doc: unknown, origin: string): OnboardingFile {
  let rawSources: unknown[] = [];
  let rawTables: unknown[];
  if (Array.isArray(doc)) rawTables = doc;
  else if (doc && typeof doc === 'object' && ('tables' in doc || 'sources' in doc)) {
    const d = doc as { tables?: unknown; sources?: unknown };
    rawTables = Array.isArray(d.tables) ? d.tables : d.tables === undefined ? [] : [d.tables];
    rawSources = Array.isArray(d.sources) ? d.sources : d.sources === undefined ? [] : [d.sources];
  } else if (doc && typeof doc === 'object') rawTables = [doc];
  else throw new TableDefinitionError([`${origin}: expected a table, a list of tables, or {sources, tables}`]);

  const problems: string[] = [];
  const sources: SourceDefinition[] = [];
  rawSources.forEach((s, i) => {
    const r = sourceDefinitionSchema.safeParse(s);
    if (r.success) sources.push(r.data);
    else problems.push(...describeIssues(`${origin}: sources[${i}]`, r.error.issues));
  });
  const tables: TableDefinition[] = [];
  const seen = new Set<string>();
  rawTables.forEach((t, i) => {
    try {
      const def = parseTableDefinition(t);
      const ref = tableRef(def);
      if (seen.has(ref)) problems.push(`${origin}: tables[${i}]: table ${ref} is defined twice`);
      seen.add(ref);
      tables.push(def);
    } catch (err) {
      const at = rawTables.length > 1 || origin !== 'flags' ? `${origin}: tables[${i}]: ` : '';
      if (err instanceof TableDefinitionError) problems.push(...err.problems.map((p) => `${at}${p}`));
      else throw err;
    }
  });
  if (problems.length) throw new TableDefinitionError(problems);
  if (tables.length === 0 && sources.length === 0) throw new TableDefinitionError([`${origin}: defines no tables`]);
  return { sources, tables };
}

export interface LakeColumn {
  /** The name at the source, and in the raw files (as DMS writes them). */
  name: string;
  /** The name in the lake (Hudi, Glue) and the warehouse; see lib/tables/lake-names.ts. */
  lakeName: string;
  sourceType: string;
  lakeType: string;
  nullable: boolean;
}

export interface SourceCheck {
  /** Empty when the definition fits the source. */
  problems: string[];
  /** Things that do not stop onboarding but that a person should fix at the source. */
  warnings: string[];
  primaryKey: string[];
  columns: LakeColumn[];
}

/**
 * Checks a definition against the live table: primary key, column types and lake names, precombine and
 * partition fields. Each problem is `field: what is wrong`; the caller names the table once.
 * `recorded`: the columns recorded when the table was onboarded before, whose lake names are kept.
 */
export function checkAgainstSource(def: TableDefinition, engine: SourceEngine, found: SourceTableDescription, recorded: readonly LakeColumn[] = []): SourceCheck {
  const problems: string[] = [];
  const names = new Set(found.columns.map((c) => c.name));

  if (found.primaryKey.length === 0) {
    problems.push(`primaryKey: the source table has no primary key (Hudi needs a record key)`);
  } else if (def.primaryKey && def.primaryKey.join(',') !== found.primaryKey.join(',')) {
    problems.push(
      `primaryKey: declared (${def.primaryKey.join(', ')}) but the source's is (${found.primaryKey.join(', ')})`,
    );
  }
  for (const field of ['precombineField', 'partitionField'] as const) {
    if (!names.has(def[field])) problems.push(`${field}: column ${def[field]} does not exist in the source table`);
  }

  const naming = assignLakeNames(
    found.columns.map((c) => c.name),
    new Map(recorded.map((c) => [c.name, c.lakeName])),
  );
  problems.push(...naming.problems);
  const columns: LakeColumn[] = [];
  for (const c of found.columns) {
    const mapped = engine === 'mysql' ? mysqlLakeType(c) : postgresLakeType(c);
    const unusable = unusableSourceName(c.name);
    if (unusable) problems.push(`column ${JSON.stringify(c.name)}: ${unusable}`);
    else if ('unsupported' in mapped) problems.push(`column ${c.name}: ${mapped.unsupported}`);
    else columns.push({ name: c.name, lakeName: naming.lakeNames.get(c.name)!, sourceType: c.columnType, lakeType: mapped.lakeType, nullable: c.nullable });
  }

  const byName = new Map(columns.map((c) => [c.name, c]));
  const partition = byName.get(def.partitionField);
  if (partition && !['date', 'timestamp'].includes(partition.lakeType)) {
    problems.push(`partitionField: column ${def.partitionField} is ${partition.sourceType}; daily partitions need a date or timestamp`);
  }
  const precombine = byName.get(def.precombineField);
  if (precombine && !/^(int|bigint|timestamp|date|decimal)/.test(precombine.lakeType)) {
    problems.push(`precombineField: column ${def.precombineField} is ${precombine.sourceType}; it must be orderable (a number or timestamp)`);
  }
  const warnings: string[] = [];
  if (found.unloggedLargeColumns?.length) {
    warnings.push(
      `replica identity is DEFAULT and ${found.unloggedLargeColumns.join(', ')} can be stored out of line (TOAST): an update that leaves such a value unchanged does not send it, and capture stops; run ALTER TABLE ${found.schema}.${found.table} REPLICA IDENTITY FULL at the source`,
    );
  }
  return { problems, warnings, primaryKey: found.primaryKey, columns };
}
