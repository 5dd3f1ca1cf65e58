//! The report of rmxreport(1), for people (aligned plain-text tables, each
//! figure with a line saying what it means) and as one JSON object whose
//! names do not change: totals, adoption, what-if, networks, days, skipped.

use std::borrow::Cow;
use std::cmp::{Ordering, Reverse};
use std::fmt::Write;

use super::tally::{ANSWERED, Day, NetworkCounts, PUBLISHED, Tally};
use crate::date::{Date, timestamp};
use crate::log::Action;
use crate::verdict::Outcome;

/// Lines that were not counted, as the reader found them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Every line that is not a whole verdict line (those `-u` writes).
    pub lines: u64,
    /// Of them, lines longer than the reader keeps.
    pub too_long: u64,
    /// Of them, verdict lines stamped before 2000-01-01 or more than a day
    /// after the run.
    pub impossible_time: u64,
}

/// A network and what the report calls it.
struct Named<'a> {
    name: Cow<'a, str>,
    counts: &'a NetworkCounts,
}

/// The figures, sorted and cut to `top`, ready for either form.
pub struct Report<'a> {
    tally: &'a Tally,
    skipped: Skipped,
    top: usize,
    networks: Vec<Named<'a>>,
    /// Of `networks`, by place, those in the what-if.
    whatif: Vec<usize>,
    days: Vec<(Date, Day)>,
}

struct Adoption {
    answered: u64,
    published: u64,
    networks: u64,
    published_networks: u64,
}

