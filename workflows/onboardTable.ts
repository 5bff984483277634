// Onboard a table: the runbook a data engineer followed by hand before a new table went live.
//   1. check the definition against the live source (table exists, primary key, column types,
//      precombine and partition columns);
//   2. record it in the control plane with an audit row, in one transaction;
//   3. report what was found.
// Onboarding the same table twice is harmless: the second run records nothing new.
import { ApplicationFailure, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { ErrorType } from '../lib/common/errors';
import { SearchAttribute, tableKey } from '../lib/common/temporal';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';
import type { RecordOutcome, TableRecord } from '../lib/control-plane/store';
import type { LakeColumn, TableDefinition, TableDefinitionInput } from '../lib/tables/definition';

export type OnboardTableInput = WorkflowInput<'onboardTable'>;

export interface SourceTableCheck {
  definition: TableDefinition;
  sourceEngine: 'mysql' | 'postgres';
  primaryKey: string[];
  columns: LakeColumn[];
  problems: string[];
  warnings: string[];
}

export interface OnboardTableResult {
  table: string;
  tableId: number;
  outcome: RecordOutcome;
  /** Not blocking, but to fix at the source (e.g. replica identity for CDC). */
  warnings: string[];
  sourceEngine: 'mysql' | 'postgres';
  primaryKey: string[];
  columns: LakeColumn[];
  settings: Pick<TableRecord, 'hudiTableType' | 'precombineField' | 'partitionField' | 'cleanerCommitsRetained' | 'archiveLevel' | 'schedule' | 'enabled'>;
}

/** What this workflow needs from the control-plane activities; the factory is typed against it. */
export interface OnboardingActivities {
  inspectSourceTable: (input: TableDefinitionInput) => Promise<SourceTableCheck>;
  recordTable: (input: { check: SourceTableCheck; actor: string }) => Promise<{ table: TableRecord; outcome: RecordOutcome }>;
}

const control = proxyActivities<OnboardingActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

export async function onboardTable(input: OnboardTableInput): Promise<OnboardTableResult> {
  input = parseWorkflowInput('onboardTable', input);
  const { actor, ...definition } = input;
  upsertSearchAttributes([
    { key: SearchAttribute.table, value: tableKey(definition) },
    { key: SearchAttribute.layer, value: 'control' },
  ]);

  const check = await control.inspectSourceTable(definition);
  if (check.problems.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `table ${tableKey(check.definition)} was not onboarded: ${check.problems.join('; ')}`,
      ErrorType.InvalidTableDefinition,
      { problems: check.problems },
    );
  }

  const { table, outcome } = await control.recordTable({ check, actor: actor ?? workflowInfo().workflowId });

  return {
    table: tableKey(check.definition),
    tableId: table.tableId,
    outcome,
    warnings: check.warnings,
    sourceEngine: check.sourceEngine,
    primaryKey: table.primaryKey,
    columns: table.columns,
    settings: {
      hudiTableType: table.hudiTableType,
      precombineField: table.precombineField,
      partitionField: table.partitionField,
      cleanerCommitsRetained: table.cleanerCommitsRetained,
      archiveLevel: table.archiveLevel,
      schedule: table.schedule,
      enabled: table.enabled,
    },
  };
}
