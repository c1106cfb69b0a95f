//! Every crate's modules form a graph with no circle, and the crates with layers (the app, the
//! server, the device store) import only downward (ARCHITECTURE.md, "Layers"). A module is a
//! file; an edge is a path in its shipped code (`crate::…`, `super::…`, `self::…`, or a child
//! module's name) resolved to the module it names. A parent that routes to its children and a
//! child that reaches back for the parent's helpers is a circle like any other: shared helpers
//! live in a module of their own. The test fails naming the circle or the forbidden edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;
type Graph = BTreeMap<String, BTreeSet<String>>;

fn name(m: &[String]) -> String {
    m.join("::")
}

/// Every module file under `src`: `a.rs` and `a/mod.rs` are `a`, `a/b.rs` is `a::b`; the crate
/// root (`lib.rs`, `main.rs`) is the empty path.
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    fn walk(dir: &Path, src: &Path, out: &mut BTreeMap<Module, PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, src, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let mut m: Module = p
                    .strip_prefix(src)
                    .unwrap()
                    .iter()
                    .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string())
                    .collect();
                if m.last().is_some_and(|l| l == "mod") {
                    m.pop();
                }
                if m == ["lib"] || m == ["main"] {
                    m.clear();
                }
                // A binary's own modules (`src/bin/…`) are not the library's.
                if m.first().is_some_and(|f| f == "bin") {
                    continue;
                }
                out.insert(m, p);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(src, src, &mut out);
    out
}

/// The code a module ships: its tests module (at the end, by convention) and comments cut off.
fn shipped_code(text: &str) -> String {
    let cut = text
        .match_indices("#[cfg(test)]")
        .find(|(i, _)| {
            let after = text[i + "#[cfg(test)]".len()..].trim_start();
            after.strip_prefix("mod ").is_some_and(|rest| {
                let rest = rest.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_');
                rest.trim_start().starts_with('{')
            })
        })
        .map_or(text.len(), |(i, _)| i);
    text[..cut]
        .lines()
        .map(|l| {
            // A `//` inside a string ("http://…") cuts the rest of that line; paths follow it
            // on the same line rarely enough not to matter.
            l.find("//").map_or(l, |i| &l[..i])
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths a `use` tree or an expression names, starting at `at`: `a::b`, `a::{b, c::d}`.
fn expand(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut prefix = String::new();
    let mut chars = code.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            prefix.push(c);
            chars.next();
        } else {
            break;
        }
    }
    if (prefix.is_empty() || prefix.ends_with("::")) && chars.peek() == Some(&'{') {
        chars.next();
        let mut depth = 1;
        let mut inner = String::new();
        for c in chars {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            inner.push(c);
        }
        let mut part = String::new();
        let mut depth = 0;
        for c in inner.chars().chain(std::iter::once(',')) {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    let p = part.trim();
                    if !p.is_empty() {
                        out.extend(expand(&format!("{prefix}{p}")));
                    }
                    part.clear();
                    continue;
                }
                _ => {}
            }
            part.push(c);
        }
    } else {
        out.push(prefix.trim_end_matches(':').to_string());
    }
    out
}

/// The deepest module `segments` names from `base`, if any segment names one.
fn resolve(
    mods: &BTreeMap<Module, PathBuf>,
    mut base: Module,
    segments: &[&str],
) -> Option<Module> {
    let mut named = false;
    for s in segments {
        let mut next = base.clone();
        next.push(s.to_string());
        if mods.contains_key(&next) {
            base = next;
            named = true;
        } else {
            break;
        }
    }
    named.then_some(base)
}

/// The modules a file declares for tests only (`#[cfg(test)] mod fixtures;`).
fn test_children(text: &str) -> Vec<String> {
    text.match_indices("#[cfg(test)]")
        .filter_map(|(i, _)| {
            let after = text[i + "#[cfg(test)]".len()..].trim_start();
            let after = after.strip_prefix("pub(crate) ").unwrap_or(after);
            let name: String = after
                .strip_prefix("mod ")?
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            after[4 + name.len()..].starts_with(';').then_some(name)
        })
        .collect()
}

