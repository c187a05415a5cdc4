"""What a thing is called: which properties name it and which language is shown first.

One decision for the pages, the search index, the load's summaries and the RDF that pages
serve. Japanese first (the registries' own language), then an untagged name, then English.

>>> best_label({"en": "National Tax Agency", "ja": "国税庁"})
'国税庁'
>>> best_label({}) is None
True
"""

from __future__ import annotations

from kg.rdf.vocab import DCTERMS, ELI, RDFS, ROV, SKOS

#: properties whose values name a resource, most preferred first
LABEL_PROPERTIES: tuple[str, ...] = (str(RDFS.label), str(SKOS.prefLabel), str(ELI.title), str(DCTERMS.title))
#: properties whose values a name search finds (label properties plus other names and numbers)
NAME_PROPERTIES: tuple[str, ...] = (str(RDFS.label), str(ROV.legalName), str(ELI.title), str(DCTERMS.title),
                                    str(SKOS.altLabel), str(ELI.number))
#: the order in which languages are shown ("" is a literal without a language tag)
LANGUAGE_ORDER: tuple[str, ...] = ("ja", "", "en")


def language_rank(lang: str | None) -> int:
    """0 for Japanese, 1 untagged, 2 English, 3 anything else (kana readings among them)."""
    lang = (lang or "").lower()
    return LANGUAGE_ORDER.index(lang) if lang in LANGUAGE_ORDER else len(LANGUAGE_ORDER)


def best_label(labels: dict[str, str]) -> str | None:
    """The label to show from ``{language: text}``, or None when there is none."""
    for lang in LANGUAGE_ORDER:
        if lang in labels:
            return labels[lang]
    return None
