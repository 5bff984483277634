// Builds the workflow bundle once, for production workers (they start faster and run exactly the
// code that was reviewed). Fails if workflow code pulls in a Node built-in or an I/O library.
import { bundleWorkflowCode } from '@temporalio/worker';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { workflowInterceptorModules } from '../workers/interceptors';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), workflowInterceptorModules });
  const out = path.join(__dirname, '..', 'workflow-bundle.js');
  await writeFile(out, code);
  process.stdout.write(`workflow bundle: ${out} (${(code.length / 1024).toFixed(0)} KiB)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
