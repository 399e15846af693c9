import { z } from 'zod';

/**
 * Joins a configured base URL and an API path with exactly one `/` between them, keeping the
 * base's query and appending `query` (reference §9.1, S6). Called at config load only.
 */
export function joinUrl(base: string, path: string, query?: Readonly<Record<string, string>>): string {
  const url = new URL(base);
  const trimmed = path.replace(LEADING_SLASHES, '');
  url.pathname = `${url.pathname.replace(TRAILING_SLASHES, '')}/${trimmed}`;
  for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value);
  return url.href;
}

const LEADING_SLASHES = /^\/+/;
const TRAILING_SLASHES = /\/+$/;
const HTTP_PROTOCOLS = /^https?$/;

/** A configured base URL: http(s) only, checked when the config loads (not when adapters build). */
export const apiBaseSchema = z.url({ protocol: HTTP_PROTOCOLS, error: 'must be an http(s) URL' });
