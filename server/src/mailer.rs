//! Sends the outbox over SMTP when `SMTP_URL` is set. Emails are written to the outbox
//! in the same transaction as the reset or invitation that makes them, so a mail
//! server that is down loses nothing: the mailer tries again every few seconds. An
//! email the server refuses for good is marked with the reason and not tried again.

use std::time::Duration;

use app::backend::outbox::{claim_emails, mark_email, reclaim_email, release_emails, PendingEmail};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::DatabaseConnection;

/// How often the outbox is read for new emails.
pub const POLL: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// `url` as lettre reads it: `smtp://host:25` (plain, or STARTTLS with
    /// `?tls=required`), `smtps://user:password@host:465` (TLS).
    pub fn new(url: &str, from: &str) -> anyhow::Result<Mailer> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("SMTP_URL is not usable: {e}"))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| anyhow::anyhow!("the sender address {from:?} is not valid: {e}"))?;
        Ok(Mailer { transport, from })
    }

    fn message(&self, email: &PendingEmail) -> Result<Message, String> {
        let to = email
            .to
            .parse::<Mailbox>()
            .map_err(|e| format!("the address {} is not valid ({e})", email.to))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(email.body.clone())
            .map_err(|e| format!("the email could not be written ({e})"))
    }
}

/// What one round of sending did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub sent: u64,
    pub refused: u64,
    /// The server could not be reached or refused for now: tried again next round.
    pub deferred: Option<String>,
}

/// Sends every pending email (oldest first) and marks each sent or refused. Each batch
/// is claimed first, so with several servers every email is sent by one. Stops at the
/// first failure that may pass (server down, busy): that email is given back for the
/// next round, the rest of the batch after its claim.
pub async fn deliver_pending(db: &DatabaseConnection, mailer: &Mailer) -> anyhow::Result<Round> {
    let mut round = Round::default();
    loop {
        let batch = claim_emails(db, 50, app::backend::now()).await?;
        if batch.is_empty() {
            return Ok(round);
        }
        for email in &batch {
            // Still ours? (A slow round may have outlived its claim.)
            let held =
                reclaim_email(db, email.id, email.claimed_until, app::backend::now()).await?;
            if held.is_none() {
                continue;
            }
            let message = match mailer.message(email) {
                Ok(m) => m,
                Err(reason) => {
                    mark_email(db, email.id, Err(reason)).await?;
                    round.refused += 1;
                    continue;
                }
            };
            match mailer.transport.send(message).await {
                Ok(_) => {
                    mark_email(db, email.id, Ok(())).await?;
                    round.sent += 1;
                }
                Err(e) if e.is_permanent() => {
                    mark_email(
                        db,
                        email.id,
                        Err(format!("the mail server refused it ({e})")),
                    )
                    .await?;
                    round.refused += 1;
                }
                Err(e) => {
                    round.deferred = Some(e.to_string());
                    // This one is ours (just claimed again): the next round may retry it
                    // at once. The rest of the batch waits out its claim, as another
                    // server may hold some of them by now.
                    release_emails(db, &[email.id]).await?;
                    return Ok(round);
                }
            }
        }
    }
}

/// Sends the outbox in the background for as long as the server runs.
pub fn spawn(db: DatabaseConnection, mailer: Mailer) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_problem: Option<String> = None;
        loop {
            tick.tick().await;
            match deliver_pending(&db, &mailer).await {
                Ok(round) => {
                    if round.sent > 0 || round.refused > 0 {
                        tracing::info!(sent = round.sent, refused = round.refused, "outbox sent");
                    }
                    // A problem is logged when it starts, not every round.
                    if round.deferred != last_problem {
                        if let Some(problem) = &round.deferred {
                            tracing::warn!(%problem, "the mail server is not taking emails; trying again");
                        }
                        last_problem = round.deferred;
                    }
                }
                Err(e) => tracing::warn!(error = ?e, "reading the outbox failed"),
            }
        }
    });
}
