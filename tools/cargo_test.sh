#!/usr/bin/env bash
# Bazel sh_test for one Rust crate: `cargo test --release --locked` (unit and proptest
# suites) twice, with a fixed proptest seed and with a fresh one that is printed first,
# then the fmt and clippy gates. Argument: the crate's folder in the workspace.
#
# A proptest failure names its seed; replay it with
#   PROPTEST_RNG_SEED=<seed> cargo test --release
# and commit the case proptest adds to the crate's proptest-regressions/ folder.
set -euo pipefail

rel="${1:?usage: cargo_test.sh <crate folder, e.g. rust/scorers>}"
manifest="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-nejumi}/$rel/Cargo.toml"
if [[ ! -f "$manifest" ]]; then
  manifest="$rel/Cargo.toml"
fi
if [[ ! -f "$manifest" ]]; then
  echo "cargo_test.sh: $rel/Cargo.toml is not in the runfiles (add the crate sources to data)" >&2
  exit 1
fi
if ! command -v cargo >/dev/null 2>&1 && [[ -x "${HOME:-/root}/.cargo/bin/cargo" ]]; then
  export PATH="${HOME:-/root}/.cargo/bin:$PATH"
fi
# Runfiles are symlinks; build the real source tree so rustfmt and cargo see one crate.
cd "$(dirname "$(readlink -f "$manifest")")"
export CARGO_TARGET_DIR="${HOME:-/root}/.cache/nejumi/cargo-target/$(basename "$rel")-test"

run_with_seed() {
  echo "cargo_test.sh: $1 proptest seed: PROPTEST_RNG_SEED=$2"
  if ! PROPTEST_RNG_SEED="$2" cargo test --release --locked; then
    echo "cargo_test.sh: FAILED with PROPTEST_RNG_SEED=$2 (replay: cd $rel && PROPTEST_RNG_SEED=$2 cargo test --release)" >&2
    exit 1
  fi
}

run_with_seed fixed 20261204
run_with_seed fresh "${NEJUMI_FRESH_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
cargo fmt --check
cargo clippy --release --locked --all-targets -- -D warnings
