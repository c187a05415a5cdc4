"""ABR CSV text for the tests, written in the published header formats (FORMATS.md §2.2, §2.4).

Rows are built by column name so a test states only the cells it cares about. Most values are real
(札幌市 011002 / 中央区 011011, 文京区 白山, 和歌山市 葵町, 橋本市 市脇一丁目, 屋久島町 小島); the
block rows (no real 街区 file exists), the second post code and the 住居2 row are written for the tests.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

PREF = "lg_code,pref,pref_kana,pref_roma,efct_date,ablt_date,remarks".split(",")
CITY = ("lg_code,pref,pref_kana,pref_roma,county,county_kana,county_roma,city,city_kana,city_roma,ward,ward_kana,"
        "ward_roma,efct_date,ablt_date,remarks").split(",")
LG_POS = "lg_code,rep_lon,rep_lat,rep_srid,rep_scale,plygn_fname,plygn_kcode,plygn_fmt,plygn_srid,plygn_scale".split(",")
TOWN = ("lg_code,machiaza_id,machiaza_type,pref,pref_kana,pref_roma,county,county_kana,county_roma,city,city_kana,"
        "city_roma,ward,ward_kana,ward_roma,oaza_cho,oaza_cho_kana,oaza_cho_roma,chome,chome_kana,chome_number,koaza,"
        "koaza_kana,koaza_roma,machiaza_dist,rsdt_addr_flg,rsdt_addr_mtd_code,oaza_cho_aka_flg,koaza_aka_code,"
        "oaza_cho_gsi_uncmn,koaza_gsi_uncmn,status_flg,wake_num_flg,efct_date,ablt_date,src_code,post_code,remarks").split(",")
TOWN_FULLSET = TOWN[:37] + ("oaza_cho_uncmn_reg,oaza_cho_uncmn_mj,oaza_cho_uncmn_type,oaza_cho_uncmn_code,koaza_uncmn_reg,"
                            "koaza_uncmn_mj,koaza_uncmn_type,koaza_uncmn_code,alias_oaza,alias_oaza_kana,alias_oaza_roma,"
                            "alias_koaza,alias_koaza_kana,alias_koaza_roma,remarks").split(",")
TOWN_POS = ("lg_code,machiaza_id,rsdt_addr_flg,rep_lon,rep_lat,rep_srid,rep_scale,rep_src_code,plygn_fname,plygn_kcode,"
            "plygn_fmt,plygn_srid,plygn_scale,plygn_src_code,pos_oaza_cho_chome_code,pos_data_mnt_year,"
            "cns_bnd_s_area_kcode,cns_bnd_year").split(",")
BLK = ("lg_code,machiaza_id,blk_id,city,ward,oaza_cho,chome,koaza,machiaza_dist,blk_num,rsdt_addr_flg,rsdt_addr_mtd_code,"
       "status_flg,efct_date,ablt_date,src_code,remarks").split(",")
BLK_POS = ("lg_code,machiaza_id,blk_id,rsdt_addr_flg,rsdt_addr_mtd_code,rep_lon,rep_lat,rep_srid,rep_scale,rep_src_code,"
           "plygn_fname,plygn_kcode,plygn_fmt,plygn_srid,plygn_scale,plygn_src_code,pos_pref,pos_city,pos_oaza_cho_chome,"
           "pos_koaza_aka,pos_blk_prc_num,pos_data_mnt_year,rsdt_addr_code_rdbl,rsdt_addr_data_mnt_date").split(",")
RSDT = ("lg_code,machiaza_id,blk_id,rsdt_id,rsdt2_id,city,ward,oaza_cho,chome,koaza,machiaza_dist,blk_num,rsdt_num,"
        "rsdt_num2,basic_rsdt_div,rsdt_addr_flg,rsdt_addr_mtd_code,status_flg,efct_date,ablt_date,src_code,remarks").split(",")
RSDT_POS = ("lg_code,machiaza_id,blk_id,rsdt_id,rsdt2_id,rsdt_addr_flg,rsdt_addr_mtd_code,rep_lon,rep_lat,rep_srid,"
            "rep_scale,rep_src_code,rsdt_addr_code_rdbl,rsdt_addr_data_mnt_date,basic_rsdt_div").split(",")
PARCEL = ("lg_code,machiaza_id,prc_id,city,ward,oaza_cho,chome,koaza,machiaza_dist,prc_num1,prc_num2,prc_num3,"
          "rsdt_addr_flg,prc_rec_flg,prc_area_code,efct_date,ablt_date,src_code,remarks,real_prop_num").split(",")
PARCEL_POS = ("lg_code,machiaza_id,prc_id,rep_lon,rep_lat,rep_srid,rep_scale,rep_src_code,plygn_fname,plygn_kcode,"
              "plygn_fmt,plygn_srid,plygn_scale,plygn_src_code,moj_map_city_code,moj_map_oaza_code,moj_map_chome_code,"
              "moj_map_koaza_code,moj_map_spare_code,moj_map_brushid").split(",")

#: the 2022 trial edition's Japanese headers (FORMATS.md §2.4) and the current name of each column
JA_PREF = list(zip("全国地方公共団体コード,都道府県名,都道府県名_カナ,都道府県名_英字,効力発生日,廃止日,備考".split(","), PREF))
JA_CITY = list(zip(("全国地方公共団体コード,都道府県名,都道府県名_カナ,都道府県名_英字,郡名,郡名_カナ,郡名_英字,市区町村名,"
                    "市区町村名_カナ,市区町村名_英字,政令市区名,政令市区名_カナ,政令市区名_英字,効力発生日,廃止日,備考").split(","), CITY))
JA_TOWN = list(zip(
    ("全国地方公共団体コード,町字id,町字区分コード,都道府県名,都道府県名_カナ,都道府県名_英字,郡名,郡名_カナ,郡名_英字,"
     "市区町村名,市区町村名_カナ,市区町村名_英字,政令市区名,政令市区名_カナ,政令市区名_英字,大字・町名,大字・町名_カナ,"
     "大字・町名_英字,丁目名,丁目名_カナ,丁目名_数字,小字名,小字名_カナ,小字名_英字,住居表示フラグ,住居表示方式コード,"
     "大字・町_通称フラグ,小字_通称フラグ,大字・町外字フラグ,小字外字フラグ,状態フラグ,起番フラグ,効力発生日,廃止日,"
     "原典資料コード,郵便番号,備考").split(","),
    [c for c in TOWN if c != "machiaza_dist"]))
JA_TOWN_POS = list(zip(
    "全国地方公共団体コード,町字ID,住居表示フラグ,代表点_経度,代表点_緯度,代表点_座標参照系,代表点_地図情報レベル,代表点_原典資料コード".split(","),
    TOWN_POS[:8]))


def csv_text(columns, rows: list[dict[str, str]]) -> str:
    """Header + rows; ``columns`` is a list of names or of (header cell, name) pairs."""
    pairs = [(c, c) if isinstance(c, str) else c for c in columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([h for h, _ in pairs])
    for row in rows:
        unknown = set(row) - {n for _, n in pairs}
        assert not unknown, unknown
        writer.writerow([row.get(n, "") for _, n in pairs])
    return out.getvalue()


def write(path: Path, columns, rows: list[dict[str, str]]) -> Path:
    path.write_text(csv_text(columns, rows), encoding="utf-8")
    return path


def write_zip(path: Path, member: str, text: str) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member, text)
    return path


D = "1947-04-17"

PREF_ROWS = [
    dict(lg_code="010006", pref="北海道", pref_kana="ホッカイドウ", pref_roma="Hokkaido", efct_date=D),
    dict(lg_code="130001", pref="東京都", pref_kana="トウキョウト", pref_roma="Tokyo", efct_date=D),
    dict(lg_code="300004", pref="和歌山県", pref_kana="ワカヤマケン", pref_roma="Wakayama", efct_date=D),
    dict(lg_code="460001", pref="鹿児島県", pref_kana="カゴシマケン", pref_roma="Kagoshima", efct_date=D),
]


def city(lg, pref, pref_kana, pref_roma, name, kana, roma, ward="", ward_kana="", ward_roma="", **more):
    return dict(lg_code=lg, pref=pref, pref_kana=pref_kana, pref_roma=pref_roma, city=name, city_kana=kana,
                city_roma=roma, ward=ward, ward_kana=ward_kana, ward_roma=ward_roma, efct_date=D, **more)


HOKKAIDO = ("北海道", "ホッカイドウ", "Hokkaido")
TOKYO = ("東京都", "トウキョウト", "Tokyo")
WAKAYAMA = ("和歌山県", "ワカヤマケン", "Wakayama")
CITY_ROWS = [
    city("011002", *HOKKAIDO, "札幌市", "サッポロシ", "Sapporo-shi"),
    city("011011", *HOKKAIDO, "札幌市", "サッポロシ", "Sapporo-shi", "中央区", "チュウオウク", "Chuo-ku"),
    city("131059", *TOKYO, "文京区", "ブンキョウク", "Bunkyo-ku"),
    city("302015", *WAKAYAMA, "和歌山市", "ワカヤマシ", "Wakayama-shi"),
    city("302031", *WAKAYAMA, "橋本市", "ハシモトシ", "Hashimoto-shi"),
    city("465054", "鹿児島県", "カゴシマケン", "Kagoshima", "屋久島町", "ヤクシマチョウ", "Yakushima-cho",
         county="熊毛郡", county_kana="クマゲグン", county_roma="Kumage-gun"),
]
LG_POS_ROWS = [
    dict(lg_code="011002", rep_lon="141.354374", rep_lat="43.061972", rep_srid="EPSG:6668"),
    dict(lg_code="011011", rep_lon="141.35389", rep_lat="43.061414", rep_srid="EPSG:6668"),
    dict(lg_code="130001", rep_lon="139.691717", rep_lat="35.689568", rep_srid="EPSG:6668"),
    dict(lg_code="131059", rep_lon="139.752473", rep_lat="35.707976", rep_srid="EPSG:6668"),
]


def town(lg, mid, kind, city_, oaza, oaza_kana, oaza_roma, *, chome="", chome_kana="", chome_number="",
         flag="0", method="0", post="", pref=WAKAYAMA, **more):
    return dict(lg_code=lg, machiaza_id=mid, machiaza_type=kind, pref=pref[0], pref_kana=pref[1], pref_roma=pref[2],
                city=city_[0], city_kana=city_[1], city_roma=city_[2], oaza_cho=oaza, oaza_cho_kana=oaza_kana,
                oaza_cho_roma=oaza_roma, chome=chome, chome_kana=chome_kana, chome_number=chome_number,
                rsdt_addr_flg=flag, rsdt_addr_mtd_code=method, oaza_cho_aka_flg="0", koaza_aka_code="0",
                oaza_cho_gsi_uncmn="0", koaza_gsi_uncmn="0", status_flg="1", wake_num_flg="1", efct_date=D,
                src_code="0", post_code=post, **more)


WAKAYAMA_SHI = ("和歌山市", "ワカヤマシ", "Wakayama-shi")
HASHIMOTO = ("橋本市", "ハシモトシ", "Hashimoto-shi")
BUNKYO = ("文京区", "ブンキョウク", "Bunkyo-ku")
AOI = town("302015", "0001000", "1", WAKAYAMA_SHI, "葵町", "アオイチョウ", "Aoicho", flag="1", method="1", post="6408273")
AKIZUKI = town("302015", "0002000", "1", WAKAYAMA_SHI, "秋月", "アキヅキ", "Akizuki", post="6408322;6408323")
ICHIWAKI_0 = town("302031", "0004001", "2", HASHIMOTO, "市脇", "イチワキ", "Ichiwaki", chome="一丁目",
                  chome_kana="１チョウメ", chome_number="1")
ICHIWAKI_1 = {**ICHIWAKI_0, "rsdt_addr_flg": "1", "rsdt_addr_mtd_code": "1"}
HAKUSAN_1 = town("131059", "0001001", "2", BUNKYO, "白山", "ハクサン", "Hakusan", chome="１丁目", chome_kana="１チョウメ",
                 chome_number="1", flag="1", method="1", pref=TOKYO)
KOSHIMA = dict(town("465054", "0000122", "3", ("屋久島町", "ヤクシマチョウ", "Yakushima-cho"), "", "", "",
                    pref=("鹿児島県", "カゴシマケン", "Kagoshima"), post="8914405"),
               county="熊毛郡", county_kana="クマゲグン", county_roma="Kumage-gun", koaza="小島", koaza_kana="コシマ",
               koaza_roma="Koshima", wake_num_flg="1")
TOWN_ROWS = [HAKUSAN_1, AOI, AKIZUKI, ICHIWAKI_0, ICHIWAKI_1, KOSHIMA]

TOWN_POS_ROWS = [  # mixed CRS in one file, as in the real mt_town_pos_pref30.csv
    dict(lg_code="131059", machiaza_id="0001001", rsdt_addr_flg="1", rep_lon="139.752850", rep_lat="35.718260",
         rep_srid="EPSG:6668", rep_src_code="0"),
    dict(lg_code="302015", machiaza_id="0001000", rsdt_addr_flg="1", rep_lon="135.163085", rep_lat="34.21348",
         rep_srid="EPSG:4612", rep_scale="25000", rep_src_code="1", pos_oaza_cho_chome_code="302010001000",
         pos_data_mnt_year="2020"),
    dict(lg_code="302015", machiaza_id="0002000", rsdt_addr_flg="0", rep_lon="135.203712", rep_lat="34.230374",
         rep_srid="EPSG:4612", rep_scale="25000", rep_src_code="1", pos_oaza_cho_chome_code="302010002000"),
    dict(lg_code="302031", machiaza_id="0004001", rsdt_addr_flg="1", rep_lon="135.601147", rep_lat="34.315316",
         rep_srid="EPSG:4612", rep_scale="25000", rep_src_code="1", pos_oaza_cho_chome_code="302030004001"),
    dict(lg_code="302031", machiaza_id="0004001", rsdt_addr_flg="1", rep_lon="135.601147", rep_lat="34.315316",
         rep_srid="EPSG:4612", rep_scale="25000", rep_src_code="1", pos_oaza_cho_chome_code="302030004001"),
    dict(lg_code="465054", machiaza_id="0000122", rsdt_addr_flg="0", rep_lon="130.537", rep_lat="30.234",
         rep_srid="EPSG:6668", rep_src_code="2"),
]

HAKUSAN = dict(lg_code="131059", machiaza_id="0001001", city="文京区", oaza_cho="白山", chome="１丁目")
BLK_ROWS = [
    dict(HAKUSAN, blk_id="001", blk_num="1", rsdt_addr_flg="1", rsdt_addr_mtd_code="1", status_flg="0", efct_date=D,
         src_code="0"),
    dict(HAKUSAN, blk_id="002", blk_num="2", rsdt_addr_flg="1", rsdt_addr_mtd_code="1", status_flg="0", efct_date=D,
         src_code="0"),
]
BLK_POS_ROWS = [
    dict(lg_code="131059", machiaza_id="0001001", blk_id="001", rsdt_addr_flg="1", rsdt_addr_mtd_code="1",
         rep_lon="139.7524", rep_lat="35.7151", rep_srid="EPSG:6668", rep_scale="2500", rep_src_code="1",
         rsdt_addr_code_rdbl="http://gi.gsi.go.jp/jusho/13105/HKS-1/1"),
]


def rsdt(blk, blk_num, rsdt_id, num, rsdt2_id="", num2=""):
    return dict(HAKUSAN, blk_id=blk, rsdt_id=rsdt_id, rsdt2_id=rsdt2_id, blk_num=blk_num, rsdt_num=num,
                rsdt_num2=num2, basic_rsdt_div="0", rsdt_addr_flg="1", rsdt_addr_mtd_code="1", status_flg="0",
                efct_date=D, src_code="0")


RSDT_ROWS = [rsdt("001", "1", "001", "1"), rsdt("001", "1", "002", "2"), rsdt("002", "2", "001", "1"),
             rsdt("002", "2", "003", "3", "00101", "101")]
RSDT_POS_ROWS = [
    dict(lg_code="131059", machiaza_id="0001001", blk_id="001", rsdt_id="001", rsdt_addr_flg="1", rsdt_addr_mtd_code="1",
         rep_lon="139.752436911", rep_lat="35.715149108", rep_srid="EPSG:6668", rep_scale="2500", rep_src_code="1",
         rsdt_addr_code_rdbl="http://gi.gsi.go.jp/jusho/13105/HKS-1/1/1", rsdt_addr_data_mnt_date="2019-04-04",
         basic_rsdt_div="0"),
    dict(lg_code="131059", machiaza_id="0001001", blk_id="002", rsdt_id="003", rsdt2_id="00101", rsdt_addr_flg="1",
         rsdt_addr_mtd_code="1", rep_lon="139.75265", rep_lat="35.71517", rep_srid="EPSG:6668", rep_scale="2500",
         rep_src_code="1", basic_rsdt_div="1"),
]

KOSHIMA_LOT = dict(lg_code="465054", machiaza_id="0000122", city="屋久島町", koaza="小島", rsdt_addr_flg="0",
                   prc_rec_flg="1", efct_date=D, src_code="1")
PARCEL_ROWS = [dict(KOSHIMA_LOT, prc_id="000010000100000", prc_num1="1", prc_num2="1"),
               dict(KOSHIMA_LOT, prc_id="000010000200000", prc_num1="1", prc_num2="2")]
PARCEL_POS_ROWS = [
    dict(lg_code="465054", machiaza_id="0000122", prc_id="000010000100000", rep_lon="130.536991868",
         rep_lat="30.233963003", rep_srid="EPSG:6668", rep_scale="500", rep_src_code="1", moj_map_city_code="46505",
         moj_map_brushid="H000000012"),
    dict(lg_code="465054", machiaza_id="0000122", prc_id="000010000200000", rep_lon="130.537227091",
         rep_lat="30.233818506", rep_srid="EPSG:6668", rep_scale="1000", rep_src_code="1"),
]

#: file name → (columns, rows): one file of every kind, base files first
ALL = {
    "mt_pref_all.csv": (PREF, PREF_ROWS),
    "mt_pref_pos_all.csv": (LG_POS, [r for r in LG_POS_ROWS if r["lg_code"] == "130001"]),
    "mt_city_all.csv": (CITY, CITY_ROWS),
    "mt_city_pos_all.csv": (LG_POS, [r for r in LG_POS_ROWS if r["lg_code"] != "130001"]),
    "mt_town_all.csv": (TOWN, TOWN_ROWS),
    "mt_town_pos_all.csv": (TOWN_POS, TOWN_POS_ROWS),
    "mt_rsdtdsp_blk_city131059.csv": (BLK, BLK_ROWS),
    "mt_rsdtdsp_blk_pos_city131059.csv": (BLK_POS, BLK_POS_ROWS),
    "mt_rsdtdsp_rsdt_city131059.csv": (RSDT, RSDT_ROWS),
    "mt_rsdtdsp_rsdt_pos_city131059.csv": (RSDT_POS, RSDT_POS_ROWS),
    "mt_parcel_city465054.csv": (PARCEL, PARCEL_ROWS),
    "mt_parcel_pos_city465054.csv": (PARCEL_POS, PARCEL_POS_ROWS),
}


def write_all(directory: Path, names=None) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    return [write(directory / name, *ALL[name]) for name in (names or ALL)]
