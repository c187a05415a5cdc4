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
    lines = [(f"{setting.env}={_shown(setting, getattr(s, setting.name))}", setting.help) for setting in SETTINGS]
    width = max(len(left) for left, _ in lines)
    for left, help_text in lines:
        click.echo(f"{left:<{width}}  # {help_text}")


def _shown(setting, value) -> str:
    """A setting's value as `kg settings` prints it: unset as "(unset)", a secret never."""
    if value is None or value == "" or value == ():
        return "(unset)"
    if setting.secret or "token" in setting.name:
        return "(set)"
    return str(value)


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
    for src in st.sources:
        sig = src.signature
        if sig is not None and sig.status not in ("missing", "unchecked"):
            detail = f" (key {sig.fingerprint}, signed {sig.signed_at:%Y-%m-%d %H:%M:%S}Z)" if sig.verified else f": {sig.reason}"
            click.echo(f"signature: {src.name}: {sig.status}{detail}")
    if st.digest is not None:
        click.echo(f"content digest: {st.digest.hex} ({st.digest.quads:,} quads"
                   f"{', computed afresh from the graph' if st.digest_recomputed else ''})")
    if result.report_path:
        click.echo(f"rejection report: {result.report_path}")
    if result.links is not None:
        click.echo(result.links.summary())
    click.echo("steps: " + ", ".join(f"{name} {secs:.1f} s" for name, secs in result.steps.items()))


@main.command()
@click.option("--out", type=click.Path(), help="Directory for the dumps (default: KG_DATA_DIR/dumps).")
def dump(out: str | None) -> None:
    """Write gzip N-Quads of every graph (houjin, abr, laws, links, codes, ontology, meta), with
    manifest.json and SHA256SUMS; signed (X.asc) when KG_SIGNING_KEY is set."""
    from kg.load.provenance import recorded_digests
    from kg.rdf.iri import Minter
    from kg.store import open_home
    from kg.store.dump import dump_graphs
    from kg.trust.publish import write_manifest

    settings = _settings()
    store = _open_store()
    target = Path(out) if out else settings.data_path / "dumps"
    written = dump_graphs(store, target)
    for graph, path, count in written:
        click.echo(f"{path}  {count:,} quads  ({graph})")
    try:
        extra = write_manifest(settings, target, written, recorded_digests(store, Minter(settings.base)),
                               open_home(settings, create=False).current_name())
    except KGError as exc:
        raise UserError(str(exc)) from None
    signed = sum(1 for p in extra if p.suffix == ".asc")
    click.echo(f"{target / 'manifest.json'}, {target / 'SHA256SUMS'}; "
               + (f"{signed} signatures (.asc)" if signed else "unsigned (no KG_SIGNING_KEY)"))


@main.command()
@click.argument("dumps", nargs=-1, type=click.Path())
@click.option("--key", type=click.Path(dir_okay=False), help="Public key file to check signatures against "
              "(default: KG_SIGNING_KEY's public key, else KG_DATA_DIR/signing-key.asc).")
@click.option("--store/--no-store", "check_store", default=True,
              help="Compare the served store's dataset graphs with the journal head (a pass over each graph).")
