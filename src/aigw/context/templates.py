"""Versioned prompt templates (`name@version`) rendered in a Jinja sandbox into chat messages.

A template declares its variables (type, required or default); rendering checks the caller's values
against them, so a prompt never silently renders with a missing or mistyped value. Templates are
compiled in `jinja2.sandbox.ImmutableSandboxedEnvironment`: no access to Python internals
(`__class__`, `__globals__` ...) and no mutation of the values passed in. Variable values are data:
they are never parsed as template code.

Shipped templates live in `aigw/context/templates/*.yaml`; the database configuration may override
or add `name@version` definitions and choose the active version of each name (`TemplateStore.replace`).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

if TYPE_CHECKING:  # Jinja2 and YAML load with the first template used, not in every process
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = [
    "MessageTemplate",
    "PromptTemplate",
    "TemplateError",
    "TemplateStore",
    "Variable",
    "load_template",
    "parse_ref",
    "shipped_templates",
]

VarType = Literal["str", "int", "float", "bool", "list", "dict"]
_VAR_TYPES: frozenset[str] = frozenset(get_args(VarType))
_PY_TYPES: Mapping[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list": (list, tuple),
    "dict": (Mapping,),
}
_ROLES = frozenset({"system", "developer", "user", "assistant"})
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_VERSION = re.compile(r"^\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?$")
_TEMPLATE_FIELDS = frozenset({"name", "version", "description", "variables", "messages"})
_VARIABLE_FIELDS = frozenset({"type", "required", "default", "description", "example"})


class TemplateError(ValueError):
    """An unknown template or version, a bad definition, bad variables, or a failed render."""


def _json(value: Any) -> str:
    """The `json` filter: plain JSON for prompts (Jinja's `tojson` escapes <, > and & for HTML)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # prompts are text, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json"] = _json
    return env


def _version(value: Any, where: str) -> str:
    """A version as its canonical string: a non-negative integer or a semver-like "1.2.0[-pre]"."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and _VERSION.match(value.strip()):
        return value.strip()
    raise TemplateError(f"{where}: version {value!r} is not an integer or a semantic version like '1.2.0'")


def _version_key(version: str) -> tuple[tuple[int, ...], bool, str]:
    main, _, pre = version.partition("-")
    numbers = tuple(int(part) for part in main.split("."))
    return numbers + (0,) * (3 - len(numbers)), not pre, pre  # a pre-release sorts before its release


def parse_ref(ref: str) -> tuple[str, str | None]:
    """`"name@version"` -> (name, version); `"name"` -> (name, None), meaning the active version."""
    name, sep, version = ref.strip().partition("@")
    if not _NAME.match(name):
        raise TemplateError(f"bad template reference {ref!r}: expected 'name' or 'name@version'")
    return name, _version(version, f"template reference {ref!r}") if sep else None


@dataclass(frozen=True, slots=True)
class Variable:
    """A declared template variable: its type and either `required` or a `default`."""

    name: str
    type: VarType
    required: bool = True
    default: Any = None
    description: str = ""
    example: Any = None  # documentation, and what the tests render shipped templates with

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) and self.type != "bool":
            return False  # bool is an int in Python, never in a template's declaration
        return isinstance(value, _PY_TYPES[self.type])


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """One chat message of a template: a role and its compiled Jinja content."""

    role: str
    source: str
    compiled: jinja2.Template = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    """A parsed, compiled template version; `render` turns variables into chat messages."""

    name: str
    version: str
    description: str
    variables: Mapping[str, Variable]
    messages: tuple[MessageTemplate, ...]

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def bind(self, values: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Check `values` against the declarations and fill in defaults."""
        values = values or {}
        unknown = sorted(set(values) - set(self.variables))
        if unknown:
            raise TemplateError(f"{self.ref}: unknown variable(s) {', '.join(unknown)}")
        bound: dict[str, Any] = {}
        for name, var in self.variables.items():
            if name not in values:
                if var.required:
                    raise TemplateError(f"{self.ref}: missing required variable {name!r} ({var.type})")
                bound[name] = var.default
                continue
            value = values[name]
            if not var.accepts(value):
                raise TemplateError(f"{self.ref}: variable {name!r} must be {var.type}, got {type(value).__name__}")
            bound[name] = value
        return bound

    def render(self, values: Mapping[str, Any] | None = None) -> list[dict[str, str]]:
        """The chat messages ({role, content}) of this template with `values` filled in."""
        context = self.bind(values)
        messages: list[dict[str, str]] = []
        for message in self.messages:
            try:
                content = message.compiled.render(context)
            except Exception as exc:  # sandbox refusals, undefined names, errors raised inside expressions
                raise TemplateError(f"{self.ref}: rendering the {message.role} message failed: {exc}") from exc
            messages.append({"role": message.role, "content": content.strip()})
        return messages


def _variable(ref: str, name: str, spec: Any) -> Variable:
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, Mapping) or not _NAME.match(str(name)):
        raise TemplateError(f"{ref}: variable {name!r} must be a mapping with a type")
    extra = sorted(set(spec) - _VARIABLE_FIELDS)
    kind = spec.get("type")
    if extra or kind not in _VAR_TYPES:
        raise TemplateError(
            f"{ref}: variable {name!r} needs a type among {', '.join(sorted(_VAR_TYPES))}"
            + (f" (unknown fields: {', '.join(extra)})" if extra else "")
        )
    has_default = "default" in spec
    required = bool(spec.get("required", not has_default))
    if required and has_default:
        raise TemplateError(f"{ref}: variable {name!r} is required and has a default: choose one")
    var = Variable(
        str(name),
        cast(VarType, kind),
        required,
        spec.get("default"),
        str(spec.get("description", "")),
        spec.get("example"),
    )
    for key in ("default", "example"):
        if key in spec and not var.accepts(spec[key]):
            raise TemplateError(f"{ref}: {key} of variable {name!r} is not a {kind}")
    return var


