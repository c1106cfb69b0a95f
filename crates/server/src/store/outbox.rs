//! The outbox: the messages the server decides to send, and the rules of their delivery.
//!
//! A message is queued by [`queue`] inside the write transaction of the fact that caused it (a
//! call-up, a dispatch): the fact and its messages commit together or not at all, so a crash can
//! lose neither one without the other. Its trigger key names the rule and its subject, so a rule
//! that fires twice for one fact (a retried push, a sweep run by two processes) queues once.
//!
//! A worker (`crate::reach`) then [`claim`]s due messages: each claim is a write transaction,
//! which the backends serialise (SQLite's one writer, PostgreSQL's writer lock), so a message is
//! taken by one worker of one process at a time, for [`LEASE_MS`]. The worker hands it to the
//! provider with the message id as the provider's idempotency key and [`settle`]s the result. A
//! message still `sending` when its lease ends was taken by a process that died mid-delivery: it
//! is *in doubt*, and the worker asks the provider whether it has it before sending it again.
//!
//! The rules of when:
//! - **quiet hours**: a message that is not urgent waits from 22:00 to 07:00 China time;
//!   call-ups are urgent and go at once;
//! - **daily cap**: at most [`DAILY_CAP`] non-urgent messages per person per China day; more are
//!   skipped, with the reason, and stay in the log;
//! - **retries**: a provider that is busy, throttles or is unreachable is tried again after
//!   [`backoff_ms`] — 30 s doubling to 15 min, [`MAX_ATTEMPTS`] times (about two hours), so a
//!   ten-minute outage loses nothing; a refusal for good (an invalid number, a template not
//!   approved) fails at once with the provider's words.
//!
//! [`log`] is what the office reads of it: the messages of its grids, newest first, each with
//! its state and the provider's words, numbers masked.
//!
//! This module never talks to a provider and never reads a clock: times are arguments.

use super::error::Result;
use super::office::Names;
use super::principal::Principal;
use super::rows::{MessageFilter, MessageRow, MessageSettlement, MessageState};
use super::transaction::{ReadTx, WriteTx};
use chrono::{DateTime, Duration, Timelike, Utc};
use gridmate_model::calendar::{china, day_start};
use gridmate_model::validate::mask_phone;
use serde::Serialize;
use std::collections::HashMap;
use uuid::Uuid;

/// China-time hours in which nothing but urgent messages is sent: [22:00, 07:00).
pub const QUIET_FROM_HOUR: u32 = 22;
pub const QUIET_UNTIL_HOUR: u32 = 7;
/// Non-urgent messages one person receives in a China day at most.
pub const DAILY_CAP: u64 = 10;
/// How long a claimed message is its worker's: far longer than a provider's request may take
/// (the adapters give up after 10 s), so only a dead process's messages fall in doubt.
pub const LEASE_MS: i64 = 60_000;
/// Attempts before a message the provider kept refusing for now is failed.
pub const MAX_ATTEMPTS: u32 = 12;

/// A message a rule decided to send.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub trigger_key: String,
    pub recipient_id: Uuid,
    pub address: String,
    pub notice: &'static str,
    pub params: Vec<(String, String)>,
    pub link: String,
    pub urgent: bool,
    pub grid_id: Option<Uuid>,
}

/// Queue `n` in the caller's transaction; false when its trigger key was queued before.
pub fn queue(tx: &mut dyn WriteTx, n: Notice, now: DateTime<Utc>) -> Result<bool> {
    let now_ms = now.timestamp_millis();
    tx.insert_message(&MessageRow {
        id: Uuid::now_v7(),
        trigger_key: n.trigger_key,
        recipient_id: n.recipient_id,
        address: n.address,
        notice: n.notice.to_string(),
        params: n.params,
        link: n.link,
        urgent: n.urgent,
        grid_id: n.grid_id,
        created_at_ms: now_ms,
        state: MessageState::Queued,
        attempts: 0,
        next_at_ms: due_at(now, n.urgent).timestamp_millis(),
        claimed_by: None,
        provider: None,
        provider_ref: None,
        words: None,
        settled_at_ms: None,
    })
}

