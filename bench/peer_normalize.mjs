// @geolonia/normalize-japanese-addresses over a list of addresses, its dictionary read from disk.
//   node bench/peer_normalize.mjs file:///…/api/ja in.json out.json   (run in bench/peers/)
// The library fetches the japanese-addresses-v2 API over HTTP unless config.japaneseAddressesApi is
// a file:// URL (its fetchOrReadFile); bench_geocode.py writes that API from the local ABR CSVs.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(path.join(process.cwd(), "package.json"));
const nja = await import(require.resolve("@geolonia/normalize-japanese-addresses"));
const [api, input, output] = process.argv.slice(2);
nja.config.japaneseAddressesApi = api;
nja.config.cacheSize = 100000;
const addresses = JSON.parse(fs.readFileSync(input, "utf-8"));
await nja.normalize(addresses[0]).catch(() => null);   // warm the prefecture list
const answers = [];
let errors = 0;
const start = process.hrtime.bigint();
for (const a of addresses) {
  try {
    const r = await nja.normalize(a);
    const m = r.metadata || {};
    answers.push({ level: r.level, city_code: m.city ? m.city.code : null,
                   machiaza_id: m.machiAza ? m.machiAza.machiaza_id : null,
                   blk_num: m.rsdt ? m.rsdt.blk_num : null, rsdt_num: m.rsdt ? m.rsdt.rsdt_num : null,
                   rsdt_num2: m.rsdt ? m.rsdt.rsdt_num2 : null });
  } catch (e) {
    errors++;
    answers.push(null);
  }
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
fs.writeFileSync(output, JSON.stringify({ seconds, errors, answers }));
