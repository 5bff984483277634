// What archiving costs and saves, from a configurable price table. The rules that make small files
// worth zipping: Standard-IA bills every object as at least 128 KiB and for at least 30 days, and
// charges more per request; a lifecycle rule cannot move objects under 128 KiB at all. So a day of
// 8 KiB CDC files costs more in IA than in Standard, while one zip of them costs less.
// Prices are USD, us-east-1 list prices (2024); pass overrides for another region or a contract.
// Storage is billed per GB-month with GB = 2^30 bytes.

export interface PriceTable {
  currency: string;
  storagePerGbMonth: Record<string, number>;
  /** PUT, COPY, POST and LIST requests (LIST is billed at the bucket's Standard rate). */
  putPer1000: Record<string, number>;
  /** GET and other reads. */
  getPer1000: Record<string, number>;
  retrievalPerGb: Record<string, number>;
  /** Lifecycle transitions into the class. */
  transitionPer1000: Record<string, number>;
  minBillableBytes: Record<string, number>;
  minDurationDays: Record<string, number>;
}

export const DEFAULT_PRICES: PriceTable = {
  currency: 'USD',
  storagePerGbMonth: { STANDARD: 0.023, STANDARD_IA: 0.0125, ONEZONE_IA: 0.01, GLACIER_IR: 0.004, GLACIER: 0.0036, DEEP_ARCHIVE: 0.00099 },
  putPer1000: { STANDARD: 0.005, STANDARD_IA: 0.01, ONEZONE_IA: 0.01, GLACIER_IR: 0.02, GLACIER: 0.03, DEEP_ARCHIVE: 0.05 },
  getPer1000: { STANDARD: 0.0004, STANDARD_IA: 0.001, ONEZONE_IA: 0.001, GLACIER_IR: 0.01, GLACIER: 0.0004, DEEP_ARCHIVE: 0.0004 },
  retrievalPerGb: { STANDARD: 0, STANDARD_IA: 0.01, ONEZONE_IA: 0.01, GLACIER_IR: 0.03 },
  transitionPer1000: { STANDARD_IA: 0.01, ONEZONE_IA: 0.01, GLACIER_IR: 0.02, GLACIER: 0.03, DEEP_ARCHIVE: 0.05 },
  minBillableBytes: { STANDARD_IA: 128 * 1024, ONEZONE_IA: 128 * 1024, GLACIER_IR: 128 * 1024 },
  minDurationDays: { STANDARD_IA: 30, ONEZONE_IA: 30, GLACIER_IR: 90, GLACIER: 90, DEEP_ARCHIVE: 180 },
};

export type PriceOverrides = { [K in keyof PriceTable]?: PriceTable[K] extends Record<string, number> ? Record<string, number> : PriceTable[K] };

/** The default table with `overrides` merged in, class by class. */
export function priceTable(overrides: PriceOverrides = {}): PriceTable {
  const merge = (k: Exclude<keyof PriceTable, 'currency'>) => ({ ...DEFAULT_PRICES[k], ...(overrides[k] ?? {}) });
  return {
    currency: overrides.currency ?? DEFAULT_PRICES.currency,
    storagePerGbMonth: merge('storagePerGbMonth'),
    putPer1000: merge('putPer1000'),
    getPer1000: merge('getPer1000'),
    retrievalPerGb: merge('retrievalPerGb'),
    transitionPer1000: merge('transitionPer1000'),
    minBillableBytes: merge('minBillableBytes'),
    minDurationDays: merge('minDurationDays'),
  };
}

const GB = 1024 ** 3;
const round = (n: number) => Math.round(n * 1e6) / 1e6;

function rate(table: Record<string, number>, storageClass: string, what: string): number {
  const v = table[storageClass];
  if (v === undefined) throw new Error(`price table has no ${what} price for storage class ${storageClass}`);
  return v;
}

/** Objects of one class, summed: `billableBytes` counts each object as at least the class's minimum. */
export interface Tally {
  storageClass: string;
  objects: number;
  bytes: number;
  billableBytes: number;
}

export function tally(sizes: Iterable<number>, storageClass: string, prices: PriceTable = DEFAULT_PRICES): Tally {
  const min = prices.minBillableBytes[storageClass] ?? 0;
  const t: Tally = { storageClass, objects: 0, bytes: 0, billableBytes: 0 };
  for (const s of sizes) {
    t.objects++;
    t.bytes += s;
    t.billableBytes += Math.max(s, min);
  }
  return t;
}

/** Monthly storage cost of tallies (any mix of classes). */
export function monthlyStorageCost(tallies: readonly Tally[], prices: PriceTable = DEFAULT_PRICES): number {
  return round(tallies.reduce((sum, t) => sum + (t.billableBytes / GB) * rate(prices.storagePerGbMonth, t.storageClass, 'storage'), 0));
}

