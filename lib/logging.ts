// The one logger: JSON lines through pino. The Temporal runtime's logger is routed here too, so
// workflow and activity log lines carry the SDK's context (workflowId, runId, activityId, ...).
import pino, { type Logger } from 'pino';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

export type { Logger };

export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export function createLogger(level: LogLevelName, name = 'danau'): Logger {
  return pino({ name, level, base: { service: name }, timestamp: pino.stdTimeFunctions.isoTime });
}

const pinoLevel: Record<LogLevel, LogLevelName> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

const sdkLevel: Record<LogLevelName, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' };

/** Errors as plain JSON (an Error object serialises as {}), with the failure type and cause chain. */
export function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err;
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  const type = (err as { type?: unknown }).type;
  if (typeof type === 'string') out.type = type;
  if (err.stack) out.stack = err.stack;
  if (err.cause !== undefined && depth < 5) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

/** Installs the Temporal runtime with its logs going to `logger` and metrics on a Prometheus endpoint. */
export function installTemporalRuntime(logger: Logger, level: LogLevelName, metricsPort?: number): void {
  Runtime.install({
    logger: new DefaultLogger(sdkLevel[level], ({ level, message, meta }) => {
      // The task token is an opaque blob: long, and of no use to a person reading the log.
      const { taskToken: _taskToken, ...context } = meta ?? {};
      for (const [k, v] of Object.entries(context)) if (v instanceof Error) context[k] = serializeError(v);
      logger[pinoLevel[level]](context, message);
    }),
    telemetryOptions:
      metricsPort && metricsPort > 0
        ? { metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}` } } }
        : undefined,
  });
}
