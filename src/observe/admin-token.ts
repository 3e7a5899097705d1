import { readFileSync } from 'node:fs';
import { tokenDigest } from './admin-server.js';

/** Shorter tokens could be guessed by a caller who can reach the port. */
const MIN_TOKEN_CHARS = 16;

/**
 * The digest of the admin token in `file` (surrounding whitespace ignored); throws saying why
 * the file will not do, never quoting it.
 */
export function readAdminToken(file: string): Buffer {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`admin.tokenFile ${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (content.trim().length < MIN_TOKEN_CHARS) throw new Error(`admin.tokenFile ${file}: the token must be at least ${MIN_TOKEN_CHARS} characters`);
  return tokenDigest(content);
}
