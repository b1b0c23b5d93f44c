//! `upkeep lsp`: the compiler behind an editor, over the Language Server Protocol on stdio.
//!
//! The server owns the open documents ([`analysis::Documents`]) and the last check of them
//! ([`analysis::Analysis`]); every answer is read from that check, through the compiler's own
//! spans and walkers. Edits are coalesced: the documents are checked again once the messages
//! waiting have been read, or before a request that needs the check is answered.
//!
//! **Invariant:** the server never re-implements the compiler: diagnostics are `check`'s (via
//! [`crate::driver::check_texts`]), references are [`crate::model::refs::references`]'s. It
//! writes no file, and knows no exit code (the `cli` maps [`Ended`] to one).

mod analysis;
mod complete;
mod convert;
mod edit;
mod hover;
mod navigate;
mod transport;

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;

use chrono::{DateTime, Utc};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lsp;
use serde::de::DeserializeOwned;

use analysis::{Analysis, Documents};

/// How a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// `exit` after `shutdown`, as the protocol asks.
    AfterShutdown,
    /// `exit` without `shutdown`, or the editor closed the stream.
    WithoutShutdown,
}

/// What time it is: the `cli`'s clock (schedules' next occurrences start from it).
pub(crate) type Clock = fn() -> DateTime<Utc>;

/// Serve on standard input and output until the editor says `exit` or closes the stream.
pub(crate) fn serve(clock: Clock) -> Result<Ended, String> {
    let (connection, threads) =
        transport::stdio().map_err(|e| format!("cannot start the language server: {e}"))?;
    let ended = Server::new(&connection, clock).run();
    drop(connection);
    threads
        .join()
        .map_err(|e| format!("cannot write to the editor: {e}"))?;
    Ok(ended)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Before `initialize`: requests are refused, notifications dropped.
    Waiting,
    Running,
    /// After `shutdown`: only `exit` is expected.
    ShuttingDown,
}

struct Server<'c> {
    connection: &'c Connection,
    phase: Phase,
    docs: Documents,
    analysis: Analysis,
    /// The documents changed since the last check.
    stale: bool,
    /// What was last published for each URI (nothing is sent again when a check finds the same).
    published: BTreeMap<String, Vec<lsp::Diagnostic>>,
    clock: Clock,
    /// `initializationOptions.from`: the instant schedules start from instead of now, as
    /// `upkeep schedule --from` (tests, and reviewing a plan as of a date).
    from: Option<DateTime<Utc>>,
    /// The plans on disk that import each fragment, once needed (a fragment open alone);
    /// forgotten when files change on disk.
    importers: Option<analysis::Importers>,
    /// The plans on disk checked with the open documents at the last check.
    extra: Vec<std::path::PathBuf>,
    /// Whether the editor named a workspace (the working directory is then its top).
    workspace: bool,
    /// Where diagnostics link their code's page: the book at `initializationOptions.docsBaseUrl`,
    /// else the explain pages written in the user's cache directory, else nowhere.
    book: Option<convert::Docs>,
}

/// Why a request gets an error instead of a result.
struct Failure {
    code: ErrorCode,
    message: String,
}

impl Failure {
    fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

type Answer = Result<serde_json::Value, Failure>;

fn params<P: DeserializeOwned>(value: serde_json::Value) -> Result<P, Failure> {
    serde_json::from_value(value)
        .map_err(|e| Failure::new(ErrorCode::InvalidParams, format!("invalid params: {e}")))
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        position_encoding: Some(lsp::PositionEncodingKind::UTF16),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Kind(
            lsp::TextDocumentSyncKind::FULL,
        )),
        completion_provider: Some(lsp::CompletionOptions::default()),
        definition_provider: Some(lsp::OneOf::Left(true)),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        rename_provider: Some(lsp::OneOf::Left(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Simple(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        ..lsp::ServerCapabilities::default()
    }
}

/// A completion as the protocol writes it: the word under the cursor replaced.
fn completion_item(item: complete::Item, range: lsp::Range) -> lsp::CompletionItem {
    let (kind, detail) = match item.what {
        complete::What::Field => (lsp::CompletionItemKind::FIELD, None),
        complete::What::Reference(k) => (lsp::CompletionItemKind::REFERENCE, Some(k.name())),
        complete::What::Value => (lsp::CompletionItemKind::ENUM_MEMBER, None),
    };
    lsp::CompletionItem {
        label: item.label,
        kind: Some(kind),
        detail: detail.map(str::to_owned),
        documentation: item.doc.map(|value| {
            lsp::Documentation::MarkupContent(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value,
            })
        }),
        text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit {
            range,
            new_text: item.insert,
        })),
        ..lsp::CompletionItem::default()
    }
}

