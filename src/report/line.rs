//! One log line read as rmxreport(1) reads it: the timestamp, whatever its
//! form (TAI64N, svlogd's ISO form, syslog RFC 3164 and RFC 5424 as rsyslog
//! and busybox syslogd write them, journalctl `short-iso`, none), then a
//! whole verdict line as rmxsmtpd(8) writes it: `PROGRAM: pid PID: ADDRESS
//! RESULT NAME ACTION[ (WHY)][; NOTE]...`, in the words the writer in `log`
//! uses, and no second `PROGRAM: pid PID: ` inside it. It works on bytes and
//! allocates nothing.

use std::net::Ipv6Addr;

use crate::date::{civil_from_days, days_from_civil, days_in_month};
use crate::log::{Action, words};
use crate::sys;
use crate::verdict::Outcome;

/// The programs whose lines are verdict lines.
const PROGRAMS: [&str; 2] = [crate::argv::PROGRAM.name, crate::policyd::PROGRAM.name];

/// A client address as one number: IPv4 as its IPv4-mapped IPv6 form, which
/// rmxsmtpd logs as IPv4 anyway.
pub type Address = u128;

const MAPPED: u128 = 0xffff << 32;

pub fn is_v4(address: Address) -> bool {
    address >> 32 == 0xffff
}

/// One counted line: a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Logged<'a> {
    /// Seconds since 1970-01-01 UTC, when the line carries a timestamp.
    pub time: Option<i64>,
    /// `None` for `-`.
    pub client: Option<Address>,
    pub outcome: Outcome,
    /// The list that decided; `None` for `-`.
    pub name: Option<&'a [u8]>,
    pub action: Action,
}

/// What reading timestamps needs to know of the world: the time now, for
/// the year a syslog RFC 3164 line leaves out, and the local time zone.
pub struct Clock {
    now: i64,
    /// The last local hour converted: (year, month, day, hour) and its start
    /// in UTC seconds.
    hour: Option<((i64, u32, u32, u32), i64)>,
    /// The last RFC 3164 (month, day, hour) whose year was inferred, and the
    /// start of that hour in UTC seconds.
    inferred: Option<((u32, u32, u32), i64)>,
}

/// How far in the future a line may seem to be (clock skew between hosts):
/// a syslog line without a year is put in the year before past it, and a
/// line stamped later has an impossible time.
const FUTURE_SLACK: i64 = 86_400;

/// The earliest possible time of a line: 2000-01-01T00:00:00Z, before
/// rmxsmtpd was written. An earlier stamp is a broken clock or junk.
const EARLIEST: i64 = 946_684_800;

impl Clock {
    pub fn new(now: i64) -> Clock {
        Clock {
            now,
            hour: None,
            inferred: None,
        }
    }

    /// The system clock's time.
    pub fn now() -> Clock {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Clock::new(now)
    }

    /// Whether a line stamped `time` can have been written by now: from
    /// 2000-01-01 to a day after now. Any other time is impossible.
    pub fn possible(&self, time: i64) -> bool {
        (EARLIEST..=self.now.saturating_add(FUTURE_SLACK)).contains(&time)
    }

    /// The UTC start of local hour `hour` of a day, by the zone of `TZ`.
    fn local_hour(&mut self, key: (i64, u32, u32, u32)) -> i64 {
        if let Some((k, t)) = self.hour
            && k == key
        {
            return t;
        }
        let (year, month, day, hour) = key;
        let t = sys::local_time(year, month, day, hour);
        self.hour = Some((key, t));
        t
    }

    /// The UTC start of an RFC 3164 hour: the latest year that does not put
    /// it in the future (February 29 looks back to a leap year).
    fn syslog_hour(&mut self, month: u32, day: u32, hour: u32) -> Option<i64> {
        if let Some((k, t)) = self.inferred
            && k == (month, day, hour)
        {
            return Some(t);
        }
        let this_year = civil_from_days(self.now.div_euclid(86_400)).0;
        for year in (this_year - 8..=this_year + 1).rev() {
            if day > days_in_month(year, month) {
                continue;
            }
            let t = self.local_hour((year, month, day, hour));
            if t <= self.now + FUTURE_SLACK {
                self.inferred = Some(((month, day, hour), t));
                return Some(t);
            }
        }
        None
    }
}

