// A strict reader of the Prometheus text exposition format (0.0.4) for tests: every line is a
// `# HELP`, a `# TYPE`, or a sample `name{label="value",…} number`; anything else throws.

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const COMMENT = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]*( .*)?$/;

export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  const value = Number(text);
  // prom-client writes `Nan` (an event-loop lag with no sample since the last scrape); Prometheus
  // parses floats with Go's strconv.ParseFloat, which reads NaN in any case.
  if (Number.isNaN(value) && text.toLowerCase() !== 'nan') throw new Error(`not a sample value: ${text}`);
  return value;
}

export function parsePrometheusText(text: string): PrometheusSample[] {
  const samples: PrometheusSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      if (!COMMENT.test(line)) throw new Error(`malformed comment line: ${line}`);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`malformed sample line: ${line}`);
    const labels: Record<string, string> = {};
    const body = match[2] ?? '';
    let consumed = 0;
    for (const label of body.matchAll(LABEL)) {
      labels[label[1]!] = label[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
      consumed += label[0].length + 1;
    }
    if (body !== '' && consumed !== body.length + 1) throw new Error(`malformed labels: ${line}`);
    samples.push({ name: match[1]!, labels, value: parseValue(match[3]!) });
  }
  return samples;
}

/** The value of the one sample with this name whose labels include `labels`; 0 when none. */
export function valueOf(
  samples: readonly PrometheusSample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = samples.filter(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

/** Every sample of `name` (e.g. for checking which label sets exist). */
export function samplesOf(samples: readonly PrometheusSample[], name: string): PrometheusSample[] {
  return samples.filter((sample) => sample.name === name);
}
