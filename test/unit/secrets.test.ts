// The secret provider (lib/secrets) and the source connections built on it: a secret is read when it
// is used, not when the worker started, a missing one is named, and values are reused for a TTL only.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/common/errors';
import { ConfigError, loadConfig } from '../../lib/config';
import { CachedSecretProvider, EnvSecretProvider, SecretUnavailableError, createSecretProvider, type SecretProvider } from '../../lib/secrets';
import { SourceConnections, connectionUrlFromSecret, type SourceRecord } from '../../lib/sources';

const variable = `DANAU_TEST_SECRET_${process.pid}`;

describe('EnvSecretProvider', () => {
  after(() => {
    delete process.env[variable];
  });

  it('reads the process environment when asked, not when it was made', async () => {
    delete process.env[variable];
    const provider = new EnvSecretProvider();
    await assert.rejects(provider.resolve(variable), (err: unknown) => {
      assert.ok(err instanceof SecretUnavailableError);
      assert.equal(err.message, `environment variable ${variable} is not set in the worker's environment (nor in its config files)`);
      return true;
    });
    process.env[variable] = 'postgres://u:first@db:5432/x';
    assert.equal(await provider.resolve(variable), 'postgres://u:first@db:5432/x');
    process.env[variable] = 'postgres://u:second@db:5432/x';
    assert.equal(await provider.resolve(variable), 'postgres://u:second@db:5432/x');
  });

  it('reads the config files too (config/local.env holds the sample sources)', async () => {
    assert.match(await new EnvSecretProvider().resolve('DANAU_SOURCE_LABS_URL'), /^postgres:\/\//);
  });

  it('refuses a reference that cannot be a variable name', async () => {
    await assert.rejects(new EnvSecretProvider().resolve('danau/sources/labs'), /danau\/sources\/labs is not an environment variable name, and DANAU_SECRETS=env/);
  });
});

describe('CachedSecretProvider', () => {
  class Counting implements SecretProvider {
    readonly kind = 'env' as const;
    reads = 0;
    value: string | null = 'v1';
    describe = (r: string) => `environment variable ${r}`;
    resolve(reference: string): Promise<string> {
      this.reads++;
      return this.value === null ? Promise.reject(new SecretUnavailableError('env', reference, `${reference} unset`)) : Promise.resolve(this.value);
    }
    close(): void {}
  }

  it('reuses a value for the TTL, then reads it again; a failure is never kept', async () => {
    let now = 1_000;
    const inner = new Counting();
    const cached = new CachedSecretProvider(inner, 60_000, () => now);
    inner.value = null;
    await assert.rejects(cached.resolve('X'), /X unset/);
    inner.value = 'v1';
    assert.equal(await cached.resolve('X'), 'v1', 'a secret set after a miss is found at once');
    inner.value = 'v2';
    now += 59_999;
    assert.equal(await cached.resolve('X'), 'v1');
    now += 2;
    assert.equal(await cached.resolve('X'), 'v2', 'a rotated value is seen once the TTL has passed');
    inner.value = 'v3';
    assert.equal(await cached.resolve('X'), 'v2');
    assert.equal(await cached.resolve('X', { fresh: true }), 'v3', 'fresh reads anew');
    assert.equal(await cached.resolve('X'), 'v3', 'and refreshes the cache');
    assert.equal(inner.reads, 4);
  });
});

describe('createSecretProvider and DANAU_SECRETS', () => {
  it('chooses the provider by configuration, and names a bad setting', () => {
    const env = loadConfig({ ...process.env, DANAU_SECRETS: 'env', DANAU_SECRETS_TTL_SECONDS: '' });
    assert.equal(env.secrets.provider, 'env');
    assert.equal(env.secrets.ttlSeconds, 60);
    const sm = loadConfig({ ...process.env, DANAU_SECRETS: 'secretsmanager', DANAU_SECRETS_TTL_SECONDS: '5' });
    const provider = createSecretProvider(sm);
    assert.equal(provider.kind, 'secretsmanager');
    assert.equal(provider.describe('arn:aws:secretsmanager:us-east-1:123456789012:secret:x'), 'Secrets Manager secret arn:aws:secretsmanager:us-east-1:123456789012:secret:x');
    provider.close();
    assert.throws(() => loadConfig({ ...process.env, DANAU_SECRETS: 'vault' }), (err: unknown) => err instanceof ConfigError && /DANAU_SECRETS: must be env or secretsmanager/.test(err.message));
  });
});

describe('connectionUrlFromSecret', () => {
  it('takes a URL, JSON with url, or an RDS-managed secret', () => {
    assert.equal(connectionUrlFromSecret('postgres', 'labs', ' postgres://a:b@h:1/labs\n'), 'postgres://a:b@h:1/labs');
    assert.equal(connectionUrlFromSecret('mysql', 'clinic', '{"url":"mysql://a:b@h:3306/clinic"}'), 'mysql://a:b@h:3306/clinic');
    assert.equal(
      connectionUrlFromSecret('postgres', 'labs', JSON.stringify({ engine: 'postgres', host: 'db.example', port: 5432, username: 'danau', password: 'p@ss/word' })),
      'postgres://danau:p%40ss%2Fword@db.example:5432/labs',
    );
    assert.equal(connectionUrlFromSecret('postgres', 'labs', 'hunter2'), null);
    assert.equal(connectionUrlFromSecret('postgres', 'labs', '{"username":"a"}'), null);
  });
});

describe('SourceConnections', () => {
  const source: SourceRecord = { sourceName: 'late', engine: 'postgres', databaseName: 'labs', connectionSecret: variable, description: '' };

  it('resolves the connection string at use: unset is a non-retryable failure naming the variable, set later it is found', async () => {
    const connections = new SourceConnections(new CachedSecretProvider(new EnvSecretProvider(), 0));
    try {
      delete process.env[variable];
      await assert.rejects(connections.connectionUrl(source), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, ErrorType.SourceMisconfigured);
        assert.equal(err.nonRetryable, true);
        assert.equal(err.message, `source late: environment variable ${variable} is not set in the worker's environment (nor in its config files)`);
        return true;
      });
      process.env[variable] = 'not a url';
      await assert.rejects(connections.connectionUrl(source), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.match(err.message, new RegExp(`^source late: environment variable ${variable} does not hold a connection URL`));
        assert.doesNotMatch(err.message, /not a url/, 'the value is never quoted');
        return true;
      });
      process.env[variable] = 'postgres://u:p@127.0.0.1:1/labs';
      assert.equal(await connections.connectionUrl(source), 'postgres://u:p@127.0.0.1:1/labs');
    } finally {
      await connections.closeAll();
    }
  });
});
