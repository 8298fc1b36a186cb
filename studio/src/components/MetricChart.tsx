// One metric of one run, drawn by uPlot on a canvas. The server cuts the series to the chart's
// width, keeping each step range's min and max (GET /runs/{id}/metric-series); zooming in
// (drag across the chart) asks again for just those steps, exact once few enough; a
// double-click zooms back out. Smoothed (smooth.ts), the raw line is drawn faint under the
// smoothed one; moving the weight draws again without fetching.
import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import { getJson, query, V1, type Series } from "../api";
import { smoothedSeries, withSmoothed } from "../smooth";
import { ErrorLine } from "./ErrorLine";

const HEIGHT = 220;

function fetchSeries(runId: string, key: string, points: number, range?: [number, number]): Promise<Series> {
  const q = query({
    key,
    points,
    min_step: range ? Math.floor(range[0]) : undefined,
    max_step: range ? Math.ceil(range[1]) : undefined,
  });
  return getJson<Series>(`${V1}/runs/${encodeURIComponent(runId)}/metric-series?${q}`);
}

export interface ChartOptions {
  axis: "step" | "time"; // what x is: the step logged, or when it was logged
  log: boolean; // a logarithmic y axis (values at or below 0 are left out)
}

// the steps between two x values of the data drawn (x is a step, or a time on the time axis)
function stepRange(series: Series, axis: ChartOptions["axis"], low: number, high: number): [number, number] {
  if (axis === "step") return [low, high];
  const inside = series.steps.filter((_, i) => series.timestamps[i] >= low && series.timestamps[i] <= high);
  return inside.length ? [inside[0], inside[inside.length - 1]] : [low, low];
}

function columns(series: Series, options: ChartOptions): uPlot.AlignedData {
  const x = options.axis === "time" ? series.timestamps : series.steps;
  // NaN and infinities (sent as strings) are gaps; so are values a log scale cannot place
  const y = series.values.map((v) => (typeof v === "number" && (!options.log || v > 0) ? v : null));
  return [x, y];
}

export function MetricChart({
  runId,
  metricKey,
  live,
  options,
  smoothing,
}: {
  runId: string;
  metricKey: string;
  live: boolean;
  options: ChartOptions;
  smoothing: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [info, setInfo] = useState<Series | null>(null);
  const [error, setError] = useState<unknown>(null);
  const weight = useRef(smoothing); // read when drawing, so that a new weight needs no new plot
  weight.current = smoothing;
  const redraw = useRef<(() => void) | null>(null);
  const smoothed = smoothing > 0; // a faint raw line is added or taken away: a new plot

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const width = Math.max(300, element.clientWidth);
    let plot: uPlot | null = null;
    let zoomed: [number, number] | undefined;
    let timer: number | undefined;
    let cancelled = false;

    let shown: Series | null = null;
    const draw = (series: Series) => {
      if (cancelled) return;
      setInfo(series);
      shown = series;
      const data = withSmoothed(columns(series, options), weight.current);
      if (plot) {
        plot.setData(data, zoomed === undefined);
        return;
      }
      plot = new uPlot(
        {
          width,
          height: HEIGHT,
          scales: { x: { time: options.axis === "time" }, y: options.log ? { distr: 3 } : {} },
          axes: [{ label: options.axis }, {}],
          series: [
            { label: options.axis },
            ...smoothedSeries({ label: metricKey, stroke: "#2563eb", width: 1.5, spanGaps: false }, weight.current),
          ],
          cursor: { drag: { x: true, y: false } },
          hooks: {
            setSelect: [
              (u) => {
                if (u.select.width < 2) return;
                const low = u.posToVal(u.select.left, "x");
                const high = u.posToVal(u.select.left + u.select.width, "x");
                if (!shown) return;
                zoomed = stepRange(shown, options.axis, low, high);
                fetchSeries(runId, metricKey, width, zoomed).then(draw, setError);
              },
            ],
          },
        },
        data,
        element,
      );
      plot.over.addEventListener("dblclick", () => {
        zoomed = undefined;
        fetchSeries(runId, metricKey, width).then(draw, setError);
      });
    };

    redraw.current = () => {
      if (shown) plot?.setData(withSmoothed(columns(shown, options), weight.current), false);
    };
    const refresh = () => fetchSeries(runId, metricKey, width, zoomed).then(draw, setError);
    refresh();
    if (live) timer = window.setInterval(refresh, 3000);
    return () => {
      cancelled = true;
      redraw.current = null;
      if (timer !== undefined) window.clearInterval(timer);
      plot?.destroy();
    };
  }, [runId, metricKey, live, options, smoothed]);
  useEffect(() => {
    redraw.current?.();
  }, [smoothing]);

  return (
    <figure className="chart" data-testid={`chart-${metricKey}`}>
      <figcaption>
        {metricKey}
        {info && (
          <small>
            {" "}
            {info.exact ? `${info.total} points` : `${info.steps.length} of ${info.total} points (min/max per bucket)`}
          </small>
        )}
      </figcaption>
      <div ref={box} />
      <ErrorLine error={error} />
    </figure>
  );
}
