// Drives yaml-language-server (the server behind VS Code's YAML extension) over LSP stdio:
// opens a scenario, prints diagnostics and completion labels as JSON.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const [file, line, character] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const serverPath = require.resolve('yaml-language-server/bin/yaml-language-server');
const server = spawn(process.execPath, [serverPath, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
let buffer = Buffer.alloc(0);
let nextId = 1;
const pending = new Map();
const waiters = [];
function send(msg) {
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...msg }), 'utf8');
  server.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
  server.stdin.write(body);
}
function request(method, params) {
  const id = nextId++;
  send({ id, method, params });
  return new Promise((resolve) => pending.set(id, resolve));
}
server.stdout.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const sep = buffer.indexOf('\r\n\r\n');
    if (sep < 0) return;
    const header = buffer.slice(0, sep).toString();
    const len = Number(/Content-Length: (\d+)/i.exec(header)[1]);
    if (buffer.length < sep + 4 + len) return;
    const msg = JSON.parse(buffer.slice(sep + 4, sep + 4 + len).toString('utf8'));
    buffer = buffer.slice(sep + 4 + len);
    if (msg.id !== undefined && pending.has(msg.id) && msg.method === undefined) {
      pending.get(msg.id)(msg.result);
      pending.delete(msg.id);
    } else if (msg.method === 'textDocument/publishDiagnostics') {
      waiters.splice(0).forEach((w) => w(msg.params));
    } else if (msg.id !== undefined && msg.method) {
      // Requests from the server (e.g. workspace/configuration): answer with YAML settings.
      const settings = { validate: true, completion: true, hover: true, schemaStore: { enable: false } };
      send({ id: msg.id, result: (msg.params?.items || []).map(() => settings) });
    }
  }
});
const uri = pathToFileURL(file).href;
await request('initialize', { processId: process.pid, rootUri: null, capabilities: { textDocument: { completion: { completionItem: { snippetSupport: false } } }, workspace: { configuration: true } } });
send({ method: 'initialized', params: {} });
send({ method: 'workspace/didChangeConfiguration', params: { settings: { yaml: { validate: true, completion: true, schemaStore: { enable: false } } } } });
const diagnostics = new Promise((resolve) => waiters.push(resolve));
send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'yaml', version: 1, text: readFileSync(file, 'utf8') } } });
const diag = await Promise.race([diagnostics, new Promise((r) => setTimeout(() => r({ diagnostics: 'timeout' }), 15000))]);
let completion = null;
if (line !== undefined) {
  const result = await request('textDocument/completion', { textDocument: { uri }, position: { line: Number(line), character: Number(character) } });
  completion = (result?.items || result || []).map((i) => i.label);
}
console.log(JSON.stringify({ diagnostics: diag.diagnostics, completion }));
server.kill();
process.exit(0);
