"""The web service: the Flask app factory, its blueprints (:mod:`kg.server.views`) and handlers.

Requests reach the data through one executor (``app.extensions["kg_executor"]``), which runs
:class:`kg.server.handler.RequestHandler` under the query time limit; plain SPARQL queries are
answered before Flask by :mod:`kg.server.fastpath` with the same protocol code.
"""

from __future__ import annotations

import atexit

from flask import Flask, Response

from kg.rdf.iri import Minter
from kg.server.headers import CORS_HEADERS, SECURITY_HEADERS
from kg.settings import Settings, load_settings

__all__ = ["create_app", "CORS_HEADERS", "SECURITY_HEADERS"]


def create_app(settings: Settings | None = None, *, executor=None) -> Flask:
    from kg.resources import package_dir
    from kg.server.errors import register_error_handlers
    from kg.server.executor import Executor
    from kg.server.fastpath import SparqlFastPath
    from kg.server.views import catalog, changes, geocode, pages, site, sparql

    settings = settings or load_settings()
    app = Flask(__name__, template_folder=str(package_dir("web") / "templates"),
                static_folder=str(package_dir("web") / "static"), static_url_path="/static")
    app.config["KG_SETTINGS"] = settings
    app.config["KG_MINTER"] = Minter(settings.base)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body
    app.config["JSON_AS_ASCII"] = False
    if executor is None:
        executor = Executor(settings)
        atexit.register(executor.close)
    app.extensions["kg_executor"] = executor

    for module in (sparql, site, pages, catalog, changes, geocode):
        app.register_blueprint(module.bp)
    register_error_handlers(app)

    @app.after_request
    def headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.update(CORS_HEADERS)
        if response.mimetype and response.mimetype.startswith("text/") and "charset" not in (response.content_type or ""):
            response.headers["Content-Type"] = f"{response.mimetype}; charset=utf-8"
        return response

    app.wsgi_app = SparqlFastPath(app.wsgi_app, executor=executor, max_body=settings.max_body,
                                  retry_after=settings.retry_after)
    return app
