// The first rows of a CSV (or TSV) file, parsed in the browser from the bytes the preview read
// (the first 64 KB): RFC 4180 quoting ("a, b", "say ""hi""", line breaks inside quotes), CRLF or
// LF, a byte-order mark; the first record is the header.
import type { Table } from "./tables";

export interface CsvPreview {
  table: Table;
  more: boolean; // rows were left out: past ``maxRows``, or past the bytes read
}

// the records of ``text`` (blank lines skipped), at most ``limit``; with ``cut`` (the file goes on past ``text``) the last one,
// which may be a part, is left out
function records(text: string, delimiter: string, cut: boolean, limit: number): { rows: string[][]; more: boolean } {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRecord = () => {
    if (row.length > 0 || field !== "") rows.push([...row, field]); // a blank line is no record
    row = [];
    field = "";
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') field += text[++i];
      else quoted = false;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === delimiter) {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRecord();
      if (rows.length > limit) return { rows: rows.slice(0, limit), more: true };
    } else field += c;
  }
  if (!cut) endRecord(); // the last line, unterminated
  return { rows, more: cut };
}

export function parseCsv(text: string, { delimiter = ",", maxRows = 50, cut = false } = {}): CsvPreview {
  const { rows, more } = records(text, delimiter, cut, maxRows + 1);
  const [header = [], ...body] = rows;
  const width = Math.max(header.length, ...body.map((r) => r.length));
  const columns = Array.from({ length: width }, (_, i) => header[i] ?? `column ${i + 1}`);
  return {
    table: { columns, rows: body.map((r) => columns.map((_, i) => r[i] ?? null)) },
    more,
  };
}