def _message(ref: str, index: int, spec: Any, declared: Iterable[str]) -> MessageTemplate:
    import jinja2
    import jinja2.meta

    env = _environment()
    if not isinstance(spec, Mapping) or spec.get("role") not in _ROLES or not isinstance(spec.get("content"), str):
        raise TemplateError(f"{ref}: message {index} needs a role among {', '.join(sorted(_ROLES))} and a content")
    source = spec["content"]
    try:
        used = jinja2.meta.find_undeclared_variables(env.parse(source))
        compiled = env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"{ref}: message {index} has a template syntax error: {exc.message} (line {exc.lineno})"
        ) from exc
    undeclared = sorted(used - set(declared) - set(env.globals))
    if undeclared:
        raise TemplateError(f"{ref}: message {index} uses undeclared variable(s) {', '.join(undeclared)}")
    return MessageTemplate(str(spec["role"]), source, compiled)


def load_template(definition: Mapping[str, Any], ref: str | None = None) -> PromptTemplate:
    """Parse and compile one template definition; `ref` ("name@version") fills in or must match its fields."""
    where = ref or "template"
    if not isinstance(definition, Mapping):
        raise TemplateError(f"{where}: a template definition must be a mapping")
    extra = sorted(set(definition) - _TEMPLATE_FIELDS)
    if extra:
        raise TemplateError(f"{where}: unknown field(s) {', '.join(extra)}")
    ref_name, ref_version = parse_ref(ref) if ref else (None, None)
    name = str(definition.get("name", ref_name or ""))
    if not _NAME.match(name) or (ref_name is not None and name != ref_name):
        raise TemplateError(f"{where}: name {name!r} is missing, malformed or differs from the reference")
    version = _version(definition.get("version", ref_version), f"{where}")
    if ref_version is not None and version != ref_version:
        raise TemplateError(f"{where}: version {version!r} differs from the reference")
    where = f"{name}@{version}"
    variables = definition.get("variables")
    variables = {} if variables is None else variables  # a template may take no variables
    messages = definition.get("messages")
    if not isinstance(variables, Mapping) or not isinstance(messages, list) or not messages:
        raise TemplateError(f"{where}: needs 'variables' as a mapping and 'messages' as a non-empty list")
    declared = {str(key): _variable(where, str(key), spec) for key, spec in variables.items()}
    compiled = tuple(_message(where, i, spec, declared) for i, spec in enumerate(messages))
    return PromptTemplate(name, version, str(definition.get("description", "")), MappingProxyType(declared), compiled)


