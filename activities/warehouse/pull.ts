// A model's pull: the lake job exports what changed in the source table's change log since the
// model's checkpoint, as Parquet under the processed bucket, for the warehouse to stage.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { S3Client } from '@aws-sdk/client-s3';
import { ErrorType } from '../../lib/common/errors';
import type { DanauConfig } from '../../lib/config';
import type { ControlPlane, TableRecord } from '../../lib/control-plane/store';
import { changelogBasePath, hudiTableName } from '../../lib/lake/batches';
import { modelSourceColumns, type ModelDefinition } from '../../lib/models/definition';
import { LakeJobClient, lakeJobActivityFailure } from '../../lib/lake/job-client';
import type { SparkRunner } from '../../lib/spark/runner';
import type { ModelPull } from '../../workflows/buildModels';

export interface ModelDeps {
  config: DanauConfig;
  controlPlane: ControlPlane;
  s3: S3Client;
}

export const ModelCheckpoint = { model: (name: string) => ({ pipeline: 'model', subject: name }) };

function invalid(message: string): never {
  throw ApplicationFailure.create({ type: ErrorType.InvalidModelDefinition, message, nonRetryable: true });
}

/** The model's definition and its source table, or a clear error naming what is missing. */
export async function modelAndSource(controlPlane: ControlPlane, name: string): Promise<{ model: ModelDefinition; table: TableRecord }> {
  const model = (await controlPlane.listModels()).find((m) => m.name === name);
  if (!model) invalid(`model ${name} is not defined (danau models add --file …)`);
  const [source, schema, tableName] = model.source.split('.') as [string, string, string];
  const table = await controlPlane.getTable(source, schema, tableName);
  if (!table) invalid(`model ${name}: source: table ${model.source} is not onboarded (danau tables list)`);
  // Models name columns by their lake names (the change log's).
  const known = new Set(table.columns.map((c) => c.lakeName));
  const missing = modelSourceColumns(model).filter((c) => !known.has(c));
  if (missing.length) invalid(`model ${name}: column(s) ${missing.join(', ')} are not in ${model.source}`);
  return { model, table };
}

export function createModelPullActivity({ config, controlPlane, s3 }: ModelDeps, runner: SparkRunner): (input: { model: string; buildId: string }) => Promise<ModelPull> {
  return async ({ model: name, buildId }) => {
    const ctx = Context.current();
    const { model, table } = await modelAndSource(controlPlane, name);
    const begin = (await controlPlane.getCheckpoint(ModelCheckpoint.model(name).pipeline, name))?.position ?? '000';
    const bucket = config.buckets.processed;
    const prefix = `_danau/staging/${buildId.replace(/[^A-Za-z0-9_.-]+/g, '_')}`;
    const spec = {
      table: { name: `${hudiTableName(table)}_changelog`, basePath: changelogBasePath(config, table), cleanerCommitsRetained: table.cleanerCommitsRetained },
      beginInstant: begin,
      columns: modelSourceColumns(model),
      outputUri: `s3://${bucket}/${prefix}/rows/`,
      resultUri: `s3://${bucket}/${prefix}/result.json`,
    };
    let result;
    try {
      ({ result } = await new LakeJobClient({ s3, bucket, runner }).run('export', spec, {
        specKey: `${prefix}/spec.json`,
        name: `danau:model-pull:${buildId}`,
        signal: ctx.cancellationSignal,
        heartbeat: (p) => ctx.heartbeat(p),
      }));
    } catch (err) {
      throw lakeJobActivityFailure(err, `model ${name}: pull from ${model.source}`);
    }
    return { rows: result.rows, outputUri: result.outputUri, beginInstant: begin, endInstant: result.incremental.endInstant ?? null, fullComparison: result.incremental.startCleaned };
  };
}
