//! What text may reach the SMTP wire or the log (DESIGN.md §5): printable
//! ASCII only, and a bounded length.

/// Longest message text, after `%i` is filled in.
pub const MAX_MESSAGE: usize = 200;

/// `text` with every byte outside printable ASCII (0x20..=0x7e) shown as `?`,
/// cut to `max` characters.
pub fn printable(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect()
}

/// A rejection template with `%i` as the client address and `%%` as `%`,
/// made printable and cut to `MAX_MESSAGE`.
pub fn render(template: &str, client: &str) -> String {
    let mut out = String::with_capacity(template.len() + client.len());
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('%', Some('i')) => {
                out.push_str(client);
                chars.next();
            }
            ('%', Some('%')) => {
                out.push('%');
                chars.next();
            }
            _ => out.push(c),
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
        assert_eq!(printable("a\r\nb\tc\u{7f}d\u{e9}", 100), "a??b?c?d?");
        assert_eq!(printable("abcdef", 3), "abc");
    }

    #[test]
    fn render_fills_in_the_address() {
        assert_eq!(
            render("Your IP [%i] no", "198.51.100.10"),
            "Your IP [198.51.100.10] no"
        );
        assert_eq!(
            render("100%% %i%i %x %", "1.2.3.4"),
            "100% 1.2.3.41.2.3.4 %x %"
        );
        assert_eq!(render("a\nb", "x"), "a?b");
        let long = render(&"x".repeat(500), "");
        assert_eq!(long.len(), MAX_MESSAGE);
        let long = render(&"%i".repeat(100), "198.51.100.10");
        assert_eq!(long.len(), MAX_MESSAGE);
    }
}
