//! Every word Gridmate shows, in zh-CN (the default) and English, with one owner.
//!
//! - [`Msg`] (`catalogue.rs`): every message of the phone's screens and of the office console,
//!   under one name, both languages side by side;
//! - [`Vocabulary`] (`vocabulary.rs`): the domain's words by code — what a category, a status,
//!   a tag or a role is called — for the console, the ledgers and the phone's labels of the
//!   model's enums alike, so a word cannot drift between faces;
//! - [`Said`]: a sentence in both languages at once, for answers built before the reader's
//!   language is known (an import's problems);
//! - [`Lang`]: which of the two, and how a message is filled.
//!
//! Why a typed enum and not Fluent files: a message missing in one language, or a name that does
//! not exist, is a compile error rather than a key shown to a user; the catalogue is small (a few
//! hundred messages), ships inside each binary, and needs no runtime on a phone. The tests here
//! keep it whole: both languages for every message with the same arguments, no Chinese left in
//! English, every message used by some face, and no face picking a pair of strings of its own.
//!
//! Never: a face's logic, I/O, or an error type of another crate (the app and the server turn
//! their errors into these words; this crate only knows the model's validation rules).

mod catalogue;
mod said;
mod vocabulary;

pub use catalogue::Msg;
pub use said::Said;
pub use vocabulary::Vocabulary;

/// The language of a face or an answer: zh-CN first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// `en…` is English; anything else, Chinese.
    pub fn from_code(code: &str) -> Lang {
        if code.starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    /// The other language of the two (a language switch).
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
    use std::path::{Path, PathBuf};

    fn has_cjk(s: &str) -> bool {
        s.chars().any(|c| {
            ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3000}'..='\u{303f}').contains(&c)
        })
    }

    /// Messages whose English quotes what a Chinese ledger or file holds — a column's name
    /// (户号, 楼栋), a value (男, 女), an address as written, a kind's Chinese names — because
    /// that is what the reader must find or type in their file.
    const QUOTES_CHINESE: &[Msg] = &[
        Msg::OfficeOneRowPerPerson,
        Msg::ImportUnknownKindBuilding,
        Msg::ImportCannotReadAsBuilding,
        Msg::ImportNoAddressGive,
        Msg::ImportSexMaleOrFemale,
        Msg::ImportIsAnotherRoom,
        Msg::ImportRequiredOrOnARow,
    ];

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
                !has_cjk(m.en()) || QUOTES_CHINESE.contains(m),
                "{m:?}: English with Chinese in it: {}",
                m.en()
            );
        }
    }

    #[test]
    fn no_two_messages_say_the_same_thing() {
        let mut seen = std::collections::HashMap::new();
        for m in Msg::ALL {
            if let Some(first) = seen.insert((m.zh(), m.en()), m) {
                panic!("{first:?} and {m:?} are the same message");
            }
        }
    }

    /// The faces' sources: the app (the workspace root's `src`), the server, and this crate's
    /// own sentences (`Said::invalid`), the catalogue aside.
    fn face_sources() -> Vec<(PathBuf, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .unwrap();
        let mut files = Vec::new();
        let mut dirs = vec![
            root.join("src"),
            root.join("crates/server/src"),
            root.join("crates/words/src"),
        ];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("catalogue.rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    files.push((p, text));
                }
            }
        }
        assert!(files.len() > 20, "the faces' sources were not found");
        files
    }

    #[test]
    fn every_message_is_used_by_some_face() {
        let sources: String = face_sources().into_iter().map(|(_, text)| text).collect();
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
    fn no_face_picks_a_pair_of_strings_of_its_own() {
        // The old ways, a pair picked inline by a screen or a console page, must not come back.
        let inline = [
            [".pi", "ck("].concat(),
            ["tr(la", "ng, \""].concat(),
            // A match on the language with a sentence in each arm.
            ["Lang::Zh", " =>"].concat(),
        ];
        for (p, text) in face_sources()
            .into_iter()
            .filter(|(p, _)| !p.starts_with(env!("CARGO_MANIFEST_DIR")))
        {
            for pattern in &inline {
                assert!(
                    !text.contains(pattern.as_str()),
                    "{} picks a pair of strings inline ({pattern})",
                    p.display()
                );
            }
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
        assert_eq!(
            Lang::En.t1(Msg::ErrOutOfRange, "Hours"),
            "Hours is out of range"
        );
    }
}