impl<'c> Server<'c> {
    fn new(connection: &'c Connection, clock: Clock) -> Self {
        Server {
            connection,
            phase: Phase::Waiting,
            docs: Documents::default(),
            analysis: Analysis::default(),
            stale: false,
            published: BTreeMap::new(),
            clock,
            from: None,
            book: None,
            importers: None,
            extra: Vec::new(),
            workspace: false,
        }
    }

    fn send(&self, message: impl Into<Message>) {
        // The editor is gone when this fails; the reader ends the loop soon after.
        let _ = self.connection.sender.send(message.into());
    }

    fn run(mut self) -> Ended {
        loop {
            let message = if self.stale {
                match self.connection.receiver.try_recv() {
                    Ok(m) => m,
                    Err(_) => {
                        // Nothing waiting: the edits so far are all there is to check.
                        self.refresh();
                        continue;
                    }
                }
            } else {
                match self.connection.receiver.recv() {
                    Ok(m) => m,
                    Err(_) => return Ended::WithoutShutdown,
                }
            };
            match message {
                Message::Request(req) => self.request(req),
                Message::Notification(n) if n.method == "exit" => {
                    return if self.phase == Phase::ShuttingDown {
                        Ended::AfterShutdown
                    } else {
                        Ended::WithoutShutdown
                    };
                }
                Message::Notification(n) => self.notification(n),
                // The server sends no requests, so expects no responses.
                Message::Response(_) => {}
            }
        }
    }

    fn request(&mut self, req: Request) {
        let Request { id, method, params } = req;
        let answer = match (self.phase, method.as_str()) {
            (Phase::Waiting, "initialize") => self.initialize(params),
            (Phase::Waiting, _) => Err(Failure::new(
                ErrorCode::ServerNotInitialized,
                format!("`{method}` before `initialize`"),
            )),
            (Phase::ShuttingDown, _) => Err(Failure::new(
                ErrorCode::InvalidRequest,
                format!("`{method}` after `shutdown`"),
            )),
            (Phase::Running, "initialize") => Err(Failure::new(
                ErrorCode::InvalidRequest,
                "`initialize` was already received",
            )),
            (Phase::Running, "shutdown") => {
                self.phase = Phase::ShuttingDown;
                Ok(serde_json::Value::Null)
            }
            (Phase::Running, _) => {
                // A bug in a handler is an error for that request, not the end of the session.
                std::panic::catch_unwind(AssertUnwindSafe(|| self.handle(&method, params)))
                    .unwrap_or_else(|_| {
                        Err(Failure::new(
                            ErrorCode::InternalError,
                            format!("`{method}` failed inside the server"),
                        ))
                    })
            }
        };
        self.respond(id, answer);
    }

    fn respond(&self, id: RequestId, answer: Answer) {
        let response = match answer {
            Ok(value) => Response {
                id,
                response_result: Ok(value),
            },
            Err(f) => Response::new_err(id, f.code as i32, f.message),
        };
        self.send(response);
    }

