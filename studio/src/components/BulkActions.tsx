// What a writer may do to the runs selected in the runs table: tag them (set key=value, or
// remove a key), delete them (after a confirm; a soft delete) or, in the deleted view, restore
// them. Each is one all-or-nothing request; ``onChanged`` re-reads the table after it.
import { useState } from "react";
import { postJson, V1 } from "../api";
import { runsWord, tagChange } from "../bulk";
import { useSubmit } from "../hooks";
import { ErrorLine } from "./ErrorLine";

type Open = "none" | "tag" | "delete";

export function BulkActions({
  runIds,
  deletedView,
  onChanged,
}: {
  runIds: string[];
  deletedView: boolean;
  onChanged: () => void;
}) {
  const [open, setOpen] = useState<Open>("none");
  const [text, setText] = useState("");
  const [mistake, setMistake] = useState<string | null>(null);
  const { busy, error, submit } = useSubmit();
  const count = runsWord(runIds.length);

  const send = (path: string, body: object) =>
    submit(
      () => postJson(`${V1}/runs/${path}`, { run_ids: runIds, ...body }),
      () => {
        setOpen("none");
        setText("");
        onChanged();
      },
    );
  const tag = (remove: boolean) => {
    const change = tagChange(text, remove);
    setMistake(typeof change === "string" ? change : null);
    if (typeof change !== "string") send("tags", change);
  };

  return (
    <div className="bulk" role="toolbar" aria-label="selected runs" data-testid="bulk-actions">
      <span>{count} selected</span>
      <button type="button" disabled={busy} onClick={() => setOpen(open === "tag" ? "none" : "tag")}>
        Tag…
      </button>
      {deletedView ? (
        <button type="button" disabled={busy} onClick={() => send("restore", {})}>
          Restore
        </button>
      ) : (
        <button type="button" disabled={busy} onClick={() => setOpen("delete")}>
          Delete
        </button>
      )}
      {open === "tag" && (
        <form
          className="inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            tag(false);
          }}
        >
          <input
            aria-label="tag"
            placeholder="key=value to set, or key to remove"
            value={text}
            onChange={(event) => setText(event.target.value)}
            autoFocus
          />
          <button type="submit" disabled={busy}>
            Set tag
          </button>
          <button type="button" disabled={busy} onClick={() => tag(true)}>
            Remove tag
          </button>
        </form>
      )}
      {open === "delete" && (
        <span className="confirm" data-testid="confirm-delete">
          Delete {count}? They leave the table and searches; &quot;Show deleted&quot; brings them back.{" "}
          <button type="button" disabled={busy} onClick={() => send("delete", {})}>
            Yes, delete
          </button>
          <button type="button" onClick={() => setOpen("none")}>
            Cancel
          </button>
        </span>
      )}
      <ErrorLine error={mistake ?? error} />
    </div>
  );
}
