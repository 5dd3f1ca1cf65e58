//! A scriptable DNS server on loopback for tests: a small zone answered over
//! UDP and TCP on one port, per-question scripts of misbehaviour (loss,
//! delay, error codes, truncation, forgeries, garbage, raw bytes), and a
//! record of every query for assertions. Also a server that never answers
//! and a port that nobody listens on.
//!
//! Everything runs on plain std threads; no socket leaves 127.0.0.1.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, PTR};
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// The TTL of every record served.
const TTL: u32 = 300;

/// How many names a CNAME chain may visit before the answer is cut short,
/// so a loop in the zone yields a looping answer instead of a hang.
const CHAIN_LIMIT: usize = 16;

/// The largest UDP reply sent, whatever the client offers: the EDNS buffer
/// size recommended since DNS Flag Day 2020, and the one advertised back.
const UDP_CEILING: u16 = 1232;

/// The UDP reply limit without EDNS (RFC 1035 §4.2.1).
const UDP_CLASSIC: u16 = 512;

/// How often blocked threads look at the stop flag.
const POLL: Duration = Duration::from_millis(25);

/// Threads that send a [`Behaviour::Flood`] at once, each as fast as it can.
const FLOOD_SENDERS: usize = 4;

/// What the responder does with one query. A script is a list of these, one
/// per query; see [`Responder::script`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// The answer from the zone. Over UDP, an answer larger than the
    /// client's buffer (512 bytes without EDNS, RFC 1035 §4.2.1; its EDNS
    /// payload size otherwise, RFC 6891 §6.2.5, capped at 1232) goes out
    /// with TC set and no records instead.
    Answer,
    /// The answer after this delay. Other queries are served meanwhile:
    /// over UDP each late reply waits in a thread of its own; over TCP the
    /// delay holds up only that connection.
    Late(Duration),
    /// No reply. Over TCP, the connection is closed.
    Drop,
    /// RCODE 2, the question repeated, no records (RFC 1035 §4.1.1).
    ServFail,
    /// RCODE 5, the question repeated, no records.
    Refused,
    /// RCODE 1, the question repeated, no records.
    FormErr,
    /// TC set, the question repeated, no records (RFC 1035 §4.2.1): the
    /// client should ask again over TCP, which answers in full unless
    /// scripted otherwise.
    Truncate,
    /// The answer under another message id (RFC 1035 §4.1.1), and nothing
    /// else.
    WrongId,
    /// The answer with a label added in front of the question name, and
    /// nothing else.
    WrongQuestion,
    /// The right answer, sent from another UDP socket on 127.0.0.1, so it
    /// arrives from the wrong port. Over TCP, the same as [`Answer`].
    ///
    /// [`Answer`]: Behaviour::Answer
    WrongPort,
    /// 40 to 200 random bytes. Every second garbage reply of a responder
    /// starts with a plausible response header (QR set, one question, one
    /// answer) under a wrong id, so it passes a glance at the header.
    Garbage,
    /// These exact bytes: one datagram over UDP; over TCP written to the
    /// stream as they are, with no length prefix added (include your own,
    /// or break the framing on purpose).
    Raw(Vec<u8>),
    /// These bytes as one message whose first two bytes are replaced by the
    /// query's id. Over TCP it gets its length prefix (RFC 1035 §4.2.2).
    RawWithId(Vec<u8>),
    /// Replies that are not the answer, from the responder's own address
    /// and port, sent again and again by `FLOOD_SENDERS` threads as fast as
    /// they can, for this long or until the responder stops: the answer
    /// under wrong ids, and under the query's id a datagram of some 160
    /// questions, which takes long to read. Over TCP, the same as [`Drop`].
    ///
    /// [`Drop`]: Behaviour::Drop
    Flood(Duration),
    /// All of these for the one query, in order: `Then(vec![WrongId,
    /// Garbage, Answer])` sends a forgery, then garbage, then the answer. A
    /// `Late` inside delays what follows it.
    Then(Vec<Behaviour>),
}

