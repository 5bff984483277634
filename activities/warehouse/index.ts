// Warehouse activities: order the models, build one (stage its pull, run its SQL and invariant
// guards in one transaction, move its checkpoint), refresh a reporting object. The SQL comes from
// the pure builders in lib/warehouse/scd.ts; the warehouse is PostgreSQL locally, Redshift on AWS.
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { ErrorType } from '../../lib/common/errors';
import type { DanauConfig } from '../../lib/config';
import type { ControlPlane, TableRecord } from '../../lib/control-plane/store';
import { buildLevels, modelDependencies, modelSourceColumns, type ModelDefinition } from '../../lib/models/definition';
import { modelSpec, stagingColumns, type ModelContext } from '../../lib/models/spec';
import { quoteIdent, quoteQualified } from '../../lib/sql/identifiers';
import { buildFact, buildInvariantChecks, buildScd1, buildScd2, createTargetTable, repointFacts, type FactSpec, type InvariantCheck, type ModelSpec } from '../../lib/warehouse/scd';
import { createStagingTable, loadStagingPostgres, redshiftCopyStatement } from '../../lib/warehouse/staging';
import { queryEstimatedRows, WarehouseError, type Warehouse } from '../../lib/warehouse/warehouse';
import type { ModelActivities } from '../../workflows/buildModels';
import { modelAndSource } from './pull';

export { createModelPullActivity } from './pull';

export interface WarehouseDeps {
  config: DanauConfig;
  controlPlane: ControlPlane;
  s3: S3Client;
  warehouse: Warehouse;
}

const STAGING_SCHEMA = 'danau_staging';

function invalid(message: string): never {
  throw ApplicationFailure.create({ type: ErrorType.InvalidModelDefinition, message, nonRetryable: true });
}

/**
 * A statement that fails the build's transaction when an invariant check finds an offending row,
 * naming it: casting a text that carries the row's first column to an integer cannot succeed, and
 * PostgreSQL quotes the text in its error (Redshift reports the cast failure without it, so the
 * activity names the check either way). Built from the row, so no planner can fold it away.
 */
export function invariantGuard(check: InvariantCheck, firstColumn: string): string {
  const label = check.failedCheckColumn ? `x.${quoteIdent(check.failedCheckColumn)}` : `'${check.name.replace(/'/g, "''")}'`;
  return `SELECT CAST('invariant ' || ${label} || ' violated for ' || COALESCE(CAST(x.${quoteIdent(firstColumn)} AS VARCHAR(200)), 'NULL') AS INTEGER) FROM (${check.sql}) x`;
}

function firstKeyColumn(spec: ModelSpec): string {
  return spec.kind === 'fact' ? spec.factKey[0]!.name : spec.naturalKey[0]!.name;
}

/** The specs of the enabled fact models that look up the dimension model `dimension`. */
function factsOf(dimension: string, ctx: ModelContext): FactSpec[] {
  return [...ctx.models.values()]
    .filter(({ model }) => model.kind === 'fact' && model.enabled && model.dimensions.some((d) => d.model === dimension))
    .map(({ model, table }) => modelSpec(model, table, ctx))
    .filter((spec): spec is FactSpec => spec.kind === 'fact');
}

function buildStatements(spec: ModelSpec, buildId: string): string[] {
  switch (spec.kind) {
    case 'scd1':
      return buildScd1(spec, buildId);
    case 'scd2':
      return buildScd2(spec, buildId);
    case 'fact':
      return buildFact(spec, buildId);
  }
}

