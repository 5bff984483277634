// Control-plane activities: quick reads and writes of the control plane and the source catalogs.
// Built by a factory so workers pass real connections in and tests wire the same way.
import { ApplicationFailure } from '@temporalio/common';
import { log } from '@temporalio/activity';
import { ErrorType } from '../../lib/common/errors';
import type { ControlPlane } from '../../lib/control-plane/store';
import type { SourceConnections, SourceRecord } from '../../lib/sources';
import { checkSource } from '../../lib/sources/check';
import { checkAgainstSource, parseTableDefinition, tableRef, TableDefinitionError } from '../../lib/tables/definition';
import type { OnboardingActivities } from '../../workflows/onboardTable';
import type { SourceCheckActivities } from '../../workflows/checkSource';

export interface ControlPlaneDeps {
  controlPlane: ControlPlane;
  sources: SourceConnections;
}

export function createControlPlaneActivities({ controlPlane, sources }: ControlPlaneDeps): OnboardingActivities & SourceCheckActivities {
  return {
    async inspectSourceTable(input) {
      let definition;
      try {
        definition = parseTableDefinition(input);
      } catch (err) {
        if (err instanceof TableDefinitionError) {
          throw ApplicationFailure.create({
            message: err.message,
            type: ErrorType.InvalidTableDefinition,
            nonRetryable: true,
            details: [{ problems: err.problems }],
          });
        }
        throw err;
      }
      const where = `table ${tableRef(definition)}`;
      const source = await controlPlane.getSource(definition.source);
      if (!source) {
        throw ApplicationFailure.create({
          message: `${where}: source: no source named ${definition.source} is registered (danau sources add)`,
          type: ErrorType.UnknownSource,
          nonRetryable: true,
        });
      }
      // In MySQL a schema is a database: a source reads only the database it was registered with.
      if (source.engine === 'mysql' && definition.schema !== source.databaseName) {
        throw ApplicationFailure.create({
          message: `${where}: schema: source ${source.sourceName} reads MySQL database ${source.databaseName}; schema must be ${source.databaseName}`,
          type: ErrorType.InvalidTableDefinition,
          nonRetryable: true,
        });
      }
      // A missing secret fails at once; a connection error is retried by the activity's retry
      // policy: the source may be restarting.
      let found;
      try {
        found = await sources.get(source).describeTable(definition.schema, definition.table);
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === ErrorType.SourceMisconfigured) {
          throw ApplicationFailure.create({ message: `${where}: ${err.message}`, type: ErrorType.SourceMisconfigured, nonRetryable: true });
        }
        throw err;
      }
      if (!found) {
        throw ApplicationFailure.create({
          message: `${where}: table: ${definition.schema}.${definition.table} does not exist in source ${source.sourceName} (${source.engine} database ${source.databaseName})`,
          type: ErrorType.SourceTableNotFound,
          nonRetryable: true,
        });
      }
      // A table onboarded again keeps the lake names its Hudi table already has.
      const prior = await controlPlane.getTable(definition.source, definition.schema, definition.table);
      const check = checkAgainstSource(definition, source.engine, found, prior?.columns ?? []);
      log.info('inspected source table', { table: tableRef(definition), columns: found.columns.length, problems: check.problems.length });
      return { definition, sourceEngine: source.engine, ...check };
    },

    async checkSourceConnection({ source: name, definition }) {
      let source: SourceRecord | null;
      if (definition) source = { sourceName: name, description: '', ...definition };
      else {
        source = await controlPlane.getSource(name);
        if (!source) throw ApplicationFailure.create({ message: `source: no source named ${name} is registered (danau sources add)`, type: ErrorType.UnknownSource, nonRetryable: true });
      }
      const result = await checkSource(source, sources.secrets);
      log.info('checked source', { source: name, ok: result.ok, problem: result.problem ?? null });
      return result;
    },

    async recordTable({ check, actor }) {
      const result = await controlPlane.recordTable(check.definition, check.primaryKey, check.columns, actor).catch((err: unknown) => {
        if (err instanceof TableDefinitionError) throw ApplicationFailure.create({ message: err.message, type: ErrorType.InvalidTableDefinition, nonRetryable: true, details: [{ problems: err.problems }] });
        throw err;
      });
      log.info('recorded table', { table: tableRef(check.definition), outcome: result.outcome, tableId: result.table.tableId });
      return result;
    },
  };
}
