//! The Sluice language server (`sluice lsp`): diagnostics while typing, fixes and suppressions as
//! code actions, rule documentation on hover. It reuses the CLI's pipeline (`sluice-workspace`
//! configuration discovery, `sluice-rules` linting); only this crate knows LSP types.

pub mod actions;
pub mod analysis;
pub mod convert;
pub mod document;
pub mod history;
pub mod hover;
pub mod server;
pub mod transport;

pub use analysis::Linter;
pub use server::{Backend, Options};

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::{LspService, Server};

/// Serves one LSP session over `input`/`output` until the client sends `exit` (or closes the
/// stream). Returns true when `shutdown` was requested before. Malformed frames are answered
/// with a JSON-RPC error and dropped (see [`transport`]); the session goes on.
pub async fn serve<I, O>(input: I, output: O, options: Options) -> bool
where
    I: AsyncRead + Unpin,
    O: AsyncWrite + Unpin,
{
    let shutdown = Arc::new(AtomicBool::new(false));
    let flag = shutdown.clone();
    let (answers, answered) = tokio::sync::mpsc::unbounded_channel();
    let frames = answers.clone();
    let (service, socket) = LspService::build(move |client| Backend::new(client, options, flag, Some(frames)))
        .custom_method(server::STATUS_METHOD, Backend::status)
        .finish();
    let (to_server, server_input) = tokio::io::duplex(1 << 20);
    let (server_output, from_server) = tokio::io::duplex(1 << 20);
    let filter = transport::filter_input(input, to_server, answers);
    let session = async {
        tokio::join!(
            Server::new(server_input, server_output, socket).serve(service),
            transport::pump_output(from_server, answered, output)
        )
    };
    tokio::pin!(filter, session);
    // The session ends on `exit` even while the client's stream stays open.
    tokio::select! {
        _ = &mut session => {}
        _ = &mut filter => { session.await; }
    }
    shutdown.load(Ordering::SeqCst)
}

/// Runs the server on standard input and output (`sluice lsp`). Exit code 0 after a clean
/// `shutdown` + `exit`, 1 when the client exits without `shutdown`, 2 when the runtime cannot
/// start.
pub fn run_stdio() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let clean = runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout(), Options::default()));
    // Background lint tasks may still run; do not wait for them.
    runtime.shutdown_background();
    if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
