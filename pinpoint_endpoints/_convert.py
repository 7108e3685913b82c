"""The converter: the service's JSON <-> the models, with every value's type checked both ways.

Every attrs subclass of `_models._Model` is picked up by a cattrs hook factory the first time it
is converted, so a new model needs no registration. Wire names are PascalCase renames; ``None``
fields are left out of the JSON; unknown keys are ignored unless ``strict``. Types are checked
in both directions: a string where a list belongs is an error, not a list of letters; an int is
accepted where a float belongs, a bool is not.

Errors carry every bad field's path in wire spelling, e.g. ``$.Item[3].Attributes.Plan``.
"""

from __future__ import annotations

import functools
import math
import operator
import re
import typing
from collections.abc import Callable, Iterable
from typing import Any, Final, TypeVar, cast

import attrs
import cattrs
from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from pinpoint_endpoints._errors import ValidationError
from pinpoint_endpoints._models import ChannelType, _Model

__all__ = ["ConversionError", "from_wire", "to_wire", "wire_name"]

T = TypeVar("T")
Hook = Callable[..., Any]

_CHANNEL_VALUES: Final[dict[str, ChannelType]] = {c.value: c for c in ChannelType}
_CHANNEL: Final = ChannelType | str
_NAME: Final = re.compile(r"[A-Za-z_]\w*\Z")
_JSON_TYPES: Final[dict[type, str]] = {type(None): "null", bool: "boolean", int: "number",
                                       float: "number", str: "string", list: "array",
                                       dict: "object"}


class ConversionError(ValidationError):
    """Data that does not fit a model; ``messages`` name each bad field's path."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class _WrongType(TypeError):
    """A value of the wrong type; the message is the part before the path."""


def wire_name(field: attrs.Attribute[Any]) -> str:
    """The JSON key of a model field: its metadata's ``wire`` name, else PascalCase."""
    explicit = field.metadata.get("wire")
    if explicit is not None:
        return str(explicit)
    return "".join(part.capitalize() for part in field.name.split("_"))


# --- leaves and containers: each checks and converts, the same way in both directions --------

def _wrong(expected: str, value: Any) -> _WrongType:
    return _WrongType(f"expected {expected}, got {_json_type(value)}")


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _expect_str(value: Any, _: Any = None) -> str:
    if isinstance(value, str):
        return value
    raise _wrong("a string", value)


def _expect_float(value: Any, _: Any = None) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        if math.isfinite(number):
            return number
        raise _WrongType(f"expected a number JSON can carry, got {number}")
    raise _wrong("a number", value)


def _channel_in(value: Any, _: Any = None) -> ChannelType | str:
    text = _expect_str(value)
    return _CHANNEL_VALUES.get(text, text)


def _channel_out(value: Any) -> str:
    return value.value if isinstance(value, ChannelType) else _expect_str(value)


def _noted(exc: Exception, note: str) -> Exception:
    exc.__notes__ = [*getattr(exc, "__notes__", ()), note]  # type: ignore[attr-defined]
    return exc


def _each(item: Hook, *, keyed: bool) -> Hook:
    """A list, or if ``keyed`` a map with string keys, whose every element ``item`` converts."""
    kind, expected = (dict, "an object") if keyed else (list, "an array")
    pairs: Callable[[Any], Iterable[tuple[Any, Any]]] = dict.items if keyed else enumerate

    def convert(value: Any, _: Any = None) -> Any:
        if not isinstance(value, kind):
            raise _wrong(expected, value)
        out, errors = {}, []
        for key, element in pairs(value):
            try:
                if keyed and not isinstance(key, str):
                    raise _wrong("a string key", key)
                out[key] = item(element)
            except Exception as exc:  # every bad element is reported, each with its key or index
                errors.append(_noted(exc, IterableValidationNote("", key, None)))
        if errors:
            raise IterableValidationError("", errors, kind)
        return out if keyed else list(out.values())

    return convert


def _field_hook(conv: cattrs.Converter, type_: Any, *, out: bool) -> Hook:
    """The function that checks and converts a value of ``type_``, to the wire if ``out``."""
    args = typing.get_args(type_)
    if type(None) in args:
        # a None field is never unstructured, and a null one is dropped before structuring
        return _field_hook(conv, functools.reduce(
            operator.or_, (a for a in args if a is not type(None))), out=out)
    if type_ == _CHANNEL:
        return _channel_out if out else _channel_in
    if type_ in (str, float):
        return _expect_str if type_ is str else _expect_float
    origin = typing.get_origin(type_)
    if origin is list:
        return _each(_field_hook(conv, args[0], out=out), keyed=False)
    if origin is dict and args[0] is str:
        return _each(_field_hook(conv, args[1], out=out), keyed=True)
    if _is_model(type_):
        return conv.get_unstructure_hook(type_) if out else conv.get_structure_hook(type_)
    raise TypeError(f"no wire form for {getattr(type_, '__name__', type_)}: see _field_hook")


