//! `upkeep lsp` over the protocol: the real binary on stdio, driven with JSON-RPC frames.
//!
//! Every read is bounded ([`WAIT`]): a server that hangs fails the test instead of hanging
//! it, and the server is killed by its PID when the test ends, whatever happened.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

/// Longest wait for one message. Generous: a debug build checks a plan in well under a second,
/// but the test machine may be busy.
const WAIT: Duration = Duration::from_secs(60);

struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: mpsc::Receiver<Value>,
    /// Messages read while waiting for another.
    seen: Vec<Value>,
    next_id: i64,
}

impl Server {
    /// `upkeep lsp` in `dir`, not yet initialised.
    fn spawn(dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_upkeep"))
            .arg("lsp")
            .current_dir(dir)
            // Where the server writes the explain pages diagnostics link to.
            .env("XDG_CACHE_HOME", dir.join(".cache"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start upkeep lsp");
        let stdout = child.stdout.take().expect("stdout");
        let stdin = child.stdin.take();
        let (tx, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut out = BufReader::new(stdout);
            while let Some(message) = read_frame(&mut out) {
                if tx.send(message).is_err() {
                    return;
                }
            }
        });
        Server {
            child,
            stdin,
            messages,
            seen: Vec::new(),
            next_id: 1,
        }
    }

    /// `upkeep lsp` in `dir`, initialised with `dir` as the workspace.
    fn start(dir: &Path) -> Server {
        let mut s = Server::spawn(dir);
        let init = s.request(
            "initialize",
            json!({"processId": null, "rootUri": uri(dir), "capabilities": {}}),
        );
        assert!(init["result"]["capabilities"].is_object(), "{init}");
        s.notify("initialized", json!({}));
        s
    }

    fn write_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write to the server");
        stdin.flush().expect("flush");
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        self.write_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    }

    fn notify(&mut self, method: &str, params: Value) {
        let mut m = json!({"jsonrpc": "2.0", "method": method});
        m["params"] = params;
        self.send(&m);
    }

    /// Send a request and wait for its response (the whole response object).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut m = json!({"jsonrpc": "2.0", "id": id, "method": method});
        m["params"] = params;
        self.send(&m);
        self.wait_for(&format!("the response to `{method}`"), |m| {
            m["id"] == json!(id) && m.get("method").is_none()
        })
    }

    /// The next message, waiting at most [`WAIT`].
    fn next(&mut self, what: &str) -> Value {
        match self.messages.recv_timeout(WAIT) {
            Ok(m) => m,
            Err(e) => panic!("no {what} from the server within {WAIT:?} ({e:?})"),
        }
    }

    /// The first message (seen before, or read now) that `want` accepts.
    fn wait_for(&mut self, what: &str, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&want) {
            return self.seen.remove(i);
        }
        loop {
            let m = self.next(what);
            if want(&m) {
                return m;
            }
            self.seen.push(m);
        }
    }

    /// The diagnostics next published for `uri` (at `version`, when given).
    fn diagnostics(&mut self, uri: &str, version: Option<i64>) -> Vec<Value> {
        let m = self.wait_for(&format!("diagnostics for {uri}"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && version.is_none_or(|v| m["params"]["version"] == json!(v))
        });
        m["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn open(&mut self, path: &Path, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri(path), "languageId": "yaml", "version": 1, "text": text}}),
        );
    }

    fn change(&mut self, path: &Path, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri(path), "version": version},
                   "contentChanges": [{"text": text}]}),
        );
    }

    /// `shutdown`, `exit`, and the exit status.
    fn stop(mut self) -> i32 {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r["result"], Value::Null, "{r}");
        assert!(r.get("error").is_none(), "{r}");
        self.notify("exit", Value::Null);
        self.exit_code()
    }

    fn exit_code(&mut self) -> i32 {
        drop(self.stdin.take());
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code().unwrap_or(-1);
            }
            assert!(started.elapsed() < WAIT, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // By its PID (`Child::kill`), whether the test passed or not; already gone is fine.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_frame(out: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            length = v.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    out.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// The `file:` URI of a path (the test paths need no escaping but spaces).
fn uri(path: &Path) -> String {
    format!("file://{}", path.display()).replace(' ', "%20")
}

/// A scratch workspace with `files` written in it; canonical, as the server names files.
fn workspace(tag: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = common::scratch(tag).canonicalize().expect("canonical");
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

const PLAN: &str = r#"apiVersion: upkeep/v1
kind: Plan
metadata: {name: tienda, timezone: America/Guayaquil}
imports: [shared/common.yaml]
services:
  api: {description: "Señal 🔥 de pago", runbook: dsk-full}
runbooks:
  disk-full: {title: "Disco lleno — ñ 🔥", description: "ñandú 🔥"}
  restart: {title: Reinicio, description: "ñandú 🔥"}
severity:
  levels:
    P0: {response: 15m, notify: [pager]}
receivers:
  pager: {pagerduty: {routing_key_file: /etc/alertmanager/pd-key}}
windows:
  nightly: {description: "Ventana 🌙", schedule: "daily at 02:00", duration: 1 hora}
"#;

const FRAGMENT: &str = r#"apiVersion: upkeep/v1
kind: Fragment
runbooks:
  restart: {title: "Reinicio 🔁", description: "ñandú 🔥"}
"#;

/// A 1-based line and column in Unicode scalar values (`check --format json`) as a protocol
/// position: 0-based, in UTF-16 code units.
fn position(text: &str, line: u64, column: u64) -> Value {
    let l = text.split('\n').nth(line as usize - 1).unwrap_or("");
    let units: usize = l
        .chars()
        .take(column as usize - 1)
        .map(char::len_utf16)
        .sum();
    json!({"line": line - 1, "character": units})
}

fn range(dir: &Path, file: &str, v: &Value) -> Value {
    let text = std::fs::read_to_string(dir.join(file)).expect("read");
    let n = |k: &str| v[k].as_u64().expect("a number");
    json!({"start": position(&text, n("line"), n("column")),
           "end": position(&text, n("end_line"), n("end_column"))})
}

/// Where a server started in workspace `dir` (its cache is `dir/.cache`) writes the explain
/// page of `code`.
fn explain_page(dir: &Path, code: &str) -> PathBuf {
    dir.join(format!(
        ".cache/upkeep/explain-{}/{code}.md",
        env!("CARGO_PKG_VERSION")
    ))
}

/// What `upkeep check --format json FILE` run in `dir` reports, as the protocol's diagnostics
/// by URI.
fn check_json(dir: &Path, file: &str) -> Vec<(String, Value)> {
    let o = common::upkeep_in(dir, &["check", "--format", "json", file]);
    let report: Value = serde_json::from_slice(&o.stdout).expect("a JSON report");
    let mut out = Vec::new();
    for d in report["diagnostics"].as_array().expect("diagnostics") {
        let f = d["file"].as_str().expect("file");
        let mut message = d["message"].as_str().expect("message").to_owned();
        if let Some(help) = d["help"].as_str() {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        let related: Vec<Value> = d["labels"]
            .as_array()
            .expect("labels")
            .iter()
            .map(|l| {
                let lf = l["file"].as_str().expect("file");
                json!({"location": {"uri": uri(&dir.join(lf)), "range": range(dir, lf, l)},
                       "message": l["message"]})
            })
            .collect();
        let code = d["code"].as_str().expect("code");
        let page = explain_page(dir, code);
        let mut lsp = json!({
            "range": range(dir, f, d),
            "severity": if d["severity"] == "error" { 1 } else { 2 },
            "code": code,
            "codeDescription": {"href": uri(&page)},
            "source": "upkeep",
            "message": message,
        });
        if !related.is_empty() {
            lsp["relatedInformation"] = json!(related);
        }
        out.push((uri(&dir.join(f)), lsp));
    }
    out
}

/// The fields `check` also has (not `data`).
fn comparable(d: &Value) -> Value {
    let mut d = d.clone();
    if let Some(o) = d.as_object_mut() {
        o.remove("data");
    }
    d
}

/// What `check` says about each of `uris`, and what the server published for them.
fn compare(expected: &[(String, Value)], published: &[(String, Vec<Value>)]) {
    for (uri, got) in published {
        let want: Vec<&Value> = expected
            .iter()
            .filter(|(u, _)| u == uri)
            .map(|(_, d)| d)
            .collect();
        let got: Vec<Value> = got.iter().map(comparable).collect();
        assert_eq!(
            got.len(),
            want.len(),
            "{uri}: published {got:#?}\ncheck says {want:#?}"
        );
        for (g, w) in got.iter().zip(want) {
            assert_eq!(g, w, "{uri}");
        }
    }
}

#[test]
fn initialize_shutdown_exit() {
    let dir = workspace("lsp-init", &[]);
    let mut s = Server::spawn(&dir);
    let init = s.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(&dir), "capabilities": {}}),
    );
    let caps = &init["result"]["capabilities"];
    assert_eq!(caps["textDocumentSync"], json!(1), "full sync: {init}");
    assert_eq!(caps["positionEncoding"], "utf-16", "{init}");
    assert_eq!(init["result"]["serverInfo"]["name"], "upkeep");
    s.notify("initialized", json!({}));
    assert_eq!(s.stop(), 0, "exit after shutdown is a success");

    // `exit` without `shutdown` is the protocol's failure, and so is the stream closing.
    let mut s = Server::start(&dir);
    s.notify("exit", Value::Null);
    assert_eq!(s.exit_code(), 1);
    let mut s = Server::start(&dir);
    assert_eq!(s.exit_code(), 1);
}

