//! The byte streams between the editor and the server, checked frame by frame.
//!
//! `tower-lsp-server` ends the session at the first frame it cannot decode (its framed reader
//! stops after an error), so every frame from the client is checked here first: a body that is
//! not UTF-8 or not JSON gets a JSON-RPC `Parse error` (-32700), valid JSON that is not a
//! JSON-RPC message an `Invalid Request` (-32600), both with a `window/logMessage` saying what was
//! dropped; bytes that are not a frame at all are skipped up to the next `Content-Length` header.
//! Only well-formed frames reach the protocol layer. Its output goes through a pump that writes
//! whole frames, so the answers to dropped frames never land inside another message.

use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Request, Response};

/// A header block longer than this without its blank line is not a header.
const MAX_HEADER: usize = 8 * 1024;
/// Bodies larger than this are refused without being buffered.
const MAX_BODY: usize = 256 * 1024 * 1024;
const HEADER: &[u8] = b"Content-Length";

/// JSON-RPC error codes for frames that cannot be handled.
pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;

/// A frame (or bytes) the server cannot take: what to answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Malformed {
    pub code: i64,
    pub reason: String,
    /// The request id, when the body is JSON with one.
    pub id: Value,
}

/// What the next bytes of a stream hold.
#[derive(Debug, PartialEq)]
pub enum Next {
    /// A frame's body.
    Frame(Vec<u8>),
    /// Bytes that were dropped, and why.
    Malformed(Malformed),
    /// More bytes are needed.
    Wait,
}

/// Splits a byte stream into `Content-Length` frames.
#[derive(Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// Check that each body is a JSON-RPC message (the client's stream).
    validate: bool,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The first place in `bytes` where a `Content-Length` header may start: a full occurrence, or a
/// tail that is the start of one (a frame cut by a wrong length, its rest still to come).
fn resync_point(bytes: &[u8]) -> Option<usize> {
    if let Some(i) = find(bytes, HEADER) {
        return Some(i);
    }
    let tail = bytes.len().saturating_sub(HEADER.len() - 1);
    (tail..bytes.len()).find(|&i| HEADER.starts_with(&bytes[i..]))
}

fn malformed(code: i64, reason: impl Into<String>) -> Malformed {
    Malformed { code, reason: reason.into(), id: Value::Null }
}

/// The `Content-Length` of a header block (`Name: value` lines), or why there is none.
fn content_length(block: &[u8]) -> Result<usize, String> {
    let text = std::str::from_utf8(block).map_err(|_| "header is not text".to_string())?;
    let mut len = None;
    for line in text.split("\r\n") {
        let (name, value) = line.split_once(':').ok_or_else(|| format!("not a header line: {line:?}"))?;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(format!("not a header line: {line:?}"));
        }
        if name.eq_ignore_ascii_case("Content-Length") {
            len = Some(value.trim().parse::<usize>().map_err(|_| format!("bad Content-Length: {:?}", value.trim()))?);
        }
    }
    len.ok_or_else(|| "no Content-Length header".into())
}

/// Checks that `body` is one JSON-RPC message the protocol layer accepts.
fn check_message(body: &[u8]) -> Result<(), Malformed> {
    let text = std::str::from_utf8(body)
        .map_err(|e| malformed(PARSE_ERROR, format!("body is not UTF-8 (invalid byte at {})", e.valid_up_to())))?;
    if serde_json::from_str::<Request>(text).is_ok() || serde_json::from_str::<Response>(text).is_ok() {
        return Ok(());
    }
    match serde_json::from_str::<Value>(text) {
        Err(e) => Err(malformed(PARSE_ERROR, format!("body is not JSON ({e})"))),
        Ok(v) => {
            let id = v.get("id").filter(|id| id.is_number() || id.is_string()).cloned().unwrap_or(Value::Null);
            Err(Malformed { id, ..malformed(INVALID_REQUEST, "body is JSON but not a JSON-RPC 2.0 message") })
        }
    }
}

