import { randomBytes } from 'node:crypto';
import { sha256Hex } from './clients.js';

/** 32 random bytes: a key nobody guesses, in a prefix that secret scanners can recognise. */
const KEY_BYTES = 32;
const KEY_PREFIX = 'llmgw-';

/** A fresh client key and the `key_sha256` to put in the config instead of it. */
export function newClientKey(): { key: string; keySha256: string } {
  const key = KEY_PREFIX + randomBytes(KEY_BYTES).toString('base64url');
  return { key, keySha256: sha256Hex(key) };
}
