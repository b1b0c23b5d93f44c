//! Plan text into Markdown that renders as the text itself: nothing in a description can open a
//! table cell, a code span, emphasis, an HTML tag, a heading or a list. Links a reader may want
//! to follow (URLs, e-mail addresses) become autolinks, never bare (markdownlint `MD034`).

/// Whitespace (newlines and tabs included) collapsed to single spaces, trimmed.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Inline text: escaped so it renders literally in a paragraph, a list item, a heading or a
/// table cell.
pub(crate) fn text(s: &str) -> String {
    let line = one_line(s);
    let mut out = String::with_capacity(line.len() + 8);
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        word_into(word, &mut out);
    }
    escape_leading(&out)
}

/// A word: plain text around at most one URL or e-mail address (the first found).
fn word_into(word: &str, out: &mut String) {
    if let Some(start) = url_start(word) {
        let (url, rest) = split_url(&word[start..]);
        if url.len() > start_len(&word[start..]) {
            escape_into(&word[..start], out);
            out.push('<');
            out.push_str(url);
            out.push('>');
            word_into(rest, out);
            return;
        }
    }
    if let Some((a, b)) = email(word) {
        escape_into(&word[..a], out);
        out.push('<');
        out.push_str(&word[a..b]);
        out.push('>');
        word_into(&word[b..], out);
        return;
    }
    escape_into(word, out);
}

fn start_len(s: &str) -> usize {
    if s.starts_with("https://") { 8 } else { 7 }
}

/// Where `http://` or `https://` starts, not inside another word.
fn url_start(word: &str) -> Option<usize> {
    let i = [word.find("http://"), word.find("https://")]
        .into_iter()
        .flatten()
        .min()?;
    let before = word[..i].chars().next_back();
    match before {
        Some(c) if c.is_alphanumeric() => None,
        _ => Some(i),
    }
}

/// The URL at the start of `s` and what follows it: a URL stops at a character an autolink may
/// not hold or a table would split on, and leaves trailing punctuation to the sentence.
fn split_url(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| matches!(c, '<' | '>' | '|' | '`' | '"' | '\\') || c.is_control())
        .unwrap_or(s.len());
    let mut url = &s[..end];
    while let Some(last) = url.chars().next_back() {
        let unbalanced = last == ')' && url.matches(')').count() > url.matches('(').count();
        if unbalanced
            || matches!(
                last,
                '.' | ',' | ':' | ';' | '!' | '?' | '\'' | '*' | '_' | '~'
            )
        {
            url = &url[..url.len() - last.len_utf8()];
        } else {
            break;
        }
    }
    (url, &s[url.len()..])
}

/// An e-mail address inside a word: its byte range.
fn email(word: &str) -> Option<(usize, usize)> {
    let at = word.find('@')?;
    let local_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-');
    let domain_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    let start = word[..at]
        .char_indices()
        .rev()
        .take_while(|(_, c)| local_ok(*c))
        .last()
        .map(|(i, _)| i)?;
    let mut end = at
        + 1
        + word[at + 1..]
            .char_indices()
            .take_while(|(_, c)| domain_ok(*c))
            .last()
            .map_or(0, |(i, c)| i + c.len_utf8());
    while end > at + 1 && matches!(word.as_bytes()[end - 1], b'.' | b'-' | b'_') {
        end -= 1;
    }
    let domain = &word[at + 1..end];
    let local = &word[start..at];
    (domain.contains('.') && !domain.starts_with('.') && !local.is_empty()).then_some((start, end))
}

fn escape_into(s: &str, into: &mut String) {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' | '`' | '*' | '[' | ']' | '|' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            // `<` opens a tag or an autolink only before a letter, `/`, `!` or `?`.
            '<' if chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')) =>
            {
                out.push_str("\\<");
            }
            '_' => {
                // Inside a word (`log_rotation`) an underscore is never emphasis.
                let inside = i > 0
                    && chars[i - 1].is_alphanumeric()
                    && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
                if !inside {
                    out.push('\\');
                }
                out.push('_');
            }
            // `&name;` and `&#123;` would be read as character references.
            '&' if looks_like_entity(&chars[i + 1..]) => out.push_str("\\&"),
            _ => out.push(c),
        }
    }
    break_www(&mut out);
    into.push_str(&out);
}

fn looks_like_entity(rest: &[char]) -> bool {
    let body = rest
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '#')
        .count();
    body > 0 && rest.get(body) == Some(&';')
}

