//! Fuzz target `resolver`: the resolver's state machine (`dns::machine`)
//! driven by events in any order and at any time (questions, replies from
//! any server, socket and TCP errors, failed sends, the clock), with a fake
//! transport in place of the sockets.
//!
//! Input: a configuration byte (servers 1 to 4, `rotate`, `use-vc`,
//! `attempts:`, `timeout:`), a byte for the lookup's timeout (0.1 to
//! 25.6 s), then events, each an operation byte and its arguments (see
//! `Fuzz::event`). Replies are built for a question the machine was asked,
//! mostly well formed (answers, NXDOMAIN, NODATA, error codes, TC, wrong
//! ids and questions, a cut-short answer, a CNAME loop), sometimes raw
//! bytes from the input.
//!
//! Checked after every event: a question ends exactly once, and never
//! before it was submitted; at or after the deadline nothing waits, and
//! anything that ends then ends in a timeout of at most the lookup's
//! timeout; an answer comes only from a datagram of a server that was asked
//! that question under its id, or from the question's own TCP exchange; a
//! question without a random id is never sent; nothing is sent for a
//! question that has ended; a question is sent at most once per server
//! failure, TC and expired try (the expired tries being at least a second
//! apart), which bounds the work and memory of a lookup; TCP connections
//! are opened and closed in pairs; the machine wakes up after now and no
//! later than the deadline while something waits, and not at all
//! otherwise. At the end, with the clock at the deadline, every question
//! has its one outcome.
#![no_main]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use libfuzzer_sys::fuzz_target;
use rmxsmtpd::dns::machine::{Io, Machine, QueryId};
use rmxsmtpd::dns::{Answer, Config, DNS_PORT, Error, Question};

/// The names questions are asked about: two share a reply's question.
const NAMES: [&str; 3] = [
    "100.51.198.in-addr.arpa.",
    "mx1.example.net.",
    "MX1.Example.NET.",
];
const TYPES: [RecordType; 3] = [RecordType::MX, RecordType::A, RecordType::AAAA];
/// The shortest wait for a try that a configuration can give.
const SHORTEST_TRY: Duration = Duration::from_secs(1);

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let (Some(setup), Some(timeout)) = (input.byte(), input.byte()) else {
        return;
    };
    let servers = usize::from(setup & 3) + 1;
    let mut config = Config::with_servers(
        (1..=servers)
            .map(|n| ([127, 0, 0, n as u8], DNS_PORT).into())
            .collect(),
    );
    config.rotate = setup & 4 != 0;
    config.use_vc = setup & 8 != 0;
    config.attempts = match (setup >> 4) & 3 {
        0 => None,
        n => Some(u32::from(n)),
    };
    config.timeout = match setup >> 6 {
        0 => None,
        1 => Some(Duration::from_secs(1)),
        2 => Some(Duration::from_secs(2)),
        _ => Some(Duration::from_secs(5)),
    };
    let timeout = Duration::from_millis((u64::from(timeout) + 1) * 100);
    let start = Instant::now();
    let mut fuzz = Fuzz {
        machine: Machine::new(&config, start, timeout),
        servers,
        timeout,
        now: start,
        deadline: start + timeout,
        queries: Vec::new(),
        by_id: HashMap::new(),
        broken: 0,
    };
    while !input.0.is_empty() {
        fuzz.event(&mut input);
    }
    let end = fuzz.deadline.max(fuzz.now);
    fuzz.machine.advance(end);
    fuzz.happen(Event::Time, end);
    assert!(
        fuzz.queries.iter().all(|q| q.outcome.is_some()),
        "every question has its outcome at the deadline"
    );
});

/// The fuzzer's bytes, taken from the front.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn byte_or_zero(&mut self) -> u8 {
        self.byte().unwrap_or(0)
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte_or_zero(), self.byte_or_zero()])
    }

    /// A length byte, then up to that many bytes.
    fn bytes(&mut self) -> Vec<u8> {
        let length = usize::from(self.byte_or_zero()).min(self.0.len());
        let (taken, rest) = self.0.split_at(length);
        self.0 = rest;
        taken.to_vec()
    }
}

