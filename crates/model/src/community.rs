//! The places a grid worker walks: community (社区) → grid (网格) → building (楼栋) → household (户)
//! → resident. Sub-areas (片区) and estates (小区) are labels on a building, not levels of their
//! own, because nothing in the app's work hangs off them.

use crate::code_enum;
use crate::ids::{BuildingId, CommunityId, GridId, HouseholdId, ResidentId};
use crate::validate::{mask_id_number, mask_phone};
use geo::MultiPolygon;

#[derive(Clone, Debug, PartialEq)]
pub struct Community {
    pub id: CommunityId,
    pub name: String,
    /// The district or county, e.g. "江门市蓬江区".
    pub district: String,
}

code_enum! {
    /// The three kinds of grid the articles name.
    pub enum GridKind {
        /// 居民网格: residential streets and estates, 300–500 households.
        Resident = "resident",
        /// 预留网格: land reserved for development, few or no households.
        Reserved = "reserved",
        /// 专属网格: one institution (a school, a factory, a hospital).
        Dedicated = "dedicated",
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub id: GridId,
    pub community_id: CommunityId,
    /// The community's own code for the grid, e.g. "LH-01".
    pub code: String,
    pub name: String,
    pub kind: GridKind,
    /// WGS-84, x = longitude, y = latitude. Converted to GCJ-02 only at the map's edge.
    pub boundary: MultiPolygon<f64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Building {
    pub id: BuildingId,
    pub grid_id: GridId,
    /// The number painted on the building, as residents say it: "12" in "12栋".
    pub number: String,
    /// Estate (小区) the building belongs to, e.g. "联和花园".
    pub estate: String,
    pub units: u16,
    pub floors: u16,
    /// WGS-84 position of the main entrance.
    pub lat: f64,
    pub lon: f64,
}

code_enum! {
    /// Facts about a household that change how it is served. The first six are the vulnerable
    /// groups that are visited more often.
    pub enum HouseholdTag {
        ElderlyLivingAlone = "elderly_alone",
        LowIncome = "low_income",
        Disabled = "disabled",
        LeftBehindChild = "left_behind_child",
        Veteran = "veteran",
        SeriousIllness = "serious_illness",
        Rental = "rental",
        Vacant = "vacant",
        PartyMemberHousehold = "party_member",
    }
}

impl HouseholdTag {
    pub fn is_vulnerable(self) -> bool {
        matches!(
            self,
            HouseholdTag::ElderlyLivingAlone
                | HouseholdTag::LowIncome
                | HouseholdTag::Disabled
                | HouseholdTag::LeftBehindChild
                | HouseholdTag::Veteran
                | HouseholdTag::SeriousIllness
        )
    }

    /// How often a household with this tag should be visited, in days. Elderly people living
    /// alone are checked on weekly; the other vulnerable groups fortnightly or monthly.
    pub fn cadence_days(self) -> Option<u16> {
        match self {
            HouseholdTag::ElderlyLivingAlone => Some(7),
            HouseholdTag::SeriousIllness | HouseholdTag::Disabled => Some(14),
            HouseholdTag::LowIncome | HouseholdTag::LeftBehindChild => Some(30),
            HouseholdTag::Veteran => Some(60),
            _ => None,
        }
    }
}

/// The default cadence for a household without vulnerable tags: once a quarter.
pub const ORDINARY_CADENCE_DAYS: u16 = 90;

/// The visit cadence implied by a set of tags: the shortest one wins.
pub fn cadence_for(tags: &[HouseholdTag]) -> u16 {
    tags.iter()
        .filter_map(|t| t.cadence_days())
        .min()
        .unwrap_or(ORDINARY_CADENCE_DAYS)
}

/// The postal address of a room, as a household registered in the field is given it:
/// "联和花园12栋2单元301".
pub fn household_address(estate: &str, building_number: &str, unit: u16, room: &str) -> String {
    format!("{estate}{building_number}栋{unit}单元{room}")
}

#[derive(Clone, Debug, PartialEq)]
pub struct Household {
    pub id: HouseholdId,
    pub building_id: BuildingId,
    pub grid_id: GridId,
    pub unit: u16,
    /// Room as written on the door: "301", "1502", "B-2".
    pub room: String,
    /// Full postal address for documents.
    pub address: String,
    /// Name of the head of household (户主), shown in lists.
    pub head_name: String,
    pub tags: Vec<HouseholdTag>,
    pub visit_cadence_days: u16,
}

impl Household {
    pub fn is_vulnerable(&self) -> bool {
        self.tags.iter().any(|t| t.is_vulnerable())
    }
}

/// A person living in a household. Phone and ID number are personal information under PIPL:
/// the full values are held only where needed and shown masked.
#[derive(Clone, Debug, PartialEq)]
pub struct Resident {
    pub id: ResidentId,
    pub household_id: HouseholdId,
    pub name: String,
    /// Relationship to the head of household: "户主", "配偶", "子女", ...
    pub relation: String,
    pub birth_year: Option<u16>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub tags: Vec<HouseholdTag>,
    /// Moved away (搬离): kept on the roll, marked, no longer counted as living here.
    pub moved_out: bool,
}

impl Resident {
    /// "138****5678": what every screen and log shows.
    pub fn masked_phone(&self) -> Option<String> {
        self.phone.as_deref().map(mask_phone)
    }

    /// "4407**********1234".
    pub fn masked_id_number(&self) -> Option<String> {
        self.id_number.as_deref().map(mask_id_number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for t in HouseholdTag::ALL {
            assert_eq!(HouseholdTag::from_code(t.code()), Some(t));
        }
        for k in GridKind::ALL {
            assert_eq!(GridKind::from_code(k.code()), Some(k));
        }
        assert_eq!(HouseholdTag::from_code("nope"), None);
    }

    #[test]
    fn shortest_cadence_wins() {
        assert_eq!(cadence_for(&[]), ORDINARY_CADENCE_DAYS);
        assert_eq!(cadence_for(&[HouseholdTag::Rental]), ORDINARY_CADENCE_DAYS);
        assert_eq!(
            cadence_for(&[HouseholdTag::LowIncome, HouseholdTag::ElderlyLivingAlone]),
            7
        );
    }
}

/// Where an issue is escalated to (吹哨报到): a department of the street or a service the
/// community works with (综治中心, 城管, 物业, 消防…). Managed by the office.
#[derive(Clone, Debug, PartialEq)]
pub struct Department {
    pub id: crate::ids::DepartmentId,
    pub name: String,
    /// The duty phone, shown so a worker can call ahead.
    pub phone: Option<String>,
}
