//! Pieces several screens share. A widget draws from its props and calls back; it never loads
//! data, writes, or navigates itself (the few that take a photo do it through [`photos`], on the
//! store thread).

pub mod bars;
pub mod fix;
pub mod form;
pub mod format;
pub mod map;
pub mod orders;
pub mod photos;

use crate::i18n::{Lang, Msg};
use dioxus::prelude::*;

#[component]
pub fn Loading(lang: Lang) -> Element {
    rsx! { p { class: "loading", {lang.t(Msg::Loading)} } }
}

#[component]
pub fn ErrorCard(message: String) -> Element {
    rsx! { p { class: "error-card", role: "alert", "{message}" } }
}

/// One change to a form, applied to the form's current state by its screen. Views send edits,
/// not whole forms: a whole form built from the props of the last render would overwrite a
/// keystroke made in another field since (fast typing, autofill, a slow liveview round trip).
pub type Edit<F> = std::rc::Rc<dyn Fn(&mut F)>;

pub fn edit<F>(f: impl Fn(&mut F) + 'static) -> Edit<F> {
    std::rc::Rc::new(f)
}

pub use bars::TitleBar;
pub use fix::{FixLine, use_fix};
pub use format::{
    CaseNumberLine, StatusChip, category_icon, china_date, china_time, metres, verdict_label,
};
pub use map::GridMap;
pub use orders::{OrderChip, OrderRow};
pub use photos::{PhotoButtons, PhotoStrip, add_photo, thumb_urls, use_thumbs};
