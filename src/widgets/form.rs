//! What the roll's forms share: a number typed in a box, read or refused in the user's words,
//! and a household's or a person's tags as checkboxes.

use crate::i18n::{Labelled, Lang, Msg};
use dioxus::prelude::*;
use gridmate_device::DeviceError;
use gridmate_model::HouseholdTag;
use gridmate_model::validate::ValidationError;

/// A number typed in a form's box; anything else is out of range for `field`.
pub fn number<T: std::str::FromStr>(text: &str, field: &'static str) -> Result<T, DeviceError> {
    text.trim().parse().map_err(|_| {
        DeviceError::Invalid(ValidationError::OutOfRange {
            field,
            value: f64::NAN,
        })
    })
}

/// Tags as checkboxes: `offered` in order, those in `chosen` ticked.
#[component]
pub fn TagChoice(
    offered: Vec<HouseholdTag>,
    chosen: Vec<HouseholdTag>,
    lang: Lang,
    on_toggle: EventHandler<(HouseholdTag, bool)>,
) -> Element {
    rsx! {
        fieldset { class: "tag-choice",
            legend { {lang.t(Msg::TagsField)} }
            for t in offered {
                label { class: "check",
                    input { r#type: "checkbox", name: "tag-{t.code()}", checked: chosen.contains(&t),
                        onchange: move |e: FormEvent| on_toggle.call((t, e.checked())) }
                    {t.label(lang)}
                }
            }
        }
    }
}

/// `tags` with `tag` put in or taken out, in the order tags are offered.
pub fn toggled(tags: &[HouseholdTag], tag: HouseholdTag, on: bool) -> Vec<HouseholdTag> {
    HouseholdTag::ALL
        .into_iter()
        .filter(|t| if *t == tag { on } else { tags.contains(t) })
        .collect()
}

pub fn same_tags(a: &[HouseholdTag], b: &[HouseholdTag]) -> bool {
    a.len() == b.len() && a.iter().all(|t| b.contains(t))
}
