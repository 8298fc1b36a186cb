// One metric of several runs overlaid: each run's series cut to the chart's width by the server
// (one batched request, series.ts), joined on their steps (uPlot.join), one line per run; smoothed (smooth.ts), each run's line
// is drawn faint under its smoothed one. Changing the smoothing draws again without fetching.
import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import type { Run } from "../api";
import { runName } from "../compare";
import { fetchSeries } from "../series";
import { smoothedSeries, withSmoothed } from "../smooth";
import { ErrorLine } from "./ErrorLine";

export const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#65a30d", "#4b5563", "#ca8a04"];

export function CompareChart({
  runs,
  metricKey,
  dashed,
  smoothing = 0,
}: {
  runs: Run[];
  metricKey: string;
  dashed?: (run: Run) => boolean; // these runs' lines are dashed (a sweep's trials stopped early)
  smoothing?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<unknown>(null);
  const [fetched, setFetched] = useState<{ runs: Run[]; data: uPlot.AlignedData; width: number } | null>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const width = Math.max(300, element.clientWidth);
    const having = runs.filter((run) => metricKey in run.metrics);
    let cancelled = false;
    fetchSeries(
      having.map((run) => run.id),
      metricKey,
      { points: width },
    )
      .then((all) => {
        if (cancelled) return;
        const tables: uPlot.AlignedData[] = all.map((s) => [
          s.steps,
          s.values.map((v) => (typeof v === "number" ? v : null)),
        ]);
        setFetched({ runs: having, data: tables.length === 1 ? tables[0] : uPlot.join(tables), width });
      })
      .catch(setError);
    return () => {
      cancelled = true;
    };
  }, [runs, metricKey]);

  useEffect(() => {
    const element = box.current;
    if (!element || !fetched) return;
    const plot = new uPlot(
      {
        width: fetched.width,
        height: 240,
        scales: { x: { time: false } },
        axes: [{ label: "step" }, {}],
        series: [
          { label: "step" },
          ...fetched.runs.flatMap((run, i) =>
            smoothedSeries(
              {
                label: runName(run) + (dashed?.(run) ? " (stopped early)" : ""),
                stroke: PALETTE[i % PALETTE.length],
                width: 1.2,
                spanGaps: true,
                dash: dashed?.(run) ? [6, 4] : undefined,
              },
              smoothing,
            ),
          ),
        ],
      },
      withSmoothed(fetched.data, smoothing),
      element,
    );
    return () => plot.destroy();
  }, [fetched, dashed, smoothing]);
  return (
    <figure className="chart" data-testid={`compare-${metricKey}`}>
      <figcaption>{metricKey}</figcaption>
      <div ref={box} />
      <ErrorLine error={error} />
    </figure>
  );
}
