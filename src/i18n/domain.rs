//! The model's enums named in the user's language. The model knows only codes; what a status or
//! a category is called is the app's, in the one catalogue.

use super::{Lang, Msg};
use gridmate_device::TaskStep;
use gridmate_model::{
    CommitmentAction, CommitmentStatus, HouseholdTag, IssueAction, IssueCategory, IssueSource,
    IssueStatus, OrderAction, OrderKind, OrderStatus, Role, Satisfaction, Severity, VisitKind,
    VisitOutcome,
};

/// A domain enum with a name in the catalogue.
pub trait Labelled: Copy {
    fn msg(self) -> Msg;

    fn label(self, lang: Lang) -> &'static str {
        lang.t(self.msg())
    }
}

impl Labelled for IssueStatus {
    fn msg(self) -> Msg {
        match self {
            IssueStatus::Reported => Msg::StatusReported,
            IssueStatus::Accepted => Msg::StatusAccepted,
            IssueStatus::Assigned => Msg::StatusAssigned,
            IssueStatus::InProgress => Msg::StatusInProgress,
            IssueStatus::Escalated => Msg::StatusEscalated,
            IssueStatus::Resolved => Msg::StatusResolved,
            IssueStatus::ResolvedOnSpot => Msg::StatusResolvedOnSpot,
            IssueStatus::Closed => Msg::StatusClosed,
            IssueStatus::Reopened => Msg::StatusReopened,
            IssueStatus::RejectedDuplicate => Msg::StatusRejectedDuplicate,
        }
    }
}

impl Labelled for IssueAction {
    fn msg(self) -> Msg {
        match self {
            IssueAction::Comment => Msg::ActionComment,
            IssueAction::Accept => Msg::ActionAccept,
            IssueAction::Assign => Msg::ActionAssign,
            IssueAction::Start => Msg::ActionStart,
            IssueAction::Resolve => Msg::ActionResolve,
            IssueAction::Close => Msg::ActionClose,
            IssueAction::Reopen => Msg::ActionReopen,
            IssueAction::Escalate => Msg::ActionEscalate,
            IssueAction::RejectDuplicate => Msg::ActionRejectDuplicate,
            IssueAction::ResolveOnSpot => Msg::ActionResolveOnSpot,
        }
    }
}

impl Labelled for IssueCategory {
    fn msg(self) -> Msg {
        match self {
            IssueCategory::FireSafety => Msg::CategoryFireSafety,
            IssueCategory::Sanitation => Msg::CategorySanitation,
            IssueCategory::BrokenFacility => Msg::CategoryBrokenFacility,
            IssueCategory::Dispute => Msg::CategoryDispute,
            IssueCategory::Noise => Msg::CategoryNoise,
            IssueCategory::IllegalConstruction => Msg::CategoryIllegalConstruction,
            IssueCategory::ResidentNeed => Msg::CategoryResidentNeed,
            IssueCategory::Pollution => Msg::CategoryPollution,
            IssueCategory::Other => Msg::CategoryOther,
        }
    }
}

impl Labelled for Severity {
    fn msg(self) -> Msg {
        match self {
            Severity::Low => Msg::SeverityLow,
            Severity::Medium => Msg::SeverityMedium,
            Severity::High => Msg::SeverityHigh,
        }
    }
}

impl Labelled for IssueSource {
    fn msg(self) -> Msg {
        match self {
            IssueSource::Visit => Msg::SourceVisit,
            IssueSource::Patrol => Msg::SourcePatrol,
            IssueSource::BuildingLeader => Msg::SourceBuildingLeader,
            IssueSource::ResidentOrder => Msg::SourceResidentOrder,
            IssueSource::PartyMember => Msg::SourcePartyMember,
        }
    }
}

impl Labelled for VisitKind {
    fn msg(self) -> Msg {
        match self {
            VisitKind::Routine => Msg::VisitKindRoutine,
            VisitKind::CareVisit => Msg::VisitKindCareVisit,
            VisitKind::ProxyService => Msg::VisitKindProxyService,
            VisitKind::FollowUp => Msg::VisitKindFollowUp,
            VisitKind::Patrol => Msg::VisitKindPatrol,
        }
    }
}

impl Labelled for VisitOutcome {
    fn msg(self) -> Msg {
        match self {
            VisitOutcome::Met => Msg::OutcomeMet,
            VisitOutcome::NobodyHome => Msg::OutcomeNobodyHome,
            VisitOutcome::Refused => Msg::OutcomeRefused,
        }
    }
}

