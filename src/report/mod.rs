//! rmxreport(1): the log of rmxsmtpd and rmxpolicyd turned into the figures
//! that a cut-off date (`-d`) should come from. [`input`] cuts the log into
//! lines, [`line`] reads one, [`tally`] counts it, [`render`] prints the
//! report; [`Counter`] joins them for one run, and can count in a second
//! thread what it reads in the first.

pub mod input;
pub mod line;
pub mod render;
pub mod tally;

use std::io::{self, Read, Write};
use std::mem;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread;

use line::{Address, Clock, Logged};
use render::Skipped;
use tally::Tally;

use crate::lines::Line;
use crate::log::Action;
use crate::verdict::Outcome;

/// Every line of a run goes here: a verdict line to the tally, any other
/// to the skipped count and, under `-u`, to that file as read.
pub struct Counter<W: Write> {
    pub tally: Tally,
    pub skipped: Skipped,
    clock: Clock,
    /// Where the skipped lines go, under `-u`.
    pub unread: Option<W>,
    /// The first error writing the `-u` file.
    pub unread_error: Option<std::io::Error>,
    /// The last line written to the `-u` file ended its input without a
    /// newline: the next line kept starts with one.
    unended: bool,
    /// Decisions read and not yet counted.
    batch: Batch,
    /// Where a full batch goes while [`Counter::read_piped`] runs.
    pipe: Option<Pipe>,
}

/// Decisions read and not yet counted, their names in `names`.
#[derive(Default)]
struct Batch {
    pending: Vec<Pending>,
    names: Vec<u8>,
}

/// How many decisions go in a batch: enough to pass few batches between
/// threads, few enough to stay in the second-level cache.
const BATCH: usize = 1024;

/// The bytes of names a batch holds before it is full: long names (a line
/// can be 16 KiB) do not make big batches.
const BATCH_NAMES: usize = 64 * 1024;

/// A decision waiting in a batch, its name a range of `Batch::names`.
struct Pending {
    time: Option<i64>,
    client: Option<Address>,
    outcome: Outcome,
    name: Option<(usize, usize)>,
    action: Action,
}

/// Full batches to the counting thread, and empty ones back to be reused.
struct Pipe {
    full: SyncSender<Batch>,
    empty: Receiver<Batch>,
}

impl Batch {
    fn push(&mut self, d: &Logged) {
        let name = d.name.map(|name| {
            self.names.extend_from_slice(name);
            (self.names.len() - name.len(), self.names.len())
        });
        self.pending.push(Pending {
            time: d.time,
            client: d.client,
            outcome: d.outcome,
            name,
            action: d.action,
        });
    }

    /// Counts the batch and empties it: a few decisions at a time, what
    /// they will look up read first, all at once, then each counted in
    /// order.
    fn count(&mut self, tally: &mut Tally) {
        let names = &self.names;
        let decision = |p: &Pending| Logged {
            time: p.time,
            client: p.client,
            outcome: p.outcome,
            name: p.name.map(|(from, to)| &names[from..to]),
            action: p.action,
        };
        for few in self.pending.chunks(tally::WARM) {
            tally.warm(few.iter().map(decision));
            for p in few {
                tally.add(&decision(p));
            }
        }
        self.pending.clear();
        self.names.clear();
    }
}

impl<W: Write> Counter<W> {
    pub fn new(tally: Tally, clock: Clock, unread: Option<W>) -> Counter<W> {
        Counter {
            tally,
            skipped: Skipped::default(),
            clock,
            unread,
            unread_error: None,
            unended: false,
            batch: Batch::default(),
            pipe: None,
        }
    }

    /// Counts the batch here, or hands it to the counting thread.
    fn flush(&mut self) {
        match &self.pipe {
            None => self.batch.count(&mut self.tally),
            Some(pipe) => {
                let empty = pipe.empty.try_recv().unwrap_or_default();
                // An error: the counting thread is gone, and its panic is
                // what `read_piped` passes on.
                let _ = pipe.full.send(mem::replace(&mut self.batch, empty));
            }
        }
    }

    /// Reads `input` to its end as [`input::read`] does, the lines cut and
    /// read in this thread and counted in another, in order: two cores at
    /// work, the same figures, and a few batches more of memory.
    pub fn read_piped(&mut self, input: impl Read) -> io::Result<()> {
        let (full, full_out) = mpsc::sync_channel::<Batch>(4);
        let (empty_in, empty) = mpsc::channel();
        let scope = self.tally.scope;
        let mut tally = mem::replace(&mut self.tally, Tally::new(scope));
        thread::scope(|s| {
            let counting = s.spawn(move || {
                for mut batch in full_out {
                    batch.count(&mut tally);
                    let _ = empty_in.send(batch);
                }
                tally
            });
            self.pipe = Some(Pipe { full, empty });
            let read = input::read(input, self);
            // The counting thread ends with the pipe.
            self.pipe = None;
            self.tally = counting
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            read
        })
    }

