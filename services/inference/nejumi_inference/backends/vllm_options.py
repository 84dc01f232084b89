"""The ``vllm:`` section of a model config as vLLM command-line flags (pure; imports nothing from vLLM).

The flags are parsed by vLLM's own ``vllm serve`` parser, so ``extra_args`` accepts every flag that command does.
"""

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nejumi_inference.backends.options import OptionsError, parse_options

# Keys of an upstream model config's vllm section that concern the docker/compose launcher, not the engine.
IGNORED_KEYS = frozenset({"lifecycle", "vllm_tag", "vllm_docker_image", "device_map", "disable_triton_mma"})
ALIASES = {"num_gpus": "tensor_parallel_size"}


@dataclasses.dataclass(frozen=True)
class VllmOptions:
    dtype: str | None = None
    max_model_len: int | None = None
    gpu_memory_utilization: float | None = None
    tensor_parallel_size: int | None = None
    trust_remote_code: bool = False
    chat_template: str | None = None  # a file path, or the template itself
    reasoning_parser: str | None = None
    tool_call_parser: str | None = None
    enable_auto_tool_choice: bool = False
    served_model_name: str | None = None
    extra_args: list[str] | str | None = None  # more `vllm serve` flags; a string is split on whitespace


def parse_vllm_options(config: Mapping[str, Any]) -> VllmOptions:
    """Options from ``--backend-config``; unknown keys are logged and dropped (model configs carry many)."""
    return parse_options(VllmOptions, config, "vllm", aliases=ALIASES, ignored=IGNORED_KEYS, strict=False)


def engine_argv(model: str, options: VllmOptions) -> list[str]:
    """The `vllm serve` flags equivalent to ``options`` (what upstream's docker entrypoint passes)."""
    argv = ["--model", model]
    valued = [
        ("--dtype", options.dtype),
        ("--max-model-len", options.max_model_len),
        ("--gpu-memory-utilization", options.gpu_memory_utilization),
        ("--tensor-parallel-size", options.tensor_parallel_size),
        ("--reasoning-parser", options.reasoning_parser),
        ("--tool-call-parser", options.tool_call_parser),
        ("--served-model-name", options.served_model_name),
        ("--chat-template", options.chat_template),
    ]
    for flag, value in valued:
        if value is not None and value != "":
            argv += [flag, str(value)]
    if options.trust_remote_code:
        argv.append("--trust-remote-code")
    if options.enable_auto_tool_choice:
        argv.append("--enable-auto-tool-choice")
    extra = options.extra_args or []
    argv += extra.split() if isinstance(extra, str) else list(extra)
    return argv


def load_chat_template(value: str | None) -> str | None:
    """A chat template given as a file path or as the template text; None keeps the tokenizer's own."""
    if not value:
        return None
    path = Path(value)
    try:
        if path.is_file():
            return path.read_text(encoding="utf-8")
    except OSError:  # a long template string is not a valid path on some systems
        pass
    if "{{" in value or "{%" in value:
        return value
    raise OptionsError(
        f"chat_template: {value!r} is neither a readable file nor a Jinja template; pass the path of a .jinja file "
        "(upstream's chat_templates/<name>.jinja) or the template text"
    )
