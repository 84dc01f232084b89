"""jaster: the llm-jp-eval task suite as Nejumi Leaderboard 4 runs it.

Prompts, sample selection, max tokens, answer normalisation and metrics follow
upstream `scripts/evaluator/jaster.py` (docs/compatibility.md lists its quirks that
nejumi keeps). Scoring itself runs in Rust (`nejumi_scorers`), bit-identical to the
official Python.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2

import nejumi_scorers
from nejumi.benchmark import Context, FlatScores, Judge, ScoredRow, score_key
from nejumi.benchmarks.jaster_comet import COMET_METRIC, TRANSLATION_TASKS, CometScorer, unavailable_reason
from nejumi.benchmarks.jhumaneval_code import extract_code
from nejumi.compat import Compatibility
from nejumi.config import Config, ConfigError
from nejumi.datasets import DatasetSpec
from nejumi.generation import generation_params
from nejumi.predictions import Prediction
from nejumi.request_queue import FailurePolicy
from nejumi.scoring_models.comet import DEFAULT_MODEL as COMET_MODEL
from nejumi.scoring_models.comet import MODEL_KEY as COMET_MODEL_KEY
from nejumi.scoring_models.comet import Triple
from nejumi.settings import benchmark_policy
from nejumi.tables import Table
from nejumi_proto.v1 import transcript_pb2, types_pb2

NAME = "jaster"

# Upstream hard-codes this intro (the `jaster.message_intro` config key is ignored).
MESSAGE_INTRO = (
    "以下に、あるタスクを説明する指示があり、それに付随する入力が更なる文脈を提供しています。"
    "リクエストを適切に完了するための回答を記述してください。"
)

# The 0-shot pass, in upstream order. The few-shot pass drops jhumaneval and, with
# run.jmmlu_robustness, appends the two robustness variants.
UPSTREAM_TASKS = (
    "aio",
    "alt-e-to-j",
    "alt-j-to-e",
    "commonsensemoralja",
    "jamp",
    "janli",
    "jblimp",
    "jcola-in-domain",
    "jcola-out-of-domain",
    "jcommonsenseqa",
    "jemhopqa",
    "jhumaneval",
    "jnli",
    "jmmlu",
    "jsem",
    "jsick",
    "jsquad",
    "kuci",
    "mawps",
    "mgsm",
    "niilc",
    "mmlu_prox_ja",
)
ROBUSTNESS_TASKS = ("jmmlu_IncorrectChoice", "jmmlu_SymbolChoice")
ZERO_SHOT_ONLY = frozenset({"jhumaneval"})
# Rows upstream removes from the jaster tables; they have tables of their own.
SEPARATE_TABLES = frozenset({"jhumaneval", *ROBUSTNESS_TASKS})

# Tasks whose scoring needs a part nejumi does not ship yet: none under official numbers.
UNSUPPORTED: dict[str, str] = {}
# JHumanEval's official numbers come from a stale metric function (see
# score_jhumaneval); the intended sandbox and pylint scores need the sandbox service.
UNSUPPORTED_CORRECTED = {**UNSUPPORTED, "jhumaneval": "the code-execution sandbox"}


def unsupported_tasks(compatibility: Compatibility) -> dict[str, str]:
    return UNSUPPORTED if compatibility.official else UNSUPPORTED_CORRECTED


METRICS: dict[str, Callable[[str, str], float]] = {
    "exact_match": nejumi_scorers.exact_match,
    "exact_match_figure": nejumi_scorers.exact_match_figure,
    "char_f1": nejumi_scorers.char_f1,
}

UPSTREAM_SAMPLES = {"test": 100, "dev": 10}
TESTMODE_SAMPLES = {"test": 1, "dev": 1}


def metrics_for(task: str, listed: Sequence[str]) -> list[str]:
    """Upstream overrides the file's metric list for some tasks."""
    if task == "jhumaneval":
        return ["code_exec_sandbox", "pylint_check"]
    if task in ("alt-e-to-j", "alt-j-to-e"):
        return ["comet_wmt22"]
    if task in ("mawps", "mgsm"):
        return ["exact_match_figure"]
    return list(listed)