/// The diagnostics of an opened plan are `check`'s, in the protocol's positions (UTF-16, after
/// `é` and `🔥` on the same line), with help and related locations; a fragment's are published
/// for it though it is not open.
#[test]
fn diagnostics_are_those_of_check() {
    let dir = workspace(
        "lsp-diags",
        &[("plan.yaml", PLAN), ("shared/common.yaml", FRAGMENT)],
    );
    let expected = check_json(&dir, "plan.yaml");
    let codes: Vec<&str> = expected
        .iter()
        .filter_map(|(_, d)| d["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        ["ref/unknown", "schema/type", "import/conflict"],
        "the fixture shows what it should"
    );
    let mut s = Server::start(&dir);
    let plan = dir.join("plan.yaml");
    let fragment = dir.join("shared/common.yaml");
    s.open(&plan, PLAN);
    let published = vec![
        (uri(&plan), s.diagnostics(&uri(&plan), Some(1))),
        (uri(&fragment), s.diagnostics(&uri(&fragment), None)),
    ];
    compare(&expected, &published);
    // A help line is data too, for code actions.
    assert_eq!(
        published[0].1[0]["data"]["help"],
        "did you mean `disk-full`?"
    );
    assert_eq!(s.stop(), 0);
}

/// Edits are checked as they come: a fix clears the diagnostic, a new mistake shows, each
/// publication names the version it is about.
#[test]
fn diagnostics_follow_edits() {
    let dir = workspace(
        "lsp-edits",
        &[("plan.yaml", PLAN), ("shared/common.yaml", FRAGMENT)],
    );
    let mut s = Server::start(&dir);
    let plan = dir.join("plan.yaml");
    s.open(&plan, PLAN);
    assert_eq!(s.diagnostics(&uri(&plan), Some(1)).len(), 2);
    let fixed = PLAN
        .replace("dsk-full", "disk-full")
        .replace("1 hora", "1h");
    s.change(&plan, 2, &fixed);
    let errors =
        |d: Vec<Value>| -> Vec<Value> { d.into_iter().filter(|d| d["severity"] == 1).collect() };
    // The unused runbook and window are warnings.
    let d = s.diagnostics(&uri(&plan), Some(2));
    assert_eq!(d.len(), 2, "{d:#?}");
    assert_eq!(errors(d), Vec::<Value>::new());
    let broken = fixed.replace("response: 15m", "response: 15 minutos");
    s.change(&plan, 3, &broken);
    let d = errors(s.diagnostics(&uri(&plan), Some(3)));
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0]["code"], "schema/type");
    assert_eq!(d[0]["range"]["start"]["line"], 11);
    // Closing the plan clears what was shown for it.
    s.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri(&plan)}}),
    );
    assert_eq!(s.diagnostics(&uri(&plan), None), Vec::<Value>::new());
    assert_eq!(s.stop(), 0);
}

/// A plan named `name` whose service uses the runbook `restart` of [`RESTART_FRAGMENT`].
fn importing_plan(name: &str) -> String {
    format!(
        "apiVersion: upkeep/v1\nkind: Plan\nmetadata: {{name: {name}}}\nimports: [shared/common.yaml]\n\
         services:\n  api: {{runbook: restart}}\n"
    )
}

/// `shared/common.yaml`, defining the runbook `restart`.
const RESTART_FRAGMENT: &str =
    "apiVersion: upkeep/v1\nkind: Fragment\nrunbooks:\n  restart: {title: Reinicio}\n";

