"""SHACL validation at load speed: the shapes in shapes/ compiled once into per-entity checks.

pySHACL is the reference for what the shapes mean, but it checks ~600 entities/s here; a load
needs ~10k/s or more. So :func:`compile_shapes` turns each node shape into plain Python checks
over the triples of one mapped entity, before anything is written. It understands the SHACL Core
constraints our shapes use plus the project's check-digit component, and refuses to compile a
shape that uses anything else (so a shape can never silently mean less here than in pySHACL).
The differential tests run both on the same valid and invalid entities and demand equal verdicts.
"""

from __future__ import annotations

import re
from datetime import date as _date
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

import rdflib
from rdflib import RDF as R_RDF, RDFS as R_RDFS, SH as R_SH, URIRef, BNode as RBNode, Literal as RLiteral

from kg.rdf.checkdigits import corporate_number_problem, local_government_code_problem
from kg.rdf import IRI, BNode, Literal, RDF, XSD, Term, Triple


@dataclass(frozen=True)
class Violation:
    focus: str
    path: str | None
    component: str          # SHACL constraint component local name, e.g. "MinCountConstraintComponent"
    message: str
    value: str | None = None
    shape: str | None = None


CheckFn = Callable[["_Node", "Validator"], list[Violation]]

_SUPPORTED_PROPERTY_PARAMS = {
    R_SH.path, R_SH.minCount, R_SH.maxCount, R_SH.datatype, R_SH.pattern, R_SH.flags, R_SH["class"],
    R_SH.nodeKind, R_SH["in"], R_SH.minLength, R_SH.maxLength, R_SH.uniqueLang, R_SH.languageIn,
    R_SH.hasValue, R_SH.node, R_SH.name, R_SH.description, R_SH.message, R_SH.order, R_SH.group,
    R_RDF.type,
}
_SUPPORTED_NODE_PARAMS = {
    R_SH.targetClass, R_SH.property, R_SH.nodeKind, R_SH.message, R_SH.closed, R_SH.ignoredProperties,
    R_RDF.type, R_RDFS.label, R_RDFS.comment, R_SH.name, R_SH.description,
}


class _Node:
    """The triples of one subject within an entity."""

    __slots__ = ("iri", "values", "types")

    def __init__(self, iri: str):
        self.iri = iri
        self.values: dict[str, list[Term]] = {}
        self.types: set[str] = set()


def _term_kind(term: Term) -> str:
    if isinstance(term, Literal):
        return "Literal"
    if isinstance(term, BNode):
        return "BlankNode"
    return "IRI"


_NODE_KINDS = {
    "IRI": {"IRI"}, "BlankNode": {"BlankNode"}, "Literal": {"Literal"},
    "BlankNodeOrIRI": {"BlankNode", "IRI"}, "BlankNodeOrLiteral": {"BlankNode", "Literal"},
    "IRIOrLiteral": {"IRI", "Literal"},
}


def _lexical(term: Term) -> str:
    return term.value if isinstance(term, Literal) else str(term)


_LANG_STRING = str(RDF.langString)
_XSD_STRING = str(XSD.string)
_RDF_TYPE = str(RDF.type)


def _datatype(term: Term) -> str | None:
    if term.__class__ is not Literal:
        return None
    if term.lang:
        return _LANG_STRING
    return term.datatype or _XSD_STRING


_DATE = re.compile(r"-?\d{4,}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?").fullmatch
_DATETIME = re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?").fullmatch
_INTEGER = re.compile(r"[+-]?\d+").fullmatch
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)").fullmatch

_LEXICAL_CHECKS: dict[str, Callable[[str], bool]] = {
    str(XSD.date): lambda v: _DATE(v) is not None and _valid_date(v),
    str(XSD.dateTime): lambda v: _DATETIME(v) is not None,
    str(XSD.integer): lambda v: _INTEGER(v) is not None,
    str(XSD.decimal): lambda v: _DECIMAL(v) is not None,
    str(XSD.boolean): lambda v: v in ("true", "false", "1", "0"),
}


def _valid_date(value: str) -> bool:
    try:
        _date.fromisoformat(value[:10])
    except ValueError:
        return False
    return True


CUSTOM_COMPONENTS: dict[str, Callable[[str], str | None]] = {
    "corporate-number": corporate_number_problem,
    "local-government-code": local_government_code_problem,
}


