// Failure types the archive raises: the catalog's (lib/common/errors.ts).
import { ErrorType } from '../common/errors';

export const ArchiveErrorType = {
  ArchiveVerificationFailed: ErrorType.ArchiveVerificationFailed,
  InvalidArchiveRequest: ErrorType.InvalidArchiveRequest,
} as const;
