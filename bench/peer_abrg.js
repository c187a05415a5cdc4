// @digital-go-jp/abr-geocoder: its sqlite database built from LOCAL ABR CSV files by its own loaders.
//   node bench/peer_abrg.js ABR_DIR ABRG_DIR FILE...   (run in bench/peers/)
// `abrg download` first asks the ABR CKAN (catalog.registries.digital.go.jp) for its package list and
// then downloads dataset zips; neither is reachable here. The rest of its pipeline is local: each
// CSV becomes a DatasetFile (parsed by its file name, mt_<kind>_<all|prefNN|cityNNNNNN>.csv) whose
// rows loadCsvToDatabase writes into ABRG_DIR/database. `abrg` then geocodes with `-d ABRG_DIR`
// (building its trie caches on first use, as after a download).
const path = require("node:path");
const fs = require("node:fs");
const root = path.join(process.cwd(), "node_modules", "@digital-go-jp", "abr-geocoder", "build");
const load = (p) => require(path.join(root, p));
const { parseFilename } = load("domain/services/parse-filename");
const { loadCsvToDatabase } = load("usecases/download/steps/load-csv-to-database");
const { DownloadDbController } = load("drivers/database/download-db-controller");
const classes = {
  pref: load("domain/models/pref-dataset-file").PrefDatasetFile,
  pref_pos: load("domain/models/pref-pos-dataset-file").PrefPosDatasetFile,
  city: load("domain/models/city-dataset-file").CityDatasetFile,
  city_pos: load("domain/models/city-pos-dataset-file").CityPosDatasetFile,
  town: load("domain/models/town-dataset-file").TownDatasetFile,
  town_pos: load("domain/models/town-pos-dataset-file").TownPosDatasetFile,
  rsdtdsp_blk: load("domain/models/rsdt-blk-file").RsdtdspBlkFile,
  rsdtdsp_rsdt: load("domain/models/rsdt-dsp-file").RsdtDspFile,
  rsdtdsp_rsdt_pos: load("domain/models/rsdt-dsp-pos-file").RsdtDspPosFile,
};

(async () => {
  const [abrDir, abrgDir, ...names] = process.argv.slice(2);
  const staged = path.join(abrgDir, "download");
  fs.mkdirSync(staged, { recursive: true });
  // Its loaders take a batch's prefecture (city files) or municipality (town and residence files)
  // from the batch's FIRST row, as the CKAN publishes one file a prefecture or a municipality: the
  // local files are split so (mt_city_prefNN, mt_town_cityNNNNNN, ...), rows unchanged.
  const files = [];
  const parts = {};
  // a town_pos row whose town no town file has (1,516 in the real mt_town_pos_pref30) becomes a
  // town row without names in its database, and its geocoder then fails (TypeError: reading
  // 'includes' of undefined in kyoto-street-transform.js): such rows are left out here, as our
  // loader rejects them
  const towns = new Set();
  for (const name of names.filter((n) => /^mt_town_(?!pos)/.test(n))) {
    for (const line of fs.readFileSync(path.join(abrDir, name), "utf-8").split(/\r?\n/).slice(1)) {
      towns.add(line.slice(0, 14));
    }
  }
  let orphans = 0;
  for (const name of names) {
    const text = fs.readFileSync(path.join(abrDir, name), "utf-8");
    const kind = name.match(/^mt_((?:pref|city|town|rsdtdsp_rsdt)(?:_pos)?)_/)[1];
    const [header, ...lines] = text.split(/\r?\n/).filter((l) => l);
    for (const line of lines) {
      const lg = line.replace(/^\ufeff/, "").slice(0, 6);
      if (kind === "town_pos" && !towns.has(line.slice(0, 14))) {
        orphans++;
        continue;
      }
      const key = kind.startsWith("pref") ? `mt_${kind}_all.csv`
        : kind.startsWith("city") ? `mt_${kind}_pref${lg.slice(0, 2)}.csv` : `mt_${kind}_city${lg}.csv`;
      (parts[key] = parts[key] || [header]).push(line);
    }
  }
  // no 街区 file is among the samples: its search needs one, so state each residence row's block
  // (as our loader does) in the published 街区 columns
  const BLK = "lg_code,machiaza_id,blk_id,city,ward,oaza_cho,chome,koaza,machiaza_dist,blk_num,rsdt_addr_flg," +
              "rsdt_addr_mtd_code,status_flg,efct_date,ablt_date,src_code,remarks";
  for (const [name, lines] of Object.entries(parts)) {
    if (!name.startsWith("mt_rsdtdsp_rsdt_city")) continue;
    const cols = lines[0].replace(/^\ufeff/, "").split(",");
    const seen = new Set();
    const out = [BLK];
    for (const line of lines.slice(1)) {
      const cells = line.split(",");
      const row = Object.fromEntries(cols.map((c, i) => [c, cells[i] || ""]));
      const key = `${row.machiaza_id}-${row.blk_id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(BLK.split(",").map((c) => row[c] || "").join(","));
    }
    parts[name.replace("mt_rsdtdsp_rsdt_", "mt_rsdtdsp_blk_")] = out;
  }
  for (const [name, lines] of Object.entries(parts)) {
    fs.writeFileSync(path.join(staged, name), lines.join("\n") + "\n");
    files.push(name);
  }
  const order = ["pref", "pref_pos", "city", "city_pos", "town", "town_pos", "rsdtdsp_blk", "rsdtdsp_rsdt",
                 "rsdtdsp_rsdt_pos"];
  const metas = files.map((f) => parseFilename({ filepath: path.join(staged, f) }));
  metas.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  const db = new DownloadDbController({ type: "sqlite3", dataDir: path.join(abrgDir, "database") });
  const start = process.hrtime.bigint();
  for (const meta of metas) {
    const stat = fs.statSync(meta.path);
    const csvFile = { path: meta.path, name: meta.filename, crc32: 0, contentLength: stat.size,
                      lastModified: stat.mtimeMs, noUpdate: false };
    const datasetFile = new classes[meta.type]({ fileMeta: meta, csvFile, lgCodeFilter: new Set() });
    await loadCsvToDatabase({ datasetFile, databaseCtrl: db });
  }
  console.log(JSON.stringify({ files: files.length, orphan_town_points_left_out: orphans, seconds: Number(process.hrtime.bigint() - start) / 1e9 }));
})().catch((e) => { console.error(e && e.stack || String(e)); process.exit(1); });
