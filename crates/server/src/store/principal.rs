//! The signed-in caller as every store rule sees them.

use gridmate_model::Role;
use uuid::Uuid;

/// The signed-in caller: who, with which roles, over which grids and buildings, on which device.
#[derive(Clone, Debug, PartialEq)]
pub struct Principal {
    pub user_id: Uuid,
    pub name: String,
    pub roles: Vec<Role>,
    pub grids: Vec<Uuid>,
    pub buildings: Vec<Uuid>,
    pub scope_epoch: u64,
    pub device_id: String,
    /// A resident's own household, once matched to the roll (`None` for everyone else). Never
    /// among `buildings`, which would let them edit the building's records.
    pub household: Option<Uuid>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Roles that see everything in their grids (households, residents, the whole ledger).
    pub fn sees_whole_grids(&self) -> bool {
        self.roles.iter().any(|r| {
            matches!(
                r,
                Role::GridWorker | Role::GridLeader | Role::CommunityAdmin | Role::StreetViewer
            )
        })
    }

    /// The street's account: it reads its communities and writes nothing; every mutation it
    /// pushes is refused before any rule looks at it.
    pub fn reads_only(&self) -> bool {
        !self.roles.is_empty() && self.roles.iter().all(|r| *r == Role::StreetViewer)
    }

    /// Office roles: the console and the office API are theirs.
    pub fn works_in_office(&self) -> bool {
        self.roles.iter().any(|r| {
            matches!(
                r,
                Role::GridLeader | Role::CommunityAdmin | Role::StreetViewer
            )
        })
    }

    /// Roles that may call residents, and so receive their full phone numbers.
    pub fn may_call_residents(&self) -> bool {
        self.roles
            .iter()
            .any(|r| matches!(r, Role::GridWorker | Role::GridLeader))
    }
}
