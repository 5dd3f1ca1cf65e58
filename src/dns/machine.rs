//! The resolver's decisions, with no socket and no clock of its own: which
//! server each question asks next and how, when a try has run out, what a
//! reply counts for, and the one deadline that ends every question
//! (rmxsmtpd(8), "The DNS").
//!
//! The poll loop in `resolver` feeds it events (a question submitted, a
//! datagram from a server, a TCP reply or error, a send that failed, the
//! time) and carries out the input and output it asks for; the fuzz target
//! `resolver` feeds it invented ones. Each event takes the time it happened:
//! whatever arrives at or after the deadline finds every question already
//! ended by a timeout; before it, the event acts first, and then every try
//! that has run out by then moves on.
//!
//! The schedule is resolv.conf(5)'s: round after round over the servers,
//! each round starting at the question's first server; about a second per
//! try, doubling after each round (or `timeout:` seconds each), for at most
//! `attempts:` rounds. A server that fails a question is not asked it again.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;

use super::wire::{self, Answer, Question, Reply};
use super::{Config, Error};

/// First wait for a UDP reply when resolv.conf sets no `timeout:`; it doubles
/// after each round over all servers, up to `MAX_TRY`.
const FIRST_TRY: Duration = Duration::from_secs(1);
const MAX_TRY: Duration = Duration::from_secs(8);
/// A TCP exchange may take this many times the UDP wait of its round.
const TCP_TRY_FACTOR: u32 = 2;
/// The servers of a question are tracked in a bit mask.
const MAX_SERVERS: usize = 32;

/// Names one submitted question.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueryId(usize);

/// The input and output the machine asks of its driver. A failed send
/// comes back as [`Machine::send_failed`] or [`Machine::tcp_failed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Io {
    /// Send the question's [`message`](Machine::message) to this server over
    /// UDP; its replies come back as [`Machine::datagram`].
    SendUdp { query: QueryId, server: usize },
    /// Ask this server over TCP (RFC 1035 §4.2.2, RFC 7766): one connection
    /// for this question, whose end comes back as [`Machine::tcp_reply`] or
    /// [`Machine::tcp_failed`].
    StartTcp { query: QueryId, server: usize },
    /// Close the question's TCP connection: the machine no longer waits on it.
    CloseTcp { query: QueryId },
}

/// The state of every question of one lookup.
pub struct Machine {
    servers: usize,
    timeout: Option<Duration>,
    attempts: Option<u32>,
    rotate: bool,
    use_vc: bool,
    started: Instant,
    deadline: Instant,
    queries: Vec<Query>,
    /// Where `options rotate` starts the next question: set from the first
    /// question's random id, so that it costs no second random source.
    rotation: Option<usize>,
    io: VecDeque<Io>,
    /// Questions ended and not yet taken, in the order they ended.
    ended: VecDeque<QueryId>,
}

struct Query {
    question: Question,
    id: u16,
    message: Vec<u8>,
    /// The server of the first try of every round.
    first: usize,
    /// Index of the current try in the schedule (round × servers + step).
    try_no: usize,
    /// The server of the current try.
    server: usize,
    try_ends: Instant,
    /// Servers sent this question over UDP: a late reply from any of them
    /// counts.
    asked: u32,
    /// Servers that refused, failed or sent garbage: never asked again, and
    /// nothing more from them counts.
    failed: u32,
    /// Why the last server failed, for the error if all of them do.
    last_failure: String,
    /// The current try is a TCP exchange with `server`.
    on_tcp: bool,
    state: State,
    /// How long the final answer may be kept ([`wire::ttl`]).
    ttl: Option<u32>,
}

enum State {
    Waiting,
    Ended(Result<Answer, Error>),
    Taken,
}

impl Query {
    fn waiting(&self) -> bool {
        matches!(self.state, State::Waiting)
    }
}

impl Machine {
    /// A lookup over `config`'s servers whose every question ends by
    /// `now + timeout`.
    pub fn new(config: &Config, now: Instant, timeout: Duration) -> Machine {
        let servers = config.servers.len();
        assert!(
            (1..=MAX_SERVERS).contains(&servers),
            "1 to {MAX_SERVERS} servers"
        );
        Machine {
            servers,
            timeout: config.timeout,
            attempts: config.attempts,
            rotate: config.rotate,
            use_vc: config.use_vc,
            started: now,
            deadline: now + timeout,
            queries: Vec::new(),
            rotation: None,
            io: VecDeque::new(),
            ended: VecDeque::new(),
        }
    }