@dataclass(frozen=True)
class TaskFile:
    instruction: str
    output_length: int
    metrics: list[str]
    samples: list[dict[str, str]]


def read_task_file(path: Path) -> TaskFile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ConfigError(
            str(path),
            "",
            f"invalid JSON: line {err.lineno}, column {err.colno}: {err.msg}",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), "", "a jaster task file must hold a JSON object")
    for key, kind in (
        ("instruction", str),
        ("output_length", int),
        ("metrics", list),
        ("samples", list),
    ):
        if not isinstance(data.get(key), kind):
            raise ConfigError(str(path), key, f"missing or not a {kind.__name__}")
    for index, sample in enumerate(data["samples"]):
        if not isinstance(sample, dict) or not isinstance(sample.get("input"), str) or "output" not in sample:
            raise ConfigError(
                str(path),
                f"samples[{index}]",
                'must be an object with string "input" and "output"',
            )
    return TaskFile(
        data["instruction"],
        data["output_length"],
        list(data["metrics"]),
        data["samples"],
    )


def resolve_data_dir(path: Path) -> Path:
    """Accepts the folder holding test/dev/train, or one holding jaster/ in turn."""
    if (path / "jaster" / "test").is_dir():
        return path / "jaster"
    return path


@dataclass(frozen=True)
class JasterSettings:
    # The dataset folder when known up front (re-scoring predictions, tests); otherwise
    # the runner resolves `dataset` and hands the folder to `Jaster.check`.
    data_dir: Path | None
    tasks: tuple[str, ...]
    num_few_shots: int
    robustness: bool
    samples: dict[str, int]
    override_max_tokens: int | None
    generator: dict[str, Any]
    compatibility: Compatibility
    policy: FailurePolicy = field(default_factory=FailurePolicy)
    dataset: DatasetSpec | None = None
    comet_model: str = COMET_MODEL

    @classmethod
    def from_config(cls, cfg: Config, compatibility: Compatibility) -> JasterSettings:
        unsupported_here = unsupported_tasks(compatibility)
        tasks = cfg.get("jaster.tasks")
        if tasks is None:
            tasks = [task for task in UPSTREAM_TASKS if task not in unsupported_here]
        if not isinstance(tasks, list) or not all(isinstance(t, str) for t in tasks):
            raise cfg.error("jaster.tasks", "must be a list of task names")
        unknown = [t for t in tasks if t not in UPSTREAM_TASKS]
        if unknown:
            raise cfg.error(
                "jaster.tasks",
                f"unknown task(s) {', '.join(unknown)}; known: {', '.join(UPSTREAM_TASKS)}",
            )
        unsupported = [f"{t} (needs {unsupported_here[t]})" for t in tasks if t in unsupported_here]
        if unsupported:
            raise cfg.error("jaster.tasks", f"not supported yet: {', '.join(unsupported)}")
        samples = dict(TESTMODE_SAMPLES if cfg.get_bool("testmode") else UPSTREAM_SAMPLES)
        for subset in samples:
            limit = cfg.get_int(f"jaster.max_samples.{subset}", minimum=0)
            if limit is not None:
                samples[subset] = limit
        return cls(
            data_dir=None,
            dataset=DatasetSpec.from_config(cfg, NAME, required=("test",)),
            tasks=tuple(tasks),
            num_few_shots=cfg.get_int("num_few_shots", 0, minimum=0) or 0,
            robustness=cfg.get_bool("run.jmmlu_robustness"),
            samples=samples,
            override_max_tokens=cfg.get_int("jaster.override_max_tokens", minimum=1),
            generator=cfg.get_mapping("generator"),
            compatibility=compatibility,
            policy=benchmark_policy(cfg, NAME),
            comet_model=cfg.get_str(COMET_MODEL_KEY, COMET_MODEL) or COMET_MODEL,
        )

    @classmethod
    def for_predictions(
        cls,
        data_dir: Path,
        compatibility: Compatibility,
        predictions: Sequence[Prediction],
        warn: Callable[[str], None],
    ) -> JasterSettings:
        """Settings that plan every task and pass the predictions answer, over the whole dataset."""
        tasks = []
        unsupported = unsupported_tasks(compatibility)
        for task in dict.fromkeys(p.task for p in predictions):
            if task in ROBUSTNESS_TASKS:
                continue
            if task not in UPSTREAM_TASKS:
                warn(f"jaster: unknown task {task!r} in the predictions is ignored")
            elif task in unsupported:
                warn(f"jaster: {task} is not scored (needs {unsupported[task]})")
            else:
                tasks.append(task)
        return cls(
            data_dir=resolve_data_dir(data_dir),
            tasks=tuple(t for t in UPSTREAM_TASKS if t in tasks),
            num_few_shots=max((p.shots for p in predictions), default=0),
            robustness=any(p.task in ROBUSTNESS_TASKS for p in predictions),
            samples={"test": 10**9, "dev": 10**9},
            override_max_tokens=None,
            generator={},
            compatibility=compatibility,
        )


