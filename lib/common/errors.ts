// The error catalog: every ApplicationFailure Danau raises uses one of these as its `type`, so
// retry policies, tests and the failed-event store match on a stable string, never a class name.
export const ErrorType = {
  /** A table definition (flags, file or control-plane row) is malformed or contradicts the source. */
  InvalidTableDefinition: 'InvalidTableDefinition',
  /** A workflow or activity input is malformed. */
  InvalidInput: 'InvalidInput',
  /** A source named in a definition is not registered in the control plane, or is misconfigured. */
  UnknownSource: 'UnknownSource',
  SourceMisconfigured: 'SourceMisconfigured',
  /** The source database has no such table. */
  SourceTableNotFound: 'SourceTableNotFound',
  /** A table is not onboarded. */
  UnknownTable: 'UnknownTable',
  /** A column's source type has no lake type. */
  UnsupportedColumnType: 'UnsupportedColumnType',
} as const;

export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** Errors that retrying cannot fix: bad input or configuration. */
export const nonRetryableErrorTypes: ErrorType[] = Object.values(ErrorType);
