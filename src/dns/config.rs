//! Where the resolver's servers and options come from (rmxsmtpd(8), The DNS and
//! ENVIRONMENT).
//!
//! Order: `DNSCACHEIP` (djbdns), else the `nameserver` lines of
//! `/etc/resolv.conf`, else `127.0.0.1`. Options come from the `options` lines
//! of resolv.conf and then from `RES_OPTIONS`, as glibc reads them
//! (resolv.conf(5)). Nothing here is ever fatal: a line that does not parse is
//! skipped. What took the place of the servers the administrator meant (the
//! words of `DNSCACHEIP` that name no server, a resolv.conf that is missing,
//! unreadable or names no server) is returned beside the configuration
//! ([`Misread`]), for the log and for rmxcheck's warnings: an administrator
//! who meant to ask one cache must not ask another unawares.
//!
//! Parsing is pure ([`Config::parse`]); only [`Config::from_system`] reads the
//! environment and the file.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV6};
use std::time::Duration;

use crate::error_str;

/// The DNS port (RFC 1035 §4.2).
pub const DNS_PORT: u16 = 53;
/// glibc's MAXNS: only the first three `nameserver` lines count.
const MAX_RESOLV_CONF_SERVERS: usize = 3;
/// djbdns reads at most sixteen addresses from `DNSCACHEIP`.
const MAX_DNSCACHEIP_SERVERS: usize = 16;
/// glibc's caps on `timeout:` and `attempts:`.
const MAX_TIMEOUT_SECS: u64 = 30;
const MAX_ATTEMPTS: u32 = 5;

/// The servers to ask and how to ask them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Servers in the order given; never empty.
    pub servers: Vec<SocketAddr>,
    /// `options timeout:N`: wait this long for every try, with no back-off.
    /// `None`: about a second for the first round, doubling after each round.
    pub timeout: Option<Duration>,
    /// `options attempts:N`: give up after N rounds over all servers.
    /// `None`: keep trying until the lookup's deadline.
    pub attempts: Option<u32>,
    /// `options rotate`: each query starts at a different server.
    pub rotate: bool,
    /// `options use-vc`: every query goes over TCP.
    pub use_vc: bool,
}

/// Why the servers asked are not the ones the administrator named: the
/// words of `DNSCACHEIP` that name no server, as given; what was wrong with
/// `/etc/resolv.conf` when it was read for want of them; and what took
/// their place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Misread {
    words: Vec<String>,
    file: Option<FileTrouble>,
    instead: Instead,
}

/// Why `/etc/resolv.conf` gave no server.
#[derive(Clone, Debug, PartialEq, Eq)]
enum FileTrouble {
    /// It could not be read: missing, or not readable (error_str's words).
    Unreadable(String),
    /// It was read, and has no `nameserver` line that names a server.
    NoServer,
}

/// What the servers are, when some of `DNSCACHEIP` was not understood or
/// `/etc/resolv.conf` gave none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Instead {
    /// The other words of `DNSCACHEIP` gave servers; these were left out.
    Ignored,
    /// No word did: the `nameserver` lines of `/etc/resolv.conf`.
    ResolvConf,
    /// Neither `DNSCACHEIP` nor resolv.conf gave a server: `127.0.0.1`.
    Loopback,
}

impl fmt::Display for Misread {
    /// `DNSCACHEIP "localhost" not understood, using /etc/resolv.conf`;
    /// `/etc/resolv.conf unreadable (file does not exist), using 127.0.0.1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.words.is_empty() {
            f.write_str("DNSCACHEIP ")?;
            for (n, word) in self.words.iter().enumerate() {
                let comma = if n > 0 { ", " } else { "" };
                write!(f, "{comma}{word:?}")?;
            }
            f.write_str(" not understood, ")?;
        }
        match &self.file {
            Some(FileTrouble::Unreadable(why)) => {
                write!(f, "/etc/resolv.conf unreadable ({why}), ")?
            }
            Some(FileTrouble::NoServer) => f.write_str("/etc/resolv.conf names no server, ")?,
            None => {}
        }
        f.write_str(match self.instead {
            Instead::Ignored => "ignored",
            Instead::ResolvConf => "using /etc/resolv.conf",
            Instead::Loopback => "using 127.0.0.1",
        })
    }
}

