//! Detectors of secrets in text: a small closed set of shapes, each matched by hand (no regular
//! expressions). The table in the book (`secret/inline`) lists them; keep the two in step.
//!
//! Every detector returns byte ranges of the text it was given; callers map them to the source.
//! A value that is a reference rather than a secret (`$NAME`, `${NAME}`, `$(cat FILE)`,
//! `{{ .Values.x }}`, `<TOKEN>`) is never reported.

/// What a finding is, for the message (which never repeats the secret itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `https://hooks.slack.com/services/…`: the whole URL is the credential.
    SlackWebhook,
    /// `https://discord.com/api/webhooks/ID/TOKEN`.
    DiscordWebhook,
    /// `https://TENANT.webhook.office.com/webhookb2/…`, `https://outlook.office.com/webhook/…`.
    TeamsWebhook,
    /// `https://api.telegram.org/botID:TOKEN/…`.
    TelegramBot,
    /// `scheme://user:PASSWORD@host`, or a token as the user name.
    UrlUserinfo,
    /// A query (or fragment) parameter named like a credential: `token=`, `sig=`,
    /// `X-Amz-Signature=`, `code=` (Azure Functions)…
    UrlParam(String),
    /// `-u user:PASSWORD`, `--user user:PASSWORD` (curl, wget's `--password` is [`Kind::Named`]).
    UserPassword,
    /// A token with a vendor's prefix: `xoxb-`, `ghp_`, `glpat-`, `AIza`, `sk_live_`, `AKIA`…
    Token(&'static Vendor),
    /// `-----BEGIN … PRIVATE KEY-----`.
    PrivateKey,
    /// Three base64url segments, the first a JSON header (`eyJ…`).
    Jwt,
    /// The credential of an `Authorization:` header, or after `Bearer`.
    Authorization,
    /// A literal value given to a name that says it is a credential (`password`, `*_TOKEN`,
    /// `api_key`, `secretAccessKey`…), as a YAML key, `NAME=value`, `--name=value` or
    /// `"name": "value"`.
    Named(String),
}

impl Kind {
    /// "a Slack incoming-webhook URL": what the message calls it.
    pub(crate) fn describe(&self) -> String {
        match self {
            Kind::SlackWebhook => "a Slack incoming-webhook URL".to_owned(),
            Kind::DiscordWebhook => "a Discord webhook URL".to_owned(),
            Kind::TeamsWebhook => "a Microsoft Teams webhook URL".to_owned(),
            Kind::TelegramBot => "a Telegram bot URL (its token)".to_owned(),
            Kind::UrlUserinfo => "a credential in a URL (`user:password@`)".to_owned(),
            Kind::UrlParam(name) => format!("a credential in the URL parameter `{name}`"),
            Kind::UserPassword => "a password in `--user user:password`".to_owned(),
            Kind::Token(v) => format!("{} (`{}…`)", v.what, v.prefix),
            Kind::PrivateKey => "a private key (`-----BEGIN … PRIVATE KEY-----`)".to_owned(),
            Kind::Jwt => "a JSON Web Token (`eyJ…`)".to_owned(),
            Kind::Authorization => "a credential in an `Authorization` header".to_owned(),
            Kind::Named(name) => format!("a literal credential for `{name}`"),
        }
    }

    /// Whether the whole URL is the secret (no part of it can be moved elsewhere).
    pub(crate) fn whole_url(&self) -> bool {
        matches!(
            self,
            Kind::SlackWebhook | Kind::DiscordWebhook | Kind::TeamsWebhook | Kind::TelegramBot
        )
    }
}

