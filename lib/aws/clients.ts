// The one place AWS service clients other than S3 are made (S3 has its own helper in lib/s3): DMS,
// EMR, Athena, Redshift Data and Secrets Manager. The region and credentials are S3's, and
// DANAU_AWS_API_ENDPOINT points them at a local AWS-API server (moto) on one machine. On AWS it is
// unset and the SDK finds the regional endpoints itself.
import { Readable } from 'node:stream';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DatabaseMigrationServiceClient } from '@aws-sdk/client-database-migration-service';
import { EMRClient } from '@aws-sdk/client-emr';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DanauConfig } from '../config';

type AwsClientConfig = Pick<DanauConfig, 's3' | 'aws'>;

function clientOptions(config: AwsClientConfig): { region: string; endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string } } {
  return {
    region: config.s3.region,
    ...(config.aws.apiEndpoint ? { endpoint: config.aws.apiEndpoint } : {}),
    ...(config.s3.credentials ? { credentials: config.s3.credentials } : {}),
  };
}

interface RawHttpResponse {
  headers: Record<string, string>;
  body: unknown;
}

const ISO_TIMESTAMP_FIELD = /("[A-Za-z]*(?:Date|Time|At)": )"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)(Z|[+-]\d\d:\d\d)?"/g;

/**
 * moto answers AWS's JSON protocols with timestamps as ISO strings (`"…Date": "2026-11-23T13:48:01.27"`)
 * where AWS sends epoch seconds, and the SDK's deserializer rejects them. Rewritten here, before the
 * deserializer sees the body, and only for a local endpoint: on AWS nothing is touched.
 */
export function epochSecondsFromLocalEndpoint(response: string): string {
  return response.replace(ISO_TIMESTAMP_FIELD, (_m, field: string, iso: string, zone: string | undefined) => `${field}${Date.parse(`${iso}${zone ?? 'Z'}`) / 1000}`);
}

/** Reads a raw HTTP response body and hands back a rewritten copy. */
async function rewriteBody(response: RawHttpResponse): Promise<void> {
  if (!(response.body instanceof Readable)) return;
  const chunks: Buffer[] = [];
  for await (const chunk of response.body) chunks.push(Buffer.from(chunk as Uint8Array));
  const text = epochSecondsFromLocalEndpoint(Buffer.concat(chunks).toString('utf8'));
  delete response.headers['content-length'];
  response.body = Readable.from([Buffer.from(text, 'utf8')]);
}

type LocalTimestampsClient = DatabaseMigrationServiceClient | EMRClient | AthenaClient | RedshiftDataClient | SecretsManagerClient;

function withLocalTimestamps<C extends LocalTimestampsClient>(client: C, config: AwsClientConfig): C {
  if (!config.aws.apiEndpoint) return client;
  // Low priority in the deserialize step runs inside the deserializer: the body is rewritten before it is parsed.
  (client.middlewareStack as DatabaseMigrationServiceClient['middlewareStack']).add(
    (next) => async (args) => {
      const out = await next(args);
      await rewriteBody(out.response as RawHttpResponse);
      return out;
    },
    { step: 'deserialize', priority: 'low', name: 'danauLocalTimestamps' },
  );
  return client;
}

export function createDmsClient(config: AwsClientConfig): DatabaseMigrationServiceClient {
  return withLocalTimestamps(new DatabaseMigrationServiceClient(clientOptions(config)), config);
}

export function createEmrClient(config: AwsClientConfig): EMRClient {
  return withLocalTimestamps(new EMRClient(clientOptions(config)), config);
}

export function createAthenaClient(config: AwsClientConfig): AthenaClient {
  return withLocalTimestamps(new AthenaClient(clientOptions(config)), config);
}

export function createRedshiftDataClient(config: AwsClientConfig): RedshiftDataClient {
  return withLocalTimestamps(new RedshiftDataClient(clientOptions(config)), config);
}

export function createSecretsManagerClient(config: AwsClientConfig): SecretsManagerClient {
  return withLocalTimestamps(new SecretsManagerClient(clientOptions(config)), config);
}
