//! One request of Postfix's SMTP access policy delegation protocol
//! (SMTPD_POLICY_README), read within its bounds: `name=value` lines ended
//! by an empty line. Memory stays within the bound whatever arrives.

use std::io::Read;

use crate::lines::{Line, Lines};
use crate::{error_str, text};

/// The largest request, in bytes, empty line included.
pub const MAX_REQUEST: usize = 64 * 1024;
/// The most attributes in one request.
pub const MAX_ATTRIBUTES: usize = 1000;

/// A reader of requests, one after another, from Postfix.
pub type Input<R> = Lines<R>;

/// Requests read from `input`, no more than one request's bound ahead.
pub fn input<R: Read>(input: R) -> Input<R> {
    Lines::new(input, MAX_REQUEST, 0)
}

/// The attributes of one request that rmxpolicyd reads; the rest are
/// ignored. A later line overrides an earlier one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub request: Option<String>,
    pub client_address: Option<String>,
    pub instance: Option<String>,
}

/// Reads one request: `Ok(None)` at the end of input before one starts.
/// The error says why the input is no request, and no answer may follow:
/// a request over [`MAX_REQUEST`] bytes or [`MAX_ATTRIBUTES`] attributes, a
/// line without `=`, with an empty name or with a NUL byte, a request cut
/// short by the end of input, or a read error. A line may end in CR LF.
pub fn read<R: Read>(input: &mut Input<R>) -> Result<Option<Request>, String> {
    let mut request = Request::default();
    let start = input.consumed();
    let over = |input: &Input<R>| input.consumed() - start > MAX_REQUEST as u64;
    let mut attributes = 0;
    loop {
        if over(input) {
            return Err(format!("request over {MAX_REQUEST} bytes"));
        }
        let line = input
            .read()
            .map_err(|e| format!("cannot read a request: {}", error_str::of(&e)))?;
        let (body, newline) = match line {
            None if attributes == 0 => return Ok(None),
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
            return Ok(Some(request));
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
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> Vec<Result<Option<Request>, String>> {
        let mut input = input(bytes);
        let mut got = Vec::new();
        loop {
            let one = read(&mut input);
            let done = !matches!(one, Ok(Some(_)));
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
              unknown=x=y\ninstance=1a.2b\n\nrequest=other\r\nclient_address=1\r\n\r\n",
        );
        assert_eq!(
            got,
            [
                Ok(Some(Request {
                    request: Some("smtpd_access_policy".into()),
                    client_address: Some("198.51.100.5".into()),
                    instance: Some("1a.2b".into()),
                })),
                Ok(Some(Request {
                    request: Some("other".into()),
                    client_address: Some("1".into()),
                    instance: None,
                })),
                Ok(None),
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
        assert!(matches!(read_all(&fill(MAX_REQUEST))[0], Ok(Some(_))));
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
        assert!(matches!(read_all(&many(MAX_ATTRIBUTES))[0], Ok(Some(_))));
        let over = read_all(&many(MAX_ATTRIBUTES + 1));
        assert!(over[0].as_ref().unwrap_err().contains("attributes"));
    }
}
