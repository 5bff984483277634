// The Secrets Manager provider through the real SDK client, against the stack's AWS-API endpoint
// (moto, DANAU_AWS_API_ENDPOINT): a secret is found by name and by ARN, a rotated value is seen once
// the TTL has passed, and a missing secret is named.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateSecretCommand, DeleteSecretCommand, PutSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createSecretsManagerClient } from '../../lib/aws/clients';
import { createSecretProvider, SecretUnavailableError, type SecretProvider } from '../../lib/secrets';
import { SourceConnections, type SourceRecord } from '../../lib/sources';
import { testConfig, uniqueSuffix } from '../support/stack';

describe('Secrets Manager secret provider (moto)', () => {
  const config = testConfig({ DANAU_SECRETS: 'secretsmanager', DANAU_SECRETS_TTL_SECONDS: '1' });
  const name = `danau-test/${uniqueSuffix()}/labs`;
  const labsUrl = testConfig().environment.DANAU_SOURCE_LABS_URL!;
  let admin: SecretsManagerClient;
  let provider: SecretProvider;
  let arn: string;

  before(async () => {
    assert.ok(config.aws.apiEndpoint, 'DANAU_AWS_API_ENDPOINT must point at the stack (moto)');
    admin = createSecretsManagerClient(config);
    provider = createSecretProvider(config);
    arn = (await admin.send(new CreateSecretCommand({ Name: name, SecretString: 'postgres://danau:old@db.example:5432/labs' }))).ARN!;
  });

  after(async () => {
    await admin?.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
    admin?.destroy();
    provider?.close();
  });

  it('resolves a secret by name and by ARN, and sees a rotated value after the TTL', async () => {
    assert.equal(provider.kind, 'secretsmanager');
    assert.equal(await provider.resolve(name), 'postgres://danau:old@db.example:5432/labs');
    assert.equal(await provider.resolve(arn), 'postgres://danau:old@db.example:5432/labs');

    // Rotation: a new current version. Within the TTL the worker keeps the value it has.
    await admin.send(new PutSecretValueCommand({ SecretId: name, SecretString: labsUrl }));
    assert.equal(await provider.resolve(name), 'postgres://danau:old@db.example:5432/labs');
    await new Promise((r) => setTimeout(r, 1_100));
    assert.equal(await provider.resolve(name), labsUrl);
  });

  it('names a secret that does not exist, and a source whose secret is missing fails naming it', async () => {
    const missing = `danau-test/${uniqueSuffix()}/nosuch`;
    await assert.rejects(provider.resolve(missing), (err: unknown) => {
      assert.ok(err instanceof SecretUnavailableError);
      assert.equal(err.message, `Secrets Manager secret ${missing} does not exist`);
      return true;
    });
    const connections = new SourceConnections(provider);
    const source: SourceRecord = { sourceName: 'ghost', engine: 'postgres', databaseName: 'labs', connectionSecret: missing, description: '' };
    await assert.rejects(connections.connectionUrl(source), { message: `source ghost: Secrets Manager secret ${missing} does not exist` });
  });

  it('reads a source catalog through a secret held in Secrets Manager', async () => {
    await admin.send(new PutSecretValueCommand({ SecretId: name, SecretString: labsUrl }));
    const connections = new SourceConnections(provider);
    try {
      const source: SourceRecord = { sourceName: 'labs_sm', engine: 'postgres', databaseName: 'labs', connectionSecret: arn, description: '' };
      const found = await connections.get(source).describeTable('public', 'lab_results');
      assert.ok(found && found.primaryKey.length > 0);
    } finally {
      await connections.closeAll();
    }
  });
});
