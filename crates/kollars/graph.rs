//! The project graph deploy follows, drawn: Graphviz `dot` text, or an SVG picture made
//! here (no Graphviz needed, nothing fetched), which the run's HTML page embeds too.
//!
//! Edges are the transitive reduction of the projects' dependencies: a project without
//! `after` waits for every project of a lower order, and drawing each of those waits would
//! bury the few that matter. A project is in column *n* when its longest chain of
//! dependencies has *n* projects.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Projects in deploy order with the projects each waits for.
pub type Edges = [(String, Vec<String>)];

/// The graph with only the direct waits (see the [module](self)); dependencies on projects
/// not in the graph are dropped.
pub fn reduce(graph: &Edges) -> Vec<(String, Vec<String>)> {
    let names: BTreeSet<&str> = graph.iter().map(|(p, _)| p.as_str()).collect();
    let deps: BTreeMap<&str, Vec<&str>> = graph
        .iter()
        .map(|(p, d)| {
            let d = d
                .iter()
                .map(String::as_str)
                .filter(|d| names.contains(d) && *d != p)
                .collect();
            (p.as_str(), d)
        })
        .collect();
    // everything each project waits for, directly or not
    fn reach<'a>(p: &'a str, deps: &BTreeMap<&'a str, Vec<&'a str>>, seen: &mut BTreeSet<&'a str>) {
        for d in deps.get(p).into_iter().flatten() {
            if seen.insert(d) {
                reach(d, deps, seen);
            }
        }
    }
    graph
        .iter()
        .map(|(p, _)| {
            let direct = &deps[p.as_str()];
            let kept = direct
                .iter()
                .filter(|d| {
                    !direct.iter().any(|other| {
                        let mut seen = BTreeSet::new();
                        other != *d && {
                            reach(other, &deps, &mut seen);
                            seen.contains(*d)
                        }
                    })
                })
                .map(|d| d.to_string())
                .collect();
            (p.clone(), kept)
        })
        .collect()
}

/// Graphviz `dot` text of the reduced graph; `highlight`ed projects (the critical path) in
/// bold red.
pub fn dot(graph: &Edges, highlight: &[String]) -> String {
    let mut out = String::from("digraph kollars {\n  rankdir=LR;\n  node [shape=box];\n");
    for (p, deps) in reduce(graph) {
        let hl = highlight.contains(&p);
        let style = if hl { " [color=red, penwidth=2]" } else { "" };
        let _ = writeln!(out, "  \"{p}\"{style};");
        for d in deps {
            let style = if hl && highlight.contains(&d) {
                " [color=red, penwidth=2]"
            } else {
                ""
            };
            let _ = writeln!(out, "  \"{d}\" -> \"{p}\"{style};");
        }
    }
    out.push_str("}\n");
    out
}

/// Escapes text for XML and HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const W: usize = 150;
const H: usize = 28;
const GAP_X: usize = 60;
const GAP_Y: usize = 14;

/// An SVG picture of the reduced graph, left to right; `highlight`ed projects and the edges
/// between them in red.
pub fn svg(graph: &Edges, highlight: &[String]) -> String {
    let reduced = reduce(graph);
    let mut column: BTreeMap<&str, usize> = BTreeMap::new();
    // deploy order lists dependencies first (a cycle is refused when the catalogue loads)
    for _ in 0..reduced.len() {
        for (p, deps) in &reduced {
            let c = deps
                .iter()
                .filter_map(|d| column.get(d.as_str()))
                .map(|c| c + 1)
                .max()
                .unwrap_or(0);
            column.insert(p, c);
        }
    }
    let mut rows: BTreeMap<usize, usize> = BTreeMap::new();
    let mut pos: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (p, _) in &reduced {
        let c = column[p.as_str()];
        let r = rows.entry(c).or_default();
        pos.insert(p, (c * (W + GAP_X) + 10, *r * (H + GAP_Y) + 10));
        *r += 1;
    }
    let width = rows.keys().max().map_or(0, |c| (c + 1) * (W + GAP_X)) + 20;
    let height = rows.values().max().map_or(0, |r| r * (H + GAP_Y)) + 20;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" \
         markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#777\"/></marker>\
         <marker id=\"arrow-hl\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" \
         markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#d62728\"/></marker></defs>\n"
    );
    for (p, deps) in &reduced {
        let (x2, y2) = pos[p.as_str()];
        for d in deps {
            let (x1, y1) = pos[d.as_str()];
            let hl = highlight.contains(p) && highlight.contains(d);
            let (stroke, marker, w) = match hl {
                true => ("#d62728", "arrow-hl", 2.5),
                false => ("#999", "arrow", 1.0),
            };
            let (sx, sy, ex, ey) = (x1 + W, y1 + H / 2, x2, y2 + H / 2);
            let mid = (sx + ex) / 2;
            let _ = writeln!(
                out,
                "<path d=\"M{sx},{sy} C{mid},{sy} {mid},{ey} {ex},{ey}\" fill=\"none\" \
                 stroke=\"{stroke}\" stroke-width=\"{w}\" marker-end=\"url(#{marker})\"/>"
            );
        }
    }
    for (p, _) in &reduced {
        let (x, y) = pos[p.as_str()];
        let hl = highlight.contains(p);
        let (fill, stroke) = match hl {
            true => ("#fde0dd", "#d62728"),
            false => ("#eef3fb", "#4a6fa5"),
        };
        let _ = writeln!(
            out,
            "<g class=\"project{}\"><rect x=\"{x}\" y=\"{y}\" width=\"{W}\" height=\"{H}\" rx=\"4\" \
             fill=\"{fill}\" stroke=\"{stroke}\"/><text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text></g>",
            if hl { " critical" } else { "" },
            x + W / 2,
            y + H / 2 + 4,
            esc(p)
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g() -> Vec<(String, Vec<String>)> {
        let e = |p: &str, d: &[&str]| (p.to_owned(), d.iter().map(|s| s.to_string()).collect());
        vec![
            e("mariadb", &[]),
            e("memcached", &[]),
            e("keystone", &["mariadb", "memcached"]),
            e("nova", &["mariadb", "keystone", "gone"]),
        ]
    }

    #[test]
    fn only_direct_waits_are_drawn() {
        let r = reduce(&g());
        assert_eq!(r[3], ("nova".to_owned(), vec!["keystone".to_owned()]));
        assert_eq!(r[2].1, ["mariadb", "memcached"]);
        let d = dot(&g(), &["mariadb".into(), "keystone".into()]);
        assert!(d.contains("\"keystone\" -> \"nova\";"), "{d}");
        assert!(d.contains("\"mariadb\" -> \"keystone\" [color=red"), "{d}");
        assert!(!d.contains("\"mariadb\" -> \"nova\""), "{d}");
    }

    #[test]
    fn the_svg_has_a_box_per_project_in_columns() {
        let s = svg(&g(), &["keystone".into()]);
        assert_eq!(s.matches("<rect").count(), 4);
        assert_eq!(s.matches("marker-end=").count(), 3);
        assert_eq!(s.matches("class=\"project critical\"").count(), 1);
        // nova is in the third column
        assert!(s.contains(&format!("<rect x=\"{}\"", 2 * (W + GAP_X) + 10)));
    }
}
