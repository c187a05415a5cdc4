"""Example queries for the query UI and the home page; each must return rows on the demo data.

``datasets`` names what an example needs; the test runs every example whose datasets the demo
loads, and the UI shows them all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    slug: str
    title: str
    description: str
    query: str
    datasets: tuple[str, ...]


EXAMPLES: tuple[Example, ...] = (
    Example("corporation-by-number", "法人番号で法人を引く / A corporation by its number",
            "The current name, kind, status and address of 国税庁 (corporate number 7000012050002).",
            """SELECT ?name ?kind ?status ?address WHERE {
  corp:7000012050002 rov:legalName ?name ;
      rov:orgType/skos:prefLabel ?kind ;
      rov:orgStatus/skos:prefLabel ?status ;
      locn:address/locn:fullAddress ?address .
  FILTER(lang(?kind) = "ja" && lang(?status) = "ja")
}""", ("houjin",)),
    Example("corporations-per-kind", "法人種別ごとの法人数 / Corporations per kind",
            "How many corporations of each kind (株式会社, 合同会社, 地方公共団体, …) are loaded, read from the "
            "statistics each load keeps (graph:statistics, an RDF Data Cube): counting five million corporations "
            "live takes minutes, these cells answer at once.",
            """SELECT ?kind (SUM(?n) AS ?corporations) WHERE {
  GRAPH graph:statistics {
    ?cell qb:dataSet stat:corporations-per-prefecture-kind-status ; kg:refKind ?k ; kg:corporations ?n }
  ?k skos:prefLabel ?kind FILTER(lang(?kind) = "ja")
} GROUP BY ?kind ORDER BY DESC(?corporations)""", ("houjin",)),
    Example("per-prefecture-and-kind", "都道府県・種別ごとの法人数 / Corporations per prefecture and kind",
            "Corporations per prefecture and kind, active and closed, from the load-time statistics "
            "(the same as COUNT over ?c kg:prefecture ?p ; rov:orgType ?k, without reading every corporation).",
            """SELECT ?prefecture ?kind ?status ?corporations WHERE {
  GRAPH graph:statistics {
    ?cell qb:dataSet stat:corporations-per-prefecture-kind-status ; kg:corporations ?corporations .
    OPTIONAL { ?cell kg:refPrefecture ?prefecture }
    OPTIONAL { ?cell kg:refKind ?kind }
    OPTIONAL { ?cell kg:refStatus ?status } }
} ORDER BY ?prefecture ?kind ?status""", ("houjin",)),
    Example("closures-per-year", "年ごとの閉鎖数 / Closures per year",
            "Registration records closed each year (kg:closeDate), by close cause (清算の結了, 合併, …), from the "
            "load-time statistics.",
            """SELECT ?year ?cause (SUM(?n) AS ?closures) WHERE {
  GRAPH graph:statistics { ?cell qb:dataSet stat:closures-per-year ; kg:refYear ?year ; kg:closures ?n .
                           OPTIONAL { ?cell kg:refCloseCause ?c } }
  OPTIONAL { ?c skos:prefLabel ?cause FILTER(lang(?cause) = "ja") }
} GROUP BY ?year ?cause ORDER BY ?year ?cause""", ("houjin",)),
    Example("mergers", "合併と承継先 / Mergers and successors",
            "Corporations closed by merger, with the corporation that succeeded them and the NTA's text.",
            """SELECT ?closed ?name ?successor ?successorName ?date ?details WHERE {
  ?closed kg:successor ?successor ; rov:legalName ?name ; kg:closeDate ?date .
  OPTIONAL { ?successor rov:legalName ?successorName FILTER(lang(?successorName) = "ja") }
  OPTIONAL { ?closed kg:changeCause ?details }
  FILTER(lang(?name) = "ja")
} ORDER BY DESC(?date)""", ("houjin",)),
    Example("history", "法人の変更履歴 / A corporation's history",
            "Past states of a corporation published by the NTA (rows with latest=0), newest first.",
            """SELECT ?corporation ?process ?changed ?name WHERE {
  ?record prov:specializationOf ?corporation ; kg:process/skos:prefLabel ?process ; rov:legalName ?name .
  OPTIONAL { ?record kg:changeDate ?changed }
  FILTER(lang(?process) = "ja" && lang(?name) = "ja")
} ORDER BY ?corporation DESC(?changed)""", ("houjin",)),
    Example("per-municipality", "市区町村ごとの法人数 / Corporations per municipality",
            "Corporations per municipality (the IRI minted from their 都道府県コード and 市区町村コード), and how many "
            "of them matched a 町字 of the Address Base Registry, from the load-time statistics.",
            """SELECT ?municipality ?name ?corporations ?linkedToTown WHERE {
  GRAPH graph:statistics {
    ?cell qb:dataSet stat:corporations-per-municipality ; kg:refMunicipality ?municipality ;
          kg:corporations ?corporations .
    OPTIONAL { ?linked qb:dataSet stat:corporations-linked-to-town-per-municipality ;
                       kg:refMunicipality ?municipality ; kg:corporations ?linkedToTown } }
  OPTIONAL { ?municipality rdfs:label ?name FILTER(lang(?name) = "ja") }
} ORDER BY DESC(?corporations)""", ("houjin",)),
    Example("local-governments", "地方公共団体 / Local governments",
            "Corporations of kind 201 (地方公共団体); their numbers are 000020 + the 全国地方公共団体コード.",
            """SELECT ?c ?name ?lgCode WHERE {
  ?c rov:orgType/skos:notation "201" ; rov:legalName ?name ; dcterms:identifier ?number .
  BIND(SUBSTR(?number, 8, 6) AS ?lgCode)
  FILTER(lang(?name) = "ja")
} ORDER BY ?lgCode""", ("houjin",)),
    Example("english-names", "英語表記のある法人 / Corporations with English names",
            "Corporations that registered an English name, with their Japanese name and furigana.",
            """SELECT ?c ?english ?japanese ?kana WHERE {
  ?c rov:legalName ?english , ?japanese .
  FILTER(lang(?english) = "en" && lang(?japanese) = "ja")
  OPTIONAL { ?c rdfs:label ?kana FILTER(lang(?kana) = "ja-hrkt") }
}""", ("houjin",)),
    Example("towns-with-points", "町字と代表点 / Towns and their points",
            "The 町字 of 文京区 with their representative points (GeoSPARQL WKT, in the CRS the ABR row names).",
            """SELECT ?town ?name ?wkt WHERE {
  ?town a kg:Town ; dcterms:isPartOf muni:131059 ; rdfs:label ?name .
  OPTIONAL { ?town geo:hasGeometry/geo:asWKT ?wkt }
  FILTER(lang(?name) = "ja")
} ORDER BY ?name""", ("abr",)),
    Example("corporations-in-towns", "町字ごとの法人 / Corporations by town",
            "Corporations whose registered address matched an ABR town, with the town and its coordinates.",
            """SELECT ?corporation ?name ?town ?townName ?wkt WHERE {
  ?corporation kg:town ?town ; rov:legalName ?name .
  ?town rdfs:label ?townName .
  OPTIONAL { ?town geo:hasGeometry/geo:asWKT ?wkt }
  FILTER(lang(?name) = "ja" && lang(?townName) = "ja")
}""", ("houjin", "abr")),
    Example("address-match-rate", "住所照合の水準 / How far addresses matched",
            "Corporations counted by how far their street address matched the Address Base Registry "
            "(町字, 大字 or only the municipality), read from the statistics each load keeps: the same COUNT over "
            "every corporation's kg:addressMatchLevel takes minutes at the NTA's 5.3 million.",
            """SELECT ?level (SUM(?n) AS ?corporations) WHERE {
  GRAPH graph:statistics {
    ?cell qb:dataSet stat:corporations-per-address-match-level ; kg:refMatchLevel ?l ; kg:corporations ?n }
  ?l skos:prefLabel ?level FILTER(lang(?level) = "ja")
} GROUP BY ?level ORDER BY DESC(?corporations)""", ("houjin", "abr")),
    Example("local-government-areas", "地方公共団体と区域 / Local governments and their areas",
            "Local government corporations linked to the municipality or prefecture they govern, with its point.",
            """SELECT ?government ?name ?area ?areaName ?wkt WHERE {
  ?government kg:localGovernmentArea ?area ; rov:legalName ?name .
  ?area rdfs:label ?areaName .
  OPTIONAL { ?area geo:hasGeometry/geo:asWKT ?wkt }
  FILTER(lang(?name) = "ja" && lang(?areaName) = "ja")
}""", ("houjin", "abr")),
    Example("article-text", "条文を読む / Read an article",
            "The text of each paragraph of 国旗及び国歌に関する法律 (law ID 411AC0000000127), in order.",
            """SELECT ?paragraph ?text WHERE {
  ?law dcterms:identifier "411AC0000000127" .
  ?paragraph eli:is_part_of+ ?law ; kg:text ?text .
} ORDER BY ?paragraph""", ("laws",)),
    Example("laws-and-revisions", "法令と改正履歴 / Laws and their revisions",
            "Each law with its 法令番号, promulgation date and the revision whose text is loaded.",
            """SELECT ?law ?title ?number ?promulgated ?revision WHERE {
  ?law a eli:LegalResource ; dcterms:title ?title ; eli:number ?number .
  OPTIONAL { ?law eli:date_document ?promulgated }
  OPTIONAL { ?law kg:textRevision ?revision }
} ORDER BY ?promulgated""", ("laws",)),
    Example("load-provenance", "読込の出典 / Where the data came from",
            "Each load: its files with SHA-256, records read/loaded/rejected, and the attribution the licence requires.",
            """SELECT ?dataset ?file ?sha256 ?read ?loaded ?rejected ?attribution WHERE {
  GRAPH graph:meta {
    ?load prov:generated ?dataset ; prov:used ?src ; kg:recordsRead ?read ;
          kg:recordsLoaded ?loaded ; kg:recordsRejected ?rejected .
    ?src dcterms:title ?file ; spdx:checksum/spdx:checksumValue ?sha256 .
    ?dataset kg:attributionText ?attribution .
  }
}""", ("houjin",)),
    Example("open-programs-wakayama", "和歌山県で募集中の支援制度 / Open programs for 和歌山県",
            "Programs accepting applications now (start ≤ NOW() ≤ end, or no end) whose target areas include "
            "和歌山県 (the prefecture itself, 近畿地方 or 全国), with their competent authority and legal basis.",
            """SELECT DISTINCT ?program ?title ?end ?authorityName ?corporateNumber ?lawTitle ?lawNumber WHERE {
  ?program a cpsv:PublicService ; dcterms:title ?title ;
           dcterms:spatial/dcterms:hasPart? pref:300004 .
  OPTIONAL { ?program kg:acceptanceStart ?start }
  OPTIONAL { ?program kg:acceptanceEnd ?end }
  FILTER((BOUND(?start) || BOUND(?end)) && (!BOUND(?start) || ?start <= NOW()) && (!BOUND(?end) || ?end >= NOW()))
  OPTIONAL { ?program cv:hasCompetentAuthority ?authority .
             ?authority rov:legalName ?authorityName ; dcterms:identifier ?corporateNumber .
             FILTER(lang(?authorityName) = "ja") }
  OPTIONAL { ?program cv:hasLegalResource ?law . ?law dcterms:title ?lawTitle .
             OPTIONAL { ?law eli:number ?lawNumber } }
} ORDER BY ?end ?program ?lawTitle""", ("programs", "houjin", "laws")),
    Example("closed-programs", "募集が終了した支援制度 / Closed programs",
            "Programs whose acceptance period has ended by now (kg:acceptanceEnd < NOW()), beside the status "
            "computed when they were loaded (kg:acceptanceStatus, a snapshot).",
            """SELECT ?program ?title ?end ?statusAtLoad ?loadedAt WHERE {
  ?program a cpsv:PublicService ; dcterms:title ?title ; kg:acceptanceEnd ?end ;
           kg:acceptanceStatus/skos:prefLabel ?statusAtLoad ; kg:acceptanceStatusDate ?loadedAt .
  FILTER(?end < NOW() && lang(?statusAtLoad) = "ja")
} ORDER BY DESC(?end)""", ("programs",)),
    Example("programs-per-industry", "業種ごとの支援制度数 / Programs per industry",
            "How many programs name each JSIC section (日本標準産業分類 大分類) as a target industry (cv:sector).",
            """SELECT ?section ?industry (COUNT(?program) AS ?programs) WHERE {
  ?program a cpsv:PublicService ; cv:sector ?concept .
  ?concept skos:notation ?section ; skos:prefLabel ?industry .
  FILTER(lang(?industry) = "ja")
} GROUP BY ?section ?industry ORDER BY DESC(?programs) ?section""", ("programs",)),
    Example("program-authorities", "支援制度の実施機関 / Who runs each program",
            "Programs linked to the corporation of their competent authority (国の機関 or 地方公共団体, matched by name), "
            "with its corporate number and address.",
            """SELECT ?title ?institution ?corporation ?kind ?address WHERE {
  ?program a cpsv:PublicService ; dcterms:title ?title ; kg:institutionName ?institution ;
           cv:hasCompetentAuthority ?corporation .
  ?corporation rov:orgType/skos:prefLabel ?kind ; locn:address/locn:fullAddress ?address .
  FILTER(lang(?kind) = "ja" && lang(?address) = "ja")
} ORDER BY ?institution""", ("programs", "houjin")),
    Example("program-legal-basis", "支援制度の根拠法令 / Legal basis of programs",
            "Laws whose title or law number (法令番号) appears in a program's text, with the text that was found.",
            """SELECT ?title ?law ?lawTitle ?matchedText WHERE {
  ?program a cpsv:PublicService ; dcterms:title ?title ; kg:legalBasis ?match .
  ?match kg:matchedLaw ?law ; kg:matchedText ?matchedText .
  OPTIONAL { ?law dcterms:title ?lawTitle }
} ORDER BY ?title ?law ?matchedText""", ("programs", "laws")),
)


#: Japanese descriptions of the examples the home page shows (slug → text)
DESCRIPTIONS_JA: dict[str, str] = {
    "corporation-by-number": "法人番号 7000012050002（国税庁）の現在の名称・種別・状態・所在地。",
    "corporations-per-kind": "読み込んだ法人を種別（株式会社、合同会社、地方公共団体など）ごとに数える（各読込が保つ統計 graph:statistics から）。",
    "mergers": "合併で閉鎖された法人と、その承継先法人、国税庁の変更事由。",
    "history": "国税庁が公表した法人の過去の状態（最新でない行）を新しい順に。",
    "per-municipality": "都道府県コードと市区町村コードから作った市区町村ごとの法人数と、そのうち町字に照合できた数（読込時の統計から）。",
    "per-prefecture-and-kind": "都道府県・法人種別・状態ごとの法人数（読込時の統計から）。",
    "closures-per-year": "年・閉鎖事由ごとの登記記録の閉鎖数（読込時の統計から）。",
    "local-governments": "法人種別 201（地方公共団体）の法人。法人番号は 000020 + 全国地方公共団体コード。",
}
