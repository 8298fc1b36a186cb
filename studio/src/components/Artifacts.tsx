// The run's files (GET /artifact-list): each can be previewed (text and images, the first
// 64 KB of a text file, read with a Range request) and downloaded, both with the page's
// credentials.
import { useEffect, useState } from "react";
import { artifactUrl, getJson, query, request, V1 } from "../api";
import { ErrorLine } from "./ErrorLine";

const PREVIEW_BYTES = 64 * 1024;
const IMAGE = /\.(png|jpe?g|gif|webp|bmp|svg)$/i;
const TEXT = /(\.(txt|log|json|jsonl|ya?ml|csv|tsv|md|py|cfg|ini|toml|sh|html?)|(^|\/)(MLmodel|requirements\.txt))$/i;

async function download(key: string) {
  const blob = await (await request(artifactUrl(key))).blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = key.split("/").pop() ?? "artifact";
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

type Preview = { key: string; text: string; cut: boolean } | { key: string; image: string } | null;

async function preview(key: string): Promise<Preview> {
  if (IMAGE.test(key)) {
    const blob = await (await request(artifactUrl(key))).blob();
    return { key, image: URL.createObjectURL(blob) };
  }
  const response = await request(artifactUrl(key), { headers: { Range: `bytes=0-${PREVIEW_BYTES - 1}` } });
  if (response.status === 416) return { key, text: "", cut: false }; // an empty file
  const text = new TextDecoder().decode(await response.arrayBuffer());
  const total = Number(response.headers.get("Content-Range")?.split("/")[1] ?? text.length);
  return { key, text, cut: total > PREVIEW_BYTES };
}

export function Artifacts({ prefix }: { prefix: string }) {
  const [files, setFiles] = useState<string[] | null>(null);
  const [shown, setShown] = useState<Preview>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    getJson<{ files: string[] }>(`${V1}/artifact-list?${query({ prefix })}`).then((l) => setFiles(l.files.sort()), setError);
  }, [prefix]);
  useEffect(() => () => {
    if (shown && "image" in shown) URL.revokeObjectURL(shown.image);
  }, [shown]);

  return (
    <div>
      <ErrorLine error={error} />
      {files && files.length === 0 && <p className="muted">No files.</p>}
      {files && files.length > 0 && (
        <ul className="files" data-testid="artifacts">
          {files.map((file) => {
            const key = `${prefix}/${file}`;
            return (
              <li key={file}>
                {IMAGE.test(file) || TEXT.test(file) ? (
                  <button type="button" className="link" onClick={() => preview(key).then(setShown, setError)}>
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
          {"image" in shown ? (
            <img src={shown.image} alt={shown.key} />
          ) : (
            <pre>
              {shown.text}
              {shown.cut && "\n… (the first 64 KB; download it for the rest)"}
            </pre>
          )}
        </figure>
      )}
    </div>
  );
}
