// The query UI: run with fetch, render a table with IRIs linked to their pages, permalinks,
// downloads, Ctrl+Enter. No external libraries (served offline).
(function () {
  "use strict";
  const form = document.getElementById("query-form");
  const editor = document.getElementById("query");
  const results = document.getElementById("results");
  const status = document.getElementById("status");
  const endpoint = form.getAttribute("action");

  function queryText() { return editor.value; }

  const base = editor.getAttribute("data-base") || "";
  let prefixes = {};
  try { prefixes = JSON.parse(editor.getAttribute("data-prefixes") || "{}"); } catch (e) { /* none */ }
  const permalink = document.getElementById("permalink");

  function shortName(iri) {
    // the longest predeclared namespace that starts the IRI, as prefix:name
    let best = null;
    Object.keys(prefixes).forEach(function (p) {
      const ns = prefixes[p];
      if (iri.indexOf(ns) === 0 && /^[A-Za-z0-9_.\-]*$/.test(iri.slice(ns.length)) && (!best || ns.length > prefixes[best].length)) best = p;
    });
    return best === null ? iri : best + ":" + iri.slice(prefixes[best].length);
  }

  function permalinkUrl() {
    return window.location.origin + endpoint + "?q=" + encodeURIComponent(queryText());
  }

  function updatePermalink() { permalink.href = permalinkUrl(); }

  function localHref(iri) {
    // IRIs under the graph's base link to their local page, whatever the base
    if (base && iri.indexOf(base) === 0) return "/" + iri.slice(base.length);
    try {
      const u = new URL(iri);
      if (u.origin === window.location.origin) return u.pathname + u.hash;
    } catch (e) { /* not a URL */ }
    return iri;
  }

  function cell(term) {
    const td = document.createElement("td");
    if (!term) return td;
    if (term.type === "uri") {
      const a = document.createElement("a");
      a.href = localHref(term.value);
      a.textContent = shortName(term.value);
      a.title = term.value;
      td.appendChild(a);
    } else {
      td.textContent = term.type === "bnode" ? "_:" + term.value : term.value;
      if (term["xml:lang"]) {
        const span = document.createElement("span");
        span.className = "lang";
        span.textContent = " @" + term["xml:lang"];
        td.appendChild(span);
      }
    }
    return td;
  }

  function render(data, truncated) {
    results.textContent = "";
    if (typeof data.boolean === "boolean") {
      const answer = document.createElement("p");
      answer.className = "ask " + (data.boolean ? "yes" : "no");
      answer.textContent = data.boolean ? "はい / true" : "いいえ / false";
      results.appendChild(answer);
      status.textContent = "ASK: " + (data.boolean ? "true" : "false");
      return;
    }
    const table = document.createElement("table");
    table.className = "results";
    const head = table.createTHead().insertRow();
    data.head.vars.forEach(function (v) {
      const th = document.createElement("th");
      th.textContent = v;
      head.appendChild(th);
    });
    const body = table.createTBody();
    data.results.bindings.forEach(function (b) {
      const tr = body.insertRow();
      data.head.vars.forEach(function (v) { tr.appendChild(cell(b[v])); });
    });
    results.appendChild(table);
    status.textContent = data.results.bindings.length + " 行 / rows" + (truncated ? " — " + truncated : "");
  }

  function run() {
    const q = queryText();
    history.replaceState(null, "", endpoint + "?q=" + encodeURIComponent(q));
    status.className = "";
    status.textContent = "実行中… / running…";
    results.textContent = "";
    updatePermalink();
    const started = performance.now();
    fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json, application/n-triples;q=0.9" },
      body: "query=" + encodeURIComponent(q)
    }).then(function (r) {
      const type = r.headers.get("Content-Type") || "";
      if (!r.ok) return r.text().then(function (t) { throw new Error(r.status + ": " + t); });
      if (type.indexOf("json") >= 0) {
        return r.json().then(function (d) {
          render(d, r.headers.get("X-KG-Truncated"));
          status.textContent += " (" + Math.round(performance.now() - started) + " ms)";
        });
      }
      return r.text().then(function (t) {
        results.textContent = "";
        const pre = document.createElement("pre");
        pre.className = "triples";
        pre.textContent = t;
        results.appendChild(pre);
        const count = t.split("\n").filter(function (l) { return l.trim() !== "" && l.trim()[0] !== "#"; }).length;
        status.textContent = count + " トリプル / triples (" + Math.round(performance.now() - started) + " ms)";
      });
    }).catch(function (e) {
      results.textContent = "";
      status.className = "error";
      status.textContent = e.message;
    });
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
  editor.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); run(); }
  });
  document.querySelectorAll("button.example").forEach(function (b) {
    b.addEventListener("click", function () { editor.value = b.getAttribute("data-query"); updatePermalink(); run(); });
  });
  editor.addEventListener("input", updatePermalink);
  permalink.addEventListener("click", function (e) {
    e.preventDefault();
    const url = permalinkUrl();
    permalink.href = url;
    history.replaceState(null, "", url);
    if (navigator.clipboard) navigator.clipboard.writeText(url);
    status.textContent = "URL: " + url;
  });
  document.querySelectorAll("a.download").forEach(function (a) {
    a.addEventListener("click", function () {
      a.href = endpoint + "?query=" + encodeURIComponent(queryText()) + "&format=" + a.getAttribute("data-format") + "&download=1";
    });
  });
  if (editor.value.trim() === "") {
    const first = document.querySelector("button.example");
    if (first) editor.value = first.getAttribute("data-query");
    updatePermalink();
  } else if (new URLSearchParams(window.location.search).get("q")) {
    run();
  }
})();
