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

export interface NamedTable {
  name: string;
  table: Table;
}

// every table the run logged, by name
export async function loggedTables(runId: string): Promise<NamedTable[]> {
  const names = (await files(`${runArtifacts(runId)}/${TABLES}`))
    .filter((file) => file.endsWith(".json"))
    .map((file) => file.slice(0, -".json".length));
  const tables = await Promise.all(names.map(async (name) => ({ name, table: await loggedTable(runId, name) })));
  return tables.filter((t): t is NamedTable => t.table !== null);
}

interface Image {
  name: string;
  url: string; // an object URL (the PNG fetched with the page's credentials)
}

async function loggedImages(runId: string): Promise<Image[]> {
  const prefix = `${runArtifacts(runId)}/${IMAGES}`;
  return Promise.all(
    (await files(prefix)).map(async (file) => {
      const blob = await (await request(artifactUrl(`${prefix}/${file}`))).blob();
      return { name: file.replace(/\.png$/i, ""), url: URL.createObjectURL(blob) };
    }),
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
  const { value, error } = usePolled(() => loggedTables(runId), null, [runId, live]);
  const shown = (value ?? []).filter((t) => !hide.includes(t.name));
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
  const [images, setImages] = useState<Image[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let shown: Image[] = [];
    let gone = false;
    loggedImages(runId).then((list) => {
      shown = list;
      if (gone) list.forEach((image) => URL.revokeObjectURL(image.url));
      else setImages(list);
    }, setError);
    return () => {
      gone = true;
      shown.forEach((image) => URL.revokeObjectURL(image.url));
    };
  }, [runId, live]);
  if (images.length === 0) return <ErrorLine error={error} />;
  return (
    <>
      {heading}
      <div className="images" data-testid={testId}>
        {images.map((image) => (
          <figure key={image.name}>
            <figcaption>{image.name}</figcaption>
            <img src={image.url} alt={image.name} />
          </figure>
        ))}
      </div>
    </>
  );
}