/// `www.` starting a word: escape its dot so it is not an extended autolink.
fn break_www(out: &mut String) {
    let mut i = 0;
    while let Some(p) = out[i..].find("www.") {
        let at = i + p;
        let boundary = out[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        if boundary {
            out.insert(at + 3, '\\');
            i = at + 5;
        } else {
            i = at + 4;
        }
    }
}

/// Markers that mean something at the start of a line: `>`, `#` and `-`, `+`, `=`, `1.`, `1)`
/// before a space (or alone).
fn escape_leading(s: &str) -> String {
    let mut chars = s.chars();
    let first = chars.next();
    let second = chars.next();
    let ends_marker = |c: Option<char>| c.is_none_or(|c| c == ' ');
    match first {
        Some('>') => format!("\\{s}"),
        Some('#') => {
            let hashes = s.chars().take_while(|c| *c == '#').count();
            if ends_marker(s[hashes..].chars().next()) {
                format!("\\{s}")
            } else {
                s.to_owned()
            }
        }
        Some('-' | '+' | '=') if ends_marker(second) || second == first => format!("\\{s}"),
        Some(c) if c.is_ascii_digit() => {
            let digits = s.chars().take_while(char::is_ascii_digit).count();
            let mut rest = s[digits..].chars();
            match (rest.next(), rest.next()) {
                (Some(m @ ('.' | ')')), after) if ends_marker(after) => {
                    format!("{}\\{m}{}", &s[..digits], &s[digits + 1..])
                }
                _ => s.to_owned(),
            }
        }
        _ => s.to_owned(),
    }
}

/// A heading: inline text without the trailing punctuation markdownlint rejects (`MD026`) and
/// without a trailing `#` an ATX heading would drop.
pub(crate) fn heading(s: &str) -> String {
    let t = one_line(s);
    let trimmed = t.trim_end_matches(['.', ',', ';', ':', '!', '。', '，', '；', '：', ' ']);
    let mut out = text(trimmed);
    if out.ends_with('#') {
        out.insert(out.len() - 1, '\\');
    }
    out
}

/// An inline code span holding `s` on one line; `in_table` escapes `|`, which GitHub tables
/// split on even inside code.
pub(crate) fn code(s: &str, in_table: bool) -> String {
    let t = one_line(s);
    if t.is_empty() {
        return String::new();
    }
    let t = if in_table { t.replace('|', "\\|") } else { t };
    let ticks = "`".repeat(longest_run(&t, '`') + 1);
    let pad = if t.starts_with('`') || t.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{t}{pad}{ticks}")
}

/// A fenced code block: tabs as spaces, no trailing blanks, a fence longer than any run of
/// backticks inside.
pub(crate) fn block(s: &str, lang: &str) -> String {
    let lines: Vec<String> = s
        .replace('\t', "    ")
        .lines()
        .map(|l| l.trim_end().to_owned())
        .collect();
    let first = lines.iter().position(|l| !l.is_empty()).unwrap_or(0);
    let last = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    let body = lines
        .get(first..last.max(first))
        .unwrap_or_default()
        .join("\n");
    let fence = "`".repeat((longest_run(&body, '`') + 1).max(3));
    let lang = lang.trim();
    format!("{fence}{lang}\n{body}\n{fence}")
}

fn longest_run(s: &str, c: char) -> usize {
    let mut best = 0;
    let mut run = 0;
    for x in s.chars() {
        if x == c {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// A GitHub heading anchor for text upkeep writes itself (ASCII): lower case, spaces as `-`,
/// punctuation other than `-` and `_` dropped.
pub(crate) fn anchor(s: &str) -> String {
    s.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_literal() {
        assert_eq!(text("a | b"), "a \\| b");
        assert_eq!(text("log_rotation _x_"), "log_rotation \\_x\\_");
        assert_eq!(text("*bold* `code` <b>"), "\\*bold\\* \\`code\\` \\<b>");
        assert_eq!(text("p95 < 200ms > 1"), "p95 < 200ms > 1");
        assert_eq!(text("> 80%"), "\\> 80%");
        assert_eq!(text("1.5 FTE"), "1.5 FTE");
        assert_eq!(text("#5 and #"), "#5 and #");
        assert_eq!(text("## x"), "\\## x");
        assert_eq!(text("-100"), "-100");
        assert_eq!(text("---"), "\\---");
        assert_eq!(text("one\ntwo\t three"), "one two three");
        assert_eq!(text("# not a heading"), "\\# not a heading");
        assert_eq!(text("- not a list"), "\\- not a list");
        assert_eq!(text("1. not a list"), "1\\. not a list");
        assert_eq!(text("$3,000 & more &amp;"), "\\$3,000 & more \\&amp;");
        assert_eq!(text("Q&A &#39;"), "Q&A \\&#39;");
        assert_eq!(text("[link](x)"), "\\[link\\](x)");
    }

    #[test]
    fn links_are_autolinks() {
        assert_eq!(
            text("curl -f https://api.sri.gob.ec/health."),
            "curl -f <https://api.sri.gob.ec/health>."
        );
        assert_eq!(text("(http://x.org/a)"), "(<http://x.org/a>)");
        assert_eq!(text("mail ops@example.org."), "mail <ops@example.org>.");
        assert_eq!(text("see www.example.org"), "see www\\.example.org");
        assert_eq!(text("http://a|b"), "<http://a>\\|b");
        assert_eq!(text("xhttp://a"), "xhttp://a");
        assert_eq!(text("@handle"), "@handle");
    }

    #[test]
    fn code_spans() {
        assert_eq!(code("ls -l", false), "`ls -l`");
        assert_eq!(code("a`b", false), "``a`b``");
        assert_eq!(code("`a`", false), "`` `a` ``");
        assert_eq!(code("a | b", true), "`a \\| b`");
        assert_eq!(code("", true), "");
        assert_eq!(block("x ```y```\n", "sh"), "````sh\nx ```y```\n````");
        assert_eq!(block("\n\ta  \n", ""), "```\n    a\n```");
    }

    #[test]
    fn headings() {
        assert_eq!(heading("Disk full."), "Disk full");
        assert_eq!(heading("Issue #"), "Issue \\#");
        assert_eq!(anchor("Severity levels"), "severity-levels");
        assert_eq!(anchor("KPIs and SLOs"), "kpis-and-slos");
    }
}
