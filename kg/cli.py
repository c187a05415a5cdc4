"""The ``kg`` command line."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kg.errors import KGError
from kg.settings import SETTINGS, Settings, load_settings

SETTINGS_HELP = "\n".join(f"  {s.env:<18} {s.help} (default: {s.default})" for s in SETTINGS)


class UserError(click.ClickException):
    """One clear line, exit status 1, no traceback."""

    def show(self, file=None) -> None:
        click.echo(f"kg: error: {self.format_message()}", err=True)


class _Commands(click.Group):
    """Any project error a command does not handle itself is one line too (an unreachable
    SPARQL engine, say), never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KGError as exc:
            raise UserError(str(exc)) from None


@click.group(cls=_Commands, epilog="Settings (environment variables):\n\n" + SETTINGS_HELP.replace("\n", "\n\n"))
@click.option("--data-dir", envvar="KG_DATA_DIR", help="Store directory (KG_DATA_DIR).")
@click.option("--base-uri", envvar="KG_BASE_URI", help="Base of minted IRIs (KG_BASE_URI).")
@click.version_option(package_name="jp-base-registry-kg")
@click.pass_context
def main(ctx: click.Context, data_dir: str | None, base_uri: str | None) -> None:
    """Japan base-registry knowledge graph: load, validate, link, query and serve."""
    try:
        ctx.obj = load_settings(data_dir=data_dir, base_uri=base_uri)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _settings() -> Settings:
    return click.get_current_context().obj


@main.command("settings")
def settings_cmd() -> None:
    """List every setting with its current value."""
    s = _settings()
    for setting in SETTINGS:
        value = getattr(s, setting.name)
        if setting.secret and value is not None:
            value = "********"
        click.echo(f"{setting.env}={value!s:<30}  # {setting.help}")


