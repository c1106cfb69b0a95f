//! How a list lives in one column of the cache: codes, photo names and tags joined by commas
//! (none of them can hold one). Every module that reads or writes such a column uses these, and
//! they use nothing of the crate, so no module reaches into another for them.

use gridmate_model::{HouseholdTag, PhotoRef};

pub(crate) fn join_codes<'a>(codes: impl IntoIterator<Item = &'a str>) -> String {
    codes.into_iter().collect::<Vec<_>>().join(",")
}

pub(crate) fn split_codes(s: &str) -> impl Iterator<Item = &str> {
    s.split(',').filter(|c| !c.is_empty())
}

pub(crate) fn photos_text(photos: &[PhotoRef]) -> String {
    join_codes(photos.iter().map(|p| p.as_str()))
}

pub(crate) fn tags_text(tags: &[HouseholdTag]) -> String {
    join_codes(tags.iter().map(|t| t.code()))
}