/// When a message queued at `now` may first go: at once if urgent or outside quiet hours, else
/// at the quiet hours' end.
pub fn due_at(now: DateTime<Utc>, urgent: bool) -> DateTime<Utc> {
    let hour = now.with_timezone(&china()).hour();
    if urgent || (QUIET_UNTIL_HOUR..QUIET_FROM_HOUR).contains(&hour) {
        return now;
    }
    // The quiet hours' end: today's 07:00 after midnight, tomorrow's before it.
    let today = day_start(now) + Duration::hours(i64::from(QUIET_UNTIL_HOUR));
    if hour < QUIET_UNTIL_HOUR {
        today
    } else {
        today + Duration::days(1)
    }
}

/// The wait before attempt `attempt + 1`, after `attempt` (1-based) failed for now.
pub fn backoff_ms(attempt: u32) -> i64 {
    let doubling = 30_000i64 << attempt.saturating_sub(1).min(10);
    doubling.min(15 * 60_000)
}

/// A message a worker took, with what the rules say about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Claimed {
    /// As stored before the claim: `attempts` is the attempts made before this one.
    pub message: MessageRow,
    /// A dead process was sending it: ask the provider before sending again.
    pub in_doubt: bool,
    /// Not urgent and its person has had [`DAILY_CAP`] today: skip it.
    pub over_cap: bool,
}

/// Take up to `limit` due messages for `worker` (see the module's doc).
pub fn claim(
    tx: &mut dyn WriteTx,
    worker: &str,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Claimed>> {
    let now_ms = now.timestamp_millis();
    let rows = tx.claim_messages(worker, now_ms, now_ms + LEASE_MS, limit)?;
    let since = day_start(now).timestamp_millis();
    // Counted per person once, then with this batch's own messages added as they pass.
    let mut sent_today: HashMap<Uuid, u64> = HashMap::new();
    let mut claimed = Vec::with_capacity(rows.len());
    for message in rows {
        let over_cap = if message.urgent {
            false
        } else {
            let count = match sent_today.get_mut(&message.recipient_id) {
                Some(n) => n,
                None => {
                    let n = tx.messages_sent_since(message.recipient_id, since)?;
                    sent_today.entry(message.recipient_id).or_insert(n)
                }
            };
            let over = *count >= DAILY_CAP;
            if !over {
                *count += 1;
            }
            over
        };
        claimed.push(Claimed {
            in_doubt: message.state == MessageState::Sending,
            over_cap,
            message,
        });
    }
    Ok(claimed)
}

/// How one attempt at a message ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Attempt {
    /// The provider took it, under its reference.
    Sent { provider: String, reference: String },
    /// The provider reported it on the phone.
    Delivered { provider: String, reference: String },
    /// Refused for now (throttled, busy, unreachable): try again later.
    Unavailable { provider: String, words: String },
    /// Refused for good (an invalid number, a template not approved).
    Refused { provider: String, words: String },
    /// Not sent, by the server's own rule.
    Skipped { words: String },
}

/// Store how the attempt at `claimed` ended; false if it was no longer being sent (another
/// worker settled it after this one's lease ran out).
pub fn settle(
    tx: &mut dyn WriteTx,
    claimed: &MessageRow,
    attempt: Attempt,
    now: DateTime<Utc>,
) -> Result<bool> {
    let now_ms = now.timestamp_millis();
    let attempts = claimed.attempts + 1;
    let settled = |state, provider: Option<String>, reference, words| MessageSettlement {
        id: claimed.id,
        state,
        next_at_ms: now_ms,
        provider,
        provider_ref: reference,
        words,
        settled_at_ms: Some(now_ms),
    };
    let s = match attempt {
        Attempt::Sent {
            provider,
            reference,
        } => settled(MessageState::Sent, Some(provider), Some(reference), None),
        Attempt::Delivered {
            provider,
            reference,
        } => settled(
            MessageState::Delivered,
            Some(provider),
            Some(reference),
            None,
        ),
        Attempt::Refused { provider, words } => {
            settled(MessageState::Failed, Some(provider), None, Some(words))
        }
        Attempt::Skipped { words } => settled(MessageState::Skipped, None, None, Some(words)),
        Attempt::Unavailable { provider, words } if attempts >= MAX_ATTEMPTS => settled(
            MessageState::Failed,
            Some(provider),
            None,
            Some(format!("{words} ({attempts} attempts)")),
        ),
        Attempt::Unavailable { provider, words } => MessageSettlement {
            id: claimed.id,
            state: MessageState::Queued,
            next_at_ms: now_ms + backoff_ms(attempts),
            provider: Some(provider),
            provider_ref: None,
            words: Some(words),
            settled_at_ms: None,
        },
    };
    tx.settle_message(&s)
}