    fn initialize(&mut self, params: serde_json::Value) -> Answer {
        let init: lsp::InitializeParams = self::params(params)?;
        // Check as `upkeep check` run from the top of the workspace: imports may reach
        // anywhere inside it, and names are shown relative to it.
        #[allow(deprecated)]
        let root = init
            .workspace_folders
            .as_ref()
            .and_then(|f| f.first())
            .map(|f| &f.uri)
            .or(init.root_uri.as_ref())
            .and_then(convert::path_of);
        if let Some(root) = root.filter(|r| r.is_dir()) {
            // Only a workspace the editor names is searched for the plans importing a
            // fragment: not wherever the editor happened to start the server.
            self.workspace = std::env::set_current_dir(root).is_ok();
        }
        let options = init.initialization_options.as_ref();
        let from = options
            .and_then(|o| o.get("from"))
            .map(|f| {
                f.as_str()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .ok_or_else(|| {
                        Failure::new(
                            ErrorCode::InvalidParams,
                            "`initializationOptions.from` is not an RFC 3339 time; write e.g. `2027-01-01T00:00:00Z`",
                        )
                    })
            })
            .transpose()?;
        self.from = from.map(|t| t.with_timezone(&Utc));
        let docs = options.and_then(|o| o.get("docsBaseUrl"));
        self.book = docs
            .map(|d| {
                d.as_str()
                    .filter(|base| base.contains("://"))
                    .map(|base| convert::Docs::Web(base.to_owned()))
                    .filter(|docs| {
                        crate::diag::Code::ALL
                            .iter()
                            .all(|&c| convert::explain_page(docs, c).is_some())
                    })
                    .ok_or_else(|| {
                        Failure::new(
                            ErrorCode::InvalidParams,
                            "`initializationOptions.docsBaseUrl` is not an absolute URL; write where the book is, e.g. `https://docs.example.org/upkeep`",
                        )
                    })
            })
            .transpose()?
            .or_else(|| convert::explain_pages().map(convert::Docs::Local));
        self.phase = Phase::Running;
        let result = lsp::InitializeResult {
            capabilities: capabilities(),
            server_info: Some(lsp::ServerInfo {
                name: "upkeep".to_owned(),
                version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            }),
        };
        Ok(serde_json::to_value(result).unwrap_or_default())
    }

