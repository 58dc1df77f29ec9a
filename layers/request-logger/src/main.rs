//! A Lambda extension packed as a layer: Lambda starts every binary under
//! `/opt/extensions/` next to the function; this one logs each invocation's
//! request id and deadline, and a line at shutdown.

use lambda_extension::{service_fn, Error, LambdaEvent, NextEvent};

async fn on_event(event: LambdaEvent) -> Result<(), Error> {
    match event.next {
        NextEvent::Invoke(invoke) => {
            println!(
                "[request-logger] invoke {} deadline_ms={}",
                invoke.request_id, invoke.deadline_ms
            )
        }
        NextEvent::Shutdown(shutdown) => {
            println!("[request-logger] shutdown: {}", shutdown.shutdown_reason)
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_extension::run(service_fn(on_event)).await
}
