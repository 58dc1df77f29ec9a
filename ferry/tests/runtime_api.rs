//! ferry's Runtime API is the real protocol: AWS's own Python runtime
//! interface client (`awslambdaric`, which ferry did not write) runs a handler
//! against it, including the error path. The services' `lambda_runtime` crate
//! is the other independent client (see serve.rs).

mod support;

use std::time::Duration;

use bytes::Bytes;
use ferry::serve::runtime_api::{self, Invocation, Outcome};
use tokio::sync::oneshot;

const HANDLER: &str = r#"
def handle(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {
        "echo": event,
        "request_id": context.aws_request_id,
        "function_arn": context.invoked_function_arn,
        "has_time_left": context.get_remaining_time_in_millis() > 0,
    }
"#;

async fn invoke(api: &runtime_api::RuntimeApi, id: &str, event: serde_json::Value) -> Outcome {
    let (reply, answer) = oneshot::channel();
    let deadline_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 30_000;
    let invocation = Invocation {
        request_id: id.into(),
        event: Bytes::from(event.to_string()),
        deadline_ms,
        trace_id: "Root=1-0-0".into(),
        reply,
    };
    api.invocations.send(invocation).await.unwrap();
    tokio::time::timeout(Duration::from_secs(60), answer)
        .await
        .expect("the client answered in time")
        .unwrap()
}

#[test]
fn awslambdaric_runs_against_ferrys_runtime_api() {
    let python = support::awslambdaric_python();
    // Removed when the test ends, passed or failed.
    let scratch = ferry_testkit::Scratch::new("ferry-ric");
    let dir = scratch.path().to_owned();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("handler.py"), HANDLER).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:py";
        let api = runtime_api::start(arn.into()).await.unwrap();
        let _client = tokio::process::Command::new(&python)
            .args(["-m", "awslambdaric", "handler.handle"])
            .current_dir(&dir)
            .env("AWS_LAMBDA_RUNTIME_API", api.address.to_string())
            .env("LAMBDA_TASK_ROOT", &dir)
            .env("AWS_LAMBDA_FUNCTION_NAME", "py")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let Outcome::Response(body) =
            invoke(&api, "req-a", serde_json::json!({ "hello": "world" })).await
        else {
            panic!("the handler's answer was not a response");
        };
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(answer["echo"]["hello"], "world");
        assert_eq!(answer["request_id"], "req-a");
        assert_eq!(answer["function_arn"], arn);
        assert_eq!(answer["has_time_left"], true);
        let Outcome::Error(body) = invoke(&api, "req-b", serde_json::json!({ "fail": true })).await
        else {
            panic!("a raised exception must reach /error");
        };
        let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(error["errorType"], "ValueError");
        assert_eq!(error["errorMessage"], "asked to fail");
    });
}
