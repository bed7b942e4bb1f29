//! kolla-ansible's `merge_yaml`: mappings merged recursively, later sources winning; lists are
//! replaced unless `extend_lists` asks for concatenation.

use serde_yaml::Value;

/// Merges `over` into `base`.
pub fn merge(base: &mut Value, over: Value, extend_lists: bool) {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v, extend_lists),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (Value::Sequence(b), Value::Sequence(o)) if extend_lists => b.extend(o),
        (b, o) => *b = o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_merge() {
        let mut a: Value = serde_yaml::from_str("a: {x: 1, l: [1]}\nb: 2\n").unwrap();
        merge(
            &mut a,
            serde_yaml::from_str("a: {y: 2, l: [2]}\n").unwrap(),
            false,
        );
        assert_eq!(
            a,
            serde_yaml::from_str::<Value>("a: {x: 1, y: 2, l: [2]}\nb: 2\n").unwrap()
        );
        merge(&mut a, serde_yaml::from_str("a: {l: [3]}\n").unwrap(), true);
        assert_eq!(
            a["a"]["l"],
            serde_yaml::from_str::<Value>("[2, 3]").unwrap()
        );
    }
}
