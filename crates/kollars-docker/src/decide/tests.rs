//! kolla's `recreate_or_restart_container` choice, a row per rule, and the survey shortcut.

use std::collections::HashMap;

use bollard::models::ContainerStateStatusEnum;

use super::*;
use crate::desired::{CommonOptions, LABEL_CONFIG_HASH};
use crate::testing::{desired, facts, inspect_of, spec, IMAGE};

/// What the engine shows for a container created from the base spec with config `A`.
fn observed(state: ContainerStateStatusEnum, applied: Option<&str>) -> Observed {
    let mut container = inspect_of(&desired(&spec()), Some("A"));
    container.state.as_mut().unwrap().status = Some(state);
    Observed {
        container,
        images: facts(),
        applied_config: applied.map(str::to_owned),
    }
}

fn copy_once() -> DesiredContainer {
    let common = CommonOptions {
        config_strategy: "COPY_ONCE".into(),
        ..CommonOptions::default()
    };
    // the container was created under COPY_ONCE too: only the config differs
    DesiredContainer::resolve(&spec(), &common, "UTC").unwrap()
}

fn copy_once_observed(applied: &str) -> Observed {
    let d = copy_once();
    Observed {
        container: inspect_of(&d, Some(applied)),
        images: facts(),
        applied_config: Some(applied.to_owned()),
    }
}

fn config(current: &str, desired: &str) -> Difference {
    Difference::new("config", current, desired)
}

fn state(current: &str) -> Difference {
    Difference::new("state", current, "running")
}

#[test]
fn recreate_or_restart_rules() {
    use ContainerStateStatusEnum::*;
    let base = desired(&spec());
    let mut other = spec();
    other.privileged = true;
    let changed = desired(&other);
    let privileged = Difference::new("privileged", "false", "true");
    // (rule, desired, what the engine shows, wanted config hash, action)
    type Row<'a> = (
        &'a str,
        &'a DesiredContainer,
        Option<Observed>,
        Option<&'a str>,
        Action,
    );
    let table: Vec<Row> = vec![
        ("missing: create", &base, None, Some("A"), Action::Create),
        (
            "missing, no config hash: create",
            &base,
            None,
            None,
            Action::Create,
        ),
        (
            "current: nothing",
            &base,
            Some(observed(RUNNING, Some("A"))),
            Some("A"),
            Action::Nothing,
        ),
        (
            "a parameter differs: recreate, for it",
            &changed,
            Some(observed(RUNNING, Some("A"))),
            Some("A"),
            Action::Recreate {
                reasons: vec![privileged.clone()],
            },
        ),
        (
            "exited, otherwise current: start",
            &base,
            Some(observed(EXITED, Some("A"))),
            Some("A"),
            Action::Start,
        ),
        (
            "created, otherwise current: start",
            &base,
            Some(observed(CREATED, Some("A"))),
            Some("A"),
            Action::Start,
        ),
        (
            "paused: recreate, for the state",
            &base,
            Some(observed(PAUSED, Some("A"))),
            Some("A"),
            Action::Recreate {
                reasons: vec![state("paused")],
            },
        ),
        (
            "restarting: recreate",
            &base,
            Some(observed(RESTARTING, Some("A"))),
            Some("A"),
            Action::Recreate {
                reasons: vec![state("restarting")],
            },
        ),
        (
            "dead: recreate",
            &base,
            Some(observed(DEAD, Some("A"))),
            Some("A"),
            Action::Recreate {
                reasons: vec![state("dead")],
            },
        ),
        (
            "exited and a parameter differs: recreate, for the parameter only",
            &changed,
            Some(observed(EXITED, Some("A"))),
            Some("A"),
            Action::Recreate {
                reasons: vec![privileged.clone()],
            },
        ),
        (
            "only the config differs (COPY_ALWAYS): restart",
            &base,
            Some(observed(RUNNING, Some("A"))),
            Some("B"),
            Action::Restart {
                reason: config("A", "B"),
            },
        ),
        (
            "no config known: restart from none",
            &base,
            Some(observed(RUNNING, None)),
            Some("B"),
            Action::Restart {
                reason: config("none", "B"),
            },
        ),
        (
            "no config hash wanted: config not considered",
            &base,
            Some(observed(RUNNING, Some("A"))),
            None,
            Action::Nothing,
        ),
        (
            "exited and the config differs: start (which records the config)",
            &base,
            Some(observed(EXITED, Some("A"))),
            Some("B"),
            Action::Start,
        ),
        (
            "a parameter and the config differ (COPY_ALWAYS): recreate, for the parameter",
            &changed,
            Some(observed(RUNNING, Some("A"))),
            Some("B"),
            Action::Recreate {
                reasons: vec![privileged],
            },
        ),
    ];
    for (rule, d, o, hash, want) in table {
        assert_eq!(decide(d, o.as_ref(), hash), want, "{rule}");
    }

    // COPY_ONCE: the config is copied once per container, so a config change recreates
    let d = copy_once();
    assert_eq!(
        decide(&d, Some(&copy_once_observed("A")), Some("B")),
        Action::Recreate {
            reasons: vec![config("A", "B (COPY_ONCE)")]
        },
        "COPY_ONCE config change"
    );
    assert_eq!(
        decide(&d, Some(&copy_once_observed("A")), Some("A")),
        Action::Nothing,
        "COPY_ONCE, same config"
    );
}

