"""Datasets: where each benchmark's files come from, and reading them with useful errors.

A benchmark's data is a local folder named in the config (`<benchmark>.data_dir`, which
wins), or the official W&B artifact upstream uses (`<benchmark>.artifacts_path`). An
artifact is downloaded once into a cache, checked against the digests W&B reports,
and committed by renaming a finished folder into place, so a crash leaves no half
cache. Later runs check the cached files against the cache's own manifest and reuse
them without the network.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal, NamedTuple, Protocol

from nejumi.config import Config, ConfigError

MANIFEST = "manifest.json"  # the cache's record of what it holds; written last
FILES = "artifact"  # the artifact's files, beside the manifest
_CHUNK = 1 << 20
# W&B artifact names: entity/project/name:alias-or-version, each part a plain name.
_ARTIFACT_PATH = re.compile(r"([\w.-]+)/([\w.-]+)/([\w.-]+):([\w.-]+)", re.ASCII)


@dataclass(frozen=True)
class DatasetSpec:
    """Where one dataset comes from, as the config says it."""

    benchmark: str  # also the config section holding the keys below
    data_dir: Path | None
    artifact_path: str | None
    # Relative paths that must exist in the resolved folder (files or folders).
    required: tuple[str, ...] = ()
    # Upstream's `dataset_dir`: the folder inside the artifact that holds the data.
    subdir: str | None = None
    artifact_key: str = "artifacts_path"
    data_dir_key: str = "data_dir"
    # The config file that set the key in play; errors about that key name it.
    config_file: str = "config"

    @classmethod
    def from_config(
        cls,
        cfg: Config,
        benchmark: str,
        required: tuple[str, ...] = (),
        artifact_key: str = "artifacts_path",
        data_dir_key: str = "data_dir",
        subdir_key: str = "dataset_dir",
    ) -> DatasetSpec:
        data_dir = cfg.get_path(f"{benchmark}.{data_dir_key}")
        artifact_path = cfg.get_str(f"{benchmark}.{artifact_key}")
        if data_dir is None and artifact_path is None:
            raise cfg.error(
                f"{benchmark}.{data_dir_key}",
                f"is not set, and neither is {benchmark}.{artifact_key}: "
                "point one at the dataset (a local folder, or the W&B artifact)",
            )
        in_play = data_dir_key if data_dir is not None else artifact_key
        return cls(
            benchmark=benchmark,
            data_dir=data_dir,
            artifact_path=artifact_path,
            required=required,
            subdir=cfg.get_str(f"{benchmark}.{subdir_key}"),
            artifact_key=artifact_key,
            data_dir_key=data_dir_key,
            config_file=cfg.source_of(f"{benchmark}.{in_play}"),
        )

    def key(self, name: str) -> str:
        return f"{self.benchmark}.{name}"


@dataclass(frozen=True)
class ArtifactFile:
    path: str  # relative to the download folder, "/"-separated
    digest: str  # base64, as W&B manifests write it
    algorithm: Literal["md5", "xxh128"]
    size: int | None


@dataclass(frozen=True)
class ArtifactFiles:
    """What a source downloaded: the artifact's resolved version and its files."""

    version: str  # e.g. "v3" for the alias "production"
    digest: str
    files: tuple[ArtifactFile, ...]


class ArtifactUnavailable(Exception):
    """The source cannot deliver the artifact (no key, offline, no such artifact)."""


class ArtifactSource(Protocol):
    def download(self, artifact_path: str, into: Path) -> ArtifactFiles:
        """Puts the artifact's files under `into` (an empty folder) and lists them."""
        ...


