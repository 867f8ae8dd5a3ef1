// SBE1 sealed-bid envelopes (SPECS.md §1) on WebCrypto: an ES module with no build step
// and no dependencies, for browsers and Node >= 20 (globalThis.crypto). It interoperates
// byte for byte with the Python package `sbe1` (see docs/sbe1.md for the format).
//
// Keys are passed around as {pkcs8: Uint8Array, spki: Uint8Array, keyId: string} because a
// WebCrypto CryptoKey is bound to one algorithm while SBE1 uses one P-256 key pair for both
// ECDH (unwrapping) and ECDSA (signing). Keep pkcs8 out of logs, storage and the network.

const subtle = globalThis.crypto.subtle;

export const MAGIC = "SBE1\n";
export const VERSION = 1;
export const SUITE = "P256-HKDF-SHA256-A256GCM";
export const DEFAULT_CHUNK_SIZE = 1048576;
export const MAX_CHUNK_SIZE = 16 * 1048576;
export const MAX_HEADER_LINE = 65536;
export const MAX_MANIFEST_LINE = 1048576;
export const MAX_ID_LENGTH = 256;
export const MAX_FILES = 1000;
export const TAG_SIZE = 16;
export const DEK_SIZE = 32;
export const SPKI_LENGTH = 91;
export const KEYFILE_KIND = "ptrade-keyfile";
export const DEFAULT_ITERATIONS = 600000;
export const MIN_ITERATIONS = 100000;
export const MAX_ITERATIONS = 10000000;
export const MAX_SHARES = 255;
export const ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const MAGIC_BYTES = new Uint8Array([0x53, 0x42, 0x45, 0x31, 0x0a]);
const WRAP_INFO = new TextEncoder().encode("SBE1 wrap");
// DER prefix of an uncompressed P-256 SubjectPublicKeyInfo (SEQUENCE, ecPublicKey, prime256v1,
// BIT STRING), followed by 0x04 || x || y.
const SPKI_PREFIX = hexToBytes("3059301306072a8648ce3d020106082a8648ce3d030107034200");
const EC = { name: "ECDSA", namedCurve: "P-256" };
const ECDH = { name: "ECDH", namedCurve: "P-256" };

export class SBE1Error extends Error {
  constructor(message, code = "sbe1_error") {
    super(`${message} [${code}]`);
    this.name = "SBE1Error";
    this.code = code;
  }
}

// --- bytes, hex, base64, UTF-8 ------------------------------------------------------------

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export function utf8(text) {
  return encoder.encode(text);
}

export function concatBytes(...arrays) {
  return concatList(arrays);
}

function concatList(arrays) {
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let pos = 0;
  for (const a of arrays) {
    out.set(a, pos);
    pos += a.length;
  }
  return out;
}

function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function toHex(bytes) {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function hexToBytes(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

const HEX64 = /^[0-9a-f]{64}$/;
const isHex64 = (v) => typeof v === "string" && HEX64.test(v);

export function b64encode(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64: standard alphabet, padded, canonical; optionally an exact decoded length. */
export function b64decode(text, { length, what = "value" } = {}) {
  if (typeof text !== "string" || !B64.test(text)) throw new SBE1Error(`${what} is not valid base64`, "bad_base64");
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  if (b64encode(out) !== text) throw new SBE1Error(`${what} is not canonical base64`, "bad_base64");
  if (length !== undefined && out.length !== length) {
    throw new SBE1Error(`${what} must decode to ${length} bytes, not ${out.length}`, "bad_base64");
  }
  return out;
}

export function randomBytes(n) {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

// --- SHA-256 (incremental; WebCrypto's digest is one-shot only) ----------------------------

const K256 = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

const W256 = new Int32Array(64);

// Compress the 64-byte blocks d[p..end) into the state s (all arithmetic on int32).
function compressBlocks(s, d, p, end) {
  let h0 = s[0], h1 = s[1], h2 = s[2], h3 = s[3], h4 = s[4], h5 = s[5], h6 = s[6], h7 = s[7];
  const w = W256;
  for (; p < end; p += 64) {
    for (let i = 0; i < 16; i++) {
      const q = p + i * 4;
      w[i] = (d[q] << 24) | (d[q + 1] << 16) | (d[q + 2] << 8) | d[q + 3];
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      w[i] = (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3))
        + (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w[i - 16] + w[i - 7] | 0;
    }
    let a = h0, b = h1, c = h2, dd = h3, e = h4, f = h5, g = h6, h = h7;
    for (let i = 0; i < 64; i++) {
      const t1 = h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7)))
        + ((e & f) ^ (~e & g)) + K256[i] + w[i] | 0;
      const t2 = (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10)))
        + ((a & b) ^ (a & c) ^ (b & c)) | 0;
      h = g; g = f; f = e; e = dd + t1 | 0; dd = c; c = b; b = a; a = t1 + t2 | 0;
    }
    h0 = h0 + a | 0; h1 = h1 + b | 0; h2 = h2 + c | 0; h3 = h3 + dd | 0;
    h4 = h4 + e | 0; h5 = h5 + f | 0; h6 = h6 + g | 0; h7 = h7 + h | 0;
  }
  s[0] = h0; s[1] = h1; s[2] = h2; s[3] = h3; s[4] = h4; s[5] = h5; s[6] = h6; s[7] = h7;
}

/** Incremental SHA-256: new Sha256().update(bytes)...digest() -> Uint8Array(32). */
export class Sha256 {
  constructor() {
    this.state = new Int32Array([
      0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ]);
    this.block = new Uint8Array(64);
    this.blockLength = 0;
    this.length = 0;
  }

