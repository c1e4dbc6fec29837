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