impl<'a> Report<'a> {
    pub fn new(tally: &'a Tally, skipped: Skipped, top: usize) -> Report<'a> {
        let names = tally.network_names();
        let mut networks: Vec<Named> = names
            .into_iter()
            .zip(tally.networks())
            .map(|(name, counts)| Named { name, counts })
            .collect();
        biggest_first(&mut networks, top, |a, b| {
            let key = |n: &Named| (Reverse(n.counts.decisions), Reverse(n.counts.addresses));
            (key(a), &a.name).cmp(&(key(b), &b.name))
        });
        let mut whatif: Vec<usize> = (0..networks.len())
            .filter(|&i| networks[i].counts.whatif_decisions > 0)
            .collect();
        biggest_first(&mut whatif, top, |&a, &b| {
            let key = |i: usize| {
                let n = &networks[i];
                let c = n.counts;
                (
                    Reverse(c.whatif_decisions),
                    Reverse(c.whatif_addresses),
                    &n.name,
                )
            };
            key(a).cmp(&key(b))
        });
        let mut days = Vec::new();
        if let (Some(&first), Some(&last)) = (tally.days.keys().min(), tally.days.keys().max()) {
            let mut day = first;
            while day <= last {
                days.push((day, tally.days.get(&day).copied().unwrap_or_default()));
                day = day.next();
            }
        }
        Report {
            tally,
            skipped,
            top,
            networks,
            whatif,
            days,
        }
    }

    fn adoption(&self) -> Adoption {
        let g = &self.tally.grid;
        let count = |outcomes: &[Outcome]| {
            let networks = self.networks.iter();
            networks.filter(|n| n.counts.has(outcomes)).count() as u64
        };
        Adoption {
            answered: g.of(&ANSWERED),
            published: g.of(&PUBLISHED),
            networks: count(&ANSWERED),
            published_networks: count(&PUBLISHED),
        }
    }

    fn decisions(&self) -> u64 {
        self.tally.grid.sum()
    }

    pub fn text(&self) -> String {
        let t = self.tally;
        let mut o = String::new();
        let w = &mut o;
        let _ = writeln!(w, "Totals");
        let _ = writeln!(
            w,
            "{:>10} {:>10}  {:<10} action",
            "decisions", "addresses", "result"
        );
        let mut split = false;
        for o in Outcome::ALL {
            let mut rows = 0;
            for a in Action::ALL {
                let n = t.grid[o][a];
                if n > 0 {
                    let action = match a {
                        Action::Accept => "accept",
                        Action::Refuse => "refuse",
                        Action::WouldRefuse => "would refuse (dry run)",
                    };
                    let _ = writeln!(
                        w,
                        "{n:>10} {:>10}  {:<10} {action}",
                        t.addresses_with(o, a),
                        o.as_str()
                    );
                    rows += 1;
                }
            }
            if rows > 1 {
                let _ = writeln!(
                    w,
                    "{:>10} {:>10}  {:<10} total",
                    t.grid[o].sum(),
                    t.addresses_of(o),
                    o.as_str()
                );
                split = true;
            }
        }
        let _ = writeln!(w, "{:>10} {:>10}  all", self.decisions(), t.address_count());
        let _ = writeln!(
            w,
            "  decisions: verdict lines counted, one per connection (rmxsmtpd) or lookup (rmxpolicyd)"
        );
        let _ = writeln!(
            w,
            "  addresses: distinct client addresses among them (`-` is none)"
        );
        let _ = writeln!(
            w,
            "  refuse: refused for real; would refuse: accepted under -n, refused without it"
        );
        if split {
            let _ = writeln!(
                w,
                "  total: a result's decisions and distinct addresses over all its actions"
            );
        }
        if t.undated > 0 {
            let _ = writeln!(
                w,
                "  left out: {} lines without a timestamp (under -d or -c)",
                t.undated
            );
        }
        if t.out_of_range > 0 {
            let _ = writeln!(
                w,
                "  left out: {} lines outside the days of -d",
                t.out_of_range
            );
        }

        let a = self.adoption();
        let _ = writeln!(w, "\nAdoption");
        let _ = writeln!(
            w,
            "{:>10}  answered decisions (pass, fail, none)",
            a.answered
        );
        let _ = writeln!(
            w,
            "{:>10}  of them from networks that publish a list (pass, fail): {}",
            a.published,
            percent(a.published, a.answered)
        );
        let _ = writeln!(w, "{:>10}  answered networks", a.networks);
        let _ = writeln!(
            w,
            "{:>10}  of them publish a list: {}",
            a.published_networks,
            percent(a.published_networks, a.networks)
        );
        let _ = writeln!(
            w,
            "{:<10} {:>10} {:>10} {:>7} {:>10} {:>10} {:>7}",
            "day", "answered", "published", "share", "networks", "publishing", "share"
        );
        for (day, d) in &self.days {
            let (answered, published, networks) = d.adoption();
            let _ = writeln!(
                w,
                "{:<10} {answered:>10} {published:>10} {:>7} {networks:>10} {:>10} {:>7}",
                day.to_string(),
                percent(published, answered),
                d.published_networks,
                percent(d.published_networks, networks)
            );
        }
        let _ = writeln!(
            w,
            "  share: of the answered decisions (networks) of the day, those with a list"
        );
        if a.answered > 0 && t.grid[Outcome::Pass].sum() == 0 {
            let _ = writeln!(
                w,
                "  note: no pass line at all: the log was probably written under -q, which logs\n  \
                 refusals and errors only; the accepted clients, every pass among them, are\n  \
                 left out, and these shares are not shares of the mail"
            );
        }

        let _ = writeln!(w, "\nWhat if");
        match t.scope.cutoff {
            None => {
                let _ = writeln!(
                    w,
                    "  every none decision, as rmxsmtpd -s would have refused it:"
                );
            }
            Some(day) => {
                let _ = writeln!(
                    w,
                    "  with -c {day}, the none decisions from that day on, as rmxsmtpd -d {day}\n  \
                     would have refused them:"
                );
            }
        }
        let _ = writeln!(w, "{:>10}  decisions refused", t.whatif);
        let _ = writeln!(w, "{:>10}  addresses refused", t.whatif_addresses());
        let _ = writeln!(
            w,
            "{:>10}  networks refused; the owners to contact, biggest first:",
            self.whatif.len()
        );
        let _ = writeln!(w, "{:>10} {:>10}  network", "decisions", "addresses");
        for &i in self.whatif.iter().take(self.top) {
            let Named { name, counts: n } = &self.networks[i];
            let _ = writeln!(
                w,
                "{:>10} {:>10}  {name}",
                n.whatif_decisions, n.whatif_addresses
            );
        }
        more(w, self.whatif.len(), self.top);

        let _ = writeln!(w, "\nNetworks");
        let _ = writeln!(
            w,
            "{:>10}  networks: by the name of their list (pass, fail), else by their block",
            self.networks.len()
        );
        let _ = writeln!(
            w,
            "{:>10} {:>10} {:>8} {:>8} {:>8} {:>9} {:>8}  {:<20} {:<20} network",
            "decisions", "addresses", "pass", "fail", "none", "temperror", "skip", "first", "last"
        );
        for Named { name, counts: n } in self.networks.iter().take(self.top) {
            let o = n.by_outcome;
            let _ = writeln!(
                w,
                "{:>10} {:>10} {:>8} {:>8} {:>8} {:>9} {:>8}  {:<20} {:<20} {}",
                n.decisions,
                n.addresses,
                o[Outcome::Pass],
                o[Outcome::Fail],
                o[Outcome::NoList],
                o[Outcome::TempError],
                o[Outcome::Skip],
                n.first.map_or("-".into(), timestamp),
                n.last.map_or("-".into(), timestamp),
                name
            );
        }
        more(w, self.networks.len(), self.top);

        let _ = writeln!(w, "\nDays (UTC)");
        let _ = writeln!(
            w,
            "{:<10} {:>10} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>12}",
            "day",
            "decisions",
            "pass",
            "fail",
            "none",
            "temperror",
            "skip",
            "refused",
            "would refuse"
        );
        for (day, d) in &self.days {
            let [all, pass, fail, none, temperror, skip, refused, would] = d.row();
            let _ = writeln!(
                w,
                "{:<10} {all:>10} {pass:>8} {fail:>8} {none:>8} {temperror:>9} {skip:>8} {refused:>8} {would:>12}",
                day.to_string(),
            );
        }

        let _ = writeln!(w, "\nSkipped");
        let _ = writeln!(
            w,
            "{:>10}  lines that are not whole verdict lines (-u FILE keeps them)",
            self.skipped.lines
        );
        let _ = writeln!(
            w,
            "{:>10}  of them longer than {} bytes",
            self.skipped.too_long,
            super::input::MAX_READ_LINE
        );
        let _ = writeln!(
            w,
            "{:>10}  of them verdict lines stamped before 2000 or more than a day after now",
            self.skipped.impossible_time
        );
        o
    }

    /// A warning for stderr when `-c` names a day after the last day of
    /// the lines counted: a what-if with nothing in it.
    pub fn cutoff_warning(&self) -> Option<String> {
        let cutoff = self.tally.scope.cutoff?;
        match self.days.last() {
            Some(&(last, _)) if last >= cutoff => None,
            Some(&(last, _)) => Some(format!(
                "warning: -c {cutoff} is after the last day read, {last}: the what-if is empty"
            )),
            None => Some(format!(
                "warning: -c {cutoff}: no line counted carries a day: the what-if is empty"
            )),
        }
    }

    pub fn json(&self) -> String {
        let t = self.tally;
        let mut o = String::new();
        let w = &mut o;
        let _ = write!(
            w,
            "{{\"totals\":{{\"decisions\":{},\"addresses\":{},",
            self.decisions(),
            t.address_count()
        );
        let _ = write!(
            w,
            "\"undated\":{},\"out_of_range\":{},\"results\":{{",
            t.undated, t.out_of_range
        );
        for (i, o) in Outcome::ALL.into_iter().enumerate() {
            let row = t.grid[o];
            let _ = write!(
                w,
                "{}\"{}\":{{\"decisions\":{},\"addresses\":{}",
                comma(i),
                o.as_str(),
                row.sum(),
                t.addresses_of(o)
            );
            for a in Action::ALL {
                let key = match a {
                    Action::Accept => "accept",
                    Action::Refuse => "refuse",
                    Action::WouldRefuse => "would_refuse",
                };
                let _ = write!(
                    w,
                    ",\"{key}\":{{\"decisions\":{},\"addresses\":{}}}",
                    row[a],
                    t.addresses_with(o, a)
                );
            }
            w.push('}');
        }
        let a = self.adoption();
        let _ = write!(
            w,
            "}}}},\"adoption\":{{\"answered\":{},\"published\":{},\"share\":{},\"networks\":{},\"published_networks\":{},\"networks_share\":{},\"days\":[",
            a.answered,
            a.published,
            share(a.published, a.answered),
            a.networks,
            a.published_networks,
            share(a.published_networks, a.networks)
        );
        for (i, (day, d)) in self.days.iter().enumerate() {
            let (answered, published, networks) = d.adoption();
            let _ = write!(
                w,
                "{}{{\"day\":\"{}\",\"answered\":{answered},\"published\":{published},\"share\":{},\"networks\":{networks},\"published_networks\":{},\"networks_share\":{}}}",
                comma(i),
                *day,
                share(published, answered),
                d.published_networks,
                share(d.published_networks, networks)
            );
        }
        let from = t.scope.cutoff.map_or("null".into(), |d| format!("\"{d}\""));
        let _ = write!(
            w,
            "]}},\"whatif\":{{\"from\":{from},\"decisions\":{},\"addresses\":{},\"networks\":{},\"top\":[",
            t.whatif,
            t.whatif_addresses(),
            self.whatif.len()
        );
        for (i, &at) in self.whatif.iter().take(self.top).enumerate() {
            let Named { name, counts: n } = &self.networks[at];
            let _ = write!(
                w,
                "{}{{\"network\":{},\"decisions\":{},\"addresses\":{}}}",
                comma(i),
                string(name),
                n.whatif_decisions,
                n.whatif_addresses
            );
        }
        let _ = write!(
            w,
            "]}},\"networks\":{{\"count\":{},\"top\":[",
            self.networks.len()
        );
        for (i, Named { name, counts: n }) in self.networks.iter().take(self.top).enumerate() {
            let o = n.by_outcome;
            let when =
                |t: Option<i64>| t.map_or("null".into(), |t| format!("\"{}\"", timestamp(t)));
            let _ = write!(
                w,
                "{}{{\"network\":{},\"decisions\":{},\"addresses\":{},\"pass\":{},\"fail\":{},\"none\":{},\"temperror\":{},\"skip\":{},\"first\":{},\"last\":{}}}",
                comma(i),
                string(name),
                n.decisions,
                n.addresses,
                o[Outcome::Pass],
                o[Outcome::Fail],
                o[Outcome::NoList],
                o[Outcome::TempError],
                o[Outcome::Skip],
                when(n.first),
                when(n.last)
            );
        }
        w.push_str("]},\"days\":[");
        for (i, (day, d)) in self.days.iter().enumerate() {
            let [all, pass, fail, none, temperror, skip, refused, would] = d.row();
            let _ = write!(
                w,
                "{}{{\"day\":\"{day}\",\"decisions\":{all},\"pass\":{pass},\"fail\":{fail},\"none\":{none},\"temperror\":{temperror},\"skip\":{skip},\"refuse\":{refused},\"would_refuse\":{would}}}",
                comma(i),
            );
        }
        let _ = writeln!(
            w,
            "],\"skipped\":{{\"lines\":{},\"too_long\":{},\"impossible_time\":{}}}}}",
            self.skipped.lines, self.skipped.too_long, self.skipped.impossible_time
        );
        o
    }
}

/// Puts the first `top` of `items` in their place by `order`, the rest
/// after them in any order: only the top of a list is shown, and sorting a
/// hundred thousand networks to show ten was much of a run's last second.
fn biggest_first<T>(items: &mut [T], top: usize, order: impl Fn(&T, &T) -> Ordering) {
    if top < items.len() {
        items.select_nth_unstable_by(top, &order);
    }
    let shown = top.min(items.len());
    items[..shown].sort_unstable_by(order);
}

fn comma(i: usize) -> &'static str {
    if i == 0 { "" } else { "," }
}