@dataclass(frozen=True)
class JasterScorer:
    """The official per-row metric and the control check of one answer."""

    name = "jaster"
    # Bump when a change to the scoring code changes any score: stored scores are re-computed.
    version = "1"

    async def score(self, transcript: transcript_pb2.Transcript, judge: Judge) -> list[types_pb2.Score]:
        return score_answer(transcript.sample, transcript.output)


def comet_triple(transcript: transcript_pb2.Transcript) -> Triple:
    """Upstream's COMET input: the raw input, the processed prediction and the NFKC reference."""
    sample = transcript.sample
    return Triple(
        src=sample.metadata["input"],
        mt=nejumi_scorers.normalize_prediction(transcript.output, sample.task),
        ref=nejumi_scorers.normalize_reference(sample.references[0]),
    )


class Jaster:
    name = NAME
    judges = ()

    def __init__(self, settings: JasterSettings, warn: Callable[[str], None] = lambda _: None) -> None:
        self.settings = settings
        self.scorers = (JasterScorer(), CometScorer(settings.comet_model, warn, comet_triple))
        self.datasets = {NAME: settings.dataset} if settings.dataset else {}
        self.data_dir = settings.data_dir
        self.generation = generation_params(settings.generator)
        self.policy = settings.policy
        self._warn = warn

    @classmethod
    def from_config(cls, cfg: Config, compatibility: Compatibility, warn: Callable[[str], None]) -> Jaster:
        settings = JasterSettings.from_config(cfg, compatibility)
        if any(task in TRANSLATION_TASKS for task in settings.tasks):
            reason = unavailable_reason(settings.comet_model)
            if reason is not None:
                # Said before the first request: the answers are stored, and a later run with COMET scores them.
                warn(f"jaster: COMET cannot load, so alt-e-to-j and alt-j-to-e will not be scored: {reason}")
        return cls(settings, warn)

    @classmethod
    def for_predictions(
        cls,
        data_dir: Path,
        compatibility: Compatibility,
        predictions: Sequence[Prediction],
        warn: Callable[[str], None],
    ) -> Jaster:
        return cls(JasterSettings.for_predictions(data_dir, compatibility, predictions, warn), warn)

    def check(self, folders: Mapping[str, Path]) -> None:
        """Takes the resolved dataset folder; `plan` then reads and checks every task file."""
        if NAME in folders:
            self.data_dir = resolve_data_dir(folders[NAME])
        if self.data_dir is None or not (self.data_dir / "test").is_dir():
            raise ConfigError(
                str(self.data_dir),
                "jaster.data_dir",
                "has no test/ folder (point it at the folder holding the jaster test/, dev/ and train/ folders)",
            )

    def passes(self) -> list[tuple[int, list[str]]]:
        """(shots, tasks) of the 0-shot pass and, if enabled, the few-shot pass."""
        passes = [(0, list(self.settings.tasks))]
        if self.settings.num_few_shots:
            few = [t for t in self.settings.tasks if t not in ZERO_SHOT_ONLY]
            if self.settings.robustness and "jmmlu" in self.settings.tasks:
                few += list(ROBUSTNESS_TASKS)
            passes.append((self.settings.num_few_shots, few))
        return passes

    def folder(self) -> Path:
        if self.data_dir is None:
            raise RuntimeError("jaster: the dataset folder is not resolved yet (the runner calls check first)")
        return self.data_dir

    def task_path(self, subset: str, task: str) -> Path:
        # Upstream reads mgsm's dev set from train/: mgsm has no dev split.
        folder = "train" if (subset == "dev" and task == "mgsm") else subset
        return self.folder() / folder / f"{task}.json"

    def plan(self) -> list[types_pb2.Sample]:
        samples: list[types_pb2.Sample] = []
        for shots, tasks in self.passes():
            for task in tasks:
                # Upstream's metric loop skips JHumanEval rows, test and dev alike: they
                # all get the metric of the last row planned before JHumanEval.
                stale = samples[-1].metadata["metric"] if samples else None
                for subset in ("test", "dev"):
                    planned = self._plan_task(task, subset, shots)
                    if task == "jhumaneval":
                        for sample in planned:
                            mark_stale_metric(sample, stale)
                    samples += planned
        return samples

    def _plan_task(self, task: str, subset: str, shots: int) -> list[types_pb2.Sample]:
        path = self.task_path(subset, task)
        if not path.exists():
            if subset == "test":
                self._warn(f"jaster: {path} not found; {task} is skipped")
            return []
        task_file = read_task_file(path)
        few_shots: list[dict[str, str]] = []
        if shots:
            train_path = self.folder() / "train" / f"{task}.json"
            if not train_path.exists():
                raise ConfigError(str(train_path), "", f"few-shot examples for {task} are missing")
            few_shots = read_task_file(train_path).samples[:shots]
        max_tokens = self.settings.override_max_tokens or task_file.output_length
        params = generation_params(self.settings.generator, max_tokens=max_tokens)
        metrics = metrics_for(task, task_file.metrics)
        planned = []
        for index, item in enumerate(task_file.samples[: self.settings.samples[subset]]):
            messages = build_messages(task_file.instruction, few_shots, item["input"])
            for attempt, metric in enumerate(metrics):
                planned.append(
                    types_pb2.Sample(
                        benchmark=NAME,
                        task=task,
                        id=str(index),
                        shots=shots,
                        subset=subset,
                        messages=messages,
                        generation=params,
                        references=[str(item["output"])],
                        # Upstream sends one request per metric row.
                        attempt=attempt,
                        metadata={"metric": metric, "input": item["input"]},
                    )
                )
        return planned

    async def solve(self, ctx: Context) -> str:
        # One request per metric row, each with its task's max_tokens (upstream's loop).
        response = await ctx.generate(ctx.sample.messages, params=ctx.sample.generation)
        return response.text

    def summarize(self, rows: Sequence[ScoredRow]) -> FlatScores:
        test = [row for row in rows if row.sample.subset == "test"]
        flat: FlatScores = {}
        for shots, _ in self.passes():
            in_pass = [row for row in test if row.sample.shots == shots]
            main = [row for row in in_pass if row.sample.task not in SEPARATE_TABLES]
            flat.update(self._task_scores(main, shots))
            translations = [row for row in main if row.sample.metadata["metric"] == COMET_METRIC]
            unscored = sum(row.value(COMET_METRIC) is None for row in translations)
            if unscored:
                flat[score_key(NAME, "_all", shots, "unscored_translations")] = float(unscored)
            flat.update(jhumaneval_scores([row for row in in_pass if row.sample.task == "jhumaneval"], shots))
            if shots and self.settings.robustness:
                consistency = robustness_scores(in_pass)
                if consistency:
                    flat[score_key(NAME, "jmmlu_robust", shots, "consistency")] = mean(consistency)
        return flat

    def _task_scores(self, rows: Sequence[ScoredRow], shots: int) -> FlatScores:
        by_metric: dict[tuple[str, str], list[float | None]] = defaultdict(list)
        by_task: dict[str, list[float | None]] = defaultdict(list)
        control: dict[str, list[float | None]] = defaultdict(list)
        for row in rows:
            metric = row.sample.metadata["metric"]
            value = row.value(metric)
            by_metric[(row.sample.task, metric)].append(value)
            by_task[row.sample.task].append(value)
            control[row.sample.task].append(row.value("control"))
        flat: FlatScores = {score_key(NAME, t, shots, m): mean(v) for (t, m), v in sorted(by_metric.items())}
        control_means = {t: mean(v) for t, v in control.items()}
        for task, value in sorted(control_means.items()):
            if value is not None:
                flat[score_key(NAME, task, shots, "control")] = value
        compat = self.settings.compatibility
        flat[score_key(NAME, "_all", shots, "AVG")] = pivot_average(
            {t: mean(v) for t, v in by_task.items()}, skip=2 if compat.official else 0
        )
        flat[score_key(NAME, "_all", shots, "control_AVG")] = pivot_average(
            control_means, skip=1 if compat.official else 0
        )
        return flat

    def tables(self, rows: Sequence[ScoredRow], model_name: str) -> list[Table]:
        """The official W&B tables of jaster (upstream names and column order)."""
        tables: list[Table] = []
        for shots, _ in self.passes():
            in_pass = [row for row in rows if row.sample.shots == shots]
            main = [row for row in in_pass if row.sample.task not in SEPARATE_TABLES]
            for subset, suffix in (("test", ""), ("dev", "_dev")):
                subset_rows = [row for row in main if row.sample.subset == subset]
                tables.append(
                    output_table(
                        f"jaster_{shots}shot_output_table{suffix}",
                        subset_rows,
                        model_name,
                    )
                )
            flat = self.summarize(in_pass)
            tables.append(
                leaderboard_table(
                    f"jaster_{shots}shot_leaderboard_table",
                    flat,
                    shots,
                    model_name,
                    "score",
                )
            )
            tables.append(
                leaderboard_table(
                    f"jaster_control_{shots}shot_leaderboard_table",
                    flat,
                    shots,
                    model_name,
                    "control",
                )
            )
            jhumaneval = [row for row in in_pass if row.sample.task == "jhumaneval"]
            if jhumaneval:
                tables += jhumaneval_tables(jhumaneval, flat, model_name)
            robust_key = score_key(NAME, "jmmlu_robust", shots, "consistency")
            if robust_key in flat:
                tables.append(
                    Table(
                        f"jmmlu_robust_{shots}shot_leaderboard_table",
                        ["model_name", "robust_score"],
                        [[model_name, flat[robust_key]]],
                    )
                )
        return tables


