//! The model's enums named in the user's language. The model knows only codes; what a status or
//! a category is called is `gridmate_words::Vocabulary`'s, the same words the console and the
//! ledgers print; the app's own steps (a task's, a promise's) are messages of the catalogue.

use super::{Lang, Msg};
use gridmate_device::TaskStep;
use gridmate_model::{
    CommitmentAction, CommitmentStatus, HouseholdTag, IssueAction, IssueCategory, IssueSource,
    IssueStatus, OrderAction, OrderKind, OrderStatus, Role, Satisfaction, Severity, VisitKind,
    VisitOutcome,
};
use gridmate_words::Vocabulary;

/// A domain enum with a name in the user's language.
pub trait Labelled: Copy {
    fn label(self, lang: Lang) -> &'static str;
}

/// An enum of the model named by its code in one of the vocabulary's lists.
macro_rules! from_vocabulary {
    ($($enum:ident),* $(,)?) => {$(
        impl Labelled for $enum {
            fn label(self, lang: Lang) -> &'static str {
                Vocabulary::$enum.word(self.code(), lang)
            }
        }
    )*};
}

from_vocabulary!(
    IssueStatus,
    IssueAction,
    IssueCategory,
    Severity,
    IssueSource,
    VisitKind,
    VisitOutcome,
    HouseholdTag,
    Role,
    OrderStatus,
    OrderAction,
    OrderKind,
    Satisfaction,
    CommitmentStatus,
);

impl Labelled for TaskStep {
    fn label(self, lang: Lang) -> &'static str {
        lang.t(match self {
            TaskStep::HandleIssue => Msg::TaskHandleIssue,
            TaskStep::VerifyIssue => Msg::TaskVerifyIssue,
            TaskStep::TakeOrder => Msg::TaskTakeOrder,
            TaskStep::CarryOutOrder => Msg::TaskCarryOutOrder,
            TaskStep::RecordFeedback => Msg::TaskRecordFeedback,
        })
    }
}

impl Labelled for CommitmentAction {
    fn label(self, lang: Lang) -> &'static str {
        lang.t(match self {
            CommitmentAction::Progress => Msg::CommitmentActionProgress,
            CommitmentAction::Fulfil => Msg::CommitmentActionFulfil,
            CommitmentAction::Drop => Msg::CommitmentActionDrop,
        })
    }
}