fn more(w: &mut String, len: usize, top: usize) {
    if len > top {
        let _ = writeln!(w, "{:>10}  more (-N COUNT shows more)", len - top);
    }
}

/// A share as a percentage to one place, `-` when there is nothing to
/// divide: `>99.9%` and `<0.1%` where rounding would say all or none.
fn percent(part: u64, whole: u64) -> String {
    match rounded(part, whole, 1_000) {
        None => "-".into(),
        Some(n) if n == 1_000 && part < whole => ">99.9%".into(),
        Some(0) if part > 0 => "<0.1%".into(),
        Some(n) => format!("{}.{}%", n / 10, n % 10),
    }
}

/// A fraction to four places, or `null` when there is nothing to divide:
/// `0.9999` and `0.0001` where rounding would say all or none.
fn share(part: u64, whole: u64) -> String {
    match rounded(part, whole, 10_000) {
        None => "null".into(),
        Some(n) => {
            let n = if part < whole { n.min(9_999) } else { n };
            let n = if part > 0 { n.max(1) } else { n };
            format!("{}.{:04}", n / 10_000, n % 10_000)
        }
    }
}

/// `part / whole` in `scale`ths, rounded half up; `None` for a zero whole.
fn rounded(part: u64, whole: u64, scale: u128) -> Option<u128> {
    let (part, whole) = (u128::from(part), u128::from(whole));
    (whole > 0).then(|| (part * scale * 2 + whole) / (whole * 2))
}

/// A JSON string; names in the log are printable ASCII, but say anything
/// else safely all the same.
fn string(text: &str) -> String {
    let mut o = String::with_capacity(text.len() + 2);
    o.push('"');
    for c in text.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_of_a_list_is_the_top_of_it_sorted() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % 50
        };
        for len in [0, 1, 2, 10, 100, 1000] {
            let items: Vec<u64> = (0..len).map(|_| next()).collect();
            let mut sorted = items.clone();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            for top in [0, 1, 3, 10, len, len + 5] {
                let mut got = items.clone();
                biggest_first(&mut got, top, |a, b| b.cmp(a));
                let shown = top.min(len);
                assert_eq!(got[..shown], sorted[..shown], "{len} {top}");
                got.sort_unstable();
                let mut all = items.clone();
                all.sort_unstable();
                assert_eq!(got, all, "the rest is kept");
            }
        }
    }
}
