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
    pub decisions: u64,
    pub by_verdict: [u64; 5],
    pub addresses: u64,
    pub whatif_decisions: u64,
    pub whatif_addresses: u64,
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// The last day this network was counted on in `network_days`.
    counted_day: i64,
}

#[derive(Clone, Copy, Default)]
pub struct Day {
    pub grid: Grid,
    /// Distinct networks with a list (`pass`, `fail`) that day, and without
    /// (`none`).
    pub published_networks: u64,
    pub unpublished_networks: u64,
}

/// Bits of an address's mask: one per (result, action), and the what-if.
const WHATIF_BIT: u16 = 1 << 15;

fn bit(verdict: Verdict, action: Action) -> u16 {
    1 << (verdict as usize * 3 + action as usize)
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
    /// Every address, with the (result, action) pairs it had.
    addresses: Map<Address, u16>,
    pub networks: Vec<Network>,
    by_name: Map<Box<[u8]>, u32>,
    by_block: Map<Address, u32>,
    /// (network, address) pairs; bit 1: in the what-if.
    pairs: Map<(u32, Address), u8>,
    pub days: Map<i64, Day>,
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
            addresses: Map::default(),
            networks: Vec::new(),
            by_name: Map::default(),
            by_block: Map::default(),
            pairs: Map::default(),
            days: Map::default(),
            network_days: Set::default(),
        }
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
        let mask = self.addresses.entry(client).or_default();
        *mask |= bit(d.verdict, d.action) | if whatif { WHATIF_BIT } else { 0 };
        let id = self.network(d, client);
        let pair = self.pairs.entry((id, client)).or_default();
        let new_address = *pair == 0;
        let new_whatif_address = whatif && *pair & 2 == 0;
        *pair |= 1 | if whatif { 2 } else { 0 };
        let network = &mut self.networks[id as usize];
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
        if let Some(day) = day
            && answered
            && network.counted_day != day
        {
            network.counted_day = day;
            if self.network_days.insert((id, day)) {
                let entry = self.days.get_mut(&day).expect("counted above");
                if d.verdict == Verdict::None {
                    entry.unpublished_networks += 1;
                } else {
                    entry.published_networks += 1;
                }
            }
        }
    }

    /// The network of a decision: its list's name for `pass` and `fail` (and
    /// a `temperror` that names one), else the client's block.
    fn network(&mut self, d: &Decision, client: Address) -> u32 {
        let next = self.networks.len() as u32;
        let named = matches!(
            d.verdict,
            Verdict::Pass | Verdict::Fail | Verdict::TempError
        );
        if let (true, Some(name)) = (named, d.name) {
            if let Some(&id) = self.by_name.get(name) {
                return id;
            }
            self.by_name.insert(name.into(), next);
            let text = String::from_utf8_lossy(name).into();
            self.networks.push(Network::new(text));
            return next;
        }
        let (len, bits) = if is_v4(client) {
            (self.scope.v4_len, 32)
        } else {
            (self.scope.v6_len, 128)
        };
        let host_bits = bits - len.min(bits);
        let block = if host_bits >= 128 {
            0
        } else {
            client >> host_bits << host_bits
        };
        // An IPv4 block keeps its ::ffff:0:0/96 prefix: no IPv6 block is
        // the same number.
        if let Some(&id) = self.by_block.get(&block) {
            return id;
        }
        self.by_block.insert(block, next);
        let text = if is_v4(client) {
            format!("{}/{}", Ipv4Addr::from(block as u32), len.min(32))
        } else {
            format!("{}/{}", Ipv6Addr::from(block), len.min(128))
        };
        self.networks.push(Network::new(text.into()));
        next
    }

    /// Distinct addresses with a (result, action).
    pub fn addresses_with(&self, verdict: Verdict, action: Action) -> u64 {
        let b = bit(verdict, action);
        self.addresses.values().filter(|&&m| m & b != 0).count() as u64
    }

    /// Distinct addresses with a result, whatever the action.
    pub fn addresses_of(&self, verdict: Verdict) -> u64 {
        let b = bit(verdict, Action::Accept)
            | bit(verdict, Action::Refuse)
            | bit(verdict, Action::WouldRefuse);
        self.addresses.values().filter(|&&m| m & b != 0).count() as u64
    }

    pub fn address_count(&self) -> u64 {
        self.addresses.len() as u64
    }

    pub fn whatif_addresses(&self) -> u64 {
        self.addresses
            .values()
            .filter(|&&m| m & WHATIF_BIT != 0)
            .count() as u64
    }
}

impl Network {
    fn new(text: Box<str>) -> Network {
        Network {
            text,
            decisions: 0,
            by_verdict: [0; 5],
            addresses: 0,
            whatif_decisions: 0,
            whatif_addresses: 0,
            first: None,
            last: None,
            counted_day: i64::MIN,
        }
    }
}
