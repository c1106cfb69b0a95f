//! The GPS fix line of a form: where the phone is and how sure it is, or that there is no fix.

use crate::i18n::{Lang, Msg};
use crate::platform::LocationProblem;
use crate::state::Services;
use crate::widgets::format::metres;
use dioxus::prelude::*;
use gridmate_model::GpsFix;
use gridmate_model::geo_rules::MAX_FIX_ACCURACY_M;
use std::time::Duration;

/// How often a form re-reads the platform's position while it shows.
const FIX_EVERY: Duration = Duration::from_secs(2);

/// The platform's fix and why there is none, read as the screen opens and again every 2 s while
/// it shows: on a phone the first fix often comes after the form, and a refused permission is
/// reported by the page a moment after it asks.
pub fn use_fix() -> (Signal<Option<GpsFix>>, Signal<Option<LocationProblem>>) {
    let services = use_context::<Services>();
    let mut fix = use_signal(|| services.platform.location());
    let mut problem = use_signal(|| services.platform.location_problem());
    use_future(move || {
        let platform = services.platform.clone();
        async move {
            loop {
                tokio::time::sleep(FIX_EVERY).await;
                let (now, why) = (platform.location(), platform.location_problem());
                if *fix.peek() != now {
                    fix.set(now);
                }
                if *problem.peek() != why {
                    problem.set(why);
                }
            }
        }
    });
    (fix, problem)
}

fn problem_msg(p: LocationProblem) -> Msg {
    match p {
        LocationProblem::Denied => Msg::LocationDenied,
        LocationProblem::Unavailable => Msg::LocationUnavailable,
        LocationProblem::TimedOut => Msg::LocationTimedOut,
        LocationProblem::Unsupported => Msg::LocationUnsupported,
    }
}

#[component]
pub fn FixLine(
    fix: Option<GpsFix>,
    #[props(default)] problem: Option<LocationProblem>,
    lang: Lang,
) -> Element {
    rsx! {
        p { class: "fix",
            match fix {
                Some(f) => rsx! {
                    span { {lang.t(Msg::Location)} "{f.lat:.5}, {f.lon:.5} · " {lang.t(Msg::Accuracy)} " ±{metres(f.accuracy_m)}" }
                    if f.mock_location { span { class: "tag", {lang.t(Msg::MockLocation)} } }
                    if f.is_imprecise() {
                        span { class: "fix-problem", role: "alert", {lang.t1(Msg::LocationImprecise, MAX_FIX_ACCURACY_M)} }
                    }
                },
                None => match problem {
                    Some(p) => rsx! { span { class: "fix-problem", role: "alert", {lang.t(problem_msg(p))} } },
                    None => rsx! { span { class: "muted", {lang.t(Msg::NoLocationFixSavingWithoutOne)} } },
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::render;

    #[test]
    fn each_location_problem_is_said_in_both_languages_and_a_fix_wins() {
        for (problem, zh, en) in [
            (
                LocationProblem::Denied,
                "定位权限被拒绝",
                "permission refused",
            ),
            (
                LocationProblem::Unavailable,
                "无法定位",
                "cannot find its position",
            ),
            (LocationProblem::TimedOut, "定位超时", "timed out"),
            (
                LocationProblem::Unsupported,
                "不支持定位",
                "has no location",
            ),
        ] {
            let p = Some(problem);
            let html = render(move || rsx! { FixLine { fix: None, problem: p, lang: Lang::Zh } });
            assert!(
                html.contains(zh) && html.contains("role=\"alert\""),
                "{html}"
            );
            let html = render(move || rsx! { FixLine { fix: None, problem: p, lang: Lang::En } });
            assert!(html.contains(en), "{html}");
        }
        let fix = Some(GpsFix {
            lat: 36.65,
            lon: 117.0,
            accuracy_m: 8.0,
            mock_location: false,
        });
        let html = render(move || {
            rsx! { FixLine { fix, problem: Some(LocationProblem::Denied), lang: Lang::Zh } }
        });
        assert!(
            html.contains("36.65000") && !html.contains("定位权限被拒绝"),
            "{html}"
        );
        assert!(
            !html.contains("定位不准"),
            "a good fix is not flagged: {html}"
        );
        let html = render(move || rsx! { FixLine { fix: None, lang: Lang::Zh } });
        assert!(html.contains("暂无定位"), "{html}");
        // A cell-tower guess is shown and kept, and said to be one.
        let guess = Some(GpsFix {
            lat: 36.65,
            lon: 117.0,
            accuracy_m: 850.0,
            mock_location: false,
        });
        for (lang, said) in [
            (Lang::Zh, "定位不准（误差超过 50 米）"),
            (Lang::En, "off by more than 50 m"),
        ] {
            let html = render(move || rsx! { FixLine { fix: guess, lang } });
            assert!(
                html.contains("±850") && html.contains(said) && html.contains("role=\"alert\""),
                "{html}"
            );
        }
    }
}