/// A vendor's token: its prefix, the characters that follow and how many at least.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Vendor {
    pub prefix: &'static str,
    pub what: &'static str,
    charset: Charset,
    min: usize,
    /// Exactly `min` characters follow (AWS key IDs).
    exact: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Charset {
    /// `[A-Za-z0-9-]`
    AlnumDash,
    /// `[A-Za-z0-9]`
    Alnum,
    /// `[A-Za-z0-9_]`
    AlnumUnderscore,
    /// `[A-Za-z0-9_-]`
    Base64Url,
    /// `[A-Z0-9]`
    Upper,
    /// `[A-Za-z0-9_.-]`
    Base64UrlDot,
}

impl Charset {
    fn has(self, c: u8) -> bool {
        match self {
            Charset::AlnumDash => c.is_ascii_alphanumeric() || c == b'-',
            Charset::Alnum => c.is_ascii_alphanumeric(),
            Charset::AlnumUnderscore => c.is_ascii_alphanumeric() || c == b'_',
            Charset::Base64Url => c.is_ascii_alphanumeric() || c == b'_' || c == b'-',
            Charset::Upper => c.is_ascii_uppercase() || c.is_ascii_digit(),
            Charset::Base64UrlDot => {
                c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.'
            }
        }
    }
}

const fn vendor(
    prefix: &'static str,
    what: &'static str,
    charset: Charset,
    min: usize,
    exact: bool,
) -> Vendor {
    Vendor {
        prefix,
        what,
        charset,
        min,
        exact,
    }
}

/// The vendors' token prefixes.
#[rustfmt::skip]
pub(crate) const VENDORS: &[Vendor] = &[
    vendor("xoxb-", "a Slack bot token", Charset::AlnumDash, 10, false),
    vendor("xoxp-", "a Slack user token", Charset::AlnumDash, 10, false),
    vendor("xoxa-", "a Slack app token", Charset::AlnumDash, 10, false),
    vendor("xoxr-", "a Slack refresh token", Charset::AlnumDash, 10, false),
    vendor("xoxs-", "a Slack session token", Charset::AlnumDash, 10, false),
    vendor("xoxe-", "a Slack token", Charset::AlnumDash, 10, false),
    vendor("xapp-", "a Slack app-level token", Charset::AlnumDash, 10, false),
    vendor("ghp_", "a GitHub token", Charset::Alnum, 30, false),
    vendor("gho_", "a GitHub OAuth token", Charset::Alnum, 30, false),
    vendor("ghu_", "a GitHub token", Charset::Alnum, 30, false),
    vendor("ghs_", "a GitHub token", Charset::Alnum, 30, false),
    vendor("ghr_", "a GitHub refresh token", Charset::Alnum, 30, false),
    vendor("github_pat_", "a GitHub token", Charset::AlnumUnderscore, 22, false),
    vendor("glpat-", "a GitLab token", Charset::Base64Url, 20, false),
    vendor("gldt-", "a GitLab deploy token", Charset::Base64Url, 20, false),
    vendor("glrt-", "a GitLab runner token", Charset::Base64Url, 20, false),
    vendor("AIza", "a Google API key", Charset::Base64Url, 35, false),
    vendor("sk_live_", "a Stripe secret key", Charset::Alnum, 16, false),
    vendor("rk_live_", "a Stripe restricted key", Charset::Alnum, 16, false),
    vendor("sk_test_", "a Stripe secret key", Charset::Alnum, 16, false),
    vendor("rk_test_", "a Stripe restricted key", Charset::Alnum, 16, false),
    vendor("whsec_", "a Stripe webhook secret", Charset::Alnum, 16, false),
    vendor("npm_", "an npm token", Charset::Alnum, 36, false),
    vendor("SG.", "a SendGrid API key", Charset::Base64UrlDot, 60, false),
    vendor("hvs.", "a HashiCorp Vault token", Charset::Base64Url, 24, false),
    vendor("sk-ant-", "an Anthropic API key", Charset::Base64Url, 32, false),
    vendor("sk-proj-", "an OpenAI API key", Charset::Base64Url, 32, false),
    vendor("AKIA", "an AWS access key ID", Charset::Upper, 16, true),
    vendor("ASIA", "an AWS temporary access key ID", Charset::Upper, 16, true),
];