  update(data) {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    let pos = 0;
    this.length += bytes.length;
    if (this.blockLength > 0) {
      const take = Math.min(64 - this.blockLength, bytes.length);
      this.block.set(bytes.subarray(0, take), this.blockLength);
      this.blockLength += take;
      pos = take;
      if (this.blockLength < 64) return this;
      compressBlocks(this.state, this.block, 0, 64);
      this.blockLength = 0;
    }
    const end = pos + ((bytes.length - pos) & ~63);
    compressBlocks(this.state, bytes, pos, end);
    if (end < bytes.length) {
      this.block.set(bytes.subarray(end), 0);
      this.blockLength = bytes.length - end;
    }
    return this;
  }

  digest() {
    const bytes = this.length;
    const tail = new Uint8Array(this.blockLength < 56 ? 64 - this.blockLength : 128 - this.blockLength);
    tail[0] = 0x80;
    const view = new DataView(tail.buffer);
    view.setUint32(tail.length - 8, Math.floor(bytes / 0x20000000));
    view.setUint32(tail.length - 4, (bytes % 0x20000000) * 8);
    this.update(tail);
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    for (let i = 0; i < 8; i++) outView.setInt32(i * 4, this.state[i]);
    return out;
  }
}

export function sha256(bytes) {
  return new Sha256().update(bytes).digest();
}

// --- canonical JSON (SPECS.md §2) ----------------------------------------------------------

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Order strings by Unicode code point, as Python sorts str (not by UTF-16 code unit). */
export function compareCodePoints(a, b) {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i);
    const y = b.codePointAt(j);
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  if (i < a.length) return 1;
  if (j < b.length) return -1;
  return 0;
}

function canonicalString(s) {
  if (LONE_SURROGATE.test(s)) throw new SBE1Error("string is not valid Unicode (lone surrogate)", "not_canonical_json");
  return JSON.stringify(s);
}