impl Behaviour {
    /// `n` forged replies, mixing a wrong id, a wrong question, a wrong
    /// source port and garbage in turn, followed by the real answer.
    pub fn forgeries_then_answer(n: usize) -> Behaviour {
        let kinds = [
            Behaviour::WrongId,
            Behaviour::WrongQuestion,
            Behaviour::WrongPort,
            Behaviour::Garbage,
        ];
        let mut steps: Vec<Behaviour> = kinds.iter().cycle().take(n).cloned().collect();
        steps.push(Behaviour::Answer);
        Behaviour::Then(steps)
    }
}

/// The records a [`Responder`] serves. Names are taken as absolute whether
/// or not they end in a dot, and are matched without regard to case.
#[derive(Clone, Debug, Default)]
pub struct Zone {
    records: Vec<Record>,
    /// The TTL of the records added from now on, if not [`TTL`].
    ttl: Option<u32>,
}

impl Zone {
    pub fn new() -> Zone {
        Zone::default()
    }

    /// An MX record (RFC 1035 §3.3.9).
    pub fn mx(self, owner: &str, preference: u16, exchange: &str) -> Zone {
        self.with(owner, RData::MX(MX::new(preference, absolute(exchange))))
    }

    /// A null MX, preference 0 and exchange "." (RFC 7505 §3).
    pub fn null_mx(self, owner: &str) -> Zone {
        self.with(owner, RData::MX(MX::new(0, Name::root())))
    }

    /// An A record; `address` in dotted-quad form.
    pub fn a(self, owner: &str, address: &str) -> Zone {
        let address: Ipv4Addr = address.parse().expect("an IPv4 address");
        self.with(owner, RData::A(A(address)))
    }

    /// An AAAA record (RFC 3596 §2.1).
    pub fn aaaa(self, owner: &str, address: &str) -> Zone {
        let address: Ipv6Addr = address.parse().expect("an IPv6 address");
        self.with(owner, RData::AAAA(AAAA(address)))
    }

    /// A PTR record (RFC 1035 §3.3.12) at `owner`, a reverse name.
    pub fn ptr(self, owner: &str, target: &str) -> Zone {
        self.with(owner, RData::PTR(PTR(absolute(target))))
    }

    /// A CNAME record (RFC 1034 §3.6.2); answers follow it.
    pub fn cname(self, alias: &str, target: &str) -> Zone {
        self.with(alias, RData::CNAME(CNAME(absolute(target))))
    }

    /// The records added after this call have this TTL.
    pub fn ttl(mut self, seconds: u32) -> Zone {
        self.ttl = Some(seconds);
        self
    }

    fn with(mut self, owner: &str, data: RData) -> Zone {
        let ttl = self.ttl.unwrap_or(TTL);
        self.records
            .push(Record::from_rdata(absolute(owner), ttl, data));
        self
    }

    /// The response code and answer section for a question, the way an
    /// authoritative server builds them (RFC 1034 §4.3.2): the records of
    /// the type asked for, or a CNAME and then the answer for its target.
    /// A name with no records at all is NXDOMAIN; one with records of other
    /// types only is NOERROR with no answers (NODATA). A chain ending at a
    /// name missing from the zone is NXDOMAIN with the chain (RFC 6604 §3).
    fn lookup(&self, qname: &Name, qtype: RecordType) -> (ResponseCode, Vec<Record>) {
        let mut answers = Vec::new();
        let mut name = qname.clone();
        for _ in 0..CHAIN_LIMIT {
            let owned: Vec<&Record> = self.records.iter().filter(|r| r.name == name).collect();
            if owned.is_empty() {
                return (ResponseCode::NXDomain, answers);
            }
            let matching: Vec<Record> = owned
                .iter()
                .filter(|r| r.record_type() == qtype)
                .map(|r| (*r).clone())
                .collect();
            if !matching.is_empty() {
                answers.extend(matching);
                return (ResponseCode::NoError, answers);
            }
            let alias = owned.iter().find_map(|r| match &r.data {
                RData::CNAME(CNAME(target)) => Some((*r, target)),
                _ => None,
            });
            let Some((record, target)) = alias else {
                return (ResponseCode::NoError, answers);
            };
            answers.push(record.clone());
            name = target.clone();
        }
        (ResponseCode::NoError, answers)
    }
}

