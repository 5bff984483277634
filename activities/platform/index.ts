// Probes of the platform's parts, used by the checkStack workflow. Each runs on the queue of the
// worker whose adapters it exercises.
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/common/errors';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import path from 'node:path';
import type { DanauConfig } from '../../lib/config';
import type { ControlPlane } from '../../lib/control-plane/store';
import { runLocalSparkJob } from '../../lib/spark/local';
import type { PlatformProbeActivities } from '../../workflows/checkStack';

export interface PlatformProbeDeps {
  config: DanauConfig;
  controlPlane: ControlPlane;
  s3: S3Client;
}

export function createPlatformProbeActivities({ config, controlPlane, s3 }: PlatformProbeDeps): PlatformProbeActivities {
  return {
    probeControlPlane: () => controlPlane.summary(),

    async probeObjectStore() {
      const key = `_danau/probe/${Context.current().info.activityId}-${Context.current().info.attempt}`;
      const out = [];
      for (const bucket of [config.buckets.raw, config.buckets.processed, config.buckets.archive]) {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'probe', StorageClass: 'STANDARD_IA' }));
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        if (head.StorageClass !== 'STANDARD_IA') {
          throw ApplicationFailure.create({
            message: `bucket ${bucket}: wrote a STANDARD_IA object but the store reports ${head.StorageClass ?? 'STANDARD'}: archives would be billed as Standard`,
            type: ErrorType.ObjectStoreMisconfigured,
            nonRetryable: true,
          });
        }
        out.push({ bucket, storageClass: head.StorageClass });
      }
      return out;
    },

    async runSparkSmoke({ runId }) {
      const ctx = Context.current();
      const result = await runLocalSparkJob({
        script: 'scripts/spark/hudi_smoke.py',
        args: ['--run-id', runId.replace(/[^A-Za-z0-9_-]/g, ''), '--cleanup'],
        logFile: path.join(config.home, 'logs', 'spark', `hudi-smoke-${runId}.log`),
        env: config.environment,
        signal: ctx.cancellationSignal,
        onProgress: (elapsedMs) => ctx.heartbeat({ elapsedMs }),
      });
      log.info('spark smoke job finished', { elapsedMs: result.elapsedMs, logFile: result.logFile });
      return { elapsedMs: result.elapsedMs, logFile: result.logFile, summary: result.summary };
    },
  };
}