    /// A request of the running server.
    fn handle(&mut self, method: &str, params: serde_json::Value) -> Answer {
        let value = match method {
            "textDocument/definition" => {
                let p: lsp::GotoDefinitionParams = self::params(params)?;
                let found = self.symbol_locations(&p.text_document_position_params, |plans, s| {
                    navigate::definition(plans, s)
                });
                serde_json::to_value(found.map(lsp::GotoDefinitionResponse::Array))
            }
            "textDocument/completion" => {
                let p: lsp::CompletionParams = self::params(params)?;
                let at = p.text_document_position;
                let analysis = self.fresh();
                let found = analysis
                    .at(&at.text_document.uri, at.position)
                    .and_then(|(file, offset)| {
                        let source = analysis.ws.sources.get(file);
                        complete::complete(&analysis.ws.plans, source, file, offset)
                    })
                    .map(|(span, items)| {
                        let range = convert::range(analysis.ws.sources.get(span.file), span);
                        let items = items.into_iter().map(|i| completion_item(i, range));
                        lsp::CompletionResponse::Array(items.collect())
                    });
                serde_json::to_value(found)
            }
            "textDocument/hover" => {
                let p: lsp::HoverParams = self::params(params)?;
                let at = p.text_document_position_params;
                let now = self.from.unwrap_or_else(self.clock);
                let analysis = self.fresh();
                let found = analysis
                    .at(&at.text_document.uri, at.position)
                    .and_then(|(file, offset)| {
                        let source = analysis.ws.sources.get(file);
                        hover::hover(&analysis.ws.plans, source, file, offset, now)
                    })
                    .map(|(span, markdown)| lsp::Hover {
                        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                            kind: lsp::MarkupKind::Markdown,
                            value: markdown,
                        }),
                        range: Some(convert::range(analysis.ws.sources.get(span.file), span)),
                    });
                serde_json::to_value(found)
            }
            "textDocument/rename" => {
                let p: lsp::RenameParams = self::params(params)?;
                let at = p.text_document_position;
                let analysis = self.fresh();
                let (file, offset) = analysis
                    .at(&at.text_document.uri, at.position)
                    .ok_or_else(|| Failure::new(ErrorCode::RequestFailed, "not an open plan"))?;
                return edit::rename(analysis, file, offset, &p.new_name).map_err(|r| match r {
                    edit::Refused::Nothing => Failure::new(
                        ErrorCode::RequestFailed,
                        "only the name of a service or a runbook can be renamed",
                    ),
                    edit::Refused::BadName(n) => Failure::new(
                        ErrorCode::InvalidParams,
                        format!("`{n}` is not a name: lowercase letters, digits, `-` and `_`, starting with a letter or digit"),
                    ),
                });
            }
            "textDocument/codeAction" => {
                let p: lsp::CodeActionParams = self::params(params)?;
                let uri = &p.text_document.uri;
                self.fresh();
                let published = self.published.get(uri.as_str());
                Ok(serde_json::Value::Array(edit::code_actions(
                    &self.analysis,
                    published.map_or(&[], Vec::as_slice),
                    uri,
                    &p.context.diagnostics,
                )))
            }
            "textDocument/references" => {
                let p: lsp::ReferenceParams = self::params(params)?;
                let declaration = p.context.include_declaration;
                let found = self.symbol_locations(&p.text_document_position, |plans, s| {
                    navigate::usages(plans, s, declaration)
                });
                serde_json::to_value(found)
            }
            _ => {
                return Err(Failure::new(
                    ErrorCode::MethodNotFound,
                    format!("`{method}` is not supported"),
                ));
            }
        };
        value.map_err(|e| Failure::new(ErrorCode::InternalError, e.to_string()))
    }

    /// The locations `spans` finds for the symbol (a name defined or referenced) at `at`;
    /// none when there is no symbol there.
    fn symbol_locations(
        &mut self,
        at: &lsp::TextDocumentPositionParams,
        spans: impl Fn(&[crate::model::Plan], &navigate::Symbol) -> Vec<crate::span::Span>,
    ) -> Option<Vec<lsp::Location>> {
        let analysis = self.fresh();
        let (file, offset) = analysis.at(&at.text_document.uri, at.position)?;
        let symbol = navigate::symbol_at(&analysis.ws.plans, file, offset)?;
        let spans = spans(&analysis.ws.plans, &symbol);
        Some(
            spans
                .into_iter()
                .filter_map(|s| analysis.location(s))
                .collect(),
        )
    }

    fn notification(&mut self, n: Notification) {
        if self.phase != Phase::Running {
            return;
        }
        let changed = match n.method.as_str() {
            "textDocument/didOpen" => {
                self::params::<lsp::DidOpenTextDocumentParams>(n.params).map(|p| {
                    let d = p.text_document;
                    self.docs.open(&d.uri, d.text, d.version)
                })
            }
            "textDocument/didChange" => self::params::<lsp::DidChangeTextDocumentParams>(n.params)
                .map(|p| {
                    let d = p.text_document;
                    self.docs.change(&d.uri, d.version, p.content_changes)
                }),
            "textDocument/didClose" => self::params::<lsp::DidCloseTextDocumentParams>(n.params)
                .map(|p| self.docs.close(&p.text_document.uri)),
            // A save changes what closed files import from disk, and who imports what.
            "textDocument/didSave" | "workspace/didChangeWatchedFiles" => {
                self.importers = None;
                Ok(true)
            }
            _ => Ok(false),
        };
        match changed {
            Ok(changed) => self.stale |= changed,
            Err(f) => self.log(&format!("`{}`: {}", n.method, f.message)),
        }
    }

    /// A line in the editor's log of this server.
    fn log(&self, message: &str) {
        let params = lsp::LogMessageParams {
            typ: lsp::MessageType::WARNING,
            message: message.to_owned(),
        };
        self.send(Notification::new("window/logMessage".to_owned(), params));
    }

    /// Check the open documents again, and publish what changed.
    fn refresh(&mut self) {
        self.stale = false;
        self.analysis = analysis::analyse(&self.docs, &self.extra);
        let wanted = if self.workspace {
            analysis::importers_wanted(&self.analysis, &mut self.importers)
        } else {
            Vec::new()
        };
        if wanted != self.extra {
            self.extra = wanted;
            self.analysis = analysis::analyse(&self.docs, &self.extra);
        }
        let mut now = self.analysis.diagnostics(self.book.as_ref());
        // Open documents are published even when clean, so a fixed problem goes away.
        for uri in self.docs.open.keys() {
            now.entry(uri.clone()).or_default();
        }
        let before = std::mem::take(&mut self.published);
        for (uri, diagnostics) in &now {
            if before.get(uri) != Some(diagnostics) {
                self.publish(uri, diagnostics.clone());
            }
        }
        for uri in before.keys().filter(|u| !now.contains_key(*u)) {
            self.publish(uri, Vec::new());
        }
        self.published = now;
    }

    fn publish(&self, uri: &str, diagnostics: Vec<lsp::Diagnostic>) {
        let Ok(parsed) = uri.parse::<lsp::Uri>() else {
            return;
        };
        let params = lsp::PublishDiagnosticsParams {
            uri: parsed,
            diagnostics,
            version: self.docs.open.get(uri).map(|d| d.version),
        };
        self.send(Notification::new(
            "textDocument/publishDiagnostics".to_owned(),
            params,
        ));
    }

    /// The check of the documents as they are now.
    fn fresh(&mut self) -> &Analysis {
        if self.stale {
            self.refresh();
        }
        &self.analysis
    }
}
