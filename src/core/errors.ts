// The closed set of error kinds the domain may throw. Only api/server maps them to HTTP statuses.
export type ErrorKind =
  | 'NotFound'
  | 'InvalidParameter'
  | 'Conflict'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotModified'
  | 'NotImplemented'
  | 'Unavailable'
  | 'Internal';

export class BerthError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = `BerthError(${kind})`;
  }
}

export const notFound = (message: string, cause?: unknown): BerthError => new BerthError('NotFound', message, { cause });
export const invalidParameter = (message: string, cause?: unknown): BerthError =>
  new BerthError('InvalidParameter', message, { cause });
export const conflict = (message: string, cause?: unknown): BerthError => new BerthError('Conflict', message, { cause });
export const notImplemented = (message: string): BerthError => new BerthError('NotImplemented', message);
export const unavailable = (message: string, cause?: unknown): BerthError =>
  new BerthError('Unavailable', message, { cause });
export const internal = (message: string, cause?: unknown): BerthError => new BerthError('Internal', message, { cause });
export const notModified = (message: string): BerthError => new BerthError('NotModified', message);

export function errorKind(err: unknown): ErrorKind {
  return err instanceof BerthError ? err.kind : 'Internal';
}

export function isKind(err: unknown, kind: ErrorKind): boolean {
  return err instanceof BerthError && err.kind === kind;
}

/** A message for any thrown value, for logs and wrapped errors. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
