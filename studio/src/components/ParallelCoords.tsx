// Rows in parallel coordinates (parallel.ts): an axis per column, a line per row that has them
// all, its name on hover; a row's class may style its line (a sweep's best thick, the ones
// stopped early dashed).
import { metric } from "../format";
import { parallel, ticks, type Axis, type Row } from "../parallel";

const GAP = 150;
const HEIGHT = 220;
const PAD = { top: 28, bottom: 22, side: 50 };

// a numeric tick reads as the tables' numbers do
const label = (axis: Axis, text: string) => (axis.kind === "number" ? metric(Number(text)) : text);

export function ParallelCoords({
  rows,
  columns,
  title,
  noun,
}: {
  rows: Row[];
  columns: string[];
  title: string;
  noun: string; // what a line is, counted in the caption ("trials", "runs")
}) {
  const { axes, lines } = parallel(rows, columns);
  if (lines.length === 0 || axes.length < 2) return null;
  const width = 2 * PAD.side + (axes.length - 1) * GAP;
  const y = (p: number) => PAD.top + (1 - p) * (HEIGHT - PAD.top - PAD.bottom);
  return (
    <figure className="chart wide" data-testid="parallel">
      <figcaption>
        {title}{" "}
        <small>
          {lines.length} {noun}
        </small>
      </figcaption>
      <svg width={width} height={HEIGHT} role="img" aria-label="parallel coordinates">
        {lines.map(({ row, points }) => (
          <polyline
            key={row.key}
            className={row.className ? `pc-line ${row.className}` : "pc-line"}
            points={points.map((p, i) => `${PAD.side + i * GAP},${y(p)}`).join(" ")}
          >
            <title>{row.name}</title>
          </polyline>
        ))}
        {axes.map((axis, i) => {
          const x = PAD.side + i * GAP;
          return (
            <g key={axis.name} className="pc-axis">
              <line x1={x} x2={x} y1={y(1)} y2={y(0)} />
              <text x={x} y={12} textAnchor="middle" className="pc-name">
                {axis.name}
              </text>
              {ticks(axis).map((tick) => (
                <text key={tick.label} x={x + 4} y={y(tick.at) + 4}>
                  {label(axis, tick.label)}
                </text>
              ))}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
