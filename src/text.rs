//! What text may reach the SMTP wire or the log (rmxsmtpd(8), The held
//! session and The log): printable
//! ASCII only, and a bounded length. The rule is byte by byte, whatever the
//! text's encoding: Latin-1 and UTF-8 alike, each byte outside printable
//! ASCII is one `?`.

/// Longest message text, after `%i` is filled in.
pub const MAX_MESSAGE: usize = 200;

/// `text` with every byte outside printable ASCII (0x20..=0x7e) shown as `?`,
/// cut to `max` bytes (each one character of the result).
pub fn printable(text: impl AsRef<[u8]>, max: usize) -> String {
    text.as_ref()
        .iter()
        .take(max)
        .map(|&b| {
            if (b' '..=b'~').contains(&b) {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}

/// A rejection template with `%i` as the client address and `%%` as `%`,
/// made printable and cut to `MAX_MESSAGE`.
pub fn render(template: &[u8], client: &str) -> String {
    let mut out = Vec::with_capacity(template.len() + client.len());
    let mut bytes = template.iter();
    while let Some(&b) = bytes.next() {
        match (b, bytes.clone().next()) {
            (b'%', Some(b'i')) => {
                out.extend_from_slice(client.as_bytes());
                bytes.next();
            }
            (b'%', Some(b'%')) => {
                out.push(b'%');
                bytes.next();
            }
            _ => out.push(b),
        }
    }
    printable(&out, MAX_MESSAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_replaces_and_cuts() {
        assert_eq!(printable("ok text~", 100), "ok text~");
        assert_eq!(printable("a\r\nb\tc\u{7f}d", 100), "a??b?c?d");
        assert_eq!(printable("abcdef", 3), "abc");
    }

    #[test]
    fn every_byte_outside_ascii_is_one_question_mark() {
        // Latin-1 and UTF-8 spellings of "été": one `?` per byte.
        assert_eq!(printable(b"\xe9t\xe9", 100), "?t?");
        assert_eq!(printable("été", 100), "??t??");
        assert_eq!(printable(b"\xff\x00\x80", 100), "???");
        // The cut counts bytes, so the result never passes `max`.
        assert_eq!(printable("ééé", 3), "???");
    }

    #[test]
    fn render_fills_in_the_address() {
        assert_eq!(
            render(b"Your IP [%i] no", "198.51.100.10"),
            "Your IP [198.51.100.10] no"
        );
        assert_eq!(
            render(b"100%% %i%i %x %", "1.2.3.4"),
            "100% 1.2.3.41.2.3.4 %x %"
        );
        assert_eq!(render(b"a\nb", "x"), "a?b");
        assert_eq!(render(b"go away \xe9t\xe9 [%i]", "x"), "go away ?t? [x]");
        let long = render("x".repeat(500).as_bytes(), "");
        assert_eq!(long.len(), MAX_MESSAGE);
        let long = render("%i".repeat(100).as_bytes(), "198.51.100.10");
        assert_eq!(long.len(), MAX_MESSAGE);
        let long = render("é".repeat(500).as_bytes(), "");
        assert_eq!(long, "?".repeat(MAX_MESSAGE));
    }
}
