use gridmate_model::{OrderTransitionError, TransitionError, ValidationError};

/// Everything that can go wrong in the device crate. The app words each variant in the user's
/// language; the `Display` text is for logs and developers.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: u32,
        name: &'static str,
        source: rusqlite::Error,
    },
    #[error("this database was written by a newer app (schema {found}, this app knows {known})")]
    SchemaTooNew { found: u32, known: u32 },
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    #[error("{0}")]
    Transition(#[from] TransitionError),
    #[error("{0}")]
    OrderTransition(#[from] OrderTransitionError),
    #[error("{0}")]
    Photo(#[from] crate::photos::PhotoError),
    #[error("no {what} with id {id}")]
    NotFound { what: &'static str, id: String },
    #[error("nobody is signed in on this device")]
    NoSession,
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("the store is locked: {0}")]
    Locked(String),
}

impl DeviceError {
    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        DeviceError::NotFound {
            what,
            id: id.to_string(),
        }
    }
}