impl Config {
    /// A configuration with these servers and no options.
    pub fn with_servers(servers: Vec<SocketAddr>) -> Config {
        assert!(!servers.is_empty(), "a resolver needs a server");
        Config {
            servers,
            timeout: None,
            attempts: None,
            rotate: false,
            use_vc: false,
        }
    }

    /// Reads `DNSCACHEIP`, `/etc/resolv.conf` (only when `DNSCACHEIP` gives
    /// no server) and `RES_OPTIONS`.
    pub fn from_system() -> (Config, Option<Misread>) {
        let dnscacheip = std::env::var("DNSCACHEIP").ok();
        let res_options = std::env::var("RES_OPTIONS").ok();
        Config::parse(
            dnscacheip.as_deref(),
            || std::fs::read_to_string("/etc/resolv.conf"),
            res_options.as_deref(),
        )
    }

    /// Builds a configuration from the three sources, with what took the
    /// place of the servers named (see [`Misread`]). `resolv_conf` is only
    /// called when `dnscacheip` yields no server, so that a djbdns set-up
    /// never reads the file. An empty `dnscacheip` is as good as unset, the
    /// djbdns way.
    pub fn parse(
        dnscacheip: Option<&str>,
        resolv_conf: impl FnOnce() -> io::Result<String>,
        res_options: Option<&str>,
    ) -> (Config, Option<Misread>) {
        let (servers, unread) = dnscacheip.map(parse_dnscacheip).unwrap_or_default();
        let mut config = Config {
            servers,
            timeout: None,
            attempts: None,
            rotate: false,
            use_vc: false,
        };
        let mut instead = Instead::Ignored;
        let mut file = None;
        if config.servers.is_empty() {
            instead = Instead::ResolvConf;
            match resolv_conf() {
                Ok(text) => config.read_resolv_conf(&text),
                Err(error) => file = Some(FileTrouble::Unreadable(error_str::of(&error))),
            }
        }
        if config.servers.is_empty() {
            instead = Instead::Loopback;
            file.get_or_insert(FileTrouble::NoServer);
            config
                .servers
                .push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DNS_PORT));
        }
        if let Some(options) = res_options {
            config.apply_options(options.split_ascii_whitespace());
        }
        let misread = (!unread.is_empty() || file.is_some()).then_some(Misread {
            words: unread,
            file,
            instead,
        });
        (config, misread)
    }

    /// resolv.conf(5): `nameserver ADDRESS` and `options ...` lines; `#` and
    /// `;` start comments. Other keywords (`search`, `domain`, `sortlist`)
    /// do not concern a resolver that asks for reverse names only.
    fn read_resolv_conf(&mut self, text: &str) {
        for line in text.lines() {
            let line = match line.find(['#', ';']) {
                Some(at) => &line[..at],
                None => line,
            };
            let mut words = line.split_ascii_whitespace();
            match words.next() {
                Some("nameserver") => {
                    let server = words.next().and_then(parse_nameserver);
                    if let Some(server) = server
                        && self.servers.len() < MAX_RESOLV_CONF_SERVERS
                    {
                        self.servers.push(server);
                    }
                }
                Some("options") => self.apply_options(words),
                _ => {}
            }
        }
    }

    /// The options that matter here; others are ignored, as glibc does.
    fn apply_options<'a>(&mut self, words: impl Iterator<Item = &'a str>) {
        for word in words {
            if let Some(n) = word.strip_prefix("timeout:") {
                if let Ok(n) = n.parse::<u64>() {
                    self.timeout = Some(Duration::from_secs(n.clamp(1, MAX_TIMEOUT_SECS)));
                }
            } else if let Some(n) = word.strip_prefix("attempts:") {
                if let Ok(n) = n.parse::<u32>() {
                    self.attempts = Some(n.clamp(1, MAX_ATTEMPTS));
                }
            } else if word == "rotate" {
                self.rotate = true;
            } else if word == "use-vc" || word == "usevc" {
                self.use_vc = true;
            }
        }
    }
}

