//! Validation of what users type, with errors that say which field and why, plus the masking of
//! personal data (PIPL) that every screen and log uses.

/// Limits on free text, in characters (not bytes: one Chinese character is one character).
pub mod limits {
    pub const NAME: usize = 30;
    pub const TITLE: usize = 60;
    /// Visit notes, issue descriptions, event notes.
    pub const TEXT: usize = 2_000;
    pub const ROOM: usize = 8;
    /// A fix worse than this is not a location.
    pub const MAX_ACCURACY_M: f64 = 10_000.0;
    pub const MAX_PEOPLE_SERVED: u16 = 10_000;
    pub const MAX_PHOTOS: usize = 9;
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ValidationError {
    #[error("{field} is required")]
    Required { field: &'static str },
    #[error("{field} is too long: {len} characters, at most {max}")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{field} contains a control character")]
    ControlCharacter { field: &'static str },
    #[error("not a mainland mobile number (11 digits starting with 13–19)")]
    Phone,
    #[error("not a valid 18-character resident ID number")]
    IdNumber,
    #[error("room must be 1–8 letters or digits")]
    Room,
    #[error("{field} is out of range: {value}")]
    OutOfRange { field: &'static str, value: f64 },
    #[error("{field} has too many items: {len}, at most {max}")]
    TooMany {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{field}: the end is before the start")]
    EndsBeforeStart { field: &'static str },
}

/// Free text: required or not, at most `max` characters, no control characters but newline and
/// tab. Returns the text trimmed.
pub fn text(
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<String, ValidationError> {
    let trimmed = value.trim();
    if required && trimmed.is_empty() {
        return Err(ValidationError::Required { field });
    }
    let len = trimmed.chars().count();
    if len > max {
        return Err(ValidationError::TooLong { field, len, max });
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ValidationError::ControlCharacter { field });
    }
    Ok(trimmed.to_string())
}

/// A mainland mobile number, returned as its 11 digits. Accepts "+86", spaces and dashes.
pub fn phone(value: &str) -> Result<String, ValidationError> {
    let digits: String = value
        .trim()
        .trim_start_matches("+86")
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    let b = digits.as_bytes();
    let ok = b.len() == 11
        && b.iter().all(u8::is_ascii_digit)
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1]);
    ok.then_some(digits).ok_or(ValidationError::Phone)
}

/// A resident ID number (GB 11643-1999): 17 digits and a check character, verified.
pub fn id_number(value: &str) -> Result<String, ValidationError> {
    let v = value.trim().to_ascii_uppercase();
    match (
        v.get(..17).and_then(id_check_char),
        v.chars().nth(17),
        v.chars().count(),
    ) {
        (Some(check), Some(given), 18) if check == given => Ok(v),
        _ => Err(ValidationError::IdNumber),
    }
}

/// The check character that makes the first 17 digits a valid ID number.
pub fn id_check_char(first17: &str) -> Option<char> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(CHECK[(sum % 11) as usize] as char)
}

pub fn room(value: &str) -> Result<String, ValidationError> {
    let v = value.trim();
    let ok = (1..=limits::ROOM).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then(|| v.to_string()).ok_or(ValidationError::Room)
}

/// WGS-84 latitude/longitude in range, and an accuracy radius that means something.
pub fn coordinates(lat: f64, lon: f64, accuracy_m: Option<f64>) -> Result<(), ValidationError> {
    if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
        return Err(ValidationError::OutOfRange {
            field: "lat",
            value: lat,
        });
    }
    if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
        return Err(ValidationError::OutOfRange {
            field: "lon",
            value: lon,
        });
    }
    if let Some(a) = accuracy_m
        && !(a.is_finite() && (0.0..=limits::MAX_ACCURACY_M).contains(&a))
    {
        return Err(ValidationError::OutOfRange {
            field: "accuracy_m",
            value: a,
        });
    }
    Ok(())
}

/// "13812345678" → "138****5678". Anything that is not 11 characters is masked whole except its
/// last two, so a malformed number never leaks either.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() == 11 {
        format!(
            "{}****{}",
            chars[..3].iter().collect::<String>(),
            chars[7..].iter().collect::<String>()
        )
    } else {
        mask_all_but_last(&chars, 2)
    }
}