/// One query as it arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryLog {
    /// The question name, in the case the client used.
    pub name: Name,
    pub rtype: RecordType,
    pub id: u16,
    pub src: SocketAddr,
    pub tcp: bool,
    /// The UDP payload size of the query's OPT record (RFC 6891 §6.1.2),
    /// if it had one.
    pub edns_payload: Option<u16>,
}

/// A test DNS server on 127.0.0.1, UDP and TCP on the same port, served by
/// background threads that stop when it is dropped.
pub struct Responder {
    addr: SocketAddr,
    shared: Arc<Shared>,
    udp: Option<JoinHandle<()>>,
    tcp: Option<JoinHandle<()>>,
}

/// A question, as the scripts and counters see it: lower-case name and type.
type Key = (Name, RecordType);

struct Shared {
    zone: Zone,
    stop: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    udp_scripts: HashMap<Key, Vec<Behaviour>>,
    tcp_scripts: HashMap<Key, Vec<Behaviour>>,
    every_name: Vec<Behaviour>,
    /// UDP queries per question since its script was set.
    udp_cursor: HashMap<Key, usize>,
    tcp_cursor: HashMap<Key, usize>,
    /// UDP queries per question since `script_all`.
    every_cursor: HashMap<Key, usize>,
    udp_count: HashMap<Key, usize>,
    tcp_count: HashMap<Key, usize>,
    /// Every datagram and TCP message received, parsable or not.
    received: usize,
    log: Vec<QueryLog>,
    /// Late replies and TCP connections in progress, joined on drop.
    workers: Vec<JoinHandle<()>>,
    random: u64,
    garbage_sent: usize,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn add_worker(&self, worker: JoinHandle<()>) {
        let mut state = self.state();
        state.workers.retain(|w| !w.is_finished());
        state.workers.push(worker);
    }

    /// Sleeps for `delay` unless the responder stops first; true if the
    /// whole delay passed.
    fn pause(&self, delay: Duration) -> bool {
        let end = Instant::now() + delay;
        loop {
            if self.stopped() {
                return false;
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            thread::sleep(left.min(Duration::from_millis(10)));
        }
    }
}

impl State {
    /// xorshift64*: enough for forged ids and garbage.
    fn random(&mut self) -> u64 {
        let mut x = self.random;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.random = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn random_bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.random() as u8).collect()
    }

    /// A message id other than `id`.
    fn other_id(&mut self, id: u16) -> u16 {
        id ^ (self.random() as u16 | 1)
    }
}

/// The behaviour for the `used`-th query under a script: the last one
/// repeats, and an empty script means [`Behaviour::Answer`].
fn pick(script: &[Behaviour], used: usize) -> Behaviour {
    script
        .get(used)
        .or(script.last())
        .cloned()
        .unwrap_or(Behaviour::Answer)
}

fn absolute(text: &str) -> Name {
    let mut name = Name::from_ascii(text).unwrap_or_else(|e| panic!("bad name {text:?}: {e}"));
    name.set_fqdn(true);
    name
}

fn key(name: &str, rtype: &str) -> Key {
    let rtype = RecordType::from_str(rtype).unwrap_or_else(|e| panic!("bad type {rtype:?}: {e}"));
    (absolute(name).to_lowercase(), rtype)
}

impl Responder {
    /// Binds UDP and TCP on one ephemeral port of 127.0.0.1 and starts
    /// serving `zone`.
    pub fn start(zone: Zone) -> Responder {
        Responder::serve(zone, bind_pair())
    }

