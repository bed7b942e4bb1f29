use super::*;
use serde_json::json;

#[test]
fn kolla_service_dict_deserializes() {
    let v = json!({
        "container_name": "nova_api",
        "group": "nova-api",
        "enabled": true,
        "image": "quay.io/openstack.kolla/nova-api:master",
        "privileged": "True",
        "volumes": ["/etc/kolla/nova-api/:/var/lib/kolla/config_files/:ro", "", "kolla_logs:/var/log/kolla/"],
        "environment": {"A": null, "B": 1, "C": true},
        "dimensions": {"mem_limit": "1g", "ulimits": {"nofile": {"soft": "1024", "hard": 2048}}, "kernel_memory": "1g"},
        "healthcheck": {"interval": "30", "retries": 3, "start_period": 5, "timeout": "30",
                        "test": "['CMD-SHELL', 'healthcheck_curl http://x:8774']"},
        "haproxy": {"nova_api": {"enabled": true}},
    });
    let s: ContainerSpec = serde_json::from_value(v).unwrap();
    assert_eq!(s.name, "nova_api");
    assert!(s.privileged);
    assert_eq!(s.volumes.len(), 3);
    assert_eq!(s.parsed_volumes().unwrap().len(), 2);
    assert_eq!(s.environment["A"], "");
    assert_eq!(s.environment["B"], "1");
    assert_eq!(s.environment["C"], "True");
    assert_eq!(s.dimensions.mem_limit, Some(1 << 30));
    assert_eq!(
        s.dimensions.ulimits["nofile"],
        Ulimit {
            soft: 1024,
            hard: 2048
        }
    );
    let hc = s.healthcheck.unwrap();
    assert_eq!(hc.interval, 30);
    assert_eq!(
        hc.test,
        HealthTest::Command(vec![
            "CMD-SHELL".into(),
            "healthcheck_curl http://x:8774".into()
        ])
    );
}

#[test]
fn healthcheck_rules() {
    let none =
        json!({"interval": 1, "retries": 1, "start_period": 1, "timeout": 1, "test": "NONE"});
    assert_eq!(
        Healthcheck::from_value(&none).unwrap().unwrap().test,
        HealthTest::None
    );
    let plain =
        json!({"interval": 1, "retries": 1, "start_period": 1, "timeout": 1, "test": "true"});
    assert_eq!(
        Healthcheck::from_value(&plain).unwrap().unwrap().test,
        HealthTest::Command(vec!["CMD-SHELL".into(), "true".into()])
    );
    let missing = json!({"interval": 1, "retries": 1, "test": "x"});
    assert!(Healthcheck::from_value(&missing)
        .unwrap_err()
        .contains("missing"));
    let extra = json!({"interval": 1, "retries": 1, "start_period": 1, "timeout": 1, "test": "x", "foo": 1});
    assert!(Healthcheck::from_value(&extra)
        .unwrap_err()
        .contains("unsupported"));
    assert_eq!(Healthcheck::from_value(&json!({})).unwrap(), None);
}

#[test]
fn dimensions_reject_unknown_keys_and_parse_units() {
    assert!(Dimensions::from_value(&json!({"bogus": 1})).is_err());
    let d = Dimensions::from_value(
        &json!({"mem_reservation": "512m", "memswap_limit": "2048k", "cpu_shares": "512"}),
    )
    .unwrap();
    assert_eq!(d.mem_reservation, Some(512 << 20));
    assert_eq!(d.memswap_limit, Some(2048 << 10));
    assert_eq!(d.cpu_shares, Some(512));
}

#[test]
fn volumes_parse_like_generate_volumes() {
    assert_eq!(
        Volume::parse("kolla_logs:/var/log/kolla/")
            .unwrap()
            .bind()
            .unwrap(),
        "kolla_logs:/var/log/kolla/:rw"
    );
    let v = Volume::parse("/run:/run:shared").unwrap();
    assert_eq!(v.named(), None);
    assert_eq!(v.bind().unwrap(), "/run:/run:shared");
    assert_eq!(
        Volume::parse("mariadb:/var/lib/mysql").unwrap().named(),
        Some("mariadb")
    );
    assert_eq!(
        Volume::parse("/data").unwrap(),
        Volume::Anonymous {
            dst: "/data".into()
        }
    );
    assert!(Volume::parse("a:b:c:d").is_err());
}

#[test]
fn literal_list_parser() {
    assert_eq!(
        parse_literal_list(r#"["CMD", 'a b', "c\"d"]"#).unwrap(),
        vec!["CMD", "a b", "c\"d"]
    );
    assert!(parse_literal_list("[CMD]").is_none());
}

#[test]
fn restart_policy_parses_kollas_choices_only() {
    for (name, policy) in RestartPolicy::ALL {
        assert_eq!(name.parse::<RestartPolicy>(), Ok(policy));
        assert_eq!(RestartPolicy::parse(name), Ok(policy));
        assert_eq!(policy.to_string(), name);
        // the same names as a service dict's `restart_policy`
        let de: RestartPolicy = serde_json::from_value(json!(name)).unwrap();
        assert_eq!(de, policy);
    }
    for bad in ["sometimes", "", "Always", "unless_stopped", " no"] {
        let err = RestartPolicy::parse(bad).unwrap_err();
        assert_eq!(err.value, bad);
        let msg = err.to_string();
        assert!(msg.contains(&format!("`{bad}`")), "{msg}");
        for allowed in ["no", "on-failure", "oneshot", "always", "unless-stopped"] {
            assert!(msg.contains(allowed), "{allowed} missing from: {msg}");
        }
    }
}