def details(**values: str) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


def score_answer(sample: types_pb2.Sample, output: str) -> list[types_pb2.Score]:
    """The row's metric and its control check."""
    if sample.task == "jhumaneval":
        return score_jhumaneval(sample, output)
    metric = sample.metadata["metric"]
    prediction = nejumi_scorers.normalize_prediction(output, sample.task)
    expected = nejumi_scorers.normalize_reference(sample.references[0])
    control = nejumi_scorers.control_check(sample.task, prediction)
    score = types_pb2.Score(metric=metric, details=details(output=prediction, expected_output=expected))
    if metric != COMET_METRIC:  # COMET's value comes from the batch scorer, once every answer is in
        scorer = METRICS.get(metric)
        if scorer is None:
            raise ValueError(f"jaster: metric {metric!r} of task {sample.task} is not supported")
        score.value = scorer(prediction, expected)
    return [
        score,
        types_pb2.Score(metric="control", value=control) if control is not None else types_pb2.Score(metric="control"),
    ]


OUTPUT_COLUMNS = [
    "model_name",
    "task",
    "index",
    "input",
    "raw_output",
    "output",
    "expected_output",
    "prompt",
    "score",
    "control_score",
    "metrics",
    "control_method",
    "dataset",
    "num_few_shots",
    "subset",
    "sub_category",
]

