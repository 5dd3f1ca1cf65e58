//! The stub resolver's input and output: the sockets, the clock, the random
//! query ids and one poll(2) loop, driving the decisions of `machine` for
//! many questions in flight at once (rmxsmtpd(8), "The DNS").
//!
//! A caller submits questions and takes outcomes as they complete; it may
//! submit more at any time (the exchanges' addresses, the moment an MX
//! answer arrives) and may stop at any time: dropping the resolver closes
//! every socket.

use std::io;
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use hickory_proto::rr::{Name, RecordType};

use super::machine::{Io, Machine, QueryId};
use super::transport::{self, TcpExchange, TcpProgress};
use super::wire::{Answer, Question};
use super::{Config, Error};
use crate::{error_str, sys};

/// Largest DNS message over UDP or TCP.
const MAX_MESSAGE: usize = 65_535;
/// Datagrams read from one socket per wake-up. A lookup expects a few
/// replies per server at a time (its names, then at most 20 exchanges);
/// past this many, the loop looks at its timers, its deadline and its other
/// sockets before it reads on, so that a server flooding its socket can
/// neither hold the lookup past the deadline nor keep it from asking the
/// next server.
const DATAGRAMS_PER_WAKE: usize = 64;

pub struct Resolver {
    machine: Machine,
    config: Config,
    /// One connected UDP socket per server, opened on first use.
    udp: Vec<Option<UdpSocket>>,
    /// The TCP exchanges in progress, by question.
    tcp: Vec<(QueryId, TcpExchange)>,
    buf: Vec<u8>,
}

impl Resolver {
    /// A resolver whose every question ends within `timeout` from now.
    pub fn new(config: Config, timeout: Duration) -> Resolver {
        Resolver {
            machine: Machine::new(&config, Instant::now(), timeout),
            udp: config.servers.iter().map(|_| None).collect(),
            config,
            tcp: Vec::new(),
            // Not zeroed: recv writes what is read, and only that is used.
            buf: Vec::with_capacity(MAX_MESSAGE),
        }
    }

    /// Sends a question at once and returns the id its outcome will come
    /// back under. If the system's random source fails, the question ends
    /// with that error and is never sent: its DNS id would be a guess.
    pub fn submit(&mut self, name: Name, rtype: RecordType) -> QueryId {
        let question = Question { name, rtype };
        let query = self.machine.submit(question, random_u16(), Instant::now());
        self.act();
        query
    }

    /// The question behind an id.
    pub fn question(&self, id: QueryId) -> &Question {
        self.machine.question(id)
    }

    /// How long a question's answer may be kept, if its reply said (RFC
    /// 2308 for NXDOMAIN and NODATA).
    pub fn ttl(&self, id: QueryId) -> Option<Duration> {
        self.machine
            .ttl(id)
            .map(|secs| Duration::from_secs(secs.into()))
    }

    /// Waits for the next question to complete and returns its outcome, or
    /// `None` when nothing is left in flight.
    pub fn next_outcome(&mut self) -> Option<(QueryId, Result<Answer, Error>)> {
        loop {
            self.act();
            if let Some(outcome) = self.machine.take_outcome() {
                return Some(outcome);
            }
            let wake = self.machine.wake_at()?;
            let now = Instant::now();
            if now >= wake {
                self.machine.advance(now);
            } else {
                self.wait(now, wake);
            }
        }
    }

    /// Carries out what the machine asks for, telling it of every failure.
    fn act(&mut self) {
        while let Some(io) = self.machine.next_io() {
            match io {
                Io::SendUdp { query, server } => {
                    if let Err(e) = self.send_udp(query, server) {
                        let now = Instant::now();
                        self.machine
                            .send_failed(query, server, error_str::of(&e), now);
                    }
                }
                Io::StartTcp { query, server } => {
                    self.tcp.retain(|(q, _)| *q != query);
                    let message = self.machine.message(query);
                    match TcpExchange::start(self.config.servers[server], message) {
                        Ok(tcp) => self.tcp.push((query, tcp)),
                        Err(e) => {
                            let now = Instant::now();
                            self.machine.tcp_failed(
                                query,
                                format!("TCP: {}", error_str::of(&e)),
                                now,
                            );
                        }
                    }
                }
                Io::CloseTcp { query } => self.tcp.retain(|(q, _)| *q != query),
            }
        }
    }

