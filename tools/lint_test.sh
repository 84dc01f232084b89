#!/usr/bin/env bash
# ruff check + ruff format --check over the whole source tree (Python style gate).
set -euo pipefail
# Runfiles are symlinks into the workspace; follow one back to the source root.
root="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
cd "$root"
ruff check --no-cache .
ruff format --no-cache --check .
