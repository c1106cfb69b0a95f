//! Every string the app shows comes from here: one typed catalogue ([`Msg`], in `catalogue.rs`)
//! with Chinese (the default) and English side by side, the names of the model's enums
//! ([`Labelled`]), and the words for every error the device crate returns ([`Lang::device_error`],
//! [`Lang::sync_problem`]). The model and device crates return codes and typed errors; only the
//! app turns them into words, in the user's language.
//!
//! Why a typed enum and not Fluent files: a message missing in one language, or a name that
//! does not exist, is a compile error rather than a key shown to a user; the catalogue is small
//! (a few hundred messages), ships inside the binary, and needs no runtime on a phone.

mod catalogue;
mod domain;
mod errors;

pub use catalogue::Msg;
pub use domain::Labelled;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

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

    /// The other language of the two (the sign-in screen's switch).
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// A language's name as its readers write it: "中文", "English".
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Zh => "中文",
            Lang::En => "English",
        }
    }

    /// The message in this language.
    pub fn t(self, msg: Msg) -> &'static str {
        match self {
            Lang::Zh => msg.zh(),
            Lang::En => msg.en(),
        }
    }

    /// The message with its one `{}` replaced by `arg`.
    pub fn t1(self, msg: Msg, arg: impl std::fmt::Display) -> String {
        self.fill(msg, &[&arg])
    }

    /// The message with its `{}`s replaced by `args`, in order.
    pub fn fill(self, msg: Msg, args: &[&dyn std::fmt::Display]) -> String {
        let mut out = String::new();
        let mut args = args.iter();
        let mut parts = self.t(msg).split("{}").peekable();
        while let Some(part) = parts.next() {
            out.push_str(part);
            if parts.peek().is_some()
                && let Some(a) = args.next()
            {
                out.push_str(&a.to_string());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_cjk(s: &str) -> bool {
        s.chars().any(|c| {
            ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3000}'..='\u{303f}').contains(&c)
        })
    }

    #[test]
    fn both_languages_have_every_message_with_the_same_arguments() {
        for m in Msg::ALL {
            assert!(!m.zh().trim().is_empty(), "{m:?} has no Chinese");
            // Chinese counters and suffixes ("12栋", "1958年生") have no English word.
            let suffix = matches!(m, Msg::BuildingSuffix | Msg::BornSuffix);
            assert!(!m.en().trim().is_empty() || suffix, "{m:?} has no English");
            assert_eq!(
                m.zh().matches("{}").count(),
                m.en().matches("{}").count(),
                "{m:?}: the two languages take different arguments"
            );
            assert!(
                !has_cjk(m.en()),
                "{m:?}: English with Chinese in it: {}",
                m.en()
            );
        }
    }

    /// Every source file of the app, with its text.
    fn app_sources() -> Vec<(std::path::PathBuf, String)> {
        let mut files = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    files.push((p, text));
                }
            }
        }
        files
    }

    #[test]
    fn every_message_is_used_somewhere() {
        // The catalogue must not keep messages no screen shows: find each name outside the
        // catalogue itself.
        let sources: String = app_sources()
            .into_iter()
            .filter(|(p, _)| !p.ends_with("catalogue.rs"))
            .map(|(_, text)| text)
            .collect();
        let unused: Vec<_> = Msg::ALL
            .iter()
            .filter(|m| {
                let name = format!("Msg::{m:?}");
                !sources.match_indices(&name).any(|(i, _)| {
                    !sources[i + name.len()..].starts_with(|c: char| c.is_alphanumeric())
                })
            })
            .collect();
        assert!(unused.is_empty(), "messages nobody shows: {unused:?}");
    }

    #[test]
    fn no_screen_writes_a_string_of_its_own() {
        // The old way, a pair of strings picked inline by a screen, must not come back.
        let inline_pair = [".pi", "ck("].concat();
        for (p, text) in app_sources() {
            assert!(
                !text.contains(&inline_pair),
                "{} picks a string inline",
                p.display()
            );
        }
    }

    #[test]
    fn arguments_are_filled_in_order() {
        assert_eq!(
            Lang::Zh.fill(Msg::ErrTooLong, &[&"标题", &41, &40]),
            "标题过长：41字，最多40字"
        );
        assert_eq!(
            Lang::En.fill(Msg::ErrTooLong, &[&"Title", &41, &40]),
            "Title is too long: 41 characters, at most 40"
        );
        assert_eq!(Lang::En.t1(Msg::SyncPending, 3), "3 to upload");
    }
}