#[test]
fn comparison_reports_state_and_config() {
    let base = desired(&spec());
    let missing = compare_container(&base, None, Some("A"));
    assert!(!missing.exists && missing.changed());
    let cmp = compare_container(
        &base,
        Some(&observed(ContainerStateStatusEnum::EXITED, Some("A"))),
        Some("B"),
    );
    assert!(cmp.exists && cmp.changed());
    assert_eq!(cmp.parameters, vec![]);
    assert_eq!(cmp.state, Some(state("exited")));
    assert_eq!(cmp.config, Some(config("A", "B")));
    let same = compare_container(
        &base,
        Some(&observed(ContainerStateStatusEnum::RUNNING, Some("A"))),
        Some("A"),
    );
    assert!(!same.changed(), "{same:?}");
}

#[test]
fn rewritten_config_files_restart_what_was_current() {
    let base = desired(&spec());
    let files = vec!["nova.conf".to_owned(), "config.json".to_owned()];
    let reason = Difference::new(
        "config files",
        "differed on the host",
        "nova.conf, config.json",
    );
    let table: Vec<(&str, &DesiredContainer, Action, &[String], Action)> = vec![
        (
            "nothing, files rewritten: restart",
            &base,
            Action::Nothing,
            &files,
            Action::Restart {
                reason: reason.clone(),
            },
        ),
        (
            "nothing, nothing rewritten: nothing",
            &base,
            Action::Nothing,
            &[],
            Action::Nothing,
        ),
        (
            "start already copies the config",
            &base,
            Action::Start,
            &files,
            Action::Start,
        ),
        (
            "create already copies the config",
            &base,
            Action::Create,
            &files,
            Action::Create,
        ),
    ];
    for (rule, d, action, files, want) in table {
        assert_eq!(after_rewrite(d, action, files), want, "{rule}");
    }
    assert_eq!(
        after_rewrite(&copy_once(), Action::Nothing, &files),
        Action::Recreate {
            reasons: vec![reason]
        },
        "COPY_ONCE: recreate"
    );
}

#[test]
fn survey_shortcut_rules() {
    let d = desired(&spec());
    let listed = || SurveyedContainer {
        id: "c0ffee000000aaaa".into(),
        image: IMAGE.into(),
        state: "running".into(),
        labels: HashMap::from([
            (LABEL_SPEC_HASH.to_owned(), d.spec_hash()),
            (LABEL_CONFIG_HASH.to_owned(), "A".to_owned()),
        ]),
    };
    type Change = Box<dyn Fn(&mut SurveyedContainer)>;
    // (rule, change to the listed container, applied config, wanted config, current)
    type Row<'a> = (&'a str, Change, Option<&'a str>, Option<&'a str>, bool);
    let table: Vec<Row> = vec![
        ("current", Box::new(|_| {}), Some("A"), Some("A"), true),
        ("no config wanted", Box::new(|_| {}), Some("Z"), None, true),
        (
            "another config",
            Box::new(|_| {}),
            Some("A"),
            Some("B"),
            false,
        ),
        ("no config known", Box::new(|_| {}), None, Some("A"), false),
        (
            "not running",
            Box::new(|c| c.state = "exited".into()),
            Some("A"),
            Some("A"),
            false,
        ),
        (
            "created from another spec",
            Box::new(|c| {
                c.labels.insert(LABEL_SPEC_HASH.into(), "older".into());
            }),
            Some("A"),
            Some("A"),
            false,
        ),
        (
            "no spec hash",
            Box::new(|c| {
                c.labels.remove(LABEL_SPEC_HASH);
            }),
            Some("A"),
            Some("A"),
            false,
        ),
        (
            "the tag moved: the listing shows the image ID",
            Box::new(|c| c.image = "sha256:2222".into()),
            Some("A"),
            Some("A"),
            false,
        ),
    ];
    for (rule, change, applied, want, current) in table {
        let mut c = listed();
        change(&mut c);
        assert_eq!(current_in_survey(&d, &c, applied, want), current, "{rule}");
    }
}

#[test]
fn a_survey_answers_from_its_records_then_the_label() {
    use crate::records::{ConfigRecords, Record};
    let d = desired(&spec());
    let c = SurveyedContainer {
        id: "c1".into(),
        image: IMAGE.into(),
        state: "running".into(),
        labels: HashMap::from([
            (LABEL_SPEC_HASH.to_owned(), d.spec_hash()),
            (LABEL_CONFIG_HASH.to_owned(), "A".to_owned()),
        ]),
    };
    let survey = |records: Vec<(String, Record)>| crate::Survey {
        containers: HashMap::from([(d.name.clone(), c.clone())]),
        records: ConfigRecords::from_pairs(records),
    };
    let record = |seq, hash: &str| {
        (
            "c1".to_owned(),
            Record {
                seq,
                volume: format!("kollars-cfg-c1-{seq}"),
                hash: hash.to_owned(),
            },
        )
    };
    let labelled = survey(vec![]);
    assert!(labelled.is_current(&d, Some("A")));
    assert!(!labelled.is_current(&d, Some("B")));
    let restarted = survey(vec![record(1, "B"), record(2, "C")]);
    assert!(restarted.is_current(&d, Some("C")));
    assert!(!restarted.is_current(&d, Some("A")));
    let mut other = spec();
    other.name = "someone_else".into();
    assert!(
        !restarted.is_current(&desired(&other), Some("C")),
        "not listed"
    );
}
