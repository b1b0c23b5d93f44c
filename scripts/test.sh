#!/usr/bin/env bash
# The whole test suite, as CI runs it: install missing validators, then format, lints, tests
# (which run promtool, amtool, kubernetes-validate, helm, check-jsonschema, markdownlint, … on
# the generated files), the API docs, the fuzzers and the book. Each phase prints how long it
# took, and a table of them closes the run (the book's performance page explains them).
#
# A test whose validator is missing fails. UPKEEP_ALLOW_SKIP=1 lets it pass as skipped instead
# (never under CI=true); the skips are listed at the end of the run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Python validators live in a virtual environment outside the checkout (install-validators.sh).
venv="${UPKEEP_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/upkeep/venv}"
export UPKEEP_VENV="$venv"

t_start=$SECONDS
timings=()
# `phase NAME CMD…`: run CMD as one timed phase of the run.
phase() {
  local name=$1 t0=$SECONDS
  shift
  echo "==> $name" >&2
  "$@"
  local dt=$((SECONDS - t0))
  echo "==> $name ($dt s)" >&2
  timings+=("$(printf '%6d s  %s' "$dt" "$name")")
}

target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
skipped="$target_dir/upkeep-skipped.txt"
mkdir -p "$target_dir"
rm -f "$skipped"

# The state of the checkout before the run, to prove the run leaves it as it was.
in_git=false
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  in_git=true
  git_state() { git status --porcelain=v1 --untracked-files=all; git diff HEAD --binary; }
  state_before="$(git_state | sha1sum)"
  status_before="$(git status --porcelain=v1 --untracked-files=all)"
fi

report() {
  local rc=$?
  if ((${#timings[@]})); then
    echo "==> where the time went" >&2
    printf '%s\n' "${timings[@]}" >&2
    printf '%6d s  total\n' "$((SECONDS - t_start))" >&2
  fi
  if [ -s "$skipped" ]; then
    local n
    n="$(wc -l < "$skipped")"
    {
      echo
      echo "!!! $n test(s) SKIPPED because something they need is not installed (UPKEEP_ALLOW_SKIP=1):"
      sed 's/^/!!!   /' "$skipped"
      echo "!!! run ./scripts/install-validators.sh; these tests proved nothing"
      echo
    } >&2
  fi
  return "$rc"
}
trap report EXIT

phase "install validators" ./scripts/install-validators.sh
if [ -x "$venv/bin/python3" ]; then
  export PATH="$venv/bin:$PATH"
fi
phase "cargo fmt --check" cargo fmt --check
phase "cargo clippy --all-targets -- -D warnings" cargo clippy --all-targets --quiet -- -D warnings
phase "cargo test: compile" cargo test --no-run --quiet
phase "cargo test: run" cargo test --quiet
phase "cargo doc --no-deps (warnings denied)" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
phase "fuzz: build the targets" ./scripts/fuzz.sh build
phase "fuzz: 10 seconds per target" ./scripts/fuzz.sh 10
phase "mdbook build book" mdbook build book

if $in_git; then
  if [ "$(git_state | sha1sum)" != "$state_before" ]; then
    echo "error: the test run changed or left files in the checkout (add generated files to .gitignore or write them under target/):" >&2
    diff <(echo "$status_before") <(git status --porcelain=v1 --untracked-files=all) >&2 || true
    git diff --stat HEAD >&2 || true
    exit 1
  fi
fi
echo "==> all checks passed" >&2
