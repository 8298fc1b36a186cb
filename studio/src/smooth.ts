// Smoothing of metric curves as TensorBoard does it: an exponential moving average of the
// points in order, debiased (divided by 1 - weight^n after n points) so that the start is not
// pulled towards 0. A gap (null) stays a gap and the average goes on past it; a constant series
// is left as it is (the division would only add rounding).
import type uPlot from "uplot";

export const MAX_SMOOTHING = 0.99;

export function smooth(values: (number | null)[], weight: number): (number | null)[] {
  const known = values.filter((v): v is number => v !== null);
  if (weight <= 0 || known.every((v) => v === known[0])) return values;
  let last = 0;
  let seen = 0;
  return values.map((v) => {
    if (v === null) return null;
    last = last * weight + (1 - weight) * v;
    seen += 1;
    return last / (1 - weight ** seen);
  });
}

// a chart's columns with each series' smoothed copy after it: [x, y1, s1, y2, s2, …]; as they
// were when there is no smoothing
export function withSmoothed(data: uPlot.AlignedData, weight: number): uPlot.AlignedData {
  if (weight <= 0) return data;
  const [x, ...ys] = data;
  return [x, ...ys.flatMap((y) => [y, smooth(Array.from(y, (v) => v ?? null), weight)])];
}

// the series drawn for one line: itself, or, smoothed, itself faint and the smoothed line over it
export function smoothedSeries(line: uPlot.Series & { stroke: string }, weight: number): uPlot.Series[] {
  if (weight <= 0) return [line];
  return [{ ...line, label: `${line.label} (raw)`, stroke: `${line.stroke}40` }, line];
}
