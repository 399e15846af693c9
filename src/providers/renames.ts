import { InvalidRequestError } from '../errors.js';

/**
 * A gateway request's fields under the provider's names (MLflow's `rename_payload_keys` and the
 * guard before it): a body that already uses a provider's name is a 422 pointing at the
 * gateway's, checked in table order; every other key is kept.
 */
export function renameFields(
  body: Readonly<Record<string, unknown>>,
  renames: Readonly<Record<string, string>>,
): Record<string, unknown> {
  for (const [gatewayName, providerName] of Object.entries(renames)) {
    if (Object.hasOwn(body, providerName)) {
      throw new InvalidRequestError(
        422,
        `Invalid parameter ${providerName}. Use ${gatewayName} instead.`,
        providerName,
      );
    }
  }
  const renamed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    // hasOwn, so that a client key such as `constructor` is never looked up on the prototype.
    renamed[Object.hasOwn(renames, key) ? (renames[key] ?? key) : key] = value;
  }
  return renamed;
}
