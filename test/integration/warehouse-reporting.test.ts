// Refreshing a reporting object whose inputs are not all built yet (issue 12, item 5): on a first run,
// one table's pipeline reaches a report that also reads another table's model, which does not exist
// yet. The refresh is skipped with the reason instead of failing, and refreshes once the input
// exists. The warehouse activity against a scratch control plane and a scratch PostgreSQL warehouse.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createWarehouseActivities } from '../../activities/warehouse';
import type { ControlPlane } from '../../lib/control-plane/store';
import { createS3Client } from '../../lib/s3';
import { PostgresWarehouse } from '../../lib/warehouse/postgres';
import type { ModelActivities } from '../../workflows/buildModels';
import { createScratchControlPlane, createScratchDatabase, testConfig, type ScratchDatabase } from '../support/stack';

describe('refreshReportingObject (PostgreSQL warehouse)', () => {
  let controlDb: ScratchDatabase;
  let controlPlane: ControlPlane;
  let warehouseDb: ScratchDatabase;
  let warehouse: PostgresWarehouse;
  let activities: ModelActivities;
  const env = new MockActivityEnvironment();

  before(async () => {
    ({ db: controlDb, controlPlane } = await createScratchControlPlane());
    warehouseDb = await createScratchDatabase('danau_test_warehouse');
    const config = testConfig({ DANAU_WAREHOUSE_DATABASE_URL: warehouseDb.url });
    warehouse = new PostgresWarehouse(warehouseDb.url);
    activities = createWarehouseActivities({ config, controlPlane, s3: createS3Client(config), warehouse });
    await controlPlane.upsertReporting(
      {
        name: 'rpt_daily_appointments',
        kind: 'table',
        dependsOn: ['fact_appointment', 'dim_doctor'],
        sql: 'SELECT d.specialty, COUNT(*) AS appointments FROM fact_appointment f JOIN dim_doctor d ON d.doctor_key = f.doctor_key GROUP BY d.specialty',
        enabled: true,
      },
      'test',
    );
    // dim_doctor is built (its table's pipeline ran); fact_appointment is not, yet.
    await warehouse.transaction(['CREATE SCHEMA analytics', 'CREATE TABLE analytics.dim_doctor (doctor_key int, specialty text)', "INSERT INTO analytics.dim_doctor VALUES (1, 'cardiology'), (2, 'oncology')"], { key: 'test:dim' });
  });

  after(async () => {
    await warehouse?.close();
    await controlPlane?.close();
    await warehouseDb?.drop();
    await controlDb?.drop();
  });

  it('skips a report whose input is not built yet, saying which, and refreshes it once the input exists', async () => {
    const first = await env.run(activities.refreshReportingObject, { name: 'rpt_daily_appointments', buildId: 'rpt_daily_appointments:run-1' });
    assert.deepEqual(first, { name: 'rpt_daily_appointments', kind: 'table', rows: 0, skipped: 'fact_appointment not built yet' });
    const [absent] = await warehouse.query("SELECT to_regclass('analytics.rpt_daily_appointments') IS NULL AS absent", { key: 'test:absent' });
    assert.equal(absent?.absent, true);

    await warehouse.transaction(['CREATE TABLE analytics.fact_appointment (appointment_id int, doctor_key int)', 'INSERT INTO analytics.fact_appointment VALUES (10, 1), (11, 1), (12, 2)'], { key: 'test:fact' });
    const second = await env.run(activities.refreshReportingObject, { name: 'rpt_daily_appointments', buildId: 'rpt_daily_appointments:run-2' });
    assert.deepEqual(second, { name: 'rpt_daily_appointments', kind: 'table', rows: 2, skipped: null });
    const report = await warehouse.query('SELECT specialty, appointments FROM analytics.rpt_daily_appointments ORDER BY specialty', { key: 'test:report' });
    assert.deepEqual(report, [
      { specialty: 'cardiology', appointments: '2' },
      { specialty: 'oncology', appointments: '1' },
    ]);
  });
});
