//! The console's frame: the page layout and navigation, the sign-in page, message pages, and the
//! small pieces every page prints (times in Beijing time, status badges, words for codes, a list's
//! filters and pager).

use crate::app::Params;
use crate::store::office;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::DateTime;
use gridmate_words::{Lang, Msg, Vocabulary};
use maud::{DOCTYPE, Markup, html};
use uuid::Uuid;

pub fn word(lang: Lang, v: Vocabulary, code: &str) -> &str {
    v.word(code, lang)
}

pub use crate::ledger::{beijing, local as when};

pub fn when_ms(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map_or_else(String::new, when)
}

/// A short name for the browser a session was opened from (shown in the devices list).
pub fn device_name(headers: &HeaderMap) -> String {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let browser = ["Edg", "Chrome", "Firefox", "Safari"]
        .into_iter()
        .find(|b| agent.contains(b))
        .unwrap_or("browser");
    format!("console ({browser})")
}

/// The frame of a signed-in page.
pub struct Layout<'a> {
    pub lang: Lang,
    pub title: &'a str,
    /// Which navigation entry is lit.
    pub active: &'static str,
    /// The user's name and the CSRF token for the sign-out form.
    pub user: Option<(&'a str, &'a str)>,
}

impl Layout<'_> {
    pub fn render(&self, body: Markup) -> Response {
        self.render_status(StatusCode::OK, body)
    }

    pub fn render_status(&self, status: StatusCode, body: Markup) -> Response {
        let l = self.lang;
        let nav = [
            ("board", "/console/board", l.t(Msg::OfficeDispatchBoard)),
            (
                "orders",
                "/console/orders",
                l.t(Msg::OfficeResidentRequests),
            ),
            ("roll", "/console/roll", l.t(Msg::OfficeHouseholds)),
            ("field", "/console/field", l.t(Msg::OfficeNavPatrols)),
            ("stats", "/console/stats", l.t(Msg::OfficeStatistics)),
            ("ledgers", "/console/ledgers", l.t(Msg::OfficeLedgers)),
            ("callups", "/console/callups", l.t(Msg::OfficeCallUps)),
            ("messages", "/console/messages", l.t(Msg::OfficeMessages)),
            (
                "departments",
                "/console/departments",
                l.t(Msg::OfficeDepartments),
            ),
            ("people", "/console/people", l.t(Msg::OfficeNavPeople)),
            ("import", "/console/import", l.t(Msg::OfficeNavImport)),
        ];
        let markup = html! {
            (DOCTYPE)
            html lang=(l.code()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title) " · " (l.t(Msg::OfficeTitle)) }
                    link rel="stylesheet" href="/console/console.css";
                }
                body {
                    header.top {
                        span.brand { (l.t(Msg::OfficeBrand)) }
                        @if self.user.is_some() {
                            nav {
                                @for (key, href, label) in nav {
                                    a href=(href) class=[(key == self.active).then_some("on")] { (label) }
                                }
                            }
                        }
                        div.me {
                            form.inline method="post" action="/console/lang" {
                                @if l == Lang::Zh {
                                    button.link name="lang" value="en" { "English" }
                                } @else {
                                    button.link name="lang" value="zh" { "中文" }
                                }
                            }
                            @if let Some((name, csrf)) = self.user {
                                span { (name) }
                                form.inline method="post" action="/console/logout" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button.link { (l.t(Msg::OfficeSignOut)) }
                                }
                            }
                        }
                    }
                    main { (body) }
                }
            }
        };
        (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                // Pages show personal data: never cached, never framed, no outside resource.
                (header::CACHE_CONTROL, "no-store"),
            ],
            [
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; form-action 'self'",
                ),
                (header::X_FRAME_OPTIONS, "DENY"),
            ],
            markup,
        )
            .into_response()
    }
}

