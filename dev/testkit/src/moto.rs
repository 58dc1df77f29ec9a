//! moto (PyPI `moto[server]`), the AWS-compatible server the deploy tests and
//! the deploy benchmark run against: started on a free loopback port,
//! stopped when dropped.
//!
//! Where moto 5.2.5 differs from AWS, ferry is coded to AWS and the tests
//! allow for moto: AWS managed policies exist only with
//! `MOTO_IAM_LOAD_MANAGED_POLICIES=true`; functions never pass through
//! Pending or InProgress (the waiting logic has unit tests instead); an
//! `ANY` method comes back as `X-AMAZON-APIGATEWAY-ANY-METHOD` and an
//! integration type in lower case; tags cannot be read from a REST API ARN.
//! CloudFront deletes an enabled distribution and ignores `IfMatch`, where
//! AWS answers `DistributionNotDisabled` and `PreconditionFailed`: `destroy`
//! disables first and waits for `Deployed`, as AWS requires. moto's Lambda
//! emits no CloudWatch metrics, and moto takes PutMetricData in `AWS/`
//! namespaces, which AWS refuses: the canary test writes the metrics Lambda
//! would. Its CloudWatch speaks only the query and JSON protocols, not the
//! Smithy RPC v2 CBOR of the newest SDK (ferry-aws pins aws-sdk-cloudwatch).
//! `PutRestApi` ignores `x-amazon-apigateway-gateway-responses` in the body
//! (AWS imports them; the CORS test checks the body ferry sends), fails with
//! a 500 on a mock integration without a `uri` (AWS's documented CORS
//! preflight has none; ferry writes preflights with `PutMethod` and
//! `PutIntegration*`), and with `failOnWarnings` runs a strict OpenAPI
//! validator that AWS does not, refusing an operation other than
//! `x-amazon-apigateway-any-method` on a `{proxy+}` path declared as AWS
//! declares it (`name: proxy`).

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    /// Starts `server` (the venv's `moto_server`) and waits until it listens.
    pub fn start(server: &Path) -> Result<Moto, String> {
        if !server.exists() {
            return Err(format!(
                "moto_server not found at {}: `cargo dev test` installs moto[server] into \
                 .ferry/tools/venv (or set FERRY_MOTO_SERVER)",
                server.display()
            ));
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free loopback port: {e}"))?
            .port();
        let child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", server.display()))?;
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(format!(
                    "moto did not listen on 127.0.0.1:{port} within 60 s"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(moto)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