# --- models: hooks generated on first use -----------------------------------------------------

def _is_model(type_: Any) -> bool:
    return isinstance(type_, type) and issubclass(type_, _Model) and attrs.has(type_)


def _fields(cls: type[Any]) -> tuple[attrs.Attribute[Any], ...]:
    return cast("tuple[attrs.Attribute[Any], ...]", attrs.fields(attrs.resolve_types(cls)))


def _structure_model(conv: cattrs.Converter, cls: type[Any], strict: bool) -> Hook:
    overrides = {f.name: override(rename=wire_name(f), struct_hook=_field_hook(conv, f.type,
                                                                              out=False))
                 for f in _fields(cls)}
    generated = make_dict_structure_fn(cls, conv, _cattrs_forbid_extra_keys=strict,
                                       **overrides)  # type: ignore[arg-type]
    known = {wire_name(f) for f in _fields(cls)}

    def structure(value: Any, _: Any = None) -> Any:
        if not isinstance(value, dict):
            raise _wrong("an object", value)
        if None in value.values():  # a field that is null is a field left unset
            value = {k: v for k, v in value.items() if v is not None or k not in known}
        return generated(value, cls)

    return structure


def _unstructure_model(conv: cattrs.Converter, cls: type[Any]) -> Hook:
    hooks = {f.name: _field_hook(conv, f.type, out=True) for f in _fields(cls)}
    overrides = {f.name: override(rename=wire_name(f), omit_if_default=True,
                                  unstruct_hook=hooks[f.name]) for f in _fields(cls)}
    generated = make_dict_unstructure_fn(cls, conv, **overrides)  # type: ignore[arg-type]

    def unstructure(value: Any) -> dict[str, Any]:
        if not isinstance(value, cls):
            raise _WrongType(f"expected {cls.__name__}, got {type(value).__name__}")
        try:
            return generated(value)
        except Exception as exc:  # the fast pass failed: check field by field to say where
            errors = []
            for name, hook in hooks.items():
                field_value = getattr(value, name)
                try:
                    if field_value is not None:
                        hook(field_value)
                except Exception as bad:
                    errors.append(_noted(bad, AttributeValidationNote("", name, None)))
            raise ClassValidationError("", errors, cls) if errors else exc from None

    return unstructure


@functools.cache
def _converter(strict: bool) -> cattrs.Converter:
    conv = cattrs.Converter(detailed_validation=True)
    conv.register_structure_hook_factory(
        _is_model, lambda cls: _structure_model(conv, cls, strict))
    conv.register_unstructure_hook_factory(_is_model, lambda cls: _unstructure_model(conv, cls))
    return conv


# --- error messages ---------------------------------------------------------------------------

def _messages(exc: BaseException, path: str) -> list[str]:
    """One message per bad value under ``exc``, each ending with its path in wire spelling."""
    if isinstance(exc, BaseValidationError):
        noted, bare = exc.group_exceptions()
        found: list[str] = []
        for inner, note in noted:
            found += _messages(inner, path + _step(exc.cl, note))
        for inner in bare:
            found += _messages(inner, path)
        return found
    if isinstance(exc, ForbiddenExtraKeysError):
        return [_unknown(key, exc.cl, path) for key in sorted(exc.extra_fields)]
    if isinstance(exc, _WrongType):
        return [f"{exc} @ {path}"]
    return [f"invalid value ({type(exc).__name__}) @ {path}"]


def _step(cls: type[Any], note: Any) -> str:
    """``.Wire`` for a field, ``[3]`` for an index, ``.Key`` or ``['odd key']`` for a key."""
    if isinstance(note, AttributeValidationNote):
        return "." + wire_name(attrs.fields_dict(cls)[note.name])
    key = note.index
    return f".{key}" if isinstance(key, str) and _NAME.match(key) else f"[{key!r}]"


def _unknown(key: str, cls: type[Any], path: str) -> str:
    import difflib  # only when there is a typo to explain

    close = difflib.get_close_matches(key, [wire_name(f) for f in attrs.fields(cls)], n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown field {key} at {path}{hint}"


# --- the two directions -----------------------------------------------------------------------

def from_wire(data: Any, cls: type[T], *, strict: bool = False) -> T:
    """Structure the service's JSON into ``cls``, or raise `ConversionError` with field paths.

    ``strict`` refuses keys a model does not know, at any depth.
    """
    try:
        return _converter(strict).structure(data, cls)
    except (BaseValidationError, _WrongType) as exc:
        raise ConversionError(_messages(exc, "$")) from None


def to_wire(model: object) -> dict[str, Any]:
    """Unstructure a model into the service's JSON (PascalCase keys, ``None`` omitted), or
    raise `ConversionError` naming every field whose value has the wrong type."""
    try:
        return cast(dict[str, Any], _converter(False).unstructure(model))
    except (BaseValidationError, _WrongType) as exc:
        raise ConversionError(_messages(exc, "$")) from None
