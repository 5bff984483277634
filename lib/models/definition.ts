// A warehouse model is configuration: a file in the repository (config/models/*.yaml) loaded into
// the control plane by `danau models add`. Parsing is pure and reports every problem at once, each
// naming the model and the field, like table definitions do.
import { z } from 'zod';
import { isValidIdentifier } from '../sql/identifiers';

const identifier = z.string({ error: 'is required' }).refine(isValidIdentifier, { message: 'must be a SQL identifier' });
const modelName = z.string({ error: 'is required' }).regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lower-case letters, digits and _');
const tableRef = z.string({ error: 'is required' }).regex(/^[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/, 'must be source.schema.table of an onboarded table');

const base = {
  name: modelName,
  /** The onboarded table the model pulls from. */
  source: tableRef,
  /** Attribute columns copied from the source table. */
  columns: z.array(identifier).default([]),
  enabled: z.boolean().default(true),
};

export const scd1Schema = z.strictObject({
  ...base,
  kind: z.literal('scd1_dimension'),
  naturalKey: z.array(identifier).min(1, 'must name at least one column'),
  surrogateKey: identifier,
  /** delete: the row goes; soft: it stays with is_deleted = true. */
  deletePolicy: z.enum(['delete', 'soft']).default('soft'),
});

export const scd2Schema = z.strictObject({
  ...base,
  kind: z.literal('scd2_dimension'),
  naturalKey: z.array(identifier).min(1, 'must name at least one column'),
  surrogateKey: identifier,
  /** A change in any of these opens a new version. */
  trackedColumns: z.array(identifier).min(1, 'must name at least one column'),
  /** close: a delete closes the current version; deleted_version: and adds one marked deleted. */
  deletePolicy: z.enum(['close', 'deleted_version']).default('close'),
});

export const factSchema = z.strictObject({
  ...base,
  kind: z.literal('fact'),
  factKey: z.array(identifier).min(1, 'must name at least one column'),
  /** The dimension version valid at this time is the one a fact points at. */
  eventTime: identifier,
  dimensions: z
    .array(
      z.strictObject({
        /** A dimension model. */
        model: modelName,
        /** fact column -> dimension natural-key column. */
        on: z.record(identifier, identifier),
        /** The fact column that holds the dimension's surrogate key. */
        as: identifier,
      }),
    )
    .default([]),
});

export const reportingSchema = z.strictObject({
  name: modelName,
  kind: z.enum(['table', 'materialized_view']),
  /** The SELECT that defines it, over warehouse tables (models and other reporting objects). */
  sql: z.string().min(1, 'is required'),
  dependsOn: z.array(modelName).default([]),
  enabled: z.boolean().default(true),
});

export const modelSchema = z.discriminatedUnion('kind', [scd1Schema, scd2Schema, factSchema], { error: 'kind: must be scd1_dimension, scd2_dimension or fact' });

export type Scd1Model = z.output<typeof scd1Schema>;
export type Scd2Model = z.output<typeof scd2Schema>;
export type FactModel = z.output<typeof factSchema>;
export type ModelDefinition = z.output<typeof modelSchema>;
export type ReportingDefinition = z.output<typeof reportingSchema>;

export interface ModelsFile {
  models: ModelDefinition[];
  reporting: ReportingDefinition[];
}

export class ModelDefinitionError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'ModelDefinitionError';
  }
}

const fileSchema = z.strictObject({ models: z.array(z.unknown()).default([]), reporting: z.array(z.unknown()).default([]) });

/** The models a model depends on: the dimensions of a fact. */
export function modelDependencies(m: ModelDefinition): string[] {
  return m.kind === 'fact' ? m.dimensions.map((d) => d.model) : [];
}

/** The source-table columns a model reads: keys, tracked and other columns, event time, lookup keys. */
export function modelSourceColumns(m: ModelDefinition): string[] {
  const cols =
    m.kind === 'fact'
      ? [...m.factKey, m.eventTime, ...m.columns, ...m.dimensions.flatMap((d) => Object.keys(d.on))]
      : m.kind === 'scd2_dimension'
        ? [...m.naturalKey, ...m.trackedColumns, ...m.columns]
        : [...m.naturalKey, ...m.columns];
  return [...new Set(cols)];
}

