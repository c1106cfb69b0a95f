//! The grid drawn offline as an SVG: no tile server, no signal. The grid's base map (底图, imported
//! by the office and synced with the scope) gives building footprints, roads, water and green;
//! footprints are coloured by how many of their households were visited this month, and a
//! building without one is a dot at its entrance. Pan by dragging, zoom with the buttons or the
//! wheel: only the SVG's view box moves, the drawing is made once per render. WGS-84 is drawn as
//! is: the base map is WGS-84 too, so no GCJ-02 shift.

use crate::i18n::{Lang, Msg};
use dioxus::prelude::*;
use gridmate_device::BuildingRow;
use gridmate_model::basemap::Shape;
use gridmate_model::{BaseMap, BuildingId, GpsFix, Grid, MapFeatureKind};
use std::collections::HashMap;
use std::fmt::Write;

const WIDTH: f64 = 340.0;
const MAX_ZOOM: f64 = 8.0;

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

    /// An SVG path of rings (closed) or lines (open).
    fn path<'a>(
        &self,
        rings: impl Iterator<Item = &'a geo::LineString<f64>>,
        close: bool,
    ) -> String {
        let mut d = String::new();
        for ring in rings {
            for (i, c) in ring.coords().enumerate() {
                let (x, y) = self.xy(c.x, c.y);
                let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
            }
            if close {
                d.push('Z');
            }
        }
        d
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

/// One shape of the base map, ready to draw.
#[derive(Clone, PartialEq)]
struct Drawn {
    class: String,
    d: String,
    /// A footprint's label: its building's number, at its centre.
    label: Option<(f64, f64, String)>,
}

fn draw_base(
    frame: &Frame,
    base: &BaseMap,
    rows: &HashMap<BuildingId, &BuildingRow>,
    selected: Option<BuildingId>,
) -> Vec<Drawn> {
    use geo::Centroid;
    let mut out: Vec<(u8, Drawn)> = base
        .features
        .iter()
        .map(|f| {
            let (layer, class) = match f.kind {
                MapFeatureKind::Green => (0, "green".to_string()),
                MapFeatureKind::Water => (0, "water".to_string()),
                MapFeatureKind::Road => (1, "road".to_string()),
                MapFeatureKind::Building => {
                    let row = f.building_id.and_then(|b| rows.get(&b));
                    let mut class = format!(
                        "footprint {}",
                        row.map_or("dot-none", |r| coverage_class(r))
                    );
                    if selected.is_some() && f.building_id == selected {
                        class.push_str(" selected");
                    }
                    (2, class)
                }
            };
            let (d, label) = match &f.shape {
                Shape::Area(a) => {
                    let d = frame.path(
                        a.iter()
                            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors())),
                        true,
                    );
                    let label = f
                        .building_id
                        .and_then(|b| rows.get(&b))
                        .zip(a.centroid())
                        .map(|(r, c)| {
                            let (x, y) = frame.xy(c.x(), c.y());
                            (x, y, r.building.number.clone())
                        });
                    (d, label)
                }
                Shape::Line(l) => (frame.path(l.iter(), false), None),
            };
            (layer, Drawn { class, d, label })
        })
        .collect();
    out.sort_by_key(|(layer, _)| *layer);
    out.into_iter().map(|(_, d)| d).collect()
}

