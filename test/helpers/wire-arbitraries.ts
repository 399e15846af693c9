import fc from 'fast-check';

// Request bodies and upstream answers for the fast-path property tests: mostly valid shapes,
// with nulls, pydantic-lax scalars, unknown keys and junk mixed in at every level.

const junk = fc.oneof(fc.constant(null), fc.jsonValue({ maxDepth: 2 }));

/** The arbitrary most of the time, otherwise null or any JSON value. */
function sometimesJunk<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 15, arbitrary }, { weight: 1, arbitrary: junk });
}

/** Unknown keys, including ones Object.prototype also has. */
const extraKeys = fc.dictionary(
  fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('constructor', 'toString', '__proto__', 'user')),
  fc.jsonValue({ maxDepth: 2 }),
  { maxKeys: 3 },
);

function withExtras(arbitrary: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc.tuple(extraKeys, arbitrary).map(([extras, known]) => ({ ...extras, ...known }));
}

function loose<T extends Record<string, fc.Arbitrary<unknown>>>(fields: T, required: (keyof T)[] = []) {
  return withExtras(fc.record(fields, { requiredKeys: required as never[] }));
}

/** Mostly values the field takes as they are, sometimes lax or wrong ones. */
function scalar<T>(valid: fc.Arbitrary<T>, others: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: others });
}

const laxFloat = scalar(
  fc.double({ min: 0, max: 2, noNaN: true }),
  fc.oneof(
    fc.double(),
    fc.constantFrom('0.3', ' 1e-1 ', '.5', '2', 'warm', '1e999', true, false, '', 'NaN', -0),
  ),
);
const laxInt = scalar(
  fc.integer({ min: 1, max: 128 }),
  fc.constantFrom(0, -2, 300, 2.0, 1.5, 1e9, 1e30, '2', ' 3 ', '+4', '2.00', '1.5', 'two', true, false),
);
const laxBool = scalar(
  fc.boolean(),
  fc.constantFrom('true', 'TRUE', 'Yes', 'on', 't', 'y', '1', 'false', 'No', 'OFF', '0', 0, 1, 2, 'maybe'),
);

const jsonSchema: fc.Arbitrary<unknown> = sometimesJunk(
  loose({
    type: sometimesJunk(fc.constant('object')),
    properties: sometimesJunk(
      fc.dictionary(
        fc.string({ maxLength: 6 }),
        sometimesJunk(loose({ type: fc.constantFrom('string', 'integer'), description: fc.string() })),
        { maxKeys: 3 },
      ),
    ),
    required: sometimesJunk(fc.array(sometimesJunk(fc.string({ maxLength: 4 })), { maxLength: 2 })),
  }),
);

const tool = sometimesJunk(
  loose({
    type: sometimesJunk(fc.constantFrom('function', 'uc_function')),
    function: sometimesJunk(
      loose(
        {
          name: sometimesJunk(fc.string({ maxLength: 8 })),
          description: sometimesJunk(fc.string()),
          strict: laxBool,
          parameters: jsonSchema,
        },
        ['name'],
      ),
    ),
    uc_function: sometimesJunk(loose({ name: fc.string() })),
  }),
);

const contentPart = sometimesJunk(
  fc.oneof(
    loose({ type: sometimesJunk(fc.constant('text')), text: sometimesJunk(fc.string()) }, ['type', 'text']),
    loose(
      {
        type: fc.constant('image_url'),
        image_url: sometimesJunk(
          loose({ url: fc.string(), detail: sometimesJunk(fc.constantFrom('auto', 'low', 'high')) }, ['url']),
        ),
      },
      ['type', 'image_url'],
    ),
    loose(
      {
        type: fc.constant('input_audio'),
        input_audio: loose({ data: fc.string(), format: sometimesJunk(fc.constantFrom('wav', 'mp3')) }, [
          'data',
          'format',
        ]),
      },
      ['type', 'input_audio'],
    ),
  ),
);

const toolCall = sometimesJunk(
  loose(
    {
      id: sometimesJunk(fc.string({ maxLength: 6 })),
      type: sometimesJunk(fc.constant('function')),
      function: sometimesJunk(loose({ name: fc.string(), arguments: sometimesJunk(fc.string()) }, ['name'])),
    },
    ['id', 'function'],
  ),
);

const message = sometimesJunk(
  loose(
    {
      role: sometimesJunk(fc.constantFrom('system', 'user', 'assistant', 'tool')),
      content: sometimesJunk(fc.oneof(fc.string(), fc.array(contentPart, { maxLength: 3 }))),
      tool_calls: sometimesJunk(fc.array(toolCall, { maxLength: 2 })),
      refusal: sometimesJunk(fc.string()),
      tool_call_id: sometimesJunk(fc.string()),
    },
    ['role'],
  ),
);