/// Reads one line (without its newline). `None`: not a whole verdict line.
pub fn parse<'a>(line: &'a [u8], clock: &mut Clock) -> Option<Logged<'a>> {
    // No control characters anywhere (a NUL, a cut and glued line).
    if !line
        .iter()
        .fold(true, |ok, &b| ok & (b >= 0x20) & (b != 0x7f))
    {
        return None;
    }
    let first = *line.first()?;
    if first == b'@' {
        let (time, rest) = tai64n(line)?;
        return program_line(rest).map(|d| Logged {
            time: Some(time),
            ..d
        });
    }
    if first == b'<' {
        return syslog_with_priority(line, clock);
    }
    if first.is_ascii_digit() {
        // svlogd's `YYYY-MM-DD_HH:MM:SS.xxxxx `, or journalctl's short-iso
        // with a host and a tag after it.
        let (time, rest) = iso(line)?;
        let rest = rest.strip_prefix(b" ")?;
        let decision = program_line(rest).or_else(|| tagged(rest))?;
        return Some(Logged {
            time: Some(time),
            ..decision
        });
    }
    if first.is_ascii_uppercase()
        && let Some((time, rest)) = rfc3164(line, clock)
    {
        let decision = tagged(rest)?;
        return Some(Logged {
            time: Some(time),
            ..decision
        });
    }
    program_line(line)
}

/// `@` and 24 hex digits (TAI64N), and a space.
fn tai64n(line: &[u8]) -> Option<(i64, &[u8])> {
    if line.len() < 26 || line[25] != b' ' {
        return None;
    }
    let mut label: u64 = 0;
    for (i, &b) in line[1..25].iter().enumerate() {
        let digit = (b as char).to_digit(16)? as u64;
        if i < 16 {
            label = label << 4 | digit;
        }
    }
    // TAI64 labels count from 2^62, and run 10 s ahead of UTC as
    // daemontools and runit write them (leap seconds left out). A label far
    // off either way is kept as a time, one that [`Clock::possible`] refuses.
    let secs = i128::from(label) - ((1 << 62) + 10);
    let secs = secs.clamp(i64::MIN.into(), i64::MAX.into()) as i64;
    Some((secs, &line[26..]))
}

fn digits(bytes: &[u8], at: usize, len: usize) -> Option<u32> {
    let part = bytes.get(at..at + len)?;
    let mut n = 0;
    for &b in part {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (b - b'0') as u32;
    }
    Some(n)
}

/// `YYYY-MM-DD` then `T` or `_`, then `HH:MM:SS[.frac][Z|±HH[:]MM]`: the
/// seconds in UTC (no zone: UTC, as svlogd writes) and what follows.
fn iso(line: &[u8]) -> Option<(i64, &[u8])> {
    if line.len() < 19 || line[4] != b'-' || line[7] != b'-' || line[13] != b':' || line[16] != b':'
    {
        return None;
    }
    if !matches!(line[10], b'T' | b'_') {
        return None;
    }
    let year = digits(line, 0, 4)? as i64;
    let (month, day) = (digits(line, 5, 2)?, digits(line, 8, 2)?);
    let (hour, minute, second) = (
        digits(line, 11, 2)?,
        digits(line, 14, 2)?,
        digits(line, 17, 2)?,
    );
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut at = 19;
    if line.get(at) == Some(&b'.') {
        at += 1;
        while line.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
    }
    let mut offset = 0;
    match line.get(at) {
        Some(b'Z') => at += 1,
        Some(&sign @ (b'+' | b'-')) => {
            let hours = digits(line, at + 1, 2)? as i64;
            at += 3;
            if line.get(at) == Some(&b':') {
                at += 1;
            }
            let minutes = digits(line, at, 2)? as i64;
            at += 2;
            offset = (hours * 60 + minutes) * 60;
            if sign == b'-' {
                offset = -offset;
            }
        }
        _ => {}
    }
    let secs = days_from_civil(year, month, day) * 86_400
        + (hour * 3600 + minute * 60 + second) as i64
        - offset;
    Some((secs, &line[at..]))
}

