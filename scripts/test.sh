#!/usr/bin/env bash
# The whole test suite, as CI runs it: install missing validators, then format, lints, tests
# (which run promtool, amtool, kubernetes-validate, helm, check-jsonschema, markdownlint, … on
# the generated files) and the book.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-validators.sh
echo "==> cargo fmt --check" >&2
cargo fmt --check
echo "==> cargo clippy --all-targets -- -D warnings" >&2
cargo clippy --all-targets --quiet -- -D warnings
echo "==> cargo test" >&2
cargo test --quiet
echo "==> fuzz: 10 seconds per target" >&2
./scripts/fuzz.sh 10
echo "==> mdbook build book" >&2
mdbook build book >/dev/null
echo "==> all checks passed" >&2