/// A secret found in a text: what it is and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finding {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// Every secret in `text`, in order, none overlapping (where two detectors find the same
/// bytes, the first and longest wins).
pub(crate) fn scan(text: &str) -> Vec<Finding> {
    let mut found = Vec::new();
    if text.len() < 8 {
        return found; // `a:b@c/` is the shortest thing found
    }
    private_keys(text, &mut found);
    urls(text, &mut found);
    tokens(text, &mut found);
    jwts(text, &mut found);
    authorization(text, &mut found);
    assignments(text, &mut found);
    user_options(text, &mut found);
    disjoint(found)
}

/// A YAML key and its string value: a literal credential when the key names one (`password`,
/// `DB_PASSWORD`, `api_key`, `secretAccessKey`…), for the whole value.
pub(crate) fn named_value(key: &str, value: &str) -> Option<Finding> {
    credential_value(key, value, true).then(|| Finding {
        kind: Kind::Named(key.to_owned()),
        start: 0,
        end: value.len(),
    })
}

fn disjoint(mut found: Vec<Finding>) -> Vec<Finding> {
    found.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    let mut out: Vec<Finding> = Vec::new();
    for f in found {
        if out.last().is_none_or(|l| f.start >= l.end) {
            out.push(f);
        }
    }
    out
}

/// A reference to a secret kept elsewhere, not a secret: `$NAME`, `${NAME}`, `$(cmd)`,
/// `{{ … }}` templates, `<PLACEHOLDER>`, `@file` (curl), and their URL-encoded forms.
pub(crate) fn is_reference(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    v.starts_with('$')
        || v.starts_with('<')
        || v.starts_with('@')
        || v.contains("{{")
        || l.starts_with("%24")
        || l.starts_with("%3c")
        || l.starts_with("%7b%7b")
}

/// Whether a value looks random: at least 16 characters without spaces, letters and digits,
/// a run of 12 letters or digits, and 3 bits of entropy per character. Names such as
/// `pg-credentials-v2` and sentences are not.
pub(crate) fn looks_random(v: &str) -> bool {
    if v.len() < 16 || v.chars().any(char::is_whitespace) || is_reference(v) {
        return false;
    }
    let b = v.as_bytes();
    if !b.iter().any(u8::is_ascii_digit) || !b.iter().any(u8::is_ascii_alphabetic) {
        return false;
    }
    let longest_run = v
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(str::len)
        .max()
        .unwrap_or(0);
    if longest_run < 12 {
        return false;
    }
    let mut counts = [0usize; 256];
    for &c in b {
        counts[c as usize] += 1;
    }
    let n = b.len() as f64;
    let entropy: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum();
    entropy >= 3.0
}

/// How strongly a name says its value is a credential.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Named {
    /// `password`, `DB_PASSWORD`, `passphrase`: any literal value is the secret.
    Password,
    /// `token`, `secret`, `api_key`, `secretAccessKey`, `routing_key`…: a random-looking value
    /// is the secret (a name such as `existingSecret: pg-credentials` is not).
    Random,
}

/// What a key, variable or flag name says about its value. The name is compared without case,
/// `_`, `-` and `.`: `DB_PASSWORD`, `adminPassword` and `--password` end with a password;
/// `SECRET_KEY_BASE`, `api_token` and `passwordSecretName` contain a credential word, and only
/// a random-looking value is one (`passwordFile: /etc/pw`, `tokenTTL: 3600` and
/// `secretName: pg-credentials` are not).
fn credential_name(name: &str) -> Option<Named> {
    // Names are short: normalised on the stack (a longer one keeps its last 64 bytes).
    let mut buf = [0u8; 64];
    let mut len = 0;
    for &c in name.as_bytes().iter().rev() {
        if matches!(c, b'_' | b'-' | b'.') {
            continue;
        }
        if len == buf.len() {
            break;
        }
        buf[len] = c.to_ascii_lowercase();
        len += 1;
    }
    buf[..len].reverse();
    let Ok(n) = std::str::from_utf8(&buf[..len]) else {
        return None;
    };
    if ["password", "passwd", "passphrase"]
        .iter()
        .any(|s| n.ends_with(s))
    {
        return Some(Named::Password);
    }
    [
        "secret",
        "token",
        "apikey",
        "accesskey",
        "privatekey",
        "routingkey",
        "integrationkey",
        "servicekey",
        "authkey",
        "credential",
        "password",
        "passwd",
    ]
    .iter()
    .any(|s| n.contains(s))
    .then_some(Named::Random)
}