    /// A new question, asked at once under `id`, its random query id
    /// (RFC 5452 §9.2). Without one (`Err`: the random source failed) the
    /// question ends with that error, unasked.
    pub fn submit(&mut self, question: Question, id: Result<u16, Error>, now: Instant) -> QueryId {
        let i = self.queries.len();
        let wire_id = id.as_ref().ok().copied();
        let first = match wire_id {
            Some(id) if self.rotate => {
                let next = *self.rotation.get_or_insert(usize::from(id));
                self.rotation = Some(next.wrapping_add(1));
                next % self.servers
            }
            _ => 0,
        };
        self.queries.push(Query {
            message: wire_id.map_or_else(Vec::new, |id| wire::query(id, &question)),
            question,
            id: wire_id.unwrap_or(0),
            first,
            try_no: 0,
            server: first,
            try_ends: now,
            asked: 0,
            failed: 0,
            last_failure: String::new(),
            on_tcp: false,
            state: State::Waiting,
            ttl: None,
        });
        self.at(now, |machine| match id {
            Err(error) => machine.end(i, Err(error)),
            Ok(_) => machine.start_try(i, 0, now),
        });
        QueryId(i)
    }

    /// The question behind an id.
    pub fn question(&self, query: QueryId) -> &Question {
        &self.queries[query.0].question
    }

    /// The query message to send for a question.
    pub fn message(&self, query: QueryId) -> &[u8] {
        &self.queries[query.0].message
    }

    /// The next thing to do, in the order decided.
    pub fn next_io(&mut self) -> Option<Io> {
        self.io.pop_front()
    }

    /// How long, in seconds, a question's answer may be kept, if its reply
    /// said.
    pub fn ttl(&self, query: QueryId) -> Option<u32> {
        self.queries[query.0].ttl
    }

    /// A question that has ended, with its outcome; each is given once.
    pub fn take_outcome(&mut self) -> Option<(QueryId, Result<Answer, Error>)> {
        let query = self.ended.pop_front()?;
        match std::mem::replace(&mut self.queries[query.0].state, State::Taken) {
            State::Ended(outcome) => Some((query, outcome)),
            State::Waiting | State::Taken => unreachable!("only ended questions are queued"),
        }
    }

    /// When a try runs out or the deadline comes, whichever is first; `None`
    /// once no question waits.
    pub fn wake_at(&self) -> Option<Instant> {
        self.queries
            .iter()
            .filter(|q| q.waiting())
            .map(|q| q.try_ends.min(self.deadline))
            .min()
    }

    /// The time is `now`: ends every question at the deadline, and moves
    /// each question whose try has run out on to its next try.
    pub fn advance(&mut self, now: Instant) {
        self.at(now, |_| {});
    }

    /// A datagram read from `server`'s socket, which the kernel lets through
    /// only from that server's address and port (RFC 5452 §9.1). It counts
    /// for the first question asked of that server whose id and question it
    /// carries; anything else is ignored.
    pub fn datagram(&mut self, server: usize, bytes: &[u8], now: Instant) {
        self.at(now, |machine| {
            let Some(bit) = server_bit(server, machine.servers) else {
                return;
            };
            let matching = machine.queries.iter().enumerate().find_map(|(i, query)| {
                if !query.waiting() || query.asked & bit == 0 || query.failed & bit != 0 {
                    return None;
                }
                match wire::check(bytes, query.id, &query.question) {
                    Reply::NotOurs => None,
                    reply => Some((i, reply)),
                }
            });
            if let Some((i, reply)) = matching {
                machine.queries[i].ttl = wire::ttl(bytes);
                machine.take_reply(i, server, reply, now);
            }
        });
    }

    /// `server`'s UDP socket reported an error (an ICMP port unreachable and
    /// the like): the server is gone for every question now waiting on it
    /// over UDP.
    pub fn udp_error(&mut self, server: usize, why: &str, now: Instant) {
        self.at(now, |machine| {
            for i in 0..machine.queries.len() {
                let query = &machine.queries[i];
                if query.waiting() && !query.on_tcp && query.server == server {
                    machine.fail_server(i, server, why.to_string(), now);
                }
            }
        });
    }

