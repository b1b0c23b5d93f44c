//! The stdio transport: JSON-RPC frames (`Content-Length` headers) between the editor and the
//! server's channels, as lsp-server's [`Message`]s.
//!
//! Its own reader rather than `lsp_server::Connection::stdio`, for two reasons of hostile
//! input: a frame is bounded ([`MAX_MESSAGE`]; lsp-server allocates whatever the header says),
//! and a frame that is not JSON-RPC is answered with the protocol's error (`-32700`, `-32600`)
//! instead of ending the session. Writing is lsp-server's.

use std::io::{self, BufRead, Read, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use lsp_server::{Connection, Message};

/// Most bytes of one message. A plan is at most [`crate::parse::MAX_FILE_BYTES`] (4 MiB); as a
/// JSON string every byte is at most six (`\u0001`), so an editor sending the largest plan
/// whole stays under this.
pub(super) const MAX_MESSAGE: usize = 6 * crate::parse::MAX_FILE_BYTES + (1 << 20);

/// Most bytes of one header line, and header lines of one message.
const MAX_HEADER_LINE: u64 = 4096;
const MAX_HEADER_LINES: usize = 32;

/// The reader and writer threads; joined when the server is done.
pub(super) struct Threads {
    reader: JoinHandle<()>,
    writer: JoinHandle<io::Result<()>>,
}

impl Threads {
    /// Wait for the writer to flush what the server sent. The reader is not waited for: it may
    /// be blocked on standard input, which the editor closes when it likes.
    pub(super) fn join(self) -> io::Result<()> {
        drop(self.reader);
        self.writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writer thread panicked")))
    }
}

/// A connection over standard input and output.
pub(super) fn stdio() -> io::Result<(Connection, Threads)> {
    let (server, client) = Connection::memory();
    let out = Arc::new(Mutex::new(io::stdout()));
    let writer_out = Arc::clone(&out);
    let to_editor = client.receiver;
    let writer = std::thread::Builder::new()
        .name("upkeep-lsp-writer".to_owned())
        .spawn(move || {
            for message in to_editor {
                let mut out = writer_out.lock().unwrap_or_else(PoisonError::into_inner);
                message.write(&mut *out)?;
                out.flush()?;
            }
            Ok(())
        })?;
    let to_server = client.sender;
    let reader = std::thread::Builder::new()
        .name("upkeep-lsp-reader".to_owned())
        .spawn(move || {
            let stdin = io::stdin();
            pump(
                &mut stdin.lock(),
                |m| to_server.send(m).is_ok(),
                |raw| {
                    let mut out = out.lock().unwrap_or_else(PoisonError::into_inner);
                    let _ = write_frame(&mut *out, &raw);
                },
            );
        })?;
    Ok((server, Threads { reader, writer }))
}

/// Read frames from `input` until it ends, the server stops listening (`deliver` says false)
/// or `exit` arrives; answer what is not a message with `reply` (a JSON-RPC error object).
pub(super) fn pump(
    input: &mut impl BufRead,
    mut deliver: impl FnMut(Message) -> bool,
    mut reply: impl FnMut(String),
) {
    loop {
        let body = match read_frame(input) {
            Ok(Some(Ok(body))) => body,
            Ok(Some(Err(Skip::Bad(problem)))) => {
                reply(error_object(&serde_json::Value::Null, -32700, &problem));
                continue;
            }
            Ok(Some(Err(Skip::Bytes(length)))) => {
                // Said at once: the editor may be waiting for an answer before sending more.
                reply(error_object(
                    &serde_json::Value::Null,
                    -32700,
                    &format!("a message of {length} bytes, more than the limit of {MAX_MESSAGE}"),
                ));
                match io::copy(&mut input.by_ref().take(length as u64), &mut io::sink()) {
                    Ok(n) if n == length as u64 => continue,
                    _ => return,
                }
            }
            Ok(None) | Err(_) => return,
        };
        let value = match serde_json::from_str::<serde_json::Value>(&body) {
            Ok(v) => v,
            Err(e) => {
                reply(error_object(
                    &serde_json::Value::Null,
                    -32700,
                    &format!("not JSON: {e}"),
                ));
                continue;
            }
        };
        let id = value.get("id").cloned();
        let has_method = value.get("method").is_some();
        match serde_json::from_value::<Message>(value) {
            // An `id` that is not a number or a string makes a request read as a notification.
            Ok(Message::Notification(_)) if id.is_some() => reply(error_object(
                &id.unwrap_or_default(),
                -32600,
                "a request id is a number or a string",
            )),
            Ok(message) => {
                let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                if !deliver(message) || exit {
                    return;
                }
            }
            // A notification gets no answer, even a wrong one.
            Err(_) if id.is_none() && has_method => {}
            Err(e) => reply(error_object(
                &id.unwrap_or_default(),
                -32600,
                &format!("not a JSON-RPC message: {e}"),
            )),
        }
    }
}

fn error_object(id: &serde_json::Value, code: i32, message: &str) -> String {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": { "code": code, "message": message },
    })
    .to_string()
}