/// The crate's module graph, by file.
fn graph(src: &Path) -> Graph {
    let mut mods = modules(src);
    // Modules compiled for tests only, and everything under them, ship nothing.
    let tests_only: Vec<Module> = mods
        .iter()
        .flat_map(|(m, file)| {
            test_children(&std::fs::read_to_string(file).unwrap())
                .into_iter()
                .map(move |c| {
                    let mut t = m.clone();
                    t.push(c);
                    t
                })
        })
        .collect();
    mods.retain(|m, _| !tests_only.iter().any(|t| m.starts_with(t)));
    let mut g = Graph::new();
    for (m, file) in &mods {
        if m.is_empty() {
            continue; // the crate root declares and re-exports; it is the top of every crate
        }
        // A parent's `pub use child::Item` is its façade, not a use of the child: dropped.
        let code: String = shipped_code(&std::fs::read_to_string(file).unwrap())
            .lines()
            .filter(|l| {
                let l = l.trim_start();
                !l.starts_with("pub use ") || l.contains("crate::") || l.contains("super::")
            })
            .collect::<Vec<_>>()
            .join("\n");
        let deps = g.entry(name(m)).or_default();
        let children: BTreeSet<&str> = mods
            .keys()
            .filter(|k| k.len() == m.len() + 1 && k.starts_with(m))
            .map(|k| k.last().unwrap().as_str())
            .collect();
        let bytes = code.as_bytes();
        for (i, _) in code.match_indices("::") {
            // The start of the path this `::` belongs to, if it is the path's first.
            let start = code[..i]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |j| j + 1);
            if start >= 2 && &code[start - 2..start] == "::" {
                continue;
            }
            if start > 0 && bytes[start - 1] == b'$' {
                continue; // `$crate::` in a macro
            }
            let head = &code[start..i];
            let base: Module = match head {
                "crate" => Vec::new(),
                "self" => m.clone(),
                "super" => {
                    // `super::super::…` climbs once per `super`.
                    let mut up = m.clone();
                    up.pop();
                    let mut rest = &code[i + 2..];
                    while let Some(r) = rest.strip_prefix("super::") {
                        up.pop();
                        rest = r;
                    }
                    up
                }
                child if children.contains(child) => m.clone(),
                _ => continue,
            };
            let from = if matches!(head, "crate" | "self" | "super") {
                i + 2
            } else {
                start
            };
            for path in expand(&code[from..]) {
                let segments: Vec<&str> = path
                    .split("::")
                    .filter(|s| !s.is_empty() && *s != "super" && *s != "self")
                    .collect();
                let target = resolve(&mods, base.clone(), &segments).unwrap_or(base.clone());
                // An item of the crate root (`crate::Result`) is no edge; an item of the
                // parent (`super::Helper`) is an edge to the parent.
                if target.is_empty() || &target == m || m.starts_with(&target) && head != "super" {
                    continue;
                }
                deps.insert(name(&target));
            }
        }
    }
    g
}

