// Print the text of a PDF as pdf.js (Firefox's PDF engine) extracts it: one JSON list of pages,
// each page's text items joined, a line break where pdf.js marks the end of a line.
// Usage: node extract.mjs FILE.pdf
import { readFile } from "node:fs/promises";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";

const data = new Uint8Array(await readFile(process.argv[2]));
const doc = await getDocument({ data, useSystemFonts: false, isEvalSupported: false, verbosity: 0 }).promise;
const pages = [];
for (let n = 1; n <= doc.numPages; n++) {
  const page = await doc.getPage(n);
  const content = await page.getTextContent();
  pages.push(content.items.map((item) => ("str" in item ? item.str + (item.hasEOL ? "\n" : "") : "")).join(""));
}
await doc.destroy();
process.stdout.write(JSON.stringify(pages));
