// MLflow scoring server (`mlflow models serve`) payloads for `POST /invocations`:
// `{"predictions": ...}` answers, as reference mlflow-model-serving.md §3–§4 lists them, and
// the scoring server's error body `{"error_code", "message", "stack_trace"}`.

export function predictions(value: unknown): { predictions: unknown } {
  return { predictions: value };
}

/** Reference §4: a completions model. */
export const COMPLETIONS_PREDICTIONS = predictions(['This is a test!']);
/** Reference §4: a chat model. */
export const CHAT_PREDICTIONS = predictions(['It is a test']);
/** Reference §4: an embeddings model, two vectors. */
export const EMBEDDINGS_PREDICTIONS = predictions([
  [0.01, -0.1],
  [0.03, -0.03],
]);

/** What the scoring server answers (400) when the model rejects its input. */
export const BAD_REQUEST_ERROR = {
  error_code: 'BAD_REQUEST',
  message:
    "Failed to enforce schema of data '[\"Is this a test?\"]' with schema '['prompt': string (required)]'. Error: Model is missing inputs ['prompt'].",
  stack_trace:
    'Traceback (most recent call last):\n  File "/usr/lib/python3/site-packages/mlflow/pyfunc/scoring_server/__init__.py"',
};

/** What the scoring server answers (500) when the model raises while predicting. */
export const INTERNAL_ERROR = {
  error_code: 'INTERNAL_ERROR',
  message:
    "Encountered an unexpected error while evaluating the model. Verify that the input is compatible with the model for inference. Error 'CUDA out of memory'",
  stack_trace:
    'Traceback (most recent call last):\n  File "/usr/lib/python3/site-packages/mlflow/pyfunc/scoring_server/__init__.py"',
};
