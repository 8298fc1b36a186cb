// One metric of several runs overlaid: each run's series cut to the chart's width by the server,
// joined on their steps (uPlot.join), one line per run.
import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import { getJson, query, V1, type Run, type Series } from "../api";
import { ErrorLine } from "./ErrorLine";

export const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#65a30d", "#4b5563", "#ca8a04"];

export function CompareChart({
  runs,
  metricKey,
  dashed,
}: {
  runs: Run[];
  metricKey: string;
  dashed?: (run: Run) => boolean; // these runs' lines are dashed (a sweep's trials stopped early)
}) {
  const box = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const width = Math.max(300, element.clientWidth);
    const having = runs.filter((run) => metricKey in run.metrics);
    let plot: uPlot | null = null;
    let cancelled = false;
    Promise.all(
      having.map((run) =>
        getJson<Series>(`${V1}/runs/${encodeURIComponent(run.id)}/metric-series?${query({ key: metricKey, points: width })}`),
      ),
    )
      .then((all) => {
        if (cancelled) return;
        const tables: uPlot.AlignedData[] = all.map((s) => [
          s.steps,
          s.values.map((v) => (typeof v === "number" ? v : null)),
        ]);
        const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
        plot = new uPlot(
          {
            width,
            height: 240,
            scales: { x: { time: false } },
            axes: [{ label: "step" }, {}],
            series: [
              { label: "step" },
              ...having.map((run, i) => ({
                label: (run.name || run.id.slice(0, 8)) + (dashed?.(run) ? " (stopped early)" : ""),
                stroke: PALETTE[i % PALETTE.length],
                width: 1.2,
                spanGaps: true,
                dash: dashed?.(run) ? [6, 4] : undefined,
              })),
            ],
          },
          data,
          element,
        );
      })
      .catch(setError);
    return () => {
      cancelled = true;
      plot?.destroy();
    };
  }, [runs, metricKey, dashed]);
  return (
    <figure className="chart" data-testid={`compare-${metricKey}`}>
      <figcaption>{metricKey}</figcaption>
      <div ref={box} />
      <ErrorLine error={error} />
    </figure>
  );
}
