// Several runs' series of one metric, as a compare chart draws them: one GET /metric-series per
// MAX_SERIES_RUNS runs (the server's limit, trainyard.limits.MAX_SERIES_RUNS), each series cut by
// the server to the chart's width as GET /runs/{id}/metric-series cuts one (exact when zoomed
// in), rather than one request per run.
import { getJson, V1, type Series } from "./api";

export const MAX_SERIES_RUNS = 100;

export interface Cut {
  points: number;
  min_step?: number;
  max_step?: number;
}

export function seriesUrls(runIds: string[], key: string, cut: Cut): string[] {
  const urls: string[] = [];
  for (let first = 0; first < runIds.length; first += MAX_SERIES_RUNS) {
    const search = new URLSearchParams();
    for (const id of runIds.slice(first, first + MAX_SERIES_RUNS)) search.append("run_id", id);
    search.set("key", key);
    for (const [name, value] of Object.entries(cut)) if (value !== undefined) search.set(name, String(value));
    urls.push(`${V1}/metric-series?${search}`);
  }
  return urls;
}

// the runs' series in the order of runIds
export async function fetchSeries(
  runIds: string[],
  key: string,
  cut: Cut,
  get: (path: string) => Promise<{ series: (Series & { run_id: string })[] }> = getJson,
): Promise<Series[]> {
  const answers = await Promise.all(seriesUrls(runIds, key, cut).map(get));
  const byRun = new Map(answers.flatMap((a) => a.series.map((s) => [s.run_id, s] as const)));
  return runIds.map((id) => {
    const found = byRun.get(id);
    if (!found) throw new Error(`the server sent no ${key} series for run ${id}`);
    return found;
  });
}
