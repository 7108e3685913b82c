"""The one cattrs converter: the service's JSON <-> the models.

Built once at import. Wire names are PascalCase renames, ``None`` fields are omitted when
unstructuring, unknown keys are ignored when structuring, and types are checked strictly (a
string where a double belongs is an error; an int is accepted as a float).

Errors carry field paths in wire spelling, e.g. ``$.Location.Latitude``.
"""

from __future__ import annotations

import re
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


def _build() -> tuple[cattrs.Converter, dict[str, str]]:
    conv = cattrs.Converter(detailed_validation=True)
    conv.register_structure_hook(str, _expect_str)
    conv.register_structure_hook(float, _expect_float)
    conv.register_structure_hook_func(lambda t: t == ChannelType | str | None, _expect_channel)
    conv.register_structure_hook_func(lambda t: t == list[str], _expect_str_list)
    conv.register_unstructure_hook_func(
        lambda t: t == ChannelType | str | None,
        lambda v: v.value if isinstance(v, ChannelType) else v,
    )
    for map_type in (dict[str, list[str]], dict[str, float]):
        conv.register_structure_hook_func(
            lambda t, m=map_type: t == m,  # type: ignore[misc]
            _expect_object(map_type, mapping_structure_factory(map_type, conv)),
        )
    renames: dict[str, str] = {}
    for cls in _MODELS:
        attrs.resolve_types(cls)
        overrides = {}
        for field in attrs.fields(cls):
            wire = wire_name(field)
            renames[field.name] = wire
            overrides[field.name] = override(rename=wire, omit_if_default=True)
        structure = make_dict_structure_fn(cls, conv, **overrides)  # type: ignore[arg-type]
        conv.register_structure_hook(cls, _expect_object(cls, structure))
        conv.register_unstructure_hook(
            cls, make_dict_unstructure_fn(cls, conv, **overrides)  # type: ignore[arg-type]
        )
    return conv, renames


_CONVERTER, _RENAMES = _build()
_SEGMENT: Final = re.compile(r"\.([a-z_]+)")


def _describe(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, TypeError) and str(exc).startswith("expected"):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"missing required key {exc}"
    return f"invalid value ({type(exc).__name__})"


def _wire_path(message: str) -> str:
    return _SEGMENT.sub(lambda m: "." + _RENAMES.get(m.group(1), m.group(1)), message)


def from_wire(data: Any, cls: type[T]) -> T:
    """Structure the service's JSON into ``cls``, or raise `ConversionError` with field paths."""
    try:
        return _CONVERTER.structure(data, cls)
    except Exception as exc:  # cattrs wraps every failure; report them with paths
        found = cattrs.transform_error(exc, path="$", format_exception=_describe)
        messages = [_wire_path(m) for m in found]
        raise ConversionError(messages) from None


def to_wire(model: object) -> dict[str, Any]:
    """Unstructure a model into the service's JSON (PascalCase keys, ``None`` omitted)."""
    return cast(dict[str, Any], _CONVERTER.unstructure(model))
