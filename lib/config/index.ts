// The one configuration loader. Layers, lowest first:
//   1. config/local.env, when DANAU_ENV is `local` (the default): the local stack's addresses;
//   2. a YAML or JSON file named by DANAU_CONFIG_FILE (flat KEY: value pairs, same names as the env);
//   3. the process environment.
// The result is validated once at start-up; an error names every field that is wrong.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { taskQueues, type TaskQueues } from '../common/temporal';
import { DEFAULT_ARCHIVE_SETTINGS, type ArchiveSettings } from '../archive/settings';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');

const required = { error: (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : 'must be a string') };

const bucket = () => z.string(required).regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name');

const url = () =>
  z.string(required).refine((v) => /^[a-z][a-z0-9+.-]*:\/\//i.test(v), {
    message: 'must be a URL such as postgres://user:pass@host:port/db',
  });

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const bool = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

/** Optional: an empty value counts as unset (as the archive's own reader had it). */
const unsetIfEmpty = <T extends z.ZodType>(inner: T) => z.preprocess((v) => (v === '' ? undefined : v), inner.optional());

/** An optional integer from min to max. */
const optionalIntBetween = (min: number, max: number) => {
  const message = `must be an integer from ${min} to ${max}`;
  return unsetIfEmpty(z.coerce.number({ error: message }).int(message).min(min, message).max(max, message));
};

const optionalSse = unsetIfEmpty(z.enum(['AES256', 'aws:kms'], { error: 'must be AES256 or aws:kms' }));

