import type { EmbeddingsResponse } from '../schemas/embeddings.js';

// OpenAI's `encoding_format: "base64"`, which the openai SDK sends by default: each vector as
// its float32 little-endian bytes, base64. The gateway strips the field before any adapter sees
// it and encodes here, so every provider answers the SDK the same way.

const FLOAT32_BYTES = 4;

function toBase64Floats(vector: number[] | string): string {
  if (typeof vector === 'string') return vector;
  const bytes = Buffer.allocUnsafe(vector.length * FLOAT32_BYTES);
  // writeFloatLE, not a Float32Array view: the wire is little-endian on every host.
  for (let index = 0; index < vector.length; index++) {
    bytes.writeFloatLE(vector[index] ?? 0, index * FLOAT32_BYTES);
  }
  return bytes.toString('base64');
}

/** The answer with each float vector as base64 float32; vectors already encoded stay as sent. */
export function toBase64Embeddings(response: EmbeddingsResponse): EmbeddingsResponse {
  return {
    ...response,
    data: response.data.map((item) => ({ ...item, embedding: toBase64Floats(item.embedding) })),
  };
}
