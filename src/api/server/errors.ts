// The one table from error kinds to HTTP statuses.
import { BerthError, type ErrorKind } from '../../core/errors.ts';

const STATUS: Record<ErrorKind, number> = {
  NotFound: 404,
  InvalidParameter: 400,
  Conflict: 409,
  Unauthorized: 401,
  Forbidden: 403,
  NotModified: 304,
  NotImplemented: 501,
  Unavailable: 503,
  Internal: 500,
};

export function statusOf(err: unknown): number {
  if (err instanceof BerthError) return STATUS[err.kind];
  return 500;
}

export function messageFor(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
