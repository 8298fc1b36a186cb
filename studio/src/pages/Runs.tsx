// The runs of one experiment: pages of 200 from POST /runs/search as the table scrolls (the
// server sorts and filters, in MLflow's search grammar), rows drawn by TanStack Virtual, so an
// experiment of any size costs the browser one page and the rows on screen. Rows on screen of
// runs still going are read again every 5 s. Deleted runs are shown only in the deleted view; a
// writer gets a toolbar for the selected runs (tag, delete, restore: BulkActions).
import { useEffect, useMemo, useRef, useState } from "react";
import { createColumnHelper, flexRender, getCoreRowModel, useReactTable, type ColumnDef } from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import { getJson, postJson, TERMINAL, USER_TAG, V1, type Experiment, type Run, type RunPage } from "../api";
import { duration, metric, searchKey, when } from "../format";
import { href } from "../route";
import { ErrorLine } from "../components/ErrorLine";
import { StatusBadge } from "../components/StatusBadge";
import { BulkActions } from "../components/BulkActions";
import { MAX_COMPARED } from "./Compare";

export const PAGE_SIZE = 200;
const MAX_KEY_COLUMNS = 40;
const ROW_HEIGHT = 30;
const LIVE_ROWS = 50;
const LIVE_EVERY_MS = 5000;

interface Order {
  key: string;
  descending: boolean;
}

interface Meta {
  sortKey?: string;
  numeric?: boolean;
}

const column = createColumnHelper<Run>();

// the columns a user turned on or off, per experiment, kept in this browser
const CHOICE_KEY = "trainyard.columns.";
type Choice = Record<string, boolean>;

function loadChoice(experimentId: string): Choice {
  try {
    return JSON.parse(localStorage.getItem(CHOICE_KEY + experimentId) ?? "{}") as Choice;
  } catch {
    return {};
  }
}

function keysOf(runs: Run[], pick: (run: Run) => Record<string, unknown>): string[] {
  const keys = new Set<string>();
  for (const run of runs) for (const key of Object.keys(pick(run))) keys.add(key);
  return [...keys].sort();
}