impl Labelled for HouseholdTag {
    fn msg(self) -> Msg {
        match self {
            HouseholdTag::ElderlyLivingAlone => Msg::TagElderlyLivingAlone,
            HouseholdTag::LowIncome => Msg::TagLowIncome,
            HouseholdTag::Disabled => Msg::TagDisabled,
            HouseholdTag::LeftBehindChild => Msg::TagLeftBehindChild,
            HouseholdTag::Veteran => Msg::TagVeteran,
            HouseholdTag::SeriousIllness => Msg::TagSeriousIllness,
            HouseholdTag::Rental => Msg::TagRental,
            HouseholdTag::Vacant => Msg::TagVacant,
            HouseholdTag::PartyMemberHousehold => Msg::TagPartyMemberHousehold,
        }
    }
}

impl Labelled for Role {
    fn msg(self) -> Msg {
        match self {
            Role::GridWorker => Msg::RoleGridWorker,
            Role::GridLeader => Msg::RoleGridLeader,
            Role::BuildingLeader => Msg::RoleBuildingLeader,
            Role::PartyMember => Msg::RolePartyMember,
            Role::CommunityAdmin => Msg::RoleCommunityAdmin,
            Role::StreetViewer => Msg::RoleStreetViewer,
        }
    }
}

impl Labelled for OrderStatus {
    fn msg(self) -> Msg {
        match self {
            OrderStatus::Posted => Msg::OrderStatusPosted,
            OrderStatus::Dispatched => Msg::OrderStatusDispatched,
            OrderStatus::Taken => Msg::OrderStatusTaken,
            OrderStatus::Done => Msg::OrderStatusDone,
            OrderStatus::Confirmed => Msg::OrderStatusConfirmed,
            OrderStatus::Cancelled => Msg::OrderStatusCancelled,
        }
    }
}

impl Labelled for OrderAction {
    fn msg(self) -> Msg {
        match self {
            OrderAction::Comment => Msg::OrderActionComment,
            OrderAction::Dispatch => Msg::OrderActionDispatch,
            OrderAction::Take => Msg::OrderActionTake,
            OrderAction::Release => Msg::OrderActionRelease,
            OrderAction::Done => Msg::OrderActionDone,
            OrderAction::Confirm => Msg::OrderActionConfirm,
            OrderAction::Cancel => Msg::OrderActionCancel,
        }
    }
}

impl Labelled for OrderKind {
    fn msg(self) -> Msg {
        match self {
            OrderKind::Wish => Msg::OrderKindWish,
            OrderKind::Errand => Msg::OrderKindErrand,
            OrderKind::Assistance => Msg::OrderKindAssistance,
            OrderKind::Repair => Msg::OrderKindRepair,
            OrderKind::Other => Msg::OrderKindOther,
        }
    }
}

impl Labelled for Satisfaction {
    fn msg(self) -> Msg {
        match self {
            Satisfaction::Satisfied => Msg::SatisfactionSatisfied,
            Satisfaction::BasicallySatisfied => Msg::SatisfactionBasicallySatisfied,
            Satisfaction::Dissatisfied => Msg::SatisfactionDissatisfied,
        }
    }
}

impl Labelled for TaskStep {
    fn msg(self) -> Msg {
        match self {
            TaskStep::HandleIssue => Msg::TaskHandleIssue,
            TaskStep::VerifyIssue => Msg::TaskVerifyIssue,
            TaskStep::TakeOrder => Msg::TaskTakeOrder,
            TaskStep::CarryOutOrder => Msg::TaskCarryOutOrder,
            TaskStep::RecordFeedback => Msg::TaskRecordFeedback,
        }
    }
}

impl Labelled for CommitmentAction {
    fn msg(self) -> Msg {
        match self {
            CommitmentAction::Progress => Msg::CommitmentActionProgress,
            CommitmentAction::Fulfil => Msg::CommitmentActionFulfil,
            CommitmentAction::Drop => Msg::CommitmentActionDrop,
        }
    }
}

impl Labelled for CommitmentStatus {
    fn msg(self) -> Msg {
        match self {
            CommitmentStatus::Promised => Msg::CommitmentStatusPromised,
            CommitmentStatus::Fulfilled => Msg::CommitmentStatusFulfilled,
            CommitmentStatus::Dropped => Msg::CommitmentStatusDropped,
        }
    }
}