SUB_CATEGORY = {
    "alt-e-to-j": "GLP_translation",
    "alt-j-to-e": "GLP_translation",
    "jsquad": "GLP_information_extraction",
    "mawps": "GLP_mathematical_reasoning",
    "mgsm": "GLP_mathematical_reasoning",
    "jcommonsenseqa": "GLP_general_knowledge",
    "jemhopqa": "GLP_general_knowledge",
    "niilc": "GLP_general_knowledge",
    "aio": "GLP_general_knowledge",
    "jmmlu": "GLP_expert_knowledge",
    "mmlu_prox_ja": "GLP_expert_knowledge",
    "jnli": "GLP_semantic_analysis",
    "janli": "GLP_semantic_analysis",
    "jsem": "GLP_semantic_analysis",
    "jsick": "GLP_semantic_analysis",
    "jamp": "GLP_semantic_analysis",
    "jcola-in-domain": "GLP_syntactic_analysis",
    "jcola-out-of-domain": "GLP_syntactic_analysis",
    "jblimp": "GLP_syntactic_analysis",
    "jhumaneval": "GLP_coding",
    "commonsensemoralja": "ALT_ethics_moral",
}


def output_table(name: str, rows: Sequence[ScoredRow], model_name: str) -> Table:
    data = []
    for row in rows:
        sample = row.sample
        metric = sample.metadata["metric"]
        scored = row.scores[0].details
        control = row.value("control")
        messages = [{"role": m.role, "content": m.content} for m in sample.messages]
        data.append(
            [
                model_name,
                sample.task,
                int(sample.id),
                sample.metadata.get("input", ""),
                row.output,
                scored["output"],
                scored["expected_output"],
                json.dumps(messages, ensure_ascii=False, indent=2),
                row.value(metric),
                control,
                metric,
                "no_check" if control is None else "check",
                NAME,
                sample.shots,
                sample.subset,
                SUB_CATEGORY.get(sample.task),
            ]
        )
    return Table(name, OUTPUT_COLUMNS, data)


