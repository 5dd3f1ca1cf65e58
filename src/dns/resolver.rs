//! The stub resolver: many questions in flight on one poll loop, each with its
//! own retry schedule over the configured servers, all bounded by one
//! deadline (DESIGN.md §7).
//!
//! A caller submits questions and takes outcomes as they complete; it may
//! submit more at any time (the exchanges' addresses, the moment an MX
//! answer arrives) and may stop at any time: dropping the resolver closes
//! every socket.

use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};

use super::transport::{self, TcpExchange, TcpProgress};
use super::wire::{self, Answer, Question, Reply};
use super::{Config, Error};

/// First wait for a UDP reply when resolv.conf sets no `timeout:`; it doubles
/// after each round over all servers, up to `MAX_TRY`.
const FIRST_TRY: Duration = Duration::from_secs(1);
const MAX_TRY: Duration = Duration::from_secs(8);
/// A TCP exchange may take this many times the UDP wait of its round.
const TCP_TRY_FACTOR: u32 = 2;
/// The servers of a query are tracked in a bit mask.
const MAX_SERVERS: usize = 32;
/// Largest DNS message over UDP or TCP.
const MAX_MESSAGE: usize = 65_535;

/// Names one submitted question.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct QueryId(usize);

pub struct Resolver {
    net: Net,
    queries: Vec<Query>,
    /// Where `options rotate` starts the next query.
    rotation: usize,
    buf: Vec<u8>,
}

/// The servers, their sockets and the clock: what every try needs.
struct Net {
    config: Config,
    started: Instant,
    deadline: Instant,
    /// One connected UDP socket per server, opened on first use.
    udp: Vec<Option<UdpSocket>>,
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
    /// Servers sent this query over UDP: a late reply from any of them counts.
    asked: u32,
    /// Servers that refused, failed or sent garbage: not asked again.
    failed: u32,
    /// Why the last server failed, for the error if all of them do.
    last_failure: String,
    tcp: Option<TcpExchange>,
    outcome: Option<Result<Answer, Error>>,
    delivered: bool,
}

impl Query {
    fn pending(&self) -> bool {
        self.outcome.is_none()
    }
}

impl Resolver {
    /// A resolver whose every question ends within `timeout` from now.
    pub fn new(config: Config, timeout: Duration) -> Resolver {
        assert!(config.servers.len() <= MAX_SERVERS, "too many servers");
        let started = Instant::now();
        let rotation = if config.rotate {
            usize::from(super::random_u16())
        } else {
            0
        };
        Resolver {
            net: Net {
                udp: config.servers.iter().map(|_| None).collect(),
                config,
                started,
                deadline: started + timeout,
            },
            queries: Vec::new(),
            rotation,
            // Not zeroed: recv writes what is read, and only that is used.
            buf: Vec::with_capacity(MAX_MESSAGE),
        }
    }

    /// Sends a question at once and returns its name.
    pub fn submit(&mut self, name: Name, rtype: RecordType) -> QueryId {
        let question = Question { name, rtype };
        let id = super::random_u16();
        let first = self.rotation % self.net.config.servers.len();
        if self.net.config.rotate {
            self.rotation = self.rotation.wrapping_add(1);
        }
        let now = Instant::now();
        let mut query = Query {
            message: wire::query(id, &question),
            question,
            id,
            first,
            try_no: 0,
            server: first,
            try_ends: now,
            asked: 0,
            failed: 0,
            last_failure: String::new(),
            tcp: None,
            outcome: None,
            delivered: false,
        };
        self.net.start_try_from(&mut query, 0, now);
        self.queries.push(query);
        QueryId(self.queries.len() - 1)
    }

    /// The question behind an id.
    pub fn question(&self, id: QueryId) -> &Question {
        &self.queries[id.0].question
    }

    /// Waits for the next question to complete and returns its outcome, or
    /// `None` when nothing is left in flight.
    pub fn next_outcome(&mut self) -> Option<(QueryId, Result<Answer, Error>)> {
        loop {
            if let Some(i) = self
                .queries
                .iter()
                .position(|q| !q.delivered && q.outcome.is_some())
            {
                let query = &mut self.queries[i];
                query.delivered = true;
                query.tcp = None;
                return query.outcome.clone().map(|outcome| (QueryId(i), outcome));
            }
            if !self.queries.iter().any(Query::pending) {
                return None;
            }
            let now = Instant::now();
            if now >= self.net.deadline {
                let waited = self.net.deadline - self.net.started;
                for query in self.queries.iter_mut().filter(|q| q.pending()) {
                    query.outcome = Some(Err(Error::Timeout(waited)));
                }
                continue;
            }
            self.expire_tries(now);
            if self
                .queries
                .iter()
                .any(|q| !q.delivered && q.outcome.is_some())
            {
                continue;
            }
            self.wait(now);
        }
    }

