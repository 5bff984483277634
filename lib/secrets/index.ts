// The one place secrets are read (issue 12, item 7). A source names its connection secret by
// reference; the provider chosen by DANAU_SECRETS resolves that reference each time a connection is
// made, so a source added (or a secret rotated) after the worker started needs no restart:
//   env             the reference is a variable name, read from the process environment and the
//                   config files (config/local.env, DANAU_CONFIG_FILE) at use, not from the
//                   snapshot taken at start-up;
//   secretsmanager  the reference is a Secrets Manager secret name or ARN; its current value is read.
// Values are kept for DANAU_SECRETS_TTL_SECONDS, then read again. A reference that resolves to
// nothing is not kept, so a secret created a moment later is found at once.
// Messages name the reference and never the value.
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { resolveEnvironment, type DanauConfig } from '../config';
import { createSecretsManagerClient } from '../aws/clients';

export type SecretProviderKind = DanauConfig['secrets']['provider'];

/**
 * The secret cannot be had, and trying again will not help until someone acts: the variable is
 * unset, the secret does not exist, has no value, or the worker may not read it.
 */
export class SecretUnavailableError extends Error {
  constructor(
    readonly provider: SecretProviderKind,
    readonly reference: string,
    message: string,
  ) {
    super(message);
    this.name = 'SecretUnavailableError';
  }
}

export interface SecretProvider {
  readonly kind: SecretProviderKind;
  /**
   * The secret's current value (possibly cached for the TTL; `fresh` reads it anew and refreshes the
   * cache); SecretUnavailableError when there is none.
   */
  resolve(reference: string, options?: { fresh?: boolean }): Promise<string>;
  /** What a reference names, for messages: "environment variable X", "Secrets Manager secret Y". */
  describe(reference: string): string;
  close(): void;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Reads variables at each call; the default reads the live process environment over the config files. */
export class EnvSecretProvider implements SecretProvider {
  readonly kind = 'env' as const;
  constructor(private readonly read: () => Readonly<Record<string, string | undefined>> = () => resolveEnvironment(process.env)) {}

  describe(reference: string): string {
    return `environment variable ${reference}`;
  }

  resolve(reference: string): Promise<string> {
    if (!ENV_NAME.test(reference)) {
      return Promise.reject(new SecretUnavailableError('env', reference, `${reference} is not an environment variable name, and DANAU_SECRETS=env reads secrets from the environment`));
    }
    const value = this.read()[reference];
    if (!value) {
      return Promise.reject(new SecretUnavailableError('env', reference, `environment variable ${reference} is not set in the worker's environment (nor in its config files)`));
    }
    return Promise.resolve(value);
  }

  close(): void {}
}

/** Secrets Manager error names that mean the secret cannot be read until someone acts. */
const UNAVAILABLE: Record<string, string> = {
  ResourceNotFoundException: 'does not exist',
  AccessDeniedException: 'cannot be read by the worker (access denied)',
  DecryptionFailure: 'cannot be decrypted by the worker (KMS)',
  InvalidRequestException: 'cannot be read now (scheduled for deletion, or disabled)',
};

export class SecretsManagerSecretProvider implements SecretProvider {
  readonly kind = 'secretsmanager' as const;
  constructor(private readonly client: SecretsManagerClient) {}

  describe(reference: string): string {
    return `Secrets Manager secret ${reference}`;
  }

  async resolve(reference: string): Promise<string> {
    let out;
    try {
      out = await this.client.send(new GetSecretValueCommand({ SecretId: reference }));
    } catch (err) {
      const why = UNAVAILABLE[(err as { name?: string }).name ?? ''];
      // Anything else (throttling, a network error) may pass: left to the caller's retries.
      if (why) throw new SecretUnavailableError('secretsmanager', reference, `Secrets Manager secret ${reference} ${why}`);
      throw err;
    }
    if (!out.SecretString) {
      throw new SecretUnavailableError('secretsmanager', reference, `Secrets Manager secret ${reference} has no string value (a binary secret cannot hold a connection string)`);
    }
    return out.SecretString;
  }

  close(): void {
    this.client.destroy();
  }
}

/** Keeps each resolved value for ttlMs; failures are never kept. */
export class CachedSecretProvider implements SecretProvider {
  private readonly cache = new Map<string, { value: string; until: number }>();
  constructor(
    private readonly inner: SecretProvider,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get kind(): SecretProviderKind {
    return this.inner.kind;
  }

  describe(reference: string): string {
    return this.inner.describe(reference);
  }

  async resolve(reference: string, options: { fresh?: boolean } = {}): Promise<string> {
    const hit = this.cache.get(reference);
    if (hit && hit.until > this.now() && !options.fresh) return hit.value;
    try {
      const value = await this.inner.resolve(reference);
      if (this.ttlMs > 0) this.cache.set(reference, { value, until: this.now() + this.ttlMs });
      return value;
    } catch (err) {
      this.cache.delete(reference);
      throw err;
    }
  }

  close(): void {
    this.cache.clear();
    this.inner.close();
  }
}

/** The provider DANAU_SECRETS names, with the TTL cache in front. */
export function createSecretProvider(config: Pick<DanauConfig, 'secrets' | 's3' | 'aws'>): SecretProvider {
  const inner = config.secrets.provider === 'secretsmanager' ? new SecretsManagerSecretProvider(createSecretsManagerClient(config)) : new EnvSecretProvider();
  return new CachedSecretProvider(inner, config.secrets.ttlSeconds * 1000);
}