def _check_digit_problem(algorithm: str, term: Term) -> str | None:
    text = _lexical(term)
    if not isinstance(term, Literal):
        text = text.rsplit("/", 1)[-1]
    return CUSTOM_COMPONENTS[algorithm](text)


@dataclass
class _PropertyShape:
    path: str
    checks: list[Callable[[str, list[Term], "Validator", dict[str, _Node]], list[Violation]]] = field(default_factory=list)
    #: only sh:minCount and sh:hasValue can fail when a node has no value for the path
    needs_empty: bool = False


@dataclass
class _NodeShape:
    iri: str
    node_kinds: set[str] | None
    properties: list[_PropertyShape]


class Validator:
    """Compiled shapes: ``check(triples)`` returns the violations of one entity."""

    def __init__(self, shapes: dict[str, _NodeShape], targets: dict[str, list[str]],
                 class_members: Mapping[str, set[str]], subclasses: Mapping[str, set[str]]):
        self.shapes = shapes
        self.targets = targets
        self.class_members = class_members
        self.subclasses = subclasses

    @property
    def target_classes(self) -> set[str]:
        return set(self.targets)

    def check(self, triples: Iterable[Triple]) -> list[Violation]:
        nodes: dict[str, _Node] = {}
        for s, p, o in triples:
            node = nodes.get(s)
            if node is None:
                node = nodes[s] = _Node(s)
            node.values.setdefault(p, []).append(o)
            if p == _RDF_TYPE:
                node.types.add(o)
        violations: list[Violation] = []
        for node in nodes.values():
            # a node typed with a class and its subclass (def:Municipality, def:Ward) meets a shape once
            shapes = dict.fromkeys(s for cls in node.types for s in self.targets.get(cls, ()))
            for shape_iri in shapes:
                violations.extend(self._check_node(self.shapes[shape_iri], node.iri, nodes))
        return violations

    def _check_node(self, shape: _NodeShape, focus: str, nodes: dict[str, _Node]) -> list[Violation]:
        node = nodes.get(focus)
        out: list[Violation] = []
        if shape.node_kinds is not None:
            kind = "BlankNode" if isinstance(focus, BNode) else ("Literal" if isinstance(focus, Literal) else "IRI")
            if kind not in shape.node_kinds:
                out.append(Violation(focus, None, "NodeKindConstraintComponent", f"{focus} is not of node kind", shape=shape.iri))
        for prop in shape.properties:
            values = node.values.get(prop.path) if node else None
            if not values:
                if not prop.needs_empty:
                    continue
                values = []
            for check in prop.checks:
                for v in check(focus, values, self, nodes):
                    out.append(Violation(v.focus, v.path, v.component, v.message, v.value, shape.iri))
        return out

    def has_class(self, value: Term, cls: str, nodes: dict[str, _Node]) -> bool:
        wanted = self.subclasses.get(cls, {cls})
        node = nodes.get(str(value)) if not isinstance(value, Literal) else None
        if node is not None and node.types & wanted:
            return True
        return any(str(value) in self.class_members.get(c, ()) for c in wanted)


def _list_items(graph: rdflib.Graph, head) -> list:
    return list(rdflib.collection.Collection(graph, head))


def _to_term(node) -> Term:
    if isinstance(node, URIRef):
        return IRI(str(node))
    if isinstance(node, RBNode):
        return BNode(str(node))
    if node.language:
        return Literal(str(node), None, node.language)
    return Literal(str(node), str(node.datatype) if node.datatype else str(XSD.string), None)