/** Canonical JSON text: sorted keys, no spaces, integers only (numbers or BigInt). */
export function canonicalJSON(value) {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return canonicalString(value);
    case "bigint":
      return value.toString();
    case "number":
      if (!Number.isSafeInteger(value)) {
        throw new SBE1Error(`${value} is not allowed in canonical JSON (integers only; decimals as strings)`,
          "not_canonical_json");
      }
      return String(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map(canonicalJSON).join(",")}]`;
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) break;
      const keys = Object.keys(value).sort(compareCodePoints);
      return `{${keys.map((k) => `${canonicalString(k)}:${canonicalJSON(value[k])}`).join(",")}}`;
    }
    default:
      break;
  }
  throw new SBE1Error(`${Object.prototype.toString.call(value)} is not representable in canonical JSON`,
    "not_canonical_json");
}

export function canonicalBytes(value) {
  return utf8(canonicalJSON(value));
}

/** Parse UTF-8 JSON bytes and insist they are the canonical encoding of their value. */
export function parseCanonical(bytes, code = "not_canonical_json") {
  let text;
  let value;
  try {
    text = strictDecoder.decode(bytes);
    value = JSON.parse(text);
  } catch (err) {
    throw new SBE1Error(`not valid UTF-8 JSON: ${err.message}`, code);
  }
  let again;
  try {
    again = canonicalJSON(value);
  } catch (err) {
    throw new SBE1Error(`JSON is not in canonical form: ${err.message}`, code);
  }
  if (again !== text) throw new SBE1Error("JSON is not in canonical form (SPECS.md §2)", code);
  return value;
}

const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);

function sameKeys(obj, keys) {
  const own = Object.keys(obj);
  return own.length === keys.length && keys.every((k) => Object.prototype.hasOwnProperty.call(obj, k));
}

// --- keys ----------------------------------------------------------------------------------

export function keyIdOf(spki) {
  return toHex(sha256(spki));
}

function spkiBytes(spki) {
  return typeof spki === "string" ? b64decode(spki, { what: "public key" }) : new Uint8Array(spki);
}

/** Validate an uncompressed P-256 SPKI (bytes or base64); returns its bytes. */
export async function checkSpki(spki, what = "public key", code = "bad_key") {
  const bytes = spkiBytes(spki);
  if (bytes.length !== SPKI_LENGTH || !bytesEqual(bytes.subarray(0, SPKI_PREFIX.length), SPKI_PREFIX)
      || bytes[SPKI_PREFIX.length] !== 4) {
    throw new SBE1Error(`${what} must be an uncompressed P-256 SPKI in DER`, code);
  }
  try {
    await subtle.importKey("spki", bytes, ECDH, true, []);
  } catch {
    throw new SBE1Error(`${what} is not a point on P-256`, code);
  }
  return bytes;
}

const importEcdhPrivate = (pkcs8) => subtle.importKey("pkcs8", pkcs8, ECDH, false, ["deriveBits"]);
const importEcdhPublic = (spki) => subtle.importKey("spki", spki, ECDH, true, []);

function b64urlToBytes(s) {
  return b64decode(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4));
}

/** The SPKI of the public key belonging to a PKCS#8 P-256 private key. */
export async function spkiOfPkcs8(pkcs8) {
  let jwk;
  try {
    jwk = await subtle.exportKey("jwk", await subtle.importKey("pkcs8", pkcs8, EC, true, ["sign"]));
  } catch {
    throw new SBE1Error("not a valid P-256 PKCS#8 private key", "bad_key");
  }
  return concatBytes(SPKI_PREFIX, new Uint8Array([4]), b64urlToBytes(jwk.x), b64urlToBytes(jwk.y));
}

async function keyObject(key) {
  const pkcs8 = new Uint8Array(key.pkcs8);
  const spki = key.spki ? new Uint8Array(key.spki) : await spkiOfPkcs8(pkcs8);
  return { pkcs8, spki, keyId: keyIdOf(spki) };
}

/** A fresh P-256 key pair: {pkcs8, spki, keyId}. */
export async function generateKeyPair() {
  const pair = await subtle.generateKey(EC, true, ["sign", "verify"]);
  const pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", pair.privateKey));
  const spki = new Uint8Array(await subtle.exportKey("spki", pair.publicKey));
  return { pkcs8, spki, keyId: keyIdOf(spki) };
}

async function passwordKey(password, salt, iterations) {
  if (typeof password !== "string" || password === "") {
    throw new SBE1Error("a non-empty password is required", "keyfile_password");
  }
  const base = await subtle.importKey("raw", utf8(password.normalize("NFC")), "PBKDF2", false, ["deriveKey"]);
  return subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base,
    { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

/** Serialize a key pair encrypted under a password (the same JSON format as Python). */
export async function writeKeyFile(key, password, { label = "", iterations = DEFAULT_ITERATIONS } = {}) {
  if (!Number.isSafeInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw new SBE1Error(`iterations must be between ${MIN_ITERATIONS} and ${MAX_ITERATIONS}`, "keyfile_invalid");
  }
  if (typeof label !== "string") throw new SBE1Error("label must be a string", "keyfile_invalid");
  const { pkcs8, spki, keyId } = await keyObject(key);
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const aesKey = await passwordKey(password, salt, iterations);
  const ciphertext = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: utf8(keyId) },
    aesKey, pkcs8));
  return `${canonicalJSON({
    v: 1, kind: KEYFILE_KIND, kdf: "PBKDF2-SHA256", iterations, salt: b64encode(salt), nonce: b64encode(nonce),
    alg: "A256GCM", ciphertext: b64encode(ciphertext), public_spki: b64encode(spki), key_id: keyId, label,
  })}\n`;
}

const KEYFILE_FIELDS = ["v", "kind", "kdf", "iterations", "salt", "nonce", "alg", "ciphertext", "public_spki",
  "key_id", "label"];

async function parseKeyFile(text) {
  let doc;
  try {
    doc = JSON.parse(typeof text === "string" ? text : strictDecoder.decode(text));
  } catch (err) {
    throw new SBE1Error(`key file is not valid JSON: ${err.message}`, "keyfile_invalid");
  }
  if (!isObject(doc) || doc.kind !== KEYFILE_KIND) throw new SBE1Error("not a ptrade key file", "keyfile_invalid");
  if (!sameKeys(doc, KEYFILE_FIELDS)) {
    throw new SBE1Error(`key file fields must be exactly ${KEYFILE_FIELDS}`, "keyfile_invalid");
  }
  if (doc.v !== 1) throw new SBE1Error(`unsupported key file version ${doc.v}`, "keyfile_version");
  if (doc.kdf !== "PBKDF2-SHA256" || doc.alg !== "A256GCM") {
    throw new SBE1Error("unsupported key file kdf/alg", "keyfile_version");
  }
  if (!Number.isSafeInteger(doc.iterations) || doc.iterations < MIN_ITERATIONS || doc.iterations > MAX_ITERATIONS) {
    throw new SBE1Error(`iterations must be an integer between ${MIN_ITERATIONS} and ${MAX_ITERATIONS}`,
      "keyfile_invalid");
  }
  if (!isHex64(doc.key_id) || typeof doc.label !== "string") {
    throw new SBE1Error("key file key_id/label malformed", "keyfile_invalid");
  }
  let parsed;
  try {
    parsed = {
      salt: b64decode(doc.salt, { length: 16, what: "salt" }),
      nonce: b64decode(doc.nonce, { length: 12, what: "nonce" }),
      ciphertext: b64decode(doc.ciphertext, { what: "ciphertext" }),
      spki: await checkSpki(doc.public_spki, "public_spki"),
    };
  } catch (err) {
    throw new SBE1Error(`key file field malformed: ${err.message}`, "keyfile_invalid");
  }
  if (keyIdOf(parsed.spki) !== doc.key_id) {
    throw new SBE1Error("key file key_id does not match its public key", "keyfile_invalid");
  }
  return { ...parsed, iterations: doc.iterations, keyId: doc.key_id, label: doc.label };
}

/** Public part of a key file, without the password: {spki, keyId, label, iterations}. */
export async function keyFileInfo(text) {
  const { spki, keyId, label, iterations } = await parseKeyFile(text);
  return { spki, keyId, label, iterations };
}

/** Decrypt a key file: {pkcs8, spki, keyId, label}. Wrong password -> code "keyfile_password". */
export async function readKeyFile(text, password) {
  const doc = await parseKeyFile(text);
  const aesKey = await passwordKey(password, doc.salt, doc.iterations);
  let pkcs8;
  try {
    pkcs8 = new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: doc.nonce, additionalData: utf8(doc.keyId) },
      aesKey, doc.ciphertext));
  } catch {
    throw new SBE1Error("wrong password or corrupted key file", "keyfile_password");
  }
  let spki;
  try {
    spki = await spkiOfPkcs8(pkcs8);
  } catch (err) {
    throw new SBE1Error(`key file holds no usable key: ${err.message}`, "keyfile_invalid");
  }
  if (!bytesEqual(spki, doc.spki)) {
    throw new SBE1Error("key file private key does not match its public key", "keyfile_invalid");
  }
  return { pkcs8, spki, keyId: doc.keyId, label: doc.label };
}

// --- key wrapping: ECDH + HKDF-SHA256 + AES-256-GCM ----------------------------------------

async function kekFor(privateKey, publicKey, epk, recipientSpki, usage) {
  const shared = await subtle.deriveBits({ name: "ECDH", public: publicKey }, privateKey, 256);
  const ikm = await subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]);
  return subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: concatBytes(epk, recipientSpki), info: WRAP_INFO },
    ikm, { name: "AES-GCM", length: 256 }, false, [usage]);
}

/** Wrap a secret to a P-256 public key: {epk, nonce, wrapped} (AAD = the recipient's key_id). */
export async function wrapKey(secret, recipientSpki) {
  const spki = await checkSpki(recipientSpki);
  const ephemeral = await subtle.generateKey(ECDH, false, ["deriveBits"]);
  const epk = new Uint8Array(await subtle.exportKey("spki", ephemeral.publicKey));
  const kek = await kekFor(ephemeral.privateKey, await importEcdhPublic(spki), epk, spki, "encrypt");
  const nonce = randomBytes(12);
  const wrapped = new Uint8Array(await subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: utf8(keyIdOf(spki)) }, kek, secret));
  return { epk, nonce, wrapped };
}

/** Unwrap with the recipient's key ({pkcs8, spki?}); aadKeyId defaults to the key's own key_id. */
export async function unwrapKey(key, { epk, nonce, wrapped }, aadKeyId) {
  const own = await keyObject(key);
  const kek = await kekFor(await importEcdhPrivate(own.pkcs8), await importEcdhPublic(epk), epk, own.spki,
    "decrypt");
  try {
    return new Uint8Array(await subtle.decrypt(
      { name: "AES-GCM", iv: nonce, additionalData: utf8(aadKeyId ?? own.keyId) }, kek, wrapped));
  } catch {
    throw new SBE1Error("key unwrapping failed (wrong key or tampered entry)", "unwrap_failed");
  }
}

// --- header --------------------------------------------------------------------------------

const HEADER_FIELDS = ["v", "suite", "tender", "lot", "bidder", "chunk_size", "nonce_prefix", "recipients"];
const RECIPIENT_FIELDS = ["kind", "key_id", "epk", "nonce", "wrapped_dek"];
const KINDS = ["bidder", "opening"];

const codePointLength = (s) => [...s].length;

function checkId(doc, name) {
  const v = doc[name];
  if (typeof v !== "string" || v === "" || codePointLength(v) > MAX_ID_LENGTH) {
    throw new SBE1Error(`${name} must be a non-empty string of at most ${MAX_ID_LENGTH} characters`,
      "header_invalid");
  }
  return v;
}

function checkChunkSize(n) {
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_CHUNK_SIZE) {
    throw new SBE1Error(`chunk_size must be an integer in 1..${MAX_CHUNK_SIZE}`, "header_invalid");
  }
}

async function validateHeader(doc, line) {
  const bad = (message, code = "header_invalid") => new SBE1Error(message, code);
  if (!isObject(doc)) throw bad("header is not a JSON object");
  if ("v" in doc && doc.v !== VERSION) throw bad(`unsupported envelope version ${JSON.stringify(doc.v)}`, "unsupported_version");
  if ("suite" in doc && doc.suite !== SUITE) throw bad(`unsupported suite ${JSON.stringify(doc.suite)}`, "unsupported_suite");
  if (!sameKeys(doc, HEADER_FIELDS)) throw bad(`header fields must be exactly ${HEADER_FIELDS}`);
  checkChunkSize(doc.chunk_size);
  const noncePrefix = b64decode(doc.nonce_prefix, { length: 7, what: "nonce_prefix" });
  if (!Array.isArray(doc.recipients) || doc.recipients.length !== 2) {
    throw bad("exactly two recipients are required (one bidder, one opening)", "bad_recipients");
  }
  const recipients = [];
  for (const r of doc.recipients) {
    if (!isObject(r) || !sameKeys(r, RECIPIENT_FIELDS)) {
      throw bad(`a recipient must have exactly the fields ${RECIPIENT_FIELDS}`, "bad_recipients");
    }
    if (!KINDS.includes(r.kind)) throw bad(`unknown recipient kind ${JSON.stringify(r.kind)}`, "bad_recipients");
    if (!isHex64(r.key_id)) throw bad("recipient key_id must be 64 lowercase hex characters", "bad_recipients");
    const epk = b64decode(r.epk, { length: SPKI_LENGTH, what: "epk" });
    await checkSpki(epk, "epk", "bad_recipients");
    recipients.push({
      kind: r.kind, keyId: r.key_id, epk,
      nonce: b64decode(r.nonce, { length: 12, what: "recipient nonce" }),
      wrappedDek: b64decode(r.wrapped_dek, { length: DEK_SIZE + TAG_SIZE, what: "wrapped_dek" }),
    });
  }
  if (recipients.map((r) => r.kind).sort().join() !== KINDS.join()) {
    throw bad("recipients must be exactly one 'bidder' and one 'opening'", "bad_recipients");
  }
  if (recipients[0].keyId === recipients[1].keyId) {
    throw bad("bidder and opening recipients have the same key_id", "bad_recipients");
  }
  return {
    v: VERSION, suite: SUITE, tender: checkId(doc, "tender"), lot: checkId(doc, "lot"),
    bidder: checkId(doc, "bidder"), chunkSize: doc.chunk_size, noncePrefix, recipients, line,
    aad: sha256(line), size: MAGIC_BYTES.length + line.length, json: doc,
    recipient(kind) {
      return this.recipients.find((x) => x.kind === kind);
    },
  };
}

/** Parse and validate a header line (canonical JSON + "\n", as bytes). */
export async function parseHeaderLine(line) {
  if (line.length > MAX_HEADER_LINE) throw new SBE1Error(`header line longer than ${MAX_HEADER_LINE} bytes`, "header_too_long");
  if (line[line.length - 1] !== 0x0a) throw new SBE1Error("header line does not end with a newline", "truncated");
  const doc = parseCanonical(line.subarray(0, line.length - 1), "header_not_canonical");
  return validateHeader(doc, line);
}

/** Read and validate the magic and header of an envelope (Uint8Array, Blob or array of parts). */
export async function readHeader(envelope) {
  const reader = new ByteReader(envelope);
  return readHeaderFrom(reader);
}

async function readHeaderFrom(reader) {
  const magic = await reader.read(MAGIC_BYTES.length);
  if (!bytesEqual(magic, MAGIC_BYTES)) throw new SBE1Error("not an SBE1 envelope (bad magic)", "bad_magic");
  const head = await reader.peek(MAX_HEADER_LINE + 1);
  const end = head.indexOf(0x0a);
  if (end < 0) {
    if (head.length > MAX_HEADER_LINE) throw new SBE1Error(`header line longer than ${MAX_HEADER_LINE} bytes`, "header_too_long");
    throw new SBE1Error("header line does not end with a newline", "truncated");
  }
  const header = await parseHeaderLine(head.slice(0, end + 1));
  reader.skip(end + 1);
  return header;
}

/** Throw SBE1Error("header_mismatch_*") unless every given expectation holds. */
export function checkHeader(header, { tender, lot, bidder, bidderKeyId, openingKeyId } = {}) {
  const checks = [
    ["tender", tender, header.tender], ["lot", lot, header.lot], ["bidder", bidder, header.bidder],
    ["bidder key_id", bidderKeyId, header.recipient("bidder").keyId],
    ["opening key_id", openingKeyId, header.recipient("opening").keyId],
  ];
  for (const [name, want, got] of checks) {
    if (want !== undefined && want !== null && want !== got) {
      throw new SBE1Error(`envelope ${name} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`,
        `header_mismatch_${name.replace(" ", "_")}`);
    }
  }
}

// --- byte sources --------------------------------------------------------------------------

const isBlob = (x) => x && typeof x === "object" && typeof x.slice === "function"
  && typeof x.arrayBuffer === "function" && typeof x.size === "number";

function asBytes(x) {
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return null;
}

/** Random access over a Uint8Array, ArrayBuffer, Blob/File, or an array of those (as one Blob). */
class ByteReader {
  constructor(source) {
    this.bytes = asBytes(source);
    if (!this.bytes) {
      this.blob = Array.isArray(source) ? new Blob(source) : source;
      if (!isBlob(this.blob)) throw new TypeError("envelope must be a Uint8Array, ArrayBuffer, Blob or array of parts");
    }
    this.size = this.bytes ? this.bytes.length : this.blob.size;
    this.pos = 0;
  }

  async peek(n) {
    const end = Math.min(this.pos + n, this.size);
    if (this.bytes) return this.bytes.subarray(this.pos, end);
    return new Uint8Array(await this.blob.slice(this.pos, end).arrayBuffer());
  }

  skip(n) {
    this.pos = Math.min(this.pos + n, this.size);
  }

  async read(n) {
    const out = await this.peek(n);
    this.skip(out.length);
    return out;
  }
}

async function* sourcePieces(source, readSize) {
  const bytes = asBytes(source);
  if (typeof source === "string") {
    throw new TypeError("plaintext parts must be bytes or Blobs, not strings (encode them first)");
  } else if (bytes) {
    for (let i = 0; i < bytes.length; i += readSize) yield bytes.subarray(i, i + readSize);
  } else if (isBlob(source)) {
    for (let i = 0; i < source.size; i += readSize) {
      yield new Uint8Array(await source.slice(i, i + readSize).arrayBuffer());
    }
  } else if (Array.isArray(source)) {
    for (const part of source) yield* sourcePieces(part, readSize);
  } else if (source && (typeof source[Symbol.asyncIterator] === "function" || typeof source[Symbol.iterator] === "function")) {
    for await (const part of source) yield* sourcePieces(part, readSize);
  } else {
    throw new TypeError("plaintext must be bytes, a Blob, an array of those, or an (async) iterable of bytes");
  }
}

function knownSize(source) {
  const bytes = asBytes(source);
  if (bytes) return bytes.length;
  if (isBlob(source)) return source.size;
  if (Array.isArray(source)) {
    let total = 0;
    for (const part of source) {
      const n = knownSize(part);
      if (n === null) return null;
      total += n;
    }
    return total;
  }
  return null;
}

/** Slice a byte stream into chunkSize blocks, flagging the last; empty input -> one empty block. */
async function* rechunk(pieces, size) {
  let pending = null;
  let buf = new Uint8Array(size);
  let fill = 0;
  for await (const piece of pieces) {
    let pos = 0;
    while (pos < piece.length) {
      const take = Math.min(size - fill, piece.length - pos);
      buf.set(piece.subarray(pos, pos + take), fill);
      fill += take;
      pos += take;
      if (fill === size) {
        if (pending) yield [pending, false];
        pending = buf;
        buf = new Uint8Array(size);
        fill = 0;
      }
    }
  }
  if (fill > 0) {
    if (pending) yield [pending, false];
    yield [buf.slice(0, fill), true];
  } else {
    yield [pending || new Uint8Array(0), true];
  }
}

function chunkNonce(prefix, index, final) {
  if (index >= 2 ** 32) throw new SBE1Error("too many chunks (the index is a uint32)", "too_many_chunks");
  const nonce = new Uint8Array(12);
  nonce.set(prefix, 0);
  new DataView(nonce.buffer).setUint32(7, index);
  nonce[11] = final ? 1 : 0;
  return nonce;
}

// --- sealing -------------------------------------------------------------------------------

/**
 * Seal plaintext into an SBE1 envelope.
 * plaintext: Uint8Array | ArrayBuffer | Blob/File | array of those | (async) iterable of Uint8Array.
 * bidderSpki / openingSpki: SPKI bytes or base64. onProgress({phase: "encrypt", done, total}) with
 * plaintext bytes (total null when unknown). onPart(part) receives each envelope part instead of
 * collecting them. Returns {parts, header, sha256, size}: `new Blob(parts)` is the envelope and
 * sha256 (Uint8Array) is what `signDigest` signs.
 */
export async function seal({ plaintext, tender, lot, bidder, bidderSpki, openingSpki,
  chunkSize = DEFAULT_CHUNK_SIZE, onProgress, onPart }) {
  checkChunkSize(chunkSize);
  const dek = randomBytes(DEK_SIZE);
  const noncePrefix = randomBytes(7);
  const recipients = [];
  for (const [kind, spki] of [["bidder", bidderSpki], ["opening", openingSpki]]) {
    const bytes = await checkSpki(spki, `${kind} public key`);
    const w = await wrapKey(dek, bytes);
    recipients.push({ kind, key_id: keyIdOf(bytes), epk: b64encode(w.epk), nonce: b64encode(w.nonce),
      wrapped_dek: b64encode(w.wrapped) });
  }
  const doc = { v: VERSION, suite: SUITE, tender, lot, bidder, chunk_size: chunkSize,
    nonce_prefix: b64encode(noncePrefix), recipients };
  const line = utf8(`${canonicalJSON(doc)}\n`);
  const header = await validateHeader(doc, line);
  const aesKey = await subtle.importKey("raw", dek, "AES-GCM", false, ["encrypt"]);
  dek.fill(0);
  const parts = [];
  const hash = new Sha256();
  let size = 0;
  const emit = (part) => {
    hash.update(part);
    size += part.length;
    if (onPart) onPart(part);
    else parts.push(part);
  };
  emit(concatBytes(MAGIC_BYTES, line));
  const total = knownSize(plaintext);
  let done = 0;
  let index = 0;
  for await (const [block, final] of rechunk(sourcePieces(plaintext, chunkSize), chunkSize)) {
    const iv = chunkNonce(noncePrefix, index, final);
    emit(new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: header.aad }, aesKey, block)));
    done += block.length;
    index += 1;
    if (onProgress) onProgress({ phase: "encrypt", done, total });
  }
  return { parts, header, sha256: hash.digest(), size };
}

// --- plaintext: manifest + files -----------------------------------------------------------

const FORBIDDEN_NAME_CHARS = /[\x00-\x1f\x7f/\\:*?"<>|]/;
const DECIMAL = /^(0|[1-9][0-9]*)(\.[0-9]+)?$/;

function checkFileName(name) {
  if (typeof name !== "string" || name === "" || LONE_SURROGATE.test(name) || utf8(name).length > 255) {
    throw new SBE1Error("file name must be 1..255 UTF-8 bytes", "bad_file_name");
  }
  if (name === "." || name === ".." || FORBIDDEN_NAME_CHARS.test(name) || name[0] === " "
      || name.endsWith(" ") || name.endsWith(".")) {
    throw new SBE1Error(`file name ${JSON.stringify(name)} is not allowed`, "bad_file_name");
  }
  return name;
}

function validateManifest(doc) {
  const bad = (message, code = "manifest_invalid") => new SBE1Error(message, code);
  if (!isObject(doc) || !sameKeys(doc, ["form", "files"])) throw bad('manifest must have exactly "form" and "files"');
  if (!isObject(doc.form)) throw bad("manifest form must be an object");
  if (!Array.isArray(doc.files) || doc.files.length > MAX_FILES) throw bad(`manifest files must be a list of at most ${MAX_FILES}`);
  const names = new Set();
  const files = doc.files.map((f) => {
    if (!isObject(f) || !sameKeys(f, ["name", "size", "sha256"])) throw bad('each file must have exactly "name", "size" and "sha256"');
    if (!Number.isSafeInteger(f.size) || f.size < 0) throw bad("file size must be a non-negative integer");
    if (!isHex64(f.sha256)) throw bad("file sha256 must be 64 lowercase hex characters");
    checkFileName(f.name);
    if (names.has(f.name)) throw bad("duplicate file name in manifest", "bad_file_name");
    names.add(f.name);
    return { name: f.name, size: f.size, sha256: f.sha256 };
  });
  return { form: doc.form, files };
}

async function hashSource(data, onBytes) {
  const h = new Sha256();
  let size = 0;
  for await (const piece of sourcePieces(data, 1048576)) {
    h.update(piece);
    size += piece.length;
    if (onBytes) onBytes(piece.length);
  }
  return { size, sha256: toHex(h.digest()) };
}

/**
 * The plaintext of a bid. form: plain JSON object (integers, strings; prices as decimal strings).
 * files: array of File objects or {name, data: Blob | Uint8Array}. Hashes every file (streaming).
 * Returns {manifest, manifestLine, plaintext: [manifestLine, ...file data], size}.
 */
export async function buildPlaintext(form, files, { onProgress } = {}) {
  if (!isObject(form)) throw new SBE1Error("form must be a JSON object", "manifest_invalid");
  if ("price" in form && !(typeof form.price === "string" && DECIMAL.test(form.price))) {
    throw new SBE1Error('form "price" must be a decimal string such as "1234567.89"', "bad_price");
  }
  const inputs = files.map((f) => (isBlob(f) && typeof f.name === "string" ? { name: f.name, data: f } : f));
  const total = inputs.reduce((n, f) => n + (knownSize(f.data) ?? 0), 0);
  let done = 0;
  const entries = [];
  for (const f of inputs) {
    const { size, sha256: digest } = await hashSource(f.data, (n) => {
      done += n;
      if (onProgress) onProgress({ phase: "hash", done, total });
    });
    entries.push({ name: checkFileName(f.name), size, sha256: digest });
  }
  const doc = { form: JSON.parse(canonicalJSON(form)), files: entries };
  const manifestLine = utf8(`${canonicalJSON(doc)}\n`);
  if (manifestLine.length > MAX_MANIFEST_LINE) throw new SBE1Error("manifest too long", "manifest_invalid");
  const manifest = validateManifest(doc);
  return { manifest, manifestLine, plaintext: [manifestLine, ...inputs.map((f) => f.data)],
    size: manifestLine.length + total };
}

/** buildPlaintext + seal. Progress phases: "hash" then "encrypt". Returns seal()'s result plus manifest. */
export async function sealBid({ form, files, onProgress, ...rest }) {
  const built = await buildPlaintext(form, files, { onProgress });
  const result = await seal({ ...rest, plaintext: built.plaintext, onProgress });
  return { ...result, manifest: built.manifest };
}

// --- opening -------------------------------------------------------------------------------

/** The envelope's DEK, unwrapped with the bidder's (or opening) key {pkcs8, spki?}. */
export async function unwrapDek(envelope, key, { kind } = {}) {
  const header = envelope && envelope.recipients ? envelope : await readHeader(envelope);
  const own = await keyObject(key);
  const entry = kind ? header.recipient(kind) : header.recipients.find((r) => r.keyId === own.keyId);
  if (!entry || entry.keyId !== own.keyId) {
    throw new SBE1Error(`this key is not the envelope's ${kind || "bidder/opening"} recipient`, "not_a_recipient");
  }
  const dek = await unwrapKey(own, { epk: entry.epk, nonce: entry.nonce, wrapped: entry.wrappedDek }, entry.keyId);
  if (dek.length !== DEK_SIZE) throw new SBE1Error("unwrapped DEK has the wrong length", "unwrap_failed");
  return dek;
}

