// The model registry: every name with its latest version and aliases, and one name's versions
// with where each came from (its run) and, for a user who may write, a form that moves an alias.
import { useState } from "react";
import { getJson, query, sendJson, V1, type ModelVersion, type RegisteredModel } from "../api";
import { when } from "../format";
import { usePolled, useSubmit } from "../hooks";
import { aliasesOf, newestFirst } from "../registry";
import { href } from "../route";
import { ErrorLine } from "../components/ErrorLine";

function Aliases({ names }: { names: string[] }) {
  return (
    <>
      {names.map((alias) => (
        <span key={alias} className="alias">
          @{alias}
        </span>
      ))}
    </>
  );
}

// the data versions a version's run read (GET /data-lineage): the model's data lineage
function ReadData({ runId }: { runId: string }) {
  const { value } = usePolled(
    () =>
      getJson<{ lineage: { name: string; version: number; direction: string }[] }>(
        `${V1}/data-lineage?${query({ run_id: runId })}`,
      ).then((page) => page.lineage.filter((row) => row.direction === "read").map((row) => `${row.name}:${row.version}`)),
    null,
    [runId],
  );
  return <>{(value ?? []).join(", ")}</>; // none shown when the lineage cannot be read
}

export function Models() {
  const { value: models, error } = usePolled(
    () => getJson<{ models: RegisteredModel[] }>(`${V1}/models`).then((page) => page.models),
    null,
    [],
  );
  return (
    <section>
      <h1>Models</h1>
      <ErrorLine error={error} />
      {models && models.length === 0 && <p>No models yet: register one with `trainyard model register`.</p>}
      {models && models.length > 0 && (
        <table className="grid" data-testid="models">
          <thead>
            <tr>
              <th>Name</th>
              <th>Latest version</th>
              <th>Aliases</th>
              <th>Created</th>
              <th>Description</th>
            </tr>
          </thead>
          <tbody>
            {models.map((model) => (
              <tr key={model.name}>
                <td>
                  <a href={href({ page: "model", name: model.name })}>{model.name}</a>
                </td>
                <td className="number">{model.latest_version || ""}</td>
                <td>
                  <Aliases names={Object.keys(model.aliases).sort().map((a) => `${a} → ${model.aliases[a]}`)} />
                </td>
                <td>{when(model.created_at)}</td>
                <td>{model.description ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function MoveAlias({ model, versions, onMoved }: { model: RegisteredModel; versions: ModelVersion[]; onMoved: () => void }) {
  const [alias, setAlias] = useState(Object.keys(model.aliases).sort()[0] ?? "");
  const [version, setVersion] = useState(String(versions[0]?.version ?? ""));
  const { busy, error, submit: write } = useSubmit();
  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    const path = `${V1}/models/${encodeURIComponent(model.name)}/aliases/${encodeURIComponent(alias.trim())}`;
    write(() => sendJson("PUT", path, { version: Number(version) }), onMoved);
  };
  return (
    <form className="inline-form" onSubmit={submit} data-testid="move-alias">
      <label>
        alias{" "}
        <input aria-label="alias" list="model-aliases" value={alias} onChange={(e) => setAlias(e.target.value)} required />
      </label>
      <datalist id="model-aliases">
        {Object.keys(model.aliases).map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
      <label>
        to version{" "}
        <select aria-label="alias version" value={version} onChange={(e) => setVersion(e.target.value)}>
          {versions.map((v) => (
            <option key={v.version} value={v.version}>
              {v.version}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={busy || !alias.trim()}>
        Move alias
      </button>
      <ErrorLine error={error} />
    </form>
  );
}

export function Model({ name, writer }: { name: string; writer: boolean }) {
  const base = `${V1}/models/${encodeURIComponent(name)}`;
  const { value, error, reload } = usePolled(
    () =>
      Promise.all([
        getJson<RegisteredModel>(base),
        getJson<{ versions: ModelVersion[] }>(`${base}/versions`).then((page) => newestFirst(page.versions)),
      ]),
    null,
    [base],
  );
  if (!value) return <ErrorLine error={error} />;
  const [model, versions] = value;
  const aliases = aliasesOf(model.aliases);
  return (
    <section>
      <nav className="crumbs">
        <a href={href({ page: "models" })}>Models</a> / {model.name}
      </nav>
      <h1>{model.name}</h1>
      <ErrorLine error={error} />
      {model.description && <p>{model.description}</p>}
      {writer && versions.length > 0 && <MoveAlias model={model} versions={versions} onMoved={reload} />}
      <table className="grid" data-testid="model-versions">
        <thead>
          <tr>
            <th>Version</th>
            <th>Aliases</th>
            <th>Status</th>
            <th>Created</th>
            <th>Run</th>
            <th>Data read</th>
            <th>Source</th>
            <th>Files</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version} data-testid="model-version">
              <td className="number">{v.version}</td>
              <td>
                <Aliases names={aliases.get(v.version) ?? []} />
              </td>
              <td>{v.status}</td>
              <td>{when(v.created_at)}</td>
              <td>{v.run_id && <a href={href({ page: "run", runId: v.run_id })}>{v.run_id.slice(0, 8)}</a>}</td>
              <td>{v.run_id && <ReadData runId={v.run_id} />}</td>
              <td className="mono">{v.source}</td>
              <td className="number">{v.files.length}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