const schema = z.object({
  DANAU_ENV: z.enum(['local', 'aws'], { error: 'must be local or aws' }).default('local'),
  DANAU_HOME: z.string().default(path.join(repoRoot, '.danau')),
  TEMPORAL_ADDRESS: z.string().regex(/^[^:]+:\d+$/, 'must be host:port').default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_UI_PORT: z.coerce.number().int().positive().default(8233),
  TEMPORAL_UI_URL: z.string().optional(),
  DANAU_CONTROL_DATABASE_URL: url(),
  DANAU_WAREHOUSE_DATABASE_URL: url(),
  DANAU_S3_ENDPOINT: z.url({ error: 'must be a URL such as http://127.0.0.1:9000' }).optional(),
  DANAU_S3_FORCE_PATH_STYLE: bool.default(false),
  // An AWS-API-compatible endpoint (moto locally) for DMS, EMR and the Redshift Data API; unset on AWS.
  DANAU_AWS_API_ENDPOINT: z.url({ error: 'must be a URL such as http://127.0.0.1:5055' }).optional(),
  // Production lake: set the cluster id and lake jobs run as EMR steps instead of local spark-submit.
  DANAU_EMR_CLUSTER_ID: z.string().regex(/^j-[A-Z0-9]+$/, 'must be an EMR cluster id such as j-2AXXXXXXGAPLF').optional(),
  DANAU_EMR_CODE_URI: z.string().regex(/^s3:\/\/[^/]+\/(.*\/)?$/, 'must be an s3:// prefix ending in /').optional(),
  // The warm engine: a Spark Connect server lake jobs run in (the stack's locally; an EMR Spark Connect
  // session's endpoint in production). Unset without an EMR cluster: each job is its own spark-submit.
  // How many lake jobs a worker runs at once in the warm engine (or on EMR).
  DANAU_SPARK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
  DANAU_SPARK_CONNECT_URL: unsetIfEmpty(z.string().regex(/^sc:\/\/[^/:]+:\d+\/?$/, 'must look like sc://host:port')),
  // Production catalog: the Glue database the lake job syncs tables to, and Athena for queries.
  DANAU_GLUE_DATABASE: z.string().regex(/^[a-z0-9_]+$/, 'lower-case letters, digits and _').optional(),
  DANAU_ATHENA_WORKGROUP: z.string().min(1).default('primary'),
  DANAU_ATHENA_OUTPUT_URI: z.string().regex(/^s3:\/\//, 'must be an s3:// prefix').optional(),
  // The warehouse: models in this schema. Set a Redshift cluster (or serverless workgroup) to build
  // through the Redshift Data API instead of the local PostgreSQL.
  DANAU_WAREHOUSE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'lower-case letters, digits and _').default('analytics'),
  DANAU_REDSHIFT_CLUSTER_ID: z.string().min(1).optional(),
  DANAU_REDSHIFT_WORKGROUP: z.string().min(1).optional(),
  DANAU_REDSHIFT_DATABASE: z.string().min(1).default('dev'),
  DANAU_REDSHIFT_DB_USER: z.string().min(1).optional(),
  DANAU_REDSHIFT_SECRET_ARN: z.string().regex(/^arn:aws[a-z-]*:secretsmanager:/, 'must be a Secrets Manager ARN').optional(),
  // The role Redshift's COPY assumes to read staged Parquet from the processed bucket.
  DANAU_REDSHIFT_COPY_ROLE_ARN: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\//, 'must be an IAM role ARN').optional(),
  // Where source connection secrets are read, each time a connection is made: the environment
  // (process environment and the config files above, re-read at use) or AWS Secrets Manager.
  DANAU_SECRETS: z.enum(['env', 'secretsmanager'], { error: 'must be env or secretsmanager' }).default('env'),
  // How long a resolved secret is reused before it is read again (so a rotated value is picked up).
  DANAU_SECRETS_TTL_SECONDS: optionalIntBetween(0, 3600),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  // Optional: in AWS the SDK's default chain (instance or task role) finds credentials itself.
  AWS_ACCESS_KEY_ID: z.string().min(1).optional(),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  DANAU_RAW_BUCKET: bucket(),
  DANAU_PROCESSED_BUCKET: bucket(),
  DANAU_ARCHIVE_BUCKET: bucket(),
  DANAU_TIMEZONE: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone such as Asia/Jakarta')
    .default('Asia/Jakarta'),
  DANAU_TASK_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, . _ and - only').default('danau-'),
  DANAU_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  // The worker's metrics endpoint (0: none). The Temporal SDK's own Prometheus exporter listens on
  // DANAU_SDK_METRICS_PORT (default: the next port), and the endpoint serves its text with the platform's.
  DANAU_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  DANAU_SDK_METRICS_PORT: unsetIfEmpty(z.coerce.number({ error: 'must be a port from 1 to 65535' }).int('must be a port from 1 to 65535').min(1, 'must be a port from 1 to 65535').max(65535, 'must be a port from 1 to 65535')),
  // Alerts (freshness deadlines, dead letters, failed pipelines) are POSTed here as JSON; unset, they are logged.
  DANAU_ALERT_WEBHOOK_URL: unsetIfEmpty(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://hooks.example.com/danau' })),
  // Raw-zone archival: server-side encryption of the zips and of files recovered into the raw zone,
  // S3 checksums, conditional deletes, multipart part size, read-ahead and deflate level.
  DANAU_ARCHIVE_SSE: optionalSse,
  DANAU_ARCHIVE_KMS_KEY_ID: z.string().optional(),
  DANAU_RAW_SSE: optionalSse,
  DANAU_RAW_KMS_KEY_ID: z.string().optional(),
  DANAU_ARCHIVE_S3_CHECKSUM: unsetIfEmpty(bool),
  DANAU_ARCHIVE_CONDITIONAL_DELETE: unsetIfEmpty(bool),
  DANAU_ARCHIVE_PART_MIB: optionalIntBetween(5, 5120),
  DANAU_ARCHIVE_GET_CONCURRENCY: optionalIntBetween(1, 256),
  DANAU_ARCHIVE_DEFLATE_LEVEL: optionalIntBetween(1, 9),
});

export type ConfigInput = z.input<typeof schema>;
type Parsed = z.output<typeof schema>;

export interface DanauConfig {
  env: Parsed['DANAU_ENV'];
  home: string;
  temporal: { address: string; namespace: string; uiUrl: string; taskQueues: TaskQueues };
  controlDatabaseUrl: string;
  warehouseDatabaseUrl: string;
  s3: {
    endpoint?: string;
    forcePathStyle: boolean;
    region: string;
    credentials?: { accessKeyId: string; secretAccessKey: string };
  };
  /** DMS, EMR, Redshift Data: the same region and credentials as S3, and a local endpoint if set. */
  aws: { apiEndpoint?: string };
  /** Set: lake jobs run as steps on this EMR cluster, their files uploaded under codeUri. */
  emr: { clusterId?: string; codeUri: string };
  /** The warm engine's Spark Connect URL, when lake jobs run in one. */
  sparkConnectUrl?: string;
  /** Lake jobs a worker runs at once when they run in the warm engine or on EMR. */
  sparkConcurrency: number;
  warehouse: {
    schema: string;
    /** Set: models are built on Redshift through the Data API; otherwise on the local PostgreSQL. */
    redshift?: { clusterId?: string; workgroup?: string; database: string; dbUser?: string; secretArn?: string; copyRoleArn?: string };
  };
  /** Set: the lake job syncs tables to this Glue database, and queries run on Athena. */
  catalog: { glueDatabase?: string; athenaWorkGroup: string; athenaOutputUri?: string };
  buckets: { raw: string; processed: string; archive: string };
  timezone: string;
  logLevel: Parsed['DANAU_LOG_LEVEL'];
  /** The worker's metrics endpoint, http://127.0.0.1:<metricsPort>/metrics (0: none). */
  metricsPort: number;
  /** Where the Temporal SDK's Prometheus exporter listens (loopback); the endpoint above relays it. 0 when metricsPort is 0. */
  sdkMetricsPort: number;
  /** Set: alerts are POSTed to this URL as JSON; otherwise they are logged as warnings. */
  alerts: { webhookUrl?: string };
  /** Raw-zone archival settings (DANAU_ARCHIVE_*, DANAU_RAW_SSE*). */
  archive: ArchiveSettings;
  /** Source connection secrets: which provider resolves a source's secret reference, and for how long a value is reused. */
  secrets: { provider: Parsed['DANAU_SECRETS']; ttlSeconds: number };
  /**
   * The environment the config was read from, at start-up (Spark's environment, the sample
   * generator). Source secrets are not read from this snapshot but through lib/secrets, at use.
   */
  environment: Readonly<Record<string, string | undefined>>;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses KEY=VALUE lines (comments and blanks ignored), as config/local.env is written. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

function readConfigFile(file: string): Record<string, string> {
  if (!existsSync(file)) throw new ConfigError([`DANAU_CONFIG_FILE: no such file ${file}`]);
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8')); // JSON is YAML too
  } catch (err) {
    throw new ConfigError([`DANAU_CONFIG_FILE: ${file} is not valid YAML/JSON: ${(err as Error).message}`]);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([`DANAU_CONFIG_FILE: ${file} must hold a mapping of KEY: value`]);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (v !== null && typeof v === 'object') throw new ConfigError([`${k} (in ${file}): must be a plain value`]);
    out[k] = String(v);
  }
  return out;
}

/** Builds the merged variable map from the three layers. */
export function resolveEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  const danauEnv = env.DANAU_ENV ?? 'local';
  const localDefaults =
    danauEnv === 'local' ? parseEnvFile(readFileSync(path.join(repoRoot, 'config', 'local.env'), 'utf8')) : {};
  const fileLayer = env.DANAU_CONFIG_FILE ? readConfigFile(env.DANAU_CONFIG_FILE) : {};
  const merged: Record<string, string | undefined> = { ...localDefaults, ...fileLayer };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  return merged;
}