export function createWarehouseActivities({ config, controlPlane, s3, warehouse }: WarehouseDeps): ModelActivities {
  const schema = config.warehouse.schema;
  // The local bulk load goes through its own pool (COPY FROM STDIN); Redshift loads with COPY from S3.
  const stagingPool = warehouse.kind === 'postgres' ? new pg.Pool({ connectionString: config.warehouseDatabaseUrl, max: 2, allowExitOnIdle: true }) : null;
  stagingPool?.on('error', () => undefined);

  async function context(stagingTable: string): Promise<ModelContext> {
    const models = new Map<string, { model: ModelDefinition; table: TableRecord }>();
    for (const m of await controlPlane.listModels()) {
      const [source, sch, name] = m.source.split('.') as [string, string, string];
      const table = await controlPlane.getTable(source, sch, name);
      if (table) models.set(m.name, { model: m, table });
    }
    return { schema, staging: { schema: STAGING_SCHEMA, table: stagingTable }, models };
  }

  return {
    async planModelBuilds({ models: wanted }) {
      const all = (await controlPlane.listModels()).filter((m) => m.enabled);
      for (const w of wanted ?? []) if (!all.some((m) => m.name === w)) invalid(`model ${w} is not defined or not enabled (danau models list)`);
      const chosen = wanted ? all.filter((m) => wanted.includes(m.name)) : all;
      const levels = buildLevels(chosen.map((m) => ({ name: m.name, dependsOn: modelDependencies(m) })));
      const built = new Set(chosen.map((m) => m.name));
      const reporting = (await controlPlane.listReporting()).filter((r) => r.enabled);
      // A reporting object is refreshed when something it depends on (directly or through another) was built.
      const affected = new Set<string>();
      let grew = true;
      while (grew) {
        grew = false;
        for (const r of reporting) {
          if (!affected.has(r.name) && r.dependsOn.some((d) => built.has(d) || affected.has(d))) {
            affected.add(r.name);
            grew = true;
          }
        }
      }
      const reportingLevels = buildLevels(reporting.filter((r) => affected.has(r.name)).map((r) => ({ name: r.name, dependsOn: r.dependsOn })));
      return { levels, reportingLevels };
    },

    async buildModel({ model: name, buildId, pull }) {
      const ctx = Context.current();
      const { model, table } = await modelAndSource(controlPlane, name);
      const stagingTable = `stg_${name}_${createHash('sha256').update(buildId).digest('hex').slice(0, 12)}`;
      const models = await context(stagingTable);
      const spec = modelSpec(model, table, models);
      // A type-2 dimension's build moves the facts that point at it to the version now valid at their
      // event time (repointFacts): the facts' tables must exist for that, even before their first build.
      const facts = spec.kind === 'scd2' ? factsOf(name, models) : [];
      const run = (key: string) => ({ key, heartbeat: (p: { elapsedMs: number; status: string }) => ctx.heartbeat(p), signal: ctx.cancellationSignal });
      await controlPlane.startModelBuild(buildId, name, pull.beginInstant);
      try {
        await warehouse.transaction([`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`, `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(STAGING_SCHEMA)}`, ...createTargetTable(spec, warehouse.kind), ...facts.flatMap((f) => createTargetTable(f, warehouse.kind))], run(`ddl:${buildId}`));
        let staged = 0;
        if (pull.outputUri && pull.rows > 0) {
          const columns = stagingColumns(model, table, modelSourceColumns(model));
          await warehouse.transaction(createStagingTable(STAGING_SCHEMA, stagingTable, columns), run(`stage:${buildId}`));
          if (stagingPool) staged = await loadStagingPostgres(stagingPool, s3, pull.outputUri, STAGING_SCHEMA, stagingTable, columns);
          else {
            const role = config.warehouse.redshift?.copyRoleArn;
            if (!role) invalid('DANAU_REDSHIFT_COPY_ROLE_ARN is not set: Redshift needs a role to COPY staged Parquet from S3');
            await warehouse.transaction([redshiftCopyStatement(STAGING_SCHEMA, stagingTable, pull.outputUri, role)], run(`copy:${buildId}`));
            staged = pull.rows;
          }
          const guards = buildInvariantChecks(spec, 'batch').map((c) => invariantGuard(c, firstKeyColumn(spec)));
          try {
            const repoint = spec.kind === 'scd2' ? facts.flatMap((f) => repointFacts(spec, f)) : [];
            await warehouse.transaction([...buildStatements(spec, buildId), ...repoint, ...guards], run(`build:${buildId}`));
          } catch (err) {
            if (err instanceof WarehouseError && /invariant .* violated|Invalid digit/.test(err.message)) {
              const message = `model ${name}: build ${buildId} rolled back, an invariant does not hold: ${/invariant [^"]*/.exec(err.message)?.[0] ?? err.message}`;
              await controlPlane.failModelBuild(buildId, message);
              throw ApplicationFailure.create({ type: ErrorType.ModelInvariantViolated, message, nonRetryable: true });
            }
            throw err;
          }
          await warehouse.transaction([`DROP TABLE IF EXISTS ${quoteQualified(STAGING_SCHEMA, stagingTable)}`], run(`drop:${buildId}`));
        }
        await controlPlane.commitModelBuild(buildId, name, { endInstant: pull.endInstant, rowsStaged: staged, fullComparison: pull.fullComparison });
        return { built: staged > 0, rowsEstimate: await queryEstimatedRows(warehouse, schema, name, run(`estimate:${buildId}`)) };
      } catch (err) {
        if (!(err instanceof ApplicationFailure)) await controlPlane.failModelBuild(buildId, err instanceof Error ? err.message : String(err));
        throw err;
      }
    },

    async checkModel({ model: name }) {
      const ctx = Context.current();
      const { model, table } = await modelAndSource(controlPlane, name);
      const spec = modelSpec(model, table, await context('unused'));
      const firstColumn = firstKeyColumn(spec);
      const checks = [];
      for (const check of buildInvariantChecks(spec, 'full')) {
        const offending = await warehouse.query(check.sql, { key: `check:${name}:${check.name}:${ctx.info.activityId}`, heartbeat: (p) => ctx.heartbeat(p), signal: ctx.cancellationSignal });
        checks.push({ name: check.name, offendingKeys: offending.length, firstKeys: offending.slice(0, 5).map((r) => String(r[firstColumn] ?? 'NULL')) });
        log.info(`model check ${check.name}: ${offending.length} offending key(s)`, { model: name, check: check.name, offendingKeys: offending.length });
      }
      return { model: name, checks };
    },

    async refreshReportingObject({ name, buildId }) {
      const ctx = Context.current();
      const def = (await controlPlane.listReporting()).find((r) => r.name === name);
      if (!def) invalid(`reporting object ${name} is not defined`);
      const run = (key: string) => ({ key, heartbeat: (p: { elapsedMs: number; status: string }) => ctx.heartbeat(p), signal: ctx.cancellationSignal });
      // On a first run a report can be reached before every model it reads was built (a table's
      // pipeline builds only its own models): skip it and say why, rather than fail the table (issue 12).
      const built = new Set(await warehouse.existingRelations(schema, def.dependsOn, run(`exists:${buildId}`)));
      const missing = def.dependsOn.filter((d) => !built.has(d));
      if (missing.length) {
        const skipped = `${missing.join(', ')} not built yet`;
        log.info(`reporting object ${name} skipped: ${skipped}`, { reporting: name, missing });
        return { name, kind: def.kind, rows: 0, skipped };
      }
      const path = `SET search_path TO ${quoteIdent(schema)}`;
      const target = quoteQualified(schema, name);
      if (def.kind === 'table') {
        // Built beside the old one and swapped in one transaction: readers see the old table or the new, never half.
        const fresh = quoteIdent(`${name}__new`);
        await warehouse.transaction([path, `DROP TABLE IF EXISTS ${fresh}`, `CREATE TABLE ${fresh} AS ${def.sql}`, `DROP TABLE IF EXISTS ${target}`, `ALTER TABLE ${fresh} RENAME TO ${quoteIdent(name)}`], run(`report:${buildId}`));
      } else {
        try {
          await warehouse.transaction([path, `REFRESH MATERIALIZED VIEW ${target}`], run(`refresh:${buildId}`));
        } catch (err) {
          if (!(err instanceof WarehouseError) || !/does not exist/i.test(err.message)) throw err;
          await warehouse.transaction([path, `CREATE MATERIALIZED VIEW ${target} AS ${def.sql}`], run(`create-mv:${buildId}`));
        }
      }
      const [count] = await warehouse.query(`SELECT COUNT(*) AS n FROM ${target}`, run(`count:${buildId}`));
      return { name, kind: def.kind, rows: Number(count?.n ?? 0), skipped: null };
    },
  };
}
