//! Who is calling and how often: the one client-address reader of the server, and the
//! counters that throttle sign-ins, signups and the events API.
//!
//! Every counter holds fixed-size keys (a keyed 64-bit hash of what it counts) and at
//! most a set number of entries, so no caller can grow the server's memory by inventing
//! emails or addresses: when a counter is full, expired entries go first, then the
//! oldest.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ipnet::IpNet;

/// Most entries one counter keeps (about 3 MB at most).
pub const DEFAULT_CAPACITY: usize = 50_000;

/// Proxies whose `X-Forwarded-For` is believed: a list of CIDRs (`10.0.0.0/8`) or
/// single addresses. Empty (the default) believes nobody: the peer is the client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma- or space-separated list; names the entry that is not a CIDR.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("`{s}` is not an address or CIDR range (e.g. 10.0.0.0/8).")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// `::ffff:1.2.3.4` is 1.2.3.4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or
/// `[2001:db8::1]:443`.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = entry.parse::<std::net::SocketAddr>() {
        return Some(addr.ip());
    }
    entry
        .strip_prefix('[')
        .and_then(|rest| rest.split(']').next())
        .and_then(|inner| inner.parse().ok())
}

/// The client's address: the peer, unless the peer is a trusted proxy, in which case
/// the right-most `X-Forwarded-For` entry that is not a trusted proxy (the left-most
/// entries are whatever the client chose to send). `forwarded` holds every value of the
/// header in the order received. An entry that does not parse ends the walk at the
/// trusted hop that reported it.
pub fn client_ip<'a>(
    peer: Option<IpAddr>,
    forwarded: impl IntoIterator<Item = &'a str>,
    trusted: &TrustedProxies,
) -> Option<IpAddr> {
    let peer = canonical(peer?);
    if trusted.is_empty() || !trusted.contains(peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = forwarded
        .into_iter()
        .flat_map(|value| value.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop).map(canonical) else {
            break;
        };
        client = ip;
        if !trusted.contains(ip) {
            break;
        }
    }
    Some(client)
}

/// The part of an address that names one client: IPv4 whole, IPv6 by its /64 (one
/// household or server is given a whole /64).
pub fn address_group(ip: IpAddr) -> [u8; 16] {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            Ipv6Addr::from(octets).octets()
        }
    }
}

/// The account a sign-in names, whatever its spelling: a phone number in its
/// international form (`0046 70…` is `+4670…`), anything else trimmed and lower-cased.
pub fn account_key(login: &str) -> String {
    match crate::domain::account::Phone::parse(login) {
        Ok(phone) => phone.as_str().to_string(),
        Err(_) => login.trim().to_lowercase(),
    }
}

/// What a counter keeps per key: when its window started and the count in it.
type Entry = (Instant, u32);

/// Counts events per key in a window that starts at the key's first event, in bounded
/// memory.
#[derive(Debug)]
pub struct Counter {
    max: u32,
    window: Duration,
    capacity: usize,
    hasher: RandomState,
    seen: Mutex<HashMap<u64, Entry>>,
}

