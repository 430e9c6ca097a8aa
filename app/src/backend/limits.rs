//! The request limits of the public endpoints and the sign-ins, per caller. One server
//! (a SQLite file) counts in its own bounded memory ([`throttle`]); servers that share a
//! database (PostgreSQL) count in `rate_limits`, so an attacker gains nothing by
//! spreading attempts over them. Callers ask here and never see which store answers.

use std::net::IpAddr;

use sea_orm::{ConnectionTrait, DbErr};
use sha2::{Digest, Sha256};

use super::dialect::Run;
use super::sql::Sql;
use super::throttle::{self, Verdict, ADDRESS_FAILURES, PAIR_FAILURES, SIGN_IN_WINDOW};
use super::{now, Config};

#[derive(Debug)]
pub struct Limits {
    /// `POST /api/v1/events`, per API key.
    pub events: throttle::Counter,
    /// `POST /api/v1/signup`, per client address.
    pub signups: throttle::Counter,
    /// Failed sign-ins of admins and users.
    pub sign_in: throttle::SignInThrottle,
    event_requests_per_minute: u32,
    signups_per_minute: u32,
}

impl Limits {
    pub fn new(config: &Config) -> Self {
        let minute = std::time::Duration::from_secs(60);
        let capacity = config.throttle_capacity;
        Limits {
            events: throttle::Counter::new(config.event_requests_per_minute, minute, capacity),
            signups: throttle::Counter::new(config.signups_per_minute, minute, capacity),
            sign_in: throttle::SignInThrottle::new(capacity),
            event_requests_per_minute: config.event_requests_per_minute,
            signups_per_minute: config.signups_per_minute,
        }
    }

    /// Before a password is checked: refused, slowed down, or go.
    pub async fn sign_in_check<C: ConnectionTrait>(
        &self,
        db: &C,
        account: &str,
        ip: Option<IpAddr>,
    ) -> Result<Verdict, DbErr> {
        if !db.dialect().shared_by_servers() {
            return Ok(self.sign_in.check(account, ip));
        }
        let at = now();
        let [pair, address, acct] = SIGN_IN.read(db, sign_in_keys(account, ip)).await?;
        for (seen, max) in [(pair, PAIR_FAILURES), (address, ADDRESS_FAILURES)] {
            if let Some(wait) = seen.wait(max, at) {
                return Ok(Verdict::Locked(wait));
            }
        }
        Ok(throttle::slowed_down(acct.hits(at)))
    }

    pub async fn sign_in_failed<C: ConnectionTrait>(
        &self,
        db: &C,
        account: &str,
        ip: Option<IpAddr>,
    ) -> Result<(), DbErr> {
        if !db.dialect().shared_by_servers() {
            self.sign_in.failed(account, ip);
            return Ok(());
        }
        for key in sign_in_keys(account, ip) {
            SIGN_IN.add(db, key, now()).await?;
        }
        Ok(())
    }

    /// A correct password clears the account's counts (not the address's).
    pub async fn sign_in_succeeded<C: ConnectionTrait>(
        &self,
        db: &C,
        account: &str,
        ip: Option<IpAddr>,
    ) -> Result<(), DbErr> {
        if !db.dialect().shared_by_servers() {
            self.sign_in.succeeded(account, ip);
            return Ok(());
        }
        let [pair, _, acct] = sign_in_keys(account, ip);
        SIGN_IN.clear(db, &[pair, acct]).await
    }

    /// One request of API key `key_id` to the events API: `Err` with the seconds to
    /// wait once it is over its rate.
    pub async fn event_request<C: ConnectionTrait>(
        &self,
        db: &C,
        key_id: i64,
    ) -> Result<Result<(), u64>, DbErr> {
        if !db.dialect().shared_by_servers() {
            let key = self.events.key(&[&key_id.to_be_bytes()]);
            return Ok(self.events.check_and_add(key));
        }
        let key = shared_key("events", &[&key_id.to_be_bytes()]);
        EVENTS.take(db, key, self.event_requests_per_minute).await
    }

    /// One signup from the caller's address group.
    pub async fn signup_request<C: ConnectionTrait>(
        &self,
        db: &C,
        address_group: [u8; 16],
    ) -> Result<Result<(), u64>, DbErr> {
        if !db.dialect().shared_by_servers() {
            let key = self.signups.key(&[&address_group]);
            return Ok(self.signups.check_and_add(key));
        }
        let key = shared_key("signups", &[&address_group]);
        SIGNUPS.take(db, key, self.signups_per_minute).await
    }
}

/// Forgets the shared counts whose window has ended (the background purge).
pub async fn purge_shared<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    let mut q = Sql::new("DELETE FROM rate_limits WHERE window_start < ");
    q.bind(now() - longest_window());
    Ok(db.exec(&q).await?.rows_affected())
}

fn longest_window() -> chrono::Duration {
    [SIGN_IN.window, EVENTS.window, SIGNUPS.window]
        .into_iter()
        .max()
        .unwrap_or_default()
}

/// A counter in `rate_limits`: a window that starts at a key's first hit, as
/// [`throttle::Counter`] keeps in memory.
struct Shared {
    name: &'static str,
    window: chrono::Duration,
}

const SIGN_IN: Shared = Shared {
    name: "sign_in",
    window: chrono::Duration::seconds(SIGN_IN_WINDOW.as_secs() as i64),
};
const EVENTS: Shared = Shared {
    name: "events",
    window: chrono::Duration::minutes(1),
};
const SIGNUPS: Shared = Shared {
    name: "signups",
    window: chrono::Duration::minutes(1),
};

/// A key's row as read: its window's start and hits.
struct Seen(
    Option<(chrono::DateTime<chrono::Utc>, i64)>,
    chrono::Duration,
);