/// An unsaved edit of a fragment is what every open plan importing it is checked with, and
/// each of them is published again; the result is what `check` says once the edit is saved.
#[test]
fn a_fragment_edit_republishes_every_plan_importing_it() {
    let (a_text, b_text) = (importing_plan("a"), importing_plan("b"));
    let fragment = RESTART_FRAGMENT;
    let dir = workspace(
        "lsp-fragment",
        &[
            ("a.yaml", &a_text),
            ("b.yaml", &b_text),
            ("shared/common.yaml", fragment),
        ],
    );
    let (a, b, f) = (
        dir.join("a.yaml"),
        dir.join("b.yaml"),
        dir.join("shared/common.yaml"),
    );
    let mut s = Server::start(&dir);
    s.open(&a, &a_text);
    s.open(&b, &b_text);
    s.open(&f, fragment);
    for p in [&a, &b, &f] {
        assert_eq!(
            s.diagnostics(&uri(p), Some(1)),
            Vec::<Value>::new(),
            "{p:?}"
        );
    }
    let renamed = fragment.replace("restart:", "reboot:");
    s.change(&f, 2, &renamed);
    let published: Vec<(String, Vec<Value>)> = [&a, &b]
        .into_iter()
        .map(|p| (uri(p), s.diagnostics(&uri(p), Some(1))))
        .collect();
    for (u, d) in &published {
        assert_eq!(d.len(), 1, "{u}: {d:#?}");
        assert_eq!(d[0]["code"], "ref/unknown");
        assert!(
            d[0]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("unknown runbook `restart`\nhelp: ")),
            "{d:#?}"
        );
    }
    // Saved, `check` says the same.
    std::fs::write(&f, &renamed).expect("write");
    compare(&check_json(&dir, "a.yaml"), &published[..1]);
    compare(&check_json(&dir, "b.yaml"), &published[1..]);
    assert_eq!(s.stop(), 0);
}

/// Whatever arrives, the server answers with the protocol's errors and goes on: frames that
/// are not JSON or not JSON-RPC, requests before `initialize` or after `shutdown`, unknown
/// methods, wrong parameters, and a plan past the parser's limits.
#[test]
fn hostile_messages_get_errors_not_a_crash() {
    let dir = workspace("lsp-hostile", &[]);
    let mut s = Server::spawn(&dir);
    let early = s.request("textDocument/hover", json!({}));
    assert_eq!(early["error"]["code"], -32002, "{early}");
    s.write_raw(b"Content-Length: 9\r\n\r\n{not json");
    let e = s.wait_for("a parse error", |m| m["error"]["code"] == -32700);
    assert_eq!(e["id"], Value::Null);
    s.write_raw(b"Content-Length: 99999999999\r\n\r\n");
    // Nothing can be read after a frame that long (it is skipped as announced): a fresh server.
    assert_eq!(
        s.wait_for("a limit error", |m| m["error"]["code"] == -32700)["error"]["message"]
            .as_str()
            .map(|m| m.contains("more than the limit")),
        Some(true)
    );
    drop(s);

    let mut s = Server::spawn(&dir);
    s.send(&json!({"jsonrpc": "2.0", "id": [1], "method": "x"}));
    let e = s.wait_for("an invalid request error", |m| m["error"]["code"] == -32600);
    assert_eq!(e["id"], json!([1]));
    let bad_init = s.request("initialize", json!({"capabilities": 3}));
    assert_eq!(bad_init["error"]["code"], -32602, "{bad_init}");
    let init = s.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(&dir), "capabilities": {}}),
    );
    assert!(init["result"].is_object(), "{init}");
    s.notify("initialized", json!({}));
    let again = s.request("initialize", json!({"capabilities": {}}));
    assert_eq!(again["error"]["code"], -32600, "{again}");
    let unknown = s.request("workspace/frobnicate", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    s.notify("textDocument/didOpen", json!({"textDocument": 7}));
    let log = s.wait_for("a log line", |m| m["method"] == "window/logMessage");
    assert!(log["params"]["message"].is_string(), "{log}");
    s.notify("$/somethingNew", json!({}));

    // Nesting past the parser's depth limit: `limit/depth`, as `check` says.
    let deep = format!(
        "apiVersion: upkeep/v1\nkind: Plan\nmetadata: {{name: deep}}\nservices: {}{}\n",
        "[".repeat(200),
        "]".repeat(200)
    );
    let path = dir.join("deep.yaml");
    s.open(&path, &deep);
    let d = s.diagnostics(&uri(&path), Some(1));
    assert!(d.iter().any(|d| d["code"] == "limit/depth"), "{d:#?}");
    // A document that is not a plan is not checked (nor is one outside `file:`).
    let other = dir.join("compose.yaml");
    s.open(&other, "services: {web: {image: nginx}}\n");
    assert_eq!(s.diagnostics(&uri(&other), Some(1)), Vec::<Value>::new());
    s.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": "untitled:Untitled-1", "languageId": "yaml", "version": 1, "text": "a: ["}}),
    );
    let r = s.request("shutdown", Value::Null);
    assert_eq!(r["result"], Value::Null, "{r}");
    let late = s.request("textDocument/hover", json!({}));
    assert_eq!(late["error"]["code"], -32600, "{late}");
    s.notify("exit", Value::Null);
    assert_eq!(s.exit_code(), 0);
}

/// The protocol position of `name` in the first line of `text` containing `line`.
fn at(text: &str, line: &str, name: &str) -> Value {
    let (n, l) = text
        .split('\n')
        .enumerate()
        .find(|(_, l)| l.contains(line))
        .unwrap_or_else(|| panic!("no line with `{line}`"));
    let from = l.find(line).expect("line");
    let col = from + l[from..].find(name).expect("name in line");
    json!({"line": n, "character": l[..col].encode_utf16().count()})
}

fn position_params(path: &Path, position: &Value) -> Value {
    json!({"textDocument": {"uri": uri(path)}, "position": position})
}

/// The start of each location, as (URI, position).
fn starts(result: &Value) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = result
        .as_array()
        .unwrap_or_else(|| panic!("locations, not {result}"))
        .iter()
        .map(|l| {
            (
                l["uri"].as_str().expect("uri").to_owned(),
                l["range"]["start"].clone(),
            )
        })
        .collect();
    out.sort_by_key(|(u, p)| (u.clone(), p["line"].as_u64(), p["character"].as_u64()));
    out
}

