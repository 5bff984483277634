// The archive workflows in one module, for test workers to bundle (workflows/index.ts gains them
// when the worker wiring does: see the report of issue 6).
export { archivePartition } from '../../workflows/archivePartition';
export { archiveTables } from '../../workflows/archiveTables';
export { recoverTable } from '../../workflows/recoverTable';