    /// As [`Responder::start`], on port 53 of 127.0.0.1, where
    /// `/etc/resolv.conf` can name it: only inside a network namespace of
    /// the test's own.
    pub fn start_on_port_53(zone: Zone) -> Responder {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 53)).expect("UDP port 53");
        let tcp = TcpListener::bind((Ipv4Addr::LOCALHOST, 53)).expect("TCP port 53");
        Responder::serve(zone, (udp, tcp))
    }

    fn serve(zone: Zone, (udp, tcp): (UdpSocket, TcpListener)) -> Responder {
        let addr = udp.local_addr().expect("a bound address");
        udp.set_read_timeout(Some(POLL)).expect("a read timeout");
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |t| t.as_nanos() as u64);
        // Any seed but zero, which xorshift never leaves.
        let seed = (nanos ^ (u64::from(addr.port()) << 48)) | 1;
        let shared = Arc::new(Shared {
            zone,
            stop: AtomicBool::new(false),
            state: Mutex::new(State {
                random: seed,
                ..State::default()
            }),
        });
        let udp = Arc::new(udp);
        let udp_thread = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || serve_udp(&shared, &udp))
        };
        let tcp_thread = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || serve_tcp(&shared, &tcp))
        };
        Responder {
            addr,
            shared,
            udp: Some(udp_thread),
            tcp: Some(tcp_thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The behaviours for the coming UDP queries for this question, one per
    /// query; the last repeats once the list runs out. Replaces any earlier
    /// script for the question and starts counting afresh. `rtype` is a
    /// mnemonic such as "MX".
    pub fn script(&self, name: &str, rtype: &str, behaviours: Vec<Behaviour>) {
        let key = key(name, rtype);
        let mut state = self.shared.state();
        state.udp_cursor.remove(&key);
        state.udp_scripts.insert(key, behaviours);
    }

    /// As [`Responder::script`], for queries over TCP (RFC 1035 §4.2.2),
    /// which otherwise always get the answer.
    pub fn script_tcp(&self, name: &str, rtype: &str, behaviours: Vec<Behaviour>) {
        let key = key(name, rtype);
        let mut state = self.shared.state();
        state.tcp_cursor.remove(&key);
        state.tcp_scripts.insert(key, behaviours);
    }

    /// A script for the UDP queries of every question without a script of
    /// its own; each question steps through the list separately.
    pub fn script_all(&self, behaviours: Vec<Behaviour>) {
        let mut state = self.shared.state();
        state.every_cursor.clear();
        state.every_name = behaviours;
    }

    /// How many UDP queries asked this question.
    pub fn queries(&self, name: &str, rtype: &str) -> usize {
        let key = key(name, rtype);
        self.shared
            .state()
            .udp_count
            .get(&key)
            .copied()
            .unwrap_or(0)
    }

    /// How many TCP queries asked this question.
    pub fn tcp_queries(&self, name: &str, rtype: &str) -> usize {
        let key = key(name, rtype);
        self.shared
            .state()
            .tcp_count
            .get(&key)
            .copied()
            .unwrap_or(0)
    }

    /// Every datagram and TCP message received, including those that were
    /// not a query this responder could parse.
    pub fn total_queries(&self) -> usize {
        self.shared.state().received
    }

    /// The queries parsed so far, UDP and TCP, in order of arrival.
    pub fn log(&self) -> Vec<QueryLog> {
        self.shared.state().log.clone()
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(udp) = self.udp.take() {
            let _ = udp.join();
        }
        // The accept loop blocks; a connection of our own wakes it. Should
        // that fail, the thread is left behind rather than waited for.
        let woken = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(tcp) = self.tcp.take()
            && woken
        {
            let _ = tcp.join();
        }
        let workers = std::mem::take(&mut self.shared.state().workers);
        for worker in workers {
            let _ = worker.join();
        }
    }
}

/// A UDP socket and a TCP listener on the same ephemeral port.
fn bind_pair() -> (UdpSocket, TcpListener) {
    for _ in 0..32 {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("a UDP socket on 127.0.0.1");
        let port = udp.local_addr().expect("a bound address").port();
        if let Ok(tcp) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            return (udp, tcp);
        }
    }
    panic!("no port on 127.0.0.1 free for both UDP and TCP");
}

