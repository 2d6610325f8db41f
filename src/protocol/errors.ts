import { ERROR_CODES, type ErrorCode } from './codes.js';

/**
 * The one error base class. Anything the server reports to a client is an
 * ArqonError (unknown thrown values are converted once, at the edge, by
 * `toArqonError`).
 */
export class ArqonError extends Error {
  readonly code: ErrorCode;
  /** Structured, client-safe details (copied into the error envelope's payload). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ERROR_CODES[code].message);
    this.name = 'ArqonError';
    this.code = code;
    this.details = details;
  }

  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable;
  }
}

/** A frame or field failed validation. `field` names the offending field. */
export class ProtocolError extends ArqonError {
  readonly field: string | undefined;
  constructor(code: ErrorCode, message?: string, field?: string) {
    super(code, message, field === undefined ? undefined : { field });
    this.name = 'ProtocolError';
    this.field = field;
  }
}

/** A command was called with bad parameters. */
export class ParameterError extends ArqonError {
  readonly parameter: string;
  constructor(parameter: string, message: string) {
    super('INVALID_PARAMETERS', message, { parameter });
    this.name = 'ParameterError';
    this.parameter = parameter;
  }
}

/** Converts anything thrown into an ArqonError; unknown errors never leak their message. */
export function toArqonError(err: unknown): ArqonError {
  if (err instanceof ArqonError) return err;
  return new ArqonError('INTERNAL_ERROR');
}