def verify(dumps: tuple[str, ...], key: str | None, check_store: bool) -> None:
    """Check offline: the journal's hash chain and signature, the store against the journal head,
    and DUMPS (default: those in KG_DATA_DIR/dumps) against their signatures and manifest.json.
    Prints one line per problem and exits 1 if there is any."""
    from kg.store import open_home
    from kg.trust.publish import MANIFEST, PUBLIC_KEY
    from kg.trust.verify import Findings, verify_dump, verify_journal, verify_store

    import tempfile

    from kg.trust.openpgp import public_key

    settings = _settings()
    data = settings.data_path
    public = Path(key) if key else None
    if public is not None and not public.is_file():
        raise UserError(f"{public}: no such key file")
    found = Findings()
    scratch = tempfile.TemporaryDirectory(prefix="kg-verify-")
    try:
        if public is None and settings.signing_key:  # gpgv needs the public half
            public = Path(scratch.name) / PUBLIC_KEY
            public.write_bytes(public_key(Path(settings.signing_key).expanduser()))
        if public is None and (data / PUBLIC_KEY).is_file():
            public = data / PUBLIC_KEY
        for part in [verify_journal(data, public)]:
            found.problems += part.problems
            found.notes += part.notes
        if check_store:
            store = open_home(settings, create=False).open_current() if data.is_dir() else None
            if store is None:
                found.notes.append(f"store: nothing loaded in {data}")
            else:
                part = verify_store(store, data)
                found.problems += part.problems
                found.notes += part.notes
        files = [Path(d) for d in dumps]
        if not files and (data / "dumps" / MANIFEST).is_file():
            files = sorted((data / "dumps").glob("*.nq.gz"))
        seen: set[Path] = set()
        for path in files:
            part = verify_dump(path, public, data, seen)
            found.problems += part.problems
            found.notes += part.notes
    except KGError as exc:
        raise UserError(str(exc)) from None
    finally:
        scratch.cleanup()
    for note in found.notes:
        click.echo(f"ok: {note}")
    for problem in found.problems:
        click.echo(f"FAILED: {problem}")
    if found.problems:
        sys.exit(1)


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
    from kg.load import changes, statistics
    from kg.rdf.iri import Minter
    from kg.store import open_home

    settings = _settings()
    home = open_home(settings)
    if home.current_name() is None:
        raise UserError(f"nothing loaded yet in {settings.data_path}")
    try:
        with home.build() as build:
            capture = changes.watch(build, home, settings)
            m = Minter(settings.base)
            tally = statistics.resume(build.store, m)
            stats = update_links(build.store, m, full=True, tally=tally)
            statistics.save(build.store, m, tally)
            if capture is not None:
                capture.finish(build.path.name, kind="link", dataset=Minter(settings.base).graph("links"),
                               retention=settings.changes_retention)
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
@click.argument("path", required=False, default="-", metavar="[PATH]")
@click.option("--address", "addresses", multiple=True, metavar="TEXT", help="An address to geocode (repeatable; instead of PATH).")
@click.option("--input", "input_kind", type=click.Choice(["auto", "csv", "jsonl", "json", "lines"]), default="auto",
              show_default=True, help="How PATH is read (auto: by its suffix: .csv, .jsonl/.ndjson, .json, else one address a line).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "jsonl"]), default="csv", show_default=True,
              help="csv: one row an address; json: a GeoJSON FeatureCollection; jsonl: one GeoJSON Feature a line.")
def geocode(path: str, addresses: tuple[str, ...], input_kind: str, fmt: str) -> None:
    """Geocode addresses (PATH, or stdin with -) against the loaded ABR data: 町字, 街区/住居, point."""
    from kg.geocode import geocoder_for
    from kg.geocode.formats import kind_of, read_batch, serialize
    from kg.rdf.iri import Minter

    settings = _settings()
    if addresses:
        items: list[tuple[str | None, str]] = [(None, a) for a in addresses]
    else:
        name = "stdin" if path == "-" else path
        try:
            data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            raise UserError(f"{name}: {exc.strerror or exc}") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UserError(f"{name}: not UTF-8 (byte {exc.start})") from None
        kind = kind_of(None, None if path == "-" else path) if input_kind == "auto" else input_kind
        try:
            items = read_batch(text, kind, max_batch=len(text) + 1, source=name)
        except KGError as exc:
            raise UserError(str(exc)) from None
    store = _open_store()
    geocoder = geocoder_for(store, Minter(settings.base), block_cache=settings.geocode_block_cache,
                            max_length=settings.geocode_max_length)
    answers = [geocoder.geocode(text, ident) for ident, text in items]
    sys.stdout.buffer.write(serialize(answers, "geojson" if fmt == "json" else fmt))
    sys.stdout.flush()


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
               f"(SPARQL: /sparql; {settings.worker_processes} worker processes; Ctrl+C stops)")
    note = _base_note(settings)
    if note:
        click.echo(note, err=True)
    serve(settings, sock)


def _base_note(settings) -> str | None:
    """A warning when the IRIs (KG_BASE_URI) name another port than the one served: every IRI a
    page or query shows then points elsewhere (pages still link by local path)."""
    from urllib.parse import urlsplit

    base = urlsplit(settings.base)
    if base.hostname in ("localhost", "127.0.0.1", "::1") and (base.port or 80) != settings.port:
        return (f"kg: note: KG_BASE_URI is {settings.base}, not port {settings.port}: the IRIs shown point there "
                f"(set KG_BASE_URI=http://{settings.host}:{settings.port}/ and load again to mint them here)")
    return None


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
