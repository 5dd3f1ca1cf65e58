//! The demo's scenes: a zone and the few lines of DNS server that answer
//! for it, three clients, and what each one saw. Shared by the `demo`
//! example and by tests/tree/examples.rs, which plays them against the
//! rmxsmtpd that `cargo test` built, so the demo cannot go stale.

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use hickory_proto::op::{Edns, Message, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, MX};
use hickory_proto::rr::{Name, RData, Record};

/// The name rmxsmtpd gives itself in the held session, and the stand-in
/// SMTP daemon in its greeting.
const HOST: &str = "mail.example.com";

/// The stand-in for qmail-smtpd: a few lines of sh that speak just enough
/// SMTP, and say which result rmxsmtpd handed over in RMXRESULT.
const SMTPD: &str = r#"printf '220 mail.example.com ESMTP, the real SMTP daemon (RMXRESULT=%s)\r\n' "$RMXRESULT"
while read -r verb rest; do
  case $verb in
    QUIT*|quit*) printf '221 mail.example.com\r\n'; exit 0 ;;
    *) printf '250 ok\r\n' ;;
  esac
done"#;

/// What every client says, one command per line, sent all at once.
const COMMANDS: [&str; 4] = [
    "HELO client.example.org",
    "MAIL FROM:<alice@example.org>",
    "RCPT TO:<bob@example.com>",
    "QUIT",
];

/// The network 198.51.100.0/24 publishes its two MTAs; 192.0.2.0/24
/// publishes nothing, as in examples/publish. Served as written here
/// (`Dns`).
pub const ZONE: [&str; 4] = [
    "100.51.198.in-addr.arpa.  MX 10 mx1.example.net.",
    "100.51.198.in-addr.arpa.  MX 20 mx2.example.net.",
    "mx1.example.net.          A  198.51.100.5",
    "mx2.example.net.          A  198.51.100.6",
];

/// The three clients, and who they are.
pub const CLIENTS: [(&str, &str); 3] = [
    ("198.51.100.5", "mx1.example.net, on its network's list"),
    ("198.51.100.10", "a PC in the same network, not on the list"),
    ("192.0.2.7", "a host in a network that publishes no list"),
];

/// One client's connection.
pub struct Scene {
    pub client: &'static str,
    pub who: &'static str,
    /// rmxsmtpd's log line.
    pub log: String,
    /// `C: ` and `S: ` lines, in order.
    pub transcript: Vec<String>,
}

