//! The grid drawn from its cached boundary polygon: an SVG, so it works with no tile server and
//! no signal. Buildings are dots coloured by how many of their households were visited this
//! month. WGS-84 is drawn as is: there is no base map to line up with, so no GCJ-02 shift.

use crate::i18n::{Lang, Msg};
use dioxus::prelude::*;
use gridmate_device::BuildingRow;
use gridmate_model::{GpsFix, Grid};

const WIDTH: f64 = 340.0;

/// Equirectangular projection of the grid's bounding box onto a `WIDTH`-wide canvas.
struct Frame {
    min_x: f64,
    max_y: f64,
    scale: f64,
    cos_lat: f64,
    height: f64,
}

impl Frame {
    fn of(grid: &Grid) -> Option<Frame> {
        let pts: Vec<(f64, f64)> = grid
            .boundary
            .iter()
            .flat_map(|p| p.exterior().coords().map(|c| (c.x, c.y)))
            .collect();
        let (min_x, max_x) = pts
            .iter()
            .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.0), a.1.max(p.0)));
        let (min_y, max_y) = pts
            .iter()
            .fold((f64::MAX, f64::MIN), |a, p| (a.0.min(p.1), a.1.max(p.1)));
        if pts.is_empty() || max_x <= min_x || max_y <= min_y {
            return None;
        }
        let cos_lat = ((min_y + max_y) / 2.0).to_radians().cos();
        let scale = WIDTH / ((max_x - min_x) * cos_lat);
        Some(Frame {
            min_x,
            max_y,
            scale,
            cos_lat,
            height: (max_y - min_y) * scale,
        })
    }

    fn xy(&self, lon: f64, lat: f64) -> (f64, f64) {
        (
            (lon - self.min_x) * self.cos_lat * self.scale,
            (self.max_y - lat) * self.scale,
        )
    }
}

fn coverage_class(b: &BuildingRow) -> &'static str {
    if b.households == 0 {
        return "dot-none";
    }
    match b.visited_this_month * 100 / b.households {
        80.. => "dot-good",
        40..80 => "dot-mid",
        _ => "dot-low",
    }
}

#[component]
pub fn GridMap(
    grid: Grid,
    buildings: Vec<BuildingRow>,
    lang: Lang,
    /// The phone's fix and its accuracy radius, drawn as "you are here".
    #[props(default)]
    here: Option<GpsFix>,
    /// A patrol's track, WGS-84 (lat, lon), drawn as a line.
    #[props(default)]
    track: Vec<(f64, f64)>,
) -> Element {
    let Some(frame) = Frame::of(&grid) else {
        return rsx! {};
    };
    let outline: Vec<String> = grid
        .boundary
        .iter()
        .map(|poly| {
            poly.exterior()
                .coords()
                .map(|c| {
                    let (x, y) = frame.xy(c.x, c.y);
                    format!("{x:.1},{y:.1}")
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let pad = 8.0;
    let view = format!(
        "{} {} {} {}",
        -pad,
        -pad,
        WIDTH + 2.0 * pad,
        frame.height + 2.0 * pad
    );
    let track_points: String = track
        .iter()
        .map(|&(lat, lon)| {
            let (x, y) = frame.xy(lon, lat);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ");
    rsx! {
        svg { class: "grid-map", view_box: "{view}", role: "img",
            for points in outline {
                polygon { class: "boundary", points: "{points}" }
            }
            if track.len() > 1 {
                polyline { class: "track", points: "{track_points}" }
            }
            if let Some(f) = here {
                {
                    let (x, y) = frame.xy(f.lon, f.lat);
                    // Metres to canvas units: the frame's scale is canvas units per degree.
                    let r = (f.accuracy_m / 111_320.0 * frame.scale).max(6.0);
                    rsx! {
                        g { class: "here",
                            circle { class: "accuracy", cx: "{x:.1}", cy: "{y:.1}", r: "{r:.1}" }
                            circle { class: "fix", cx: "{x:.1}", cy: "{y:.1}", r: "6" }
                        }
                    }
                }
            }
            for b in buildings.iter() {
                {
                    let (x, y) = frame.xy(b.building.lon, b.building.lat);
                    rsx! {
                        g { class: "building {coverage_class(b)}",
                            circle { cx: "{x:.1}", cy: "{y:.1}", r: "9" }
                            text { x: "{x:.1}", y: "{y + 3.5:.1}", "{b.building.number}" }
                        }
                    }
                }
            }
        }
        if !buildings.is_empty() {
            p { class: "legend",
                {lang.t(Msg::HomeLegend)}
                span { class: "key dot-good", "≥80%" }
                span { class: "key dot-mid", "40–80%" }
                span { class: "key dot-low", "<40%" }
            }
        }
    }
}
