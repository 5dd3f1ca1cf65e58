//! `tests/decide.table`, read once for the two tests that hold `decide` to
//! it: the table test beside `decide` in `src/verdict.rs`, and the decide
//! property in `tests/properties.rs`.

use std::collections::HashMap;

/// The values each of the first five columns may take: the result, `-b`,
/// `-c`, what a network with no list gets, and whether the list was cut.
pub const COLUMNS: [&[&str]; 5] = [
    &["pass", "fail", "none", "temperror", "skip"],
    &[".", "-b"],
    &[".", "-c"],
    &["accept", "-s", "-d:before", "-d:on", "-d:after"],
    &[".", "cut"],
];

/// The client the table's reply lines name.
pub const CLIENT: &str = "198.51.100.10";

/// The reply line (or `accept`) for each combination, keyed by the first
/// five columns. Panics unless every combination is there exactly once.
pub fn read() -> HashMap<[&'static str; 5], &'static str> {
    let mut table = HashMap::new();
    let rows = include_str!("../decide.table")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'));
    for line in rows {
        let mut rest = line;
        let key = [(); 5].map(|()| {
            let word = rest.trim_start();
            let end = word.find(' ').expect("six columns");
            rest = &word[end..];
            &word[..end]
        });
        for (value, allowed) in key.iter().zip(COLUMNS) {
            assert!(allowed.contains(value), "{value:?} in {line:?}");
        }
        assert!(table.insert(key, rest.trim()).is_none(), "{line:?} twice");
    }
    let product: usize = COLUMNS.iter().map(|c| c.len()).product();
    assert_eq!(table.len(), product, "one row for every combination");
    table
}
