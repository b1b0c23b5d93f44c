//! Real servers for end-to-end tests, and the fakes they talk to.
//!
//! - [`Server`]: a real binary (Prometheus, Alertmanager, node exporter) on 127.0.0.1, on a free
//!   port, in its own directory, started under `timeout` (a hard bound on its life even if the
//!   test process is killed) and stopped by PID when dropped — also while a failing test
//!   unwinds. [`Server::stop`] says whether the process is really gone.
//! - [`FakeExporter`]: a `/metrics` endpoint in the Prometheus text format whose gauges and
//!   counters the test sets and changes; a counter is given a rate and grows linearly between
//!   scrapes, so `rate()` over it is exactly that rate.
//! - [`Webhook`]: an Alertmanager webhook receiver that records every notification; the path
//!   it was posted to names the receiver.
//! - [`http`]: a minimal HTTP/1.0 client for the servers' APIs.
//!
//! Everything listens on 127.0.0.1 only. No crate beyond the standard library and `serde_json`.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The longest a server started here may live: `timeout` ends it after that even when the test
/// process died without dropping it. The tests themselves are bounded well below.
pub const SERVER_LIFETIME: Duration = Duration::from_secs(300);

/// How long a server has to become ready after it was started.
const READY_WITHIN: Duration = Duration::from_secs(30);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking test thread must not hide what the fakes recorded.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

// ---------------------------------------------------------------------------------------------
// HTTP client

/// `METHOD path` on 127.0.0.1:`port` (HTTP/1.0, so the body is never chunked); the status and
/// the body. Bounded by a 5-second timeout per read and write.
pub fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| io::Error::other(format!("no HTTP header in {text:?}")))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line in {head:?}")))?;
    Ok((status, rest.to_owned()))
}

/// `GET path`, which must answer 200 with JSON.
pub fn get_json(port: u16, path: &str) -> io::Result<serde_json::Value> {
    let (status, body) = http(port, "GET", path, None)?;
    if status != 200 {
        return Err(io::Error::other(format!("GET {path}: {status} {body}")));
    }
    serde_json::from_str(&body).map_err(|e| io::Error::other(format!("GET {path}: {e}: {body}")))
}

// ---------------------------------------------------------------------------------------------
// Real servers

/// What a real server is started with.
pub struct Spec<'a> {
    /// Shown in messages, and the name of its directory and log file.
    pub name: &'a str,
    /// The binary (from `common::tool`).
    pub binary: &'a Path,
    /// Its arguments; `{port}` and `{dir}` are replaced by the port and the directory.
    pub args: &'a [&'a str],
    /// A path that answers 200 once the server is ready.
    pub ready_path: &'a str,
}

/// A real server process. Dropping it stops it.
pub struct Server {
    pub name: String,
    pub port: u16,
    /// Its own directory (configuration, data, `NAME.log`).
    pub dir: PathBuf,
    pub log: PathBuf,
    /// The `timeout` wrapper: leader of a process group holding only itself and the server.
    child: Child,
    /// The server itself (the wrapper's child), when it could be read from /proc.
    binary_pid: Option<u32>,
    binary: PathBuf,
}