    /// Sending a question to `server` over UDP failed.
    pub fn send_failed(&mut self, query: QueryId, server: usize, why: String, now: Instant) {
        self.at(now, |machine| {
            let waiting = machine.queries.get(query.0).is_some_and(Query::waiting);
            if waiting && server < machine.servers {
                machine.fail_server(query.0, server, why, now);
            }
        });
    }

    /// The question's TCP exchange brought this message, and is over. Over
    /// TCP nobody else can answer, so a reply that does not fit is the
    /// server's fault, and TC makes no sense (RFC 7766 §8).
    pub fn tcp_reply(&mut self, query: QueryId, bytes: &[u8], now: Instant) {
        let exchange = self.exchange_over(query);
        self.at(now, |machine| {
            let Some(i) = exchange else {
                return;
            };
            let q = &machine.queries[i];
            let reply = match wire::check(bytes, q.id, &q.question) {
                Reply::NotOurs | Reply::Truncated => Reply::Malformed,
                reply => reply,
            };
            machine.queries[i].ttl = wire::ttl(bytes);
            machine.take_reply(i, machine.queries[i].server, reply, now);
        });
    }

    /// The question's TCP exchange failed (connect, write or read), and is
    /// over.
    pub fn tcp_failed(&mut self, query: QueryId, why: String, now: Instant) {
        let exchange = self.exchange_over(query);
        self.at(now, |machine| {
            if let Some(i) = exchange {
                let server = machine.queries[i].server;
                machine.fail_server(i, server, why, now);
            }
        });
    }

    /// Handles an event at `now`: at or after the deadline, nothing counts
    /// and every question ends; before it, `handle` acts, and then every
    /// try that has run out by `now` moves on.
    fn at(&mut self, now: Instant, handle: impl FnOnce(&mut Machine)) {
        if now >= self.deadline {
            let waited = self.deadline - self.started;
            for i in 0..self.queries.len() {
                if self.queries[i].waiting() {
                    self.end(i, Err(Error::Timeout(waited)));
                }
            }
            return;
        }
        handle(self);
        for i in 0..self.queries.len() {
            let query = &mut self.queries[i];
            if !query.waiting() || now < query.try_ends {
                continue;
            }
            if query.on_tcp {
                query.on_tcp = false;
                query.failed |= 1 << query.server;
                query.last_failure = "TCP timeout".into();
                self.io.push_back(Io::CloseTcp { query: QueryId(i) });
            }
            let next = self.queries[i].try_no + 1;
            self.start_try(i, next, now);
        }
    }

    /// The index of a question whose TCP exchange the driver reports over,
    /// if the question was waiting on it.
    fn exchange_over(&mut self, query: QueryId) -> Option<usize> {
        let q = self.queries.get_mut(query.0)?;
        let waited = q.waiting() && q.on_tcp;
        q.on_tcp = false;
        waited.then_some(query.0)
    }

    /// Acts on a reply from `server` that concerns question `i`.
    fn take_reply(&mut self, i: usize, server: usize, reply: Reply, now: Instant) {
        match reply {
            Reply::NotOurs => {}
            Reply::Final(outcome) => self.end(i, outcome),
            // TC: the same server again over TCP (RFC 1035 §4.2.1, RFC 7766
            // §5), unless the question is on TCP already.
            Reply::Truncated if self.queries[i].on_tcp => {}
            Reply::Truncated => self.start_tcp(i, server, now),
            Reply::Malformed => self.fail_server(i, server, "malformed reply".into(), now),
            Reply::ServerError(rcode) => self.fail_server(i, server, rcode_name(rcode), now),
        }
    }

    /// Marks `server` as failed for question `i`, and moves the question on
    /// to its next try if it was waiting on that server over UDP.
    fn fail_server(&mut self, i: usize, server: usize, why: String, now: Instant) {
        let query = &mut self.queries[i];
        query.failed |= 1 << server;
        query.last_failure = why;
        if !query.on_tcp && query.server == server {
            let next = query.try_no + 1;
            self.start_try(i, next, now);
        }
    }

