//! Prints the OpenAPI document of `/api/v1` generated from the handlers. Regenerate the
//! checked-in copy with: cargo run --example openapi > api/openapi.json
fn main() {
    print!("{}", gatehouse_web::api::openapi_json());
}
