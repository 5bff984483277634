// Check the platform end to end, through the same workers and queues the pipelines use:
//   1. the control plane answers and its migrations are applied (control queue);
//   2. every zone bucket takes a STANDARD_IA object and reports the class back (io queue);
//   3. Spark writes a Hudi table to the processed zone over s3a:// and reads it back (spark queue).
import { proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { SearchAttribute, siblingQueue } from '../lib/common/temporal';
import { parseWorkflowInput, type WorkflowInput } from '../lib/common/workflow-inputs';

export type CheckStackInput = WorkflowInput<'checkStack'>;

export interface ControlPlaneProbe {
  schemaVersion: number;
  sources: number;
  tables: number;
}
export interface ObjectStoreProbe {
  bucket: string;
  storageClass: string;
}
export interface SparkProbe {
  elapsedMs: number;
  logFile: string;
  summary: unknown;
}

export interface CheckStackResult {
  controlPlane: ControlPlaneProbe;
  objectStore: ObjectStoreProbe[];
  spark: SparkProbe | 'skipped';
}

export interface PlatformProbeActivities {
  probeControlPlane: () => Promise<ControlPlaneProbe>;
  probeObjectStore: () => Promise<ObjectStoreProbe[]>;
  runSparkSmoke: (input: { runId: string }) => Promise<SparkProbe>;
}

const proxies = (queue: string) => ({
  control: proxyActivities<PlatformProbeActivities>({
    taskQueue: siblingQueue(queue, 'control'),
    startToCloseTimeout: '30 seconds',
    retry: { maximumAttempts: 3 },
  }),
  io: proxyActivities<PlatformProbeActivities>({
    taskQueue: siblingQueue(queue, 'io'),
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 3 },
  }),
  spark: proxyActivities<PlatformProbeActivities>({
    taskQueue: siblingQueue(queue, 'spark'),
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: '1 minute',
    retry: { maximumAttempts: 2 },
  }),
});

export async function checkStack(input: CheckStackInput = {}): Promise<CheckStackResult> {
  input = parseWorkflowInput('checkStack', input);
  upsertSearchAttributes([{ key: SearchAttribute.layer, value: 'platform' }]);
  const { control, io, spark } = proxies(workflowInfo().taskQueue);
  const controlPlane = await control.probeControlPlane();
  const objectStore = await io.probeObjectStore();
  const sparkResult = input.spark === false ? ('skipped' as const) : await spark.runSparkSmoke({ runId: workflowInfo().runId });
  return { controlPlane, objectStore, spark: sparkResult };
}