    fn keep(&mut self, bytes: &[u8]) {
        if let Some(out) = &mut self.unread
            && let Err(e) = out.write_all(bytes)
        {
            self.unread_error.get_or_insert(e);
            self.unread = None;
        }
    }

    /// The first bytes of a skipped line to the `-u` file: after a file's
    /// last line that had no newline, a newline first, so that the two
    /// lines stay apart there as they were in the log.
    fn keep_start(&mut self, bytes: &[u8]) {
        if mem::take(&mut self.unended) {
            self.keep(b"\n");
        }
        self.keep(bytes);
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

impl<W: Write> Counter<W> {
    /// One line, or piece of a long one, as read.
    fn take(&mut self, line: Line) {
        match line {
            Line::Whole { text, newline } => {
                match line::parse(text, &mut self.clock) {
                    Some(d) if d.time.is_none_or(|t| self.clock.possible(t)) => {
                        self.batch.push(&d);
                        if self.batch.pending.len() == BATCH
                            || self.batch.names.len() >= BATCH_NAMES
                        {
                            self.flush();
                        }
                        return;
                    }
                    Some(_) => self.skipped.impossible_time += 1,
                    None => {}
                }
                self.skipped.lines += 1;
                self.keep_start(text);
                if newline {
                    self.keep(b"\n");
                } else {
                    self.unended = true;
                }
            }
            Line::Piece { bytes, last } => {
                // Only a line's end sets `unended`: a newline comes before
                // its first piece alone.
                self.keep_start(bytes);
                if last {
                    self.skipped.lines += 1;
                    self.skipped.too_long += 1;
                    self.unended = !bytes.ends_with(b"\n");
                }
            }
        }
    }

    /// The end of an input, or of what could be read of it.
    fn end(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::date::Date;
    use crate::report::render::Report;
    use crate::report::tally::Scope;

    /// One line from few addresses, networks and days (more than a
    /// network's 64 days of bits), or junk.
    fn line() -> impl Strategy<Value = String> {
        let address = prop_oneof![
            (0u8..6).prop_map(|h| format!("192.0.2.{h}")),
            (0u8..3).prop_map(|h| format!("198.51.{h}.9")),
            (0u8..3).prop_map(|h| format!("2001:db8:{h}::1")),
            Just("-".to_string()),
        ];
        let result = prop_oneof![
            Just("pass"),
            Just("fail"),
            Just("none"),
            Just("temperror"),
            Just("skip")
        ];
        let name = prop_oneof![Just("-"), Just("a.example"), Just("b.example")];
        let action = prop_oneof![
            Just("accept"),
            Just("reject: 451 4.7.1 no"),
            Just("dry-run accept, would reject: 451 4.7.1 no")
        ];
        let time = prop_oneof![
            (0i64..100).prop_map(|day| {
                let t = 1_790_000_000 + day * 86_400;
                format!("@{:016x}00000000 ", (1u64 << 62) + 10 + t as u64)
            }),
            Just(String::new()),
        ];
        prop_oneof![
            9 => (time, address, result, name, action).prop_map(|(t, a, r, n, x)| {
                format!("{t}rmxsmtpd: pid 7: {a} {r} {n} {x}\n")
            }),
            1 => Just("junk\n".to_string()),
        ]
    }

    /// The report, text and JSON, of `log`, counted in a second thread or
    /// not, with the lines `-u` writes.
    fn report(log: &[u8], piped: bool, scope: Scope) -> (String, String, Vec<u8>) {
        // The run after the last line's day.
        let now = 1_790_000_000 + 100 * 86_400;
        let mut counter = Counter::new(Tally::new(scope), Clock::new(now), Some(Vec::new()));
        if piped {
            counter.read_piped(log).unwrap();
        } else {
            input::read(log, &mut counter).unwrap();
        }
        let report = Report::new(&counter.tally, counter.skipped, 100);
        (report.text(), report.json(), counter.unread.unwrap())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn lines_counted_in_a_second_thread_give_the_same_figures(
            lines in proptest::collection::vec(line(), 0..3000),
            cutoff in proptest::option::of(20_717i64..20_817),
            v4_len in prop_oneof![Just(24u8), Just(16)],
        ) {
            let log = lines.concat();
            let cutoff = cutoff.map(Date::from_days);
            let scope = Scope { cutoff, v4_len, ..Scope::default() };
            prop_assert_eq!(report(log.as_bytes(), true, scope), report(log.as_bytes(), false, scope));
        }
    }
}
