// The error catalog: every ApplicationFailure Danau raises uses one of these as its `type`, so
// retry policies, tests and the failed-event store match on a stable string, never a class name.
export const ErrorType = {
  /** A workflow was started with input its schema refuses (lib/common/workflow-inputs.ts); the message names the field. */
  InvalidWorkflowInput: 'InvalidWorkflowInput',
  /** A table definition (flags, file or control-plane row) is malformed or contradicts the source. */
  InvalidTableDefinition: 'InvalidTableDefinition',
  /** A source named in a definition is not registered in the control plane, or is misconfigured. */
  UnknownSource: 'UnknownSource',
  /** A source's secret is missing, unreadable or holds no connection URL; the message names the variable or secret. */
  SourceMisconfigured: 'SourceMisconfigured',
  /** The source database has no such table. */
  SourceTableNotFound: 'SourceTableNotFound',
  /** The saved source position can no longer be read (slot dropped, binlog purged): re-snapshot. */
  SourcePositionLost: 'SourcePositionLost',
  /** A source value or event Danau cannot write faithfully; the message names table and column. */
  BadSourceData: 'BadSourceData',
  /** A raw-zone key already holds other bytes: two writers share a prefix. Never overwritten. */
  RawObjectConflict: 'RawObjectConflict',
  /** The raw bucket holds files of the layout before `<source>/` prefixes: move them (danau raw-zone move-legacy). */
  LegacyRawLayout: 'LegacyRawLayout',
  /** A bucket does not behave as the platform needs (e.g. it drops the STANDARD_IA class). */
  ObjectStoreMisconfigured: 'ObjectStoreMisconfigured',
  /** A DMS task's settings are invalid, or the task cannot be brought to the wanted state without a person. */
  DmsTaskConflict: 'DmsTaskConflict',
  /** The table is paused (e.g. its source schema drifted): its pipeline does not run until it is re-onboarded. */
  TablePaused: 'TablePaused',
  /** The lake job ran and reported a failure it will repeat (bad spec, incompatible schema): see its log. */
  LakeJobFailed: 'LakeJobFailed',
  /** Rows the lake job set aside: older than the stored row, or a value that does not cast. */
  StaleChange: 'StaleChange',
  UncastableValue: 'UncastableValue',
  /** A failed event's set-aside rows (or the raw files they came from) are gone: nothing to replay. */
  ReplayDataMissing: 'ReplayDataMissing',
  /** An ingestion check (continuity, schema drift) failed: the table's pipeline stopped before the lake. */
  IngestionCheckFailed: 'IngestionCheckFailed',
  /** A table named in a request is not onboarded (or was disabled). */
  TableNotOnboarded: 'TableNotOnboarded',
  /** A step of a table's pipeline failed after its retries; the failed event names the step. */
  PipelineStepFailed: 'PipelineStepFailed',
  /** The alert webhook refused the alert or could not be reached; the message names the status and URL. */
  AlertDeliveryFailed: 'AlertDeliveryFailed',
  /** An alert is malformed (no kind or summary, `at` not a time): sending it again will not help. */
  InvalidAlert: 'InvalidAlert',
  /** A backfill's dates are not dates, or the range runs backwards. */
  InvalidBackfillRequest: 'InvalidBackfillRequest',
  /** The table's lake step (or the range's recovery, or the table's model build) stayed busy past a backfill's wait. */
  BackfillBlocked: 'BackfillBlocked',
  /** A step of a backfill failed after its retries. */
  BackfillStepFailed: 'BackfillStepFailed',
  /** A model or reporting definition is malformed or names what does not exist. */
  InvalidModelDefinition: 'InvalidModelDefinition',
  /** A build broke an invariant (two current rows, overlapping intervals, a fact without dimension): rolled back. */
  ModelInvariantViolated: 'ModelInvariantViolated',
  /** An uploaded archive zip does not match its manifest (or is missing or replaced): nothing was deleted; the next run rebuilds it. */
  ArchiveVerificationFailed: 'ArchiveVerificationFailed',
  /** An archive or recovery request names a partition or date that is not one. */
  InvalidArchiveRequest: 'InvalidArchiveRequest',
} as const;

export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];
