//! Every string the app shows, in Chinese (the default) and English.

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
    ("sync.pending", "待上传 {} 条", "{} to upload"),
    ("sync.failed", "{} 条上传失败", "{} failed"),
    ("sync.never", "从未同步", "Never synced"),
    ("sync.last", "上次同步 {}", "Last synced {}"),
];

impl Lang {
    /// `GRIDMATE_LANG=en` for English; Chinese otherwise.
    pub fn from_env() -> Lang {
        match std::env::var("GRIDMATE_LANG").as_deref() {
            Ok("en") | Ok("en-US") => Lang::En,
            _ => Lang::Zh,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_exists_in_both_languages() {
        for (key, zh, en) in STRINGS {
            assert!(!zh.is_empty() && !en.is_empty(), "{key}");
            assert_eq!(zh.matches("{}").count(), en.matches("{}").count(), "{key}");
        }
        let mut keys: Vec<_> = STRINGS.iter().map(|s| s.0).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), STRINGS.len(), "duplicate keys");
        assert_eq!(Lang::Zh.t1("home.overdue", 3), "逾期3天");
        assert_eq!(Lang::En.t1("home.overdue", 3), "3 days overdue");
    }
}