impl Seen {
    /// Hits in the current window (0 once it has ended).
    fn hits(&self, at: chrono::DateTime<chrono::Utc>) -> u32 {
        match self.0 {
            Some((start, hits)) if at - start < self.1 => u32::try_from(hits).unwrap_or(u32::MAX),
            _ => 0,
        }
    }

    /// Seconds left in the window once `max` hits are reached.
    fn wait(&self, max: u32, at: chrono::DateTime<chrono::Utc>) -> Option<u64> {
        let (start, _) = self.0?;
        (self.hits(at) >= max).then(|| ((self.1 - (at - start)).num_seconds().max(1)) as u64)
    }
}

impl Shared {
    /// The rows of `keys` (in one query), in the same order.
    async fn read<C: ConnectionTrait, const N: usize>(
        &self,
        db: &C,
        keys: [i64; N],
    ) -> Result<[Seen; N], DbErr> {
        let mut q = Sql::new("SELECT key, window_start, hits FROM rate_limits WHERE counter = ");
        q.bind(self.name)
            .push(" AND key IN (")
            .bind_list(keys)
            .push(")");
        let mut found = std::collections::HashMap::new();
        for r in db.all(&q).await? {
            let start: chrono::DateTime<chrono::Utc> = r.try_get("", "window_start")?;
            let hits = i64::from(r.try_get::<i32>("", "hits")?);
            found.insert(r.try_get::<i64>("", "key")?, (start, hits));
        }
        Ok(keys.map(|k| Seen(found.get(&k).copied(), self.window)))
    }

    /// Counts one hit (a window that has ended starts again) and returns the row after.
    async fn add<C: ConnectionTrait>(
        &self,
        db: &C,
        key: i64,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Seen, DbErr> {
        let ended = at - self.window;
        let mut q = Sql::new("INSERT INTO rate_limits (counter, key, window_start, hits) VALUES (");
        q.bind(self.name)
            .push(", ")
            .bind(key)
            .push(", ")
            .bind(at)
            .push(
                ", 1) ON CONFLICT (counter, key) DO UPDATE SET \
                 hits = CASE WHEN rate_limits.window_start <= ",
            )
            .bind(ended)
            .push(" THEN 1 ELSE rate_limits.hits + 1 END, window_start = CASE WHEN rate_limits.window_start <= ")
            .bind(ended)
            .push(" THEN excluded.window_start ELSE rate_limits.window_start END RETURNING window_start, hits");
        let row = db
            .one(&q)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("rate_limits".into()))?;
        let start = row.try_get("", "window_start")?;
        let hits = i64::from(row.try_get::<i32>("", "hits")?);
        Ok(Seen(Some((start, hits)), self.window))
    }

    /// One hit if the key is under `max` in its window (counted in one statement, so
    /// two servers never both let the last one through), else the seconds to wait.
    async fn take<C: ConnectionTrait>(
        &self,
        db: &C,
        key: i64,
        max: u32,
    ) -> Result<Result<(), u64>, DbErr> {
        let at = now();
        let seen = self.add(db, key, at).await?;
        Ok(match seen.hits(at) > max {
            true => Err(seen.wait(max, at).unwrap_or(1)),
            false => Ok(()),
        })
    }

    async fn clear<C: ConnectionTrait>(&self, db: &C, keys: &[i64]) -> Result<(), DbErr> {
        let mut q = Sql::new("DELETE FROM rate_limits WHERE counter = ");
        q.bind(self.name)
            .push(" AND key IN (")
            .bind_list(keys.iter().copied())
            .push(")");
        db.exec(&q).await?;
        Ok(())
    }
}

/// The three sign-in counts of an attempt: account and address together, the address,
/// the account (each counter's name is part of its key).
fn sign_in_keys(account: &str, ip: Option<IpAddr>) -> [i64; 3] {
    let group = ip.map(throttle::address_group).unwrap_or_default();
    [
        shared_key("sign_in.pair", &[account.as_bytes(), &group]),
        shared_key("sign_in.address", &[&group]),
        shared_key("sign_in.account", &[account.as_bytes()]),
    ]
}

/// A stable 64-bit key for what a counter counts, the same on every server: the start
/// of a SHA-256 over the counter's name and the length-prefixed parts (nobody can pick
/// parts that land on someone else's key).
fn shared_key(name: &str, parts: &[&[u8]]) -> i64 {
    let mut h = Sha256::new();
    for part in std::iter::once(name.as_bytes()).chain(parts.iter().copied()) {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    let digest = h.finalize();
    i64::from_be_bytes(digest[..8].try_into().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_keys_are_stable_and_kept_apart() {
        let a = shared_key("events", &[b"ab", b"c"]);
        assert_eq!(a, shared_key("events", &[b"ab", b"c"]));
        assert_ne!(
            a,
            shared_key("events", &[b"a", b"bc"]),
            "parts are length-prefixed"
        );
        assert_ne!(
            a,
            shared_key("signups", &[b"ab", b"c"]),
            "counters are kept apart"
        );
    }

    #[test]
    fn a_window_counts_until_it_ends() {
        let start = now();
        let seen = Seen(Some((start, 5)), chrono::Duration::minutes(15));
        assert_eq!(seen.hits(start + chrono::Duration::minutes(14)), 5);
        assert_eq!(
            seen.wait(5, start + chrono::Duration::minutes(14)),
            Some(60)
        );
        assert_eq!(seen.wait(6, start), None);
        assert_eq!(seen.hits(start + chrono::Duration::minutes(15)), 0);
        assert_eq!(seen.wait(5, start + chrono::Duration::minutes(16)), None);
    }
}