/// A literal credential given to `name`. With `password_any` (YAML values, `=` and `"name":`
/// assignments) any single word given to a password counts; otherwise (`Name: value` in
/// prose) only random-looking values do.
fn credential_value(name: &str, value: &str, password_any: bool) -> bool {
    let v = value.trim();
    if v.is_empty()
        || is_reference(v)
        || v.starts_with('/')
        || v.starts_with("./")
        || v.starts_with("~/")
        || v.contains("://")
    {
        return false;
    }
    match credential_name(name) {
        Some(Named::Password) if password_any => {
            v.len() >= 3 && !v.chars().any(char::is_whitespace)
        }
        Some(_) => looks_random(v),
        None => false,
    }
}

fn private_keys(text: &str, out: &mut Vec<Finding>) {
    let mut from = 0;
    while let Some(i) = text[from..].find("-----BEGIN ") {
        let start = from + i;
        let label_from = start + "-----BEGIN ".len();
        let Some(j) = text[label_from..].find("-----") else {
            break;
        };
        let label = &text[label_from..label_from + j];
        let header_end = label_from + j + 5;
        from = header_end;
        if !(label.ends_with("PRIVATE KEY") || label.ends_with("PRIVATE KEY BLOCK"))
            || label.contains('\n')
        {
            continue;
        }
        let footer = format!("-----END {label}-----");
        let end = text[header_end..]
            .find(&footer)
            .map_or(header_end, |k| header_end + k + footer.len());
        out.push(Finding {
            kind: Kind::PrivateKey,
            start,
            end,
        });
        from = end;
    }
}

/// Where the run of characters `pred` accepts that ends at `end` starts.
fn run_start(text: &str, end: usize, pred: impl Fn(char) -> bool) -> usize {
    text[..end]
        .char_indices()
        .rev()
        .find(|&(_, c)| !pred(c))
        .map_or(0, |(k, c)| k + c.len_utf8())
}

/// Where a URL that starts at `start` ends: at a space, a quote, a backquote or `<>`.
fn url_end(text: &str, start: usize) -> usize {
    text[start..]
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
        .map_or(text.len(), |i| start + i)
}

/// A URL query parameter named like a credential.
fn credential_param(name: &str, value: &str) -> bool {
    let n = name.to_ascii_lowercase();
    if n == "code" {
        // Azure Functions' `?code=KEY` (56 characters); not `?code=200`.
        return value.len() >= 20;
    }
    [
        "token",
        "access_token",
        "auth",
        "auth_token",
        "key",
        "apikey",
        "api_key",
        "api-key",
        "secret",
        "client_secret",
        "password",
        "passwd",
        "pass",
        "pwd",
        "sig",
        "signature",
        "x-amz-signature",
        "x-amz-security-token",
        "x-goog-signature",
        "private_token",
    ]
    .contains(&n.as_str())
        || [
            "_token",
            "-token",
            "_key",
            "_secret",
            "-secret",
            "_password",
            "-signature",
        ]
        .iter()
        .any(|s| n.ends_with(s))
}

