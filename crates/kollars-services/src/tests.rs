//! Loading a catalogue: dependencies, duplicate definitions, `after` checks.

use super::*;

fn catalogue(files: &[(&str, &str)]) -> Result<Catalogue, ServiceError> {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    Catalogue::load(dir.path())
}

#[test]
fn dependencies_are_after_or_every_lower_order() {
    let cat = catalogue(&[
        ("db.yml", "order: 10\n"),
        ("cache.yml", "order: 20\nafter: []\n"),
        ("api.yml", "order: 30\nafter: [db]\n"),
        ("ui.yml", "order: 40\n"),
    ])
    .unwrap();
    assert!(cat.dependencies("cache").is_empty());
    assert_eq!(cat.dependencies("api"), vec!["db"]);
    assert_eq!(cat.dependencies("ui"), vec!["db", "cache", "api"]);
    assert!(cat.dependencies("db").is_empty());
}

#[test]
fn a_second_definition_names_both_files() {
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[
                ("a.yml", "defaults:\n  x: 1\n"),
                ("b.yml", "defaults:\n  x: 2\n"),
            ],
            "variable \"x\"",
        ),
        (
            &[
                ("a.yml", "services:\n  s:\n    enabled: true\n"),
                ("b.yml", "services:\n  s:\n    enabled: true\n"),
            ],
            "service \"s\"",
        ),
        (
            &[
                ("a.yml", "defaults:\n  b_services: {}\n"),
                ("b.yml", "{}\n"),
            ],
            "variable \"b_services\"",
        ),
    ];
    for (files, what) in cases {
        let msg = catalogue(files).unwrap_err().to_string();
        assert!(
            msg.contains(what) && msg.contains("a.yml") && msg.contains("b.yml"),
            "{msg}"
        );
    }
}

#[test]
fn after_must_name_an_earlier_project() {
    let e = catalogue(&[("api.yml", "order: 30\nafter: [nosuch]\n")]).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("api.yml") && msg.contains("nosuch"), "{msg}");
    let e = catalogue(&[
        ("db.yml", "order: 50\n"),
        ("api.yml", "order: 30\nafter: [db]\n"),
    ])
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("api.yml") && msg.contains("order 50"), "{msg}");
}
