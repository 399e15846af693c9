import { expect } from 'vitest';
import type { RecordedRequest } from '../fakes/fake-upstream.js';

/**
 * One upstream JSON POST: method, path, empty query, content type, and none of
 * `absentCredentialHeaders`. Each provider's test checks its own auth headers by value.
 */
export function expectJsonPost(
  request: RecordedRequest,
  path: string,
  absentCredentialHeaders: readonly string[],
): void {
  expect(request.method).toBe('POST');
  expect(request.path).toBe(path);
  expect(request.query).toEqual({});
  expect(request.headers['content-type']).toBe('application/json');
  for (const header of absentCredentialHeaders) expect(request.headers[header]).toBeUndefined();
}
