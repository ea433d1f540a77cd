"""Generate Haven's client libraries from its OpenAPI document.

    python scripts/generate_clients.py            # write clients/openapi.json and both clients
    python scripts/generate_clients.py --check    # exit 1 when the committed files are stale

Writes
- `clients/openapi.json`: the document of `haven.app.create_app()`, stable (sorted keys);
- `clients/python/haven_client/_generated.py`: TypedDicts for every schema and the `Client` /
  `AsyncClient` classes with one typed method per operation, on the hand-written transport in
  `_transport.py` (retries on 429/503 with back-off, `Idempotency-Key`), by the small generator
  below: it reads only what Haven's document uses ($ref, anyOf, enum, items,
  additionalProperties, multipart bodies) and fails loudly on anything else;
- `clients/typescript/src/schema.d.ts`: the `paths` / `components` types by `openapi-typescript`
  from the lockfile-installed `clients/typescript/node_modules` (`npm ci` there first; skipped
  with a message when it is not installed, and `--check` then fails).
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "clients"
OPENAPI = CLIENTS / "openapi.json"
PY_OUT = CLIENTS / "python" / "haven_client" / "_generated.py"
TS_DIR = CLIENTS / "typescript"
TS_OUT = TS_DIR / "src" / "schema.d.ts"
METHODS = ("get", "post", "put", "patch", "delete")


def openapi_document() -> dict[str, Any]:
    """Haven's OpenAPI document, built from the app without a database connection."""
    sys.path.insert(0, str(ROOT / "src"))
    from haven.app import create_app
    from haven.core.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(var_dir=Path(tmp), database_url=f"sqlite:///{tmp}/openapi.db"))
        return app.openapi()