fn is_timeout(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
    )
}

fn serve_udp(shared: &Arc<Shared>, socket: &Arc<UdpSocket>) {
    let mut buffer = vec![0; 65_535];
    while !shared.stopped() {
        let (len, src) = match socket.recv_from(&mut buffer) {
            Ok(got) => got,
            Err(e) if is_timeout(&e) => continue,
            Err(_) => {
                thread::sleep(POLL);
                continue;
            }
        };
        let Some((query, behaviour)) = admit(shared, &buffer[..len], src, false) else {
            continue;
        };
        let steps = plan(shared, &behaviour, &query, false);
        if steps
            .iter()
            .any(|s| matches!(s, Step::Wait(_) | Step::Flood(..)))
        {
            let (shared2, socket) = (Arc::clone(shared), Arc::clone(socket));
            let worker = thread::spawn(move || send_udp(&shared2, &socket, src, steps));
            shared.add_worker(worker);
        } else {
            send_udp(shared, socket, src, steps);
        }
    }
}

fn serve_tcp(shared: &Arc<Shared>, listener: &TcpListener) {
    loop {
        let accepted = listener.accept();
        if shared.stopped() {
            return;
        }
        let Ok((stream, peer)) = accepted else {
            thread::sleep(POLL);
            continue;
        };
        let shared2 = Arc::clone(shared);
        let worker = thread::spawn(move || serve_connection(&shared2, stream, peer));
        shared.add_worker(worker);
    }
}

/// One TCP connection: messages with a two-byte length prefix (RFC 1035
/// §4.2.2), as many as the client sends, answered in order.
fn serve_connection(shared: &Shared, mut stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_nodelay(true);
    let mut pending = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        while pending.len() >= 2 {
            let len = usize::from(u16::from_be_bytes([pending[0], pending[1]]));
            if pending.len() < 2 + len {
                break;
            }
            let message: Vec<u8> = pending.drain(..2 + len).skip(2).collect();
            if let Some((query, behaviour)) = admit(shared, &message, peer, true) {
                let steps = plan(shared, &behaviour, &query, true);
                if !send_tcp(shared, &mut stream, steps) {
                    return;
                }
            }
        }
        if shared.stopped() {
            return;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => pending.extend_from_slice(&chunk[..n]),
            Err(e) if is_timeout(&e) => {}
            Err(_) => return,
        }
    }
}

/// Counts a received message and, if it is a standard query with one
/// question (RFC 1035 §4.1.1, §4.1.2), logs it and picks its behaviour.
fn admit(
    shared: &Shared,
    bytes: &[u8],
    src: SocketAddr,
    tcp: bool,
) -> Option<(Message, Behaviour)> {
    let mut state = shared.state();
    state.received += 1;
    let query = Message::from_vec(bytes).ok()?;
    if query.metadata.message_type != MessageType::Query
        || query.metadata.op_code != OpCode::Query
        || query.queries.len() != 1
    {
        return None;
    }
    let question = &query.queries[0];
    let key = (question.name.to_lowercase(), question.query_type);
    state.log.push(QueryLog {
        name: question.name.clone(),
        rtype: question.query_type,
        id: query.metadata.id,
        src,
        tcp,
        edns_payload: query.edns.as_ref().map(Edns::max_payload),
    });
    let State {
        udp_scripts,
        tcp_scripts,
        every_name,
        udp_cursor,
        tcp_cursor,
        every_cursor,
        udp_count,
        tcp_count,
        ..
    } = &mut *state;
    let (count, scripts, cursor) = if tcp {
        (tcp_count, tcp_scripts, tcp_cursor)
    } else {
        (udp_count, udp_scripts, udp_cursor)
    };
    *count.entry(key.clone()).or_default() += 1;
    let behaviour = if let Some(script) = scripts.get(&key) {
        let used = cursor.entry(key).or_default();
        *used += 1;
        pick(script, *used - 1)
    } else if !tcp && !every_name.is_empty() {
        let used = every_cursor.entry(key).or_default();
        *used += 1;
        pick(every_name, *used - 1)
    } else {
        Behaviour::Answer
    };
    Some((query, behaviour))
}

