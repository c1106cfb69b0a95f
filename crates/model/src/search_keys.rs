//! Search keys for Chinese names: full pinyin ("zhangsan") and initials ("zs"), as workers type
//! them on a phone keyboard without tones.
//!
//! Surnames are read as surnames: 单 is "shan" not "dan", 曾 "zeng", 区 "ou", 解 "xie". The
//! character-level dictionary gives the common reading, which is wrong for these when they start
//! a name.

use pinyin::ToPinyin;

/// Surname readings that differ from the character's most common reading.
const SURNAME_READINGS: &[(char, &str)] = &[
    ('单', "shan"),
    ('曾', "zeng"),
    ('区', "ou"),
    ('解', "xie"),
    ('仇', "qiu"),
    ('朴', "piao"),
    ('查', "zha"),
    ('翟', "zhai"),
    ('盖', "ge"),
    ('乐', "yue"),
    ('覃', "qin"),
    ('缪', "miao"),
    ('柏', "bai"),
    ('种', "chong"),
    ('尉', "yu"),
    ('华', "hua"),
    ('任', "ren"),
];

/// Full pinyin and initials of a name: `("zhangsan", "zs")`. A run of Latin letters or digits
/// is one word ("Anna" → "anna", "a"); anything else is dropped.
pub fn name_keys(name: &str) -> (String, String) {
    let mut full = String::with_capacity(name.len() * 2);
    let mut initials = String::with_capacity(name.len());
    let mut in_latin_word = false;
    for (i, c) in name.chars().enumerate() {
        let surname = if i == 0 {
            SURNAME_READINGS
                .iter()
                .find(|(s, _)| *s == c)
                .map(|(_, r)| *r)
        } else {
            None
        };
        let reading = surname.or_else(|| c.to_pinyin().map(|p| p.plain()));
        match reading {
            Some(r) => {
                // ü is typed "v" on every Chinese phone keyboard: 吕 → "lv".
                for ch in r.chars() {
                    full.push(if ch == 'ü' { 'v' } else { ch });
                }
                initials.push_str(&r[..1]);
                in_latin_word = false;
            }
            None if c.is_ascii_alphanumeric() => {
                let l = c.to_ascii_lowercase();
                full.push(l);
                if !in_latin_word {
                    initials.push(l);
                }
                in_latin_word = true;
            }
            None => in_latin_word = false,
        }
    }
    (full, initials)
}

/// Is this query something to look up in the pinyin keys (ASCII letters only)?
pub fn is_pinyin_query(q: &str) -> bool {
    !q.is_empty() && q.bytes().all(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_to_keys() {
        assert_eq!(name_keys("张三"), ("zhangsan".into(), "zs".into()));
        assert_eq!(name_keys("李小龙"), ("lixiaolong".into(), "lxl".into()));
        assert_eq!(name_keys("欧阳娜"), ("ouyangna".into(), "oyn".into()));
        assert_eq!(name_keys("司徒华"), ("situhua".into(), "sth".into()));
    }

    #[test]
    fn u_umlaut_is_typed_v() {
        assert_eq!(name_keys("吕女"), ("lvnv".into(), "ln".into()));
        assert!(is_pinyin_query(&name_keys("一郘").0));
    }

    #[test]
    fn surnames_read_as_surnames() {
        assert_eq!(name_keys("单伟").1, "sw");
        assert_eq!(name_keys("曾敏").0, "zengmin");
        assert_eq!(name_keys("区家明").0, "oujiaming");
        // Only at the start: 王单 is "wangdan".
        assert_eq!(name_keys("王单").0, "wangdan");
    }

    #[test]
    fn latin_and_junk() {
        assert_eq!(name_keys("Anna 李"), ("annali".into(), "al".into()));
        assert_eq!(name_keys("😀"), (String::new(), String::new()));
        assert!(is_pinyin_query("zs"));
        assert!(!is_pinyin_query("张s"));
        assert!(!is_pinyin_query(""));
    }
}
