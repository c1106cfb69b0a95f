//! The residents' door: signing in with a text-message code, being matched to the community's
//! roll, and the sessions of the resident page.
//!
//! - **Codes**: six digits, alive [`CODE_TTL_MS`], [`CODE_TRIES`] wrong tries and it is gone; a
//!   right one is deleted as it is used, so it cannot be replayed. Asking for codes is limited
//!   per phone and per address ([`SENDS_PER_PHONE`], [`SENDS_PER_ADDRESS`] in the login
//!   limiter's window), so the page cannot be used to text a stranger all night. The code goes
//!   out through the outbox (urgent: it is wanted now, at any hour) as the `resident_code`
//!   notice, never written anywhere in the clear: the database keeps its hash.
//! - **Accounts** are named by their phone (a UUIDv5 of its digest), so the code's message and
//!   the account it signs in to agree before the account exists.
//! - **The roll match** (Decidim's census check): a signed-in resident gives their name and,
//!   optionally, the last four characters of their ID number. They are matched when exactly one
//!   person of the roll has that name and either the phone they proved with the code or those
//!   four characters. A failed match says only that it failed — never whether the name exists —
//!   and counts against [`MATCHES_PER_ACCOUNT`] tries in the window.
//!
//! Times and the code itself are arguments: this module reads no clock and draws no random
//! number.