fn write_frame(out: &mut impl Write, body: &str) -> io::Result<()> {
    write!(out, "Content-Length: {}\r\n\r\n{body}", body.len())?;
    out.flush()
}

/// What is wrong with a frame that is not read.
enum Skip {
    /// Why it is not a frame; the input is at the next one.
    Bad(String),
    /// A body too long to read: the input is at its start.
    Bytes(usize),
}

/// One frame: its body, or why it is not one. `None` at the end of the input; an I/O error
/// when it ends inside a frame.
fn read_frame(input: &mut impl BufRead) -> io::Result<Option<Result<String, Skip>>> {
    let mut length: Option<Result<usize, String>> = None;
    let mut line = Vec::new();
    let mut lines = 0;
    loop {
        line.clear();
        let n = input
            .by_ref()
            .take(MAX_HEADER_LINE)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return if lines == 0 {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        if !line.ends_with(b"\n") {
            // Longer than any header: skip the rest of the line and say so.
            skip_line(input)?;
            return Ok(Some(Err(Skip::Bad(format!(
                "a header line longer than {MAX_HEADER_LINE} bytes"
            )))));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if lines == 0 {
                continue; // a stray line break between frames
            }
            break;
        }
        lines += 1;
        if lines > MAX_HEADER_LINES {
            return Ok(Some(Err(Skip::Bad(format!(
                "more than {MAX_HEADER_LINES} header lines"
            )))));
        }
        let Some((name, value)) = text.split_once(':') else {
            return Ok(Some(Err(Skip::Bad(format!(
                "a header line without `:`: `{text}`"
            )))));
        };
        if name.trim().eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("`Content-Length: {}` is not a length", value.trim())),
            );
        }
    }
    let length = match length {
        None => {
            return Ok(Some(Err(Skip::Bad(
                "a message without `Content-Length`".to_owned(),
            ))));
        }
        Some(Err(e)) => return Ok(Some(Err(Skip::Bad(e)))),
        Some(Ok(n)) => n,
    };
    if length > MAX_MESSAGE {
        return Ok(Some(Err(Skip::Bytes(length))));
    }
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    Ok(Some(String::from_utf8(body).map_err(|_| {
        Skip::Bad("a message that is not UTF-8".to_owned())
    })))
}

fn skip_line(input: &mut impl BufRead) -> io::Result<()> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            input.consume(i + 1);
            return Ok(());
        }
        let n = buf.len();
        input.consume(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the reader makes of `input`: the methods delivered, and the error codes answered.
    fn run(input: &[u8]) -> (Vec<String>, Vec<i64>) {
        let mut delivered = Vec::new();
        let mut replies = Vec::new();
        pump(
            &mut io::Cursor::new(input),
            |m| {
                delivered.push(match m {
                    Message::Request(r) => r.method,
                    Message::Notification(n) => n.method,
                    Message::Response(_) => "response".to_owned(),
                });
                true
            },
            |raw| {
                let v: serde_json::Value = serde_json::from_str(&raw).expect("a JSON reply");
                replies.push(v["error"]["code"].as_i64().expect("an error code"));
            },
        );
        (delivered, replies)
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn a_length_larger_than_the_input_ends_it() {
        let input = [
            frame("{not json"),
            "Content-Length: 99999999999999\r\n\r\n".to_owned(),
            frame(r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#),
        ]
        .concat();
        // The frame is skipped as announced, which swallows the rest of the input.
        let (delivered, replies) = run(input.as_bytes());
        assert_eq!(delivered, Vec::<String>::new());
        assert_eq!(replies, vec![-32700, -32700]);
    }

    #[test]
    fn frames_are_delivered_until_exit() {
        let input = [
            frame("{not json"),
            "X-Nothing\r\n\r\n".to_owned(),
            format!("{}\r\n\r\n", "A".repeat(10_000)),
            frame(r#"{"jsonrpc":"2.0","id":2.5,"method":"x"}"#),
            frame(r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#),
            frame(r#"{"jsonrpc":"2.0","method":"exit"}"#),
            frame(r#"{"jsonrpc":"2.0","id":3,"method":"shutdown"}"#),
        ]
        .concat();
        let (delivered, replies) = run(input.as_bytes());
        assert_eq!(delivered, ["shutdown", "exit"]);
        assert_eq!(replies, vec![-32700, -32700, -32700, -32600]);
    }

    #[test]
    fn an_oversized_frame_is_skipped_not_allocated() {
        let big = MAX_MESSAGE + 10;
        let mut input = format!("Content-Length: {big}\r\n\r\n").into_bytes();
        input.resize(input.len() + big, b' ');
        input.extend(frame(r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#).bytes());
        let (delivered, replies) = run(&input);
        assert_eq!(delivered, ["shutdown"]);
        assert_eq!(replies, vec![-32700]);
    }
}
