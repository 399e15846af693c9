import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface Hotspot {
  selfPercent: number;
  function: string;
  location: string;
}

/** The functions with the most self time in the newest `.cpuprofile` of a directory. */
export async function hotspots(directory: string, top = 30): Promise<Hotspot[]> {
  const files = (await readdir(directory)).filter((name) => name.endsWith('.cpuprofile')).sort();
  const newest = files[files.length - 1];
  if (newest === undefined) return [];
  const profile = JSON.parse(await readFile(join(directory, newest), 'utf8')) as CpuProfile;
  const totals = new Map<string, { hits: number; function: string; location: string }>();
  let all = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
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
