// One output of a step's run as a table (GET /runs/{run}/outputs/{port}/preview): its first rows
// and each column's statistics; a report output (Evaluate Model's) offers each of its tables.
import { useState } from "react";
import { getJson, query, V1 } from "../api";
import { cellText, shownOf, STAT_HEADERS, statRows, type OutputPreview } from "../designer/preview";
import { usePolled } from "../hooks";
import { ErrorLine } from "./ErrorLine";

const ROWS = 10;

export function OutputTable({ runId, port }: { runId: string; port: string }) {
  const [table, setTable] = useState<string | null>(null);
  const { value: preview, error } = usePolled(
    () =>
      getJson<OutputPreview>(
        `${V1}/runs/${encodeURIComponent(runId)}/outputs/${encodeURIComponent(port)}/preview?${query({ rows: ROWS, table })}`,
      ),
    null,
    [runId, port, table],
  );
  return (
    <section className="output-table" data-testid={`output-${port}`}>
      <h4>
        <span className="mono">{port}</span>
        {preview && preview.tables.length > 0 && (
          <select aria-label={`${port} table`} value={preview.table ?? ""} onChange={(e) => setTable(e.target.value)}>
            {preview.tables.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        )}
      </h4>
      <ErrorLine error={error} />
      {preview?.kind === "report" && preview.tables.length === 0 && <p className="muted">A report without tables.</p>}
      {preview?.head && preview.column_names && (
        <>
          <p className="muted">{shownOf(preview)}</p>
          <div className="table-scroll">
            <table className="grid" data-testid="output-rows">
              <thead>
                <tr>
                  {preview.column_names.map((name) => (
                    <th key={name}>{name}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {preview.head.map((row, i) => (
                  <tr key={i}>
                    {row.map((value, j) => (
                      <td key={j} className={typeof value === "number" ? "number" : undefined}>
                        {cellText(value)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="table-scroll">
            <table className="grid" data-testid="output-stats">
              <thead>
                <tr>
                  {STAT_HEADERS.map((name) => (
                    <th key={name}>{name}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {statRows(preview.stats ?? []).map((row) => (
                  <tr key={row[0]}>
                    {row.map((text, j) => (
                      <td key={j} className={j >= 2 ? "number" : undefined}>
                        {text}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