impl Server {
    /// Start `spec` in `parent/NAME/` on a free port and wait until it is ready. A port taken
    /// between choosing and binding it is retried with another one.
    pub fn start(parent: &Path, spec: &Spec<'_>) -> Server {
        let dir = parent.join(spec.name);
        std::fs::create_dir_all(&dir).expect("server directory");
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let mut server = Server::spawn(&dir, port, spec);
            match server.wait_ready(spec.ready_path) {
                Ok(()) => return server,
                Err(why) => {
                    server.stop();
                    last = why;
                    if !last.contains("address already in use") {
                        break;
                    }
                }
            }
        }
        panic!("{} did not start:\n{last}", spec.name);
    }

    fn spawn(dir: &Path, port: u16, spec: &Spec<'_>) -> Server {
        let log = dir.join(format!("{}.log", spec.name));
        let out = File::create(&log).expect("server log");
        let err = out.try_clone().expect("server log");
        let dir_text = dir.to_string_lossy();
        let args: Vec<String> = spec
            .args
            .iter()
            .map(|a| {
                a.replace("{port}", &port.to_string())
                    .replace("{dir}", &dir_text)
            })
            .collect();
        // GNU timeout puts itself and the server in a new process group, forwards TERM to the
        // server, and kills it once SERVER_LIFETIME has passed whatever happens to this process.
        let child = Command::new("timeout")
            .arg("--signal=TERM")
            .arg("--kill-after=5")
            .arg(format!("{}s", SERVER_LIFETIME.as_secs()))
            .arg(spec.binary)
            .args(&args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", spec.name));
        let mut server = Server {
            name: spec.name.to_owned(),
            port,
            dir: dir.to_path_buf(),
            log,
            child,
            binary_pid: None,
            binary: spec.binary.to_path_buf(),
        };
        server.binary_pid = server.read_binary_pid();
        server
    }

    /// The wrapper's child: the process whose parent it is, from `/proc/*/stat`.
    fn read_binary_pid(&self) -> Option<u32> {
        let pid = self.child.id();
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            let child = std::fs::read_dir("/proc")
                .ok()?
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .find(|p| parent_of(*p) == Some(pid));
            if child.is_some() {
                return child;
            }
            thread::sleep(Duration::from_millis(10));
        }
        None
    }

    fn wait_ready(&mut self, path: &str) -> Result<(), String> {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}:\n{}", self.log_text()));
            }
            if let Ok((200, _)) = http(self.port, "GET", path, None) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "not ready on 127.0.0.1:{} after {READY_WITHIN:?}:\n{}",
                    self.port,
                    self.log_text()
                ));
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything the server has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The PIDs this server was started as: the `timeout` wrapper and the server.
    pub fn pids(&self) -> Vec<u32> {
        std::iter::once(self.child.id())
            .chain(self.binary_pid)
            .collect()
    }

    /// Stop the server by PID: TERM (forwarded by `timeout` to the server), up to 5 s to exit,
    /// then KILL to the process group the wrapper leads. Idempotent. True when every process
    /// started for it is gone.
    pub fn stop(&mut self) -> bool {
        let pid = self.child.id();
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
                thread::sleep(Duration::from_millis(20));
            }
            if matches!(self.child.try_wait(), Ok(None)) {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{pid}")])
                    .status();
                let _ = self.child.wait();
            }
        }
        // The server was the wrapper's child: once the wrapper has exited it has waited for it.
        self.binary_pid.is_none_or(|p| !self.runs(p))
    }

    /// Whether `pid` is still this server's binary (not gone, not a zombie, not a reused PID).
    fn runs(&self, pid: u32) -> bool {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        !is_zombie(pid)
            && String::from_utf8_lossy(&cmdline).contains(&*self.binary.to_string_lossy())
    }
}

/// The parent PID of `pid`: the field after the state in `/proc/PID/stat`.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
    })
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.stop() {
            eprintln!("{}: processes {:?} did not stop", self.name, self.pids());
        }
    }
}

/// Prometheus on `config` (written to `DIR/prometheus.yml`), storing its data under the
/// server's directory, with `extra` arguments. `None` (skipped loudly) when the binary is
/// missing and skipping is allowed.
pub fn prometheus(parent: &Path, config: &str, extra: &[&str]) -> Option<Server> {
    let bin = super::tool("prometheus")?;
    let dir = parent.join("prometheus");
    std::fs::create_dir_all(&dir).expect("prometheus directory");
    std::fs::write(dir.join("prometheus.yml"), config).expect("write prometheus.yml");
    Some(Server::start(
        parent,
        &Spec {
            name: "prometheus",
            binary: &bin,
            args: &[
                &[
                    "--config.file={dir}/prometheus.yml",
                    "--storage.tsdb.path={dir}/data",
                    "--web.listen-address=127.0.0.1:{port}",
                ],
                extra,
            ]
            .concat(),
            ready_path: "/-/ready",
        },
    ))
}

