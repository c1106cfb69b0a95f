//! A sentence said in both languages at once, for answers built before the reader's language is
//! known (an import's problems, kept and shown later in either).

use crate::{Lang, Msg};
use gridmate_model::ValidationError;

/// A sentence in zh-CN and in English.
#[derive(Clone, Debug, PartialEq)]
pub struct Said {
    pub zh: String,
    pub en: String,
}

impl Said {
    /// A message of the catalogue, in both languages.
    pub fn of(msg: Msg) -> Said {
        Said {
            zh: msg.zh().to_string(),
            en: msg.en().to_string(),
        }
    }

    /// A message of the catalogue with its `{}`s filled, in both languages.
    pub fn fill(msg: Msg, args: &[&dyn std::fmt::Display]) -> Said {
        Said {
            zh: Lang::Zh.fill(msg, args),
            en: Lang::En.fill(msg, args),
        }
    }

    pub fn in_lang(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// What a rule of `gridmate_model::validate` says about a cell; the column is named beside
    /// it, so the sentence does not repeat it.
    pub fn invalid(e: &ValidationError) -> Said {
        match e {
            ValidationError::Required { .. } => Said::of(Msg::Required),
            ValidationError::TooLong { len, max, .. } => {
                Said::fill(Msg::InvalidTooLong, &[&len, &max])
            }
            ValidationError::ControlCharacter { .. } => Said::of(Msg::InvalidControlCharacter),
            ValidationError::Phone => Said::of(Msg::InvalidPhone),
            ValidationError::IdNumber => Said::of(Msg::InvalidIdNumber),
            ValidationError::Room => Said::of(Msg::InvalidRoom),
            ValidationError::OutOfRange { value, .. } => {
                Said::fill(Msg::InvalidOutOfRange, &[&value])
            }
            ValidationError::TooMany { len, max, .. } => {
                Said::fill(Msg::InvalidTooMany, &[&len, &max])
            }
            ValidationError::EndsBeforeStart { .. } => Said::of(Msg::InvalidEndsBeforeStart),
        }
    }
}