fn urls(text: &str, out: &mut Vec<Finding>) {
    let mut from = 0;
    while let Some(i) = text[from..].find("://") {
        let sep = from + i;
        from = sep + 3;
        let scheme_start = run_start(text, sep, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')
        });
        if scheme_start == sep {
            continue;
        }
        let end = url_end(text, sep + 3);
        let rest = &text[sep + 3..end];
        let auth_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..auth_len];
        let (userinfo, host_port) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let host = host_port
            .rsplit_once(':')
            .map_or(host_port, |(h, _)| h)
            .to_ascii_lowercase();
        let path = &rest[auth_len..];
        let whole = |kind| Finding {
            kind,
            start: scheme_start,
            end,
        };
        let after = |p: &str| path.strip_prefix(p).is_some_and(|r| r.len() >= 8);
        if host == "hooks.slack.com"
            && (after("/services/") || after("/workflows/") || after("/triggers/"))
        {
            out.push(whole(Kind::SlackWebhook));
            from = end;
            continue;
        }
        if (host == "discord.com"
            || host.ends_with(".discord.com")
            || host == "discordapp.com"
            || host.ends_with(".discordapp.com"))
            && (after("/api/webhooks/") || path.contains("/webhooks/"))
        {
            out.push(whole(Kind::DiscordWebhook));
            from = end;
            continue;
        }
        if (host.ends_with(".webhook.office.com") && after("/webhookb2/"))
            || (matches!(
                host.as_str(),
                "outlook.office.com" | "outlook.office365.com"
            ) && after("/webhook/"))
        {
            out.push(whole(Kind::TeamsWebhook));
            from = end;
            continue;
        }
        if host == "api.telegram.org" && path.starts_with("/bot") && path.contains(':') {
            out.push(whole(Kind::TelegramBot));
            from = end;
            continue;
        }
        if let Some(u) = userinfo {
            let u_start = sep + 3;
            match u.split_once(':') {
                Some((_, pw)) if !pw.is_empty() && !is_reference(pw) => out.push(Finding {
                    kind: Kind::UrlUserinfo,
                    start: u_start + u.len() - pw.len(),
                    end: u_start + u.len(),
                }),
                None if looks_random(u) => out.push(Finding {
                    kind: Kind::UrlUserinfo,
                    start: u_start,
                    end: u_start + u.len(),
                }),
                _ => {}
            }
        }
        // Query and fragment parameters.
        let params_at = sep + 3 + auth_len;
        let mut offset = params_at;
        for part in path.split_inclusive(['?', '#', '&', ';']) {
            let part_start = offset;
            offset += part.len();
            let body = part.trim_end_matches(['?', '#', '&', ';']);
            if part_start == params_at {
                continue; // the path before the first `?`
            }
            let Some((k, v)) = body.split_once('=') else {
                continue;
            };
            if !v.is_empty() && !is_reference(v) && credential_param(k, v) {
                let v_start = part_start + k.len() + 1;
                out.push(Finding {
                    kind: Kind::UrlParam(k.to_owned()),
                    start: v_start,
                    end: v_start + v.len(),
                });
            }
        }
        from = end.max(from);
    }
}

fn tokens(text: &str, out: &mut Vec<Finding>) {
    // One pass: at every start of a word whose first byte starts some prefix, try the prefixes.
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if (i > 0 && b[i - 1].is_ascii_alphanumeric())
            || !matches!(
                c,
                b'x' | b'g' | b'A' | b's' | b'r' | b'w' | b'n' | b'S' | b'h'
            )
        {
            i += 1;
            continue;
        }
        let rest = &b[i..];
        let hit = VENDORS.iter().find_map(|v| {
            if !rest.starts_with(v.prefix.as_bytes()) {
                return None;
            }
            let body = i + v.prefix.len();
            let mut end = body;
            while end < b.len() && v.charset.has(b[end]) {
                end += 1;
            }
            let n = end - body;
            let fits = if v.exact { n == v.min } else { n >= v.min };
            fits.then_some((v, end))
        });
        match hit {
            Some((v, end)) => {
                out.push(Finding {
                    kind: Kind::Token(v),
                    start: i,
                    end,
                });
                i = end;
            }
            None => i += 1,
        }
    }
}