fn find_cycle(edges: &Graph) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &Graph,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|s| s == n) {
            let mut c = stack[at..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every crate of the workspace: the app at the root and each of `crates/`.
fn crates() -> Vec<(String, PathBuf)> {
    let mut out = vec![("gridmate (app)".to_string(), root().join("src"))];
    for e in std::fs::read_dir(root().join("crates")).unwrap() {
        let dir = e.unwrap().path();
        if dir.join("src").is_dir() {
            out.push((
                dir.file_name().unwrap().to_string_lossy().into_owned(),
                dir.join("src"),
            ));
        }
    }
    out.sort();
    out
}

/// The top-level module of a node: `console::board` → `console`.
fn top(node: &str) -> &str {
    node.split("::").next().unwrap()
}

/// Check that every edge between top-level modules goes strictly down `layers` (a module may
/// import its own top-level module's parts, and anything in a lower layer).
fn assert_layered(crate_name: &str, g: &Graph, layers: &[&[&str]]) {
    let layer_of = |n: &str| {
        layers
            .iter()
            .position(|l| l.contains(&top(n)))
            .unwrap_or_else(|| panic!("{crate_name}: module {n} is in no layer; add it to the test and to ARCHITECTURE.md"))
    };
    for (node, deps) in g {
        for d in deps {
            if top(node) == top(d) {
                continue;
            }
            assert!(
                layer_of(d) < layer_of(node),
                "{crate_name}: {node} imports {d}, which is not in a layer below it"
            );
        }
    }
}

#[test]
fn no_crate_has_an_import_circle() {
    let all = crates();
    assert!(all.len() >= 9, "{all:?}");
    let mut circles = Vec::new();
    for (krate, src) in all {
        // Every circle, not only the first: each found one is broken at its last edge and the
        // search goes on.
        let mut g = graph(&src);
        while let Some(cycle) = find_cycle(&g) {
            circles.push(format!("{krate}: {}", cycle.join(" → ")));
            let (from, to) = (&cycle[cycle.len() - 2], &cycle[cycle.len() - 1]);
            g.get_mut(from).unwrap().remove(to);
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

/// The test can fail: a crate planted with a circle through a parent and its child, and one
/// through two siblings, is caught.
#[test]
fn a_planted_circle_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("faces")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod faces;\npub mod rules;\n").unwrap();
    std::fs::write(
        src.join("faces/mod.rs"),
        "mod board;\npub fn router() { board::routes() }\npub fn layout() {}\n",
    )
    .unwrap();
    std::fs::write(
        src.join("faces/board.rs"),
        "use super::layout;\npub fn routes() { layout() }\n",
    )
    .unwrap();
    std::fs::write(src.join("rules.rs"), "pub fn r() {}\n").unwrap();
    let cycle = find_cycle(&graph(src)).expect("the parent ↔ child circle");
    assert_eq!(cycle.len(), 3, "{cycle:?}");

    // Helpers moved to a module of their own: no circle.
    std::fs::write(
        src.join("faces/mod.rs"),
        "mod board;\nmod frame;\npub fn router() { board::routes() }\n",
    )
    .unwrap();
    std::fs::write(src.join("faces/frame.rs"), "pub fn layout() {}\n").unwrap();
    std::fs::write(
        src.join("faces/board.rs"),
        "use super::frame::{layout};\n#[cfg(test)]\nmod tests { use crate::faces::router; }\npub fn routes() { layout() }\n",
    )
    .unwrap();
    let g = graph(src);
    assert_eq!(find_cycle(&g), None, "{g:#?}");
    assert!(g["faces::board"].contains("faces::frame"), "{g:#?}");

    // Two siblings through `crate::{…}` groups.
    std::fs::write(
        src.join("rules.rs"),
        "use crate::{faces::{self, router}};\npub fn r() { router() }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("faces/frame.rs"),
        "pub fn layout() { crate::rules::r() }\n",
    )
    .unwrap();
    let cycle = find_cycle(&graph(src)).expect("rules → faces → faces::frame → rules");
    assert!(cycle.contains(&"rules".to_string()), "{cycle:?}");
}

#[test]
fn the_server_is_layered() {
    let g = graph(&root().join("crates/server/src"));
    assert!(g.contains_key("app::commands") && g.contains_key("console::frame"));
    assert_layered(
        "server",
        &g,
        &[
            &["auth", "blobs", "body_limit", "logging", "metrics", "proxy"],
            &["store"],
            &["apply"],
            &["sqlite", "postgres"],
            &["database"],
            &["import", "ledger", "error", "reach"],
            &["demo"],
            &["app"],
            // The three faces: siblings, none imports another.
            &["api"],
            &["console"],
            &["resident"],
            &["openapi"],
            &["routes"],
        ],
    );
    let faces = ["api", "console", "resident"];
    for (from, to) in faces
        .iter()
        .flat_map(|a| faces.iter().filter(move |b| *b != a).map(move |b| (*a, *b)))
    {
        let crossing: Vec<_> = g
            .iter()
            .filter(|(n, _)| top(n) == from)
            .flat_map(|(n, d)| d.iter().filter(|d| top(d) == to).map(move |d| (n, d)))
            .collect();
        assert!(
            crossing.is_empty(),
            "one face imports the other: {crossing:?}"
        );
    }
}

#[test]
fn the_device_store_is_layered() {
    let g = graph(&root().join("crates/device/src"));
    assert_layered(
        "device",
        &g,
        &[
            &["time", "columns", "encryption", "migrate", "thread", "wake"],
            &["store", "due"],
            &["photos", "outbox", "search", "basemaps", "sync"],
            &["error"],
            &["writes", "queries"],
            &["callups", "commitments", "orders", "patrols", "reports"],
            &["cache"],
            &["residents", "replica", "ledger"],
        ],
    );
}

/// The app's own rule (ARCHITECTURE.md, "The app's modules"): only the shell names screens, and
/// the lower layers never import the ones above them.
#[test]
fn the_app_is_layered() {
    let g = graph(&root().join("src"));
    let screens: Vec<&String> = g
        .keys()
        .filter(|n| n.starts_with("screens::") && n.split("::").count() == 2)
        .collect();
    assert!(screens.len() >= 10, "{screens:?}");
    for (node, deps) in &g {
        for d in deps {
            let to_screen = top(d) == "screens";
            let within_a_screen = top(node) == "screens"
                && node.split("::").nth(1) == d.split("::").nth(1)
                || node == "screens" && d.split("::").count() == 2;
            assert!(
                !to_screen || top(node) == "shell" || within_a_screen,
                "{node} imports {d}: only the shell names screens"
            );
        }
    }
    assert_layered(
        "app",
        &g,
        &[
            &["i18n", "platform"],
            &["state"],
            &["widgets"],
            &["draft"],
            &["screens"],
            &["shell"],
        ],
    );
}
