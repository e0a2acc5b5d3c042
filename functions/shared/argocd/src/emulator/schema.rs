//! Request-body checks of the emulator, against the swagger definitions in
//! `schemas.json` (extracted from Argo CD's `assets/swagger.json` by
//! `tools/extract_schemas.py`, rewritten to the Go wire form).
//!
//! argocd-server decodes bodies with Go's `encoding/json`, so a value of the
//! wrong JSON type (a list where `syncOptions` wants `{"items": [...]}`, a
//! string where a bool goes) fails with `json: cannot unmarshal …` and gRPC
//! code InvalidArgument (HTTP 400); `null` is accepted anywhere. Unknown
//! fields are **ignored** by the real server; the emulator rejects them by
//! default ([`super::EmulatorConfig::reject_unknown_fields`]) so that a
//! client typo, which the real server would silently drop, fails a test.

use std::sync::OnceLock;

use serde_json::{Map, Value};

const SCHEMAS: &str = include_str!("schemas.json");

fn definitions() -> &'static Map<String, Value> {
    static DEFINITIONS: OnceLock<Map<String, Value>> = OnceLock::new();
    DEFINITIONS.get_or_init(|| {
        serde_json::from_str::<Value>(SCHEMAS)
            .ok()
            .and_then(|doc| doc.get("definitions").and_then(Value::as_object).cloned())
            .unwrap_or_default()
    })
}

/// Checks `value` against definition `name`. Returns the fields the real
/// server would ignore (when `strict` is off), or the Go-style error.
pub(crate) fn validate(name: &str, value: &Value, strict: bool) -> Result<Vec<String>, String> {
    let mut ignored = Vec::new();
    let schema = Value::Object(Map::from_iter([(
        "$ref".to_string(),
        Value::String(name.to_string()),
    )]));
    let mut checker = Checker {
        strict,
        ignored: &mut ignored,
    };
    checker.check(&schema, value, None)?;
    Ok(ignored)
}

struct Checker<'a> {
    strict: bool,
    ignored: &'a mut Vec<String>,
}

/// Where a value sits, as Go words it: `Struct.field.sub`.
type Place = Option<(String, String)>;

impl Checker<'_> {
    fn check(&mut self, schema: &Value, value: &Value, place: Place) -> Result<(), String> {
        if value.is_null() {
            return Ok(());
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            return self.check_definition(reference, value, place);
        }
        let kind = schema.get("type").and_then(Value::as_str).unwrap_or("any");
        let format = schema.get("format").and_then(Value::as_str);
        match kind {
            "string" if value.is_string() => Ok(()),
            "boolean" if value.is_boolean() => Ok(()),
            "integer" => check_integer(value, format, &place),
            "array" => {
                let items = value
                    .as_array()
                    .ok_or_else(|| mismatch(value, &place, &go_type(schema)))?;
                let item_schema = schema.get("items").cloned().unwrap_or(Value::Null);
                for item in items {
                    self.check(&item_schema, item, place.clone())?;
                }
                Ok(())
            }
            "object" => {
                let entries = value
                    .as_object()
                    .ok_or_else(|| mismatch(value, &place, &go_type(schema)))?;
                let entry_schema = schema
                    .get("additionalProperties")
                    .cloned()
                    .unwrap_or(Value::Null);
                for entry in entries.values() {
                    self.check(&entry_schema, entry, place.clone())?;
                }
                Ok(())
            }
            "any" => Ok(()),
            _ => Err(mismatch(value, &place, &go_type(schema))),
        }
    }

    fn check_definition(&mut self, name: &str, value: &Value, place: Place) -> Result<(), String> {
        let Some(definition) = definitions().get(name) else {
            return Ok(());
        };
        match definition.get("type").and_then(Value::as_str) {
            Some("any") => return Ok(()),
            Some("intOrString") => {
                return if value.is_string() || value.as_i64().is_some() {
                    Ok(())
                } else {
                    Err(mismatch(value, &place, "intstr.IntOrString"))
                };
            }
            _ => {}
        }
        let fields = value
            .as_object()
            .ok_or_else(|| mismatch(value, &place, &go_type_name(name)))?;
        let properties = definition
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let struct_name = go_type_name(name)
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_string();
        for (key, field) in fields {
            // encoding/json matches field names case-insensitively.
            let found = properties.get(key).map(|s| (key.clone(), s)).or_else(|| {
                properties
                    .iter()
                    .find(|(p, _)| p.eq_ignore_ascii_case(key))
                    .map(|(p, s)| (p.clone(), s))
            });
            let field_place = match &place {
                Some((root, path)) => (root.clone(), format!("{path}.{key}")),
                None => (struct_name.clone(), key.clone()),
            };
            match found {
                Some((exact, schema)) if exact == *key || !self.strict => {
                    self.check(schema, field, Some(field_place))?;
                }
                _ => {
                    let shown = format!("{}.{}", field_place.0, field_place.1);
                    if self.strict {
                        return Err(format!("json: unknown field \"{key}\" ({shown})"));
                    }
                    self.ignored.push(shown);
                }
            }
        }
        Ok(())
    }
}

fn check_integer(value: &Value, format: Option<&str>, place: &Place) -> Result<(), String> {
    let go = match format {
        Some("int32") => "int32",
        _ => "int64",
    };
    let ok = match value.as_i64() {
        Some(n) if go == "int32" => i32::try_from(n).is_ok(),
        Some(_) => true,
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(mismatch(value, place, go))
    }
}