impl Framer {
    /// A framer for the client's stream, checking each body.
    pub fn checking() -> Framer {
        Framer { buf: Vec::new(), validate: true }
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Drops `n` bytes from the front.
    fn consume(&mut self, n: usize) {
        self.buf.drain(..n.min(self.buf.len()));
    }

    /// Drops the bytes before the next header after the first `from` bytes (all of them when
    /// there is none).
    fn skip_to_header(&mut self, from: usize) {
        let from = from.min(self.buf.len());
        let at = resync_point(&self.buf[from..]).map_or(self.buf.len(), |i| from + i);
        self.consume(at.max(1));
    }

    /// The next frame, dropped bytes, or [`Next::Wait`] for more input.
    pub fn next_frame(&mut self) -> Next {
        if self.buf.is_empty() {
            return Next::Wait;
        }
        let Some(end) = find(&self.buf, b"\r\n\r\n") else {
            if self.buf.len() > MAX_HEADER {
                self.skip_to_header(1);
                return Next::Malformed(malformed(PARSE_ERROR, "bytes that are not a frame header"));
            }
            return Next::Wait;
        };
        let len = match content_length(&self.buf[..end]) {
            Ok(len) if len <= MAX_BODY => len,
            Ok(len) => {
                // Not buffered: the body's bytes are skipped as garbage up to the next header.
                self.consume(end + 4);
                return Next::Malformed(malformed(PARSE_ERROR, format!("frame of {len} bytes is too large")));
            }
            Err(reason) => {
                self.skip_to_header(1);
                return Next::Malformed(malformed(PARSE_ERROR, reason));
            }
        };
        let start = end + 4;
        if self.buf.len() < start + len {
            return Next::Wait;
        }
        let body = &self.buf[start..start + len];
        if self.validate {
            if let Err(m) = check_message(body) {
                // A length too large swallowed the start of the next frame: resume there.
                let resume = resync_point(body).map_or(start + len, |i| start + i);
                self.consume(resume);
                return Next::Malformed(m);
            }
        }
        let body = body.to_vec();
        self.consume(start + len);
        Next::Frame(body)
    }
}

/// `body` with its `Content-Length` header.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// The frames answering a dropped one: the error response and a log message.
fn answer(m: &Malformed) -> Vec<u8> {
    let message = if m.code == PARSE_ERROR { "Parse error" } else { "Invalid Request" };
    let response =
        json!({"jsonrpc": "2.0", "error": {"code": m.code, "message": format!("{message}: {}", m.reason)}, "id": m.id});
    let log = json!({"jsonrpc": "2.0", "method": "window/logMessage", "params": {"type": 2, "message": format!("dropped a malformed message: {}", m.reason)}});
    let mut out = frame(response.to_string().as_bytes());
    out.extend(frame(log.to_string().as_bytes()));
    out
}

/// Copies the client's frames from `input` to `server`, answering the malformed ones through
/// `answers`. Returns at the end of `input` (dropping `server` ends the session) or when the
/// server stops reading.
pub async fn filter_input<I, S>(mut input: I, mut server: S, answers: mpsc::UnboundedSender<Vec<u8>>)
where
    I: AsyncRead + Unpin,
    S: AsyncWrite + Unpin,
{
    let mut framer = Framer::checking();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        loop {
            match framer.next_frame() {
                Next::Frame(body) => {
                    if server.write_all(&frame(&body)).await.is_err() {
                        return;
                    }
                }
                Next::Malformed(m) => {
                    eprintln!("sluice lsp: dropped a malformed message: {}", m.reason);
                    let _ = answers.send(answer(&m));
                }
                Next::Wait => break,
            }
        }
        match input.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => framer.push(&chunk[..n]),
        }
    }
    let _ = server.shutdown().await;
}

