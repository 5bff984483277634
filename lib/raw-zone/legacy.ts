// Raw zones written before keys had a `<source>/` prefix (`<schema>/<table>/…`). A worker refuses to
// start on one (two sources with the same schema.table overwrote each other's files there), and
// `danau raw-zone move-legacy` moves it: copy each file under its source's prefix (write-once, so a
// rerun after a crash finds its copies), point the control plane's records at the new keys, and only
// then delete the old files. Zips already made keep their entries' old names; recovery restores
// such an entry under its source's prefix.
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ControlPlane, TableRecord } from '../control-plane/store';
import { tableKey } from '../common/temporal';
import { putObjectOnce } from '../s3';
import { ArchiveStore } from '../archive/store';
import { legacyTablePrefix, parseRawKey, rawTableOf } from './keys';
import { readObject } from './objects';

export interface LegacyTable {
  /** `<schema>/<table>/` */
  prefix: string;
  /** Onboarded tables with this schema.table, by source. More than one: the owner must be named. */
  sources: string[];
  /** Legacy keys found (all of them when listed for a move; at least one when only checked). */
  keys: string[];
}

function isLegacyKeyOf(key: string, schema: string, table: string): boolean {
  try {
    const k = parseRawKey(key);
    return k.source === undefined && k.schema === schema && k.table === table;
  } catch {
    return false;
  }
}

/** The onboarded schema.tables that still have raw files of the old layout. `firstOnly` stops at one key per table (the start-up check). */
export async function findLegacyRawFiles(s3: S3Client, bucket: string, tables: TableRecord[], opts: { firstOnly?: boolean } = {}): Promise<LegacyTable[]> {
  const groups = new Map<string, { schema: string; table: string; sources: string[] }>();
  for (const t of tables) {
    const prefix = legacyTablePrefix({ schema: t.schemaName, table: t.tableName });
    const g = groups.get(prefix) ?? { schema: t.schemaName, table: t.tableName, sources: [] };
    g.sources.push(t.sourceName);
    groups.set(prefix, g);
  }
  const found: LegacyTable[] = [];
  for (const [prefix, g] of groups) {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key && isLegacyKeyOf(o.Key, g.schema, g.table)) keys.push(o.Key);
      token = opts.firstOnly && keys.length > 0 ? undefined : page.NextContinuationToken;
    } while (token);
    if (keys.length > 0) found.push({ prefix, sources: g.sources.sort(), keys });
  }
  return found;
}

/** What a worker says when it will not start on a raw zone of the old layout. */
export function legacyLayoutMessage(bucket: string, found: LegacyTable[]): string {
  const tables = found.map((f) => `${f.prefix} (${f.sources.length > 1 ? `onboarded in sources ${f.sources.join(', ')}` : `source ${f.sources[0]}`})`);
  return (
    `raw bucket ${bucket} holds files of the layout before source prefixes (<schema>/<table>/…, e.g. ${found[0]!.keys[0]}) for ${found.length} table(s): ${tables.join('; ')}. ` +
    `Raw keys are now <source>/<schema>/<table>/…. Move them with \`danau raw-zone move-legacy\` (--owner schema.table=source where more than one source has the table), then start the worker again`
  );
}

export interface MoveResult {
  table: string;
  moved: number;
  /** Old keys whose copy was already there (a rerun). */
  alreadyCopied: number;
}

/**
 * Moves the legacy files of every onboarded table. `owners` names the source for a schema.table that
 * more than one source has (`public.lab_orders` -> `labs`); without it such a table is refused.
 */
export async function moveLegacyRawFiles(
  s3: S3Client,
  bucket: string,
  controlPlane: ControlPlane,
  opts: { owners?: ReadonlyMap<string, string>; dryRun?: boolean; actor: string; onProgress?: (table: string, done: number) => void },
): Promise<MoveResult[]> {
  const tables = await controlPlane.listTables();
  const archives = new ArchiveStore(controlPlane.pool);
  const found = await findLegacyRawFiles(s3, bucket, tables);
  const problems: string[] = [];
  const plan: { table: TableRecord; keys: string[] }[] = [];
  for (const f of found) {
    const schemaTable = f.prefix.slice(0, -1).replace('/', '.');
    const owner = f.sources.length === 1 ? f.sources[0]! : opts.owners?.get(schemaTable);
    if (!owner) {
      problems.push(`${schemaTable}: onboarded in sources ${f.sources.join(', ')}; the old layout cannot tell whose its ${f.keys.length} file(s) are: name the owner with --owner ${schemaTable}=<source>`);
      continue;
    }
    const table = tables.find((t) => t.sourceName === owner && `${t.schemaName}.${t.tableName}` === schemaTable);
    if (!table) {
      problems.push(`${schemaTable}: --owner names source ${owner}, which has no such table (sources with it: ${f.sources.join(', ')})`);
      continue;
    }
    // An archive between upload and deleting its originals lists them by their old keys: let it
    // finish (or discard it) first, so nothing it verified moves under it.
    const open = (await archives.unfinished(table.tableId)).filter((a) => a.status !== 'failed');
    if (open.length > 0) {
      problems.push(`${schemaTable}: archive(s) ${open.map((a) => `${a.partition} (${a.status})`).join(', ')} of source ${owner} are not finished: approve or discard them (danau archive), then move`);
      continue;
    }
    plan.push({ table, keys: f.keys });
  }
  if (problems.length > 0) throw new Error(`cannot move the raw zone's old layout: ${problems.join('; ')}`);

  const results: MoveResult[] = [];
  for (const { table, keys } of plan) {
    const name = tableKey(rawTableOf(table));
    const result: MoveResult = { table: name, moved: keys.length, alreadyCopied: 0 };
    results.push(result);
    if (opts.dryRun) continue;
    const moves = new Map(keys.map((k) => [k, `${table.sourceName}/${k}`]));
    let done = 0;
    for (const [from, to] of moves) {
      const outcome = await putObjectOnce(s3, { bucket, key: to, body: await readObject(s3, bucket, from), contentType: 'application/vnd.apache.parquet' });
      if (outcome === 'already-there') result.alreadyCopied++;
      opts.onProgress?.(name, ++done);
    }
    await controlPlane.moveRawKeys(table.tableId, name, moves, opts.actor);
    for (let i = 0; i < keys.length; i += 1000) {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
    }
  }
  return results;
}
