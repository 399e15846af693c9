import { isRecord } from '../schemas/json.js';
const NON_ASCII = /[\u0080-\uffff]/g;

/** S10: Python's `json.dumps` — `", "` and `": "` separators, non-ASCII written as `\u` escapes of four hex digits. */
export function toPythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(toPythonJson).join(', ')}]`;
  if (isRecord(value)) {
    const members = Object.entries(value).map(([key, item]) => `${toPythonJson(key)}: ${toPythonJson(item)}`);
    return `{${members.join(', ')}}`;
  }
  const json = JSON.stringify(value) as string | undefined;
  if (json === undefined) return 'null';
  return json.replace(NON_ASCII, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
