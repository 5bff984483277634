// Every workflow Danau runs. The worker bundles this file; clients start workflows by these names.
export { onboardTable } from './onboardTable';
export { checkStack } from './checkStack';
export { captureSource } from './captureSource';
export { checkIngestion } from './checkIngestion';
export { reconcileTable } from './reconcileTable';
export { syncDmsTask } from './syncDmsTask';
export { upsertLakeTable } from './upsertLakeTable';
export { buildModels } from './buildModels';
export { checkModels } from './checkModels';
export { archivePartition } from './archivePartition';
export { archiveTables } from './archiveTables';
export { recoverTable } from './recoverTable';
export { runTablePipeline } from './runTablePipeline';
export { reprocessFailedEvents, replayLakeEvent } from './reprocessFailedEvents';
export { backfillTable, reapplyLakeRange } from './backfillTable';
export { checkSource } from './checkSource';
