"""The web service: Flask app factory; blueprints for the SPARQL endpoint and the pages."""

from __future__ import annotations

import atexit

from flask import Flask, Response

from kg.iri import Minter
from kg.settings import Settings, load_settings

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
}


#: CORS: any origin may read the answers, including the headers a client needs
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "X-KG-Truncated, X-KG-Generation, Content-Type",
}


def create_app(settings: Settings | None = None, *, executor=None) -> Flask:
    from kg.resources import package_dir
    from kg.server.executor import Executor

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

    from kg.server.sparql import bp as sparql_bp
    from kg.server.catalog import bp as catalog_bp
    from kg.server.pages import bp as pages_bp
    from kg.server.site import bp as site_bp

    app.register_blueprint(sparql_bp)
    app.register_blueprint(site_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(catalog_bp)

    @app.after_request
    def headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.update(CORS_HEADERS)
        if response.mimetype and response.mimetype.startswith("text/") and "charset" not in (response.content_type or ""):
            response.headers["Content-Type"] = f"{response.mimetype}; charset=utf-8"
        return response

    @app.errorhandler(413)
    def too_large(_error):
        return Response(f"request body larger than {settings.max_body} bytes (KG_MAX_BODY)\n", 413, mimetype="text/plain")

    from kg.server.fastpath import SparqlFastPath

    app.wsgi_app = SparqlFastPath(app.wsgi_app, executor=executor, max_body=settings.max_body)
    return app