/// Go to definition from a reference of each kind the issue names, and find references from
/// a definition, in the fixture that writes every kind of reference.
#[test]
fn definition_and_references_for_every_kind() {
    let text =
        std::fs::read_to_string(common::root().join("tests/fixtures/refs/every_reference.yaml"))
            .expect("fixture");
    let dir = workspace("lsp-navigate", &[("plan.yaml", &text)]);
    let plan = dir.join("plan.yaml");
    let mut s = Server::start(&dir);
    s.open(&plan, &text);
    let cases = [
        (("service: api", "api"), ("  api:", "api")),
        (
            ("runbook: db-down", "db-down"),
            ("db-down: {title", "db-down"),
        ),
        (("notify: [chat]", "chat"), ("chat: {slack", "chat")),
        (("window: sunday", "sunday"), ("  sunday:", "sunday")),
        (("levels: {warning: P2", "P2"), ("P2: {response", "P2")),
        (("owner: sre", "sre"), ("sre: {description", "sre")),
        (("execution: {runbook", "prod"), ("prod: {replicas", "prod")),
        (("to: lead", "lead"), ("lead: {description", "lead")),
    ];
    for ((line, name), (def_line, def_name)) in cases {
        let r = s.request(
            "textDocument/definition",
            position_params(&plan, &at(&text, line, name)),
        );
        assert_eq!(
            starts(&r["result"]),
            vec![(uri(&plan), at(&text, def_line, def_name))],
            "definition of `{name}` at `{line}`: {r}"
        );
    }
    // From a definition: every reference, and the definition itself when asked.
    let references = |s: &mut Server, line: &str, name: &str, declaration: bool| {
        let mut p = position_params(&plan, &at(&text, line, name));
        p["context"] = json!({"includeDeclaration": declaration});
        let r = s.request("textDocument/references", p);
        starts(&r["result"])
    };
    let prod: Vec<(String, Value)> = [
        at(&text, "execution: {runbook", "prod"),
        at_multiline(&text, "[prod]\n    command: /usr/local/bin/vacuum", "prod"),
        at_multiline(
            &text,
            "[prod]\n    command: /usr/local/bin/pg-backup",
            "prod",
        ),
    ]
    .into_iter()
    .map(|p| (uri(&plan), p))
    .collect();
    assert_eq!(references(&mut s, "prod: {replicas", "prod", false), prod);
    let with_definition = references(&mut s, "prod: {replicas", "prod", true);
    assert_eq!(with_definition.len(), 4);
    assert!(with_definition.contains(&(uri(&plan), at(&text, "prod: {replicas", "prod"))));
    // A role is named by owners and by escalation steps.
    assert_eq!(
        references(&mut s, "lead: {description", "lead", false).len(),
        3
    );
    // Nothing at a position that names nothing.
    let r = s.request(
        "textDocument/definition",
        position_params(&plan, &at(&text, "kind: Plan", "Plan")),
    );
    assert_eq!(r["result"], Value::Null, "{r}");
    assert_eq!(s.stop(), 0);
}

/// [`at`] for a needle over several lines: the position of `name` in its first line.
fn at_multiline(text: &str, needle: &str, name: &str) -> Value {
    let start = text.find(needle).unwrap_or_else(|| panic!("no `{needle}`"));
    let col_byte = start + needle.find(name).expect("name");
    let line_start = text[..col_byte].rfind('\n').map_or(0, |i| i + 1);
    json!({
        "line": text[..col_byte].matches('\n').count(),
        "character": text[line_start..col_byte].encode_utf16().count(),
    })
}

/// Navigation crosses files: from a plan's reference to the fragment that defines the entry,
/// and from that definition to the references of every open plan importing it.
#[test]
fn navigation_crosses_into_fragments() {
    let (a_text, b_text) = (importing_plan("a"), importing_plan("b"));
    let fragment = RESTART_FRAGMENT;
    let dir = workspace(
        "lsp-cross",
        &[
            ("a.yaml", &a_text),
            ("b.yaml", &b_text),
            ("shared/common.yaml", fragment),
        ],
    );
    let (a, b, f) = (
        dir.join("a.yaml"),
        dir.join("b.yaml"),
        dir.join("shared/common.yaml"),
    );
    let mut s = Server::start(&dir);
    s.open(&a, &a_text);
    s.open(&b, &b_text);
    let r = s.request(
        "textDocument/definition",
        position_params(&a, &at(&a_text, "runbook: restart", "restart")),
    );
    let definition = (uri(&f), at(fragment, "restart:", "restart"));
    assert_eq!(starts(&r["result"]), vec![definition.clone()], "{r}");
    // The editor opens the fragment and asks who uses the runbook.
    s.open(&f, fragment);
    let mut p = position_params(&f, &definition.1);
    p["context"] = json!({"includeDeclaration": false});
    let r = s.request("textDocument/references", p);
    let reference = at(&a_text, "runbook: restart", "restart");
    assert_eq!(
        starts(&r["result"]),
        vec![(uri(&a), reference.clone()), (uri(&b), reference)],
        "{r}"
    );
    assert_eq!(s.stop(), 0);
}

const HOVER_PLAN: &str = r#"apiVersion: upkeep/v1
kind: Plan
metadata: {name: tienda, timezone: America/Guayaquil}
services:
  api: {impact: high, runbook: slow}
kpis:
  latency:
    service: api
    indicator: {latency: {histogram: http_request_duration_seconds, quantile: 0.95}}
    unit: s
    warning: "> 300ms"
    critical: "> 1"
    for: 1h30m
    runbook: slow
severity:
  levels:
    P1: {response: 15m, notify: [pager]}
    P2: {response: 4h, notify: [pager]}
  matrix:
    likelihood: [low, high]
    impact:
      high: [P2, P1]
  likelihood_of: {warning: low, critical: high}
receivers:
  pager: {pagerduty: {routing_key_file: /etc/alertmanager/pd-key}}
runbooks:
  slow: {title: Lento}
windows:
  nightly: {schedule: "daily at 02:00", duration: 2h, mute: true}
"#;