/// One message as the office's log shows it.
#[derive(Clone, Debug, Serialize)]
pub struct MessageLine {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub recipient_id: Uuid,
    pub recipient: String,
    /// Masked: 138****8000.
    pub phone: String,
    pub notice: String,
    pub urgent: bool,
    pub grid: String,
    pub state: &'static str,
    /// A queued message's due time (the end of quiet hours, a retry's backoff).
    pub due_at: Option<DateTime<Utc>>,
    pub attempts: u32,
    pub provider: Option<String>,
    /// The provider's words on the last attempt, or the server's reason for skipping it.
    pub words: Option<String>,
    pub settled_at: Option<DateTime<Utc>>,
}

/// The longest page of the log.
pub const LOG_PAGE: u32 = 500;

/// The messages of the office user's grids, newest first: all, or those in `state`.
pub fn log(
    tx: &mut dyn ReadTx,
    p: &Principal,
    state: Option<MessageState>,
    limit: u32,
) -> Result<Vec<MessageLine>> {
    let names = Names::load(tx, p)?;
    let rows = tx.messages(&MessageFilter {
        grids: Some(p.grids.clone()),
        recipient: None,
        state,
        limit: limit.clamp(1, LOG_PAGE),
    })?;
    Ok(rows
        .into_iter()
        .map(|m| MessageLine {
            id: m.id,
            created_at: DateTime::from_timestamp_millis(m.created_at_ms).unwrap_or_default(),
            recipient: names.person(Some(m.recipient_id)).unwrap_or_default(),
            recipient_id: m.recipient_id,
            phone: mask_phone(&m.address),
            notice: m.notice,
            urgent: m.urgent,
            grid: m.grid_id.map(|g| names.grid(g)).unwrap_or_default(),
            state: m.state.code(),
            due_at: (m.state == MessageState::Queued)
                .then(|| DateTime::from_timestamp_millis(m.next_at_ms))
                .flatten(),
            attempts: m.attempts,
            provider: m.provider,
            words: m.words,
            settled_at: m.settled_at_ms.and_then(DateTime::from_timestamp_millis),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn quiet_hours_hold_all_but_urgent_messages_until_seven_china_time() {
        for (now, due) in [
            ("2026-12-07T10:00:00+08:00", "2026-12-07T10:00:00+08:00"),
            ("2026-12-07T21:59:59+08:00", "2026-12-07T21:59:59+08:00"),
            ("2026-12-07T22:00:00+08:00", "2026-12-08T07:00:00+08:00"),
            ("2026-12-07T23:30:00+08:00", "2026-12-08T07:00:00+08:00"),
            ("2026-12-08T00:10:00+08:00", "2026-12-08T07:00:00+08:00"),
            ("2026-12-08T06:59:59+08:00", "2026-12-08T07:00:00+08:00"),
            ("2026-12-08T07:00:00+08:00", "2026-12-08T07:00:00+08:00"),
        ] {
            assert_eq!(due_at(at(now), false), at(due), "{now}");
            assert_eq!(due_at(at(now), true), at(now), "{now}, urgent");
        }
    }

    #[test]
    fn backoff_doubles_from_thirty_seconds_to_a_quarter_hour_and_outlasts_an_outage() {
        let waits: Vec<i64> = (1..=MAX_ATTEMPTS).map(|a| backoff_ms(a) / 1000).collect();
        assert_eq!(&waits[..6], &[30, 60, 120, 240, 480, 900]);
        assert!(waits[6..].iter().all(|&w| w == 900));
        // The attempts span well over a ten-minute outage: a message survives it.
        let span: i64 = waits[..(MAX_ATTEMPTS - 1) as usize].iter().sum();
        assert!(span > 60 * 60, "{span} s");
    }
}