export interface ArchiveCostInput {
  /** The originals to archive, as they are stored now (usually all STANDARD). */
  originals: Tally;
  /** The zip's size when known (after the build); otherwise estimated from `compressionRatio`. */
  zipBytes?: number;
  /** Zip bytes per original byte when the zip size is not known. Default 0.9 (Parquet is already compressed). */
  compressionRatio?: number;
  /** Multipart parts of the zip upload. Default: 8 MiB parts. */
  parts?: number;
  zipStorageClass?: string;
}

export interface ArchiveEstimate {
  currency: string;
  files: number;
  originalBytes: number;
  zipBytes: number;
  zipBytesEstimated: boolean;
  /** Storage per month: the originals where they are, and the zip in its class. */
  monthlyBefore: number;
  monthlyAfter: number;
  monthlySaving: number;
  /** Requests to archive once: a GET and a DELETE (free) per file, LISTs, the multipart upload, verification reads. */
  oneTimeRequests: number;
  /** The zip's minimum-duration charge: what deleting it before the minimum would still cost. */
  minimumDurationCharge: number;
  /** Months until the saving pays the one-time cost (null when there is no saving). */
  breakEvenMonths: number | null;
  /** For comparison: moving each file to the zip's class by lifecycle (not possible under 128 KiB; shown as if it were). */
  perFileInZipClassMonthly: number;
}

export function estimateArchive(input: ArchiveCostInput, prices: PriceTable = DEFAULT_PRICES): ArchiveEstimate {
  const cls = input.zipStorageClass ?? 'STANDARD_IA';
  const o = input.originals;
  const zipBytes = input.zipBytes ?? Math.ceil(o.bytes * (input.compressionRatio ?? 0.9) + o.objects * 100);
  const zip = tally([zipBytes], cls, prices);
  const monthlyBefore = monthlyStorageCost([o], prices);
  const monthlyAfter = monthlyStorageCost([zip], prices);
  const parts = input.parts ?? Math.max(1, Math.ceil(zipBytes / (8 * 1024 * 1024)));
  const lists = Math.ceil(o.objects / 1000) * 3; // the scan, the listing, the re-listing before delete
  const oneTimeRequests = round(
    (o.objects / 1000) * rate(prices.getPer1000, o.storageClass, 'GET') +
      (lists / 1000) * rate(prices.putPer1000, 'STANDARD', 'LIST') +
      ((parts + 2) / 1000) * rate(prices.putPer1000, cls, 'PUT') +
      // Verification: the end records, the directory, and (deep) the whole zip in 8 MiB ranges.
      ((2 + Math.ceil(zipBytes / (8 * 1024 * 1024))) / 1000) * rate(prices.getPer1000, cls, 'GET') +
      (zipBytes / GB) * (prices.retrievalPerGb[cls] ?? 0),
  );
  const minDays = prices.minDurationDays[cls] ?? 0;
  const minimumDurationCharge = round(((zip.billableBytes / GB) * rate(prices.storagePerGbMonth, cls, 'storage') * minDays) / 30);
  const monthlySaving = round(monthlyBefore - monthlyAfter);
  return {
    currency: prices.currency,
    files: o.objects,
    originalBytes: o.bytes,
    zipBytes,
    zipBytesEstimated: input.zipBytes === undefined,
    monthlyBefore,
    monthlyAfter,
    monthlySaving,
    oneTimeRequests,
    minimumDurationCharge,
    breakEvenMonths: monthlySaving > 0 ? round(oneTimeRequests / monthlySaving) : null,
    perFileInZipClassMonthly: monthlyStorageCost([{ storageClass: cls, objects: o.objects, bytes: o.bytes, billableBytes: perFileBillable(o, cls, prices) }], prices),
  };
}

// Without per-file sizes, the files are billed as at least the class minimum each: a lower bound,
// exact when every file is under the minimum (the case that matters here).
function perFileBillable(o: Tally, cls: string, prices: PriceTable): number {
  const min = prices.minBillableBytes[cls] ?? 0;
  return Math.max(o.bytes, o.objects * min);
}

/** Sums estimates (a run's total). */
export function sumEstimates(list: readonly ArchiveEstimate[], currency = DEFAULT_PRICES.currency): ArchiveEstimate {
  const sum = (f: (e: ArchiveEstimate) => number) => round(list.reduce((n, e) => n + f(e), 0));
  const monthlySaving = sum((e) => e.monthlySaving);
  const oneTimeRequests = sum((e) => e.oneTimeRequests);
  return {
    currency: list[0]?.currency ?? currency,
    files: sum((e) => e.files),
    originalBytes: sum((e) => e.originalBytes),
    zipBytes: sum((e) => e.zipBytes),
    zipBytesEstimated: list.some((e) => e.zipBytesEstimated),
    monthlyBefore: sum((e) => e.monthlyBefore),
    monthlyAfter: sum((e) => e.monthlyAfter),
    monthlySaving,
    oneTimeRequests,
    minimumDurationCharge: sum((e) => e.minimumDurationCharge),
    breakEvenMonths: monthlySaving > 0 ? round(oneTimeRequests / monthlySaving) : null,
    perFileInZipClassMonthly: sum((e) => e.perFileInZipClassMonthly),
  };
}
