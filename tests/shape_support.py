"""One exact-shape check of a value against a typed view, for the tests that hold the server to its contract
(REST answers, Socket.IO events and acks, document views)."""

from __future__ import annotations

import types
from enum import Enum
from typing import Any, Literal, NotRequired, Required, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, TypeAdapter
from typing_extensions import is_typeddict


def shape_errors(value: Any, expected: Any, path: str = "$") -> list[str]:
    """Where ``value`` departs from the type ``expected``; empty when it conforms exactly: a TypedDict's keys
    exactly (NotRequired ones may be absent, no others present), values of the declared types (a bool is not
    an int, a datetime is not a string), recursively."""
    if expected is Any:
        return []
    if expected is None or expected is types.NoneType:
        return [] if value is None else [f"{path}: expected null, got {value!r}"]
    origin = get_origin(expected)
    if origin is Literal:
        allowed = get_args(expected)
        if any(isinstance(value, type(option)) and value == option for option in allowed):
            return []
        return [f"{path}: {value!r} not one of {allowed}"]
    if origin in (Union, types.UnionType):
        options = [shape_errors(value, option, path) for option in get_args(expected)]
        return [] if any(not found for found in options) else min(options, key=len)
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {value!r}"]
        (item,) = get_args(expected)
        return [error for i, v in enumerate(value) for error in shape_errors(v, item, f"{path}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {value!r}"]
        key_type, item = get_args(expected)
        return [
            error
            for k, v in value.items()
            for error in [*shape_errors(k, key_type, f"{path} key"), *shape_errors(v, item, f"{path}.{k}")]
        ]
    if is_typeddict(expected):
        if not isinstance(value, dict):
            return [f"{path}: expected an object ({expected.__name__}), got {value!r}"]
        # The hints as written: with postponed annotations __required_keys__ may miss a NotRequired.
        hints = get_type_hints(expected, include_extras=True)
        errors = [f"{path}.{key}: not declared" for key in sorted(set(value) - set(hints))]
        for key, hint in hints.items():
            wrapper = get_origin(hint)
            inner = get_args(hint)[0] if wrapper in (NotRequired, Required) else hint
            if key in value:
                errors += shape_errors(value[key], inner, f"{path}.{key}")
            elif wrapper is Required or (wrapper is not NotRequired and expected.__total__):
                errors.append(f"{path}.{key}: missing")
        return errors
    if isinstance(expected, type):
        return _scalar_errors(value, expected, path)
    raise TypeError(f"{path}: no shape check for {expected!r}")


def _scalar_errors(value: Any, expected: type, path: str) -> list[str]:
    if issubclass(expected, BaseModel):
        TypeAdapter(expected).validate_python(value)
        return []
    if issubclass(expected, Enum):
        allowed = {member.value for member in expected}
        ok = isinstance(value, str | int) and value in allowed
        return [] if ok else [f"{path}: {value!r} not one of {sorted(allowed)}"]
    if expected is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected a number, got {value!r}"]
    if expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: expected an integer, got {value!r}"]
    if expected in (str, bool):
        return [] if isinstance(value, expected) else [f"{path}: expected {expected.__name__}, got {value!r}"]
    raise TypeError(f"{path}: no shape check for {expected!r}")