/// Hover shows the schema's documentation of a field, and what a value means: a threshold in
/// the indicator's unit with the level its alert resolves to through the matrix, a duration
/// in words, a schedule's next occurrences in the plan's time zone (from
/// `initializationOptions.from`, as `upkeep schedule --from`).
#[test]
fn hover_explains_fields_and_values() {
    let dir = workspace("lsp-hover", &[("plan.yaml", HOVER_PLAN)]);
    let plan = dir.join("plan.yaml");
    let mut s = Server::spawn(&dir);
    let init = s.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(&dir), "capabilities": {},
               "initializationOptions": {"from": "2027-01-01T00:00:00Z"}}),
    );
    assert_eq!(
        init["result"]["capabilities"]["hoverProvider"], true,
        "{init}"
    );
    s.notify("initialized", json!({}));
    s.open(&plan, HOVER_PLAN);
    let mut hover = |line: &str, name: &str| -> String {
        let r = s.request(
            "textDocument/hover",
            position_params(&plan, &at(HOVER_PLAN, line, name)),
        );
        assert_eq!(r["result"]["contents"]["kind"], "markdown", "{r}");
        r["result"]["contents"]["value"]
            .as_str()
            .expect("markdown")
            .to_owned()
    };
    let has = |text: &str, parts: &[&str]| {
        for p in parts {
            assert!(text.contains(p), "`{p}` missing from:\n{text}");
        }
    };
    has(
        &hover("warning: ", "300ms"),
        &[
            "`kpis.latency.warning`",
            "**`> 0.3 s`** in the indicator's unit (`s`)",
            "alerts as `LatencyP2` at level **`P2`** (respond within 4 hours)",
            "impact `high` (the service's `impact`) × likelihood `low`",
            "A comparator",
        ],
    );
    has(
        &hover("critical: ", "1"),
        &["**`> 1 s`**", "at level **`P1`**", "likelihood `high`"],
    );
    has(&hover("for: ", "1h30m"), &["**1 hour 30 minutes**"]);
    has(
        &hover("nightly: {schedule", "daily"),
        &[
            "`windows.nightly.schedule`",
            "**next 3**, in `America/Guayaquil`, the time zone of `tienda`",
            "- Fri 2027-01-01 02:00 -05\n- Sat 2027-01-02 02:00 -05\n- Sun 2027-01-03 02:00 -05",
            "When the window opens",
        ],
    );
    has(
        &hover("    unit: s", "unit"),
        &["`kpis.latency.unit`", "The unit of the indicator's value"],
    );
    has(&hover("services:", "services"), &["What is maintained"]);
    // Nothing to say between fields.
    let r = s.request(
        "textDocument/hover",
        position_params(&plan, &at(HOVER_PLAN, "tienda, timezone", " timezone")),
    );
    assert_eq!(r["result"], Value::Null, "{r}");
    assert_eq!(s.stop(), 0);
}

