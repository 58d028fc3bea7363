/**
 * The `wait` preference of a `Prefer` header (RFC 7240 §4.3): how many seconds the client will wait
 * for the response. Other preferences, and a malformed one, are ignored, as the RFC asks of a server
 * that does not understand them; a repeated header arrives joined with commas. Undefined when absent.
 */
export function preferredWaitSeconds(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  for (const preference of header.split(',')) {
    // Parameters after `;` refine a preference; `wait` has none.
    const [token = ''] = preference.split(';');
    const match = /^\s*wait\s*=\s*(?:(\d{1,9})|"(\d{1,9})")\s*$/i.exec(token);
    if (match !== null) return Number(match[1] ?? match[2]);
  }
  return undefined;
}
