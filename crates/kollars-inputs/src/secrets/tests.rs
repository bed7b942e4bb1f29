use super::*;

fn masker() -> Masker {
    Masker::new(
        ["NEWdbpass1".to_string(), "NEWrabbit1".into(), "abc".into()],
        ["keystone_database_password".to_string(), "odd_one".into()],
    )
}

#[test]
fn masks_secrets_where_they_sit_whatever_their_value() {
    let m = masker();
    let cases = [
        // known values, anywhere (shorter than 4: left alone)
        ("x NEWdbpass1 y abc\n", "x ******** y abc\n"),
        // URLs' userinfo, each host of a list
        (
            "connection = mysql+pymysql://keystone:OLDpw@10.0.0.1:3306/keystone",
            "connection = mysql+pymysql://keystone:********@10.0.0.1:3306/keystone",
        ),
        (
            "transport_url = rabbit://openstack:P1@h1:5672,openstack:P2@h2:5672//",
            "transport_url = rabbit://openstack:********@h1:5672,openstack:********@h2:5672//",
        ),
        ("url = http://h1:5000/v3", "url = http://h1:5000/v3"),
        // INI, with a space in the value
        (
            "memcache_secret_key = OLD one",
            "memcache_secret_key = ********",
        ),
        ("-password = OLD", "-password = ********"),
        (" auth_type = password", " auth_type = password"),
        ("methods = password,token", "methods = password,token"),
        ("wsrep_sst_auth = root:OLD", "wsrep_sst_auth = ********"),
        (
            "keystone_admin_url = http://h",
            "keystone_admin_url = http://h",
        ),
        // YAML, shell, environment, JSON, Python
        ("  password: OLD", "  password: ********"),
        ("- odd_one: OLD", "- odd_one: ********"),
        (
            "export OS_PASSWORD='OLD pw'",
            "export OS_PASSWORD='********'",
        ),
        (
            "recreate (environment.X_PASSWORD: X_PASSWORD=OLD -> X_PASSWORD=NEW; image: a -> b)",
            "recreate (environment.X_PASSWORD: ******** -> X_PASSWORD=********; image: a -> b)",
        ),
        ("[KEY=OLD, OTHER=1]", "[KEY=********, OTHER=1]"),
        (
            r#"{"user": "u", "password": "O\"LD", "x": 1}"#,
            r#"{"user": "u", "password": "********", "x": 1}"#,
        ),
        ("'PASSWORD': 'OLD',", "'PASSWORD': '********',"),
        ("url: token=OLD", "url: token=********"),
        // a passwords.yml key, whatever its words
        (
            "keystone_database_password: OLD",
            "keystone_database_password: ********",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(m.mask(text), want, "{text}");
    }
}

#[test]
fn an_old_value_where_the_new_line_has_a_known_secret_is_masked() {
    let m = masker();
    assert_eq!(
        m.mask_changed(
            "stats auth openstack:OLDrabbit\n",
            "stats auth openstack:NEWrabbit1\n"
        ),
        (
            "stats auth openstack:********\n".to_string(),
            "stats auth openstack:********\n".to_string()
        )
    );
    // the part the old and new values share is masked too
    assert_eq!(
        m.mask_changed("x NEWdbpassX y", "x NEWdbpass1 y").0,
        "x ******** y"
    );
    // lines that changed elsewhere keep their text
    assert_eq!(
        m.mask_changed("a = 1 NEWdbpass1", "a = 2 NEWdbpass1").0,
        "a = 1 ********"
    );
}

#[test]
fn diffs_pair_removed_and_added_lines() {
    let m = masker();
    let diff = "--- /etc/kolla/haproxy/haproxy.cfg\n+++ /etc/kolla/haproxy/haproxy.cfg\n\
                @@ -1,3 +1,3 @@\n listen stats\n-  stats auth openstack:OLDrabbit\n\
                -  password = OLD2\n+  stats auth openstack:NEWrabbit1\n+  password = NEWdbpass1\n";
    let masked = m.mask_diff(diff);
    assert!(!masked.contains("OLD"), "{masked}");
    assert!(!masked.contains("NEW"), "{masked}");
    assert_eq!(
        masked.lines().collect::<Vec<_>>(),
        [
            "--- /etc/kolla/haproxy/haproxy.cfg",
            "+++ /etc/kolla/haproxy/haproxy.cfg",
            "@@ -1,3 +1,3 @@",
            " listen stats",
            "-  stats auth openstack:********",
            "-  password = ********",
            "+  stats auth openstack:********",
            "+  password = ********",
        ]
    );
}
