#!/usr/bin/env bash
# Bazel sh_test: `cargo test --release --locked` on rust/arc_grid (unit + proptest suites),
# plus the fmt and clippy gates. The crate sources arrive as runfiles.
set -euo pipefail

crate=""
for candidate in \
  "${TEST_SRCDIR:-}/${TEST_WORKSPACE:-nejumi}/rust/arc_grid" \
  "$(dirname "${BASH_SOURCE[0]}")"; do
  if [[ -f "$candidate/Cargo.toml" ]]; then
    crate="$candidate"
    break
  fi
done
if [[ -z "$crate" ]]; then
  echo "cargo_test.sh: cannot find rust/arc_grid/Cargo.toml in the runfiles" >&2
  exit 1
fi
if ! command -v cargo >/dev/null 2>&1 && [[ -x "${HOME:-/root}/.cargo/bin/cargo" ]]; then
  export PATH="${HOME:-/root}/.cargo/bin:$PATH"
fi
# Runfiles are symlinks; build the real source tree so rustfmt and cargo see one crate.
crate="$(dirname "$(readlink -f "$crate/Cargo.toml")")"
export CARGO_TARGET_DIR="${HOME:-/root}/.cache/nejumi/cargo-target/arc_grid"
cd "$crate"

cargo test --release --locked
cargo fmt --check
cargo clippy --release --locked --all-targets -- -D warnings