@main.command()
@click.argument("source", metavar="SOURCE")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--replace", is_flag=True, help="Rebuild the dataset from these files only (default: upsert into it).")
@click.option("--strict", is_flag=True, help="Fail, loading nothing, if any record is rejected.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
def load(source: str, paths: tuple[str, ...], replace: bool, strict: bool, progress: bool | None) -> None:
    """Load files, directories or zips of one SOURCE (houjin, ...)."""
    from kg.load.pipeline import run_load
    from kg.loaders import DATASET_NAMES

    if source not in DATASET_NAMES:
        raise UserError(f"unknown source {source!r}; one of: {', '.join(DATASET_NAMES)}")
    show = sys.stderr.isatty() if progress is None else progress
    bar_holder: list = []

    def make_progress(total: int):
        if not show:
            return None
        bar = click.progressbar(length=total, label=f"loading {source}", file=sys.stderr)
        bar.__enter__()
        bar_holder.append(bar)
        return bar.update

    try:
        result = run_load(_settings(), source, paths, replace=replace, strict=strict, progress=make_progress)
    except KGError as exc:
        raise UserError(str(exc)) from None
    finally:
        for bar in bar_holder:
            bar.__exit__(None, None, None)
    st = result.stats
    seconds = ((st.ended or st.started) - st.started).total_seconds()
    click.echo(f"{source}: read {st.read:,} records, loaded {st.loaded:,}, rejected {st.rejected:,} "
               f"({st.entities:,} entities; graph now {result.triples:,} triples; {seconds:.1f} s; {result.generation})")
    for reason in st.refused:
        click.echo(f"refused: {reason}")
    if result.report_path:
        click.echo(f"rejection report: {result.report_path}")
    if result.links is not None:
        click.echo(result.links.summary())
    click.echo("steps: " + ", ".join(f"{name} {secs:.1f} s" for name, secs in result.steps.items()))


@main.command()
@click.option("--out", type=click.Path(), help="Directory for the dumps (default: KG_DATA_DIR/dumps).")
def dump(out: str | None) -> None:
    """Write gzip N-Quads of every graph (houjin, abr, laws, links, codes, ontology, meta)."""
    from kg.store.dump import dump_graphs

    store = _open_store()
    target = Path(out) if out else _settings().data_path / "dumps"
    for graph, path, count in dump_graphs(store, target):
        click.echo(f"{path}  {count:,} quads  ({graph})")


@main.command()
@click.argument("source", type=click.Choice(["jgrants"]), metavar="SOURCE")
@click.option("--keyword", "keywords", multiple=True, required=True,
              help="Search keyword, 2-255 characters; repeat it to run several searches, merged by program id.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Directory for the JSON files.")
@click.option("--sort", default="created_date", show_default=True,
              type=click.Choice(["created_date", "acceptance_start_datetime", "acceptance_end_datetime"]))
@click.option("--order", default="DESC", show_default=True, type=click.Choice(["ASC", "DESC"]))
@click.option("--acceptance", default="1", show_default=True, type=click.Choice(["0", "1"]),
              help="1: only programs accepting applications now; 0: all.")
@click.option("--detail", default="v1", show_default=True, type=click.Choice(["v1", "v2", "none"]),
              help="Which detail response to fetch per program (v2 adds the application rounds).")
@click.option("--filter", "filters", multiple=True, metavar="NAME=VALUE",
              help="Optional API filter: use_purpose, industry, target_number_of_employees or target_area_search "
                   "(several values joined with ' / ').")
@click.option("--delay", default=1.0, show_default=True, type=float, help="Seconds between two requests.")
@click.option("--api-url", help="Base URL of the API (KG_JGRANTS_API).")
def fetch(source: str, keywords: tuple[str, ...], out_dir: str, sort: str, order: str, acceptance: str,
          detail: str, filters: tuple[str, ...], delay: float, api_url: str | None) -> None:
    """Save live API responses of SOURCE (jgrants) as files for `kg load programs`."""
    from kg.loaders import fetcher

    fetch_jgrants, FetchError = fetcher(source)

    if any("=" not in f for f in filters):
        raise UserError("--filter takes NAME=VALUE, e.g. --filter target_area_search=和歌山県")
    try:
        result = fetch_jgrants(out_dir, keywords, api=api_url or _settings().jgrants_api, sort=sort, order=order,
                               acceptance=int(acceptance), detail=detail, delay=delay,
                               filters=dict(f.split("=", 1) for f in filters),
                               log=lambda line: click.echo(line, err=True))
    except FetchError as exc:
        raise UserError(str(exc)) from None
    for warning in result.warnings:
        click.echo(f"kg: warning: {warning}", err=True)
    click.echo(f"jgrants: {result.listed} programs listed, {result.details} details fetched; "
               f"{len(result.files)} files in {out_dir} (load them with `kg load programs {out_dir}`)")


@main.command()
def link() -> None:
    """Rebuild graph/links from what is loaded and print the match rate by level."""
    from kg.link import update_links
    from kg.rdf.iri import Minter
    from kg.store import open_home

    home = open_home(_settings())
    if home.current_name() is None:
        raise UserError(f"nothing loaded yet in {_settings().data_path}")
    try:
        with home.build() as build:
            stats = update_links(build.store, Minter(_settings().base), full=True)
    except KGError as exc:
        raise UserError(str(exc)) from None
    click.echo(stats.summary())


def _open_store():
    from kg.store import open_home

    store = open_home(_settings()).open_current()
    if store is None:
        raise UserError(f"nothing loaded yet in {_settings().data_path}; run `kg load ...` or `kg demo` first")
    return store


@main.command()
@click.argument("sparql")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "tsv", "json", "xml"]), default="table")
def query(sparql: str, fmt: str) -> None:
    """Run a SPARQL query (the project's prefixes are predeclared)."""
    from kg.rdf.iri import Minter
    from kg.terminal import format_result

    store = _open_store()
    if sparql == "-":
        sparql = sys.stdin.read()
    try:
        result = store.query(sparql, prefixes=Minter(_settings().base).prefixes())
        click.echo(format_result(result, fmt))
    except KGError as exc:
        raise UserError(f"malformed query: {exc}") from None


@main.command()
def stats() -> None:
    """Triples per graph and entities per class, as recorded at load time."""
    from kg.rdf.iri import Minter
    from kg.store.counts import class_counts, graph_triples
    from kg.terminal import render_table

    store = _open_store()
    m = Minter(_settings().base)
    rows = graph_triples(store, m)
    click.echo(render_table(["graph", "triples"], [[g, f"{n:,}"] for g, n in rows]))
    click.echo()
    click.echo(render_table(["dataset", "class", "entities"], [[d, c, f"{n:,}"] for d, c, n in class_counts(store, m)]))