/// `DNSCACHEIP`: addresses separated by space, tab, comma or semicolon. Each
/// is an IPv4 or IPv6 address, `ip:port`, or `[ipv6]:port`. djbdns also
/// accepts several IPv4 addresses glued with dots (`127.0.0.1.10.0.0.1`);
/// that form is read too, as groups of four numbers. Returns the servers
/// and the words that name none.
fn parse_dnscacheip(text: &str) -> (Vec<SocketAddr>, Vec<String>) {
    let mut servers = Vec::new();
    let mut unread = Vec::new();
    for word in text.split([' ', '\t', ',', ';']).filter(|w| !w.is_empty()) {
        if let Some(server) = parse_server(word) {
            servers.push(server);
            continue;
        }
        let glued = parse_glued_ipv4(word);
        if glued.is_empty() {
            unread.push(word.to_string());
        }
        servers.extend(glued);
    }
    servers.truncate(MAX_DNSCACHEIP_SERVERS);
    (servers, unread)
}

/// One server: `1.2.3.4`, `::1`, `1.2.3.4:5353`, `[::1]:5353`, `fe80::1%eth0`.
fn parse_server(word: &str) -> Option<SocketAddr> {
    if let Ok(addr) = word.parse::<SocketAddr>() {
        return (addr.port() != 0).then_some(addr);
    }
    parse_nameserver(word)
}

/// A `nameserver` address: an IP address, IPv6 with an optional `%scope`
/// (interface name or number); always port 53.
fn parse_nameserver(word: &str) -> Option<SocketAddr> {
    if let Ok(ip) = word.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, DNS_PORT));
    }
    let (ip, scope) = word.split_once('%')?;
    let ip = ip.parse().ok()?;
    let scope_id = match scope.parse::<u32>() {
        Ok(n) => n,
        Err(_) => crate::sys::interface_index(scope)?,
    };
    Some(SocketAddr::V6(SocketAddrV6::new(ip, DNS_PORT, 0, scope_id)))
}