/// A page that only says something (an error, a refusal).
pub fn message(lang: Lang, status: StatusCode, text: &str) -> Response {
    Layout {
        lang,
        title: lang.t(Msg::OfficeNotice),
        active: "",
        user: None,
    }
    .render_status(
        status,
        html! {
            section.card {
                p.notice.bad { (text) }
                p { a href="/console/board" { (lang.t(Msg::OfficeBackToTheConsole)) } }
            }
        },
    )
}

pub fn login(lang: Lang, error: Option<&str>, phone: &str) -> Response {
    login_page(lang, StatusCode::OK, error, phone)
}

pub fn login_status(lang: Lang, status: StatusCode, error: &str, phone: &str) -> Response {
    login_page(lang, status, Some(error), phone)
}

fn login_page(lang: Lang, status: StatusCode, error: Option<&str>, phone: &str) -> Response {
    Layout {
        lang,
        title: lang.t(Msg::SignIn),
        active: "",
        user: None,
    }
    .render_status(
        status,
        html! {
            section.card.login {
                h1 { (lang.t(Msg::OfficeSignInToTheOffice)) }
                @if let Some(e) = error { p.notice.bad role="alert" { (e) } }
                form method="post" action="/console/login" {
                    label { (lang.t(Msg::PhoneNumber))
                        input type="tel" name="phone" value=(phone) autocomplete="username" required maxlength="32"; }
                    label { (lang.t(Msg::Password))
                        input type="password" name="password" autocomplete="current-password" required maxlength="256"; }
                    button.primary type="submit" { (lang.t(Msg::SignIn)) }
                }
            }
        },
    )
}

/// A status as a coloured badge: overdue red, open amber, closed grey.
pub fn badge(lang: Lang, v: Vocabulary, code: &str, overdue: bool) -> Markup {
    let class = if overdue {
        "badge overdue"
    } else if matches!(
        code,
        "closed" | "rejected_duplicate" | "confirmed" | "cancelled"
    ) {
        "badge done"
    } else {
        "badge open"
    };
    html! {
        span class=(class) { (word(lang, v, code)) }
        @if overdue { " " span.badge.overdue { (lang.t(Msg::OfficeOverdue)) } }
    }
}

/// An equirectangular projection of points `(lon, lat)` onto a `w` × `h` drawing with a 10-unit
/// margin, longitude shrunk by the latitude's cosine (metres east are not degrees). At a
/// community's size the distortion is nil.
pub struct Projection {
    x0: f64,
    y0: f64,
    k: f64,
    scale: f64,
    h: f64,
}