/// A real editor as the client: headless Neovim's built-in LSP client, driven by
/// `tests/fixtures/lsp/nvim.lua`, gets `check`'s diagnostics, a hover, a definition, the
/// references and a completion, applies a quick fix to the buffer (unsaved) and sees the error
/// clear, renames a runbook everywhere, and stops the server cleanly.
#[test]
fn neovim_as_the_client() {
    let Some(nvim) = common::tool("nvim") else {
        return;
    };
    let text = HOVER_PLAN.replace(
        "api: {impact: high, runbook: slow}",
        "api: {impact: high, runbook: slwo}",
    );
    let dir = workspace("lsp-nvim", &[("plan.yaml", &text)]);
    let results = dir.join("results.json");
    let script = common::root().join("tests/fixtures/lsp/nvim.lua");
    let mut child = Command::new(nvim)
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n"])
        .arg("-c")
        .arg(format!("luafile {}", script.display()))
        .arg("plan.yaml")
        .current_dir(&dir)
        .env("UPKEEP_BIN", env!("CARGO_BIN_EXE_upkeep"))
        .env("UPKEEP_NVIM_OUT", &results)
        .env("HOME", &dir)
        .env("XDG_CONFIG_HOME", dir.join(".config"))
        .env("XDG_STATE_HOME", dir.join(".state"))
        .env("XDG_DATA_HOME", dir.join(".data"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nvim");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(150) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "nvim did not finish: {:?}",
                std::fs::read_to_string(&results)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out: Value = serde_json::from_str(
        &std::fs::read_to_string(&results).unwrap_or_else(|e| panic!("no results ({status}): {e}")),
    )
    .expect("JSON results");
    assert!(out.get("error").is_none(), "{out:#}");
    assert_eq!(
        out["steps"],
        json!([
            "attached",
            "diagnostics",
            "hover",
            "definition",
            "references",
            "completion",
            "code action",
            "edit",
            "rename",
            "stopped"
        ])
    );
    // The diagnostics `check` reports for the same text, at the same places.
    let expected: Vec<(String, Value)> = check_json(&dir, "plan.yaml");
    let seen: Vec<(Value, Value, Value)> = out["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| (d["code"].clone(), d["line"].clone(), d["col"].clone()))
        .collect();
    let mut want: Vec<(Value, Value, Value)> = expected
        .iter()
        .map(|(_, d)| {
            let start = &d["range"]["start"];
            (
                d["code"].clone(),
                start["line"].clone(),
                start["character"].clone(),
            )
        })
        .collect();
    let mut seen_sorted = seen.clone();
    seen_sorted.sort_by_key(|t| format!("{t:?}"));
    want.sort_by_key(|t| format!("{t:?}"));
    assert_eq!(seen_sorted, want, "{out:#}");
    assert!(seen.iter().any(|(c, _, _)| c == "ref/unknown"), "{out:#}");
    assert!(
        out["hover"]
            .as_str()
            .is_some_and(|h| h.contains("at level **`P2`**")),
        "{out:#}"
    );
    let def = &out["definition"][0]["range"]["start"];
    assert_eq!(def, &at(&text, "slow: {title", "slow"), "{out:#}");
    assert_eq!(
        out["references"].as_array().map(Vec::len),
        Some(1),
        "{out:#}"
    );
    // Completion over `sl`: the plan's runbook; the quick fix was offered and applied; the
    // rename edited the definition and both references in the buffer.
    assert_eq!(out["completion"], json!(["slow"]), "{out:#}");
    assert!(
        out["actions"]
            .as_array()
            .is_some_and(|a| a.contains(&json!("replace with `slow`"))),
        "{out:#}"
    );
    assert_eq!(out["renamed"], 3, "{out:#}");
    let renamed = dir.join("renamed.yaml");
    std::fs::write(&renamed, out["text"].as_str().expect("the buffer")).expect("write");
    let o = common::upkeep_in(&dir, &["check", "renamed.yaml"]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert_eq!(out["exit_code"], 0, "shutdown then exit: {out:#}");
}

/// Apply a `WorkspaceEdit`'s `changes` for `uri` to `text` (ASCII lines: units are bytes).
fn apply(text: &str, edit: &Value, uri: &str) -> String {
    let mut edits: Vec<&Value> = edit["changes"][uri]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let offset = |p: &Value| -> usize {
        let line = p["line"].as_u64().expect("line") as usize;
        let start: usize = text.split('\n').take(line).map(|l| l.len() + 1).sum();
        start + p["character"].as_u64().expect("character") as usize
    };
    // From the end, so earlier offsets stay valid.
    edits.sort_by_key(|e| std::cmp::Reverse(offset(&e["range"]["start"])));
    let mut out = text.to_owned();
    for e in edits {
        let (a, b) = (offset(&e["range"]["start"]), offset(&e["range"]["end"]));
        out.replace_range(a..b, e["newText"].as_str().expect("text"));
    }
    out
}

/// Renaming a service or a runbook edits its definition and every reference, in the plans
/// and the fragments; the result checks as clean as before. Other names are refused.
#[test]
fn rename_updates_every_reference() {
    let text =
        std::fs::read_to_string(common::root().join("tests/fixtures/refs/every_reference.yaml"))
            .expect("fixture");
    let fragment = RESTART_FRAGMENT;
    let other = "apiVersion: upkeep/v1\nkind: Plan\nmetadata: {name: other}\nimports: [shared/common.yaml]\n\
                 services:\n  api: {runbook: restart}\n";
    let dir = workspace(
        "lsp-rename",
        &[
            ("plan.yaml", &text),
            ("other.yaml", other),
            ("shared/common.yaml", fragment),
        ],
    );
    let (plan, o, f) = (
        dir.join("plan.yaml"),
        dir.join("other.yaml"),
        dir.join("shared/common.yaml"),
    );
    let mut s = Server::start(&dir);
    s.open(&plan, &text);
    s.open(&o, other);
    let rename = |s: &mut Server, path: &Path, pos: Value, name: &str| {
        let mut p = position_params(path, &pos);
        p["newName"] = json!(name);
        s.request("textDocument/rename", p)
    };
    // The service `db`: its definition, `depends_on`, a window's downtime, a task, a backup.
    let r = rename(
        &mut s,
        &plan,
        at(&text, "depends_on: [db]", "db"),
        "database",
    );
    let edits = r["result"]["changes"][uri(&plan)].as_array().map(Vec::len);
    assert_eq!(edits, Some(5), "{r}");
    let renamed = apply(&text, &r["result"], &uri(&plan));
    assert!(renamed.contains("  database: {kind: database"), "{renamed}");
    // A runbook defined in a fragment, from the plan that uses it.
    let r = rename(
        &mut s,
        &o,
        at(other, "runbook: restart", "restart"),
        "reboot",
    );
    let (other2, fragment2) = (
        apply(other, &r["result"], &uri(&o)),
        apply(fragment, &r["result"], &uri(&f)),
    );
    assert!(
        other2.contains("runbook: reboot") && fragment2.contains("  reboot: {title"),
        "{r}"
    );
    for (path, new) in [(&plan, &renamed), (&o, &other2), (&f, &fragment2)] {
        std::fs::write(path, new).expect("write");
    }
    for file in ["plan.yaml", "other.yaml"] {
        let o = common::upkeep_in(&dir, &["check", "--deny", "warnings", file]);
        assert!(
            o.status.success(),
            "{file} after rename:\n{}",
            common::stderr(&o)
        );
    }
    // Not a service or a runbook, not a name, not a valid name.
    let r = rename(
        &mut s,
        &plan,
        at(&text, "window: sunday", "sunday"),
        "weekend",
    );
    assert_eq!(r["error"]["code"], -32803, "{r}");
    let r = rename(&mut s, &plan, at(&text, "kind: Plan", "Plan"), "x");
    assert_eq!(r["error"]["code"], -32803, "{r}");
    let r = rename(
        &mut s,
        &o,
        at(other, "runbook: restart", "restart"),
        "Not A Name",
    );
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert_eq!(s.stop(), 0);
}

/// A diagnostic whose help is "did you mean `x`?" comes with a quick fix that writes `x`; once
/// applied, the diagnostic is gone.
#[test]
fn did_you_mean_is_a_quick_fix() {
    let dir = workspace(
        "lsp-actions",
        &[("plan.yaml", PLAN), ("shared/common.yaml", FRAGMENT)],
    );
    let plan = dir.join("plan.yaml");
    let mut s = Server::start(&dir);
    s.open(&plan, PLAN);
    let diagnostics = s.diagnostics(&uri(&plan), Some(1));
    let r = s.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&plan)},
               "range": diagnostics[0]["range"],
               "context": {"diagnostics": diagnostics}}),
    );
    let actions = r["result"].as_array().expect("actions");
    assert_eq!(
        actions.len(),
        1,
        "only `dsk-full` has a did-you-mean help: {r}"
    );
    assert_eq!(actions[0]["title"], "replace with `disk-full`");
    assert_eq!(actions[0]["kind"], "quickfix");
    // The line has `é` and `🔥` before the name: apply by UTF-16 units.
    let edit = &actions[0]["edit"]["changes"][uri(&plan)][0];
    let line = PLAN.split('\n').nth(5).expect("line 5");
    let units: Vec<u16> = line.encode_utf16().collect();
    let (a, b) = (
        edit["range"]["start"]["character"].as_u64().expect("start") as usize,
        edit["range"]["end"]["character"].as_u64().expect("end") as usize,
    );
    let fixed_line = format!(
        "{}{}{}",
        String::from_utf16_lossy(&units[..a]),
        edit["newText"].as_str().expect("text"),
        String::from_utf16_lossy(&units[b..])
    );
    assert_eq!(
        fixed_line,
        "  api: {description: \"Señal 🔥 de pago\", runbook: disk-full}"
    );
    // A client that sends the diagnostic back with its columns in bytes (as Neovim 0.7 does)
    // gets the same edit: the server reads the diagnostic it published.
    let mut in_bytes = diagnostics[0].clone();
    let byte = line.find("dsk-full").expect("dsk-full");
    in_bytes["range"]["start"]["character"] = json!(byte);
    in_bytes["range"]["end"]["character"] = json!(byte + "dsk-full".len());
    let again = s.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&plan)},
               "range": in_bytes["range"],
               "context": {"diagnostics": [in_bytes]}}),
    );
    assert_eq!(again["result"][0]["edit"], actions[0]["edit"], "{again}");
    let fixed = PLAN.replace(line, &fixed_line);
    s.change(&plan, 2, &fixed);
    let after = s.diagnostics(&uri(&plan), Some(2));
    assert!(
        after.iter().all(|d| d["code"] != "ref/unknown"),
        "{after:#?}"
    );
    assert_eq!(s.stop(), 0);
}

