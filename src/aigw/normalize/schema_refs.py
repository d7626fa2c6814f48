"""The references (`$ref`, `$dynamicRef`) of a caller's JSON schema, checked before any provider is called.

`jsonschema`'s default registry fetched any `$ref` it could not resolve: over HTTP with urllib and
no timeout (blocking the event loop, and a request forgery reaching whatever the gateway can
reach), and from `file://` URLs. It also resolved references lazily, while judging the answer, so
an unresolvable one raised after the provider was paid (a 500).

Decisions:
- `NO_RETRIEVAL` is a registry whose retrieval refuses every URI: nothing outside the caller's
  schema is ever opened. The validator is built on it.
- Every reference is resolved when the request is read, each from the base URI in force where it
  is written (`$id`s included), and must land on a place of the schema that the meta-schema check
  validated as a schema (a subschema, or `true`/`false`): a pointer into `const` or `enum` would
  hand `jsonschema` data it cannot run. Anything else is a 400 naming the reference.
- References whose chain loops without reading deeper into the answer (`{"$ref": "#"}`, two
  `$defs` pointing at each other, an `anyOf` that refers back to its schema) recurse forever
  whatever the answer: refused too, used or not. A `$dynamicRef` counts as pointing at every
  schema holding its `$dynamicAnchor`, as the dynamic scope may pick any of them.
The walk is iterative and visits each subschema once: its cost is linear in the schema, whose size
is bounded before it starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012, Schema, SchemaResource

_REFS = ("$ref", "$dynamicRef")
_IN_PLACE_LISTS = ("allOf", "anyOf", "oneOf")  # applied to the same part of the answer as their schema
_IN_PLACE_SCHEMAS = ("not", "if", "then", "else")
_MAX_QUOTED = 80
_DONE = object()
_END: tuple[Any, str | None] = (_DONE, None)


class ReferenceRefused(ValueError):
    """A reference of the caller's schema that leaves it, does not resolve, or loops in place."""


def _refuse_retrieval(uri: str) -> Resource[Schema]:
    raise LookupError(f"{uri} is not fetched")  # `referencing` reports it as Unresolvable


NO_RETRIEVAL: Registry[Schema] = Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]


def _quoted(ref: str) -> str:
    return repr(ref if len(ref) <= _MAX_QUOTED else ref[: _MAX_QUOTED - 3] + "...")


def check_references(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The subschemas of `schema` (the objects; `true`/`false` are left out); raises ReferenceRefused
    unless every reference resolves inside `schema` without looping in place."""
    root = DRAFT202012.create_resource(schema)
    resolver = NO_RETRIEVAL.resolver_with_root(root)
    subschemas: dict[int, dict[str, Any]] = {}
    refs: list[tuple[dict[str, Any], str, Any]] = []  # (where, the reference, what it resolved to)
    pending: list[tuple[SchemaResource, Any]] = [(root, resolver)]
    while pending:
        resource, scope = pending.pop()
        contents = resource.contents
        if isinstance(contents, dict):
            subschemas[id(contents)] = contents
            for keyword in _REFS:
                ref = contents.get(keyword)
                if isinstance(ref, str):
                    refs.append((contents, ref, _resolve(scope, ref)))
        pending.extend((child, scope.in_subresource(child)) for child in resource.subresources())
    for _, ref, target in refs:
        if not isinstance(target, bool) and id(target) not in subschemas:
            raise ReferenceRefused(f"$ref {_quoted(ref)} that does not point at a schema")
    _refuse_loops(subschemas, refs)
    return list(subschemas.values())


def _resolve(scope: Any, ref: str) -> Any:
    try:
        return scope.lookup(ref).contents
    except (Unresolvable, ValueError):  # ValueError: not a URI (`urljoin` on a bad IPv6 host)
        raise ReferenceRefused(
            f"$ref {_quoted(ref)} that does not resolve inside the schema (other documents are never fetched)"
        ) from None


def _in_place_children(
    schema: dict[str, Any], refs: dict[int, list[tuple[str, Any]]], anchors: dict[str, list[Any]]
) -> Iterator[tuple[Any, str | None]]:
    for keyword in _IN_PLACE_LISTS:
        items = schema.get(keyword)
        yield from ((item, None) for item in (items if isinstance(items, list) else ()))
    for keyword in _IN_PLACE_SCHEMAS:
        if keyword in schema:
            yield schema[keyword], None
    dependent = schema.get("dependentSchemas")
    yield from ((item, None) for item in (dependent.values() if isinstance(dependent, dict) else ()))
    for ref, target in refs.get(id(schema), ()):
        yield target, ref
        if ref == schema.get("$dynamicRef"):
            yield from ((anchored, ref) for anchored in anchors.get(ref.partition("#")[2], ()))


def _refuse_loops(subschemas: dict[int, dict[str, Any]], refs: list[tuple[dict[str, Any], str, Any]]) -> None:
    """Depth-first search of the graph of in-place applications; a back edge is a loop."""
    by_owner: dict[int, list[tuple[str, Any]]] = {}
    for owner, written, target in refs:
        by_owner.setdefault(id(owner), []).append((written, target))
    anchors: dict[str, list[Any]] = {}
    for schema in subschemas.values():
        if isinstance(schema.get("$dynamicAnchor"), str):
            anchors.setdefault(schema["$dynamicAnchor"], []).append(schema)
    done: set[int] = set()
    for start in subschemas.values():
        if id(start) in done:
            continue
        on_path: dict[int, int] = {id(start): 0}
        path: list[tuple[Any, Iterator[tuple[Any, str | None]], str | None]] = [
            (start, _in_place_children(start, by_owner, anchors), None)
        ]
        while path:
            schema, children, _ = path[-1]
            child, ref = next(children, _END)
            if child is _DONE:
                path.pop()
                del on_path[id(schema)]
                done.add(id(schema))
            elif isinstance(child, dict) and id(child) in on_path:
                loop = [label for _, _, label in path[on_path[id(child)] + 1 :]] + [ref]
                named = next((label for label in loop if label is not None), "?")
                raise ReferenceRefused(f"$ref {_quoted(named)} that loops back without reading deeper into the answer")
            elif isinstance(child, dict) and id(child) not in done:
                on_path[id(child)] = len(path)
                path.append((child, _in_place_children(child, by_owner, anchors), ref))
