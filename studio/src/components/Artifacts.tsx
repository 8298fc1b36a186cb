// The run's files (GET /artifact-list): each can be previewed (artifacts.ts says how: images;
// the first 64 KB of a text file, read with a Range request; a CSV's first rows parsed from those
// bytes; a Parquet file's first rows and an MLmodel's signature, which the server reads) and
// downloaded, both with the page's credentials.
import { useEffect, useState } from "react";
import { artifactUrl, getJson, query, request, V1 } from "../api";
import { previewKind, type PreviewKind } from "../artifacts";
import { parseCsv } from "../csv";
import { parseTable, type Table } from "../tables";
import { ErrorLine } from "./ErrorLine";
import { TableView } from "./TableView";

const PREVIEW_BYTES = 64 * 1024;
const PREVIEW_ROWS = 50;

async function download(key: string) {
  const blob = await (await request(artifactUrl(key))).blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = key.split("/").pop() ?? "artifact";
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

interface Text {
  text: string;
  cut: boolean; // the file goes on past the first PREVIEW_BYTES
}

// the first PREVIEW_BYTES of a file, read with a Range request
async function firstBytes(key: string): Promise<Text> {
  const response = await request(artifactUrl(key), { headers: { Range: `bytes=0-${PREVIEW_BYTES - 1}` } });
  if (response.status === 416) return { text: "", cut: false }; // an empty file
  const text = new TextDecoder().decode(await response.arrayBuffer());
  const total = Number(response.headers.get("Content-Range")?.split("/")[1] ?? text.length);
  return { text, cut: total > PREVIEW_BYTES };
}

// GET /artifact-mlmodel (server/routes/artifact_previews.py)
interface MLmodelInfo {
  flavors: string[];
  inputs: Record<string, unknown[]> | null;
  outputs: Record<string, unknown[]> | null;
}

type Shown =
  | { image: string }
  | ({ kind: "text" } & Text)
  | { kind: "table"; table: Table; note: string | null }
  | ({ kind: "mlmodel"; flavors: string[]; inputs: Table | null; outputs: Table | null } & Text);
type Preview = { key: string; shown: Shown } | null;

async function show(key: string, kind: PreviewKind): Promise<Shown> {
  if (kind === "image") return { image: URL.createObjectURL(await (await request(artifactUrl(key))).blob()) };
  if (kind === "csv" || kind === "tsv") {
    const { text, cut } = await firstBytes(key);
    const { table, more } = parseCsv(text, { delimiter: kind === "tsv" ? "\t" : ",", maxRows: PREVIEW_ROWS, cut });
    return { kind: "table", table, note: more ? `the first ${table.rows.length} rows` : null };
  }
  if (kind === "parquet") {
    const answer = await getJson<{ columns: unknown; total_rows: number; total_columns: number }>(
      `${V1}/artifact-table?${query({ key, rows: PREVIEW_ROWS })}`,
    );
    const table = parseTable(answer.columns) ?? { columns: [], rows: [] };
    const columns = table.columns.length < answer.total_columns ? `, ${table.columns.length} of ${answer.total_columns} columns` : "";
    return { kind: "table", table, note: `the first ${table.rows.length} of ${answer.total_rows} rows${columns}` };
  }
  if (kind === "mlmodel") {
    const [model, text] = await Promise.all([getJson<MLmodelInfo>(`${V1}/artifact-mlmodel?${query({ key })}`), firstBytes(key)]);
    return { kind: "mlmodel", flavors: model.flavors, inputs: parseTable(model.inputs), outputs: parseTable(model.outputs), ...text };
  }
  return { kind: "text", ...(await firstBytes(key)) };
}

function Signature({ name, table }: { name: string; table: Table | null }) {
  return (
    <>
      <h4>{name}</h4>
      {table ? <TableView table={table} maxRows={table.rows.length} testId={`signature-${name}`} /> : <p className="muted">not in the signature</p>}
    </>
  );
}

function TextBody({ text, cut }: Text) {
  return (
    <pre>
      {text}
      {cut && "\n… (the first 64 KB; download it for the rest)"}
    </pre>
  );
}

function Body({ shown, alt }: { shown: Shown; alt: string }) {
  if ("image" in shown) return <img src={shown.image} alt={alt} />;
  if (shown.kind === "table")
    return (
      <>
        <TableView table={shown.table} maxRows={shown.table.rows.length} testId="preview-table" />
        {shown.note && <p className="muted">{shown.note}</p>}
      </>
    );
  if (shown.kind === "mlmodel")
    return (
      <>
        <p>flavors: {shown.flavors.join(", ") || "none"}</p>
        <Signature name="inputs" table={shown.inputs} />
        <Signature name="outputs" table={shown.outputs} />
        <TextBody text={shown.text} cut={shown.cut} />
      </>
    );
  return <TextBody text={shown.text} cut={shown.cut} />;
}

export function Artifacts({ prefix }: { prefix: string }) {
  const [files, setFiles] = useState<string[] | null>(null);
  const [shown, setShown] = useState<Preview>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    getJson<{ files: string[] }>(`${V1}/artifact-list?${query({ prefix })}`).then((l) => setFiles(l.files.sort()), setError);
  }, [prefix]);
  useEffect(() => () => {
    if (shown && "image" in shown.shown) URL.revokeObjectURL(shown.shown.image);
  }, [shown]);

  return (
    <div>
      <ErrorLine error={error} />
      {files && files.length === 0 && <p className="muted">No files.</p>}
      {files && files.length > 0 && (
        <ul className="files" data-testid="artifacts">
          {files.map((file) => {
            const key = `${prefix}/${file}`;
            const kind = previewKind(file);
            return (
              <li key={file}>
                {kind ? (
                  <button
                    type="button"
                    className="link"
                    onClick={() => show(key, kind).then((s) => setShown({ key, shown: s }), setError)}
                  >
                    {file}
                  </button>
                ) : (
                  <span>{file}</span>
                )}{" "}
                <button type="button" className="small" aria-label={`download ${file}`} onClick={() => download(key).catch(setError)}>
                  download
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {shown && (
        <figure className="preview" data-testid="preview">
          <figcaption>{shown.key.slice(prefix.length + 1)}</figcaption>
          <Body shown={shown.shown} alt={shown.key} />
        </figure>
      )}
    </div>
  );
}
