// Parse Mermaid diagrams with Mermaid's own parser, offline.
//
// Reads a JSON array of diagram sources on stdin and prints a JSON array of the same
// length: null for a diagram that parses, otherwise the parser's error message.
// Mermaid sanitises labels with DOMPurify, which needs a DOM, so a jsdom window
// stands in for the browser; nothing is rendered.
import { JSDOM } from "jsdom";

const { window } = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = window;
globalThis.document = window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

let input = "";
for await (const chunk of process.stdin) {
  input += chunk;
}

const results = [];
for (const diagram of JSON.parse(input)) {
  try {
    await mermaid.parse(diagram);
    results.push(null);
  } catch (error) {
    results.push(String(error?.message ?? error));
  }
}
process.stdout.write(JSON.stringify(results));