/// `127.0.0.1.10.0.0.1` as two addresses, the djbdns way.
fn parse_glued_ipv4(word: &str) -> Vec<SocketAddr> {
    let parts: Vec<&str> = word.split('.').collect();
    if parts.len() < 8 || !parts.len().is_multiple_of(4) {
        return Vec::new();
    }
    let mut servers = Vec::new();
    for group in parts.chunks(4) {
        match group.join(".").parse::<Ipv4Addr>() {
            Ok(ip) => servers.push(SocketAddr::new(IpAddr::V4(ip), DNS_PORT)),
            Err(_) => return Vec::new(),
        }
    }
    servers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    struct Case {
        dnscacheip: Option<&'static str>,
        resolv_conf: Option<&'static str>,
        res_options: Option<&'static str>,
        servers: &'static [&'static str],
        timeout: Option<u64>,
        attempts: Option<u32>,
        rotate: bool,
        use_vc: bool,
        /// What the log line and rmxcheck say of the servers not asked.
        misread: Option<&'static str>,
    }

    /// The file's text, or the error of a file that does not exist.
    fn read_as(text: Option<&str>) -> io::Result<String> {
        text.map(str::to_string)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
    }

    const PLAIN: Case = Case {
        dnscacheip: None,
        resolv_conf: None,
        res_options: None,
        servers: &["127.0.0.1:53"],
        timeout: None,
        attempts: None,
        rotate: false,
        use_vc: false,
        misread: None,
    };

    #[test]
    fn table() {
        let missing = "/etc/resolv.conf unreadable (file does not exist), using 127.0.0.1";
        let empty = "/etc/resolv.conf names no server, using 127.0.0.1";
        let cases = [
            // Nothing at all: the loopback default, said.
            Case {
                misread: Some(missing),
                ..PLAIN
            },
            Case {
                resolv_conf: Some(""),
                misread: Some(empty),
                ..PLAIN
            },
            // DNSCACHEIP in every form.
            Case {
                dnscacheip: Some("10.0.0.1"),
                servers: &["10.0.0.1:53"],
                ..PLAIN
            },
            Case {
                dnscacheip: Some("10.0.0.1 10.0.0.2\t10.0.0.3,10.0.0.4;10.0.0.5"),
                servers: &[
                    "10.0.0.1:53",
                    "10.0.0.2:53",
                    "10.0.0.3:53",
                    "10.0.0.4:53",
                    "10.0.0.5:53",
                ],
                ..PLAIN
            },
            Case {
                dnscacheip: Some("127.0.0.1:5353, [::1]:5354 ::1 2001:db8::53"),
                servers: &[
                    "127.0.0.1:5353",
                    "[::1]:5354",
                    "[::1]:53",
                    "[2001:db8::53]:53",
                ],
                ..PLAIN
            },
            Case {
                dnscacheip: Some("127.0.0.1.10.0.0.1"),
                servers: &["127.0.0.1:53", "10.0.0.1:53"],
                ..PLAIN
            },
            // Junk in DNSCACHEIP is skipped, and said; all junk falls back
            // to the file, then to the loopback.
            Case {
                dnscacheip: Some("junk,300.1.1.1,10.0.0.9:0,10.0.0.9"),
                servers: &["10.0.0.9:53"],
                misread: Some(
                    r#"DNSCACHEIP "junk", "300.1.1.1", "10.0.0.9:0" not understood, ignored"#,
                ),
                ..PLAIN
            },
            Case {
                dnscacheip: Some("junk"),
                resolv_conf: Some("nameserver 10.1.1.1\n"),
                servers: &["10.1.1.1:53"],
                misread: Some(r#"DNSCACHEIP "junk" not understood, using /etc/resolv.conf"#),
                ..PLAIN
            },
            Case {
                dnscacheip: Some("localhost"),
                resolv_conf: Some("# no server here\n"),
                misread: Some(
                    r#"DNSCACHEIP "localhost" not understood, /etc/resolv.conf names no server, using 127.0.0.1"#,
                ),
                ..PLAIN
            },
            Case {
                dnscacheip: Some("[::1] 127.0.0.53:0"),
                misread: Some(
                    r#"DNSCACHEIP "[::1]", "127.0.0.53:0" not understood, /etc/resolv.conf unreadable (file does not exist), using 127.0.0.1"#,
                ),
                ..PLAIN
            },
            // Glued addresses count whole or not at all.
            Case {
                dnscacheip: Some("127.0.0.1.10.0.0 10.0.0.2"),
                servers: &["10.0.0.2:53"],
                misread: Some(r#"DNSCACHEIP "127.0.0.1.10.0.0" not understood, ignored"#),
                ..PLAIN
            },
            // Empty, or separators only: as if unset, nothing to say.
            Case {
                dnscacheip: Some(""),
                resolv_conf: Some("nameserver 10.1.1.1\n"),
                servers: &["10.1.1.1:53"],
                ..PLAIN
            },
            Case {
                dnscacheip: Some(" ,;\t"),
                resolv_conf: Some("nameserver 10.1.1.1\n"),
                servers: &["10.1.1.1:53"],
                ..PLAIN
            },
            // DNSCACHEIP wins over the file, and the file's options are not read.
            Case {
                dnscacheip: Some("10.0.0.1"),
                resolv_conf: Some("nameserver 10.1.1.1\noptions rotate\n"),
                servers: &["10.0.0.1:53"],
                ..PLAIN
            },
            // resolv.conf: v4, v6, scope, comments, junk lines, the cap of three.
            Case {
                resolv_conf: Some(
                    "# comment\n; comment\nsearch example.com\nnameserver 10.1.1.1 # trailing\n\
                     nameserver\nnameserver not-an-address\nnameserver 2001:db8::1\n\
                     nameserver fe80::1%1\nnameserver 10.1.1.4\n",
                ),
                servers: &["10.1.1.1:53", "[2001:db8::1]:53", "[fe80::1%1]:53"],
                ..PLAIN
            },
            Case {
                resolv_conf: Some("nameserver fe80::1%no-such-interface\nnameserver ::1\n"),
                servers: &["[::1]:53"],
                ..PLAIN
            },
            Case {
                resolv_conf: Some("  nameserver\t10.1.1.1;comment\n"),
                servers: &["10.1.1.1:53"],
                ..PLAIN
            },
            // A port is not part of resolv.conf's grammar.
            Case {
                resolv_conf: Some("nameserver 10.1.1.1:5353\n"),
                misread: Some(empty),
                ..PLAIN
            },
            // Options from the file.
            Case {
                resolv_conf: Some(
                    "nameserver 10.1.1.1\noptions timeout:3 attempts:4 rotate use-vc ndots:2\n",
                ),
                servers: &["10.1.1.1:53"],
                timeout: Some(3),
                attempts: Some(4),
                rotate: true,
                use_vc: true,
                ..PLAIN
            },
            // glibc's caps and floors; a bad number is ignored.
            Case {
                resolv_conf: Some("options timeout:99 attempts:99\n"),
                timeout: Some(30),
                attempts: Some(5),
                misread: Some(empty),
                ..PLAIN
            },
            Case {
                resolv_conf: Some("options timeout:0 attempts:0 timeout:x\n"),
                timeout: Some(1),
                attempts: Some(1),
                misread: Some(empty),
                ..PLAIN
            },
            // A later options line overrides an earlier one.
            Case {
                resolv_conf: Some("options timeout:2\noptions timeout:4\n"),
                timeout: Some(4),
                misread: Some(empty),
                ..PLAIN
            },
            // RES_OPTIONS overrides the file, and applies with DNSCACHEIP too.
            Case {
                resolv_conf: Some("nameserver 10.1.1.1\noptions timeout:2\n"),
                res_options: Some("timeout:5 rotate"),
                servers: &["10.1.1.1:53"],
                timeout: Some(5),
                rotate: true,
                ..PLAIN
            },
            Case {
                dnscacheip: Some("127.0.0.1:5300"),
                res_options: Some("  use-vc attempts:2  "),
                servers: &["127.0.0.1:5300"],
                attempts: Some(2),
                use_vc: true,
                ..PLAIN
            },
        ];
        for (n, case) in cases.iter().enumerate() {
            let (got, misread) = Config::parse(
                case.dnscacheip,
                || read_as(case.resolv_conf),
                case.res_options,
            );
            let want = Config {
                servers: case.servers.iter().map(|s| addr(s)).collect(),
                timeout: case.timeout.map(Duration::from_secs),
                attempts: case.attempts,
                rotate: case.rotate,
                use_vc: case.use_vc,
            };
            assert_eq!(got, want, "case {n}");
            let said = misread.map(|m| m.to_string());
            assert_eq!(said.as_deref(), case.misread, "case {n}");
        }
    }

    #[test]
    fn dnscacheip_caps_at_sixteen() {
        let many = (1..=20).map(|n| format!("10.0.0.{n}")).collect::<Vec<_>>();
        let (config, _) = Config::parse(Some(&many.join(" ")), || read_as(None), None);
        assert_eq!(config.servers.len(), 16);
        assert_eq!(config.servers[15], addr("10.0.0.16:53"));
    }

    #[test]
    fn resolv_conf_is_not_read_when_dnscacheip_gives_a_server() {
        let (config, _) = Config::parse(Some("10.0.0.1"), || panic!("read the file"), None);
        assert_eq!(config.servers, vec![addr("10.0.0.1:53")]);
    }

    #[test]
    fn why_the_servers_are_not_those_named_is_said() {
        let said = |dnscacheip: Option<&str>, resolv_conf: io::Result<String>| {
            let (_, misread) = Config::parse(dnscacheip, || resolv_conf, None);
            misread.map(|m| m.to_string())
        };
        let file = || Ok("nameserver 10.1.1.1\n".to_string());
        let denied = || Err(io::Error::from_raw_os_error(libc::EACCES));
        assert_eq!(
            said(None, denied()).as_deref(),
            Some("/etc/resolv.conf unreadable (access denied), using 127.0.0.1")
        );
        assert_eq!(
            said(Some("localhost"), denied()).as_deref(),
            Some(
                r#"DNSCACHEIP "localhost" not understood, /etc/resolv.conf unreadable (access denied), using 127.0.0.1"#
            )
        );
        assert_eq!(
            said(Some("[::1],10.0.0.1;say\"what\""), file()).as_deref(),
            Some(r#"DNSCACHEIP "[::1]", "say\"what\"" not understood, ignored"#)
        );
        // The servers named were asked: nothing to say.
        assert_eq!(said(Some("10.0.0.1"), denied()), None);
        assert_eq!(said(None, file()), None);
        assert_eq!(said(Some(""), file()), None);
    }
}
