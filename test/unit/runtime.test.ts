// Install and runtime hygiene: `npm ci` accepts the lock file, and everything runs on a Node that
// still gets security fixes (Node 20 reached end of life in April 2026, and the AWS SDK warns about
// it on every client it builds), including the danau command started from a shell whose first Node
// is the machine's own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../lib/config';

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const readJson = (file: string): unknown => JSON.parse(readFileSync(path.join(repoRoot, file), 'utf8'));
const pkg = readJson('package.json') as { engines: { node: string } };
const lock = readJson('package-lock.json') as { packages: Record<string, LockEntry> };

/** The oldest Node major that still gets security fixes (22 is maintained until April 2027). */
const OLDEST_SUPPORTED_NODE = 22;
const major = (version: string): number => Number(/^v?(\d+)/.exec(version)?.[1]);
const enginesMajor = major(/^>=\s*(\d+)/.exec(pkg.engines.node)?.[1] ?? 'none');

/** Whether `name`, required from the package at lock path `from`, resolves to a lock entry, as Node resolves it. */
function resolvesInLock(from: string, name: string): boolean {
  let dir = from;
  for (;;) {
    if (`${dir ? `${dir}/` : ''}node_modules/${name}` in lock.packages) return true;
    if (!dir) return false;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent < 0 ? '' : dir.slice(0, parent);
  }
}

// The shell of someone who never ran setup's Node: PATH without the directory of the Node running
// this test (the project's, when run through npm test), so the machine's Node, if any, comes first.
const pathEntries = (process.env.PATH ?? '').split(':');
const ownNodeDir = path.dirname(process.execPath);
const realDir = (dir: string): string => {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
};
const machineEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: pathEntries.filter((d) => d && realDir(d) !== ownNodeDir).join(':') };
  // Nobody hides the AWS SDK's warning here: it must not appear because the Node is new enough.
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  return env;
};

// Builds the platform's S3 client, as every activity that touches the lake does, and prints the Node version.
const S3_PROBE = `const { createS3Client } = require('./dist/lib/s3');
const { loadConfig } = require('./dist/lib/config');
createS3Client(loadConfig());
process.stdout.write(process.version);`;
const AWS_SDK_WARNING = /NodeVersionSupportWarning/;

describe('runtime', () => {
  it('package.json asks for a Node that gets security fixes, its types match it, and the tests run on it', () => {
    assert.ok(enginesMajor >= OLDEST_SUPPORTED_NODE, `engines.node is ${pkg.engines.node}: Node ${enginesMajor} gets no security fixes`);
    assert.equal(major(lock.packages['node_modules/@types/node']?.version ?? 'none'), enginesMajor, '@types/node is not the engines Node');
    assert.ok(major(process.version) >= enginesMajor, `the tests run on Node ${process.version}, not ${pkg.engines.node}`);
  });

  it('package-lock.json records every dependency, optional per-platform ones included, so npm ci accepts it', () => {
    const missing: string[] = [];
    for (const [at, entry] of Object.entries(lock.packages)) {
      const wanted = { ...entry.dependencies, ...entry.optionalDependencies, ...(at === '' ? entry.devDependencies : {}) };
      for (const name of Object.keys(wanted)) if (!resolvesInLock(at, name)) missing.push(`${name} (for ${at || 'the project'})`);
    }
    assert.deepEqual(missing, []);
  });

  it('scripts/node runs on the project Node even when the machine Node comes first on PATH: no AWS SDK warning', () => {
    const env = machineEnv();
    // The probe does see the warning on an end-of-life Node, where the machine has one first on PATH.
    const machine = spawnSync('node', ['-e', S3_PROBE], { cwd: repoRoot, env, encoding: 'utf8' });
    if (machine.status === 0 && major(machine.stdout) < OLDEST_SUPPORTED_NODE) assert.match(machine.stderr, AWS_SDK_WARNING);

    const r = spawnSync(path.join(repoRoot, 'scripts', 'node'), ['-e', S3_PROBE], { cwd: repoRoot, env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(major(r.stdout) >= enginesMajor, `scripts/node ran Node ${r.stdout}`);
    assert.doesNotMatch(r.stderr, AWS_SDK_WARNING);
  });

  it('the danau command (package.json bin) runs the CLI on the project Node, from any directory', () => {
    const bin = (readJson('package.json') as { bin: Record<string, string> }).bin.danau ?? 'none';
    const r = spawnSync(path.join(repoRoot, bin), ['--version'], { cwd: '/', env: machineEnv(), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const node = /^danau \S+ on Node (\S+)$/m.exec(r.stdout)?.[1];
    assert.ok(node && major(node) >= enginesMajor, `danau --version: ${r.stdout}`);
  });
});