/// The machine, and what the fake transport knows of each question.
struct Fuzz {
    machine: Machine,
    servers: usize,
    timeout: Duration,
    now: Instant,
    deadline: Instant,
    queries: Vec<Model>,
    by_id: HashMap<QueryId, usize>,
    /// Servers to which every send fails (an unreachable network).
    broken: u32,
}

struct Model {
    id: QueryId,
    question: Question,
    /// The query id given, or none: the random source failed.
    wire_id: Option<u16>,
    /// Servers sent the question over UDP.
    asked: u32,
    /// Sends over UDP and TCP connections opened.
    sends: usize,
    tcp_open: bool,
    outcome: Option<Result<Answer, Error>>,
}

/// What happened, for judging the outcomes it produced.
enum Event {
    Submit(usize),
    Time,
    Datagram { server: usize, bytes: Vec<u8> },
    UdpError,
    TcpReply { query: usize, was_open: bool },
    TcpFailed,
    Broken,
}

impl Fuzz {
    /// Decodes one event from the input and lets it happen. With bit 3 of
    /// the operation byte set, two bytes of milliseconds pass first, with
    /// no word to the machine: the event itself brings it the time, as the
    /// resolver's poll loop does.
    ///
    /// | op % 8 | event | arguments |
    /// | --- | --- | --- |
    /// | 0 | submit a question | name and type byte (bit 7: no random id), id (2 bytes) |
    /// | 1, 7 | time passes | milliseconds (2 bytes) |
    /// | 2 | datagram from a server | server byte, reply (see `reply`) |
    /// | 3 | error on a server's socket | server byte |
    /// | 4 | TCP reply for a question | question byte, reply |
    /// | 5 | TCP error for a question | question byte |
    /// | 6 | sends to a server start or stop failing | server byte |
    fn event(&mut self, input: &mut Input) {
        let op = input.byte_or_zero();
        let mut now = self.now;
        if op & 8 != 0 {
            now += Duration::from_millis(u64::from(input.u16()));
        }
        match op % 8 {
            0 => {
                let what = input.byte_or_zero();
                let id = input.u16();
                let question = Question {
                    name: Name::from_ascii(NAMES[usize::from(what) % NAMES.len()])
                        .expect("a literal name"),
                    rtype: TYPES[usize::from(what >> 2) % TYPES.len()],
                };
                let wire_id = (what & 0x80 == 0).then_some(id);
                let random = wire_id.ok_or_else(|| Error::NoRandom("getrandom: fuzzed".into()));
                let query = self.machine.submit(question.clone(), random, now);
                assert_eq!(self.machine.question(query), &question);
                self.by_id.insert(query, self.queries.len());
                self.queries.push(Model {
                    id: query,
                    question,
                    wire_id,
                    asked: 0,
                    sends: 0,
                    tcp_open: false,
                    outcome: None,
                });
                self.happen(Event::Submit(self.queries.len() - 1), now);
            }
            1 | 7 => {
                let later = now + Duration::from_millis(u64::from(input.u16()));
                self.machine.advance(later);
                self.happen(Event::Time, later);
            }
            2 => {
                let server = usize::from(input.byte_or_zero()) % (self.servers + 1);
                let bytes = self.reply(input);
                self.machine.datagram(server, &bytes, now);
                self.happen(Event::Datagram { server, bytes }, now);
            }
            3 => {
                let server = usize::from(input.byte_or_zero()) % (self.servers + 1);
                self.machine.udp_error(server, "Connection refused", now);
                self.happen(Event::UdpError, now);
            }
            4 => {
                let Some(query) = self.pick(input.byte_or_zero()) else {
                    return;
                };
                let bytes = self.reply_to(query, input);
                let was_open = self.queries[query].tcp_open;
                self.queries[query].tcp_open = false;
                let id = self.queries[query].id;
                self.machine.tcp_reply(id, &bytes, now);
                self.happen(Event::TcpReply { query, was_open }, now);
            }
            5 => {
                let Some(query) = self.pick(input.byte_or_zero()) else {
                    return;
                };
                self.queries[query].tcp_open = false;
                let id = self.queries[query].id;
                self.machine
                    .tcp_failed(id, "TCP: Connection reset by peer".into(), now);
                self.happen(Event::TcpFailed, now);
            }
            _ => {
                let server = usize::from(input.byte_or_zero()) % self.servers;
                self.broken ^= 1 << server;
                self.happen(Event::Broken, self.now);
            }
        }
    }