/// Alertmanager 0.25 (Debian's `prometheus-alertmanager`) on `config`, without clustering.
pub fn alertmanager(parent: &Path, config: &str) -> Option<Server> {
    let bin = super::tool("prometheus-alertmanager")?;
    let dir = parent.join("alertmanager");
    std::fs::create_dir_all(&dir).expect("alertmanager directory");
    std::fs::write(dir.join("alertmanager.yml"), config).expect("write alertmanager.yml");
    Some(Server::start(
        parent,
        &Spec {
            name: "alertmanager",
            binary: &bin,
            args: &[
                "--config.file={dir}/alertmanager.yml",
                "--storage.path={dir}/data",
                "--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            ready_path: "/-/ready",
        },
    ))
}

/// The node exporter with only its textfile collector, reading `*.prom` in `textfile_dir`
/// (what the generated crontabs write job metrics to).
pub fn node_exporter(parent: &Path, textfile_dir: &Path) -> Option<Server> {
    let bin = super::tool("prometheus-node-exporter")?;
    let textfiles = format!("--collector.textfile.directory={}", textfile_dir.display());
    Some(Server::start(
        parent,
        &Spec {
            name: "node-exporter",
            binary: &bin,
            args: &[
                "--web.listen-address=127.0.0.1:{port}",
                "--collector.disable-defaults",
                "--collector.textfile",
                &textfiles,
            ],
            ready_path: "/metrics",
        },
    ))
}

/// The blackbox exporter (Debian's `prometheus-blackbox-exporter`) on `config` (the modules,
/// written to `DIR/blackbox.yml`): what runs the HTTP and TCP health checks.
pub fn blackbox_exporter(parent: &Path, config: &str) -> Option<Server> {
    let bin = super::tool("prometheus-blackbox-exporter")?;
    let dir = parent.join("blackbox-exporter");
    std::fs::create_dir_all(&dir).expect("blackbox directory");
    std::fs::write(dir.join("blackbox.yml"), config).expect("write blackbox.yml");
    Some(Server::start(
        parent,
        &Spec {
            name: "blackbox-exporter",
            binary: &bin,
            args: &[
                "--config.file={dir}/blackbox.yml",
                "--web.listen-address=127.0.0.1:{port}",
            ],
            ready_path: "/metrics",
        },
    ))
}

/// The Pushgateway (Debian's `prometheus-pushgateway`), where guarded Kubernetes jobs report
/// their real runs.
pub fn pushgateway(parent: &Path) -> Option<Server> {
    let bin = super::tool("prometheus-pushgateway")?;
    Some(Server::start(
        parent,
        &Spec {
            name: "pushgateway",
            binary: &bin,
            // Debian's default persists to /var/lib/prometheus: keep this one's state its own.
            args: &[
                "--web.listen-address=127.0.0.1:{port}",
                "--persistence.file={dir}/pushgateway.data",
            ],
            ready_path: "/-/ready",
        },
    ))
}

/// Write a textfile-collector file atomically (the node exporter never reads half of it).
pub fn write_textfile(dir: &Path, name: &str, text: &str) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).expect("write textfile");
    std::fs::rename(&tmp, dir.join(name)).expect("rename textfile");
}

// ---------------------------------------------------------------------------------------------
// In-process HTTP servers

/// A request as the fakes see it.
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: String,
}

type Handler = dyn Fn(&Request) -> (u16, String) + Send + Sync;

/// A tiny HTTP server on 127.0.0.1 (a free port) answering from one thread, one connection at a
/// time, each closed after its response. Stopped and joined when dropped.
pub struct HttpServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    pub fn start(handler: Box<Handler>) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = serve(stream, &*handler);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(10));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        HttpServer {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut stream: TcpStream, handler: &Handler) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let header_end = loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if raw.len() > 1 << 20 {
            return Err(io::Error::other("header too long"));
        }
    };
    let head = String::from_utf8_lossy(&raw[..header_end]).into_owned();
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let path = words.next().unwrap_or_default().to_owned();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while raw.len() < header_end + length {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&raw[header_end..]).into_owned();
    let (status, text) = handler(&Request { method, path, body });
    write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: text/plain; version=0.0.4\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )?;
    stream.flush()?;
    let _ = stream.shutdown(Shutdown::Both);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The fake exporter

#[derive(Clone, Copy)]
enum Sample {
    Gauge(f64),
    /// A counter's value at `since`, growing by `rate` per second.
    Counter {
        at: f64,
        since: Instant,
        rate: f64,
    },
}

impl Sample {
    fn value(self, now: Instant) -> f64 {
        match self {
            Sample::Gauge(v) => v,
            Sample::Counter { at, since, rate } => {
                at + rate * now.saturating_duration_since(since).as_secs_f64()
            }
        }
    }
}

/// A new counter's value: this many days at its rate.
pub const COUNTER_START_DAYS: u32 = 10;

/// Metric name → label set (`{…}` text, empty for none) → sample.
type Families = BTreeMap<String, BTreeMap<String, Sample>>;

/// A `/metrics` endpoint whose series the test sets. Series are written as in `PromQL` output,
/// `name{label="value",…}`; scrape it with `honor_labels: true` so a `job` label given here is
/// kept, which lets one fake stand for several exporters.
pub struct FakeExporter {
    pub port: u16,
    families: Arc<Mutex<Families>>,
    _server: HttpServer,
}

/// `name{labels}` into the name and the `{…}` text (empty without labels).
pub fn split_series(series: &str) -> (String, String) {
    match series.find('{') {
        Some(i) => (series[..i].trim().to_owned(), series[i..].trim().to_owned()),
        None => (series.trim().to_owned(), String::new()),
    }
}

impl FakeExporter {
    pub fn start() -> FakeExporter {
        let families: Arc<Mutex<Families>> = Arc::default();
        let shared = Arc::clone(&families);
        let server = HttpServer::start(Box::new(move |req: &Request| {
            if req.path != "/metrics" {
                return (404, "not found\n".to_owned());
            }
            (200, render(&lock(&shared), Instant::now()))
        }));
        FakeExporter {
            port: server.port,
            families,
            _server: server,
        }
    }

    /// Set a gauge.
    pub fn gauge(&self, series: &str, value: f64) {
        let (name, labels) = split_series(series);
        lock(&self.families)
            .entry(name)
            .or_default()
            .insert(labels, Sample::Gauge(value));
    }