/** A KMS key id only means something with aws:kms; AES256 ignores it, as before. */
function sse(type: 'AES256' | 'aws:kms' | undefined, kmsKeyId: string | undefined): ArchiveSettings['sse'] {
  if (!type) return undefined;
  return type === 'aws:kms' && kmsKeyId ? { type, kmsKeyId } : { type };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): DanauConfig {
  const merged = resolveEnvironment(env);
  const result = schema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const c = result.data;
  if (Boolean(c.AWS_ACCESS_KEY_ID) !== Boolean(c.AWS_SECRET_ACCESS_KEY)) {
    throw new ConfigError(['AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: set both or neither']);
  }
  // A Hudi table lives under s3://<processed>/<source>/<schema>/<table>, the raw zone keeps the same
  // table's DMS files under s3://<raw>/<source>/<schema>/<table>/: one bucket for both would put raw
  // files inside the Hudi table, which Hudi's metadata table (RECORD_INDEX tables) refuses to index.
  if (c.DANAU_PROCESSED_BUCKET === c.DANAU_RAW_BUCKET) throw new ConfigError(['DANAU_PROCESSED_BUCKET: must differ from DANAU_RAW_BUCKET (the lake\'s tables would hold the raw files)']);
  const sdkMetricsPort = c.DANAU_METRICS_PORT === 0 ? 0 : (c.DANAU_SDK_METRICS_PORT ?? c.DANAU_METRICS_PORT + 1);
  if (sdkMetricsPort > 65535) throw new ConfigError(['DANAU_SDK_METRICS_PORT: DANAU_METRICS_PORT is 65535, so set this port yourself']);
  if (sdkMetricsPort !== 0 && sdkMetricsPort === c.DANAU_METRICS_PORT) throw new ConfigError(['DANAU_SDK_METRICS_PORT: must differ from DANAU_METRICS_PORT']);
  const [host] = c.TEMPORAL_ADDRESS.split(':');
  return {
    env: c.DANAU_ENV,
    home: c.DANAU_HOME,
    temporal: {
      address: c.TEMPORAL_ADDRESS,
      namespace: c.TEMPORAL_NAMESPACE,
      uiUrl: c.TEMPORAL_UI_URL ?? `http://${host}:${c.TEMPORAL_UI_PORT}`,
      taskQueues: taskQueues(c.DANAU_TASK_QUEUE_PREFIX),
    },
    controlDatabaseUrl: c.DANAU_CONTROL_DATABASE_URL,
    warehouseDatabaseUrl: c.DANAU_WAREHOUSE_DATABASE_URL,
    s3: {
      endpoint: c.DANAU_S3_ENDPOINT,
      forcePathStyle: c.DANAU_S3_FORCE_PATH_STYLE,
      region: c.AWS_REGION,
      credentials:
        c.AWS_ACCESS_KEY_ID && c.AWS_SECRET_ACCESS_KEY
          ? { accessKeyId: c.AWS_ACCESS_KEY_ID, secretAccessKey: c.AWS_SECRET_ACCESS_KEY }
          : undefined,
    },
    aws: { apiEndpoint: c.DANAU_AWS_API_ENDPOINT },
    emr: { clusterId: c.DANAU_EMR_CLUSTER_ID, codeUri: c.DANAU_EMR_CODE_URI ?? `s3://${c.DANAU_PROCESSED_BUCKET}/_danau/code/` },
    sparkConnectUrl: c.DANAU_SPARK_CONNECT_URL,
    sparkConcurrency: c.DANAU_SPARK_CONCURRENCY,
    warehouse: {
      schema: c.DANAU_WAREHOUSE_SCHEMA,
      redshift:
        c.DANAU_REDSHIFT_CLUSTER_ID || c.DANAU_REDSHIFT_WORKGROUP
          ? { clusterId: c.DANAU_REDSHIFT_CLUSTER_ID, workgroup: c.DANAU_REDSHIFT_WORKGROUP, database: c.DANAU_REDSHIFT_DATABASE, dbUser: c.DANAU_REDSHIFT_DB_USER, secretArn: c.DANAU_REDSHIFT_SECRET_ARN, copyRoleArn: c.DANAU_REDSHIFT_COPY_ROLE_ARN }
          : undefined,
    },
    catalog: { glueDatabase: c.DANAU_GLUE_DATABASE, athenaWorkGroup: c.DANAU_ATHENA_WORKGROUP, athenaOutputUri: c.DANAU_ATHENA_OUTPUT_URI },
    buckets: { raw: c.DANAU_RAW_BUCKET, processed: c.DANAU_PROCESSED_BUCKET, archive: c.DANAU_ARCHIVE_BUCKET },
    timezone: c.DANAU_TIMEZONE,
    logLevel: c.DANAU_LOG_LEVEL,
    metricsPort: c.DANAU_METRICS_PORT,
    sdkMetricsPort,
    alerts: { webhookUrl: c.DANAU_ALERT_WEBHOOK_URL },
    archive: {
      sse: sse(c.DANAU_ARCHIVE_SSE, c.DANAU_ARCHIVE_KMS_KEY_ID),
      rawSse: sse(c.DANAU_RAW_SSE, c.DANAU_RAW_KMS_KEY_ID),
      s3Checksum: c.DANAU_ARCHIVE_S3_CHECKSUM ?? DEFAULT_ARCHIVE_SETTINGS.s3Checksum,
      conditionalDelete: c.DANAU_ARCHIVE_CONDITIONAL_DELETE ?? DEFAULT_ARCHIVE_SETTINGS.conditionalDelete,
      partSize: c.DANAU_ARCHIVE_PART_MIB !== undefined ? c.DANAU_ARCHIVE_PART_MIB * 1024 * 1024 : DEFAULT_ARCHIVE_SETTINGS.partSize,
      getConcurrency: c.DANAU_ARCHIVE_GET_CONCURRENCY ?? DEFAULT_ARCHIVE_SETTINGS.getConcurrency,
      deflateLevel: c.DANAU_ARCHIVE_DEFLATE_LEVEL ?? DEFAULT_ARCHIVE_SETTINGS.deflateLevel,
    },
    secrets: { provider: c.DANAU_SECRETS, ttlSeconds: c.DANAU_SECRETS_TTL_SECONDS ?? 60 },
    environment: merged,
  };
}