/// Serves the demo zone and runs `rmxsmtpd` once for each client.
pub fn play(rmxsmtpd: &Path) -> Result<Vec<Scene>, String> {
    let dns = Dns::start().map_err(|e| format!("cannot serve the demo zone on 127.0.0.1: {e}"))?;
    let mut input = String::new();
    for command in COMMANDS {
        input.push_str(command);
        input.push_str("\r\n");
    }
    let mut scenes = Vec::new();
    for (client, who) in CLIENTS {
        let mut child = Command::new(rmxsmtpd)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("DNSCACHEIP", dns.addr.to_string())
            .env("TCPREMOTEIP", client)
            .args(["-h", HOST, "sh", "-c", SMTPD, "smtpd"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", rmxsmtpd.display()))?;
        // Small enough for the pipe: written whole before anything is read.
        let mut stdin = child.stdin.take().expect("piped");
        stdin
            .write_all(input.as_bytes())
            .map_err(|e| format!("writing to rmxsmtpd: {e}"))?;
        drop(stdin);
        let output = child
            .wait_with_output()
            .map_err(|e| format!("waiting for rmxsmtpd: {e}"))?;
        let replies = String::from_utf8_lossy(&output.stdout);
        scenes.push(Scene {
            client,
            who,
            log: String::from_utf8_lossy(&output.stderr)
                .trim_end()
                .to_string(),
            transcript: interleave(&replies),
        });
    }
    Ok(scenes)
}

/// The demo zone on 127.0.0.1, served by a thread until dropped, as an
/// authoritative server answers (RFC 1034 §4.3.2): the records of the type
/// asked for; none (NODATA) for a name that has records of other types
/// only; NXDOMAIN for a name with none.
struct Dns {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Dns {
    fn start() -> io::Result<Dns> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        // How often the thread looks whether it should stop.
        socket.set_read_timeout(Some(Duration::from_millis(50)))?;
        let addr = socket.local_addr()?;
        let records = records();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut buffer = [0u8; 512];
            while !stopping.load(Ordering::Relaxed) {
                let Ok((length, from)) = socket.recv_from(&mut buffer) else {
                    continue;
                };
                if let Some(reply) = reply(&records, &buffer[..length]) {
                    let _ = socket.send_to(&reply, from);
                }
            }
        });
        Ok(Dns {
            addr,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `ZONE` as records: its lines are `OWNER MX PREFERENCE EXCHANGE` and
/// `OWNER A ADDRESS`.
fn records() -> Vec<Record> {
    let name = |text: &str| Name::from_ascii(text).expect("ZONE holds names");
    ZONE.iter()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let data = match words[1..] {
                ["MX", preference, exchange] => RData::MX(MX::new(
                    preference.parse().expect("ZONE holds preferences"),
                    name(exchange),
                )),
                ["A", address] => RData::A(A(address.parse().expect("ZONE holds addresses"))),
                _ => panic!("ZONE holds MX and A lines only: {line}"),
            };
            Record::from_rdata(name(words[0]), 300, data)
        })
        .collect()
}

/// The reply to the query in `bytes`, or nothing if it is not one.
fn reply(records: &[Record], bytes: &[u8]) -> Option<Vec<u8>> {
    let query = Message::from_vec(bytes).ok()?;
    let [question] = &query.queries[..] else {
        return None;
    };
    let owned: Vec<&Record> = records.iter().filter(|r| r.name == question.name).collect();
    let mut reply = Message::response(query.metadata.id, OpCode::Query);
    reply.metadata.authoritative = true;
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.response_code = if owned.is_empty() {
        ResponseCode::NXDomain
    } else {
        ResponseCode::NoError
    };
    reply.queries = query.queries.clone();
    reply.answers = owned
        .into_iter()
        .filter(|r| r.record_type() == question.query_type)
        .cloned()
        .collect();
    reply.edns = query.edns.as_ref().map(|_| Edns::new());
    reply.to_vec().ok()
}

/// The greeting, then each command with its one-line reply.
fn interleave(replies: &str) -> Vec<String> {
    let mut replies = replies.lines().map(|line| format!("S: {line}"));
    let mut transcript: Vec<String> = replies.next().into_iter().collect();
    for command in COMMANDS {
        transcript.push(format!("C: {command}"));
        transcript.extend(replies.next());
    }
    transcript.extend(replies);
    transcript
}

/// The demo as printed.
pub fn render(scenes: &[Scene]) -> String {
    let mut out = String::from(
        "Reverse MX: a network lists, as MX records in its reverse zone, the hosts\n\
         that may send mail to the outside. The demo zone, served on 127.0.0.1:\n\n",
    );
    for line in ZONE {
        out.push_str(&format!("    {line}\n"));
    }
    out.push_str(&format!(
        "\nFor each client, the real rmxsmtpd runs as\n\n    \
         TCPREMOTEIP=<client> rmxsmtpd -h {HOST} sh -c \"$SMTPD\"\n\n\
         where $SMTPD is a few lines of sh standing in for qmail-smtpd.\n"
    ));
    for (n, scene) in scenes.iter().enumerate() {
        out.push_str(&format!(
            "\n{}. {}: {}\n   log  {}\n",
            n + 1,
            scene.client,
            scene.who,
            scene.log
        ));
        for line in &scene.transcript {
            out.push_str(&format!("        {line}\n"));
        }
    }
    out.push_str(
        "\nThe listed MTA reaches the daemon. The PC is held in a short session that\n\
         refuses every recipient with 451: a temporary refusal, so the sender's MTA\n\
         keeps the mail and tries again, for days, before it bounces it with the\n\
         text above (with -b, rmxsmtpd refuses with 554, and the bounce comes at\n\
         once). The network without a list is accepted (rmxsmtpd -s refuses it,\n\
         -d YYYY-MM-DD from that day on); few networks publish a list yet, so\n\
         start with -n, a dry run that only logs (README.md, \"Rolling it out\").\n\
         More: man/rmxsmtpd.8, man/rmxcheck.1, README.md.\n",
    );
    out
}