impl Counter {
    pub fn new(max: u32, window: Duration, capacity: usize) -> Self {
        Counter {
            max,
            window,
            capacity: capacity.max(16),
            hasher: RandomState::new(),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The fixed-size key for a caller named by these parts (a keyed hash, so nobody
    /// can make two callers collide on purpose).
    pub fn key(&self, parts: &[&[u8]]) -> u64 {
        let mut h = self.hasher.build_hasher();
        for part in parts {
            part.hash(&mut h);
        }
        h.finish()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The count for `key` in its current window (0 once the window has ended).
    pub fn count(&self, key: u64) -> u32 {
        let at = Instant::now();
        self.lock()
            .get(&key)
            .filter(|(start, _)| at.duration_since(*start) < self.window)
            .map_or(0, |(_, n)| *n)
    }

    /// Seconds left before `key` may go on, if it has reached the maximum.
    pub fn blocked(&self, key: u64) -> Option<u64> {
        let at = Instant::now();
        let seen = self.lock();
        let (start, count) = seen.get(&key)?;
        let elapsed = at.duration_since(*start);
        (elapsed < self.window && *count >= self.max)
            .then(|| self.window.saturating_sub(elapsed).as_secs().max(1))
    }

    /// Counts one event for `key`.
    pub fn add(&self, key: u64) {
        let at = Instant::now();
        let mut seen = self.lock();
        if !seen.contains_key(&key) && seen.len() >= self.capacity {
            self.make_room(&mut seen, at);
        }
        let entry = seen.entry(key).or_insert((at, 0));
        if at.duration_since(entry.0) >= self.window {
            *entry = (at, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// `Ok` and counted if `key` is under the maximum, else the seconds to wait.
    pub fn check_and_add(&self, key: u64) -> Result<(), u64> {
        if let Some(wait) = self.blocked(key) {
            return Err(wait);
        }
        self.add(key);
        Ok(())
    }

    pub fn clear(&self, key: u64) {
        self.lock().remove(&key);
    }

    /// Drops expired entries, then the oldest eighth if it is still full.
    fn make_room(&self, seen: &mut HashMap<u64, Entry>, at: Instant) {
        let window = self.window;
        seen.retain(|_, (start, _)| at.duration_since(*start) < window);
        if seen.len() < self.capacity {
            return;
        }
        let mut starts: Vec<Instant> = seen.values().map(|(start, _)| *start).collect();
        let drop = (self.capacity / 8).max(1);
        let (_, cutoff, _) = starts.select_nth_unstable(drop - 1);
        let cutoff = *cutoff;
        seen.retain(|_, (start, _)| *start > cutoff);
        if seen.capacity() > self.capacity * 4 {
            seen.shrink_to(self.capacity);
        }
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// An upper bound of the bytes its table holds (slots times slot size, plus a
    /// control byte each).
    pub fn memory_bytes(&self) -> usize {
        self.lock().capacity() * (std::mem::size_of::<(u64, Entry)>() + 1)
    }
}

/// What the sign-in throttle says before a password is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Check the password, after waiting this long (zero unless the account is under
    /// attack).
    Go(Duration),
    /// Refuse without checking; try again in this many seconds.
    Locked(u64),
}

/// Failed sign-ins (admins and users alike), counted three ways:
/// - per account and address: 5 failures lock that pair for 15 minutes;
/// - per address: 20 failures lock the address for 15 minutes;
/// - per account: failures past 5 only slow its sign-ins down (up to 8 s each), so an
///   attacker with many addresses can never lock the owner out.
#[derive(Debug)]
pub struct SignInThrottle {
    pair: Counter,
    address: Counter,
    account: Counter,
}

/// Failures per account and address before that pair is locked.
pub const PAIR_FAILURES: u32 = 5;
/// Failures from one address before it is locked.
pub const ADDRESS_FAILURES: u32 = 20;
/// Longest slow-down of one sign-in to an account under attack.
pub const MAX_SLOWDOWN: Duration = Duration::from_secs(8);

impl SignInThrottle {
    pub fn new(capacity: usize) -> Self {
        let window = SIGN_IN_WINDOW;
        SignInThrottle {
            pair: Counter::new(PAIR_FAILURES, window, capacity),
            address: Counter::new(ADDRESS_FAILURES, window, capacity),
            account: Counter::new(u32::MAX, window, capacity),
        }
    }

    fn keys(&self, account: &str, ip: Option<IpAddr>) -> (u64, u64, u64) {
        let group = ip.map(address_group).unwrap_or_default();
        (
            self.pair.key(&[account.as_bytes(), &group]),
            self.address.key(&[&group]),
            self.account.key(&[account.as_bytes()]),
        )
    }

    /// `account` is the resolved account key (see `auth::account_key`), `ip` the
    /// client's address from [`client_ip`].
    pub fn check(&self, account: &str, ip: Option<IpAddr>) -> Verdict {
        let (pair, address, acct) = self.keys(account, ip);
        if let Some(wait) = self
            .pair
            .blocked(pair)
            .or_else(|| self.address.blocked(address))
        {
            return Verdict::Locked(wait);
        }
        slowed_down(self.account.count(acct))
    }

    pub fn failed(&self, account: &str, ip: Option<IpAddr>) {
        let (pair, address, acct) = self.keys(account, ip);
        self.pair.add(pair);
        self.address.add(address);
        self.account.add(acct);
    }

    /// A correct password clears the account's counts (not the address's).
    pub fn succeeded(&self, account: &str, ip: Option<IpAddr>) {
        let (pair, _, acct) = self.keys(account, ip);
        self.pair.clear(pair);
        self.account.clear(acct);
    }

    /// Entries held by all three counters, and the bytes they take at most.
    pub fn footprint(&self) -> (usize, usize) {
        let counters = [&self.pair, &self.address, &self.account];
        (
            counters.iter().map(|c| c.len()).sum(),
            counters.iter().map(|c| c.memory_bytes()).sum(),
        )
    }

    /// The most entries all three may hold.
    pub fn capacity(&self) -> usize {
        self.pair.capacity() * 3
    }
}

/// How long a sign-in to an account waits after this many recent failures: nothing up
/// to [`PAIR_FAILURES`], then doubling from 250 ms up to [`MAX_SLOWDOWN`].
pub fn slowed_down(failures: u32) -> Verdict {
    let delay = match failures.checked_sub(PAIR_FAILURES) {
        None => Duration::ZERO,
        Some(over) => {
            (Duration::from_millis(250) * 2u32.saturating_pow(over.min(8))).min(MAX_SLOWDOWN)
        }
    };
    Verdict::Go(delay)
}

/// The window of the sign-in counters.
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// "3 minutes", "1 minute", "40 seconds".
pub fn wait_text(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs} seconds"),
        60..=119 => "1 minute".to_string(),
        s => format!("{} minutes", s.div_ceil(60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let none = TrustedProxies::default();
        assert_eq!(
            client_ip(Some(ip("203.0.113.9")), ["1.1.1.1, 2.2.2.2"], &none),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_entry_is_the_client() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.168.1.1").unwrap();
        // The client made up 6.6.6.6; the proxy appended the address it saw.
        assert_eq!(
            client_ip(
                Some(ip("10.0.0.2")),
                ["6.6.6.6, 198.51.100.7", "192.168.1.1"],
                &trusted
            ),
            Some(ip("198.51.100.7"))
        );
        // A peer outside the list is believed over any header.
        assert_eq!(
            client_ip(Some(ip("198.51.100.8")), ["6.6.6.6"], &trusted),
            Some(ip("198.51.100.8"))
        );
        // Garbage stops the walk at the hop that reported it.
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), ["1.2.3.4, nonsense"], &trusted),
            Some(ip("10.0.0.2"))
        );
        // Ports and brackets are read.
        assert_eq!(
            client_ip(Some(ip("10.0.0.2")), ["[2001:db8::5]:443"], &trusted),
            Some(ip("2001:db8::5"))
        );
        assert_eq!(
            client_ip(Some(ip("::ffff:10.0.0.2")), ["198.51.100.7:80"], &trusted),
            Some(ip("198.51.100.7"))
        );
    }

    #[test]
    fn a_bad_trusted_proxy_entry_is_named() {
        let err = TrustedProxies::parse("10.0.0.0/8 proxy.local").unwrap_err();
        assert!(err.contains("proxy.local"), "{err}");
    }

    #[test]
    fn one_phone_is_one_account_however_it_is_typed() {
        assert_eq!(
            account_key("+46 70 123 45 67"),
            account_key("0046701234567")
        );
        assert_eq!(account_key(" Ann@Example.com "), "ann@example.com");
    }

    #[test]
    fn ipv6_is_grouped_by_64() {
        assert_eq!(
            address_group(ip("2001:db8:1:2:aaaa::1")),
            address_group(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            address_group(ip("2001:db8:1:2::1")),
            address_group(ip("2001:db8:1:3::1"))
        );
        assert_ne!(address_group(ip("1.2.3.4")), address_group(ip("1.2.3.5")));
    }

    #[test]
    fn a_pair_locks_but_the_account_is_only_slowed() {
        let t = SignInThrottle::new(1000);
        let attacker = Some(ip("198.51.100.1"));
        for _ in 0..PAIR_FAILURES {
            assert!(matches!(t.check("owner", attacker), Verdict::Go(_)));
            t.failed("owner", attacker);
        }
        assert!(matches!(t.check("owner", attacker), Verdict::Locked(_)));
        // The owner, elsewhere, may still try: slowed, never locked.
        for n in 0..40u8 {
            t.failed("owner", Some(IpAddr::from([203, 0, 113, n])));
        }
        match t.check("owner", Some(ip("192.0.2.50"))) {
            Verdict::Go(delay) => assert_eq!(delay, MAX_SLOWDOWN),
            other => panic!("the owner is locked out: {other:?}"),
        }
        t.succeeded("owner", Some(ip("192.0.2.50")));
        assert_eq!(
            t.check("owner", Some(ip("192.0.2.50"))),
            Verdict::Go(Duration::ZERO)
        );
    }

    #[test]
    fn one_address_is_locked_after_many_accounts() {
        let t = SignInThrottle::new(1000);
        let sprayer = Some(ip("198.51.100.1"));
        for n in 0..ADDRESS_FAILURES {
            t.failed(&format!("user{n}"), sprayer);
        }
        assert!(matches!(
            t.check("someone-else", sprayer),
            Verdict::Locked(_)
        ));
        assert!(matches!(
            t.check("someone-else", Some(ip("198.51.100.2"))),
            Verdict::Go(_)
        ));
    }

    #[test]
    fn ten_thousand_failures_with_long_emails_stay_under_the_cap() {
        let cap = 1000;
        let t = SignInThrottle::new(cap);
        let long = "x".repeat(5000);
        for n in 0..10_000u32 {
            let account = format!("{long}{n}@example.com");
            let b = n.to_be_bytes();
            t.failed(&account, Some(IpAddr::from([b[0], b[1], b[2], b[3]])));
        }
        let (entries, bytes) = t.footprint();
        assert!(entries <= t.capacity(), "{entries} entries");
        // Keys are 8 bytes whatever was typed: the table stays a few dozen KB.
        assert!(bytes <= 3 * 4 * cap * 32, "{bytes} bytes");
    }

    #[test]
    fn a_full_counter_drops_the_oldest_first() {
        let c = Counter::new(3, Duration::from_secs(60), 16);
        for n in 0..100u32 {
            c.add(c.key(&[&n.to_be_bytes()]));
        }
        assert!(c.len() <= 16);
        let newest = c.key(&[&99u32.to_be_bytes()]);
        assert_eq!(c.count(newest), 1);
    }

    #[test]
    fn counters_block_a_caller_until_the_window_ends_and_clear_forgets_them() {
        let limiter = Counter::new(2, Duration::from_secs(900), 100);
        let a = limiter.key(&[b"acct:a"]);
        limiter.add(a);
        assert_eq!(limiter.blocked(a), None, "one failure is allowed");
        limiter.add(a);
        let wait = limiter.blocked(a).expect("blocked after two");
        assert!((1..=900).contains(&wait), "{wait}");
        assert_eq!(
            limiter.blocked(limiter.key(&[b"acct:b"])),
            None,
            "others are not blocked"
        );
        limiter.clear(a);
        assert_eq!(limiter.blocked(a), None);
        assert_eq!(wait_text(40), "40 seconds");
        assert_eq!(wait_text(61), "1 minute");
        assert_eq!(wait_text(601), "11 minutes");
    }

    #[test]
    fn the_rate_counter_counts_per_caller_and_window() {
        let limiter = Counter::new(2, Duration::from_secs(60), 100);
        let (a, b) = (limiter.key(&[b"a"]), limiter.key(&[b"b"]));
        assert!(limiter.check_and_add(a).is_ok());
        assert!(limiter.check_and_add(a).is_ok());
        let wait = limiter.check_and_add(a).expect_err("third in the window");
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(
            limiter.check_and_add(b).is_ok(),
            "another caller has its own count"
        );
        let fresh = Counter::new(1, Duration::from_millis(0), 100);
        assert!(fresh.check_and_add(a).is_ok());
        assert!(
            fresh.check_and_add(a).is_ok(),
            "a new window starts the count again"
        );
    }
}
