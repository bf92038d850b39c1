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

pub use analysis::Linter;
pub use server::{Backend, Options};

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::{LspService, Server};

/// Serves one LSP session over `input`/`output` until the client sends `exit` (or closes the
/// stream). Returns true when `shutdown` was requested before.
pub async fn serve<I, O>(input: I, output: O, options: Options) -> bool
where
    I: AsyncRead + Unpin,
    O: AsyncWrite,
{
    let shutdown = Arc::new(AtomicBool::new(false));
    let flag = shutdown.clone();
    let (service, socket) = LspService::build(move |client| Backend::new(client, options, flag))
        .custom_method(server::STATUS_METHOD, Backend::status)
        .finish();
    Server::new(input, output, socket).serve(service).await;
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