def dump_document(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- Python ------------------------------------------------------------------------------------


def _class_name(name: str) -> str:
    return re.sub(r"\W", "_", name)


def _ident(name: str) -> str:
    out = re.sub(r"\W", "_", name)
    return out + "_" if keyword.iskeyword(out) else out


class PyTypes:
    """JSON Schema -> Python type expressions for Haven's document."""

    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas

    def expr(self, s: dict[str, Any]) -> str:
        if "$ref" in s:
            name = s["$ref"].rsplit("/", 1)[1]
            return _class_name(name)
        if "anyOf" in s:
            parts: list[str] = []
            for option in s["anyOf"]:
                t = self.expr(option)
                if t not in parts:
                    parts.append(t)
            if "None" in parts:  # `X | None` with None last reads best
                parts = [p for p in parts if p != "None"] + ["None"]
            return " | ".join(parts)
        if "enum" in s:
            return "Literal[" + ", ".join(json.dumps(v) for v in s["enum"]) + "]"
        if "const" in s:
            return f"Literal[{json.dumps(s['const'])}]"
        t = s.get("type")
        if t == "string":
            if s.get("format") == "binary" or "contentMediaType" in s:
                return "FileInput"
            return "str"
        if t == "integer":
            return "int"
        if t == "number":
            return "float"
        if t == "boolean":
            return "bool"
        if t == "null":
            return "None"
        if t == "array":
            return f"list[{self.expr(s.get('items', {}))}]"
        if t == "object" or "additionalProperties" in s or "properties" in s:
            extra = s.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                return f"dict[str, {self.expr(extra)}]"
            return "dict[str, Any]"
        if not s or set(s) <= {"title", "description", "default", "examples"}:
            return "Any"
        raise SystemExit(f"generate_clients: unsupported schema {s!r}")


def _typed_dict(name: str, schema: dict[str, Any], types: PyTypes) -> str:
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    doc = (schema.get("description") or "").strip().splitlines()
    fields = []
    for prop, ps in props.items():
        t = types.expr(ps)
        fields.append((prop, t if prop in required else f"NotRequired[{t}]"))
    if not fields or any(not p.isidentifier() or keyword.iskeyword(p) for p, _ in fields):
        body = ", ".join(f"{json.dumps(p)}: {json.dumps(t)}" for p, t in fields)
        return f'{name} = TypedDict("{name}", {{{body}}})\n'
    lines = [f"class {name}(TypedDict):"]
    if doc:
        lines.append(f'    """{doc[0]}"""')
        lines.append("")
    lines += [f"    {p}: {t}" for p, t in fields]
    return "\n".join(lines) + "\n"


def _operation_names(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
    """Method names: the route function's name (FastAPI's operationId without its path
    suffix); a name used twice is prefixed with its first path segment after /v1/."""
    base: dict[tuple[str, str], str] = {}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method not in METHODS:
                continue
            suffix = re.sub(r"\W", "_", path) + "_" + method
            op_id = op["operationId"]
            base[(path, method)] = op_id[: -len(suffix)] if op_id.endswith(suffix) else op_id
    counts: dict[str, int] = {}
    for name in base.values():
        counts[name] = counts.get(name, 0) + 1
    out = {}
    for (path, method), name in base.items():
        if counts[name] > 1:
            segment = next(p for p in path.split("/") if p and p != "v1")
            name = f"{_ident(segment)}_{name}" if not name.startswith(_ident(segment)) else name
        out[(path, method)] = name
    if len(set(out.values())) != len(out):
        raise SystemExit("generate_clients: two operations share a method name")
    return out


def _json_schema(content: dict[str, Any]) -> dict[str, Any] | None:
    entry = content.get("application/json")
    return None if entry is None else entry.get("schema", {})


def _method(path: str, method: str, op: dict[str, Any], name: str, types: PyTypes, schemas: dict[str, Any]) -> str:
    params = op.get("parameters", [])
    path_params = [p for p in params if p["in"] == "path"]
    query_params = [p for p in params if p["in"] == "query"]
    args: list[str] = ["self"] + [f"{_ident(p['name'])}: str" for p in path_params]
    call: list[str] = []
    body = op.get("requestBody")
    kw: list[str] = []
    if body is not None:
        content = body["content"]
        if "application/json" in content:
            t = types.expr(content["application/json"]["schema"])
            args.append(f"body: {t}" if body.get("required") else f"body: {t} | None = None")
            call.append("json=body")
        elif "multipart/form-data" in content:
            ref = content["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
            form = schemas[ref]
            req = set(form.get("required", []))
            files, data = [], []
            for prop, ps in form["properties"].items():
                t = types.expr(ps)
                if prop in req:
                    args.append(f"{_ident(prop)}: {t}")
                else:
                    kw.append(
                        f"{_ident(prop)}: {t} | None = None" if "None" not in t else f"{_ident(prop)}: {t} = None"
                    )
                (files if t == "FileInput" else data).append(prop)
            call.append("files={" + ", ".join(f'"{p}": {_ident(p)}' for p in files) + "}")
            call.append("data={" + ", ".join(f'"{p}": {_ident(p)}' for p in data) + "}")
        else:
            raise SystemExit(f"generate_clients: unsupported request body of {method} {path}")
    for p in query_params:
        t = types.expr(p.get("schema", {}))
        kw.append(f"{_ident(p['name'])}: {t} | None = None" if "None" not in t else f"{_ident(p['name'])}: {t} = None")
    if query_params:
        call.append("params={" + ", ".join(f'"{p["name"]}": {_ident(p["name"])}' for p in query_params) + "}")
    if method != "get":
        kw.append("idempotency_key: str | None = None")
        call.append("idempotency_key=idempotency_key")
    if kw:
        args.append("*")
        args += kw
    ok = next((c for c in ("200", "201", "202", "204") if c in op["responses"]), None)
    response = op["responses"].get(ok or "", {})
    rschema = _json_schema(response.get("content", {})) if response else None
    if ok == "204" or not response.get("content"):
        ret, kind = "None", "none"
    elif rschema is None:
        ret, kind = "bytes", "bytes"
    else:
        ret, kind = types.expr(rschema), "json"
    fmt_path = re.sub(r"\{(\w+)\}", lambda m: "{_q(" + _ident(m.group(1)) + ")}", path)
    summary = (op.get("description") or op.get("summary") or "").strip().splitlines()
    doc = f"{method.upper()} {path}" + (f": {summary[0]}" if summary else "")
    sig = ", ".join(args)
    path_expr = f'f"{fmt_path}"' if fmt_path != path else f'"{path}"'
    call_args = ", ".join([f'"{method.upper()}"', path_expr, *call, f'expect="{kind}"'])
    ignore = "" if ret in ("Any", "None") else "  # type: ignore[no-any-return]"
    verb = "" if ret == "None" else "return "
    return f'    def {name}({sig}) -> {ret}:\n        """{doc}"""\n        {verb}self._request({call_args}){ignore}\n'


PY_HEADER = '''"""Generated from Haven's OpenAPI document by scripts/generate_clients.py: do not edit.

Every schema is a TypedDict (what the API sends and accepts, as plain dicts); `Client` and
`AsyncClient` have one method per operation. Transport, retries and errors: `_transport.py`.
"""

# ruff: noqa: E501
from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from haven_client._transport import AsyncTransport, FileInput, SyncTransport, _q

__all__ = ["AsyncClient", "Client", "FileInput"]

'''


def python_client(doc: dict[str, Any]) -> str:
    schemas: dict[str, Any] = doc["components"]["schemas"]
    types = PyTypes(schemas)
    parts = [PY_HEADER]
    for name in sorted(schemas):
        if name.startswith("Body_"):
            continue  # multipart forms become keyword arguments
        parts.append(_typed_dict(_class_name(name), schemas[name], types) + "\n\n")
    names = _operation_names(doc)
    methods = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method in METHODS:
                methods.append(_method(path, method, op, names[(path, method)], types, schemas))
    sync = "\n".join(methods)
    parts.append(
        "\nclass Client(SyncTransport):\n"
        '    """Haven\'s API, synchronous: `Client(base_url, api_key)`; see SyncTransport for options."""\n\n' + sync
    )
    async_methods = (
        sync.replace("    def ", "    async def ")
        .replace("return self._request(", "return await self._request(")
        .replace("        self._request(", "        await self._request(")
    )
    parts.append(
        "\n\nclass AsyncClient(AsyncTransport):\n"
        '    """Haven\'s API, asynchronous: `async with AsyncClient(base_url, api_key) as c: ...`."""\n\n'
        + async_methods
    )
    return "".join(parts)


# --- TypeScript --------------------------------------------------------------------------------


def typescript_types(doc_path: Path) -> str | None:
    """`openapi-typescript`'s output for the document, or None when node_modules is missing."""
    cli = TS_DIR / "node_modules" / "openapi-typescript" / "bin" / "cli.js"
    if not cli.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "schema.d.ts"
        subprocess.run(["node", str(cli), str(doc_path), "-o", str(out)], check=True, capture_output=True)
        return out.read_text()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="fail when the committed files are stale")
    args = ap.parse_args(argv)
    doc = openapi_document()
    with tempfile.TemporaryDirectory() as tmp:
        doc_path = Path(tmp) / "openapi.json"
        doc_path.write_text(dump_document(doc))
        wanted = {OPENAPI: dump_document(doc), PY_OUT: python_client(doc)}
        ts = typescript_types(doc_path)
    if ts is None:
        print("clients/typescript/node_modules is missing: run `npm ci` there (make clients)", file=sys.stderr)
        if args.check:
            return 1
    else:
        wanted[TS_OUT] = ts
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text() != text]
    if args.check:
        for p in stale:
            print(f"stale: {p.relative_to(ROOT)} (run python scripts/generate_clients.py)", file=sys.stderr)
        return 1 if stale else 0
    for p in stale:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(wanted[p])
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
