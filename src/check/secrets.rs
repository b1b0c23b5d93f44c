//! Secrets are never inline: a webhook URL, routing key, API key, token, password or private
//! key in a plan is leaked to everyone who can read the repository, and from there into the
//! generated files.
//!
//! Two passes report `secret/inline`: [`check`] the receivers' inline secret fields (`api_url`,
//! `routing_key`…, whatever their value), and [`scan`] every string of every file, plan or
//! fragment, with the detectors of [`detect`] (the book's table lists them).

mod detect;

use super::Cx;
use std::borrow::Cow;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::parse::{Node, Value, inner_span};
use crate::span::FileId;
use detect::{Finding, Kind};

pub(super) fn check(cx: &mut Cx<'_>) {
    for (name, r) in cx.plan.receivers.iter() {
        for field in &r.inline_secrets {
            let file_field = match field.value.as_str() {
                "service_key" | "routing_key" => "routing_key_file".to_owned(),
                other => format!("{other}_file"),
            };
            cx.diags.push(
                Diagnostic::new(Code::SecretInline, format!("receiver `{}` has its `{}` inline", name.value, field.value))
                    .at(field.span)
                    .label("a secret in the plan")
                    .help(format!(
                        "use `{file_field}:` with the path of a file Alertmanager can read (provisioned by your secret manager), and rotate the secret that was committed"
                    )),
            );
        }
    }
}

/// Every secret in the strings of one parsed file (values and the keys that name them).
pub(crate) fn scan(file: FileId, source: &str, root: &Node) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let mut path = Vec::new();
    walk(file, source, root, None, &mut path, &mut diags);
    diags
}

/// One step of the path to a string: a key, or an index in a list.
enum Seg<'n> {
    Key(Cow<'n, str>),
    Index(usize),
}

impl Seg<'_> {
    fn key(&self) -> Option<&str> {
        match self {
            Seg::Key(k) => Some(k),
            Seg::Index(_) => None,
        }
    }
}

fn walk<'n>(
    file: FileId,
    source: &str,
    node: &'n Node,
    key: Option<&str>,
    path: &mut Vec<Seg<'n>>,
    diags: &mut Diagnostics,
) {
    match &node.value {
        Value::Str(s) => {
            if receiver_secret_field(path) {
                return; // reported by `check`, at the key
            }
            let mut found = detect::scan(s);
            if found.is_empty() {
                found.extend(key.and_then(|k| detect::named_value(k, s)));
            }
            for f in found {
                diags.push(report(file, source, node, path, &f));
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                // Keys are strings but for the odd `1: …` or `true: …`.
                let owned = k
                    .as_str()
                    .is_none()
                    .then(|| k.scalar_text().unwrap_or_default());
                let (name, seg): (&str, Cow<'n, str>) = match (k.as_str(), &owned) {
                    (Some(s), _) => (s, Cow::Borrowed(s)),
                    (None, o) => {
                        let o = o.as_deref().unwrap_or_default();
                        (o, Cow::Owned(o.to_owned()))
                    }
                };
                path.push(Seg::Key(seg));
                walk(file, source, v, Some(name), path, diags);
                path.pop();
            }
        }
        Value::Seq(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                walk(file, source, v, None, path, diags);
                path.pop();
            }
        }
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
    }
}

/// `receivers.NAME.CHANNEL.FIELD` where FIELD is an inline secret field (`api_url`…).
fn receiver_secret_field(path: &[Seg<'_>]) -> bool {
    path.len() == 4
        && path[0].key() == Some("receivers")
        && path[3]
            .key()
            .is_some_and(|f| crate::lower::INLINE_SECRETS.contains(&f))
}

/// Where in a plan a string is, for advice that works there.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    WebhookUrl,
    Receiver,
    Command,
    HealthUrl,
    Env,
    Values,
    Other,
}

fn place(path: &[Seg<'_>]) -> Place {
    let p: Vec<&str> = path.iter().map(|s| s.key().unwrap_or("[]")).collect();
    match p.as_slice() {
        ["receivers", _, "webhook", "url"] => Place::WebhookUrl,
        ["receivers", ..] => Place::Receiver,
        ["services", _, "health", "http" | "tcp"] => Place::HealthUrl,
        ["environments", _, "env", _] => Place::Env,
        ["environments", _, "values", ..] => Place::Values,
        [.., "command" | "run"] => Place::Command,
        _ => Place::Other,
    }
}

const ROTATE: &str = "and rotate the secret that was committed";

fn help(place: Place, kind: &Kind, path: &[Seg<'_>]) -> String {
    match place {
        Place::WebhookUrl if *kind == Kind::SlackWebhook => format!(
            "use a `slack` receiver instead, `slack: {{channel: \"#CHANNEL\", api_url_file: PATH}}`, with the webhook URL in a file Alertmanager can read (provisioned by your secret manager), {ROTATE}"
        ),
        Place::WebhookUrl if kind.whole_url() => format!(
            "the whole URL is the credential, and Alertmanager 0.25 has no `url_file` for webhooks: point `url` at an endpoint that holds no secret (a relay you run, which adds it), with its bearer token in `credentials_file:`, {ROTATE}"
        ),
        Place::WebhookUrl => format!(
            "use `url` without the credential, and `credentials_file:` with the path of a file Alertmanager can read (sent as a bearer token; provisioned by your secret manager), {ROTATE}"
        ),
        Place::Receiver => format!(
            "remove it: receivers read their secrets from files (`api_url_file`, `routing_key_file`, `api_key_file`, `auth_password_file`, a webhook's `credentials_file`), {ROTATE}"
        ),
        Place::Command => format!(
            "read the secret when the command runs, from a file your secret manager provisions where it runs (`$(cat /run/secrets/NAME)`) or from a variable set there (`$NAME`), {ROTATE}"
        ),
        Place::HealthUrl => format!(
            "probe a URL without the credential (it becomes the `instance` label of the rules) and give the credential to the blackbox exporter module instead (`authorization.credentials_file` or `basic_auth.password_file` of its `http` prober), {ROTATE}"
        ),
        Place::Env => {
            let var = path.last().and_then(Seg::key).unwrap_or("NAME");
            format!(
                "reference a Kubernetes Secret instead: move the environment's `env:` into its `values:` as a list, `env: [{{name: {var}, valueFrom: {{secretKeyRef: {{name: SECRET, key: KEY}}}}}}]` (the other variables as `{{name, value}}`), {ROTATE}"
            )
        }
        Place::Values => format!(
            "reference a Kubernetes Secret instead of the value (a container variable takes `valueFrom: {{secretKeyRef: {{name: SECRET, key: KEY}}}}`; most charts take the name of an existing Secret), {ROTATE}"
        ),
        Place::Other => format!(
            "remove it: the plan is read by everyone with access to the repository and copied into the generated files; say where the secret is kept instead (a file path, a secret manager entry), {ROTATE}"
        ),
    }
}

fn report(file: FileId, source: &str, node: &Node, path: &[Seg<'_>], f: &Finding) -> Diagnostic {
    let mut at = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !at.is_empty() {
                    at.push('.');
                }
                at.push_str(k);
            }
            Seg::Index(i) => {
                at.push('[');
                at.push_str(&i.to_string());
                at.push(']');
            }
        }
    }
    Diagnostic::new(
        Code::SecretInline,
        format!("{} in `{at}`", f.kind.describe()),
    )
    .at(inner_span(file, source, node, f.start, f.end))
    .label("a secret in the plan")
    .help(help(place(path), &f.kind, path))
}
