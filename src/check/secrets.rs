//! Secrets are never inline: a webhook URL, routing key, API key or password in a plan is
//! leaked to everyone who can read the repository.

use super::Cx;
use crate::diag::{Code, Diagnostic};

pub(super) fn check(cx: &mut Cx<'_>) {
    for (name, r) in cx.plan.receivers.iter() {
        for field in &r.inline_secrets {
            let file_field = match field.value.as_str() {
                "service_key" | "routing_key" => "routing_key_file".to_owned(),
                "url" => "url` without the credential, and `credentials_file".to_owned(),
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
