"""Sphinx directives that generate reference pages from pytest-monerosim's own code.

Every table here is built at documentation build time from the objects the
package uses at run time, so the docs cannot drift from the code:

``monerosim-schema``     the scenario model (:class:`pytest_monerosim.config.model.Scenario` and
                         every model under it): field, type, default, constraints, description
``monerosim-shortcuts``  the override shortcuts (``seed`` → ``general.seed``, ...)
``monerosim-plugins``    the built-in plugins of one kind (``:kind: attack``) with their parameters
``monerosim-options``    every ``--monerosim-*`` option and its ini key (``plugin/options.py``)
``monerosim-markers``    the markers the plugin registers
``monerosim-fixtures``   the public fixtures (``plugin/fixtures.py``'s ``__all__``)
``monerosim-hooks``      the hooks of ``plugin/hookspecs.py``
``monerosim-cli``        the ``monerosim`` command's subcommands and their arguments
``monerosim-docstring``  a module's docstring (e.g. an attack's description), rendered in place
``monerosim-rest-api``   the REST API, rendered from ``observe.api.openapi_document()``

Each directive writes MyST Markdown and parses it in place (pages are Markdown).
Descriptions of model fields come from ``Field(description=...)`` or, as the
package writes them, from the string literal right under the field (read with
:mod:`ast`, since the models do not turn on pydantic's attribute docstrings).
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
import types
import typing
from collections.abc import Iterable
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from pydantic import BaseModel
from pydantic_core import PydanticUndefined
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


# -- helpers ---------------------------------------------------------------------------
def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _code(text: str) -> str:
    if "`" in text:
        return f"`` {text} ``"
    return f"`{text}`"


def attribute_docstrings(cls: type) -> dict[str, str]:
    """``name: T = ...`` followed by a string literal → {name: that string} (for each class in the MRO)."""
    out: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass in (object, BaseModel) or not klass.__module__.startswith(("pytest_monerosim",
                                                                             "monerosim_")):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        body = ast.parse(source).body[0]
        if not isinstance(body, ast.ClassDef):
            continue
        stmts = body.body
        for stmt, nxt in zip(stmts, stmts[1:], strict=False):
            if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                    and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                    and isinstance(nxt.value.value, str)):
                out[stmt.target.id] = inspect.cleandoc(nxt.value.value)
    return out


def type_text(annotation: Any) -> str:
    """A readable type: ``int``, ``float | None``, ``list[NodeGroup]``, ``'dandelion' | 'diffusion'``."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        base = args[0]
        extra = args[1:]
        for meta in extra:  # the package's named aliases
            if "parse_duration" in repr(meta):
                return "duration"
        return type_text(base)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_text(a) for a in args)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join(type_text(a) for a in args)}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def _constraints(field: Any) -> str:
    parts = []
    names = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "min_length": "min length",
             "max_length": "max length", "pattern": "matches"}
    for meta in field.metadata:
        for attr, symbol in names.items():
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(f"{symbol} {value}" if attr != "pattern" else f"matches `{value}`")
    # constraints inside Annotated aliases (e.g. Seconds: ge=0)
    return ", ".join(dict.fromkeys(parts))


def default_text(field: Any) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value = field.default_factory()
    else:
        value = field.default
    if value is PydanticUndefined:
        return ""
    if isinstance(value, BaseModel):
        dumped = value.model_dump(mode="json")
        if set(dumped) == {"name", "params"}:  # a plugin reference: as it is written in YAML
            value = dumped["name"] if not dumped["params"] else {"name": dumped["name"], **dumped["params"]}
        elif len(json.dumps(dumped)) > 60:
            return "(its fields' defaults)"
        else:
            value = dumped
    return _code(json.dumps(value))


