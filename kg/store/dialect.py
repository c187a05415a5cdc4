"""What an engine needs beyond standard SPARQL to run our own requests well.

Two things, both for OpenLink Virtuoso 7 and both found on a daily diff's switch (one Update
request) onto a national store; together they took it from 28.8-35.7 s to ~5 s.

A pattern that reads a whole graph (``GRAPH <g> { ?s ?p ?o }``) inside an Update is planned as
a scan of the quad table's primary key (P, S, O, G) filtered on G. On a national store (134M
quads) that made each operation of a daily diff's switch cost 5-20 s, whatever the size of
``<g>``: deleting 3,040 quads listed in a small graph took 18-20 s, inserting them back 5.7-6 s.
Virtuoso's per-pattern index option (``OPTION (TABLE_OPTION "index G")``: its graph-subject
index, then its other keys) makes it 0.3 s and 0.2 s (bench/README.md, Session 18). The option
is Virtuoso's own syntax, which other engines refuse, so it is written only to an engine that
takes :data:`VIRTUOSO_PROBE`, a query in that syntax which every other engine refuses as
malformed. The engine is asked, not its HTTP ``Server`` header: a proxy in front writes its own
(nginx does by default).

``DROP GRAPH`` in an Update request of several operations costs Virtuoso ~5.7 s on that store,
however small the graph (``INSERT DATA`` of one triple then ``DROP`` of a one-triple graph: 5.7 s;
either alone: 0.01 s), and ``CLEAR GRAPH`` there ~5 s a graph of 40,000 quads. Deleting the
graph's quads through the same index option costs what deleting them costs: 1.1 s for 75,000
quads (``DROP`` alone: 0.6 s). Virtuoso keeps no empty graphs, so that leaves what ``DROP``
leaves. Elsewhere an emptied graph may stay as an empty named graph (Oxigraph keeps them), so
other engines get ``DROP``.

https://community.openlinksw.com/t/customizing-virtuoso-sparql-query-optimization-using-pragmas-and-inline-query-options/3245
"""

from __future__ import annotations

VIRTUOSO_WHOLE_GRAPH = ' OPTION (TABLE_OPTION "index G")'
#: answered (false) by Virtuoso only: a graph no engine holds, read through the option
VIRTUOSO_PROBE = f"ASK {{ GRAPH <urn:x-kg:probe> {{ ?s ?p ?o{VIRTUOSO_WHOLE_GRAPH} }} }}"


def whole_graph(graph: str, *, virtuoso: bool) -> str:
    """The group pattern that reads every quad of ``graph`` as ``?s ?p ?o``.

    >>> whole_graph("http://x/g", virtuoso=False)
    'GRAPH <http://x/g> { ?s ?p ?o }'
    >>> whole_graph("http://x/g", virtuoso=True)
    'GRAPH <http://x/g> { ?s ?p ?o OPTION (TABLE_OPTION "index G") }'
    """
    return f"GRAPH <{graph}> {{ ?s ?p ?o{VIRTUOSO_WHOLE_GRAPH if virtuoso else ''} }}"


def dropped(graph: str, *, virtuoso: bool) -> str:
    """The operation that empties and forgets ``graph`` inside a request of several.

    >>> dropped("http://x/g", virtuoso=False)
    'DROP SILENT GRAPH <http://x/g>'
    >>> dropped("http://x/g", virtuoso=True)
    'DELETE { GRAPH <http://x/g> { ?s ?p ?o } } WHERE { GRAPH <http://x/g> { ?s ?p ?o OPTION (TABLE_OPTION "index G") } }'
    """
    if virtuoso:
        return f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ {whole_graph(graph, virtuoso=True)} }}"
    return f"DROP SILENT GRAPH <{graph}>"
