import { InvalidRequestError } from '../errors.js';
import type { ContentPart } from '../schemas/chat.js';

/**
 * The text of a content-part array, for upstreams whose messages are plain strings (PaLM,
 * MosaicML). MLflow passed the array on (PaLM rejects it) or crashed building the prompt
 * (MosaicML, a bare 500); text parts joined is what an OpenAI client means, and an image or
 * audio part, which such an upstream cannot take, is a 422 naming the field.
 */
export function joinTextParts(parts: readonly ContentPart[], field: string, displayName: string): string {
  return parts
    .map((part) => {
      if (part.type === 'text') return part.text;
      throw new InvalidRequestError(
        422,
        `Only text content is supported by the ${displayName} provider; ${field} has a ${part.type} part.`,
        field,
      );
    })
    .join('');
}
