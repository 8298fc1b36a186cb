// What a run logged besides metrics, read from its artifacts as `run.log_table` / `log_row` and
// `log_image` store them (tracking/run.py): tables as columns under tables/NAME.json, drawn as a
// grid of their first rows and a chart when they have numeric columns; PNGs under images/, shown
// with their names. Used by every run's page, and by the AutoML board for its own tables and its
// winner's images. Read once, and again when ``live`` turns false (the run ended).
import { useEffect, useState, type ReactNode } from "react";
import { ApiError, artifactUrl, getJson, query, request, runArtifacts, V1 } from "../api";
import { usePolled } from "../hooks";
import { parseTable, type Table } from "../tables";
import { ErrorLine } from "./ErrorLine";
import { TableChart, TableView } from "./TableView";

const TABLES = "tables";
const IMAGES = "images";
const MOST = 20; // tables, and images, read for one page: the rest are in the run's files

async function files(prefix: string): Promise<string[]> {
  return (await getJson<{ files: string[] }>(`${V1}/artifact-list?${query({ prefix })}`)).files.sort();
}

// a table the run logged, null if it logged none of that name (or not of a table's shape)
export async function loggedTable(runId: string, name: string): Promise<Table | null> {
  try {
    return parseTable(await getJson<unknown>(artifactUrl(`${runArtifacts(runId)}/${TABLES}/${name}.json`)));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

interface NamedTable {
  name: string;
  table: Table;
}

interface Some<T> {
  items: T[];
  left: number; // how many more there are than were read (MOST at most are)
}

// the first MOST tables the run logged, by name
async function loggedTables(runId: string, hide: string[]): Promise<Some<NamedTable>> {
  const names = (await files(`${runArtifacts(runId)}/${TABLES}`))
    .filter((file) => file.endsWith(".json"))
    .map((file) => file.slice(0, -".json".length))
    .filter((name) => !hide.includes(name));
  const tables = await Promise.all(
    names.slice(0, MOST).map(async (name) => ({ name, table: await loggedTable(runId, name) })),
  );
  return { items: tables.filter((t): t is NamedTable => t.table !== null), left: Math.max(0, names.length - MOST) };
}

interface Image {
  name: string;
  url: string; // an object URL (the PNG fetched with the page's credentials)
}

async function loggedImages(runId: string): Promise<Some<Image>> {
  const prefix = `${runArtifacts(runId)}/${IMAGES}`;
  const all = await files(prefix);
  const items = await Promise.all(
    all.slice(0, MOST).map(async (file) => {
      const blob = await (await request(artifactUrl(`${prefix}/${file}`))).blob();
      return { name: file.replace(/\.png$/i, ""), url: URL.createObjectURL(blob) };
    }),
  );
  return { items, left: all.length - items.length };
}

function Left({ count, what }: { count: number; what: string }) {
  if (count === 0) return null;
  return (
    <p className="muted">
      {count} more {what} under {what}/ in the files below
    </p>
  );
}

// a run's tables, each under its name, below ``heading`` (nothing when it logged none); ``hide``
// names tables shown elsewhere on the page
export function LoggedTables({
  runId,
  live,
  heading,
  hide = [],
}: {
  runId: string;
  live: boolean;
  heading: ReactNode;
  hide?: string[];
}) {
  const key = hide.join("\n");
  const { value, error } = usePolled(() => loggedTables(runId, hide), null, [runId, live, key]);
  const shown = value?.items ?? [];
  if (shown.length === 0) return <ErrorLine error={error} />;
  return (
    <div className="logged-tables">
      {heading}
      <ErrorLine error={error} />
      {shown.map(({ name, table }) => (
        <figure key={name} className="chart" data-testid={`table-${name}`}>
          <figcaption>
            {name} <small>{table.rows.length} rows</small>
          </figcaption>
          <TableView table={table} />
          <TableChart table={table} testId={`table-chart-${name}`} />
        </figure>
      ))}
      <Left count={value?.left ?? 0} what={TABLES} />
    </div>
  );
}

// a run's images, each with its name, below ``heading`` (nothing when it logged none)
export function LoggedImages({
  runId,
  live,
  heading,
  testId,
}: {
  runId: string;
  live: boolean;
  heading: ReactNode;
  testId: string;
}) {
  const [images, setImages] = useState<Some<Image>>({ items: [], left: 0 });
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let shown: Image[] = [];
    let gone = false;
    loggedImages(runId).then((some) => {
      shown = some.items;
      if (gone) shown.forEach((image) => URL.revokeObjectURL(image.url));
      else setImages(some);
    }, setError);
    return () => {
      gone = true;
      shown.forEach((image) => URL.revokeObjectURL(image.url));
    };
  }, [runId, live]);
  if (images.items.length === 0) return <ErrorLine error={error} />;
  return (
    <>
      {heading}
      <div className="images" data-testid={testId}>
        {images.items.map((image) => (
          <figure key={image.name}>
            <figcaption>{image.name}</figcaption>
            <img src={image.url} alt={image.name} />
          </figure>
        ))}
      </div>
      <Left count={images.left} what={IMAGES} />
    </>
  );
}