async function tryDecrypt(key, iv, aad, data) {
  try {
    return new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, key, data));
  } catch {
    return null;
  }
}

/**
 * Yield the plaintext chunks of an envelope (Uint8Array, Blob or array of parts) with a DEK.
 * Output is authenticated chunk by chunk; the envelope is valid only if the iteration ends
 * without an exception. onProgress({phase: "decrypt", done, total}) counts envelope bytes.
 */
export async function* decryptChunks(envelope, dek, { onProgress, header: known } = {}) {
  const reader = new ByteReader(envelope);
  const header = await readHeaderFrom(reader);
  if (known && !bytesEqual(known.line, header.line)) throw new SBE1Error("header changed", "header_mismatch");
  if (!(dek instanceof Uint8Array) || dek.length !== DEK_SIZE) throw new SBE1Error("a DEK is 32 bytes", "bad_dek");
  const key = await subtle.importKey("raw", dek, "AES-GCM", false, ["decrypt"]);
  const block = header.chunkSize + TAG_SIZE;
  let current = await reader.read(block);
  for (let index = 0; ; index++) {
    if (current.length < TAG_SIZE) {
      throw new SBE1Error(`envelope truncated: chunk ${index} is shorter than a tag`, "truncated");
    }
    const following = current.length === block ? await reader.read(block) : new Uint8Array(0);
    const final = following.length === 0;
    const plain = await tryDecrypt(key, chunkNonce(header.noncePrefix, index, final), header.aad, current);
    if (plain === null) {
      const other = await tryDecrypt(key, chunkNonce(header.noncePrefix, index, !final), header.aad, current);
      if (other === null) {
        const what = index === 0 ? "wrong DEK, tampered or truncated" : "tampered, truncated or re-ordered";
        throw new SBE1Error(`chunk ${index} failed authentication (${what})`, "chunk_auth_failed");
      }
      if (final) throw new SBE1Error(`envelope truncated: chunk ${index} is not the final chunk`, "missing_final_chunk");
      throw new SBE1Error(`data after the final chunk (chunk ${index} is final)`, "data_after_final");
    }
    if (onProgress) onProgress({ phase: "decrypt", done: reader.pos - following.length, total: reader.size });
    yield plain;
    if (final) return;
    current = following;
  }
}

