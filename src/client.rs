//! Where the client address comes from (rmxsmtpd(8), Where the
//! client's address comes from): the connection
//! server's environment variables in a fixed order, else `getpeername(0)`.
//! A variable that is set but does not hold an address is never guessed at.

use std::ffi::OsString;
use std::io;
use std::net::{IpAddr, Ipv6Addr, TcpStream};
use std::os::fd::AsFd;

/// The client's address, from `var` (the environment) or `peer` (the socket
/// on fd 0), with `::ffff:a.b.c.d` read as IPv4. The error says why there is
/// none.
pub fn client_address(
    var: impl Fn(&str) -> Option<OsString>,
    peer: impl FnOnce() -> Option<IpAddr>,
) -> Result<IpAddr, String> {
    let tcp6 = var("PROTO").is_some_and(|p| p == "TCP6");
    let mut sources = Vec::with_capacity(4);
    if tcp6 {
        sources.push("TCP6REMOTEIP");
    }
    sources.extend(["TCPREMOTEIP", "REMOTE_ADDR"]);
    for name in sources {
        if let Some(value) = var(name) {
            return parse(&value)
                .ok_or_else(|| format!("{name} is not an address: {:?}", value.to_string_lossy()));
        }
    }
    // xinetd puts a host name here unless told otherwise: only a number counts.
    if let Some(ip) = var("REMOTE_HOST").as_ref().and_then(parse) {
        return Ok(ip);
    }
    peer().map(unmap).ok_or_else(|| {
        "no client address: no TCPREMOTEIP, REMOTE_ADDR or REMOTE_HOST, and fd 0 is not an IP socket"
            .to_string()
    })
}

fn parse(value: &OsString) -> Option<IpAddr> {
    address(value.to_str()?)
}

/// An IPv4 or IPv6 address as rmxsmtpd reads it: IPv6 may carry a `%zone`,
/// which is dropped, and `::ffff:a.b.c.d` is IPv4.
pub fn address(text: &str) -> Option<IpAddr> {
    let ip = match text.split_once('%') {
        Some((v6, zone)) if !zone.is_empty() => IpAddr::V6(v6.parse::<Ipv6Addr>().ok()?),
        Some(_) => return None,
        None => text.parse().ok()?,
    };
    Some(unmap(ip))
}

/// An IPv4-mapped IPv6 address as the IPv4 address it maps.
pub fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The peer of the socket on fd 0, for inetd and everything else that hands
/// over a connected socket without telling. Asked of a duplicate of fd 0
/// (close-on-exec, closed again at once): fd 0 itself is left as it is.
pub fn peer_of_stdin() -> Option<IpAddr> {
    let socket = TcpStream::from(io::stdin().as_fd().try_clone_to_owned().ok()?);
    socket.peer_addr().ok().map(|peer| peer.ip())
}

/// The client as the log and the texts show it: its address, or `-`.
pub fn shown(client: &Result<IpAddr, String>) -> String {
    client
        .as_ref()
        .map_or_else(|_| "-".to_string(), IpAddr::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(vars: &[(&str, &str)], peer: Option<&str>) -> Result<String, String> {
        let var = |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        };
        client_address(var, || peer.map(|p| p.parse().unwrap())).map(|ip| ip.to_string())
    }

    #[test]
    fn sources_in_order() {
        let ok = |s: &str| Ok(s.to_string());
        type Case<'a> = (
            &'a [(&'a str, &'a str)],
            Option<&'a str>,
            Result<String, String>,
        );
        let cases: &[Case] = &[
            (
                &[("TCPREMOTEIP", "198.51.100.10")],
                None,
                ok("198.51.100.10"),
            ),
            (&[("TCPREMOTEIP", "2001:db8::25")], None, ok("2001:db8::25")),
            (
                &[("TCPREMOTEIP", "::ffff:198.51.100.10")],
                None,
                ok("198.51.100.10"),
            ),
            (&[("TCPREMOTEIP", "fe80::1%eth0")], None, ok("fe80::1")),
            // TCPREMOTEIP wins over everything after it.
            (
                &[
                    ("TCPREMOTEIP", "198.51.100.1"),
                    ("REMOTE_ADDR", "198.51.100.2"),
                ],
                Some("198.51.100.3"),
                ok("198.51.100.1"),
            ),
            // PROTO=TCP6 makes TCP6REMOTEIP win; without it, it is not read.
            (
                &[
                    ("PROTO", "TCP6"),
                    ("TCP6REMOTEIP", "2001:db8::6"),
                    ("TCPREMOTEIP", "198.51.100.1"),
                ],
                None,
                ok("2001:db8::6"),
            ),
            (
                &[("PROTO", "TCP6"), ("TCPREMOTEIP", "::ffff:198.51.100.1")],
                None,
                ok("198.51.100.1"),
            ),
            (
                &[
                    ("TCP6REMOTEIP", "2001:db8::6"),
                    ("TCPREMOTEIP", "198.51.100.1"),
                ],
                None,
                ok("198.51.100.1"),
            ),
            (&[("REMOTE_ADDR", "198.51.100.2")], None, ok("198.51.100.2")),
            (&[("REMOTE_HOST", "198.51.100.4")], None, ok("198.51.100.4")),
            // A host name in REMOTE_HOST is passed over, not an error.
            (
                &[("REMOTE_HOST", "mail.example")],
                Some("198.51.100.3"),
                ok("198.51.100.3"),
            ),
            (&[], Some("198.51.100.3"), ok("198.51.100.3")),
            (&[], Some("::ffff:198.51.100.3"), ok("198.51.100.3")),
            (&[], Some("2001:db8::3"), ok("2001:db8::3")),
        ];
        for (vars, peer, want) in cases {
            assert_eq!(&run(vars, *peer), want, "{vars:?} {peer:?}");
        }
    }

    #[test]
    fn junk_is_never_guessed_at() {
        for junk in [
            "",
            "junk",
            "198.51.100",
            "198.51.100.10:25",
            "[::1]",
            "::1%",
            "1.2.3.4 ",
        ] {
            for name in ["TCPREMOTEIP", "REMOTE_ADDR"] {
                let got = run(&[(name, junk)], Some("198.51.100.3"));
                assert!(got.is_err(), "{name}={junk:?} gave {got:?}");
                assert!(got.unwrap_err().starts_with(name));
            }
        }
        let got = run(&[("PROTO", "TCP6"), ("TCP6REMOTEIP", "junk")], None);
        assert!(got.is_err());
    }

    #[test]
    fn nothing_at_all() {
        let got = run(&[], None);
        assert!(got.unwrap_err().starts_with("no client address"));
    }
}
