//! Fuzz target `session`: the held session's line handling fed any byte
//! stream, cut into chunks of any size, with the replies written out
//! whenever the dialogue stops reading, as `session::hold` does.
//!
//! Input: one shape byte (bit 7: a permanent refusal; bits 0-6 seed the
//! chunk sizes), then the client's bytes. Checked: the replies are exactly
//! those of a model that keeps whole lines and answers each from the
//! manual's table of verbs (tests/support/session_model.rs, shared with the
//! property test), one per complete line up to and including QUIT and
//! nothing after it; pending output never passes
//! `MAX_PENDING_OUTPUT` by more than one reply; the dialogue stops reading
//! only when that output is full or QUIT was answered; every reply is
//! printable ASCII ending in CRLF.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rmxsmtpd::session::{Dialogue, MAX_PENDING_OUTPUT};
use rmxsmtpd::verdict::Rejection;
use session_model::{Answer, answer, reply};

#[path = "../../tests/support/session_model.rs"]
mod session_model;

const NAME: &str = "mx.fuzz";

fuzz_target!(|data: &[u8]| {
    let Some((&shape, stream)) = data.split_first() else {
        return;
    };
    let rejection = Rejection {
        permanent: shape & 0x80 != 0,
        detail: "7.1",
        text: "Your IP [198.51.100.10] is not listed in Reverse MX!".into(),
    };
    let refusal = rejection.reply();
    let mut dialogue = Dialogue::new(NAME, &refusal);
    let mut model = Model::new(&refusal);
    let mut sizes = Sizes(u32::from(shape & 0x7f) | 1);
    let (mut out, mut written) = (Vec::new(), Vec::new());
    let mut rest = stream;
    while !rest.is_empty() && !dialogue.quit() {
        let chunk = &rest[..sizes.next().min(rest.len())];
        let used = dialogue.feed(chunk, &mut out);
        assert!(used <= chunk.len());
        model.feed(&chunk[..used]);
        assert!(
            out.len() < MAX_PENDING_OUTPUT + model.longest,
            "pending output {} past the bound",
            out.len()
        );
        if used < chunk.len() {
            assert!(dialogue.quit() || out.len() >= MAX_PENDING_OUTPUT);
            // The client read everything: the writer empties the buffer.
            written.append(&mut out);
        }
        rest = &rest[used..];
    }
    written.append(&mut out);
    assert_eq!(dialogue.quit(), model.quit);
    if dialogue.quit() {
        let mut after = Vec::new();
        assert_eq!(
            dialogue.feed(rest, &mut after),
            0,
            "nothing read after QUIT"
        );
        assert!(after.is_empty());
    }
    assert_eq!(
        written, model.replies,
        "the replies differ from the model's"
    );
    assert!(written.split_inclusive(|&b| b == b'\n').all(|line| {
        line.ends_with(b"\r\n")
            && line[..line.len() - 2]
                .iter()
                .all(|b| (b' '..=b'~').contains(b))
    }));
});

/// The dialogue as the manual states it, keeping whole lines however long.
struct Model {
    refusal: String,
    line: Vec<u8>,
    replies: Vec<u8>,
    longest: usize,
    quit: bool,
}

impl Model {
    fn new(refusal: &str) -> Model {
        let longest = [Answer::Fine, Answer::Bye, Answer::Refusal, Answer::TooLong]
            .into_iter()
            .map(|a| reply(a, NAME, refusal).len())
            .max()
            .unwrap_or(0);
        Model {
            refusal: refusal.to_string(),
            line: Vec::new(),
            replies: Vec::new(),
            longest,
            quit: false,
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            assert!(!self.quit, "the dialogue read past QUIT");
            if byte != b'\n' {
                self.line.push(byte);
                continue;
            }
            let answer = answer(&self.line);
            self.quit = answer == Answer::Bye;
            let line = reply(answer, NAME, &self.refusal);
            self.replies.extend_from_slice(line.as_bytes());
            self.line.clear();
        }
    }
}

/// Chunk sizes from 1 to 1500, from a small linear congruential sequence.
struct Sizes(u32);

impl Sizes {
    fn next(&mut self) -> usize {
        self.0 = self.0.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        1 + (self.0 >> 16) as usize % 1500
    }
}