const generation = {
  temperature: sometimesJunk(laxFloat),
  n: sometimesJunk(laxInt),
  stop: sometimesJunk(fc.array(sometimesJunk(fc.string({ maxLength: 4 })), { maxLength: 2 })),
  max_tokens: sometimesJunk(laxInt),
  stream: sometimesJunk(laxBool),
  stream_options: sometimesJunk(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }))),
  model: sometimesJunk(fc.string({ maxLength: 6 })),
};

export const chatRequestBody = loose(
  {
    messages: sometimesJunk(fc.array(message, { maxLength: 4 })),
    ...generation,
    tools: sometimesJunk(fc.array(tool, { maxLength: 2 })),
  },
  ['messages'],
);

export const completionsRequestBody = loose({ prompt: sometimesJunk(fc.string()), ...generation }, [
  'prompt',
]);

export const embeddingsRequestBody = loose(
  {
    input: sometimesJunk(
      fc.oneof(
        fc.string(),
        fc.array(fc.string(), { maxLength: 3 }),
        fc.array(laxInt, { maxLength: 3 }),
        fc.array(fc.array(laxInt, { maxLength: 2 }), { maxLength: 2 }),
      ),
    ),
    model: sometimesJunk(fc.string()),
    dimensions: sometimesJunk(laxInt),
    encoding_format: sometimesJunk(fc.constantFrom('float', 'base64')),
  },
  ['input'],
);

const count = sometimesJunk(fc.oneof(fc.nat(1000), fc.constant(1.5)));
const usage = sometimesJunk(
  loose({ prompt_tokens: count, completion_tokens: count, total_tokens: count }, [
    'prompt_tokens',
    'completion_tokens',
    'total_tokens',
  ]),
);
const nullableString = fc.oneof(fc.string({ maxLength: 8 }), fc.constant(null));
const answerHead = {
  id: sometimesJunk(nullableString),
  object: sometimesJunk(fc.constantFrom('chat.completion', 'chat.completion.chunk')),
  created: sometimesJunk(fc.oneof(fc.nat(), fc.constant(1.5))),
  model: sometimesJunk(nullableString),
  system_fingerprint: fc.string(),
};
const responseToolCall = sometimesJunk(
  loose({
    id: sometimesJunk(nullableString),
    type: sometimesJunk(nullableString),
    function: sometimesJunk(loose({ name: nullableString, arguments: nullableString })),
  }),
);

/** OpenAI chat completions, as the upstream sends them and in near-valid variants. */
export const chatCompletionAnswer = loose(
  {
    ...answerHead,
    choices: sometimesJunk(
      fc.array(
        loose(
          {
            index: sometimesJunk(fc.nat(3)),
            message: sometimesJunk(
              loose(
                {
                  role: sometimesJunk(fc.constant('assistant')),
                  content: sometimesJunk(nullableString),
                  tool_calls: sometimesJunk(
                    fc.oneof(fc.array(responseToolCall, { maxLength: 2 }), fc.constant(null)),
                  ),
                  refusal: sometimesJunk(nullableString),
                },
                ['role'],
              ),
            ),
            finish_reason: sometimesJunk(nullableString),
            logprobs: fc.constant(null),
          },
          ['index', 'message', 'finish_reason'],
        ),
        { maxLength: 2 },
      ),
    ),
    usage,
  },
  ['id', 'object', 'created', 'model', 'choices', 'usage'],
);

/** OpenAI chat completion chunks, as the upstream streams them and in near-valid variants. */
export const chatChunkAnswer = loose(
  {
    ...answerHead,
    choices: sometimesJunk(
      fc.array(
        loose(
          {
            index: sometimesJunk(fc.nat(3)),
            delta: sometimesJunk(
              loose({
                role: sometimesJunk(nullableString),
                content: sometimesJunk(nullableString),
                tool_calls: sometimesJunk(
                  fc.array(
                    loose({
                      index: sometimesJunk(fc.nat(3)),
                      id: sometimesJunk(nullableString),
                      type: sometimesJunk(nullableString),
                      function: sometimesJunk(loose({ name: nullableString, arguments: nullableString })),
                    }),
                    { maxLength: 2 },
                  ),
                ),
              }),
            ),
            finish_reason: sometimesJunk(nullableString),
          },
          ['index', 'delta', 'finish_reason'],
        ),
        { maxLength: 2 },
      ),
    ),
    usage: fc.oneof(usage, fc.constant(null)),
  },
  ['id', 'object', 'created', 'model', 'choices'],
);

/** Two independent copies of a JSON value, as two JSON.parse calls of one body would give. */
export function twoCopies(value: unknown): [unknown, unknown] {
  const text = JSON.stringify(value);
  return [JSON.parse(text), JSON.parse(text)];
}
