//! One request of Postfix's SMTP access policy delegation protocol
//! (SMTPD_POLICY_README), read within its bounds: `name=value` lines ended
//! by an empty line, no more than [`MAX_REQUEST`] bytes, and, on standard
//! input, no longer a wait than `-i` (rmxpolicyd(8)). Memory stays within
//! the bound whatever arrives, and no wait lasts past the limit.

use std::io::{self, Read};
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use crate::lines::{Line, Lines};
use crate::{error_str, sys, text};

/// The largest request, in bytes, empty line included.
pub const MAX_REQUEST: usize = 64 * 1024;
/// The most attributes in one request.
pub const MAX_ATTRIBUTES: usize = 1000;

/// Where requests come from. Before each request the source is told
/// ([`Source::arm`]), so that a source that waits can start its clock.
pub trait Source: Read {
    /// A request is about to be read.
    fn arm(&mut self) {}
}

impl Source for &[u8] {}

/// A reader of requests, one after another, from Postfix.
pub type Input<R> = Lines<R>;

/// Requests read from `input`, no more than one request's bound ahead.
pub fn input<R: Source>(input: R) -> Input<R> {
    Lines::new(input, MAX_REQUEST, 0)
}

/// Standard input, waited on for at most `limit` at a time: the wait for a
/// request to begin, and the time a request that has begun takes to end.
/// When the limit runs out, a read fails with [`io::ErrorKind::TimedOut`].
/// It reads fd 0 itself, with no buffer of its own, so that a wait for
/// bytes is never a wait for bytes already read.
pub struct Stdin {
    limit: Duration,
    /// When the limit runs out.
    deadline: Instant,
    /// No byte has arrived since [`Source::arm`].
    waiting: bool,
}

const STDIN: RawFd = 0;

impl Stdin {
    pub fn new(limit: Duration) -> Stdin {
        Stdin {
            limit,
            deadline: Instant::now() + limit,
            waiting: true,
        }
    }
}

impl Source for Stdin {
    fn arm(&mut self) {
        self.deadline = Instant::now() + self.limit;
        self.waiting = true;
    }
}

impl Read for Stdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let secs = self.limit.as_secs();
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("nothing more within {secs} s"),
                ));
            }
            let mut fds = [sys::pollfd(STDIN, libc::POLLIN)];
            if sys::poll(&mut fds, left)? == 0 {
                continue;
            }
            let n = match sys::read(STDIN, buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                read => read?,
            };
            if n > 0 && self.waiting {
                // A request has begun: it has the whole limit to end.
                self.waiting = false;
                self.deadline = Instant::now() + self.limit;
            }
            return Ok(n);
        }
    }
}

/// The attributes of one request that rmxpolicyd reads; the rest are
/// ignored. A later line overrides an earlier one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub request: Option<String>,
    pub client_address: Option<String>,
    pub instance: Option<String>,
    pub recipient: Option<String>,
}

/// What comes next on the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    Request(Request),
    /// The end of input, before a request began.
    End,
    /// No request began within the source's limit.
    Idle,
}