/// What a behaviour comes down to on the wire.
enum Step {
    Wait(Duration),
    /// A DNS message: a datagram, or framed on a TCP stream.
    Message(Vec<u8>),
    /// Bytes as they are: a datagram, or written bare to a TCP stream.
    Verbatim(Vec<u8>),
    /// A datagram from another socket; a framed message over TCP.
    OtherPort(Vec<u8>),
    /// Datagrams sent over and over from the responder's socket, for this
    /// long; over TCP, close the connection.
    Flood(Vec<Vec<u8>>, Duration),
    /// Over TCP, close the connection.
    Close,
}

fn plan(shared: &Shared, behaviour: &Behaviour, query: &Message, tcp: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    add_steps(shared, behaviour, query, tcp, &mut steps);
    steps
}

fn add_steps(
    shared: &Shared,
    behaviour: &Behaviour,
    query: &Message,
    tcp: bool,
    steps: &mut Vec<Step>,
) {
    let full_answer = || sized(answer(&shared.zone, query), query, tcp);
    match behaviour {
        Behaviour::Answer => steps.push(Step::Message(full_answer())),
        Behaviour::Late(delay) => {
            steps.push(Step::Wait(*delay));
            steps.push(Step::Message(full_answer()));
        }
        Behaviour::Drop => {
            if tcp {
                steps.push(Step::Close);
            }
        }
        Behaviour::Flood(duration) => {
            let mut forgeries = vec![question_bomb(query.metadata.id)];
            let mut state = shared.state();
            forgeries.extend((0..15).map(|_| {
                let mut reply = answer(&shared.zone, query);
                reply.metadata.id = state.other_id(query.metadata.id);
                sized(reply, query, tcp)
            }));
            steps.push(Step::Flood(forgeries, *duration));
        }
        Behaviour::ServFail => steps.push(Step::Message(encode(&failure(
            query,
            ResponseCode::ServFail,
        )))),
        Behaviour::Refused => steps.push(Step::Message(encode(&failure(
            query,
            ResponseCode::Refused,
        )))),
        Behaviour::FormErr => steps.push(Step::Message(encode(&failure(
            query,
            ResponseCode::FormErr,
        )))),
        Behaviour::Truncate => {
            let mut reply = failure(query, ResponseCode::NoError);
            reply.metadata.truncation = true;
            steps.push(Step::Message(encode(&reply)));
        }
        Behaviour::WrongId => {
            let mut reply = answer(&shared.zone, query);
            reply.metadata.id = shared.state().other_id(query.metadata.id);
            steps.push(Step::Message(sized(reply, query, tcp)));
        }
        Behaviour::WrongQuestion => {
            let mut reply = answer(&shared.zone, query);
            for question in &mut reply.queries {
                question.name = question
                    .name
                    .prepend_label("forged")
                    .unwrap_or_else(|_| absolute("forged.invalid"));
            }
            steps.push(Step::Message(sized(reply, query, tcp)));
        }
        Behaviour::WrongPort => steps.push(if tcp {
            Step::Message(full_answer())
        } else {
            Step::OtherPort(full_answer())
        }),
        Behaviour::Garbage => steps.push(Step::Message(garbage(shared, query.metadata.id))),
        Behaviour::Raw(bytes) => steps.push(Step::Verbatim(bytes.clone())),
        Behaviour::RawWithId(bytes) => {
            let mut bytes = bytes.clone();
            for (byte, id) in bytes.iter_mut().zip(query.metadata.id.to_be_bytes()) {
                *byte = id;
            }
            steps.push(Step::Message(bytes));
        }
        Behaviour::Then(behaviours) => {
            for behaviour in behaviours {
                add_steps(shared, behaviour, query, tcp, steps);
            }
        }
    }
}

