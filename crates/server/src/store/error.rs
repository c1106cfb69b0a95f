//! The one error of the store boundary: what a backend or a rule can fail with below the faces.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed (its own error, kept for the log; clients see "internal").
    #[error("database: {0}")]
    Database(Box<dyn std::error::Error + Send + Sync>),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
    #[error("background task failed: {0}")]
    Join(String),
    #[error("{0}")]
    Invalid(String),
    /// The database is not at a schema this build can serve (written by a newer build, or a
    /// migration failed): the server refuses to start on it.
    #[error("schema: {0}")]
    Schema(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