/// `Mmm dd HH:MM:SS ` in local time: the UTC seconds and what follows.
fn rfc3164<'a>(line: &'a [u8], clock: &mut Clock) -> Option<(i64, &'a [u8])> {
    if line.len() < 16 || line[3] != b' ' || line[6] != b' ' || line[15] != b' ' {
        return None;
    }
    const MONTHS: &[u8; 36] = b"JanFebMarAprMayJunJulAugSepOctNovDec";
    let month = MONTHS.chunks(3).position(|m| m == &line[..3])? as u32 + 1;
    let day = match line[4] {
        b' ' => digits(line, 5, 1)?,
        _ => digits(line, 4, 2)?,
    };
    if line[9] != b':' || line[12] != b':' {
        return None;
    }
    let (hour, minute, second) = (
        digits(line, 7, 2)?,
        digits(line, 10, 2)?,
        digits(line, 13, 2)?,
    );
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let start = clock.syslog_hour(month, day, hour)?;
    Some((start + (minute * 60 + second) as i64, &line[16..]))
}

/// `<PRI>` then RFC 5424 (`1 TIMESTAMP HOST APP PROCID MSGID SD MSG`) or
/// RFC 3164 (`Mmm dd HH:MM:SS [HOST ]TAG: MSG`).
fn syslog_with_priority<'a>(line: &'a [u8], clock: &mut Clock) -> Option<Logged<'a>> {
    let close = line.iter().take(5).position(|&b| b == b'>')?;
    if close < 2 || !line[1..close].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let rest = &line[close + 1..];
    if let Some(rest) = rest.strip_prefix(b"1 ") {
        return rfc5424(rest);
    }
    let (time, rest) = rfc3164(rest, clock)?;
    let decision = tagged(rest)?;
    Some(Logged {
        time: Some(time),
        ..decision
    })
}

fn rfc5424(line: &[u8]) -> Option<Logged<'_>> {
    let (time, mut rest) = match line.strip_prefix(b"- ") {
        Some(rest) => (None, rest),
        None => {
            let (time, rest) = iso(line)?;
            (Some(time), rest.strip_prefix(b" ")?)
        }
    };
    // HOST APP PROCID MSGID
    for _ in 0..4 {
        let space = rest.iter().position(|&b| b == b' ')?;
        rest = &rest[space + 1..];
    }
    // Structured data: `-`, or `[...]` elements with `\]` escaped in values.
    if let Some(after) = rest.strip_prefix(b"-") {
        rest = after;
    } else {
        while rest.first() == Some(&b'[') {
            let mut at = 1;
            let mut quoted = false;
            loop {
                match *rest.get(at)? {
                    b'\\' if quoted => at += 1,
                    b'"' => quoted = !quoted,
                    b']' if !quoted => break,
                    _ => {}
                }
                at += 1;
            }
            rest = &rest[at + 1..];
        }
    }
    // rsyslog's file format keeps the space that syslog(3) puts before the
    // message: two spaces after the structured data.
    let mut message = rest.strip_prefix(b" ")?;
    while let Some(after) = message.strip_prefix(b" ") {
        message = after;
    }
    let message = message.strip_prefix(b"\xef\xbb\xbf").unwrap_or(message);
    let decision = program_line(message).or_else(|| verdict(message))?;
    Some(Logged { time, ..decision })
}

/// `[HOST ][FACILITY.LEVEL ]TAG: MESSAGE` (busybox syslogd writes the
/// facility and level after the host), the message an rmxsmtpd line with or
/// without its `PROGRAM: pid PID: ` prefix. The tag does not matter: it is
/// the first of the first three words that ends with a colon.
fn tagged(mut rest: &[u8]) -> Option<Logged<'_>> {
    for _ in 0..3 {
        let (word, after) = word(rest)?;
        if word.len() > 1 && word.ends_with(b":") {
            return program_line(after).or_else(|| verdict(after));
        }
        rest = after;
    }
    None
}

/// `PROGRAM: pid PID: ` and a verdict; PROGRAM is rmxsmtpd or rmxpolicyd.
fn program_line(line: &[u8]) -> Option<Logged<'_>> {
    let rest = PROGRAMS
        .iter()
        .find_map(|program| line.strip_prefix(program.as_bytes()))?
        .strip_prefix(words::PID.as_bytes())?;
    let pid_len = rest.iter().position(|b| !b.is_ascii_digit())?;
    if pid_len == 0 {
        return None;
    }
    verdict(rest[pid_len..].strip_prefix(words::AFTER_PID.as_bytes())?)
}

fn word(rest: &[u8]) -> Option<(&[u8], &[u8])> {
    let space = rest.iter().position(|&b| b == b' ')?;
    (space > 0).then(|| (&rest[..space], &rest[space + 1..]))
}