    /// Moves every query whose current try has run out on to its next try.
    fn expire_tries(&mut self, now: Instant) {
        for query in self.queries.iter_mut() {
            if !query.pending() || now < query.try_ends {
                continue;
            }
            if query.tcp.take().is_some() {
                query.failed |= 1 << query.server;
                query.last_failure = "TCP timeout".into();
            }
            let next = query.try_no + 1;
            self.net.start_try_from(query, next, now);
        }
    }

    /// One poll(2) over every socket in use, then handles what is ready.
    fn wait(&mut self, now: Instant) {
        let mut fds = Vec::new();
        for socket in self.net.udp.iter().flatten() {
            fds.push(pollfd(socket.as_raw_fd(), libc::POLLIN));
        }
        let udp_count = fds.len();
        let mut tcp_owners = Vec::new();
        for (i, query) in self.queries.iter().enumerate() {
            if let (true, Some(tcp)) = (query.pending(), &query.tcp) {
                fds.push(pollfd(tcp.fd(), tcp.events()));
                tcp_owners.push(i);
            }
        }
        let wake = self
            .queries
            .iter()
            .filter(|q| q.pending())
            .map(|q| q.try_ends)
            .fold(self.net.deadline, Instant::min);
        let wait = wake.saturating_duration_since(now);
        let millis = wait.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32;
        // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, millis) };
        if ready <= 0 {
            return; // timeout, or EINTR: the caller's loop looks again
        }
        let servers: Vec<usize> = (0..self.net.udp.len())
            .filter(|&s| self.net.udp[s].is_some())
            .collect();
        for (slot, &server) in servers.iter().enumerate() {
            if fds[slot].revents != 0 {
                self.read_udp(server);
            }
        }
        for (slot, &i) in tcp_owners.iter().enumerate() {
            if fds[udp_count + slot].revents != 0 {
                self.advance_tcp(i);
            }
        }
    }

    /// Reads every waiting datagram from one server's socket.
    fn read_udp(&mut self, server: usize) {
        loop {
            let Some(socket) = &self.net.udp[server] else {
                return;
            };
            let length = match recv_into(socket, &mut self.buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    // ICMP port unreachable and the like: this server is gone
                    // for every query now waiting on it over UDP.
                    self.server_failed(server, &e.to_string());
                    return;
                }
            };
            let datagram = &self.buf[..length];
            let mut handled = None;
            for (i, query) in self.queries.iter().enumerate() {
                if !query.pending() || query.asked & (1 << server) == 0 {
                    continue;
                }
                match wire::check(datagram, query.id, &query.question) {
                    Reply::NotOurs => continue,
                    reply => {
                        handled = Some((i, reply));
                        break;
                    }
                }
            }
            if let Some((i, reply)) = handled {
                self.take_reply(i, server, reply);
            }
        }
    }

    fn server_failed(&mut self, server: usize, why: &str) {
        let now = Instant::now();
        for i in 0..self.queries.len() {
            let query = &self.queries[i];
            if query.pending() && query.tcp.is_none() && query.server == server {
                self.fail_server(i, server, why.to_string(), now);
            }
        }
    }

    fn advance_tcp(&mut self, i: usize) {
        let query = &mut self.queries[i];
        let Some(tcp) = &mut query.tcp else {
            return;
        };
        let server = query.server;
        match tcp.advance() {
            Ok(TcpProgress::Waiting) => {}
            Ok(TcpProgress::Reply(bytes)) => {
                query.tcp = None;
                let reply = match wire::check(&bytes, query.id, &query.question) {
                    // Over TCP nobody else can answer, so a wrong reply is
                    // the server's fault, and TC makes no sense.
                    Reply::NotOurs | Reply::Truncated => Reply::Malformed,
                    reply => reply,
                };
                self.take_reply(i, server, reply);
            }
            Err(e) => {
                query.tcp = None;
                self.fail_server(
                    i,
                    server,
                    format!("TCP: {}", crate::error_str::of(&e)),
                    Instant::now(),
                );
            }
        }
    }

    /// Acts on a reply from `server` that concerns query `i`.
    fn take_reply(&mut self, i: usize, server: usize, reply: Reply) {
        let now = Instant::now();
        match reply {
            Reply::NotOurs => {}
            Reply::Final(outcome) => self.queries[i].outcome = Some(outcome),
            Reply::Truncated => {
                let query = &mut self.queries[i];
                query.server = server;
                self.net.send_tcp(query, server, now);
            }
            Reply::Malformed => self.fail_server(i, server, "malformed reply".into(), now),
            Reply::Refused(rcode) => self.fail_server(i, server, rcode_name(rcode), now),
        }
    }

    /// Marks `server` as failed for query `i` and moves it to the next try.
    fn fail_server(&mut self, i: usize, server: usize, why: String, now: Instant) {
        let query = &mut self.queries[i];
        query.failed |= 1 << server;
        query.last_failure = why;
        if query.tcp.is_none() && query.server == server {
            let next = query.try_no + 1;
            self.net.start_try_from(query, next, now);
        }
    }
}

