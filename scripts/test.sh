#!/usr/bin/env bash
# The whole test suite, as CI runs it: install missing validators, then format, lints, tests
# (which run promtool, amtool, kubernetes-validate, helm, check-jsonschema, markdownlint, … on
# the generated files), the API docs, the fuzzers and the book. Each phase prints how long it
# took, and a table of them closes the run (the book's CI page explains them).
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

fuzz_pid=
report() {
  local rc=$?
  # A run that stops early stops the background fuzz build too (its own process group).
  if [ -n "$fuzz_pid" ]; then
    kill -- "-$fuzz_pid" 2>/dev/null || kill "$fuzz_pid" 2>/dev/null || true
  fi
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
# The fuzz targets are a compile of their own (nightly, fuzz/target/quick), and the test run
# keeps only about one of two cores busy: they build in the background, at a lower priority,
# while the tests and the docs run.
fuzz_log="$target_dir/fuzz-build.log"
start_fuzz_build() {
  setsid nice -n 10 ./scripts/fuzz.sh build >"$fuzz_log" 2>&1 &
  fuzz_pid=$!
}
wait_fuzz_build() {
  local rc=0
  wait "$fuzz_pid" || rc=$?
  fuzz_pid=
  if ((rc)); then
    tail -40 "$fuzz_log" >&2
    echo "error: the fuzz targets do not build (the whole log: $fuzz_log)" >&2
    return "$rc"
  fi
}
phase "fuzz: start building the targets in the background" start_fuzz_build
phase "cargo test: run" cargo test --quiet
phase "cargo doc --no-deps (warnings denied)" env RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
phase "fuzz: wait for the build to finish" wait_fuzz_build
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
