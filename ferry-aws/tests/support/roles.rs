//! Read-backs of per-service roles: which role each function of the test
//! stage runs with, and what ferry's service role holds.

use super::Readback;

/// The function that declares permissions in the example, and its role.
pub const OWN_ROLE_SERVICE: &str = "create-item";
pub const OWN_ROLE: &str = "items-test-create-item-ferry";
const SHARED_ROLE: &str = "items-test-ferry-lambda";

/// The statements of a role's `ferry-permissions` policy, as
/// `(actions, resources)` with both sorted.
pub async fn statements(aws: &Readback, role: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let out = aws
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name("ferry-permissions")
        .send()
        .await
        .unwrap();
    // AWS URL-encodes it; moto does not.
    let text = percent_encoding::percent_decode_str(out.policy_document())
        .decode_utf8_lossy()
        .into_owned();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let list = |v: &serde_json::Value| -> Vec<String> {
        let mut out: Vec<String> = match v {
            serde_json::Value::String(s) => vec![s.clone()],
            v => v
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect(),
        };
        out.sort();
        out
    };
    let mut out: Vec<_> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["Effect"], "Allow");
            (list(&s["Action"]), list(&s["Resource"]))
        })
        .collect();
    out.sort();
    out
}

/// Each function runs with the role it should: `create-item` with its own
/// (under the stage's path, trusted by Lambda, holding exactly its declared
/// statements and the logs policy), the others with the stage's.
pub async fn check_roles(aws: &Readback) {
    for service in ["create-item", "get-item", "list-items", "echo", "jwt"] {
        let f = aws
            .lambda
            .get_function_configuration()
            .function_name(format!("items-test-{service}"))
            .send()
            .await
            .unwrap();
        let wanted = if service == OWN_ROLE_SERVICE {
            format!("arn:aws:iam::123456789012:role/ferry/items/test/{OWN_ROLE}")
        } else {
            format!("arn:aws:iam::123456789012:role/{SHARED_ROLE}")
        };
        assert_eq!(f.role(), Some(wanted.as_str()), "{service}'s role");
    }
    let role = aws.iam.get_role().role_name(OWN_ROLE).send().await.unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.path(), "/ferry/items/test/");
    let trust = percent_encoding::percent_decode_str(role.assume_role_policy_document().unwrap())
        .decode_utf8_lossy()
        .into_owned();
    assert!(trust.contains("lambda.amazonaws.com"), "{trust}");
    assert_eq!(
        statements(aws, OWN_ROLE).await,
        [
            (
                vec!["rds-db:connect".to_owned()],
                vec!["arn:aws:rds-db:us-east-1:123456789012:dbuser:*/items_test".to_owned()]
            ),
            (
                vec!["ssm:GetParameter".to_owned()],
                vec!["arn:aws:ssm:us-east-1:123456789012:parameter/items/test/db".to_owned()]
            ),
        ]
    );
    let attached = super::stage::attached_policies(aws, OWN_ROLE).await;
    assert_eq!(
        attached,
        ["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
        "create-item neither traces nor joins a VPC"
    );
}
