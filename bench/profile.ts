import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds of the monotonic clock, the one `process.hrtime` reads in every process. */
  startTime: number;
  endTime: number;
  /** The node id of each sample, and the time since the previous one in microseconds. */
  samples: number[];
  timeDeltas: number[];
}

export interface Hotspot {
  selfPercent: number;
  function: string;
  location: string;
}

/** A span of the monotonic clock, in microseconds. */
export interface ProfileWindow {
  startMicros: number;
  endMicros: number;
}

/** Now on the clock V8 stamps its profile samples with (CLOCK_MONOTONIC on Linux). */
export function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** Samples per node id; only those taken inside `window` when one is given. */
function hitsPerNode(profile: CpuProfile, window?: ProfileWindow): Map<number, number> {
  const hits = new Map<number, number>();
  if (!window) {
    for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
    return hits;
  }
  let time = profile.startTime;
  profile.samples.forEach((id, index) => {
    time += profile.timeDeltas[index] ?? 0;
    if (time >= window.startMicros && time <= window.endMicros) hits.set(id, (hits.get(id) ?? 0) + 1);
  });
  return hits;
}

/**
 * The functions with the most self time in the newest `.cpuprofile` of a directory, counting
 * only the samples inside `window` when it is given (the profile covers the process's life).
 */
export async function hotspots(directory: string, window?: ProfileWindow, top = 30): Promise<Hotspot[]> {
  const files = (await readdir(directory)).filter((name) => name.endsWith('.cpuprofile')).sort();
  const newest = files[files.length - 1];
  if (newest === undefined) return [];
  const profile = JSON.parse(await readFile(join(directory, newest), 'utf8')) as CpuProfile;
  const hitsOf = hitsPerNode(profile, window);
  const totals = new Map<string, { hits: number; function: string; location: string }>();
  let all = 0;
  for (const node of profile.nodes) {
    const hits = hitsOf.get(node.id) ?? 0;
    all += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const location =
      url === ''
        ? ''
        : `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${lineNumber + 1}`;
    const key = `${functionName}@${location}`;
    const entry = totals.get(key) ?? { hits: 0, function: functionName || '(anonymous)', location };
    entry.hits += hits;
    totals.set(key, entry);
  }
  return [...totals.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, top)
    .map((entry) => ({
      selfPercent: Math.round((entry.hits / Math.max(1, all)) * 1000) / 10,
      function: entry.function,
      location: entry.location,
    }));
}
