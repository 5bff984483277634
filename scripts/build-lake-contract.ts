// Writes the lake job's contract as JSON Schema for the Python side:
// scripts/spark/danau_lake/contract.schema.json, from lib/lake/job-contract.ts. `npm run contract`
// after a change there; test/unit/lake-job-contract.test.ts fails while the two differ.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../lib/config';
import { lakeJobContractJsonSchema } from '../lib/lake/job-contract';

export const CONTRACT_FILE = path.join(repoRoot, 'scripts', 'spark', 'danau_lake', 'contract.schema.json');

export function contractText(): string {
  return `${JSON.stringify(lakeJobContractJsonSchema(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(CONTRACT_FILE, contractText());
  console.log(`wrote ${path.relative(repoRoot, CONTRACT_FILE)}`);
}
