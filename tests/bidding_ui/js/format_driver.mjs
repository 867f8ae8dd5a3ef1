// Runs format.js on the shared cases (argv[2]) and prints what it gives, as JSON (test_format_cases.py).
import { readFileSync } from "node:fs";
import { formatMoney, formatWhen } from "../../../bidding_ui/static/bidding_ui/format.js";

const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));
process.stdout.write(JSON.stringify({
  zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  money: cases.money.map((c) => formatMoney(c.value, { currency: c.currency, lang: c.lang })),
  when: cases.when.map((c) => formatWhen(c.iso, { precision: c.precision, lang: c.lang })),
}));
