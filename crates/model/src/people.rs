//! Who uses Gridmate and what they are assigned to.

use crate::ids::{BuildingId, GridId, UserId};

/// The five roles of DOMAIN.md. A user may hold several (a grid leader is often also a worker).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// 专职网格员: door-to-door visits, finds and handles problems.
    GridWorker,
    /// 网格长: dispatches, verifies and closes issues for their grids.
    GridLeader,
    /// 楼栋长: a volunteer who logs hazards in their building.
    BuildingLeader,
    /// 在职党员 on 双报到: checks in to a grid, takes tasks, logs service.
    PartyMember,
    /// 社区 office staff: imports data, assigns people, reads the ledgers.
    CommunityAdmin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::GridWorker,
        Role::GridLeader,
        Role::BuildingLeader,
        Role::PartyMember,
        Role::CommunityAdmin,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::GridWorker => "grid_worker",
            Role::GridLeader => "grid_leader",
            Role::BuildingLeader => "building_leader",
            Role::PartyMember => "party_member",
            Role::CommunityAdmin => "community_admin",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            Role::GridWorker => "专职网格员",
            Role::GridLeader => "网格长",
            Role::BuildingLeader => "楼栋长",
            Role::PartyMember => "报到党员",
            Role::CommunityAdmin => "社区管理员",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::GridWorker => "Grid worker",
            Role::GridLeader => "Grid leader",
            Role::BuildingLeader => "Building leader",
            Role::PartyMember => "Party member",
            Role::CommunityAdmin => "Community admin",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub roles: Vec<Role>,
}

/// One thing a user is responsible for: a grid (workers, leaders, party members) or a building
/// (building leaders). Scope on the server and on the device is the union of a user's assignments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub role: Role,
    pub grid_id: Option<GridId>,
    pub building_id: Option<BuildingId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(r));
        }
        assert_eq!(Role::from_code("root"), None);
    }
}
