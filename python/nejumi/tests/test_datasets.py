"""Dataset resolution: local folders, the verified artifact cache, and file-reading errors."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sys
import types
from pathlib import Path

import pytest

from nejumi.config import BASE_CONFIG, ConfigError, load_config
from nejumi.datasets import (
    FILES,
    MANIFEST,
    ArtifactFile,
    ArtifactFiles,
    ArtifactUnavailable,
    DatasetSpec,
    WandbArtifactSource,
    default_cache_dir,
    read_json,
    read_jsonl,
    resolve_dataset,
)

ARTIFACT = "llm-leaderboard/nejumi-leaderboard4/jaster:production"


def task_file(subset: str, task: str) -> str:
    samples = [{"input": f"{task} {subset} の問題{i}", "output": f"答え{i}"} for i in range(2)]
    doc = {"instruction": "答えてください。", "output_length": 8, "metrics": ["exact_match"], "samples": samples}
    return json.dumps(doc, ensure_ascii=False)


@pytest.fixture
def artifact_tree(tmp_path: Path) -> Path:
    """Our own tiny files in the official jaster artifact layout: jaster/{test,dev,train}/<task>.json."""
    root = tmp_path / "artifact-contents"
    for subset in ("test", "dev", "train"):
        for task in ("jnli", "mgsm"):
            if task == "mgsm" and subset == "dev":
                continue
            path = root / "jaster" / subset / f"{task}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(task_file(subset, task), encoding="utf-8")
    return root


def md5_b64(path: Path) -> str:
    return base64.b64encode(hashlib.md5(path.read_bytes()).digest()).decode("ascii")


class FakeSource:
    """Copies a fixture tree as if W&B had downloaded it; counts calls; can misbehave."""

    def __init__(self, tree: Path, wrong_digest_for: str | None = None, crash_after: int | None = None) -> None:
        self.tree = tree
        self.wrong_digest_for = wrong_digest_for
        self.crash_after = crash_after
        self.calls = 0

    def download(self, artifact_path: str, into: Path) -> ArtifactFiles:
        assert artifact_path == ARTIFACT
        self.calls += 1
        files = []
        for number, source in enumerate(sorted(p for p in self.tree.rglob("*") if p.is_file())):
            if self.crash_after is not None and number == self.crash_after:
                raise RuntimeError("connection reset mid-download")
            relative = source.relative_to(self.tree).as_posix()
            target = into / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            digest = "AAAAAAAAAAAAAAAAAAAAAA==" if relative == self.wrong_digest_for else md5_b64(source)
            files.append(ArtifactFile(relative, digest, "md5", source.stat().st_size))
        return ArtifactFiles(version="v3", digest="d1g3st", files=tuple(files))


class RefusingSource:
    def download(self, artifact_path: str, into: Path) -> ArtifactFiles:
        raise AssertionError(f"the network was used for {artifact_path}")


def spec(**changes: object) -> DatasetSpec:
    fields: dict[str, object] = {
        "benchmark": "jaster",
        "data_dir": None,
        "artifact_path": ARTIFACT,
        "required": ("test", "train/mgsm.json"),
        "subdir": "jaster",
        "config_file": "base_config.yaml",
    }
    fields.update(changes)
    return DatasetSpec(**fields)  # type: ignore[arg-type]


def cache_folder(cache: Path) -> Path:
    return cache / "llm-leaderboard" / "nejumi-leaderboard4" / "jaster" / "production"


def leftovers(cache: Path) -> list[str]:
    parent = cache_folder(cache).parent
    return sorted(p.name for p in parent.iterdir()) if parent.exists() else []


def test_first_resolve_downloads_once_and_writes_a_manifest(tmp_path: Path, artifact_tree: Path) -> None:
    source, said = FakeSource(artifact_tree), []
    folder = resolve_dataset(spec(), tmp_path / "cache", source, said.append)
    assert source.calls == 1
    assert folder == cache_folder(tmp_path / "cache") / FILES / "jaster"
    assert (folder / "test" / "jnli.json").read_text(encoding="utf-8") == task_file("test", "jnli")
    manifest = json.loads((cache_folder(tmp_path / "cache") / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["artifact"] == ARTIFACT
    assert manifest["version"] == "v3"
    test_jnli = artifact_tree / "jaster" / "test" / "jnli.json"
    assert manifest["files"]["jaster/test/jnli.json"] == {"size": test_jnli.stat().st_size, "md5": md5_b64(test_jnli)}
    assert len(manifest["files"]) == 5
    assert leftovers(tmp_path / "cache") == ["production"]
    assert any("downloading" in line for line in said)


def test_second_resolve_reuses_the_cache_without_the_source(tmp_path: Path, artifact_tree: Path) -> None:
    cache = tmp_path / "cache"
    first = resolve_dataset(spec(), cache, FakeSource(artifact_tree), print)
    said: list[str] = []
    assert resolve_dataset(spec(), cache, RefusingSource(), said.append) == first
    assert resolve_dataset(spec(), cache, None, said.append) == first
    assert said == [f"jaster: using the cached {ARTIFACT} (v3) in {cache_folder(cache)}"] * 2


def test_a_corrupted_cached_file_is_named(tmp_path: Path, artifact_tree: Path) -> None:
    cache = tmp_path / "cache"
    folder = resolve_dataset(spec(), cache, FakeSource(artifact_tree), print)
    damaged = folder / "train" / "jnli.json"
    damaged.write_text(damaged.read_text(encoding="utf-8").replace("答え0", "答え9"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        resolve_dataset(spec(), cache, RefusingSource(), print)
    assert str(err.value) == (
        f"{damaged}: changed since it was downloaded (MD5 differs); delete {cache_folder(cache)} to download it again"
    )


def test_a_cached_file_of_the_wrong_size_or_missing_is_named(tmp_path: Path, artifact_tree: Path) -> None:
    cache = tmp_path / "cache"
    folder = resolve_dataset(spec(), cache, FakeSource(artifact_tree), print)
    (folder / "dev" / "jnli.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"dev/jnli\.json: 2 bytes, the cache manifest says \d+; delete "):
        resolve_dataset(spec(), cache, None, print)
    (folder / "dev" / "jnli.json").unlink()
    with pytest.raises(ConfigError, match=r"dev/jnli\.json: missing from the cache; delete "):
        resolve_dataset(spec(), cache, None, print)


def test_a_malformed_cache_manifest_is_named(tmp_path: Path, artifact_tree: Path) -> None:
    cache = tmp_path / "cache"
    resolve_dataset(spec(), cache, FakeSource(artifact_tree), print)
    manifest = cache_folder(cache) / MANIFEST
    manifest.write_text('{"version": "v3", "files": {"../escape.json": {"size": 1, "md5": "x"}}}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"manifest\.json: lists the file '\.\./escape\.json', which is outside"):
        resolve_dataset(spec(), cache, None, print)
    manifest.write_text('{"files": []}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"manifest\.json: not a nejumi cache manifest; delete "):
        resolve_dataset(spec(), cache, None, print)


def test_a_wrong_digest_from_the_source_is_refused_and_leaves_no_cache(tmp_path: Path, artifact_tree: Path) -> None:
    cache = tmp_path / "cache"
    source = FakeSource(artifact_tree, wrong_digest_for="jaster/test/mgsm.json")
    with pytest.raises(ConfigError) as err:
        resolve_dataset(spec(), cache, source, print)
    message = str(err.value)
    assert "jaster/test/mgsm.json: md5 digest " in message
    assert f"does not match AAAAAAAAAAAAAAAAAAAAAA== from W&B: the download of {ARTIFACT} is bad" in message
    assert leftovers(cache) == []


def test_a_crash_mid_download_leaves_no_cache_and_the_next_run_downloads(tmp_path: Path, artifact_tree: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError, match="connection reset"):
        resolve_dataset(spec(), cache, FakeSource(artifact_tree, crash_after=3), print)
    assert leftovers(cache) == []
    source = FakeSource(artifact_tree)
    folder = resolve_dataset(spec(), cache, source, print)
    assert source.calls == 1
    assert (folder / "train" / "mgsm.json").is_file()


def test_downloads_off_and_nothing_cached_names_the_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        resolve_dataset(spec(), tmp_path / "cache", None, print)
    assert str(err.value).startswith(f"base_config.yaml: jaster.artifacts_path: {ARTIFACT} is not in the cache")
    assert str(err.value).endswith("downloads are off; set jaster.data_dir to a local copy")


def test_an_artifact_path_that_is_not_entity_project_name_alias_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"jaster\.artifacts_path: '\.\./x/jaster:production' is not a W&B"):
        resolve_dataset(spec(artifact_path="../x/jaster:production"), tmp_path, RefusingSource(), print)


def test_a_local_data_dir_wins_over_the_artifact(tmp_path: Path, artifact_tree: Path) -> None:
    said: list[str] = []
    folder = resolve_dataset(spec(data_dir=artifact_tree), tmp_path / "cache", RefusingSource(), said.append)
    assert folder == artifact_tree / "jaster"
    inner = artifact_tree / "jaster"
    assert resolve_dataset(spec(data_dir=inner), tmp_path / "cache", RefusingSource(), said.append) == inner
    assert said == []
    assert not (tmp_path / "cache").exists()


def test_a_missing_local_data_dir_names_the_key_and_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigError) as err:
        resolve_dataset(spec(data_dir=missing, config_file="model.yaml"), tmp_path, RefusingSource(), print)
    assert str(err.value) == f"model.yaml: jaster.data_dir: {missing} does not exist"


def test_a_missing_required_file_is_named_with_its_folder(tmp_path: Path, artifact_tree: Path) -> None:
    (artifact_tree / "jaster" / "train" / "mgsm.json").unlink()
    with pytest.raises(ConfigError) as err:
        resolve_dataset(spec(data_dir=artifact_tree), tmp_path, None, print)
    folder = artifact_tree / "jaster"
    assert str(err.value) == f"{folder / 'train' / 'mgsm.json'}: missing: the jaster dataset in {folder} needs it"


def test_spec_from_the_base_config_uses_the_official_artifact(tmp_path: Path) -> None:
    model = tmp_path / "model.yaml"
    model.write_text("model:\n  pretrained_model_name_or_path: m\n", encoding="utf-8")
    cfg = load_config(model)
    assert DatasetSpec.from_config(cfg, "jaster", required=("test",)) == DatasetSpec(
        benchmark="jaster",
        data_dir=None,
        artifact_path=ARTIFACT,
        required=("test",),
        subdir="jaster",
        config_file=str(BASE_CONFIG),
    )
    model.write_text("jaster:\n  data_dir: data/jaster\n", encoding="utf-8")
    local = DatasetSpec.from_config(load_config(model), "jaster")
    assert local.data_dir == tmp_path / "data" / "jaster"
    assert local.config_file == str(model.resolve())
    model.write_text("jaster:\n  artifacts_path: null\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"jaster\.data_dir: is not set, and neither is jaster\.artifacts_path"):
        DatasetSpec.from_config(load_config(model), "jaster")


def test_wandb_source_without_an_api_key_fails_clearly_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    # Importing wandb would fail: the error must come before any W&B client exists.
    monkeypatch.setitem(sys.modules, "wandb", None)
    with pytest.raises(ArtifactUnavailable, match="WANDB_API_KEY is not set"):
        WandbArtifactSource().download(ARTIFACT, tmp_path / "into")
    cache = tmp_path / "cache"
    with pytest.raises(ConfigError) as err:
        resolve_dataset(spec(), cache, WandbArtifactSource(), print)
    assert str(err.value) == (
        f"base_config.yaml: jaster.artifacts_path: cannot download {ARTIFACT}: WANDB_API_KEY is not set "
        "(a W&B API key is needed to download artifacts); set jaster.data_dir to a local copy instead"
    )
    assert leftovers(cache) == []


def test_wandb_source_downloads_through_the_public_api(
    tmp_path: Path, artifact_tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The W&B client is faked, its manifest entries are the real wandb class."""
    entry_module = pytest.importorskip("wandb.sdk.artifacts.artifact_manifest_entry")
    files = sorted(p for p in artifact_tree.rglob("*") if p.is_file())
    entries = {
        p.relative_to(artifact_tree).as_posix(): entry_module.ArtifactManifestEntry(
            path=p.relative_to(artifact_tree).as_posix(), digest=md5_b64(p), size=p.stat().st_size
        )
        for p in files
    }
    calls: list[tuple[str, object]] = []

    class FakeArtifact:
        version = "v7"
        digest = "artifact-digest"
        manifest = types.SimpleNamespace(entries=entries)

        def download(self, root: str, skip_cache: bool) -> str:
            calls.append(("download", skip_cache))
            shutil.copytree(artifact_tree, root, dirs_exist_ok=True)
            return root

    class FakeApi:
        def __init__(self, api_key: str) -> None:
            calls.append(("key", api_key))

        def artifact(self, name: str, type: str) -> FakeArtifact:
            calls.append(("artifact", (name, type)))
            return FakeArtifact()

    monkeypatch.setenv("WANDB_API_KEY", "k3y")
    monkeypatch.setitem(sys.modules, "wandb", types.SimpleNamespace(Api=FakeApi))
    folder = resolve_dataset(spec(), tmp_path / "cache", WandbArtifactSource(), print)
    assert calls == [("key", "k3y"), ("artifact", (ARTIFACT, "dataset")), ("download", True)]
    assert (folder / "train" / "mgsm.json").is_file()
    assert read_json(cache_folder(tmp_path / "cache") / MANIFEST)["version"] == "v7"

    def unreachable(api_key: str) -> None:
        raise ConnectionError("api.wandb.ai: Name or service not known")

    monkeypatch.setitem(sys.modules, "wandb", types.SimpleNamespace(Api=unreachable))
    with pytest.raises(ArtifactUnavailable, match=r"W&B: api\.wandb\.ai: Name or service not known \(offline"):
        WandbArtifactSource().download(ARTIFACT, tmp_path / "into")