/** Parses a models file, checking references between models; throws every problem at once. */
export function parseModelsFile(doc: unknown): ModelsFile {
  const top = fileSchema.safeParse(doc);
  if (!top.success) throw new ModelDefinitionError(top.error.issues.map((i) => `models file: ${i.path.join('.') || '(file)'}: ${i.message}`));
  const problems: string[] = [];
  const where = (kind: string, raw: unknown, i: number) => {
    const name = typeof raw === 'object' && raw !== null && typeof (raw as { name?: unknown }).name === 'string' ? (raw as { name: string }).name : `#${i + 1}`;
    return `${kind} ${name}`;
  };
  const models: ModelDefinition[] = [];
  top.data.models.forEach((raw, i) => {
    const r = modelSchema.safeParse(raw);
    if (r.success) models.push(r.data);
    else problems.push(...r.error.issues.map((x) => `${where('model', raw, i)}: ${x.path.join('.') || 'kind'}: ${x.message}`));
  });
  const reporting: ReportingDefinition[] = [];
  top.data.reporting.forEach((raw, i) => {
    const r = reportingSchema.safeParse(raw);
    if (r.success) reporting.push(r.data);
    else problems.push(...r.error.issues.map((x) => `${where('reporting object', raw, i)}: ${x.path.join('.')}: ${x.message}`));
  });
  const names = new Map<string, string>();
  for (const m of models) {
    if (names.has(m.name)) problems.push(`model ${m.name}: name: used twice`);
    names.set(m.name, m.kind);
  }
  for (const r of reporting) {
    if (names.has(r.name)) problems.push(`reporting object ${r.name}: name: already used by a model`);
  }
  for (const m of models) {
    if (m.kind !== 'fact') continue;
    for (const d of m.dimensions) {
      const kind = names.get(d.model);
      if (!kind) problems.push(`model ${m.name}: dimensions: ${d.model} is not a model in this file`);
      else if (kind === 'fact') problems.push(`model ${m.name}: dimensions: ${d.model} is a fact, not a dimension`);
    }
  }
  const known = new Set([...names.keys(), ...reporting.map((r) => r.name)]);
  for (const r of reporting) for (const d of r.dependsOn) if (!known.has(d)) problems.push(`reporting object ${r.name}: dependsOn: ${d} is not a model or reporting object`);
  if (problems.length) throw new ModelDefinitionError(problems);
  return { models, reporting };
}

/**
 * Dependency order, as levels: everything in a level depends only on earlier levels, so one level's
 * members can be built in parallel. A cycle is refused, naming its members.
 */
export function buildLevels(nodes: { name: string; dependsOn: string[] }[]): string[][] {
  const remaining = new Map(nodes.map((n) => [n.name, new Set(n.dependsOn.filter((d) => nodes.some((m) => m.name === d)))]));
  const levels: string[][] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(([, deps]) => deps.size === 0).map(([n]) => n).sort();
    if (ready.length === 0) throw new ModelDefinitionError([`dependency cycle among ${[...remaining.keys()].sort().join(', ')}`]);
    levels.push(ready);
    for (const n of ready) remaining.delete(n);
    for (const deps of remaining.values()) for (const n of ready) deps.delete(n);
  }
  return levels;
}

/** The warehouse column type for a lake type, in the common subset of PostgreSQL and Redshift. */
export function warehouseType(lakeType: string): string {
  const dec = /^decimal\((\d+),(\d+)\)$/.exec(lakeType);
  if (dec) return `numeric(${dec[1]},${dec[2]})`;
  switch (lakeType) {
    case 'int':
      return 'integer';
    case 'bigint':
      return 'bigint';
    case 'float':
      return 'real';
    case 'double':
      return 'double precision';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'timestamp':
      return 'timestamp';
    default:
      // strings, JSON, and binary (as hex): Redshift's widest VARCHAR, accepted by PostgreSQL too.
      return 'varchar(65535)';
  }
}
