// From a model's definition (configuration) and its source table's lake columns to the spec the SQL
// builders take (lib/warehouse/scd.ts): warehouse column types, the target and staging tables.
import type { TableRecord } from '../control-plane/store';
import type { ColumnDef, DimensionSpec, ModelSpec, TableRef } from '../warehouse/scd';
import { warehouseType, type ModelDefinition } from './definition';

export interface ModelContext {
  /** The warehouse schema models are built in. */
  schema: string;
  /** Where a build's staging table lives. */
  staging: TableRef;
  /** Every model by name, and the source table of each, to resolve a fact's dimensions. */
  models: ReadonlyMap<string, { model: ModelDefinition; table: TableRecord }>;
}

// Models name a table's columns by their lake names: the names the change log and the warehouse have.
function columnDefs(table: TableRecord, names: string[]): ColumnDef[] {
  const byName = new Map(table.columns.map((c) => [c.lakeName, c]));
  return names.map((n) => {
    const c = byName.get(n);
    if (!c) throw new Error(`column ${n} is not in ${table.sourceName}.${table.schemaName}.${table.tableName}`);
    return { name: n, type: warehouseType(c.lakeType) };
  });
}

const without = (names: string[], ...drop: string[][]) => names.filter((n) => !drop.some((d) => d.includes(n)));

function dimensionSpec(model: ModelDefinition, table: TableRecord, ctx: ModelContext): DimensionSpec {
  const target = { schema: ctx.schema, table: model.name };
  if (model.kind === 'scd1_dimension') {
    return { kind: 'scd1', target, staging: ctx.staging, naturalKey: columnDefs(table, model.naturalKey), columns: columnDefs(table, without(model.columns, model.naturalKey)), surrogateKey: model.surrogateKey, deletePolicy: model.deletePolicy };
  }
  if (model.kind === 'scd2_dimension') {
    return {
      kind: 'scd2',
      target,
      staging: ctx.staging,
      naturalKey: columnDefs(table, model.naturalKey),
      trackedColumns: columnDefs(table, model.trackedColumns),
      otherColumns: columnDefs(table, without(model.columns, model.naturalKey, model.trackedColumns)),
      surrogateKey: model.surrogateKey,
      deletePolicy: model.deletePolicy,
    };
  }
  throw new Error(`model ${model.name} is a fact, not a dimension`);
}

export function modelSpec(model: ModelDefinition, table: TableRecord, ctx: ModelContext): ModelSpec {
  if (model.kind !== 'fact') return dimensionSpec(model, table, ctx);
  const lookups = model.dimensions.flatMap((d) => Object.keys(d.on));
  return {
    kind: 'fact',
    target: { schema: ctx.schema, table: model.name },
    staging: ctx.staging,
    factKey: columnDefs(table, model.factKey),
    columns: columnDefs(table, without([...new Set([...model.columns, model.eventTime, ...lookups])], model.factKey)),
    eventTimeColumn: model.eventTime,
    dimensions: model.dimensions.map((d) => {
      const dim = ctx.models.get(d.model);
      if (!dim) throw new Error(`model ${model.name}: dimension ${d.model} is not defined`);
      // The dimension's spec is used for its target table and keys only: its staging is not read.
      return { dimension: dimensionSpec(dim.model, dim.table, ctx), keys: Object.entries(d.on).map(([factColumn, dimColumn]) => ({ factColumn, dimColumn })), as: d.as };
    }),
  };
}

/** The staging table's columns: the model's source columns and the change metadata. */
export function stagingColumns(model: ModelDefinition, table: TableRecord, sourceColumns: string[]): ColumnDef[] {
  return [
    ...columnDefs(table, sourceColumns),
    { name: '_danau_op', type: 'varchar(1)' },
    { name: '_danau_change_seq', type: 'varchar(128)' },
    { name: '_danau_commit_ts', type: 'varchar(32)' },
  ];
}
