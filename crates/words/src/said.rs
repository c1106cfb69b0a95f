//! A sentence said in both languages at once, for answers built before the reader's language is
//! known (an import's problems, kept and shown later in either).

use crate::Lang;
use gridmate_model::ValidationError;

/// A sentence in zh-CN and in English.
#[derive(Clone, Debug, PartialEq)]
pub struct Said {
    pub zh: String,
    pub en: String,
}

impl Said {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Said {
        Said {
            zh: zh.into(),
            en: en.into(),
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
            ValidationError::Required { .. } => Said::new("必填", "required"),
            ValidationError::TooLong { len, max, .. } => Said::new(
                format!("太长：{len} 个字，最多 {max} 个"),
                format!("too long: {len} characters, at most {max}"),
            ),
            ValidationError::ControlCharacter { .. } => Said::new(
                "含有控制字符（从别处粘贴时带入），请重新输入",
                "contains a control character (pasted from elsewhere): type it again",
            ),
            ValidationError::Phone => Said::new(
                "不是大陆手机号（13–19 开头的 11 位数字）",
                "not a mainland mobile number (11 digits starting with 13–19)",
            ),
            ValidationError::IdNumber => Said::new(
                "不是有效的 18 位公民身份号码（校验位不符或日期不对）",
                "not a valid 18-character resident ID number (check digit or date wrong)",
            ),
            ValidationError::Room => Said::new(
                "房号应为 1–8 位字母或数字",
                "a room is 1–8 letters or digits",
            ),
            ValidationError::OutOfRange { value, .. } => Said::new(
                format!("超出范围：{value}"),
                format!("out of range: {value}"),
            ),
            ValidationError::TooMany { len, max, .. } => Said::new(
                format!("太多：{len} 项，最多 {max} 项"),
                format!("too many: {len}, at most {max}"),
            ),
            ValidationError::EndsBeforeStart { .. } => {
                Said::new("结束早于开始", "the end is before the start")
            }
        }
    }
}