/// A response under `id` that is costly to read for its size: not one
/// question but as many as fit in `UDP_CEILING` octets, the first a name of
/// 127 labels, every other one a compression pointer to it (RFC 1035
/// §4.1.2, §4.1.4). It answers no query, having no single question.
fn question_bomb(id: u16) -> Vec<u8> {
    const SIZE: usize = UDP_CEILING as usize;
    /// QTYPE MX, QCLASS IN.
    const TYPE_CLASS: [u8; 4] = [0, 15, 0, 1];
    let mut bytes = Vec::with_capacity(SIZE);
    bytes.extend_from_slice(&id.to_be_bytes());
    bytes.extend_from_slice(&[0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0]);
    for _ in 0..127 {
        bytes.extend_from_slice(&[1, b'a']);
    }
    bytes.push(0);
    bytes.extend_from_slice(&TYPE_CLASS);
    let mut questions: u16 = 1;
    while bytes.len() + 6 <= SIZE {
        bytes.extend_from_slice(&[0xc0, 12]);
        bytes.extend_from_slice(&TYPE_CLASS);
        questions += 1;
    }
    bytes[4..6].copy_from_slice(&questions.to_be_bytes());
    bytes
}

/// Random bytes; every second time behind a plausible response header
/// with a wrong id (RFC 1035 §4.1.1).
fn garbage(shared: &Shared, id: u16) -> Vec<u8> {
    let mut state = shared.state();
    state.garbage_sent += 1;
    let len = 40 + (state.random() % 161) as usize;
    let mut bytes = state.random_bytes(len);
    // Random bytes, but never under the query's own id: garbage that happened
    // to carry it would be a malformed reply from the server, not noise.
    let other = state.other_id(id);
    bytes[..2].copy_from_slice(&other.to_be_bytes());
    if state.garbage_sent.is_multiple_of(2) {
        let id = state.other_id(id);
        let header = [
            id.to_be_bytes(),
            [0x85, 0x80],
            [0, 1],
            [0, 1],
            [0, 0],
            [0, 0],
        ];
        bytes[..12].copy_from_slice(header.as_flattened());
    }
    bytes
}

/// A response to `query` with its id, its question as asked, AA and RA
/// set, RD copied (RFC 1035 §4.1.1), and an OPT record if the query had one
/// (RFC 6891 §7).
fn response(query: &Message, rcode: ResponseCode, answers: Vec<Record>) -> Message {
    let mut reply = Message::response(query.metadata.id, OpCode::Query);
    reply.metadata.authoritative = true;
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.metadata.checking_disabled = query.metadata.checking_disabled;
    reply.metadata.response_code = rcode;
    reply.queries = query.queries.clone();
    reply.answers = answers;
    if query.edns.is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(UDP_CEILING);
        reply.edns = Some(edns);
    }
    reply
}

fn failure(query: &Message, rcode: ResponseCode) -> Message {
    response(query, rcode, Vec::new())
}

fn answer(zone: &Zone, query: &Message) -> Message {
    let question = &query.queries[0];
    let (rcode, answers) = zone.lookup(&question.name, question.query_type);
    response(query, rcode, answers)
}

/// The largest UDP reply this client takes (RFC 1035 §4.2.1, RFC 6891
/// §6.2.5: a payload size under 512 counts as 512).
fn udp_limit(query: &Message) -> usize {
    let limit = match &query.edns {
        Some(edns) => edns.max_payload().clamp(UDP_CLASSIC, UDP_CEILING),
        None => UDP_CLASSIC,
    };
    usize::from(limit)
}