def nested_models(annotation: Any) -> Iterable[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from nested_models(arg)


def _is_duration(field: Any) -> bool:
    return any("parse_duration" in repr(meta) for meta in field.metadata)


def field_type(field: Any) -> str:
    text = type_text(field.annotation)
    if _is_duration(field):  # ``Seconds``: Annotated[float, BeforeValidator(parse_duration), ...]
        text = "duration" + (" | None" if text.endswith("| None") else "")
    return text


def field_table(model: type[BaseModel]) -> list[str]:
    from field_notes import NOTES

    docs = attribute_docstrings(model)
    lines = ["| field | type | default | constraints | description |",
             "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        key = f"{model.__name__}.{name}"
        desc = field.description or docs.get(name) or NOTES.get(key, "")
        lines.append(
            f"| {_code(name)} | {_cell(_code(field_type(field)))} | {_cell(default_text(field))} "
            f"| {_cell(_constraints(field))} | {_cell(desc)} |"
        )
    return lines


def all_documented_models() -> list[type[BaseModel]]:
    """The scenario's models (breadth first from ``Scenario``) and every built-in plugin's params."""
    from pytest_monerosim.config.model import Scenario
    from pytest_monerosim.registry import KINDS, Registry, load_builtins

    seen: list[type[BaseModel]] = []
    queue: list[type[BaseModel]] = [Scenario]
    registry = Registry()
    load_builtins(registry)
    for kind in KINDS:
        queue.extend(spec.params for spec in registry.specs(kind))
    while queue:
        model = queue.pop(0)
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            queue.extend(m for m in nested_models(field.annotation) if m not in seen)
    return seen


def check_notes(app: Sphinx, env: Any) -> None:
    """A note whose field is gone is a build warning (an error under ``-W``)."""
    from field_notes import NOTES
    from sphinx.util import logging

    fields = {f"{m.__name__}.{name}" for m in all_documented_models() for name in m.model_fields}
    for key in sorted(set(NOTES) - fields):
        logging.getLogger(__name__).warning(
            "docs/_ext/field_notes.py: %s is not a field of any documented model (renamed or removed?)", key)


def model_doc(model: type[BaseModel]) -> str:
    doc = model.__doc__ or ""
    if doc.startswith(("Usage docs:", "!!! abstract")) or model.__module__ == "pydantic.main":
        return ""
    return inspect.cleandoc(doc)


class _MarkdownDirective(SphinxDirective):
    """A directive whose output is MyST Markdown parsed in place."""

    has_content = False

    def markdown(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        container = nodes.container()
        lines = self.markdown()
        self.state.nested_parse(StringList(lines, source=f"<{self.name}>"), self.content_offset, container,
                                match_titles=True)
        return container.children


# -- the scenario schema ------------------------------------------------------------------
SECTION_NAMES = {
    "Scenario": "the scenario (top level)",
    "General": "general",
    "Network": "network",
    "P2P": "p2p",
    "Mining": "mining",
    "Transactions": "transactions",
    "NodeGroup": "nodes[] (a node group)",
    "WalletGroup": "wallets[] (a wallet group)",
    "PluginRef": "a plugin reference (topology, latency, behaviour, strategy, attacks[])",
    "BackendSection": "backends.{sim,monerod,shadow}",
}


class SchemaDirective(_MarkdownDirective):
    """Every model reachable from ``Scenario``, breadth first, one table each."""

    def markdown(self) -> list[str]:
        from pytest_monerosim.config.model import Scenario

        out: list[str] = []
        seen: list[type[BaseModel]] = []
        queue: list[type[BaseModel]] = [Scenario]
        while queue:
            model = queue.pop(0)
            if model in seen:
                continue
            seen.append(model)
            for field in model.model_fields.values():
                queue.extend(m for m in nested_models(field.annotation) if m not in seen)
        for model in seen:
            title = SECTION_NAMES.get(model.__name__, model.__name__)
            out += [f"### {title}", ""]
            doc = model_doc(model)
            if doc:
                out += [doc, ""]
            out += field_table(model) + [""]
        return out


class ShortcutsDirective(_MarkdownDirective):
    def markdown(self) -> list[str]:
        from pytest_monerosim.config.loader import SHORTCUTS

        lines = ["| shortcut | dotted path |", "|---|---|"]
        lines += [f"| {_code(k)} | {_code(v)} |" for k, v in SHORTCUTS.items()]
        return lines


# -- plugins ------------------------------------------------------------------------------
class PluginsDirective(_MarkdownDirective):
    """``:kind: attack`` — every built-in plugin of that kind under a heading of its own;
    with ``:name: eclipse`` — that plugin only, without a heading."""

    option_spec = {"kind": directives.unchanged_required, "name": directives.unchanged}

    def markdown(self) -> list[str]:
        from pytest_monerosim.registry import Registry, load_builtins

        kind = self.options["kind"]
        only = self.options.get("name")
        registry = Registry()
        load_builtins(registry)  # built-ins only: an installed third-party plugin must not change the docs
        out: list[str] = []
        specs = [registry.get(kind, only)] if only else list(registry.specs(kind))  # type: ignore[arg-type]
        for spec in specs:
            if not only:
                out += [f"### `{spec.name}`", ""]
            if spec.description:
                out += [spec.description + ".", ""]
            if spec.default_sweep:
                sweep = ", ".join(_code(json.dumps(dict(p))) for p in spec.default_sweep)
                out += [f"Cases a bare `monerosim_attack` fixture runs: {sweep}.", ""]
            if spec.params.model_fields:
                out += [f"Parameters of `{spec.name}`:", ""] + field_table(spec.params) + [""]
            else:
                out += ["No parameters.", ""]
        return out


# -- pytest API -----------------------------------------------------------------------------
class OptionsDirective(_MarkdownDirective):
    def markdown(self) -> list[str]:
        from pytest_monerosim.plugin.options import OPTIONS

        lines = ["| command-line option | ini key | ini type | what it does |", "|---|---|---|---|"]
        for opt in OPTIONS:
            if opt.kind == "flag":
                flag = opt.flag
            elif opt.kind == "optional":
                flag = f"{opt.flag}[={opt.metavar}]"
            else:
                flag = f"{opt.flag}={(opt.metavar or opt.name.split('-')[-1]).upper()}"
            lines.append(f"| {_code(flag)} | {_code(opt.dest)} | {opt.ini_type} | {_cell(opt.help)} |")
        return lines


class MarkersDirective(_MarkdownDirective):
    def markdown(self) -> list[str]:
        from pytest_monerosim.plugin.entry import MARKERS

        out = []
        for marker in MARKERS:
            signature, _, text = marker.partition(": ")
            out += [f"`@pytest.mark.{signature}`", f": {text}", ""]
        return out


def _bullets(doc: str) -> dict[str, str]:
    """``* ``name`` — text`` lines of a module docstring → {name: text}."""
    found = {}
    for match in re.finditer(r"^\* ``(\w+)`` — (.+?)(?=^\* |\Z)", doc, re.M | re.S):
        found[match.group(1)] = " ".join(match.group(2).split())
    return found


class FixturesDirective(_MarkdownDirective):
    def markdown(self) -> list[str]:
        from pytest_monerosim.plugin import fixtures

        described = _bullets(fixtures.__doc__ or "")
        lines = ["| fixture | scope | what it gives |", "|---|---|---|"]
        for name in fixtures.__all__:
            fn = getattr(fixtures, name)
            # pytest >= 8.4 keeps the marker on the fixture definition, older pytest on the function
            definition = getattr(fn, "_fixture_function_marker", None) or getattr(
                fn, "_pytestfixturefunction", None)
            scope = getattr(definition, "scope", "function") or "function"
            text = described.get(name, "")
            func = getattr(fn, "_get_wrapped_function", None)
            wrapped = func() if callable(func) else getattr(fn, "__wrapped__", fn)
            doc = inspect.getdoc(wrapped) or ""
            if doc and doc.splitlines()[0] not in text:
                text = f"{text} {doc.splitlines()[0]}".strip()
            lines.append(f"| {_code(name)} | {scope} | {_cell(text.replace('``', '`'))} |")
        return lines


class HooksDirective(_MarkdownDirective):
    def markdown(self) -> list[str]:
        from pytest_monerosim.plugin import hookspecs

        out = []
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
            if not name.startswith("pytest_monerosim_"):
                continue
            sig = str(inspect.signature(fn)).replace("'", "")
            first = "(firstresult: the first non-None answer wins) " if getattr(
                fn, "pytest_spec", {}).get("firstresult") else ""
            doc = inspect.getdoc(fn) or ""
            out += [f"`{name}{sig}`", "", first + doc.replace("::\n", ":\n\n```python").replace(
                "\n\n    ", "\n\n    "), ""]
            if "```python" in out[-2]:
                head, code = out[-2].split("```python", 1)
                out[-2] = head + "```python\n" + textwrap.dedent(code).strip("\n") + "\n```"
        return out


class CliDirective(_MarkdownDirective):
    def markdown(self) -> list[str]:
        import argparse

        from pytest_monerosim.cli import build_parser

        parser = build_parser()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        helps = {c.dest: c.help for c in sub._choices_actions}
        out = []
        for name, p in sub.choices.items():
            out += [f"### `monerosim {name}`", ""]
            if helps.get(name):
                out += [helps[name], ""]
            out += ["```text", p.format_usage().strip(), "```", ""]
            lines = ["| argument | what it does |", "|---|---|"]
            for action in p._actions:
                if isinstance(action, argparse._HelpAction):
                    continue
                names = ", ".join(action.option_strings) or action.dest
                text = (action.help or "").replace("%(default)s", str(action.default))
                lines.append(f"| {_code(names)} | {_cell(text)} |")
            out += lines + [""]
        return out


_ROLE = re.compile(r":(?:py:)?(?:func|meth|class|mod|data|attr|obj|exc):`~?([^`]+)`")


class DocstringDirective(_MarkdownDirective):
    """A module's docstring (reStructuredText) rendered in place, its cross-references to the
    package's internals shown as code: those helpers are not part of the documented surface."""

    required_arguments = 1

    def markdown(self) -> list[str]:
        import importlib

        module = importlib.import_module(self.arguments[0])
        doc = inspect.getdoc(module) or ""
        doc = _ROLE.sub(lambda m: f"``{m.group(1).rsplit('.', 1)[-1]}``", doc)
        return ["```{eval-rst}", doc, "```"]


# -- REST API ---------------------------------------------------------------------------------
OPENAPI_HOOK = "openapi_document"


class RestApiDirective(_MarkdownDirective):
    """The REST API from the OpenAPI document ``observe.api.openapi_document()`` generates."""

    def markdown(self) -> list[str]:
        from pytest_monerosim.observe import api

        return openapi_markdown(getattr(api, OPENAPI_HOOK)())


def openapi_markdown(doc: dict[str, Any]) -> list[str]:
    """An OpenAPI 3 document as Markdown: one section per operation, then the schemas."""
    info = doc.get("info", {})
    # (generated output that holds headings must start with one: MyST attaches the sections to the
    # enclosing section, and text before the first heading would be left behind)
    out = ["### The document", "", f"Generated from the OpenAPI {doc.get('openapi', '')} document "
           f"(`pytest_monerosim.observe.api.{OPENAPI_HOOK}()`), {info.get('title', '')} "
           f"{info.get('version', '')}. The running server serves it at `/openapi.json`.", ""]
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            if method.startswith("x-") or not isinstance(op, dict):
                continue
            out += [f"### `{method.upper()} {path}`", ""]
            summary = op.get("summary") or ""
            if summary:
                out += [summary, ""]
            if op.get("description"):
                out += [inspect.cleandoc(op["description"]), ""]
            params = op.get("parameters") or []
            if params:
                out += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
                for prm in params:
                    schema = prm.get("schema", {})
                    out.append(f"| {_code(prm['name'])} | {prm.get('in', '')} | "
                               f"{_cell(_schema_type(schema))} | {prm.get('required', False)} | "
                               f"{_cell(prm.get('description', ''))} |")
                out.append("")
            body = (op.get("requestBody") or {}).get("content", {})
            for media, content in body.items():
                out += [f"Request body ({media}): {_cell(_schema_type(content.get('schema', {})))}", ""]
            responses = op.get("responses") or {}
            if responses:
                out += ["| status | meaning | body |", "|---|---|---|"]
                for status, resp in responses.items():
                    content = resp.get("content") or {}
                    kinds = "; ".join(
                        f"{m}: {_schema_type(c.get('schema', {}))}" for m, c in content.items())
                    out.append(f"| {status} | {_cell(resp.get('description', ''))} | {_cell(kinds)} |")
                out.append("")
    schemas = (doc.get("components") or {}).get("schemas") or {}
    if schemas:
        out += ["### Schemas", ""]
        for name, schema in schemas.items():
            out += [f"#### `{name}`", ""]
            if schema.get("description"):
                out += [inspect.cleandoc(schema["description"]), ""]
            props = schema.get("properties") or {}
            if props:
                required = set(schema.get("required") or ())
                out += ["| field | type | required | description |", "|---|---|---|---|"]
                for prop, sub in props.items():
                    out.append(f"| {_code(prop)} | {_cell(_schema_type(sub))} | {prop in required} | "
                               f"{_cell(sub.get('description', ''))} |")
                out.append("")
    return out



def _schema_type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_schema_type(s) for s in schema["anyOf"])
    kind = schema.get("type", "")
    if kind == "array":
        return f"array of {_schema_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    return kind or "any"


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("monerosim-schema", SchemaDirective)
    app.add_directive("monerosim-shortcuts", ShortcutsDirective)
    app.add_directive("monerosim-plugins", PluginsDirective)
    app.add_directive("monerosim-options", OptionsDirective)
    app.add_directive("monerosim-markers", MarkersDirective)
    app.add_directive("monerosim-fixtures", FixturesDirective)
    app.add_directive("monerosim-hooks", HooksDirective)
    app.add_directive("monerosim-cli", CliDirective)
    app.add_directive("monerosim-rest-api", RestApiDirective)
    app.add_directive("monerosim-docstring", DocstringDirective)
    app.connect("env-check-consistency", check_notes)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
