//! Every string the app shows, in Chinese (the default) and English.
//!
//! Screens write both languages side by side, `lang.pick("本月走访", "Visited this month")`, so a
//! string cannot exist in one language only; the few strings shared across screens are named
//! in [`STRINGS`] and read with [`Lang::t`].

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// (key, 中文, English)
const STRINGS: &[(&str, &str, &str)] = &[
    ("app.name", "网格通", "Gridmate"),
    (
        "error.store",
        "无法打开本地数据",
        "Cannot open the local data",
    ),
    ("home.visited", "本月走访", "Visited this month"),
    ("home.households", "户", "households"),
    ("home.due", "重点户待走访", "Priority visits due"),
    (
        "home.due.none",
        "重点户都已按期走访",
        "All priority households are up to date",
    ),
    ("home.never", "从未走访", "Never visited"),
    ("home.overdue", "逾期{}天", "{} days overdue"),
    ("home.issues", "问题台账（未销号）", "Open issues"),
    ("home.issues.none", "没有未销号的问题", "No open issues"),
    ("home.map", "网格地图", "Grid map"),
    ("home.legend", "本月走访覆盖：", "Visited this month:"),
    ("sync.offline", "离线", "Offline"),
    ("sync.online", "在线", "Online"),
    ("sync.syncing", "正在同步", "Syncing"),
    ("sync.pending", "待上传 {} 条", "{} to upload"),
    ("sync.failed", "{} 条上传失败", "{} failed"),
    ("sync.never", "从未同步", "Never synced"),
    ("sync.last", "上次同步 {}", "Last synced {}"),
    ("sync.retry", "重试", "Retry"),
    ("action.save", "保存", "Save"),
    ("action.back", "返回", "Back"),
    ("action.cancel", "取消", "Cancel"),
    ("loading", "正在读取…", "Loading…"),
    (
        "settings.unsent.kept",
        "还有 {} 条未上传：会保留在本机，下次登录后上传。",
        "{} unsent items stay on this phone and upload after the next sign-in.",
    ),
    (
        "settings.unsent.lost",
        "还有 {} 条未上传，清除后将永久丢失！",
        "{} unsent items will be lost for good!",
    ),
];

impl Lang {
    /// `GRIDMATE_LANG=en` for English; Chinese otherwise.
    pub fn from_env() -> Lang {
        match std::env::var("GRIDMATE_LANG").as_deref() {
            Ok("en") | Ok("en-US") => Lang::En,
            _ => Lang::Zh,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Lang {
        if code.starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    /// The string for `key`; the key itself if it is missing, which the screen tests catch.
    pub fn t(self, key: &'static str) -> &'static str {
        STRINGS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or(key, |(_, zh, en)| if self == Lang::Zh { *zh } else { *en })
    }

    /// `t` with its `{}` replaced by `arg`.
    pub fn t1(self, key: &'static str, arg: impl std::fmt::Display) -> String {
        self.t(key).replacen("{}", &arg.to_string(), 1)
    }

    /// One of two strings written side by side.
    pub fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        if self == Lang::Zh { zh } else { en }
    }
}

/// Domain enums name themselves in both languages.
pub trait Labelled {
    fn label(self, lang: Lang) -> &'static str;
}

macro_rules! labelled {
    ($($t:ty),*) => {$(
        impl Labelled for $t {
            fn label(self, lang: Lang) -> &'static str {
                lang.pick(self.label_zh(), self.label_en())
            }
        }
    )*};
}

labelled!(
    gridmate_model::IssueStatus,
    gridmate_model::IssueAction,
    gridmate_model::IssueCategory,
    gridmate_model::Severity,
    gridmate_model::IssueSource,
    gridmate_model::VisitKind,
    gridmate_model::VisitOutcome,
    gridmate_model::HouseholdTag,
    gridmate_model::Role
);
