#!/usr/bin/env python3
"""Benchmark `upkeep check` and `upkeep build` on synthetic trees of 1, 100 and 1,000 plans.

    scripts/bench.py                      # sizes 1, 100, 1000; prints a Markdown report
    scripts/bench.py --sizes 1,100 --runs 3
    scripts/bench.py --lsp                # only `upkeep lsp`: diagnostics after each edit

Each plan is of realistic size: 12 services with health checks, 30 KPIs of every indicator
kind, 4 SLOs with burn-rate alerts, 6 windows, 12 tasks, 2 backups with restore tests, 8
runbooks, a severity matrix, 5 receivers, 3 environments, on-call and a budget. Every run is a
fresh process (start-up included), timed on the wall clock; the report gives the median and the
fastest of the runs. Two baselines run on the same tree in the same session:

- parse only: the `parse_only` example reads every file and parses it into the span-carrying
  YAML tree `upkeep check` starts from, and does nothing else;
- promtool: `promtool check rules` on the rules `upkeep build` generated.

Trees and outputs go to /dev/shm (a tmpfs) when it exists, so the numbers measure upkeep and
not the disk: on ext4, creating thousands of files right after deleting thousands is dominated
by the file system's inode allocation and varies by a factor of several between runs.

With `--lsp`, it times `upkeep lsp` instead (see `lsp_bench`): a plan of about 50 KB (the same
generator with 48 services and 184 KPIs) is opened, then edited `--edits` times; each edit is
timed from the moment its `textDocument/didChange` is written to the server's standard input to
the moment the `textDocument/publishDiagnostics` for that version is read from its output.

Needs a release build (`cargo build --release --examples` is run first) and promtool on PATH
(not for `--lsp`).
"""

import argparse
import collections
import json
import os
import platform
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
UPKEEP = os.path.join(TARGET, "release", "upkeep")
PARSE_ONLY = os.path.join(TARGET, "release", "examples", "parse_only")

INDICATORS = [
    "{{latency: {{histogram: http_request_duration_seconds, quantile: 0.99, window: 5m, selector: 'job=\"{job}\"'}}}}",
    "{{error_ratio: {{errors: 'http_requests_total{{job=\"{job}\", code=~\"5..\"}}', total: 'http_requests_total{{job=\"{job}\"}}'}}}}",
    "{{throughput: {{counter: http_requests_total}}}}",
    "{{resource: cpu}}",
    "{{resource: memory}}",
    "{{resource: disk}}",
    "{{up: {{job: {job}}}}}",
    "{{expr: 'sum(queue_depth{{job=\"{job}\"}})'}}",
]
THRESHOLDS = [
    ('objective: "< 250ms"', 'warning: "> 250ms"', 'critical: "> 1s"'),
    ("", 'warning: "> 1%"', 'critical: "> 5%"'),
    ("", 'warning: "< 5 req/s"', 'critical: "< 1 req/s"'),
    ("", 'warning: "> 80%"', 'critical: "> 95%"'),
    ("", 'warning: "> 85%"', 'critical: "> 95%"'),
    ("", 'warning: "> 80%"', 'critical: "> 90%"'),
    ("", "", 'critical: "< 1"'),
    ("unit: messages", 'warning: "> 1000 messages"', 'critical: "> 10000 messages"'),
]
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ORDINALS = ["first", "second", "third", "fourth"]


