// danau archive: raw-zone archival and recovery (archivePartition, archiveTables, recoverTable).
import type { Command } from 'commander';
import { WorkflowId } from '../../../lib/common/temporal';
import { workflowUrl } from '../../../lib/temporal/client';
import type { ArchivePartitionResult, ArchivePartitionStatus } from '../../../workflows/archivePartition';
import type { ArchiveTablesResult } from '../../../workflows/archiveTables';
import type { RecoverTableResult } from '../../../workflows/recoverTable';
import { UsageError, config, isoDate, positiveInt, print, tableKeyArg, withClient, workflowArgs } from '../context';

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const money = (v: number, currency: string) => `${v.toFixed(4)} ${currency}`;

export function registerArchiveCommands(program: Command): void {
  const archive = program.command('archive').description("raw-zone archival: zip a table's small files per day or month as Standard-IA, and recover them");
  archive
    .command('partition')
    .description("archive one partition of a table (zip, upload, verify, record, then delete the originals) and wait")
    .requiredOption('--table <source.schema.table>', 'an onboarded table', tableKeyArg)
    .requiredOption('--partition <date>', 'YYYY-MM-DD (day) or YYYY-MM (month), per the table\'s archive level')
    .option('--require-approval', 'stop before deleting, print what would go and the saving, and wait for: danau runs signal <workflowId> approveDelete')
    .action(async (o: { table: string; partition: string; requireApproval?: boolean }) => {
      if (!/^\d{4}-\d{2}(-\d{2})?$/.test(o.partition)) throw new UsageError(`--partition: ${o.partition} is not YYYY-MM-DD or YYYY-MM`);
      const level = o.partition.length === 7 ? 'month' : 'day';
      const args = workflowArgs('archivePartition', { table: o.table, partition: o.partition, level, requireApproval: o.requireApproval ?? false });
      await withClient(async (client) => {
        const workflowId = WorkflowId.archivePartition(o.table, level, o.partition);
        print(`archivePartition: ${workflowUrl(config(), workflowId)}`);
        const handle = await client.workflow.start('archivePartition', {
          taskQueue: config().temporal.taskQueues.control,
          workflowId,
          workflowIdConflictPolicy: 'USE_EXISTING',
          args,
        });
        if (o.requireApproval) {
          // Verified and recorded, nothing deleted yet: say what would go, and how to let it.
          for (;;) {
            const s = await handle.query<ArchivePartitionStatus>('status');
            if (s.phase === 'awaiting-approval' && s.pendingApproval) {
              const p = s.pendingApproval;
              print(`verified and recorded; waiting for approval to delete ${p.files} original(s), ${mib(p.originalBytes)} (zip ${mib(p.zipBytes)} at ${p.zipKey}), saving ${money(p.monthlySaving, p.currency)} a month`);
              print(`approve: danau runs signal ${workflowId} approveDelete`);
              return;
            }
            if (s.phase === 'done') break;
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
        const r = (await handle.result()) as ArchivePartitionResult;
        print(`${r.table} ${r.level} ${r.partition}: ${r.outcome}: ${r.message}`);
        if (r.files) print(`  ${r.files} files, ${mib(r.originalBytes)} → zip ${mib(r.zipBytes)} at ${r.zipKey ?? '-'}; deleted ${r.deleted}, changed (kept) ${r.changed}`);
      });
    });
  archive
    .command('tables')
    .description('find partitions past each table\'s threshold and consumed by the lake, estimate the cost, and archive them (archiveTables)')
    .option('--dry-run', 'scan and estimate only')
    .option('--table <source.schema.table...>', 'only these tables')
    .option('--max-partitions <n>', 'at most this many in one run', positiveInt('--max-partitions'), 200)
    .action(async (o: { dryRun?: boolean; table?: string[]; maxPartitions: number }) => {
      const args = workflowArgs('archiveTables', { dryRun: o.dryRun ?? false, tables: o.table, maxPartitions: o.maxPartitions });
      await withClient(async (client) => {
        const workflowId = WorkflowId.archiveTables(`manual-${new Date().toISOString().replace(/[:.]/g, '-')}`);
        print(`archiveTables: ${workflowUrl(config(), workflowId)}`);
        const r = (await client.workflow.execute('archiveTables', {
          taskQueue: config().temporal.taskQueues.control,
          workflowId,
          args,
        })) as ArchiveTablesResult;
        const e = r.estimate;
        print(`${r.candidates} partition(s) to archive as of ${r.asOf}${r.truncated ? ' (more wait for the next run)' : ''}: ${e.files} files, ${mib(e.originalBytes)}`);
        print(`  estimate per month: ${money(e.monthlyBefore, e.currency)} → ${money(e.monthlyAfter, e.currency)}, saving ${money(e.monthlySaving, e.currency)}; one-time requests ${money(e.oneTimeRequests, e.currency)}`);
        for (const p of r.outcomes) print(`  ${p.table} ${p.partition}: ${p.outcome}: ${p.message}`);
        if (r.before && r.after) print(`  measured per month: ${money(r.before.monthlyCost, r.before.currency)} → ${money(r.after.monthlyCost, r.after.currency)}`);
      });
    });
  archive
    .command('recover')
    .description("put a table's archived files for a date range back as Standard objects (recoverTable)")
    .requiredOption('--table <source.schema.table>', 'an onboarded table', tableKeyArg)
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD', isoDate('--from'))
    .requiredOption('--to <date>', 'last day, YYYY-MM-DD', isoDate('--to'))
    .option('--target-prefix <prefix>', 'recover under this prefix instead of the original keys')
    .action(async (o: { table: string; from: string; to: string; targetPrefix?: string }) => {
      if (o.from > o.to) throw new UsageError(`--from ${o.from} is after --to ${o.to}`);
      const args = workflowArgs('recoverTable', { table: o.table, startDate: o.from, endDate: o.to, ...(o.targetPrefix ? { targetPrefix: o.targetPrefix } : {}) });
      await withClient(async (client) => {
        const workflowId = WorkflowId.recoverTable(o.table, o.from, o.to);
        print(`recoverTable: ${workflowUrl(config(), workflowId)}`);
        const r = (await client.workflow.execute('recoverTable', {
          taskQueue: config().temporal.taskQueues.control,
          workflowId,
          workflowIdConflictPolicy: 'USE_EXISTING',
          args,
        })) as RecoverTableResult;
        const t = r.totals;
        print(`${r.message}`);
        print(`  ${t.archives} archive(s), ${t.files} file(s): ${t.recovered} recovered, ${t.skippedExisting} already in place, ${t.conflicts} conflicts, ${t.corrupt} corrupt; ${mib(t.bytes)} to s3://${r.target.bucket}/${r.target.prefix}`);
      });
    });
}
