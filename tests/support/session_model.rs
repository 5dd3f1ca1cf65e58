//! The held session as rmxsmtpd(8) states it, for the property test
//! (tests/properties.rs) and the fuzz target `session`, which both include
//! this file: a table of verbs and their replies, and what a line and its
//! verb are (a command is a verb, then SP and its arguments: RFC 5321
//! §4.1.1). It is written from that statement, not from the code of
//! `Dialogue`, so that the two can disagree.
//!
//! - A line ends at LF; a CR just before the LF belongs to the ending, so
//!   CRLF and bare LF end lines alike.
//! - A line of more than 1000 octets, its ending included (RFC 5321
//!   §4.5.3.1.6), is answered `500 5.5.2 NAME line too long`, whatever it
//!   holds.
//! - The verb is the line up to its first space, or the whole line when it
//!   has none. Case does not matter. Every other byte belongs to the verb: a
//!   tab, a NUL, a second CR, a leading space make a verb that is not in the
//!   table, and so does a longer word (`QUITX`). Spaces after the verb do
//!   not matter.
//! - A verb in the table gets its reply; every other line the refusal.
//!   Nothing is read after QUIT.

/// The longest line, its ending included.
pub const LONGEST_LINE: usize = 1000;

/// What a line is answered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `250 NAME`
    Fine,
    /// `221 NAME`, then the session ends.
    Bye,
    /// The refusal line (`451 4.7.1 ...`, or `554 5.7.1 ...`).
    Refusal,
    /// `500 5.5.2 NAME line too long`
    TooLong,
}

/// The verbs the session knows, with their answers; every other verb is
/// refused.
pub const VERBS: [(&str, Answer); 6] = [
    ("HELO", Answer::Fine),
    ("EHLO", Answer::Fine),
    ("MAIL", Answer::Fine),
    ("RSET", Answer::Fine),
    ("NOOP", Answer::Fine),
    ("QUIT", Answer::Bye),
];

/// The answer to one complete line, given without its LF.
pub fn answer(line: &[u8]) -> Answer {
    if line.len() + 1 > LONGEST_LINE {
        return Answer::TooLong;
    }
    let command = line.strip_suffix(b"\r").unwrap_or(line);
    // The line is the verb alone, or the verb and a space.
    let says = |verb: &str| {
        command.len() >= verb.len()
            && command[..verb.len()].eq_ignore_ascii_case(verb.as_bytes())
            && matches!(command.get(verb.len()), None | Some(b' '))
    };
    VERBS
        .iter()
        .find(|(verb, _)| says(verb))
        .map_or(Answer::Refusal, |&(_, answer)| answer)
}

/// The reply line for `answer`, CRLF included, in a session named `name`
/// that refuses with `refusal` (without its CRLF).
pub fn reply(answer: Answer, name: &str, refusal: &str) -> String {
    match answer {
        Answer::Fine => format!("250 {name}\r\n"),
        Answer::Bye => format!("221 {name}\r\n"),
        Answer::Refusal => format!("{refusal}\r\n"),
        Answer::TooLong => format!("500 5.5.2 {name} line too long\r\n"),
    }
}
