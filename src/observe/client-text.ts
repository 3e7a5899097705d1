/**
 * Text a client sent (names, ids, claims, mechanism names) as it may appear in a log line or an
 * error message: cut, so one request cannot write megabytes into the log or into an answer.
 * Kafka's own names stop at 249 characters; every real value fits whole.
 */
export const MAX_CLIENT_TEXT = 255;

/** `text` whole if it fits, else its start and how long it was. */
export function shortened(text: string): string {
  return text.length <= MAX_CLIENT_TEXT ? text : `${text.slice(0, MAX_CLIENT_TEXT)}... (${text.length} characters)`;
}

/** A client value quoted as JSON (so control characters show as escapes), cut as `shortened` cuts. */
export function quoted(value: unknown): string {
  if (typeof value === 'string') {
    return value.length <= MAX_CLIENT_TEXT ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, MAX_CLIENT_TEXT))}... (${value.length} characters)`;
  }
  return shortened(JSON.stringify(value) ?? String(value));
}