    fn send_udp(&mut self, query: QueryId, server: usize) -> io::Result<()> {
        let socket = match &mut self.udp[server] {
            Some(socket) => socket,
            empty => empty.insert(transport::udp_socket(self.config.servers[server])?),
        };
        socket.send(self.machine.message(query)).map(|_| ())
    }

    /// One poll(2) over every socket in use until `wake`, then hands what
    /// arrived to the machine.
    fn wait(&mut self, now: Instant, wake: Instant) {
        let servers: Vec<usize> = (0..self.udp.len())
            .filter(|&s| self.udp[s].is_some())
            .collect();
        let mut fds: Vec<sys::PollFd> = servers
            .iter()
            .filter_map(|&s| self.udp[s].as_ref())
            .map(|socket| sys::pollfd(socket.as_raw_fd(), sys::POLLIN))
            .collect();
        let exchanges: Vec<QueryId> = self.tcp.iter().map(|(q, _)| *q).collect();
        fds.extend(
            self.tcp
                .iter()
                .map(|(_, tcp)| sys::pollfd(tcp.fd(), tcp.events())),
        );
        let wait = wake.saturating_duration_since(now);
        if !matches!(sys::poll(&mut fds, wait), Ok(1..)) {
            return; // timeout, or EINTR: the caller's loop looks again
        }
        let (udp_fds, tcp_fds) = fds.split_at(servers.len());
        for (fd, &server) in udp_fds.iter().zip(&servers) {
            if fd.revents != 0 {
                self.read_udp(server);
            }
        }
        for (fd, &query) in tcp_fds.iter().zip(&exchanges) {
            if fd.revents != 0 {
                self.advance_tcp(query);
            }
        }
    }

    /// Reads the datagrams waiting on one server's socket, at most
    /// `DATAGRAMS_PER_WAKE` of them, and none once no question waits.
    fn read_udp(&mut self, server: usize) {
        for _ in 0..DATAGRAMS_PER_WAKE {
            let Some(socket) = &self.udp[server] else {
                return;
            };
            let received = sys::recv_into(socket, &mut self.buf);
            let now = Instant::now();
            match received {
                Ok(_) => self.machine.datagram(server, &self.buf, now),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    self.machine.udp_error(server, &error_str::of(&e), now);
                    return;
                }
            }
            if self.machine.wake_at().is_none() {
                return;
            }
        }
    }

    fn advance_tcp(&mut self, query: QueryId) {
        let Some(slot) = self.tcp.iter().position(|(q, _)| *q == query) else {
            return;
        };
        let progress = self.tcp[slot].1.advance();
        let now = Instant::now();
        match progress {
            Ok(TcpProgress::Waiting) => {}
            Ok(TcpProgress::Reply(bytes)) => {
                self.tcp.swap_remove(slot);
                self.machine.tcp_reply(query, &bytes, now);
            }
            Err(e) => {
                self.tcp.swap_remove(slot);
                self.machine
                    .tcp_failed(query, format!("TCP: {}", error_str::of(&e)), now);
            }
        }
    }
}

/// A query id from the kernel's random source (RFC 5452 §9.2), or why there
/// is none: an id is never taken from a clock or a counter, which an
/// attacker could predict.
fn random_u16() -> Result<u16, Error> {
    let mut bytes = [0u8; 2];
    loop {
        let error = match sys::getrandom(&mut bytes) {
            Ok(2) => return Ok(u16::from_ne_bytes(bytes)),
            Ok(n) => io::Error::other(format!("{n} of 2 bytes")),
            Err(error) => error,
        };
        // Only a read that blocked for the pool's first seeding can be
        // interrupted by a signal: try again.
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(Error::NoRandom(format!(
                "getrandom: {}",
                error_str::of(&error)
            )));
        }
    }
}
