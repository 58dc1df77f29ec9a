//! The example's `jwt` authorizer in the definition ferry deploys: a Lambda
//! REQUEST authorizer invoking the function's stage alias, cached 300 s on
//! the `Authorization` header, guarding `POST /items` and no other route.
//!
//! moto differences: `PutRestApi` ignores `components.securitySchemes` and
//! each operation's `security` (AWS imports them as the API's authorizers
//! and sets each method's `authorizationType` and `authorizerId`, per its
//! OpenAPI extensions reference), so moto's API has no authorizer and its
//! methods say `NONE`. The authorizer is checked here in the definition
//! ferry sends (the plan's `put_rest_api` action), and its function and
//! invoke permission through the SDK (`stage::check_stage`).

use serde_json::{json, Value};

/// The authorizer in the definition of a `plan --json`.
pub fn check_definition(plan: &Value, stage: &str) {
    let put = super::cors::put_rest_api(plan);
    let definition = &put["definition"];
    let scheme = &definition["components"]["securitySchemes"]["jwt"];
    assert_eq!(scheme["x-amazon-apigateway-authtype"], "custom", "{scheme}");
    let authorizer = &scheme["x-amazon-apigateway-authorizer"];
    assert_eq!(authorizer["type"], "request");
    assert_eq!(
        authorizer["identitySource"],
        "method.request.header.Authorization"
    );
    assert_eq!(authorizer["authorizerResultTtlInSeconds"], 300);
    assert!(authorizer["authorizerUri"]
        .as_str()
        .unwrap()
        .ends_with(&format!("function:items-{stage}-jwt:{stage}/invocations")));
    assert_eq!(
        definition["paths"]["/items"]["post"]["security"],
        json!([{"jwt": []}])
    );
    for (path, method) in [("/items", "get"), ("/items/{id}", "get")] {
        assert!(
            definition["paths"][path][method].get("security").is_none(),
            "{method} {path} is public"
        );
    }
    let summary = put["authorizers"].as_array().unwrap();
    assert_eq!(
        summary,
        &[json!(
            "authorizer jwt (lambda request, 300 s cache) on POST /items"
        )]
    );
}
