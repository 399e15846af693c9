import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { AccessConfig, Client } from './clients.js';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
/** Headers the SDKs of each API family send their key in, after `Authorization: Bearer`. */
const KEY_HEADERS = ['x-api-key', 'api-key', 'x-goog-api-key'] as const;

/**
 * The key a caller presented: `Authorization: Bearer`, `x-api-key` (Anthropic), `api-key`
 * (Azure OpenAI), `x-goog-api-key` (Gemini), else Gemini's `?key=` when `allowQueryKey`.
 */
export function presentedKey(
  headers: IncomingHttpHeaders,
  query: unknown,
  allowQueryKey: boolean,
): string | null {
  const authorization = headers.authorization;
  if (authorization !== undefined) {
    const match = BEARER.exec(authorization);
    if (match?.[1] !== undefined) return match[1];
  }
  for (const name of KEY_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  if (allowQueryKey && typeof query === 'object' && query !== null) {
    const key = (query as Record<string, unknown>).key;
    if (typeof key === 'string' && key !== '') return key;
  }
  return null;
}

/**
 * The client whose key this is, or null. The lookup is by the key's sha256, so the map's
 * timing says nothing about the key; the final comparison is constant-time.
 */
export function authenticate(access: AccessConfig, key: string): Client | null {
  const digest = createHash('sha256').update(key).digest();
  const client = access.byKeySha256.get(digest.toString('hex'));
  if (!client) return null;
  return timingSafeEqual(client.keySha256, digest) ? client : null;
}