@lru_cache(maxsize=1)
def shipped_templates() -> Mapping[str, PromptTemplate]:
    """The templates shipped in `aigw/context/templates/*.yaml`, keyed by "name@version" (parsed once)."""
    import yaml

    folder = resources.files("aigw.context").joinpath("templates")
    found: dict[str, PromptTemplate] = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith((".yaml", ".yml")):
            continue
        try:
            definition = yaml.safe_load(entry.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise TemplateError(f"shipped template file {entry.name} is not valid YAML: {exc}") from exc
        template = load_template(definition)
        if template.ref in found:
            raise TemplateError(f"shipped template {template.ref} is defined twice ({entry.name})")
        found[template.ref] = template
    return MappingProxyType(found)


@dataclass(frozen=True, slots=True)
class _Catalog:
    templates: Mapping[str, Mapping[str, PromptTemplate]]  # name -> version -> template
    active: Mapping[str, str]  # name -> version
    overrides: Mapping[str, tuple[Any, PromptTemplate]]  # ref -> (definition as given, parsed)


def _default_version(versions: Iterable[str]) -> str:
    ordered = sorted(versions, key=_version_key)
    releases = [version for version in ordered if "-" not in version]
    return (releases or ordered)[-1]


class TemplateStore:
    """Shipped templates plus configured overrides, and the active version of each name.

    `replace` checks a whole new configuration before swapping it in with one assignment, so a bad
    configuration leaves the store as it was and readers never see half of one.
    """

    def __init__(
        self,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        active: Mapping[str, int | str] | None = None,
        *,
        base: Mapping[str, PromptTemplate] | None = None,
    ) -> None:
        self._base = base
        self._catalog: _Catalog | None = _Catalog(MappingProxyType({}), MappingProxyType({}), MappingProxyType({}))
        self.replace(overrides, active)

    @property
    def _current(self) -> _Catalog:
        """The catalog in force; the shipped templates alone are parsed on the first use."""
        if self._catalog is None:
            self._catalog = self._build(None, None)
        return self._catalog

    def replace(
        self, overrides: Mapping[str, Mapping[str, Any]] | None = None, active: Mapping[str, int | str] | None = None
    ) -> None:
        """Swap in new overrides ("name@version" -> definition) and active versions (name -> version).

        With neither, and the shipped templates not parsed yet, nothing is parsed until a template is used."""
        if not overrides and not active and self._base is None:
            self._catalog = None
            return
        self._catalog = self._build(overrides, active)

    def _build(
        self, overrides: Mapping[str, Mapping[str, Any]] | None, active: Mapping[str, int | str] | None
    ) -> _Catalog:
        previous = self._catalog.overrides if self._catalog is not None else {}
        parsed: dict[str, tuple[Any, PromptTemplate]] = {}
        for ref, definition in (overrides or {}).items():
            known = previous.get(ref)
            # An unchanged definition keeps its compiled template: a reload recompiles only what changed.
            template = known[1] if known is not None and known[0] == definition else load_template(definition, ref)
            parsed[template.ref] = (copy.deepcopy(definition), template)
        if self._base is None:
            self._base = shipped_templates()
        by_name: dict[str, dict[str, PromptTemplate]] = {}
        for template in [*self._base.values(), *(template for _, template in parsed.values())]:
            by_name.setdefault(template.name, {})[template.version] = template  # overrides come last and win
        chosen = {name: _default_version(versions) for name, versions in by_name.items()}
        for name, version in (active or {}).items():
            wanted = _version(version, f"active version of {name!r}")
            self._lookup(by_name, name, wanted)
            chosen[name] = wanted
        return _Catalog(
            MappingProxyType({name: MappingProxyType(versions) for name, versions in by_name.items()}),
            MappingProxyType(chosen),
            MappingProxyType(parsed),
        )

    @staticmethod
    def _lookup(templates: Mapping[str, Mapping[str, PromptTemplate]], name: str, version: str) -> PromptTemplate:
        versions = templates.get(name)
        if versions is None:
            raise TemplateError(f"unknown template {name!r}; known: {', '.join(sorted(templates)) or 'none'}")
        template = versions.get(version)
        if template is None:
            known = ", ".join(sorted(versions, key=_version_key))
            raise TemplateError(f"template {name!r} has no version {version!r}; versions: {known}")
        return template

    def get(self, ref: str) -> PromptTemplate:
        """The template for "name@version", or the active version for a bare "name"."""
        catalog = self._current
        name, version = parse_ref(ref)
        if version is None:
            version = catalog.active.get(name, "")
        return self._lookup(catalog.templates, name, version)

    def render(self, ref: str, variables: Mapping[str, Any] | None = None) -> list[dict[str, str]]:
        """Render "name[@version]" with `variables` into chat messages ({role, content})."""
        return self.get(ref).render(variables)

    def names(self) -> list[str]:
        return sorted(self._current.templates)

    def versions(self, name: str) -> list[str]:
        """The versions of `name`, oldest first."""
        return sorted(self._current.templates.get(name, {}), key=_version_key)

    def active_version(self, name: str) -> str:
        """The version a bare `name` renders."""
        return self.get(name).version