/// "440703199001011234" → "4407**********1234": region kept for the office, birth date hidden.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() == 18 {
        format!(
            "{}{}{}",
            chars[..4].iter().collect::<String>(),
            "*".repeat(10),
            chars[14..].iter().collect::<String>()
        )
    } else {
        mask_all_but_last(&chars, 2)
    }
}

fn mask_all_but_last(chars: &[char], keep: usize) -> String {
    let cut = chars.len().saturating_sub(keep);
    "*".repeat(cut) + &chars[cut..].iter().collect::<String>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn phones() {
        assert_eq!(phone("13812345678").unwrap(), "13812345678");
        assert_eq!(phone("+86 138-1234-5678").unwrap(), "13812345678");
        for bad in [
            "",
            "1381234567",
            "138123456789",
            "12812345678",
            "23812345678",
            "1381234567x",
            "１３８１２３４５６７８",
        ] {
            assert_eq!(phone(bad), Err(ValidationError::Phone), "{bad}");
        }
    }

    #[test]
    fn id_numbers_are_checksummed() {
        // The GB 11643 worked example.
        assert_eq!(
            id_number("11010519491231002x").unwrap(),
            "11010519491231002X"
        );
        assert!(id_number("110105194912310021").is_err());
        assert!(id_number("1101051949123100").is_err());
        assert!(id_number("11010519491231002Y").is_err());
        let first = "44070319900101123";
        let full = format!("{first}{}", id_check_char(first).unwrap());
        assert!(id_number(&full).is_ok());
    }

    #[test]
    fn masks_never_show_the_middle() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_id_number("44070319900101123X"), "4407**********123X");
        assert_eq!(mask_phone("12345"), "***45");
        assert_eq!(mask_phone(""), "");
        assert_eq!(mask_id_number("1"), "1");
    }

    #[test]
    fn text_limits_count_characters() {
        let forty_chinese = "消".repeat(40);
        assert!(text("标题", &forty_chinese, limits::TITLE, true).is_ok());
        let too_long = "消".repeat(61);
        assert_eq!(
            text("标题", &too_long, limits::TITLE, true),
            Err(ValidationError::TooLong {
                field: "标题",
                len: 61,
                max: 60
            })
        );
        assert_eq!(
            text("标题", "  ", 10, true),
            Err(ValidationError::Required { field: "标题" })
        );
        assert_eq!(text("备注", "", 10, false).unwrap(), "");
        assert!(text("备注", "a\u{0}b", 10, false).is_err());
        assert!(text("备注", "a\u{1b}[31mred", 20, false).is_err());
        assert_eq!(
            text("备注", " 第一行\n第二行\t! ", 20, false).unwrap(),
            "第一行\n第二行\t!"
        );
    }

    #[test]
    fn rooms_and_coordinates() {
        assert!(room("301").is_ok());
        assert!(room("B-2").is_ok());
        assert!(room("").is_err());
        assert!(room("301室").is_err());
        assert!(room("123456789").is_err());
        assert!(coordinates(22.58, 113.07, Some(12.0)).is_ok());
        assert!(coordinates(91.0, 113.07, None).is_err());
        assert!(coordinates(22.0, -181.0, None).is_err());
        assert!(coordinates(f64::NAN, 0.0, None).is_err());
        assert!(coordinates(0.0, 0.0, Some(-1.0)).is_err());
        assert!(coordinates(0.0, 0.0, Some(f64::INFINITY)).is_err());
    }

    proptest! {
        #[test]
        fn masked_phone_hides_digits_4_to_7(p in "1[3-9][0-9]{9}") {
            let m = mask_phone(&p);
            prop_assert_eq!(m.len(), 11);
            prop_assert_eq!(&m[3..7], "****");
            prop_assert_eq!(&m[..3], &p[..3]);
        }

        #[test]
        fn text_never_panics_and_respects_the_limit(s in "\\PC{0,80}", max in 0usize..50) {
            if let Ok(t) = text("f", &s, max, false) {
                prop_assert!(t.chars().count() <= max);
            }
        }
    }
}
