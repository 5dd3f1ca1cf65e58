//! rmxreport(1): the log of rmxsmtpd and rmxpolicyd turned into the figures
//! that a cut-off date (`-d`) should come from. [`input`] cuts the log into
//! lines, [`line`] reads one, [`tally`] counts it, [`render`] prints the
//! report; [`Counter`] joins them for one run.

pub mod input;
pub mod line;
pub mod render;
pub mod tally;

use std::io::Write;

use line::Clock;
use render::Skipped;
use tally::Tally;

/// Every line of a run goes here: a verdict line to the tally, any other
/// to the skipped count and, under `-u`, to that file as read.
pub struct Counter<W: Write> {
    pub tally: Tally,
    pub skipped: Skipped,
    clock: Clock,
    unread: Option<W>,
    /// The first error writing the `-u` file.
    pub unread_error: Option<std::io::Error>,
}

impl<W: Write> Counter<W> {
    pub fn new(tally: Tally, clock: Clock, unread: Option<W>) -> Counter<W> {
        Counter {
            tally,
            skipped: Skipped::default(),
            clock,
            unread,
            unread_error: None,
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        if let Some(out) = &mut self.unread
            && let Err(e) = out.write_all(bytes)
        {
            self.unread_error.get_or_insert(e);
            self.unread = None;
        }
    }

    /// Flushes the `-u` file.
    pub fn finish(&mut self) {
        if let Some(out) = &mut self.unread
            && let Err(e) = out.flush()
        {
            self.unread_error.get_or_insert(e);
        }
    }
}

impl<W: Write> input::Lines for Counter<W> {
    fn line(&mut self, text: &[u8], newline: bool) {
        if let Some(decision) = line::parse(text, &mut self.clock) {
            self.tally.add(&decision);
            return;
        }
        self.skipped.lines += 1;
        self.keep(text);
        if newline {
            self.keep(b"\n");
        }
    }

    fn long(&mut self, piece: &[u8], last: bool) {
        self.keep(piece);
        if last {
            self.skipped.lines += 1;
            self.skipped.too_long += 1;
        }
    }
}
