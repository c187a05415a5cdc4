#!/usr/bin/env python3
"""Synthetic NTA corporate-number (法人番号) CSV of any size, for load benchmarks.

    python bench/gen_houjin.py --rows 1000000 --out /tmp/houjin.csv [--seed 1] [--encoding utf-8|cp932] [--munis K]

The rows look like the National Tax Agency's full download (全件データ): no header, the 30 columns
of ``loaders/houjin.py`` COLUMNS in order, text columns double-quoted and code/number/date
columns bare, one row per corporation (latest=1), sorted ascending by the 13-digit corporate
number, every number (and every successor number) with a valid check digit.

How sorted output is streamed without holding the numbers: a corporate number is
``check digit + base12`` and base12 = registry office (4) + organisation kind (2) + serial (6).
For a fixed 11-digit prefix exactly one last digit (0 or 9 share a residue) gives any wanted check
digit, so the file is produced check digit by check digit (1..9), registry office by registry
office (ascending), and only one (check digit, registry) bucket -- a few hundred rows -- is held
and sorted at a time. Memory stays flat whatever --rows is.

Deterministic for a given --seed (no hash()-ordered iteration anywhere).
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import random
import sys
import time
from pathlib import Path

try:
    from kg.rdf.checkdigits import corporate_number_check_digit, local_government_code
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from kg.rdf.checkdigits import corporate_number_check_digit, local_government_code

# ---- reference tables --------------------------------------------------------------------------
# (prefecture, prefecture kana, prefecture en, pref code, city, city kana, city en, city code, post prefix)
# The first rows are the heaviest (see _muni_weights); --munis K keeps the first K.
MUNICIPALITIES: tuple[tuple[str, str, str, str, str, str, str, str, str], ...] = (
    ("東京都", "トウキョウト", "Tokyo", "13", "千代田区", "チヨダク", "Chiyoda-ku", "101", "100"),
    ("東京都", "トウキョウト", "Tokyo", "13", "中央区", "チュウオウク", "Chuo-ku", "102", "104"),
    ("東京都", "トウキョウト", "Tokyo", "13", "港区", "ミナトク", "Minato-ku", "103", "105"),
    ("東京都", "トウキョウト", "Tokyo", "13", "新宿区", "シンジュクク", "Shinjuku-ku", "104", "160"),
    ("東京都", "トウキョウト", "Tokyo", "13", "文京区", "ブンキョウク", "Bunkyo-ku", "105", "113"),
    ("大阪府", "オオサカフ", "Osaka", "27", "大阪市北区", "オオサカシキタク", "Kita-ku, Osaka-shi", "127", "530"),
    ("和歌山県", "ワカヤマケン", "Wakayama", "30", "和歌山市", "ワカヤマシ", "Wakayama-shi", "201", "640"),
    ("東京都", "トウキョウト", "Tokyo", "13", "渋谷区", "シブヤク", "Shibuya-ku", "113", "150"),
    ("東京都", "トウキョウト", "Tokyo", "13", "品川区", "シナガワク", "Shinagawa-ku", "109", "141"),
    ("東京都", "トウキョウト", "Tokyo", "13", "台東区", "タイトウク", "Taito-ku", "106", "110"),
    ("東京都", "トウキョウト", "Tokyo", "13", "豊島区", "トシマク", "Toshima-ku", "116", "170"),
    ("東京都", "トウキョウト", "Tokyo", "13", "世田谷区", "セタガヤク", "Setagaya-ku", "112", "154"),
    ("東京都", "トウキョウト", "Tokyo", "13", "大田区", "オオタク", "Ota-ku", "111", "143"),
    ("東京都", "トウキョウト", "Tokyo", "13", "江東区", "コウトウク", "Koto-ku", "108", "135"),
    ("東京都", "トウキョウト", "Tokyo", "13", "八王子市", "ハチオウジシ", "Hachioji-shi", "201", "192"),
    ("大阪府", "オオサカフ", "Osaka", "27", "大阪市中央区", "オオサカシチュウオウク", "Chuo-ku, Osaka-shi", "128", "541"),
    ("大阪府", "オオサカフ", "Osaka", "27", "堺市堺区", "サカイシサカイク", "Sakai-ku, Sakai-shi", "141", "590"),
    ("大阪府", "オオサカフ", "Osaka", "27", "豊中市", "トヨナカシ", "Toyonaka-shi", "203", "560"),
    ("大阪府", "オオサカフ", "Osaka", "27", "吹田市", "スイタシ", "Suita-shi", "205", "564"),
    ("神奈川県", "カナガワケン", "Kanagawa", "14", "横浜市中区", "ヨコハマシナカク", "Naka-ku, Yokohama-shi", "104", "231"),
    ("神奈川県", "カナガワケン", "Kanagawa", "14", "横浜市西区", "ヨコハマシニシク", "Nishi-ku, Yokohama-shi", "103", "220"),
    ("神奈川県", "カナガワケン", "Kanagawa", "14", "川崎市川崎区", "カワサキシカワサキク", "Kawasaki-ku, Kawasaki-shi", "131", "210"),
    ("神奈川県", "カナガワケン", "Kanagawa", "14", "藤沢市", "フジサワシ", "Fujisawa-shi", "205", "251"),
    ("愛知県", "アイチケン", "Aichi", "23", "名古屋市中区", "ナゴヤシナカク", "Naka-ku, Nagoya-shi", "106", "460"),
    ("愛知県", "アイチケン", "Aichi", "23", "名古屋市中村区", "ナゴヤシナカムラク", "Nakamura-ku, Nagoya-shi", "105", "450"),
    ("愛知県", "アイチケン", "Aichi", "23", "豊田市", "トヨタシ", "Toyota-shi", "211", "471"),
    ("愛知県", "アイチケン", "Aichi", "23", "岡崎市", "オカザキシ", "Okazaki-shi", "202", "444"),
    ("北海道", "ホッカイドウ", "Hokkaido", "01", "札幌市中央区", "サッポロシチュウオウク", "Chuo-ku, Sapporo-shi", "101", "060"),
    ("北海道", "ホッカイドウ", "Hokkaido", "01", "札幌市北区", "サッポロシキタク", "Kita-ku, Sapporo-shi", "102", "001"),
    ("北海道", "ホッカイドウ", "Hokkaido", "01", "旭川市", "アサヒカワシ", "Asahikawa-shi", "204", "070"),
    ("北海道", "ホッカイドウ", "Hokkaido", "01", "函館市", "ハコダテシ", "Hakodate-shi", "202", "040"),
    ("福岡県", "フクオカケン", "Fukuoka", "40", "福岡市博多区", "フクオカシハカタク", "Hakata-ku, Fukuoka-shi", "132", "812"),
    ("福岡県", "フクオカケン", "Fukuoka", "40", "福岡市中央区", "フクオカシチュウオウク", "Chuo-ku, Fukuoka-shi", "133", "810"),
    ("福岡県", "フクオカケン", "Fukuoka", "40", "北九州市小倉北区", "キタキュウシュウシコクラキタク", "Kokurakita-ku, Kitakyushu-shi", "106", "802"),
    ("福岡県", "フクオカケン", "Fukuoka", "40", "久留米市", "クルメシ", "Kurume-shi", "203", "830"),
    ("京都府", "キョウトフ", "Kyoto", "26", "京都市中京区", "キョウトシナカギョウク", "Nakagyo-ku, Kyoto-shi", "104", "604"),
    ("京都府", "キョウトフ", "Kyoto", "26", "京都市下京区", "キョウトシシモギョウク", "Shimogyo-ku, Kyoto-shi", "106", "600"),
    ("京都府", "キョウトフ", "Kyoto", "26", "京都市南区", "キョウトシミナミク", "Minami-ku, Kyoto-shi", "107", "601"),
    ("兵庫県", "ヒョウゴケン", "Hyogo", "28", "神戸市中央区", "コウベシチュウオウク", "Chuo-ku, Kobe-shi", "110", "650"),
    ("兵庫県", "ヒョウゴケン", "Hyogo", "28", "姫路市", "ヒメジシ", "Himeji-shi", "201", "670"),
    ("兵庫県", "ヒョウゴケン", "Hyogo", "28", "西宮市", "ニシノミヤシ", "Nishinomiya-shi", "204", "662"),
    ("千葉県", "チバケン", "Chiba", "12", "千葉市中央区", "チバシチュウオウク", "Chuo-ku, Chiba-shi", "101", "260"),
    ("千葉県", "チバケン", "Chiba", "12", "千葉市美浜区", "チバシミハマク", "Mihama-ku, Chiba-shi", "106", "261"),
    ("千葉県", "チバケン", "Chiba", "12", "船橋市", "フナバシシ", "Funabashi-shi", "204", "273"),
    ("千葉県", "チバケン", "Chiba", "12", "匝瑳市", "ソウサシ", "Sosa-shi", "235", "289"),
    ("埼玉県", "サイタマケン", "Saitama", "11", "さいたま市大宮区", "サイタマシオオミヤク", "Omiya-ku, Saitama-shi", "103", "330"),
    ("埼玉県", "サイタマケン", "Saitama", "11", "川越市", "カワゴエシ", "Kawagoe-shi", "201", "350"),
    ("埼玉県", "サイタマケン", "Saitama", "11", "川口市", "カワグチシ", "Kawaguchi-shi", "203", "332"),
    ("宮城県", "ミヤギケン", "Miyagi", "04", "仙台市青葉区", "センダイシアオバク", "Aoba-ku, Sendai-shi", "101", "980"),
    ("広島県", "ヒロシマケン", "Hiroshima", "34", "広島市中区", "ヒロシマシナカク", "Naka-ku, Hiroshima-shi", "101", "730"),
    ("福井県", "フクイケン", "Fukui", "18", "福井市", "フクイシ", "Fukui-shi", "201", "910"),
    ("福井県", "フクイケン", "Fukui", "18", "鯖江市", "サバエシ", "Sabae-shi", "207", "916"),
    ("新潟県", "ニイガタケン", "Niigata", "15", "新潟市中央区", "ニイガタシチュウオウク", "Chuo-ku, Niigata-shi", "103", "951"),
    ("静岡県", "シズオカケン", "Shizuoka", "22", "静岡市葵区", "シズオカシアオイク", "Aoi-ku, Shizuoka-shi", "101", "420"),
    ("静岡県", "シズオカケン", "Shizuoka", "22", "沼津市", "ヌマヅシ", "Numazu-shi", "203", "410"),
    ("沖縄県", "オキナワケン", "Okinawa", "47", "那覇市", "ナハシ", "Naha-shi", "201", "900"),
    ("熊本県", "クマモトケン", "Kumamoto", "43", "熊本市中央区", "クマモトシチュウオウク", "Chuo-ku, Kumamoto-shi", "101", "860"),
    ("岡山県", "オカヤマケン", "Okayama", "33", "岡山市北区", "オカヤマシキタク", "Kita-ku, Okayama-shi", "101", "700"),
    ("長野県", "ナガノケン", "Nagano", "20", "長野市", "ナガノシ", "Nagano-shi", "201", "380"),
    ("長野県", "ナガノケン", "Nagano", "20", "松本市", "マツモトシ", "Matsumoto-shi", "202", "390"),
    ("石川県", "イシカワケン", "Ishikawa", "17", "金沢市", "カナザワシ", "Kanazawa-shi", "201", "920"),
    ("鹿児島県", "カゴシマケン", "Kagoshima", "46", "鹿児島市", "カゴシマシ", "Kagoshima-shi", "201", "890"),
    ("群馬県", "グンマケン", "Gunma", "10", "前橋市", "マエバシシ", "Maebashi-shi", "201", "371"),
    ("群馬県", "グンマケン", "Gunma", "10", "高崎市", "タカサキシ", "Takasaki-shi", "202", "370"),
    ("茨城県", "イバラキケン", "Ibaraki", "08", "水戸市", "ミトシ", "Mito-shi", "201", "310"),
    ("茨城県", "イバラキケン", "Ibaraki", "08", "つくば市", "ツクバシ", "Tsukuba-shi", "220", "305"),
    ("栃木県", "トチギケン", "Tochigi", "09", "宇都宮市", "ウツノミヤシ", "Utsunomiya-shi", "201", "320"),
    ("奈良県", "ナラケン", "Nara", "29", "奈良市", "ナラシ", "Nara-shi", "201", "630"),
    ("愛媛県", "エヒメケン", "Ehime", "38", "松山市", "マツヤマシ", "Matsuyama-shi", "201", "790"),
    ("香川県", "カガワケン", "Kagawa", "37", "高松市", "タカマツシ", "Takamatsu-shi", "201", "760"),
)

# (kanji, romaji): town / district names for street addresses
TOWNS = (
    ("本町", "Honcho"), ("中町", "Nakacho"), ("栄町", "Sakaecho"), ("旭町", "Asahicho"), ("緑町", "Midoricho"),
    ("幸町", "Saiwaicho"), ("東町", "Higashicho"), ("西町", "Nishimachi"), ("南町", "Minamicho"),
    ("北町", "Kitamachi"), ("新町", "Shinmachi"), ("元町", "Motomachi"), ("大手町", "Otemachi"),
    ("錦町", "Nishikicho"), ("駅前", "Ekimae"), ("宮前", "Miyamae"), ("桜台", "Sakuradai"), ("若葉", "Wakaba"),
    ("湯島", "Yushima"), ("新橋", "Shimbashi"), ("霞が関", "Kasumigaseki"), ("永田町", "Nagatacho"),
    ("日本橋", "Nihombashi"), ("銀座", "Ginza"), ("西新宿", "Nishishinjuku"), ("梅田", "Umeda"),
    ("天神", "Tenjin"), ("栄", "Sakae"), ("春日", "Kasuga"), ("高田", "Takada"), ("松原", "Matsubara"),
    ("青葉", "Aoba"), ("富士見", "Fujimi"), ("港南", "Konan"), ("芝", "Shiba"), ("赤坂", "Akasaka"),
    ("六本木", "Roppongi"), ("神田", "Kanda"), ("丸の内", "Marunouchi"), ("南麻布", "Minamiazabu"),
    ("新港", "Shinko"), ("東通", "Higashidori"), ("荏原", "Ebara"), ("大宮", "Omiya"), ("平和", "Heiwa"),
)
BUILDINGS = (("第一", "Daiichi"), ("中央", "Chuo"), ("センター", "Center"), ("サンシャイン", "Sunshine"),
             ("グランド", "Grand"), ("パーク", "Park"), ("ＫＳ", "KS"), ("日興", "Nikko"), ("三和", "Sanwa"))

# (kanji, kana, romaji) name stems
KANJI_STEMS = (
    ("山田", "ヤマダ", "Yamada"), ("田中", "タナカ", "Tanaka"), ("佐藤", "サトウ", "Sato"), ("鈴木", "スズキ", "Suzuki"),
    ("高橋", "タカハシ", "Takahashi"), ("伊藤", "イトウ", "Ito"), ("渡辺", "ワタナベ", "Watanabe"),
    ("中村", "ナカムラ", "Nakamura"), ("小林", "コバヤシ", "Kobayashi"), ("加藤", "カトウ", "Kato"),
    ("吉田", "ヨシダ", "Yoshida"), ("山本", "ヤマモト", "Yamamoto"), ("松本", "マツモト", "Matsumoto"),
    ("井上", "イノウエ", "Inoue"), ("木村", "キムラ", "Kimura"), ("林", "ハヤシ", "Hayashi"), ("清水", "シミズ", "Shimizu"),
    ("森", "モリ", "Mori"), ("池田", "イケダ", "Ikeda"), ("橋本", "ハシモト", "Hashimoto"), ("増田", "マスダ", "Masuda"),
    ("日本", "ニホン", "Nihon"), ("東京", "トウキョウ", "Tokyo"), ("大阪", "オオサカ", "Osaka"), ("関東", "カントウ", "Kanto"),
    ("関西", "カンサイ", "Kansai"), ("中央", "チュウオウ", "Chuo"), ("富士", "フジ", "Fuji"), ("東洋", "トウヨウ", "Toyo"),
    ("太平洋", "タイヘイヨウ", "Taiheiyo"), ("大和", "ヤマト", "Yamato"), ("三和", "サンワ", "Sanwa"),
    ("昭和", "ショウワ", "Showa"), ("新日本", "シンニホン", "Shin-Nihon"), ("北海", "ホッカイ", "Hokkai"),
    ("瀬戸", "セト", "Seto"), ("丸井", "マルイ", "Marui"), ("旭", "アサヒ", "Asahi"), ("光", "ヒカリ", "Hikari"),
    ("若葉", "ワカバ", "Wakaba"), ("緑", "ミドリ", "Midori"), ("桜", "サクラ", "Sakura"), ("青空", "アオゾラ", "Aozora"),
    ("南関東", "ミナミカントウ", "Minami-Kanto"), ("千葉", "チバ", "Chiba"), ("横浜", "ヨコハマ", "Yokohama"),
    ("名古屋", "ナゴヤ", "Nagoya"), ("京都", "キョウト", "Kyoto"), ("神戸", "コウベ", "Kobe"), ("九州", "キュウシュウ", "Kyushu"),
    ("日野", "ヒノ", "Hino"), ("三省", "サンセイ", "Sansei"), ("平和", "ヘイワ", "Heiwa"), ("共栄", "キョウエイ", "Kyoei"),
)
KANA_STEMS = (
    ("サンライズ", "Sunrise"), ("アーク", "Ark"), ("ソフィス", "Sofis"), ("エムケイ", "MK"), ("ケイエス", "KS"),
    ("テクノ", "Techno"), ("グローバル", "Global"), ("ネクスト", "Next"), ("ユニオン", "Union"), ("アルファ", "Alpha"),
    ("オメガ", "Omega"), ("ライフ", "Life"), ("ハート", "Heart"), ("スマイル", "Smile"), ("クリエイト", "Create"),
    ("フロンティア", "Frontier"), ("プラス", "Plus"), ("リンク", "Link"), ("ワールド", "World"), ("エコ", "Eco"),
    ("ミライ", "Mirai"), ("アース", "Earth"), ("ブライト", "Bright"), ("シーエス", "CS"), ("ジェイ", "J"),
    ("イスラ", "Isra"), ("ノーザン", "Northern"), ("パシフィック", "Pacific"), ("ステラ", "Stella"), ("ルミナ", "Lumina"),
)
# (kanji, kana, english) business words
BUSINESS = (
    ("商事", "ショウジ", "Shoji"), ("建設", "ケンセツ", "Construction"), ("工業", "コウギョウ", "Industries"),
    ("電機", "デンキ", "Electric"), ("物産", "ブッサン", "Bussan"), ("不動産", "フドウサン", "Real Estate"),
    ("運輸", "ウンユ", "Transport"), ("食品", "ショクヒン", "Foods"), ("設計", "セッケイ", "Design Office"),
    ("興業", "コウギョウ", "Kogyo"), ("産業", "サンギョウ", "Sangyo"), ("自動車", "ジドウシャ", "Motors"),
    ("医療器", "イリョウキ", "Medical"), ("製作所", "セイサクショ", "Works"), ("技研", "ギケン", "Giken"),
    ("企画", "キカク", "Planning"), ("システム", "システム", "System"), ("サービス", "サービス", "Service"),
    ("ホールディングス", "ホールディングス", "Holdings"), ("コンサルティング", "コンサルティング", "Consulting"),
    ("エンジニアリング", "エンジニアリング", "Engineering"), ("トレーディング", "トレーディング", "Trading"),
    ("デザイン", "デザイン", "Design"), ("ホーム", "ホーム", "Home"), ("塗装", "トソウ", "Painting"),
    ("電設", "デンセツ", "Densetsu"), ("鉄工所", "テッコウショ", "Iron Works"), ("印刷", "インサツ", "Printing"),
    ("観光", "カンコウ", "Tourism"), ("薬局", "ヤッキョク", "Pharmacy"), ("水産", "スイサン", "Marine Products"),
    ("農園", "ノウエン", "Farm"), ("電子", "デンシ", "Electronics"), ("精機", "セイキ", "Seiki"),
)
# kind -> (legal form, form position prefix probability, english suffix)
COMPANY_FORMS = {
    "301": ("株式会社", 0.4, "Co., Ltd."), "302": ("有限会社", 0.5, "Ltd."), "303": ("合名会社", 0.3, "General Partnership"),
    "304": ("合資会社", 0.3, "Limited Partnership"), "305": ("合同会社", 0.5, "LLC"),
}
# kind 399: (form, [(suffix, kana)], english form)
OTHER_FORMS = (
    ("一般社団法人", (("協会", "キョウカイ"), ("振興会", "シンコウカイ"), ("研究会", "ケンキュウカイ")), "General Incorporated Association"),
    ("一般財団法人", (("財団", "ザイダン"), ("記念財団", "キネンザイダン")), "General Incorporated Foundation"),
    ("特定非営利活動法人", (("ネットワーク", "ネットワーク"), ("の会", "ノカイ"), ("支援センター", "シエンセンター")), "NPO"),
    ("医療法人社団", (("会", "カイ"), ("医院", "イイン"), ("クリニック", "クリニック")), "Medical Corporation"),
    ("社会福祉法人", (("福祉会", "フクシカイ"), ("会", "カイ")), "Social Welfare Corporation"),
    ("宗教法人", (("寺", "ジ"), ("神社", "ジンジャ"), ("教会", "キョウカイ")), "Religious Corporation"),
    ("学校法人", (("学園", "ガクエン"), ("学院", "ガクイン")), "School Corporation"),
)
OTHER_SUFFIXES_499 = (("自治会", "ジチカイ"), ("町内会", "チョウナイカイ"), ("管理組合", "カンリクミアイ"),
                      ("マンション管理組合", "マンションカンリクミアイ"), ("親睦会", "シンボクカイ"))
NATIONAL = (("税務署", "ゼイムショ", "Tax Office"), ("公共職業安定所", "コウキョウショクギョウアンテイジョ", "Public Employment Security Office"),
            ("年金事務所", "ネンキンジムショ", "Pension Office"), ("簡易裁判所", "カンイサイバンショ", "Summary Court"),
            ("地方法務局", "チホウホウムキョク", "District Legal Affairs Bureau"), ("事務局", "ジムキョク", "Secretariat"))
UNIONS_201 = (("広域行政事務組合", "コウイキギョウセイジムクミアイ", "Wide-Area Administrative Union"),
              ("衛生組合", "エイセイクミアイ", "Sanitation Union"), ("消防組合", "ショウボウクミアイ", "Fire Defense Union"),
              ("環境施設組合", "カンキョウシセツクミアイ", "Environmental Facilities Union"))
FOREIGN = (("アメリカ合衆国、カリフォルニア州、サンフランシスコ、マーケットストリート", "Market Street, San Francisco, California, U.S.A."),
           ("大韓民国、ソウル特別市、江南区、テヘラン路", "Teheran-ro, Gangnam-gu, Seoul, Republic of Korea"),
           ("中華人民共和国、上海市、浦東新区、世紀大道", "Century Avenue, Pudong, Shanghai, China"),
           ("シンガポール共和国、ラッフルズプレイス", "Raffles Place, Singapore"),
           ("スリランカ民主社会主義共和国、コロンボ、ゴールロード", "Galle Road, Colombo, Sri Lanka"))
FOREIGN_SUFFIX = (("ＬＩＭＩＴＥＤ", "リミテッド", "LIMITED"), ("ＩＮＣ．", "インク", "INC."),
                  ("ＣＯ．，ＬＴＤ．", "カンパニーリミテッド", "CO., LTD."), ("ＧＭＢＨ", "ゲーエムベーハー", "GMBH"),
                  ("", "", ""))

# kinds (weights like the NTA daily diff; 101/201 live in registry 0000, see _public_bucket)
KINDS_REGISTERED = (("301", 60.0), ("302", 17.0), ("399", 15.0), ("305", 9.0), ("401", 0.4), ("499", 0.3),
                    ("303", 0.1), ("304", 0.2))
ORG_OF_KIND = {"301": "01", "302": "02", "303": "03", "304": "03", "305": "03", "401": "03", "399": "05", "499": "05"}
PUBLIC_SHARE = 0.004          # 101 + 201 rows (registry 0000)
CLOSED_SHARE = 0.05
CLOSE_CAUSES = (("01", 0.6), ("11", 0.15), ("21", 0.15), ("31", 0.10))
OPEN_PROCESSES = (("01", 0.72), ("12", 0.14), ("11", 0.10), ("71", 0.02), ("22", 0.01), ("13", 0.01))
ENGLISH_SHARE = 0.03
HIHYOJI_SHARE = 0.001
CORRECT_SHARE = 0.03

FW = str.maketrans("0123456789", "０１２３４５６７８９")
KANJI_DIGITS = "〇一二三四五六七八九"
FIRST_DAY = dt.date(2015, 10, 5)
LAST_DAY = dt.date(2024, 12, 27)
NDAYS = (LAST_DAY - FIRST_DAY).days + 1
ISO = [(FIRST_DAY + dt.timedelta(days=i)).isoformat() for i in range(NDAYS)]
TEXT_COLUMNS = frozenset((6, 9, 10, 11, 16, 21, 24, 25, 26, 27, 28))  # quoted like the NTA file


def fw(n: int) -> str:
    return str(n).translate(FW)


def kanji_number(n: int) -> str:
    """1..99 in kanji numerals (for 丁目 in merger texts: 新橋五丁目)."""
    if n < 10:
        return KANJI_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else KANJI_DIGITS[tens]) + "十" + (KANJI_DIGITS[ones] if ones else "")


def wareki(day: int) -> str:
    """Day index → 令和３年７月１日 / 平成２９年４月１日."""
    d = FIRST_DAY + dt.timedelta(days=day)
    if d >= dt.date(2019, 5, 1):
        era, year = "令和", d.year - 2018
    else:
        era, year = "平成", d.year - 1988
    return f"{era}{'元' if year == 1 else fw(year)}年{fw(d.month)}月{fw(d.day)}日"


def _partial_sum(digits: str, first_n: int) -> int:
    """Check-digit weighted sum of ``digits`` whose last digit is position ``first_n`` from the right."""
    total = 0
    n = first_n + len(digits) - 1
    for ch in digits:
        total += (ord(ch) - 48) * (2 if n % 2 == 0 else 1)
        n -= 1
    return total


def _muni_weights(k: int) -> list[float]:
    """Zipf-like weights whose head gets ~10% of rows (for k >= 10)."""
    if k <= 1:
        return [1.0]
    target = 0.10 if k >= 10 else 1.5 / k
    lo, hi = 0.0, 3.0
    for _ in range(60):
        s = (lo + hi) / 2
        w = [1 / (i + 1) ** s for i in range(k)]
        if w[0] / sum(w) > target:
            hi = s
        else:
            lo = s
    return [1 / (i + 1) ** lo for i in range(k)]


def _geometric_weights(k: int) -> list[float]:
    """Each municipality gets 0.9x the rows of the one before: with 70 of them the head has ~10%,
    the 22nd ~1% and the last ~0.07% -- pages of ~100k, ~10k and ~1k corporations at 1M rows."""
    return [0.9 ** i for i in range(k)]


def _cum(weights):
    return list(itertools.accumulate(weights))


class Generator:
    def __init__(self, seed: int, munis: int | None, spread: str = "zipf"):
        self.rng = random.Random(seed)
        table = MUNICIPALITIES[:munis] if munis else MUNICIPALITIES
        if not table:
            raise ValueError("--munis must be at least 1")
        self.munis = table
        self.muni_cum = _cum((_geometric_weights if spread == "geometric" else _muni_weights)(len(table)))
        self.kind_names = [k for k, _ in KINDS_REGISTERED]
        self.kind_cum = _cum([w for _, w in KINDS_REGISTERED])
        self.close_cum = _cum([w for _, w in CLOSE_CAUSES])
        self.open_cum = _cum([w for _, w in OPEN_PROCESSES])
        # registry offices (登記所コード): 0000 is reserved for public bodies (101/201)
        rng = random.Random(seed * 7919 + 1)
        regs = []
        for area in range(1, 100):
            for office in range(rng.randint(1, 6)):
                weight = rng.lognormvariate(0, 1) * (6.0 if area == 1 else 1.0)
                regs.append((f"{area:02d}{office:02d}", weight))
        self.registries = regs
        # 地方公共団体 with a code: 000020 + 6-digit lg_code (prefectures and non-ward municipalities)
        lg = {}
        for m in table:
            pcode = m[3]
            lg.setdefault(local_government_code(pcode + "000"), (m[0], m[1], m))
            if not ("市" in m[4][:-1] and m[4].endswith("区")):  # wards of designated cities are no bodies
                lg.setdefault(local_government_code(pcode + m[7]), (m[4], m[5], m))
        self.lg_bodies: dict[int, list[tuple[str, tuple]]] = {c: [] for c in range(1, 10)}
        for code6 in sorted(lg):
            base = "000020" + code6
            self.lg_bodies[corporate_number_check_digit(base)].append((base, lg[code6]))

    # ---- numbers -------------------------------------------------------------------------------
    def _fix(self, prefix11: str, check: int) -> str:
        """The base12 = prefix11 + the one digit that gives ``check``."""
        r = (9 - check - _partial_sum(prefix11, 2)) % 9
        d = r if r or self.rng.random() < 0.5 else 9
        return prefix11 + str(d)

    def random_number(self) -> str:
        """A valid corporate number of a registered corporation (successors, merged partners)."""
        rng = self.rng
        reg = self.registries[rng.randrange(len(self.registries))][0]
        prefix = reg + rng.choice(("01", "01", "01", "02", "03")) + f"{rng.randrange(100000):05d}"
        check = rng.randint(1, 9)
        base = self._fix(prefix, check)
        return f"{corporate_number_check_digit(base)}{base}"

    # ---- rows ----------------------------------------------------------------------------------
    def rows(self, total: int):
        """Yield the 30-column rows (lists of str), sorted by corporate number."""
        # bucket sizes: (check digit, registry) in output order, exact total
        buckets: list[tuple[int, str, float]] = []
        reg_total = sum(w for _, w in self.registries)
        for check in range(1, 10):
            buckets.append((check, "0000", PUBLIC_SHARE / 9))
            for reg, w in self.registries:
                buckets.append((check, reg, (1 - PUBLIC_SHARE) / 9 * w / reg_total))
        cum = 0.0
        done = 0
        for check, reg, w in buckets:
            cum += w
            upto = min(total, round(cum * total))
            count = upto - done
            done = upto
            if count <= 0:
                continue
            if reg == "0000":
                items = self._public_bucket(check, count)
            else:
                items = self._registered_bucket(check, reg, count)
            for base, kind, body in items:
                number = f"{check}{base}"
                yield self._row(number, kind, body)
        assert done == total, (done, total)

    def _registered_bucket(self, check: int, reg: str, count: int):
        rng = self.rng
        kinds = rng.choices(self.kind_names, cum_weights=self.kind_cum, k=count)
        by_org: dict[str, list[str]] = {}
        for kind in kinds:
            by_org.setdefault(ORG_OF_KIND[kind], []).append(kind)
        items = []
        reg_sum = _partial_sum(reg, 9)
        for org in sorted(by_org):
            ks = by_org[org]
            if len(ks) > 100000:
                raise ValueError(f"{len(ks):,} rows for registry {reg}/{org} exceed its 100,000 serials; "
                                 f"--rows is too large for the built-in registry table (keep it under ~40M)")
            serials = sorted(rng.sample(range(100000), len(ks)))
            org_sum = reg_sum + _partial_sum(org, 7)
            for serial, kind in zip(serials, ks):
                s5 = f"{serial:05d}"
                r = (9 - check - org_sum - _partial_sum(s5, 2)) % 9
                d = r if r or rng.random() < 0.5 else 9
                items.append((f"{reg}{org}{s5}{d}", kind, None))
        return items

    def _public_bucket(self, check: int, count: int):
        """Registry 0000: national organs (0000 11/12/13...) and local public bodies (000020/000030...)."""
        rng = self.rng
        n101 = sum(1 for _ in range(count) if rng.random() < 0.15)
        n201 = count - n101
        lg = self.lg_bodies[check]
        n_lg = min(len(lg), n201 // 2 + (n201 % 2))
        items = [(base, "201", body) for base, body in rng.sample(lg, n_lg)]
        used = {base for base, _, _ in items}
        for kind, orgs, n in (("101", ("11", "12", "13"), n101), ("201", ("30",), n201 - n_lg)):
            while n:
                org = rng.choice(orgs)
                base = self._fix(f"0000{org}{rng.randrange(100000):05d}", check)
                if base in used:
                    continue
                used.add(base)
                items.append((base, kind, None))
                n -= 1
        items.sort()
        return items

    def _muni(self):
        return self.munis[bisect.bisect_left(self.muni_cum, self.rng.random() * self.muni_cum[-1])]

    def _street(self):
        """(streetNumber in full-width, english street part, chome, banchi, go)."""
        rng = self.rng
        town, town_en = rng.choice(TOWNS)
        style = rng.random()
        a, b, c = rng.randint(1, 9), rng.randint(1, 40), rng.randint(1, 30)
        if style < 0.45:
            jp, en, parts = f"{town}{fw(a)}丁目{fw(b)}番{fw(c)}号", f"{a}-{b}-{c} {town_en}", (a, b, c)
        elif style < 0.75:
            jp, en, parts = f"{town}{fw(a)}丁目{fw(b)}－{fw(c)}", f"{a}-{b}-{c} {town_en}", (a, b, c)
        elif style < 0.9:
            b = rng.randint(1, 2500)
            jp, en, parts = f"{town}{fw(b)}番地", f"{b} {town_en}", (None, b, None)
        else:
            b = rng.randint(1, 2500)
            jp, en, parts = f"{town}{fw(b)}番地{fw(c)}", f"{b}-{c} {town_en}", (None, b, c)
        extra = rng.random()
        if extra < 0.12:
            bld, bld_en = rng.choice(BUILDINGS)
            floor = rng.randint(1, 12)
            jp += f"{bld}ビル{fw(floor)}階"
            en = f"{bld_en} Bldg. {floor}F, {en}"
        elif extra < 0.18 and style < 0.45:
            room = rng.randint(101, 1205)
            jp += f"－{fw(room)}"
            en = f"{en}-{room}"
        return town, jp, en, parts

    def _address_text(self, muni, town, parts, jp_street) -> str:
        """Address as written in merger texts: 東京都港区新橋五丁目１８番１号."""
        a, b, c = parts
        if a is None:
            return f"{muni[0]}{muni[4]}{jp_street}"
        return f"{muni[0]}{muni[4]}{town}{kanji_number(a)}丁目{fw(b)}番{fw(c)}号"

    def _company_name(self, kind: str):
        """(name, furigana, english name)."""
        rng = self.rng
        if kind in COMPANY_FORMS:
            form, prefix_p, en_form = COMPANY_FORMS[kind]
            r = rng.random()
            if r < 0.45:
                stem, kana, en = rng.choice(KANJI_STEMS)
                word, wkana, wen = rng.choice(BUSINESS)
                core, core_kana, core_en = stem + word, kana + wkana, f"{en} {wen}"
            elif r < 0.8:
                stem, en = rng.choice(KANA_STEMS)
                word, wkana, wen = rng.choice(BUSINESS)
                core, core_kana, core_en = stem + word, stem + wkana, f"{en} {wen}"
            elif r < 0.92:
                (s1, k1, e1), (s2, k2, e2) = rng.choice(KANJI_STEMS), rng.choice(KANJI_STEMS)
                core, core_kana, core_en = s1 + s2, k1 + k2, f"{e1} {e2}"
            else:
                stem, en = rng.choice(KANA_STEMS)
                core, core_kana, core_en = stem, stem, en
            name = form + core if rng.random() < prefix_p else core + form
            return name, core_kana, f"{core_en} {en_form}"
        if kind == "399":
            form, suffixes, en_form = rng.choice(OTHER_FORMS)
            stem, kana, en = rng.choice(KANJI_STEMS)
            suf, skana = rng.choice(suffixes)
            return form + stem + suf, kana + skana, f"{en_form} {en}"
        if kind == "499":
            stem, kana, en = rng.choice(KANJI_STEMS)
            suf, skana = rng.choice(OTHER_SUFFIXES_499)
            return stem + suf, kana + skana, f"{en} Association"
        if kind == "401":
            stem, en = rng.choice(KANA_STEMS)
            word, wkana, wen = rng.choice(BUSINESS)
            suf, skana, sen = rng.choice(FOREIGN_SUFFIX)
            latin = f"{en} {wen}".upper()
            full = latin.translate(_FULLWIDTH) + ("　" + suf if suf else "")
            return full, stem + wkana + skana, latin + (" " + sen if sen else "")
        raise ValueError(kind)

    def _row(self, number: str, kind: str, body) -> list[str]:
        rng = self.rng
        row = [""] * 30
        row[1] = number
        row[8] = kind
        row[23] = "1"
        row[29] = "1" if rng.random() < HIHYOJI_SHARE else "0"
        row[3] = "1" if rng.random() < CORRECT_SHARE else "0"
        # where
        if body is not None:
            name, kana, muni = body
            en_name = f"{muni[2]} Prefecture" if name == muni[0] else muni[6].split(",")[-1].strip().replace("-shi", " City").replace("-ku", " City")
        else:
            muni = self._muni()
        domestic = not (kind == "401" and rng.random() < 0.3)
        town, street, street_en, parts = self._street()
        if domestic:
            row[9], row[10], row[11] = muni[0], muni[4], street
            row[13], row[14] = muni[3], muni[7]
            row[15] = f"{muni[8]}{rng.randrange(10000):04d}"
        if kind == "401" and (not domestic or rng.random() < 0.5):
            place, place_en = rng.choice(FOREIGN)
            no = rng.randint(1, 999)
            row[16] = f"{place}{fw(no)}"
            if rng.random() < 0.3:
                row[27] = f"{no} {place_en}"
        # who
        if body is None:
            if kind == "101":
                suf, skana, sen = rng.choice(NATIONAL)
                name, kana, en_name = muni[4][:-1] + suf, muni[5][:-1] + skana, f"{_place_en(muni)} {sen}"
            elif kind == "201":
                suf, skana, sen = rng.choice(UNIONS_201)
                name, kana, en_name = muni[4][:-1] + suf, muni[5][:-1] + skana, f"{_place_en(muni)} {sen}"
            else:
                name, kana, en_name = self._company_name(kind)
        row[6], row[28] = name, kana
        if rng.random() < 0.0005:
            row[7] = f"{rng.randrange(10**7, 10**8)}"
        if rng.random() < ENGLISH_SHARE and domestic:
            row[24] = en_name
            row[25] = muni[2]
            row[26] = f"{street_en}, {muni[6]}"
        # when
        if rng.random() < 0.72 or body is not None or kind == "101":
            assigned = 0
        else:
            assigned = rng.randrange(1, NDAYS - 30)
        row[22] = ISO[assigned]
        closed = kind not in ("101", "201") and rng.random() < CLOSED_SHARE
        if closed:
            process = "21"
        else:
            process = OPEN_PROCESSES[bisect.bisect_left(self.open_cum, rng.random() * self.open_cum[-1])][0]
            if process == "13" and not row[16]:
                process = "12"
        if process == "01":
            change = assigned
        else:
            change = rng.randrange(assigned, NDAYS - 1) if assigned < NDAYS - 1 else assigned
        update = min(NDAYS - 1, change + rng.randrange(0, 21))
        if process == "01" and assigned == 0 and rng.random() < 0.7:
            update = 0
        row[2], row[5], row[4] = process, ISO[change], ISO[update]
        if closed:
            cause = CLOSE_CAUSES[bisect.bisect_left(self.close_cum, rng.random() * self.close_cum[-1])][0]
            row[18], row[19] = ISO[change], cause
            if cause == "11":
                succ = self.random_number()
                other = self._muni()
                otown, ostreet, _, oparts = self._street()
                oname, _, _ = self._company_name("301")
                row[20] = succ
                row[21] = (f"{wareki(max(0, change - rng.randrange(0, 12)))}"
                           f"{self._address_text(other, otown, oparts, ostreet)}{oname}（{succ}）に合併し解散")
        elif process == "71":
            other = self._muni()
            otown, ostreet, _, oparts = self._street()
            oname, _, _ = self._company_name("301")
            row[21] = (f"{wareki(change)}{self._address_text(other, otown, oparts, ostreet)}"
                       f"{oname}（{self.random_number()}）を合併")
        return row


def _place_en(muni) -> str:
    """Chiyoda-ku → Chiyoda, 'Kita-ku, Osaka-shi' → Osaka Kita."""
    parts = [p.strip().rsplit("-", 1)[0] for p in muni[6].split(",")]
    return " ".join(reversed(parts))


_FULLWIDTH = {i: i + 0xFEE0 for i in range(0x21, 0x7F)}
_FULLWIDTH[0x20] = 0x3000


def format_row(seq: int, row: list[str]) -> str:
    row[0] = str(seq)
    out = []
    for i, value in enumerate(row):
        if value and i in TEXT_COLUMNS:
            out.append('"' + value.replace('"', '""') + '"')
        else:
            out.append(value)
    return ",".join(out) + "\n"


def generate(rows: int, out: Path, *, seed: int = 1, encoding: str = "utf-8", munis: int | None = None,
             spread: str = "zipf") -> int:
    gen = Generator(seed, munis, spread)
    written = 0
    with open(out, "w", encoding=encoding, newline="", buffering=1 << 20) as fh:
        chunk: list[str] = []
        for seq, row in enumerate(gen.rows(rows), 1):
            chunk.append(format_row(seq, row))
            if len(chunk) >= 10000:
                fh.write("".join(chunk))
                chunk = []
            written = seq
        fh.write("".join(chunk))
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, required=True, help="number of corporations (rows)")
    ap.add_argument("--out", type=Path, required=True, help="output CSV file")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--encoding", choices=("utf-8", "cp932"), default="utf-8",
                    help="utf-8 = Unicode版, cp932 = Shift_JIS版")
    ap.add_argument("--munis", type=int, default=None,
                    help=f"use only the first K of the {len(MUNICIPALITIES)} built-in municipalities")
    ap.add_argument("--spread", choices=("zipf", "geometric"), default="zipf",
                    help="rows per municipality: zipf (head ~10%%, tail ~0.6%%) or geometric (each 0.9x the one "
                         "before: at 1M rows municipalities of ~100k, ~10k and ~1k corporations)")
    args = ap.parse_args(argv)
    if args.rows < 1:
        ap.error("--rows must be positive")
    if args.munis is not None and not 1 <= args.munis <= len(MUNICIPALITIES):
        ap.error(f"--munis must be 1..{len(MUNICIPALITIES)}")
    t0 = time.perf_counter()
    n = generate(args.rows, args.out, seed=args.seed, encoding=args.encoding, munis=args.munis, spread=args.spread)
    print(f"{args.out}: {n:,} rows, {args.out.stat().st_size / 1e6:,.1f} MB, {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
