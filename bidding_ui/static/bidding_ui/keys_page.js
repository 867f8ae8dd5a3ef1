// Key page: generate a P-256 key pair in the browser, download the password-protected key file,
// register only the public key (SPKI) with POST /api/v1/keys. The private key never leaves the browser.
import * as sbe1 from "./sbe1.js";
import { _, api, say } from "./opening_common.js";

const form = document.getElementById("keygen");
const status = document.getElementById("keygen-status");

function download(text, name) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = document.getElementById("password").value;
  if (password.length < 10) return say(status, _("Use at least 10 characters."), true);
  if (password !== document.getElementById("password2").value) return say(status, _("The passwords differ."), true);
  const holder = document.getElementById("holder").value;
  const label = document.getElementById("label").value;
  try {
    say(status, _("Generating the key and protecting it with your password…"));
    const pair = await sbe1.generateKeyPair();
    const text = await sbe1.writeKeyFile(pair, password, { label });
    download(text, `ptrade-${holder}-${pair.keyId.slice(0, 12)}.key`);
    await api("POST", "/api/v1/keys", { public_key: sbe1.b64encode(pair.spki), holder, label });
    say(status, `${_("Registered. Key id")}: ${pair.keyId}. ${_("Keep the downloaded key file safe.")}`);
    setTimeout(() => window.location.reload(), 2500);
  } catch (err) {
    say(status, err.message, true);
  }
});
