"""Config dataclasses loaded from YAML with one level of inheritance and ``key=value`` overrides.

Why: every component (model, diffusion, training recipe, text3d preset) is described by a dataclass so
that a recipe is readable, unknown keys are caught early, and the merged config can be saved next to
every checkpoint. ``text3d`` reuses these helpers for its own presets.

YAML layout: a file may name ``base: other.yaml`` (relative to itself); its mapping is loaded first and
the file's own keys are merged over it (nested mappings merge key by key). Overrides are strings like
``train.lr=1e-4`` or ``model.block_out_channels=[32,64]``, parsed as YAML scalars.
"""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, Mapping, Sequence, TypeVar

import yaml

from depthgen.common.io import write_text

T = TypeVar("T")


def _deep_merge(base: dict, over: Mapping) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def read_yaml(path: str | Path) -> dict:
    """Read a YAML mapping, resolving one level of ``base:`` inheritance (the base may itself inherit)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config file not found: {path}")
    with open(path, "r", encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ValueError(f"config {path} must hold a mapping at the top level")
    base = data.pop("base", None)
    if base is not None:
        data = _deep_merge(read_yaml(path.parent / base), data)
    return data


def parse_override(item: str) -> tuple[list[str], Any]:
    """``"dotted.key=value"`` -> (the key's parts, the value parsed as YAML); ``ValueError`` naming the override
    when it has no ``=`` or its value is not valid YAML."""
    if "=" not in item:
        raise ValueError(f"override {item!r} must look like key=value (e.g. train.lr=1e-4)")
    key, raw = item.split("=", 1)
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ValueError(f"override {item!r} is not valid YAML ({problem}); quote the value or fix it") from None
    return key.strip().split("."), value


def apply_overrides(data: dict, overrides: Sequence[str] = ()) -> dict:
    """Apply ``dotted.key=value`` strings to a nested mapping; values are parsed as YAML."""
    data = dict(data)
    for item in overrides:
        parts, value = parse_override(item)
        node = data
        for part in parts[:-1]:
            child = node.get(part)
            child = dict(child) if isinstance(child, Mapping) else {}
            node[part] = child
            node = child
        node[parts[-1]] = value
    return data


def _is_config_class(tp: Any) -> bool:
    """Whether a field type is itself a config dataclass (a group of settings)."""
    return dataclasses.is_dataclass(tp) and isinstance(tp, type)


def _coerce(tp: Any, value: Any, where: str) -> Any:
    """Turn a YAML value into the declared field type (nested dataclasses, tuples, floats)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if _is_config_class(tp):
        if not isinstance(value, Mapping):
            raise ValueError(f"{where} must be a mapping, got {value!r}")
        return from_dict(tp, value, where)
    if origin is typing.Union:
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        return _coerce(non_none[0], value, where) if len(non_none) == 1 else value
    if origin in (tuple, list) and isinstance(value, (list, tuple)):
        inner = args[0] if args else Any
        items = [_coerce(inner, v, where) for v in value]
        return tuple(items) if origin is tuple else items
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"{where} must be a number, got {value!r}") from None
    return value


def from_dict(cls: type[T], data: Mapping, where: str = "config") -> T:
    """Build dataclass ``cls`` from a mapping; unknown keys raise ``ValueError`` naming the key."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"unknown key(s) {unknown} in {where}; allowed: {sorted(fields)}")
    hints = typing.get_type_hints(cls)
    kwargs = {name: _coerce(hints[name], value, f"{where}.{name}") for name, value in data.items()}
    return cls(**kwargs)


def check_override_keys(cls: type, overrides: Sequence[str]) -> None:
    """Raise ``ValueError`` naming the override whose dotted key is not a field of dataclass ``cls`` (checked
    down to the first field that is not itself a dataclass), or that sets a group of fields to a plain value; a
    mistake in ``--set`` is blamed on ``--set``."""
    for item in overrides:
        parts, value = parse_override(item)
        node, done = cls, []
        for part in parts:
            if not _is_config_class(node):
                break
            fields = {f.name: f for f in dataclasses.fields(node)}
            if part not in fields:
                where = f" under {'.'.join(done)!r}" if done else ""
                raise ValueError(f"override {item!r}: unknown key {part!r}{where}; allowed: {sorted(fields)}")
            node = typing.get_type_hints(node)[part]
            done.append(part)
        if _is_config_class(node) and not isinstance(value, Mapping):
            key = ".".join(done)
            raise ValueError(f"override {item!r}: {key!r} is a group of settings; set one of them, "
                             f"e.g. {key}.{dataclasses.fields(node)[0].name}=...")


def load_config(cls: type[T], path: str | Path | None = None, overrides: Sequence[str] = ()) -> T:
    """Load ``cls`` from a YAML file (with ``base:``) and ``key=value`` overrides."""
    check_override_keys(cls, [item for item in overrides if "=" in item])
    data = read_yaml(path) if path is not None else {}
    data = apply_overrides(data, overrides)
    return from_dict(cls, data, where=str(path) if path else cls.__name__)


def to_dict(config: Any) -> dict:
    """Plain nested dict of a dataclass config (tuples become lists) for YAML/JSON."""
    def plain(v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v
    return plain(dataclasses.asdict(config))


def save_config(config: Any, path: str | Path) -> None:
    """Write a dataclass config as YAML (used next to every checkpoint)."""
    write_text(path, yaml.safe_dump(to_dict(config), sort_keys=False))
