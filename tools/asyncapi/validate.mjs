// Validate an AsyncAPI document with the official parser (@asyncapi/parser): its
// schema, its $refs (the JSON Schemas under docs/schemas/) and its lint rules.
// Usage: node tools/asyncapi/validate.mjs [docs/asyncapi.yaml]
// Exit 0 when there is no error and no warning, 1 otherwise (every finding printed).
import { Parser, fromFile } from '@asyncapi/parser';
import path from 'node:path';

const SEVERITY = ['error', 'warning', 'info', 'hint'];
const file = path.resolve(process.argv[2] || 'docs/asyncapi.yaml');

const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, file).parse();
let failed = !document;
for (const d of diagnostics) {
  const severity = SEVERITY[d.severity] || String(d.severity);
  if (d.severity <= 1) failed = true;
  const where = d.path && d.path.length ? d.path.join('.') : '(document)';
  console.log(`${severity}: ${d.code}: ${d.message} (at ${where})`);
}
if (failed) {
  console.error(`${file}: not a valid AsyncAPI document`);
  process.exit(1);
}
const channels = document.channels().length;
const messages = document.allMessages().length;
console.log(`${file}: valid AsyncAPI ${document.version()} (${channels} channels, ${messages} messages)`);
