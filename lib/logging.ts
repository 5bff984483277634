// The one logger: JSON lines through pino. The Temporal runtime's logger is routed here too, so
// workflow and activity log lines carry the SDK's context (workflowId, runId, activityId, ...).
import pino, { type Logger } from 'pino';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

export type { Logger };

export function createLogger(level: string = process.env.DANAU_LOG_LEVEL ?? 'info', name = 'danau'): Logger {
  return pino({ name, level, base: { service: name }, timestamp: pino.stdTimeFunctions.isoTime });
}

const pinoLevel: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Installs the Temporal runtime with its logs going to `logger` and metrics on a Prometheus endpoint. */
export function installTemporalRuntime(logger: Logger, metricsPort?: number): void {
  Runtime.install({
    logger: new DefaultLogger('INFO', ({ level, message, meta }) => {
      // The task token is an opaque blob: long, and of no use to a person reading the log.
      const { taskToken: _taskToken, ...context } = meta ?? {};
      logger[pinoLevel[level]](context, message);
    }),
    telemetryOptions:
      metricsPort && metricsPort > 0
        ? { metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}` } } }
        : undefined,
  });
}
