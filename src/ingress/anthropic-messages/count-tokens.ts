import type { ContentBlock, MessagesRequest } from './schema.js';

// `POST /v1/messages/count_tokens` for endpoints that are not Anthropic (ingress reference
// §2.4): no upstream can count for them, so the gateway estimates. Claude Code only uses the
// count to decide when to compact its context, and a 404 would make it probe with real calls.

/** A common rule of thumb for English text and code on current tokenizers. */
const CHARS_PER_TOKEN = 4;
/** Anthropic's cost of a full-size image (about 1092×1092 px at width × height / 750). */
const TOKENS_PER_IMAGE = 1600;

export function estimateInputTokens(body: MessagesRequest): number {
  let chars = 0;
  let images = 0;
  const add = (text: string): void => {
    chars += text.length;
  };
  if (typeof body.system === 'string') add(body.system);
  else for (const block of body.system ?? []) add(block.text);
  for (const message of body.messages) {
    if (typeof message.content === 'string') {
      add(message.content);
      continue;
    }
    for (const item of message.content) {
      // Blocks of other types are counted by their JSON, which has the same shape.
      const block = item as ContentBlock;
      if (block.type === 'image') images += 1;
      else if (block.type === 'text') add(block.text);
      else if (block.type === 'tool_result') {
        if (typeof block.content === 'string') add(block.content);
        else {
          for (const part of block.content ?? []) {
            if (part.type === 'text') add(part.text);
            else images += 1;
          }
        }
      } else add(JSON.stringify(block));
    }
  }
  for (const tool of body.tools ?? []) add(JSON.stringify(tool));
  return Math.ceil(chars / CHARS_PER_TOKEN) + images * TOKENS_PER_IMAGE;
}