    /// A submitted question, chosen by `byte`.
    fn pick(&self, byte: u8) -> Option<usize> {
        (!self.queries.is_empty()).then(|| usize::from(byte) % self.queries.len())
    }

    /// After an event at `now`: carries out the machine's actions as a
    /// transport would, takes the outcomes, and checks them all.
    fn happen(&mut self, event: Event, now: Instant) {
        assert!(now >= self.now, "time runs forward");
        self.now = now;
        while let Some(action) = self.machine.next_io() {
            self.act(action, now);
        }
        while let Some((id, outcome)) = self.machine.take_outcome() {
            let i = *self
                .by_id
                .get(&id)
                .expect("an outcome for a submitted question");
            self.judge(i, &outcome, &event, now);
            self.queries[i].outcome = Some(outcome);
        }
        let waiting = self.queries.iter().any(|q| q.outcome.is_none());
        match self.machine.wake_at() {
            Some(wake) => {
                assert!(waiting, "a wake-up with nothing waiting");
                assert!(wake > now, "a wake-up at or before now would spin");
                assert!(wake <= self.deadline, "a wake-up past the deadline");
            }
            None => assert!(!waiting, "a question waits, with no wake-up"),
        }
        if now >= self.deadline {
            assert!(!waiting, "nothing waits past the deadline");
        }
    }

    fn act(&mut self, action: Io, now: Instant) {
        let (query, server) = match action {
            Io::SendUdp { query, server } | Io::StartTcp { query, server } => (query, server),
            Io::CloseTcp { query } => {
                let model = &mut self.queries[self.by_id[&query]];
                assert!(model.tcp_open, "closing a TCP exchange never opened");
                model.tcp_open = false;
                return;
            }
        };
        assert!(server < self.servers, "a server that does not exist");
        let i = self.by_id[&query];
        let most = 1 + 2 * self.servers + tries_within(self.timeout);
        let model = &mut self.queries[i];
        assert!(model.outcome.is_none(), "a send for a question that ended");
        assert!(model.wire_id.is_some(), "a send without a random id");
        assert!(now < self.deadline, "a send at or after the deadline");
        model.sends += 1;
        assert!(model.sends <= most, "{} sends, at most {most}", model.sends);
        let broken = self.broken & (1 << server) != 0;
        if let Io::SendUdp { .. } = action {
            assert!(!self.machine.message(query).is_empty(), "a message to send");
            model.asked |= 1 << server;
            if broken {
                let why = "Network is unreachable".into();
                self.machine.send_failed(query, server, why, now);
            }
        } else {
            assert!(!model.tcp_open, "a second TCP exchange for one question");
            model.tcp_open = !broken;
            if broken {
                let why = "TCP: Network is unreachable".into();
                self.machine.tcp_failed(query, why, now);
            }
        }
    }