#[component]
pub fn GridMap(
    grid: Grid,
    buildings: Vec<BuildingRow>,
    lang: Lang,
    /// The grid's base map, when the office has imported one.
    #[props(default)]
    base: Option<BaseMap>,
    /// A building to highlight and centre on (the household being looked at).
    #[props(default)]
    selected: Option<BuildingId>,
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
    let focus = selected
        .and_then(|id| buildings.iter().find(|b| b.building.id == id))
        .map(|b| frame.xy(b.building.lon, b.building.lat));
    // (zoom, centre x, centre y) in canvas units; a selected building starts close up.
    let start = match focus {
        Some((x, y)) => (3.0, x, y),
        None => (1.0, WIDTH / 2.0, frame.height / 2.0),
    };
    let mut view = use_signal(|| start);
    let mut drag = use_signal(|| None::<(f64, f64)>);
    let (zoom, cx, cy) = view();
    let pad = 8.0;
    let (w, h) = (
        (WIDTH + 2.0 * pad) / zoom,
        (frame.height + 2.0 * pad) / zoom,
    );
    let view_box = format!("{:.1} {:.1} {w:.1} {h:.1}", cx - w / 2.0, cy - h / 2.0);
    let mut zoom_by = move |factor: f64| {
        let (z, x, y) = view();
        view.set(((z * factor).clamp(1.0, MAX_ZOOM), x, y));
    };

    let outline = frame.path(grid.boundary.iter().map(|p| p.exterior()), true);
    let rows: HashMap<BuildingId, &BuildingRow> =
        buildings.iter().map(|b| (b.building.id, b)).collect();
    let drawn = base
        .as_ref()
        .map(|b| draw_base(&frame, b, &rows, selected))
        .unwrap_or_default();
    let with_footprint: std::collections::HashSet<BuildingId> = base
        .iter()
        .flat_map(|b| b.features.iter().filter_map(|f| f.building_id))
        .collect();
    let track_points: String = track
        .iter()
        .map(|&(lat, lon)| {
            let (x, y) = frame.xy(lon, lat);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ");
    rsx! {
        div { class: "map-frame",
            svg {
                class: "grid-map",
                view_box: "{view_box}",
                role: "img",
                "aria-label": lang.t(Msg::HomeMap),
                onpointerdown: move |e| {
                    let p = e.element_coordinates();
                    drag.set(Some((p.x, p.y)));
                },
                onpointermove: move |e| {
                    if let Some((x0, y0)) = drag() {
                        let p = e.element_coordinates();
                        let (z, x, y) = view();
                        // A screen pixel is about a canvas unit at zoom 1 (the map is as wide
                        // as the phone's card).
                        view.set((z, x - (p.x - x0) / z, y - (p.y - y0) / z));
                        drag.set(Some((p.x, p.y)));
                    }
                },
                onpointerup: move |_| drag.set(None),
                onpointerleave: move |_| drag.set(None),
                onwheel: move |e| zoom_by(if e.delta().strip_units().y < 0.0 { 1.25 } else { 0.8 }),
                path { class: "boundary", d: "{outline}" }
                for s in drawn.iter() {
                    path { class: "{s.class}", d: "{s.d}" }
                }
                for s in drawn.iter() {
                    if let Some((x, y, n)) = &s.label {
                        text { class: "footprint-label", x: "{x:.1}", y: "{y + 3.0:.1}", "{n}" }
                    }
                }
                if track.len() > 1 {
                    polyline { class: "track", points: "{track_points}" }
                }
                for b in buildings.iter().filter(|b| !with_footprint.contains(&b.building.id)) {
                    {
                        let (x, y) = frame.xy(b.building.lon, b.building.lat);
                        let picked = if selected == Some(b.building.id) { " selected" } else { "" };
                        rsx! {
                            g { class: "building {coverage_class(b)}{picked}",
                                circle { cx: "{x:.1}", cy: "{y:.1}", r: "9" }
                                text { x: "{x:.1}", y: "{y + 3.5:.1}", "{b.building.number}" }
                            }
                        }
                    }
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
            }
            div { class: "map-controls",
                button { class: "map-zoom", "data-action": "zoom-in", "aria-label": lang.t(Msg::MapZoomIn),
                    disabled: zoom >= MAX_ZOOM, onclick: move |_| zoom_by(1.5), "+" }
                button { class: "map-zoom", "data-action": "zoom-out", "aria-label": lang.t(Msg::MapZoomOut),
                    disabled: zoom <= 1.0, onclick: move |_| zoom_by(1.0 / 1.5), "−" }
                button { class: "map-zoom", "data-action": "zoom-reset", "aria-label": lang.t(Msg::MapReset),
                    onclick: move |_| view.set(start), "⟲" }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screens::fixtures::{as_of, demo, demo_store, render};
    use gridmate_model::Role;

    fn grid_and_map() -> (Grid, Vec<BuildingRow>, BaseMap) {
        let (_dir, store) = demo_store(Role::GridWorker);
        let grid = demo().grids[0].clone();
        let rows = store.buildings(grid.id, as_of()).unwrap();
        let map = gridmate_demo::basemap::base_maps(&demo().grids, &demo().buildings)
            .into_iter()
            .find(|m| m.grid_id == grid.id)
            .unwrap();
        (grid, rows, map)
    }

    #[test]
    fn the_base_map_draws_footprints_roads_and_green_instead_of_dots() {
        let (grid, rows, map) = grid_and_map();
        for lang in [Lang::Zh, Lang::En] {
            let (g, r, m) = (grid.clone(), rows.clone(), map.clone());
            let html = render(
                move || rsx! { GridMap { grid: g.clone(), buildings: r.clone(), lang, base: Some(m.clone()) } },
            );
            assert_eq!(
                html.matches("class=\"footprint ").count(),
                rows.len(),
                "one footprint per building"
            );
            assert!(html.contains("class=\"road\"") && html.contains("class=\"green\""));
            assert_eq!(
                html.matches("<circle").count(),
                0,
                "no dots where footprints are"
            );
            for b in &rows {
                assert!(
                    html.contains(&format!(">{}</text>", b.building.number)),
                    "label {}",
                    b.building.number
                );
            }
            assert!(html.contains(lang.t(Msg::MapZoomIn)) && html.contains(lang.t(Msg::MapReset)));
            assert!(!html.contains(" selected"), "nothing picked out");
        }
    }

    #[test]
    fn a_selected_building_is_picked_out_and_the_map_starts_close_up_on_it() {
        let (grid, rows, map) = grid_and_map();
        let pick = rows[1].building.id;
        let (g, r, m) = (grid.clone(), rows.clone(), map.clone());
        let html = render(
            move || rsx! { GridMap { grid: g.clone(), buildings: r.clone(), lang: Lang::Zh, base: Some(m.clone()), selected: Some(pick) } },
        );
        assert_eq!(html.matches(" selected\"").count(), 1);
        let whole = render(
            move || rsx! { GridMap { grid: grid.clone(), buildings: rows.clone(), lang: Lang::Zh } },
        );
        let view_box = |h: &str| {
            let start = h.find("viewBox=\"").unwrap() + 9;
            h[start..].split('"').next().unwrap().to_string()
        };
        let width = |v: String| v.split(' ').nth(2).unwrap().parse::<f64>().unwrap();
        assert!(
            width(view_box(&html)) < width(view_box(&whole)) / 2.0,
            "zoomed in"
        );
    }

    #[test]
    fn without_a_base_map_buildings_are_dots() {
        let (grid, rows, _) = grid_and_map();
        let n = rows.len();
        let html = render(
            move || rsx! { GridMap { grid: grid.clone(), buildings: rows.clone(), lang: Lang::En } },
        );
        assert_eq!(html.matches("<circle").count(), n);
        assert!(!html.contains("footprint"));
    }
}