/**
 * Decrypt and verify a whole envelope: every chunk, the manifest, every file's size and SHA-256.
 * openSink(entry) may return {write(Uint8Array)} per file; by default files are collected in
 * memory. Returns {header, manifest, files: [{name, size, sha256, data?}]}.
 */
export async function openEnvelope(envelope, dek, { openSink, onProgress } = {}) {
  const header = await readHeader(envelope);
  const chunks = decryptChunks(envelope, dek, { onProgress, header });
  const headParts = [];
  let headLength = 0;
  let head = null;
  let rest = null;
  // Iterate by hand: leaving a for-await loop early would close the generator.
  for (let step = await chunks.next(); !step.done; step = await chunks.next()) {
    const c = step.value;
    const end = c.indexOf(0x0a);
    if (end >= 0) {
      if (headLength + end + 1 > MAX_MANIFEST_LINE) throw new SBE1Error("manifest too long", "manifest_invalid");
      headParts.push(c.subarray(0, end + 1));
      head = concatList(headParts);
      rest = c.subarray(end + 1);
      break;
    }
    headParts.push(c);
    headLength += c.length;
    if (headLength >= MAX_MANIFEST_LINE) throw new SBE1Error("manifest too long", "manifest_invalid");
  }
  if (rest === null) throw new SBE1Error("plaintext ends inside the manifest line", "truncated_manifest");
  const manifest = validateManifest(parseCanonical(head.subarray(0, head.length - 1), "manifest_invalid"));
  const pending = rest.length ? [rest] : [];
  const next = async () => (pending.length ? pending.shift() : (await chunks.next()).value ?? null);
  const files = [];
  let leftover = null;
  for (const entry of manifest.files) {
    const collected = [];
    const sink = openSink ? openSink(entry) : { write: (b) => collected.push(b.slice()) };
    const h = new Sha256();
    let need = entry.size;
    while (need > 0) {
      let piece = leftover ?? await next();
      leftover = null;
      if (piece === null) {
        throw new SBE1Error(`file ${JSON.stringify(entry.name)} is shorter than its manifest size`, "file_size_mismatch");
      }
      if (piece.length > need) {
        leftover = piece.subarray(need);
        piece = piece.subarray(0, need);
      }
      h.update(piece);
      await sink.write(piece);
      need -= piece.length;
    }
    if (toHex(h.digest()) !== entry.sha256) {
      throw new SBE1Error(`file ${JSON.stringify(entry.name)} does not match its manifest sha256`, "file_hash_mismatch");
    }
    files.push(openSink ? { ...entry } : { ...entry, data: concatList(collected) });
  }
  while (leftover === null || leftover.length === 0) {
    leftover = await next();
    if (leftover === null) break;
  }
  if (leftover !== null) {
    throw new SBE1Error("plaintext continues after the last file (sizes do not match the manifest)", "file_size_mismatch");
  }
  return { header, manifest, files };
}