    /// Checks the outcome that question `i` got from `event` at `now`.
    fn judge(&self, i: usize, outcome: &Result<Answer, Error>, event: &Event, now: Instant) {
        let model = &self.queries[i];
        assert!(model.outcome.is_none(), "a second outcome");
        if now >= self.deadline {
            assert!(
                matches!(outcome, Err(Error::Timeout(_))),
                "at the deadline only a timeout: {outcome:?}"
            );
        }
        match outcome {
            Err(Error::Timeout(after)) => assert!(*after <= self.timeout, "{after:?}"),
            Err(Error::NoRandom(_)) => {
                assert!(matches!(event, Event::Submit(q) if *q == i));
                assert!(model.wire_id.is_none() && model.sends == 0);
            }
            Err(Error::ServersFailed(_)) => {}
            Ok(_) | Err(Error::CnameChain) => match event {
                Event::Datagram { server, bytes } => {
                    assert!(model.asked & (1 << server) != 0, "from a server not asked");
                    let id = model.wire_id.expect("asked, so it has an id");
                    assert!(bytes.starts_with(&id.to_be_bytes()), "under another id");
                }
                Event::TcpReply { query, was_open } => {
                    assert!(*query == i && *was_open, "from a TCP exchange not its own");
                }
                _ => panic!("an answer with no reply: {outcome:?}"),
            },
        }
    }

    /// A reply to a question chosen by the input (or to a question never
    /// asked, when none was).
    fn reply(&self, input: &mut Input) -> Vec<u8> {
        match self.pick(input.byte_or_zero()) {
            Some(query) => self.reply_to(query, input),
            None => {
                let question = Question {
                    name: Name::from_ascii(NAMES[0]).expect("a literal name"),
                    rtype: RecordType::MX,
                };
                build(&question, 0, input)
            }
        }
    }

    fn reply_to(&self, query: usize, input: &mut Input) -> Vec<u8> {
        let model = &self.queries[query];
        build(&model.question, model.wire_id.unwrap_or(0), input)
    }
}

/// How many tries of at least `SHORTEST_TRY` can run out within `timeout`.
fn tries_within(timeout: Duration) -> usize {
    (timeout.as_millis() / SHORTEST_TRY.as_millis()) as usize
}

/// A reply to `question` under `id`, of the kind the input's next byte says.
fn build(question: &Question, id: u16, input: &mut Input) -> Vec<u8> {
    let kind = input.byte_or_zero();
    let owner = question.name.clone();
    let mut message = Message::new(id, MessageType::Response, OpCode::Query);
    message.add_query(Query::query(question.name.clone(), question.rtype));
    let data = |n: u8| match question.rtype {
        RecordType::MX => RData::MX(MX::new(u16::from(n), name("mx1.example.net."))),
        RecordType::A => RData::A(A([198, 51, 100, n].into())),
        _ => RData::AAAA(AAAA([0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(n)].into())),
    };
    match kind % 16 {
        0..=2 => {
            for n in 0..=kind % 3 {
                message.add_answer(Record::from_rdata(owner.clone(), 300, data(n)));
            }
        }
        3 => message.metadata.response_code = ResponseCode::NXDomain,
        4 => {}
        5 => message.metadata.response_code = ResponseCode::ServFail,
        6 => message.metadata.response_code = ResponseCode::Refused,
        7 => message.metadata.response_code = ResponseCode::FormErr,
        8 => message.metadata.truncation = true,
        9 => message.metadata.id = id ^ (u16::from(kind) | 1),
        10 => {
            message.queries[0] = Query::query(name("other.example.net."), question.rtype);
            message.add_answer(Record::from_rdata(owner, 300, data(1)));
        }
        11 => message.metadata.message_type = MessageType::Query,
        12 => {
            message.add_answer(Record::from_rdata(owner, 300, data(1)));
            let mut bytes = message.to_vec().expect("a reply encodes");
            bytes.truncate(bytes.len() - 3);
            return bytes;
        }
        13 => return input.bytes(),
        14 => {
            let mut bytes = input.bytes();
            for (byte, id) in bytes.iter_mut().zip(id.to_be_bytes()) {
                *byte = id;
            }
            return bytes;
        }
        _ => {
            let loop_to = name("loop.example.net.");
            message.add_answer(Record::from_rdata(
                owner.clone(),
                300,
                RData::CNAME(CNAME(loop_to.clone())),
            ));
            message.add_answer(Record::from_rdata(loop_to, 300, RData::CNAME(CNAME(owner))));
        }
    }
    message.to_vec().expect("a reply encodes")
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("a literal name")
}
