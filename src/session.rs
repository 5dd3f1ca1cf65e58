//! The held session (rmxsmtpd(8), The held session): the short SMTP dialogue
//! that refuses every recipient, as rblsmtpd does, so that the sender's MTA
//! gets a per-recipient error and its user a bounce that says what to do.
//!
//! [`Dialogue`] is the pure line handling: bytes in, replies out, in bounded
//! memory. [`hold`] is the I/O around it on fds 0 and 1, bounded by `-t`.

use std::io;
use std::time::{Duration, Instant};

use crate::sys::{self, POLLIN, POLLOUT, pollfd};
use crate::verdict::Rejection;

/// Longest command line kept, CRLF included (RFC 5321 §4.5.3.1.6); longer
/// lines are discarded as they arrive and answered with an error.
pub const MAX_COMMAND_LINE: usize = 1000;
/// Replies waiting to be written past this stop the reading of commands, so
/// a client that never reads cannot make the output grow.
pub const MAX_PENDING_OUTPUT: usize = 4096;
/// After the last reply, input is drained for at most this long, so that
/// closing with unread input does not reset the connection before the
/// client has read that reply.
const LINGER: Duration = Duration::from_millis(500);

/// The state of the dialogue between commands.
pub struct Dialogue {
    name: String,
    refusal: String,
    line: Vec<u8>,
    overlong: bool,
    quit: bool,
}

/// The refusal line the client is sent, without CRLF: the reply to every
/// refused command, or under `-t 0` (zero `limit`) the one line in place of
/// the greeting. This alone chooses; the log shows the same line.
pub fn refusal(rejection: &Rejection, limit: Duration) -> String {
    if limit.is_zero() {
        rejection.farewell()
    } else {
        rejection.reply()
    }
}

impl Dialogue {
    /// `name` is the host name in replies (`-h`), already printable;
    /// `refusal` the line for refused commands, from [`refusal`].
    pub fn new(name: &str, refusal: &str) -> Dialogue {
        Dialogue {
            name: name.to_string(),
            refusal: refusal.to_string(),
            line: Vec::with_capacity(MAX_COMMAND_LINE),
            overlong: false,
            quit: false,
        }
    }

    pub fn greeting(&self) -> String {
        format!("220 {}\r\n", self.name)
    }

    /// The line that ends a session that ran out of time (RFC 5321 §3.8).
    pub fn timeout_reply(&self) -> String {
        format!("421 4.4.2 {} timeout, closing connection\r\n", self.name)
    }

    /// Whether QUIT has been answered; no input counts after it.
    pub fn quit(&self) -> bool {
        self.quit
    }

