// A sweep's trials in parallel coordinates (parallel.ts): an axis per hyperparameter and the
// primary metric last, a line per trial; the best thick, the ones stopped early dashed.
import { metric } from "../format";
import { parallel, type Axis } from "../parallel";
import type { Trial } from "../sweep";

const GAP = 150;
const HEIGHT = 220;
const PAD = { top: 28, bottom: 22, side: 50 };

function ends(axis: Axis): [string, string] {
  if (axis.kind === "number") return [metric(axis.max), metric(axis.min)];
  return [axis.values[axis.values.length - 1] ?? "", axis.values[0] ?? ""];
}

export function ParallelCoords({ trials, params, metricKey }: { trials: Trial[]; params: string[]; metricKey: string }) {
  const { axes, lines } = parallel(trials, params, metricKey);
  if (lines.length === 0) return null;
  const width = 2 * PAD.side + (axes.length - 1) * GAP;
  const y = (p: number) => PAD.top + (1 - p) * (HEIGHT - PAD.top - PAD.bottom);
  return (
    <figure className="chart" data-testid="parallel">
      <figcaption>
        Hyperparameters against {metricKey} <small>{lines.length} trials</small>
      </figcaption>
      <svg width={width} height={HEIGHT} role="img" aria-label="parallel coordinates">
        {lines.map(({ trial, points }) => (
          <polyline
            key={trial.run.id}
            className={`pc-line${trial.best ? " pc-best" : ""}${trial.stoppedEarly ? " pc-stopped" : ""}`}
            points={points.map((p, i) => `${PAD.side + i * GAP},${y(p)}`).join(" ")}
          >
            <title>{trial.run.name || `trial ${trial.trial}`}</title>
          </polyline>
        ))}
        {axes.map((axis, i) => {
          const x = PAD.side + i * GAP;
          const [top, bottom] = ends(axis);
          return (
            <g key={axis.name} className="pc-axis">
              <line x1={x} x2={x} y1={y(1)} y2={y(0)} />
              <text x={x} y={12} textAnchor="middle" className="pc-name">
                {axis.name}
              </text>
              <text x={x + 4} y={y(1) + 4}>{top}</text>
              <text x={x + 4} y={y(0) + 4}>{bottom}</text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
