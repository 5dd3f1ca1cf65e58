//! The resolver leaves no socket behind (rmxsmtpd(8), DESCRIPTION). The
//! test counts the sockets of its whole process, so it runs again alone in
//! a process of its own (`again`), where no other test's sockets come and
//! go while it counts.

use std::time::Duration;

use crate::support::again;
use crate::support::responder::{Behaviour, DeadServer, Responder, Zone};
use hickory_proto::rr::{Name, RecordType};
use rmxsmtpd::dns::{Config, Resolver};

/// The socket descriptors open in this process.
fn sockets() -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            let target = target.to_string_lossy().into_owned();
            target.starts_with("socket:").then_some(target)
        })
        .collect();
    found.sort();
    found
}

#[test]
fn no_socket_survives_a_lookup() {
    if !again::is_again() {
        let test = again::this_test();
        let output = again::command(&test, &[])
            .output()
            .expect("run the test again");
        again::assert_passed(&test, &output);
        return;
    }
    let zone = "100.51.198.in-addr.arpa.";
    let dns = Responder::start(Zone::new().mx(zone, 10, "mx1.example.net"));
    let truncating = Responder::start(Zone::new().mx(zone, 10, "mx1.example.net"));
    truncating.script_all(vec![Behaviour::Truncate]);
    let dead = DeadServer::start();
    let before = sockets();
    for servers in [
        vec![dns.addr()],
        vec![truncating.addr()],
        vec![dead.addr(), dns.addr()],
    ] {
        let mut resolver = Resolver::new(Config::with_servers(servers), Duration::from_secs(5));
        resolver.submit(Name::from_ascii(zone).unwrap(), RecordType::MX);
        resolver.submit(Name::from_ascii("mx1.example.net.").unwrap(), RecordType::A);
        assert!(resolver.next_outcome().unwrap().1.is_ok());
        assert!(
            sockets().len() > before.len(),
            "the resolver has sockets open"
        );
        // Stop with one query still in flight: dropping closes everything.
    }
    // The responder's end of a TCP connection lives in this process too and
    // closes once it sees the hang-up: give its thread a moment.
    let settled = (0..100).any(|_| {
        let same = sockets() == before;
        if !same {
            std::thread::sleep(Duration::from_millis(10));
        }
        same
    });
    assert!(settled, "left open: {:?} (before: {before:?})", sockets());
}