    /// Starts try number `try_no`, or the first after it whose server has
    /// not failed; or ends the question when no server or round is left.
    fn start_try(&mut self, i: usize, mut try_no: usize, now: Instant) {
        let servers = self.servers;
        loop {
            let round = try_no / servers;
            let wait = self.try_wait(round);
            let query = &mut self.queries[i];
            if query.failed.count_ones() as usize >= servers {
                let why = query.last_failure.clone();
                return self.end(i, Err(Error::ServersFailed(why)));
            }
            if self.attempts.is_some_and(|a| round >= a as usize) {
                return self.end(i, Err(Error::Timeout(now - self.started)));
            }
            let server = (query.first + try_no) % servers;
            query.try_no = try_no;
            query.server = server;
            if query.failed & (1 << server) != 0 {
                try_no += 1;
                continue;
            }
            if self.use_vc {
                return self.start_tcp(i, server, now);
            }
            query.try_ends = (now + wait).min(self.deadline);
            query.asked |= 1 << server;
            let query = QueryId(i);
            self.io.push_back(Io::SendUdp { query, server });
            return;
        }
    }

    /// Asks `server` over TCP, with twice the UDP wait of the round.
    fn start_tcp(&mut self, i: usize, server: usize, now: Instant) {
        let round = self.queries[i].try_no / self.servers;
        let wait = self.try_wait(round).saturating_mul(TCP_TRY_FACTOR);
        let query = &mut self.queries[i];
        query.try_ends = (now + wait).min(self.deadline);
        query.server = server;
        query.on_tcp = true;
        let query = QueryId(i);
        self.io.push_back(Io::StartTcp { query, server });
    }

    fn try_wait(&self, round: usize) -> Duration {
        self.timeout.unwrap_or_else(|| {
            let doubled = FIRST_TRY.saturating_mul(1 << round.min(8));
            doubled.min(MAX_TRY)
        })
    }

    /// Ends question `i` with `outcome`, closing its TCP exchange if any.
    fn end(&mut self, i: usize, outcome: Result<Answer, Error>) {
        let query = &mut self.queries[i];
        if query.on_tcp {
            query.on_tcp = false;
            self.io.push_back(Io::CloseTcp { query: QueryId(i) });
        }
        query.state = State::Ended(outcome);
        self.ended.push_back(QueryId(i));
    }
}

/// The bit of `server` in a question's masks, if there is such a server.
fn server_bit(server: usize, servers: usize) -> Option<u32> {
    (server < servers).then(|| 1 << server)
}

fn rcode_name(rcode: ResponseCode) -> String {
    match rcode {
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        other => format!("RCODE {}", u16::from(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{Message, MessageType, OpCode, Query};
    use hickory_proto::rr::Name;
    use hickory_proto::rr::RecordType;

    fn question() -> Question {
        Question {
            name: Name::from_ascii("100.51.198.in-addr.arpa.").unwrap(),
            rtype: RecordType::MX,
        }
    }

    fn machine(now: Instant) -> Machine {
        let config = Config::with_servers(vec![([127, 0, 0, 1], 53).into()]);
        Machine::new(&config, now, Duration::from_secs(10))
    }

    #[test]
    fn a_question_without_a_random_id_is_never_sent() {
        let now = Instant::now();
        let mut machine = machine(now);
        let error = Error::NoRandom("getrandom: test".into());
        let query = machine.submit(question(), Err(error.clone()), now);
        assert_eq!(machine.next_io(), None);
        assert_eq!(machine.take_outcome(), Some((query, Err(error))));
        assert_eq!(machine.wake_at(), None);
    }

    /// A TCP reply that arrives as its try runs out still counts: the event
    /// acts before the expired tries move on.
    #[test]
    fn a_tcp_reply_at_the_end_of_its_try_counts() {
        let now = Instant::now();
        let mut machine = machine(now);
        let query = machine.submit(question(), Ok(7), now);
        assert_eq!(machine.next_io(), Some(Io::SendUdp { query, server: 0 }));
        let mut reply = Message::new(7, MessageType::Response, OpCode::Query);
        reply.add_query(Query::query(question().name, RecordType::MX));
        reply.metadata.truncation = true;
        machine.datagram(0, &reply.to_vec().unwrap(), now);
        assert_eq!(machine.next_io(), Some(Io::StartTcp { query, server: 0 }));
        let try_ends = machine.wake_at().unwrap();
        reply.metadata.truncation = false;
        machine.tcp_reply(query, &reply.to_vec().unwrap(), try_ends);
        assert_eq!(machine.take_outcome(), Some((query, Ok(Answer::NoData))));
        assert_eq!(machine.next_io(), None, "nothing more to send or close");
    }
}
