//! Every closed set of values in the domain (statuses, categories, roles, tags...) travels and is
//! stored as a stable snake_case code. [`code_enum!`] declares such an enum once: its variants,
//! their codes, `ALL` in declaration order, `code()`, `from_code()` and `Display` (the code).
//! What a value is *called* is not here: the app's message catalogue names each in the user's
//! language, and [`crate::words`] names them for the office console and the ledgers.

/// Declare an enum whose variants each have a stable code.
///
/// ```
/// gridmate_model::code_enum! {
///     /// How a door answered.
///     pub enum Answer { Opened = "opened", Closed = "closed" }
/// }
/// assert_eq!(Answer::from_code("closed"), Some(Answer::Closed));
/// assert_eq!(Answer::Opened.to_string(), "opened");
/// assert_eq!(Answer::ALL, [Answer::Opened, Answer::Closed]);
/// ```
#[macro_export]
macro_rules! code_enum {
    ($(#[$doc:meta])* $vis:vis enum $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name { $($(#[$vdoc])* $variant),* }

        impl $name {
            /// Every value, in declaration order (the order screens list them in).
            pub const ALL: [$name; <[()]>::len(&[$($crate::code_enum!(@unit $variant)),*])] =
                [$($name::$variant),*];

            /// The stable snake_case code used on the wire and in storage.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),* }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)* _ => None }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
    (@unit $variant:ident) => { () };
}

#[cfg(test)]
mod tests {
    use crate::{
        GridKind, HouseholdTag, IssueAction, IssueCategory, IssueSource, IssueStatus, Role,
        Severity, VisitKind, VisitOutcome,
    };
    use std::collections::HashSet;

    fn round_trips<T: Copy + PartialEq + std::fmt::Debug>(
        all: &[T],
        code: fn(T) -> &'static str,
        from: fn(&str) -> Option<T>,
    ) {
        let codes: HashSet<_> = all.iter().map(|v| code(*v)).collect();
        assert_eq!(codes.len(), all.len(), "codes are distinct");
        for v in all {
            let c = code(*v);
            assert!(
                c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'),
                "{c}"
            );
            assert_eq!(from(c), Some(*v));
        }
        assert_eq!(from(""), None);
        assert_eq!(from("NOT_A_CODE"), None);
    }

    #[test]
    fn every_code_round_trips_and_is_snake_case() {
        round_trips(&IssueStatus::ALL, IssueStatus::code, IssueStatus::from_code);
        round_trips(&IssueAction::ALL, IssueAction::code, IssueAction::from_code);
        round_trips(
            &IssueCategory::ALL,
            IssueCategory::code,
            IssueCategory::from_code,
        );
        round_trips(&Severity::ALL, Severity::code, Severity::from_code);
        round_trips(&IssueSource::ALL, IssueSource::code, IssueSource::from_code);
        round_trips(&VisitKind::ALL, VisitKind::code, VisitKind::from_code);
        round_trips(
            &VisitOutcome::ALL,
            VisitOutcome::code,
            VisitOutcome::from_code,
        );
        round_trips(
            &HouseholdTag::ALL,
            HouseholdTag::code,
            HouseholdTag::from_code,
        );
        round_trips(&GridKind::ALL, GridKind::code, GridKind::from_code);
        round_trips(&Role::ALL, Role::code, Role::from_code);
    }
}
