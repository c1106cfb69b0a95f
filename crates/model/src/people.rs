//! Who uses Gridmate and what they are assigned to.

use crate::code_enum;
use crate::ids::{BuildingId, GridId, UserId};

code_enum! {
    /// The five roles of DOMAIN.md and the street's reader. A user may hold several (a grid
    /// leader is often also a worker).
    pub enum Role {
        /// 专职网格员: door-to-door visits, finds and handles problems.
        GridWorker = "grid_worker",
        /// 网格长: dispatches, verifies and closes issues for their grids.
        GridLeader = "grid_leader",
        /// 楼栋长: a volunteer who logs hazards in their building.
        BuildingLeader = "building_leader",
        /// 在职党员 on 双报到: checks in to a grid, takes tasks, logs service.
        PartyMember = "party_member",
        /// 社区 office staff: imports data, assigns people, reads the ledgers.
        CommunityAdmin = "community_admin",
        /// 街道: reads every community of the street (statistics, ledgers); changes nothing.
        StreetViewer = "street_viewer",
        /// 居民: signed in on the resident page with a text-message code, never on a phone's
        /// app or the console; asks, follows and rates their own items and nothing else.
        Resident = "resident",
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
