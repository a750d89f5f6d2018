/** Machine-readable error codes; one per way things go wrong. */
export type ErrorCode =
  | 'USAGE'
  | 'PATH_NOT_FOUND'
  | 'PACK_INVALID'
  | 'PACK_SIGNATURE'
  | 'PACK_UNKNOWN_KEY'
  | 'PACK_TAMPERED'
  | 'PACK_EXPIRED'
  | 'PACK_ROLLBACK'
  | 'STORE_LOCKED'
  | 'FEED_INVALID'
  | 'NETWORK'
  | 'KEY_INVALID'
  | 'IOC_INVALID'
  | 'YARA_COMPILE'
  | 'OUTPUT'
  | 'INTERNAL';

/** An error with a stable code; `message` is one line, values quoted. */
export class ChainsweepError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChainsweepError';
    this.code = code;
  }
}

/** An error the user can fix (bad option, bad file, bad pack): printed as one line, exit 2. */
export class UserError extends ChainsweepError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'UserError';
  }
}

/** The message of anything thrown, without a stack. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