class WandbArtifactSource:
    """The official artifacts through the W&B public API (key from WANDB_API_KEY)."""

    def download(self, artifact_path: str, into: Path) -> ArtifactFiles:
        api_key = os.environ.get("WANDB_API_KEY")
        if not api_key:
            raise ArtifactUnavailable("WANDB_API_KEY is not set (a W&B API key is needed to download artifacts)")
        try:
            import wandb
        except ImportError:
            raise ArtifactUnavailable("the wandb package is not installed") from None
        try:
            artifact = wandb.Api(api_key=api_key).artifact(artifact_path, type="dataset")
            entries = artifact.manifest.entries.values()
            references = [entry.path for entry in entries if entry.ref is not None]
            if references:
                raise ArtifactUnavailable(
                    f"it holds references to outside files ({', '.join(references[:3])}), which nejumi does not cache"
                )
            artifact.download(root=str(into), skip_cache=True)
            return ArtifactFiles(
                version=artifact.version,
                digest=artifact.digest,
                files=tuple(
                    ArtifactFile(
                        path=str(entry.path),
                        digest=str(entry.digest),
                        algorithm="xxh128" if entry.digest_algorithm().name == "MANIFEST_XXH128" else "md5",
                        size=entry.size,
                    )
                    for entry in entries
                ),
            )
        except ArtifactUnavailable:
            raise
        except Exception as err:  # the W&B client raises many kinds; all mean "not from W&B now"
            raise ArtifactUnavailable(f"W&B: {err} (offline, or no access to it?)") from err


def default_cache_dir() -> Path:
    configured = os.environ.get("NEJUMI_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "nejumi" / "datasets"


def resolve_dataset(
    spec: DatasetSpec,
    cache_dir: Path,
    source: ArtifactSource | None,
    say: Callable[[str], None],
) -> Path:
    """The folder holding the dataset: the local `data_dir`, else the cached artifact."""
    if spec.data_dir is not None:
        if not spec.data_dir.is_dir():
            what = "is not a folder" if spec.data_dir.exists() else "does not exist"
            raise ConfigError(spec.config_file, spec.key(spec.data_dir_key), f"{spec.data_dir} {what}")
        folder = spec.data_dir
    elif spec.artifact_path is not None:
        folder = _cached_artifact(spec, spec.artifact_path, cache_dir, source, say)
    else:
        raise ConfigError(
            spec.config_file,
            spec.key(spec.data_dir_key),
            f"is not set, and neither is {spec.key(spec.artifact_key)}",
        )
    if spec.subdir and (folder / spec.subdir).is_dir():
        folder = folder / spec.subdir
    for relative in spec.required:
        if not (folder / relative).exists():
            raise ConfigError(str(folder / relative), "", f"missing: the {spec.benchmark} dataset in {folder} needs it")
    return folder


def _cached_artifact(
    spec: DatasetSpec,
    artifact_path: str,
    cache_dir: Path,
    source: ArtifactSource | None,
    say: Callable[[str], None],
) -> Path:
    parts = _ARTIFACT_PATH.fullmatch(artifact_path)
    if parts is None or ".." in parts.groups():
        raise ConfigError(
            spec.config_file,
            spec.key(spec.artifact_key),
            f"{artifact_path!r} is not a W&B artifact path of the form entity/project/name:alias",
        )
    cache = cache_dir.joinpath(*parts.groups())
    if cache.exists():
        version = _verify_cache(cache)
        say(f"{spec.benchmark}: using the cached {artifact_path} ({version}) in {cache}")
        return cache / FILES
    if source is None:
        raise ConfigError(
            spec.config_file,
            spec.key(spec.artifact_key),
            f"{artifact_path} is not in the cache ({cache}) and downloads are off; "
            f"set {spec.key(spec.data_dir_key)} to a local copy",
        )
    say(f"{spec.benchmark}: downloading {artifact_path} from W&B into {cache}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{cache.name}.partial-", dir=cache.parent))
    try:
        (partial / FILES).mkdir()
        try:
            listing = source.download(artifact_path, partial / FILES)
        except ArtifactUnavailable as err:
            raise ConfigError(
                spec.config_file,
                spec.key(spec.artifact_key),
                f"cannot download {artifact_path}: {err}; set {spec.key(spec.data_dir_key)} to a local copy instead",
            ) from None
        manifest = _checked_download(partial / FILES, artifact_path, listing)
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        try:
            partial.rename(cache)
        except OSError:
            if not (cache / MANIFEST).is_file():
                raise
            # Another run finished the same download first; keep its copy.
            shutil.rmtree(partial)
            _verify_cache(cache)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    say(f"{spec.benchmark}: {artifact_path} is {listing.version}, {len(listing.files)} files, verified")
    return cache / FILES


