import { describe, expect, it } from "vitest";
import { parseCsv } from "./csv";

describe("parseCsv", () => {
  it("reads a header and rows, quoted fields with commas, quotes and line breaks inside", () => {
    const text = '\ufeffname,note\r\n"Smith, J","say ""hi"""\r\nLee,"two\nlines"\n\nKim,\n';
    expect(parseCsv(text)).toEqual({
      table: {
        columns: ["name", "note"],
        rows: [
          ["Smith, J", 'say "hi"'],
          ["Lee", "two\nlines"],
          ["Kim", ""],
        ],
      },
      more: false,
    });
  });

  it("keeps an unterminated last line of a whole file, and drops it from a cut one", () => {
    expect(parseCsv("a,b\n1,2\n3,4").table.rows).toEqual([
      ["1", "2"],
      ["3", "4"],
    ]);
    expect(parseCsv("a,b\n1,2\n3,", { cut: true })).toEqual({ table: { columns: ["a", "b"], rows: [["1", "2"]] }, more: true });
  });

  it("stops after maxRows rows and says more are left", () => {
    const text = "n\n" + Array.from({ length: 10 }, (_, i) => `${i}\n`).join("");
    expect(parseCsv(text, { maxRows: 3 })).toEqual({ table: { columns: ["n"], rows: [["0"], ["1"], ["2"]] }, more: true });
    expect(parseCsv(text, { maxRows: 10 }).more).toBe(false);
  });

  it("reads tabs, names columns past the header, and pads short rows", () => {
    expect(parseCsv("a\tb\n1\t2\t3\n4\n", { delimiter: "\t" }).table).toEqual({
      columns: ["a", "b", "column 3"],
      rows: [
        ["1", "2", "3"],
        ["4", null, null],
      ],
    });
    expect(parseCsv("")).toEqual({ table: { columns: [], rows: [] }, more: false });
  });
});
