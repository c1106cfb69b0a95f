//! Commitments (承诺践诺): each year a party member on dual check-in promises the grid what they
//! will do (辅导孩子功课, 每月陪护独居老人…), posts progress with evidence, and marks the
//! promise kept or dropped. The grid's list is public to its members and the office. Only the
//! member who made a promise moves it.

use crate::code_enum;
use crate::ids::{CommitmentEventId, CommitmentId, GridId, ServiceRecordId, UserId};
use crate::records::PhotoRef;
use chrono::{DateTime, Utc};

code_enum! {
    pub enum CommitmentStatus {
        Promised = "promised",
        Fulfilled = "fulfilled",
        Dropped = "dropped",
    }
}

code_enum! {
    pub enum CommitmentAction {
        /// A step taken, with its evidence (a note, photos, the service logged).
        Progress = "progress",
        Fulfil = "fulfil",
        Drop = "drop",
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Commitment {
    pub id: CommitmentId,
    pub grid_id: GridId,
    pub user_id: UserId,
    /// The member's name as the public list shows it.
    pub user_name: String,
    pub year: i32,
    pub title: String,
    pub description: String,
    pub status: CommitmentStatus,
    /// Progress steps so far.
    pub progress: u32,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CommitmentEvent {
    pub id: CommitmentEventId,
    pub commitment_id: CommitmentId,
    pub action: CommitmentAction,
    pub note: String,
    pub at: DateTime<Utc>,
    pub photos: Vec<PhotoRef>,
    pub service_id: Option<ServiceRecordId>,
}

/// What an action does to a commitment that is `from`: progress keeps a promise open; fulfil and
/// drop close it; nothing moves a closed one. `None`: not from this status.
pub fn next(from: CommitmentStatus, action: CommitmentAction) -> Option<CommitmentStatus> {
    use CommitmentAction as A;
    use CommitmentStatus as S;
    match (from, action) {
        (S::Promised, A::Progress) => Some(S::Promised),
        (S::Promised, A::Fulfil) => Some(S::Fulfilled),
        (S::Promised, A::Drop) => Some(S::Dropped),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_open_promise_moves() {
        for action in CommitmentAction::ALL {
            assert!(next(CommitmentStatus::Promised, action).is_some());
            assert_eq!(next(CommitmentStatus::Fulfilled, action), None);
            assert_eq!(next(CommitmentStatus::Dropped, action), None);
        }
        assert_eq!(
            next(CommitmentStatus::Promised, CommitmentAction::Fulfil),
            Some(CommitmentStatus::Fulfilled)
        );
    }
}
