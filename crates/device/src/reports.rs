//! A problem reported from the field, as the report screen hands it over: where it belongs
//! (the household's or building's grid, else the reporter's), who reported it (worker, building
//! leader or party member, from the session's roles), handled on the spot or not; and a report
//! added to an issue already open nearby instead of a duplicate.

use crate::store::Store;
use crate::writes::NewIssue;
use crate::{DeviceError, Result};
use chrono::Utc;
use gridmate_model::{
    BuildingId, GpsFix, GridId, HouseholdId, IssueAction, IssueCategory, IssueId, IssueSource,
    PhotoRef, Role, Severity,
};

/// How close an open issue of the same kind must be to be offered as the same problem.
pub const SAME_PROBLEM_RADIUS_M: f64 = 50.0;

#[derive(Clone, Debug, PartialEq)]
pub struct NewReport {
    pub building: Option<BuildingId>,
    pub household: Option<HouseholdId>,
    pub category: IssueCategory,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    pub photos: Vec<PhotoRef>,
    pub fix: Option<GpsFix>,
    /// Handled on the spot: the note and after-photos of the resolution.
    pub on_spot: Option<(String, Vec<PhotoRef>)>,
}

impl Store {
    /// Where a report belongs: the household's or building's grid, else the reporter's first.
    /// A building leader's report goes to their building when none was chosen.
    pub fn report_place(
        &self,
        building: Option<BuildingId>,
        household: Option<HouseholdId>,
    ) -> Result<(GridId, Option<BuildingId>)> {
        if let Some(h) = household {
            let d = self.household(h)?;
            return Ok((d.household.grid_id, Some(d.household.building_id)));
        }
        let session = self.session()?.ok_or(DeviceError::NoSession)?;
        let building = building.or_else(|| session.assignments.iter().find_map(|a| a.building_id));
        if let Some(b) = building {
            for g in self.grids()? {
                if self
                    .buildings(g.grid.id, Utc::now())?
                    .iter()
                    .any(|row| row.building.id == b)
                {
                    return Ok((g.grid.id, Some(b)));
                }
            }
        }
        let grid = session
            .grid_ids()
            .first()
            .copied()
            .or_else(|| self.grids().ok()?.first().map(|g| g.grid.id))
            .ok_or(DeviceError::NoSession)?;
        Ok((grid, building))
    }

    /// Open issues of `category` near where a report would go: the "same problem?" offer.
    pub fn same_problem_nearby(
        &self,
        building: Option<BuildingId>,
        household: Option<HouseholdId>,
        category: IssueCategory,
        at: Option<(f64, f64)>,
    ) -> Result<Vec<crate::NearbyIssue>> {
        let (grid, building) = self.report_place(building, household)?;
        self.nearby_open_issues(grid, category, building, at, SAME_PROBLEM_RADIUS_M)
    }

    fn report_source(&self) -> IssueSource {
        let roles = self
            .session()
            .ok()
            .flatten()
            .map(|s| s.user.roles)
            .unwrap_or_default();
        if roles.contains(&Role::GridWorker) || roles.contains(&Role::GridLeader) {
            IssueSource::Patrol
        } else if roles.contains(&Role::BuildingLeader) {
            IssueSource::BuildingLeader
        } else {
            IssueSource::PartyMember
        }
    }

    /// Save a report (and, when handled on the spot, its resolution) on the phone: one
    /// transaction either way.
    pub fn report_problem(&mut self, r: NewReport) -> Result<IssueId> {
        let (grid_id, building_id) = self.report_place(r.building, r.household)?;
        let source = self.report_source();
        let issue = NewIssue {
            grid_id,
            building_id,
            household_id: r.household,
            category: r.category,
            severity: r.severity,
            source,
            title: r.title,
            description: r.description,
            location: r.fix,
            photos: r.photos,
        };
        match r.on_spot {
            Some((note, after)) => self.report_resolved_on_spot(issue, &note, after),
            None => self.report_issue(issue),
        }
    }

    /// Add a report to an existing issue instead of a duplicate: a comment with its text and
    /// photos.
    pub fn join_issue(&mut self, issue: IssueId, note: &str, photos: Vec<PhotoRef>) -> Result<()> {
        self.act_on_issue(issue, IssueAction::Comment, note, photos)?;
        Ok(())
    }
}
