// The distribution spec's error codes and their statuses: the registry server's closed set of
// errors. Storage and handlers throw RegistryError; only the server writes it to the wire, as
// {"errors":[{"code","message","detail"}]}.

export const ERROR_STATUS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 404,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  PAGINATION_NUMBER_INVALID: 400,
  RANGE_INVALID: 416,
} as const;

export type RegistryErrorCode = keyof typeof ERROR_STATUS;

export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  readonly status: number;
  readonly detail: unknown;

  constructor(code: RegistryErrorCode, message: string, opts: { status?: number; detail?: unknown; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = `RegistryError(${code})`;
    this.code = code;
    this.status = opts.status ?? ERROR_STATUS[code];
    this.detail = opts.detail;
  }

  /** The wire body, as the distribution spec defines it. */
  body(): { errors: { code: string; message: string; detail?: unknown }[] } {
    const e: { code: string; message: string; detail?: unknown } = { code: this.code, message: this.message };
    if (this.detail !== undefined) e.detail = this.detail;
    return { errors: [e] };
  }
}

export const registryError = (code: RegistryErrorCode, message: string, detail?: unknown): RegistryError =>
  new RegistryError(code, message, detail === undefined ? {} : { detail });
