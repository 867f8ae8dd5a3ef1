// The trade page: the transferor seals the reserve in the browser (auctions/reserve.py format) and a
// custodian decrypts its share locally and releases it after bidding closed.
import * as sbe1 from "../bidding_ui/sbe1.js";
import { _, api, readKey, say } from "../bidding_ui/opening_common.js";

const config = JSON.parse(document.getElementById("trade-config").textContent);
const message = document.getElementById("page-message");
const PLAINTEXT_SIZE = 256;

// "1200000" / "1200000.5" → "1200000.00" / "1200000.50"; refuses anything else (no floats).
export function reserveString(text) {
  const m = /^\s*(\d{1,16})(?:\.(\d{1,2}))?\s*$/.exec(text || "");
  if (!m || /^0+$/.test(m[1]) && !/[1-9]/.test(m[2] || "")) throw new Error(_("Enter a positive amount with at most 2 decimals."));
  return `${m[1].replace(/^0+(?=\d)/, "")}.${((m[2] || "") + "00").slice(0, 2)}`;
}

export async function sealReserve(reserve, trade, openingSpki) {
  const doc = sbe1.canonicalBytes({ v: 1, trade, reserve, nonce: sbe1.b64encode(sbe1.randomBytes(16)) });
  const plaintext = new Uint8Array(PLAINTEXT_SIZE).fill(0x20);
  plaintext.set(doc);
  const spki = sbe1.b64decode(openingSpki, { what: "opening key" });
  const w = await sbe1.wrapKey(plaintext, spki);
  return { v: 1, key_id: sbe1.keyIdOf(spki), epk: sbe1.b64encode(w.epk), nonce: sbe1.b64encode(w.nonce),
           wrapped: sbe1.b64encode(w.wrapped) };
}

const sealButton = document.getElementById("seal-reserve");
if (sealButton) {
  sealButton.addEventListener("click", async () => {
    try {
      const reserve = reserveString(document.getElementById("reserve-amount").value);
      const sealed = await sealReserve(reserve, config.trade, config.openingKey);
      await api("POST", `${config.api}/reserve`, { sealed });
      say(message, _("The reserve is sealed."));
      window.location.reload();
    } catch (err) {
      say(message, err.message, true);
    }
  });
}

const shareButton = document.getElementById("release-share");
if (shareButton && config.share) {
  shareButton.addEventListener("click", async () => {
    try {
      const key = await readKey(document.getElementById("cust-keyfile"), document.getElementById("cust-password"), sbe1);
      const released = await sbe1.decryptShare(config.share, key);
      await api("POST", `${config.api}/shares`, { share: JSON.parse(released.json) });
      say(message, _("Your share is released."));
      window.location.reload();
    } catch (err) {
      say(message, err.message, true);
    }
  });
}
