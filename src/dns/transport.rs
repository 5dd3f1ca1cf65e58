//! Sockets to one DNS server: a connected UDP socket (RFC 1035 §4.2.1) and a
//! TCP connection with two-octet length framing (RFC 1035 §4.2.2, RFC 7766
//! §8). Every socket is non-blocking and close-on-exec; the poll loop in
//! `resolver` decides when to touch them.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};

use crate::sys;

/// A UDP socket connected to one server, on a fresh ephemeral port: the kernel
/// then drops datagrams from any other address or port.
pub fn udp_socket(server: SocketAddr) -> io::Result<UdpSocket> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => "0.0.0.0:0".parse().expect("literal address"),
        SocketAddr::V6(_) => "[::]:0".parse().expect("literal address"),
    };
    let socket = UdpSocket::bind(local)?;
    socket.connect(server)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// One query over TCP: connect, send the framed query, read one framed reply.
pub struct TcpExchange {
    stream: TcpStream,
    connected: bool,
    out: Vec<u8>,
    written: usize,
    /// The two-octet length, then the message; never more than 2 + 65,535.
    inbuf: Vec<u8>,
}

/// How far a TCP exchange got after some progress.
pub enum TcpProgress {
    Waiting,
    Reply(Vec<u8>),
}

impl TcpExchange {
    /// Starts a non-blocking connect and queues `message` behind its length.
    pub fn start(server: SocketAddr, message: &[u8]) -> io::Result<TcpExchange> {
        let length = u16::try_from(message.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "query too long"))?;
        let mut out = Vec::with_capacity(2 + message.len());
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(message);
        Ok(TcpExchange {
            stream: sys::connect_nonblocking(server)?,
            connected: false,
            out,
            written: 0,
            inbuf: Vec::with_capacity(2),
        })
    }

    pub fn fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    /// Poll events this exchange waits for.
    pub fn events(&self) -> libc::c_short {
        if self.written < self.out.len() {
            sys::POLLOUT
        } else {
            sys::POLLIN
        }
    }

    /// Moves the exchange on after poll said the socket is ready.
    pub fn advance(&mut self) -> io::Result<TcpProgress> {
        if !self.connected {
            if let Some(error) = self.stream.take_error()? {
                return Err(error);
            }
            self.connected = true;
        }
        while self.written < self.out.len() {
            match self.stream.write(&self.out[self.written..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(TcpProgress::Waiting),
                Err(e) => return Err(e),
            }
        }
        loop {
            let want = match self.inbuf[..] {
                [high, low, ..] => 2 + usize::from(u16::from_be_bytes([high, low])),
                _ => 2,
            };
            if self.inbuf.len() >= 2 && self.inbuf.len() == want {
                return Ok(TcpProgress::Reply(self.inbuf.split_off(2)));
            }
            let have = self.inbuf.len();
            self.inbuf.resize(want, 0);
            match self.stream.read(&mut self.inbuf[have..]) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(n) => self.inbuf.truncate(have + n),
                Err(e) => {
                    self.inbuf.truncate(have);
                    if e.kind() == io::ErrorKind::WouldBlock {
                        return Ok(TcpProgress::Waiting);
                    }
                    return Err(e);
                }
            }
        }
    }
}