/// With `initializationOptions.docsBaseUrl`, each diagnostic links its code's page in the book
/// (as mdBook lays it out); without it, the page `upkeep explain CODE` prints, written in the
/// cache directory; with neither, nothing. A base that is not an absolute URL is refused.
#[test]
fn diagnostics_link_their_page() {
    let dir = workspace(
        "lsp-links",
        &[("plan.yaml", PLAN), ("shared/common.yaml", FRAGMENT)],
    );
    let plan = dir.join("plan.yaml");
    let mut s = Server::spawn(&dir);
    let init = s.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(&dir), "capabilities": {},
               "initializationOptions": {"docsBaseUrl": "https://docs.example.org/upkeep/"}}),
    );
    assert!(init.get("error").is_none(), "{init}");
    s.notify("initialized", json!({}));
    s.open(&plan, PLAN);
    let diagnostics = s.diagnostics(&uri(&plan), Some(1));
    assert!(!diagnostics.is_empty());
    for d in &diagnostics {
        let code = d["code"].as_str().expect("a code");
        assert_eq!(
            d["codeDescription"]["href"],
            format!("https://docs.example.org/upkeep/diagnostics/{code}.html"),
            "{d}"
        );
        assert!(
            common::root()
                .join(format!("book/src/diagnostics/{code}.md"))
                .is_file()
        );
    }
    assert_eq!(s.stop(), 0);

    // Twice: the second server finds the pages written and leaves them.
    for _ in 0..2 {
        let mut s = Server::start(&dir);
        s.open(&plan, PLAN);
        let diagnostics = s.diagnostics(&uri(&plan), Some(1));
        assert!(!diagnostics.is_empty());
        for d in &diagnostics {
            let code = d["code"].as_str().expect("a code");
            let page = explain_page(&dir, code);
            assert_eq!(d["codeDescription"]["href"], uri(&page), "{d}");
            let explained = Command::new(env!("CARGO_BIN_EXE_upkeep"))
                .args(["explain", code])
                .output()
                .expect("upkeep explain");
            assert_eq!(
                std::fs::read(&page).expect("the page"),
                explained.stdout,
                "{code}"
            );
        }
        assert_eq!(s.stop(), 0);
    }

    // A cache directory that cannot be written: no link, and the diagnostics as before.
    let blocked = workspace(
        "lsp-links-blocked",
        &[("plan.yaml", PLAN), ("shared/common.yaml", FRAGMENT)],
    );
    std::fs::write(blocked.join(".cache"), "not a directory").expect("write");
    let plan = blocked.join("plan.yaml");
    let mut s = Server::start(&blocked);
    s.open(&plan, PLAN);
    let diagnostics = s.diagnostics(&uri(&plan), Some(1));
    assert!(!diagnostics.is_empty());
    assert!(
        diagnostics
            .iter()
            .all(|d| d.get("codeDescription").is_none()),
        "{diagnostics:#?}"
    );
    assert_eq!(s.stop(), 0);

    let mut s = Server::spawn(&dir);
    let init = s.request(
        "initialize",
        json!({"processId": null, "capabilities": {},
               "initializationOptions": {"docsBaseUrl": "docs/upkeep"}}),
    );
    assert_eq!(init["error"]["code"], -32602, "{init}");
}

/// The fixes that are mechanical are quick fixes: a missing field is added to its mapping
/// (flow or block, at the right indentation), a help's whole value replaces its scalar. Each,
/// applied alone, makes its diagnostic go away.
#[test]
fn missing_fields_and_proposals_are_quick_fixes() {
    let text = std::fs::read_to_string(
        common::root().join("tests/fixtures/check/err_schema_missing.yaml"),
    )
    .expect("fixture")
    .replace(
        "    critical: \"> 5\"\n",
        "    critical: \"> 5\"\n    for: 1h3Om\n",
    );
    let dir = workspace("lsp-fixes", &[("plan.yaml", &text)]);
    let plan = dir.join("plan.yaml");
    let mut s = Server::start(&dir);
    s.open(&plan, &text);
    let diagnostics = s.diagnostics(&uri(&plan), Some(1));
    let r = s.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri(&plan)},
               "range": {"start": {"line": 0, "character": 0}, "end": {"line": 99, "character": 0}},
               "context": {"diagnostics": diagnostics}}),
    );
    let actions = r["result"].as_array().expect("actions");
    let titles: Vec<&str> = actions.iter().filter_map(|a| a["title"].as_str()).collect();
    assert_eq!(
        titles,
        [
            "add `name:`",
            "add `service:`",
            "add `unit:`",
            "replace with `1h30m`",
            "add `duration:`"
        ],
        "{r}"
    );
    let expected = [
        "metadata: {name: , title: Shop}",
        "  errors:\n    service: \n    indicator:",
        "  errors:\n    unit: \n    indicator:",
        "    for: 1h30m\n",
        "  nightly: {duration: , schedule:",
    ];
    for (version, (action, want)) in actions.iter().zip(expected).enumerate() {
        let version = version as i64 + 2;
        let fixed = apply(&text, &action["edit"], &uri(&plan));
        assert!(fixed.contains(want), "{}:\n{fixed}", action["title"]);
        let message = action["diagnostics"][0]["message"].clone();
        s.change(&plan, version, &fixed);
        let after = s.diagnostics(&uri(&plan), Some(version));
        assert!(
            after.iter().all(|d| d["message"] != message),
            "{} left {message}: {after:#?}",
            action["title"]
        );
        assert!(
            after.iter().all(|d| d["code"] != "syntax"),
            "{}: {after:#?}",
            action["title"]
        );
    }
    assert_eq!(s.stop(), 0);
}

/// The items of a completion response.
fn completion(s: &mut Server, path: &Path, position: &Value) -> Vec<Value> {
    let r = s.request("textDocument/completion", position_params(path, position));
    r["result"]
        .as_array()
        .unwrap_or_else(|| panic!("a list of items: {r}"))
        .clone()
}

fn labels(items: &[Value]) -> Vec<&str> {
    items.iter().filter_map(|i| i["label"].as_str()).collect()
}

