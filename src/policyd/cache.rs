//! Verdicts kept for a while, by client address (rmxpolicyd(8)): one
//! lookup serves the recipients and sessions of one client, and a
//! temporary error serves the rest of its message.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::verdict::{Judgement, Outcome};

/// The longest a verdict is reused, whatever the TTLs say.
pub const MAX_KEPT: Duration = Duration::from_secs(60);
/// The most verdicts kept at once.
pub const CACHE_SIZE: usize = 1024;

/// Verdicts kept for a while, by client address: never past [`MAX_KEPT`]
/// or the TTL they were given, at most [`CACHE_SIZE`] of them. A
/// `temperror` is kept only for the message it was met in (Postfix's
/// `instance`), with that client: the other recipients of a message from a
/// client whose reverse zone is lame wait for the DNS once, not once each;
/// the next message asks again.
#[derive(Debug, Default)]
pub struct Cache {
    kept: BTreeMap<IpAddr, (Judgement, Instant)>,
    /// The last `temperror`, with its message and client.
    message: Option<(String, IpAddr, Judgement)>,
}

impl Cache {
    /// The verdict kept for `client` in message `instance` (empty when
    /// Postfix names none), if it has not expired by `now`.
    pub fn get(&self, client: IpAddr, instance: &str, now: Instant) -> Option<&Judgement> {
        match self.kept.get(&client) {
            Some((judgement, until)) if now < *until => return Some(judgement),
            _ => {}
        }
        match &self.message {
            Some((message, ip, judgement)) if !instance.is_empty() && message == instance => {
                (*ip == client).then_some(judgement)
            }
            _ => None,
        }
    }

    /// Keeps `judgement` for `client` for `ttl`, at most [`MAX_KEPT`]; a
    /// `temperror`, for message `instance` only. When full, the expired
    /// verdicts go first, then the one nearest to expiry.
    pub fn put(
        &mut self,
        client: IpAddr,
        instance: &str,
        judgement: Judgement,
        ttl: Duration,
        now: Instant,
    ) {
        if judgement.outcome() == Outcome::TempError {
            self.kept.remove(&client);
            self.message =
                (!instance.is_empty()).then(|| (instance.to_string(), client, judgement));
            return;
        }
        if ttl.is_zero() {
            self.kept.remove(&client);
            return;
        }
        if self.kept.len() >= CACHE_SIZE && !self.kept.contains_key(&client) {
            self.kept.retain(|_, (_, until)| now < *until);
            let soonest = self.kept.iter().min_by_key(|(_, (_, until))| *until);
            if let Some((&gone, _)) = soonest.filter(|_| self.kept.len() >= CACHE_SIZE) {
                self.kept.remove(&gone);
            }
        }
        self.kept
            .insert(client, (judgement, now + ttl.min(MAX_KEPT)));
    }

    pub fn len(&self) -> usize {
        self.kept.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kept.is_empty() && self.message.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Reason;

    fn judgement(reason: Reason) -> Judgement {
        Judgement::new(reason, None)
    }

    fn pass() -> Reason {
        Reason::Listed(crate::findings::fixtures::name("mx.example."))
    }

    #[test]
    fn cache_keeps_by_address_and_time() {
        let now = Instant::now();
        let a: IpAddr = "198.51.100.5".parse().unwrap();
        let b: IpAddr = "198.51.100.6".parse().unwrap();
        let mut cache = Cache::default();
        cache.put(a, "", judgement(pass()), Duration::from_secs(300), now);
        assert_eq!(cache.get(a, "", now).unwrap().outcome(), Outcome::Pass);
        assert!(cache.get(b, "", now).is_none());
        // Never past MAX_KEPT, never past the TTL.
        assert!(cache.get(a, "", now + MAX_KEPT).is_none());
        cache.put(
            b,
            "",
            judgement(Reason::NotListed(1)),
            Duration::from_secs(5),
            now,
        );
        assert!(cache.get(b, "", now + Duration::from_secs(4)).is_some());
        assert!(cache.get(b, "", now + Duration::from_secs(5)).is_none());
        // Never a temperror, nor an answer that may not be kept.
        cache.put(a, "", judgement(Reason::Unfinished), MAX_KEPT, now);
        assert!(cache.get(a, "", now).is_none());
        cache.put(a, "", judgement(Reason::NoList), Duration::ZERO, now);
        assert!(cache.get(a, "", now).is_none());
    }

    #[test]
    fn a_temperror_serves_its_message_alone() {
        let now = Instant::now();
        let a: IpAddr = "198.51.100.5".parse().unwrap();
        let b: IpAddr = "198.51.100.6".parse().unwrap();
        let mut cache = Cache::default();
        cache.put(a, "1a.2b", judgement(Reason::Unfinished), MAX_KEPT, now);
        let kept = cache.get(a, "1a.2b", now + MAX_KEPT * 10);
        assert_eq!(kept.map(Judgement::outcome), Some(Outcome::TempError));
        // Not for another message, another client, or no message at all.
        assert!(cache.get(a, "3c.4d", now).is_none());
        assert!(cache.get(b, "1a.2b", now).is_none());
        assert!(cache.get(a, "", now).is_none());
        // With no message named, it is not kept at all.
        cache.put(b, "", judgement(Reason::Unfinished), MAX_KEPT, now);
        assert!(cache.get(b, "", now).is_none());
        assert!(
            cache.get(a, "1a.2b", now).is_none(),
            "one message at a time"
        );
        assert!(cache.is_empty());
    }

    #[test]
    fn cache_is_bounded() {
        let now = Instant::now();
        let mut cache = Cache::default();
        for n in 0..3 * CACHE_SIZE as u32 {
            let ip = IpAddr::from(n.to_be_bytes());
            let ttl = Duration::from_secs(1 + u64::from(n % 50));
            cache.put(ip, "", judgement(pass()), ttl, now);
            assert!(cache.len() <= CACHE_SIZE);
        }
        // The newest is kept.
        let last = IpAddr::from((3 * CACHE_SIZE as u32 - 1).to_be_bytes());
        assert!(cache.get(last, "", now).is_some());
    }
}