impl Net {
    /// Starts try number `try_no` or the first after it whose server has not
    /// failed. The schedule is round after round over all servers, starting
    /// each round at the query's first server (resolv.conf(5)).
    fn start_try_from(&mut self, query: &mut Query, mut try_no: usize, now: Instant) {
        let servers = self.config.servers.len();
        loop {
            if query.failed.count_ones() as usize >= servers {
                query.outcome = Some(Err(Error::ServersFailed(query.last_failure.clone())));
                return;
            }
            let round = try_no / servers;
            if self.config.attempts.is_some_and(|a| round >= a as usize) {
                query.outcome = Some(Err(Error::Timeout(now - self.started)));
                return;
            }
            let server = (query.first + try_no) % servers;
            query.try_no = try_no;
            query.server = server;
            if query.failed & (1 << server) != 0 {
                try_no += 1;
                continue;
            }
            let wait = self.try_wait(round);
            query.try_ends = (now + wait).min(self.deadline);
            if self.config.use_vc {
                self.send_tcp(query, server, now);
                return;
            }
            match self.send_udp(server, &query.message) {
                Ok(()) => {
                    query.asked |= 1 << server;
                    return;
                }
                Err(e) => {
                    query.failed |= 1 << server;
                    query.last_failure = crate::error_str::of(&e);
                    try_no += 1;
                }
            }
        }
    }

    fn try_wait(&self, round: usize) -> Duration {
        self.config.timeout.unwrap_or_else(|| {
            let doubled = FIRST_TRY.saturating_mul(1 << round.min(8));
            doubled.min(MAX_TRY)
        })
    }

    fn send_udp(&mut self, server: usize, message: &[u8]) -> std::io::Result<()> {
        if self.udp[server].is_none() {
            self.udp[server] = Some(transport::udp_socket(self.config.servers[server])?);
        }
        let socket = self.udp[server].as_ref().expect("opened above");
        socket.send(message).map(|_| ())
    }

    /// Asks `server` over TCP; on failure, moves on to the next try.
    fn send_tcp(&mut self, query: &mut Query, server: usize, now: Instant) {
        let round = query.try_no / self.config.servers.len();
        let wait = self.try_wait(round).saturating_mul(TCP_TRY_FACTOR);
        query.try_ends = (now + wait).min(self.deadline);
        match TcpExchange::start(self.config.servers[server], &query.message) {
            Ok(tcp) => query.tcp = Some(tcp),
            Err(e) => {
                query.failed |= 1 << server;
                query.last_failure = format!("TCP: {}", crate::error_str::of(&e));
                let next = query.try_no + 1;
                self.start_try_from(query, next, now);
            }
        }
    }
}

/// One datagram into `buf`'s capacity, which is not zeroed first: zeroing
/// 64 KiB took a third of rmxsmtpd's instructions before the exec, and 16
/// page faults (README, "Benchmarks"). Afterwards `buf` holds the datagram.
fn recv_into(socket: &UdpSocket, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    buf.clear();
    // SAFETY: `buf` owns `capacity` writable bytes at `as_mut_ptr`, and recv
    // writes at most the length it is given.
    let n = unsafe {
        libc::recv(
            socket.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.capacity(),
            0,
        )
    };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let n = n as usize;
    // SAFETY: recv returned n ≤ capacity, and wrote those first n bytes.
    unsafe { buf.set_len(n) };
    Ok(n)
}

fn pollfd(fd: i32, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
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