/// Reads one request. The error says why the input is no request, and no
/// answer may follow: a request over [`MAX_REQUEST`] bytes or
/// [`MAX_ATTRIBUTES`] attributes, a line without `=`, with an empty name or
/// with a NUL byte, a request cut short by the end of input or by the
/// source's time limit, or a read error. A line may end in CR LF.
pub fn read<R: Source>(input: &mut Input<R>) -> Result<Next, String> {
    let mut request = Request::default();
    let start = input.consumed();
    let over = |input: &Input<R>| input.consumed() - start > MAX_REQUEST as u64;
    let mut attributes = 0;
    input.source().arm();
    loop {
        if over(input) {
            return Err(format!("request over {MAX_REQUEST} bytes"));
        }
        let begun = attributes > 0 || input.consumed() > start || input.pending() > 0;
        let line = match input.read() {
            Err(e) if e.kind() == io::ErrorKind::TimedOut && !begun => return Ok(Next::Idle),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                return Err(format!("request cut short: {}", error_str::of(&e)));
            }
            line => line.map_err(|e| format!("cannot read a request: {}", error_str::of(&e)))?,
        };
        let (body, newline) = match line {
            None if attributes == 0 => return Ok(Next::End),
            None => return Err("request cut short by the end of input".into()),
            Some(Line::Piece { .. }) => return Err(format!("request over {MAX_REQUEST} bytes")),
            Some(Line::Whole { text, newline }) => (text, newline),
        };
        if !newline {
            return Err("request cut short by the end of input".into());
        }
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if body.is_empty() {
            if over(input) {
                return Err(format!("request over {MAX_REQUEST} bytes"));
            }
            return Ok(Next::Request(request));
        }
        attributes += 1;
        if attributes > MAX_ATTRIBUTES {
            return Err(format!("request over {MAX_ATTRIBUTES} attributes"));
        }
        let shown = || text::printable(body, 60);
        if body.contains(&0) {
            return Err(format!("NUL byte in request line {attributes}"));
        }
        let Some(at) = body.iter().position(|&b| b == b'=') else {
            return Err(format!("request line without '=': {:?}", shown()));
        };
        let (name, value) = (&body[..at], &body[at + 1..]);
        if name.is_empty() {
            return Err(format!("request line with an empty name: {:?}", shown()));
        }
        let value = || Some(String::from_utf8_lossy(value).into_owned());
        match name {
            b"request" => request.request = value(),
            b"client_address" => request.client_address = value(),
            b"instance" => request.instance = value(),
            b"recipient" => request.recipient = value(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> Vec<Result<Next, String>> {
        let mut input = input(bytes);
        let mut got = Vec::new();
        loop {
            let one = read(&mut input);
            let done = !matches!(one, Ok(Next::Request(_)));
            got.push(one);
            if done {
                return got;
            }
        }
    }

    #[test]
    fn requests_one_after_another() {
        let got = read_all(
            b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=198.51.100.5\n\
              unknown=x=y\ninstance=1a.2b\nrecipient=b@example.com\n\nrequest=other\r\nclient_address=1\r\n\r\n",
        );
        assert_eq!(
            got,
            [
                Ok(Next::Request(Request {
                    request: Some("smtpd_access_policy".into()),
                    client_address: Some("198.51.100.5".into()),
                    instance: Some("1a.2b".into()),
                    recipient: Some("b@example.com".into()),
                })),
                Ok(Next::Request(Request {
                    request: Some("other".into()),
                    client_address: Some("1".into()),
                    ..Request::default()
                })),
                Ok(Next::End),
            ]
        );
    }

    #[test]
    fn broken_input_is_no_request() {
        for (bytes, why) in [
            (&b"request=x\nno equals sign\n\n"[..], "without '='"),
            (b"=value\n\n", "empty name"),
            (b"request=x\0y\n\n", "NUL byte"),
            (b"request=x\n", "cut short"),
            (b"request=x", "cut short"),
        ] {
            let got = read_all(bytes);
            let error = got.last().unwrap().clone().unwrap_err();
            assert!(error.contains(why), "{bytes:?}: {error}");
        }
    }

    #[test]
    fn bounds() {
        // At the bound, a request; one byte over, none.
        let fill = |total: usize| {
            let head = b"client_address=";
            let mut bytes = head.to_vec();
            bytes.resize(total - 2, b'a');
            bytes.extend(b"\n\n");
            bytes
        };
        assert!(matches!(
            read_all(&fill(MAX_REQUEST))[0],
            Ok(Next::Request(_))
        ));
        let over = read_all(&fill(MAX_REQUEST + 1));
        assert!(over[0].as_ref().unwrap_err().contains("bytes"), "{over:?}");
        // A line with no end at all stops at the bound, not at memory's end.
        let endless = vec![b'a'; 10 * MAX_REQUEST];
        assert!(
            read_all(&endless)[0]
                .as_ref()
                .unwrap_err()
                .contains("bytes")
        );
        let many = |n: usize| [b"a=b\n".repeat(n), b"\n".to_vec()].concat();
        assert!(matches!(
            read_all(&many(MAX_ATTRIBUTES))[0],
            Ok(Next::Request(_))
        ));
        let over = read_all(&many(MAX_ATTRIBUTES + 1));
        assert!(over[0].as_ref().unwrap_err().contains("attributes"));
    }
}
