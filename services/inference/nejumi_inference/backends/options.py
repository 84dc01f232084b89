"""Turns the ``--backend-config`` JSON object into a backend's typed options, with messages naming the bad key."""

import dataclasses
import logging
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

log = logging.getLogger(__name__)

OptionsT = TypeVar("OptionsT")


class OptionsError(ValueError):
    """A ``--backend-config`` value the backend cannot use."""


def parse_options(
    cls: type[OptionsT],
    raw: Mapping[str, Any],
    backend: str,
    *,
    aliases: Mapping[str, str] | None = None,
    ignored: frozenset[str] = frozenset(),
    strict: bool = True,
) -> OptionsT:
    """Build the dataclass ``cls`` from ``raw``.

    ``aliases`` maps an alternative key to a field name; keys in ``ignored`` are accepted and dropped (they belong
    to other parts of a model config). Unknown keys fail when ``strict``, else they are logged and dropped.
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = (aliases or {}).get(key, key)
        if name in ignored:
            log.info("backend %s: ignoring --backend-config key %r (not used by this service)", backend, key)
            continue
        if name not in fields:
            known = ", ".join(sorted(fields))
            message = f"--backend-config: unknown option {key!r} for the {backend} backend (known: {known})"
            if strict:
                raise OptionsError(message)
            log.warning("%s; ignoring it", message)
            continue
        if value is None:
            continue
        values[name] = _coerce(value, hints[name], key, backend)
    return cls(**values)


def _coerce(value: Any, hint: Any, key: str, backend: str) -> Any:
    allowed = _plain_types(hint)
    if bool in allowed and isinstance(value, bool):
        return value
    if float in allowed and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if int in allowed and isinstance(value, int) and not isinstance(value, bool):
        return value
    if str in allowed and isinstance(value, str):
        return value
    if list in allowed and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    if dict in allowed and isinstance(value, dict):
        return dict(value)
    wanted = " or ".join(sorted(t.__name__ for t in allowed))
    raise OptionsError(
        f"--backend-config: option {key!r} of the {backend} backend must be {wanted} (got {type(value).__name__})"
    )


def _plain_types(hint: Any) -> set[type]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        found: set[type] = set()
        for arg in typing.get_args(hint):
            found |= _plain_types(arg)
        return found
    if origin is not None:
        return {origin}
    if hint is type(None):
        return set()
    return {hint}