/// Whether `text` holds a `PROGRAM: pid PID: ` of its own: two lines
/// written into each other. Found from its colons, which most lines have
/// none or few of (memchr(3) passes over the rest at once).
fn holds_a_line(text: &[u8]) -> bool {
    let mut from = 0;
    while let Some(at) = sys::memchr(&text[from..], b':') {
        let (before, after) = text.split_at(from + at);
        from += at + 1;
        let Some(after) = after.strip_prefix(words::PID.as_bytes()) else {
            continue;
        };
        let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0
            && after[digits..].starts_with(words::AFTER_PID.as_bytes())
            && PROGRAMS.iter().any(|p| before.ends_with(p.as_bytes()))
        {
            return true;
        }
    }
    false
}

/// `ADDRESS RESULT NAME ACTION[ (WHY)][; NOTE]...`, and no other line inside.
pub fn verdict(line: &[u8]) -> Option<Logged<'_>> {
    // rmxsmtpd writes printable ASCII only.
    if !line.iter().fold(true, |ok, &b| ok & (b < 0x80)) || holds_a_line(line) {
        return None;
    }
    let (address, rest) = word(line)?;
    let client = if address == b"-" {
        None
    } else {
        Some(parse_address(address)?)
    };
    let (result, rest) = word(rest)?;
    let outcome = Outcome::from_word(result)?;
    let (name, rest) = word(rest)?;
    let name = (name != b"-").then_some(name);
    let action = if let Some(after) = rest.strip_prefix(words::ACCEPT.as_bytes()) {
        // The end, a WHY that is closed, or a note.
        let whole = after.is_empty()
            || after.starts_with(words::NOTE.as_bytes())
            || (after.starts_with(b" (") && after.contains(&b')'));
        if !whole {
            return None;
        }
        Action::Accept
    } else if let Some(reply) = rest.strip_prefix(words::REFUSE.as_bytes()) {
        reply_code(reply)?;
        Action::Refuse
    } else if let Some(reply) = rest.strip_prefix(words::WOULD_REFUSE.as_bytes()) {
        reply_code(reply)?;
        Action::WouldRefuse
    } else {
        return None;
    };
    Some(Logged {
        time: None,
        client,
        outcome,
        name,
        action,
    })
}

/// An SMTP reply starts with a 4xx or 5xx code, a space and some text.
fn reply_code(reply: &[u8]) -> Option<()> {
    let ok = reply.len() > 4
        && matches!(reply[0], b'4' | b'5')
        && reply[1].is_ascii_digit()
        && reply[2].is_ascii_digit()
        && reply[3] == b' ';
    ok.then_some(())
}

/// A dotted quad (fast), or an IPv6 address.
fn parse_address(text: &[u8]) -> Option<Address> {
    if let Some(v4) = parse_v4(text) {
        return Some(MAPPED | v4 as u128);
    }
    if text.len() > 45 || !text.contains(&b':') {
        return None;
    }
    let text = std::str::from_utf8(text).ok()?;
    let v6: Ipv6Addr = text.parse().ok()?;
    Some(u128::from(v6))
}