def _checked_download(root: Path, artifact_path: str, listing: ArtifactFiles) -> dict[str, Any]:
    files = {}
    for entry in listing.files:
        path = _member(root, entry.path, f"the W&B manifest of {artifact_path}")
        if not path.is_file():
            raise ConfigError(str(path), "", f"missing from the download of {artifact_path}")
        size = path.stat().st_size
        if entry.size is not None and size != entry.size:
            raise ConfigError(
                str(path),
                "",
                f"{size} bytes downloaded, W&B lists {entry.size}: the download of {artifact_path} is bad",
            )
        md5 = _file_digest(path, "md5")
        reported = md5 if entry.algorithm == "md5" else _file_digest(path, entry.algorithm)
        if reported != entry.digest:
            raise ConfigError(
                str(path),
                "",
                f"{entry.algorithm} digest {reported} does not match {entry.digest} from W&B: "
                f"the download of {artifact_path} is bad",
            )
        files[entry.path] = {"size": size, "md5": md5}
    return {"artifact": artifact_path, "version": listing.version, "digest": listing.digest, "files": files}


def _verify_cache(cache: Path) -> str:
    """Checks every cached file's size and MD5 against the manifest; returns the version."""
    hint = f"delete {cache} to download it again"
    manifest_path = cache / MANIFEST
    if not manifest_path.is_file():
        raise ConfigError(str(manifest_path), "", f"missing: {cache} is not a finished cache; {hint}")
    manifest = read_json(manifest_path)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not isinstance(version, str):
        raise ConfigError(str(manifest_path), "", f"not a nejumi cache manifest; {hint}")
    root = cache / FILES
    for relative, expected in files.items():
        path = _member(root, relative, str(manifest_path))
        if not isinstance(expected, dict) or not {"size", "md5"} <= expected.keys():
            raise ConfigError(str(manifest_path), f"files.{relative}", f"needs size and md5; {hint}")
        if not path.is_file():
            raise ConfigError(str(path), "", f"missing from the cache; {hint}")
        size = path.stat().st_size
        if size != expected["size"]:
            raise ConfigError(str(path), "", f"{size} bytes, the cache manifest says {expected['size']}; {hint}")
        if _file_digest(path, "md5") != expected["md5"]:
            raise ConfigError(str(path), "", f"changed since it was downloaded (MD5 differs); {hint}")
    return version


def _member(root: Path, relative: str, named_in: str) -> Path:
    """`root / relative`, refusing paths that would leave `root`."""
    parts = PurePosixPath(relative).parts
    if not parts or parts[0] == "/" or ".." in parts:
        raise ConfigError(named_in, "", f"lists the file {relative!r}, which is outside the dataset folder")
    return root.joinpath(*parts)


def _file_digest(path: Path, algorithm: Literal["md5", "xxh128"]) -> str:
    if algorithm == "md5":
        hasher: Any = hashlib.md5(usedforsecurity=False)
    else:
        import xxhash  # a wandb dependency; only W&B reports xxh128 digests

        hasher = xxhash.xxh128()
    with path.open("rb") as data:
        while chunk := data.read(_CHUNK):
            hasher.update(chunk)
    return base64.b64encode(hasher.digest()).decode("ascii")


class JsonLine(NamedTuple):
    number: int  # 1-based line number in the file
    value: Any


def read_json(path: Path) -> Any:
    """One JSON document; errors name the file, and the line and column of bad syntax."""
    text = _read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(str(path), "", f"invalid JSON: line {err.lineno}, column {err.colno}: {err.msg}") from None


def read_jsonl(path: Path) -> list[JsonLine]:
    """One JSON value per line (blank lines skipped); errors name the line."""
    records = []
    # Split on newlines only: str.splitlines() would also split inside strings at U+2028.
    for number, line in enumerate(_read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append(JsonLine(number, json.loads(line)))
        except json.JSONDecodeError as err:
            raise ConfigError(str(path), f"line {number}", f"invalid JSON: column {err.colno}: {err.msg}") from None
    return records


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    except UnicodeDecodeError as err:
        raise ConfigError(str(path), "", f"not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise ConfigError(str(path), "", f"cannot read: {err.strerror}") from None
