import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, parseEnvFile } from '../../lib/config';

const base = {
  DANAU_ENV: 'aws',
  DANAU_CONTROL_DATABASE_URL: 'postgres://u:p@db:5432/control',
  DANAU_WAREHOUSE_DATABASE_URL: 'postgres://u:p@db:5432/wh',
  DANAU_RAW_BUCKET: 'acme-raw',
  DANAU_PROCESSED_BUCKET: 'acme-processed',
  DANAU_ARCHIVE_BUCKET: 'acme-archive',
};

describe('loadConfig', () => {
  it('reads the local stack defaults when DANAU_ENV is local', () => {
    const c = loadConfig({});
    assert.equal(c.env, 'local');
    assert.equal(c.temporal.namespace, 'danau');
    assert.equal(c.buckets.raw, 'danau-raw');
    assert.equal(c.s3.forcePathStyle, true);
    assert.equal(c.temporal.uiUrl, 'http://127.0.0.1:8233');
  });

  it('refuses one bucket for the raw zone and the lake, naming the setting', () => {
    assert.throws(
      () => loadConfig({ ...base, DANAU_PROCESSED_BUCKET: 'acme-raw' }),
      (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('DANAU_PROCESSED_BUCKET: must differ from DANAU_RAW_BUCKET')),
    );
  });

  it('lets the environment override the defaults', () => {
    const c = loadConfig({ TEMPORAL_NAMESPACE: 'other', DANAU_RAW_BUCKET: 'x-raw' });
    assert.equal(c.temporal.namespace, 'other');
    assert.equal(c.buckets.raw, 'x-raw');
  });

  it('does not apply local defaults in aws mode, and names every missing field', () => {
    assert.throws(
      () => loadConfig({ DANAU_ENV: 'aws' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) => p.startsWith('DANAU_CONTROL_DATABASE_URL:')) &&
        err.problems.some((p) => p.startsWith('DANAU_RAW_BUCKET:')),
    );
  });

  it('names a malformed field and says what it must be', () => {
    assert.throws(
      () => loadConfig({ ...base, DANAU_CONTROL_DATABASE_URL: 'not a url', DANAU_TIMEZONE: 'Mars/Olympus', DANAU_S3_FORCE_PATH_STYLE: 'yes' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /DANAU_CONTROL_DATABASE_URL: .*must be a URL/);
        assert.match(err.message, /DANAU_TIMEZONE: must be an IANA time zone/);
        assert.match(err.message, /DANAU_S3_FORCE_PATH_STYLE: must be true or false/);
        return true;
      },
    );
  });

  it('reads a YAML config file between the defaults and the environment', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'danau-config-'));
    const file = path.join(dir, 'danau.yaml');
    writeFileSync(file, 'DANAU_RAW_BUCKET: file-raw\nDANAU_PROCESSED_BUCKET: file-processed\nTEMPORAL_NAMESPACE: from-file\n');
    const c = loadConfig({ ...base, DANAU_RAW_BUCKET: undefined, DANAU_PROCESSED_BUCKET: undefined, DANAU_CONFIG_FILE: file, TEMPORAL_NAMESPACE: 'from-env' });
    assert.equal(c.buckets.raw, 'file-raw');
    assert.equal(c.temporal.namespace, 'from-env');
  });

  it('refuses a config file that is missing or not a mapping', () => {
    assert.throws(() => loadConfig({ ...base, DANAU_CONFIG_FILE: '/nonexistent/danau.yaml' }), /DANAU_CONFIG_FILE: no such file/);
    const dir = mkdtempSync(path.join(tmpdir(), 'danau-config-'));
    const file = path.join(dir, 'list.yaml');
    writeFileSync(file, '- a\n- b\n');
    assert.throws(() => loadConfig({ ...base, DANAU_CONFIG_FILE: file }), /must hold a mapping/);
  });
});

describe('S3 credentials', () => {
  it('come from the config layers, and must come as a pair', () => {
    assert.deepEqual(loadConfig({}).s3.credentials, { accessKeyId: 'danau', secretAccessKey: 'danau-local-secret' });
    assert.equal(loadConfig(base).s3.credentials, undefined);
    assert.throws(() => loadConfig({ ...base, AWS_ACCESS_KEY_ID: 'x' }), /set both or neither/);
  });
});

describe('parseEnvFile', () => {
  it('skips comments and blank lines and keeps = inside values', () => {
    assert.deepEqual(parseEnvFile('# c\n\nA=1\nB = x=y\n'), { A: '1', B: 'x=y' });
  });

  it('runs lake jobs on EMR and syncs to Glue only when told, with the code prefix under the processed bucket by default', () => {
    const local = loadConfig(base);
    assert.equal(local.emr.clusterId, undefined);
    assert.equal(local.emr.codeUri, 's3://acme-processed/_danau/code/');
    assert.equal(local.catalog.glueDatabase, undefined);
    const prod = loadConfig({ ...base, DANAU_EMR_CLUSTER_ID: 'j-2AXXXXXXGAPLF', DANAU_GLUE_DATABASE: 'processed' });
    assert.equal(prod.emr.clusterId, 'j-2AXXXXXXGAPLF');
    assert.equal(prod.catalog.glueDatabase, 'processed');
    assert.throws(
      () => loadConfig({ ...base, DANAU_EMR_CLUSTER_ID: 'my-cluster', DANAU_EMR_CODE_URI: 's3://code' }),
      (err: unknown) => err instanceof ConfigError && /DANAU_EMR_CLUSTER_ID: must be an EMR cluster id/.test(err.message) && /DANAU_EMR_CODE_URI: must be an s3:\/\/ prefix ending in \//.test(err.message),
    );
  });
});

