//! A DNS message's header and answer section (RFC 1035 §4.1), read by hand
//! for the oracles of the reply property tests and of the `reply` fuzz
//! target. It shares no code with the decoder under test: where the two
//! disagree, one of them is wrong.

use hickory_proto::rr::{Name, RData};

/// An answer record of class IN, as far as the oracles read it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Rr {
    /// A preference, then a name (RFC 1035 §3.3.9): its labels in lower
    /// case, none for the root.
    Mx(u16, Vec<Vec<u8>>),
    /// Four octets (RFC 1035 §3.4.1).
    A([u8; 4]),
    /// Sixteen octets (RFC 3596 §2.2).
    Aaaa([u8; 16]),
    /// Another type, or one of these whose data has another shape.
    Other(u16),
}

/// What the header and the answer section hold.
#[derive(Debug)]
pub struct AnswerSection {
    /// The header's OPCODE; 0 is a standard query (RFC 1035 §4.1.1).
    pub opcode: u8,
    records: Vec<Rr>,
}

impl AnswerSection {
    /// Reads `message` up to the end of its answer section; `None` if it
    /// does not get that far.
    pub fn read(message: &[u8]) -> Option<AnswerSection> {
        let header = message.get(..12)?;
        let count = |at: usize| u16::from_be_bytes([header[at], header[at + 1]]);
        let mut at = 12;
        for _ in 0..count(4) {
            at = name(message, at)?.1 + 4;
        }
        let mut records = Vec::new();
        for _ in 0..count(6) {
            let (_, end) = name(message, at)?;
            let fixed = message.get(end..end + 10)?;
            let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
            let class = u16::from_be_bytes([fixed[2], fixed[3]]);
            let start = end + 10;
            let length = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
            let rdata = message.get(start..start + length)?;
            if class == 1 {
                records.push(record(message, rtype, start, rdata));
            }
            at = start + length;
        }
        Some(AnswerSection {
            opcode: (header[2] >> 3) & 0x0f,
            records,
        })
    }

    /// Whether a record of class IN in the section holds `data`, which must
    /// be MX, A or AAAA data.
    pub fn holds(&self, data: &RData) -> bool {
        let want = match data {
            RData::MX(mx) => Rr::Mx(mx.preference, labels(&mx.exchange)),
            RData::A(a) => Rr::A(a.0.octets()),
            RData::AAAA(aaaa) => Rr::Aaaa(aaaa.0.octets()),
            _ => return false,
        };
        self.records.contains(&want)
    }

    /// Whether the section holds an MX record whose exchange is the root:
    /// a null MX (RFC 7505).
    pub fn holds_null_mx(&self) -> bool {
        self.records
            .iter()
            .any(|r| matches!(r, Rr::Mx(_, exchange) if exchange.is_empty()))
    }
}

/// The record of type `rtype` whose data is `rdata`, found at `start`.
fn record(message: &[u8], rtype: u16, start: usize, rdata: &[u8]) -> Rr {
    let shaped = match (rtype, rdata.len()) {
        (1, 4) => rdata.try_into().ok().map(Rr::A),
        (28, 16) => rdata.try_into().ok().map(Rr::Aaaa),
        (15, 3..) => name(message, start + 2)
            .filter(|(_, end)| *end == start + rdata.len())
            .map(|(exchange, _)| Rr::Mx(u16::from_be_bytes([rdata[0], rdata[1]]), exchange)),
        _ => None,
    };
    shaped.unwrap_or(Rr::Other(rtype))
}

/// The name at `at` (RFC 1035 §3.1, §4.1.4): its labels in lower case, and
/// where its bytes in place end. Pointers may lead anywhere in the message;
/// a loop, or a length octet that starts 01 or 10 (RFC 6891 §5), is `None`.
fn name(message: &[u8], mut at: usize) -> Option<(Vec<Vec<u8>>, usize)> {
    let mut labels = Vec::new();
    let mut end = None;
    // Every step reads a label or follows a pointer; more steps than the
    // message has octets means a loop.
    for _ in 0..=message.len() {
        let length = *message.get(at)?;
        match length {
            0 => return Some((labels, end.unwrap_or(at + 1))),
            1..=63 => {
                let label = message.get(at + 1..at + 1 + usize::from(length))?;
                labels.push(label.to_ascii_lowercase());
                at += 1 + usize::from(length);
            }
            0xc0.. => {
                let low = *message.get(at + 1)?;
                end.get_or_insert(at + 2);
                at = usize::from(length & 0x3f) << 8 | usize::from(low);
            }
            _ => return None,
        }
    }
    None
}

/// A name's labels in lower case, as [`name`] gives them.
fn labels(name: &Name) -> Vec<Vec<u8>> {
    name.iter().map(<[u8]>::to_ascii_lowercase).collect()
}
