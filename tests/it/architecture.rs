//! The structure docs/design.md describes, checked: the web crate's top-level modules import each
//! other without cycles, the core knows nothing of HTTP, the web crate sends no mail and makes no
//! outbound requests but the gateway's, and a node builds exactly one token service.

// Helpers fail the test loudly when the sources cannot be read.
#![allow(clippy::unwrap_used)]

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The source without line comments and without a trailing `#[cfg(test)] mod tests`.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text,
    };
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crate-level names a file refers to: `crate::x` and the first names of `use crate::{x, y::z}`.
fn crate_names(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for ch in group.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.insert(item.trim().split("::").next().unwrap_or("").to_owned());
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(ch);
                }
            }
            names.insert(item.trim().split("::").next().unwrap_or("").to_owned());
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            names.insert(name);
        }
    }
    names
}

#[test]
fn the_web_crates_top_level_modules_import_each_other_without_cycles() {
    let src = root().join("crates/web/src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut tops = BTreeSet::new();
    for file in rust_files(&src) {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if top == "lib" {
            continue;
        }
        tops.insert(top.clone());
        graph.entry(top).or_default().extend(crate_names(&code_of(&file)));
    }
    for deps in graph.values_mut() {
        deps.retain(|d| tops.contains(d));
    }
    fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str, seen: &mut BTreeSet<String>) -> bool {
        if from == to {
            return true;
        }
        for next in graph.get(from).into_iter().flatten() {
            if seen.insert(next.clone()) && reaches(graph, next, to, seen) {
                return true;
            }
        }
        false
    }
    let mut cycles = Vec::new();
    for (module, deps) in &graph {
        for dep in deps {
            if dep != module && reaches(&graph, dep, module, &mut BTreeSet::new()) {
                cycles.push(format!("{module} -> {dep} -> … -> {module}"));
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles between top-level web modules: {cycles:#?}"
    );
    assert!(graph.len() > 10, "the walk found the modules: {:?}", graph.keys());
}

fn dependencies(manifest: &str) -> String {
    let text = std::fs::read_to_string(root().join(manifest)).unwrap();
    let start = text.find("[dependencies]").unwrap();
    let rest = &text[start..];
    let end = rest[1..].find("\n[").map_or(rest.len(), |i| i + 1);
    rest[..end].to_owned()
}

#[test]
fn the_core_knows_no_http_and_the_web_crate_sends_no_mail_nor_outbound_requests() {
    let core = dependencies("crates/core/Cargo.toml");
    for http in ["axum", "tower", "hyper", "\nhttp "] {
        assert!(!core.contains(http), "gatehouse-core depends on {http}");
    }
    let web = dependencies("crates/web/Cargo.toml");
    for runtime in ["lettre", "reqwest"] {
        assert!(!web.contains(runtime), "gatehouse-web depends on {runtime}");
    }
    // The gateway's client to upstreams is the web crate's only outbound traffic.
    let outbound: Vec<String> = rust_files(&root().join("crates/web/src"))
        .into_iter()
        .filter(|f| {
            let code = code_of(f);
            code.contains("hyper_util") || code.contains("hyper_rustls") || code.contains("hyper::client")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert_eq!(outbound.len(), 1, "{outbound:?}");
    assert!(outbound[0].ends_with("crates/web/src/gateway.rs"), "{outbound:?}");
}

#[test]
fn a_node_builds_exactly_one_token_service() {
    let calls: Vec<String> = ["crates/core/src", "crates/web/src", "crates/app/src"]
        .iter()
        .flat_map(|d| rust_files(&root().join(d)))
        .filter(|f| code_of(f).contains("TokenService::new("))
        .map(|f| f.display().to_string())
        .collect();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].ends_with("crates/core/src/lib.rs"), "{calls:?}");
}