// --- signatures ----------------------------------------------------------------------------

/** SHA-256 of the envelope bytes (Uint8Array, Blob, or array of parts), streaming. */
export async function envelopeSha256(envelope) {
  const h = new Sha256();
  for await (const piece of sourcePieces(envelope, 1048576)) h.update(piece);
  return h.digest();
}

/**
 * Detached signature: ECDSA P-256/SHA-256 whose message is the 32-byte envelope SHA-256 (so the
 * ECDSA hash input is that digest, and SHA-256(SHA-256(envelope)) enters the equation). Base64 r||s.
 */
export async function signDigest(key, digest) {
  if (!(digest instanceof Uint8Array) || digest.length !== 32) {
    throw new TypeError("the signed message is the 32-byte SHA-256 of the envelope");
  }
  const signingKey = await subtle.importKey("pkcs8", new Uint8Array(key.pkcs8), EC, false, ["sign"]);
  return b64encode(new Uint8Array(await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, signingKey, digest)));
}

export async function signEnvelope(key, envelope) {
  return signDigest(key, await envelopeSha256(envelope));
}

/** True if the base64 r||s signature is valid for the digest; throws on a malformed signature. */
export async function verifyDigest(spki, digest, signature) {
  let raw;
  try {
    raw = b64decode(signature, { length: 64, what: "signature" });
  } catch (err) {
    throw new SBE1Error(err.message, "bad_signature_format");
  }
  const publicKey = await subtle.importKey("spki", await checkSpki(spki), EC, false, ["verify"]);
  return subtle.verify({ name: "ECDSA", hash: "SHA-256" }, publicKey, raw, digest);
}

