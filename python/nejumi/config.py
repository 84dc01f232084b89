"""Configuration: the base config deep-merged with a model config, as upstream does.

Upstream merges `configs/base_config.yaml` with `configs/<model>.yaml` through
OmegaConf (mappings merge key by key, the model config wins, lists and scalars are
replaced whole). `Config` keeps the merged tree plus, for every key path, the file
that set it, so a bad value is reported as `<file>: <key.path>: <what is wrong>`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BASE_CONFIG = Path(__file__).resolve().parents[2] / "configs" / "base_config.yaml"

_MISSING = object()


class ConfigError(ValueError):
    """A config file or value is unusable; the message names the file and key path."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source = source
        self.key = key
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {message}")


def read_yaml(path: Path) -> dict[str, Any]:
    """Reads one YAML mapping; syntax errors name the file, line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    except OSError as err:
        raise ConfigError(str(path), "", f"cannot read: {err.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        line = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(str(path), "", f"invalid YAML: {line}{err.problem}") from None
    except yaml.YAMLError as err:
        raise ConfigError(str(path), "", f"invalid YAML: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            str(path),
            "",
            f"the top level must be a mapping of keys, not {type(data).__name__}",
        )
    return data


def _merge(
    base: dict[str, Any],
    override: Mapping[str, Any],
    origins: dict[str, str],
    source: str,
    prefix: str,
) -> None:
    for key, value in override.items():
        if not isinstance(key, str):
            raise ConfigError(source, f"{prefix}{key}", "keys must be strings")
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value, origins, source, f"{path}.")
        else:
            base[key] = copy.deepcopy(value)
            _record_origins(value, origins, source, path)


def _record_origins(value: Any, origins: dict[str, str], source: str, path: str) -> None:
    origins[path] = source
    if isinstance(value, Mapping):
        for key, child in value.items():
            _record_origins(child, origins, source, f"{path}.{key}")


@dataclass
class Config:
    """The merged config tree, with the file each key came from."""

    data: dict[str, Any]
    origins: dict[str, str] = field(default_factory=dict)
    # The model config file: keys it must set but does not are reported against it.
    model_file: Path = field(default_factory=lambda: Path("config.yaml"))

    @property
    def name(self) -> str:
        return self.model_file.stem

    def source_of(self, key: str) -> str:
        parts = key.split(".")
        for end in range(len(parts), 0, -1):
            origin = self.origins.get(".".join(parts[:end]))
            if origin:
                return origin
        return str(self.model_file)

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.source_of(key), key, message)

    def get(self, key: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                return default
            node = node[part]
        return node

    def require(self, key: str) -> Any:
        value = self.get(key, _MISSING)
        if value is _MISSING or value is None:
            raise self.error(key, "is required")
        return value

    def get_str(
        self,
        key: str,
        default: str | None = None,
        choices: tuple[str, ...] | None = None,
    ) -> str | None:
        value = self.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(key, f"must be a string (got {value!r})")
        if choices is not None and value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)} (got {value!r})")
        return value

    def get_int(self, key: str, default: int | None = None, minimum: int | None = None) -> int | None:
        value = self.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be an integer (got {value!r})")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be >= {minimum} (got {value})")
        return value

    def get_float(self, key: str, default: float | None = None, minimum: float | None = None) -> float | None:
        value = self.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"must be a number (got {value!r})")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be >= {minimum} (got {value})")
        return float(value)

    def get_bool(self, key: str, default: bool = False) -> bool:
        value = self.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false (got {value!r})")
        return value

    def get_mapping(self, key: str) -> dict[str, Any]:
        value = self.get(key, {})
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.error(key, f"must be a mapping (got {type(value).__name__})")
        return dict(value)

    def get_path(self, key: str) -> Path | None:
        """A path value; relative paths resolve against the file that set the key."""
        value = self.get_str(key)
        if value is None:
            return None
        path = Path(value).expanduser()
        if path.is_absolute():
            return path
        source = self.source_of(key)
        anchor = Path(source).parent if source != "<override>" else self.model_file.parent
        return (anchor / path).resolve()


def load_config(
    model_config: Path,
    base_config: Path = BASE_CONFIG,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Base config, then the model config over it, then programmatic overrides."""
    model_config = model_config.resolve()
    origins: dict[str, str] = {}
    data: dict[str, Any] = {}
    _merge(data, read_yaml(base_config), origins, str(base_config), "")
    _merge(data, read_yaml(model_config), origins, str(model_config), "")
    if overrides:
        _merge(data, overrides, origins, "<override>", "")
    return Config(data=data, origins=origins, model_file=model_config)