describe('archive settings', () => {
  it('default when unset, and are read like every other key', () => {
    const c = loadConfig(base);
    assert.deepEqual(c.archive, { sse: undefined, rawSse: undefined, s3Checksum: true, conditionalDelete: true, partSize: 8 * 1024 * 1024, getConcurrency: 16, deflateLevel: 6 });
    const set = loadConfig({
      ...base,
      DANAU_ARCHIVE_SSE: 'aws:kms',
      DANAU_ARCHIVE_KMS_KEY_ID: 'alias/danau',
      DANAU_RAW_SSE: 'AES256',
      DANAU_RAW_KMS_KEY_ID: 'ignored-for-AES256',
      DANAU_ARCHIVE_S3_CHECKSUM: 'false',
      DANAU_ARCHIVE_CONDITIONAL_DELETE: '0',
      DANAU_ARCHIVE_PART_MIB: '16',
      DANAU_ARCHIVE_GET_CONCURRENCY: '4',
      DANAU_ARCHIVE_DEFLATE_LEVEL: '9',
    });
    assert.deepEqual(set.archive, { sse: { type: 'aws:kms', kmsKeyId: 'alias/danau' }, rawSse: { type: 'AES256' }, s3Checksum: false, conditionalDelete: false, partSize: 16 * 1024 * 1024, getConcurrency: 4, deflateLevel: 9 });
    // An empty value is unset, as it was when the archive read its own variables.
    assert.equal(loadConfig({ ...base, DANAU_ARCHIVE_PART_MIB: '', DANAU_ARCHIVE_SSE: '' }).archive.partSize, 8 * 1024 * 1024);
  });

  it('name every variable that is wrong and say what it must be', () => {
    assert.throws(
      () =>
        loadConfig({
          ...base,
          DANAU_ARCHIVE_SSE: 'aes',
          DANAU_RAW_SSE: 'KMS',
          DANAU_ARCHIVE_S3_CHECKSUM: 'yes',
          DANAU_ARCHIVE_PART_MIB: '4',
          DANAU_ARCHIVE_GET_CONCURRENCY: 'many',
          DANAU_ARCHIVE_DEFLATE_LEVEL: '6.5',
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /DANAU_ARCHIVE_SSE: must be AES256 or aws:kms/);
        assert.match(err.message, /DANAU_RAW_SSE: must be AES256 or aws:kms/);
        assert.match(err.message, /DANAU_ARCHIVE_S3_CHECKSUM: must be true or false/);
        assert.match(err.message, /DANAU_ARCHIVE_PART_MIB: must be an integer from 5 to 5120/);
        assert.match(err.message, /DANAU_ARCHIVE_GET_CONCURRENCY: must be an integer from 1 to 256/);
        assert.match(err.message, /DANAU_ARCHIVE_DEFLATE_LEVEL: must be an integer from 1 to 9/);
        return true;
      },
    );
  });
});

describe('metrics and alerts', () => {
  it('serve metrics on DANAU_METRICS_PORT with the SDK exporter on the next port unless told', () => {
    const c = loadConfig(base);
    assert.equal(c.metricsPort, 9464);
    assert.equal(c.sdkMetricsPort, 9465);
    assert.equal(loadConfig({ ...base, DANAU_SDK_METRICS_PORT: '19000' }).sdkMetricsPort, 19000);
    assert.equal(loadConfig({ ...base, DANAU_METRICS_PORT: '0' }).sdkMetricsPort, 0);
    assert.throws(() => loadConfig({ ...base, DANAU_SDK_METRICS_PORT: '9464' }), /DANAU_SDK_METRICS_PORT: must differ from DANAU_METRICS_PORT/);
    assert.throws(() => loadConfig({ ...base, DANAU_SDK_METRICS_PORT: 'x' }), (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('DANAU_SDK_METRICS_PORT:')));
  });

  it('post alerts to DANAU_ALERT_WEBHOOK_URL when it is an http(s) URL, and log them when it is unset', () => {
    assert.equal(loadConfig(base).alerts.webhookUrl, undefined);
    assert.equal(loadConfig({ ...base, DANAU_ALERT_WEBHOOK_URL: 'https://hooks.example.com/danau' }).alerts.webhookUrl, 'https://hooks.example.com/danau');
    assert.throws(() => loadConfig({ ...base, DANAU_ALERT_WEBHOOK_URL: 'hooks.example.com' }), /DANAU_ALERT_WEBHOOK_URL: must be an http\(s\) URL/);
    assert.throws(() => loadConfig({ ...base, DANAU_ALERT_WEBHOOK_URL: 'ftp://hooks.example.com/x' }), /DANAU_ALERT_WEBHOOK_URL: must be an http\(s\) URL/);
  });
});