def plan(i: int, base_url: bool = True, n_services: int = 12, n_kpis: int = 30) -> str:
    name = f"system-{i:04d}"
    services = [f"svc{s}" for s in range(n_services)]
    out = [
        "apiVersion: upkeep/v1",
        "kind: Plan",
        "metadata:",
        f"  name: {name}",
        f"  title: Synthetic system {i}",
        "  timezone: " + ["Europe/Madrid", "America/Guayaquil", "America/Lima", "UTC"][i % 4],
        f"  labels: {{team: team{i % 7}}}",
        # Without it every plan warns (runbook/relative-url) and `check` times the report.
    ] + (["  runbook_base_url: https://runbooks.example.org"] if base_url else []) + [
        "execution: {namespace: ops, runbook: job-failed}",
        "",
        "services:",
    ]
    for s, svc in enumerate(services):
        deps = f", depends_on: [{services[s - 1]}]" if s else ""
        health = [
            f'{{http: "http://{svc}:8080/health", interval: 30s, retries: 3}}',
            f'{{tcp: "{svc}:5432", interval: 1m}}',
            f'{{command: "/usr/local/bin/check-{svc}", interval: 5m}}',
        ][s % 3]
        out.append(f"  {svc}: {{job: {name}-{svc}, impact: {['critical', 'high', 'medium', 'low'][s % 4]}, health: {health}, runbook: service-down{deps}}}")
    out += ["", "kpis:"]
    for k in range(n_kpis):
        kind = k % len(INDICATORS)
        svc = services[k % len(services)]
        ind = INDICATORS[kind].format(job=f"{name}-{svc}")
        extra = [t for t in THRESHOLDS[kind] if t]
        out.append(f"  kpi_{k}:")
        out.append(f"    service: {svc}")
        out.append(f"    indicator: {ind}")
        out += [f"    {t}" for t in extra]
        out.append(f"    for: {[1, 5, 10][k % 3]}m")
        out.append(f"    runbook: {'disk-full' if kind == 5 else ['high-latency', 'errors', 'saturation', 'service-down'][k % 4]}")
    out += ["", "slos:"]
    for s in range(4):
        svc = services[s]
        out += [
            f"  slo_{s}:",
            f"    service: {svc}",
            f"    objective: {['99.9%', '99.5%', '99%', '98%'][s]}",
            f"    window: {['30d', '28d', '7d', '30d'][s]}",
            f"    indicator: {{error_ratio: {{errors: 'http_requests_total{{job=\"{name}-{svc}\", code=~\"5..\"}}', total: 'http_requests_total{{job=\"{name}-{svc}\"}}'}}}}",
            "    alerting: {page: P1, ticket: P3}",
            "    runbook: errors",
        ]
    out += [
        "",
        "severity:",
        "  levels:",
        "    P1: {response: 15m, notify: [pager, chat], repeat: 1h}",
        "    P2: {response: 1h, notify: [chat, mail]}",
        "    P3: {response: 4h, notify: [mail, hook]}",
        "    P4: {response: 1d, notify: [ticket]}",
        "  matrix:",
        "    likelihood: [low, medium, high]",
        "    impact: {critical: [P2, P1, P1], high: [P3, P2, P1], medium: [P4, P3, P2], low: [P4, P4, P3]}",
        "  likelihood_of: {warning: low, critical: high}",
        "  default_impact: medium",
        "",
        "receivers:",
        "  pager: {pagerduty: {routing_key_file: /etc/alertmanager/pd-key}}",
        '  chat: {slack: {channel: "#ops", api_url_file: /etc/alertmanager/slack-url}}',
        '  mail: {email: {to: ops@example.org, from: alerts@example.org, smarthost: "smtp.example.org:587"}}',
        '  hook: {webhook: {url: "https://hooks.example.org/am", credentials_file: /etc/alertmanager/hook-token}}',
        '  ticket: {email: {to: tickets@example.org, from: alerts@example.org, smarthost: "smtp.example.org:587"}}',
        "",
        "oncall:",
        "  rotation: weekly",
        "  handoff: monday 09:00",
        "  primary: sre",
        "  secondary: dev",
        "  escalation:",
        "    - {after: 15m, to: dev}",
        "    - {after: 30m, to: lead}",
        "",
        "roles:",
        "  sre: {fte: 1}",
        "  dev: {fte: 2}",
        "  lead: {fte: 0.5}",
        "",
        "windows:",
        "  nightly: {schedule: \"daily at 00:00\", duration: 2h, mute: true}",
        "  weekly: {schedule: \"weekly on sunday at 03:00\", duration: 2h}",
        f"  monthly: {{schedule: \"monthly on {ORDINALS[i % 4]} sunday at 05:00\", duration: 4h, downtime: {{services: [svc0], per_occurrence: 10m}}}}",
        "  quarterly: {schedule: \"quarterly on first saturday at 22:00\", duration: 2h}",
        "  month_end: {schedule: \"monthly on last day at 21:00\", duration: 1h}",
        "  peak: {schedule: \"weekdays at 13:00\", duration: 4h, kind: freeze}",
        "",
        "tasks:",
        "  vacuum: {window: nightly, duration: 30m, service: svc1, command: \"vacuumdb --all --analyze\", owner: sre}",
        "  reindex: {window: nightly, duration: 45m, service: svc1, command: \"reindexdb --all\", owner: sre}",
        "  rotate_logs: {window: nightly, duration: 15m, command: \"logrotate -f /etc/logrotate.conf\", owner: sre}",
        "  patch: {window: monthly, duration: 2h, command: \"apt-get -y upgrade\", owner: sre}",
        "  cleanup: {schedule: \"every 6h\", duration: 5m, command: \"find /tmp -mtime +7 -delete\", owner: sre}",
        "  cert_check: {schedule: \"daily at 07:00\", duration: 5m, command: \"/usr/local/bin/check-certs\", owner: sre, runbook: cert-expiry}",
        f"  scan: {{schedule: \"monthly on {ORDINALS[(i + 1) % 4]} {WEEKDAYS[i % 7]} at 06:00\", duration: 30m, command: \"trivy fs /srv\", owner: sre}}",
        "  report: {window: month_end, duration: 10m, command: \"/usr/local/bin/report\", owner: lead}",
        "  firmware: {window: quarterly, duration: 1h, command: \"/usr/local/bin/update-firmware\", owner: sre}",
        "  capacity: {schedule: \"quarterly on second monday at 09:00\", duration: 2h, manual: true, owner: lead, checklist: [Review growth, Order hardware]}",
        "  access_review: {schedule: \"monthly on first monday at 10:00\", duration: 1h, manual: true, owner: sre, checklist: [List accounts, Remove leavers]}",
        "  dr_drill: {schedule: \"semiannually on second saturday at 08:00\", duration: 4h, manual: true, owner: lead}",
        "  weekly_review: {window: weekly, duration: 1h, manual: true, owner: dev}",
        "",
        "backups:",
        "  db:",
        "    service: svc1",
        "    command: /usr/local/bin/pg-backup",
        "    full: {schedule: \"daily at 01:00\", retain: 30d}",
        "    incremental: {schedule: \"every 12h\", retain: 7d}",
        "    weekly: {schedule: \"weekly on sunday at 02:00\", retain: 90d}",
        "    rpo: 12h",
        "    rto: 4h",
        "    restore_test: {schedule: \"monthly on second saturday at 06:00\", duration: 2h, command: /usr/local/bin/pg-restore-test, runbook: restore}",
        "  files:",
        "    service: svc2",
        "    command: /usr/local/bin/restic-backup",
        "    full: {schedule: \"daily at 02:30\", retain: 14d}",
        "    monthly: {schedule: \"monthly on day 1 at 04:00\", retain: 365d}",
        "    rpo: 1d",
        "    rto: 8h",
        "    restore_test: {schedule: \"quarterly on first sunday at 06:00\", duration: 2h, manual: true}",
        "",
        "runbooks:",
    ]
    for rb in ["service-down", "high-latency", "errors", "saturation", "job-failed", "disk-full", "cert-expiry", "restore"]:
        out += [
            f"  {rb}:",
            f"    title: {rb.replace('-', ' ').capitalize()}",
            "    symptoms: [Alert fired, Users report problems]",
            "    diagnosis:",
            "      - {run: \"kubectl -n ops get pods\", explain: Look for restarts}",
            "      - {run: \"kubectl -n ops logs deploy/app --tail=100\", explain: Look for errors}",
            "    actions: [Restart the deployment, Scale out, Escalate to the owner]",
            "    verify: The alert resolves within 15 minutes",
        ]
    out += [
        "",
        "environments:",
        "  dev: {replicas: 1, alerts: false, resources: {requests: {cpu: 100m, memory: 128Mi}}}",
        "  staging: {replicas: 2, resources: {requests: {cpu: 250m, memory: 256Mi}, limits: {cpu: 500m, memory: 512Mi}}}",
        "  prod:",
        "    replicas: 4",
        "    resources: {requests: {cpu: 500m, memory: 1Gi}, limits: {cpu: '2', memory: 2Gi}}",
        "    autoscaling: {min: 4, max: 12, cpu: 70%}",
        "    env: {LOG_LEVEL: info}",
        "",
        "budget:",
        "  currency: USD",
        "  period: year",
        "  total: 120000",
        "  lines:",
        "    infrastructure:",
        "      hosting: {monthly: 4000}",
        "      monitoring: {monthly: 1000}",
        "    people:",
        "      oncall: 60000",
    ]
    return "\n".join(out) + "\n"