fn base64url_run(b: &[u8], from: usize) -> usize {
    let mut end = from;
    while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_' || b[end] == b'-') {
        end += 1;
    }
    end
}

fn jwts(text: &str, out: &mut Vec<Finding>) {
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find("eyJ") {
        let start = from + i;
        from = start + 3;
        if start > 0 && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_') {
            continue;
        }
        let mut end = start;
        let mut ok = true;
        for part in 0..3 {
            let seg_end = base64url_run(b, end);
            if seg_end - end < 10 {
                ok = false;
                break;
            }
            end = seg_end;
            if part < 2 {
                if b.get(end) != Some(&b'.') {
                    ok = false;
                    break;
                }
                end += 1;
            }
        }
        if ok {
            out.push(Finding {
                kind: Kind::Jwt,
                start,
                end,
            });
            from = end;
        }
    }
}

/// A run of characters that a token can hold, from `from`.
fn credential_run(text: &str, from: usize) -> usize {
    text[from..]
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | ',' | ';' | '&'))
        .map_or(text.len(), |i| from + i)
}

fn skip_spaces(text: &str, from: usize) -> usize {
    text[from..]
        .find(|c: char| c != ' ' && c != '\t')
        .map_or(text.len(), |i| from + i)
}

fn authorization(text: &str, out: &mut Vec<Finding>) {
    if !["uthorization", "UTHORIZATION", "earer", "EARER"]
        .iter()
        .any(|w| text.contains(w))
    {
        return;
    }
    let lower = text.to_ascii_lowercase();
    // `Authorization: [SCHEME] CREDENTIAL`
    let mut from = 0;
    while let Some(i) = lower[from..].find("authorization:") {
        let at = skip_spaces(text, from + i + "authorization:".len());
        from = at;
        let first_end = credential_run(text, at);
        let first = &text[at..first_end];
        if first.is_empty() || is_reference(first) {
            continue;
        }
        let scheme = matches!(
            first.to_ascii_lowercase().as_str(),
            "bearer" | "basic" | "token" | "bot" | "digest" | "apikey" | "sso-key" | "splunk"
        );
        let (s, e) = if scheme {
            let s = skip_spaces(text, first_end);
            (s, credential_run(text, s))
        } else {
            (at, first_end)
        };
        let cred = &text[s..e];
        if cred.len() >= 4 && !is_reference(cred) {
            out.push(Finding {
                kind: Kind::Authorization,
                start: s,
                end: e,
            });
        }
        from = e.max(from);
    }
    // `Bearer TOKEN` elsewhere: a token with letters and digits (prose such as "the bearer
    // token in `credentials_file`" is not one).
    let mut from = 0;
    while let Some(i) = lower[from..].find("bearer ") {
        let s = skip_spaces(text, from + i + "bearer ".len());
        from = s;
        let e = credential_run(text, s);
        let cred = &text[s..e];
        let b = cred.as_bytes();
        if cred.len() >= 16
            && !is_reference(cred)
            && b.iter().any(u8::is_ascii_digit)
            && b.iter().any(u8::is_ascii_alphabetic)
            && b.iter().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(c, b'.' | b'_' | b'~' | b'+' | b'/' | b'=' | b'-')
            })
        {
            out.push(Finding {
                kind: Kind::Authorization,
                start: s,
                end: e,
            });
        }
    }
}