export function Runs({ experimentId, writer }: { experimentId: string; writer: boolean }) {
  const [experiment, setExperiment] = useState<Experiment | null>(null);
  const [count, setCount] = useState<number | null>(null);
  const [draft, setDraft] = useState("");
  const [filter, setFilter] = useState("");
  const [order, setOrder] = useState<Order | null>(null);
  const [runs, setRuns] = useState<Run[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<string[]>([]);
  const [deletedView, setDeletedView] = useState(false);
  const [reads, setReads] = useState(0); // bumped to read the table again after a change
  const generation = useRef(0);

  useEffect(() => setSelected([]), [experimentId, deletedView]);

  useEffect(() => {
    const id = encodeURIComponent(experimentId);
    getJson<Experiment>(`${V1}/experiments/${id}`).then(setExperiment, setError);
    getJson<{ count: number }>(`${V1}/experiments/${id}/run-count`).then((c) => setCount(c.count), setError);
  }, [experimentId, reads]); // the count leaves deleted runs out: read again after a bulk change

  function load(token: string | null, mine: number) {
    setLoading(true);
    postJson<RunPage>(`${V1}/runs/search`, {
      experiment_ids: [experimentId],
      max_results: PAGE_SIZE,
      filter_string: filter || null,
      order_by: order ? [`${order.key} ${order.descending ? "DESC" : "ASC"}`] : null,
      page_token: token,
      view: deletedView ? "deleted" : "active",
    })
      .then((page) => {
        if (mine !== generation.current) return; // a newer search replaced this one
        setRuns((before) => (token === null ? page.runs : [...before, ...page.runs]));
        setNext(page.next_page_token);
        setError(null);
      })
      .catch((e) => mine === generation.current && setError(e))
      .finally(() => mine === generation.current && setLoading(false));
  }

  useEffect(() => {
    generation.current += 1;
    setRuns([]);
    setNext(null);
    load(null, generation.current);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [experimentId, filter, order, deletedView, reads]);

  // the keys of every run seen in this experiment, so that a new sort or filter keeps its columns
  const seen = useRef<{ experimentId: string; metrics: string[]; params: string[]; tags: string[] }>({
    experimentId,
    metrics: [],
    params: [],
    tags: [],
  });
  const [choice, setChoice] = useState<Choice>(() => loadChoice(experimentId));
  useEffect(() => setChoice(loadChoice(experimentId)), [experimentId]);
  const choose = (id: string, shown: boolean) => {
    const next = { ...choice, [id]: shown };
    localStorage.setItem(CHOICE_KEY + experimentId, JSON.stringify(next));
    setChoice(next);
  };
  const available = useMemo(() => {
    const none = { metrics: [], params: [], tags: [] };
    const before = seen.current.experimentId === experimentId ? seen.current : none;
    const merge = (old: string[], pick: (r: Run) => Record<string, unknown>) =>
      [...new Set([...old, ...keysOf(runs, pick)])].sort();
    const metrics = merge(before.metrics, (r) => r.metrics);
    const params = merge(before.params, (r) => r.params);
    const tags = merge(before.tags, (r) => r.tags);
    seen.current = { experimentId, metrics, params, tags };
    return { metrics, params, tags };
  }, [runs, experimentId]);
  // metrics and params are shown unless hidden, tags only when chosen; at most MAX_KEY_COLUMNS
  const { metricKeys, paramKeys, tagKeys } = useMemo(() => {
    const shown = (id: string, byDefault: boolean) => choice[id] ?? byDefault;
    const metricKeys = available.metrics.filter((k) => shown(`metrics.${k}`, true)).slice(0, MAX_KEY_COLUMNS);
    let room = MAX_KEY_COLUMNS - metricKeys.length;
    const paramKeys = available.params.filter((k) => shown(`params.${k}`, true)).slice(0, room);
    room -= paramKeys.length;
    const tagKeys = available.tags.filter((k) => shown(`tags.${k}`, false)).slice(0, room);
    return { metricKeys, paramKeys, tagKeys };
  }, [available, choice]);
  const hasUser = available.tags.includes(USER_TAG); // a column once any run has a user

  const columns = useMemo<ColumnDef<Run, any>[]>(
    () => [
      column.display({
        id: "select",
        header: "",
        cell: (c) => (
          <input
            type="checkbox"
            aria-label={`select ${c.row.original.name || c.row.original.id}`}
            checked={selected.includes(c.row.original.id)}
            onChange={(event) => {
              const id = c.row.original.id;
              setSelected((before) =>
                event.target.checked ? [...before, id].slice(-MAX_COMPARED) : before.filter((x) => x !== id),
              );
            }}
          />
        ),
      }),
      column.accessor("name", {
        header: "Run",
        cell: (c) => <a href={href({ page: "run", runId: c.row.original.id })}>{c.getValue() || c.row.original.id.slice(0, 8)}</a>,
        meta: { sortKey: "attributes.run_name" } satisfies Meta,
      }),
      column.accessor("status", {
        header: "Status",
        cell: (c) => <StatusBadge status={c.getValue()} />,
        meta: { sortKey: "attributes.status" } satisfies Meta,
      }),
      column.accessor("start_time", {
        header: "Started",
        cell: (c) => when(c.getValue()),
        meta: { sortKey: "attributes.start_time" } satisfies Meta,
      }),
      column.display({
        id: "duration",
        header: "Duration",
        cell: (c) => duration(c.row.original.start_time, c.row.original.end_time),
        meta: { numeric: true } satisfies Meta,
      }),
      ...(hasUser
        ? [
            column.accessor((run) => run.tags[USER_TAG], {
              id: "user",
              header: "User",
              meta: { sortKey: searchKey("tags", USER_TAG) } satisfies Meta,
            }),
          ]
        : []),
      ...metricKeys.map((key) =>
        column.accessor((run) => run.metrics[key], {
          id: `metrics.${key}`,
          header: key,
          cell: (c) => metric(c.getValue()),
          meta: { sortKey: searchKey("metrics", key), numeric: true } satisfies Meta,
        }),
      ),
      ...paramKeys.map((key) =>
        column.accessor((run) => run.params[key], {
          id: `params.${key}`,
          header: key,
          meta: { sortKey: searchKey("params", key) } satisfies Meta,
        }),
      ),
      ...tagKeys.map((key) =>
        column.accessor((run) => run.tags[key], {
          id: `tags.${key}`,
          header: key,
          meta: { sortKey: searchKey("tags", key) } satisfies Meta,
        }),
      ),
    ],
    [metricKeys, paramKeys, tagKeys, selected, hasUser],
  );

  const table = useReactTable({ data: runs, columns, getCoreRowModel: getCoreRowModel(), manualSorting: true });
  const scroller = useRef<HTMLDivElement>(null);
  const rows = table.getRowModel().rows;
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 20,
  });
  const items = virtual.getVirtualItems();
  const lastShown = items.length ? items[items.length - 1].index : 0;
  useEffect(() => {
    if (next !== null && !loading && lastShown >= rows.length - 50) load(next, generation.current);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lastShown, next, loading, rows.length]);

  // runs on screen that are still going are read again every 5 s (status, duration, metrics)
  const going = items
    .map((item) => runs[item.index])
    .filter((run) => run && !TERMINAL.has(run.status))
    .slice(0, LIVE_ROWS)
    .map((run) => run.id)
    .join(",");
  useEffect(() => {
    if (!going) return;
    const timer = window.setInterval(() => {
      const ids = going.split(",");
      Promise.all(ids.map((id) => getJson<Run>(`${V1}/runs/${encodeURIComponent(id)}`)))
        .then((fresh) => {
          const byId = new Map(fresh.map((run) => [run.id, run]));
          setRuns((before) => before.map((run) => byId.get(run.id) ?? run));
        })
        .catch(() => undefined); // the next tick tries again
    }, LIVE_EVERY_MS);
    return () => window.clearInterval(timer);
  }, [going]);

  function sortBy(key: string | undefined) {
    if (!key) return;
    setOrder((before) =>
      before?.key !== key ? { key, descending: true } : before.descending ? { key, descending: false } : null,
    );
  }

  const top = items.length ? items[0].start : 0;
  const bottom = items.length ? virtual.getTotalSize() - items[items.length - 1].end : 0;
  const metricGroup = metricKeys.length;

  return (
    <section className="runs">
      <nav className="crumbs">
        <a href={href({ page: "experiments" })}>Experiments</a> / {experiment?.name ?? experimentId}
      </nav>
      <h1>
        {experiment?.name ?? "Runs"}{" "}
        <small data-testid="run-count">
          {runs.length}
          {next !== null ? "+" : ""} shown{count !== null ? ` of ${count} runs` : ""}
        </small>
      </h1>
      <form
        className="filter"
        onSubmit={(event) => {
          event.preventDefault();
          setFilter(draft.trim());
        }}
      >
        <input
          aria-label="filter"
          placeholder="metrics.loss < 0.5 and params.lr = '0.01' and attributes.status = 'completed'"
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
        />
        <button type="submit">Filter</button>
        <a
          className={`button${selected.length < 2 ? " disabled" : ""}`}
          href={selected.length >= 2 ? href({ page: "compare", runIds: selected }) : undefined}
          aria-disabled={selected.length < 2}
        >
          Compare {selected.length || ""}
        </a>
        {filter && (
          <button
            type="button"
            onClick={() => {
              setDraft("");
              setFilter("");
            }}
          >
            Clear
          </button>
        )}
        <label className="toggle">
          <input type="checkbox" checked={deletedView} onChange={(event) => setDeletedView(event.target.checked)} />{" "}
          Show deleted
        </label>
      </form>
      {writer && selected.length > 0 && (
        <BulkActions
          runIds={selected}
          deletedView={deletedView}
          onChanged={() => {
            setSelected([]);
            setReads((n) => n + 1);
          }}
        />
      )}
      <details className="columns-picker">
        <summary>Columns</summary>
        {(["metrics", "params", "tags"] as const).map((entity) => (
          <fieldset key={entity}>
            <legend>{entity}</legend>
            {available[entity].length === 0 && <span className="muted">none</span>}
            {available[entity].map((key) => {
              const id = `${entity}.${key}`;
              return (
                <label key={id}>
                  <input
                    type="checkbox"
                    aria-label={`column ${id}`}
                    checked={choice[id] ?? entity !== "tags"}
                    onChange={(event) => choose(id, event.target.checked)}
                  />{" "}
                  {key}
                </label>
              );
            })}
          </fieldset>
        ))}
      </details>
      <ErrorLine error={error} />
      <div className="scroller" ref={scroller} data-testid="runs-scroller">
        <table className="grid" data-testid="runs">
          <thead>
            <tr className="groups">
              <th colSpan={hasUser ? 6 : 5}></th>
              {metricGroup > 0 && <th colSpan={metricGroup}>Metrics (latest)</th>}
              {paramKeys.length > 0 && <th colSpan={paramKeys.length}>Params</th>}
              {tagKeys.length > 0 && <th colSpan={tagKeys.length}>Tags</th>}
            </tr>
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id}>
                {group.headers.map((header) => {
                  const meta = (header.column.columnDef.meta ?? {}) as Meta;
                  const sorted = order && meta.sortKey === order.key ? (order.descending ? " ▼" : " ▲") : "";
                  return (
                    <th
                      key={header.id}
                      className={meta.sortKey ? "sortable" : undefined}
                      onClick={() => sortBy(meta.sortKey)}
                      title={meta.sortKey ? `sort by ${meta.sortKey}` : undefined}
                    >
                      {flexRender(header.column.columnDef.header, header.getContext())}
                      {sorted}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody>
            {top > 0 && (
              <tr style={{ height: top }}>
                <td colSpan={columns.length} />
              </tr>
            )}
            {items.map((item) => {
              const row = rows[item.index];
              return (
                <tr key={row.id} style={{ height: ROW_HEIGHT }} data-testid="run-row">
                  {row.getVisibleCells().map((cell) => {
                    const meta = (cell.column.columnDef.meta ?? {}) as Meta;
                    return (
                      <td key={cell.id} className={meta.numeric ? "number" : undefined}>
                        {flexRender(cell.column.columnDef.cell, cell.getContext())}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
            {bottom > 0 && (
              <tr style={{ height: bottom }}>
                <td colSpan={columns.length} />
              </tr>
            )}
          </tbody>
        </table>
        {!loading && runs.length === 0 && !error && (
          <p>
            No {deletedView ? "deleted " : ""}runs{filter ? " match the filter" : ""}.
          </p>
        )}
        {loading && <p className="loading">loading…</p>}
      </div>
    </section>
  );
}
