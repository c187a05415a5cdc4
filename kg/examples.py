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
            "How many corporations of each kind (株式会社, 合同会社, 地方公共団体, …) are loaded.",
            """SELECT ?kind (COUNT(?c) AS ?corporations) WHERE {
  ?c a rov:RegisteredOrganization ; rov:orgType/skos:prefLabel ?kind .
  FILTER(lang(?kind) = "ja")
} GROUP BY ?kind ORDER BY DESC(?corporations)""", ("houjin",)),
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
            "Corporations counted by the municipality IRI minted from their 都道府県コード and 市区町村コード.",
            """SELECT ?municipality ?city (COUNT(?c) AS ?corporations) WHERE {
  ?c a rov:RegisteredOrganization ; kg:municipality ?municipality ; locn:address/locn:adminUnitL2 ?city .
} GROUP BY ?municipality ?city ORDER BY DESC(?corporations)""", ("houjin",)),
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
)