def noisy_plan(i: int) -> str:
    """The plan with about 120 warnings: no runbook base URL (`runbook/relative-url`), no
    runbook on any alert (`alert/no-runbook`), so the runbooks are unused, and 70 unused roles
    (`ref/unused`)."""
    text = plan(i, base_url=False).replace(", runbook: service-down", "")
    text = re.sub(r"\n    runbook: [a-z-]+", "", text)
    return text.replace("roles:\n", "roles:\n" + "".join(f"  idle{r}: {{fte: 0.1}}\n" for r in range(70)))


def generate(root: str, n: int, noisy: bool = False) -> None:
    os.makedirs(root, exist_ok=True)
    for i in range(n):
        with open(os.path.join(root, f"system-{i:05d}.yaml"), "w", encoding="utf-8") as f:
            f.write(noisy_plan(i) if noisy else plan(i))


GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def run(cmd, ok=(0,)):
    """Run `cmd` once: (wall seconds, peak RSS in bytes, last line of standard error).

    The peak RSS is GNU time's (`%M`): the rusage of a child forked from this process starts
    from this process's own high-water mark, which holds the generated inputs."""
    rss_file = tempfile.NamedTemporaryFile(prefix="upkeep-bench-rss-", delete=False)
    rss_file.close()
    full = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *cmd] if GNU_TIME else cmd
    start = time.perf_counter()
    proc = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr.decode()[-3000:]}")
    try:
        with open(rss_file.name, encoding="utf-8") as f:
            rss = int(f.read().split()[-1]) * 1024
    except (OSError, ValueError, IndexError):
        rss = 0
    os.unlink(rss_file.name)
    lines = proc.stderr.decode(errors="replace").strip().splitlines()
    return elapsed, rss, lines[-1] if lines else ""


