// Two columns of the compared runs against each other, picked in the two selects: a point per
// run that has both, its name on hover (and beside it while few). A column that is not all
// numbers is placed as categories (parallel.ts's axes).
import { useState } from "react";
import { defaultPair } from "../compare";
import { metric } from "../format";
import { parallel, ticks, type Axis, type Row } from "../parallel";

const WIDTH = 460;
const HEIGHT = 300;
const PAD = { left: 70, right: 20, top: 12, bottom: 40 };
const LABELLED = 12; // names written beside the points up to this many runs

const label = (axis: Axis, text: string) => (axis.kind === "number" ? metric(Number(text)) : text);
const INSET = 0.05; // the points kept off the axes' lines
const px = (p: number) => PAD.left + (INSET + p * (1 - 2 * INSET)) * (WIDTH - PAD.left - PAD.right);
const py = (p: number) => PAD.top + (1 - INSET - p * (1 - 2 * INSET)) * (HEIGHT - PAD.top - PAD.bottom);

function Pick({ name, value, columns, onChange }: { name: string; value: string; columns: string[]; onChange: (c: string) => void }) {
  return (
    <label>
      {name}{" "}
      <select aria-label={`scatter ${name}`} value={value} onChange={(event) => onChange(event.target.value)}>
        {columns.map((c) => (
          <option key={c}>{c}</option>
        ))}
      </select>
    </label>
  );
}

export function Scatter({ rows, columns }: { rows: Row[]; columns: string[] }) {
  const [[x, y], setPair] = useState(() => defaultPair(columns));
  if (columns.length === 0) return null;
  const { axes, lines } = parallel(rows, [x, y]);
  const left = rows.length - lines.length;
  return (
    <figure className="chart" data-testid="scatter">
      <figcaption className="chart-options">
        <Pick name="x" value={x} columns={columns} onChange={(c) => setPair([c, y])} />
        <Pick name="y" value={y} columns={columns} onChange={(c) => setPair([x, c])} />
        {left > 0 && (
          <small>
            {left} of {rows.length} runs have no value of both
          </small>
        )}
      </figcaption>
      <svg width={WIDTH} height={HEIGHT} role="img" aria-label={`${y} against ${x}`}>
        <g className="pc-axis">
          <line x1={PAD.left} x2={WIDTH - PAD.right} y1={HEIGHT - PAD.bottom} y2={HEIGHT - PAD.bottom} />
          <line x1={PAD.left} x2={PAD.left} y1={HEIGHT - PAD.bottom} y2={PAD.top} />
          {lines.length > 0 &&
            ticks(axes[0]).map((t) => (
              <text key={t.label} x={px(t.at)} y={HEIGHT - PAD.bottom + 16} textAnchor="middle">
                {label(axes[0], t.label)}
              </text>
            ))}
          {lines.length > 0 &&
            ticks(axes[1]).map((t) => (
              <text key={t.label} x={PAD.left - 6} y={py(t.at) + 4} textAnchor="end">
                {label(axes[1], t.label)}
              </text>
            ))}
        </g>
        {lines.map(({ row, points: [at, up] }) => (
          <g key={row.key} className="scatter-point">
            <circle cx={px(at)} cy={py(up)} r={5}>
              <title>{row.name}</title>
            </circle>
            {lines.length <= LABELLED && (
              <text x={px(at) + (at > 0.7 ? -8 : 8)} y={py(up) + 4} textAnchor={at > 0.7 ? "end" : "start"}>
                {row.name}
              </text>
            )}
          </g>
        ))}
      </svg>
    </figure>
  );
}
