//! rmxreport(1): the log of rmxsmtpd and rmxpolicyd turned into the figures
//! that a cut-off date (`-d`) should come from. [`input`] cuts the log into
//! lines, [`line`] reads one, [`tally`] counts it, [`render`] prints the
//! report; [`Counter`] joins them for one run, and counts a file in parts
//! at once, one thread each, when there are cores for them.

pub mod input;
pub mod line;
pub mod render;
pub mod tally;

use std::fs::File;
use std::io::{self, Write};
use std::thread;

use line::{Action, Address, Clock, Decision, Verdict};
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
    /// Decisions read and not yet counted, their names in `names`.
    batch: Vec<Pending>,
    names: Vec<u8>,
}

/// How many decisions are counted together: enough for their lookups'
/// cache misses to overlap, few enough to stay in the first-level cache.
const BATCH: usize = tally::WARM;

/// A decision waiting in the batch, its name a range of `Counter::names`.
struct Pending {
    time: Option<i64>,
    client: Option<Address>,
    verdict: Verdict,
    name: Option<(usize, usize)>,
    action: Action,
}

impl<W: Write> Counter<W> {
    pub fn new(tally: Tally, clock: Clock, unread: Option<W>) -> Counter<W> {
        Counter {
            tally,
            skipped: Skipped::default(),
            clock,
            unread,
            unread_error: None,
            batch: Vec::with_capacity(BATCH),
            names: Vec::new(),
        }
    }

    /// Counts the batch: first what its decisions will look up is read,
    /// all at once, then each is counted in order.
    fn count(&mut self) {
        let names = &self.names;
        let decision = |p: &Pending| Decision {
            time: p.time,
            client: p.client,
            verdict: p.verdict,
            name: p.name.map(|(from, to)| &names[from..to]),
            action: p.action,
        };
        self.tally.warm(self.batch.iter().map(decision));
        for p in &self.batch {
            self.tally.add(&decision(p));
        }
        self.batch.clear();
        self.names.clear();
    }

    fn keep(&mut self, bytes: &[u8]) {
        if let Some(out) = &mut self.unread
            && let Err(e) = out.write_all(bytes)
        {
            self.unread_error.get_or_insert(e);
            self.unread = None;
        }
    }

    /// Reads `file` to its end in at most `parts` byte ranges at once (one
    /// when the skipped lines go to a `-u` file, which keeps their order),
    /// each counted apart in its own thread, then merged in order: the same
    /// figures as reading it whole. A range that cannot be read ends the
    /// count there, as reading it whole would have.
    pub fn read_file(&mut self, file: &File, parts: usize) -> io::Result<()> {
        let parts = if self.unread.is_some() { 1 } else { parts };
        let mut ranges = input::ranges(file, parts)?.into_iter();
        let first = ranges.next().expect("one range at least");
        let (scope, clock) = (self.tally.scope, self.clock.clone());
        thread::scope(|s| {
            let workers: Vec<_> = ranges
                .map(|range| {
                    let clock = clock.clone();
                    s.spawn(move || {
                        let mut part = Counter::<io::Sink>::new(Tally::new(scope), clock, None);
                        let read = input::read(range, &mut part);
                        (part, read)
                    })
                })
                .collect();
            input::read(first, self)?;
            for worker in workers {
                let (part, read) = worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                self.tally.merge(part.tally);
                self.skipped.lines += part.skipped.lines;
                self.skipped.too_long += part.skipped.too_long;
                read?;
            }
            Ok(())
        })
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
        if let Some(d) = line::parse(text, &mut self.clock) {
            let name = d.name.map(|name| {
                self.names.extend_from_slice(name);
                (self.names.len() - name.len(), self.names.len())
            });
            self.batch.push(Pending {
                time: d.time,
                client: d.client,
                verdict: d.verdict,
                name,
                action: d.action,
            });
            if self.batch.len() == BATCH {
                self.count();
            }
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

    fn end(&mut self) {
        self.count();
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use proptest::prelude::*;

    use super::*;
    use crate::report::render::Report;
    use crate::report::tally::Scope;

    /// One line from few addresses, networks and days (more than a
    /// network's 64 days of bits), so that parts share most of them.
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

    /// The report, text and JSON, of `log` read as a file in `parts`.
    fn report(log: &[u8], parts: usize, scope: Scope) -> (String, String) {
        static FILES: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "rmxreport-parts.{}.{}",
            std::process::id(),
            FILES.fetch_add(1, Ordering::Relaxed)
        ));
        File::create(&path).unwrap().write_all(log).unwrap();
        let file = File::open(&path).unwrap();
        let mut counter: Counter<Vec<u8>> =
            Counter::new(Tally::new(scope), Clock::new(1_796_083_200), None);
        counter.read_file(&file, parts).unwrap();
        std::fs::remove_file(&path).unwrap();
        let report = Report::new(&counter.tally, counter.skipped, 100);
        (report.text(), report.json())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn a_file_read_in_parts_gives_the_figures_of_one_read(
            lines in proptest::collection::vec(line(), 0..120),
            parts in 2usize..7,
            cutoff in proptest::option::of(20_717i64..20_817),
            v4_len in prop_oneof![Just(24u32), Just(16)],
        ) {
            let log = lines.concat();
            let scope = Scope { cutoff, v4_len, v6_len: 48, ..Scope::default() };
            prop_assert_eq!(report(log.as_bytes(), parts, scope), report(log.as_bytes(), 1, scope));
        }
    }
}
