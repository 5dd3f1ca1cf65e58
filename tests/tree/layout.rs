//! The shape of the code, held to what its comments promise: the data flows
//! one way, so no module of the library reaches back into another that
//! reaches it (no import cycle); the binaries keep their command line,
//! their loop and their exit status, and leave the logic to the library;
//! `unsafe` lives in `src/sys.rs` alone.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

/// A file's code before its unit tests.
fn code(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// The library's top-level modules that `code` names through `crate::`,
/// alone (`crate::log::Entry`) or in a group (`crate::{log, text}`).
fn uses(code: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let names = match rest.strip_prefix('{') {
            Some(group) => &group[..group.find('}').unwrap_or(group.len())],
            None => rest,
        };
        for name in names.split(',') {
            let word: String = name
                .trim()
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !word.is_empty() && word != "self" {
                used.insert(word);
            }
            if rest.starts_with('{') {
                continue;
            }
            break;
        }
    }
    used
}

/// Each top-level module of the library and the modules it uses, its test
/// fixtures left out.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = src();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in files(&src) {
        let relative = path.strip_prefix(&src).unwrap();
        let top = relative.iter().next().unwrap().to_string_lossy();
        let top = top.trim_end_matches(".rs").to_string();
        if top == "bin" || top == "lib" || path.ends_with("fixtures.rs") {
            continue;
        }
        let mut used = uses(&code(&path));
        used.remove(&top);
        graph.entry(top).or_default().extend(used);
    }
    graph
}

/// A cycle through `node`, if the graph has one reachable from it.
fn cycle(
    graph: &BTreeMap<String, BTreeSet<String>>,
    node: &str,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(at) = path.iter().position(|n| n == node) {
        let mut found = path[at..].to_vec();
        found.push(node.to_string());
        return Some(found);
    }
    if done.contains(node) {
        return None;
    }
    path.push(node.to_string());
    for next in graph.get(node).into_iter().flatten() {
        if let Some(found) = cycle(graph, next, path, done) {
            return Some(found);
        }
    }
    path.pop();
    done.insert(node.to_string());
    None
}

#[test]
fn the_modules_use_each_other_without_a_cycle() {
    let graph = graph();
    assert!(graph.len() > 15, "the library's modules: {graph:?}");
    assert!(
        graph["check"].contains("lookup") && graph["report"].contains("log"),
        "the uses are read: {graph:?}"
    );
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        let found = cycle(&graph, node, &mut Vec::new(), &mut done);
        assert_eq!(found, None, "an import cycle");
    }
}

#[test]
fn a_cycle_is_seen() {
    let graph: BTreeMap<String, BTreeSet<String>> =
        [("a", &["b"][..]), ("b", &["c"]), ("c", &["a"]), ("d", &[])]
            .into_iter()
            .map(|(n, uses)| (n.into(), uses.iter().map(|u| u.to_string()).collect()))
            .collect();
    let found = cycle(&graph, "a", &mut Vec::new(), &mut BTreeSet::new());
    assert_eq!(
        found,
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(
        uses("use crate::{error_str, sys::{self, Level}};\nuse crate::log::Entry;"),
        ["error_str", "log", "sys"].map(String::from).into()
    );
}

/// The binaries: options, the loop, the exit status. Each stays short, and
/// declares nothing for others to use.
#[test]
fn the_binaries_leave_the_logic_to_the_library() {
    for path in files(&src().join("bin")) {
        let code = code(&path);
        let lines = code.lines().filter(|l| !l.trim().is_empty()).count();
        assert!(lines <= 300, "{}: {lines} lines", path.display());
        assert!(
            !code.lines().any(|l| l.starts_with("pub ")),
            "{}: a binary exports nothing",
            path.display()
        );
    }
}

#[test]
fn unsafe_code_lives_in_sys_alone() {
    for path in files(&src()) {
        let code = code(&path);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let blocks = code.matches("unsafe {").count() + code.matches("unsafe fn").count();
        match name.as_str() {
            "sys.rs" => assert!(blocks > 5, "sys holds the C library calls"),
            // Its C main: reading argv (rmxsmtpd(8), NOTES).
            "rmxsmtpd.rs" => assert_eq!(blocks, 1, "{}", path.display()),
            _ => assert_eq!(blocks, 0, "{}: unsafe outside sys", path.display()),
        }
    }
    let lib = fs::read_to_string(src().join("lib.rs")).unwrap();
    assert!(lib.contains("#![deny(unsafe_code)]"));
}
