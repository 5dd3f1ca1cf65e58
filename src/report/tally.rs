//! The figures of rmxreport(1), counted one decision at a time: memory
//! grows with distinct networks, addresses and days, never with lines.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{Ipv4Addr, Ipv6Addr};

use super::line::{Action, Address, Decision, Verdict, is_v4};

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
type Set<K> = HashSet<K, BuildHasherDefault<Fast>>;

/// What to count.
#[derive(Clone, Copy, Debug, Default)]
pub struct Scope {
    /// `-d FROM..TO`: days since 1970-01-01, both included.
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// `-c DATE`: the what-if counts `none` decisions from this day on.
    pub cutoff: Option<i64>,
    /// `-4 LEN`, `-6 LEN`: the network of a client without a list.
    pub v4_len: u32,
    pub v6_len: u32,
}

/// Decisions by result and action.
pub type Grid = [[u64; 3]; 5];

/// One network: a list name, or a client's CIDR block.
pub struct Network {
    pub text: Box<str>,
    /// The start of the name, so that most lines compare it without
    /// reaching `text` (another cache miss).
    head: [u8; HEAD],
    pub decisions: u64,
    pub by_verdict: [u64; 5],
    pub addresses: u64,
    pub whatif_decisions: u64,
    pub whatif_addresses: u64,
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// The answered days it was counted on, as bits from `day_base`; other
    /// days go to `Tally::network_days`.
    day_base: i64,
    day_bits: u64,
}

#[derive(Clone, Copy, Default)]
pub struct Day {
    pub grid: Grid,
    /// Distinct networks with a list (`pass`, `fail`) that day, and without
    /// (`none`).
    pub published_networks: u64,
    pub unpublished_networks: u64,
}

impl Day {
    /// The day's decisions, then by result (pass, fail, none, temperror,
    /// skip), then refused and would-refuse: one row of the day series, in
    /// text and JSON alike.
    pub fn row(&self) -> [u64; 8] {
        let result = |v: usize| self.grid[v].iter().sum::<u64>();
        let action = |a: usize| self.grid.iter().map(|r| r[a]).sum::<u64>();
        [
            self.grid.iter().flatten().sum(),
            result(0),
            result(1),
            result(2),
            result(3),
            result(4),
            action(1),
            action(2),
        ]
    }

    /// The day's answered decisions (pass, fail, none), the networks it
    /// saw, and of each those with a list: the adoption figures.
    pub fn adoption(&self) -> (u64, u64, u64) {
        let answered = self.grid[0..3].iter().flatten().sum();
        let published = self.grid[0..2].iter().flatten().sum();
        let networks = self.published_networks + self.unpublished_networks;
        (answered, published, networks)
    }
}

const HEAD: usize = 32;

