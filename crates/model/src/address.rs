//! Building-unit-room addresses as workers type them: "12-2-301", "12栋2单元301室",
//! "12号楼2单元301", "A3幢301", full-width digits from a Chinese keyboard included.

/// A parsed address inside a grid. Unit and room are optional so that "12-2" can search a whole
/// stairwell and "12栋" a whole building.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoomAddress {
    pub building: String,
    pub unit: Option<u16>,
    pub room: Option<String>,
}

impl std::fmt::Display for RoomAddress {
    /// The short form used in lists: "12-2-301", "12-2", "12--301", "12".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.building)?;
        match (&self.unit, &self.room) {
            (Some(u), Some(r)) => write!(f, "-{u}-{r}"),
            (Some(u), None) => write!(f, "-{u}"),
            (None, Some(r)) => write!(f, "--{r}"),
            (None, None) => Ok(()),
        }
    }
}

/// Full-width ASCII (from Chinese IMEs) to half-width, ideographic space to nothing, and the
/// dashes people type for "-" to "-".
pub fn normalize(input: &str) -> String {
    input
        .chars()
        .filter_map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
            '\u{3000}' | ' ' | '\t' => None,
            '—' | '–' | '_' | '/' | '#' => Some('-'),
            c => Some(c),
        })
        .collect()
}

/// Split a normalised address into its alphanumeric runs and the words between them.
fn tokens(s: &str) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    for c in s.chars() {
        let alnum = c.is_ascii_alphanumeric();
        match out.last_mut() {
            Some((a, t)) if *a == alnum => t.push(c),
            _ => out.push((alnum, c.to_string())),
        }
    }
    out
}

const BUILDING_WORDS: [&str; 6] = ["号楼", "栋", "幢", "座", "楼", "号"];
const UNIT_WORDS: [&str; 2] = ["单元", "门"];
const ROOM_WORDS: [&str; 2] = ["室", "号"];

/// Every part of an address carries a number: "A3" is a building, "zs" is pinyin.
fn is_part(t: &str) -> bool {
    !t.is_empty() && t.len() <= 8 && t.bytes().any(|b| b.is_ascii_digit())
}

