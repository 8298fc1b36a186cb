// The run's files (GET /artifact-list) with a download each: fetched with the page's
// credentials, then handed to the browser as a file.
import { useEffect, useState } from "react";
import { artifactUrl, getJson, query, request, V1 } from "../api";
import { ErrorLine } from "./ErrorLine";

async function download(key: string) {
  const blob = await (await request(artifactUrl(key))).blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = key.split("/").pop() ?? "artifact";
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function Artifacts({ prefix }: { prefix: string }) {
  const [files, setFiles] = useState<string[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    getJson<{ files: string[] }>(`${V1}/artifact-list?${query({ prefix })}`).then((l) => setFiles(l.files.sort()), setError);
  }, [prefix]);
  return (
    <div>
      <ErrorLine error={error} />
      {files && files.length === 0 && <p className="muted">No files.</p>}
      {files && files.length > 0 && (
        <ul className="files" data-testid="artifacts">
          {files.map((file) => (
            <li key={file}>
              <button type="button" className="link" onClick={() => download(`${prefix}/${file}`).catch(setError)}>
                {file}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
