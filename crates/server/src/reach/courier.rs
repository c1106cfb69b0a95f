//! The courier: one per server process, delivering the outbox's due messages.
//!
//! A round claims up to [`BATCH`] messages (one write transaction), sends them to the provider
//! side by side, then settles every answer in one more. A process killed mid-round leaves its
//! claimed messages `sending`; when their lease ends another round finds them in doubt and asks
//! the provider whether it has each before sending it again.
//!
//! Once a minute it also runs the sweep (`apply::sweep`), which queues what time sets off.
//!
//! Between rounds the courier sleeps until it is woken (a push that may have queued messages)
//! or [`IDLE_POLL`] passes (messages queued by another process, or falling due after quiet
//! hours or a backoff).

use super::provider::{Answer, Outgoing, SmsProvider};
use crate::database::Database;
use crate::store::outbox::{self, Attempt, Claimed};
use crate::store::{Backend, MessageRow, Result};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinSet;

/// Messages claimed per round.
pub const BATCH: u32 = 100;
/// The longest a courier sleeps when nobody wakes it.
pub const IDLE_POLL: Duration = Duration::from_secs(2);
/// How often a courier runs the sweep: a late issue or a silent person is told within a minute.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct Courier {
    db: Database,
    provider: Arc<dyn SmsProvider>,
    /// This courier's name on the messages it claims (process and a random part: two processes
    /// on one host differ).
    name: Arc<str>,
    wake: Arc<Notify>,
}

impl Courier {
    pub fn new(db: Database, provider: Arc<dyn SmsProvider>, wake: Arc<Notify>) -> Courier {
        let name = format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        Courier {
            db,
            provider,
            name: name.into(),
            wake,
        }
    }

    pub fn provider_name(&self) -> &str {
        self.provider.name()
    }

    /// One round at `now`: returns how many messages it settled.
    pub async fn round(&self, now: DateTime<Utc>) -> Result<usize> {
        let name = self.name.clone();
        let claimed = self
            .db
            .write(move |tx| outbox::claim(tx, &name, now, BATCH))
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let mut sending = JoinSet::new();
        for c in claimed {
            let provider = self.provider.clone();
            sending.spawn(async move {
                let attempt = attempt(provider.as_ref(), &c).await;
                (c.message, attempt)
            });
        }
        let mut answers = Vec::new();
        while let Some(done) = sending.join_next().await {
            // A send that panicked stays claimed: in doubt at its lease's end, asked again.
            if let Ok(answer) = done {
                answers.push(answer);
            }
        }
        let settled = answers.len();
        let at = Utc::now().max(now);
        self.db
            .write(move |tx| {
                for (message, attempt) in answers {
                    outbox::settle(tx, &message, attempt, at)?;
                }
                Ok(())
            })
            .await?;
        Ok(settled)
    }

    /// Run the sweep (`apply::sweep`: the rules time sets off) at `now`; returns how many
    /// messages it queued.
    pub async fn sweep(&self, now: DateTime<Utc>) -> Result<usize> {
        self.db
            .write(move |tx| crate::apply::sweep::sweep(tx, now))
            .await
    }

    /// Deliver until the process ends: a round whenever woken or every [`IDLE_POLL`], at once
    /// again after a full batch; the sweep every [`SWEEP_EVERY`].
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut swept: Option<tokio::time::Instant> = None;
            loop {
                if swept.is_none_or(|t| t.elapsed() >= SWEEP_EVERY) {
                    swept = Some(tokio::time::Instant::now());
                    if let Err(e) = self.sweep(Utc::now()).await {
                        tracing::warn!(error = %e, "the sweep failed");
                    }
                }
                match self.round(Utc::now()).await {
                    Ok(n) if n as u32 >= BATCH => continue,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "the courier's round failed"),
                }
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(IDLE_POLL) => {}
                }
            }
        })
    }
}

/// What to do with one claimed message, and what came of it.
async fn attempt(provider: &dyn SmsProvider, c: &Claimed) -> Attempt {
    let m: &MessageRow = &c.message;
    if c.over_cap {
        return Attempt::Skipped {
            words: format!("daily cap: {} messages today already", outbox::DAILY_CAP),
        };
    }
    if m.address.is_empty() {
        return Attempt::Skipped {
            words: "no mobile number".into(),
        };
    }
    let out = Outgoing {
        key: m.id,
        phone: &m.address,
        notice: &m.notice,
        params: &m.params,
        link: &m.link,
        attempt: m.attempts + 1,
        queued_at_ms: m.created_at_ms,
    };
    let name = provider.name().to_string();
    let answer = match c.in_doubt {
        true => match provider.find(out).await {
            Some(found @ Answer::Accepted { .. }) => found,
            _ => provider.send(out).await,
        },
        false => provider.send(out).await,
    };
    match answer {
        Answer::Accepted { reference } => Attempt::Sent {
            provider: name,
            reference,
        },
        Answer::Busy { words } => Attempt::Unavailable {
            provider: name,
            words,
        },
        Answer::Refused { words } => Attempt::Refused {
            provider: name,
            words,
        },
    }
}
