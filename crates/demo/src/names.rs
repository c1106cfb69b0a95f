//! Plausible Chinese names for a Guangdong community: surnames weighted as in Jiangmen (陈, 李,
//! 黄, 梁 lead), given names of one or two characters.

use crate::rng::Rng;

/// Surnames with rough weights (per mille of the population, Guangdong).
const SURNAMES: &[(&str, u64)] = &[
    ("陈", 110),
    ("李", 80),
    ("黄", 75),
    ("梁", 60),
    ("张", 50),
    ("林", 45),
    ("刘", 45),
    ("吴", 35),
    ("何", 30),
    ("罗", 30),
    ("郑", 28),
    ("谭", 25),
    ("周", 25),
    ("冯", 22),
    ("杨", 22),
    ("余", 20),
    ("叶", 20),
    ("邓", 20),
    ("钟", 18),
    ("关", 18),
    ("区", 15),
    ("赵", 15),
    ("曾", 15),
    ("谢", 15),
    ("王", 15),
    ("潘", 12),
    ("卢", 12),
    ("朱", 12),
    ("麦", 12),
    ("甘", 8),
    ("伍", 8),
    ("容", 6),
    ("司徒", 6),
    ("欧阳", 5),
    ("单", 4),
];

const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "文", "辉", "玲", "建", "国", "志", "嘉", "俊",
    "锦", "荣", "婷", "欣", "宇", "浩", "颖", "晓", "子", "梓", "淑", "翠", "金", "炳", "添", "耀",
    "坤", "少", "健", "永", "思", "雅", "诗", "佳", "海", "振", "冠", "卓",
];

fn surname(rng: &mut Rng) -> &'static str {
    let total: u64 = SURNAMES.iter().map(|s| s.1).sum();
    let mut pick = rng.below(total);
    for (s, w) in SURNAMES {
        if pick < *w {
            return s;
        }
        pick -= w;
    }
    SURNAMES[0].0
}

fn given(rng: &mut Rng, chars: usize) -> String {
    (0..chars)
        .map(|_| GIVEN[rng.below(GIVEN.len() as u64) as usize])
        .collect()
}

/// A full name of 2–3 characters (compound surnames take a one-character given name).
pub fn full_name(rng: &mut Rng) -> String {
    let s = surname(rng);
    let n = if s.chars().count() == 2 {
        1
    } else {
        1 + rng.below(2) as usize
    };
    format!("{s}{}", given(rng, n))
}

/// A household member: children share the head's surname, a spouse or parent has their own.
pub fn relative_name(head: &str, member: usize, rng: &mut Rng) -> String {
    if member == 2 || member == 3 {
        let s: String = SURNAMES
            .iter()
            .map(|s| s.0)
            .find(|s| head.starts_with(s))
            .unwrap_or("陈")
            .into();
        let n = if s.chars().count() == 2 {
            1
        } else {
            1 + rng.below(2) as usize
        };
        format!("{s}{}", given(rng, n))
    } else {
        full_name(rng)
    }
}