def test_xxh128_digests_from_wandb_are_checked(tmp_path: Path, artifact_tree: Path) -> None:
    xxhash = pytest.importorskip("xxhash")

    class XxhSource(FakeSource):
        def download(self, artifact_path: str, into: Path) -> ArtifactFiles:
            listing = super().download(artifact_path, into)
            files = tuple(
                ArtifactFile(
                    f.path,
                    base64.b64encode(xxhash.xxh128((into / f.path).read_bytes()).digest()).decode(),
                    "xxh128",
                    f.size,
                )
                for f in listing.files
            )
            return ArtifactFiles(listing.version, listing.digest, files)

    folder = resolve_dataset(spec(), tmp_path / "cache", XxhSource(artifact_tree), print)
    assert (folder / "test" / "mgsm.json").is_file()
    # The cache keeps MD5s, so reusing it needs no xxhash.
    manifest = read_json(cache_folder(tmp_path / "cache") / MANIFEST)
    mgsm = folder / "test" / "mgsm.json"
    assert manifest["files"]["jaster/test/mgsm.json"]["md5"] == md5_b64(mgsm)


def test_default_cache_dir_follows_nejumi_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEJUMI_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("NEJUMI_CACHE_DIR")
    assert default_cache_dir() == Path.home() / ".cache" / "nejumi" / "datasets"


def test_read_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "task.json"
    path.write_text('{\n  "instruction": "x",\n  "samples": [1, 2,]\n}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_json(path)
    assert str(err.value) == f"{path}: invalid JSON: line 3, column 20: Expecting value"
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(ConfigError, match=r"task\.json: not UTF-8 text \(byte 7\)"):
        read_json(path)
    with pytest.raises(ConfigError, match=r"absent\.json: file not found"):
        read_json(tmp_path / "absent.json")


def test_read_jsonl_numbers_lines_and_names_the_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "questions.jsonl"
    # U+2028 is legal inside a JSON string and must not split the line.
    path.write_text('{"id": 1}\n\n{"id": 2, "text": "a\u2028b"}\n{"id": 3,}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_jsonl(path)
    assert (
        str(err.value) == f"{path}: line 4: invalid JSON: column 10: Expecting property name enclosed in double quotes"
    )
    path.write_text('{"id": 1}\n\n{"id": 2, "text": "a\u2028b"}\n', encoding="utf-8")
    assert read_jsonl(path) == [(1, {"id": 1}), (3, {"id": 2, "text": "a\u2028b"})]
