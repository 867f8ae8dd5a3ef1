// Shared helpers of the sealed-bid and opening pages (keys_page.js, bid_page.js, room.js).
export const _ = (s) => (window.gettext ? window.gettext(s) : s);

export function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export async function api(method, url, body) {
  const response = await fetch(url, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((data.error && data.error.message) || `HTTP ${response.status}`);
  return data;
}

export function say(el, text, error = false) {
  if (!el) return;
  el.textContent = text;
  el.classList.toggle("error", Boolean(error));
}

export async function readKey(fileInput, passwordInput, sbe1) {
  const file = fileInput.files && fileInput.files[0];
  if (!file) throw new Error(_("Choose your key file."));
  return sbe1.readKeyFile(await file.text(), passwordInput.value);
}