def timed(cmd):
    return run(cmd)[0]


def measure(label, make_cmd, runs, before=None, ok=(0,)):
    """Median and fastest wall time, and the largest peak RSS, of `runs` fresh processes."""
    times, rss, last = [], 0, ""
    for _ in range(runs):
        if before:
            before()
        t, r, last = run(make_cmd(), ok)
        times.append(t)
        rss = max(rss, r)
    return label, statistics.median(times), min(times), rss, last


def mib(b):
    return f"{b / 1024 / 1024:.0f} MiB"


def ms(t):
    return f"{t * 1000:.0f} ms" if t >= 0.1 else f"{t * 1000:.1f} ms"


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}"


HOSTILE_HEADER = """apiVersion: upkeep/v1
kind: Plan
metadata: {{name: {name}, timezone: {tz}}}
severity:
  levels:
    P1: {{response: 1h, notify: [ops]}}
receivers:
  ops: {{webhook: {{url: "http://alerts.example.com/hook"}}}}
roles: {{ops: {{fte: 1}}}}
"""


def hostile_inputs():
    """(name, description, {file name: text}): the blow-up inputs of issue 15."""
    def one(name, body, tz="UTC"):
        return {"plan.yaml": HOSTILE_HEADER.format(name=name, tz=tz) + body}

    def tasks(n, tz="UTC"):
        return one("tasks", "services:\n  api: {}\ntasks:\n" + "".join(
            f'  t{i}: {{schedule: "every 1m", duration: 30s, command: "echo {i}", owner: ops, service: api}}\n'
            for i in range(n)), tz)

    def windows(n, tz="UTC"):
        return one("windows", "services:\n  api: {}\n"
                   "slos:\n  avail: {service: api, objective: 99.9%, window: 30d, "
                   "indicator: {up: {job: api}}}\nwindows:\n" + "".join(
                       f'  w{i}: {{schedule: "every 1m", duration: 30s, downtime: {{services: [api], per_occurrence: 10s}}}}\n'
                       for i in range(n)), tz)

    def chain(n, cycle):
        last = f"  s{n - 1}: {{depends_on: [s0]}}\n" if cycle else f"  s{n - 1}: {{}}\n"
        return one("chain", "services:\n" + "".join(f"  s{i}: {{depends_on: [s{i + 1}]}}\n" for i in range(n - 1)) + last)

    def big_files(n, size):
        files = {}
        for f in range(n):
            body, i = [HOSTILE_HEADER.format(name=f"big-{f}", tz="UTC"), "runbooks:\n"], 0
            total = len(body[0])
            while total < size:
                line = f"  rb{i}: {{title: Runbook {i}, actions: [{'x' * 900}]}}\n"
                body.append(line)
                total += len(line)
                i += 1
            files[f"big-{f:02d}.yaml"] = "".join(body)
        return files

    return [
        ("tasks-50", "50 tasks `every 1m` on one service", tasks(50)),
        ("tasks-100", "100 tasks `every 1m` on one service", tasks(100)),
        ("tasks-100-madrid", "the same in Europe/Madrid (two DST changes)", tasks(100, "Europe/Madrid")),
        ("windows-20", "20 windows `every 1m` with downtime, one SLO", windows(20)),
        ("chain-20000", "`depends_on` chain of 20,000 services", chain(20000, False)),
        ("cycle-20000", "the chain closed into one cycle", chain(20000, True)),
        ("files-40x3.9MB", "40 files of 3.9 MB", big_files(40, int(3.9 * 1000 * 1000))),
    ]