def _compile_property(graph: rdflib.Graph, pshape, check_digit: URIRef, node_shapes: dict) -> _PropertyShape:
    path = graph.value(pshape, R_SH.path)
    if not isinstance(path, URIRef):
        raise ValueError(f"property shape {pshape}: only IRI paths are supported, got {path!r}")
    p = str(path)
    prop = _PropertyShape(p)
    for param in set(graph.predicates(pshape, None)):
        if param not in _SUPPORTED_PROPERTY_PARAMS and param != check_digit:
            raise ValueError(f"property shape on {p}: unsupported SHACL parameter {param}")

    def add(fn):
        prop.checks.append(fn)

    def per_value(component: str, ok: Callable[[Term], bool], message: Callable[[Term], str]):
        def check(focus, values, validator, nodes):
            return [Violation(focus, p, component, message(v), _lexical(v)) for v in values if not ok(v)]
        add(check)

    prop.needs_empty = (graph.value(pshape, R_SH.minCount) is not None and int(graph.value(pshape, R_SH.minCount)) > 0) \
        or graph.value(pshape, R_SH.hasValue) is not None
    min_count = graph.value(pshape, R_SH.minCount)
    if min_count is not None:
        n = int(min_count)
        add(lambda focus, values, v_, nodes, n=n: [] if len(values) >= n else
            [Violation(focus, p, "MinCountConstraintComponent", f"{p} needs at least {n} value(s), found {len(values)}")])
    max_count = graph.value(pshape, R_SH.maxCount)
    if max_count is not None:
        n = int(max_count)
        add(lambda focus, values, v_, nodes, n=n: [] if len(values) <= n else
            [Violation(focus, p, "MaxCountConstraintComponent", f"{p} allows at most {n} value(s), found {len(values)}")])
    datatype = graph.value(pshape, R_SH.datatype)
    if datatype is not None:
        dt = str(datatype)
        lexical_ok = _LEXICAL_CHECKS.get(dt, lambda value: True)
        per_value("DatatypeConstraintComponent",
                  lambda v, dt=dt, lexical_ok=lexical_ok: _datatype(v) == dt and lexical_ok(v.value),
                  lambda v, dt=dt: f"{p} value {_lexical(v)!r} is not a valid {dt.rsplit('#', 1)[-1]}")
    node_kind = graph.value(pshape, R_SH.nodeKind)
    if node_kind is not None:
        kinds = _NODE_KINDS[str(node_kind).rsplit("#", 1)[-1]]
        per_value("NodeKindConstraintComponent", lambda v, kinds=kinds: _term_kind(v) in kinds,
                  lambda v: f"{p} value {_lexical(v)!r} has the wrong node kind")
    pattern = graph.value(pshape, R_SH.pattern)
    if pattern is not None:
        flags = str(graph.value(pshape, R_SH.flags) or "")
        rx = re.compile(str(pattern), re.IGNORECASE if "i" in flags else 0)
        per_value("PatternConstraintComponent",
                  lambda v, rx=rx: not isinstance(v, BNode) and rx.search(_lexical(v)) is not None,
                  lambda v, pat=str(pattern): f"{p} value {_lexical(v)!r} does not match {pat}")
    min_length = graph.value(pshape, R_SH.minLength)
    if min_length is not None:
        n = int(min_length)
        per_value("MinLengthConstraintComponent", lambda v, n=n: not isinstance(v, BNode) and len(_lexical(v)) >= n,
                  lambda v, n=n: f"{p} value {_lexical(v)!r} is shorter than {n}")
    max_length = graph.value(pshape, R_SH.maxLength)
    if max_length is not None:
        n = int(max_length)
        per_value("MaxLengthConstraintComponent", lambda v, n=n: not isinstance(v, BNode) and len(_lexical(v)) <= n,
                  lambda v, n=n: f"{p} value {_lexical(v)!r} is longer than {n}")
    language_in = graph.value(pshape, R_SH.languageIn)
    if language_in is not None:
        langs = [str(x).lower() for x in _list_items(graph, language_in)]

        def lang_ok(v, langs=langs):
            if not isinstance(v, Literal) or not v.lang:
                return False
            tag = v.lang.lower()
            return any(tag == l or tag.startswith(l + "-") for l in langs)
        per_value("LanguageInConstraintComponent", lang_ok,
                  lambda v, langs=langs: f"{p} value {_lexical(v)!r} is not in languages {langs}")
    unique_lang = graph.value(pshape, R_SH.uniqueLang)
    if unique_lang is not None and unique_lang.toPython() is True:
        def unique(focus, values, v_, nodes):
            seen: dict[str, int] = {}
            for v in values:
                if isinstance(v, Literal) and v.lang:
                    seen[v.lang.lower()] = seen.get(v.lang.lower(), 0) + 1
            return [Violation(focus, p, "UniqueLangConstraintComponent", f"{p} has {n} values tagged @{lang}")
                    for lang, n in seen.items() if n > 1]
        add(unique)
    in_list = graph.value(pshape, R_SH["in"])
    if in_list is not None:
        allowed = {_to_term(x) for x in _list_items(graph, in_list)}
        per_value("InConstraintComponent", lambda v, allowed=allowed: v in allowed,
                  lambda v: f"{p} value {_lexical(v)!r} is not one of the allowed values")
    has_value = graph.value(pshape, R_SH.hasValue)
    if has_value is not None:
        wanted = _to_term(has_value)
        add(lambda focus, values, v_, nodes, wanted=wanted: [] if wanted in values else
            [Violation(focus, p, "HasValueConstraintComponent", f"{p} must have the value {_lexical(wanted)}")])
    cls = graph.value(pshape, R_SH["class"])
    if cls is not None:
        c = str(cls)

        def class_check(focus, values, validator, nodes, c=c):
            return [Violation(focus, p, "ClassConstraintComponent", f"{p} value {_lexical(v)} is not a {c}", _lexical(v))
                    for v in values if not validator.has_class(v, c, nodes)]
        add(class_check)
    node_ref = graph.value(pshape, R_SH.node)
    if node_ref is not None:
        ref = str(node_ref)

        def node_check(focus, values, validator, nodes, ref=ref):
            out = []
            for v in values:
                if validator._check_node(validator.shapes[ref], v, nodes):
                    out.append(Violation(focus, p, "NodeConstraintComponent",
                                         f"{p} value {_lexical(v)} does not conform to {ref}", _lexical(v)))
            return out
        add(node_check)
    algorithm = graph.value(pshape, check_digit)
    if algorithm is not None:
        alg = str(algorithm)
        if alg not in CUSTOM_COMPONENTS:
            raise ValueError(f"unknown check digit algorithm {alg!r}")
        per_value("CheckDigitConstraintComponent", lambda v, alg=alg: _check_digit_problem(alg, v) is None,
                  lambda v, alg=alg: _check_digit_problem(alg, v) or "")
    return prop


