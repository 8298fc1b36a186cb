// Bulk changes to the selected runs (POST /runs/tags, /runs/delete, /runs/restore): what the
// user typed in the tag box, read as the change the server takes.

export interface TagChange {
  set: Record<string, string>;
  remove: string[];
}

// "key=value" sets a tag (the first "=" splits, spaces around either side are dropped; the value may be empty), "key" alone removes one;
// a string is what to fix
export function tagChange(text: string, remove: boolean): TagChange | string {
  const cut = text.indexOf("=");
  const key = (cut < 0 ? text : text.slice(0, cut)).trim();
  if (!key) return remove ? "write the key of the tag to remove" : "write key=value";
  if (remove) return cut < 0 ? { set: {}, remove: [key] } : "to remove a tag, write its key alone";
  if (cut < 0) return `write ${key}=value to set it, or remove it`;
  return { set: { [key]: text.slice(cut + 1).trim() }, remove: [] };
}

export function runsWord(count: number): string {
  return `${count} run${count === 1 ? "" : "s"}`;
}