@main.command()
@click.argument("source", required=False, metavar="[SOURCE]")
def validate(source: str | None) -> None:
    """Re-check the loaded data against the shapes, and that every IRI it points at under the id
    namespace names an entity (graph/links too, without SOURCE); exit 1 if anything fails."""
    from kg.rdf.iri import Minter
    from kg.loaders import DATASET_NAMES
    from kg.validation.revalidate import revalidate

    store = _open_store()
    m = Minter(_settings().base)
    loaded = set(store.named_graphs())
    if source is not None and source not in DATASET_NAMES:
        raise UserError(f"unknown source {source!r}; one of: {', '.join(DATASET_NAMES)}")
    names = [source] if source else [n for n in DATASET_NAMES if m.graph(n) in loaded]
    total = 0
    for name in names:
        checked, violations = revalidate(store, name, m)
        for v in violations[:50]:
            click.echo(f"{name}: {v.focus} {v.path or ''} {v.component}: {v.message}")
        missing = _references(store, name, m)
        click.echo(f"{name}: {checked:,} entities checked, {len(violations):,} violations, "
                   f"{missing:,} references to no entity")
        total += len(violations) + missing
    if source is None and m.graph("links") in loaded:
        missing = _references(store, "links", m)
        click.echo(f"links: {missing:,} references to no entity")
        total += missing
    if total:
        sys.exit(1)


def _references(store, name: str, m) -> int:
    """Print what :func:`kg.validation.integrity.dangling` finds in one graph; how many are problems."""
    from kg.validation.integrity import dangling

    found = dangling(store, name, m)
    for d in found:
        click.echo(d.message(m))
    return sum(d.count for d in found if d.problem)


@main.command()
@click.option("--host", envvar="KG_HOST", help="Interface to listen on (KG_HOST).")
@click.option("--port", envvar="KG_PORT", type=click.IntRange(1, 65535), help="TCP port (KG_PORT).")
def serve(host: str | None, port: int | None) -> None:
    """Serve the store: SPARQL endpoint and pages, in supervised worker processes."""
    _serve(_settings().with_overrides(host=host, port=port))


def _serve(settings) -> None:
    from kg.server.serve import bind, serve

    try:
        sock = bind(settings.host, settings.port, backlog=max(1024, settings.max_connections))
    except KGError as exc:
        raise UserError(str(exc)) from None
    click.echo(f"serving {settings.data_path} at http://{settings.host}:{settings.port}/ "
               f"(SPARQL: /sparql; {settings.workers} worker processes; Ctrl+C stops)")
    serve(settings, sock)


@main.command()
@click.option("--serve/--no-serve", default=True, help="Serve the data once loaded (default) or only load it.")
@click.option("--host", envvar="KG_HOST", help="Interface to listen on (KG_HOST).")
@click.option("--port", envvar="KG_PORT", type=click.IntRange(1, 65535), help="TCP port (KG_PORT).")
def demo(serve: bool, host: str | None, port: int | None) -> None:
    """Load the bundled sample data (replacing what the data directory held) and serve it."""
    from kg.load.pipeline import run_load
    from kg.resources import package_dir

    samples = package_dir("samples")
    settings = _settings().with_overrides(host=host, port=port)
    try:
        results = {name: run_load(settings, name, [samples / name], replace=True)
                   for name in ("houjin", "abr", "laws", "programs") if (samples / name).is_dir()}
    except KGError as exc:
        raise UserError(str(exc)) from None
    for name, result in results.items():
        click.echo(f"demo: {name}: loaded {result.stats.loaded} records ({result.triples:,} triples)")
    click.echo(results["houjin"].links.summary() if "abr" not in results else results["abr"].links.summary())
    click.echo(f"demo: data in {settings.data_path}")
    if serve:
        _serve(settings)
    else:
        click.echo("try:")
        click.echo("  kg serve            # then open http://127.0.0.1:8000/sparql")
        click.echo("  kg query 'SELECT ?c ?name WHERE { ?c a rov:RegisteredOrganization ; rov:legalName ?name "
                   "FILTER(lang(?name) = \"ja\") } LIMIT 10'")


if __name__ == "__main__":  # pragma: no cover
    main()