export async function verifyEnvelope(spki, envelope, signature) {
  return verifyDigest(spki, await envelopeSha256(envelope), signature);
}

// --- Shamir shares (custodians) ------------------------------------------------------------

const SHARE_FIELDS = ["v", "x", "k", "opening_key_id", "key_id", "epk", "nonce", "wrapped"];

/**
 * Custodian side: decrypt a share container (JSON text or object) with the custodian's key.
 * Returns {x, k, openingKeyId, y: Uint8Array(32), json}: `json` is the canonical released share
 * {"k","opening_key_id","v","x","y"} that the custodian submits at opening.
 */
export async function decryptShare(container, key) {
  let doc = container;
  if (typeof container === "string" || container instanceof Uint8Array) {
    try {
      doc = JSON.parse(typeof container === "string" ? container : strictDecoder.decode(container));
    } catch (err) {
      throw new SBE1Error(`share is not valid JSON: ${err.message}`, "share_invalid");
    }
  }
  if (!isObject(doc) || !sameKeys(doc, SHARE_FIELDS)) {
    throw new SBE1Error(`a share must have exactly the fields ${SHARE_FIELDS}`, "share_invalid");
  }
  if (doc.v !== 1) throw new SBE1Error(`unsupported share version ${doc.v}`, "share_invalid");
  if (!Number.isSafeInteger(doc.x) || doc.x < 1 || doc.x > MAX_SHARES || !Number.isSafeInteger(doc.k)
      || doc.k < 2 || doc.k > MAX_SHARES || !isHex64(doc.opening_key_id) || !isHex64(doc.key_id)) {
    throw new SBE1Error("share x, k, key_id or opening_key_id malformed", "share_invalid");
  }
  const epk = b64decode(doc.epk, { length: SPKI_LENGTH, what: "epk" });
  await checkSpki(epk, "epk", "share_invalid");
  const own = await keyObject(key);
  if (doc.key_id !== own.keyId) throw new SBE1Error("this share is encrypted to another custodian key", "not_a_recipient");
  const y = await unwrapKey(own, {
    epk, nonce: b64decode(doc.nonce, { length: 12, what: "nonce" }),
    wrapped: b64decode(doc.wrapped, { length: 48, what: "wrapped" }),
  }, own.keyId);
  if (BigInt(`0x${toHex(y)}`) >= ORDER) throw new SBE1Error("share value out of range", "shamir_bad_share");
  const json = canonicalJSON({ v: 1, x: doc.x, k: doc.k, opening_key_id: doc.opening_key_id, y: b64encode(y) });
  return { x: doc.x, k: doc.k, openingKeyId: doc.opening_key_id, y, json };
}
