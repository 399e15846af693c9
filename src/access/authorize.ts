/** A client's `endpoints:` list, compiled once per config load. */
export interface EndpointPatterns {
  /** Whether the client may call the endpoint or route with this name. */
  allows(name: string): boolean;
}

const ALL: EndpointPatterns = { allows: () => true };
const REGEX_SPECIAL = /[.+?^${}()|[\]\\]/g;

/**
 * `chat`, `embed-*`: names with `*` standing for any run of characters, matched whole. An
 * omitted list allows everything; an empty one allows nothing.
 */
export function compileEndpointPatterns(patterns: readonly string[] | null): EndpointPatterns {
  if (patterns === null) return ALL;
  const exact = new Set(patterns.filter((pattern) => !pattern.includes('*')));
  const wildcards = patterns
    .filter((pattern) => pattern.includes('*'))
    .map((pattern) => pattern.replace(REGEX_SPECIAL, '\\$&').replaceAll('*', '.*'));
  const regex = wildcards.length > 0 ? new RegExp(`^(?:${wildcards.join('|')})$`, 'su') : null;
  return { allows: (name) => exact.has(name) || (regex?.test(name) ?? false) };
}
