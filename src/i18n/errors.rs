//! Errors in the user's words. The device and model crates return typed errors naming fields
//! by their wire codes ("notes", "title"); here each becomes a sentence that says what happened
//! and what to do, in the user's language.

use super::{Lang, Msg};
use gridmate_device::DeviceError;
use gridmate_device::photos::PhotoError;
use gridmate_device::sync::SyncProblem;
use gridmate_model::ValidationError;

/// The device's and the server's errors in the user's words.
pub trait ErrorWords: Copy {
    /// A store error, for the screen that caused it.
    fn device_error(self, e: &DeviceError) -> String;
    fn validation_error(self, e: &ValidationError) -> String;
    /// A field's name from its wire code; a code with no name here is shown as it is.
    fn field(self, code: &str) -> String;
    /// What the sync bar says went wrong.
    fn sync_problem(self, p: SyncProblem) -> String;
    /// Why the server refused or merged a record, from its error code; a code this app does
    /// not know reads as a plain refusal.
    fn server_refusal(self, code: Option<&str>) -> &'static str;
}

impl ErrorWords for Lang {
    fn device_error(self, e: &DeviceError) -> String {
        match e {
            DeviceError::Invalid(v) => self.validation_error(v),
            DeviceError::Photo(p) => self.t(photo_error(p)).to_string(),
            DeviceError::Transition(_) => self.t(Msg::ErrNotNow).to_string(),
            DeviceError::OrderTransition(gridmate_model::OrderTransitionError::NotYours {
                ..
            }) => self.t(Msg::ErrNotYours).to_string(),
            DeviceError::OrderTransition(_) => self.t(Msg::ErrNotNow).to_string(),
            DeviceError::NotFound { .. } => self.t(Msg::ErrNotFound).to_string(),
            DeviceError::NoSession => self.t(Msg::ErrSignInFirst).to_string(),
            DeviceError::SchemaTooNew { .. } => self.t(Msg::ErrUpdateApp).to_string(),
            DeviceError::Io(_) => self.t(Msg::ErrStorage).to_string(),
            DeviceError::Locked(_) => self.t(Msg::ErrLocked).to_string(),
            DeviceError::Sqlite(_) | DeviceError::Migration { .. } | DeviceError::Corrupt(_) => {
                self.t(Msg::ErrLocalData).to_string()
            }
        }
    }

    fn validation_error(self, e: &ValidationError) -> String {
        let field = |f: &str| self.field(f);
        match e {
            ValidationError::Required { field: f } => self.t1(Msg::ErrRequired, field(f)),
            ValidationError::TooLong { field: f, len, max } => {
                self.fill(Msg::ErrTooLong, &[&field(f), len, max])
            }
            ValidationError::ControlCharacter { field: f } => {
                self.t1(Msg::ErrControlCharacter, field(f))
            }
            ValidationError::Phone => self.t(Msg::ErrPhone).to_string(),
            ValidationError::IdNumber => self.t(Msg::ErrIdNumber).to_string(),
            ValidationError::Room => self.t(Msg::ErrRoom).to_string(),
            ValidationError::OutOfRange { field: f, .. } => self.t1(Msg::ErrOutOfRange, field(f)),
            ValidationError::TooMany { field: f, max, .. } => {
                self.fill(Msg::ErrTooMany, &[&field(f), max])
            }
            ValidationError::EndsBeforeStart { field: f } => {
                self.t1(Msg::ErrEndsBeforeStart, field(f))
            }
        }
    }

    fn field(self, code: &str) -> String {
        let msg = match code {
            "notes" => Msg::FieldNotes,
            "title" => Msg::FieldTitle,
            "description" => Msg::FieldDescription,
            "note" => Msg::FieldNote,
            "head_name" => Msg::FieldHeadName,
            "photos" => Msg::FieldPhotos,
            "hours" => Msg::FieldHours,
            "category" => Msg::FieldCategory,
            "lat" | "lon" | "accuracy_m" => Msg::FieldLocation,
            "visit" => Msg::Visit,
            "name" => Msg::FieldName,
            "phone" => Msg::FieldPhone,
            other => return other.to_string(),
        };
        self.t(msg).to_string()
    }

    fn sync_problem(self, p: SyncProblem) -> String {
        match p {
            SyncProblem::Offline => self.t(Msg::SyncProblemOffline).to_string(),
            SyncProblem::SignedOut => self.t(Msg::SyncProblemSignedOut).to_string(),
            SyncProblem::BadCredentials => self.t(Msg::SyncProblemBadCredentials).to_string(),
            SyncProblem::RateLimited(s) => self.t1(Msg::SyncProblemRateLimited, s),
            SyncProblem::VersionMismatch => self.t(Msg::SyncProblemVersion).to_string(),
            SyncProblem::ServerError => self.t(Msg::SyncProblemServer).to_string(),
            SyncProblem::Cancelled => self.t(Msg::SyncProblemCancelled).to_string(),
            SyncProblem::LocalData => self.t(Msg::ErrLocalData).to_string(),
        }
    }

    fn server_refusal(self, code: Option<&str>) -> &'static str {
        self.t(match code {
            Some("forbidden") => Msg::RefusedForbidden,
            Some("invalid") => Msg::RefusedInvalid,
            Some("illegal_transition") => Msg::RefusedIllegalTransition,
            Some("unknown_kind") => Msg::RefusedUnknownKind,
            Some("duplicate_id") => Msg::RefusedDuplicateId,
            _ => Msg::RefusedOther,
        })
    }
}

fn photo_error(p: &PhotoError) -> Msg {
    match p {
        PhotoError::Empty => Msg::ErrPhotoEmpty,
        PhotoError::FileTooLarge(_) | PhotoError::TooManyPixels { .. } => Msg::ErrPhotoTooLarge,
        PhotoError::NotAnImage => Msg::ErrNotAPhoto,
        PhotoError::Unsupported(_) => Msg::ErrPhotoFormat,
        PhotoError::Damaged(_) => Msg::ErrPhotoDamaged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_field_is_named_in_the_users_language() {
        let e = DeviceError::Invalid(ValidationError::TooLong {
            field: "notes",
            len: 2001,
            max: 2000,
        });
        assert_eq!(Lang::Zh.device_error(&e), "备注过长：2001字，最多2000字");
        assert_eq!(
            Lang::En.device_error(&e),
            "Notes is too long: 2001 characters, at most 2000"
        );
    }

    #[test]
    fn every_error_reads_in_both_languages_without_internals() {
        let errors = [
            DeviceError::NoSession,
            DeviceError::Corrupt("page 7 checksum".into()),
            DeviceError::Photo(PhotoError::Damaged("eof at 1234".into())),
            DeviceError::Photo(PhotoError::Unsupported("HEIC")),
            DeviceError::not_found("household", "0190"),
            DeviceError::Locked("file is not a database".into()),
        ];
        for lang in [Lang::Zh, Lang::En] {
            for e in &errors {
                let text = lang.device_error(e);
                assert!(!text.is_empty());
                for internal in ["checksum", "eof", "0190", "not a database"] {
                    assert!(!text.contains(internal), "{text}");
                }
            }
            for p in [
                SyncProblem::Offline,
                SyncProblem::RateLimited(30),
                SyncProblem::ServerError,
            ] {
                assert!(!lang.sync_problem(p).is_empty());
            }
        }
        assert!(
            Lang::En
                .sync_problem(SyncProblem::RateLimited(30))
                .contains("30 s")
        );
        assert!(
            Lang::Zh
                .sync_problem(SyncProblem::RateLimited(30))
                .contains("30秒")
        );
    }
}
