//! The SQLite and PostgreSQL migrations are two spellings of one schema: the same files, and in
//! each the same statements once comments, white space and the type names that differ between
//! the engines are set aside. A column, constraint or index added to one backend only fails here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::Path;

/// Each engine's spelling of the same type, folded to one.
const SAME_TYPES: [(&str, &str); 4] = [
    ("BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY"),
    ("BIGINT", "INTEGER"),
    ("BYTEA", "BLOB"),
    ("DOUBLE PRECISION", "REAL"),
];

fn normalised(sql: &str) -> String {
    let without_comments: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut s = without_comments
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for (engine, common) in SAME_TYPES {
        s = s.replace(engine, common);
    }
    s.replace("( ", "(").replace(" )", ")")
}

fn migrations(backend: &str) -> BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

#[test]
fn both_backends_have_the_same_schema() {
    let sqlite = migrations("sqlite");
    let postgres = migrations("postgres");
    assert_eq!(
        sqlite.keys().collect::<Vec<_>>(),
        postgres.keys().collect::<Vec<_>>(),
        "the two backends must have the same migration files"
    );
    assert!(sqlite.len() >= 9);
    for (name, lite) in &sqlite {
        let (a, b) = (normalised(lite), normalised(&postgres[name]));
        if a != b {
            let at = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
            let near = |s: &str| {
                s.chars()
                    .skip(at.saturating_sub(60))
                    .take(160)
                    .collect::<String>()
            };
            panic!(
                "{name} differs between the backends:\n  sqlite:   …{}…\n  postgres: …{}…",
                near(&a),
                near(&b)
            );
        }
    }
}

#[test]
fn a_difference_is_caught() {
    let lite = "CREATE TABLE t (id INTEGER PRIMARY KEY, n BIGINT NOT NULL); -- note";
    let pg = "CREATE TABLE t (\n  id BIGSERIAL PRIMARY KEY,\n  n BIGINT NOT NULL\n);";
    assert_eq!(normalised(lite), normalised(pg));
    let pg_extra = "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, n BIGINT NOT NULL CHECK (n > 0));";
    assert_ne!(normalised(lite), normalised(pg_extra));
}
