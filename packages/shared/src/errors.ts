/**
 * The one error model: a stable machine-readable `code`, the HTTP status it maps to, and a message for
 * people. Anything else thrown is an internal error and never reaches a client verbatim.
 */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string): AppError => new AppError(404, 'not_found', `${what} not found`);

export const conflict = (code: string, message: string): AppError => new AppError(409, code, message);

export const unavailable = (message = 'A backing service is unavailable, try again shortly'): AppError =>
  new AppError(503, 'unavailable', message);
