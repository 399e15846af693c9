// The official openai SDK as a client of llmgw's OpenAI-compatible routes. Start a gateway
// (e.g. `npx llmgw start --config-path examples/offline.yaml`), then run
// `npx tsx examples/openai-sdk.ts`. `model` names a gateway endpoint, and the API key is
// ignored by the gateway (the upstream keys live in its config).
import OpenAI from 'openai';

const client = new OpenAI({
  baseURL: process.env.LLMGW_URL ?? 'http://127.0.0.1:5000/v1',
  apiKey: 'unused',
});

const completion = await client.chat.completions.create({
  model: 'chat',
  messages: [{ role: 'user', content: 'Say hello in one word.' }],
});
console.log(completion.choices[0]?.message.content);

const stream = await client.chat.completions.create({
  model: 'chat',
  messages: [{ role: 'user', content: 'Count to three.' }],
  stream: true,
});
for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? '');
process.stdout.write('\n');

const embeddings = await client.embeddings.create({ model: 'embeddings', input: ['hello', 'world'] });
console.log(embeddings.data.map((item) => item.embedding.length));

try {
  await client.chat.completions.create({
    model: 'no-such-endpoint',
    messages: [{ role: 'user', content: 'hi' }],
  });
} catch (error) {
  if (error instanceof OpenAI.APIError) console.log(error.status, error.message);
  else throw error;
}
