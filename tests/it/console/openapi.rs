//! The OpenAPI document describes itself: Gatehouse's name, what the API covers, and the release
//! that serves it; and it lists the console's routes, service deletion included.

#[test]
fn console_openapi_info_names_the_api_and_its_release() {
    let doc: serde_json::Value = serde_json::from_str(&gatehouse_web::api::openapi_json()).unwrap();
    let info = &doc["info"];
    assert_eq!(info["title"], "Gatehouse API");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    let description = info["description"].as_str().unwrap();
    for part in [
        "integrations",
        "organizations",
        "gatehouse.console",
        "problem JSON",
        "x-csrf-token",
    ] {
        assert!(
            description.contains(part),
            "the description does not mention {part}: {description}"
        );
    }
    assert!(doc["paths"]["/api/v1/services/{code}"]["delete"].is_object());
}

/// Every `/api/v1` route the web crate serves is in the OpenAPI document (the document itself
/// excepted), so a new operation cannot ship undocumented.
#[test]
fn every_api_v1_route_is_in_the_openapi_document() {
    let doc: serde_json::Value = serde_json::from_str(&gatehouse_web::api::openapi_json()).unwrap();
    let documented: std::collections::BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/web/src");
    let mut stack = vec![src];
    let mut served = std::collections::BTreeSet::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, _) in text.match_indices("\"/api/v1/") {
                let rest = &text[i + 1..];
                let route = &rest[..rest.find('"').unwrap()];
                // Only route registrations: the string follows `.route(`, possibly on the next line.
                let before = text[..i].trim_end();
                if before.ends_with(".route(") {
                    served.insert(route.to_owned());
                }
            }
        }
    }
    served.remove("/api/v1/openapi.json");
    assert!(served.len() > 30, "the scan found the routes: {served:?}");
    let missing: Vec<&String> = served.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "served under /api/v1 but not in the OpenAPI document: {missing:?}"
    );
}

#[test]
fn every_error_is_documented_as_problem_json_with_the_statuses_it_can_have() {
    let doc: serde_json::Value = serde_json::from_str(&gatehouse_web::api::openapi_json()).unwrap();
    let mut operations = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            operations += 1;
            let responses = op["responses"].as_object().unwrap();
            for (status, r) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = r["content"].as_object().unwrap();
                    assert!(
                        content.contains_key("application/problem+json") && !content.contains_key("application/json"),
                        "{method} {path} {status}: {content:?}"
                    );
                }
            }
            let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
            if secured {
                assert!(
                    responses.contains_key("401"),
                    "{method} {path} needs authentication: 401"
                );
            }
            if op.pointer("/requestBody/content/application~1json").is_some() {
                for status in ["400", "415", "422"] {
                    assert!(responses.contains_key(status), "{method} {path} takes JSON: {status}");
                }
            }
        }
    }
    assert!(operations > 50, "{operations}");
}

/// The document lists the allowed values of the API's enumerated fields and path segments, so a
/// client generated from it (or a contract tester) knows them without reading prose.
#[test]
fn allowed_values_are_enums_in_the_openapi_document() {
    let doc: serde_json::Value = serde_json::from_str(&gatehouse_web::api::openapi_json()).unwrap();
    // Follows `$ref`, `allOf`/`oneOf` wrappers and `items` to the schema that holds `enum`.
    fn values(doc: &serde_json::Value, schema: &serde_json::Value) -> Vec<String> {
        if let Some(r) = schema["$ref"].as_str() {
            return values(doc, doc.pointer(&r[1..]).unwrap());
        }
        if let Some(e) = schema["enum"].as_array() {
            return e.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
        }
        for key in ["oneOf", "allOf", "anyOf"] {
            if let Some(list) = schema[key].as_array() {
                let found: Vec<String> = list.iter().flat_map(|s| values(doc, s)).collect();
                if !found.is_empty() {
                    return found;
                }
            }
        }
        if schema["items"].is_object() {
            return values(doc, &schema["items"]);
        }
        Vec::new()
    }
    let property = |schema: &str, name: &str| {
        let s = &doc["components"]["schemas"][schema]["properties"][name];
        assert!(s.is_object(), "{schema}.{name} is not in the document");
        values(&doc, s)
    };
    let types = ["oauth", "server_to_server", "service_account", "api_key"];
    let roles = ["admin", "developer", "member"];
    for (schema, name, expected) in [
        ("CreateIntegration", "integration_type", &types[..]),
        ("IntegrationOut", "integration_type", &types[..]),
        ("CreateIntegration", "platform", &["web", "spa", "native"][..]),
        ("IntegrationOut", "status", &["active", "disabled"][..]),
        ("UpdateIntegration", "status", &["active", "disabled"][..]),
        ("ServiceIn", "allowed_types", &types[..]),
        ("ServiceOut", "allowed_types", &types[..]),
        ("ServiceIn", "acts_for", &["user", "organization"][..]),
        ("RoleChange", "role", &roles[..]),
        ("NewInvitation", "role", &roles[..]),
        ("MemberView", "role", &roles[..]),
        ("NewManagedAccount", "role", &roles[..]),
    ] {
        assert_eq!(property(schema, name), expected, "{schema}.{name}");
    }
    for (path, expected) in [
        (
            "/api/v1/operator/accounts/{account}/{action}",
            &["disable", "enable", "password-reset", "mfa-reset", "sign-out"][..],
        ),
        (
            "/api/v1/orgs/{org}/accounts/{account}/{action}",
            &["disable", "enable", "password-reset", "mfa-reset"][..],
        ),
    ] {
        let param = doc["paths"][path]["post"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "action")
            .unwrap();
        assert_eq!(values(&doc, &param["schema"]), expected, "{path}");
    }
    let outcome = doc["paths"]["/api/v1/events/registrations/{id}/attempts"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "outcome")
        .unwrap();
    assert_eq!(values(&doc, &outcome["schema"]), ["succeeded", "failed"]);
}

/// Every path parameter the document lists is in its path template, and every query parameter is
/// not (a query struct documented as path parameters would tell clients to build wrong URLs).
#[test]
fn parameters_are_documented_where_they_are_sent() {
    let doc: serde_json::Value = serde_json::from_str(&gatehouse_web::api::openapi_json()).unwrap();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let in_template = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    p["in"] == "path",
                    in_template,
                    "{method} {path}: parameter {name} is documented in {}",
                    p["in"]
                );
            }
        }
    }
}
