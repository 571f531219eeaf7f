//! The site's values for the app chart are valid for the chart: merged over the chart's defaults
//! they pass `helm/uyoop-cal/values.schema.json` (strict: unknown keys are errors).

use serde_json::Value;

use crate::helpers::{example, repo};

fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o.clone(),
    }
}

#[test]
fn site_values_pass_the_chart_schema() {
    let chart = repo().join("helm/uyoop-cal");
    let schema_path = chart.join("values.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}): the app chart must ship its values schema",
            schema_path.display()
        )
    }))
    .unwrap();
    let mut values: Value =
        serde_norway::from_str(&std::fs::read_to_string(chart.join("values.yaml")).unwrap()).unwrap();
    let site = uyoop_install::render::kubernetes::app_values(&example());
    merge(&mut values, &site);
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&values)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "site values break the chart schema:\n{}",
        errors.join("\n")
    );
}
