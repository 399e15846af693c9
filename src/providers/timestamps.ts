/** The `created` field of a gateway response: Unix seconds, as OpenAI and MLflow give it. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
