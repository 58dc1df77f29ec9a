//! Reads back the test stage's CORS from moto: an `OPTIONS` method with a
//! mock integration on every path, answering with that path's methods and
//! the stage's headers, and reflecting only listed origins.
//!
//! moto differences: `PutRestApi` ignores
//! `x-amazon-apigateway-gateway-responses` in the body (AWS imports them,
//! per its OpenAPI extensions reference), so the gateway responses are
//! checked in the definition ferry sends (the plan's `put_rest_api`
//! action); and it fails with a 500 on a mock integration without a `uri`
//! (AWS's documented preflight has none), which is one reason ferry writes
//! the preflights with `PutMethod`/`PutIntegration*` instead.

use serde_json::Value;

use super::stage::resource_id;
use super::Readback;

/// The listed origins of the example's test stage.
pub const ORIGINS: [&str; 2] = ["http://localhost:3000", "https://items.example.com"];

pub async fn check_preflights(aws: &Readback, api_id: &str) {
    let expected = [
        ("/items", "GET,OPTIONS,POST", false),
        ("/items/{id}", "GET,OPTIONS", false),
        (
            "/echo/{proxy+}",
            "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT",
            true,
        ),
    ];
    for (path, methods, any_origin) in expected {
        let id = resource_id(aws, api_id, path)
            .await
            .unwrap_or_else(|| panic!("no resource {path}"));
        let integration = aws
            .apigw
            .get_integration()
            .rest_api_id(api_id)
            .resource_id(&id)
            .http_method("OPTIONS")
            .send()
            .await
            .unwrap_or_else(|e| panic!("OPTIONS {path}: {e:?}"));
        assert_eq!(
            integration
                .r#type()
                .map(|t| t.as_str().to_ascii_uppercase()),
            Some("MOCK".to_owned()),
            "{path}"
        );
        let response = integration_response(aws, api_id, &id)
            .await
            .unwrap_or_else(|e| panic!("OPTIONS {path} 200: {e:?}"));
        let params = response.response_parameters().unwrap();
        let header = |name: &str| {
            params
                .get(&format!("method.response.header.{name}"))
                .cloned()
        };
        assert_eq!(
            header("Access-Control-Allow-Methods"),
            Some(format!("'{methods}'")),
            "{path}"
        );
        assert_eq!(header("Access-Control-Max-Age").as_deref(), Some("'300'"));
        let template = response
            .response_templates()
            .and_then(|t| t.get("application/json"))
            .cloned()
            .unwrap_or_default();
        if any_origin {
            assert_eq!(
                header("Access-Control-Allow-Origin").as_deref(),
                Some("'*'")
            );
            assert_eq!(header("Access-Control-Allow-Credentials"), None);
        } else {
            assert_eq!(
                header("Access-Control-Allow-Origin"),
                None,
                "{path}: the origin is chosen by the template"
            );
            assert_eq!(
                header("Access-Control-Allow-Credentials").as_deref(),
                Some("'true'")
            );
            for origin in ORIGINS {
                assert!(
                    template.contains(&format!("$origin == \"{origin}\"")),
                    "{path}: {template}"
                );
            }
        }
    }
}

/// The gateway responses of the definition in a `plan --json`.
pub fn check_gateway_responses(plan: &Value) {
    let put = put_rest_api(plan);
    let responses = &put["definition"]["x-amazon-apigateway-gateway-responses"];
    for kind in [
        "DEFAULT_4XX",
        "DEFAULT_5XX",
        "MISSING_AUTHENTICATION_TOKEN",
        "UNAUTHORIZED",
        "ACCESS_DENIED",
    ] {
        let params = &responses[kind]["responseParameters"];
        assert_eq!(
            params["gatewayresponse.header.Access-Control-Allow-Origin"],
            "method.request.header.Origin",
            "{kind}: two origins can only be reflected"
        );
        assert_eq!(params["gatewayresponse.header.Vary"], "'Origin'");
        assert_eq!(
            params["gatewayresponse.header.Access-Control-Allow-Credentials"],
            "'true'"
        );
    }
    assert!(
        put["cors"]
            .as_str()
            .unwrap()
            .starts_with("CORS on 3 paths for"),
        "{put}"
    );
}

/// The functions' `FERRY_CORS`: each gets the policy of its own paths.
pub async fn check_function_env(aws: &Readback) {
    let env = |f: aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput| {
        let text = f
            .environment()
            .and_then(|e| e.variables())
            .and_then(|v| v.get("FERRY_CORS"))
            .cloned()
            .expect("FERRY_CORS is set");
        serde_json::from_str::<Value>(&text).unwrap()
    };
    let read = |name: &str| {
        aws.lambda
            .get_function_configuration()
            .function_name(name)
            .send()
    };
    let list = env(read("items-test-list-items").await.unwrap());
    assert_eq!(
        list,
        serde_json::json!({"/items": {"origins": ORIGINS, "credentials": true, "expose": ["ETag"]}})
    );
    let echo = env(read("items-test-echo").await.unwrap());
    assert_eq!(echo["/echo/{proxy+}"]["origins"], serde_json::json!(["*"]));
}

/// The `Access-Control-Allow-Methods` literal of `path`'s preflight.
pub async fn allowed_methods(aws: &Readback, api_id: &str, path: &str) -> Option<String> {
    let id = resource_id(aws, api_id, path).await?;
    let response = integration_response(aws, api_id, &id).await.ok()?;
    response
        .response_parameters()?
        .get("method.response.header.Access-Control-Allow-Methods")
        .cloned()
}

async fn integration_response(
    aws: &Readback,
    api_id: &str,
    resource: &str,
) -> Result<
    aws_sdk_apigateway::operation::get_integration_response::GetIntegrationResponseOutput,
    aws_sdk_apigateway::error::SdkError<
        aws_sdk_apigateway::operation::get_integration_response::GetIntegrationResponseError,
    >,
> {
    aws.apigw
        .get_integration_response()
        .rest_api_id(api_id)
        .resource_id(resource)
        .http_method("OPTIONS")
        .status_code("200")
        .send()
        .await
}

/// The `put_rest_api` action of a `plan --json`.
pub fn put_rest_api(plan: &Value) -> &Value {
    plan["plan"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "put_rest_api")
        .expect("the plan puts the API definition")
}
