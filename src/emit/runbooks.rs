//! Runbook documentation: `runbooks/NAME/index.md`, one page per runbook and a postmortem
//! template, rendered from minijinja templates (`templates/*.md.j2`, overridable).

use super::{Artifact, Context};
use crate::diag::Diagnostics;

pub fn emit(_cx: &Context<'_>, _diags: &mut Diagnostics) -> Vec<Artifact> {
    Vec::new()
}