/// Completion offers the fields the schema allows where a key is being typed (not those
/// already written), and the names a reference can take where a value is: defined in the plan
/// or in the fragment it imports, replacing the word under the cursor.
#[test]
fn completion_of_fields_and_names() {
    let text = HOVER_PLAN
        .replace("runbook: slow}", "runbook: sl}")
        .replace("metadata: {", "imports: [shared/common.yaml]\nmetadata: {");
    let typing = text.replace("    service: api\n", "    service: api\n    de\n");
    let dir = workspace(
        "lsp-complete",
        &[("plan.yaml", &typing), ("shared/common.yaml", FRAGMENT)],
    );
    let plan = dir.join("plan.yaml");
    let mut s = Server::start(&dir);
    s.open(&plan, &typing);
    // A key of a KPI being typed (not YAML yet): the fields the KPI does not have.
    let mut p = at(&typing, "    de", "de");
    p["character"] = json!(6);
    let items = completion(&mut s, &plan, &p);
    assert_eq!(
        labels(&items),
        ["description", "levels", "objective", "over"]
    );
    let description = items
        .iter()
        .find(|i| i["label"] == "description")
        .expect("description");
    assert_eq!(description["textEdit"]["newText"], "description: ");
    assert_eq!(
        description["textEdit"]["range"]["start"],
        json!({"line": p["line"], "character": 4})
    );
    assert!(
        description["documentation"]["value"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{description}"
    );
    // A runbook reference: the plan's `slow` and the fragment's `restart`, over `sl`.
    s.change(&plan, 2, &text);
    let mut p = at(&text, "runbook: sl}", "sl");
    p["character"] = json!(p["character"].as_u64().expect("character") + 1);
    let items = completion(&mut s, &plan, &p);
    let mut names = labels(&items);
    names.sort_unstable();
    assert_eq!(names, ["restart", "slow"], "{items:?}");
    let edit = &items[0]["textEdit"]["range"];
    assert_eq!(
        edit["end"]["character"].as_u64().expect("end")
            - edit["start"]["character"].as_u64().expect("start"),
        2,
        "`sl` is replaced: {edit}"
    );
    // A level: the severity levels; a receiver: the receivers.
    let items = completion(&mut s, &plan, &at(&text, "notify: [pager]", "pager"));
    assert_eq!(labels(&items), ["pager"]);
    let items = completion(&mut s, &plan, &at(&text, "warning: low", "low"));
    assert_eq!(labels(&items), ["low", "high"]);
    // In free text: nothing.
    let r = s.request(
        "textDocument/completion",
        position_params(&plan, &at(&text, "title: Lento", "Lento")),
    );
    assert_eq!(r["result"], Value::Null, "{r}");
    assert_eq!(s.stop(), 0);
}

/// A lone CR is a line break to the protocol (and to the editor), though not to `check`'s
/// `line:column`: diagnostics and navigation count it.
#[test]
fn a_lone_cr_breaks_lines_as_the_protocol_says() {
    let text = "apiVersion: upkeep/v1\nkind: Plan\nmetadata: {name: x}\nservices:\r  api: {runbook: dsk-full}\r  db: {runbook: disk-full}\rrunbooks:\n  disk-full: {title: T}\n";
    let dir = workspace("lsp-cr", &[("plan.yaml", text)]);
    let plan = dir.join("plan.yaml");
    let mut s = Server::start(&dir);
    s.open(&plan, text);
    let diagnostics = s.diagnostics(&uri(&plan), Some(1));
    let unknown = diagnostics
        .iter()
        .find(|d| d["code"] == "ref/unknown")
        .expect("ref/unknown");
    assert_eq!(
        unknown["range"],
        json!({"start": {"line": 4, "character": 17}, "end": {"line": 4, "character": 25}})
    );
    let r = s.request(
        "textDocument/definition",
        position_params(&plan, &json!({"line": 5, "character": 17})),
    );
    assert_eq!(
        starts(&r["result"]),
        vec![(uri(&plan), json!({"line": 7, "character": 2}))],
        "{r}"
    );
    assert_eq!(s.stop(), 0);
}

/// A fragment open on its own is checked with the plans on disk that import it: references
/// from its definitions reach them; and an edit of an open fragment publishes the diagnostics
/// of every plan that imports it, open or not.
#[test]
fn a_fragment_is_checked_with_every_plan_that_imports_it() {
    let (a_text, c_text) = (importing_plan("a"), importing_plan("c"));
    let unrelated =
        "apiVersion: upkeep/v1\nkind: Plan\nmetadata: {name: b}\nservices:\n  web: {}\n";
    let fragment = RESTART_FRAGMENT;
    let dir = workspace(
        "lsp-alone",
        &[
            ("plans/a.yaml", &a_text),
            ("plans/b.yaml", unrelated),
            ("plans/c.yaml", &c_text),
            ("plans/shared/common.yaml", fragment),
        ],
    );
    let (a, c, f) = (
        dir.join("plans/a.yaml"),
        dir.join("plans/c.yaml"),
        dir.join("plans/shared/common.yaml"),
    );
    let mut s = Server::start(&dir);
    s.open(&f, fragment);
    assert_eq!(s.diagnostics(&uri(&f), Some(1)), Vec::<Value>::new());
    let mut p = position_params(&f, &at(fragment, "restart:", "restart"));
    p["context"] = json!({"includeDeclaration": false});
    let r = s.request("textDocument/references", p);
    let reference = at(&a_text, "runbook: restart", "restart");
    assert_eq!(
        starts(&r["result"]),
        vec![(uri(&a), reference.clone()), (uri(&c), reference)],
        "{r}"
    );
    // With `a` open too, renaming the runbook in the fragment breaks both plans.
    s.open(&a, &a_text);
    assert_eq!(s.diagnostics(&uri(&a), Some(1)), Vec::<Value>::new());
    s.change(&f, 2, &fragment.replace("restart:", "reboot:"));
    for path in [&a, &c] {
        let broken = s.diagnostics(&uri(path), None);
        assert_eq!(
            broken.iter().map(|d| d["code"].clone()).collect::<Vec<_>>(),
            [json!("ref/unknown")],
            "{}: {broken:#?}",
            path.display()
        );
    }
    s.change(&f, 3, fragment);
    for path in [&a, &c] {
        assert_eq!(s.diagnostics(&uri(path), None), Vec::<Value>::new());
    }
    assert_eq!(s.stop(), 0);
}

/// A health check's `body` is completed and explained like any field: offered in `health`,
/// its own fields offered inside it, and hover says what it does and what `json` compares.
#[test]
fn health_body_completes_and_hovers() {
    let text = HOVER_PLAN.replace(
        "  api: {impact: high, runbook: slow}\n",
        "  api:\n    impact: high\n    runbook: slow\n    health:\n      http: \"http://api/health\"\n      body:\n        json: {model_loaded: true}\n",
    );
    let in_health = text.replace("      body:\n", "      bo\n      body:\n");
    let in_body = text.replace(
        "        json: {model_loaded: true}\n",
        "        json: {model_loaded: true}\n        le\n",
    );
    let dir = workspace("lsp-health-body", &[("plan.yaml", &in_health)]);
    let plan = dir.join("plan.yaml");
    let mut s = Server::start(&dir);
    s.open(&plan, &in_health);
    let mut p = at(&in_health, "      bo", "bo");
    p["character"] = json!(8);
    let items = completion(&mut s, &plan, &p);
    assert!(labels(&items).contains(&"status"), "{items:?}");
    assert!(
        !labels(&items).contains(&"body"),
        "written already: {items:?}"
    );
    s.change(&plan, 2, &in_body);
    let mut p = at(&in_body, "        le", "le");
    p["character"] = json!(10);
    let items = completion(&mut s, &plan, &p);
    let mut names = labels(&items);
    names.sort_unstable();
    assert_eq!(names, ["level", "matches", "runbook"], "{items:?}");
    s.change(&plan, 3, &text);
    let r = s.request(
        "textDocument/hover",
        position_params(&plan, &at(&text, "      body:", "body")),
    );
    let doc = r["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(
        doc.contains("`services.api.health.body`") && doc.contains("`…Unhealthy` alert"),
        "{r}"
    );
    let r = s.request(
        "textDocument/hover",
        position_params(&plan, &at(&text, "json: {model_loaded", "json")),
    );
    let doc = r["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default();
    assert!(doc.contains("Fields the JSON body must have"), "{r}");
    assert_eq!(s.stop(), 0);
}