use super::error::{Result, StoreError};
use super::limiter;
use super::outbox::{self, Notice};
use super::principal::Principal;
use super::rows::{ResidentAccountRow, ResidentCodeRow, ResidentSessionRow};
use super::scope::Scope;
use super::transaction::{ReadTx, WriteTx};
use chrono::{DateTime, Utc};
use gridmate_model::Role;
use gridmate_protocol::Entity;
use gridmate_protocol::records::{
    GridRecord, HouseholdRecord, IssueEventRecord, IssueRecord, ResidentRecord,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How long a code may be used.
pub const CODE_TTL_MS: i64 = 5 * 60 * 1000;
/// Wrong tries before a code is gone.
pub const CODE_TRIES: u32 = 5;
/// Codes one phone may be sent, and one address may ask for, in the limiter's window.
pub const SENDS_PER_PHONE: usize = 3;
pub const SENDS_PER_ADDRESS: usize = 20;
/// Roll matches one account may try in the limiter's window.
pub const MATCHES_PER_ACCOUNT: usize = 5;
/// A resident page's session lasts this long.
pub const SESSION_TTL_MS: i64 = 30 * 24 * 3600 * 1000;

/// The namespace of accounts' ids (UUIDv5 of a phone's digest).
const ACCOUNT_NS: Uuid = Uuid::from_u128(0x6772_6964_6d61_7465_7265_7369_6465_6e74);

/// Why the door stays shut, for the page to word.
#[derive(Clone, Debug, PartialEq)]
pub enum Refusal {
    /// Not a mainland mobile number.
    BadPhone,
    /// Too many codes asked for, or matches tried: wait this many seconds.
    Wait(u64),
    /// The code is wrong (this many tries left), lapsed, used, or was never sent.
    WrongCode {
        tries_left: u32,
    },
    NoCode,
    /// The office blocked this number.
    Blocked,
    /// Nobody of the roll matched (nothing more is said).
    NoMatch,
}

/// The account a phone signs in to.
pub fn account_id(phone: &str) -> Uuid {
    Uuid::new_v5(
        &ACCOUNT_NS,
        limiter::key_digest(&format!("resident:{phone}")).as_bytes(),
    )
}

fn code_hash(phone_key: &str, code: &str) -> String {
    gridmate_model::hex::encode(&Sha256::digest(format!("{phone_key}:{code}")))
}

fn phone_key(phone: &str) -> String {
    limiter::key_digest(&format!("resident-code:{phone}"))
}

/// Set `code` as the phone's live code and queue its message; or why not.
pub fn send_code(
    tx: &mut dyn WriteTx,
    phone: &str,
    address: &str,
    code: &str,
    now: DateTime<Utc>,
) -> Result<std::result::Result<(), Refusal>> {
    let Ok(phone) = gridmate_model::validate::phone(phone) else {
        return Ok(Err(Refusal::BadPhone));
    };
    let now_ms = now.timestamp_millis();
    let (by_phone, by_address) = (
        format!("resident-send:{phone}"),
        format!("resident-send-addr:{address}"),
    );
    let waits = [
        limiter::wait_over(tx, &by_phone, SENDS_PER_PHONE, now_ms)?,
        limiter::wait_over(tx, &by_address, SENDS_PER_ADDRESS, now_ms)?,
    ];
    if let Some(wait) = waits.into_iter().flatten().max() {
        return Ok(Err(Refusal::Wait(wait)));
    }
    if tx
        .resident_account_by_phone(&phone)?
        .is_some_and(|a| a.blocked_at_ms.is_some())
    {
        return Ok(Err(Refusal::Blocked));
    }
    limiter::fail(tx, &[by_phone, by_address], now_ms)?;
    let key = phone_key(&phone);
    tx.put_resident_code(&ResidentCodeRow {
        code_hash: code_hash(&key, code),
        phone_key: key.clone(),
        expires_at_ms: now_ms + CODE_TTL_MS,
        tries: 0,
    })?;
    outbox::queue(
        tx,
        Notice {
            trigger_key: format!("resident-code:{key}:{now_ms}"),
            recipient_id: account_id(&phone),
            address: phone,
            notice: "resident_code",
            params: vec![("code".into(), code.into())],
            link: "/resident/".into(),
            urgent: true,
            grid_id: None,
        },
        now,
    )?;
    Ok(Ok(()))
}

/// Check `code` for `phone`; on success the code is spent and the session (its token already
/// hashed) is stored for the phone's account, made now if it is new.
pub fn sign_in(
    tx: &mut dyn WriteTx,
    phone: &str,
    code: &str,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<std::result::Result<ResidentAccountRow, Refusal>> {
    let Ok(phone) = gridmate_model::validate::phone(phone) else {
        return Ok(Err(Refusal::BadPhone));
    };
    let now_ms = now.timestamp_millis();
    let key = phone_key(&phone);
    let Some(mut live) = tx.resident_code(&key)?.filter(|c| c.expires_at_ms > now_ms) else {
        return Ok(Err(Refusal::NoCode));
    };
    if live.code_hash != code_hash(&key, code.trim()) {
        live.tries += 1;
        if live.tries >= CODE_TRIES {
            tx.delete_resident_code(&key)?;
        } else {
            tx.put_resident_code(&live)?;
        }
        return Ok(Err(Refusal::WrongCode {
            tries_left: CODE_TRIES.saturating_sub(live.tries),
        }));
    }
    tx.delete_resident_code(&key)?;
    let account = match tx.resident_account_by_phone(&phone)? {
        Some(a) if a.blocked_at_ms.is_some() => return Ok(Err(Refusal::Blocked)),
        Some(a) => a,
        None => {
            let a = ResidentAccountRow {
                id: account_id(&phone),
                phone,
                household_id: None,
                resident_id: None,
                grid_id: None,
                verified_at_ms: None,
                blocked_at_ms: None,
                created_at_ms: now_ms,
            };
            tx.put_resident_account(&a)?;
            a
        }
    };
    tx.insert_resident_session(&ResidentSessionRow {
        token_hash: token_hash.into(),
        account_id: account.id,
        created_at_ms: now_ms,
        expires_at_ms: now_ms + SESSION_TTL_MS,
        revoked: false,
    })?;
    Ok(Ok(account))
}

/// The live, unblocked account a session token (hashed) names.
pub fn session(
    tx: &mut dyn ReadTx,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<ResidentAccountRow>> {
    let Some(s) = tx
        .resident_session(token_hash)?
        .filter(|s| !s.revoked && s.expires_at_ms > now.timestamp_millis())
    else {
        return Ok(None);
    };
    Ok(tx
        .resident_account(s.account_id)?
        .filter(|a| a.blocked_at_ms.is_none()))
}

/// The resident as the write path's rules see them: their own items, their household's grid.
pub fn principal(account: &ResidentAccountRow) -> Principal {
    Principal {
        user_id: account.id,
        name: gridmate_model::validate::mask_phone(&account.phone),
        roles: vec![Role::Resident],
        grids: Vec::new(),
        buildings: Vec::new(),
        scope_epoch: 1,
        device_id: "resident-page".into(),
        household: account.household_id,
    }
}

/// What a resident says to be matched to the roll.
#[derive(Clone, Debug)]
pub struct RollClaim {
    pub name: String,
    /// The last four characters of their ID number; empty to be matched by the phone they
    /// signed in with.
    pub id_last_four: String,
}

/// Match the account to the roll; on success the account is verified for that household.
pub fn match_roll(
    tx: &mut dyn WriteTx,
    account: Uuid,
    claim: &RollClaim,
    now: DateTime<Utc>,
) -> Result<std::result::Result<ResidentAccountRow, Refusal>> {
    let now_ms = now.timestamp_millis();
    let limit_key = format!("resident-match:{account}");
    if let Some(wait) = limiter::wait_over(tx, &limit_key, MATCHES_PER_ACCOUNT, now_ms)? {
        return Ok(Err(Refusal::Wait(wait)));
    }
    let Some(mut row) = tx.resident_account(account)? else {
        return Err(StoreError::Invalid("no such resident account".into()));
    };
    let name = claim.name.trim();
    let four = claim.id_last_four.trim().to_uppercase();
    let four_ok = four.len() == 4 && four.chars().all(|c| c.is_ascii_digit() || c == 'X');
    let mut found = Vec::new();
    if !name.is_empty() && (four.is_empty() || four_ok) {
        for data in tx.live_data(Entity::Resident)? {
            let r: ResidentRecord =
                serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if r.moved_out || r.name.trim() != name {
                continue;
            }
            let by_id = four_ok
                && r.id_number_masked
                    .as_deref()
                    .is_some_and(|m| m.to_uppercase().ends_with(&four));
            let by_phone = four.is_empty() && r.phone.as_deref() == Some(row.phone.as_str());
            if by_id || by_phone {
                found.push(r);
            }
        }
    }
    // Two people of one name with the same last four cannot be told apart here: the worker at
    // the door can (a one-time code), so neither is guessed at.
    let [resident] = found.as_slice() else {
        limiter::fail(tx, &[limit_key], now_ms)?;
        return Ok(Err(Refusal::NoMatch));
    };
    let household = tx
        .record(Entity::Household, resident.household_id)?
        .filter(|r| !r.deleted)
        .ok_or_else(|| StoreError::Corrupt("a resident of no household".into()))?;
    let hh: HouseholdRecord =
        serde_json::from_value(household.data).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    row.household_id = Some(hh.id);
    row.resident_id = Some(resident.id);
    row.grid_id = household.grid_id;
    row.verified_at_ms = Some(now_ms);
    tx.put_resident_account(&row)?;
    Ok(Ok(row))
}

/// End one session of the account.
pub fn sign_out(
    tx: &mut dyn WriteTx,
    account: Uuid,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.revoke_resident_sessions(account, Some(token_hash), now.timestamp_millis())
        .map(drop)
}

/// One issue a resident reported, with its steps in order.
#[derive(Clone, Debug)]
pub struct ResidentItem {
    pub issue: IssueRecord,
    pub steps: Vec<IssueEventRecord>,
}

/// The most records of their own a resident's page reads.
const ITEMS_READ: u32 = 5_000;

/// The issues this resident reported, newest first, each with its steps — nothing else.
pub fn items(tx: &mut dyn ReadTx, p: &Principal) -> Result<Vec<ResidentItem>> {
    let scope = Scope::of(p);
    let rows = tx.feed_page(&scope, 0, u64::MAX, ITEMS_READ)?;
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
    let mut issues = Vec::new();
    let mut steps = Vec::new();
    for row in rows.into_iter().filter(|r| !r.deleted) {
        match row.entity {
            Entity::Issue => {
                issues.push(serde_json::from_str::<IssueRecord>(&row.data).map_err(corrupt)?)
            }
            Entity::IssueEvent => {
                steps.push(serde_json::from_str::<IssueEventRecord>(&row.data).map_err(corrupt)?)
            }
            _ => {}
        }
    }
    steps.sort_by_key(|s| (s.at, s.id));
    issues.sort_by_key(|i| std::cmp::Reverse(i.reported_at));
    Ok(issues
        .into_iter()
        .map(|issue| ResidentItem {
            steps: steps
                .iter()
                .filter(|s| s.issue_id == issue.id)
                .cloned()
                .collect(),
            issue,
        })
        .collect())
}

/// Where a resident may say a problem is: their own room and building once verified, or a
/// public place of one of the community's grids.
#[derive(Clone, Debug)]
pub struct Places {
    pub household: Option<HouseholdRecord>,
    /// (id, name) of every grid, by name.
    pub grids: Vec<(Uuid, String)>,
}

pub fn places(tx: &mut dyn ReadTx, p: &Principal) -> Result<Places> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
    let household = match p.household {
        Some(h) => tx
            .record(Entity::Household, h)?
            .filter(|r| !r.deleted)
            .map(|r| serde_json::from_value::<HouseholdRecord>(r.data))
            .transpose()
            .map_err(corrupt)?,
        None => None,
    };
    let mut grids = Vec::new();
    for data in tx.live_data(Entity::Grid)? {
        let g: GridRecord = serde_json::from_str(&data).map_err(corrupt)?;
        grids.push((g.id, g.name));
    }
    grids.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(Places { household, grids })
}

/// The office blocks the number that reported `issue` (abuse): it signs in to nothing any more,
/// its sessions end, and it is noted in the audit log. `None` when the issue is not a resident's
/// report in the office's grids.
pub fn block_reporter(
    tx: &mut dyn WriteTx,
    office: &Principal,
    issue: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<ResidentAccountRow>> {
    let Some(stored) = tx.record(Entity::Issue, issue)?.filter(|r| !r.deleted) else {
        return Ok(None);
    };
    let theirs = stored.grid_id.is_some_and(|g| office.grids.contains(&g));
    let by_resident =
        stored.data["source"].as_str() == Some(gridmate_model::IssueSource::Resident.code());
    let Some(mut account) = stored
        .owner_id
        .filter(|_| theirs && by_resident)
        .map(|o| tx.resident_account(o))
        .transpose()?
        .flatten()
    else {
        return Ok(None);
    };
    let now_ms = now.timestamp_millis();
    if account.blocked_at_ms.is_none() {
        account.blocked_at_ms = Some(now_ms);
        tx.put_resident_account(&account)?;
        tx.revoke_resident_sessions(account.id, None, now_ms)?;
        super::admin::audit(
            tx,
            office.user_id,
            "block_resident",
            &gridmate_model::validate::mask_phone(&account.phone),
            &format!("issue {issue}"),
        )?;
    }
    Ok(Some(account))
}
