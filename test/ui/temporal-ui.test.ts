// The Temporal Web UI, in a real headless browser: a table's pipeline run is found by filtering the
// workflow list on the DanauTable search attribute, both by a `?query=` link (what `npm run demo`
// prints) and by the UI's own "Add Filter" control, and another table's run is left out.
// Real Temporal dev server (its bundled UI) and Debian's chromium driven by playwright-core, which
// never downloads a browser of its own: scripts/stack/chromium.sh installs the one launched here.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { chromium, type Browser, type Page } from 'playwright-core';
import { SearchAttribute } from '../../lib/common/temporal';
import { connectClient } from '../../lib/temporal/client';
import { TEST_NAMESPACE, TEST_QUEUE_PREFIX, testConfig, uniqueSuffix } from '../support/stack';

const CHROMIUM = process.env.DANAU_CHROMIUM ?? '/usr/bin/chromium';
const config = testConfig();
const artifacts = path.join(config.home, 'test-artifacts');

// Table keys of one run; the second shares the first's prefix, so a filter that matched by prefix
// or substring instead of equality would show it.
const suffix = uniqueSuffix();
const table = `uitest_${suffix}.public.patients`;
const otherTable = `uitest_${suffix}.public.patients_history`;
// The pipeline's workflow id, written out rather than taken from WorkflowId: the UI must show this form.
const pipelineId = `table-pipeline/${table}`;
const otherPipelineId = `table-pipeline/${otherTable}`;
// No worker ever polls this queue (the prefix is this process's own), so both runs stay Running.
const idleQueue = `${TEST_QUEUE_PREFIX}ui-no-worker`;

/** The workflow ids the list shows now: the link text of each row. */
async function shownWorkflowIds(page: Page): Promise<string[]> {
  const texts = await page.getByTestId('workflows-summary-configurable-table-row').locator('a').allTextContents();
  return texts.map((t) => t.trim());
}

/**
 * Waits until the list shows exactly the wanted ids (the UI renders rows after its own visibility
 * request, and after a filter it replaces the unfiltered rows), failing with what it shows instead.
 */
async function waitForRows(page: Page, want: { shown: string[]; hidden: string[] }, timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let ids: string[] = [];
  for (;;) {
    ids = await shownWorkflowIds(page);
    if (want.shown.every((id) => ids.includes(id)) && !want.hidden.some((id) => ids.includes(id))) return ids;
    if (Date.now() > deadline) break;
    await page.waitForTimeout(250);
  }
  throw new assert.AssertionError({
    message: `after ${timeoutMs} ms the workflow list at ${page.url()} shows ${JSON.stringify(ids.filter((id) => !/^[0-9a-f-]{36}$/.test(id)))}; wanted ${JSON.stringify(want.shown)} shown and ${JSON.stringify(want.hidden)} not shown`,
  });
}

/** Runs a UI step and keeps a screenshot of where it ended, passed or failed, for a person to look at. */
async function withScreenshot(page: Page, name: string, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } finally {
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true }).catch(() => undefined);
  }
}

describe('Temporal Web UI', { timeout: 180_000 }, () => {
  let client: Client;
  let browser: Browser;
  const started: string[] = [];

  before(async () => {
    // Fail with the fix, not a launch error (or a hang): Debian's chromium is installed by setup.
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: run \`bash scripts/stack/chromium.sh install\` (npm test's setup does), or set DANAU_CHROMIUM`);
    client = await connectClient(config);
    for (const [key, workflowId] of [[table, pipelineId], [otherTable, otherPipelineId]] as const) {
      await client.workflow.start('runTablePipeline', {
        taskQueue: idleQueue,
        workflowId,
        args: [{ table: key }],
        typedSearchAttributes: [
          { key: SearchAttribute.table, value: key },
          { key: SearchAttribute.layer, value: 'pipeline' },
        ],
        // Should this process die before its `after`, the runs still end on their own.
        workflowExecutionTimeout: '10 minutes',
      });
      started.push(workflowId);
    }
    // Visibility is eventually consistent: the UI asks once, so wait until both runs are listable.
    const query = `WorkflowId = "${pipelineId}" OR WorkflowId = "${otherPipelineId}"`;
    for (let i = 0; (await client.workflow.count(query)).count < 2; i++) {
      assert.ok(i < 100, 'the two pipeline runs did not appear in Temporal visibility within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    // As root (as the tests run here and in CI) Chromium will not start its sandbox, and unprivileged
    // user namespaces are often off in containers too: run it unsandboxed (playwright passes
    // --no-sandbox). It only ever loads our own UI on loopback, never untrusted pages.
    browser = await chromium
      .launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false, timeout: 30_000 })
      .catch((err: unknown) => {
        throw new Error(`Chromium at ${CHROMIUM} did not start headless within 30 s: ${err instanceof Error ? err.message : String(err)}`);
      });
  });

  after(async () => {
    await browser?.close();
    for (const workflowId of started) {
      await client.workflow
        .getHandle(workflowId)
        .terminate('temporal-ui test done')
        .catch((err: unknown) => console.error(`could not terminate ${workflowId}:`, err));
    }
    await client?.connection.close();
  });

  async function openPage(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.setDefaultTimeout(20_000);
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 30_000 });
    return page;
  }

  const listUrl = `${config.temporal.uiUrl}/namespaces/${TEST_NAMESPACE}/workflows`;

  it('a ?query= link on DanauTable lists that table pipeline run and not another table', async () => {
    const page = await openPage(`${listUrl}?query=${encodeURIComponent(`DanauTable="${table}"`)}`);
    await withScreenshot(page, 'temporal-ui-query-link', async () => {
      const ids = await waitForRows(page, { shown: [pipelineId], hidden: [otherPipelineId] });
      assert.deepEqual(ids.filter((id) => id.startsWith('table-pipeline/')), [pipelineId]);
      // The filter the UI applied is shown as a chip a person can read.
      await page.getByRole('button', { name: `DanauTable = "${table}"` }).waitFor();
    });
    await page.close();
  });

  it('the Add Filter control on DanauTable narrows the list to that table pipeline run', async () => {
    const page = await openPage(listUrl);
    await withScreenshot(page, 'temporal-ui-add-filter', async () => {
      // Unfiltered, both runs are listed (the newest first): what the filter must then leave out.
      await waitForRows(page, { shown: [pipelineId, otherPipelineId], hidden: [] });
      await page.getByTestId('add-filter-button').click();
      await page.getByTestId('workflow-filter-search').fill('DanauTable');
      await page.getByRole('menuitem', { name: 'DanauTable Keyword', exact: true }).click();
      await page.getByPlaceholder('Enter value...').fill(table);
      await page.getByTestId('apply-filter-button').click();
      const ids = await waitForRows(page, { shown: [pipelineId], hidden: [otherPipelineId] });
      assert.deepEqual(ids.filter((id) => id.startsWith('table-pipeline/')), [pipelineId]);
      // The filter is in the address too, so the filtered list can be shared as a link.
      const query = new URL(page.url()).searchParams.get('query') ?? '';
      assert.match(query, /DanauTable/);
      assert.ok(query.includes(`"${table}"`), `the UI's query ${query} does not name ${table}`);
    });
    await page.close();
  });
});
