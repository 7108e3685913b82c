"""The one cattrs converter: the service's JSON <-> the models.

Built once at import. Wire names are PascalCase renames, ``None`` fields are omitted when
unstructuring, unknown keys are ignored when structuring, and types are checked strictly (a
string where a double belongs is an error; an int is accepted as a float).

Errors carry field paths in wire spelling, e.g. ``$.Location.Latitude``.
"""

from __future__ import annotations

import re
import typing
from typing import Any, Final, TypeVar, cast

import attrs
import cattrs
from cattrs.cols import mapping_structure_factory
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from pinpoint_endpoints import _models
from pinpoint_endpoints._errors import ValidationError
from pinpoint_endpoints._models import ChannelType

__all__ = ["ConversionError", "from_wire", "to_wire"]

T = TypeVar("T")

_MODELS: Final[tuple[type[Any], ...]] = (
    _models.EndpointLocation,
    _models.EndpointDemographic,
    _models.EndpointUser,
    _models.EndpointRequest,
    _models.EndpointResponse,
    _models.MessageBody,
    _models.EndpointBatchItem,
    _models.EndpointBatchRequest,
    _models.EndpointsResponse,
    _models.UpdateAttributesRequest,
    _models.AttributesResource,
)
_CHANNEL_VALUES: Final = {c.value: c for c in ChannelType}


class ConversionError(ValidationError):
    """Wire data that does not fit a model; ``messages`` name each bad field's path."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def wire_name(field: attrs.Attribute[Any]) -> str:
    """The JSON key of a model field: its metadata's ``wire`` name, else PascalCase."""
    explicit = field.metadata.get("wire")
    if explicit is not None:
        return str(explicit)
    return "".join(part.capitalize() for part in field.name.split("_"))


def _expect_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {_json_type(value)}")


def _expect_float(value: Any, _: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"expected a number, got {_json_type(value)}")


def _expect_channel(value: Any, _: Any) -> ChannelType | str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return _CHANNEL_VALUES.get(value, value)
    raise TypeError(f"expected a string, got {_json_type(value)}")


def _expect_str_list(value: Any, _: Any) -> list[str]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list of strings, got {_json_type(value)}")
    for item in value:
        if not isinstance(item, str):
            raise TypeError(f"expected a list of strings, got a {_json_type(item)} in it")
    return list(value)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _expect_object(cls: type[Any], inner: Any) -> Any:
    def structure(value: Any, _: Any) -> Any:
        if not isinstance(value, dict):
            raise TypeError(f"expected an object, got {_json_type(value)}")
        return inner(value, cls)

    return structure


def _or_none(inner: Any) -> Any:
    def structure(value: Any, type_: Any) -> Any:
        return None if value is None else inner(value, type_)

    return structure


def _register(conv: cattrs.Converter, type_: Any, hook: Any, *, generic: bool = False) -> None:
    """``hook`` for ``type_`` and, bound directly, for ``type_ | None``.

    The generated model functions then call it without cattrs' per-call Optional dispatch.
    """
    if generic:
        conv.register_structure_hook_func(lambda t: t == type_, hook)
    else:
        conv.register_structure_hook(type_, hook)
    conv.register_structure_hook_func(lambda t: t == type_ | None, _or_none(hook))


def _build() -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=True)
    _register(conv, str, _expect_str)
    _register(conv, float, _expect_float)
    conv.register_structure_hook_func(lambda t: t == ChannelType | str | None, _expect_channel)
    _register(conv, list[str], _expect_str_list, generic=True)
    conv.register_unstructure_hook_func(
        lambda t: t == ChannelType | str | None,
        lambda v: v.value if isinstance(v, ChannelType) else v,
    )
    for map_type in (dict[str, list[str]], dict[str, float]):
        structure_map = _expect_object(map_type, mapping_structure_factory(map_type, conv))
        _register(conv, map_type, structure_map, generic=True)
    for cls in _MODELS:
        attrs.resolve_types(cls)
        overrides = {}
        for field in attrs.fields(cls):
            overrides[field.name] = override(rename=wire_name(field), omit_if_default=True)
        structure = make_dict_structure_fn(cls, conv, **overrides)  # type: ignore[arg-type]
        _register(conv, cls, _expect_object(cls, structure))
        conv.register_unstructure_hook(
            cls, make_dict_unstructure_fn(cls, conv, **overrides)  # type: ignore[arg-type]
        )
    return conv


_CONVERTER = _build()
# One step of a cattrs path: ``.field``, or a map key / list index in brackets (a key is its
# repr, so it may hold dots, quotes and brackets of its own).
_STEP: Final = re.compile(
    r"""\.(\w+)|\[(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\]]*)\]"""
)


def _describe(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, TypeError) and str(exc).startswith("expected"):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"missing required key {exc}"
    return f"invalid value ({type(exc).__name__})"


def _model_in(type_: Any) -> type[Any] | None:
    """The attrs model a field holds (``EndpointLocation | None`` -> EndpointLocation)."""
    for candidate in (type_, *typing.get_args(type_)):
        if isinstance(candidate, type) and attrs.has(candidate):
            return candidate
    return None


def _wire_path(message: str, cls: type[Any]) -> str:
    """Rewrite the path of a cattrs message in wire spelling, walking the models from ``cls``.

    Field names are renamed by the model they belong to (``request_id`` is ``RequestId`` in an
    endpoint but ``RequestID`` in a `MessageBody`); map keys and list indices stay verbatim.
    """
    text, sep, path = message.rpartition(" @ ")
    if not sep or not path.startswith("$"):
        return message
    out = ["$"]
    current: type[Any] | None = cls
    pos = 1
    while pos < len(path):
        step = _STEP.match(path, pos)
        if step is None:
            out.append(path[pos:])
            break
        field = None
        if step.group(1) is not None and current is not None:
            field = attrs.fields_dict(current).get(step.group(1))
        if field is not None:
            out.append("." + wire_name(field))
            current = _model_in(field.type)
        else:
            out.append(step.group(0))
            current = None  # inside a map or list: no model fields below
        pos = step.end()
    return f"{text}{sep}{''.join(out)}"


def from_wire(data: Any, cls: type[T]) -> T:
    """Structure the service's JSON into ``cls``, or raise `ConversionError` with field paths."""
    try:
        return _CONVERTER.structure(data, cls)
    except Exception as exc:  # cattrs wraps every failure; report them with paths
        found = cattrs.transform_error(exc, path="$", format_exception=_describe)
        messages = [_wire_path(m, cls) for m in found]
        raise ConversionError(messages) from None


def to_wire(model: object) -> dict[str, Any]:
    """Unstructure a model into the service's JSON (PascalCase keys, ``None`` omitted)."""
    return cast(dict[str, Any], _CONVERTER.unstructure(model))