/// Go's `UnmarshalTypeError` text.
fn mismatch(value: &Value, place: &Place, go: &str) -> String {
    let found = match value {
        Value::Null => "null".to_string(),
        Value::Bool(_) => "bool".to_string(),
        Value::Number(n) => format!("number {n}"),
        Value::String(_) => "string".to_string(),
        Value::Array(_) => "array".to_string(),
        Value::Object(_) => "object".to_string(),
    };
    match place {
        Some((root, path)) => {
            format!(
                "json: cannot unmarshal {found} into Go struct field {root}.{path} of type {go}"
            )
        }
        None => format!("json: cannot unmarshal {found} into Go value of type {go}"),
    }
}

fn go_type(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return go_type_name(reference);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => "string".to_string(),
        Some("boolean") => "bool".to_string(),
        Some("integer") => schema
            .get("format")
            .and_then(Value::as_str)
            .unwrap_or("int64")
            .to_string(),
        Some("array") => format!("[]{}", go_type(schema.get("items").unwrap_or(&Value::Null))),
        Some("object") => format!(
            "map[string]{}",
            go_type(schema.get("additionalProperties").unwrap_or(&Value::Null))
        ),
        _ => "interface {}".to_string(),
    }
}

/// `applicationSyncOptions` → `application.SyncOptions`.
fn go_type_name(definition: &str) -> String {
    for package in [
        "applicationv1alpha1",
        "application",
        "v1alpha1",
        "session",
        "intstr",
        "runtime",
    ] {
        if let Some(rest) = definition.strip_prefix(package)
            && rest.starts_with(|c: char| c.is_ascii_uppercase())
        {
            let package = if package == "applicationv1alpha1" {
                "v1alpha1"
            } else {
                package
            };
            return format!("{package}.{rest}");
        }
    }
    definition.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SYNC: &str = "applicationApplicationSyncRequest";

    #[test]
    fn schemas_load() {
        assert!(definitions().contains_key(SYNC));
        assert!(definitions().contains_key("v1alpha1ApplicationSpec"));
    }

    #[test]
    fn the_wire_form_passes() {
        let body = json!({"name":"guestbook","revision":"main","prune":false,"dryRun":false,
            "strategy":{"hook":{"force":false}},
            "resources":[{"group":"argoproj.io","kind":"Rollout","name":"guestbook","namespace":"staging"}],
            "syncOptions":{"items":["CreateNamespace=true","ApplyOutOfSyncOnly=true"]},
            "retryStrategy":{"limit":2,"backoff":{"duration":"5s","factor":2,"maxDuration":"3m"}},
            "sourcePositions":[1]});
        assert_eq!(validate(SYNC, &body, true), Ok(vec![]));
    }

    #[test]
    fn a_bare_sync_options_list_is_rejected_as_go_would() {
        let body = json!({"name":"a","syncOptions":["CreateNamespace=true"]});
        let err = validate(SYNC, &body, false).unwrap_err();
        assert_eq!(
            err,
            "json: cannot unmarshal array into Go struct field ApplicationSyncRequest.syncOptions of type application.SyncOptions"
        );
    }

    #[test]
    fn wrong_scalar_types_are_rejected() {
        let err = validate(SYNC, &json!({"prune": "true"}), false).unwrap_err();
        assert!(
            err.contains("string into Go struct field ApplicationSyncRequest.prune of type bool"),
            "{err}"
        );
        let err = validate(SYNC, &json!({"retryStrategy": {"limit": 1.5}}), false).unwrap_err();
        assert!(
            err.contains("number 1.5") && err.contains("retryStrategy.limit"),
            "{err}"
        );
        let err = validate(SYNC, &json!({"sourcePositions": ["1"]}), false).unwrap_err();
        assert!(err.contains("sourcePositions"), "{err}");
        let err = validate(SYNC, &json!([1]), false).unwrap_err();
        assert!(
            err.contains("Go value of type application.ApplicationSyncRequest"),
            "{err}"
        );
    }

    #[test]
    fn unknown_fields_are_ignored_or_refused() {
        let body = json!({"name": "a", "sync_options": {"items": []}, "DryRun": true});
        assert_eq!(
            validate(SYNC, &body, false),
            Ok(vec!["ApplicationSyncRequest.sync_options".to_string()])
        );
        let err = validate(SYNC, &body, true).unwrap_err();
        assert!(err.contains("unknown field"), "{err}");
    }

    #[test]
    fn swagger_hook_wrapper_is_not_the_wire_form() {
        let body = json!({"strategy": {"hook": {"syncStrategyApply": {"force": true}}}});
        assert!(validate(SYNC, &body, true).is_err());
        assert!(validate(SYNC, &json!({"strategy": {"hook": {"force": true}}}), true).is_ok());
    }

    #[test]
    fn application_spec() {
        let spec = json!({"project":"default",
            "source":{"repoURL":"r","helm":{"parameters":[{"name":"a","value":"1","forceString":true}],
                "valuesObject":{"any":["thing"]}},
                "kustomize":{"images":["a=b:1"],"replicas":[{"name":"d","count":2},{"name":"e","count":"3"}]}},
            "destination":{"server":"https://k","namespace":"n"},
            "syncPolicy":{"automated":{},"syncOptions":["CreateNamespace=true"]}});
        assert_eq!(validate("v1alpha1ApplicationSpec", &spec, true), Ok(vec![]));
        // Kustomize patch targets are flat (Go inlines ResId and Gvk).
        let patch = json!({"source":{"kustomize":{"patches":[{"patch":"p",
            "target":{"kind":"Deployment","group":"apps","name":"web","labelSelector":"a=b"}}]}}});
        assert_eq!(
            validate("v1alpha1ApplicationSpec", &patch, true),
            Ok(vec![])
        );
        let bad = json!({"source":{"helm":{"parameters":[{"name":"a","value":1}]}}});
        let err = validate("v1alpha1ApplicationSpec", &bad, true).unwrap_err();
        assert!(
            err.contains("ApplicationSpec.source.helm.parameters.value of type string"),
            "{err}"
        );
    }
}
