import { GatewayError, RequestValidationError } from '../../src/errors.js';

/** What a parse returned or threw, as plain data to compare two runs with (key order included). */
export function outcomeOf(run: () => unknown): string {
  try {
    return JSON.stringify({ value: run() });
  } catch (error) {
    if (error instanceof RequestValidationError) return JSON.stringify({ issues: error.issues });
    if (error instanceof GatewayError) {
      const { name, status, code, detail, param, message } = error;
      return JSON.stringify({ name, status, code, detail, param, message });
    }
    throw error;
  }
}
