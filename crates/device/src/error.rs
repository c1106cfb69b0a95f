use gridmate_model::{TransitionError, ValidationError};

/// Everything that can go wrong in the device crate. The UI shows [`DeviceError::message_zh`].
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

    /// The error for a Chinese reader, in plain words.
    pub fn message_zh(&self) -> String {
        match self {
            DeviceError::Invalid(v) => v.message_zh(),
            DeviceError::Transition(_) => "当前状态下不能进行此操作".into(),
            DeviceError::Photo(p) => p.message_zh().into(),
            DeviceError::NotFound { .. } => "找不到该记录，可能已被删除".into(),
            DeviceError::NoSession => "请先登录".into(),
            DeviceError::SchemaTooNew { .. } => "数据由更新版本的应用写入，请升级应用".into(),
            DeviceError::Io(_) => "存储空间读写失败，请检查手机存储空间".into(),
            DeviceError::Locked(_) => "本机数据无法解锁，请清除本机数据后重新登录同步".into(),
            _ => "本地数据出错，请重启应用；若仍出错请联系社区管理员".into(),
        }
    }
}