    /// Reads commands from `input` and appends their replies to `out`, one
    /// per complete line, in order. Stops early once `out` holds
    /// `MAX_PENDING_OUTPUT` bytes or QUIT is answered; returns how many bytes
    /// of `input` it consumed.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> usize {
        for (used, &byte) in input.iter().enumerate() {
            if self.quit || out.len() >= MAX_PENDING_OUTPUT {
                return used;
            }
            if byte != b'\n' {
                // Keep room for the LF: content plus CR is at most 999 bytes.
                if self.line.len() < MAX_COMMAND_LINE - 1 {
                    self.line.push(byte);
                } else {
                    self.overlong = true;
                }
                continue;
            }
            if self.overlong {
                out.extend_from_slice(
                    format!("500 5.5.2 {} line too long\r\n", self.name).as_bytes(),
                );
            } else {
                self.answer(out);
            }
            self.line.clear();
            self.overlong = false;
        }
        input.len()
    }

    fn answer(&mut self, out: &mut Vec<u8>) {
        let line = self.line.strip_suffix(b"\r").unwrap_or(&self.line);
        let verb = line.split(|&b| b == b' ').next().unwrap_or_default();
        let reply = match verb.to_ascii_uppercase().as_slice() {
            b"HELO" | b"EHLO" | b"MAIL" | b"RSET" | b"NOOP" => format!("250 {}", self.name),
            b"QUIT" => {
                self.quit = true;
                format!("221 {}", self.name)
            }
            _ => self.refusal.clone(),
        };
        out.extend_from_slice(reply.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// Speaks the dialogue on fd 0 (commands) and fd 1 (replies) as `name`,
/// refusing with `refusal` (from [`refusal`]), until QUIT, end of input, an
/// error, or `limit` from now. Zero `limit` (`-t 0`): `refusal` alone, in
/// place of the greeting.
pub fn hold(name: &str, refusal: &str, limit: Duration) -> io::Result<()> {
    // A client that hangs up must give EPIPE, not kill the process: the
    // held session is rmxsmtpd's own, and nothing is exec'd after it.
    sys::ignore_sigpipe();
    let deadline = Instant::now() + limit;
    sys::set_nonblocking(0)?;
    sys::set_nonblocking(1)?;
    if limit.is_zero() {
        let line = format!("{refusal}\r\n");
        write_until(line.as_bytes(), Instant::now() + LINGER)?;
        return finish();
    }
    let mut dialogue = Dialogue::new(name, refusal);
    let mut out = dialogue.greeting().into_bytes();
    let mut input = [0u8; 4096];
    let (mut start, mut end) = (0, 0);
    let mut eof = false;
    loop {
        start += dialogue.feed(&input[start..end], &mut out);
        if start == end {
            (start, end) = (0, 0);
        }
        let done = dialogue.quit() || (eof && start == end);
        if done && out.is_empty() {
            return finish();
        }
        let now = Instant::now();
        if now >= deadline {
            let mut last = out;
            last.extend_from_slice(dialogue.timeout_reply().as_bytes());
            // Best effort: a client that does not read loses the line.
            let _ = write_until(&last, now);
            return finish();
        }
        let want_input = !done && end < input.len() && out.len() < MAX_PENDING_OUTPUT;
        let mut fds = [
            pollfd(0, if want_input { POLLIN } else { 0 }),
            pollfd(1, if out.is_empty() { 0 } else { POLLOUT }),
        ];
        sys::poll(&mut fds, deadline - now)?;
        if fds[1].revents != 0 {
            match sys::write(1, &out) {
                Ok(n) => drop(out.drain(..n)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        if want_input && fds[0].revents != 0 {
            match sys::read(0, &mut input[end..]) {
                Ok(0) => eof = true,
                Ok(n) => end += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Ends the conversation politely: FIN after the last reply, then a short
/// drain of whatever the client still sends (see `LINGER`).
fn finish() -> io::Result<()> {
    sys::shutdown_write(1);
    let until = Instant::now() + LINGER;
    let mut scratch = [0u8; 4096];
    loop {
        let now = Instant::now();
        if now >= until {
            return Ok(());
        }
        let mut fds = [pollfd(0, POLLIN)];
        sys::poll(&mut fds, until - now)?;
        match sys::read(0, &mut scratch) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return Ok(()),
        }
    }
}

/// Writes all of `bytes` to fd 1 unless `until` passes first.
fn write_until(mut bytes: &[u8], until: Instant) -> io::Result<()> {
    while !bytes.is_empty() {
        match sys::write(1, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let now = Instant::now();
                if now >= until {
                    return Err(e);
                }
                let mut fds = [pollfd(1, POLLOUT)];
                sys::poll(&mut fds, until - now)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejection(permanent: bool) -> Rejection {
        Rejection {
            permanent,
            detail: "7.1",
            text: "not listed".into(),
        }
    }

    fn dialogue() -> Dialogue {
        Dialogue::new(
            "mx.test",
            &refusal(&rejection(false), Duration::from_secs(60)),
        )
    }

    #[test]
    fn the_refusal_line_follows_the_limit() {
        let minute = Duration::from_secs(60);
        assert_eq!(refusal(&rejection(false), minute), "451 4.7.1 not listed");
        assert_eq!(
            refusal(&rejection(false), Duration::ZERO),
            "421 4.7.1 not listed"
        );
        assert_eq!(refusal(&rejection(true), minute), "554 5.7.1 not listed");
        assert_eq!(
            refusal(&rejection(true), Duration::ZERO),
            "554 5.7.1 not listed"
        );
    }

    fn talk(input: &[u8]) -> String {
        let mut d = dialogue();
        let mut out = Vec::new();
        let mut rest = input;
        while !rest.is_empty() && !d.quit() {
            let used = d.feed(rest, &mut out);
            rest = &rest[used..];
            if out.len() >= MAX_PENDING_OUTPUT {
                out.clear(); // as if written
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_dialogue() {
        let got = talk(b"HELO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nrset\r\nNoOp\r\nehlo x\r\nQUIT\r\n");
        assert_eq!(
            got,
            "250 mx.test\r\n250 mx.test\r\n451 4.7.1 not listed\r\n451 4.7.1 not listed\r\n\
             250 mx.test\r\n250 mx.test\r\n250 mx.test\r\n221 mx.test\r\n"
        );
    }

    #[test]
    fn bare_lf_and_split_input() {
        let mut d = dialogue();
        let mut out = Vec::new();
        for chunk in [&b"HE"[..], b"LO a\nRC", b"PT TO:<x>\r", b"\n"] {
            assert_eq!(d.feed(chunk, &mut out), chunk.len());
        }
        assert_eq!(out, b"250 mx.test\r\n451 4.7.1 not listed\r\n");
    }

    #[test]
    fn nothing_after_quit() {
        let mut d = dialogue();
        let mut out = Vec::new();
        let input = b"QUIT\r\nHELO a\r\n";
        assert_eq!(d.feed(input, &mut out), 6);
        assert_eq!(out, b"221 mx.test\r\n");
    }

    #[test]
    fn line_length_limit() {
        let ok = [vec![b'N'; 998], b"\r\n".to_vec()].concat();
        assert_eq!(talk(&ok), "451 4.7.1 not listed\r\n");
        let ok = [vec![b'N'; 999], b"\n".to_vec()].concat();
        assert_eq!(talk(&ok), "451 4.7.1 not listed\r\n");
        let long = [vec![b'N'; 999], b"\r\nNOOP\r\n".to_vec()].concat();
        assert_eq!(
            talk(&long),
            "500 5.5.2 mx.test line too long\r\n250 mx.test\r\n"
        );
        let huge = [vec![b'x'; 1 << 20], b"\nQUIT\n".to_vec()].concat();
        assert_eq!(
            talk(&huge),
            "500 5.5.2 mx.test line too long\r\n221 mx.test\r\n"
        );
    }

    #[test]
    fn output_bound_stops_reading() {
        let mut d = dialogue();
        let mut out = Vec::new();
        let input = b"RCPT TO:<x>\r\n".repeat(1000);
        let used = d.feed(&input, &mut out);
        assert!(used < input.len());
        assert!(out.len() >= MAX_PENDING_OUTPUT);
        assert!(out.len() < MAX_PENDING_OUTPUT + 100);
        assert_eq!(used % 13, 0, "stops after a whole line");
    }

    #[test]
    fn binary_input_is_harmless() {
        let junk: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let got = talk(&junk);
        assert!(
            got.lines()
                .all(|l| l.starts_with("451 ") || l.starts_with("500 "))
        );
        assert_eq!(
            got.lines().count(),
            junk.iter().filter(|&&b| b == b'\n').count()
        );
    }
}
