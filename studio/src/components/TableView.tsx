// A table's first rows as a grid (a logged table, a CSV or Parquet preview, a model signature),
// and its chart (tables.ts: numeric columns as lines against the first, or bars over text) drawn
// by uPlot.
import { useEffect, useMemo, useRef } from "react";
import uPlot from "uplot";
import { cellText, tableChart, type Table, type TableChartData } from "../tables";
import { PALETTE } from "./CompareChart";

const HEIGHT = 220;

export function TableView({ table, maxRows = 20, testId }: { table: Table; maxRows?: number; testId?: string }) {
  const rows = table.rows.slice(0, maxRows);
  return (
    <div className="scroller short">
      <table className="grid flat" data-testid={testId}>
        <thead>
          <tr>
            {table.columns.map((name) => (
              <th key={name}>{name}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => (
            <tr key={i}>
              {row.map((cell, j) => (
                <td key={j} className={typeof cell === "number" ? "number" : undefined}>
                  {cellText(cell)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {table.rows.length > rows.length && (
        <p className="muted">
          the first {rows.length} of {table.rows.length} rows
        </p>
      )}
    </div>
  );
}

// a bar chart's values, with 0 (where bars start) in range
function fromZero(_u: uPlot, min: number, max: number): uPlot.Range.MinMax {
  const low = Math.min(0, min);
  const high = Math.max(0, max);
  return [low, high + ((high - low) * 0.05 || 1)];
}

function options(chart: TableChartData, width: number): uPlot.Options {
  const bars = chart.kind === "bars";
  const labels = chart.labels ?? [];
  return {
    width,
    height: HEIGHT,
    scales: bars
      ? { x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] }, y: { range: fromZero } }
      : { x: { time: false } },
    axes: [
      bars
        ? { label: chart.xName, splits: () => chart.x, values: (_u, splits) => splits.map((s) => labels[s] ?? "") }
        : { label: chart.xName },
      {},
    ],
    series: [
      { label: chart.xName, value: bars ? (_u, v) => (v === null ? "" : (labels[v] ?? "")) : undefined },
      ...chart.series.map((s, i) => {
        const color = PALETTE[i % PALETTE.length];
        return bars
          ? { label: s.name, stroke: color, fill: `${color}99`, paths: uPlot.paths.bars!({ size: [0.7 / chart.series.length, 80] }) }
          : { label: s.name, stroke: color, width: 1.5, spanGaps: false };
      }),
    ],
  };
}

// the chart of ``table``, nothing when it has no numeric column to draw
export function TableChart({ table, testId }: { table: Table; testId?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useMemo(() => tableChart(table), [table]);
  useEffect(() => {
    const element = box.current;
    if (!element || !chart) return;
    const data: uPlot.AlignedData = [chart.x, ...chart.series.map((s) => s.values)];
    const plot = new uPlot(options(chart, Math.max(300, element.clientWidth)), data, element);
    return () => plot.destroy();
  }, [chart]);
  if (!chart) return null;
  return <div ref={box} className="table-chart" data-testid={testId} />;
}
