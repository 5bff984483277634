// Checking an uploaded zip against what was listed and streamed into it, before anything is
// deleted: every manifest entry is in the central directory with the same name, size and CRC-32
// (the CRC computed from the original's bytes while they were streamed), at the offset the writer
// recorded, and the directory holds nothing else. Optionally (`deep`) every entry is read back by
// range, inflated and its CRC-32 recomputed, which proves the stored bytes, not just the directory.
import { extractEntries } from './extract';
import { readZipDirectory, type CentralEntry, type RangeReader, type ZipDirectory } from './zip';

export interface ManifestEntry {
  key: string;
  size: number;
  crc32: number;
  /** Recorded by the writer; checked when present. */
  offset?: number | null;
  compressedSize?: number | null;
}

export interface VerifyResult {
  ok: boolean;
  problems: string[];
  directory: ZipDirectory | null;
  /** Entries read back and checked byte for byte (deep verification). */
  deepChecked: number;
}

const MAX_PROBLEMS = 20;

export function compareDirectory(entries: readonly CentralEntry[], manifest: readonly ManifestEntry[]): string[] {
  const problems: string[] = [];
  const note = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const byName = new Map<string, CentralEntry>();
  for (const e of entries) {
    if (byName.has(e.name)) note(`${e.name}: twice in the zip`);
    byName.set(e.name, e);
  }
  if (entries.length !== manifest.length) note(`the zip holds ${entries.length} entries, the manifest ${manifest.length}`);
  const listed = new Set<string>();
  for (const m of manifest) {
    listed.add(m.key);
    const e = byName.get(m.key);
    if (!e) {
      note(`${m.key}: not in the zip`);
      continue;
    }
    if (e.size !== m.size) note(`${m.key}: ${e.size} bytes in the zip, ${m.size} listed`);
    if (e.crc32 >>> 0 !== m.crc32 >>> 0) note(`${m.key}: CRC-32 ${(e.crc32 >>> 0).toString(16)} in the zip, ${(m.crc32 >>> 0).toString(16)} streamed from the original`);
    if (m.offset !== undefined && m.offset !== null && e.offset !== m.offset) note(`${m.key}: at offset ${e.offset} in the zip, written at ${m.offset}`);
    if (m.compressedSize !== undefined && m.compressedSize !== null && e.compressedSize !== m.compressedSize) note(`${m.key}: ${e.compressedSize} stored bytes in the zip, ${m.compressedSize} written`);
  }
  for (const e of entries) if (!listed.has(e.name)) note(`${e.name}: in the zip but not in the manifest`);
  return problems;
}

export async function verifyZip(reader: RangeReader, manifest: readonly ManifestEntry[], opts: { deep?: boolean; concurrency?: number; onProgress?: (checked: number) => void } = {}): Promise<VerifyResult> {
  let directory: ZipDirectory;
  try {
    directory = await readZipDirectory(reader);
  } catch (err) {
    if ((err as Error).name === 'ZipFormatError') return { ok: false, problems: [(err as Error).message], directory: null, deepChecked: 0 };
    throw err;
  }
  const problems = compareDirectory(directory.entries, manifest);
  let deepChecked = 0;
  if (opts.deep && problems.length === 0) {
    await extractEntries(
      reader,
      directory.entries,
      async (x) => {
        // Streamed entries are checked as they are consumed.
        if ('stream' in x) for await (const _chunk of x.stream);
        deepChecked++;
        if (deepChecked % 1000 === 0) opts.onProgress?.(deepChecked);
      },
      (_entry, err) => {
        if (problems.length < MAX_PROBLEMS) problems.push(err.message);
      },
      { concurrency: opts.concurrency ?? 8 },
    );
  }
  return { ok: problems.length === 0, problems, directory, deepChecked };
}