def leaderboard_table(name: str, flat: FlatScores, shots: int, model_name: str, kind: str) -> Table:
    """`[model_name, AVG, <task>...]`: per-task means of the score or control rate."""
    prefix = f"{NAME}/"
    suffix = f"/{shots}shot/"
    per_task: dict[str, float | None] = {}
    for key, value in flat.items():
        task, rest = key[len(prefix) :].split("/", 1)
        metric = rest.split("/", 1)[1]
        # JHumanEval has a table of its own; the official jaster tables have no column for it.
        if task in ("_all", "jmmlu_robust", "jhumaneval") or not rest.startswith(suffix[1:]):
            continue
        if (kind == "control") == (metric == "control"):
            per_task[task] = value
    average = flat.get(score_key(NAME, "_all", shots, "AVG" if kind == "score" else "control_AVG"))
    tasks = sorted(per_task)
    return Table(
        name,
        ["model_name", "AVG", *tasks],
        [[model_name, average, *(per_task[t] for t in tasks)]],
    )


def build_messages(instruction: str, few_shots: Sequence[dict[str, str]], query: str) -> list[types_pb2.ChatMessage]:
    """Upstream's prompt: intro and instruction prefixed to the first user turn."""
    messages = []
    for shot in few_shots:
        messages.append(types_pb2.ChatMessage(role="user", content=shot["input"]))
        messages.append(types_pb2.ChatMessage(role="assistant", content=str(shot["output"])))
    messages.append(types_pb2.ChatMessage(role="user", content=query))
    messages[0].content = f"{MESSAGE_INTRO}\n{instruction}\n\n{messages[0].content}"
    return messages


def mean(values: Sequence[float | None]) -> float | None:
    """pandas' mean: NaN and None are skipped; nothing left gives None."""
    kept = [v for v in values if v is not None and not math.isnan(v)]
    return math.fsum(kept) / len(kept) if kept else None