impl Projection {
    /// `None` when there is no point to fit.
    pub fn fit(points: impl Iterator<Item = (f64, f64)>, w: f64, h: f64) -> Option<Projection> {
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for (x, y) in points {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
        if x0 > x1 {
            return None;
        }
        let k = ((y0 + y1) / 2.0).to_radians().cos();
        let span = ((x1 - x0) * k).max(y1 - y0).max(1e-6);
        Some(Projection {
            x0,
            y0,
            k,
            scale: (w - 20.0).min(h - 20.0) / span,
            h,
        })
    }

    pub fn x(&self, lon: f64) -> f64 {
        10.0 + (lon - self.x0) * self.k * self.scale
    }

    pub fn y(&self, lat: f64) -> f64 {
        self.h - 10.0 - (lat - self.y0) * self.scale
    }

    /// A ring or line as SVG `points`.
    pub fn points(&self, ring: &[[f64; 2]]) -> String {
        ring.iter()
            .map(|p| format!("{:.1},{:.1}", self.x(p[0]), self.y(p[1])))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A grid as SVG shapes, under whatever a page marks on it: the outline, green and water, roads,
/// building footprints (or, with no base map, the buildings as dots) and building labels.
pub fn grid_drawing(p: &Projection, place: &crate::store::office::PlaceMap) -> Markup {
    html! {
        @for ring in &place.outline { polygon.grid points=(p.points(ring)) {} }
        @for ring in &place.green { polygon.green points=(p.points(ring)) {} }
        @for ring in &place.water { polygon.water points=(p.points(ring)) {} }
        @for line in &place.roads { polyline.road points=(p.points(line)) {} }
        @for ring in &place.footprints { polygon.footprint points=(p.points(ring)) {} }
        @if place.footprints.is_empty() {
            @for b in &place.buildings {
                circle.empty cx=(format!("{:.1}", p.x(b.2))) cy=(format!("{:.1}", p.y(b.3))) r="4" { title { (b.1) } }
            }
        }
        @for b in &place.buildings {
            text.label x=(format!("{:.1}", p.x(b.2))) y=(format!("{:.1}", p.y(b.3) - 6.0)) { (b.1) }
        }
    }
}

/// A value for a query string: at most 200 characters, percent-encoded.
pub fn encode(s: &str) -> String {
    s.chars()
        .take(200)
        .collect::<String>()
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The grid filter of a list: all the user's grids, or one.
pub fn grid_select(lang: Lang, names: &office::Names, chosen: Option<Uuid>) -> Markup {
    html! {
        select name="grid" {
            option value="" { (lang.t(Msg::OfficeAllGrids)) }
            @for (id, name) in &names.grids {
                option value=(id) selected[chosen == Some(*id)] { (name) }
            }
        }
    }
}

/// A filter over a closed set of codes, each shown in the user's words.
pub fn code_select(
    lang: Lang,
    name: &str,
    v: Vocabulary,
    chosen: Option<&str>,
    all: &'static str,
    extra: Option<(&str, &str)>,
) -> Markup {
    html! {
        select name=(name) {
            option value="" { (all) }
            @if let Some((code, label)) = extra {
                option value=(code) selected[chosen == Some(code)] { (label) }
            }
            @for code in v.codes() {
                option value=(code) selected[chosen == Some(code)] { (word(lang, v, code)) }
            }
        }
    }
}

/// The period and grid a page shows, its days filled in (the last 30 days unless chosen).
pub fn period_form(lang: Lang, q: &Params, action: &str, names: &office::Names) -> Markup {
    let cst = beijing();
    let day =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&cst).format("%Y-%m-%d").to_string();
    let (from, to) = match q.period() {
        Ok(p) => (
            Some(day(p.from)),
            Some(day(p.to - chrono::Duration::days(1))),
        ),
        Err(_) => (q.text("from"), q.text("to")),
    };
    html! {
        form.filters method="get" action=(action) {
            label { (lang.t(Msg::OfficeFrom)) input type="date" name="from" value=[from]; }
            label { (lang.t(Msg::OfficeTo)) input type="date" name="to" value=[to]; }
            (grid_select(lang, names, q.uuid("grid").ok().flatten()))
            button type="submit" { (lang.t(Msg::OfficeShow)) }
        }
    }
}

/// "12 in all, showing 1–10" with the links to the pages before and after.
pub fn pager(lang: Lang, q: &Params, base: &str, total: usize, offset: u32, limit: u32) -> Markup {
    let link = |offset: u32| {
        let mut pairs: Vec<(String, String)> =
            q.0.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "offset" | "ok" | "merged" | "refused"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
        pairs.sort();
        pairs.push(("offset".into(), offset.to_string()));
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("{base}?{}", query.join("&"))
    };
    let shown_to = (offset as usize + limit as usize).min(total);
    html! {
        p.pager {
            (lang.fill(Msg::OfficePagerRange, &[&total, &(if total == 0 { 0 } else { offset + 1 }), &shown_to]))
            @if offset > 0 {
                " " a href=(link(offset.saturating_sub(limit))) { (lang.t(Msg::OfficePrevious)) }
            }
            @if shown_to < total {
                " " a href=(link(offset + limit)) { (lang.t(Msg::OfficeNext)) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_escapes_what_users_typed() {
        let hostile = "<script>alert(1)</script>\"'";
        let out = html! { p title=(hostile) { (hostile) } }.into_string();
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("&lt;script&gt;"));
    }

    #[test]
    fn times_are_beijing_time() {
        let t = DateTime::parse_from_rfc3339("2026-11-30T16:30:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(when(t), "2026-12-01 00:30");
    }
}