class LspClient:
    """`upkeep lsp` on pipes: JSON-RPC frames out, a reader thread putting messages in a queue."""

    def __init__(self, cwd):
        self.proc = subprocess.Popen([UPKEEP, "lsp"], cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.messages = queue.Queue()
        self.next_id = 1
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.messages.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            self.messages.put((time.perf_counter(), json.loads(out.read(length))))

    def send(self, message):
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        return time.perf_counter()

    def notify(self, method, params):
        return self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        i = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == i and "method" not in m)[1]

    def wait(self, want, timeout=30):
        """The first message `want` accepts, with the time it was read."""
        deadline = time.perf_counter() + timeout
        while True:
            try:
                item = self.messages.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                sys.exit("upkeep lsp: no answer within %d s" % timeout)
            if item is None:
                sys.exit("upkeep lsp ended")
            if want(item[1]):
                return item

    def diagnostics(self, uri, version):
        return self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                         and m["params"]["uri"] == uri and m["params"].get("version") == version)

    def stop(self):
        self.request("shutdown", None)
        self.notify("exit", None)
        return self.proc.wait(timeout=30)


def cpu_seconds(pid):
    """User and system CPU time a process has used so far (Linux: /proc/PID/stat), or 0."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def lsp_bench(work, edits):
    """Open a plan of about 50 KB in `upkeep lsp` and time each of `edits` edits, from its
    `didChange` to the diagnostics published for its version. Edits alternate: a runbook
    reference made unknown (a new `ref/unknown` each time: `errors2`, `errors4`…), then put
    back (none), so every edit changes what is published. The text is sent whole, as the
    server asks (full synchronisation)."""
    root = os.path.join(work, "lsp")
    os.makedirs(root)
    text = plan(0, n_services=48, n_kpis=184)
    path = os.path.join(root, "plan.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    uri = "file://" + path
    target = "    runbook: errors\n"
    assert target in text
    _, check_med, check_min, _, _ = measure("check", lambda: [UPKEEP, "check", path], 10)
    client = LspClient(root)
    client.request("initialize", {"processId": os.getpid(), "rootUri": "file://" + root, "capabilities": {}})
    client.notify("initialized", {})
    sent = client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}})
    got, first = client.diagnostics(uri, 1)
    base = len(first["params"]["diagnostics"])  # what `check` says of the plan: a few warnings
    opened = got - sent
    cpu_before = cpu_seconds(client.proc.pid)
    times, broken = [], []
    for version in range(2, edits + 2):
        new = text.replace(target, f"    runbook: errors{version}\n", 1) if version % 2 == 0 else text
        sent = client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                        "contentChanges": [{"text": new}]})
        got, message = client.diagnostics(uri, version)
        times.append(got - sent)
        broken.append(len(message["params"]["diagnostics"]))
    cpu = (cpu_seconds(client.proc.pid) - cpu_before) / edits
    assert broken == [base + 1 if v % 2 == 0 else base for v in range(2, edits + 2)], broken
    code = client.stop()
    assert code == 0, code
    times.sort()
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    print(f"Machine: {machine()}  ")
    print(f"upkeep {subprocess.run([UPKEEP, '--version'], capture_output=True, text=True).stdout.strip()}, "
          f"release build; a plan of {len(text) / 1024:.1f} KB ({len(text.splitlines())} lines), {edits} edits\n")
    print("| open → diagnostics | edit → diagnostics: median | p90 | max | server CPU per edit | `upkeep check` of the same file (process) |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {ms(opened)} | {ms(statistics.median(times))} | {ms(p90)} | {ms(times[-1])} | {ms(cpu)} | "
          f"{ms(check_med)} (fastest {ms(check_min)}) |", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1,100,1000")
    ap.add_argument("--runs", type=int, default=5, help="runs per measurement (the 1-plan case runs 6× as many)")
    ap.add_argument("--build-max", type=int, default=1000,
                    help="largest tree that is also built (and checked by promtool); the many-warnings tree too")
    ap.add_argument("--warnings", type=int, default=1000,
                    help="plans in the many-warnings tree (about 120 warnings each); 0 to skip")
    ap.add_argument("--hostile", action="store_true", help="also time the blow-up inputs of issue 15")
    ap.add_argument("--only-hostile", action="store_true", help="only the blow-up inputs")
    ap.add_argument("--keep", action="store_true", help="keep the generated trees")
    ap.add_argument("--lsp", action="store_true", help="only `upkeep lsp`: diagnostics after each edit of a 50 KB plan")
    ap.add_argument("--edits", type=int, default=50, help="edits timed with --lsp")
    ap.add_argument("--workdir", default="/dev/shm" if os.path.isdir("/dev/shm") else None,
                    help="where trees and outputs go (default: /dev/shm, a tmpfs, so disk latency is not measured)")
    args = ap.parse_args()
    if args.lsp:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "upkeep"], cwd=ROOT, check=True)
        work = tempfile.mkdtemp(prefix="upkeep-bench-", dir=args.workdir)
        try:
            lsp_bench(work, args.edits)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return
    sizes = [] if args.only_hostile else [int(s) for s in args.sizes.split(",") if s]
    promtool = shutil.which("promtool")
    if not promtool and any(n <= args.build_max for n in sizes):
        sys.exit("promtool is not on PATH (./scripts/install-validators.sh)")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "upkeep", "--example", "parse_only"], cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="upkeep-bench-", dir=args.workdir)
    print(f"Machine: {machine()}  ")
    prom_version = subprocess.run([promtool, '--version'], capture_output=True, text=True).stdout.splitlines()[0] if promtool else "no promtool"
    print(f"upkeep {subprocess.run([UPKEEP, '--version'], capture_output=True, text=True).stdout.strip()}, {prom_version}, "
          f"median of {args.runs} runs (peak RSS: the largest of them)\n")
    if sizes:
        print("| plans | YAML | parse only | `check` | check ÷ parse | check RSS | `build` | build ÷ parse | build RSS | files | `promtool check rules` |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        tree = os.path.join(work, f"plans-{n}")
        generate(tree, n)
        size = sum(os.path.getsize(os.path.join(tree, f)) for f in os.listdir(tree))
        runs = args.runs * 6 if n == 1 else args.runs
        out = os.path.join(work, f"out-{n}")

        def clean():
            shutil.rmtree(out, ignore_errors=True)

        _, parse_med, _, _, _ = measure("parse", lambda: [PARSE_ONLY, tree], runs)
        # Past the default input limit (64 MiB, about 4,000 plans) the run says how much it reads.
        limit = ["--max-input", f"{size // 2**20 + 1}MiB"] if size > 64 * 2**20 else []
        _, check_med, check_min, check_rss, _ = measure("check", lambda: [UPKEEP, "check", *limit, tree], runs)
        build = prom = "–"
        build_ratio = build_rss = files = "–"
        if n <= args.build_max:
            _, build_med, _, b_rss, _ = measure("build", lambda: [UPKEEP, "build", *limit, tree, "--out", out], runs, before=clean)
            files = sum(len(fs) for _, _, fs in os.walk(out))
            rules = sorted(os.path.join(out, "prometheus", f) for f in os.listdir(os.path.join(out, "prometheus")) if f.endswith(".rules.yaml"))
            _, prom_med, _, _, _ = measure("promtool", lambda: [promtool, "check", "rules", *rules], max(1, runs // 2))
            build, build_ratio, build_rss, prom = ms(build_med), f"{build_med / parse_med:.1f}×", mib(b_rss), ms(prom_med)
            clean()
        print(f"| {n} | {size / 1024 / 1024:.1f} MiB | {ms(parse_med)} | {ms(check_med)} (fastest {ms(check_min)}) | "
              f"{check_med / parse_med:.2f}× | {mib(check_rss)} | {build} | {build_ratio} | {build_rss} | {files} | {prom} |", flush=True)
        if not args.keep:
            shutil.rmtree(tree, ignore_errors=True)
    if args.warnings and not args.only_hostile:
        n = args.warnings
        tree = os.path.join(work, f"warnings-{n}")
        out = os.path.join(work, f"warnings-out-{n}")
        generate(tree, n, noisy=True)
        _, parse_med, _, _, _ = measure("parse", lambda: [PARSE_ONLY, tree], args.runs)
        _, check_med, _, check_rss, summary = measure("check", lambda: [UPKEEP, "check", tree], args.runs)
        # Every report drawn in full, as before `--draw-limit`: what drawing costs.
        _, drawn_med, _, drawn_rss, _ = measure("check", lambda: [UPKEEP, "check", "--draw-limit", "0", tree],
                                                args.runs)
        build_med = build_rss = None
        if n <= args.build_max:
            _, build_med, _, build_rss, _ = measure("build", lambda: [UPKEEP, "build", tree, "--out", out], args.runs,
                                                    before=lambda: shutil.rmtree(out, ignore_errors=True))
        print(f"\n{n} plans with about 120 warnings each (`{summary}`):\n")
        print("| parse only | `check` | check ÷ parse | check RSS | `check --draw-limit 0` | ÷ parse | RSS "
              "| `build` | build RSS |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        build_cells = f"{ms(build_med)} | {mib(build_rss)}" if build_med is not None else "– | –"
        print(f"| {ms(parse_med)} | {ms(check_med)} | {check_med / parse_med:.2f}× | {mib(check_rss)} | "
              f"{ms(drawn_med)} | {drawn_med / parse_med:.2f}× | {mib(drawn_rss)} | {build_cells} |", flush=True)
        shutil.rmtree(out, ignore_errors=True)
    if args.hostile or args.only_hostile:
        print("\nBlow-up inputs (`upkeep check`):\n")
        print("| input | what | time | peak RSS | diagnostics |")
        print("|---|---|---:|---:|---|")
        for name, what, files in hostile_inputs():
            tree = os.path.join(work, "hostile", name)
            os.makedirs(tree, exist_ok=True)
            for f, text in files.items():
                with open(os.path.join(tree, f), "w", encoding="utf-8") as fh:
                    fh.write(text)
            _, med, _, rss, _ = measure(name, lambda: [UPKEEP, "check", tree], args.runs, ok=(0, 1))
            report = json.loads(subprocess.run([UPKEEP, "check", "--format", "json", tree],
                                               capture_output=True, text=True).stdout)
            codes = collections.Counter(d["code"] for d in report["diagnostics"])
            found = ", ".join(f"`{c}` ×{n}" for c, n in sorted(codes.items()))
            print(f"| {name} | {what} | {ms(med)} | {mib(rss)} | {found} |", flush=True)
            shutil.rmtree(tree, ignore_errors=True)
    if args.keep:
        print(f"\ntrees kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
