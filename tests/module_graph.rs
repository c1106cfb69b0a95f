//! The app's modules form a layered graph with no circle (ARCHITECTURE.md, "The app's
//! modules"): every `crate::…` path in a module's non-test code is an edge, each screen is a node
//! of its own, and the test fails naming the circle or the forbidden edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Node name of a source file: `state`, `widgets`, `screens::report`, …
fn node_of(path: &Path, src: &Path) -> String {
    let rel = path.strip_prefix(src).unwrap();
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    match parts.as_slice() {
        [screens, screen, ..] if screens == "screens" && screen != "mod" => {
            format!("screens::{screen}")
        }
        [top, ..] => top.clone(),
        [] => unreachable!(),
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let node = node_of(&f, &src);
        let test_only = f.ends_with("tests.rs");
        if node == "lib" || node == "main" || node == "screens::fixtures" || test_only {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        // Tests may reach anywhere (fixtures); the graph is about shipped code.
        let code = text.split("#[cfg(test)]").next().unwrap();
        let deps = edges.entry(node.clone()).or_default();
        for (i, _) in code.match_indices("crate::") {
            let path: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut segs = path.split("::").filter(|s| !s.is_empty());
            let Some(top) = segs.next() else { continue };
            if top.chars().next().is_some_and(char::is_uppercase) {
                continue; // crate::STYLE and other items of the crate root
            }
            let target = match (top, segs.next()) {
                ("screens", Some(s)) if s.chars().next().is_some_and(char::is_lowercase) => {
                    format!("screens::{s}")
                }
                (t, _) => t.to_string(),
            };
            if target != node {
                deps.insert(target);
            }
        }
    }
    edges
}

fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
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

#[test]
fn the_app_modules_have_no_import_circle() {
    let g = graph();
    assert!(g.contains_key("state") && g.contains_key("shell") && g.contains_key("screens::visit"));
    if let Some(cycle) = find_cycle(&g) {
        panic!("import circle: {}\ngraph: {g:#?}", cycle.join(" → "));
    }
}

#[test]
fn layers_point_one_way() {
    let g = graph();
    let screens: Vec<&String> = g.keys().filter(|n| n.starts_with("screens::")).collect();
    assert!(screens.len() >= 10, "{screens:?}");
    for (node, deps) in &g {
        for d in deps {
            let to_screen = d.starts_with("screens");
            assert!(
                !(to_screen && node != "shell"),
                "{node} imports {d}: only the shell names screens"
            );
            let upward = match node.as_str() {
                "i18n" | "platform" => !matches!(d.as_str(), "i18n" | "platform"),
                "state" => !matches!(d.as_str(), "i18n" | "platform"),
                "widgets" => !matches!(d.as_str(), "i18n" | "platform" | "state"),
                "draft" => !matches!(d.as_str(), "i18n" | "platform" | "state" | "widgets"),
                _ => false,
            };
            assert!(!upward, "{node} imports {d}, a layer above it");
        }
    }
}