/// `NAME=value`, `--name=value`, `"name": "value"` and `Name: value` (a header) in free text,
/// where the name says the value is a credential.
fn assignments(text: &str, out: &mut Vec<Finding>) {
    let b = text.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        // The name before `=`, `":` or `:`.
        let (name_end, strict) = match c {
            b'=' if b.get(i + 1) != Some(&b'=') && (i == 0 || b[i - 1] != b'=') => (i, true),
            b':' if i > 0 && b[i - 1] == b'"' => (i - 1, true),
            b':' if b.get(i + 1) == Some(&b' ') => (i, false),
            _ => continue,
        };
        let name_start = run_start(text, name_end, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
        });
        let name = text[name_start..name_end].trim_start_matches('-');
        if name.is_empty() || credential_name(name).is_none() {
            continue;
        }
        let mut s = skip_spaces(text, i + 1);
        let quote = b.get(s).copied().filter(|q| matches!(q, b'"' | b'\''));
        let e = match quote {
            Some(q) => {
                s += 1;
                text[s..].find(q as char).map_or(text.len(), |k| s + k)
            }
            None => credential_run(text, s),
        };
        let value = text[s..e].trim_end_matches(['}', ')', ']']);
        if credential_value(name, value, strict) {
            out.push(Finding {
                kind: Kind::Named(name.to_owned()),
                start: s,
                end: s + value.len(),
            });
        }
    }
}

