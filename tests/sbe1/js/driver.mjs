// Test driver: runs a JSON list of operations (stdin) against sbe1.js, prints JSON results.
// Each result is {"ok": true, ...} or {"ok": false, "code": "...", "message": "..."}.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const modulePath = process.env.SBE1_JS
  || path.resolve(here, "../../../bidding_ui/static/bidding_ui/sbe1.js");
const sbe1 = await import(pathToFileURL(modulePath).href);

const b64 = (bytes) => Buffer.from(bytes).toString("base64");
const unb64 = (text) => new Uint8Array(Buffer.from(text, "base64"));
const hex = (bytes) => Buffer.from(bytes).toString("hex");
const readKey = (op) => sbe1.readKeyFile(readFileSync(op.keyfile, "utf8"), op.password);
// Envelopes are read as Blobs to exercise the streaming (slice-based) path.
const envelopeBlob = (file) => new Blob([readFileSync(file)]);

const ops = {
  async keygen(op) {
    const key = await sbe1.generateKeyPair();
    writeFileSync(op.out, await sbe1.writeKeyFile(key, op.password, { label: op.label ?? "", iterations: op.iterations }));
    return { key_id: key.keyId, spki: b64(key.spki) };
  },
  async readKeyFile(op) {
    const key = await readKey(op);
    return { key_id: key.keyId, spki: b64(key.spki), label: key.label, pkcs8: b64(key.pkcs8) };
  },
  async keyFileInfo(op) {
    const info = await sbe1.keyFileInfo(readFileSync(op.keyfile, "utf8"));
    return { key_id: info.keyId, spki: b64(info.spki), label: info.label, iterations: info.iterations };
  },
  async seal(op) {
    const files = op.files.map((f) => ({ name: f.name, data: new Blob([readFileSync(f.path)]) }));
    let progressCalls = 0;
    let lastDone = 0;
    const result = await sbe1.sealBid({
      form: op.form, files, tender: op.tender, lot: op.lot, bidder: op.bidder, bidderSpki: op.bidder_spki,
      openingSpki: op.opening_spki, chunkSize: op.chunk_size,
      onProgress: (p) => { if (p.phase === "encrypt") { progressCalls++; lastDone = p.done; } },
    });
    const bytes = new Uint8Array(await new Blob(result.parts).arrayBuffer());
    writeFileSync(op.out, bytes);
    return { sha256: hex(result.sha256), size: result.size, progress_calls: progressCalls, progress_done: lastDone,
      header_line: Buffer.from(result.header.line).toString("utf8") };
  },
  async sealRaw(op) {
    // Seal raw plaintext bytes given as several Uint8Array pieces (an async iterable).
    const data = readFileSync(op.plaintext);
    async function* pieces() {
      for (let i = 0; i < data.length; i += op.piece) yield new Uint8Array(data.subarray(i, i + op.piece));
    }
    const result = await sbe1.seal({ plaintext: data.length ? pieces() : new Uint8Array(0), tender: op.tender,
      lot: op.lot, bidder: op.bidder, bidderSpki: op.bidder_spki, openingSpki: op.opening_spki,
      chunkSize: op.chunk_size });
    writeFileSync(op.out, new Uint8Array(await new Blob(result.parts).arrayBuffer()));
    return { sha256: hex(result.sha256), size: result.size };
  },
  async sign(op) {
    return { signature: await sbe1.signEnvelope(await readKey(op), envelopeBlob(op.envelope)) };
  },
  async verify(op) {
    return { valid: await sbe1.verifyEnvelope(op.spki, envelopeBlob(op.envelope), op.signature) };
  },
  async header(op) {
    const h = await sbe1.readHeader(envelopeBlob(op.envelope));
    if (op.expect) sbe1.checkHeader(h, op.expect);
    return { tender: h.tender, lot: h.lot, bidder: h.bidder, chunk_size: h.chunkSize,
      recipients: h.recipients.map((r) => ({ kind: r.kind, key_id: r.keyId })) };
  },
  async unwrapDek(op) {
    const key = op.pkcs8 ? { pkcs8: unb64(op.pkcs8) } : await readKey(op);
    return { dek: b64(await sbe1.unwrapDek(envelopeBlob(op.envelope), key, { kind: op.kind })) };
  },
  async open(op) {
    let dek = op.dek ? unb64(op.dek) : null;
    if (!dek) dek = await sbe1.unwrapDek(envelopeBlob(op.envelope), await readKey(op), { kind: op.kind });
    const source = op.as_bytes ? new Uint8Array(readFileSync(op.envelope)) : envelopeBlob(op.envelope);
    const opened = await sbe1.openEnvelope(source, dek);
    return {
      form: opened.manifest.form, tender: opened.header.tender,
      files: opened.files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256, data_sha256: hex(sbe1.sha256(f.data)) })),
    };
  },
  async decryptRaw(op) {
    const pieces = [];
    for await (const c of sbe1.decryptChunks(envelopeBlob(op.envelope), unb64(op.dek))) pieces.push(c);
    writeFileSync(op.out, Buffer.concat(pieces));
    return {};
  },
  async decryptShare(op) {
    const share = await sbe1.decryptShare(readFileSync(op.share, "utf8"), await readKey(op));
    return { x: share.x, k: share.k, json: share.json };
  },
  async canonical(op) {
    return { text: sbe1.canonicalJSON(op.value) };
  },
  async parseCanonical(op) {
    return { value: sbe1.parseCanonical(Buffer.from(op.text, "utf8")) };
  },
  async sha256(op) {
    return { hex: hex(sbe1.sha256(readFileSync(op.file))) };
  },
};

const results = [];
for (const op of JSON.parse(readFileSync(0, "utf8"))) {
  try {
    results.push({ ok: true, ...(await ops[op.op](op)) });
  } catch (err) {
    results.push({ ok: false, code: err.code ?? err.name, message: err.message });
  }
}
process.stdout.write(JSON.stringify(results));