def pivot_average(per_task: dict[str, float | None], skip: int) -> float | None:
    """Upstream's leaderboard AVG: `iloc[:, 2:]` (or `[:, 1:]`) of a pivot table.

    The pivot drops all-NaN columns and sorts them by name; upstream's slice then
    drops the first `skip` task columns (aio and alt-e-to-j on the full suite, the
    first two present here). `skip=0` is the corrected average over every task.
    """
    columns = [per_task[t] for t in sorted(per_task) if per_task[t] is not None]
    return mean(columns[skip:])


def robustness_scores(rows: Sequence[ScoredRow]) -> list[float]:
    """JMMLU robustness: the i-th jmmlu, SymbolChoice and IncorrectChoice answers."""
    outputs: dict[str, list[str]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: int(r.sample.id)):
        if row.sample.task in ("jmmlu", *ROBUSTNESS_TASKS) and row.sample.attempt == 0:
            outputs[row.sample.task].append(row.scores[0].details["output"])
    normal, symbol, incorrect = (outputs[t] for t in ("jmmlu", "jmmlu_SymbolChoice", "jmmlu_IncorrectChoice"))
    if not (len(normal) == len(symbol) == len(incorrect)):
        raise ValueError(
            f"jmmlu robustness needs as many answers per variant (jmmlu {len(normal)}, "
            f"SymbolChoice {len(symbol)}, IncorrectChoice {len(incorrect)})"
        )
    return [nejumi_scorers.robust_consistency(n, s, i) for n, s, i in zip(normal, symbol, incorrect, strict=True)]


JHUMANEVAL_METRICS = ("code_exec_sandbox", "pylint_check")


def mark_stale_metric(sample: types_pb2.Sample, stale: str | None) -> None:
    """Upstream scores JHumanEval rows with the metric function of the row before them.

    Its loop only re-binds `metrics_func` for non-jhumaneval rows, so JHumanEval rows
    reuse the function of the last row planned before them (jemhopqa's char_f1 on the
    full suite). Without a previous row upstream crashes; nejumi says so instead.
    """
    if stale is None:
        raise ConfigError(
            "jaster.tasks",
            "",
            "jhumaneval cannot be the first task: upstream scores it with the previous task's metric",
        )
    sample.metadata["scored_with"] = stale


def score_jhumaneval(sample: types_pb2.Sample, output: str) -> list[types_pb2.Score]:
    """Official numbers: the stale metric on `str([code])` vs `str([expected])`."""
    code = extract_code(output)
    expected = nejumi_scorers.normalize_reference(sample.references[0])
    scorer = METRICS[sample.metadata["scored_with"]]
    return [
        types_pb2.Score(
            metric=sample.metadata["metric"],
            value=scorer(str([code]), str([expected])),
            details=details(output=code, expected_output=expected, scored_with=sample.metadata["scored_with"]),
        ),
        types_pb2.Score(metric="control"),
    ]


def jhumaneval_scores(rows: Sequence[ScoredRow], shots: int) -> FlatScores:
    if not rows:
        return {}
    means = {
        metric: mean([row.value(metric) for row in rows if row.sample.metadata["metric"] == metric])
        for metric in JHUMANEVAL_METRICS
    }
    flat: FlatScores = {score_key(NAME, "jhumaneval", shots, m): v for m, v in means.items()}
    flat[score_key(NAME, "jhumaneval", shots, "AVG")] = mean(list(means.values()))
    return flat


def jhumaneval_tables(rows: Sequence[ScoredRow], flat: FlatScores, model_name: str) -> list[Table]:
    test = [row for row in rows if row.sample.subset == "test"]
    dev = [row for row in rows if row.sample.subset == "dev"]
    values = [flat.get(score_key(NAME, "jhumaneval", 0, m)) for m in (*JHUMANEVAL_METRICS, "AVG")]
    return [
        output_table("jhumaneval_output_table", test, model_name),
        output_table("jhumaneval_output_table_dev", dev, model_name),
        Table("jhumaneval_leaderboard_table", ["model_name", *JHUMANEVAL_METRICS, "AVG"], [[model_name, *values]]),
    ]