/// Writes the server's frames from `server` and the frames sent on `answers` (answers to dropped
/// frames, published diagnostics) to `output`, each frame whole. Returns when the server's output
/// ends.
pub async fn pump_output<S, O>(mut server: S, mut answers: mpsc::UnboundedReceiver<Vec<u8>>, mut output: O)
where
    S: AsyncRead + Unpin,
    O: AsyncWrite + Unpin,
{
    let mut framer = Framer::default();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        tokio::select! {
            read = server.read(&mut chunk) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    framer.push(&chunk[..n]);
                    while let Next::Frame(body) = framer.next_frame() {
                        if output.write_all(&frame(&body)).await.is_err() {
                            return;
                        }
                    }
                    if output.flush().await.is_err() {
                        return;
                    }
                }
            },
            Some(bytes) = answers.recv() => {
                if output.write_all(&bytes).await.is_err() || output.flush().await.is_err() {
                    return;
                }
            }
        }
    }
    let _ = output.flush().await;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const PING: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;

    fn all(framer: &mut Framer) -> Vec<Next> {
        let mut out = Vec::new();
        loop {
            match framer.next_frame() {
                Next::Wait => return out,
                n => out.push(n),
            }
        }
    }

    fn codes(items: &[Next]) -> Vec<Option<i64>> {
        items
            .iter()
            .map(|n| match n {
                Next::Malformed(m) => Some(m.code),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn well_formed_frames_pass_whole_even_when_split() {
        let mut f = Framer::checking();
        let bytes = [frame(PING), frame(PING)].concat();
        let (a, b) = bytes.split_at(30);
        f.push(a);
        assert!(all(&mut f).is_empty());
        f.push(b);
        assert_eq!(all(&mut f), vec![Next::Frame(PING.to_vec()), Next::Frame(PING.to_vec())]);
    }

    #[test]
    fn a_body_that_is_not_json_is_a_parse_error_and_the_next_frame_passes() {
        let mut f = Framer::checking();
        f.push(&[frame(b"{not json"), frame(PING)].concat());
        let items = all(&mut f);
        assert_eq!(codes(&items), vec![Some(PARSE_ERROR), None]);
        assert_eq!(items[1], Next::Frame(PING.to_vec()));
    }

    #[test]
    fn json_that_is_not_a_message_is_an_invalid_request_with_its_id() {
        let mut f = Framer::checking();
        f.push(&[frame(br#"{"id":7,"hello":1}"#), frame(b"[1,2]"), frame(PING)].concat());
        let items = all(&mut f);
        assert_eq!(codes(&items), vec![Some(INVALID_REQUEST), Some(INVALID_REQUEST), None]);
        let Next::Malformed(m) = &items[0] else { panic!() };
        assert_eq!(m.id, json!(7));
    }

    #[test]
    fn non_utf8_bodies_and_garbage_between_frames_are_skipped() {
        let mut f = Framer::checking();
        f.push(&[frame(b"{\"a\":\"\xff\"}"), b"garbage\r\n\r\n".to_vec(), frame(PING)].concat());
        let items = all(&mut f);
        assert_eq!(codes(&items), vec![Some(PARSE_ERROR), Some(PARSE_ERROR), None]);
        let Next::Malformed(m) = &items[0] else { panic!() };
        assert!(m.reason.contains("UTF-8"), "{m:?}");
    }

    #[test]
    fn wrong_content_lengths_resynchronise_on_the_next_header() {
        // Too large: the body swallows the start of the next frame.
        let mut f = Framer::checking();
        let body = br#"{"jsonrpc":"2.0","method":"x"}"#;
        f.push(format!("Content-Length: {}\r\n\r\n", body.len() + 10).as_bytes());
        f.push(body);
        f.push(&frame(PING));
        let items = all(&mut f);
        assert_eq!(codes(&items), vec![Some(PARSE_ERROR), None], "{items:?}");
        assert_eq!(items[1], Next::Frame(PING.to_vec()));
        // Too small: the rest of the body is garbage before the next header.
        let mut f = Framer::checking();
        f.push(format!("Content-Length: {}\r\n\r\n", body.len() - 5).as_bytes());
        f.push(body);
        f.push(&frame(PING));
        let items = all(&mut f);
        assert_eq!(items.last(), Some(&Next::Frame(PING.to_vec())), "{items:?}");
        assert!(codes(&items[..items.len() - 1]).iter().all(|c| *c == Some(PARSE_ERROR)), "{items:?}");
    }

    #[test]
    fn headers_without_a_length_are_skipped() {
        let mut f = Framer::checking();
        f.push(b"Content-Type: x\r\n\r\n");
        f.push(b"Content-Length: abc\r\n\r\n");
        f.push(&frame(PING));
        let items = all(&mut f);
        assert_eq!(codes(&items), vec![Some(PARSE_ERROR), Some(PARSE_ERROR), None], "{items:?}");
    }
}