/// curl's `-u user:password`, `--user user:password` and `--user=user:password`: the password.
/// Only after `curl` (`docker run -u 1000:1000` is a user and a group).
fn user_options(text: &str, out: &mut Vec<Finding>) {
    let Some(curl) = text.find("curl ") else {
        return;
    };
    for opt in [" -u", " --user ", " --user=", " --proxy-user "] {
        let mut from = curl;
        while let Some(i) = text[from..].find(opt) {
            let mut s = skip_spaces(text, from + i + opt.len());
            from = s;
            let b = text.as_bytes();
            let e = match b.get(s).copied().filter(|q| matches!(q, b'"' | b'\'')) {
                Some(q) => {
                    s += 1;
                    text[s..].find(q as char).map_or(text.len(), |k| s + k)
                }
                None => credential_run(text, s),
            };
            let Some((user, pw)) = text[s..e].split_once(':') else {
                continue;
            };
            let numeric = |x: &str| x.bytes().all(|c| c.is_ascii_digit());
            let uid_gid = numeric(user) && numeric(pw);
            if !(user.is_empty() || pw.is_empty() || is_reference(pw) || uid_gid) {
                out.push(Finding {
                    kind: Kind::UserPassword,
                    start: s + user.len() + 1,
                    end: e,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<String> {
        scan(text)
            .iter()
            .map(|f| format!("{}={}", f.kind.describe(), &text[f.start..f.end]))
            .collect()
    }

    #[test]
    fn finds_each_shape() {
        let cases = [
            "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXX",
            "https://discord.com/api/webhooks/123456789/abcdefghijk",
            "https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/x/y",
            "https://outlook.office.com/webhook/abcdef-123/IncomingWebhook/x",
            "https://api.telegram.org/bot123456:AAEXAMPLE0123456789/sendMessage?chat_id=1",
            "https://fn.azurewebsites.net/api/hook?code=aBcDeFgHiJkLmNoPqRsTuVwXyZ012345",
            "https://b.s3.amazonaws.com/x?X-Amz-Credential=a&X-Amz-Signature=0123abcd",
            "https://ops:hunter22@alerts.example.org/hook",
            "xoxb-123456789012-abcdefABCDEF",
            "ghp_0123456789abcdefghijABCDEFGHIJ012345",
            "github_pat_11ABCDEFG0123456789_abcdefghij",
            "glpat-abcdefghij0123456789",
            "AIzaSyA0123456789abcdefghijklmnopqrstuv",
            "sk_live_0123456789abcdefABCD",
            "AKIAIOSFODNN7EXAMPLE",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlMTIz",
            "curl -H \"Authorization: Bearer abc123xyz\" https://api/x",
            "curl -H 'X-Api-Key: 0123456789abcdefABCDEF' https://api",
            "PGPASSWORD=hunter2 pg_dump shop",
            "mysqldump --password=s3cr3t shop",
            "curl -fsS -u admin:hunter2 https://api/x",
            "curl -fsS --user 'admin:hunter 2' https://api/x",
            "npm_0123456789abcdefghijABCDEFGHIJ012345",
            "SG.0123456789abcdefghijAB.0123456789abcdefghijABCDEFGHIJ0123456789abcde",
            "hvs.CAESIJ0123456789abcdefghijABCD",
            "https://api.example.org/v1?api_key=abc123",
            "curl -d '{\"routing_key\":\"0123456789abcdef0123456789abcdef\"}' https://events",
        ];
        for c in cases {
            assert_eq!(scan(c).len(), 1, "{c}: {:?}", kinds(c));
        }
    }

    #[test]
    fn leaves_references_and_prose_alone() {
        let cases = [
            "curl -H \"Authorization: Bearer $API_TOKEN\" https://api/x",
            "curl -H \"Authorization: Bearer $(cat /run/secrets/api-token)\" https://api/x",
            "PGPASSWORD=$(cat /run/secrets/pg) pg_dump shop",
            "mysqldump --password-file=/etc/mysql/pw shop",
            "https://grafana.example.org/d/abc?orgId=1&refresh=30s&var-key_name=x",
            "https://api.example.org/health?code=200",
            "the bearer token in `credentials_file` is rotated every 90 days",
            "rotate the token: see the runbook",
            "password: see the vault entry ops/db",
            "https://hooks.slack.com/services/",
            "ssh://git@github.com/org/repo.git",
            "https://{{ .Values.host }}/?token={{ .Values.token }}",
            "AKIAIOSFODNN7EXAMPLEX",
            "curl -fsS -u \"admin:$API_PASSWORD\" https://api/x",
            "curl -fsS -u admin https://api/x",
            "tar -u -f backup.tar /srv:data",
            "docker run -u 1000:1000 backup:latest",
            "curl -fsS https://api/x && docker run -u 1000:1000 backup:latest",
        ];
        for c in cases {
            assert!(scan(c).is_empty(), "{c}: {:?}", kinds(c));
        }
    }

    #[test]
    fn any_text_is_safe_to_scan() {
        // Multi-byte characters next to every shape: ranges stay on character boundaries.
        for c in [
            "https://ops:pw@h/x?token=abc&sig=0123456789",
            "xoxb-123456789012-abcdef AKIAIOSFODNN7EXAMPLE",
            "Authorization: Bearer 0123456789abcdefEXAMPLE",
            "Crítico: password=hunter2 -----BEGIN EC PRIVATE KEY----- eyJa",
        ] {
            for (i, _) in c.char_indices() {
                let text = format!("{}í{}", &c[..i], &c[i..]);
                for f in scan(&text) {
                    assert!(text.get(f.start..f.end).is_some(), "{text}: {f:?}");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            for f in scan(&s) {
                proptest::prop_assert!(s.get(f.start..f.end).is_some());
            }
        }
    }

    #[test]
    fn named_values() {
        assert!(named_value("password", "hunter2").is_some());
        assert!(named_value("DB_PASSWORD", "hunter2").is_some());
        assert!(
            named_value(
                "secretAccessKey",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
            )
            .is_some()
        );
        assert!(named_value("api_token", "0123456789abcdef0123").is_some());
        assert!(named_value("existingSecret", "pg-credentials-v2").is_none());
        assert!(named_value("passwordFile", "/etc/pw").is_none());
        assert!(named_value("password", "${DB_PASSWORD}").is_none());
        assert!(named_value("token", "read it from vault").is_none());
        assert!(named_value("secrets_rotation", "90d").is_none());
        assert!(named_value("SECRET_KEY_BASE", "9f8e7d6c5b4a39281706f5e4d3c2b1a0").is_some());
        assert!(named_value("passwordSecretName", "pg-credentials").is_none());
        assert!(named_value("TOKEN_TTL", "3600").is_none());
    }
}