fn parse_v4(text: &[u8]) -> Option<u32> {
    let mut value: u32 = 0;
    let mut part: u32 = 0;
    let mut len = 0;
    let mut dots = 0;
    for &b in text {
        match b {
            b'0'..=b'9' => {
                if len > 0 && part == 0 {
                    return None;
                }
                part = part * 10 + (b - b'0') as u32;
                len += 1;
                if len > 3 || part > 255 {
                    return None;
                }
            }
            b'.' if len > 0 && dots < 3 => {
                value = value << 8 | part;
                (part, len) = (0, 0);
                dots += 1;
            }
            _ => return None,
        }
    }
    (dots == 3 && len > 0).then_some(value << 8 | part)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_083_200; // 2026-12-01T00:00:00Z

    fn read(line: &str) -> Option<Logged<'_>> {
        parse(line.as_bytes(), &mut Clock::new(NOW))
    }

    #[test]
    fn verdicts() {
        let d =
            read("rmxsmtpd: pid 4242: 198.51.100.5 pass 100.51.198.in-addr.arpa accept").unwrap();
        assert_eq!(d.client, Some(MAPPED | 0xc6336405));
        assert_eq!(d.outcome, Outcome::Pass);
        assert_eq!(d.name, Some(&b"100.51.198.in-addr.arpa"[..]));
        assert_eq!((d.action, d.time), (Action::Accept, None));
        let d = read("rmxpolicyd: pid 7: 2001:db8::1 none - dry-run accept, would reject: 451 4.7.1 x; instance 1a.2b").unwrap();
        assert_eq!(
            (d.outcome, d.action, d.name),
            (Outcome::NoList, Action::WouldRefuse, None)
        );
        let d = read("rmxsmtpd: pid 7: - temperror - accept (no client address: x)").unwrap();
        assert_eq!((d.client, d.outcome), (None, Outcome::TempError));
        assert_eq!(
            read("rmxsmtpd: pid 1: 1.2.3.4 fail x.arpa reject: 554 5.7.1 no")
                .unwrap()
                .action,
            Action::Refuse
        );
    }

    #[test]
    fn not_whole() {
        for bad in [
            "",
            "rmxsmtpd: pid 4242: fatal: unable to run x: file does not exist",
            "rmxsmtpd: usage error: unknown option -z",
            "rmxsmtpd: pid 4242: 198.51.100.5 pass 100.51.198.in-addr.arpa acc",
            "rmxsmtpd: pid 4242: 198.51.100.5 pass 100.51.198.in-addr.arpa",
            "rmxsmtpd: pid 4242: 198.51.100.5 pass 100.51.198.in-addr.arpa accepted",
            "rmxsmtpd: pid 4242: 198.51.100.9 temperror - accept (timeout after",
            "rmxsmtpd: pid 4242: 198.51.100.10 fail x reject: 451",
            "rmxsmtpd: pid 4242: 198.51.100.10 fail x reject: 45",
            "rmxsmtpd: pid : 198.51.100.5 pass x accept",
            "rmxsmtpd: pid 4242: 198.51.100.256 pass x accept",
            "rmxsmtpd: pid 4242: 198.51.100 pass x accept",
            "rmxsmtpd: pid 4242: 01.2.3.4 pass x accept",
            "rmxsmtpd: pid 4242: 1.2.3.4 maybe x accept",
            "tcpserver: pid 123 from 127.0.0.9",
            "@400000006 rmxsmtpd: pid 1: 1.2.3.4 none - accept",
        ] {
            assert_eq!(read(bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamps() {
        let line = "rmxsmtpd: pid 4242: 198.51.100.5 none - accept";
        // 2026-11-30T19:11:08Z
        let t = days_from_civil(2026, 11, 30) * 86_400 + 19 * 3600 + 11 * 60 + 8;
        let label = (1u64 << 62) + 10 + t as u64;
        for stamped in [
            format!("@{label:016x}12345678 {line}"),
            format!("2026-11-30_19:11:08.12345 {line}"),
            format!("2026-11-30T19:11:08.12345 {line}"),
            "2026-11-30T19:11:08+0000 mx rmxsmtpd[4242]: 198.51.100.5 none - accept".to_string(),
            format!("2026-11-30T20:11:08+01:00 mx tag[1]: {line}"),
            "<22>1 2026-11-30T19:11:08.003Z mx rmxsmtpd 4242 - - 198.51.100.5 none - accept".to_string(),
            "<22>1 2026-11-30T14:11:08-05:00 mx rmxsmtpd 4242 - [a@1 b=\"x]\\\"\"][c@2] \u{feff}198.51.100.5 none - accept".to_string(),
            // rsyslog's RFC 5424 file format: syslog(3)'s space kept.
            "<22>1 2026-11-30T19:11:08.003+00:00 mx rmxsmtpd 4242 - -  198.51.100.5 none - accept".to_string(),
        ] {
            assert_eq!(read(&stamped).and_then(|d| d.time), Some(t), "{stamped}");
        }
        // busybox syslogd: the facility and level after the host (the time
        // is local: TZ's, tests/rmxreport checks it).
        let busybox = "Nov 30 19:11:08 mx mail.info rmxsmtpd[4242]: 198.51.100.5 none - accept";
        let d = read(busybox).unwrap();
        assert_eq!(
            (d.client, d.outcome),
            (Some(MAPPED | 0xc6336405), Outcome::NoList)
        );
        let dash = read("<22>1 - mx rmxsmtpd 4242 - - 198.51.100.5 none - accept").unwrap();
        assert_eq!(dash.time, None);
    }
}
