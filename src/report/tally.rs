//! The figures of rmxreport(1), counted one decision at a time: memory
//! grows with distinct networks, addresses and days, never with lines. A
//! network is one whatever its lines call it: a client's block and the
//! reverse name of the same range are one network.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{IpAddr, Ipv6Addr};
use std::ops::{Index, IndexMut};

use super::line::{Address, Logged, is_v4};
use crate::date::Date;
use crate::log::Action;
use crate::names::Network;
use crate::verdict::Outcome;

/// A multiply-rotate hash (as rustc's FxHash): the keys are the log's own
/// addresses and names, and a fast hash is what keeps up with the lines.
#[derive(Default)]
pub struct Fast(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl Hasher for Fast {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.write_u64(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let mut last = 0u64;
        for (i, &b) in chunks.remainder().iter().enumerate() {
            last |= (b as u64) << (8 * i);
        }
        self.write_u64(last ^ bytes.len() as u64);
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }

    fn write_u8(&mut self, byte: u8) {
        self.write_u64(byte as u64);
    }

    fn write_u32(&mut self, word: u32) {
        self.write_u64(word as u64);
    }

    fn write_u128(&mut self, word: u128) {
        self.write_u64(word as u64);
        self.write_u64((word >> 64) as u64);
    }

    fn write_i64(&mut self, word: i64) {
        self.write_u64(word as u64);
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }

    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

type Map<K, V> = HashMap<K, V, BuildHasherDefault<Fast>>;

/// What to count.
#[derive(Clone, Copy, Debug)]
pub struct Scope {
    /// `-d FROM..TO`: both days included.
    pub from: Option<Date>,
    pub to: Option<Date>,
    /// `-c DATE`: the what-if counts `none` decisions from this day on.
    pub cutoff: Option<Date>,
    /// `-4 LEN`, `-6 LEN`: the network of a client without a list.
    pub v4_len: u8,
    pub v6_len: u8,
}

impl Default for Scope {
    /// Every line, networks of /24 and /48.
    fn default() -> Scope {
        Scope {
            from: None,
            to: None,
            cutoff: None,
            v4_len: 24,
            v6_len: 48,
        }
    }
}

/// One `T` for each result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ByOutcome<T>([T; 5]);

impl<T> Index<Outcome> for ByOutcome<T> {
    type Output = T;
    fn index(&self, outcome: Outcome) -> &T {
        &self.0[outcome as usize]
    }
}

impl<T> IndexMut<Outcome> for ByOutcome<T> {
    fn index_mut(&mut self, outcome: Outcome) -> &mut T {
        &mut self.0[outcome as usize]
    }
}

/// One `T` for each action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ByAction<T>([T; 3]);

impl<T> Index<Action> for ByAction<T> {
    type Output = T;
    fn index(&self, action: Action) -> &T {
        &self.0[action as usize]
    }
}

impl<T> IndexMut<Action> for ByAction<T> {
    fn index_mut(&mut self, action: Action) -> &mut T {
        &mut self.0[action as usize]
    }
}

impl ByAction<u64> {
    pub fn sum(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// Decisions by result and action.
pub type Grid = ByOutcome<ByAction<u64>>;

impl Grid {
    /// Every decision.
    pub fn sum(&self) -> u64 {
        self.0.iter().map(ByAction::sum).sum()
    }

    /// The decisions with one of `outcomes`.
    pub fn of(&self, outcomes: &[Outcome]) -> u64 {
        outcomes.iter().map(|&o| self[o].sum()).sum()
    }

    /// The decisions with `action`, whatever their result.
    pub fn acted(&self, action: Action) -> u64 {
        self.0.iter().map(|row| row[action]).sum()
    }

    /// The decisions of each result, whatever their action.
    pub fn by_outcome(&self) -> ByOutcome<u64> {
        ByOutcome(self.0.map(|row| row.sum()))
    }
}

/// The counts of one network: a list name, or a client's CIDR block.
pub struct NetworkCounts {
    /// The name a line gave it (a list's), else its block as CIDR.
    pub text: Box<str>,
    /// Whether `text` is a name from a line.
    named: bool,
    /// The start of the name, so that most lines compare it without
    /// reaching `text` (another cache miss).
    head: [u8; HEAD],
    pub decisions: u64,
    pub by_outcome: ByOutcome<u64>,
    pub addresses: u64,
    pub whatif_decisions: u64,
    pub whatif_addresses: u64,
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// The answered days it was counted on, and of them those it was
    /// counted with a list (`pass`, `fail`), as bits from `day_base`, its
    /// first answered day; days past the 64 bits go to `Tally::far_days`.
    day_base: i64,
    day_bits: u64,
    published_bits: u64,
}

/// Days as bits, one for each day from the first word that holds one to
/// the last: a network's days past the 64 it keeps in place.
#[derive(Default)]
struct DayBits {
    /// The first word's days: from `base * 64`.
    base: i64,
    words: Vec<u64>,
}

impl DayBits {
    /// Marks `day`: whether it was not marked before.
    fn mark(&mut self, day: i64) -> bool {
        let word = day.div_euclid(64);
        if self.words.is_empty() {
            self.base = word;
        }
        if word < self.base {
            let before = (self.base - word) as usize;
            self.words.splice(0..0, std::iter::repeat_n(0, before));
            self.base = word;
        }
        let at = (word - self.base) as usize;
        if at >= self.words.len() {
            self.words.resize(at + 1, 0);
        }
        let bit = 1 << day.rem_euclid(64);
        let new = self.words[at] & bit == 0;
        self.words[at] |= bit;
        new
    }
}

/// A network's answered days past its first 64, and those with a list.
#[derive(Default)]
struct FarDays {
    answered: DayBits,
    published: DayBits,
}

#[derive(Clone, Copy, Default)]
pub struct Day {
    pub grid: Grid,
    /// Distinct networks answered (`pass`, `fail`, `none`) that day, and of
    /// them those with a list (`pass`, `fail`).
    pub networks: u64,
    pub published_networks: u64,
}

/// The results that say whether a network publishes a list.
pub const ANSWERED: [Outcome; 3] = [Outcome::Pass, Outcome::Fail, Outcome::NoList];
/// The results of a network that publishes one.
pub const PUBLISHED: [Outcome; 2] = [Outcome::Pass, Outcome::Fail];

impl Day {
    /// The day's decisions; by result: pass, fail, none, temperror, skip;
    /// then refused and would refuse: one row of the day series, in text
    /// and JSON alike.
    pub fn row(&self) -> [u64; 8] {
        let o = self.grid.by_outcome();
        [
            self.grid.sum(),
            o[Outcome::Pass],
            o[Outcome::Fail],
            o[Outcome::NoList],
            o[Outcome::TempError],
            o[Outcome::Skip],
            self.grid.acted(Action::Refuse),
            self.grid.acted(Action::WouldRefuse),
        ]
    }

    /// The day's answered decisions (pass, fail, none), the networks it
    /// saw, and of each those with a list: the adoption figures.
    pub fn adoption(&self) -> (u64, u64, u64) {
        let answered = self.grid.of(&ANSWERED);
        let published = self.grid.of(&PUBLISHED);
        (answered, published, self.networks)
    }
}

const HEAD: usize = 32;

/// Whether a network is the one named `name`, `text` read only for a name
/// longer than HEAD bytes.
fn same_name(network: &NetworkCounts, name: &[u8]) -> bool {
    let len = network.text.len();
    if len != name.len() {
        return false;
    }
    if len <= HEAD {
        network.head[..len] == *name
    } else {
        network.head == name[..HEAD] && network.text.as_bytes() == name
    }
}

/// Bits of an address's mask: one per (result, action), and the what-if.
const WHATIF_BIT: u16 = 1 << 15;

fn bit(outcome: Outcome, action: Action) -> u16 {
    1 << (outcome as usize * Action::ALL.len() + action as usize)
}

/// What is known of one address: its (result, action) pairs, and its block
/// and the first list it was seen under, each with the bits of that
/// (network, address) pair (1: seen, 2: in the what-if), so that most lines
/// need no other lookup.
#[derive(Clone, Copy)]
struct Seen {
    mask: u16,
    block_pair: u8,
    list_pair: u8,
    block: u32,
    list: u32,
}

const NO_NETWORK: u32 = u32::MAX;

/// The most decisions [`Tally::warm`] reads ahead for.
pub const WARM: usize = 32;

impl Default for Seen {
    fn default() -> Seen {
        Seen {
            mask: 0,
            block_pair: 0,
            list_pair: 0,
            block: NO_NETWORK,
            list: NO_NETWORK,
        }
    }
}

impl Seen {
    /// The bits of (network `id`, this address), when they are kept here:
    /// `id` is the address's block, or its first list. A list of the
    /// block's own range is the block: one network, its bits the block's.
    fn pair(&mut self, id: u32, named: bool) -> Option<&mut u8> {
        let slot = if named {
            &mut self.list
        } else {
            &mut self.block
        };
        if *slot == NO_NETWORK {
            *slot = id;
            if self.list == self.block {
                self.block_pair |= self.list_pair;
            }
        }
        if self.block == id {
            Some(&mut self.block_pair)
        } else if self.list == id {
            Some(&mut self.list_pair)
        } else {
            None
        }
    }
}

/// Whether a decision's network is a list's name, not a block.
fn named(d: &Logged) -> bool {
    matches!(
        d.outcome,
        Outcome::Pass | Outcome::Fail | Outcome::TempError
    ) && d.name.is_some()
}

/// A network's range: its first address and prefix length, an IPv4 range
/// as its IPv4-mapped IPv6 prefix (`198.51.100.0/24` is `::ffff:198.51.100.0/120`).
type Range = (Address, u8);

/// The networks, and how to find one from a name or a block.
#[derive(Default)]
struct Networks {
    list: Vec<NetworkCounts>,
    by_name: Map<Box<[u8]>, u32>,
    /// Blocks, and the ranges of reverse names.
    by_range: Map<Range, u32>,
}

pub struct Tally {
    pub scope: Scope,
    pub grid: Grid,
    /// Lines left out for want of a timestamp under `-d` or `-c`.
    pub undated: u64,
    /// Lines left out for a day outside `-d`.
    pub out_of_range: u64,
    /// `none` decisions that the what-if refuses.
    pub whatif: u64,
    /// Every address, IPv4 apart (a smaller key).
    v4: Map<u32, Seen>,
    v6: Map<Address, Seen>,
    networks: Networks,
    /// The (network, address) pairs beyond an address's first network.
    pairs: Map<(u32, Address), u8>,
    pub days: Map<Date, Day>,
    /// The days of the networks seen on days past their first 64.
    far_days: Map<u32, FarDays>,
}

impl Tally {
    pub fn new(scope: Scope) -> Tally {
        Tally {
            scope,
            grid: Grid::default(),
            undated: 0,
            out_of_range: 0,
            whatif: 0,
            v4: Map::default(),
            v6: Map::default(),
            networks: Networks::default(),
            pairs: Map::default(),
            days: Map::default(),
            far_days: Map::default(),
        }
    }

    pub fn networks(&self) -> &[NetworkCounts] {
        &self.networks.list
    }

    /// What the report calls each network, in the order of [`networks`]:
    /// a network counted with a list (`pass`, `fail`) by the list's name;
    /// any other by its block (`203.0.113.0/24`), whatever name its
    /// `temperror` lines gave it, so that the name says what the network
    /// is and not which errors it met; a name that is no reverse name as
    /// it is.
    ///
    /// [`networks`]: Tally::networks
    pub fn network_names(&self) -> Vec<Cow<'_, str>> {
        let list = &self.networks.list;
        let mut names: Vec<Cow<str>> = list.iter().map(|n| Cow::Borrowed(&*n.text)).collect();
        for (&(address, len), &id) in &self.networks.by_range {
            let network = &list[id as usize];
            if network.named && !network.has(&PUBLISHED) {
                let ip = Ipv6Addr::from(address);
                let block = match ip.to_ipv4_mapped() {
                    Some(v4) if len >= 96 => Network::new(IpAddr::V4(v4), len - 96),
                    _ => Network::new(IpAddr::V6(ip), len),
                };
                names[id as usize] = Cow::Owned(block.to_string());
            }
        }
        names
    }

    /// Reads what counting these decisions (at most WARM) will read: their
    /// addresses' entries, then their networks, one after the other without
    /// waiting, so that the cache misses overlap instead of each line
    /// waiting on its own.
    pub fn warm<'a>(&self, decisions: impl Iterator<Item = Logged<'a>>) {
        let mut ids = [NO_NETWORK; WARM];
        for (d, id) in decisions.zip(&mut ids) {
            let Some(client) = d.client else {
                continue;
            };
            let seen = if is_v4(client) {
                self.v4.get(&(client as u32))
            } else {
                self.v6.get(&client)
            };
            if let Some(seen) = seen {
                *id = if named(&d) { seen.list } else { seen.block };
            }
        }
        let mut sink = 0u64;
        for id in ids {
            if let Some(network) = self.networks.list.get(id as usize) {
                sink ^= network.head[0] as u64 ^ network.decisions ^ network.day_bits;
            }
        }
        std::hint::black_box(sink);
    }

    pub fn add(&mut self, d: &Logged) {
        let scope = self.scope;
        let day = d.time.map(Date::of_time);
        let dated_only = scope.from.is_some() || scope.cutoff.is_some();
        let day = match day {
            None if dated_only => {
                self.undated += 1;
                return;
            }
            None => None,
            Some(day) => {
                if scope.from.is_some_and(|from| day < from) || scope.to.is_some_and(|to| day > to)
                {
                    self.out_of_range += 1;
                    return;
                }
                Some(day)
            }
        };
        self.grid[d.outcome][d.action] += 1;
        let whatif = d.outcome == Outcome::NoList
            && scope.cutoff.is_none_or(|c| day.is_some_and(|d| d >= c));
        self.whatif += whatif as u64;
        if let Some(day) = day {
            self.days.entry(day).or_default().grid[d.outcome][d.action] += 1;
        }
        let Some(client) = d.client else {
            return;
        };
        let seen = if is_v4(client) {
            self.v4.entry(client as u32).or_default()
        } else {
            self.v6.entry(client).or_default()
        };
        seen.mask |= bit(d.outcome, d.action) | if whatif { WHATIF_BIT } else { 0 };
        let named = named(d);
        let known = if named { seen.list } else { seen.block };
        let id = self.networks.of(d, client, known, scope);
        let pair = match seen.pair(id, named) {
            Some(pair) => pair,
            None => self.pairs.entry((id, client)).or_default(),
        };
        let new_address = *pair == 0;
        let new_whatif_address = whatif && *pair & 2 == 0;
        *pair |= 1 | if whatif { 2 } else { 0 };
        let network = &mut self.networks.list[id as usize];
        network.decisions += 1;
        network.by_outcome[d.outcome] += 1;
        network.addresses += new_address as u64;
        network.whatif_decisions += whatif as u64;
        network.whatif_addresses += new_whatif_address as u64;
        if let Some(t) = d.time {
            network.first = Some(network.first.map_or(t, |f| f.min(t)));
            network.last = Some(network.last.map_or(t, |l| l.max(t)));
        }
        let Some(day) = day.filter(|_| d.outcome.answered()) else {
            return;
        };
        let (new, new_published) = self.network_day(id, day, d.outcome != Outcome::NoList);
        if new || new_published {
            let entry = self.days.get_mut(&day).expect("counted above");
            entry.networks += new as u64;
            entry.published_networks += new_published as u64;
        }
    }

    /// Marks a network counted on an answered day, with a list or not:
    /// whether it is the network's first answer that day, and its first
    /// with a list.
    fn network_day(&mut self, id: u32, day: Date, published: bool) -> (bool, bool) {
        let network = &mut self.networks.list[id as usize];
        if network.day_base == i64::MIN {
            network.day_base = day.days();
        }
        match day.days().checked_sub(network.day_base) {
            Some(offset @ 0..=63) => {
                let bit = 1 << offset;
                let new = network.day_bits & bit == 0;
                let new_published = published && network.published_bits & bit == 0;
                network.day_bits |= bit;
                if published {
                    network.published_bits |= bit;
                }
                (new, new_published)
            }
            _ => {
                let far = self.far_days.entry(id).or_default();
                let new = far.answered.mark(day.days());
                (new, published && far.published.mark(day.days()))
            }
        }
    }

    fn count_addresses(&self, bits: u16) -> u64 {
        let v4 = self.v4.values().filter(|s| s.mask & bits != 0).count();
        let v6 = self.v6.values().filter(|s| s.mask & bits != 0).count();
        (v4 + v6) as u64
    }

    /// Distinct addresses with a (result, action).
    pub fn addresses_with(&self, outcome: Outcome, action: Action) -> u64 {
        self.count_addresses(bit(outcome, action))
    }

    /// Distinct addresses with a result, whatever the action.
    pub fn addresses_of(&self, outcome: Outcome) -> u64 {
        let bits = Action::ALL
            .iter()
            .fold(0, |bits, &a| bits | bit(outcome, a));
        self.count_addresses(bits)
    }

    pub fn address_count(&self) -> u64 {
        (self.v4.len() + self.v6.len()) as u64
    }

    pub fn whatif_addresses(&self) -> u64 {
        self.count_addresses(WHATIF_BIT)
    }
}

impl Networks {
    /// The network of a decision: its list's name for `pass` and `fail` (and
    /// a `temperror` that names one), else the client's block. `known`, the
    /// address's first list or its block, is tried first.
    fn of(&mut self, d: &Logged, client: Address, known: u32, scope: Scope) -> u32 {
        if let (true, Some(name)) = (named(d), d.name) {
            if let Some(network) = self.list.get(known as usize)
                && same_name(network, name)
            {
                return known;
            }
            return self.named(name);
        }
        // An address is always in the same block.
        if known != NO_NETWORK {
            return known;
        }
        let ip = Ipv6Addr::from(client);
        let network = match ip.to_ipv4_mapped() {
            Some(v4) if is_v4(client) => Network::new(IpAddr::V4(v4), scope.v4_len),
            _ => Network::new(IpAddr::V6(ip), scope.v6_len),
        };
        let range = range(&network);
        if let Some(&id) = self.by_range.get(&range) {
            return id;
        }
        let id = self.add(network.to_string().into(), false);
        self.by_range.insert(range, id);
        id
    }

    /// The network of a list's name, added if new: the network of the
    /// same range when the name is a reverse name, and then called by it.
    fn named(&mut self, name: &[u8]) -> u32 {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        let text: Box<str> = String::from_utf8_lossy(name).into();
        let range = reverse_range(name);
        let id = match range.and_then(|range| self.by_range.get(&range)) {
            Some(&id) => {
                let network = &mut self.list[id as usize];
                if !network.named {
                    network.call(text, true);
                }
                id
            }
            None => self.add(text, true),
        };
        if let Some(range) = range {
            self.by_range.entry(range).or_insert(id);
        }
        self.by_name.insert(name.into(), id);
        id
    }

    fn add(&mut self, text: Box<str>, named: bool) -> u32 {
        let id = self.list.len() as u32;
        let mut network = NetworkCounts::default();
        network.call(text, named);
        self.list.push(network);
        id
    }
}

/// A network as a range of the one address space rmxreport counts in:
/// an IPv4 network keeps its `::ffff:0:0/96` prefix, so that no IPv6 range
/// is the same.
fn range(network: &Network) -> Range {
    match network.address {
        IpAddr::V4(v4) => (u128::from(v4.to_ipv6_mapped()), 96 + network.len),
        IpAddr::V6(v6) => (u128::from(v6), network.len),
    }
}

/// The range a reverse name stands for, as rmxcheck reads it
/// ([`Network::from_reverse_name`]); any other name stands for none.
fn reverse_range(name: &[u8]) -> Option<Range> {
    let name = std::str::from_utf8(name).ok()?;
    let network = Network::from_reverse_name(name)?.ok()?;
    Some(range(&network))
}

impl Default for NetworkCounts {
    fn default() -> NetworkCounts {
        NetworkCounts {
            text: Box::default(),
            named: false,
            head: [0; HEAD],
            decisions: 0,
            by_outcome: ByOutcome::default(),
            addresses: 0,
            whatif_decisions: 0,
            whatif_addresses: 0,
            first: None,
            last: None,
            day_base: i64::MIN,
            day_bits: 0,
            published_bits: 0,
        }
    }
}

impl NetworkCounts {
    /// Gives the network its text, a name from a line or not.
    fn call(&mut self, text: Box<str>, named: bool) {
        self.head = [0; HEAD];
        let len = text.len().min(HEAD);
        self.head[..len].copy_from_slice(&text.as_bytes()[..len]);
        self.text = text;
        self.named = named;
    }

    /// Whether it was counted with a result.
    pub fn has(&self, outcomes: &[Outcome]) -> bool {
        outcomes.iter().any(|&o| self.by_outcome[o] > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(name: &str) -> Option<(String, u8)> {
        reverse_range(name.as_bytes())
            .map(|(address, len)| (Ipv6Addr::from(address).to_string(), len))
    }

    #[test]
    fn reverse_names_stand_for_their_range() {
        let v4 = |text: &str, len| Some((format!("::ffff:{text}"), len));
        assert_eq!(range("100.51.198.in-addr.arpa"), v4("198.51.100.0", 120));
        assert_eq!(range("51.198.IN-ADDR.ARPA"), v4("198.51.0.0", 112));
        assert_eq!(range("7.0.113.203.in-addr.arpa"), v4("203.113.0.7", 128));
        assert_eq!(range("0.in-addr.arpa"), v4("0.0.0.0", 104));
        assert_eq!(
            range("1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"),
            Some(("2001:db8:1::".to_string(), 48))
        );
        let full = "1.".repeat(32) + "ip6.arpa";
        assert_eq!(range(&full).map(|r| r.1), Some(128));
        for other in [
            "in-addr.arpa",
            ".in-addr.arpa",
            "1.2.3.4.5.in-addr.arpa",
            "256.0.in-addr.arpa",
            "01.0.in-addr.arpa",
            "+1.0.in-addr.arpa",
            "a.0.in-addr.arpa",
            "1..0.in-addr.arpa",
            "0/25.100.51.198.in-addr.arpa",
            &("1.".repeat(33) + "ip6.arpa"),
            "10.0.ip6.arpa",
            "g.ip6.arpa",
            "mx.example.net",
        ] {
            assert_eq!(range(other), None, "{other}");
        }
    }
}
