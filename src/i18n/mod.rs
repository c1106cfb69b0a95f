//! The app's side of the one catalogue (`gridmate_words`): the model's enums named in the user's
//! language ([`Labelled`]), the words for every error the device crate returns
//! ([`ErrorWords`]), and the language a first start takes from its environment. The model and
//! device crates return codes and typed errors; only the app turns them into words, and every
//! word it shows comes from `gridmate_words` (its tests check both languages, the arguments,
//! and that no screen picks a pair of strings of its own).

mod domain;
mod errors;

pub use domain::Labelled;
pub use errors::ErrorWords;
pub use gridmate_words::{Lang, Msg};

/// `GRIDMATE_LANG=en` for English; Chinese otherwise.
pub fn lang_from_env() -> Lang {
    match std::env::var("GRIDMATE_LANG").as_deref() {
        Ok("en") | Ok("en-US") => Lang::En,
        _ => Lang::Zh,
    }
}
