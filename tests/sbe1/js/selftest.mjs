// Unit checks of sbe1.js internals under Node: SHA-256 against node:crypto, strict base64,
// code-point key order, canonical JSON refusals. Prints {"checks": n, "failures": [...]}.
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const modulePath = path.resolve(here, "../../../bidding_ui/static/bidding_ui/sbe1.js");
const sbe1 = await import(pathToFileURL(modulePath).href);

let checks = 0;
const failures = [];
const check = (name, cond) => {
  checks++;
  if (!cond) failures.push(name);
};
const throwsCode = (name, fn, code) => {
  try {
    fn();
    failures.push(`${name}: did not throw`);
  } catch (err) {
    check(`${name}: code ${err.code}`, code === undefined || err.code === code);
  }
  checks++;
};
const nodeHex = (buf) => createHash("sha256").update(buf).digest("hex");

// SHA-256: known vectors, then random sizes fed in random pieces.
check("sha256 empty", sbe1.toHex(sbe1.sha256(new Uint8Array(0)))
  === "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
check("sha256 abc", sbe1.toHex(sbe1.sha256(sbe1.utf8("abc")))
  === "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
for (const size of [1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1000, 65536 + 7, 1048576 * 3 + 1]) {
  const data = new Uint8Array(randomBytes(size));
  const h = new sbe1.Sha256();
  let pos = 0;
  while (pos < size) {
    const n = Math.min(size - pos, 1 + Math.floor(Math.random() * 200));
    h.update(data.subarray(pos, pos + n));
    pos += n;
  }
  check(`sha256 size ${size}`, sbe1.toHex(h.digest()) === nodeHex(data));
}

// Strict base64.
const b = new Uint8Array(randomBytes(7));
check("b64 round trip", sbe1.toHex(sbe1.b64decode(sbe1.b64encode(b))) === sbe1.toHex(b));
check("b64 matches Buffer", sbe1.b64encode(b) === Buffer.from(b).toString("base64"));
for (const bad of ["AAAAAAAAAB==", "AAAAAAAAAA", "AAAA AAAA", "-_-_", "AA=A", "A===", 5]) {
  throwsCode(`b64 rejects ${bad}`, () => sbe1.b64decode(bad), "bad_base64");
}
throwsCode("b64 length", () => sbe1.b64decode("AAAA", { length: 2 }), "bad_base64");

// Code-point order: U+FF01 < U+1F600, although the UTF-16 code units say otherwise.
check("cp order", sbe1.compareCodePoints("\uff01", "😀") < 0 && ["😀", "\uff01"].sort()[0] === "😀");
check("cp prefix", sbe1.compareCodePoints("a", "ab") < 0 && sbe1.compareCodePoints("ab", "a") > 0);
check("cp equal", sbe1.compareCodePoints("😀x", "😀x") === 0);
check("canonical order", sbe1.canonicalJSON({ "😀": 1, "\uff01": 2, a: 3 }) === '{"a":3,"！":2,"😀":1}');

// Canonical JSON refusals.
for (const [name, value] of [["float", 1.5], ["nan", NaN], ["unsafe", 2 ** 53], ["undefined", undefined],
  ["date", new Date(0)], ["lone surrogate", "\ud800"], ["lone key", { "\udc00": 1 }], ["map", new Map()]]) {
  throwsCode(`canonical refuses ${name}`, () => sbe1.canonicalJSON(value), "not_canonical_json");
}
check("canonical bigint", sbe1.canonicalJSON({ n: 10n ** 30n }) === '{"n":1000000000000000000000000000000}');
check("canonical -0", sbe1.canonicalJSON(-0) === "0");

// The module has no imports (no dependencies, no build step).
check("no imports", !/^\s*import\s/m.test(readFileSync(modulePath, "utf8")));

// Key pair and key id.
const kp = await sbe1.generateKeyPair();
check("spki length", kp.spki.length === sbe1.SPKI_LENGTH);
check("key id", kp.keyId === nodeHex(kp.spki));
check("spki of pkcs8", sbe1.toHex(await sbe1.spkiOfPkcs8(kp.pkcs8)) === sbe1.toHex(kp.spki));

process.stdout.write(JSON.stringify({ checks, failures }));