/// The encoded reply; over UDP, if it is too large for the client, the
/// truncated form instead: TC set, no records (RFC 1035 §4.2.1).
fn sized(mut reply: Message, query: &Message, tcp: bool) -> Vec<u8> {
    let bytes = encode(&reply);
    if tcp || bytes.len() <= udp_limit(query) {
        return bytes;
    }
    reply.answers.clear();
    reply.metadata.truncation = true;
    encode(&reply)
}

/// The message on the wire; if it cannot be encoded, a SERVFAIL for its
/// question instead. (A message over 65,535 bytes is no encoding error:
/// hickory drops records and sets TC, so keep test answers under that.)
fn encode(message: &Message) -> Vec<u8> {
    message.to_vec().unwrap_or_else(|_| {
        let mut failed = message.clone();
        failed.answers.clear();
        failed.metadata.response_code = ResponseCode::ServFail;
        failed.to_vec().unwrap_or_default()
    })
}

fn send_udp(shared: &Shared, socket: &UdpSocket, to: SocketAddr, steps: Vec<Step>) {
    for step in steps {
        match step {
            Step::Wait(delay) => {
                if !shared.pause(delay) {
                    return;
                }
            }
            Step::Message(bytes) | Step::Verbatim(bytes) => {
                let _ = socket.send_to(&bytes, to);
            }
            Step::OtherPort(bytes) => {
                if let Ok(other) = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)) {
                    let _ = other.send_to(&bytes, to);
                }
            }
            Step::Flood(datagrams, duration) => flood(shared, socket, to, &datagrams, duration),
            Step::Close => {}
        }
    }
}

/// Sends `datagrams` round and round to `to` from `FLOOD_SENDERS` threads,
/// for `duration` or until the responder stops.
fn flood(
    shared: &Shared,
    socket: &UdpSocket,
    to: SocketAddr,
    datagrams: &[Vec<u8>],
    duration: Duration,
) {
    let end = Instant::now() + duration;
    thread::scope(|scope| {
        for _ in 0..FLOOD_SENDERS {
            scope.spawn(|| {
                for datagram in datagrams.iter().cycle() {
                    if shared.stopped() || Instant::now() >= end {
                        return;
                    }
                    let _ = socket.send_to(datagram, to);
                }
            });
        }
    });
}

/// Writes the steps to the connection; false once it is closed.
fn send_tcp(shared: &Shared, stream: &mut TcpStream, steps: Vec<Step>) -> bool {
    for step in steps {
        let written = match step {
            Step::Wait(delay) => shared.pause(delay),
            Step::Message(bytes) | Step::OtherPort(bytes) => {
                let Ok(len) = u16::try_from(bytes.len()) else {
                    continue;
                };
                let mut framed = Vec::with_capacity(2 + bytes.len());
                framed.extend_from_slice(&len.to_be_bytes());
                framed.extend_from_slice(&bytes);
                stream.write_all(&framed).is_ok()
            }
            Step::Verbatim(bytes) => stream.write_all(&bytes).is_ok(),
            Step::Flood(..) | Step::Close => false,
        };
        if !written {
            return false;
        }
    }
    true
}

/// A UDP socket on 127.0.0.1 that receives queries and never answers. The
/// port stays open, so no ICMP port-unreachable tells the client anything.
pub struct DeadServer {
    socket: UdpSocket,
}

impl DeadServer {
    /// Binds a UDP socket on an ephemeral port of 127.0.0.1.
    pub fn start() -> DeadServer {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("a UDP socket on 127.0.0.1");
        DeadServer { socket }
    }

    pub fn addr(&self) -> SocketAddr {
        self.socket.local_addr().expect("a bound address")
    }
}

/// A UDP address on 127.0.0.1 that nobody listens on (bound, then closed),
/// so a query there draws an ICMP port-unreachable.
pub fn closed_port() -> SocketAddr {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("a UDP socket on 127.0.0.1");
    socket.local_addr().expect("a bound address")
}
