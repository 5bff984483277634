// danau raw-zone check|move-legacy: the raw zone's layout. Keys are <source>/<schema>/<table>/…; a
// raw zone written before that (<schema>/<table>/…) is found, and moved under its sources.
import type { Command } from 'commander';
import { findLegacyRawFiles, legacyLayoutMessage, moveLegacyRawFiles } from '../../../lib/raw-zone/legacy';
import { createS3Client } from '../../../lib/s3';
import { UsageError, actor, config, print, withControlPlane } from '../context';

function parseOwners(values: string[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const v of values) {
    const m = /^([^.=/]+\.[^.=/]+)=([a-z][a-z0-9_]{0,62})$/.exec(v);
    if (!m) throw new UsageError(`--owner ${JSON.stringify(v)}: expected schema.table=source, e.g. public.lab_orders=labs`);
    owners.set(m[1]!, m[2]!);
  }
  return owners;
}

export function registerRawZoneCommands(program: Command): void {
  const raw = program.command('raw-zone').description('the raw zone layout (<source>/<schema>/<table>/…)');

  raw
    .command('check')
    .description('say whether the raw bucket still holds files of the layout before source prefixes')
    .action(async () => {
      const s3 = createS3Client(config());
      try {
        const found = await withControlPlane(async (cp) => findLegacyRawFiles(s3, config().buckets.raw, await cp.listTables(), { firstOnly: true }));
        if (found.length > 0) throw new UsageError(legacyLayoutMessage(config().buckets.raw, found));
        print(`raw bucket ${config().buckets.raw}: every onboarded table's files are under <source>/<schema>/<table>/`);
      } finally {
        s3.destroy();
      }
    });

  raw
    .command('move-legacy')
    .description('move files of the old layout (<schema>/<table>/…) under their source, and the control plane with them')
    .option('--owner <schema.table=source...>', 'the source of a schema.table that more than one source has', [])
    .option('--dry-run', 'say what would move, move nothing')
    .action(async (opts: { owner: string[]; dryRun?: boolean }) => {
      const owners = parseOwners(opts.owner);
      const s3 = createS3Client(config());
      try {
        const results = await withControlPlane((cp) =>
          moveLegacyRawFiles(s3, config().buckets.raw, cp, { owners, dryRun: opts.dryRun === true, actor: actor() }).catch((err: unknown) => {
            throw new UsageError((err as Error).message);
          }),
        );
        if (results.length === 0) print('nothing to move: no onboarded table has files of the old layout');
        for (const r of results) print(`${r.table}: ${r.moved} file(s) ${opts.dryRun ? 'would move' : `moved${r.alreadyCopied ? ` (${r.alreadyCopied} copied by an earlier run)` : ''}`} under ${r.table.split('.')[0]}/`);
      } finally {
        s3.destroy();
      }
    });
}