/// Whether a network is the one named `name`, `text` read only for a name
/// longer than HEAD bytes.
fn same_name(network: &Network, name: &[u8]) -> bool {
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

fn bit(verdict: Verdict, action: Action) -> u16 {
    1 << (verdict as usize * 3 + action as usize)
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
    /// `id` is the address's block, or its first list.
    fn pair(&mut self, id: u32, named: bool) -> Option<&mut u8> {
        let (network, pair) = if named {
            (&mut self.list, &mut self.list_pair)
        } else {
            (&mut self.block, &mut self.block_pair)
        };
        if *network == NO_NETWORK {
            *network = id;
        }
        (*network == id).then_some(pair)
    }
}

/// Whether a decision's network is a list's name, not a block.
fn named(d: &Decision) -> bool {
    matches!(
        d.verdict,
        Verdict::Pass | Verdict::Fail | Verdict::TempError
    ) && d.name.is_some()
}

/// The networks, and how to find one from a name or a block.
#[derive(Default)]
struct Networks {
    list: Vec<Network>,
    by_name: Map<Box<[u8]>, u32>,
    by_block: Map<Address, u32>,
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
    pub days: Map<i64, Day>,
    /// (network, day) pairs outside a network's 64 days of bits.
    network_days: Set<(u32, i64)>,
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
            network_days: Set::default(),
        }
    }

    pub fn networks(&self) -> &[Network] {
        &self.networks.list
    }

    /// Reads what counting these decisions (at most WARM) will read: their
    /// addresses' entries, then their networks, one after the other without
    /// waiting, so that the cache misses overlap instead of each line
    /// waiting on its own.
    pub fn warm<'a>(&self, decisions: impl Iterator<Item = Decision<'a>>) {
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

    pub fn add(&mut self, d: &Decision) {
        let scope = self.scope;
        let day = d.time.map(|t| t.div_euclid(86_400));
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
        let (v, a) = (d.verdict as usize, d.action as usize);
        self.grid[v][a] += 1;
        let whatif =
            d.verdict == Verdict::None && scope.cutoff.is_none_or(|c| day.is_some_and(|d| d >= c));
        self.whatif += whatif as u64;
        if let Some(day) = day {
            self.days.entry(day).or_default().grid[v][a] += 1;
        }
        let Some(client) = d.client else {
            return;
        };
        let seen = if is_v4(client) {
            self.v4.entry(client as u32).or_default()
        } else {
            self.v6.entry(client).or_default()
        };
        seen.mask |= bit(d.verdict, d.action) | if whatif { WHATIF_BIT } else { 0 };
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
        network.by_verdict[v] += 1;
        network.addresses += new_address as u64;
        network.whatif_decisions += whatif as u64;
        network.whatif_addresses += new_whatif_address as u64;
        if let Some(t) = d.time {
            network.first = Some(network.first.map_or(t, |f| f.min(t)));
            network.last = Some(network.last.map_or(t, |l| l.max(t)));
        }
        let answered = matches!(d.verdict, Verdict::Pass | Verdict::Fail | Verdict::None);
        let Some(day) = day.filter(|_| answered) else {
            return;
        };
        let new_day = !self.network_day(id, day);
        if new_day {
            let entry = self.days.get_mut(&day).expect("counted above");
            if d.verdict == Verdict::None {
                entry.unpublished_networks += 1;
            } else {
                entry.published_networks += 1;
            }
        }
    }

    /// Marks a network counted on an answered day; whether it already was.
    fn network_day(&mut self, id: u32, day: i64) -> bool {
        let network = &mut self.networks.list[id as usize];
        if network.day_base == i64::MIN {
            network.day_base = day;
        }
        match day.checked_sub(network.day_base) {
            Some(offset @ 0..=63) => {
                let known = network.day_bits & 1 << offset != 0;
                network.day_bits |= 1 << offset;
                known
            }
            _ => !self.network_days.insert((id, day)),
        }
    }

    fn count_addresses(&self, bits: u16) -> u64 {
        let v4 = self.v4.values().filter(|s| s.mask & bits != 0).count();
        let v6 = self.v6.values().filter(|s| s.mask & bits != 0).count();
        (v4 + v6) as u64
    }

    /// Distinct addresses with a (result, action).
    pub fn addresses_with(&self, verdict: Verdict, action: Action) -> u64 {
        self.count_addresses(bit(verdict, action))
    }

    /// Distinct addresses with a result, whatever the action.
    pub fn addresses_of(&self, verdict: Verdict) -> u64 {
        self.count_addresses(
            bit(verdict, Action::Accept)
                | bit(verdict, Action::Refuse)
                | bit(verdict, Action::WouldRefuse),
        )
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
    fn of(&mut self, d: &Decision, client: Address, known: u32, scope: Scope) -> u32 {
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
        let (len, bits) = if is_v4(client) {
            (scope.v4_len, 32)
        } else {
            (scope.v6_len, 128)
        };
        let host_bits = bits - len.min(bits);
        let block = if host_bits >= 128 {
            0
        } else {
            client >> host_bits << host_bits
        };
        // An IPv4 block keeps its ::ffff:0:0/96 prefix: no IPv6 block is
        // the same number.
        self.block(block, || {
            if is_v4(client) {
                format!("{}/{}", Ipv4Addr::from(block as u32), len.min(32))
            } else {
                format!("{}/{}", Ipv6Addr::from(block), len.min(128))
            }
        })
    }

    /// The network of a list's name, added if new.
    fn named(&mut self, name: &[u8]) -> u32 {
        if let Some(&id) = self.by_name.get(name) {
            return id;
        }
        let next = self.list.len() as u32;
        self.by_name.insert(name.into(), next);
        let text = String::from_utf8_lossy(name).into();
        self.list.push(Network::new(text));
        next
    }

    /// The network of a block, added (with the text `text` makes) if new.
    fn block(&mut self, block: Address, text: impl FnOnce() -> String) -> u32 {
        if let Some(&id) = self.by_block.get(&block) {
            return id;
        }
        let next = self.list.len() as u32;
        self.by_block.insert(block, next);
        self.list.push(Network::new(text().into()));
        next
    }
}

impl Network {
    fn new(text: Box<str>) -> Network {
        let mut head = [0; HEAD];
        let len = text.len().min(HEAD);
        head[..len].copy_from_slice(&text.as_bytes()[..len]);
        Network {
            text,
            head,
            decisions: 0,
            by_verdict: [0; 5],
            addresses: 0,
            whatif_decisions: 0,
            whatif_addresses: 0,
            first: None,
            last: None,
            day_base: i64::MIN,
            day_bits: 0,
        }
    }
}