def compile_shapes(shapes: rdflib.Graph, reference: rdflib.Graph | None = None, *, base: str) -> Validator:
    """Compile every sh:NodeShape of ``shapes``; ``reference`` holds code lists and the ontology."""
    check_digit = URIRef(base + "def/checkDigit")
    node_shapes: dict[str, _NodeShape] = {}
    targets: dict[str, list[str]] = {}
    for shape in set(shapes.subjects(R_RDF.type, R_SH.NodeShape)):
        for param in set(shapes.predicates(shape, None)):
            if param not in _SUPPORTED_NODE_PARAMS:
                raise ValueError(f"node shape {shape}: unsupported SHACL parameter {param}")
        if shapes.value(shape, R_SH.closed) not in (None, RLiteral(False)):
            raise ValueError(f"node shape {shape}: sh:closed is not supported by the compiled validator")
        kind = shapes.value(shape, R_SH.nodeKind)
        node_shapes[str(shape)] = _NodeShape(
            str(shape),
            _NODE_KINDS[str(kind).rsplit("#", 1)[-1]] if kind is not None else None,
            [_compile_property(shapes, ps, check_digit, node_shapes) for ps in shapes.objects(shape, R_SH.property)],
        )
        for cls in shapes.objects(shape, R_SH.targetClass):
            targets.setdefault(str(cls), []).append(str(shape))
    reference = reference if reference is not None else rdflib.Graph()
    members: dict[str, set[str]] = {}
    for s, o in reference.subject_objects(R_RDF.type):
        members.setdefault(str(o), set()).add(str(s))
    subclasses: dict[str, set[str]] = {}
    for cls in set(list(members) + [str(c) for c in reference.subjects(R_RDFS.subClassOf, None)] +
                   [str(o) for o in shapes.objects(None, R_SH["class"])]):
        closure = {str(x) for x in reference.transitive_subjects(R_RDFS.subClassOf, URIRef(cls))}
        subclasses[cls] = closure | {cls}
    # a target class also targets its subclasses (SHACL 2.1.3.3)
    for cls, shape_list in list(targets.items()):
        for sub in subclasses.get(cls, {cls}):
            if sub != cls:
                targets.setdefault(sub, []).extend(shape_list)
    return Validator(node_shapes, targets, members, subclasses)
