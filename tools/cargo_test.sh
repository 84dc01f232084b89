#!/usr/bin/env bash
# Bazel sh_test for one Rust crate: `cargo test --release --locked` (unit and proptest
# suites), then the fmt and clippy gates. Argument: the crate's folder in the workspace.
set -euo pipefail

rel="${1:?usage: cargo_test.sh <crate folder, e.g. rust/scorers>}"
manifest="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-nejumi}/$rel/Cargo.toml"
if [[ ! -f "$manifest" ]]; then
  echo "cargo_test.sh: $rel/Cargo.toml is not in the runfiles (add the crate sources to data)" >&2
  exit 1
fi
if ! command -v cargo >/dev/null 2>&1 && [[ -x "${HOME:-/root}/.cargo/bin/cargo" ]]; then
  export PATH="${HOME:-/root}/.cargo/bin:$PATH"
fi
# pyo3 builds for the interpreter the Python targets use: the venv's python3 (on PATH).
export PYO3_PYTHON="${PYO3_PYTHON:-$(command -v python3)}"
# Runfiles are symlinks; build the real source tree so rustfmt and cargo see one crate.
cd "$(dirname "$(readlink -f "$manifest")")"
export CARGO_TARGET_DIR="${HOME:-/root}/.cache/nejumi/cargo-target/$(basename "$rel")-test"

cargo test --release --locked
cargo fmt --check
cargo clippy --release --locked --all-targets -- -D warnings
