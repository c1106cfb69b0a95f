//! The GPS fix line of a form: where the phone is and how sure it is, or that there is no fix.

use crate::i18n::{Lang, Msg};
use crate::widgets::format::metres;
use dioxus::prelude::*;
use gridmate_model::GpsFix;

#[component]
pub fn FixLine(fix: Option<GpsFix>, lang: Lang) -> Element {
    rsx! {
        p { class: "fix",
            match fix {
                Some(f) => rsx! {
                    span { {lang.t(Msg::Location)} "{f.lat:.5}, {f.lon:.5} · " {lang.t(Msg::Accuracy)} " ±{metres(f.accuracy_m)}" }
                    if f.mock_location { span { class: "tag", {lang.t(Msg::MockLocation)} } }
                },
                None => rsx! { span { class: "muted", {lang.t(Msg::NoLocationFixSavingWithoutOne)} } },
            }
        }
    }
}
