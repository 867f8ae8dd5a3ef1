// Bid preparation: seal the form and files in the browser (sbe1.js, SBE1), sign the envelope with the
// organisation's key file, upload the raw envelope with progress (XHR), show the signed receipt.
import * as sbe1 from "./sbe1.js";
import { _, api, csrfToken, readKey, say } from "./opening_common.js";

const config = JSON.parse(document.getElementById("bid-config").textContent);
const form = document.getElementById("bid-form");
const status = document.getElementById("status");
const progress = document.getElementById("progress");
const receiptBox = document.getElementById("receipt");

function formItems() {
  const out = {};
  for (const key of config.items) {
    const value = document.getElementById(`item-${key}`).value.trim();
    // Canonical JSON has no floats: whole numbers as integers, everything else (price!) as strings.
    out[key] = key !== "price" && /^\d{1,15}$/.test(value) ? Number(value) : value;
  }
  out.currency = "CNY";
  return out;
}

// Device fingerprint for the supervisors' collusion signals (招标投标法实施条例 Art 40, docs/opening.md):
// the first 32 hex digits of the SHA-256 of stable browser properties. Sent as X-Device-Fingerprint;
// without WebCrypto (not a secure context) nothing is sent and the upload goes on.
async function deviceFingerprint() {
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const props = [navigator.userAgent, navigator.language, navigator.platform,
      `${window.screen.width}x${window.screen.height}`, zone, navigator.hardwareConcurrency];
    const text = props.map((value) => String(value ?? "")).join("\n");
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return sbe1.toHex(new Uint8Array(digest)).slice(0, 32);
  } catch {
    return "";
  }
}

function upload(blob, signature, fingerprint) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", config.uploadUrl);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-Envelope-Signature", signature);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    if (fingerprint) xhr.setRequestHeader("X-Device-Fingerprint", fingerprint);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) { progress.value = Math.round((100 * e.loaded) / e.total); }
    };
    xhr.onload = () => {
      let data = {};
      try { data = JSON.parse(xhr.responseText); } catch { /* keep {} */ }
      if (xhr.status === 201) resolve(data);
      else reject(new Error((data.error && data.error.message) || `HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new Error(_("The upload failed (network).")));
    xhr.send(blob);
  });
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  progress.hidden = false;
  progress.value = 0;
  receiptBox.hidden = true;
  try {
    const key = await readKey(document.getElementById("keyfile"), document.getElementById("password"), sbe1);
    const files = Array.from(document.getElementById("files").files);
    say(status, _("Sealing in your browser…"));
    const sealed = await sbe1.sealBid({
      form: formItems(), files, tender: config.tender, lot: config.lot, bidder: config.bidder,
      bidderSpki: key.spki, openingSpki: config.openingSpki,
      onProgress: ({ phase, done, total }) => {
        if (total) progress.value = Math.round((100 * done) / total);
        say(status, phase === "hash" ? _("Hashing your files…") : _("Encrypting…"));
      },
    });
    const blob = new Blob(sealed.parts, { type: "application/octet-stream" });
    if (blob.size > config.maxBytes) throw new Error(_("The envelope is larger than this lot accepts."));
    const signature = await sbe1.signDigest(key, sealed.sha256);
    say(status, `${_("Uploading")} ${blob.size} ${_("bytes")} (SHA-256 ${sbe1.toHex(sealed.sha256)})…`);
    progress.value = 0;
    const bid = await upload(blob, signature, await deviceFingerprint());
    say(status, _("Received before the deadline. Keep the signed receipt below."));
    receiptBox.textContent = JSON.stringify(bid.receipt, null, 2);
    receiptBox.hidden = false;
  } catch (err) {
    say(status, err.message, true);
  }
});

for (const button of document.querySelectorAll("[data-withdraw]")) {
  button.addEventListener("click", async () => {
    if (!window.confirm(_("Withdraw this bid? You may upload a new one before the deadline."))) return;
    try {
      await api("POST", `/api/v1/bids/${button.dataset.withdraw}/withdraw`);
      window.location.reload();
    } catch (err) {
      say(status, err.message, true);
    }
  });
}
