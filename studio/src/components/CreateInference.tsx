// The designer's "Create inference pipeline" on a completed training pipeline run: registers its
// inference pipeline (the row-wise steps before Train Model, then Score Model) as a model
// version, and says how to deploy it. Refusals (a step that learnt from the whole table) are
// the server's one line.
import { useState } from "react";
import { postJson, V1 } from "../api";
import { useSubmit } from "../hooks";
import { href } from "../route";
import { ErrorLine } from "./ErrorLine";

type Registered = { name: string; version: number };

export function CreateInference({ runId, suggested }: { runId: string; suggested: string }) {
  const [name, setName] = useState(suggested);
  const [made, setMade] = useState<Registered | null>(null);
  const { busy, error, submit } = useSubmit();
  const create = () =>
    submit(() => postJson<Registered>(`${V1}/pipeline-runs/${encodeURIComponent(runId)}/inference-model`, { name }), setMade);
  return (
    <div className="create-inference" data-testid="create-inference">
      <form
        className="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          create();
        }}
      >
        <input aria-label="inference model name" value={name} onChange={(event) => setName(event.target.value)} />
        <button type="submit" disabled={busy || !name.trim()}>
          Create inference pipeline
        </button>
      </form>
      <ErrorLine error={error} />
      {made && (
        <p>
          Registered <a href={href({ page: "model", name: made.name })}>{`${made.name}:${made.version}`}</a>; deploy it with{" "}
          <code>{`trainyard deployment create blue -e ENDPOINT -m ${made.name}:${made.version}`}</code>
        </p>
      )}
    </div>
  );
}