/// Parse a building-unit-room address. Returns `None` for anything that is not one, so that the
/// search box can fall back to name search.
pub fn parse(input: &str) -> Option<RoomAddress> {
    let s = normalize(input);
    let toks = tokens(&s);
    let mut parts: Vec<String> = Vec::new();
    let mut seps: Vec<String> = Vec::new();
    for (alnum, t) in toks {
        if alnum {
            if parts.len() > seps.len() {
                return None;
            }
            parts.push(t);
        } else {
            if parts.len() == seps.len() {
                // A separator with nothing before it ("-12", "栋301").
                return None;
            }
            seps.push(t);
        }
    }
    if parts.is_empty() || parts.len() > 3 || parts[1..].iter().any(|p| !is_part(p)) {
        return None;
    }
    let sep = |i: usize| seps.get(i).map(String::as_str).unwrap_or("");
    // Words after each part say what it is; dashes say it by position.
    let building = parts[0].clone();
    let b_sep = sep(0);
    // "A栋", "B-2-301" are buildings; a bare "zs" is pinyin initials, not an address.
    let lettered_building = building.len() <= 2
        && building.bytes().all(|b| b.is_ascii_alphabetic())
        && (parts.len() > 1 || BUILDING_WORDS.contains(&b_sep));
    if !(is_part(&building) || lettered_building) {
        return None;
    }
    if !(b_sep.is_empty() || b_sep == "-" || b_sep == "--" || BUILDING_WORDS.contains(&b_sep)) {
        return None;
    }
    let parse_unit =
        |p: &str| -> Option<u16> { p.parse::<u16>().ok().filter(|u| (1..=99).contains(u)) };
    match parts.len() {
        1 => (b_sep.is_empty() || BUILDING_WORDS.contains(&b_sep)).then_some(RoomAddress {
            building,
            unit: None,
            room: None,
        }),
        2 => {
            let second_sep = sep(1);
            if b_sep == "--" {
                // "12--301": building and room, no unit.
                return (second_sep.is_empty() || ROOM_WORDS.contains(&second_sep)).then(|| {
                    RoomAddress {
                        building,
                        unit: None,
                        room: Some(parts[1].clone()),
                    }
                });
            }
            if UNIT_WORDS.contains(&second_sep)
                || (b_sep == "-" && second_sep.is_empty() && parts[1].len() <= 2)
            {
                // "12-2", "12栋2单元"
                let unit = parse_unit(&parts[1])?;
                return Some(RoomAddress {
                    building,
                    unit: Some(unit),
                    room: None,
                });
            }
            if second_sep.is_empty() || ROOM_WORDS.contains(&second_sep) {
                // "12栋301", "12-301室", "12-1502"
                return Some(RoomAddress {
                    building,
                    unit: None,
                    room: Some(parts[1].clone()),
                });
            }
            None
        }
        _ => {
            let unit_sep = sep(1);
            let room_sep = sep(2);
            if !(unit_sep == "-" || UNIT_WORDS.contains(&unit_sep)) || b_sep == "--" {
                return None;
            }
            if !(room_sep.is_empty() || ROOM_WORDS.contains(&room_sep)) {
                return None;
            }
            let unit = parse_unit(&parts[1])?;
            Some(RoomAddress {
                building,
                unit: Some(unit),
                room: Some(parts[2].clone()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn addr(b: &str, u: Option<u16>, r: Option<&str>) -> Option<RoomAddress> {
        Some(RoomAddress {
            building: b.into(),
            unit: u,
            room: r.map(Into::into),
        })
    }

    #[test]
    fn the_forms_workers_type() {
        let full = addr("12", Some(2), Some("301"));
        for s in [
            "12-2-301",
            "12栋2单元301",
            "12栋2单元301室",
            "12号楼2单元301",
            "12幢2单元301号",
            "12座2门301",
            "１２－２－３０１",
            " 12 - 2 - 301 ",
            "12/2/301",
            "12#2-301",
        ] {
            assert_eq!(parse(s), full, "{s}");
        }
        assert_eq!(parse("A3栋2单元1502"), addr("A3", Some(2), Some("1502")));
        assert_eq!(parse("12-2"), addr("12", Some(2), None));
        assert_eq!(parse("12栋2单元"), addr("12", Some(2), None));
        assert_eq!(parse("12栋"), addr("12", None, None));
        assert_eq!(parse("A栋"), addr("A", None, None));
        assert_eq!(parse("B-2-301"), addr("B", Some(2), Some("301")));
        assert_eq!(parse("12"), addr("12", None, None));
        assert_eq!(parse("12栋301"), addr("12", None, Some("301")));
        assert_eq!(parse("12-301"), addr("12", None, Some("301")));
        assert_eq!(parse("12--301"), addr("12", None, Some("301")));
    }

    #[test]
    fn names_and_junk_are_not_addresses() {
        for s in [
            "",
            "张三",
            "zs",
            "-12",
            "栋301",
            "12-2-301-5",
            "12栋2单元301室4",
            "12-0-301",
            "12-100-301",
            "123456789-1-1",
            "abc栋",
            "abc",
            "zs",
            "12-2-301楼",
            "12 张 3",
        ] {
            assert_eq!(parse(s), None, "{s:?}");
        }
    }

    #[test]
    fn display_is_the_short_form() {
        assert_eq!(parse("12栋2单元301").unwrap().to_string(), "12-2-301");
        assert_eq!(parse("12栋301").unwrap().to_string(), "12--301");
    }

    proptest! {
        #[test]
        fn short_form_round_trips(b in "[0-9]{1,3}|[A-Z][0-9]{0,2}|[A-Z]{2}", u in 1u16..=99, r in "[0-9]{3,4}") {
            let a = RoomAddress { building: b.clone(), unit: Some(u), room: Some(r.clone()) };
            prop_assert_eq!(parse(&a.to_string()), Some(a.clone()));
            let chinese = format!("{b}栋{u}单元{r}室");
            prop_assert_eq!(parse(&chinese), Some(a));
        }

        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = parse(&s);
        }
    }
}