    /// Make a counter grow by `per_second` from now on. A new counter starts at
    /// [`COUNTER_START_DAYS`] days' worth of that rate (a process that has been running, so
    /// history can be written for it and `rate()` needs no zero extrapolation); an existing
    /// one keeps its value and changes pace.
    pub fn counter(&self, series: &str, per_second: f64) {
        let (name, labels) = split_series(series);
        let now = Instant::now();
        let mut families = lock(&self.families);
        let family = families.entry(name).or_default();
        let at = family
            .get(&labels)
            .map_or(per_second * 86_400.0 * f64::from(COUNTER_START_DAYS), |s| {
                s.value(now)
            });
        family.insert(
            labels,
            Sample::Counter {
                at,
                since: now,
                rate: per_second,
            },
        );
    }

    /// The value a series has now.
    pub fn value(&self, series: &str) -> Option<f64> {
        let (name, labels) = split_series(series);
        lock(&self.families)
            .get(&name)
            .and_then(|f| f.get(&labels))
            .map(|s| s.value(Instant::now()))
    }

    /// Stop exposing a series (Prometheus marks it stale at the next scrape).
    pub fn remove(&self, series: &str) {
        let (name, labels) = split_series(series);
        let mut families = lock(&self.families);
        if let Some(family) = families.get_mut(&name) {
            family.remove(&labels);
            if family.is_empty() {
                families.remove(&name);
            }
        }
    }

    /// What a scrape would return now.
    pub fn text(&self) -> String {
        render(&lock(&self.families), Instant::now())
    }
}

fn render(families: &Families, now: Instant) -> String {
    let mut out = String::new();
    for (name, series) in families {
        let kind = match series.values().next() {
            Some(Sample::Counter { .. }) => "counter",
            _ => "gauge",
        };
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, sample) in series {
            let _ = writeln!(out, "{name}{labels} {}", sample.value(now));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The webhook receiver

/// One notification Alertmanager posted.
#[derive(Clone, Debug)]
pub struct Notification {
    /// The path it was posted to, without the leading `/`: the receiver's name when the
    /// configuration points each receiver at `/NAME`.
    pub path: String,
    /// The JSON body (Alertmanager's webhook format, version 4).
    pub body: serde_json::Value,
    /// When it arrived, from the webhook's start.
    pub after: Duration,
}

impl Notification {
    /// The receiver Alertmanager says it notified.
    pub fn receiver(&self) -> &str {
        self.body["receiver"].as_str().unwrap_or_default()
    }

    /// `firing` or `resolved` for the group.
    pub fn status(&self) -> &str {
        self.body["status"].as_str().unwrap_or_default()
    }

    /// The alerts notified: (alertname, status, labels).
    pub fn alerts(&self) -> Vec<(String, String, serde_json::Value)> {
        self.body["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                (
                    a["labels"]["alertname"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    a["status"].as_str().unwrap_or_default().to_owned(),
                    a["labels"].clone(),
                )
            })
            .collect()
    }

    /// One line: `+12.3s RECEIVER firing: A (firing), B (resolved)`.
    pub fn summary(&self) -> String {
        let alerts: Vec<String> = self
            .alerts()
            .iter()
            .map(|(name, status, labels)| {
                format!(
                    "{name} ({status}, severity={})",
                    labels["severity"].as_str().unwrap_or("-")
                )
            })
            .collect();
        format!(
            "+{:.1}s /{} receiver={} {}: {}",
            self.after.as_secs_f64(),
            self.path,
            self.receiver(),
            self.status(),
            alerts.join(", ")
        )
    }
}

/// Records every notification posted to it (any path); answers 200.
pub struct Webhook {
    pub port: u16,
    log: Arc<Mutex<Vec<Notification>>>,
    _server: HttpServer,
}

impl Webhook {
    pub fn start() -> Webhook {
        let log: Arc<Mutex<Vec<Notification>>> = Arc::default();
        let shared = Arc::clone(&log);
        let started = Instant::now();
        let server = HttpServer::start(Box::new(move |req: &Request| {
            if req.method != "POST" {
                return (405, String::new());
            }
            let body = serde_json::from_str(&req.body).unwrap_or_else(
                |e| serde_json::json!({"unparsed": req.body, "error": e.to_string()}),
            );
            lock(&shared).push(Notification {
                path: req.path.trim_start_matches('/').to_owned(),
                body,
                after: started.elapsed(),
            });
            (200, String::new())
        }));
        Webhook {
            port: server.port,
            log,
            _server: server,
        }
    }

    /// The URL a receiver named `name` posts to.
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port)
    }

    /// Every notification so far, in order of arrival.
    pub fn received(&self) -> Vec<Notification> {
        lock(&self.log).clone()
    }
}
